/* tests/guests/user/lib/start.S — process entry: main()'s value is the exit
 * status. No libc, no dynamic loader; the stack is what the kernel (or hvmm)
 * set up. */
	.text
	.globl _start
_start:
	xor %ebp, %ebp
	and $-16, %esp
	call main
	push %eax
	call sys_exit
	hlt

	.section .note.GNU-stack, "", @progbits
