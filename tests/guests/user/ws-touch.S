/* ws-touch: writes one word to every page of a 48 MiB bss area, then reads
 * them all back. stdout: "pages N sum XXXXXXXX" (must equal the native run).
 * Under the hybrid engine every page costs one shadow fault (or two: a read
 * maps it read-only until the guest's D bit is set). */
#include "ws-lib.h"
#define PAGES (48 * 256)
	.text
	.globl _start
_start:
	movl	$area, %edi
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	imull	$2654435761, %eax, %eax
	movl	%eax, (%edi)
	addl	$4096, %edi
	incl	%ecx
	cmpl	$PAGES, %ecx
	jne	1b
	movl	$area, %edi
	xorl	%ecx, %ecx
	xorl	%ebx, %ebx
2:	addl	(%edi), %ebx
	roll	$1, %ebx
	addl	$4096, %edi
	incl	%ecx
	cmpl	$PAGES, %ecx
	jne	2b
	movl	%ebx, sum
	movl	$1, %ebx
	movl	$s_pages, %esi
	call	ws_puts
	movl	$PAGES, %eax
	xorl	%edx, %edx
	call	ws_put_dec64
	movl	$s_sum, %esi
	call	ws_puts
	movl	sum, %eax
	call	ws_put_hex
	call	ws_nl
	SYS_EXIT(0)
	.section .rodata
s_pages: .asciz "pages "
s_sum:	.asciz " sum "
	.section .bss
	.balign 4096
area:	.skip PAGES * 4096
sum:	.skip 4
