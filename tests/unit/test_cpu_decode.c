/* tests/unit/test_cpu_decode.c — the decoded-instruction cache and the lazy
 * flags, tested directly: compact operand forms, block boundaries (branch,
 * page end, page-straddling instruction), SMC invalidation, and flag values
 * and condition codes for known operands. */
#include "tests/unit/unit.h"
#include "tests/unit/cpu-bed.h"
#include "monitor/cpu-internal.h"

#include <stdlib.h>
#include <string.h>

static struct block *decode_at(struct bed *b, uint32_t eip)
{
	b->cpu->eip = eip;
	return icache__lookup(b->cpu);
}

static void test_operands(void)
{
	/* add $-1,%ecx (83 c1 ff); mov 0x10(%ebx,%esi,4),%al; push $-2;
	 * lea (%eax,%ecx,2),%edx; 66 add $-3,%cx; jmp . */
	static const uint8_t code[] = { 0x83, 0xc1, 0xff, 0x8a, 0x44, 0xb3, 0x10,
					0x6a, 0xfe, 0x8d, 0x14, 0x48,
					0x66, 0x83, 0xc1, 0xfd, 0xeb, 0xfe };
	struct bed *b = bed__new(1 << 20, 0x1000);
	struct block *bl;

	bed__load(b, 0x1000, code, sizeof(code));
	bl = decode_at(b, 0x1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
	CU_ASSERT_EQUAL(bl->ninsn, 6);
	CU_ASSERT_EQUAL(bl->insns[0].op[0].kind, OK_REG);
	CU_ASSERT_EQUAL(bl->insns[0].op[0].reg, R_ECX);
	CU_ASSERT_EQUAL(bl->insns[0].op[1].kind, OK_IMM);
	CU_ASSERT_EQUAL(bl->insns[0].imm, 0xffffffffu);	/* sign-extended */
	CU_ASSERT_EQUAL(bl->insns[1].op[1].kind, OK_MEM);
	CU_ASSERT_EQUAL(bl->insns[1].op[0].size, 1);
	CU_ASSERT_EQUAL(bl->insns[1].base, R_EBX);
	CU_ASSERT_EQUAL(bl->insns[1].index, R_ESI);
	CU_ASSERT_EQUAL(bl->insns[1].scale, 4);
	CU_ASSERT_EQUAL(bl->insns[1].disp, 0x10);
	CU_ASSERT_EQUAL(bl->insns[1].seg, SEG_DS);
	CU_ASSERT_EQUAL(bl->insns[2].osz, 4);
	CU_ASSERT_EQUAL(bl->insns[2].imm, 0xfffffffeu);
	CU_ASSERT_EQUAL(bl->insns[4].osz, 2);
	CU_ASSERT_EQUAL(bl->insns[4].op[0].size, 2);
	CU_ASSERT_EQUAL(bl->insns[5].op[0].kind, OK_REL);
	CU_ASSERT_EQUAL(bl->insns[5].imm, 0xfffffffeu);
	CU_ASSERT(bl->insns[5].flags & IF_ENDBLK);
	CU_ASSERT_FALSE(bl->insns[0].flags & IF_ENDBLK);
	/* the same address hits the cache */
	CU_ASSERT_PTR_EQUAL(decode_at(b, 0x1000), bl);
	bed__free(b);
}

static void test_block_bounds(void)
{
	struct bed *b = bed__new(1 << 20, 0x1000);
	struct block *bl;
	uint8_t nops[16];

	/* 4 NOPs then a 5-byte MOV that straddles 0x2000 */
	memset(nops, 0x90, sizeof(nops));
	bed__load(b, 0x1ffa - 4, nops, 4);
	bed__load(b, 0x1ffa, nops, 4);
	bed__load(b, 0x1ffe, "\xb8\x44\x33\x22\x11\xf4", 6);
	bl = decode_at(b, 0x1ff6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
	CU_ASSERT_EQUAL(bl->ninsn, 8);			/* stops before the page end */
	CU_ASSERT(bl->insns[7].flags & IF_ENDBLK);
	bl = decode_at(b, 0x1ffe);			/* the straddling MOV */
	CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
	CU_ASSERT_EQUAL(bl->ninsn, 1);
	CU_ASSERT_EQUAL(bl->insns[0].len, 5);
	CU_ASSERT_EQUAL(bl->insns[0].imm, 0x11223344u);
	CU_ASSERT_EQUAL(bl->gpa, ~0u);			/* scratch, not cached */
	/* running through it: the MOV executes, then HLT */
	b->cpu->eip = 0x1ff6;
	CU_ASSERT_EQUAL(bed__run(b, 100), CPU_EXIT_HALT_DEAD);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 0x11223344u);
	/* again: the same bytes are not decoded again (strad cache) */
	uint64_t nd = b->cpu->ndecode;
	CU_ASSERT_PTR_NOT_NULL(decode_at(b, 0x1ffe));
	CU_ASSERT_EQUAL(b->cpu->ndecode, nd);
	/* its bytes on the second page change: decoded anew, new immediate */
	bed__load(b, 0x2001, "w", 1);
	bl = decode_at(b, 0x1ffe);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
	CU_ASSERT_EQUAL(bl->insns[0].imm, 0x11773344u);
	CU_ASSERT(b->cpu->ndecode > nd);
	b->cpu->eip = 0x1ffe;
	b->cpu->halted = false;
	CU_ASSERT_EQUAL(bed__run(b, 100), CPU_EXIT_HALT_DEAD);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 0x11773344u);
	bed__free(b);
}

