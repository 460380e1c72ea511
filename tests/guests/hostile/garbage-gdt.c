/* tests/guests/hostile/garbage-gdt.c — pseudo-random descriptors in GDT
 * entries 9-31 loaded into every data segment register, SS, TR and LDTR, and
 * probed with LAR/LSL/VERR/VERW, at CPL 0 and 3, each fault caught; then
 * GDTR and IDTR pointed at the BIOS ROM and at the local APIC's MMIO page
 * and segment loads tried there: descriptor fetches from ROM/MMIO, and the
 * first fault cannot be delivered (CS comes from the crafted GDT), ending in
 * a triple fault. QEMU -no-reboot exits with status 0. */
#include "hostile.h"

const char rt_test_name[] = "garbage-gdt";

uint32_t t_ds(uint32_t), t_es(uint32_t), t_fs(uint32_t), t_gs(uint32_t), t_ss(uint32_t);
uint32_t t_ltr(uint32_t), t_lldt(uint32_t), t_probe(uint32_t);
ASM_FN(t_ds, "mov 4(%esp),%eax\n mov %ax,%ds\n mov %ss,%ax\n mov %ax,%ds\n ret");
ASM_FN(t_es, "mov 4(%esp),%eax\n mov %ax,%es\n mov %ss,%ax\n mov %ax,%es\n ret");
ASM_FN(t_fs, "mov 4(%esp),%eax\n mov %ax,%fs\n ret");
ASM_FN(t_gs, "mov 4(%esp),%eax\n mov %ax,%gs\n ret");
ASM_FN(t_ss, "mov 4(%esp),%eax\n mov %ss,%ecx\n mov %ax,%ss\n mov %cx,%ss\n ret");
ASM_FN(t_ltr, "mov 4(%esp),%eax\n ltr %ax\n ret");
ASM_FN(t_lldt, "mov 4(%esp),%eax\n lldt %ax\n xor %eax,%eax\n lldt %ax\n ret");
ASM_FN(t_probe, "mov 4(%esp),%ecx\n lar %ecx,%eax\n lsl %ecx,%eax\n verr %cx\n verw %cx\n ret");

void test_main(void)
{
	static uint32_t (*const ops[])(uint32_t) = { t_ds, t_es, t_fs, t_gs, t_ss, t_probe };
	struct rt_fault f;
	uint32_t ok = 0, faults = 0;

	rt_printf("HOSTILE garbage-gdt: random descriptors, then GDTR/IDTR at ROM and MMIO\n");
	for (int i = GDT_FREE; i < GDT_ENTRIES; i++)
		rt_gdt[i] = ((uint64_t)hostile_rand() << 32) | hostile_rand();
	for (int i = GDT_FREE; i < GDT_ENTRIES; i++)
		for (int rpl = 0; rpl < 4; rpl++)
			for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
				for (int ring = 0; ring <= 3; ring += 3) {
					if (rt_try(ring, ops[k], SEL(i, rpl), &f) < 0)
						ok++;
					else
						faults++;
				}
	for (int i = GDT_FREE; i < GDT_ENTRIES; i++) {
		if (rt_try(0, t_lldt, SEL(i, 0), &f) < 0)
			ok++;
		else
			faults++;
	}
	/* LTR last: a garbage "TSS" that loads becomes TR; put ours back */
	for (int i = GDT_FREE; i < GDT_ENTRIES; i++) {
		if (rt_try(0, t_ltr, SEL(i, 0), &f) < 0)
			ok++;
		else
			faults++;
	}
	rt_printf("NOTE garbage-gdt: %u loads ok, %u faults\n", ok, faults);
	rt_check(ok + faults > 0, "garbage-gdt-loads-survived", "%s", "");

	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) rom = { 0xffff, 0xffff0000 },
		apic = { 0xfff, 0xfee00000 };
	rt_printf("NOTE garbage-gdt: GDTR and IDTR at 0xffff0000, then 0xfee00000\n");
	asm volatile("lgdt %0\n\tlidt %0\n\t"
		     "mov $0x18,%%ax\n\tmov %%ax,%%fs\n\tmov $0x2b,%%ax\n\tmov %%ax,%%gs\n\t"
		     "lgdt %1\n\tlidt %1\n\t"
		     "mov $0x30,%%ax\n\tmov %%ax,%%fs\n\tmov $0x300,%%ax\n\tmov %%ax,%%gs\n\t"
		     "ud2" :: "m"(rom), "m"(apic) : "eax", "memory");
	rt_printf("FAIL garbage-gdt: still running\n");
}
