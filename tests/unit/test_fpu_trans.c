/* tests/unit/test_fpu_trans.c — x87 transcendentals against the host x87
 * with a tolerance in units in the last place (the soft results are near
 * correctly rounded; the hardware is within about one ulp), plus exact
 * agreement on special operands, IE/ZE/DE and C2. */
#include "tests/unit/unit.h"
#include "tests/unit/fpu_run.h"
#include "monitor/fpu_int.h"

enum { T_SIN, T_COS, T_TAN, T_ATAN, T_F2XM1, T_YL2X, T_YL2XP1, T_N };
static const char *const tname[] = { "fsin", "fcos", "fptan", "fpatan",
				     "f2xm1", "fyl2x", "fyl2xp1" };

/* Host: op on (a = ST0, b = ST1); result ST0 after the op (for FPTAN the
 * tangent, i.e. ST1 after the push). */
static struct fpu_reg80 host_trans(int op, struct fpu_reg80 a,
				   struct fpu_reg80 b, uint16_t *sw)
{
	long double x = 0, y = 0, r = 0;
	uint16_t cw = 0x37f, s;
	memcpy(&x, &a, 10);
	memcpy(&y, &b, 10);
#define T(insn) __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[y]\n\t" \
		"fldt %[x]\n\t" insn "\n\tfnstsw %[s]\n\tfstpt %[r]\n\t"   \
		"fninit" : [r] "=m"(r), [s] "=m"(s)                         \
		: [x] "m"(x), [y] "m"(y), [cw] "m"(cw))
	switch (op) {
	case T_SIN: T("fsin"); break;
	case T_COS: T("fcos"); break;
	case T_TAN: T("fptan\n\tfstp %%st(0)"); break;
	case T_ATAN: T("fpatan"); break;
	case T_F2XM1: T("f2xm1"); break;
	case T_YL2X: T("fyl2x"); break;
	default: T("fyl2xp1"); break;
	}
#undef T
	struct fpu_reg80 out;
	memcpy(&out, &r, 10);
	*sw = s;
	return out;
}

static const uint8_t tcode[T_N][4] = {
	{ 0xd9, 0xfe }, { 0xd9, 0xff }, { 0xd9, 0xf2, 0xdd, 0xd8 },
	{ 0xd9, 0xf3 }, { 0xd9, 0xf0 }, { 0xd9, 0xf1 }, { 0xd9, 0xf9 },
};

static struct fpu_reg80 soft_trans(int op, struct fpu_reg80 a,
				   struct fpu_reg80 b, uint16_t *sw)
{
	static struct cpu *cpu;
	if (!cpu)
		cpu = emu_cpu();
	struct fpu_state *f = &cpu->fpu;
	size_t at;
	fpu__reset(f);
	x87_push(f, b);
	x87_push(f, a);
	emu_exec(cpu, tcode[op], op == T_TAN ? 4 : 2, &at);
	*sw = f->fsw;
	return x87_st(f, 0);
}

static struct fpu_reg80 arg(int op)
{
	struct fpu_reg80 r = orc_f80(16383);
	int e = r.se & 0x7fff;
	if (orc_rand() % 8 == 0 || e == 0 || e == 0x7fff)
		return r;		/* specials, any magnitude */
	switch (op) {
	case T_SIN: case T_COS: case T_TAN:
		e = 16383 - 70 + (int)(orc_rand() % 133);	/* < 2^63 */
		break;
	case T_F2XM1:
		e = 16383 - (int)(orc_rand() % 80);		/* |x| < 1 */
		break;
	case T_YL2XP1:
		e = 16383 - 3 - (int)(orc_rand() % 100);	/* |x| < .25 */
		break;
	case T_YL2X:
		if (orc_rand() % 3 == 0)			/* near 1 */
			return (struct fpu_reg80){ (1ull << 63) |
				(orc_rand() >> (orc_rand() % 60 + 4)),
				(uint16_t)(orc_rand() & 1 ? 16383 : 16382) };
		r.se &= 0x7fff;
		return r;
	default:
		break;
	}
	r.se = (uint16_t)((r.se & 0x8000) | e);
	return r;
}

static void run_trans(int op, int n, unsigned tol)
{
	int bad = 0, exact = 0;
	unsigned worst = 0;
	for (int i = 0; i < n; i++) {
		struct fpu_reg80 a = arg(op), b = orc_f80(16383);
		if (op == T_ATAN)
			b = orc_f80(a.se & 0x7fff);
		if (op == T_YL2X || op == T_YL2XP1)
			b = (struct fpu_reg80){ (1ull << 63) | orc_rand(),
						(uint16_t)(16383 + orc_rand() % 7) };
		uint16_t hs, ss;
		struct fpu_reg80 h = host_trans(op, a, b, &hs);
		struct fpu_reg80 s = soft_trans(op, a, b, &ss);
		uint16_t mask = FSW_IE | FSW_ZE | FSW_DE | FSW_C2;
		bool ok = (hs & mask) == (ss & mask);
		unsigned ulps = 0;
		if (ok && (h.se != s.se || h.m != s.m)) {
			bool fin = (h.se & 0x7fff) != 0x7fff &&
				   (s.se & 0x7fff) != 0x7fff;
			/* ordinal of the magnitude: exponent, then fraction */
			sf_u128 hv = ((sf_u128)(h.se & 0x7fff) << 63) |
				     (h.m & ~(1ull << 63));
			sf_u128 sv = ((sf_u128)(s.se & 0x7fff) << 63) |
				     (s.m & ~(1ull << 63));
			sf_u128 d = hv > sv ? hv - sv : sv - hv;
			ok = fin && (h.se >> 15) == (s.se >> 15) && d <= tol;
			ulps = (unsigned)(d > 1000 ? 1000 : d);
		}
		if (ok) {
			worst = ulps > worst ? ulps : worst;
			exact += ulps == 0;
			continue;
		}
		if (bad++ < 6)
			printf("\n  %s a=%04x:%016llx b=%04x:%016llx host=%04x:%016llx/%04x "
			       "soft=%04x:%016llx/%04x", tname[op], a.se,
			       (unsigned long long)a.m, b.se, (unsigned long long)b.m,
			       h.se, (unsigned long long)h.m, hs, s.se,
			       (unsigned long long)s.m, ss);
	}
	printf(" [%d/%d bit-exact] ", exact, n);
	if (bad)
		printf("\n  %s: %d of %d beyond %u ulp", tname[op], bad, n, tol);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_sin(void) { run_trans(T_SIN, 20000, 1); }
static void test_cos(void) { run_trans(T_COS, 20000, 1); }
static void test_tan(void) { run_trans(T_TAN, 20000, 1); }
static void test_atan(void) { run_trans(T_ATAN, 20000, 1); }
static void test_f2xm1(void) { run_trans(T_F2XM1, 20000, 1); }
static void test_yl2x(void) { run_trans(T_YL2X, 20000, 1); }
static void test_yl2xp1(void) { run_trans(T_YL2XP1, 20000, 1); }

static CU_TestInfo fpu_trans_tests[] = {
	{ "fsin vs host (1 ulp)", test_sin },
	{ "fcos vs host (1 ulp)", test_cos },
	{ "fptan vs host (1 ulp)", test_tan },
	{ "fpatan vs host (1 ulp)", test_atan },
	{ "f2xm1 vs host (1 ulp)", test_f2xm1 },
	{ "fyl2x vs host (1 ulp)", test_yl2x },
	{ "fyl2xp1 vs host (1 ulp)", test_yl2xp1 },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(fpu_trans, .tests = fpu_trans_tests);
