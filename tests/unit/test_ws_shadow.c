/* tests/unit/test_ws_shadow.c — the guest page-table walker (shadowmm/) and
 * the monitor's shadow entry construction (monitor/mon-shadow.c), on plain
 * memory standing in for guest RAM. */
#include "bt/bt.h"
#include "monitor/mon.h"
#include "shadowmm/sm.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#define NFR 64			/* 256 KiB of guest RAM */
#define PD 0x1000u

static uint8_t *ram;
static uint64_t frames[NFR];
static struct sm_gmem gm;

static uint32_t *u32at(uint32_t gpa) { return (uint32_t *)(ram + gpa); }

#define SM_SPTE_ADDR_TEST 0x000ffffffffff000ull	/* a shadow entry's frame */

static void setup(void)
{
	free(ram);
	ram = aligned_alloc(4096, NFR * 4096);
	memset(ram, 0, NFR * 4096);
	for (int i = 0; i < NFR; i++)
		frames[i] = (uint64_t)i << 12;
	gm = (struct sm_gmem){ (uint64_t)(uintptr_t)ram, frames, NFR };
	/* PDE 0x20 (va 0x08000000) -> PT at 0x2000; PTE 0x48 -> frame 0x5000 */
	*u32at(PD + 0x20 * 4) = 0x2000 | SM_PTE_P | SM_PTE_W | SM_PTE_U;
	*u32at(0x2000 + 0x48 * 4) = 0x5000 | SM_PTE_P | SM_PTE_U;	/* read-only user */
	*u32at(0x2000 + 0x49 * 4) = 0x6000 | SM_PTE_P | SM_PTE_W;	/* supervisor */
	*u32at(0x2000 + 0x4a * 4) = 0x7000 | SM_PTE_P | SM_PTE_W | SM_PTE_U;
	/* a 4 MiB page at va 0x40000000 -> gpa 0 */
	*u32at(PD + 0x100 * 4) = 0x0 | SM_PTE_P | SM_PTE_W | SM_PTE_U | SM_PTE_PS;
	/* a PDE pointing outside RAM */
	*u32at(PD + 0x30 * 4) = 0x7fff000 | SM_PTE_P | SM_PTE_W | SM_PTE_U;
}

static void test_walk_ok_and_ad(void)
{
	struct sm_walk w;

	setup();
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x08048123, SM_PF_U, true, &w), SM_WALK_OK);
	CU_ASSERT_EQUAL(w.gpa, 0x5123);
	CU_ASSERT_FALSE(w.writable);
	CU_ASSERT_FALSE(w.dirty);
	CU_ASSERT(*u32at(0x2000 + 0x48 * 4) & SM_PTE_A);
	CU_ASSERT(*u32at(PD + 0x20 * 4) & SM_PTE_A);
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x0804a010, SM_PF_U | SM_PF_W, true, &w),
			SM_WALK_OK);
	CU_ASSERT_EQUAL(w.gpa, 0x7010);
	CU_ASSERT(w.writable);
	CU_ASSERT(*u32at(0x2000 + 0x4a * 4) & SM_PTE_D);
}

static void test_walk_faults(void)
{
	struct sm_walk w;

	setup();
	/* not present PDE: error code = access bits, P clear */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x10000000, SM_PF_U, true, &w), SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, SM_PF_U);
	/* not present PTE, fetch */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x08050000, SM_PF_U | SM_PF_I, true, &w),
			SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, SM_PF_U | SM_PF_I);
	/* write to a read-only user page */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x08048000, SM_PF_U | SM_PF_W, true, &w),
			SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, SM_PF_P | SM_PF_W | SM_PF_U);
	CU_ASSERT_FALSE(*u32at(0x2000 + 0x48 * 4) & SM_PTE_D);
	/* user read of a supervisor page */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x08049000, SM_PF_U, true, &w), SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, SM_PF_P | SM_PF_U);
	/* supervisor write to read-only page: faults only with CR0.WP */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x08048000, SM_PF_W, false, &w), SM_WALK_FAULT);
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, false, 0x08048000, SM_PF_W, false, &w), SM_WALK_OK);
	/* page table outside guest RAM */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x0c000000, SM_PF_U, true, &w),
			SM_WALK_BAD_GPA);
}

