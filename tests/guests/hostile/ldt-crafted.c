/* tests/guests/hostile/ldt-crafted.c — CPL 3 code (paging on, user pages:
 * native under the hybrid engine's stage 2) loads crafted LDT selectors into
 * DS, ES, FS, GS and SS and jumps and calls through them: a data segment
 * whose base + offset wraps past 4 GiB (reads what linear 0x2000 holds), an
 * L=1 code segment and a call gate in the LDT (run as 32-bit code), DPL 0
 * data, not-present, system and read-only-for-SS descriptors, a selector
 * past the LDT limit (exact #GP/#NP/#SS error codes, SDM Vol. 3A 5.5-5.8);
 * then the LDT itself moved to an unmapped linear address (the descriptor
 * read is an implicit supervisor access: #PF error code 0, CR2 in the LDT),
 * to guest-physical memory above RAM and to the VGA MMIO window (values
 * there differ between machines: NOTE lines). QEMU: status 1. */
#include "hostile.h"

const char rt_test_name[] = "ldt-crafted";

#define LDT_GDT_IDX	9		/* GDT entry of the LDT descriptor: 0x48 */
#define L_WRAP		0x0f		/* LDT 1: data DPL 3, base 0xfffff000 */
#define L_CODE64	0x17		/* LDT 2: code DPL 3, L=1 D=1 */
#define L_DPL0		0x1f		/* LDT 3: data DPL 0 */
#define L_NP		0x27		/* LDT 4: data DPL 3, not present */
#define L_SYS		0x2f		/* LDT 5: a TSS descriptor */
#define L_GATE		0x37		/* LDT 6: call gate DPL 3 -> L_CODE64 */
#define L_RO		0x3f		/* LDT 7: read-only data DPL 3 */
#define L_PAST		0x87		/* past the LDT limit (8 entries) */

#define R_L32		0xfffe7960u

static uint64_t ldt[8] __attribute__((aligned(8)));
static volatile uint32_t marker_word;

uint32_t t_ld_ds(uint32_t), t_ld_es(uint32_t), t_ld_fs(uint32_t), t_ld_gs(uint32_t);
uint32_t t_ld_ss(uint32_t), t_fs_read(uint32_t), t_ljmp(uint32_t), t_lcall(uint32_t);
void l32_code(void);
/* each loads selector arg, then puts the flat user selector back */
ASM_FN(t_ld_ds, "mov 4(%esp),%eax\n mov %ax,%ds\n mov %ds,%eax\n mov $0x23,%cx\n mov %cx,%ds\n ret");
ASM_FN(t_ld_es, "mov 4(%esp),%eax\n mov %ax,%es\n mov %es,%eax\n mov $0x23,%cx\n mov %cx,%es\n ret");
ASM_FN(t_ld_fs, "mov 4(%esp),%eax\n mov %ax,%fs\n mov %fs,%eax\n ret");
ASM_FN(t_ld_gs, "mov 4(%esp),%eax\n mov %ax,%gs\n mov %gs,%eax\n ret");
ASM_FN(t_ld_ss, "mov 4(%esp),%eax\n mov %ax,%ss\n mov %ss,%eax\n mov $0x23,%cx\n mov %cx,%ss\n ret");
/* FS = the wrapping segment for a while (a native stay), then read
 * FS:0x3000 = linear 0x2000 */
ASM_FN(t_fs_read, "mov $0x0f,%ax\n mov %ax,%fs\n mov $100000,%ecx\n1: loop 1b\n"
		  "mov %fs:0x3000,%eax\n ret");
ASM_FN(t_ljmp, "mov 4(%esp),%ecx\n push $0x1b\n push $1f\n mov $0xabcd0000,%eax\n"
	       "ljmp *(%ecx)\n1: ret");
ASM_FN(t_lcall, "mov 4(%esp),%ecx\n mov $0xabcd0000,%eax\n lcall *(%ecx)\n ret");
ASM_FN(l32_code, "mov $100000,%ecx\n xor %eax,%eax\n1: .byte 0x48\n nop\n loop 1b\n lret");

static void lseg(int i, uint32_t base, uint32_t limit, uint8_t acc, uint8_t flags)
{
	rt_gdt_set(GDT_ENTRIES - 1, base, limit, acc, flags);
	ldt[i] = rt_gdt[GDT_ENTRIES - 1];
	rt_gdt[GDT_ENTRIES - 1] = 0;
}

static void lldt_at(uint32_t base)
{
	rt_gdt_set(LDT_GDT_IDX, base, sizeof(ldt) - 1, ACC_P | 0x2, 0);	/* type 2: LDT */
	asm volatile("lldt %w0" :: "r"(LDT_GDT_IDX << 3) : "memory");
}

static void expect_load(const char *name, uint32_t (*fn)(uint32_t), uint16_t sel,
			int vec, uint32_t err)
{
	struct rt_fault f;
	int v = rt_try(3, fn, sel, &f);

	if (vec < 0) {
		if (rt_expect_fault(name, v, &f, -1, 0, 0))
			rt_expect_eq(name, f.ret & 0xffff, sel);
	} else {
		rt_expect_fault(name, v, &f, vec, err, 0);
	}
}

