/* shadowmm/sm-track.c — keeping shadows in step with the guest's tables:
 * write tracking of guest page-table pages that have shadows (a hash from
 * guest frame to the shadow pages derived from it), the write protection
 * of sptes that map such frames, the reaction to a guest write into one,
 * and INVLPG.
 *
 * Why tracking: cached roots survive guest CR3 switches, so the CPU's rule
 * "a MOV to CR3 flushes the TLB" no longer refreshes them; instead every
 * write to a shadowed guest table is seen (natively it faults on the
 * read-only spte and is emulated; the interpreter and DMA paths ask
 * sm__gfn_tracked) and the sptes derived from the entries written are
 * dropped, to be rebuilt lazily at the next shadow fault.
 */
#include "shadowmm/sm-int.h"

bool sm__gfn_tracked(const struct sm *sm, uint32_t gfn)
{
	for (uint16_t i = sm->hash[sm__hash(gfn)]; i != SM_NIL; i = sm->pages[i].hnext) {
		if (sm->pages[i].gfn == gfn)
			return true;
	}
	return false;
}

void sm__rmap_reset(struct sm *sm)
{
	for (int i = 0; i < SM_HASH; i++)
		sm->rmap_head[i] = SM_NIL;
	for (int i = 0; i < SM_RMAP_ENTS; i++)
		sm->rmap[i].next = i + 1 < SM_RMAP_ENTS ? (uint16_t)(i + 1) : SM_NIL;
	sm->rmap_free = 0;
	sm->rmap_full = false;
}

/* The spte an rmap entry names, if it still maps its gfn writable. */
static uint64_t *sm_rmap_live(struct sm *sm, const struct sm_rmap_ent *r)
{
	uint16_t pg = (uint16_t)(r->loc >> 9);
	uint64_t *e, ma;

	if (pg >= SM_MAX_PAGES || !sm->pages[pg].in_use || sm->pages[pg].level != 1)
		return NULL;
	e = &sm->pages[pg].pt[r->loc & 511];
	ma = sm->gmem.frames[r->gfn] & SM_SPTE_ADDR;
	if ((*e & (SM_SPTE_P | SM_SPTE_W)) != (SM_SPTE_P | SM_SPTE_W) || (*e & SM_SPTE_ADDR) != ma)
		return NULL;
	return e;
}

/* Drop every stale entry; returns true when some entry was freed. */
static bool sm_rmap_gc(struct sm *sm)
{
	bool freed = false;

	for (int h = 0; h < SM_HASH; h++) {
		uint16_t *link = &sm->rmap_head[h];

		while (*link != SM_NIL) {
			struct sm_rmap_ent *r = &sm->rmap[*link];
			uint16_t i = *link;

			if (sm_rmap_live(sm, r)) {
				link = &r->next;
				continue;
			}
			*link = r->next;
			r->next = sm->rmap_free;
			sm->rmap_free = i;
			freed = true;
		}
	}
	return freed;
}

void sm__rmap_add(struct sm *sm, uint16_t pt, unsigned int index, uint32_t gfn)
{
	struct sm_rmap_ent *r;
	unsigned int h = sm__hash(gfn);
	uint16_t i;

	if (sm->rmap_full)
		return;
	if (sm->rmap_free == SM_NIL && !sm_rmap_gc(sm)) {
		/* Every entry is live: fall back to scanning until the
		 * shadow is empty again. */
		sm->rmap_full = true;
		sm->stats.rmap_overflows++;
		return;
	}
	i = sm->rmap_free;
	r = &sm->rmap[i];
	sm->rmap_free = r->next;
	r->gfn = gfn;
	r->loc = (uint32_t)pt << 9 | index;
	r->next = sm->rmap_head[h];
	sm->rmap_head[h] = i;
}

/* Downgrade every writable leaf spte that maps guest frame @gfn: through
 * the reverse map (consuming its entries for @gfn and dropping stale ones
 * on the way), or, after an overflow, by a scan of all shadow PTs. */
static void sm_write_protect(struct sm *sm, uint32_t gfn)
{
	uint16_t *link;
	uint64_t ma;

	if (gfn >= sm->gmem.nframes || sm->gmem.frames[gfn] == SM_NO_FRAME)
		return;
	if (!sm->rmap_full) {
		sm->stats.wp_rmap++;
		link = &sm->rmap_head[sm__hash(gfn)];
		while (*link != SM_NIL) {
			struct sm_rmap_ent *r = &sm->rmap[*link];
			uint16_t i = *link;
			uint64_t *e = sm_rmap_live(sm, r);

			if (e && r->gfn != gfn) {
				link = &r->next;
				continue;
			}
			if (e) {
				*e &= ~SM_SPTE_W;
				sm->flush_tlb = true;
			}
			*link = r->next;
			r->next = sm->rmap_free;
			sm->rmap_free = i;
		}
		return;
	}
	ma = sm->gmem.frames[gfn] & SM_SPTE_ADDR;
	sm->stats.wp_scans++;
	for (uint32_t i = 0; i < sm->max_pages; i++) {
		struct sm_page *p = &sm->pages[i];

		if (!p->in_use || p->level != 1)
			continue;
		for (int j = 0; j < 512; j++) {
			uint64_t e = p->pt[j];

			if ((e & (SM_SPTE_P | SM_SPTE_W)) == (SM_SPTE_P | SM_SPTE_W) &&
			    (e & SM_SPTE_ADDR) == ma) {
				p->pt[j] = e & ~SM_SPTE_W;
				sm->flush_tlb = true;
			}
		}
	}
}