static void test_walk_pse(void)
{
	struct sm_walk w;

	setup();
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x40012345, SM_PF_U | SM_PF_W, true, &w),
			SM_WALK_OK);
	CU_ASSERT_EQUAL(w.gpa, 0x12345);
	CU_ASSERT(*u32at(PD + 0x100 * 4) & SM_PTE_D);
	/* without CR4.PSE the PS bit is ignored: the PDE names a page table
	 * at gpa 0, whose entry 0x12 is zero here -> not present */
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, false, true, 0x40012345, SM_PF_U, true, &w),
			SM_WALK_FAULT);
	/* reserved bit 21 in a 4 MiB PDE */
	*u32at(PD + 0x100 * 4) |= 1u << 21;
	CU_ASSERT_EQUAL(sm__walk32(&gm, PD, true, true, 0x40000000, SM_PF_U, true, &w), SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, SM_PF_P | SM_PF_U | SM_PF_RSVD);
}

/* The shadow side: a world header with a small pool. */
static struct mon_world *make_world(struct mon_shadow **sp, unsigned int pool)
{
	struct mon_world *w = calloc(1, sizeof(*w));
	struct mon_shadow *s = calloc(1, sizeof(*s));

	for (int i = 0; i < 4; i++)
		s->pd[i] = aligned_alloc(4096, 4096), memset(s->pd[i], 0, 4096);
	for (unsigned int i = 0; i < MON_POOL_PAGES; i++) {
		s->pool_kva[i] = i < pool ? aligned_alloc(4096, 4096) : NULL;
		s->pool_hpa[i] = 0x100000000ull + i * 4096ull;
	}
	w->shadow = s;
	w->gmem = gm;
	w->gmem.frames = frames;
	w->guest_cr3 = PD;
	w->guest_cr4 = 0x10;
	w->guest_cr0 = 0x80010001;
	*sp = s;
	return w;
}

static void free_world(struct mon_world *w, struct mon_shadow *s, unsigned int pool)
{
	for (int i = 0; i < 4; i++)
		free(s->pd[i]);
	for (unsigned int i = 0; i < pool; i++)
		free(s->pool_kva[i]);
	free(s);
	free(w);
}

static void test_shadow_entries(void)
{
	struct mon_shadow *s;
	struct mon_world *w;
	uint64_t *pt, e;

	setup();
	for (int i = 0; i < NFR; i++)
		frames[i] = 0x40000000ull + ((uint64_t)(NFR - 1 - i) << 12);	/* scrambled hpa */
	gm.dmap_base = (uint64_t)(uintptr_t)ram - 0x40000000ull;
	/* with scrambled frames the tables above move: rebuild them in place */
	memset(ram, 0, NFR * 4096);
	*(uint32_t *)(ram + (NFR - 1 - 1) * 4096 + 0x20 * 4) = 0x2000 | 7;		/* PD at gpa 0x1000 */
	*(uint32_t *)(ram + (NFR - 1 - 2) * 4096 + 0x48 * 4) = 0x5000 | 5;		/* PT at gpa 0x2000 */
	*(uint32_t *)(ram + (NFR - 1 - 2) * 4096 + 0x4a * 4) = 0x7000 | 7;

	w = make_world(&s, 4);
	w->gmem = gm;
	/* read of a read-only page -> read-only shadow pointing at frame 5's hpa */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048010, SM_PF_U), 0);
	pt = s->pool_kva[0];
	e = pt[0x48];
	CU_ASSERT_EQUAL(e & 0x000ffffffffff000ull, frames[5]);
	CU_ASSERT_EQUAL(e & 7, 5);				/* P, U, not W */
	CU_ASSERT_EQUAL(s->pd[0][0x08048010 >> 21] & 0xfff, 7);
	/* read of a writable clean page: read-only until the first write */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x0804a000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(pt[0x4a] & 2, 0);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x0804a000, SM_PF_U | SM_PF_W | SM_PF_P), 0);
	CU_ASSERT_EQUAL(pt[0x4a] & 7, 7);
	CU_ASSERT_EQUAL(w->n_shadow_faults, 3);
	/* write to the read-only page: a guest #PF with the CPU's error code */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U | SM_PF_W | SM_PF_P), 1);
	CU_ASSERT_EQUAL(w->exit_vector, 14);
	CU_ASSERT_EQUAL(w->exit_error, SM_PF_P | SM_PF_W | SM_PF_U);
	CU_ASSERT_EQUAL(w->exit_cr2, 0x08048000);
	/* unmapped */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x20000000, SM_PF_U), 1);
	CU_ASSERT_EQUAL(w->exit_error, SM_PF_U);
	free_world(w, s, 4);
}