static void test_invalidate(void)
{
	struct bed *b = bed__new(1 << 20, 0x1000);
	struct block *bl;

	bed__load(b, 0x1000, "\x40\x40\xf4", 3);	/* inc; inc; hlt */
	bl = decode_at(b, 0x1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bl);
	CU_ASSERT(mem__is_code_page(b->cpu, 0x1000));
	/* a DMA-style write through the board: the page's blocks go */
	bed__load(b, 0x1001, "\x48", 1);		/* dec */
	CU_ASSERT_FALSE(mem__is_code_page(b->cpu, 0x1000));
	b->cpu->eip = 0x1000;
	CU_ASSERT_EQUAL(bed__run(b, 100), CPU_EXIT_HALT_DEAD);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 0);
	bed__free(b);
}

/* ---- Lazy flags -------------------------------------------------------- */

static uint32_t flags_of(unsigned op, unsigned size, uint32_t res, uint32_t a,
			 uint32_t bb, uint32_t cf_in)
{
	static struct cpu c;
	c.eflags = FL_1 | (cf_in ? FL_CF : 0);
	lf_set(&c, op, size, res, a, bb);
	return cpu__eflags(&c) & FL_ARITH;
}

static void test_flags(void)
{
	/* 0x7f + 1 (8-bit): OF SF AF, no CF */
	CU_ASSERT_EQUAL(flags_of(LF_ADD, 1, 0x80, 0x7f, 1, 0),
			FL_OF | FL_SF | FL_AF);
	/* 0xff + 1: CF ZF AF PF */
	CU_ASSERT_EQUAL(flags_of(LF_ADD, 1, 0x00, 0xff, 1, 0),
			FL_CF | FL_ZF | FL_AF | FL_PF);
	/* 0 - 1 (32-bit): CF SF AF PF */
	CU_ASSERT_EQUAL(flags_of(LF_SUB, 4, 0xffffffffu, 0, 1, 0),
			FL_CF | FL_SF | FL_AF | FL_PF);
	/* 0x8000 - 1 (16-bit): OF AF (0x7fff: PF of 0xff is set) */
	CU_ASSERT_EQUAL(flags_of(LF_SUB, 2, 0x7fff, 0x8000, 1, 0),
			FL_OF | FL_AF | FL_PF);
	/* adc 0xffffffff + 0 + CF=1 = 0, carry out */
	CU_ASSERT_EQUAL(flags_of(LF_ADC, 4, 0, 0xffffffffu, 0, 0),
			FL_CF | FL_ZF | FL_AF | FL_PF);
	/* sbb 0 - 0 - CF=1 = 0xff (8-bit) */
	CU_ASSERT_EQUAL(flags_of(LF_SBB, 1, 0xff, 0, 0, 0),
			FL_CF | FL_SF | FL_AF | FL_PF);
	/* inc 0x7fffffff -> OF SF AF; CF kept from before (src2) */
	CU_ASSERT_EQUAL(flags_of(LF_INC, 4, 0x80000000u, 0, 1, 0),
			FL_OF | FL_SF | FL_AF | FL_CF | FL_PF);
	CU_ASSERT_EQUAL(flags_of(LF_DEC, 4, 0x7fffffffu, 0, 0, 0),
			FL_OF | FL_AF | FL_PF);
	/* logic: CF OF AF clear */
	CU_ASSERT_EQUAL(flags_of(LF_LOGIC, 1, 0x81, 0, 0, 1), FL_SF | FL_PF);
}

