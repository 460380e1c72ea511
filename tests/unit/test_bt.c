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

/* ---- The virtual IF ---------------------------------------------------------- */

BB_GUEST(g_vif,
	"cli\n pushf\n pop %eax\n mov %eax, 0x80000\n"
	"sti\n pushf\n pop %ebx\n mov %ebx, 0x80004\n"
	"push $0\n popf\n pushf\n pop %ecx\n mov %ecx, 0x80008\n"
	"push $0x2d7\n popf\n pushf\n pop %edx\n mov %edx, 0x8000c\n"
	"cli\n sti\n nop\n pushf\n popf\n"
	"push $0x446\n popf\n setz 0x80010\n"
	"std\n pushf\n pop %esi\n cld\n mov %esi, 0x80014\n"
	"push $0x44202\n popf\n pushf\n pop %edi\n mov %edi, 0x80018\n"
	"push $0x4002\n popf\n pushf\n pop %ebp\n mov %ebp, 0x8001c\n"
	"push $0x202\n popf\n"
	"cli\n mov $5, %ecx\n 1: sti\n cli\n loop 1b\n sti\n"
	"hlt\n");

static unsigned count_sites(struct btbed *bb, unsigned flags, int kind)
{
	struct bt_stats s = stats(bb);
	uint32_t tc0 = BB_WIN + BT_TC_OFF;
	unsigned n = 0;

	for (uint32_t a = tc0; a < tc0 + s.tc_used; a++) {
		struct bt_site st;

		if (bt__site(bb->bt, a, &st))
			continue;
		if ((st.flags & flags) == flags && (kind < 0 || st.kind == kind))
			n++;
	}
	return n;
}

static void test_vif(void)
{
	struct btbed *bb = NEW(g_vif);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT_EQUAL(bb->nexit, 1);			/* only the hlt */
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA) & FL_IF, 0);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA + 4) & FL_IF,
			FL_IF);
	CU_ASSERT(bb->t.eflags & FL_IF);
	/* Every inline STI puts a shadow flag on the next site. */
	CU_ASSERT(count_sites(bb, BT_SF_SHADOW, -1) >= 3);
	/* sti; hlt: the HLT exit is in the shadow (no delivery before it). */
	CU_ASSERT_EQUAL(count_sites(bb, BT_SF_SHADOW, BT_SITE_EXIT), 1);
	bb__free(bb);
}

/* An interrupt is pending: STI and a POPF that sets IF exit (the monitor
 * would deliver the interrupt after them); the rest is unchanged. */
static void test_vif_pending(void)
{
	struct btbed *bb = NEW(g_vif);

	bt__wdata(bb->bt)->pend = 1;
	bb__run_both_and_compare(bb, 10000);
	/* 1 hlt + 8 sti + 4 popf setting IF (0x2d7, the pushf/popf pair
	 * with IF set, 0x44202, 0x202) */
	CU_ASSERT_EQUAL(bb->nexit, 13);
	bb__free(bb);
}

/* POPF setting IOPL or TF exits; the interpreter runs the guest while
 * either is set; the single-step trap after TF lands where it should. */
BB_GUEST(g_popf_tf,
	"mov $7, %eax\n"
	"push $0x3002\n popf\n"
	"pushf\n pop %ebx\n mov $3, %edx\n"
	"push $0x2\n popf\n"
	"add $1, %eax\n"
	"push $0x102\n popf\n"
	"nop\n"
	"inc %eax\n hlt\n");

static void test_popf_tf_iopl(void)
{
	struct btbed *bb = NEW(g_popf_tf);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_DB);
	CU_ASSERT_EQUAL(bb->nexit, 2);
	CU_ASSERT_EQUAL(bb->t.r[R_EBX] & FL_IOPL, FL_IOPL);
	bb__free(bb);
}

/* ---- Exits ------------------------------------------------------------------- */

BB_GUEST(g_priv,
	"mov $0x41, %al\n out %al, $0xe9\n"
	"mov %cr4, %eax\n mov %eax, 0x80000\n"
	"mov $1, %eax\n cpuid\n mov %edx, 0x80004\n"
	"in $0x61, %al\n"
	"mov $0x10, %eax\n mov %eax, %ds\n"
	"mov $0x33, %eax\n mov %eax, %es\n mov %es, %ebx\n push %es\n pop %ebp\n"
	"mov %cs, %ecx\n mov %ss, %edx\n push %cs\n pop %esi\n push %ss\n pop %edi\n"
	"sgdt 0x80010\n sidt 0x80018\n str %ax\n smsw %ax\n sldt %bx\n"
	"lar %ecx, %edx\n lsl %ecx, %esi\n"
	"mov $0x42, %al\n out %al, $0xe9\n"
	"mov %dr7, %eax\n"
	"clts\n wbinvd\n invlpg 0x80000\n"
	"mov $0x10, %eax\n mov %eax, %es\n"
	"hlt\n");