static void test_shadow_pool_flush(void)
{
	struct mon_shadow *s;
	struct mon_world *w;

	setup();
	/* 4 MiB page at 0x40000000 maps gpa 0..4M, but RAM is 256 KiB: any
	 * address past the end of RAM is bad memory, not a mapping */
	w = make_world(&s, MON_POOL_PAGES);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x40000000 + NFR * 4096, SM_PF_U), -1);
	CU_ASSERT_EQUAL(w->exit_reason, MON_X_BAD_MEMORY);
	/* fill 2 MiB regions until the pool runs dry: one flush, then reuse.
	 * Every guest PDE from 0x102 on names the PT at 0x3000, whose entries
	 * 0 and 0x200 (the two 2 MiB halves) are mapped. */
	*u32at(0x3000) = 0x5000 | 7;
	*u32at(0x3000 + 0x200 * 4) = 0x6000 | 7;
	for (uint32_t i = 0; i < MON_POOL_PAGES + 1; i++) {
		uint32_t pdi = 0x102 + i / 2;	/* one 4 MiB guest region per two shadow PTs */
		*u32at(PD + pdi * 4) = 0x3000 | SM_PTE_P | SM_PTE_W | SM_PTE_U;
		CU_ASSERT_EQUAL_FATAL(mon__shadow_fault(w, (pdi << 22) + (i & 1) * 0x200000, SM_PF_U), 0);
	}
	CU_ASSERT_EQUAL(w->n_shadow_flushes, 1);
	CU_ASSERT_EQUAL(w->shadow_flushed, 1);
	CU_ASSERT_EQUAL(s->pool_used, 1);
	free_world(w, s, MON_POOL_PAGES);
}

/* System mode: MMIO/ROM holes are never mapped; writable mappings are
 * logged for the interpreter (frames that may need a watched check). */
static void test_shadow_sys_mode(void)
{
	struct mon_shadow *s;
	struct mon_world *w;
	uint64_t hole_frames[NFR];

	setup();
	w = make_world(&s, 8);
	w->sys_mode = 1;
	memcpy(hole_frames, frames, sizeof(frames));
	hole_frames[7] = SM_NO_FRAME;			/* gpa 0x7000: MMIO */
	w->gmem.frames = hole_frames;
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x0804a000, SM_PF_U), -1);
	CU_ASSERT_EQUAL(w->exit_reason, MON_X_BAD_MEMORY);
	CU_ASSERT_EQUAL(s->pool_used, 0);			/* nothing mapped */
	/* a read maps read-only and logs nothing */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(s->wlog_n, 0);
	/* a write sets D and logs the frame mapped writable */
	*u32at(0x2000 + 0x4b * 4) = 0x9000 | 7;
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x0804b000, SM_PF_U | SM_PF_W), 0);
	CU_ASSERT(*u32at(0x2000 + 0x4b * 4) & SM_PTE_D);
	CU_ASSERT_EQUAL(s->wlog_n, 1);
	CU_ASSERT_EQUAL(s->wlog[0], 9);
	free_world(w, s, 8);
}

/* The shadow is the guest's TLB: INVLPG drops the shadow entries of its
 * aligned 4 MiB region (both 2 MiB shadow PTs), and only those; a guest
 * table change without INVLPG leaves the old translation in use, as a
 * TLB entry would stay (SDM Vol. 3A 4.10.4). */
