/* tests/unit/test_shadowmm_walk.c — the guest walker (shadowmm/sm-walk.c)
 * on synthetic guest tables: every paging mode, access-rights combinations
 * with their #PF error codes, A/D setting, PSE/PSE-36, PAE, NX, reserved
 * bits, the sm__walk32 wrapper, hostile tables. Expected values are the
 * SDM's (Vol. 3A §4.3-4.8), written out literally. */
#include "tests/unit/sm_test.h"
#include "tests/unit/unit.h"

#define P	0x001u
#define W	0x002u
#define U	0x004u
#define A	0x020u
#define D	0x040u
#define PS	0x080u
#define G	0x100u
#define XD	(1ull << 63)

#define EC_P	SM_PF_P
#define EC_W	SM_PF_W
#define EC_U	SM_PF_U
#define EC_R	SM_PF_RSVD
#define EC_I	SM_PF_I

static struct sm_paging mode32(uint32_t cr3, bool pse, bool wp)
{
	return (struct sm_paging){ .cr3 = cr3, .pg = true, .pse = pse, .wp = wp, .pse36 = true,
				   .maxphyaddr = 36 };
}

/* walk, expecting a fault; returns the error code (or 0xdead on no fault) */
static uint32_t fault_of(struct smt *t, const struct sm_paging *p, uint32_t va, uint32_t acc)
{
	struct sm_gwalk g;

	if (sm__walk(&t->gmem, p, va, acc, SM_WALK_SET_AD, &g) != SM_WALK_FAULT)
		return 0xdead;
	return g.error_code;
}

static void test_2level_4k(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p = mode32(0x1000, false, true);
	uint32_t va = 0x00403123;
	struct sm_gwalk g;

	smt_map32(t, 0x1000, 0x2000, P | W | U, va, 0x5000, P | W | U);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, va, EC_U, 0, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x5123);
	CU_ASSERT_EQUAL(g.level, 1);
	CU_ASSERT_EQUAL(g.pte_gpa[2], 0x1004);
	CU_ASSERT_EQUAL(g.pte_gpa[1], 0x200c);
	CU_ASSERT(g.user && g.writable && !g.nx && !g.global && !g.dirty);
	/* without SM_WALK_SET_AD nothing is written */
	CU_ASSERT_EQUAL(smt_r32(t, 0x1004), 0x2000 | P | W | U);
	CU_ASSERT_EQUAL(smt_r32(t, 0x200c), 0x5000 | P | W | U);

	/* a read sets A at both levels, not D */
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, va, EC_U, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1004), 0x2000 | P | W | U | A);
	CU_ASSERT_EQUAL(smt_r32(t, 0x200c), 0x5000 | P | W | U | A);
	CU_ASSERT_FALSE(g.dirty);
	/* a write sets D in the PTE only (bit 6 of a PDE that points to a
	 * table is ignored, the CPU does not set it) */
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, va, EC_U | EC_W, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1004), 0x2000 | P | W | U | A);
	CU_ASSERT_EQUAL(smt_r32(t, 0x200c), 0x5000 | P | W | U | A | D);
	CU_ASSERT_TRUE(g.dirty);
	CU_ASSERT_EQUAL(g.gpte, 0x5000 | P | W | U | A | D);
	smt_free(t);
}

