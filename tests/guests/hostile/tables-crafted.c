/* tests/guests/hostile/tables-crafted.c — LGDT and LIDT with crafted limits
 * and bases: a GDT cut to its first 3 entries (every other selector #GP),
 * an IDT cut to 128 vectors (INT 0x80 #GP(0x402), SDM Vol. 3A 6.10), limits
 * of 0xffff over the runtime's tables (descriptors read from whatever
 * follows them); then the GDT at guest-physical memory above RAM and in the
 * VGA MMIO window with a segment load from each (the bus's answer is loaded
 * or refused: NOTE lines), and last the IDT in the MMIO window followed by
 * INT 0x40: no gate there can be delivered, nor #GP, nor #DF: a triple
 * fault. QEMU -no-reboot: status 0 (its bus reads 0 there, so it already
 * triple-faults on the first load from above RAM). */
#include "hostile.h"

const char rt_test_name[] = "tables-crafted";

struct dtr { uint16_t limit; uint32_t base; } __attribute__((packed));

/* global: the asm names them */
extern struct dtr gdt_save, idt_save, gdt_new, idt_new;
struct dtr gdt_save, idt_save, gdt_new, idt_new;

uint32_t t_gdt_cut(uint32_t), t_idt_cut(uint32_t), t_gdt_wide(uint32_t);
/* loads GDTR = gdt_new, FS = arg, then puts the runtime's GDT back (a fault
 * on the load is delivered through CS 0x08, inside the cut GDT) */
ASM_FN(t_gdt_cut, "sgdt gdt_save\n lgdt gdt_new\n mov 4(%esp),%eax\n mov %ax,%fs\n"
		  "lgdt gdt_save\n mov %fs,%eax\n ret");
ASM_FN(t_idt_cut, "sidt idt_save\n lidt idt_new\n cmpl $0x80,4(%esp)\n je 1f\n int $0x7f\n"
		  "jmp 2f\n1: int $0x80\n2: lidt idt_save\n ret");

static void restore_tables(void)
{
	asm volatile("lgdt %0\n\tlidt %1" :: "m"(gdt_save), "m"(idt_save) : "memory");
}

void test_main(void)
{
	struct rt_fault f;
	int v;

	rt_printf("HOSTILE tables-crafted: cut and wide GDT/IDT limits, tables above RAM and "
		  "in MMIO, then a triple fault\n");
	asm volatile("sgdt %0\n\tsidt %1" : "=m"(gdt_save), "=m"(idt_save));

	gdt_new.base = (uint32_t)rt_gdt;
	gdt_new.limit = 0x17;
	for (uint32_t s = 0x18; s < 0x100; s += 0x28) {
		v = rt_try(0, t_gdt_cut, s, &f);
		restore_tables();
		rt_expect_fault("gdt-limit-0x17-selector-past-it", v, &f, 13, s, 0);
	}
	v = rt_try(0, t_gdt_cut, SEL_KDATA, &f);
	restore_tables();
	rt_expect_fault("gdt-limit-0x17-kdata-loads", v, &f, -1, 0, 0);

	idt_new.base = (uint32_t)rt_idt;
	idt_new.limit = 0x3ff;
	v = rt_try(0, t_idt_cut, 0x80, &f);
	restore_tables();
	rt_expect_fault("idt-limit-0x3ff-int-0x80", v, &f, 13, 0x80 * 8 + 2, 0);
	v = rt_try(0, t_idt_cut, 0x7f, &f);
	restore_tables();
	rt_expect_fault("idt-limit-0x3ff-int-0x7f", v, &f, 0x7f, 0, 0);

	/* limit 0xffff: selectors past the 32 entries read the memory after
	 * rt_gdt (the same image on every engine, so the same outcome) */
	gdt_new.limit = 0xffff;
	for (uint32_t s = 0x100; s < 0x10000; s = s * 4 + 0x10) {
		v = rt_try(0, t_gdt_cut, s & 0xfff8, &f);
		restore_tables();
		rt_printf("NOTE gdt-limit-0xffff sel 0x%x: vector %d err 0x%x\n", s & 0xfff8, v,
			  v < 0 ? 0 : f.err);
	}
	rt_check(1, "gdt-limit-0xffff-survived", "%s", "");
	idt_new.limit = 0xffff;
	v = rt_try(0, t_idt_cut, 0x7f, &f);
	restore_tables();
	rt_expect_fault("idt-limit-0xffff-int-0x7f", v, &f, 0x7f, 0, 0);

	/* the GDT above RAM, then in MMIO: each load reads the bus; a refused
	 * load cannot be delivered (CS comes from that GDT): triple fault */
	static const uint32_t bases[] = { 0x10000000, 0xa0000, 0xfee00000 };
	for (unsigned i = 0; i < 3; i++) {
		rt_printf("NOTE tables-crafted: GDT at 0x%x, FS = 0x10\n", bases[i]);
		gdt_new.base = bases[i];
		v = rt_try(0, t_gdt_cut, SEL_KDATA, &f);
		restore_tables();
		rt_printf("NOTE tables-crafted: survived, vector %d\n", v);
	}
	rt_printf("NOTE tables-crafted: IDT at 0xa0000, int 0x40\n");
	idt_new.base = 0xa0000;
	idt_new.limit = 0x7ff;
	asm volatile("lidt idt_new\n\tint $0x40" ::: "memory");
	rt_printf("FAIL tables-crafted: still running\n");
}
