/* tests/unit/test_fpu_simd.c — MMX, SSE and SSE2 instruction sequences
 * executed natively and through fpu__exec from the same random state,
 * compared through FXSAVE, memory, EAX and EFLAGS. RCPPS/RSQRTPS, whose
 * exact values are unpublished, are checked against their error bound. */
#include "tests/unit/unit.h"
#include "tests/unit/fpu_run.h"

#include <math.h>

SNIPPET(sse_ps,
	"ldmxcsr 0x44(%rdx)\n\taddps %xmm1, %xmm0\n\tsubps 0x110(%rdx), %xmm2\n\t"
	"mulps %xmm3, %xmm4\n\tdivps %xmm5, %xmm6\n\tsqrtps %xmm7, %xmm1\n\t"
	"minps %xmm2, %xmm3\n\tmaxps 0x120(%rdx), %xmm5\n\t"
	"addss %xmm0, %xmm7\n\tsubss 0x30(%rdx), %xmm6\n\tmulss %xmm5, %xmm4\n\t"
	"divss 0x34(%rdx), %xmm3\n\tsqrtss %xmm2, %xmm1\n\t"
	"minss %xmm0, %xmm1\n\tmaxss 0x30(%rdx), %xmm0\n\tstmxcsr 0x60(%rdx)");

SNIPPET(sse_pd,
	"ldmxcsr 0x44(%rdx)\n\tmovapd 0x180(%rdx), %xmm0\n\t"
	"movapd 0x190(%rdx), %xmm1\n\tmovapd 0x1a0(%rdx), %xmm2\n\t"
	"movupd 0x1b0(%rdx), %xmm3\n\taddpd %xmm1, %xmm0\n\t"
	"subpd 0x190(%rdx), %xmm2\n\tmulpd %xmm3, %xmm4\n\t"
	"divpd %xmm1, %xmm3\n\tsqrtpd %xmm2, %xmm5\n\tminpd %xmm1, %xmm2\n\t"
	"maxpd 0x1a0(%rdx), %xmm1\n\taddsd %xmm0, %xmm7\n\t"
	"subsd 0x20(%rdx), %xmm6\n\tmulsd %xmm3, %xmm4\n\t"
	"divsd 0x28(%rdx), %xmm3\n\tsqrtsd %xmm2, %xmm6\n\t"
	"minsd %xmm0, %xmm1\n\tmaxsd 0x20(%rdx), %xmm0");

SNIPPET(sse_cmp,
	"ldmxcsr 0x44(%rdx)\n\tcmpps $0, %xmm1, %xmm0\n\tcmpps $1, %xmm2, %xmm1\n\t"
	"cmpps $2, 0x100(%rdx), %xmm2\n\tcmpps $3, %xmm4, %xmm3\n\t"
	"cmpps $4, %xmm5, %xmm4\n\tcmpps $5, %xmm6, %xmm5\n\t"
	"cmpps $6, %xmm7, %xmm6\n\tcmpps $7, %xmm0, %xmm7\n\t"
	"movapd 0x180(%rdx), %xmm0\n\tcmppd $1, 0x190(%rdx), %xmm0\n\t"
	"movapd 0x1a0(%rdx), %xmm1\n\tcmpsd $6, 0x1b0(%rdx), %xmm1\n\t"
	"movss 0x30(%rdx), %xmm2\n\tcmpss $2, 0x34(%rdx), %xmm2\n\t"
	"movss 0x34(%rdx), %xmm3\n\tcomiss 0x30(%rdx), %xmm3\n\t"
	"ucomiss 0x104(%rdx), %xmm3\n\tmovsd 0x20(%rdx), %xmm4\n\t"
	"comisd 0x28(%rdx), %xmm4\n\tucomisd 0x180(%rdx), %xmm4\n\t"
	"stmxcsr 0x60(%rdx)");

