/* shadowmm/sm-shadow.c — shadow page tables of the guest's low 4 GiB in the
 * 4-level (IA-32e) format of the monitor world, built on demand at shadow
 * page faults from the guest walk; cached roots per guest CR3; flushes.
 *
 * Tree of one root (docs/shadowmm.md has the picture):
 *   root (level 3, the PDPT installed in PML4[0]; entries 0-3 only)
 *     -> PD (level 2, 1 GiB): shadows a guest PD (2-level: quadrant k of
 *        the one guest PD, entries 256k..256k+255; PAE: the PD of PDPTE k)
 *       -> PT (level 1, 2 MiB): shadows a guest PT (2-level: half q of a
 *          1024-entry guest PT; PAE: the whole PT), or a 2 MiB part of a
 *          guest large page ("large", no guest table behind it).
 * Leaf sptes are always 4 KiB (a guest 4 MiB / 2 MiB page becomes 4 KiB
 * sptes): write protection of guest page tables and MMIO holes work per
 * 4 KiB page, at the cost of one PT per 2 MiB.
 * Invariants: every shadow page is reachable from exactly one root; a
 * non-leaf spte holds its child's index in bits 62:52; every page with a
 * gfn is in the gfn hash; pages_in_use <= max_pages.
 */
#include "shadowmm/sm-int.h"

static void sm_zero(uint64_t *pt)
{
	for (int i = 0; i < 512; i++)
		pt[i] = 0;
}

/* A new shadow page, or SM_NIL when the cap is reached or the allocator is
 * dry. A page with a gfn starts write-tracking that guest frame. */
static uint16_t sm_page_new(struct sm *sm, uint8_t level, uint32_t gfn, uint8_t quadrant,
			    uint8_t large)
{
	struct sm_page *p;
	uint64_t ma = 0;
	uint16_t idx;
	void *pg;

	if (sm->stats.pages_in_use >= sm->max_pages || sm->free_head == SM_NIL)
		return SM_NIL;
	pg = sm->alloc.page_alloc(sm->alloc.opaque, &ma);
	if (!pg)
		return SM_NIL;
	idx = sm->free_head;
	p = &sm->pages[idx];
	sm->free_head = p->hnext;
	p->pt = pg;
	p->ma = ma & SM_SPTE_ADDR;
	p->gfn = gfn;
	p->hnext = SM_NIL;
	p->parent = SM_NIL;
	p->pindex = 0;
	p->level = level;
	p->quadrant = quadrant;
	p->large = large;
	p->in_use = 1;
	sm_zero(p->pt);
	if (++sm->stats.pages_in_use > sm->stats.pages_peak)
		sm->stats.pages_peak = sm->stats.pages_in_use;
	if (gfn != SM_NO_GFN)
		sm__track_add(sm, idx);
	return idx;
}

/* Free page @idx and everything below it (the parent entry is the
 * caller's business). */
static void sm_page_free(struct sm *sm, uint16_t idx)
{
	struct sm_page *p = &sm->pages[idx];

	if (p->level > 1) {
		for (int i = 0; i < 512; i++) {
			if (p->pt[i] & SM_SPTE_P)
				sm_page_free(sm, sm__child_index(p->pt[i]));
		}
	}
	if (p->gfn != SM_NO_GFN)
		sm__track_del(sm, idx);
	sm->alloc.page_free(sm->alloc.opaque, p->pt, p->ma);
	p->in_use = 0;
	p->pt = NULL;
	p->hnext = sm->free_head;
	sm->free_head = idx;
	sm->stats.pages_in_use--;
}

void sm__drop_child(struct sm *sm, uint16_t parent, unsigned int index)
{
	uint64_t *e = &sm->pages[parent].pt[index];

	if (*e & SM_SPTE_P) {
		uint16_t c = sm__child_index(*e);

		*e = 0;
		sm_page_free(sm, c);
		sm->flush_tlb = true;
	}
}

/* Empty a root (keep its page). */
static void sm_root_clear(struct sm *sm, int slot)
{
	for (int i = 0; i < 4; i++)
		sm__drop_child(sm, sm->roots[slot].page, i);
}

