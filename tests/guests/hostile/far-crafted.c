/* tests/guests/hostile/far-crafted.c — far JMP, CALL, RET and IRET, and far
 * calls and jumps through call gates, to code segments a monitor in long mode
 * must not take at face value: L=1 (a 64-bit code segment in IA-32e mode,
 * ignored in legacy mode: SDM Vol. 3A 3.4.5), L=1 with D=0 (a 16-bit
 * segment here), a 16-bit segment, a DPL 0 conforming segment entered from
 * CPL 3 (runs at CPL 3), bases whose base + offset passes 4 GiB (0xfffff000
 * + 0x2000, 0xffffffff + 0x1001: linear 0x1000, SDM Vol. 3A 3.3), and gates
 * to null, data, not-present or too-privileged targets. Paging is on and the
 * low 16 MiB are user pages, so the CPL 3 cases run where the hybrid engine
 * runs guest user code natively; every target loops 10^4-10^5 times so that
 * it is still running there when the engine next enters native mode. Each
 * case checks the architectural result (a value only 32-bit, 16-bit or
 * wrapped execution gives, or the exact fault); QEMU: status 1. */
#include "hostile.h"

const char rt_test_name[] = "far-crafted";

#define S_WRAP0		0x48	/* code DPL 0, base 0xfffff000, 4 GiB */
#define S_WRAP3		0x53	/* code DPL 3, base 0xfffff000, 4 GiB */
#define S_WRAPFF3	0x5b	/* code DPL 3, base 0xffffffff, 4 GiB */
#define S_L32_3		0x63	/* code DPL 3, L=1 D=1 */
#define S_L16_3		0x6b	/* code DPL 3, L=1 D=0 */
#define S_C16_3		0x73	/* code DPL 3, 16-bit, limit 0xffff */
#define S_CONF0		0x78	/* code DPL 0, conforming */
#define G_L32		0x83	/* call gates, DPL 3 unless noted */
#define G_WRAP		0x8b
#define G_KERNEL	0x93	/* -> 0x08 (CPL 0) */
#define G_DATA		0x9b	/* -> 0x10, a data segment */
#define G_NP		0xa3	/* not present */
#define G_NULL		0xab	/* -> null selector */
#define S_NP3		0xb3	/* code DPL 3, not present */
#define G_CONF		0xbb	/* -> 0x78 conforming */
#define G_L16		0xc3	/* -> 0x6b */
#define G_DPL0		0xc8	/* gate DPL 0 */
#define S_L32_0		0xd0	/* code DPL 0, L=1 D=1 */
#define S_L16_0		0xd8	/* code DPL 0, L=1 D=0 */

#define WRAP_CODE	0x1000	/* linear address of the wrapped target */
#define C16_CODE	0x3000	/* the 16-bit target (IP is 16 bits there) */

#define R_WRAP		0x600d
#define R_L32		0xfffe7960u	/* 0 - 100000: DEC EAX ran in 32-bit code */
#define R_16		0xabcdeb24u	/* 0x1234 - 10000 in AX, EAX's top kept */

struct farptr { uint32_t off, sel; };

uint32_t t_lcall(uint32_t), t_ljmp(uint32_t), t_lret(uint32_t), t_iret(uint32_t);
void l32_code(void), conf_code(void), cg_k(void);
/* every transfer starts with EAX = 0xabcd0000; ljmp/lret/iret push the way
 * back first, so each target can end with a 32-bit LRET */
ASM_FN(t_lcall, "mov 4(%esp),%ecx\n mov $0xabcd0000,%eax\n lcall *(%ecx)\n ret");
ASM_FN(t_ljmp, "mov 4(%esp),%ecx\n mov %cs,%edx\n push %edx\n push $1f\n"
	       "mov $0xabcd0000,%eax\n ljmp *(%ecx)\n1: ret");
ASM_FN(t_lret, "mov 4(%esp),%ecx\n mov %cs,%edx\n push %edx\n push $1f\n"
	       "pushl 4(%ecx)\n pushl (%ecx)\n mov $0xabcd0000,%eax\n lret\n1: ret");
ASM_FN(t_iret, "mov 4(%esp),%ecx\n mov %cs,%edx\n push %edx\n push $1f\n"
	       "pushf\n pushl 4(%ecx)\n pushl (%ecx)\n mov $0xabcd0000,%eax\n iret\n1: ret");
/* 0x48 is DEC EAX in 32-bit code, a REX.W prefix (of NOP) in 64-bit code */
ASM_FN(l32_code, "mov $100000,%ecx\n xor %eax,%eax\n1: .byte 0x48\n nop\n loop 1b\n lret");
ASM_FN(conf_code, "mov $100000,%ecx\n1: loop 1b\n mov %cs,%eax\n lret");
ASM_FN(cg_k, "mov $10000,%ecx\n1: loop 1b\n mov %cs,%eax\n lret");

