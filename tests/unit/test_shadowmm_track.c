/* tests/unit/test_shadowmm_track.c — keeping shadows in step with the
 * guest's tables (shadowmm/sm-track.c): write protection of frames that
 * become page tables, emulation and invalidation, the reverse map and its
 * overflow, the track notification, unprotect. */
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

/* A page that becomes a page table: its writable spte is downgraded; a
 * write through it is emulated and invalidates what it changed; once no
 * shadow derives from it, it is writable again. */
static void test_write_tracking(void)
{
	struct smt *t = smt_new(64, 4);
	uint32_t x = 0x00402000;	/* user mapping of guest frame 7 */

	smt_map32(t, 0x1000, 0x2000, P | W | U, x, 0x7000, P | W | U | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, x, SM_PF_U | SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(7) | P | W | U | A | D);

	/* frame 7 becomes the PT of [16 MiB, 20 MiB) */
	smt_w32(t, 0x1000 + 4 * 4, 0x7000 | P | W | U);
	smt_w32(t, 0x7000, 0x8000 | P | W | U | D);
	t->sm.flush_tlb = false;
	CU_ASSERT_EQUAL(fault(t, 0x01000000, SM_PF_U), SM_FIXED);
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 7));
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(7) | P | U | A | D);
	CU_ASSERT_TRUE(t->sm.flush_tlb);
	CU_ASSERT_EQUAL(t->sm.stats.wp_rmap, 3);	/* gfns 1, 2, 7 */
	CU_ASSERT_EQUAL(t->sm.stats.wp_scans, 0);

	/* a write through x: emulate */
	CU_ASSERT_EQUAL(fault(t, x + 0, SM_PF_U | SM_PF_W | SM_PF_P), SM_EMULATE);
	CU_ASSERT_EQUAL(out.gpa, 0x7000);
	CU_ASSERT_EQUAL(t->sm.stats.emulate_faults, 1);
	smt_w32(t, 0x7000, 0x9000 | P | W | U | D);	/* the caller's emulation */
	sm__guest_write(&t->sm, 0x7000, 4);
	CU_ASSERT_EQUAL(smt_spte(t, 0x01000000), 0);
	CU_ASSERT_EQUAL(fault(t, 0x01000000, SM_PF_U | SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x01000000), smt_ma(9) | P | W | U | A | D);
	/* a read through x rebuilds read-only while tracked */
	sm__invlpg(&t->sm, x);
	CU_ASSERT_EQUAL(fault(t, x, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(7) | P | U | A);

	/* the PDE goes away: frame 7 is no page table any more */
	smt_w32(t, 0x1000 + 4 * 4, 0);
	sm__guest_write(&t->sm, 0x1010, 4);
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 7));
	CU_ASSERT_EQUAL(fault(t, x, SM_PF_U | SM_PF_W | SM_PF_P), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(7) | P | W | U | A | D);
	/* a write of a whole page (two tables' worth of range, unaligned) */
	sm__guest_write(&t->sm, 0x1ffe, 4);	/* PD entries 1023 and PT entry 0 */
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(7) | P | W | U | A | D);
	sm__guest_write(&t->sm, 0x2000, 4096);
	CU_ASSERT_EQUAL(smt_spte(t, x), 0);
	smt_free(t);
}

/* Write protection through the reverse map: many writable aliases of one
 * frame are all found; after an overflow a scan does it; a flush resets. */