static void sm_root_free(struct sm *sm, int slot)
{
	sm_page_free(sm, sm->roots[slot].page);
	sm->roots[slot].page = SM_NIL;
}

/* Make room after an allocation failure: free the least recently used root
 * other than the current one; when there is none, empty the current one. */
static void sm_reclaim(struct sm *sm)
{
	int lru = -1;

	for (int i = 0; i < (int)sm->nroots; i++) {
		if (i == sm->cur || sm->roots[i].page == SM_NIL)
			continue;
		if (lru < 0 || sm->roots[i].stamp < sm->roots[lru].stamp)
			lru = i;
	}
	if (lru >= 0)
		sm_root_free(sm, lru);
	else if (sm->cur >= 0)
		sm_root_clear(sm, sm->cur);
	sm->stats.flushes[SM_FLUSH_PRESSURE]++;
}

int sm__init(struct sm *sm, const struct sm_gmem *m, const struct sm_alloc *alloc,
	     uint32_t max_pages, uint32_t nroots)
{
	if (max_pages < 8 || max_pages > SM_MAX_PAGES || nroots < 1 || nroots > SM_MAX_ROOTS ||
	    !alloc->page_alloc || !alloc->page_free)
		return -1;
	sm->gmem = *m;
	sm->alloc = *alloc;
	sm->paging = (struct sm_paging){ .maxphyaddr = 36 };
	sm->max_pages = max_pages;
	sm->nroots = nroots;
	sm->prefetch = 16;
	sm->cur = -1;
	sm->clock = 0;
	sm->flush_tlb = false;
	sm->track_notify = NULL;
	sm->notify_opaque = NULL;
	for (uint32_t i = 0; i < SM_MAX_PAGES; i++) {
		sm->pages[i].in_use = 0;
		sm->pages[i].hnext = i + 1 < max_pages ? (uint16_t)(i + 1) : SM_NIL;
	}
	sm->free_head = 0;
	for (int i = 0; i < SM_HASH; i++)
		sm->hash[i] = SM_NIL;
	for (int i = 0; i < SM_MAX_ROOTS; i++)
		sm->roots[i].page = SM_NIL;
	sm__rmap_reset(sm);
	sm->stats = (struct sm_stats){ 0 };
	return 0;
}

void sm__destroy(struct sm *sm)
{
	for (int i = 0; i < (int)sm->nroots; i++) {
		if (sm->roots[i].page != SM_NIL)
			sm_root_free(sm, i);
	}
	sm->cur = -1;
	sm__rmap_reset(sm);
}

void sm__flush_all(struct sm *sm, enum sm_flush_cause cause)
{
	/* The current root page stays (PML4[0] points to it); the rest goes. */
	for (int i = 0; i < (int)sm->nroots; i++) {
		if (sm->roots[i].page == SM_NIL)
			continue;
		if (i == sm->cur)
			sm_root_clear(sm, i);
		else
			sm_root_free(sm, i);
	}
	sm->flush_tlb = true;
	sm->stats.flushes[cause]++;
	sm__rmap_reset(sm);	/* no shadow PT is left */
}

/* The part of CR3 that locates the guest tables (PCD/PWT and ignored bits
 * do not make another address space); nothing with paging off. */
static uint32_t sm_root_key(const struct sm *sm)
{
	if (!sm->paging.pg)
		return 0;
	return sm->paging.cr3 & (sm->paging.pae ? 0xffffffe0u : 0xfffff000u);
}

static bool sm_root_matches(const struct sm *sm, const struct sm_root *r)
{
	if (r->page == SM_NIL || r->cr3 != sm_root_key(sm))
		return false;
	for (int i = 0; i < 4; i++) {
		if (r->pdpte[i] != sm->paging.pdpte[i])
			return false;
	}
	return true;
}

/* Make the root for the current paging state current: a cached one, or a
 * new one in a free or the least recently used slot. 0 or -2. */