SNIPPET(sse_cvt,
	"ldmxcsr 0x44(%rdx)\n\tcvtsi2ss 0x38(%rdx), %xmm0\n\t"
	"cvtsi2sd 0x38(%rdx), %xmm1\n\tcvtss2si %xmm2, %eax\n\t"
	"cvttss2si 0x30(%rdx), %ecx\n\t"
	"cvtsd2si 0x20(%rdx), %ecx\n\tcvttsd2si 0x28(%rdx), %ecx\n\t"
	"cvtss2sd %xmm3, %xmm4\n\tcvtsd2ss 0x180(%rdx), %xmm5\n\t"
	"cvtpi2ps 0x100(%rdx), %xmm6\n\tcvtps2pi %xmm7, %mm0\n\t"
	"cvttps2pi 0x110(%rdx), %mm1\n\tcvtpi2pd %mm0, %xmm0\n\t"
	"cvtpd2pi 0x190(%rdx), %mm2\n\tcvttpd2pi 0x1a0(%rdx), %mm3\n\t"
	"cvtdq2ps 0x120(%rdx), %xmm1\n\tcvtps2dq %xmm2, %xmm3\n\t"
	"cvttps2dq %xmm4, %xmm5\n\tcvtdq2pd %xmm6, %xmm7\n\t"
	"cvtpd2dq 0x180(%rdx), %xmm2\n\tcvttpd2dq 0x190(%rdx), %xmm4\n\t"
	"cvtps2pd %xmm1, %xmm6\n\tcvtpd2ps 0x1a0(%rdx), %xmm0\n\t"
	"stmxcsr 0x60(%rdx)");

SNIPPET(sse_mov,
	"movss 0x30(%rdx), %xmm0\n\tmovss %xmm1, %xmm2\n\tmovss %xmm3, 0x60(%rdx)\n\t"
	"movsd 0x20(%rdx), %xmm3\n\tmovsd %xmm4, %xmm5\n\tmovsd %xmm6, 0x68(%rdx)\n\t"
	"movlps 0x100(%rdx), %xmm1\n\tmovhps 0x108(%rdx), %xmm2\n\t"
	"movlps %xmm3, 0x70(%rdx)\n\tmovhps %xmm4, 0x78(%rdx)\n\t"
	"movhlps %xmm5, %xmm6\n\tmovlhps %xmm7, %xmm0\n\t"
	"movlpd 0x110(%rdx), %xmm3\n\tmovhpd 0x118(%rdx), %xmm4\n\t"
	"movmskps %xmm5, %eax\n\tmovmskpd %xmm6, %ecx\n\t"
	"andps %xmm1, %xmm2\n\tandnps 0x120(%rdx), %xmm3\n\torps %xmm4, %xmm5\n\t"
	"xorps %xmm6, %xmm7\n\tandpd %xmm0, %xmm1\n\tandnpd %xmm2, %xmm3\n\t"
	"orpd 0x130(%rdx), %xmm4\n\txorpd %xmm5, %xmm6\n\t"
	"shufps $0x1b, %xmm1, %xmm2\n\tshufps $0xc6, 0x140(%rdx), %xmm3\n\t"
	"shufpd $1, %xmm4, %xmm5\n\tshufpd $2, %xmm6, %xmm7\n\t"
	"unpcklps %xmm0, %xmm1\n\tunpckhps 0x150(%rdx), %xmm2\n\t"
	"unpcklpd %xmm3, %xmm4\n\tunpckhpd %xmm5, %xmm6\n\t"
	"movups %xmm7, 0x81(%rdx)\n\tmovaps %xmm0, 0x90(%rdx)\n\t"
	"movups 0x103(%rdx), %xmm1\n\tmovntps %xmm2, 0xa0(%rdx)\n\t"
	"movntpd %xmm3, 0xb0(%rdx)");

