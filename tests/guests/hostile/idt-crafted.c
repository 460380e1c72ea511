/* tests/guests/hostile/idt-crafted.c — an IDT of crafted gates, raised by
 * INT n at CPL 0 and CPL 3 (paging on, user pages: the CPL 3 side is native
 * code under the hybrid engine's stage 2) and by exceptions: gates to the
 * null selector, past the GDT limit, to a data segment, into the null LDT,
 * to a not-present code segment, not-present gates, call-gate and reserved
 * types in the IDT, gates to an L=1 ("64-bit") code segment, to an L=1 D=0
 * (16-bit) one, to DPL 0 conforming code (runs at the caller's CPL) and to
 * DPL 3 code. SDM Vol. 3A 6.12.1 and the INT n pseudo-code: each ends in the
 * exact fault, or the handler runs as 32-bit or 16-bit code and returns a
 * value only that gives. QEMU: status 1, with one known deviation (see
 * docs/guest-tests.md). */
#include "hostile.h"

const char rt_test_name[] = "idt-crafted";

#define S_L32_0		0x48	/* code DPL 0, L=1 D=1 */
#define S_L16_0		0x50	/* code DPL 0, L=1 D=0 (16-bit) */
#define S_CONF0		0x58	/* code DPL 0, conforming */
#define S_NP0		0x60	/* code DPL 0, not present */
#define H16_CODE	0x3100	/* the 16-bit handler */

#define R_L32		0xfffe7960u
#define R_16		0xabcdeb24u

uint32_t t_int(uint32_t), t_ud2(uint32_t), t_div0(uint32_t);
void int_tab(void), h_l32(void), h_cs(void);
/* int_tab: "int $v; ret" for v = 0x40..0x4f, 3 bytes each */
ASM_FN(t_int, "mov 4(%esp),%ecx\n mov $0xabcd0000,%eax\n call *%ecx\n ret");
ASM_FN(int_tab, ".irp v,0x40,0x41,0x42,0x43,0x44,0x45,0x46,0x47,0x48,0x49,0x4a,0x4b,0x4c,0x4d,0x4e,0x4f\n"
		"int $\\v\n ret\n .endr");
ASM_FN(t_ud2, "ud2\n ret");
ASM_FN(t_div0, "xor %ecx,%ecx\n mov $1,%eax\n cltd\n div %ecx\n ret");
ASM_FN(h_l32, "mov $100000,%ecx\n xor %eax,%eax\n1: .byte 0x48\n nop\n loop 1b\n iret");
ASM_FN(h_cs, "mov $10000,%ecx\n1: loop 1b\n mov %cs,%eax\n iret");

/* 16-bit: mov $10000,%cx; mov $0x1234,%ax; 1: dec %ax; nop; loop 1b; iretl */
static const uint8_t h16_code[] = { 0xb9, 0x10, 0x27, 0xb8, 0x34, 0x12, 0x48, 0x90,
				    0xe2, 0xfc, 0x66, 0xcf };

static void raw_gate(int vec, uint16_t sel, uint32_t off, int type, int dpl, int p)
{
	rt_idt_set(vec, sel, off, type, dpl, p);
}