static int sm_root_select(struct sm *sm)
{
	int slot = -1;
	uint16_t page;

	for (int i = 0; i < (int)sm->nroots; i++) {
		if (sm_root_matches(sm, &sm->roots[i])) {
			sm->cur = i;
			sm->roots[i].stamp = ++sm->clock;
			sm->stats.root_hits++;
			return 0;
		}
	}
	sm->stats.root_misses++;
	for (int i = 0; i < (int)sm->nroots; i++) {
		if (sm->roots[i].page == SM_NIL) {
			slot = i;
			break;
		}
		if (slot < 0 || sm->roots[i].stamp < sm->roots[slot].stamp)
			slot = i;
	}
	if (sm->roots[slot].page != SM_NIL) {
		sm_root_free(sm, slot);
		sm->stats.flushes[SM_FLUSH_ROOT_EVICT]++;
	}
	/* The old current root does not match the new paging state: never
	 * build into it, even if no page can be had for the new one. */
	sm->cur = -1;
	page = sm_page_new(sm, 3, SM_NO_GFN, 0, 0);
	if (page == SM_NIL) {
		sm_reclaim(sm);
		page = sm_page_new(sm, 3, SM_NO_GFN, 0, 0);
		if (page == SM_NIL)
			return -2;
	}
	sm->roots[slot] = (struct sm_root){ .page = page, .cr3 = sm_root_key(sm),
					    .stamp = ++sm->clock };
	for (int i = 0; i < 4; i++)
		sm->roots[slot].pdpte[i] = sm->paging.pdpte[i];
	sm->cur = slot;
	sm->flush_tlb = true;
	return 0;
}

int sm__set_paging(struct sm *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint64_t efer,
		   unsigned int maxphyaddr)
{
	struct sm_paging n, *o = &sm->paging;

	if (sm__paging_init(&n, &sm->gmem, cr0, cr3, cr4, efer, maxphyaddr) < 0)
		return -1;
	if (sm->cur >= 0 && (n.pg != o->pg || n.pae != o->pae || n.pse != o->pse ||
			     n.wp != o->wp || n.pge != o->pge || n.nxe != o->nxe ||
			     n.maxphyaddr != o->maxphyaddr))
		sm__flush_all(sm, SM_FLUSH_MODE);
	*o = n;
	return sm_root_select(sm);
}

uint64_t sm__root_entry(const struct sm *sm)
{
	if (sm->cur < 0)
		return 0;
	return sm->pages[sm->roots[sm->cur].page].ma | SM_SPTE_TABLE;
}

/* The child of @parent at @index for (@gfn, @quadrant, @large), made when
 * missing; a child that shadows something else (the guest changed an entry
 * without our seeing the write) is dropped first. SM_NIL when out of pages. */
static uint16_t sm_child(struct sm *sm, uint16_t parent, unsigned int index, uint8_t level,
			 uint32_t gfn, uint8_t quadrant, uint8_t large)
{
	uint64_t *e = &sm->pages[parent].pt[index];
	uint16_t c;

	if (*e & SM_SPTE_P) {
		struct sm_page *cp = &sm->pages[sm__child_index(*e)];

		if (cp->gfn == gfn && cp->quadrant == quadrant && cp->large == large)
			return sm__child_index(*e);
		sm__drop_child(sm, parent, index);
	}
	c = sm_page_new(sm, level, gfn, quadrant, large);
	if (c == SM_NIL)
		return SM_NIL;
	/* sm_page_new may have write-protected entries; ours is still free. */
	sm->pages[c].parent = parent;
	sm->pages[c].pindex = (uint16_t)index;
	*e = sm->pages[c].ma | SM_SPTE_TABLE | ((uint64_t)c << SM_SPTE_IDX_SHIFT);
	return c;
}

/* Does the present spte @e already allow access @acc? */
static bool sm_spte_allows(uint64_t e, uint32_t acc)
{
	if (!(e & SM_SPTE_P))
		return false;
	if ((acc & SM_PF_W) && !(e & SM_SPTE_W))
		return false;
	if ((acc & SM_PF_U) && !(e & SM_SPTE_U))
		return false;
	if ((acc & SM_PF_I) && (e & SM_PTE_XD))
		return false;
	return true;
}