void sm__track_add(struct sm *sm, uint16_t idx)
{
	uint32_t gfn = sm->pages[idx].gfn;
	bool fresh = !sm__gfn_tracked(sm, gfn);
	unsigned int h = sm__hash(gfn);

	sm->pages[idx].hnext = sm->hash[h];
	sm->hash[h] = idx;
	if (fresh) {
		sm_write_protect(sm, gfn);
		if (sm->track_notify)
			sm->track_notify(sm->notify_opaque, gfn, true);
	}
}

void sm__track_del(struct sm *sm, uint16_t idx)
{
	uint16_t *link = &sm->hash[sm__hash(sm->pages[idx].gfn)];

	while (*link != SM_NIL) {
		if (*link == idx) {
			uint32_t gfn = sm->pages[idx].gfn;

			*link = sm->pages[idx].hnext;
			sm->pages[idx].hnext = SM_NIL;
			if (sm->track_notify && !sm__gfn_tracked(sm, gfn))
				sm->track_notify(sm->notify_opaque, gfn, false);
			return;
		}
		link = &sm->pages[*link].hnext;
	}
}

/* Guest entries [@first, @last] of the table in @gfn changed: drop what
 * shadow page @idx derived from them. Returns true when a subtree was
 * freed (the hash chains may have changed). */
static bool sm_entries_changed(struct sm *sm, uint16_t idx, unsigned int first, unsigned int last,
			       bool *dropped)
{
	struct sm_page *p = &sm->pages[idx];
	bool pae = sm->paging.pae, freed = false;

	for (unsigned int g = first; g <= last; g++) {
		unsigned int s;

		if (p->level == 1) {
			/* 2-level: half q of the guest PT holds entries 512q.. */
			if (!pae && (g >> 9) != p->quadrant)
				continue;
			s = g & 511;
			if (p->pt[s]) {
				p->pt[s] = 0;
				*dropped = true;
			}
			continue;
		}
		/* A PD: 2-level guest PDE g (4 MiB) is shadow PD quadrant g/256,
		 * entries 2(g%256) and 2(g%256)+1; PAE PDE g is entry g. */
		if (pae) {
			s = g;
		} else {
			if ((g >> 8) != p->quadrant)
				continue;
			s = (g & 255) * 2;
		}
		for (unsigned int k = s; k <= (pae ? s : s + 1); k++) {
			if (p->pt[k] & SM_SPTE_P) {
				sm__drop_child(sm, idx, k);
				*dropped = freed = true;
			}
		}
	}
	return freed;
}

void sm__guest_write(struct sm *sm, uint64_t gpa, uint32_t len)
{
	unsigned int esz = sm->paging.pae ? 8 : 4;
	bool dropped = false, hit = false;
	uint64_t end;

	if (!len || !sm->paging.pg)
		return;
	end = gpa + len - 1;
	if (end < gpa)
		end = ~0ull;
	while (gpa <= end) {
		uint64_t gfn = gpa >> 12;
		unsigned int o1 = gpa & 0xfff;
		unsigned int o2 = (end >> 12) == gfn ? (unsigned int)(end & 0xfff) : 0xfff;
		uint16_t i;

		if (gfn <= 0xffffffffull) {
restart:
			for (i = sm->hash[sm__hash((uint32_t)gfn)]; i != SM_NIL; i = sm->pages[i].hnext) {
				if (sm->pages[i].gfn != gfn)
					continue;
				hit = true;
				if (sm_entries_changed(sm, i, o1 / esz, o2 / esz, &dropped))
					goto restart;
			}
		}
		if ((end >> 12) == gfn)
			break;
		gpa = (gfn + 1) << 12;
	}
	if (hit)
		sm->stats.gpt_writes++;
	if (dropped) {
		sm->flush_tlb = true;
		sm->stats.flushes[SM_FLUSH_GPT_WRITE]++;
	}
}

void sm__invlpg(struct sm *sm, uint32_t va)
{
	unsigned int i3 = va >> 30, i2 = (va >> 21) & 511;

	for (int r = 0; r < (int)sm->nroots; r++) {
		uint16_t root = sm->roots[r].page, pd, pt;
		uint64_t e;

		if (root == SM_NIL || !(sm->pages[root].pt[i3] & SM_SPTE_P))
			continue;
		pd = sm__child_index(sm->pages[root].pt[i3]);
		e = sm->pages[pd].pt[i2];
		if (!(e & SM_SPTE_P))
			continue;
		pt = sm__child_index(e);
		if (sm->pages[pt].large) {
			/* The guest's TLB entry covers the whole large page:
			 * drop its shadow PT (both halves of a 4 MiB page). */
			sm__drop_child(sm, pd, i2);
			if (sm->paging.pg && !sm->paging.pae) {
				uint64_t s = sm->pages[pd].pt[i2 ^ 1];

				if ((s & SM_SPTE_P) && sm->pages[sm__child_index(s)].large)
					sm__drop_child(sm, pd, i2 ^ 1);
			}
		} else {
			sm->pages[pt].pt[(va >> 12) & 511] = 0;
		}
	}
	sm->stats.flushes[SM_FLUSH_INVLPG]++;
}

void sm__unprotect(struct sm *sm, uint32_t gfn)
{
	uint16_t i;

restart:
	for (i = sm->hash[sm__hash(gfn)]; i != SM_NIL; i = sm->pages[i].hnext) {
		struct sm_page *p = &sm->pages[i];

		if (p->gfn != gfn || p->parent == SM_NIL)
			continue;
		/* freeing may change this chain: start over */
		sm__drop_child(sm, p->parent, p->pindex);
		goto restart;
	}
	sm->stats.flushes[SM_FLUSH_GPT_WRITE]++;
}