/* Literal error codes of §4.7 for 2-level paging. */
static void test_2level_error_codes(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging wp1 = mode32(0x1000, false, true), wp0 = mode32(0x1000, false, false);

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x1000, 0x5000, P | W);		/* kernel RW */
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x2000, 0x6000, P | U);		/* user RO */
	smt_map32(t, 0x1000, 0x3000, P | U, 0x00400000, 0x7000, P | W | U);	/* PDE RO */
	smt_map32(t, 0x1000, 0x4000, P | W, 0x00800000, 0x8000, P | W | U);	/* PDE kernel */

	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x1000, EC_U), EC_P | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x1000, EC_U | EC_W), EC_P | EC_U | EC_W);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x1000, EC_W), 0xdead);		/* kernel write */
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x2000, EC_U | EC_W), EC_P | EC_W | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x2000, EC_W), EC_P | EC_W);	/* WP=1 */
	CU_ASSERT_EQUAL(fault_of(t, &wp0, 0x2000, EC_W), 0xdead);		/* WP=0 */
	CU_ASSERT_EQUAL(fault_of(t, &wp0, 0x2000, EC_U | EC_W), EC_P | EC_W | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00400000, EC_U | EC_W), EC_P | EC_W | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00400000, EC_U), 0xdead);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00800000, EC_U), EC_P | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00800000, 0), 0xdead);
	/* not present: P=0; PDE and PTE level */
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x3000, EC_U | EC_W), EC_W | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00c00000, 0), 0);
	/* a fetch: no I/D bit without PAE+NXE, whatever the cause */
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x3000, EC_U | EC_I), EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x1000, EC_U | EC_I), EC_P | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x2000, EC_U | EC_I), 0xdead);	/* no XD here */
	/* a fault sets no A bit, at any level */
	smt_map32(t, 0x1000, 0xa000, P | W, 0x00c00000, 0xb000, P | W | U);
	CU_ASSERT_EQUAL(fault_of(t, &wp1, 0x00c00000, EC_U), EC_P | EC_U);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1000 + 4 * 3), 0xa000 | P | W);
	CU_ASSERT_EQUAL(smt_r32(t, 0xa000), 0xb000 | P | W | U);
	smt_free(t);
}

/* Every combination of U/S and R/W at both levels, both CPLs, read and
 * write, CR0.WP 0/1, against the table of §4.6.1. */
static void test_2level_rights_matrix(void)
{
	static const uint32_t fl[4] = { 0, W, U, W | U };
	struct smt *t = smt_new(64, 2);
	int checked = 0;

	for (int wp = 0; wp < 2; wp++)
	for (int a = 0; a < 4; a++)
	for (int b = 0; b < 4; b++)
	for (int acc = 0; acc < 4; acc++) {
		struct sm_paging p = mode32(0x1000, false, wp);
		uint32_t access = (acc & 1 ? EC_W : 0) | (acc & 2 ? EC_U : 0);
		bool user_ok = (fl[a] & U) && (fl[b] & U);
		bool write_ok = (fl[a] & W) && (fl[b] & W);
		bool ok = (access & EC_U) ? user_ok && (!(access & EC_W) || write_ok)
					  : !(access & EC_W) || !wp || write_ok;
		uint32_t ec;

		smt_map32(t, 0x1000, 0x2000, P | fl[a], 0x5000, 0x9000, P | fl[b]);
		ec = fault_of(t, &p, 0x5000, access);
		CU_ASSERT_EQUAL(ec, ok ? 0xdead : (EC_P | access));
		checked++;
	}
	CU_ASSERT_EQUAL(checked, 128);
	smt_free(t);
}

static void test_2level_pse(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p = mode32(0x1000, true, true);
	struct sm_gwalk g;

	smt_w32(t, 0x1000 + 4 * 2, 0x00c00000 | P | W | U | PS);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00812345, EC_W, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x00c12345);
	CU_ASSERT_EQUAL(g.level, 2);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1008), 0x00c00000 | P | W | U | PS | A | D);
	CU_ASSERT_TRUE(g.dirty);
	/* CR4.PSE=0: PS is ignored, the PDE points to a table at 12 MiB,
	 * outside the 4 MiB of guest RAM */
	p.pse = false;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00812345, 0, 0, &g), SM_WALK_BAD_GPA);
	p.pse = true;
	/* bit 21 is reserved */
	smt_w32(t, 0x1008, 0x00c00000 | P | W | U | PS | 0x00200000);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, 0), EC_P | EC_R);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, EC_U | EC_W), EC_P | EC_R | EC_U | EC_W);
	/* PSE-36 with MAXPHYADDR 36: bits 16:13 are address bits 35:32 */
	smt_w32(t, 0x1008, 0x00c00000 | P | W | U | PS | (0x5u << 13));
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00812345, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x500c12345ull);
	smt_w32(t, 0x1008, 0x00c00000 | P | W | U | PS | (1u << 17));	/* bit 36 */
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, 0), EC_P | EC_R);
	p.maxphyaddr = 40;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00812345, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x1000c12345ull);
	p.maxphyaddr = 32;
	smt_w32(t, 0x1008, 0x00c00000 | P | W | U | PS | (1u << 13));
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, 0), EC_P | EC_R);
	/* without PSE-36 (the interpreter's CPUID) all of 21:13 is reserved */
	p.maxphyaddr = 36;
	p.pse36 = false;
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, EC_W), EC_P | EC_R | EC_W);
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0x1000, SM_CR4_PSE, 0, 0), 0);
	CU_ASSERT_FALSE(p.pse36);
	CU_ASSERT_EQUAL(p.maxphyaddr, 36);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, 0), EC_P | EC_R);
	p.pse36 = true;
	/* a 4 MiB user page that is read-only: user write faults */
	p.maxphyaddr = 36;
	smt_w32(t, 0x1008, 0x00c00000 | P | U | PS);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00812345, EC_U | EC_W), EC_P | EC_U | EC_W);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1008) & A, 0);
	smt_free(t);
}

