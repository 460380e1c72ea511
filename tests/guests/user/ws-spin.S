/* ws-spin: prints "spinning" and loops forever without a system call: the
 * host must stay responsive and kill -9 must end it at any moment. */
#include "ws-lib.h"
	.text
	.globl _start
_start:
	movl	$1, %ebx
	movl	$msg, %esi
	call	ws_puts
	xorl	%eax, %eax
1:	incl	%eax
	addl	%eax, counter
	jmp	1b
	.section .rodata
msg:	.asciz "spinning\n"
	.section .bss
counter: .skip 4