static void test_privileged(void)
{
	struct btbed *bb = NEW(g_priv);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT_STRING_EQUAL(bb->tc->out, "AB");
	CU_ASSERT_STRING_EQUAL(bb->orig->out, "AB");
	CU_ASSERT_EQUAL(bb->t.r[R_EDI], 0x10);		/* the guest's SS */
	CU_ASSERT_EQUAL(bb->t.r[R_EBP], 0x33);
	CU_ASSERT_EQUAL(bb->t.r[R_ECX], 0x08);		/* the guest's CS */
	/* out, mov cr, cpuid, in, sgdt, sidt, str, smsw, sldt, lar, lsl,
	 * out, mov dr, clts, wbinvd, invlpg, hlt (push cs, push ss, mov
	 * from cs and ss are translated: the guest's selectors from wdata) */
	CU_ASSERT_EQUAL(bb->nexit, 17);
	bb__free(bb);
}

/* MOV from CS/SS into 32- and 16-bit registers and MOV from CR2 are
 * translated (the guest's values from wdata); MOV to CR2 exits and the
 * next stay reads the new value. */
BB_GUEST(g_sreg_cr2,
	"mov $0xffffffff, %eax\n mov $0xffffffff, %ebx\n"
	"mov %ss, %ax\n mov %cs, %bx\n mov %cs, %esi\n mov %ss, %edi\n"
	"mov %cr2, %ecx\n"
	"mov $0x12345678, %edx\n mov %edx, %cr2\n"
	"mov %cr2, %ebp\n mov %ebp, 0x80000\n hlt\n");

static void test_mov_sreg_cr2(void)
{
	struct btbed *bb = NEW(g_sreg_cr2);

	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->t.r[R_EAX], 0xffff0010);	/* 16 bits written */
	CU_ASSERT_EQUAL(bb->t.r[R_EBX], 0xffff0008);
	CU_ASSERT_EQUAL(bb->t.r[R_ESI], 0x08);
	CU_ASSERT_EQUAL(bb->t.r[R_EDI], 0x10);
	CU_ASSERT_EQUAL(bb->t.r[R_EBP], 0x12345678);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA), 0x12345678);
	CU_ASSERT_EQUAL(bb->nexit, 2);		/* mov to cr2, hlt */
	bb__free(bb);
}

/* Instructions the guest's CPU lacks exit, and the interpreter gives #UD
 * (SSSE3 pshufb, AVX vaddps); SSE2 is copied (here #UD too, at a site:
 * CR4.OSFXSR is clear in both beds). */
BB_GUEST(g_ssse3, "mov $1, %eax\n pshufb %mm1, %mm0\n hlt\n");
BB_GUEST(g_avx, "mov $1, %eax\n vaddps %xmm2, %xmm1, %xmm0\n hlt\n");
BB_GUEST(g_sse2, "mov $1, %eax\n paddb %mm1, %mm0\n movdqa %xmm1, %xmm0\n hlt\n");

/* CMPXCHG8B: an exit (QEMU's TCG corrupts EFLAGS after it at CPL 1;
 * docs/bt.md), with the interpreter's result, both outcomes. */
BB_GUEST(g_cx8,
	"movl $1, 0x80000\n movl $2, 0x80004\n"
	"mov $1, %eax\n mov $2, %edx\n mov $5, %ebx\n mov $6, %ecx\n"
	"xor %esi, %esi\n lock cmpxchg8b 0x80000\n setz %cl\n"
	"mov $0x80000, %esi\n cmpxchg8b (%esi)\n setz %bl\n hlt\n");

static void test_cmpxchg8b(void)
{
	struct btbed *bb = NEW(g_cx8);

	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->nexit, 3);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA), 5);
	CU_ASSERT_EQUAL(bb->t.r[R_ECX], 1);	/* equal: stored */
	CU_ASSERT_EQUAL(bb->t.r[R_EBX] & 0xff, 0);	/* not: loaded */
	CU_ASSERT_EQUAL(bb->t.r[R_EAX], 5);
	CU_ASSERT_EQUAL(bb->t.r[R_EDX], 6);
	bb__free(bb);
}

