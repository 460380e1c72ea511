/* tests/unit/test_fpu_exc.c — the behaviours the host oracle cannot show
 * (they trap on the host): unmasked x87 exceptions reported as #MF at the
 * next waiting instruction, bias-adjusted overflow results, unmasked SIMD
 * exceptions (#XM, or #UD without CR4.OSXMMEXCPT), CR4.OSFXSR gating,
 * alignment and reserved-bit faults; and FPU code run through the
 * interpreter's own loop (cpu__run). */
#include "tests/unit/unit.h"
#include "tests/unit/fpu_run.h"
#include "monitor/fpu_int.h"

/* Executes assembled bytes; returns fpu__exec's result of the last one. */
#define EXEC(cpu, ...) ({                                                    \
	static const uint8_t code_[] = { __VA_ARGS__ };                     \
	size_t at_;                                                         \
	emu_exec(cpu, code_, sizeof(code_), &at_);                          \
})

static void set_cw(struct cpu *cpu, uint16_t cw)
{
	memcpy(emu_ram + GUEST_DATA, &cw, 2);
	cpu->r[R_EDX] = GUEST_DATA;
	CU_ASSERT_EQUAL(EXEC(cpu, 0xd9, 0x2a), 0);		/* fldcw [edx] */
}

static void test_x87_unmasked_zdiv(void)
{
	struct cpu *cpu = emu_cpu();
	set_cw(cpu, 0x037f & ~FCW_ZM);
	CU_ASSERT_EQUAL(EXEC(cpu, 0xd9, 0xe8, 0xd9, 0xee), 0);	/* fld1; fldz */
	CU_ASSERT_EQUAL(EXEC(cpu, 0xde, 0xf9), 0);	/* fdivp: 1/0 */
	struct fpu_state *f = &cpu->fpu;
	CU_ASSERT(f->fsw & FSW_ZE);
	CU_ASSERT(f->fsw & FSW_ES);
	CU_ASSERT(f->fsw & FSW_B);
	/* no result, no pop: ST0 is still 0, ST1 still 1 */
	CU_ASSERT_EQUAL(x87_top(f), 6);
	CU_ASSERT_EQUAL(x87_st(f, 0).se, 0);
	CU_ASSERT_EQUAL(x87_st(f, 1).se, 0x3fff);
	/* FNSTSW does not wait; FWAIT and FADD report #MF */
	CU_ASSERT_EQUAL(EXEC(cpu, 0xdd, 0x3a), 0);	/* fnstsw [edx] */
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x9b), CPU_ABORT);	/* fwait */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_MF);
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0xd8, 0xc1), CPU_ABORT);	/* fadd */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_MF);
	/* MMX instructions also report it */
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xfc, 0xc1), CPU_ABORT);  /* paddb */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_MF);
	CU_ASSERT_EQUAL(EXEC(cpu, 0xdb, 0xe2), 0);	/* fnclex */
	CU_ASSERT_EQUAL(f->fsw & (FSW_ES | FSW_B | FSW_ZE), 0);
	CU_ASSERT_EQUAL(EXEC(cpu, 0x9b, 0xd8, 0xc1), 0);	/* fwait; fadd */
}

static void test_x87_unmasked_overflow(void)
{
	struct cpu *cpu = emu_cpu();
	struct fpu_reg80 max = { ~0ull, 0x7ffe };
	set_cw(cpu, 0x037f & ~FCW_OM);
	memcpy(emu_ram + GUEST_DATA + 16, &max.m, 8);
	memcpy(emu_ram + GUEST_DATA + 24, &max.se, 2);
	/* fld tword [edx+16]; fmul st0, st0 */
	CU_ASSERT_EQUAL(EXEC(cpu, 0xdb, 0x6a, 0x10, 0xd8, 0xc8), 0);
	struct fpu_state *f = &cpu->fpu;
	/* (2^16384 - eps)^2 ~ 2^32768: exponent 32767 - 24576 = 8191 */
	CU_ASSERT_EQUAL(x87_st(f, 0).se, 8191 + 16383);
	CU_ASSERT_EQUAL(x87_st(f, 0).m, ~0ull << 1);
	CU_ASSERT(f->fsw & FSW_OE);
	CU_ASSERT(f->fsw & FSW_ES);
	/* to memory the store does not happen at all */
	memset(emu_ram + GUEST_DATA + 32, 0xaa, 8);
	CU_ASSERT_EQUAL(EXEC(cpu, 0xdb, 0xe2, 0xdd, 0x5a, 0x20), 0);
	CU_ASSERT_EQUAL(emu_ram[GUEST_DATA + 32], 0xaa);
	CU_ASSERT_EQUAL(x87_top(f), 7);		/* and no pop */
}

