/* tests/unit/test_shadowmm.c — the shadow page tables (shadowmm/sm-shadow.c,
 * sm-track.c) over synthetic guest tables in fake guest RAM: build on
 * fault, U/S and D policy, 2-level quadrants, PSE and PAE, MMIO, the root
 * cache across CR3 loads, INVLPG, mode-change flushes, write tracking of
 * guest page tables, the page cap. The
 * shadow is checked the way the CPU reads it: from PML4[0] down. */
#include "tests/unit/sm_test.h"
#include "tests/unit/unit.h"

#define P	0x001u
#define W	0x002u
#define U	0x004u
#define A	0x020u
#define D	0x040u
#define PS	0x080u
#define XD	(1ull << 63)

#define CR0_PW	(SM_CR0_PG | SM_CR0_WP)
#define SADDR(e) ((e) & SM_SPTE_ADDR)

static struct sm_fault_out out;

static enum sm_fault_result fault(struct smt *t, uint32_t va, uint32_t err)
{
	return sm__fault(&t->sm, va, err, &out);
}

static void test_build_on_fault(void)
{
	struct smt *t = smt_new(64, 4);
	uint32_t va = 0x00403000;

	smt_map32(t, 0x1000, 0x2000, P | W | U, va, 0x5000, P | W | U);
	smt_map32(t, 0x1000, 0x3000, P | W | U, 0x1000, 0x6000, P | W | D);	/* kernel page */
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), 0);
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PSE, 0, 0), 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm) & 0xfff, P | W | U | A);
	CU_ASSERT_EQUAL(smt_spte(t, va), 0);

	/* user read: spte U=1, read-only while the gpte's D is clear */
	CU_ASSERT_EQUAL(fault(t, va + 0x10, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(out.gpa, 0x5010);
	CU_ASSERT_EQUAL(smt_spte(t, va), smt_ma(5) | P | U | A);
	CU_ASSERT_EQUAL(smt_r32(t, 0x2000 + 4 * 3), 0x5000 | P | W | U | A);
	/* user write: the walker sets D, the spte becomes writable */
	CU_ASSERT_EQUAL(fault(t, va, SM_PF_U | SM_PF_W | SM_PF_P), SM_FIXED);
	CU_ASSERT_EQUAL(smt_r32(t, 0x2000 + 4 * 3), 0x5000 | P | W | U | A | D);
	CU_ASSERT_EQUAL(smt_spte(t, va), smt_ma(5) | P | W | U | A | D);
	/* the same fault again: the spte already allowed it */
	CU_ASSERT_EQUAL(fault(t, va, SM_PF_U | SM_PF_W | SM_PF_P), SM_SPURIOUS);

	/* guest kernel page: U=0 in the shadow; writable at once (D set) */
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), smt_ma(6) | P | W | A | D);
	/* guest user code touching it: a guest #PF, P|U */
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U | SM_PF_P), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_P | SM_PF_U);
	/* not present in the guest: reflected with P=0 */
	CU_ASSERT_EQUAL(fault(t, 0x00800000, SM_PF_U | SM_PF_W), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_U | SM_PF_W);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00800000), 0);

	CU_ASSERT_EQUAL(t->sm.stats.shadow_faults, 3);
	CU_ASSERT_EQUAL(t->sm.stats.sptes_built, 3);
	CU_ASSERT_EQUAL(t->sm.stats.spurious_faults, 1);
	CU_ASSERT_EQUAL(t->sm.stats.guest_faults, 2);
	/* root + PD + a PT for [0, 2 MiB) + a PT for [4 MiB, 6 MiB) */
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 4);
	CU_ASSERT_EQUAL(t->outstanding, 4);
	smt_free(t);
}

/* A 1024-entry guest PT is two shadow PTs; a write to entry 513 affects the
 * upper one only; a write to the PDE drops both. */