/* Prefetch: with the spte for @va, build the other not-yet-present sptes
 * of its aligned block of sm->prefetch pages from the same guest PDE: only
 * for gptes that are present, already accessed (A=1, so a CPU could have
 * cached them too), free of reserved bits and mapping RAM; writable only
 * with D=1 and an untracked frame. Sets no guest bit. */
static void sm_prefetch(struct sm *sm, uint16_t pt, uint32_t va, const struct sm_gwalk *g)
{
	const struct sm_paging *pg = &sm->paging;
	unsigned int n = sm->prefetch, self = (va >> 12) & 511, first = self & ~(n - 1);
	uint64_t *spt = sm->pages[pt].pt, pde = 0, rsvd = sm__pte_rsvd(pg);
	unsigned int esz = pg->pae ? 8 : 4;
	const void *pdep = NULL;

	if (n < 2 || n > 512 || (n & (n - 1)) || !pg->pg)
		return;
	if (g->level == 1) {
		pdep = sm__gpa_host(&sm->gmem, g->pte_gpa[2]);
		if (!pdep)
			return;
		pde = pg->pae ? *(const volatile uint64_t *)pdep : *(const volatile uint32_t *)pdep;
	}
	for (unsigned int j = first; j < first + n; j++) {
		uint64_t e, gfn, spte;
		bool user, wr, dirty, nx;

		if (j == self || spt[j])
			continue;
		if (g->level == 2) {
			/* the same guest large page (4 MiB / 2 MiB) */
			e = g->gpte;
			gfn = (g->gpa >> 12) - self + j;
			user = g->user;
			wr = g->writable;
			dirty = g->dirty;
			nx = g->nx;
		} else {
			/* guest entry of shadow index j: same guest PT, the
			 * 2-level quadrant offset cancels out */
			uint64_t pta = g->pte_gpa[1] - (uint64_t)esz * self + (uint64_t)esz * j;
			const void *ptep = sm__gpa_host(&sm->gmem, pta);

			if (!ptep)
				return;
			e = pg->pae ? *(const volatile uint64_t *)ptep : *(const volatile uint32_t *)ptep;
			if (!(e & SM_SPTE_P) || !(e & SM_SPTE_A) || (e & rsvd))
				continue;
			gfn = (pg->pae ? (e & ((1ull << pg->maxphyaddr) - 1)) : (e & 0xffffffffull)) >> 12;
			user = (pde & e & SM_SPTE_U) != 0;
			wr = (pde & e & SM_SPTE_W) != 0;
			dirty = (e & SM_SPTE_D) != 0;
			nx = pg->pae && pg->nxe && ((pde | e) & SM_PTE_XD);
		}
		if (gfn >= sm->gmem.nframes || sm->gmem.frames[gfn] == SM_NO_FRAME)
			continue;
		spte = (sm->gmem.frames[gfn] & SM_SPTE_ADDR) | SM_SPTE_P | SM_SPTE_A;
		if (user)
			spte |= SM_SPTE_U;
		if (wr && dirty && !sm__gfn_tracked(sm, (uint32_t)gfn)) {
			spte |= SM_SPTE_W | SM_SPTE_D;
			sm__rmap_add(sm, pt, j, (uint32_t)gfn);
		}
		if (nx)
			spte |= SM_PTE_XD;
		spt[j] = spte;
		sm->stats.sptes_prefetched++;
	}
}

enum sm_fault_result sm__fault(struct sm *sm, uint32_t va, uint32_t err, struct sm_fault_out *out)
{
	const struct sm_paging *pg = &sm->paging;
	uint32_t acc = err & (SM_PF_W | SM_PF_U | SM_PF_I);
	uint32_t pd_gfn = SM_NO_GFN, pt_gfn = SM_NO_GFN;
	uint8_t pd_quad = 0, pt_quad = 0, large = 1;
	struct sm_gwalk g;
	uint64_t gfn, spte, *sp;
	uint16_t pd, pt;
	bool sup_force;