static void test_global(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p = mode32(0x1000, true, true);
	struct sm_gwalk g;

	smt_map32(t, 0x1000, 0x2000, P | W | G, 0x1000, 0x5000, P | W | G);
	smt_w32(t, 0x1000 + 4 * 1, 0x00000000 | P | W | PS | G);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x1000, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_FALSE(g.global);	/* CR4.PGE=0 */
	p.pge = true;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x1000, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_TRUE(g.global);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00400000, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_TRUE(g.global);	/* 4 MiB page, G in the PDE */
	smt_w32(t, 0x2004, 0x6000 | P);	/* PTE without G under a G PDE */
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x1000, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_FALSE(g.global);
	smt_free(t);
}

/* PAE: PDPT at 0x1000, PD 0x2000, PT 0x3000, data 0x6000. */
#define PAE_VA	0x40a07000u	/* PDPTE 1, PDE 5, PTE 7 */
static void pae_setup(struct smt *t, uint64_t pte)
{
	smt_w64(t, 0x1008, 0x2000 | P);
	smt_w64(t, 0x2000 + 8 * 5, 0x3000 | P | W | U);
	smt_w64(t, 0x3000 + 8 * 7, pte);
}

static void test_pae_basic(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p;
	struct sm_gwalk g;

	pae_setup(t, 0x6000 | P | W | U | XD);
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG | SM_CR0_WP, 0x1000, SM_CR4_PAE,
					SM_EFER_NXE, 0), 0);
	CU_ASSERT_EQUAL(p.pdpte[1], 0x2000 | P);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, PAE_VA + 0x10, EC_U | EC_W, SM_WALK_SET_AD, &g),
			SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x6010);
	CU_ASSERT_EQUAL(g.pte_gpa[3], 0x1008);
	CU_ASSERT_EQUAL(g.pte_gpa[2], 0x2028);
	CU_ASSERT_EQUAL(g.pte_gpa[1], 0x3038);
	CU_ASSERT_TRUE(g.nx);
	/* A/D in 64-bit entries keep XD; the PDPTE has no A bit */
	CU_ASSERT_EQUAL(smt_r64(t, 0x3038), 0x6000 | P | W | U | A | D | XD);
	CU_ASSERT_EQUAL(smt_r64(t, 0x2028), 0x3000 | P | W | U | A);
	CU_ASSERT_EQUAL(smt_r64(t, 0x1008), 0x2000 | P);
	/* fetch from an XD page: P|U|I; not present fetch: U|I */
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_U | EC_I), EC_P | EC_U | EC_I);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA + 0x1000, EC_U | EC_I), EC_U | EC_I);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_I), EC_P | EC_I);	/* supervisor too */
	/* XD in the PDE covers the PT */
	smt_w64(t, 0x3038, 0x6000 | P | W | U);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_U | EC_I), 0xdead);
	smt_w64(t, 0x2028, 0x3000 | P | W | U | XD);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_U | EC_I), EC_P | EC_U | EC_I);
	smt_free(t);
}

