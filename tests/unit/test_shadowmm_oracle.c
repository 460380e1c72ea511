/* tests/unit/test_shadowmm_oracle.c — the shadowmm walker against the
 * interpreter's paging (monitor/cpu-mem.c), the project's oracle: random
 * guest tables, every mode (2-level with and without PSE, PAE with and
 * without NXE, WP, PGE), CPL 0 and 3, read/write/fetch. Both must agree on
 * fault or not, the #PF error code, CR2, the physical address and every
 * A/D bit written. Disagreements the SDM decides against the interpreter
 * are counted by kind (see docs/shadowmm.md, "Interpreter differences");
 * any other disagreement fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/cpu-internal.h"
#include "shadowmm/shadowmm.h"
#include "tests/unit/cpu-bed.h"
#include "tests/unit/unit.h"

#define RAM_SIZE	(4u << 20)
#define TBL_FRAMES	16		/* frames 0..15 hold the random tables */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_tables(uint8_t *ram)
{
	for (unsigned int i = 0; i < TBL_FRAMES * 1024; i++) {
		uint32_t *w = (uint32_t *)ram + i;
		uint64_t r = rnd();

		if (i & 1)	/* a PAE high word: mostly 0, sometimes XD or anything */
			*w = (r & 3) ? 0 : (r & 4) ? 0x80000000u : (uint32_t)(r >> 32);
		else if (r & 7)	/* an entry into the table frames, random flags,
				 * mostly present, user and writable */
			*w = (uint32_t)((r >> 8) % TBL_FRAMES) << 12 | (uint32_t)(r >> 40 & 0xfff) |
			     ((r >> 52) & 7 ? 1u : 0) | ((r >> 55) & 3 ? 4u : 0) |
			     ((r >> 57) & 3 ? 2u : 0);
		else
			*w = (uint32_t)(r >> 32);
	}
}

enum { K_NX_RSVD, K_PSE_RSVD, K_GPA_HIGH, K_KINDS };
static const char *const kind_name[K_KINDS] = {
	"XD with EFER.NXE=1 taken as reserved",
	"2-level 4 MiB PDE bits 21:13 not checked (no PSE-36)",
	"physical address above 4 GiB truncated",
};

static uint64_t entry_at(const uint8_t *snap, uint64_t gpa, bool pae)
{
	uint64_t v = 0;

	if (gpa + 8 <= TBL_FRAMES * 4096u)
		memcpy(&v, snap + gpa, pae ? 8 : 4);
	return v;
}