/* at WRAP_CODE: mov $100000,%ecx; loop .; mov $0x600d,%eax; lret */
static const uint8_t wrap_code[] = { 0xb9, 0xa0, 0x86, 0x01, 0x00, 0xe2, 0xfe,
				     0xb8, 0x0d, 0x60, 0x00, 0x00, 0xcb };
/* at C16_CODE, 16-bit: mov $10000,%cx; mov $0x1234,%ax; 1: dec %ax; nop;
 * loop 1b; lretl. As 32-bit or 64-bit code the same bytes compute garbage. */
static const uint8_t c16_code[] = { 0xb9, 0x10, 0x27, 0xb8, 0x34, 0x12, 0x48, 0x90,
				    0xe2, 0xfc, 0x66, 0xcb };

static void code_seg(int idx, uint32_t base, uint32_t limit, int dpl, uint8_t extra, uint8_t flags)
{
	rt_gdt_set(idx, base, limit, ACC_P | ACC_DPL(dpl) | ACC_S | ACC_CODE | ACC_CODE_R | extra,
		   flags);
}

static void setup(void)
{
	code_seg(S_WRAP0 >> 3, 0xfffff000, 0xfffff, 0, 0, FLG_G | FLG_DB);
	code_seg(S_WRAP3 >> 3, 0xfffff000, 0xfffff, 3, 0, FLG_G | FLG_DB);
	code_seg(S_WRAPFF3 >> 3, 0xffffffff, 0xfffff, 3, 0, FLG_G | FLG_DB);
	code_seg(S_L32_3 >> 3, 0, 0xfffff, 3, 0, FLG_G | FLG_DB | 0x2);	/* 0x2: L */
	code_seg(S_L16_3 >> 3, 0, 0xfffff, 3, 0, FLG_G | 0x2);
	code_seg(S_C16_3 >> 3, 0, 0xffff, 3, 0, 0);
	code_seg(S_CONF0 >> 3, 0, 0xfffff, 0, ACC_CODE_C, FLG_G | FLG_DB);
	code_seg(S_L32_0 >> 3, 0, 0xfffff, 0, 0, FLG_G | FLG_DB | 0x2);
	code_seg(S_L16_0 >> 3, 0, 0xfffff, 0, 0, FLG_G | 0x2);
	code_seg(S_NP3 >> 3, 0, 0xfffff, 3, 0, FLG_G | FLG_DB);
	rt_gdt[S_NP3 >> 3] &= ~((uint64_t)ACC_P << 40);
	rt_gdt_gate(G_L32 >> 3, S_L32_3, (uint32_t)l32_code, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_WRAP >> 3, S_WRAP3, 0x2000, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_KERNEL >> 3, SEL_KCODE, (uint32_t)cg_k, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_DATA >> 3, SEL_KDATA, 0, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_NP >> 3, S_L32_3, (uint32_t)l32_code, GATE_CALL32, 3, 0);
	rt_gdt[G_NP >> 3] &= ~((uint64_t)ACC_P << 40);
	rt_gdt_gate(G_NULL >> 3, 0, (uint32_t)l32_code, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_CONF >> 3, S_CONF0, (uint32_t)conf_code, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_L16 >> 3, S_L16_3, C16_CODE, GATE_CALL32, 3, 0);
	rt_gdt_gate(G_DPL0 >> 3, S_L32_3, (uint32_t)l32_code, GATE_CALL32, 0, 0);
	hostile_poke(WRAP_CODE, wrap_code, sizeof(wrap_code));
	hostile_poke(C16_CODE, c16_code, sizeof(c16_code));
}

static const char *const kinds[] = { "lcall", "ljmp", "lret", "iret" };
static uint32_t (*const fns[])(uint32_t) = { t_lcall, t_ljmp, t_lret, t_iret };

/* One far transfer of kind k (0-3) at CPL ring to sel:off; want_vec < 0:
 * it must return want; else it must fault with (want_vec, want_err). */
static void one(const char *what, int ring, int k, uint16_t sel, uint32_t off,
		int want_vec, uint32_t want)
{
	static struct farptr fp;
	struct rt_fault f;
	char name[64];
	int v, n = 0;

	for (const char *s = kinds[k]; *s; s++)
		name[n++] = *s;
	name[n++] = '-';
	for (const char *s = what; *s && n < 60; s++)
		name[n++] = *s;
	name[n++] = ring ? '3' : '0';
	name[n] = 0;
	fp.off = off;
	fp.sel = sel;
	v = rt_try(ring, fns[k], (uint32_t)&fp, &f);
	if (want_vec < 0) {
		if (rt_expect_fault(name, v, &f, -1, 0, 0) == 1)
			rt_expect_eq(name, f.ret, want);
	} else {
		rt_expect_fault(name, v, &f, want_vec, want, 0);
	}
}

