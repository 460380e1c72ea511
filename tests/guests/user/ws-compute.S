/* ws-compute: a compute-heavy loop (xorshift32, summed) of WS_ITERS
 * iterations. stdout: "checksum XXXXXXXX" (must equal the native run);
 * stderr: "cycles N" measured with rdtsc around the loop. */
#include "ws-lib.h"
#ifndef WS_ITERS
#define WS_ITERS 200000000
#endif
	.text
	.globl _start
_start:
	rdtsc
	movl	%eax, t0
	movl	%edx, t0 + 4
	movl	$WS_ITERS, %ecx
	movl	$0x12345678, %eax
	xorl	%ebx, %ebx
1:	movl	%eax, %edx
	shll	$13, %edx
	xorl	%edx, %eax
	movl	%eax, %edx
	shrl	$17, %edx
	xorl	%edx, %eax
	movl	%eax, %edx
	shll	$5, %edx
	xorl	%edx, %eax
	addl	%eax, %ebx
	decl	%ecx
	jnz	1b
	movl	%ebx, sum
	rdtsc
	subl	t0, %eax
	sbbl	t0 + 4, %edx
	movl	%eax, t0
	movl	%edx, t0 + 4

	movl	$1, %ebx
	movl	$s_sum, %esi
	call	ws_puts
	movl	sum, %eax
	call	ws_put_hex
	call	ws_nl
	movl	$2, %ebx
	movl	$s_cyc, %esi
	call	ws_puts
	movl	t0, %eax
	movl	t0 + 4, %edx
	call	ws_put_dec64
	call	ws_nl
	SYS_EXIT(0)
	.section .rodata
s_sum:	.asciz "checksum "
s_cyc:	.asciz "cycles "
	.section .bss
t0:	.skip 8
sum:	.skip 4
