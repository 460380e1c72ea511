/* monitor/mon-shadow.c — shadow page tables of the guest's low 4 GiB, built
 * on demand from a walk of the guest's 2-level tables. Pure memory work (no
 * privileged instruction), so it also runs in userland unit tests.
 *
 * Shadow format: the host's 4-level (or 5-level) long-mode tables. The
 * world's root maps [0, 4 GiB) through one PDPT and four PDs; each PD entry
 * (2 MiB) points to a PT from the pool. A shadow PTE maps one 4 KiB guest
 * page to its pinned host frame, always U/S=1, never global, executable;
 * writable only when the guest allows the write and its D bit is already
 * set, so the first write faults and the walker sets D (SDM Vol. 3A §4.8).
 *
 * The shadow is the guest's TLB: a guest CR3 load keeps the entries of
 * guest-global pages (mon__shadow_drop_local), as a CPU keeps global TLB
 * entries. They are marked with SPTE_GG, a bit the CPU ignores (bits 11:9
 * of a 4 KiB PTE, SDM Vol. 3A table 4-20), never with the real G bit: the
 * host's CR4.PGE is on in the world, and a global host TLB entry for a low
 * address would outlive the switch back to the host.
 */
#include "monitor/mon.h"
#include "bt/bt.h"

#define SPTE_P		0x001ull
#define SPTE_W		0x002ull
#define SPTE_U		0x004ull
#define SPTE_GG		0x200ull	/* software: a guest-global translation */
#define SPTE_ADDR	0x000ffffffffff000ull

static void zero_page(uint64_t *p)
{
	for (int i = 0; i < 512; i++)
		p[i] = 0;
}

void mon__shadow_flush(struct mon_world *w)
{
	struct mon_shadow *s = w->shadow;

	for (int i = 0; i < 4; i++)
		zero_page(s->pd[i]);
	s->pool_used = 0;	/* wlog stays: its owner resets it */
	s->pool_nfree = 0;
	w->n_shadow_flushes++;
}

/* The shadow PT for the 2 MiB region holding @va, made on demand; the
 * entry about to be written there is of kind @kind (MON_PT_GLOBAL or
 * MON_PT_LOCAL). */
static uint64_t *shadow_pt(struct mon_world *w, uint32_t va, uint8_t kind)
{
	struct mon_shadow *s = w->shadow;
	uint64_t *pde = &s->pd[va >> 30][(va >> 21) & 511];
	uint32_t i;

	if (*pde & SPTE_P) {
		/* find the pool page by its address: PTs are few, keep a scan
		 * out of the hot path by remembering the index in bits 52..61
		 * (available to software in a non-leaf entry, SDM table 4-17) */
		i = (*pde >> 52) & 0x3ff;
		s->pool_kinds[i] |= kind;
		return s->pool_kva[i];
	}
	if (s->pool_nfree) {
		i = s->pool_free[--s->pool_nfree];	/* zeroed when unlinked */
	} else {
		if (s->pool_used == MON_POOL_PAGES) {
			mon__shadow_flush(w);
			w->shadow_flushed = 1;
			pde = &s->pd[va >> 30][(va >> 21) & 511];
		}
		i = s->pool_used++;
		zero_page(s->pool_kva[i]);
	}
	s->pool_slot[i] = (uint16_t)(va >> 21);
	s->pool_kinds[i] = kind;
	*pde = s->pool_hpa[i] | SPTE_P | SPTE_W | SPTE_U | ((uint64_t)i << 52);
	return s->pool_kva[i];
}

void mon__shadow_drop_local(struct mon_world *w)
{
	struct mon_shadow *s = w->shadow;

	for (uint32_t i = 0; i < s->pool_used; i++) {
		uint64_t *pt = s->pool_kva[i];
		uint16_t slot = s->pool_slot[i];

		if (slot == MON_PT_FREE || !(s->pool_kinds[i] & MON_PT_LOCAL))
			continue;
		if (s->pool_kinds[i] & MON_PT_GLOBAL) {
			/* a region with both kinds (rare: Linux keeps user
			 * and kernel pages in different 4 MiB regions) */
			for (int k = 0; k < 512; k++)
				if (!(pt[k] & SPTE_GG))
					pt[k] = 0;
			s->pool_kinds[i] = MON_PT_GLOBAL;
			continue;
		}
		s->pd[slot >> 9][slot & 511] = 0;
		zero_page(pt);
		s->pool_slot[i] = MON_PT_FREE;
		s->pool_kinds[i] = 0;
		s->pool_free[s->pool_nfree++] = (uint16_t)i;
	}
	w->n_shadow_local_drops++;
}

void mon__shadow_invlpg(struct mon_world *w, uint32_t lin)
{
	struct mon_shadow *s = w->shadow;
	uint32_t va = lin & ~0x3fffffu;

	for (int half = 0; half < 2; half++, va += 0x200000u) {
		uint64_t pde = s->pd[va >> 30][(va >> 21) & 511];

		if (pde & SPTE_P) {
			zero_page(s->pool_kva[(pde >> 52) & 0x3ff]);
			s->pool_kinds[(pde >> 52) & 0x3ff] = 0;
		}
	}
}