static void test_2level_quadrants(void)
{
	struct smt *t = smt_new(64, 4);

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00001000, 0x5000, P | W | U | D);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00201000, 0x6000, P | W | U | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x00001000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(fault(t, 0x00201000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x00201000)), smt_ma(6));
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 4);
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 2));	/* the guest PT */
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 1));	/* the guest PD */
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 5));

	t->sm.flush_tlb = false;
	smt_w32(t, 0x2000 + 4 * 513, 0x7000 | P | U);
	sm__guest_write(&t->sm, 0x2000 + 4 * 513, 4);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00201000), 0);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x00001000), 0);
	CU_ASSERT_TRUE(t->sm.flush_tlb);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_GPT_WRITE], 1);
	CU_ASSERT_EQUAL(fault(t, 0x00201000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00201000), smt_ma(7) | P | U | A);
	/* a write that misses every tracked entry changes nothing */
	sm__guest_write(&t->sm, 0x5000, 4096);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x00201000), 0);

	/* the PDE: both halves go */
	smt_w32(t, 0x1000, 0);
	sm__guest_write(&t->sm, 0x1000, 4);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00001000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00201000), 0);
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 2);
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 2));
	CU_ASSERT_EQUAL(fault(t, 0x00001000, SM_PF_U), SM_GUEST_FAULT);
	smt_free(t);
}

static void test_pse_and_invlpg(void)
{
	struct smt *t = smt_new(64, 4);

	smt_w32(t, 0x1000 + 4, 0x00000000 | P | W | U | PS);	/* 4 MiB at 4 MiB -> 0 */
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00801000, 0x5000, P | W | U);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00802000, 0x6000, P | W | U);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PSE, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x00401000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(fault(t, 0x00601000, SM_PF_U | SM_PF_W), SM_FIXED);
	/* 4 KiB sptes for a 4 MiB guest page */
	CU_ASSERT_EQUAL(smt_spte(t, 0x00401000), smt_ma(1) | P | U | A);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00601000), smt_ma(0x201) | P | W | U | A | D);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1004), P | W | U | PS | A | D);
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 0));	/* a data page, no table */
	/* INVLPG anywhere in the 4 MiB page drops both shadow PTs */
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 4);
	sm__invlpg(&t->sm, 0x00400000);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00401000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00601000), 0);
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 2);
	/* 4 KiB: only that page */
	CU_ASSERT_EQUAL(fault(t, 0x00801000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(fault(t, 0x00802000, SM_PF_U), SM_FIXED);
	sm__invlpg(&t->sm, 0x00801fff);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00801000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00802000), smt_ma(6) | P | U | A);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_INVLPG], 2);
	smt_free(t);
}

static void test_pae_nx(void)
{
	struct smt *t = smt_new(64, 4);

	smt_w64(t, 0x1008, 0x2000 | P);			/* PDPTE 1 */
	smt_w64(t, 0x2000 + 8 * 5, 0x3000 | P | W | U);
	smt_w64(t, 0x3000 + 8 * 7, 0x6000 | P | W | U | XD);
	smt_w64(t, 0x2000 + 8 * 6, 0x00200000 | P | W | U | PS | D);	/* 2 MiB */
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PAE, SM_EFER_NXE, 0), 0);
	CU_ASSERT_EQUAL(fault(t, 0x40a07000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x40a07000), smt_ma(6) | P | U | A | XD);
	CU_ASSERT_EQUAL(fault(t, 0x40a07000, SM_PF_U | SM_PF_I | SM_PF_P), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_P | SM_PF_U | SM_PF_I);
	CU_ASSERT_EQUAL(fault(t, 0x40c05000, SM_PF_U | SM_PF_I), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x40c05000), smt_ma(0x205) | P | W | U | A | D);
	/* the guest PT of the PAE walk is tracked, the PD too, not the PDPT */
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 3));
	CU_ASSERT_TRUE(sm__gfn_tracked(&t->sm, 2));
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 1));
	/* 8-byte entries: a write to the high half of PTE 7 drops it */
	sm__guest_write(&t->sm, 0x3000 + 8 * 7 + 4, 4);
	CU_ASSERT_EQUAL(smt_spte(t, 0x40a07000), 0);
	smt_free(t);
}

