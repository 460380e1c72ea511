/* tests/unit/test_shadowmm_hostile.c — the shadow under hostile guests and
 * odd callers: garbage tables through the fault path, calls in odd orders,
 * allocators that give nothing, and a long fuzz with random tables, modes,
 * writes and INVLPGs that checks the shadow never grants more than the
 * guest's own walk. */
#include <stdio.h>

#include "tests/unit/sm_test.h"
#include "tests/unit/unit.h"

#define P	0x001u
#define W	0x002u
#define U	0x004u
#define A	0x020u
#define D	0x040u

#define CR0_PW	(SM_CR0_PG | SM_CR0_WP)
#define SADDR(e) ((e) & SM_SPTE_ADDR)

static struct sm_fault_out out;

static enum sm_fault_result fault(struct smt *t, uint32_t va, uint32_t err)
{
	return sm__fault(&t->sm, va, err, &out);
}

/* Hostile tables through the fault path: a self-mapping PD, all-ones
 * entries, a PT outside RAM. */
static void test_hostile_faults(void)
{
	struct smt *t = smt_new(64, 4);

	smt_w32(t, 0x1000 + 4 * 0x300, 0x1000 | P | W | U | A | D);	/* PD maps itself */
	smt_w32(t, 0x1000 + 4 * 1, 0xffffffffu);			/* all-ones PDE */
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00800000, 0, 0);
	smt_w32(t, 0x2000, 0xffffffffu);				/* all-ones PTE */
	smt_w32(t, 0x1000 + 4 * 3, 0x7ff000 | P | W | U);		/* PT beyond RAM */
	sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PSE, 0, 0);

	/* 0xc0300000 (PDE 0x300, PTE 0x300) is the PD itself as a data page: the PD
	 * is tracked, so even a dirty writable gpte gives a read-only spte,
	 * and a write is emulated */
	CU_ASSERT_EQUAL(fault(t, 0xc0300c00u, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(out.gpa, 0x1c00);
	CU_ASSERT_EQUAL(smt_spte(t, 0xc0301000u), 0);	/* PD entry 0x301: not present */
	CU_ASSERT_EQUAL(smt_spte(t, 0xc0300000u), smt_ma(1) | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0xc0300c00u, SM_PF_U | SM_PF_W | SM_PF_P), SM_EMULATE);
	/* the emulated write changes PDE 0x300 itself: everything under it goes */
	smt_w32(t, 0x1c00, 0);
	sm__guest_write(&t->sm, 0x1c00, 4);
	CU_ASSERT_EQUAL(smt_spte(t, 0xc0300000u), 0);
	CU_ASSERT_EQUAL(fault(t, 0xc0300c00u, SM_PF_U), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_U);

	CU_ASSERT_EQUAL(fault(t, 0x00400000, SM_PF_U), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_P | SM_PF_RSVD | SM_PF_U);
	CU_ASSERT_EQUAL(fault(t, 0x00800000, SM_PF_U | SM_PF_W), SM_MMIO);
	CU_ASSERT_EQUAL(out.gpa, 0xfffff000u);
	CU_ASSERT_EQUAL(fault(t, 0x00c00000, SM_PF_U), SM_BAD_GPA);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00800000) | smt_spte(t, 0x00c00000), 0);
	CU_ASSERT_EQUAL(t->outstanding, (int)t->sm.stats.pages_in_use);
	smt_free(t);
}

