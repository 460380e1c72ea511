/* tests/guests/mb/wrap.c — linear addresses wrap at 4 GiB everywhere: code
 * fetch through a segment base near 4 GiB, descriptor reads from a GDT and
 * gate reads from an IDT whose base wraps, a stack whose base wraps; and the
 * L bit of a code descriptor is ignored outside IA-32e mode. An engine that
 * forms 64-bit linear addresses (as a monitor in long mode could) fails
 * here instead of reaching memory above 4 GiB. SDM Vol. 3A 3.4.5 (L bit),
 * 3.3 (linear address space). */
#include "rt.h"

const char rt_test_name[] = "wrap";

#define HI_IDX	(GDT_FREE)		/* code, base 0xfffff000 */
#define L_IDX	(GDT_FREE + 1)		/* code, L=1 D=1 */
#define SS_IDX	(GDT_FREE + 2)		/* stack, base 0xfffff000 */

uint32_t t_far_hi(uint32_t), t_far_l(uint32_t), t_gdt_wrap(uint32_t), t_idt_wrap(uint32_t);
uint32_t t_stack_wrap(uint32_t);
void l_code(void), wrap_handler(void);

/* the code at linear 0x1000 is reached as 0xfffff000 + 0x2000 */
ASM_FN(t_far_hi, "lcall $0x48,$0x2000\n ret");
/* 0x48 is DEC EAX in 32-bit code (a REX.W prefix in 64-bit code) */
ASM_FN(l_code, "mov $5,%eax\n .byte 0x48\n nop\n lret");
ASM_FN(t_far_l, "lcall $0x50,$l_code\n ret");
/* GDTR.base = 0xfffffff8: selector 0x10 is read from linear 0x8 */
ASM_FN(t_gdt_wrap, "sgdt gdt_save\n lgdt gdt_wrapped\n mov $0x10,%ax\n mov %ax,%fs\n"
		   "lgdt gdt_save\n mov %fs:0x10,%eax\n mov $0x10,%cx\n mov %cx,%fs\n ret\n"
		   ".data\n.p2align 2\ngdt_save: .word 0\n .long 0\n"
		   "gdt_wrapped: .word 0xff\n .long 0xfffffff8\n.text");
/* IDTR.base = 0xffffff80: vector 0x20's gate is read from linear 0x80 */
ASM_FN(t_idt_wrap, "sidt idt_save\n lidt idt_wrapped\n xor %eax,%eax\n int $0x20\n"
		   "lidt idt_save\n ret\n"
		   ".data\n.p2align 2\nidt_save: .word 0\n .long 0\n"
		   "idt_wrapped: .word 0x7ff\n .long 0xffffff80\n.text");
ASM_FN(wrap_handler, "mov $0x1d7,%eax\n iret");
/* SS.base = 0xfffff000, ESP = 0x1100: the push lands at linear 0xfc */
ASM_FN(t_stack_wrap, "mov %ss,%ecx\n mov %esp,%edx\n mov $0x58,%ax\n mov %ax,%ss\n"
		     "mov $0x1100,%esp\n push $0xabcd1234\n pop %eax\n mov %cx,%ss\n mov %edx,%esp\n"
		     "mov 0xfc,%eax\n ret");

static struct rt_fault f;
static uint32_t target = 0x7a59e7;

static void poke(uint32_t addr, const void *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		asm volatile("movb %1,(%0)" :: "r"(addr + i), "q"(((const uint8_t *)src)[i]) : "memory");
}

static void peek(uint32_t addr, void *dst, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t b;
		asm volatile("movb (%1),%0" : "=q"(b) : "r"(addr + i) : "memory");
		((uint8_t *)dst)[i] = b;
	}
}

void test_main(void)
{
	static const uint8_t code[] = { 0xb8, 0x0d, 0x60, 0x00, 0x00, 0xcb };	/* mov; lret */
	uint8_t save[0x100];
	int v;

	peek(0, save, sizeof(save));		/* the real-mode IVT, restored at the end */

	poke(0x1000, code, sizeof(code));
	rt_gdt_set(HI_IDX, 0xfffff000, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R,
		   FLG_G | FLG_DB);
	v = rt_try(0, t_far_hi, 0, &f);
	rt_expect_fault("code-fetch-base-wraps", v, &f, -1, 0, 0);
	rt_expect_eq("code-fetch-base-wraps-ran", f.ret, 0x600d);

	/* L=1 (bit 53) with D=1: only IA-32e mode looks at L */
	rt_gdt_set(L_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	rt_gdt[L_IDX] |= 1ull << 53;
	v = rt_try(0, t_far_l, 0, &f);
	rt_expect_fault("l-bit-ignored-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("l-bit-ignored-32bit-code", f.ret, 4);

	/* a data descriptor at linear 0x8 = GDT entry 2 of a GDT based at -8 */
	uint64_t d;
	rt_gdt_set(GDT_ENTRIES - 1, (uint32_t)&target - 0x10, 0xfffff,
		   ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	d = rt_gdt[GDT_ENTRIES - 1];
	rt_gdt[GDT_ENTRIES - 1] = 0;
	poke(0x8, &d, 8);
	v = rt_try(0, t_gdt_wrap, 0, &f);
	rt_expect_fault("gdt-base-wraps-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("gdt-base-wraps-descriptor", f.ret, target);

	/* an interrupt gate at linear 0x80 = IDT entry 0x20 of an IDT at -0x80 */
	rt_idt_set(0x20, SEL_KCODE, (uint32_t)wrap_handler, GATE_INT32, 0, 1);
	d = rt_idt[0x20];
	rt_idt_default(0x20);
	poke(0x80, &d, 8);
	v = rt_try(0, t_idt_wrap, 0, &f);
	rt_expect_fault("idt-base-wraps-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("idt-base-wraps-gate", f.ret, 0x1d7);

	rt_gdt_set(SS_IDX, 0xfffff000, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	v = rt_try(0, t_stack_wrap, 0, &f);
	rt_expect_fault("stack-base-wraps-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("stack-base-wraps-push", f.ret, 0xabcd1234);

	poke(0, save, sizeof(save));
}