static void test_conditions(void)
{
	static struct cpu c;
	/* cmp 1, 2 (signed and unsigned less) */
	lf_set(&c, LF_SUB, 4, 0xffffffffu, 1, 2);
	CU_ASSERT(flags__cond(&c, 2));		/* B */
	CU_ASSERT(flags__cond(&c, 12));		/* L */
	CU_ASSERT(flags__cond(&c, 14));		/* LE */
	CU_ASSERT_FALSE(flags__cond(&c, 4));	/* E */
	CU_ASSERT(flags__cond(&c, 8));		/* S */
	/* cmp -1, 1: unsigned above, signed less */
	lf_set(&c, LF_SUB, 4, 0xfffffffeu, 0xffffffffu, 1);
	CU_ASSERT(flags__cond(&c, 7));		/* A */
	CU_ASSERT(flags__cond(&c, 12));		/* L */
	CU_ASSERT_FALSE(flags__cond(&c, 13));	/* GE */
	/* the fast path agrees with the full evaluation for every cc */
	for (unsigned cc = 0; cc < 16; cc++) {
		static struct cpu d;
		bool fast;
		lf_set(&d, LF_SUB, 1, 0x80, 0x7f, 0xff);
		fast = flags__cond(&d, cc);
		flags__materialize(&d);
		CU_ASSERT_EQUAL(fast, flags__cond(&d, cc));
	}
}

/* A small cache (monitor slow path) and state imported field by field. */
static uint8_t small_ram[1 << 16];
static uint8_t *small_page(void *o, uint64_t gpa, bool *w)
{
	*w = true;
	return gpa < sizeof(small_ram) ? small_ram + gpa : NULL;
}

static void test_import(void)
{
	static const struct cpu_bus_ops ops = { .ram_page = small_page };
	struct cpu *c = calloc(1, sizeof(struct cpu) + CPU_ICACHE_MIN);

	CU_ASSERT_EQUAL(cpu__init_sized(c, &ops, NULL, CPU_ICACHE_MIN - 1), -22);
	CU_ASSERT_EQUAL_FATAL(cpu__init_sized(c, &ops, NULL, CPU_ICACHE_MIN), 0);
	memcpy(small_ram + 0x3000, "\x8c\xc8\x40\xf4", 4);	/* mov %cs,%eax; inc; hlt */
	c->cr0 |= CR0_PE;
	cpu__set_seg(c, SEG_CS, 0x1b, 0, 0xffffffffu, 0xcffb);
	for (int s = 0; s < SEG_NSEGS; s++)
		if (s != SEG_CS)
			cpu__set_seg(c, s, 0x23, 0, 0xffffffffu, 0xcff3);
	cpu__set_eflags(c, 0);
	c->eip = 0x3000;
	cpu__state_changed(c);
	CU_ASSERT_EQUAL(c->cpl, 3);
	/* HLT at CPL 3 is #GP; with no IDT that ends in a triple fault
	 * after the first two instructions ran. */
	CU_ASSERT_EQUAL(cpu__run(c, 10), CPU_EXIT_SHUTDOWN);
	CU_ASSERT_EQUAL(c->r[R_EAX], 0x1c);
	free(c);
}


/* The decoded-block arena fills up and is recycled (icache__flush) during
 * the lookup that follows block prev: prev's memory then belongs to the new
 * arena, and linking prev to its successor wrote into the new blocks (the
 * successor's own instructions). A dispatcher A (mov (%ebx),%eax; add $4,
 * %ebx; jmp *%eax) walks a table of small blocks S (jmp A) and large ones L
 * (63 x add $imm,%esi, then jmp A) in a pseudo-random order, in a 1 MiB
 * cache, so that many flushes happen with prev = A decoded just after a
 * small first block and the flush-triggering block a large L. */
static void test_arena_flush_link(void)
{
	enum { NS = 64, NL = 1024, NTAB = 24000 };
	const uint32_t a_at = 0x1000, s_at = 0x2000, l_at = 0x10000,
		       tab_at = 0x100000, hlt_at = 0x1800;
	struct bed *b = bed__new(4 << 20, 0x1000);
	const struct cpu_bus_ops *ops = b->cpu->ops;
	uint32_t seed = 12345, expect = 0, lsum[NL];
	uint8_t buf[512];

	/* a 1 MiB cache: many arena flushes in a short run */
	CU_ASSERT_EQUAL_FATAL(cpu__init_sized(b->cpu, ops, b, CPU_ICACHE_MIN), 0);
	cpu__setup_flat32(b->cpu, 0x08, 0x10, a_at);
	b->cpu->r[R_ESP] = (4 << 20) - 16;
	b->cpu->r[R_EBX] = tab_at;
	b->cpu->r[R_ESI] = 0;
	bed__load(b, a_at, "\x8b\x03\x83\xc3\x04\xff\xe0", 7);
	bed__load(b, hlt_at, "\xf4", 1);
	for (uint32_t k = 0; k < NS; k++) {
		uint32_t at = s_at + k * 16, rel = a_at - (at + 5);
		buf[0] = 0xe9;
		memcpy(buf + 1, &rel, 4);
		bed__load(b, at, buf, 5);
	}
	for (uint32_t k = 0; k < NL; k++) {
		uint32_t at = l_at + k * 512, rel;
		lsum[k] = 0;
		for (uint32_t j = 0; j < 63; j++) {
			/* low byte 0: a link written over the decoded
			 * immediate turns the fast-op index into a call */
			uint32_t imm = ((k * 63 + j) * 2654435761u) & ~0xffu;
			buf[j * 6] = 0x81;
			buf[j * 6 + 1] = 0xc6;
			memcpy(buf + j * 6 + 2, &imm, 4);
			lsum[k] += imm;
		}
		rel = a_at - (at + 378 + 5);
		buf[378] = 0xe9;
		memcpy(buf + 379, &rel, 4);
		bed__load(b, at, buf, 383);
	}
	for (uint32_t t = 0; t < NTAB; t++) {
		uint32_t target;
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) & 1) {
			target = s_at + ((seed >> 17) % NS) * 16;
		} else {
			uint32_t k = (seed >> 17) % NL;
			target = l_at + k * 512;
			expect += lsum[k];
		}
		bed__load(b, tab_at + t * 4, &target, 4);
	}
	bed__load(b, tab_at + NTAB * 4, &hlt_at, 4);
	CU_ASSERT_EQUAL(bed__run(b, 10000000), CPU_EXIT_HALT_DEAD);
	CU_ASSERT_EQUAL(b->cpu->r[R_EBX], tab_at + NTAB * 4 + 4);
	CU_ASSERT_EQUAL(b->cpu->r[R_ESI], expect);
	bed__free(b);
}