/* Calls in odd orders and with no memory at all: clean results. */
static void test_api_edges(void)
{
	struct smt *t = smt_new(8, 1);
	struct sm bad;
	struct sm_alloc none = { NULL, NULL, NULL };

	CU_ASSERT_EQUAL(sm__init(&bad, &t->gmem, &none, 64, 1), -1);
	CU_ASSERT_EQUAL(sm__init(&bad, &t->gmem, &(struct sm_alloc){ smt_page_alloc, smt_page_free, t },
				 7, 1), -1);
	CU_ASSERT_EQUAL(sm__init(&bad, &t->gmem, &(struct sm_alloc){ smt_page_alloc, smt_page_free, t },
				 64, 9), -1);
	/* before any sm__set_paging: nothing to drop; a fault is paging off */
	sm__invlpg(&t->sm, 0x1000);
	sm__guest_write(&t->sm, 0x1000, 8);
	sm__flush_all(&t->sm, SM_FLUSH_CALLER);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), 0);
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x5000), smt_ma(5) | P | W | U | A | D);
	sm__destroy(&t->sm);
	sm__destroy(&t->sm);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), 0);
	/* an allocator that gives nothing */
	t->limit = 0;
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0), -2);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), 0);
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_RETRY);
	t->limit = 2;	/* a root and a PD, never a PT */
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x5000, 0x6000, P | W | U);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_RETRY);
	CU_ASSERT(t->outstanding <= 2);
	/* a guest write of the whole 4 GiB range and an INVLPG everywhere */
	sm__guest_write(&t->sm, 0, 0xffffffffu);
	sm__guest_write(&t->sm, ~0ull - 4, 100);
	for (uint32_t va = 0; va < 0xfff00000u; va += 0x100000)
		sm__invlpg(&t->sm, va);
	t->limit = SMT_POOL_MAX;
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_FIXED);
	smt_free(t);

	/* a CR3 switch that gets no root page must not leave the old root
	 * current (it would be filled from the new address space) */
	t = smt_new(8, 4);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x5000, 0x6000, P | W | U);
	smt_map32(t, 0x3000, 0x4000, P | W | U, 0x5000, 0x7000, P | W | U);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_FIXED);
	t->limit = 0;
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x3000, 0, 0, 0), -2);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), 0);
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_RETRY);
	t->limit = SMT_POOL_MAX;
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x5000)), smt_ma(7));
	/* with room, a switch back is a plain miss and A's frame returns */
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(fault(t, 0x5000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x5000)), smt_ma(6));
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x3000, 0, 0, 0), 0);	/* cached */
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x5000)), smt_ma(7));
	smt_free(t);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Garbage guest tables, random modes and events: the shadow never maps
 * more than the guest's own walk allows, never points outside guest RAM,
 * and keeps its page accounting. */
