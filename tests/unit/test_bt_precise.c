/* tests/unit/test_bt_precise.c — the translator's precise state at faults
 * (tests/unit/bt-bed.h): a guest fault inside translated code must show the
 * guest the state before the faulting guest instruction — registers, flags,
 * EIP and CR2 — exactly as the interpreter (the oracle) does, for copied
 * instructions and inside every translated sequence, with and without
 * preemption. */
#include "tests/unit/bt-bed.h"
#include "tests/unit/unit.h"

#include <stdio.h>

#define NEW(name) bb__new(name##_start, (size_t)(name##_end - name##_start))

/* ---- Precise faults ------------------------------------------------------- */

BB_GUEST(g_div,
	"mov $5, %eax\n mov $0x77, %ecx\n xor %edx, %edx\n xor %ebx, %ebx\n"
	"push %eax\n cmp %eax, %ecx\n div %ebx\n hlt\n");
BB_GUEST(g_seg,
	"mov $0x48, %eax\n mov $9, %ecx\n stc\n mov %eax, %ds\n hlt\n");
BB_GUEST(g_ret_fault,
	"mov $0x48, %eax\n mov $0x1234, %ecx\n stc\n"
	"push $" A(1f) "\n ret\n 1: mov %eax, %fs\n hlt\n");

static void test_faults(void)
{
	struct btbed *bb = NEW(g_div);

	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_DE);
	bb__free(bb);
	bb = NEW(g_seg);
	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_GP);
	bb__free(bb);
	bb = NEW(g_ret_fault);
	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_GP);
	bb__free(bb);
}

/* Page faults inside translated sequences: the page at 0x300000 is not
 * present. Each snippet sets distinctive registers and flags, then faults
 * in one form; the fault must show the guest state before the faulting
 * guest instruction (registers, flags, EIP, CR2), as in the oracle. */
#define PF_PRE "mov $0x11111111, %eax\n mov $0x22222222, %ecx\n" \
	       "mov $0x33333333, %edx\n mov $0x7fffffff, %ebx\n" \
	       "add $1, %ebx\n stc\n"
BB_GUEST(g_pf_call, PF_PRE "mov $0x301000, %esp\n call 1f\n 1: hlt\n");
BB_GUEST(g_pf_pushf, PF_PRE "mov $0x301000, %esp\n pushf\n hlt\n");
BB_GUEST(g_pf_ret, PF_PRE "mov $0x300800, %esp\n ret\n hlt\n");
BB_GUEST(g_pf_reti, PF_PRE "mov $0x300800, %esp\n ret $8\n hlt\n");
BB_GUEST(g_pf_popf, PF_PRE "mov $0x300800, %esp\n popf\n hlt\n");
BB_GUEST(g_pf_callm, PF_PRE "mov $0x300010, %esi\n call *(%esi)\n hlt\n");
BB_GUEST(g_pf_callr, PF_PRE "mov $" A(1f) ", %esi\n mov $0x301000, %esp\n"
	 "call *%esi\n 1: hlt\n");
BB_GUEST(g_pf_callesp, PF_PRE "mov $0x301000, %esp\n call *4(%esp)\n hlt\n");
BB_GUEST(g_pf_jmpm, PF_PRE "mov $0x300010, %edi\n jmp *8(%edi)\n hlt\n");
BB_GUEST(g_pf_store, PF_PRE "mov %eax, 0x300123\n hlt\n");
BB_GUEST(g_pf_rep, PF_PRE "mov $0x2ffff8, %edi\n mov $16, %ecx\n"
	 "rep stosb\n hlt\n");

static void test_page_faults(void)
{
	static const struct { const uint8_t *s, *e; uint32_t cr2; } g[] = {
		{ g_pf_call_start, g_pf_call_end, 0x300ffc },
		{ g_pf_pushf_start, g_pf_pushf_end, 0x300ffc },
		{ g_pf_ret_start, g_pf_ret_end, 0x300800 },
		{ g_pf_reti_start, g_pf_reti_end, 0x300800 },
		{ g_pf_popf_start, g_pf_popf_end, 0x300800 },
		{ g_pf_callm_start, g_pf_callm_end, 0x300010 },
		{ g_pf_callr_start, g_pf_callr_end, 0x300ffc },
		{ g_pf_callesp_start, g_pf_callesp_end, 0x300ffc },
		{ g_pf_jmpm_start, g_pf_jmpm_end, 0x300018 },
		{ g_pf_store_start, g_pf_store_end, 0x300123 },
		{ g_pf_rep_start, g_pf_rep_end, 0x300000 },
	};

	for (unsigned k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		for (uint32_t pre = 0; pre < 2; pre++) {
			struct btbed *bb = bb__new(g[k].s, (size_t)(g[k].e - g[k].s));

			bb->preempt = pre * (k + 1) * 0x9e3779b9u;
			bb__unmap(bb, 0x300000);
			bb__run_both_and_compare(bb, 1000);
			CU_ASSERT_EQUAL(bb->o.vec, EXC_PF);
			CU_ASSERT_EQUAL(bb->o.cr2, g[k].cr2);
			CU_ASSERT_EQUAL(bb->nexit, 0);
			if (bb->o.cr2 != g[k].cr2)
				fprintf(stderr, "  snippet %u: cr2 %08x\n", k,
					bb->o.cr2);
			bb__free(bb);
		}
	}
}

static CU_TestInfo bt_precise_tests[] = {
	{ "faults", test_faults },
	{ "page_faults", test_page_faults },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bt_precise, .tests = bt_precise_tests);
