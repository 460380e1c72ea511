/* tests/guests/user/ws-lib.h — helpers for the world-switch test programs
 * (ws-*.S): Linux i386 system calls over int 0x80 (write=4, exit=1) and
 * number printing. Include at the top of a program (it leaves .text current). The programs run
 * natively on Linux too (same binary), which is how results are compared. */

/* exit(status) */
#define SYS_EXIT(status)	movl $1, %eax; movl $(status), %ebx; int $0x80

	.section .text.ws, "ax"

/* ws_write: write(%ebx=fd, %ecx=buf, %edx=len); eax = result */
ws_write:
	movl	$4, %eax
	int	$0x80
	ret

/* ws_puts: %esi = NUL-terminated string, %ebx = fd */
ws_puts:
	push	%ecx
	push	%edx
	movl	%esi, %ecx
	xorl	%edx, %edx
1:	cmpb	$0, (%esi,%edx)
	je	2f
	incl	%edx
	jmp	1b
2:	call	ws_write
	pop	%edx
	pop	%ecx
	ret

/* ws_put_hex: %eax as 8 hex digits, %ebx = fd */
ws_put_hex:
	pusha
	movl	$ws_numbuf + 8, %edi
	movl	$8, %ecx
1:	movl	%eax, %edx
	andl	$15, %edx
	movb	ws_hexdigits(%edx), %dl
	decl	%edi
	movb	%dl, (%edi)
	shrl	$4, %eax
	loop	1b
	movl	%edi, %ecx
	movl	$8, %edx
	call	ws_write
	popa
	ret

/* ws_put_dec64: %edx:%eax unsigned, decimal, %ebx = fd */
ws_put_dec64:
	pusha
	movl	$ws_numbuf + 24, %edi
	movl	%edx, %esi		/* esi:eax = value */
1:	movl	%eax, %ebp
	movl	%esi, %eax
	xorl	%edx, %edx
	movl	$10, %ecx
	divl	%ecx			/* high half */
	movl	%eax, %esi
	movl	%ebp, %eax
	divl	%ecx			/* (rem:low) / 10 */
	addb	$'0', %dl
	decl	%edi
	movb	%dl, (%edi)
	movl	%esi, %edx
	orl	%eax, %edx
	jnz	1b
	movl	%edi, %ecx
	movl	$ws_numbuf + 24, %edx
	subl	%edi, %edx
	call	ws_write
	popa
	ret

/* ws_nl: newline on %ebx */
ws_nl:
	pusha
	movl	$ws_newline, %ecx
	movl	$1, %edx
	call	ws_write
	popa
	ret

	.section .rodata
ws_hexdigits:	.ascii "0123456789abcdef"
ws_newline:	.ascii "\n"
	.section .bss
ws_numbuf:	.skip 32
	.text