static void test_fuzz_garbage(void)
{
	struct smt *t = smt_new(16, 3);
	int fixed = 0, bad = 0, checked = 0;

	t->frames[9] = SM_NO_FRAME;
	/* frames 0..63: garbage, mostly entries pointing into the first
	 * 80 frames (a high word: mostly 0, sometimes XD or anything) */
	for (int i = 0; i < 128 * 1024; i++) {
		uint32_t *w = (uint32_t *)t->ram + i;
		uint64_t r = rnd();

		if (i & 1)
			*w = (r & 3) ? 0 : (r & 4) ? 0x80000000u : (uint32_t)(r >> 32);
		else
			*w = (r & 7) ? (uint32_t)((r >> 8) % 80) << 12 | (uint32_t)(r >> 40 & 0xfff)
				     : (uint32_t)(r >> 32);
	}
	sm__set_paging(&t->sm, CR0_PW, 0x3000, SM_CR4_PSE, 0, 0);
	for (int it = 0; it < 300000; it++) {
		uint64_t r = rnd();

		if ((r & 255) == 0) {
			static const uint32_t cr4s[] = { 0, SM_CR4_PSE, SM_CR4_PAE, SM_CR4_PSE | SM_CR4_PGE };
			uint32_t cr3 = (rnd() & 7) ? (uint32_t)(rnd() % 80) << 12 : (uint32_t)rnd();

			sm__set_paging(&t->sm, (rnd() & 7) ? CR0_PW : (uint32_t)(rnd() & CR0_PW),
				       cr3 & ~0x1fu, cr4s[rnd() % 4], rnd() & SM_EFER_NXE, 0);
			continue;
		}
		if ((r & 255) < 8) {
			sm__guest_write(&t->sm, rnd() % (70 << 12), 1 + rnd() % 64);
			continue;
		}
		if ((r & 255) < 12) {
			sm__invlpg(&t->sm, (uint32_t)rnd());
			continue;
		}
		uint32_t va = (rnd() & 1) ? (uint32_t)rnd() : (uint32_t)(rnd() % (64 << 22));
		uint32_t err = (uint32_t)rnd() & (SM_PF_P | SM_PF_W | SM_PF_U | SM_PF_I);
		enum sm_fault_result res = fault(t, va, err);

		CU_ASSERT(t->sm.stats.pages_in_use <= 16);
		if (res == SM_BAD_GPA)
			bad++;
		if (res != SM_FIXED && res != SM_SPURIOUS)
			continue;
		fixed++;
		/* the spte just built and its prefetched neighbours: the right
		 * frame, and rights no wider than the guest's own walk (read
		 * without touching A/D; the fuzz's tables only gain A/D bits,
		 * so every spte of the current root must still hold) */
		CU_ASSERT_FATAL(smt_spte(t, va) & SM_SPTE_P);
		CU_ASSERT_EQUAL(SADDR(smt_spte(t, va)), smt_ma((uint32_t)(out.gpa >> 12)));
		CU_ASSERT((out.gpa >> 12) < SMT_FRAMES && (out.gpa >> 12) != 9);
		for (uint32_t k = 0; k < 16; k++) {
			uint32_t v = (va & ~0xffffu) + (k << 12);
			uint64_t s = smt_spte(t, v);
			struct sm_gwalk g;

			if (!(s & SM_SPTE_P))
				continue;
			checked++;
			CU_ASSERT_EQUAL_FATAL(sm__walk(&t->gmem, &t->sm.paging, v, 0, 0, &g), SM_WALK_OK);
			CU_ASSERT_EQUAL(SADDR(s), smt_ma((uint32_t)(g.gpa >> 12)));
			if (s & SM_SPTE_U)
				CU_ASSERT_EQUAL(sm__walk(&t->gmem, &t->sm.paging, v, SM_PF_U, 0, &g), SM_WALK_OK);
			if ((s & SM_SPTE_U) && (s & SM_SPTE_W))
				CU_ASSERT_EQUAL(sm__walk(&t->gmem, &t->sm.paging, v, SM_PF_U | SM_PF_W, 0, &g),
						SM_WALK_OK);
			if (s & SM_SPTE_W) {
				CU_ASSERT_EQUAL(sm__walk(&t->gmem, &t->sm.paging, v, SM_PF_W, 0, &g), SM_WALK_OK);
				CU_ASSERT_TRUE(g.dirty);
				CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, (uint32_t)(g.gpa >> 12)));
			}
			if (!(s & SM_PTE_XD) && t->sm.paging.pae && t->sm.paging.nxe)
				CU_ASSERT_EQUAL(sm__walk(&t->gmem, &t->sm.paging, v, SM_PF_I, 0, &g), SM_WALK_OK);
		}
	}
	CU_ASSERT(fixed > 1000);	/* the fuzz reached the build path */
	CU_ASSERT(checked > 2 * fixed);	/* and prefetched around it */
	CU_ASSERT(t->sm.stats.sptes_prefetched > 1000);
	CU_ASSERT(bad > 0);
	CU_ASSERT(t->sm.stats.guest_faults > 1000);
	CU_ASSERT(t->sm.stats.emulate_faults > 0);
	CU_ASSERT(t->sm.stats.flushes[SM_FLUSH_PRESSURE] > 0);
	if (getenv("SMT_VERBOSE"))
		printf("fuzz: checked %d prefetched %llu\n", checked,
		       (unsigned long long)t->sm.stats.sptes_prefetched);
	if (getenv("SMT_VERBOSE"))
		printf("fuzz: fixed %d bad %d guest %llu mmio %llu emulate %llu retry-flushes %llu\n",
		       fixed, bad, (unsigned long long)t->sm.stats.guest_faults,
		       (unsigned long long)t->sm.stats.mmio_faults,
		       (unsigned long long)t->sm.stats.emulate_faults,
		       (unsigned long long)t->sm.stats.flushes[SM_FLUSH_PRESSURE]);
	CU_ASSERT_EQUAL(t->outstanding, (int)t->sm.stats.pages_in_use);
	sm__destroy(&t->sm);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	smt_free(t);
}

static CU_TestInfo hostile_tests[] = {
	{ "hostile_faults", test_hostile_faults },
	{ "api_edges", test_api_edges },
	{ "fuzz_garbage", test_fuzz_garbage },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(shadowmm_hostile, .tests = hostile_tests);