/* Unmasked underflow to a register: the result is scaled by 2^24576
 * (SDM Vol. 1 §8.5.5), UE set even though the result is exact. */
static void test_x87_unmasked_underflow(void)
{
	struct cpu *cpu = emu_cpu();
	struct fpu_reg80 tiny = { 1ull << 63, 0x0001 };		/* 2^-16382 */
	set_cw(cpu, 0x037f & ~FCW_UM);
	memcpy(emu_ram + GUEST_DATA + 16, &tiny.m, 8);
	memcpy(emu_ram + GUEST_DATA + 24, &tiny.se, 2);
	/* fld tword [edx+16]; fmul dword [edx+32] (0.5f) */
	uint32_t half = 0x3f000000;
	memcpy(emu_ram + GUEST_DATA + 32, &half, 4);
	CU_ASSERT_EQUAL(EXEC(cpu, 0xdb, 0x6a, 0x10, 0xd8, 0x4a, 0x20), 0);
	struct fpu_state *f = &cpu->fpu;
	/* 2^-16383 * 2^24576 = 2^8193: biased exponent 8193 + 16383 */
	CU_ASSERT_EQUAL(x87_st(f, 0).se, 8193 + 16383);
	CU_ASSERT_EQUAL(x87_st(f, 0).m, 1ull << 63);
	CU_ASSERT_EQUAL(f->fsw & (FSW_UE | FSW_PE | FSW_ES), FSW_UE | FSW_ES);
}

static void test_x87_unmasked_stack(void)
{
	struct cpu *cpu = emu_cpu();
	set_cw(cpu, 0x037f & ~FCW_IM);
	for (int i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(EXEC(cpu, 0xd9, 0xe8), 0);	/* fld1 */
	CU_ASSERT_EQUAL(EXEC(cpu, 0xd9, 0xee), 0);	/* fldz: overflow */
	struct fpu_state *f = &cpu->fpu;
	CU_ASSERT_EQUAL(f->fsw & (FSW_IE | FSW_SF | FSW_C1 | FSW_ES),
			FSW_IE | FSW_SF | FSW_C1 | FSW_ES);
	CU_ASSERT_EQUAL(x87_top(f), 0);		/* nothing pushed */
	CU_ASSERT_EQUAL(x87_st(f, 0).se, 0x3fff);
}

static void test_sse_unmasked(void)
{
	struct cpu *cpu = emu_cpu();
	uint32_t mx = MXCSR_DEFAULT & ~(FSW_ZE << 7);
	memcpy(emu_ram + GUEST_DATA, &mx, 4);
	cpu->r[R_EDX] = GUEST_DATA;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xae, 0x12), 0);	/* ldmxcsr */
	cpu->fpu.xmm[0].d[0] = 0x3f800000;			/* 1.0f */
	cpu->fpu.xmm[1].d[0] = 0;
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0xf3, 0x0f, 0x5e, 0xc1), CPU_ABORT);
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_XM);
	CU_ASSERT_EQUAL(cpu->fpu.xmm[0].d[0], 0x3f800000);	/* unchanged */
	CU_ASSERT(cpu->fpu.mxcsr & FSW_ZE);
	cpu->cr4 &= ~CR4_OSXMMEXCPT;
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0xf3, 0x0f, 0x5e, 0xc1), CPU_ABORT);
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_UD);
	/* masked again: +inf */
	mx = MXCSR_DEFAULT;
	memcpy(emu_ram + GUEST_DATA, &mx, 4);
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xae, 0x12, 0xf3, 0x0f, 0x5e, 0xc1), 0);
	CU_ASSERT_EQUAL(cpu->fpu.xmm[0].d[0], 0x7f800000);
}

static void test_gating_and_faults(void)
{
	struct cpu *cpu = emu_cpu();
	cpu->r[R_EDX] = GUEST_DATA + 8;		/* not 16-aligned */
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xae, 0x02), CPU_ABORT);	/* fxsave */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_GP);
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0x28, 0x02), CPU_ABORT);	/* movaps */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_GP);
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0x10, 0x02), 0);		/* movups */
	uint32_t bad = 0x10000;
	memcpy(emu_ram + GUEST_DATA + 8, &bad, 4);
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xae, 0x12), CPU_ABORT);	/* ldmxcsr */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_GP);
	/* CR4.OSFXSR clear: SSE is #UD, MMX and FXSAVE still work */
	cpu->cr4 &= ~CR4_OSFXSR;
	cpu->pending_exc = -1;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0x58, 0xc1), CPU_ABORT);	/* addps */
	CU_ASSERT_EQUAL(cpu->pending_exc, EXC_UD);
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xfc, 0xc1), 0);		/* paddb */
	cpu->r[R_EDX] = GUEST_DATA;
	CU_ASSERT_EQUAL(EXEC(cpu, 0x0f, 0xae, 0x02), 0);		/* fxsave */
	/* not FPU at all */
	CU_ASSERT_EQUAL(EXEC(cpu, 0x90), FPU_NOT_MINE);
	CU_ASSERT_EQUAL(EXEC(cpu, 0xf2, 0x0f, 0x7c, 0xc1), FPU_NOT_MINE); /* haddps */
}