SNIPPET(mmx_ops,
	"movq 0x100(%rdx), %mm0\n\tmovq 0x108(%rdx), %mm1\n\tmovd 0x38(%rdx), %mm2\n\t"
	"movq 0x110(%rdx), %mm3\n\tpaddb %mm0, %mm1\n\tpaddw %mm1, %mm2\n\t"
	"paddd %mm2, %mm3\n\tpaddsb %mm3, %mm4\n\tpaddsw 0x118(%rdx), %mm5\n\t"
	"paddusb %mm5, %mm6\n\tpaddusw %mm6, %mm7\n\tpsubb %mm7, %mm0\n\t"
	"psubw %mm0, %mm1\n\tpsubd %mm1, %mm2\n\tpsubsb %mm2, %mm3\n\t"
	"psubsw %mm3, %mm4\n\tpsubusb %mm4, %mm5\n\tpsubusw %mm5, %mm6\n\t"
	"pmullw %mm6, %mm7\n\tpmulhw %mm7, %mm0\n\tpmaddwd %mm0, %mm1\n\t"
	"pand %mm1, %mm2\n\tpandn %mm2, %mm3\n\tpor %mm3, %mm4\n\t"
	"pxor %mm4, %mm5\n\tpcmpeqb %mm5, %mm6\n\tpcmpeqw %mm6, %mm7\n\t"
	"pcmpeqd %mm7, %mm0\n\tpcmpgtb %mm0, %mm1\n\tpcmpgtw %mm1, %mm2\n\t"
	"pcmpgtd %mm2, %mm3\n\tpacksswb %mm3, %mm4\n\tpackssdw %mm4, %mm5\n\t"
	"packuswb %mm5, %mm6\n\tpunpcklbw %mm6, %mm7\n\tpunpcklwd %mm7, %mm0\n\t"
	"punpckldq %mm0, %mm1\n\tpunpckhbw %mm1, %mm2\n\tpunpckhwd %mm2, %mm3\n\t"
	"punpckhdq 0x120(%rdx), %mm4\n\tpsllw $3, %mm5\n\tpslld %mm0, %mm6\n\t"
	"psllq $17, %mm7\n\tpsrlw $9, %mm0\n\tpsrld 0x128(%rdx), %mm1\n\t"
	"psrlq $40, %mm2\n\tpsraw $5, %mm3\n\tpsrad $31, %mm4\n\t"
	"pavgb %mm4, %mm5\n\tpavgw %mm5, %mm6\n\tpminub %mm6, %mm7\n\t"
	"pmaxub %mm7, %mm0\n\tpminsw %mm0, %mm1\n\tpmaxsw %mm1, %mm2\n\t"
	"pmulhuw %mm2, %mm3\n\tpsadbw %mm3, %mm4\n\tpshufw $0x1b, %mm4, %mm5\n\t"
	"pextrw $2, %mm5, %eax\n\tpinsrw $1, 0x3c(%rdx), %mm6\n\t"
	"pinsrw $3, %eax, %mm7\n\tpmovmskb %mm7, %ecx\n\tpmuludq %mm1, %mm2\n\t"
	"paddq %mm2, %mm3\n\tpsubq %mm3, %mm4\n\tmovd %mm5, 0x60(%rdx)\n\t"
	"movq %mm6, 0x68(%rdx)\n\tmovntq %mm7, 0x70(%rdx)\n\tmovd %mm1, %ecx\n\t"
	"movq2dq %mm2, %xmm0\n\tmovdq2q %xmm1, %mm3");

SNIPPET(mmx_emms, "movq 0x100(%rdx), %mm0\n\tpaddb %mm0, %mm1\n\temms\n\t"
	"fldt (%rdx)\n\tfstpt 0x60(%rdx)");

SNIPPET(sse2_int,
	"movdqa 0x100(%rdx), %xmm0\n\tmovdqu 0x113(%rdx), %xmm1\n\t"
	"paddb %xmm0, %xmm1\n\tpaddw %xmm1, %xmm2\n\tpaddd 0x120(%rdx), %xmm3\n\t"
	"paddq %xmm3, %xmm4\n\tpsubb %xmm4, %xmm5\n\tpsubq %xmm5, %xmm6\n\t"
	"paddsb %xmm6, %xmm7\n\tpaddusw %xmm7, %xmm0\n\tpsubsw %xmm0, %xmm1\n\t"
	"psubusb %xmm1, %xmm2\n\tpmullw %xmm2, %xmm3\n\tpmulhw %xmm3, %xmm4\n\t"
	"pmulhuw %xmm4, %xmm5\n\tpmuludq %xmm5, %xmm6\n\tpmaddwd %xmm6, %xmm7\n\t"
	"pand %xmm7, %xmm0\n\tpandn %xmm0, %xmm1\n\tpor %xmm1, %xmm2\n\t"
	"pxor %xmm2, %xmm3\n\tpcmpeqb %xmm3, %xmm4\n\tpcmpgtw %xmm4, %xmm5\n\t"
	"pcmpgtd %xmm5, %xmm6\n\tpacksswb %xmm6, %xmm7\n\tpackssdw %xmm7, %xmm0\n\t"
	"packuswb %xmm0, %xmm1\n\tpunpcklbw %xmm1, %xmm2\n\tpunpckhwd %xmm2, %xmm3\n\t"
	"punpckldq %xmm3, %xmm4\n\tpunpckhqdq %xmm4, %xmm5\n\t"
	"punpcklqdq %xmm5, %xmm6\n\tpsllw $4, %xmm7\n\tpsrld %xmm0, %xmm1\n\t"
	"psraw $3, %xmm2\n\tpsrlq $33, %xmm3\n\tpslldq $5, %xmm4\n\t"
	"psrldq $11, %xmm5\n\tpavgb %xmm5, %xmm6\n\tpminub %xmm6, %xmm7\n\t"
	"pmaxsw %xmm7, %xmm0\n\tpsadbw %xmm0, %xmm1\n\tpshufd $0x39, %xmm1, %xmm2\n\t"
	"pshufhw $0x1b, %xmm2, %xmm3\n\tpshuflw $0xb1, %xmm3, %xmm4\n\t"
	"pextrw $6, %xmm4, %eax\n\tpinsrw $5, %eax, %xmm5\n\t"
	"pmovmskb %xmm5, %ecx\n\tmovd %xmm6, %ecx\n\tmovd 0x38(%rdx), %xmm7\n\t"
	"movq 0x20(%rdx), %xmm0\n\tmovq %xmm1, %xmm2\n\tmovq %xmm3, 0x60(%rdx)\n\t"
	"movdqa %xmm4, 0x70(%rdx)\n\tmovdqu %xmm5, 0x81(%rdx)\n\t"
	"movntdq %xmm6, 0x90(%rdx)\n\tmovd %xmm7, 0xa0(%rdx)");