static void test_pae_reserved(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p;
	struct sm_gwalk g;

	pae_setup(t, 0x6000 | P | W | U | XD);
	/* EFER.NXE=0: bit 63 is reserved; a fetch fault has no I bit */
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0x1000, SM_CR4_PAE, 0, 36), 0);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_U), EC_P | EC_R | EC_U);
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA + 0x1000, EC_U | EC_I), EC_U);
	CU_ASSERT_EQUAL(smt_r64(t, 0x2028) & A, 0);	/* no A on a faulting walk */
	/* bits above MAXPHYADDR */
	smt_w64(t, 0x3038, 0x6000 | P | (1ull << 36));
	CU_ASSERT_EQUAL(fault_of(t, &p, PAE_VA, EC_W), EC_P | EC_R | EC_W);
	p.maxphyaddr = 40;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, PAE_VA, 0, 0, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x1000006000ull);
	p.maxphyaddr = 36;
	/* 2 MiB page: bits 20:13 reserved; the page itself */
	smt_w64(t, 0x2000 + 8 * 6, 0x00200000 | P | W | U | PS);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x40cabcde, EC_U, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x002abcde);
	CU_ASSERT_EQUAL(g.level, 2);
	CU_ASSERT_EQUAL(smt_r64(t, 0x2030), 0x00200000 | P | W | U | PS | A);
	smt_w64(t, 0x2030, 0x00200000 | P | W | U | PS | (1u << 13));
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x40cabcde, 0), EC_P | EC_R);
	/* not-present entries are not checked for reserved bits */
	smt_w64(t, 0x2030, ~1ull);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x40cabcde, 0), 0);
	/* PDPTEs: a reserved bit makes the CR3 load #GP; not present is a
	 * #PF with P=0 at walk time */
	smt_w64(t, 0x1000, 0x5000 | P | W);
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0x1000, SM_CR4_PAE, 0, 36), -1);
	smt_w64(t, 0x1000, 0x5000 | P | (1ull << 63));
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0x1000, SM_CR4_PAE, SM_EFER_NXE, 36), -1);
	smt_w64(t, 0x1000, 0);
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0x1000, SM_CR4_PAE, 0, 36), 0);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x00001000, EC_U | EC_W), EC_U | EC_W);
	/* the PDPT outside guest RAM: #GP at load */
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, SM_CR0_PG, 0xfffff000u, SM_CR4_PAE, 0, 36), -1);
	/* PAE with paging off: no PDPTE load, identity */
	CU_ASSERT_EQUAL(sm__paging_init(&p, &t->gmem, 0, 0xfffff000u, SM_CR4_PAE, 0, 36), 0);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0xdeadbeef, EC_W | EC_U, 0, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0xdeadbeef);
	smt_free(t);
}

/* The 2-level wrapper keeps the first interface's behaviour. */
static void test_walk32_wrapper(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_walk w;

	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x5000, 0x9000, P | U);
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, true, 0x5abc, SM_PF_U, true, &w), SM_WALK_OK);
	CU_ASSERT_EQUAL(w.gpa, 0x9abc);
	CU_ASSERT(w.user && !w.writable && !w.dirty);
	CU_ASSERT_EQUAL(smt_r32(t, 0x2014), 0x9000 | P | U | A);
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, false, 0x5abc, SM_PF_W, true, &w), SM_WALK_OK);
	CU_ASSERT_TRUE(w.writable);	/* supervisor, WP=0 */
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, true, 0x5abc, SM_PF_U | SM_PF_W, true, &w),
			SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, EC_P | EC_U | EC_W);
	/* the I bit of the request stays in the error code (its callers
	 * compare with a 64-bit host) */
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, true, 0, SM_PF_U | SM_PF_I, true, &w),
			SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, EC_U | EC_I);
	/* a 4 MiB page above 4 GiB is BAD_GPA; bit 21 reserved */
	smt_w32(t, 0x1000 + 4 * 3, 0x00400000 | P | PS | (1u << 13));
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, true, 0x00c00000, 0, false, &w), SM_WALK_BAD_GPA);
	smt_w32(t, 0x100c, 0x00400000 | P | PS | (1u << 21));
	CU_ASSERT_EQUAL(sm__walk32(&t->gmem, 0x1000, true, true, 0x00c00000, 0, false, &w), SM_WALK_FAULT);
	CU_ASSERT_EQUAL(w.error_code, EC_P | EC_R);
	smt_free(t);
}

/* Garbage: tables outside RAM or in a hole, all-ones entries, a page
 * directory that maps itself. Always a clean result. */