/* A small flat protected-mode program run by cpu__run. */
static void test_through_interpreter(void)
{
	static const uint8_t prog[] = {
		0xdb, 0xe3,			/* fninit */
		0xd9, 0xe8,			/* fld1 */
		0xd9, 0xeb,			/* fldpi */
		0xde, 0xc1,			/* faddp */
		0xd9, 0x1d, 0x00, 0x00, 0x01, 0x00,	/* fstp dword [0x10000] */
		0xdf, 0xe0,			/* fnstsw ax */
		0x0f, 0x28, 0x05, 0x10, 0x00, 0x01, 0x00, /* movaps xmm0, [0x10010] */
		0x0f, 0x59, 0xc0,		/* mulps xmm0, xmm0 */
		0x0f, 0x29, 0x05, 0x20, 0x00, 0x01, 0x00, /* movaps [0x10020], xmm0 */
		0xf4,				/* hlt */
	};
	static const float in[4] = { 1.5f, -2.0f, 3.0f, 0.25f };
	struct cpu *cpu = emu_cpu();
	memset(emu_ram + GUEST_DATA, 0, 64);
	memcpy(emu_ram + GUEST_DATA + 16, in, 16);
	memcpy(emu_ram + GUEST_CODE, prog, sizeof(prog));
	cpu__invalidate_phys(cpu, 0, sizeof(emu_ram));
	cpu->r[R_EAX] = 0xffffffff;
	enum cpu_exit e = cpu__run(cpu, 100);
	CU_ASSERT(e == CPU_EXIT_HALT || e == CPU_EXIT_HALT_DEAD);
	uint32_t v;
	memcpy(&v, emu_ram + GUEST_DATA, 4);
	CU_ASSERT_EQUAL(v, 0x408487ed);			/* (float)(1 + pi) */
	CU_ASSERT_EQUAL(cpu->r[R_EAX], 0xffff0020);	/* FSW: TOP 0, PE */
	float out[4];
	memcpy(out, emu_ram + GUEST_DATA + 32, 16);
	CU_ASSERT(out[0] == 2.25f && out[1] == 4.0f && out[2] == 9.0f &&
		  out[3] == 0.0625f);
}

/* A flat GDT and an IDT whose gates 0-31 point at handler + 16*vector, so
 * exceptions raised by fpu__exec are delivered by the interpreter. */
static struct cpu *idt_cpu(uint32_t handlers)
{
	static const uint64_t gdt[] = { 0, 0x00cf9a000000ffffull,
					0x00cf92000000ffffull };
	struct cpu *cpu = emu_cpu();
	memcpy(emu_ram + 0x1000, gdt, sizeof(gdt));
	for (unsigned v = 0; v < 32; v++) {
		uint32_t off = handlers + 16 * v;
		uint32_t lo = (0x08u << 16) | (off & 0xffff);
		uint32_t hi = (off & 0xffff0000u) | 0x8e00;
		memcpy(emu_ram + 0x2000 + 8 * v, &lo, 4);
		memcpy(emu_ram + 0x2004 + 8 * v, &hi, 4);
		emu_ram[off] = 0xf4;			/* hlt by default */
	}
	cpu->gdtr.base = 0x1000;
	cpu->gdtr.limit = sizeof(gdt) - 1;
	cpu->idtr.base = 0x2000;
	cpu->idtr.limit = 8 * 32 - 1;
	cpu->r[R_ESP] = 0x9000;
	return cpu;
}

static uint32_t stack_word(struct cpu *cpu, unsigned k)
{
	uint32_t v;
	memcpy(&v, emu_ram + cpu->r[R_ESP] + 4 * k, 4);
	return v;
}

static void run_prog(struct cpu *cpu, const uint8_t *p, size_t n)
{
	memcpy(emu_ram + GUEST_CODE, p, n);
	cpu__invalidate_phys(cpu, 0, sizeof(emu_ram));
	enum cpu_exit e = cpu__run(cpu, 1000);
	CU_ASSERT(e == CPU_EXIT_HALT_DEAD || e == CPU_EXIT_HALT);
}

/* #MF through the IDT: reported at the FWAIT after the faulting FDIVP,
 * with the FWAIT's address pushed (fault semantics). */