static void test_whitelist(void)
{
	struct btbed *bb = NEW(g_ssse3);

	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_UD);
	CU_ASSERT_EQUAL(bb->nexit, 1);
	bb__free(bb);
	bb = NEW(g_avx);
	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_UD);
	CU_ASSERT_EQUAL(bb->nexit, 1);
	bb__free(bb);
	bb = NEW(g_sse2);
	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->o.vec, EXC_UD);
	CU_ASSERT_EQUAL(bb->o.eip, BB_CODE + 8);
	CU_ASSERT_EQUAL(bb->nexit, 0);
	bb__free(bb);
}

/* rep bsf / rep bsr (Linux's __ffs/__fls): BSF/BSR on the guest's CPU,
 * TZCNT/LZCNT on a host with BMI1: copied without the F3. */
BB_GUEST(g_repbsf,
	"mov $0x80, %eax\n rep bsf %eax, %ebx\n rep bsr %eax, %ecx\n"
	"mov $0, %edx\n mov $7, %esi\n rep bsf %edx, %esi\n"
	"es rep bsf 0x80000, %edi\n hlt\n");

static void test_rep_bsf(void)
{
	struct btbed *bb = NEW(g_repbsf);
	const uint8_t *tc = bb->tc->ram + BB_WIN + BT_TC_OFF;

	bb__run_both_and_compare(bb, 1000);
	CU_ASSERT_EQUAL(bb->t.r[R_EBX], 7);
	CU_ASSERT_EQUAL(bb->t.r[R_ECX], 7);
	CU_ASSERT_EQUAL(bb->nexit, 1);
	/* mov (5 bytes), then 0f bc d8 and 0f bd c8 */
	CU_ASSERT_EQUAL(memcmp(tc + 5, "\x0f\xbc\xd8\x0f\xbd\xc8", 6), 0);
	CU_ASSERT_EQUAL(memcmp(tc + 24, "\x26\x0f\xbc\x3d", 4), 0);
	bb__free(bb);
}

/* ---- Self-modifying code ---------------------------------------------------- */

BB_GUEST(g_smc,
	"xor %esi, %esi\n mov $3, %edi\n"
	"1: call patchme\n add %eax, %esi\n"
	"addl $0x11111111, " A(patchme) "+1\n"
	"dec %edi\n jnz 1b\n"
	"movb $0x40, " A(2f) "\n"	/* nop -> inc %eax, next in this block */
	"2: nop\n"
	"mov %esi, 0x80000\n hlt\n"
	".balign 64\n"
	"patchme: mov $0x11111111, %eax\n ret\n");

static void test_smc(void)
{
	struct btbed *bb = NEW(g_smc);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT_EQUAL(*(uint32_t *)(bb->tc->ram + BB_DATA), 0x66666666);
	CU_ASSERT_EQUAL(bb->t.r[R_EAX], 0x33333334);
	CU_ASSERT(bb->ncodewr >= 4);
	CU_ASSERT(stats(bb).invalidations >= 4);
	bb__free(bb);
}

/* ---- Pages --------------------------------------------------------------------- */

/* mov $imm32, %ebx straddles 0x11000; the block's second page counts. */
BB_GUEST(g_straddle,
	"mov $1, %eax\n mov $" A(1f) ", %edx\n jmp *%edx\n"
	".skip 0xff0 - (. - g_straddle_start), 0x90\n"
	"1: add $2, %eax\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
	"nop\n nop\n mov $0x12345678, %ebx\n add %ebx, %eax\n hlt\n");

static void test_straddle(void)
{
	struct btbed *bb = NEW(g_straddle);

	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x10));
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x11));
	CU_ASSERT_EQUAL(bb->t.r[R_EAX], 0x1234567b);
	bb__free(bb);
	/* The second page cannot be fetched: the straddling instruction is
	 * an exit, the rest of page 0x11 is interpreted (-EFAULT). */
	bb = NEW(g_straddle);
	bb->deny_lin = 0x11000;
	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT(!bt__gfn_translated(bb->bt, 0x11));
	CU_ASSERT_EQUAL(bb->nexit, 1);
	CU_ASSERT(bb->nfault_interp >= 2);
	bb__free(bb);
}

/* 300 blocks, run twice. */
BB_GUEST(g_big,
	"mov $2, %ecx\n"
	"1:\n .rept 300\n add $3, %eax\n inc %ebx\n jz 9f\n .endr\n"
	"dec %ecx\n jnz 1b\n"
	"9: hlt\n");

