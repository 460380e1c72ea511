/* tests/unit/test_fpu_x87.c — x87 instruction sequences executed natively
 * and through fpu__exec from the same random state (stack faults included:
 * the random tags leave registers empty or full), compared through FXSAVE,
 * the memory they store and FNSTSW/FCOMI results. */
#include "tests/unit/unit.h"
#include "tests/unit/fpu_run.h"

#include <stdio.h>

SNIPPET(x87_ldst,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfsts 0x60(%rdx)\n\t"
	"fstl 0x64(%rdx)\n\tfistl 0x6c(%rdx)\n\tfists 0x70(%rdx)\n\t"
	"fistpll 0x74(%rdx)\n\tflds 0x30(%rdx)\n\tfstpt 0x80(%rdx)\n\t"
	"fldl 0x20(%rdx)\n\tfstpt 0x90(%rdx)\n\tfildl 0x38(%rdx)\n\t"
	"filds 0x3c(%rdx)\n\tfildll 0x48(%rdx)\n\tfstpt 0xa0(%rdx)\n\t"
	"fstps 0xaa(%rdx)\n\tfstpl 0xb0(%rdx)\n\tfbld 0x50(%rdx)\n\t"
	"fld %st(0)\n\tfbstp 0xc0(%rdx)\n\tfldt 0x10(%rdx)\n\t"
	"fbstp 0xd0(%rdx)\n\tfldt 0x10(%rdx)\n\tfistpl 0xe0(%rdx)\n\t"
	"fldt (%rdx)\n\tfistps 0xe4(%rdx)\n\tfstp %st(3)\n\tfst %st(2)");

SNIPPET(x87_arith_mem,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfadds 0x30(%rdx)\n\t"
	"fsubl 0x20(%rdx)\n\tfmuls 0x34(%rdx)\n\tfdivl 0x28(%rdx)\n\t"
	"fsubrs 0x30(%rdx)\n\tfdivrl 0x20(%rdx)\n\tfstpt 0x60(%rdx)\n\t"
	"fldt 0x10(%rdx)\n\tfiaddl 0x38(%rdx)\n\tfimuls 0x3c(%rdx)\n\t"
	"fisubl 0x38(%rdx)\n\tfidivrs 0x3c(%rdx)\n\tfidivl 0x38(%rdx)\n\t"
	"fisubrs 0x3c(%rdx)\n\tfstpt 0x70(%rdx)\n\tfldl 0x28(%rdx)\n\t"
	"fdivs 0x34(%rdx)\n\tfmull 0x20(%rdx)\n\tfstpt 0x80(%rdx)");

SNIPPET(x87_arith_reg,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfldt 0x10(%rdx)\n\t"
	"fadd %st(1), %st\n\tfadd %st, %st(1)\n\tfsub %st(2), %st\n\t"
	"fsubr %st, %st(3)\n\tfmul %st(3), %st\n\tfdiv %st(1), %st\n\t"
	"fdivr %st(2), %st\n\tfsubr %st(1), %st\n\tfsub %st, %st(2)\n\t"
	"fdiv %st, %st(1)\n\tfdivr %st, %st(1)\n\tfmul %st, %st(4)\n\t"
	"faddp\n\tfsubp\n\tfsubrp\n\tfmulp %st, %st(2)\n\tfdivp\n\t"
	"fdivrp %st, %st(3)\n\tfstpt 0x60(%rdx)");

SNIPPET(x87_cmp,
	"fldcw 0x40(%rdx)\n\tfldt 0x10(%rdx)\n\tfldt (%rdx)\n\t"
	"fcom %st(1)\n\tfnstsw 0x60(%rdx)\n\tfucom %st(1)\n\t"
	"fnstsw 0x62(%rdx)\n\tfcoms 0x30(%rdx)\n\tfnstsw 0x64(%rdx)\n\t"
	"fcoml 0x20(%rdx)\n\tfnstsw 0x66(%rdx)\n\tficoml 0x38(%rdx)\n\t"
	"fnstsw 0x68(%rdx)\n\tftst\n\tfnstsw 0x6a(%rdx)\n\tfxam\n\t"
	"fnstsw 0x6c(%rdx)\n\tficoms 0x3c(%rdx)\n\tfnstsw 0x6e(%rdx)\n\t"
	"fcom %st(3)\n\tfnstsw 0x70(%rdx)\n\tfxch %st(3)\n\tfxam\n\t"
	"fnstsw 0x72(%rdx)\n\tfucomi %st(1), %st\n\tfnstsw %ax");

