/* shadowmm/sm-walk.c — the guest page-table walker for every IA-32 paging
 * mode a P6-class guest has: paging off, 32-bit (2-level) paging with 4 KiB
 * and 4 MiB (PSE, PSE-36) pages, and PAE paging (3-level, 2 MiB pages, XD
 * with EFER.NXE). SDM Vol. 3A §4.3 (32-bit), §4.4 (PAE), §4.6 (access
 * rights), §4.7 (#PF error code), §4.8 (accessed and dirty flags).
 *
 * Hardware facts this file relies on:
 * - A fault for a not-present entry has P=0 in the error code; a reserved
 *   bit set in a present entry gives P=1 and RSVD=1; an access-rights fault
 *   P=1. W and U describe the access, not the entry (§4.7).
 * - The I/D bit is set only for instruction fetches with PAE and EFER.NXE
 *   (the guest has no SMEP): a 2-level guest never sees it (§4.7).
 * - A is set in every entry used by a successful translation, D in the
 *   leaf on a write (§4.8). A walk that faults sets nothing (as KVM's
 *   walker; the SDM sets A only on entries "used as part of translation").
 *   PAE PDPTEs have no A bit (bits 8:5 reserved, table 4-8) and come from
 *   the PDPTE registers loaded at MOV to CR3, not from memory.
 */
#include "shadowmm/shadowmm.h"

#define SM_E_P	0x001ull
#define SM_E_W	0x002ull
#define SM_E_U	0x004ull
#define SM_E_A	0x020ull
#define SM_E_D	0x040ull
#define SM_E_PS	0x080ull