static void test_mmio_and_paging_off(void)
{
	struct smt *t = smt_new(64, 4);

	t->frames[7] = SM_NO_FRAME;
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x00800000, P | W | U);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x2000, 0x7000, P | W | U);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x3000, 0xfee00000, P | W | U);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x1004, SM_PF_U | SM_PF_W), SM_MMIO);
	CU_ASSERT_EQUAL(out.gpa, 0x00800004);
	CU_ASSERT_EQUAL(fault(t, 0x2008, SM_PF_U), SM_MMIO);
	CU_ASSERT_EQUAL(out.gpa, 0x7008);
	CU_ASSERT_EQUAL(fault(t, 0x3000, 0), SM_MMIO);
	CU_ASSERT_EQUAL(t->sm.stats.mmio_faults, 3);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000) | smt_spte(t, 0x2000) | smt_spte(t, 0x3000), 0);

	/* paging off: linear = physical, a mode change flushes */
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, 0, 0, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_MODE], 1);
	CU_ASSERT_EQUAL(fault(t, 0x00123456, SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x00123000), smt_ma(0x123) | P | W | U | A | D);
	CU_ASSERT_EQUAL(fault(t, 0x7000, 0), SM_MMIO);
	CU_ASSERT_EQUAL(fault(t, 0xfec00000, SM_PF_W), SM_MMIO);
	smt_free(t);
}

/* Two address spaces: PD A at 0x1000 maps 0x1000 -> 0x5000, PD B at 0x3000
 * maps it to 0x6000, PD C at 0x8000 to 0x9000. */
static void test_cr3_root_cache(void)
{
	struct smt *t = smt_new(64, 2);
	uint64_t ra, rb, sa;

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | W | U | D);
	smt_map32(t, 0x3000, 0x4000, P | W | U, 0x1000, 0x6000, P | W | U | D);
	smt_map32(t, 0x8000, 0xa000, P | W | U, 0x1000, 0x9000, P | W | U | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	ra = sm__root_entry(&t->sm);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U | SM_PF_W), SM_FIXED);
	sa = smt_spte(t, 0x1000);
	CU_ASSERT_EQUAL(SADDR(sa), smt_ma(5));

	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x3000, 0, 0, 0), 0);
	rb = sm__root_entry(&t->sm);
	CU_ASSERT_NOT_EQUAL(rb, ra);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x1000)), smt_ma(6));

	/* back to A: the cached root, its spte still there, no fault */
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), ra);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), sa);
	CU_ASSERT_EQUAL(t->sm.stats.root_hits, 1);
	CU_ASSERT_EQUAL(t->sm.stats.root_misses, 2);

	/* while A runs, B's PTE changes: B's cached root follows */
	smt_w32(t, 0x4000 + 4, 0x7000 | P | U);
	sm__guest_write(&t->sm, 0x4004, 4);
	sm__set_paging(&t->sm, CR0_PW, 0x3000, 0, 0, 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), rb);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x1000)), smt_ma(7));

	/* a third CR3 with two slots evicts the least recently used (A) */
	sm__set_paging(&t->sm, CR0_PW, 0x8000, 0, 0, 0);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_ROOT_EVICT], 1);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(SADDR(smt_spte(t, 0x1000)), smt_ma(9));
	sm__set_paging(&t->sm, CR0_PW, 0x3000, 0, 0, 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), rb);			/* B survived */
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);			/* A rebuilt */
	CU_ASSERT_EQUAL(t->sm.stats.root_misses, 4);
	CU_ASSERT_FALSE(sm__gfn_tracked(&t->sm, 0xa));			/* C evicted */
	CU_ASSERT_EQUAL(t->outstanding, (int)t->sm.stats.pages_in_use);
	smt_free(t);
}

static void test_mode_change_flush(void)
{
	struct smt *t = smt_new(64, 4);
	uint64_t r;

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | W | U | D);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	r = sm__root_entry(&t->sm);
	/* the same CR3 again (also with PCD/PWT): no flush, the entry stays */
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x1000), 0);
	sm__set_paging(&t->sm, CR0_PW, 0x1018, 0, 0, 0);
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), r);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x1000), 0);
	CU_ASSERT_EQUAL(t->sm.stats.root_hits, 2);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_MODE], 0);

	struct { uint32_t cr0, cr4; uint64_t efer; } steps[] = {
		{ SM_CR0_PG, 0, 0 },			/* WP off */
		{ CR0_PW, 0, 0 },			/* WP on */
		{ CR0_PW, SM_CR4_PSE, 0 },
		{ CR0_PW, SM_CR4_PSE | SM_CR4_PGE, 0 },
		{ CR0_PW, SM_CR4_PSE | SM_CR4_PGE, SM_EFER_NXE },
	};
	for (unsigned int i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		t->sm.flush_tlb = false;
		CU_ASSERT_EQUAL(sm__set_paging(&t->sm, steps[i].cr0, 0x1000, steps[i].cr4,
					       steps[i].efer, 0), 0);
		CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);
		CU_ASSERT_TRUE(t->sm.flush_tlb);
		CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_MODE], i + 1);
		CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	}
	/* the current root page survives a flush (PML4[0] points to it) */
	CU_ASSERT_EQUAL(sm__root_entry(&t->sm), r);
	/* PAE on with a PD whose entries are not valid PDPTEs: #GP, and
	 * nothing changes */
	CU_ASSERT_EQUAL(sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PAE, 0, 0), -1);
	CU_ASSERT_FALSE(t->sm.paging.pae);
	CU_ASSERT_NOT_EQUAL(smt_spte(t, 0x1000), 0);
	/* an explicit flush */
	sm__flush_all(&t->sm, SM_FLUSH_CALLER);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), 0);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_CALLER], 1);
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 1);
	smt_free(t);
}