SNIPPET(x87_cmp2,
	"fldcw 0x40(%rdx)\n\tfldt 0x10(%rdx)\n\tfldt (%rdx)\n\t"
	"fcomi %st(1), %st\n\tfnstsw 0x60(%rdx)\n\tfcomip %st(1), %st\n\t"
	"fldl 0x20(%rdx)\n\tfcomps 0x30(%rdx)\n\tfnstsw 0x62(%rdx)\n\t"
	"fldl 0x28(%rdx)\n\tfucomp %st(2)\n\tfnstsw 0x64(%rdx)\n\t"
	"fldt (%rdx)\n\tfucompp\n\tfnstsw 0x66(%rdx)\n\tfldt (%rdx)\n\t"
	"fcompp\n\tfnstsw 0x68(%rdx)\n\tfld1\n\tficompl 0x38(%rdx)\n\t"
	"fnstsw 0x6a(%rdx)\n\tfldt 0x10(%rdx)\n\tfldt (%rdx)\n\t"
	"fucomip %st(1), %st\n\tfnstsw %ax");

SNIPPET(x87_fcmov,
	"fldcw 0x40(%rdx)\n\tfldt 0x10(%rdx)\n\tfldt (%rdx)\n\t"
	"fucomi %st(1), %st\n\tfld1\n\tfldz\n\tfcmovb %st(1), %st\n\t"
	"fstpt 0x60(%rdx)\n\tfldz\n\tfcmove %st(1), %st\n\t"
	"fstpt 0x70(%rdx)\n\tfldz\n\tfcmovbe %st(1), %st\n\t"
	"fstpt 0x80(%rdx)\n\tfldz\n\tfcmovu %st(1), %st\n\t"
	"fstpt 0x90(%rdx)\n\tfldz\n\tfcmovnb %st(1), %st\n\t"
	"fstpt 0xa0(%rdx)\n\tfldz\n\tfcmovne %st(1), %st\n\t"
	"fstpt 0xb0(%rdx)\n\tfldz\n\tfcmovnbe %st(1), %st\n\t"
	"fstpt 0xc0(%rdx)\n\tfldz\n\tfcmovnu %st(1), %st\n\t"
	"fstpt 0xd0(%rdx)");

SNIPPET(x87_misc,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfrndint\n\tfstpt 0x60(%rdx)\n\t"
	"fldt (%rdx)\n\tfsqrt\n\tfstpt 0x70(%rdx)\n\tfldt 0x10(%rdx)\n\t"
	"fldt (%rdx)\n\tfscale\n\tfstpt 0x80(%rdx)\n\tfldt (%rdx)\n\t"
	"fprem\n\tfnstsw 0x90(%rdx)\n\tfstpt 0x92(%rdx)\n\tfldt (%rdx)\n\t"
	"fprem1\n\tfnstsw 0x9c(%rdx)\n\tfstpt 0xa0(%rdx)\n\t"
	"fstp %st(0)\n\tfldt (%rdx)\n\tfxtract\n\tfstpt 0xb0(%rdx)\n\t"
	"fstpt 0xc0(%rdx)\n\tfldt 0x10(%rdx)\n\tfchs\n\tfabs\n\t"
	"fxch %st(2)\n\tfldpi\n\tfldl2t\n\tfldl2e\n\tfldlg2\n\tfldln2\n\t"
	"fld1\n\tfldz\n\tffree %st(3)\n\tfincstp\n\tfdecstp\n\tfnop");

