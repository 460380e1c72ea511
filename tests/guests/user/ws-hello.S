/* ws-hello: prints a line and exits 0 (the smallest hybrid user program). */
#include "ws-lib.h"
	.text
	.globl _start
_start:
	movl	$1, %ebx
	movl	$msg, %esi
	call	ws_puts
	SYS_EXIT(0)
	.section .rodata
msg:	.asciz "hello from ws-hello\n"