static void test_rmap(void)
{
	struct smt *t = smt_new(128, 4);
	uint64_t scans;
	uint32_t n = 0;

	/* 16 guest PTs (frames 0x10..0x1f) for [0, 64 MiB): every PTE maps a
	 * data frame 0x100 + (i % 512), writable and dirty */
	for (uint32_t i = 0; i < 16 * 1024; i++)
		smt_map32(t, 0x1000, 0x10000 + (i / 1024) * 0x1000, P | W | U, i << 12,
			  (0x100 + (i % 512)) << 12, P | W | U | A | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	t->sm.prefetch = 512;
	/* 6 MiB touched: 1536 writable sptes, 3 aliases of each frame */
	for (uint32_t va = 0; va < (6u << 20); va += 2u << 20)
		CU_ASSERT_EQUAL(fault(t, va, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00200000 + (5 << 12)), smt_ma(0x105) | P | W | U | A | D);
	/* frame 0x105 becomes a guest PT (of [64 MiB, 68 MiB)) */
	smt_w32(t, 0x1000 + 4 * 16, 0x105000 | P | W | U);
	smt_w32(t, 0x105000, 0x3000 | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x04000000, SM_PF_U), SM_FIXED);
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 0x105));
	for (uint32_t a = 0; a < 3; a++) {
		uint32_t va = (a << 21) + (5 << 12);

		CU_ASSERT_EQUAL(smt_spte(t, va), smt_ma(0x105) | P | U | A | D);
	}
	CU_ASSERT_EQUAL(smt_spte(t, 6 << 12), smt_ma(0x106) | P | W | U | A | D);
	CU_ASSERT_EQUAL(t->sm.stats.wp_scans, 0);
	CU_ASSERT_FALSE(t->sm.rmap_full);

	/* 34 MiB more: over SM_RMAP_ENTS writable sptes, the map overflows */
	for (uint32_t va = 6u << 20; va < (40u << 20); va += 2u << 20)
		CU_ASSERT_EQUAL(fault(t, va, SM_PF_U), SM_FIXED);
	CU_ASSERT_TRUE(t->sm.rmap_full);
	CU_ASSERT_EQUAL(t->sm.stats.rmap_overflows, 1);
	/* frame 0x107 becomes a PT: found by the scan, every alias */
	scans = t->sm.stats.wp_scans;
	smt_w32(t, 0x1000 + 4 * 17, 0x107000 | P | W | U);
	smt_w32(t, 0x107000, 0x3000 | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x04400000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(t->sm.stats.wp_scans, scans + 1);
	for (uint32_t va = 7 << 12; va < (40u << 20); va += 2u << 20) {
		CU_ASSERT_EQUAL(smt_spte(t, va), smt_ma(0x107) | P | U | A | D);
		n++;
	}
	CU_ASSERT_EQUAL(n, 20);
	/* a flush empties the shadow and the map works again */
	sm__flush_all(&t->sm, SM_FLUSH_CALLER);
	CU_ASSERT_FALSE(t->sm.rmap_full);
	CU_ASSERT_EQUAL(fault(t, 0x00800000, SM_PF_U), SM_FIXED);
	smt_w32(t, 0x1000 + 4 * 18, (0x100 + 0x1f) << 12 | P | W | U);
	smt_w32(t, 0x11f000, 0x3000 | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x04800000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00800000 + (0x1f << 12)), smt_ma(0x11f) | P | U | A | D);
	CU_ASSERT_EQUAL(t->sm.stats.wp_scans, scans + 1);
	smt_free(t);
}

static int notes[64], nnotes;
static void note(void *opaque, uint32_t gfn, bool tracked)
{
	if (nnotes < 64)
		notes[nnotes++] = tracked ? (int)gfn : -(int)gfn;
}

/* The caller hears when a frame becomes a tracked page table and when it
 * stops being one. */
static void test_track_notify(void)
{
	struct smt *t = smt_new(64, 4);

	t->sm.track_notify = note;
	nnotes = 0;
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | U);
	smt_map32(t, 0x1000, 0x3000, P | W | U, 0x00400000, 0x5000, P | U);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(fault(t, 0x1000 + (1u << 30), SM_PF_U), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(fault(t, 0x00400000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(nnotes, 3);
	CU_ASSERT_EQUAL(notes[0], 1);	/* the PD */
	CU_ASSERT_EQUAL(notes[1], 2);	/* a PT */
	CU_ASSERT_EQUAL(notes[2], 3);
	/* PDE 1 goes: PT 3 is no longer tracked; the PD still is */
	smt_w32(t, 0x1004, 0);
	sm__guest_write(&t->sm, 0x1004, 4);
	CU_ASSERT_EQUAL(nnotes, 4);
	CU_ASSERT_EQUAL(notes[3], -3);
	sm__flush_all(&t->sm, SM_FLUSH_CALLER);
	CU_ASSERT_EQUAL(nnotes, 6);
	CU_ASSERT(notes[4] + notes[5] == -3);	/* -1 and -2, any order */
	smt_free(t);
}

/* SM_EMULATE answered by unprotecting: the write goes through natively,
 * the table is shadowed again when next used as one. */
static void test_unprotect(void)
{
	struct smt *t = smt_new(64, 4);
	uint32_t x = 0x00402000;	/* user mapping of the guest PT at 0x2000 */

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | W | U | A | D);
	smt_map32(t, 0x1000, 0x3000, P | W | U, x, 0x2000, P | W | U | A | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(fault(t, x, SM_PF_U | SM_PF_W), SM_EMULATE);
	t->sm.flush_tlb = false;
	sm__unprotect(&t->sm, 2);
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 2));
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 3));
	CU_ASSERT_TRUE(t->sm.flush_tlb);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);
	CU_ASSERT_EQUAL(fault(t, x, SM_PF_U | SM_PF_W | SM_PF_P), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(2) | P | W | U | A | D);
	/* the guest writes PTE 1 natively, then uses it: shadowed again, and
	 * the mapping at x is write-protected again */
	smt_w32(t, 0x2004, 0x6000 | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x1000)), smt_ma(6));
	CU_ASSERT_EQUAL(smt_spte(t, x), smt_ma(2) | P | U | A | D);
	/* unprotecting a frame that is no table changes nothing */
	sm__unprotect(&t->sm, 0x50);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x1000), 0);
	smt_free(t);
}

static CU_TestInfo track_tests[] = {
	{ "write_tracking", test_write_tracking },
	{ "rmap", test_rmap },
	{ "track_notify", test_track_notify },
	{ "unprotect", test_unprotect },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(shadowmm_track, .tests = track_tests);