static const struct snip simd_snips[] = {
	SNIP(sse_ps), SNIP(sse_pd), SNIP(sse_cmp), SNIP(sse_cvt), SNIP(sse_mov),
	SNIP(mmx_ops), SNIP(mmx_emms), SNIP(sse2_int),
};

static void run_one(int k, int iters)
{
	CU_ASSERT_EQUAL(fpu_run_compare(&simd_snips[k], iters,
					strstr(simd_snips[k].name, "cmp") != NULL),
			0);
}

static void test_sse_ps(void) { run_one(0, 3000); }
static void test_sse_pd(void) { run_one(1, 3000); }
static void test_sse_cmp(void) { run_one(2, 3000); }
static void test_sse_cvt(void) { run_one(3, 3000); }
static void test_sse_mov(void) { run_one(4, 1000); }
static void test_mmx(void) { run_one(5, 1000); run_one(6, 200); }
static void test_sse2_int(void) { run_one(7, 1000); }

/* RCPPS/RSQRTPS against exact values: |relative error| <= 1.5 * 2^-12. */
static void test_rcp_rsqrt(void)
{
	struct cpu *cpu = emu_cpu();
	static const uint8_t rcp[] = { 0x0f, 0x53, 0xc1 };	/* rcpps */
	static const uint8_t rsq[] = { 0x0f, 0x52, 0xc1 };	/* rsqrtps */
	int bad = 0;
	for (int it = 0; it < 20000; it++) {
		uint32_t v = orc_f32(127) & 0x7fffffff;
		int e = (int)((v >> 23) & 0xff);
		if (e == 0 || e >= 253)
			continue;		/* denormal/huge: flushed results */
		float f;
		memcpy(&f, &v, 4);
		for (int which = 0; which < 2; which++) {
			size_t at;
			memcpy(cpu->fpu.xmm[1].b, &v, 4);
			emu_exec(cpu, which ? rsq : rcp, 3, &at);
			float r;
			memcpy(&r, cpu->fpu.xmm[0].b, 4);
			long double exact = which ? 1.0L / sqrtl(f) : 1.0L / f;
			long double err = (r - exact) / exact;
			if (err < 0)
				err = -err;
			if (err > 1.5L / 4096 && bad++ < 5)
				printf("\n  %s(%a) = %a, exact %La", which ? "rsqrt" :
				       "rcp", f, r, exact);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Prints how much the host oracle covered (a count, not a check). */
static void test_count(void)
{
	printf(" [oracle: %u instruction forms, %u snippet runs compared] ",
	       form_count, runs_compared);
	CU_ASSERT(form_count > 0);
}

static CU_TestInfo fpu_simd_tests[] = {
	{ "sse packed/scalar single arithmetic vs host", test_sse_ps },
	{ "sse2 packed/scalar double arithmetic vs host", test_sse_pd },
	{ "cmpps/cmppd/comis/ucomis vs host", test_sse_cmp },
	{ "sse/sse2 conversions vs host", test_sse_cvt },
	{ "sse moves, logic, shuffles vs host", test_sse_mov },
	{ "mmx and sse-integer on mmx vs host", test_mmx },
	{ "sse2 128-bit integer vs host", test_sse2_int },
	{ "rcpps/rsqrtps error bound", test_rcp_rsqrt },
	{ "forms covered", test_count },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(fpu_simd, .tests = fpu_simd_tests);
