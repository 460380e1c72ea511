/* tests/unit/test_fpu_sf.c — the soft-float core against the host CPU:
 * x87 add/sub/mul/div/sqrt under every rounding and precision control, SSE
 * scalar single/double arithmetic under every rounding mode with FZ/DAZ,
 * bit for bit, flags included. */
#include "tests/unit/unit.h"
#include "tests/unit/fpu_oracle.h"
#include "monitor/fpu_int.h"

#include <string.h>

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT, OP_NOPS };
static const char *const op_name[] = { "add", "sub", "mul", "div", "sqrt" };

/* Host x87: a op b with control word cw; returns the result, *sw the status
 * word. Operands are loaded with FLD m80 (which raises nothing). */
static struct fpu_reg80 host_x87(int op, struct fpu_reg80 a,
				 struct fpu_reg80 b, uint16_t cw, uint16_t *sw)
{
	long double x = 0, y = 0, r;
	struct fpu_reg80 out;
	uint16_t s;

	memcpy(&x, &a, 10);
	memcpy(&y, &b, 10);
#define X87(insn)                                                        \
	__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[y]\n\tfldt %[x]\n\t" \
			 insn "\n\tfnstsw %[s]\n\tfstpt %[r]\n\tfstp %%st(0)" \
			 : [r] "=m"(r), [s] "=m"(s)                      \
			 : [x] "m"(x), [y] "m"(y), [cw] "m"(cw))
	switch (op) {
	case OP_ADD: X87("fadd %%st(1), %%st"); break;
	case OP_SUB: X87("fsub %%st(1), %%st"); break;
	case OP_MUL: X87("fmul %%st(1), %%st"); break;
	case OP_DIV: X87("fdiv %%st(1), %%st"); break;
	default: X87("fsqrt"); break;
	}
#undef X87
	memcpy(&out, &r, 10);
	out.se = (uint16_t)out.se;
	*sw = s;
	return out;
}

static struct fpu_reg80 soft_x87(int op, struct fpu_reg80 a,
				 struct fpu_reg80 b, uint16_t cw, uint16_t *sw)
{
	struct sf_ctx c = { .rc = (cw >> 10) & 3, .adj = true,
			    .masks = cw & 0x3f };
	const struct sf_fmt *f = sf_x87_fmt((cw >> 8) & 3);
	struct sf_val x = sf_from80(a), y = sf_from80(b), r;

	switch (op) {
	case OP_ADD: r = sf_add(&c, f, x, y, false); break;
	case OP_SUB: r = sf_add(&c, f, x, y, true); break;
	case OP_MUL: r = sf_mul(&c, f, x, y); break;
	case OP_DIV: r = sf_div(&c, f, x, y); break;
	default: r = sf_sqrt(&c, f, x); break;
	}
	*sw = c.flags | ((c.flags & FSW_PE) && c.up ? FSW_C1 : 0);
	return sf_to80(r);
}

static int x87_case(int op, struct fpu_reg80 a, struct fpu_reg80 b,
		    uint16_t cw, int *shown)
{
	uint16_t hs, ss;
	struct fpu_reg80 h = host_x87(op, a, b, cw, &hs);
	struct fpu_reg80 s = soft_x87(op, a, b, cw, &ss);
	hs &= 0x3f | FSW_C1;
	if (h.m == s.m && h.se == s.se && hs == ss)
		return 0;
	if ((*shown)++ < 8)
		printf("\n  x87 %s cw=%04x a=%04x:%016llx b=%04x:%016llx "
		       "host=%04x:%016llx sw=%03x soft=%04x:%016llx sw=%03x",
		       op_name[op], cw, a.se, (unsigned long long)a.m, b.se,
		       (unsigned long long)b.m, h.se, (unsigned long long)h.m,
		       hs, s.se, (unsigned long long)s.m, ss);
	return 1;
}