void test_main(void)
{
	static uint32_t (*const loads[])(uint32_t) = { t_ld_ds, t_ld_es, t_ld_fs, t_ld_gs };
	static const char *const names[] = { "ds", "es", "fs", "gs" };
	static struct { uint32_t off, sel; } fp;
	struct rt_fault f;
	char n[48];
	int v;

	rt_printf("HOSTILE ldt-crafted: CPL 3 loads of crafted LDT selectors; the LDT "
		  "unmapped, above RAM and in MMIO\n");
	hostile_paging_on();
	marker_word = 0x5eed2000;
	hostile_poke(0x2000, (const void *)&marker_word, 4);
	lseg(1, 0xfffff000, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	lseg(2, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB | 0x2);
	lseg(3, 0, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	lseg(4, 0, 0xfffff, ACC_DPL(3) | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	lseg(5, (uint32_t)&rt_tss, 103, ACC_P | ACC_DPL(3) | 0x9, 0);
	rt_gdt_gate(GDT_ENTRIES - 1, L_CODE64, (uint32_t)l32_code, GATE_CALL32, 3, 0);
	ldt[6] = rt_gdt[GDT_ENTRIES - 1];
	rt_gdt[GDT_ENTRIES - 1] = 0;
	lseg(7, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S, FLG_G | FLG_DB);
	lldt_at((uint32_t)ldt);

	for (int k = 0; k < 4; k++) {
#define NM(s) (rt_memcpy(n, s, sizeof(s) - 1), rt_memcpy(n + sizeof(s) - 1, names[k], 3), n)
		expect_load(NM("ldt-wrap-data-"), loads[k], L_WRAP, -1, 0);
		expect_load(NM("ldt-dpl0-data-"), loads[k], L_DPL0, 13, L_DPL0 & ~3u);
		expect_load(NM("ldt-not-present-"), loads[k], L_NP, 11, L_NP & ~3u);
		expect_load(NM("ldt-system-desc-"), loads[k], L_SYS, 13, L_SYS & ~3u);
		expect_load(NM("ldt-past-limit-"), loads[k], L_PAST, 13, L_PAST & ~3u);
		expect_load(NM("ldt-code64-"), loads[k], L_CODE64, -1, 0);	/* readable code */
	}
	expect_load("ldt-wrap-data-ss", t_ld_ss, L_WRAP, -1, 0);
	expect_load("ldt-read-only-ss", t_ld_ss, L_RO, 13, L_RO & ~3u);
	expect_load("ldt-not-present-ss", t_ld_ss, L_NP, 12, L_NP & ~3u);
	expect_load("ldt-code-ss", t_ld_ss, L_CODE64, 13, L_CODE64 & ~3u);
	v = rt_try(3, t_fs_read, 0, &f);
	rt_expect_fault("ldt-wrap-read-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("ldt-wrap-read-linear-0x2000", f.ret, 0x5eed2000);
	fp.sel = L_CODE64;
	fp.off = (uint32_t)l32_code;
	v = rt_try(3, t_ljmp, (uint32_t)&fp, &f);
	rt_expect_fault("ldt-ljmp-l1-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("ldt-ljmp-l1-runs-32bit", f.ret, R_L32);
	v = rt_try(3, t_lcall, (uint32_t)&fp, &f);
	rt_expect_eq("ldt-lcall-l1-runs-32bit", v < 0 ? f.ret : 0xdead0000u | (uint32_t)v, R_L32);
	fp.sel = L_GATE;
	v = rt_try(3, t_lcall, (uint32_t)&fp, &f);
	rt_expect_eq("ldt-gate-lcall-runs-32bit", v < 0 ? f.ret : 0xdead0000u | (uint32_t)v, R_L32);
	fp.sel = L_NP;
	v = rt_try(3, t_ljmp, (uint32_t)&fp, &f);
	rt_expect_fault("ldt-ljmp-data-segment", v, &f, 13, L_NP & ~3u, 0);

	/* the LDT at an unmapped linear address: the descriptor read faults as
	 * a supervisor access (SDM Vol. 3A 4.6: implicit supervisor-mode) */
	lldt_at(0x20000000);
	v = rt_try(3, t_ld_fs, L_WRAP, &f);
	rt_expect_fault("ldt-unmapped-pf", v, &f, 14, 0, 0);
	rt_expect_eq("ldt-unmapped-cr2", f.cr2, 0x20000008);
	/* above RAM (guest-physical 0x10000000) and in the VGA MMIO window:
	 * whatever the bus answers is loaded or refused; the engine survives */
	hostile_pd[0x40] = 0x10000000 | 0x87;
	invlpg(0x10000000);
	lldt_at(0x10000000);
	for (uint16_t s = 0x07; s <= 0x3f; s += 8) {
		v = rt_try(3, t_ld_gs, s, &f);
		rt_printf("NOTE ldt-above-ram sel 0x%x: vector %d err 0x%x\n", s, v, v < 0 ? 0 : f.err);
	}
	lldt_at(0xa0000);
	for (uint16_t s = 0x07; s <= 0x3f; s += 8) {
		v = rt_try(3, t_ld_gs, s, &f);
		rt_printf("NOTE ldt-vga-mmio sel 0x%x: vector %d err 0x%x\n", s, v, v < 0 ? 0 : f.err);
	}
	lldt_at((uint32_t)ldt);
	expect_load("ldt-back-wrap-data-gs", t_ld_gs, L_WRAP, -1, 0);
	asm volatile("lldt %w0" :: "r"(0));
}