static unsigned int sm_maxphy(const struct sm_paging *p)
{
	unsigned int m = p->maxphyaddr ? p->maxphyaddr : 36;

	return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* Bits M..62 of a PAE entry are reserved; bit 63 too unless EFER.NXE. */
static uint64_t sm_rsvd_hi(const struct sm_paging *p)
{
	uint64_t r = ~((1ull << sm_maxphy(p)) - 1) & ~SM_PTE_XD;

	if (!p->nxe)
		r |= SM_PTE_XD;
	return r;
}

/* Physical-address bits 12..M-1 of a PAE entry. */
static uint64_t sm_addr_mask(const struct sm_paging *p)
{
	return ((1ull << sm_maxphy(p)) - 1) & ~0xfffull;
}

/* Reserved bits of a PAE PDPTE (table 4-8): 2:1, 8:5, 63:M. */
static uint64_t sm_pdpte_rsvd(const struct sm_paging *p)
{
	return 0x1e6ull | ~((1ull << sm_maxphy(p)) - 1);
}

uint64_t sm__pte_rsvd(const struct sm_paging *p)
{
	return p->pae ? sm_rsvd_hi(p) : 0;
}

static uint64_t sm_read(const void *ptr, bool pae)
{
	if (pae)
		return *(const volatile uint64_t *)ptr;
	return *(const volatile uint32_t *)ptr;
}

/* Set @bits in the entry at @ptr if it still holds @old (a guest CPU may be
 * changing it). Returns false when it changed under us. */
static bool sm_set_bits(void *ptr, bool pae, uint64_t old, uint64_t bits)
{
	if ((old | bits) == old)
		return true;
	if (pae)
		return __sync_bool_compare_and_swap((uint64_t *)ptr, old, old | bits);
	return __sync_bool_compare_and_swap((uint32_t *)ptr, (uint32_t)old, (uint32_t)(old | bits));
}

int sm__paging_init(struct sm_paging *p, const struct sm_gmem *m, uint32_t cr0, uint32_t cr3,
		    uint32_t cr4, uint64_t efer, unsigned int maxphyaddr)
{
	struct sm_paging n = {
		.cr3 = cr3,
		.pg = (cr0 & SM_CR0_PG) != 0,
		.pae = (cr4 & SM_CR4_PAE) != 0,
		.pse = (cr4 & SM_CR4_PSE) != 0,
		.wp = (cr0 & SM_CR0_WP) != 0,
		.pge = (cr4 & SM_CR4_PGE) != 0,
		.nxe = (efer & SM_EFER_NXE) != 0,
		.pse36 = maxphyaddr != 0,
		.maxphyaddr = (uint8_t)(maxphyaddr ? maxphyaddr : 36),
	};

	if (n.pg && n.pae) {
		/* §4.4.1: CR3 bits 31:5 locate the 32-byte PDPT; a present
		 * PDPTE with a reserved bit makes the MOV fault with #GP(0). */
		for (int i = 0; i < 4; i++) {
			const void *ptr = sm__gpa_host(m, (cr3 & 0xffffffe0u) + 8u * i);
			uint64_t e;

			if (!ptr)
				return -1;
			e = sm_read(ptr, true);
			if ((e & SM_E_P) && (e & sm_pdpte_rsvd(&n)))
				return -1;
			n.pdpte[i] = e;
		}
	}
	*p = n;
	return 0;
}

/* One attempt; SM_WALK_RETRY when an A/D update lost a race. */
static int sm_walk_once(const struct sm_gmem *m, const struct sm_paging *p, uint32_t va,
			uint32_t acc, unsigned int flags, struct sm_gwalk *w)
{
	bool pae = p->pae, large;
	uint64_t table, pde, pte = 0, leaf, rsvd, u, rw, xd = 0;
	uint32_t fault = acc & (SM_PF_W | SM_PF_U);
	void *pdep, *ptep = NULL;

	for (int i = 0; i < 4; i++)
		w->pte_gpa[i] = 0;
	w->level = 0;
	w->error_code = 0;
	if (!p->pg) {
		/* Paging off: linear is physical, every access allowed. */
		w->gpa = va;
		w->gpte = 0;
		w->level = 1;
		w->user = w->writable = w->dirty = true;
		w->nx = w->global = false;
		return SM_WALK_OK;
	}
	if ((acc & SM_PF_I) && pae && p->nxe)
		fault |= SM_PF_I;

	if (pae) {
		uint64_t pdpte = p->pdpte[va >> 30];

		w->pte_gpa[3] = (p->cr3 & 0xffffffe0u) + 8u * (va >> 30);
		if (!(pdpte & SM_E_P))
			goto not_present;
		if (pdpte & sm_pdpte_rsvd(p))
			goto reserved;
		table = (pdpte & sm_addr_mask(p)) + 8u * ((va >> 21) & 511);
	} else {
		table = (p->cr3 & 0xfffff000u) + 4u * (va >> 22);
	}

	w->pte_gpa[2] = table;
	pdep = sm__gpa_host(m, table);
	if (!pdep)
		return SM_WALK_BAD_GPA;
	pde = sm_read(pdep, pae);
	if (!(pde & SM_E_P))
		goto not_present;
	large = (pde & SM_E_PS) && (pae || p->pse);
	if (pae) {
		rsvd = sm_rsvd_hi(p) | (large ? 0x1fe000ull : 0);
		if (pde & rsvd)
			goto reserved;
		if (p->nxe)
			xd = pde & SM_PTE_XD;
	} else if (large) {
		/* Table 4-4: with PSE-36, bits 20:13 hold PA bits 39:32 up
		 * to MAXPHYADDR and the rest of 21:13 is reserved; without
		 * PSE-36 all of 21:13 is reserved (§4.3). */
		unsigned int mp = sm_maxphy(p) > 40 ? 40 : sm_maxphy(p);
		uint64_t field = p->pse36 ? ((1ull << (mp - 32)) - 1) << 13 : 0;

		if (pde & (0x3fe000ull & ~field))
			goto reserved;
	}
	u = pde & SM_E_U;
	rw = pde & SM_E_W;

	if (large) {
		leaf = pde;
		w->level = 2;
		if (pae)
			w->gpa = (pde & sm_addr_mask(p) & ~0x1fffffull) | (va & 0x1fffffu);
		else
			w->gpa = (pde & 0xffc00000ull) | (((pde >> 13) & 0xff) << 32) |
				 (va & 0x3fffffu);
	} else {
		uint64_t pt = pae ? (pde & sm_addr_mask(p)) + 8u * ((va >> 12) & 511)
				  : (pde & 0xfffff000u) + 4u * ((va >> 12) & 1023);

		w->pte_gpa[1] = pt;
		ptep = sm__gpa_host(m, pt);
		if (!ptep)
			return SM_WALK_BAD_GPA;
		pte = sm_read(ptep, pae);
		if (!(pte & SM_E_P))
			goto not_present;
		if (pae) {
			if (pte & sm_rsvd_hi(p))
				goto reserved;
			if (p->nxe)
				xd |= pte & SM_PTE_XD;
		}
		u &= pte;
		rw &= pte;
		leaf = pte;
		w->level = 1;
		w->gpa = (pae ? (pte & sm_addr_mask(p)) : (pte & 0xfffff000u)) | (va & 0xfffu);
	}

	/* §4.6.1: user accesses need U/S=1 at every level and, to write,
	 * R/W=1 at every level; supervisor writes need R/W=1 only with
	 * CR0.WP=1; no fetch from a page with XD at any level. */
	if (acc & SM_PF_U) {
		if (!u || ((acc & SM_PF_W) && !rw))
			goto protection;
	} else if ((acc & SM_PF_W) && p->wp && !rw) {
		goto protection;
	}
	if ((acc & SM_PF_I) && xd)
		goto protection;

	if (flags & SM_WALK_SET_AD) {
		uint64_t dbit = (acc & SM_PF_W) ? SM_E_D : 0;

		if (large) {
			if (!sm_set_bits(pdep, pae, pde, SM_E_A | dbit))
				return SM_WALK_RETRY;
			leaf = pde | SM_E_A | dbit;
		} else {
			if (!sm_set_bits(pdep, pae, pde, SM_E_A))
				return SM_WALK_RETRY;
			if (!sm_set_bits(ptep, pae, pte, SM_E_A | dbit))
				return SM_WALK_RETRY;
			leaf = pte | SM_E_A | dbit;
		}
	}
	w->gpte = leaf;
	w->user = u != 0;
	w->writable = rw != 0;
	w->nx = xd != 0;
	w->global = p->pge && (leaf & SM_PTE_G);
	w->dirty = (leaf & SM_E_D) != 0;
	return SM_WALK_OK;

protection:
	w->error_code = fault | SM_PF_P;
	return SM_WALK_FAULT;
reserved:
	w->error_code = fault | SM_PF_P | SM_PF_RSVD;
	return SM_WALK_FAULT;
not_present:
	w->error_code = fault;
	return SM_WALK_FAULT;
}

int sm__walk(const struct sm_gmem *m, const struct sm_paging *p, uint32_t va, uint32_t acc,
	     unsigned int flags, struct sm_gwalk *w)
{
	acc &= SM_PF_W | SM_PF_U | SM_PF_I;
	for (int tries = 0; tries < 16; tries++) {
		int r = sm_walk_once(m, p, va, acc, flags, w);

		if (r != SM_WALK_RETRY)
			return r;
	}
	return SM_WALK_RETRY;
}

int sm__walk32(const struct sm_gmem *m, uint32_t cr3, bool pse, bool wp, uint32_t va,
	       uint32_t acc, bool set_ad, struct sm_walk *w)
{
	/* MAXPHYADDR 40: every PSE-36 address bit is usable, so only bit 21
	 * of a 4 MiB PDE is reserved; a page above 4 GiB is BAD_GPA here. */
	struct sm_paging p = { .cr3 = cr3, .pg = true, .pse = pse, .wp = wp, .pse36 = true,
			       .pge = true, .maxphyaddr = 40 };	/* pge: report G */
	struct sm_gwalk g;
	int r;

	acc &= SM_PF_W | SM_PF_U | SM_PF_I;
	r = sm__walk(m, &p, va, acc, set_ad ? SM_WALK_SET_AD : 0, &g);
	if (r == SM_WALK_FAULT) {
		w->error_code = g.error_code | (acc & SM_PF_I);
		return r;
	}
	if (r != SM_WALK_OK)
		return r;
	if (g.gpa >> 32)
		return SM_WALK_BAD_GPA;
	w->gpa = (uint32_t)g.gpa;
	w->user = g.user;
	w->writable = (acc & SM_PF_U) ? g.writable : (!wp || g.writable);
	w->dirty = g.dirty;
	w->global = g.global;
	w->error_code = 0;
	return SM_WALK_OK;
}