static void x87_op(int op, int n)
{
	int bad = 0, shown = 0;
	static const uint16_t pcs[] = { 0x000, 0x100, 0x200, 0x300 };

	for (int i = 0; i < n; i++) {
		struct fpu_reg80 a = orc_f80(16383 + (int)(orc_rand() % 64) - 32);
		int near = a.se & 0x7fff;
		if (op == OP_MUL || op == OP_DIV)
			near = (int)(orc_rand() % 0x7fff);
		struct fpu_reg80 b = orc_f80(near);
		uint16_t cw = 0x3f | pcs[orc_rand() % 4] |
			      (uint16_t)((orc_rand() & 3) << 10);
		bad += x87_case(op, a, b, cw, &shown);
	}
	if (bad)
		printf("\n  x87 %s: %d of %d differ", op_name[op], bad, n);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_x87_add(void) { x87_op(OP_ADD, 200000); }
static void test_x87_sub(void) { x87_op(OP_SUB, 200000); }
static void test_x87_mul(void) { x87_op(OP_MUL, 200000); }
static void test_x87_div(void) { x87_op(OP_DIV, 200000); }
static void test_x87_sqrt(void) { x87_op(OP_SQRT, 100000); }

/* Host SSE scalar op, single (dbl = 0) or double precision. */
static uint64_t host_sse(int op, int dbl, uint64_t a, uint64_t b,
			 uint32_t mxcsr, uint32_t *out_mxcsr)
{
	uint64_t r = a;
	uint32_t m;

#define SSE(insn)                                                         \
	__asm__ volatile("ldmxcsr %[mi]\n\tmovq %[r], %%xmm0\n\t"          \
			 "movq %[b], %%xmm1\n\t" insn " %%xmm1, %%xmm0\n\t"\
			 "movq %%xmm0, %[r]\n\tstmxcsr %[mo]"              \
			 : [r] "+r"(r), [mo] "=m"(m)                       \
			 : [b] "r"(b), [mi] "m"(mxcsr) : "xmm0", "xmm1")
	if (dbl) {
		switch (op) {
		case OP_ADD: SSE("addsd"); break;
		case OP_SUB: SSE("subsd"); break;
		case OP_MUL: SSE("mulsd"); break;
		case OP_DIV: SSE("divsd"); break;
		default: SSE("sqrtsd"); break;
		}
	} else {
		switch (op) {
		case OP_ADD: SSE("addss"); break;
		case OP_SUB: SSE("subss"); break;
		case OP_MUL: SSE("mulss"); break;
		case OP_DIV: SSE("divss"); break;
		default: SSE("sqrtss"); break;
		}
		r &= 0xffffffffu;
	}
#undef SSE
	*out_mxcsr = m;
	return r;
}

static uint64_t soft_sse(int op, int dbl, uint64_t a, uint64_t b,
			 uint32_t mxcsr, uint32_t *flags)
{
	bool daz = mxcsr & MXCSR_DAZ;
	struct sf_ctx c = { .rc = (mxcsr >> 13) & 3, .sse = true,
			    .ftz = mxcsr & MXCSR_FZ,
			    .masks = (mxcsr >> 7) & 0x3f };
	const struct sf_fmt *f = dbl ? &sf_f64 : &sf_f32;
	struct sf_val x = dbl ? sf_from64(a, daz) : sf_from32((uint32_t)a, daz);
	struct sf_val y = dbl ? sf_from64(b, daz) : sf_from32((uint32_t)b, daz);
	struct sf_val r;

	switch (op) {
	case OP_ADD: r = sf_add(&c, f, x, y, false); break;
	case OP_SUB: r = sf_add(&c, f, x, y, true); break;
	case OP_MUL: r = sf_mul(&c, f, x, y); break;
	case OP_DIV: r = sf_div(&c, f, x, y); break;
	default: r = sf_sqrt(&c, f, y); break;
	}
	*flags = c.flags;
	return dbl ? sf_to64(r) : sf_to32(r);
}

static void sse_op(int op, int dbl, int n)
{
	int bad = 0, shown = 0;

	for (int i = 0; i < n; i++) {
		int mid = dbl ? 1023 : 127;
		uint64_t a = dbl ? orc_f64(mid) : orc_f32(mid);
		int near = (int)((a >> (dbl ? 52 : 23)) & (dbl ? 0x7ff : 0xff));
		if (op == OP_MUL || op == OP_DIV)
			near = (int)(orc_rand() % (dbl ? 0x7ff : 0xff));
		uint64_t b = dbl ? orc_f64(near) : orc_f32(near);
		uint32_t mx = 0x1f80 | (uint32_t)((orc_rand() & 3) << 13);
		if (orc_rand() % 4 == 0)
			mx |= MXCSR_FZ;
		if (orc_rand() % 4 == 0)
			mx |= MXCSR_DAZ;
		uint32_t hm, sfl;
		uint64_t h = host_sse(op, dbl, a, b, mx, &hm);
		uint64_t s = soft_sse(op, dbl, a, b, mx, &sfl);
		hm &= 0x3f;
		if (h == s && hm == sfl)
			continue;
		bad++;
		if (shown++ < 8)
			printf("\n  sse %s%s mx=%04x a=%llx b=%llx host=%llx/%02x "
			       "soft=%llx/%02x", op_name[op], dbl ? "sd" : "ss",
			       mx, (unsigned long long)a, (unsigned long long)b,
			       (unsigned long long)h, hm, (unsigned long long)s,
			       sfl);
	}
	if (bad)
		printf("\n  sse %s: %d of %d differ", op_name[op], bad, n);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_sse_single(void)
{
	for (int op = 0; op < OP_NOPS; op++)
		sse_op(op, 0, 60000);
}

static void test_sse_double(void)
{
	for (int op = 0; op < OP_NOPS; op++)
		sse_op(op, 1, 60000);
}

/* Two NaN operands (quiet/signaling, equal or different significands,
 * either sign) through x87 add: the propagation rule of SDM Table 4-7. */
static void test_x87_nan_pairs(void)
{
	int bad = 0, shown = 0;
	for (int i = 0; i < 20000; i++) {
		struct fpu_reg80 a, b;
		a.m = (1ull << 63) | (orc_rand() % 3 ? orc_rand() >> (orc_rand() % 63) : 0);
		b.m = orc_rand() % 3 ? a.m : (1ull << 63) | orc_rand();
		if (orc_rand() & 1)
			a.m ^= 1ull << 62;
		if (orc_rand() & 1)
			b.m ^= 1ull << 62;
		if ((a.m << 1) == 0)
			a.m |= 1;
		if ((b.m << 1) == 0)
			b.m |= 1;
		a.se = (uint16_t)(0x7fff | (orc_rand() & 1) << 15);
		b.se = (uint16_t)(0x7fff | (orc_rand() & 1) << 15);
		bad += x87_case(orc_rand() & 1 ? OP_ADD : OP_MUL, a, b, 0x37f,
				&shown);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* FPREM/FPREM1 (one step, any exponent difference) and FSCALE. */
static void test_x87_prem_scale(void)
{
	int bad = 0;
	for (int i = 0; i < 100000; i++) {
		struct fpu_reg80 a = orc_f80(16383 + (int)(orc_rand() % 400));
		struct fpu_reg80 b = orc_f80(16383 - (int)(orc_rand() % 40));
		int op = (int)(orc_rand() % 3);
		uint16_t cw = 0x37f | (uint16_t)((orc_rand() & 3) << 10), hs, ss;
		long double x = 0, y = 0, r;
		struct fpu_reg80 h, s;
		memcpy(&x, &a, 10);
		memcpy(&y, &b, 10);
		if (op == 2) {		/* fscale by a small integer-ish b */
			b = orc_f80(16383 + (int)(orc_rand() % 16));
			memcpy(&y, &b, 10);
		}
#define X2(insn) __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[y]\n\t" \
		"fldt %[x]\n\t" insn "\n\tfnstsw %[s]\n\tfstpt %[r]\n\t"   \
		"fstp %%st(0)" : [r] "=m"(r), [s] "=m"(hs)                      \
		: [x] "m"(x), [y] "m"(y), [cw] "m"(cw))
		if (op == 0)
			X2("fprem");
		else if (op == 1)
			X2("fprem1");
		else
			X2("fscale");
#undef X2
		memcpy(&h, &r, 10);
		struct sf_ctx c = { .rc = (cw >> 10) & 3, .adj = true, .masks = 0x3f };
		uint16_t cc = 0;
		struct sf_val v = op == 2 ? sf_scale(&c, sf_from80(a), sf_from80(b)) :
			sf_prem(&c, sf_from80(a), sf_from80(b), op == 1, &cc);
		s = sf_to80(v);
		ss = c.flags | cc;
		if (op == 2)
			ss |= (c.flags & FSW_PE) && c.up ? FSW_C1 : 0;
		hs &= 0x3f | FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;
		if (h.m == s.m && h.se == s.se && hs == ss)
			continue;
		if (bad++ < 8)
			printf("\n  %s a=%04x:%016llx b=%04x:%016llx host=%04x:%016llx/%04x "
			       "soft=%04x:%016llx/%04x", op == 0 ? "fprem" : op == 1 ?
			       "fprem1" : "fscale", a.se, (unsigned long long)a.m,
			       b.se, (unsigned long long)b.m, h.se,
			       (unsigned long long)h.m, hs, s.se,
			       (unsigned long long)s.m, ss);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static CU_TestInfo fpu_sf_tests[] = {
	{ "x87 NaN propagation vs host", test_x87_nan_pairs },
	{ "x87 fprem/fprem1/fscale vs host", test_x87_prem_scale },
	{ "x87 fadd vs host", test_x87_add },
	{ "x87 fsub vs host", test_x87_sub },
	{ "x87 fmul vs host", test_x87_mul },
	{ "x87 fdiv vs host", test_x87_div },
	{ "x87 fsqrt vs host", test_x87_sqrt },
	{ "sse single arith vs host", test_sse_single },
	{ "sse double arith vs host", test_sse_double },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(fpu_sf, .tests = fpu_sf_tests);