static void test_hostile_tables(void)
{
	struct smt *t = smt_new(64, 2);
	struct sm_paging p = mode32(0x1000, true, true), pa;
	struct sm_gwalk g;

	/* CR3 outside RAM */
	p.cr3 = 0x7ffff000;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x1000, 0, SM_WALK_SET_AD, &g), SM_WALK_BAD_GPA);
	p.cr3 = 0x1000;
	/* PT in a hole */
	t->frames[3] = SM_NO_FRAME;
	smt_map32(t, 0x1000, 0x3000, P | W | U, 0x1000, 0x5000, P);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x1000, 0, SM_WALK_SET_AD, &g), SM_WALK_BAD_GPA);
	CU_ASSERT_EQUAL(smt_r32(t, 0x1000), 0x3000 | P | W | U);	/* no A */
	/* all-ones PDE: with PSE bit 21 is reserved; without, the PT is at
	 * 0xfffff000, outside RAM */
	smt_w32(t, 0x1000 + 4 * 5, 0xffffffffu);
	CU_ASSERT_EQUAL(fault_of(t, &p, 0x01400000, EC_U), EC_P | EC_R | EC_U);
	p.pse = false;
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x01400000, EC_U, SM_WALK_SET_AD, &g), SM_WALK_BAD_GPA);
	/* all-ones PTE: a valid translation to 0xfffff000 (not RAM: the
	 * shadow treats it as MMIO) */
	smt_map32(t, 0x1000, 0x2000, P | W | U, 0x00800000, 0, 0);
	smt_w32(t, 0x2000, 0xffffffffu);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0x00800123, EC_U | EC_W, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0xfffff123u);
	/* a PD that maps itself as a PT at PDE 0x300 (recursive mapping):
	 * va 0xc0300000 + 4*k reaches PD entry k (0xc0300c00: entry 0x300) */
	smt_w32(t, 0x1000 + 4 * 0x300, 0x1000 | P | W);
	CU_ASSERT_EQUAL(sm__walk(&t->gmem, &p, 0xc0300c00u, EC_W, SM_WALK_SET_AD, &g), SM_WALK_OK);
	CU_ASSERT_EQUAL(g.gpa, 0x1c00);
	CU_ASSERT_EQUAL(g.pte_gpa[2], 0x1c00);
	CU_ASSERT_EQUAL(g.pte_gpa[1], 0x1c00);
	/* one entry as PDE and PTE: A from the PDE step, D from the PTE */
	CU_ASSERT_EQUAL(smt_r32(t, 0x1c00), 0x1000 | P | W | A | D);
	/* PAE: all-ones PDE and PTE are reserved-bit faults */
	smt_w64(t, 0x8000, 0x9000 | P);
	smt_w64(t, 0x9000, ~0ull);
	CU_ASSERT_EQUAL(sm__paging_init(&pa, &t->gmem, SM_CR0_PG, 0x8000, SM_CR4_PAE, SM_EFER_NXE, 0), 0);
	CU_ASSERT_EQUAL(fault_of(t, &pa, 0x00000000, EC_U), EC_P | EC_R | EC_U);
	smt_w64(t, 0x9000, 0xa000 | P | W | U);
	smt_w64(t, 0xa000, ~0ull);
	CU_ASSERT_EQUAL(fault_of(t, &pa, 0x00000000, EC_U | EC_I), EC_P | EC_R | EC_U | EC_I);
	/* PAE PDPTE all-ones: #GP at load */
	smt_w64(t, 0x8000, ~0ull);
	CU_ASSERT_EQUAL(sm__paging_init(&pa, &t->gmem, SM_CR0_PG, 0x8000, SM_CR4_PAE, SM_EFER_NXE, 0), -1);
	smt_free(t);
}

static CU_TestInfo walk_tests[] = {
	{ "2level_4k_ad", test_2level_4k },
	{ "2level_error_codes", test_2level_error_codes },
	{ "2level_rights_matrix", test_2level_rights_matrix },
	{ "2level_pse_pse36", test_2level_pse },
	{ "global", test_global },
	{ "pae_basic_nx", test_pae_basic },
	{ "pae_reserved", test_pae_reserved },
	{ "walk32_wrapper", test_walk32_wrapper },
	{ "hostile_tables", test_hostile_tables },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(shadowmm_walk, .tests = walk_tests);
