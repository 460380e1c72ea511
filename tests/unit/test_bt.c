/* tests/unit/test_bt.c — the binary translator (bt/) against the
 * interpreter: each guest snippet runs in the oracle and translated
 * (tests/unit/bt-bed.h), and the end states and memory must be equal;
 * counters show which translated forms ran (exits, chaining, indirect
 * lookups). */
#include "tests/unit/bt-bed.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>

#define NEW(name) bb__new(name##_start, (size_t)(name##_end - name##_start))

static struct bt_stats stats(struct btbed *bb)
{
	struct bt_stats s;
	bt__stats(bb->bt, &s);
	return s;
}

/* ---- Straight-line code --------------------------------------------------- */

BB_GUEST(g_alu,
	"mov $0x12345678, %eax\n mov $0x9abcdef0, %ebx\n"
	"add %ebx, %eax\n adc $5, %ecx\n sub %eax, %edx\n sbb %ebx, %esi\n"
	"imul %ebx, %eax\n rol $7, %eax\n shr $3, %ebx\n sar %cl, %edx\n"
	"mov %eax, 0x80000\n add %ebx, 0x80000\n xor 0x80000, %edi\n"
	"lea 0x10(%eax,%ebx,4), %ebp\n bswap %ebp\n not %esi\n neg %edi\n"
	"push %eax\n push %ebx\n pop %ecx\n xchg %eax, (%esp)\n pop %edx\n"
	"setc %al\n cmovz %ebx, %ecx\n bsf %edx, %ebx\n"
	"mov $0x80100, %edi\n mov $16, %ecx\n mov $0xa5, %al\n rep stosb\n"
	"mov $0x80100, %esi\n mov $0x80200, %edi\n mov $4, %ecx\n rep movsl\n"
	"std\n cmpsb\n cld\n"
	"enter $16, $0\n movl $7, -4(%ebp)\n leave\n"
	"pusha\n popa\n cdq\n cwde\n daa\n"
	"fld1\n fldpi\n faddp\n fstpl 0x80300\n"
	"hlt\n");

static void test_alu(void)
{
	struct btbed *bb = NEW(g_alu);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT_EQUAL(bb->nexit, 1);	/* the hlt */
	CU_ASSERT(stats(bb).insns > 40);
	bb__free(bb);
}

/* ---- Loops ----------------------------------------------------------------- */

BB_GUEST(g_loops,
	"xor %eax, %eax\n mov $100, %ebx\n"
	"1: add %ebx, %eax\n dec %ebx\n jnz 1b\n"
	"mov $50, %ecx\n"
	"2: add %ecx, %eax\n loop 2b\n"
	"mov $20, %ecx\n xor %edx, %edx\n"
	"3: inc %edx\n cmp $5, %edx\n loopne 3b\n"
	"mov $10, %ecx\n"
	"4: xor %esi, %esi\n loope 4b\n"
	"xor %ecx, %ecx\n jecxz 5f\n mov $1, %edi\n"
	"5: mov $3, %ecx\n jecxz 6f\n mov $2, %edi\n"
	"6: mov %eax, 0x80000\n"
	"mov $300, %ecx\n"
	"7: add %ecx, %eax\n jmp 8f\n"	/* a jmp in the loop body */
	"8: sub $1, %ecx\n ja 7b\n"
	"hlt\n");

static void test_loops(void)
{
	struct btbed *bb = NEW(g_loops);
	struct bt_stats s;

	bb__run_both_and_compare(bb, 100000);
	s = stats(bb);
	/* Each edge misses once, then is chained: far fewer misses than
	 * the 480 iterations. */
	CU_ASSERT(bb->nmiss > 5 && bb->nmiss < 30);
	CU_ASSERT_EQUAL(s.chains, bb->nmiss);
	bb__free(bb);
}

/* The same code run again over the same translations: every edge is
 * chained now, no miss at all. */
