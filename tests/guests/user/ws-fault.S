/* ws-fault: one guest fault per build (-DCASE_name): the hybrid engine must
 * report it with the right vector, error code and CR2, and never execute a
 * privileged instruction. Prints "ws-fault: before" first; if the faulting
 * instruction ever completes it prints "ws-fault: NOT TRAPPED" and exits 99. */
#include "ws-lib.h"
	.text
	.globl _start
_start:
	movl	$1, %ebx
	movl	$s_before, %esi
	call	ws_puts
	movl	$0x12345678, %eax
	movl	$0x0, %ecx
#if defined(CASE_int3)
	int3
#elif defined(CASE_div0)
	xorl	%edx, %edx
	divl	%ecx
#elif defined(CASE_pf_unmapped)
	movl	0x10000000, %eax
#elif defined(CASE_pf_write_ro)
	movl	%eax, _start
#elif defined(CASE_pf_null_exec)
	call	*%ecx
#elif defined(CASE_cli)
	cli
#elif defined(CASE_movcr3)
	movl	%eax, %cr3
#elif defined(CASE_lgdt)
	lgdt	gdtr
#elif defined(CASE_out)
	outb	%al, $0x80
#elif defined(CASE_in)
	movw	$0x3f8, %dx
	inb	%dx, %al
#elif defined(CASE_hlt)
	hlt
#elif defined(CASE_sysenter)
	sysenter
#elif defined(CASE_syscall)
	syscall
#elif defined(CASE_int_0x21)
	int	$0x21
#elif defined(CASE_getpid)
	movl	$20, %eax
	int	$0x80
#elif defined(CASE_ud2)
	ud2
#else
#error no CASE
#endif
	movl	$1, %ebx
	movl	$s_after, %esi
	call	ws_puts
	SYS_EXIT(99)
	.section .rodata
s_before:	.asciz "ws-fault: before\n"
s_after:	.asciz "ws-fault: NOT TRAPPED\n"
gdtr:		.word 0
		.long 0
