/* ws-exit: exit(42) after writing to stderr; hvmm must exit 42. */
#include "ws-lib.h"
	.text
	.globl _start
_start:
	movl	$2, %ebx
	movl	$msg, %esi
	call	ws_puts
	SYS_EXIT(42)
	.section .rodata
msg:	.asciz "ws-exit: exiting with 42\n"
