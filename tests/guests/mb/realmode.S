/* tests/guests/mb/realmode.S — code for realmode.c that runs below 64 KiB:
 * 16-bit protected mode, the switch to real mode and back (SDM Vol. 3A 9.9),
 * real-mode arithmetic, segments and interrupts through the IVT.
 * realmode.c copies [low_start, low_end) to LOW_BASE; every address used
 * from 16-bit code is written LOW(symbol). */
#define LOW_BASE	0x8000
#define LOW(x)		((x) - low_start + LOW_BASE)
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_CODE16	0x38
#define SEL_DATA16	0x40
#define SEL_HIBASE16	0x48	/* 16-bit data, base 1 MiB (set up by realmode.c) */

	.text
	.globl low_start, low_end, rm_run, rm_results, pm16_func
	.globl rm_int40, rm_int0, rm_after_int40, rm_div
	.p2align 4
low_start:
	.code16
/* reached by far jump from rm_run: CS = 16-bit code, base 0 */
pm16_entry:
	mov $SEL_DATA16, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $LOW(rm_stack_top), %sp		/* SS.B=0: SP, not ESP */
	/* 16-bit PM: pushes are 2 bytes, addressing wraps at 64 KiB */
	mov %sp, %bx
	push %ax
	sub %sp, %bx
	mov %bx, LOW(rm_results) + 0		/* [0] = 2 */
	pop %ax
	mov $0xfff0, %bx
	mov $(LOW(rm_marker) + 0x10), %si	/* bx + si wraps to rm_marker */
	mov (%bx,%si), %ax
	mov %ax, LOW(rm_results) + 2		/* [1] = 0x55aa */
	/* FS gets a base of 1 MiB here and keeps it in real mode */
	mov $SEL_HIBASE16, %ax
	mov %ax, %fs
	lidt LOW(rm_idtr)
	mov %cr0, %eax
	and $~1, %eax
	mov %eax, %cr0
	ljmp $0, $LOW(rm_entry)

rm_entry:
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $LOW(rm_stack_top), %sp
	/* 16-bit arithmetic and flags */
	mov $0xffff, %ax
	add $1, %ax
	pushf
	pop %dx
	mov %ax, LOW(rm_results) + 4		/* [2] = 0 */
	mov %dx, LOW(rm_results) + 6		/* [3] flags: CF, ZF set */
	/* 32-bit operands in real mode (0x66 prefix) */
	mov $0x12345678, %eax
	add %eax, %eax
	mov %eax, LOW(rm_results) + 8		/* [4,5] = 0x2468acf0 */
	/* segment:offset = seg*16 + offset */
	mov $0x0900, %ax
	mov %ax, %es
	movw $0xbeef, %es:0x10			/* physical 0x9010 */
	xor %ax, %ax
	mov %ax, %es
	/* hidden FS base survives the switch ("unreal" base) */
	mov %fs:0, %eax
	mov %eax, LOW(rm_results) + 12		/* [6,7] = multiboot magic */
	mov $0x0900, %ax
	mov %ax, %fs
	mov %fs:0x10, %ax
	mov %ax, LOW(rm_results) + 16		/* [8] = 0xbeef */
	/* int 0x40 through the IVT: FLAGS, CS, IP pushed, IF cleared */
	sti
	mov %sp, %si
	int $0x40
rm_after_int40:
	cli
	sub %sp, %si
	mov %si, LOW(rm_results) + 18		/* [9] = 0: stack balanced */
	/* a divide error: the IVT handler sees the IP of the DIV */
	mov $1, %ax
	xor %cl, %cl
rm_div:
	div %cl
	mov %ax, LOW(rm_results) + 20		/* [10] = 0x4242 (handler's AX) */
	/* far call and RETF */
	lcall $0, $LOW(rm_far)
	mov %ax, LOW(rm_results) + 22		/* [11] = 0x1f1f */

	/* back to protected mode */
	cli
	lgdtl LOW(rm_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $SEL_KCODE, $pm32_back

rm_int40:
	mov %sp, %bp
	mov 0(%bp), %ax
	mov %ax, LOW(rm_results) + 24		/* [12] = IP after INT */
	mov 2(%bp), %ax
	mov %ax, LOW(rm_results) + 26		/* [13] = CS (0) */
	mov 4(%bp), %ax
	mov %ax, LOW(rm_results) + 28		/* [14] = FLAGS (IF set) */
	pushf
	pop %ax
	mov %ax, LOW(rm_results) + 30		/* [15] = FLAGS in handler (IF clear) */
	iret

rm_int0:
	mov %sp, %bp
	mov 0(%bp), %ax
	mov %ax, LOW(rm_results) + 32		/* [16] = IP of the DIV */
	addw $2, 0(%bp)				/* skip "div %cl" */
	mov $0x4242, %ax
	iret

rm_far:
	mov $0x1f1f, %ax
	lret

/* called from 32-bit code with a far call: 16-bit operand size by default */
pm16_func:
	mov $0x1234ffff, %eax
	inc %ax					/* only AX changes */
	lretl

	.p2align 2
rm_idtr:
	.word 0x3ff
	.long 0
rm_gdtr:
	.word 0
	.long 0
rm_marker:
	.word 0x55aa
	.p2align 2
rm_results:
	.fill 24, 2, 0
	.p2align 4
rm_stack:
	.fill 512, 1, 0
rm_stack_top:
low_end:

	.code32
/* void rm_run(void): the round trip; runs with the real IDT restored after */
rm_run:
	push %ebx
	push %esi
	push %edi
	push %ebp
	mov %esp, saved_esp
	sidt saved_idtr
	sgdt LOW(rm_gdtr)
	ljmp $SEL_CODE16, $LOW(pm16_entry)
pm32_back:
	mov $SEL_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov saved_esp, %esp
	lidt saved_idtr
	pop %ebp
	pop %edi
	pop %esi
	pop %ebx
	ret

	.data
	.p2align 2
saved_esp:
	.long 0
saved_idtr:
	.word 0
	.long 0
	.globl pm16_ptr
pm16_ptr:
	.long LOW(pm16_func)
	.word SEL_CODE16

	.section .note.GNU-stack, "", @progbits
