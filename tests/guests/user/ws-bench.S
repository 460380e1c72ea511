/* ws-bench: cycle counts (rdtsc) of
 *   syscall_cycles  one int 0x80 write of 0 bytes (hybrid: exit to the
 *                   userland process and back, a full world-switch round trip)
 *   page_cycles     the first write to a fresh page (hybrid: a shadow page
 *                   fault handled inside the monitor; native: Linux's fault)
 * Same binary natively, for comparison. Output "name value" lines on stdout. */
#include "ws-lib.h"
#define NSYS 2000
#define NPAGES 2048
	.text
	.globl _start
_start:
	rdtsc
	movl	%eax, t0
	movl	%edx, t0 + 4
	movl	$NSYS, %edi
1:	movl	$1, %ebx
	movl	$buf, %ecx
	xorl	%edx, %edx
	call	ws_write
	decl	%edi
	jnz	1b
	movl	$s_sys, %esi
	movl	$NSYS, %ebp
	call	report

	rdtsc
	movl	%eax, t0
	movl	%edx, t0 + 4
	movl	$area, %edi
	movl	$NPAGES, %ecx
2:	movl	%ecx, (%edi)
	addl	$4096, %edi
	loop	2b
	movl	$s_page, %esi
	movl	$NPAGES, %ebp
	call	report
	SYS_EXIT(0)

/* report: print "<esi> ((now - t0) / ebp)\n" */
report:
	rdtsc
	subl	t0, %eax
	sbbl	t0 + 4, %edx
	movl	%eax, %ecx		/* edx:eax / ebp, edx < ebp assumed */
	movl	%edx, %eax
	xorl	%edx, %edx
	divl	%ebp
	movl	%eax, %ebx		/* high quotient */
	movl	%ecx, %eax
	divl	%ebp
	movl	%ebx, %edx
	movl	%eax, %ecx
	movl	$1, %ebx
	call	ws_puts
	movl	%ecx, %eax
	call	ws_put_dec64
	call	ws_nl
	ret
	.section .rodata
s_sys:	.asciz "syscall_cycles "
s_page:	.asciz "page_cycles "
	.section .bss
t0:	.skip 8
buf:	.skip 16
	.balign 4096
area:	.skip NPAGES * 4096