/* CR0.WP=0: a supervisor write to a read-only user page makes the spte
 * W=1 U=0; a user access turns it back to U=1 W=0. */
static void test_wp0_supervisor_write(void)
{
	struct smt *t = smt_new(64, 4);

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | U | D);
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x2000, 0x6000, P | D);
	sm__set_paging(&t->sm, SM_CR0_PG, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), smt_ma(5) | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_W | SM_PF_P), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), smt_ma(5) | P | W | A | D);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U | SM_PF_P), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x1000), smt_ma(5) | P | U | A);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U | SM_PF_W | SM_PF_P), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(fault(t, 0x2000, SM_PF_W), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x2000), smt_ma(6) | P | W | A | D);
	/* with WP=1 the same supervisor write is a guest fault */
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, 0x2000, SM_PF_W), SM_GUEST_FAULT);
	CU_ASSERT_EQUAL(out.error_code, SM_PF_P | SM_PF_W);
	smt_free(t);
}

/* The page cap holds; a full pool recycles and the retried fault works. */
static void test_page_cap(void)
{
	struct smt *t = smt_new(8, 2);
	int retries = 0;

	/* 64 user pages, one per 2 MiB, guest PTs at frames 16.. */
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t va = i << 21;

		smt_map32(t, 0x1000, 0x10000 + (i / 2) * 0x1000, P | W | U, va, 0x100000 + i * 0x1000,
			  P | W | U | D);
	}
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 64; i++) {
			enum sm_fault_result r = fault(t, i << 21, SM_PF_U);

			if (r == SM_RETRY) {
				retries++;
				r = fault(t, i << 21, SM_PF_U);
			}
			CU_ASSERT_EQUAL(r, SM_FIXED);
			CU_ASSERT_EQUAL(SADDR(smt_spte(t, i << 21)), smt_ma(0x100 + i));
			CU_ASSERT(t->sm.stats.pages_in_use <= 8);
			CU_ASSERT_EQUAL(t->outstanding, (int)t->sm.stats.pages_in_use);
		}
	}
	CU_ASSERT(retries > 0);
	CU_ASSERT_EQUAL(t->sm.stats.flushes[SM_FLUSH_PRESSURE], (uint64_t)retries);
	CU_ASSERT_EQUAL(t->sm.stats.pages_peak, 8);
	/* an allocator that runs dry before the cap */
	t->limit = 4;
	sm__flush_all(&t->sm, SM_FLUSH_CALLER);
	for (uint32_t i = 0; i < 64; i++) {
		enum sm_fault_result r = fault(t, i << 21, SM_PF_U);

		if (r == SM_RETRY)
			r = fault(t, i << 21, SM_PF_U);
		CU_ASSERT_EQUAL(r, SM_FIXED);
		CU_ASSERT(t->outstanding <= 4);
	}
	sm__destroy(&t->sm);
	CU_ASSERT_EQUAL(t->outstanding, 0);
	CU_ASSERT_EQUAL(t->sm.stats.pages_in_use, 0);
	smt_free(t);
}

/* A fault fills its aligned 16-page block from the same guest PT: only
 * accessed, present, RAM gptes; W only with D; U from both levels. */