/* The audit (cpu->audit_every): after a flush, a surviving TLB entry whose
 * PTE now maps another frame is reported; a block whose bytes changed
 * behind the CPU's back is reported when it runs. */
static void test_audit(void)
{
	struct bed *b = bed__new(4 << 20, 0x1000);
	struct cpu *c = b->cpu;
	uint32_t pde[2] = { 0x11000 | 3, 0x12000 | 3 }, pte, k;

	for (k = 0; k < 1024; k++) {	/* identity map of 0-4 MiB */
		pte = (k << 12) | 3;
		bed__load(b, 0x11000 + k * 4, &pte, 4);
	}
	pte = 0x200000 | 0x63;		/* 4 MiB -> 2 MiB, A and D set */
	bed__load(b, 0x12000, &pte, 4);
	bed__load(b, 0x10000, pde, 8);
	c->cr3 = 0x10000;
	c->cr0 |= CR0_PG;
	c->audit_every = c->audit_left = 1;
	cpu__state_changed(c);
	/* mov 0x400000,%eax; invlpg 0x800000; hlt */
	bed__load(b, 0x1000, "\xa1\x00\x00\x40\x00\x0f\x01\x3d\x00\x00\x80\x00"
		  "\xf4", 13);
	CU_ASSERT_EQUAL(bed__run(b, 1), CPU_EXIT_BUDGET);	/* the load */
	CU_ASSERT_EQUAL(c->audit_bad, 0);
	pte = 0x300000 | 0x63;		/* remapped without a flush */
	bed__load(b, 0x12000, &pte, 4);
	CU_ASSERT_EQUAL(bed__run(b, 10), CPU_EXIT_HALT_DEAD);
	CU_ASSERT(c->audit_runs >= 1);
	CU_ASSERT_EQUAL(c->audit_bad, 1);
	CU_ASSERT_EQUAL(c->audit_last.kind, AUDIT_TLB_FRAME);
	CU_ASSERT_EQUAL(c->audit_last.lin, 0x400000);
	CU_ASSERT_EQUAL(c->audit_last.gpa, 0x200000);
	CU_ASSERT_EQUAL(c->audit_last.now, 0x300000);
	/* a decoded block changed behind the CPU (no cpu__invalidate_phys) */
	c->eip = 0x1000;
	c->halted = false;
	CU_ASSERT_EQUAL(bed__run(b, 10), CPU_EXIT_HALT_DEAD);
	k = (uint32_t)c->audit_bad;
	b->ram[0x1001] = 0x04;		/* mov 0x400004,%eax */
	c->eip = 0x1000;
	c->halted = false;
	bed__run(b, 1);		/* the audit runs before the block */
	CU_ASSERT(c->audit_bad > k);
	CU_ASSERT_EQUAL(c->audit_last.kind, AUDIT_BLOCK);
	bed__free(b);
}

static CU_TestInfo cpu_decode_tests[] = {
	{ "small cache, imported state", test_import },
	{ "compact operands", test_operands },
	{ "block bounds, straddling instruction", test_block_bounds },
	{ "invalidation on a write behind the CPU", test_invalidate },
	{ "lazy flag values", test_flags },
	{ "condition codes", test_conditions },
	{ "no link into a recycled arena", test_arena_flush_link },
	{ "audit: stale TLB entry, changed block", test_audit },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cpu_decode, .tests = cpu_decode_tests);