static void test_mf_delivery(void)
{
	static const uint8_t prog[] = {
		0xd9, 0x2d, 0x00, 0x00, 0x01, 0x00,	/* fldcw [0x10000] */
		0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9,	/* fld1 fldz fdivp */
		0x9b,					/* fwait: #MF */
		0xf4,
	};
	static const uint8_t mf[] = { 0xdf, 0xe0, 0xdb, 0xe2, 0xf4 };
	struct cpu *cpu = idt_cpu(0x3000);
	uint16_t cw = 0x037f & ~FCW_ZM;
	memcpy(emu_ram + GUEST_DATA, &cw, 2);
	memcpy(emu_ram + 0x3000 + 16 * EXC_MF, mf, sizeof(mf));
	run_prog(cpu, prog, sizeof(prog));
	CU_ASSERT_EQUAL(cpu->nexc[EXC_MF], 1);
	CU_ASSERT_EQUAL(cpu->r[R_EAX] & (FSW_ZE | FSW_ES), FSW_ZE | FSW_ES);
	CU_ASSERT_EQUAL(stack_word(cpu, 0), GUEST_CODE + 12);	/* the fwait */
	CU_ASSERT_EQUAL(cpu->fpu.fsw & FSW_ES, 0);		/* fnclex ran */
}

/* #XM for an unmasked SIMD exception, EIP of the DIVSS pushed. */
static void test_xm_delivery(void)
{
	static const uint8_t prog[] = {
		0x0f, 0xae, 0x15, 0x04, 0x00, 0x01, 0x00,	/* ldmxcsr */
		0x0f, 0x57, 0xc9,				/* xorps x1,x1 */
		0xf3, 0x0f, 0x10, 0x05, 0x08, 0x00, 0x01, 0x00,	/* movss x0 */
		0xf3, 0x0f, 0x5e, 0xc1,				/* divss */
		0xf4,
	};
	static const uint8_t xm[] = { 0x0f, 0xae, 0x1d, 0x10, 0x00, 0x01, 0x00,
				      0xf4 };			/* stmxcsr */
	struct cpu *cpu = idt_cpu(0x3000);
	uint32_t mx = MXCSR_DEFAULT & ~(FSW_ZE << 7), one = 0x3f800000;
	memcpy(emu_ram + GUEST_DATA + 4, &mx, 4);
	memcpy(emu_ram + GUEST_DATA + 8, &one, 4);
	memcpy(emu_ram + 0x3000 + 16 * EXC_XM, xm, sizeof(xm));
	run_prog(cpu, prog, sizeof(prog));
	CU_ASSERT_EQUAL(cpu->nexc[EXC_XM], 1);
	CU_ASSERT_EQUAL(stack_word(cpu, 0), GUEST_CODE + 18);
	memcpy(&mx, emu_ram + GUEST_DATA + 16, 4);
	CU_ASSERT(mx & FSW_ZE);
	CU_ASSERT_EQUAL(cpu->fpu.xmm[0].d[0], one);
}

/* Lazy FPU switching: CR0.TS gives #NM, the handler does CLTS; IRET and
 * the FLD1 runs again (the interpreter's check, the fpu's execution). */
static void test_nm_lazy(void)
{
	static const uint8_t prog[] = { 0xd9, 0xe8, 0xf4 };	/* fld1; hlt */
	static const uint8_t nm[] = { 0x0f, 0x06, 0xcf };	/* clts; iret */
	struct cpu *cpu = idt_cpu(0x3000);
	cpu->cr0 |= CR0_TS;
	memcpy(emu_ram + 0x3000 + 16 * EXC_NM, nm, sizeof(nm));
	run_prog(cpu, prog, sizeof(prog));
	CU_ASSERT_EQUAL(cpu->nexc[EXC_NM], 1);
	CU_ASSERT_EQUAL(x87_top(&cpu->fpu), 7);
	CU_ASSERT_EQUAL(x87_st(&cpu->fpu, 0).se, 0x3fff);
}

static CU_TestInfo fpu_exc_tests[] = {
	{ "#MF delivered through the IDT at FWAIT", test_mf_delivery },
	{ "#XM delivered through the IDT", test_xm_delivery },
	{ "#NM with CR0.TS, CLTS, FPU instruction restarted", test_nm_lazy },
	{ "x87 unmasked ZE: no result, #MF at next wait", test_x87_unmasked_zdiv },
	{ "x87 unmasked OE: bias-adjusted, no store", test_x87_unmasked_overflow },
	{ "x87 unmasked UE: bias-adjusted result", test_x87_unmasked_underflow },
	{ "x87 unmasked stack overflow", test_x87_unmasked_stack },
	{ "sse unmasked: #XM, #UD without OSXMMEXCPT", test_sse_unmasked },
	{ "OSFXSR gating, alignment, MXCSR reserved", test_gating_and_faults },
	{ "x87+SSE program through cpu__run", test_through_interpreter },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(fpu_exc, .tests = fpu_exc_tests);