static void test_walker_vs_interpreter(void)
{
	struct bed *b = bed__new(RAM_SIZE, 0);
	struct cpu *cpu = b->cpu;
	uint64_t frames[RAM_SIZE >> 12];
	struct sm_gmem gm = { (uint64_t)(uintptr_t)b->ram, frames, RAM_SIZE >> 12 };
	static uint8_t snap[TBL_FRAMES * 4096], after[TBL_FRAMES * 4096];
	int compared = 0, faults = 0, known[K_KINDS] = { 0 }, bad = 0;

	for (unsigned int i = 0; i < RAM_SIZE >> 12; i++)
		frames[i] = (uint64_t)i << 12;
	for (int it = 0; it < 40000; it++) {
		struct sm_paging p;
		struct sm_gwalk g;
		uint32_t cr0, cr4, cr3, va, acc, gpa32 = 0;
		uint64_t efer, pde;
		int kind = (int)(rnd() % 3), cpl = (rnd() & 1) ? 3 : 0, r, rc;
		uint8_t byte, *host;

		if (it % 32 == 0)
			fill_tables(b->ram);
		cr0 = SM_CR0_PG | ((rnd() & 3) ? SM_CR0_WP : 0) | 1;	/* PE */
		cr4 = (uint32_t)rnd() & (SM_CR4_PSE | SM_CR4_PAE | SM_CR4_PGE);
		efer = (rnd() & 1) ? SM_EFER_NXE : 0;
		cr3 = (uint32_t)(rnd() % TBL_FRAMES) << 12 | ((cr4 & SM_CR4_PAE) ? (uint32_t)(rnd() & 0xfe0) : 0);
		va = (uint32_t)rnd();
		acc = (kind == 1 ? SM_PF_W : kind == 2 ? SM_PF_I : 0) | (cpl == 3 ? SM_PF_U : 0);
		if ((cr4 & SM_CR4_PAE) && (rnd() & 7)) {
			/* mostly valid PDPTEs, so PAE walks get past the load */
			for (int k = 0; k < 4; k++) {
				uint64_t *e = (uint64_t *)(b->ram + cr3 + 8 * k);

				*e &= 0x0000000ffffffe19ull;
			}
		}
		if (sm__paging_init(&p, &gm, cr0, cr3, cr4, efer, 0) < 0)
			continue;	/* #GP at the CR3 load: the interpreter differs */

		memcpy(snap, b->ram, sizeof(snap));
		r = sm__walk(&gm, &p, va, acc, SM_WALK_SET_AD, &g);
		memcpy(after, b->ram, sizeof(after));
		memcpy(b->ram, snap, sizeof(snap));
		if (r == SM_WALK_BAD_GPA)
			continue;	/* the interpreter reads all-ones there */

		cpu->cr0 = cr0;
		cpu->cr3 = cr3;
		cpu->cr4 = cr4;
		cpu->efer = efer;
		cpu->cpl = (unsigned int)cpl;
		cpu->a20_mask = ~0u;
		cpu->pending_exc = -1;
		cpu->cr2 = 0;
		mem__tlb_flush(cpu, true);
		if (kind == 0)
			rc = mem__lin_read(cpu, va, &byte, 1, ACC_R);
		else if (kind == 1)
			rc = mem__lin_probe_write(cpu, va, 1, ACC_W);
		else
			rc = mem__fetch_xlate(cpu, va, &gpa32, &host);

		/* Which known difference could explain a disagreement? */
		int why = -1;
		uint64_t e2 = entry_at(snap, g.pte_gpa[2], p.pae), e1 = 0;

		pde = e2;
		if ((pde & 1) && !((pde & 0x80) && (p.pae || p.pse)))	/* the PTE was read */
			e1 = entry_at(snap, g.pte_gpa[1], p.pae);
		if (p.pae && p.nxe && (((e2 & 1) && (e2 >> 63)) || ((e1 & 1) && (e1 >> 63)) ||
				       (p.pdpte[va >> 30] >> 63)))
			why = K_NX_RSVD;
		else if (!p.pae && p.pse && (pde & 0x81) == 0x81 && (pde & 0x3fe000))
			why = K_PSE_RSVD;
		else if (r == SM_WALK_OK && (g.gpa >> 32))
			why = K_GPA_HIGH;

		bool same = (rc != 0) == (r == SM_WALK_FAULT);

		if (same && rc) {
			same = cpu->pending_exc == 14 && cpu->pending_err == g.error_code &&
			       cpu->cr2 == va;
		}
		if (same && !rc && kind == 2)
			same = gpa32 == (uint32_t)g.gpa && !(g.gpa >> 32);
		if (same)
			same = memcmp(b->ram, after, sizeof(after)) == 0;
		compared++;
		faults += r == SM_WALK_FAULT;
		if (same)
			continue;
		if (why >= 0) {
			known[why]++;
		} else {
			bad++;
			if (bad <= 5)
				fprintf(stderr, "oracle: va %08x acc %x cr0 %08x cr3 %08x cr4 %x efer %llx: "
					"sm r=%d err %x gpa %llx / interp rc=%d exc %d err %x gpa %x; tables %s\n",
					va, acc, cr0, cr3, cr4, (unsigned long long)efer, r, g.error_code,
					(unsigned long long)g.gpa, rc, cpu->pending_exc, cpu->pending_err,
					gpa32, memcmp(b->ram, after, sizeof(after)) ? "differ" : "same");
		}
		memcpy(b->ram, after, sizeof(after));	/* continue from the SDM's state */
	}
	if (getenv("SMT_VERBOSE") || bad) {
		fprintf(stderr, "oracle: %d compared (%d faults), %d unexplained\n", compared, faults, bad);
		for (int k = 0; k < K_KINDS; k++)
			fprintf(stderr, "oracle: interpreter differs (%s): %d\n", kind_name[k], known[k]);
	}
	CU_ASSERT(compared > 20000);
	CU_ASSERT(faults > 2000 && compared - faults > 2000);
	CU_ASSERT_EQUAL(bad, 0);
	bed__free(b);
}

static CU_TestInfo oracle_tests[] = {
	{ "walker_vs_interpreter", test_walker_vs_interpreter },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(shadowmm_oracle, .tests = oracle_tests);