static void test_shadow_invlpg(void)
{
	struct mon_shadow *s;
	struct mon_world *w;
	uint64_t *pt_lo, *pt_hi, *pt_far;

	setup();
	w = make_world(&s, 8);
	w->sys_mode = 1;
	/* va 0x08048000 (PT 0 of the region 0x08000000) and 0x08248000 (PT
	 * 1 of it), plus the 4 MiB page at 0x40000000 elsewhere */
	*u32at(0x2000 + 0x248 * 4) = 0x8000 | SM_PTE_P | SM_PTE_U;
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08248000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x40003000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(s->pool_used, 3);
	pt_lo = s->pool_kva[(s->pd[0][0x08048000 >> 21] >> 52) & 0x3ff];
	pt_hi = s->pool_kva[(s->pd[0][0x08248000 >> 21] >> 52) & 0x3ff];
	pt_far = s->pool_kva[(s->pd[1][(0x40003000 >> 21) & 511] >> 52) & 0x3ff];
	CU_ASSERT_EQUAL(pt_lo[0x48] & SM_SPTE_ADDR_TEST, 0x5000);
	CU_ASSERT_EQUAL(pt_hi[0x48] & SM_SPTE_ADDR_TEST, 0x8000);
	CU_ASSERT_EQUAL(pt_far[3] & SM_SPTE_ADDR_TEST, 0x3000);
	/* the guest repoints the PTE without INVLPG: the shadow keeps it */
	*u32at(0x2000 + 0x48 * 4) = 0x9000 | SM_PTE_P | SM_PTE_U;
	CU_ASSERT_EQUAL(pt_lo[0x48] & SM_SPTE_ADDR_TEST, 0x5000);
	/* INVLPG of any address in the region drops both halves */
	mon__shadow_invlpg(w, 0x083ff000);
	CU_ASSERT_EQUAL(pt_lo[0x48], 0);
	CU_ASSERT_EQUAL(pt_hi[0x48], 0);
	CU_ASSERT_EQUAL(pt_far[3] & SM_SPTE_ADDR_TEST, 0x3000);
	/* the next access walks the new entry */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(pt_lo[0x48] & SM_SPTE_ADDR_TEST, 0x9000);
	/* a region without shadow PTs: nothing to do */
	mon__shadow_invlpg(w, 0x20000000);
	CU_ASSERT_EQUAL(s->pool_used, 3);
	free_world(w, s, 8);
}

/* A guest CR3 load keeps the shadows of guest-global pages (G in the leaf,
 * CR4.PGE set), as a CPU keeps global TLB entries (SDM Vol. 3A 4.10.4.1):
 * a PT of local entries only is unlinked and reused, a mixed one loses its
 * local entries, a global one stays whole. Without CR4.PGE, G means
 * nothing. */
static uint64_t win_pa[BT_WIN_BYTES >> 12];

static void test_shadow_drop_local(void)
{
	struct mon_shadow *s;
	struct mon_world *w;
	uint64_t *pt_mixed, *pt_far;
	uint32_t used;

	setup();
	w = make_world(&s, 8);
	w->sys_mode = 1;
	w->guest_cr4 = 0x90;				/* PSE, PGE */
	*u32at(PD + 0x100 * 4) |= 0x100;		/* the 4 MiB page: global */
	*u32at(0x2000 + 0x49 * 4) |= 0x100 | SM_PTE_U;	/* 0x08049000: global */
	*u32at(0x2000 + 0x248 * 4) = 0x8000 | SM_PTE_P | SM_PTE_U;	/* local */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U), 0);	/* local */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08049000, SM_PF_U), 0);	/* global */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08248000, SM_PF_U), 0);	/* local */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x40003000, SM_PF_U), 0);	/* global */
	CU_ASSERT_EQUAL_FATAL(s->pool_used, 3);
	pt_mixed = s->pool_kva[(s->pd[0][0x08048000 >> 21] >> 52) & 0x3ff];
	pt_far = s->pool_kva[(s->pd[1][(0x40003000 >> 21) & 511] >> 52) & 0x3ff];
	CU_ASSERT_NOT_EQUAL(pt_mixed[0x48], 0);
	mon__shadow_drop_local(w);
	CU_ASSERT_EQUAL(w->n_shadow_local_drops, 1);
	CU_ASSERT_EQUAL(w->n_shadow_flushes, 0);
	CU_ASSERT_EQUAL(pt_mixed[0x48], 0);
	CU_ASSERT_EQUAL(pt_mixed[0x49] & SM_SPTE_ADDR_TEST, 0x6000);
	CU_ASSERT_EQUAL(pt_far[3] & SM_SPTE_ADDR_TEST, 0x3000);
	CU_ASSERT_EQUAL(s->pd[0][0x08248000 >> 21], 0);	/* local only: unlinked */
	CU_ASSERT_EQUAL(s->pool_nfree, 1);
	/* the next region takes the freed PT, zeroed */
	used = s->pool_used;
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08248000, SM_PF_U), 0);
	CU_ASSERT_EQUAL(s->pool_used, used);
	CU_ASSERT_EQUAL(s->pool_nfree, 0);
	/* the mixed PT keeps its global entry through a second drop */
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x08048000, SM_PF_U), 0);
	mon__shadow_drop_local(w);
	CU_ASSERT_EQUAL(pt_mixed[0x48], 0);
	CU_ASSERT_EQUAL(pt_mixed[0x49] & SM_SPTE_ADDR_TEST, 0x6000);
	/* INVLPG drops global entries too */
	mon__shadow_invlpg(w, 0x40000000);
	CU_ASSERT_EQUAL(pt_far[3], 0);
	free_world(w, s, 8);

	/* CR4.PGE clear: the G bit is ignored, every entry is local; the
	 * translated-code window (the monitor's, checked free at every
	 * translated stay) is kept like a global page */
	setup();
	w = make_world(&s, 8);
	w->sys_mode = 1;
	*u32at(PD + 0x100 * 4) |= 0x100;
	w->bt_win = 0x80000000u;
	w->bt_win_pa = win_pa;
	w->bt_stay = 1;
	for (unsigned int i = 0; i < BT_WIN_BYTES >> 12; i++)
		win_pa[i] = 0x200000000ull + ((uint64_t)i << 12);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x40003000, 0), 0);
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x80000000u + BT_TC_OFF, 0), 0);
	mon__shadow_drop_local(w);
	CU_ASSERT_EQUAL(s->pd[1][(0x40003000 >> 21) & 511], 0);
	CU_ASSERT_EQUAL(s->pool_nfree, 1);
	pt_far = s->pool_kva[(s->pd[2][0] >> 52) & 0x3ff];
	CU_ASSERT_EQUAL(pt_far[BT_TC_OFF >> 12] & SM_SPTE_ADDR_TEST,
			0x200000000ull + BT_TC_OFF);
	free_world(w, s, 8);
}