static void test_prefetch(void)
{
	struct smt *t = smt_new(64, 4);
	uint32_t base = 0x00410000;	/* PT 0x2000 entries 16..31 */

	t->frames[0x30 + 5] = SM_NO_FRAME;
	for (uint32_t k = 0; k < 16; k++)
		smt_map32(t, 0x1000, 0x2000, P | W | U, base + (k << 12), (0x30 + k) << 12,
			  P | W | U | A | D);
	smt_w32(t, 0x2000 + 4 * (16 + 1), 0x31000 | P | W | U);	/* A=0 */
	smt_w32(t, 0x2000 + 4 * (16 + 2), 0x32000 | P | W | U | A);	/* D=0 */
	smt_w32(t, 0x2000 + 4 * (16 + 3), 0x33000 | P | W | A | D);	/* kernel */
	smt_w32(t, 0x2000 + 4 * (16 + 4), 0x34000 | W | U | A | D);	/* not present */
	smt_w32(t, 0x2000 + 4 * (16 + 6), 0x00800000 | P | W | U | A | D); /* beyond RAM */
	smt_w32(t, 0x2000 + 4 * (16 + 7), 0x2000 | P | W | U | A | D);	/* the guest PT */
	smt_w32(t, 0x2000 + 4 * 32, 0x40000 | P | W | U | A | D);	/* next block */
	sm__set_paging(&t->sm, CR0_PW, 0x1000, 0, 0, 0);
	CU_ASSERT_EQUAL(fault(t, base + 0x8000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x8000), smt_ma(0x38) | P | W | U | A | D);
	CU_ASSERT_EQUAL(smt_spte(t, base), smt_ma(0x30) | P | W | U | A | D);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x1000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x2000), smt_ma(0x32) | P | U | A);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x3000), smt_ma(0x33) | P | W | A | D);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x4000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x5000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x6000), 0);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x7000), smt_ma(2) | P | U | A);	/* tracked */
	CU_ASSERT_EQUAL(smt_spte(t, base + 0xf000), smt_ma(0x3f) | P | W | U | A | D);
	CU_ASSERT_EQUAL(smt_spte(t, base + 0x10000), 0);
	CU_ASSERT_EQUAL(t->sm.stats.sptes_prefetched, 11);	/* 0, 2, 3, 7, 9-15 */
	/* prefetch sets no guest bit */
	CU_ASSERT_EQUAL(smt_r32(t, 0x2000 + 4 * 17), 0x31000 | P | W | U);
	CU_ASSERT_EQUAL(smt_r32(t, 0x2000 + 4 * 18), 0x32000 | P | W | U | A);
	/* the A=0 page still faults, and the walk sets A */
	CU_ASSERT_EQUAL(fault(t, base + 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_r32(t, 0x2000 + 4 * 17), 0x31000 | P | W | U | A);
	/* PAE with XD in the PDE: neighbours get XD too */
	smt_free(t);
	t = smt_new(64, 4);
	smt_w64(t, 0x1000, 0x2000 | P);
	smt_w64(t, 0x2000, 0x3000 | P | W | U | XD);
	for (uint32_t k = 0; k < 16; k++)
		smt_w64(t, 0x3000 + 8 * k, ((0x30ull + k) << 12) | P | U | A);
	sm__set_paging(&t->sm, CR0_PW, 0x1000, SM_CR4_PAE, SM_EFER_NXE, 0);
	CU_ASSERT_EQUAL(fault(t, 0x3000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x0000), smt_ma(0x30) | P | U | A | XD);
	CU_ASSERT_EQUAL(smt_spte(t, 0xf000), smt_ma(0x3f) | P | U | A | XD);
	/* prefetch off */
	t->sm.prefetch = 0;
	sm__invlpg(&t->sm, 0x1000);
	sm__invlpg(&t->sm, 0x2000);
	CU_ASSERT_EQUAL(fault(t, 0x1000, SM_PF_U), SM_FIXED);
	CU_ASSERT_EQUAL(smt_spte(t, 0x2000), 0);
	smt_free(t);
}

static CU_TestInfo shadow_tests[] = {
	{ "build_on_fault", test_build_on_fault },
	{ "2level_quadrants", test_2level_quadrants },
	{ "pse_and_invlpg", test_pse_and_invlpg },
	{ "pae_nx", test_pae_nx },
	{ "mmio_and_paging_off", test_mmio_and_paging_off },
	{ "cr3_root_cache", test_cr3_root_cache },
	{ "mode_change_flush", test_mode_change_flush },
	{ "wp0_supervisor_write", test_wp0_supervisor_write },
	{ "page_cap", test_page_cap },
	{ "prefetch", test_prefetch },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(shadowmm, .tests = shadow_tests);