/* A TC of 4 KiB: translation runs out of room again and again; each
 * -ENOSPC is a reset and a retry, and the guest sees nothing of it. */
static void test_tc_full(void)
{
	struct btbed *bb = NEW(g_big);

	CU_ASSERT_EQUAL(bt__set_tc_limit(bb->bt, 4096), 0);
	bb__run_both_and_compare(bb, 10000);
	CU_ASSERT(bb->nenospc > 0);
	CU_ASSERT(stats(bb).resets > 0);
	bb__free(bb);
	bb = NEW(g_calls);
	CU_ASSERT_EQUAL(bt__set_tc_limit(bb->bt, 4096), 0);
	bb__run_both_and_compare(bb, 200000);
	bb__free(bb);
}

/* ---- The interface ------------------------------------------------------------- */

static int nofetch(void *opaque, uint32_t lin, const uint8_t **host,
		   uint32_t *gfn)
{
	return -14;
}

static void test_api(void)
{
	struct btbed *bb = NEW(g_loops);
	struct bt_env none = { .code_page = nofetch };
	struct bt_site s;
	uint32_t tc, tc2;
	struct bt_wdata *w = bt__wdata(bb->bt);
	uint32_t gpr[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, fl = 0x202;

	CU_ASSERT_EQUAL(bt__init(bb->bt, bb->tc->ram, 0x1000, 10), -22);
	CU_ASSERT_EQUAL(bt__init(bb->bt, bb->tc->ram + BB_WIN, BB_WIN,
				 BB_RAM >> 12), 0);
	CU_ASSERT_EQUAL(bt__win_lin(bb->bt), BB_WIN);
	CU_ASSERT_EQUAL(bt__set_tc_limit(bb->bt, 100), -22);
	CU_ASSERT_EQUAL(bt__lookup(bb->bt, &none, BB_CODE, &tc), -14);
	CU_ASSERT_EQUAL(bt__lookup(bb->bt, &bb->env, BB_CODE, &tc), 0);
	CU_ASSERT_EQUAL(bt__lookup(bb->bt, &bb->env, BB_CODE, &tc2), 0);
	CU_ASSERT_EQUAL(tc, tc2);
	CU_ASSERT_EQUAL(tc, BB_WIN + BT_TC_OFF);
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc, &s), 0);
	CU_ASSERT_EQUAL(s.eip, BB_CODE);
	CU_ASSERT_EQUAL(s.kind, BT_SITE_INSN);
	/* xor %eax,%eax is 2 bytes: its second byte is no site. */
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc + 1, &s), -2);
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc + 2, &s), 0);
	CU_ASSERT_EQUAL(s.eip, BB_CODE + 2);
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc - 1, &s), -2);
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc + 0x80000, &s), -2);
	/* The hash entry of the block. */
	{
		struct bt_hent *h = (struct bt_hent *)(bb->tc->ram + BB_WIN +
						       BT_HASH_OFF);
		uint32_t k = bt_hash_slot(BB_CODE);

		CU_ASSERT_EQUAL(h[k].eip, BB_CODE);
		CU_ASSERT_EQUAL(h[k].tc, tc);
		/* Empty entries hold an eip of another set (slots 2s and
		 * 2s + 1 are set s; the lookup probes both): the other slot
		 * of this set, a slot of another set, and set 0 (where the
		 * marker of other sets, eip 0, has its slot). */
		CU_ASSERT_EQUAL(h[k ^ 1].tc, 0);
		CU_ASSERT_NOT_EQUAL(bt_hash_slot(h[k ^ 1].eip) >> 1, k >> 1);
		k = (k + 2) % BT_HASH_ENTRIES;
		CU_ASSERT_EQUAL(h[k].tc, 0);
		CU_ASSERT_NOT_EQUAL(bt_hash_slot(h[k].eip) >> 1, k >> 1);
		CU_ASSERT_NOT_EQUAL(bt_hash_slot(h[0].eip) >> 1, 0);
		CU_ASSERT_NOT_EQUAL(bt_hash_slot(h[1].eip) >> 1, 0);
	}
	/* Invalidation. */
	CU_ASSERT(bt__gfn_translated(bb->bt, BB_CODE >> 12));
	CU_ASSERT(!bt__gfn_translated(bb->bt, (BB_CODE >> 12) + 5));
	CU_ASSERT(!bt__code_written(bb->bt, (BB_CODE >> 12) + 5));
	CU_ASSERT(!bt__invlpg(bb->bt, 0x200000));
	CU_ASSERT(bt__invlpg(bb->bt, BB_CODE + 0x10));
	CU_ASSERT(!bt__gfn_translated(bb->bt, BB_CODE >> 12));
	CU_ASSERT(!bt__invlpg(bb->bt, BB_CODE + 0x10));
	/* The dropped block keeps its sites; the next lookup translates
	 * anew (behind it in the TC). */
	CU_ASSERT_EQUAL(bt__site(bb->bt, tc, &s), 0);
	CU_ASSERT_EQUAL(bt__lookup(bb->bt, &bb->env, BB_CODE, &tc2), 0);
	CU_ASSERT(tc2 > tc);
	CU_ASSERT(bt__code_written(bb->bt, BB_CODE >> 12));
	CU_ASSERT(!bt__code_written(bb->bt, BB_CODE >> 12));
	CU_ASSERT_EQUAL(stats(bb).invalidations, 2);
	CU_ASSERT_EQUAL(stats(bb).dropped, 2);
	CU_ASSERT_EQUAL(stats(bb).resets, 0);
	/* Fix-ups. */
	w->s_eax = 0xaaaa;
	w->s_ecx = 0xcccc;
	w->s_fl = 0xd701;	/* SF ZF AF PF CF, OF */
	s.fix = BT_FIX_EAX;
	bt__fixup(bb->bt, &s, gpr, &fl);
	CU_ASSERT_EQUAL(gpr[0], 0xaaaa);
	CU_ASSERT_EQUAL(gpr[1], 2);
	CU_ASSERT_EQUAL(fl, 0x202);
	s.fix = BT_FIX_ECX | BT_FIX_FLAGS;
	bt__fixup(bb->bt, &s, gpr, &fl);
	CU_ASSERT_EQUAL(gpr[1], 0xcccc);
	CU_ASSERT_EQUAL(fl, 0x202 | FL_ARITH);
	w->s_fl = 0x0200;
	bt__fixup(bb->bt, &s, gpr, &fl);
	CU_ASSERT_EQUAL(fl, 0x202);
	/* The PUSHF table. */
	CU_ASSERT_EQUAL(w->iftab[0x02], 0x00);
	CU_ASSERT_EQUAL(w->iftab[0x0d], 0x0d);
	CU_ASSERT_EQUAL(w->iftab[256 + 0x0d], 0x0f);
	bb__free(bb);
}