/* A frame mapped writable since the last flush and now watched (code the
 * interpreter decoded or bt translated) means every shadow must go: the
 * write log answers while it holds, the bitmap after it overflowed (as it
 * does in normal use: global shadows outlive CR3 loads). */
static void test_shadow_wrote_watched(void)
{
	struct mon_shadow *s;
	struct mon_world *w;
	uint32_t code[2] = { 0, 0 }, wbits[2] = { 0, 0 };

	setup();
	w = make_world(&s, 8);
	w->sys_mode = 1;
	s->wbits = wbits;
	s->wbits_n = 2;
	CU_ASSERT_EQUAL(mon__shadow_fault(w, 0x0804a000, SM_PF_U | SM_PF_W), 0);	/* frame 7 */
	CU_ASSERT_EQUAL(wbits[0], 1u << 7);
	CU_ASSERT_FALSE(mon__shadow_wrote_watched(w));
	w->code_bits = code;
	code[0] = 1u << 9;			/* another frame watched */
	CU_ASSERT_FALSE(mon__shadow_wrote_watched(w));
	code[0] |= 1u << 7;
	CU_ASSERT_TRUE(mon__shadow_wrote_watched(w));
	/* the log overflowed: the bitmap tells */
	s->wlog_n = MON_WLOG + 1;
	CU_ASSERT_TRUE(mon__shadow_wrote_watched(w));
	code[0] = 1u << 9;
	CU_ASSERT_FALSE(mon__shadow_wrote_watched(w));
	code[1] = 1u << 3;			/* frame 35: not written */
	CU_ASSERT_FALSE(mon__shadow_wrote_watched(w));
	wbits[1] = 1u << 3;
	CU_ASSERT_TRUE(mon__shadow_wrote_watched(w));
	/* no bitmap: an overflowed log cannot tell */
	s->wbits = NULL;
	code[0] = code[1] = 0;
	CU_ASSERT_TRUE(mon__shadow_wrote_watched(w));
	free_world(w, s, 8);
}

static CU_TestInfo ws_shadow_tests[] = {
	{ "shadow_sys_mode", test_shadow_sys_mode },
	{ "shadow_invlpg", test_shadow_invlpg },
	{ "shadow_drop_local", test_shadow_drop_local },
	{ "shadow_wrote_watched", test_shadow_wrote_watched },
	{ "walk_ok_and_ad", test_walk_ok_and_ad },
	{ "walk_faults", test_walk_faults },
	{ "walk_pse", test_walk_pse },
	{ "shadow_entries", test_shadow_entries },
	{ "shadow_pool_flush", test_shadow_pool_flush },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(ws_shadow, .tests = ws_shadow_tests);