static void test_loop_twice(void)
{
	struct btbed *bb = NEW(g_loops);
	struct cpu *c = bb->tc->cpu;
	uint32_t r0[8];

	memcpy(r0, c->r, sizeof(r0));
	bb__run_orig(bb, 100000);
	CU_ASSERT_EQUAL(bb__run_tc(bb, 400000), 0);
	CU_ASSERT(bb->nmiss > 0);
	memcpy(c->r, r0, sizeof(r0));
	cpu__set_eflags(c, 2);
	cpu__set_seg(c, SEG_CS, 0x08, 0, 0xffffffff, 0xc09b);
	c->eip = BB_CODE;
	c->halted = false;
	cpu__state_changed(c);
	CU_ASSERT_EQUAL(bb__run_tc(bb, 400000), 0);
	CU_ASSERT_EQUAL(bb->nmiss, 0);
	CU_ASSERT_EQUAL(bb__compare(bb, false), 0);
	bb__free(bb);
}

/* ---- Calls and returns ---------------------------------------------------- */

BB_GUEST(g_calls,
	"mov $12, %eax\n call fib\n mov %eax, 0x80000\n"
	"push $7\n push $9\n call addtwo\n mov %eax, 0x80004\n"
	"call outer\n mov %eax, 0x80008\n"
	"call 1f\n 1: pop %ebx\n"		/* PIC idiom */
	"hlt\n"
	"fib: cmp $2, %eax\n jb 9f\n push %eax\n dec %eax\n call fib\n"
	"  xchg %eax, (%esp)\n sub $2, %eax\n call fib\n pop %ecx\n"
	"  add %ecx, %eax\n 9: ret\n"
	"addtwo: mov 4(%esp), %eax\n add 8(%esp), %eax\n ret $8\n"
	"outer: call inner\n inc %eax\n rep ret\n"
	"inner: mov $41, %eax\n ret\n");

static void test_calls(void)
{
	struct btbed *bb = NEW(g_calls);

	bb__run_both_and_compare(bb, 200000);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA), 144);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA + 4), 16);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA + 8), 42);
	/* Returns find their targets in the hash after the first miss. */
	CU_ASSERT(bb->ndyn < 20);
	bb__free(bb);
}

BB_GUEST(g_ind,
	"mov $" A(f1) ", %eax\n call *%eax\n"
	"movl $" A(f2) ", 0x80010\n call *0x80010\n"
	"push $" A(f1) "\n call *(%esp)\n add $4, %esp\n"
	"push $" A(f2) "\n push $0\n call *4(%esp)\n add $8, %esp\n"
	"mov $" A(f1) ", %ecx\n call *%ecx\n"
	"xor %esi, %esi\n"
	"1: mov %esi, %edx\n and $3, %edx\n jmp *" A(table) "(,%edx,4)\n"
	"c0: add $1, %edi\n jmp 2f\n"
	"c1: add $10, %edi\n jmp 2f\n"
	"c2: add $100, %edi\n jmp 2f\n"
	"c3: add $1000, %edi\n mov $" A(2f) ", %ebx\n jmp *%ebx\n"
	"2: inc %esi\n cmp $40, %esi\n jne 1b\n"
	"mov %edi, 0x80000\n hlt\n"
	"f1: add $3, %ebp\n ret\n"
	"f2: add $5, %ebp\n cmp $0, %ebp\n ret\n"
	".balign 4\n table: .long " A(c0) ", " A(c1) ", " A(c2) ", " A(c3) "\n");

static void test_indirect(void)
{
	struct btbed *bb = NEW(g_ind);

	bb__run_both_and_compare(bb, 100000);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA), 11110);
	CU_ASSERT(bb->ndyn > 0 && bb->ndyn < 20);
	bb__free(bb);
}

static CU_TestInfo bt_tests[] = {
	{ "alu", test_alu },
	{ "loops", test_loops },
	{ "loop_twice", test_loop_twice },
	{ "calls", test_calls },
	{ "indirect", test_indirect },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bt, .tests = bt_tests);