/* Translated code preempted every 1..16 instructions (as by host
 * interrupts): the driver steps to the next site, takes the guest state
 * there and re-enters the TC at that guest EIP. Every site must be a
 * correct guest state for the end result to match. */
static void test_preempt(void)
{
	static const struct { const uint8_t *s, *e; } g[] = {
		{ g_alu_start, g_alu_end }, { g_loops_start, g_loops_end },
		{ g_calls_start, g_calls_end }, { g_ind_start, g_ind_end },
		{ g_vif_start, g_vif_end }, { g_smc_start, g_smc_end },
		{ g_repbsf_start, g_repbsf_end }, { g_popf_tf_start, g_popf_tf_end },
	};
	unsigned taken = 0;

	for (unsigned k = 0; k < sizeof(g) / sizeof(g[0]); k++) {
		for (uint32_t seed = 1; seed <= 4; seed++) {
			struct btbed *bb = bb__new(g[k].s, (size_t)(g[k].e - g[k].s));

			bb->preempt = seed * 0x9e3779b9u;
			if (seed == 4)
				bt__wdata(bb->bt)->pend = 1;
			bb__run_both_and_compare(bb, 200000);
			taken += bb->npreempt;
			bb__free(bb);
		}
	}
	CU_ASSERT(taken > 500);
}

static CU_TestInfo bt_tests[] = {
	{ "alu", test_alu },
	{ "loops", test_loops },
	{ "loop_twice", test_loop_twice },
	{ "calls", test_calls },
	{ "indirect", test_indirect },
	{ "vif", test_vif },
	{ "vif_pending", test_vif_pending },
	{ "popf_tf_iopl", test_popf_tf_iopl },
	{ "privileged", test_privileged },
	{ "mov_sreg_cr2", test_mov_sreg_cr2 },
	{ "whitelist", test_whitelist },
	{ "cmpxchg8b", test_cmpxchg8b },
	{ "rep_bsf", test_rep_bsf },
	{ "smc", test_smc },
	{ "straddle", test_straddle },
	{ "tc_full", test_tc_full },
	{ "api", test_api },
	{ "preempt", test_preempt },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bt, .tests = bt_tests);
