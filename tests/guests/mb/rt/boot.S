/* tests/guests/mb/rt/boot.S — multiboot v1 entry, exception stubs, setjmp and
 * the CPL 3 trampoline of the test-kernel runtime. */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003	/* page-align modules, want memory info */

	.section .multiboot, "a"
	.p2align 2
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	mov $boot_stack_top, %esp
	/* zero .bss ourselves: a loader need not */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	push $0
	popf
	call rt_main
1:	hlt
	jmp 1b

/* Exception/interrupt stubs: every vector pushes an error code (a dummy 0
 * where the CPU pushes none: SDM Vol. 3A table 6-1; 8, 10-14 and 17 have one)
 * and its number, so all reach rt_isr with one frame layout. */
	.macro stub v
	.p2align 4
stub_\v:
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17)
	.else
	push $0
	.endif
	push $\v
	jmp isr_common
	.endm

	.p2align 4
	.globl rt_stubs
rt_stubs:
	.altmacro
	.set i, 0
	.rept 256
	stub %i
	.set i, i + 1
	.endr

isr_common:
	pusha
	push %ds
	push %es
	push %fs
	push %gs
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	cld
	push %esp
	call rt_isr
	add $4, %esp
	.globl rt_isr_return
rt_isr_return:
	pop %gs
	pop %fs
	pop %es
	pop %ds
	popa
	add $8, %esp
	iret

/* int rt_setjmp(struct rt_jmp *j): j = {ebx, esi, edi, ebp, esp, eip, eflags} */
	.globl rt_setjmp
rt_setjmp:
	mov 4(%esp), %ecx
	mov %ebx, 0(%ecx)
	mov %esi, 4(%ecx)
	mov %edi, 8(%ecx)
	mov %ebp, 12(%ecx)
	lea 4(%esp), %eax
	mov %eax, 16(%ecx)
	mov (%esp), %eax
	mov %eax, 20(%ecx)
	pushf
	pop %eax
	mov %eax, 24(%ecx)
	xor %eax, %eax
	ret

/* void rt_longjmp(struct rt_jmp *j, int v): back to rt_setjmp's caller at
 * CPL 0 with flat kernel segments, returning v. */
	.globl rt_longjmp
rt_longjmp:
	mov 4(%esp), %ecx
	mov 8(%esp), %eax
	mov $0x10, %dx
	mov %dx, %ds
	mov %dx, %es
	mov %dx, %fs
	mov %dx, %gs
	mov %dx, %ss
	mov 16(%ecx), %esp
	pushl 24(%ecx)
	popf
	mov 0(%ecx), %ebx
	mov 4(%ecx), %esi
	mov 8(%ecx), %edi
	mov 12(%ecx), %ebp
	jmp *20(%ecx)

/* void rt_enter_user(fn, arg, user_esp): iret to CPL 3 at user_tramp, which
 * calls fn(arg) and returns its value through int RT_VEC_RETURN. */
	.globl rt_enter_user
rt_enter_user:
	mov 4(%esp), %esi
	mov 8(%esp), %edi
	mov 12(%esp), %ecx
	mov $0x23, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	push $0x23		/* SS */
	push %ecx		/* ESP */
	pushf
	andl $~0x4700, (%esp)	/* no TF, IF, DF, NT in user mode */
	mov rt_user_eflags, %eax
	or %eax, (%esp)		/* unless the kernel asks for them */
	push $0x1b		/* CS */
	push $user_tramp	/* EIP */
	iret
user_tramp:
	push %edi
	call *%esi
	mov %eax, %ebx
	mov $0x52455455, %eax	/* "RETU" */
	int $0x81
	ud2

	.bss
	.p2align 7
	.globl rt_tss, rt_iobitmap
rt_tss:
	.skip 104
rt_iobitmap:
	.skip 8193

	.p2align 12
boot_stack:
	.skip 32768
boot_stack_top:
