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

/* Downgrade every writable leaf spte that maps guest frame @gfn. A scan of
 * all shadow PTs: rare (a frame becomes a shadowed page table) and bounded
 * by the page cap; a reverse map would make it O(mappings). */
static void sm_write_protect(struct sm *sm, uint32_t gfn)
{
	uint64_t ma;

	if (gfn >= sm->gmem.nframes || sm->gmem.frames[gfn] == SM_NO_FRAME)
		return;
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
	if (fresh)
		sm_write_protect(sm, gfn);
}

void sm__track_del(struct sm *sm, uint16_t idx)
{
	uint16_t *link = &sm->hash[sm__hash(sm->pages[idx].gfn)];

	while (*link != SM_NIL) {
		if (*link == idx) {
			*link = sm->pages[idx].hnext;
			sm->pages[idx].hnext = SM_NIL;
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
