/* tests/unit/test_cpu_basic.c — the interpreter runs small guest programs
 * (assembled into this binary with .code32, loaded at 0x1000, flat 32-bit
 * protected mode): loops, strings to the debug port, stop requests. */
#include "tests/unit/unit.h"
#include "tests/unit/cpu-bed.h"

#include <string.h>

#define GUEST(name, code)                                                      \
	__asm__(".pushsection .rodata\n.balign 16\n" #name "_start:\n"         \
		".code32\n" code "\n.code64\n" #name "_end:\n.popsection\n");   \
	extern const uint8_t name##_start[] __asm__(#name "_start");            \
	extern const uint8_t name##_end[] __asm__(#name "_end")

#define LOAD 0x1000
#define ADDR(name, label) "(" label " - " #name "_start + 0x1000)"

static struct bed *run_guest(const uint8_t *s, const uint8_t *e, uint64_t max,
			     enum cpu_exit want)
{
	struct bed *b = bed__new(16 << 20, LOAD);
	enum cpu_exit r;
	bed__load(b, LOAD, s, (size_t)(e - s));
	r = bed__run(b, max);
	if (r != want)
		bed__dump(b);
	CU_ASSERT_EQUAL(r, want);
	return b;
}

GUEST(g_loop,
	"mov $1000, %ecx\n"
	"xor %eax, %eax\n"
	"1: add %ecx, %eax\n"
	"loop 1b\n"
	"mov %eax, %ebx\n"
	"out %eax, $0xf4\n"
	"hlt\n");

static void test_loop(void)
{
	struct bed *b = run_guest(g_loop_start, g_loop_end, 100000, CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(b->stop_value, 500500);
	CU_ASSERT_EQUAL(b->cpu->r[R_EBX], 500500);
	CU_ASSERT_EQUAL(b->cpu->icount, 2 + 2000 + 2);
	bed__free(b);
}

GUEST(g_str,
	"cld\n"
	"mov $" ADDR(g_str, "msg") ", %esi\n"
	"mov $0xe9, %dx\n"
	"mov $6, %ecx\n"
	"rep outsb\n"
	"mov $0x3000, %edi\n"
	"mov $0x41, %al\n"
	"mov $100, %ecx\n"
	"rep stosb\n"
	"mov $0x3000, %esi\n"
	"mov $0x4000, %edi\n"
	"mov $25, %ecx\n"
	"rep movsl\n"
	"mov $0x4000, %edi\n"
	"mov $0x42, %al\n"
	"mov $200, %ecx\n"
	"repe scasb\n"	/* stops at the first byte != 0x42 : index 0 */
	"mov $0x4000, %edi\n"
	"mov $0x41, %al\n"
	"mov $200, %ecx\n"
	"repe scasb\n"	/* stops at index 100 (0x00), ecx = 99 */
	"out %eax, $0xf4\n"
	"msg: .ascii \"hello\\n\"\n");

static void test_strings(void)
{
	struct bed *b = run_guest(g_str_start, g_str_end, 100000, CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(b->nout, 6);
	CU_ASSERT(memcmp(b->out, "hello\n", 6) == 0);
	CU_ASSERT_EQUAL(b->ram[0x4000 + 99], 0x41);
	CU_ASSERT_EQUAL(b->ram[0x4000 + 100], 0);
	CU_ASSERT_EQUAL(b->cpu->r[R_ECX], 99);
	CU_ASSERT_EQUAL(b->cpu->r[R_EDI], 0x4000 + 101);
	bed__free(b);
}

GUEST(g_budget,
	"1: inc %eax\n"
	"jmp 1b\n");

static void test_budget(void)
{
	struct bed *b = run_guest(g_budget_start, g_budget_end, 1001,
				  CPU_EXIT_BUDGET);
	CU_ASSERT_EQUAL(b->cpu->icount, 1001);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 501);
	CU_ASSERT_EQUAL(bed__run(b, 10), CPU_EXIT_BUDGET);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 506);
	bed__free(b);
}

/* Self-modifying code: the store rewrites an instruction of the same
 * block; the new instruction must run. */
GUEST(g_smc,
	"movb $0x40, " ADDR(g_smc, "patch") "\n"	/* inc %eax */
	"patch: nop\n"
	"movb $0x43, " ADDR(g_smc, "patch") "\n"	/* inc %ebx */
	"mov $3, %ecx\n"
	"1: movb $0x41, " ADDR(g_smc, "patch2") "\n"	/* inc %ecx */
	"patch2: nop\n"
	"dec %ecx\n"
	"dec %ecx\n"
	"jnz 1b\n"
	"jmp patch\n");

static void test_smc(void)
{
	struct bed *b = run_guest(g_smc_start, g_smc_end, 21, CPU_EXIT_BUDGET);
	/* patch ran as inc %eax once; after the loop (ecx 3 -> inc -> 4,
	 * dec dec -> 2, inc 3, dec dec 1, inc 2 dec dec 0) patch is inc %ebx */
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 1);
	CU_ASSERT_EQUAL(b->cpu->r[R_ECX], 0);
	CU_ASSERT_EQUAL(b->cpu->r[R_EBX], 1);
	bed__free(b);
}

static CU_TestInfo cpu_basic_tests[] = {
	{ "integer loop", test_loop },
	{ "string instructions", test_strings },
	{ "instruction budget", test_budget },
	{ "self-modifying code", test_smc },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cpu_basic, .tests = cpu_basic_tests);