void test_main(void)
{
	rt_printf("HOSTILE far-crafted: far transfers to L=1, 16-bit, conforming and "
		  "4 GiB-wrapping code at CPL 0 and 3\n");
	hostile_paging_on();
	setup();
	for (int k = 0; k < 4; k++) {
		one("wrap-base-cpl", 0, k, S_WRAP0, 0x2000, -1, R_WRAP);
		one("l1d1-cpl", 0, k, S_L32_0, (uint32_t)l32_code, -1, R_L32);
		one("l1d0-16bit-cpl", 0, k, S_L16_0, C16_CODE, -1, R_16);
		one("conforming-cpl", 0, k, S_CONF0, (uint32_t)conf_code, -1, S_CONF0);
		one("wrap-base-cpl", 3, k, S_WRAP3, 0x2000, -1, R_WRAP);
		one("wrap-ffffffff-cpl", 3, k, S_WRAPFF3, 0x1001, -1, R_WRAP);
		one("l1d1-cpl", 3, k, S_L32_3, (uint32_t)l32_code, -1, R_L32);
		one("l1d0-16bit-cpl", 3, k, S_L16_3, C16_CODE, -1, R_16);
		one("code16-cpl", 3, k, S_C16_3, C16_CODE, -1, R_16);
		one("not-present-cpl", 3, k, S_NP3, 0, 11, S_NP3 & ~3u);
	}
	/* CALL and JMP to conforming DPL 0 code from CPL 3 run at CPL 3 (CS.RPL
	 * = CPL); RET and IRET to it would lower the CPL: #GP(selector) */
	one("conforming-dpl0-cpl", 3, 0, S_CONF0, (uint32_t)conf_code, -1, S_CONF0 | 3);
	one("conforming-dpl0-cpl", 3, 1, S_CONF0, (uint32_t)conf_code, -1, S_CONF0 | 3);
	one("conforming-dpl0-cpl", 3, 2, S_CONF0, (uint32_t)conf_code, 13, S_CONF0);
	one("conforming-dpl0-cpl", 3, 3, S_CONF0, (uint32_t)conf_code, 13, S_CONF0);
	/* with RPL 3 they stay at CPL 3 (conforming DPL 0 <= RPL 3) */
	one("conforming-dpl0-rpl3-cpl", 3, 2, S_CONF0 | 3, (uint32_t)conf_code, -1, S_CONF0 | 3);
	one("conforming-dpl0-rpl3-cpl", 3, 3, S_CONF0 | 3, (uint32_t)conf_code, -1, S_CONF0 | 3);
	/* CPL 0 may not call or jump to non-conforming DPL 3 code; CPL 3 may
	 * not return to CPL 0 */
	one("to-dpl3-code-cpl", 0, 0, S_L32_3, (uint32_t)l32_code, 13, S_L32_3 & ~3u);
	one("to-dpl3-code-cpl", 0, 1, S_L32_3, (uint32_t)l32_code, 13, S_L32_3 & ~3u);
	one("to-kernel-cs-cpl", 3, 2, SEL_KCODE, (uint32_t)cg_k, 13, SEL_KCODE);
	one("to-kernel-cs-cpl", 3, 3, SEL_KCODE, (uint32_t)cg_k, 13, SEL_KCODE);
	/* call gates from CPL 3 */
	for (int k = 0; k < 2; k++) {
		one("gate-l1d1-cpl", 3, k, G_L32, 0, -1, R_L32);
		one("gate-wrap-cpl", 3, k, G_WRAP, 0, -1, R_WRAP);
		one("gate-l1d0-cpl", 3, k, G_L16, 0, -1, R_16);
		one("gate-conforming-cpl", 3, k, G_CONF, 0, -1, S_CONF0 | 3);
		one("gate-data-target-cpl", 3, k, G_DATA, 0, 13, SEL_KDATA);
		one("gate-not-present-cpl", 3, k, G_NP, 0, 11, G_NP & ~3u);
		one("gate-null-target-cpl", 3, k, G_NULL, 0, 13, 0);
		one("gate-dpl0-cpl", 3, k, G_DPL0, 0, 13, G_DPL0);
	}
	/* a call gate may raise the privilege (stack switch to TSS.ESP0), a
	 * jump through it may not */
	one("gate-to-cpl0-cpl", 3, 0, G_KERNEL, 0, -1, SEL_KCODE);
	one("gate-to-cpl0-cpl", 3, 1, G_KERNEL, 0, 13, SEL_KCODE);
}