static void setup(void)
{
	rt_gdt_set(S_L32_0 >> 3, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R,
		   FLG_G | FLG_DB | 0x2);
	rt_gdt_set(S_L16_0 >> 3, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | 0x2);
	rt_gdt_set(S_CONF0 >> 3, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R | ACC_CODE_C,
		   FLG_G | FLG_DB);
	rt_gdt_set(S_NP0 >> 3, 0, 0xfffff, ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	hostile_poke(H16_CODE, h16_code, sizeof(h16_code));
	raw_gate(0x40, 0, (uint32_t)h_cs, GATE_INT32, 3, 1);
	raw_gate(0x41, 0x1f8, (uint32_t)h_cs, GATE_INT32, 3, 1);	/* past the limit */
	raw_gate(0x42, SEL_KDATA, (uint32_t)h_cs, GATE_INT32, 3, 1);
	raw_gate(0x43, SEL_KCODE, (uint32_t)h_cs, GATE_INT32, 3, 0);	/* gate not present */
	raw_gate(0x44, S_NP0, (uint32_t)h_cs, GATE_INT32, 3, 1);
	raw_gate(0x45, S_L32_0, (uint32_t)h_l32, GATE_INT32, 3, 1);
	raw_gate(0x46, S_CONF0, (uint32_t)h_cs, GATE_TRAP32, 3, 1);
	raw_gate(0x47, S_L16_0, H16_CODE, GATE_INT32, 3, 1);
	raw_gate(0x48, SEL_UCODE, (uint32_t)h_cs, GATE_INT32, 3, 1);	/* DPL 3 code */
	raw_gate(0x49, SEL_KCODE, (uint32_t)h_cs, GATE_CALL32, 3, 1);	/* not an IDT type */
	raw_gate(0x4a, SEL_KCODE, (uint32_t)h_cs, 0x8, 3, 1);		/* reserved type */
	raw_gate(0x4b, 0x0c, (uint32_t)h_cs, GATE_INT32, 3, 1);	/* TI=1, null LDT */
	raw_gate(0x4c, S_L32_0, (uint32_t)h_l32, GATE_INT32, 0, 1);	/* DPL 0 gate */
	raw_gate(0x4d, SEL_KCODE, (uint32_t)h_cs, GATE_TRAP32, 3, 1);	/* the sane one */
}

/* int $vec at CPL ring: want_vec < 0: must return want; else that fault
 * with error code want (want2: a second accepted code, for QEMU quirks). */
static void one(const char *name, int ring, int vec, int want_vec, uint32_t want, uint32_t want2)
{
	struct rt_fault f;
	int v = rt_try(ring, t_int, (uint32_t)int_tab + 3 * (uint32_t)(vec - 0x40), &f);

	if (want_vec < 0) {
		if (rt_expect_fault(name, v, &f, -1, 0, 0) == 1)
			rt_expect_eq(name, f.ret, want);
		return;
	}
	if (v == want_vec && f.err == want2 && want2 != want) {
		rt_printf("NOTE %s: error code 0x%x (QEMU's), SDM 0x%x\n", name, f.err, want);
		rt_check(1, name, "%s", "");
		return;
	}
	rt_expect_fault(name, v, &f, want_vec, want, 0);
}

void test_main(void)
{
	struct rt_fault f;
	int v;

	rt_printf("HOSTILE idt-crafted: gates to garbage, L=1, 16-bit, conforming and "
		  "not-present targets, from CPL 0 and 3\n");
	hostile_paging_on();
	setup();
	for (int ring = 0; ring <= 3; ring += 3) {
		const char *r = ring ? "-cpl3" : "-cpl0";
		char n[64];
#define NAME(s) (rt_memcpy(n, s, sizeof(s) - 1), rt_memcpy(n + sizeof(s) - 1, r, 6), n)
		one(NAME("int-gate-null-selector"), ring, 0x40, 13, 0, 0);
		one(NAME("int-gate-past-gdt-limit"), ring, 0x41, 13, 0x1f8, 0x1f8);
		one(NAME("int-gate-data-segment"), ring, 0x42, 13, SEL_KDATA, SEL_KDATA);
		one(NAME("int-gate-not-present"), ring, 0x43, 11, 0x43 * 8 + 2, 0x43 * 8 + 2);
		one(NAME("int-gate-code-not-present"), ring, 0x44, 11, S_NP0, S_NP0);
		one(NAME("int-gate-l1-code-runs-32bit"), ring, 0x45, -1, R_L32, 0);
		one(NAME("int-gate-conforming-keeps-cpl"), ring, 0x46, -1, S_CONF0 | (uint32_t)ring, 0);
		one(NAME("int-gate-l1d0-code-runs-16bit"), ring, 0x47, -1, R_16, 0);
		if (ring)
			one(NAME("int-gate-dpl3-code"), ring, 0x48, -1, SEL_UCODE, 0);
		else
			one(NAME("int-gate-dpl3-code"), ring, 0x48, 13, SEL_UCODE & ~3u, SEL_UCODE & ~3u);
		one(NAME("int-call-gate-type-in-idt"), ring, 0x49, 13, 0x49 * 8 + 2, 0x49 * 16 + 2);
		one(NAME("int-reserved-type-in-idt"), ring, 0x4a, 13, 0x4a * 8 + 2, 0x4a * 16 + 2);
		one(NAME("int-gate-ldt-selector"), ring, 0x4b, 13, 0x0c, 0x0c);
		if (ring)
			one(NAME("int-dpl0-gate"), ring, 0x4c, 13, 0x4c * 8 + 2, 0x4c * 16 + 2);
		else
			one(NAME("int-dpl0-gate"), ring, 0x4c, -1, R_L32, 0);
		one(NAME("int-sane-gate"), ring, 0x4d, -1, SEL_KCODE, 0);
	}
	/* exceptions (EXT=1 in the error code: SDM Vol. 3A 6.13; QEMU leaves
	 * it clear) through the same kinds of gates, at CPL 3 */
	raw_gate(6, S_NP0, rt_idt_stub(6), GATE_INT32, 0, 1);
	v = rt_try(3, t_ud2, 0, &f);
	if (v == 11 && f.err == S_NP0)
		rt_printf("NOTE ud2-gate-code-not-present: error code without EXT (QEMU's)\n"),
			rt_check(1, "ud2-gate-code-not-present", "%s", "");
	else
		rt_expect_fault("ud2-gate-code-not-present", v, &f, 11, S_NP0 | 1, 0);
	raw_gate(6, 0x1f8, rt_idt_stub(6), GATE_INT32, 0, 1);
	v = rt_try(3, t_ud2, 0, &f);
	if (v == 13 && f.err == 0x1f8)
		rt_printf("NOTE ud2-gate-past-gdt-limit: error code without EXT (QEMU's)\n"),
			rt_check(1, "ud2-gate-past-gdt-limit", "%s", "");
	else
		rt_expect_fault("ud2-gate-past-gdt-limit", v, &f, 13, 0x1f8 | 1, 0);
	rt_idt_default(6);
	/* #DE through a gate into L=1 code: the stub runs as 32-bit code */
	raw_gate(0, S_L32_0, rt_idt_stub(0), GATE_INT32, 0, 1);
	v = rt_try(3, t_div0, 0, &f);
	rt_expect_fault("div0-gate-l1-code", v, &f, 0, 0, 0);
	rt_expect_eq("div0-gate-l1-code-cs", f.cs & ~3u, SEL_UCODE & ~3u);
	rt_idt_default(0);
	/* rt_try came back with a near jump: CS is still the L=1 selector */
	asm volatile("ljmp $0x08,$1f\n1:");
	rt_expect_eq("cs-restored", read_cs(), SEL_KCODE);
}