	out->error_code = 0;
	out->gpa = 0;
	if (sm->cur < 0 && sm_root_select(sm) < 0)
		return SM_RETRY;
	switch (sm__walk(&sm->gmem, pg, va, acc, SM_WALK_SET_AD, &g)) {
	case SM_WALK_OK:
		break;
	case SM_WALK_FAULT:
		sm->stats.guest_faults++;
		out->error_code = g.error_code;
		return SM_GUEST_FAULT;
	case SM_WALK_BAD_GPA:
		return SM_BAD_GPA;
	default:
		return SM_RETRY;
	}
	out->gpa = g.gpa;
	gfn = g.gpa >> 12;
	if (gfn >= sm->gmem.nframes || sm->gmem.frames[gfn] == SM_NO_FRAME) {
		sm->stats.mmio_faults++;
		return SM_MMIO;
	}

	/* What the shadow PD and PT at va shadow (see the tree above). */
	if (pg->pg) {
		pd_gfn = (uint32_t)(g.pte_gpa[2] >> 12);
		pd_quad = pg->pae ? 0 : (uint8_t)(va >> 30);
		if (g.level == 1) {
			pt_gfn = (uint32_t)(g.pte_gpa[1] >> 12);
			pt_quad = pg->pae ? 0 : (uint8_t)((va >> 21) & 1);
			large = 0;
		}
	}
	pd = sm_child(sm, sm->roots[sm->cur].page, va >> 30, 2, pd_gfn, pd_quad, 0);
	pt = pd == SM_NIL ? SM_NIL : sm_child(sm, pd, (va >> 21) & 511, 1, pt_gfn, pt_quad, large);
	if (pt == SM_NIL) {
		sm_reclaim(sm);
		return SM_RETRY;
	}

	/* A write to a guest page table that has shadows is emulated, so
	 * the shadows can follow it (after the PT above: it may track gfn). */
	if ((acc & SM_PF_W) && sm__gfn_tracked(sm, (uint32_t)gfn)) {
		sm->stats.emulate_faults++;
		return SM_EMULATE;
	}

	/* The leaf. U from the guest (kernel pages U=0: CPL 3 cannot reach
	 * them, CPL 1 can); W only when the guest allows it, D is already
	 * set (else the first write must fault so D gets set) and the frame
	 * is no tracked page table; XD from the guest (PAE + NXE only).
	 * CR0.WP=0: a supervisor write to a read-only page is allowed, so
	 * the spte becomes W=1 U=0 until a user access wants it back (as
	 * KVM does); CPL 1 runs under the monitor's CR0.WP=1. */
	sup_force = !g.writable && !pg->wp && (acc & SM_PF_W) && !(acc & SM_PF_U);
	spte = (sm->gmem.frames[gfn] & SM_SPTE_ADDR) | SM_SPTE_P | SM_SPTE_A;
	if (g.user && !sup_force)
		spte |= SM_SPTE_U;
	if ((g.writable || sup_force) && g.dirty && !sm__gfn_tracked(sm, (uint32_t)gfn))
		spte |= SM_SPTE_W | SM_SPTE_D;
	if (g.nx)
		spte |= SM_PTE_XD;

	sp = &sm->pages[pt].pt[(va >> 12) & 511];
	if ((spte & SM_SPTE_W) && (*sp & (SM_SPTE_W | SM_SPTE_ADDR)) != (spte & (SM_SPTE_W | SM_SPTE_ADDR)))
		sm__rmap_add(sm, pt, (va >> 12) & 511, (uint32_t)gfn);
	if (sm_spte_allows(*sp, acc)) {
		*sp = spte;
		sm->stats.spurious_faults++;
		return SM_SPURIOUS;
	}
	*sp = spte;
	sm->stats.sptes_built++;
	sm->stats.shadow_faults++;
	sm_prefetch(sm, pt, va, &g);
	return SM_FIXED;
}
