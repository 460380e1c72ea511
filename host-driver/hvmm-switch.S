/* SPDX-License-Identifier: GPL-2.0 */
/* host-driver/hvmm-switch.S — the world switch and its exact inverse, the
 * monitor's trap stubs, and the table that re-raises a host vector through
 * Linux's IDT. Layout and invariants: monitor/mon.h, docs/world-switch.md.
 * objtool cannot follow this code (stack switches, iretq into CPL 3): the
 * object is marked OBJECT_FILES_NON_STANDARD in Kbuild. */
#include <linux/linkage.h>
#include <asm/msr-index.h>
#include <asm/smap.h>
#include "monitor/mon.h"

	.text

/* int hvmm_world_enter(struct mon_world *w)   (%rdi = w, the block base)
 * Called with interrupts off. Saves the host's callee-saved registers, RSP,
 * GDTR, IDTR, TR, SS and CR3 in the header, loads the monitor's GDT, TSS,
 * IDT and CR3, and enters the guest from the frame at MON_FRAME_OFF.
 * Returns (in the host world, interrupts still off) when mon__trap says
 * MON_EXIT; the reason is in the header. Order matters for NMIs: TR is
 * switched before IDTR on the way in and after it on the way out, so our
 * NMI stub only ever runs on our IST stack. */
	.globl hvmm_world_enter
	.type hvmm_world_enter, @function
hvmm_world_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, W_HOST_RSP(%rdi)
	sgdt	W_HOST_GDTR(%rdi)
	sidt	W_HOST_IDTR(%rdi)
	str	%eax
	mov	%rax, W_HOST_TR(%rdi)
	mov	%ss, %eax
	mov	%rax, W_HOST_SS(%rdi)
	mov	%cr3, %rax
	mov	%rax, W_HOST_CR3(%rdi)
	xor	%eax, %eax			/* SS null (allowed at CPL 0 in 64-bit */
	mov	%eax, %ss			/* mode): nothing needs a DPL-0 data slot */

	lgdt	W_MON_GDTR(%rdi)
	andb	$0xfd, MON_OFF_GDT + MON_SEL_TSS + 5(%rdi)	/* not busy */
	mov	$MON_SEL_TSS, %eax
	ltr	%ax
	sldt	%eax
	mov	%rax, W_HOST_LDT(%rdi)
	xor	%eax, %eax			/* no LDT: the guest gets only our GDT's */
	lldt	%ax				/* selectors (no 64-bit code segment) */
	lidt	W_MON_IDTR(%rdi)
	mov	W_MON_CR4(%rdi), %rax		/* CR4 changes only under our IDT */
	test	%rax, %rax
	jz	1f
	mov	%cr4, %rcx
	mov	%rcx, W_HOST_CR4(%rdi)
	mov	%rax, %cr4
1:	mov	W_MON_CR3(%rdi), %rax
	mov	%rax, %cr3			/* flushes the guest's old TLB entries */
	lea	MON_FRAME_OFF(%rdi), %rsp
	jmp	hvmm_resume
	.size hvmm_world_enter, .-hvmm_world_enter

/* Common trap path. On entry the stack holds vector, error code and the
 * CPU's frame. Saves the rest of struct mon_frame, restores the host's GS
 * base (guest segment loads may have replaced it; C code needs it for the
 * stack protector and per-CPU data), calls mon__trap. */
hvmm_trap_common:
	cld
	ASM_CLAC
	sub	$32, %rsp
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%ds, %eax
	mov	%rax, F_DS(%rsp)
	mov	%es, %eax
	mov	%rax, F_ES(%rsp)
	mov	%fs, %eax
	mov	%rax, F_FS(%rsp)
	mov	%gs, %eax
	mov	%rax, F_GS(%rsp)
	mov	%rsp, %rbx
	and	$~(MON_BLOCK_SIZE - 1), %rbx
	mov	$MSR_GS_BASE, %ecx
	mov	W_HOST_GSBASE(%rbx), %eax
	mov	W_HOST_GSBASE + 4(%rbx), %edx
	wrmsr
	mov	%rbx, %rdi
	mov	%rsp, %rsi
	call	mon__trap
	test	%eax, %eax
	jnz	hvmm_world_leave

/* Resume from the frame at %rsp. Segment registers are reloaded only when
 * returning to CPL 3 (a return to CPL 0 — an NMI in the monitor — must keep
 * the host GS base that the interrupted C code uses), last, from memory,
 * with RSP fixed: an NMI inside [hvmm_resume_sregs, hvmm_resume_iret]
 * overwrites GS_BASE, so mon__trap restarts this sequence (it is idempotent). */
	.globl hvmm_resume_sregs, hvmm_resume_add, hvmm_resume_iret
hvmm_resume:
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	testb	$3, F_CS - F_DS(%rsp)
	jz	hvmm_resume_add
hvmm_resume_sregs:
	mov	0(%rsp), %ds
	mov	8(%rsp), %es
	mov	16(%rsp), %fs
	mov	24(%rsp), %gs
hvmm_resume_add:
	add	$48, %rsp			/* ds, es, fs, gs, vector, error */
hvmm_resume_iret:
	iretq

/* Leave the world (%rbx = header): host IDT, host CR3, host GDT through its
 * writable alias with the TSS busy bit cleared so ltr works (Linux's
 * load_direct_gdt / load_fixmap_gdt sequence), then the read-only fixmap
 * GDT, host SS and RSP, and return to hvmm_world_enter's caller. */
hvmm_world_leave:
	cmpq	$0, W_MON_CR4(%rbx)
	je	1f
	mov	W_HOST_CR4(%rbx), %rax
	mov	%rax, %cr4
1:	lidt	W_HOST_IDTR(%rbx)
	mov	W_HOST_CR3(%rbx), %rax
	mov	%rax, %cr3
	lgdt	W_HOST_GDTR_RW(%rbx)
	mov	W_HOST_GDTR_RW + 2(%rbx), %rax
	mov	W_HOST_TR(%rbx), %rcx
	andb	$0xfd, 5(%rax,%rcx)
	ltr	%cx
	mov	W_HOST_LDT(%rbx), %rax
	lldt	%ax
	lgdt	W_HOST_GDTR(%rbx)
	mov	W_HOST_SS(%rbx), %rax
	mov	%eax, %ss
	mov	W_HOST_RSP(%rbx), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	mov	$1, %eax
	RET

/* 256 trap stubs, 16 bytes apart: push a zero error code where the CPU
 * pushes none, push the vector, go to the common path. */
	.macro TRAPSTUB vec
	.balign 16
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || \
	    (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	hvmm_trap_common
	.endm

	.balign 16
	.globl hvmm_trap_stubs
hvmm_trap_stubs:
	.irp h, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.irp l, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	TRAPSTUB (\h * 16 + \l)
	.endr
	.endr

/* void hvmm_raise_vector(unsigned int vec): `int $vec` through the current
 * (host) IDT, so Linux handles an interrupt that arrived in the monitor
 * world as if it had arrived here. 4-byte entries: cd NN c3 cc. */
	.globl hvmm_raise_vector
	.type hvmm_raise_vector, @function
hvmm_raise_vector:
	movzbl	%dil, %edi
	lea	hvmm_int_table(%rip), %rax
	lea	(%rax,%rdi,4), %rax
	jmp	*%rax
	.size hvmm_raise_vector, .-hvmm_raise_vector

	.balign 16
hvmm_int_table:
	.irp h, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.irp l, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.byte 0xcd, (\h * 16 + \l), 0xc3, 0xcc
	.endr
	.endr