SNIPPET(x87_env,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfadds 0x30(%rdx)\n\t"
	"fnstenv 0x200(%rdx)\n\tfldenv 0x200(%rdx)\n\tfnstcw 0x60(%rdx)\n\t"
	"fnsave 0x240(%rdx)\n\tfnstsw 0x62(%rdx)\n\tfnstcw 0x64(%rdx)\n\t"
	"fldz\n\tfrstor 0x240(%rdx)\n\tfnclex\n\tfnstsw 0x66(%rdx)\n\t"
	"fxsave 0x300(%rdx)\n\tfninit\n\tfxrstor 0x300(%rdx)\n\t"
	"fwait");

/* The 16-bit (operand-size prefix) protected-mode environment formats. */
SNIPPET(x87_env16,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfadds 0x30(%rdx)\n\t"
	".byte 0x66\n\tfnstenv 0x280(%rdx)\n\t.byte 0x66\n\t"
	"fldenv 0x280(%rdx)\n\tfnstcw 0x60(%rdx)\n\t.byte 0x66\n\t"
	"fnsave 0x2a0(%rdx)\n\tfnstsw 0x62(%rdx)\n\tfldz\n\t"
	".byte 0x66\n\tfrstor 0x2a0(%rdx)\n\tfwait");

/* Undocumented aliases (FXCH4/7, FCOMP3/5, FCOM2, FSTP1/8/9, FFREEP). */
SNIPPET(x87_alias,
	"fldcw 0x40(%rdx)\n\tfldt (%rdx)\n\tfldt 0x10(%rdx)\n\t"
	".byte 0xdd, 0xc9, 0xdf, 0xca, 0xdc, 0xd1\n\tfnstsw 0x60(%rdx)\n\t"
	".byte 0xdc, 0xda\n\tfnstsw 0x62(%rdx)\n\t.byte 0xde, 0xd3\n\t"
	"fnstsw 0x64(%rdx)\n\tfldpi\n\t.byte 0xd9, 0xda, 0xdf, 0xd1, 0xdf, 0xd9\n\t"
	"fld1\n\t.byte 0xdf, 0xc1");

static const struct snip x87_snips[] = {
	SNIP(x87_ldst), SNIP(x87_arith_mem), SNIP(x87_arith_reg),
	SNIP(x87_cmp), SNIP(x87_cmp2), SNIP(x87_fcmov), SNIP(x87_misc),
	SNIP(x87_env), SNIP(x87_env16), SNIP(x87_alias),
};

static void run_set(const struct snip *set, int n, int iters)
{
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += fpu_run_compare(&set[i], iters,
				       strstr(set[i].name, "cmp") ||
				       strstr(set[i].name, "fcmov"));
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_x87_ldst(void) { run_set(&x87_snips[0], 1, 3000); }
static void test_x87_arith(void) { run_set(&x87_snips[1], 2, 3000); }
static void test_x87_cmp(void) { run_set(&x87_snips[3], 3, 3000); }
static void test_x87_misc(void)
{
	run_set(&x87_snips[6], 1, 3000);
	run_set(&x87_snips[9], 1, 2000);
}
static void test_x87_env(void) { run_set(&x87_snips[7], 2, 2000); }

/* Prints how much the host oracle covered (a count, not a check). */
static void test_count(void)
{
	printf(" [oracle: %u instruction forms, %u snippet runs compared] ",
	       form_count, runs_compared);
	CU_ASSERT(form_count > 0);
}

static CU_TestInfo fpu_x87_tests[] = {
	{ "loads/stores all formats vs host", test_x87_ldst },
	{ "arithmetic mem/reg forms vs host", test_x87_arith },
	{ "compares, fxam, fcomi, fcmov vs host", test_x87_cmp },
	{ "frndint/fsqrt/fscale/fprem/fxtract/consts", test_x87_misc },
	{ "fnstenv/fldenv/fnsave/frstor/fxsave/fxrstor", test_x87_env },
	{ "forms covered", test_count },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(fpu_x87, .tests = fpu_x87_tests);