bool mon__shadow_wrote_watched(const struct mon_world *w)
{
	const struct mon_shadow *s = w->shadow;

	if (s->wlog_n <= MON_WLOG) {
		for (uint32_t i = 0; i < s->wlog_n; i++)
			if (mon__shadow_watched(w, s->wlog[i]))
				return true;
		return false;
	}
	if (!s->wbits)
		return true;	/* overflowed, nothing to look in */
	for (uint32_t i = 0; i < s->wbits_n; i++)
		for (uint32_t b = s->wbits[i]; b; b &= b - 1)
			if (mon__shadow_watched(w, i * 32 + (uint32_t)__builtin_ctz(b)))
				return true;
	return false;
}

bool mon__shadow_watched(const struct mon_world *w, uint32_t gfn)
{
	if (w->code_bits && (w->code_bits[gfn >> 5] >> (gfn & 31)) & 1)
		return true;
	return w->bt && (bt__gfn_translated(w->bt, gfn) || gfn == w->bt_gdt_gfn[0] ||
			 gfn == w->bt_gdt_gfn[1]);
}

/* A supervisor access inside the translated-code window: its pages (data
 * page writable, hash table and TC read-only, all U=0). A write to the
 * read-only part is the guest writing where its own tables map nothing:
 * a not-present #PF for it. */
static int window_fault(struct mon_world *w, uint32_t va, uint32_t err)
{
	uint32_t pg = (va - w->bt_win) >> 12;
	bool rw = pg < (BT_HASH_OFF >> 12);
	uint64_t *pt;

	if ((err & SM_PF_W) && !rw) {
		w->exit_reason = MON_X_FAULT;
		w->exit_vector = 14;
		w->exit_error = SM_PF_W;
		w->exit_cr2 = va;
		return 1;
	}
	/* kept across guest CR3 loads like a global page: every translated
	 * stay checks that the guest maps nothing there (else the window
	 * moves and every shadow goes) */
	pt = shadow_pt(w, va, MON_PT_GLOBAL);
	pt[(va >> 12) & 511] = w->bt_win_pa[pg] | SPTE_P | SPTE_GG | (rw ? SPTE_W : 0);
	w->n_shadow_faults++;
	return 0;
}

int mon__shadow_fault(struct mon_world *w, uint32_t va, uint32_t err)
{
	struct sm_walk walk;
	uint64_t *pt, hpa;
	/* native guest user code: always a user access (supervisor-mode
	 * accesses at CPL 3 are a TCG quirk handled by mon__trap); translated
	 * kernel code (CPL 1): a supervisor access, as the guest's CPL 0 */
	uint32_t acc = (err & (SM_PF_W | SM_PF_U | SM_PF_I)) | (w->bt_stay ? 0 : SM_PF_U);
	bool writable, wat, global;
	int r;

	if (w->bt_win && w->bt_stay && !(err & SM_PF_U) && va - w->bt_win < BT_WIN_BYTES)
		return window_fault(w, va, err);

	r = sm__walk32(&w->gmem, w->guest_cr3, (w->guest_cr4 & 0x10) != 0,
		       (w->guest_cr0 & 0x10000) != 0, va, acc, true, &walk);
	if (r == SM_WALK_BAD_GPA || (r == SM_WALK_OK && (walk.gpa >> 12) >= w->gmem.nframes)) {
		w->exit_reason = MON_X_BAD_MEMORY;
		w->exit_cr2 = va;
		return -1;
	}
	if (r == SM_WALK_FAULT) {
		w->exit_reason = MON_X_FAULT;
		w->exit_vector = 14;
		w->exit_error = walk.error_code;
		w->exit_cr2 = va;
		return 1;
	}
	if (w->gmem.frames[walk.gpa >> 12] == SM_NO_FRAME) {
		/* MMIO or ROM (system mode): never mapped, the interpreter
		 * performs the access */
		w->exit_reason = MON_X_BAD_MEMORY;
		w->exit_cr2 = va;
		return -1;
	}
	wat = mon__shadow_watched(w, walk.gpa >> 12);
	if (wat && (acc & SM_PF_W)) {
		/* the write goes to the interpreter, whose write reaches
		 * bt__code_written (or the GDT mirror is rebuilt) */
		w->exit_reason = MON_X_FAULT;
		w->exit_vector = 13;
		w->exit_error = 0;
		w->exit_watched = 1;
		return 1;
	}
	hpa = w->gmem.frames[walk.gpa >> 12] & SPTE_ADDR;
	global = walk.global && (w->guest_cr4 & 0x80);	/* CR4.PGE */
	pt = shadow_pt(w, va, global ? MON_PT_GLOBAL : MON_PT_LOCAL);
	writable = walk.writable && (walk.dirty || (acc & SM_PF_W)) && !wat;
	/* U from the guest (both levels): a kernel page is never reachable
	 * from native user code; translated code (CPL 1) reaches both */
	pt[(va >> 12) & 511] = hpa | SPTE_P | (walk.user ? SPTE_U : 0) | (writable ? SPTE_W : 0) |
			       (global ? SPTE_GG : 0);
	if (writable) {
		struct mon_shadow *s = w->shadow;

		if (s->wlog_n < MON_WLOG)
			s->wlog[s->wlog_n] = walk.gpa >> 12;
		if (s->wlog_n <= MON_WLOG)
			s->wlog_n++;
		if ((walk.gpa >> 17) < s->wbits_n)
			s->wbits[walk.gpa >> 17] |= 1u << ((walk.gpa >> 12) & 31);
	}
	w->n_shadow_faults++;
	return 0;
}
