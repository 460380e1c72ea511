/* shadowmm/sm-walk.c — the 2-level guest page-table walker (SDM Vol. 3A
 * §4.3 "32-bit paging", §4.6 access rights, §4.8 accessed and dirty flags). */
#include "shadowmm/sm.h"

/* Access rights of a translation, combined over both levels (§4.6.1): a
 * user-mode access needs U/S=1 at both levels and, to write, R/W=1 at both;
 * a supervisor write needs R/W=1 at both only when CR0.WP=1. */
static bool allowed(uint32_t pde, uint32_t pte, uint32_t acc, bool wp)
{
	bool user = (pde & pte & SM_PTE_U) != 0;
	bool writable = (pde & pte & SM_PTE_W) != 0;

	if (acc & SM_PF_U) {
		if (!user)
			return false;
		if ((acc & SM_PF_W) && !writable)
			return false;
		return true;
	}
	if ((acc & SM_PF_W) && wp && !writable)
		return false;
	return true;
}

int sm__walk32(const struct sm_gmem *m, uint32_t cr3, bool pse, bool wp, uint32_t va,
	       uint32_t acc, bool set_ad, struct sm_walk *w)
{
	uint32_t *pdep, *ptep, pde, pte, fault_code;

	acc &= SM_PF_W | SM_PF_U | SM_PF_I;
	fault_code = acc;
	pdep = sm__gpa_ptr(m, (cr3 & 0xfffff000u) + ((va >> 22) << 2));
	if (!pdep)
		return SM_WALK_BAD_GPA;
	pde = *(volatile uint32_t *)pdep;
	if (!(pde & SM_PTE_P))
		goto fault;

	if ((pde & SM_PTE_PS) && pse) {
		/* 4 MiB page (§4.3, table 4-4): bit 21 is reserved; bits 20:13
		 * are physical-address bits 39:32 (PSE-36), beyond guest RAM. */
		if (pde & 0x00200000u) {
			fault_code |= SM_PF_P | SM_PF_RSVD;
			goto fault;
		}
		if (pde & 0x001fe000u)
			return SM_WALK_BAD_GPA;
		if (!allowed(pde, 0xffffffffu, acc, wp)) {
			fault_code |= SM_PF_P;
			goto fault;
		}
		if (set_ad) {
			uint32_t n = pde | SM_PTE_A | ((acc & SM_PF_W) ? SM_PTE_D : 0);
			if (n != pde)
				*(volatile uint32_t *)pdep = n;
			pde = n;
		}
		w->gpa = (pde & 0xffc00000u) | (va & 0x003fffffu);
		w->user = (pde & SM_PTE_U) != 0;
		w->writable = (acc & SM_PF_U) ? (pde & SM_PTE_W) != 0 : (!wp || (pde & SM_PTE_W));
		w->dirty = (pde & SM_PTE_D) != 0;
		w->error_code = 0;
		return SM_WALK_OK;
	}

	ptep = sm__gpa_ptr(m, (pde & 0xfffff000u) + (((va >> 12) & 0x3ff) << 2));
	if (!ptep)
		return SM_WALK_BAD_GPA;
	pte = *(volatile uint32_t *)ptep;
	if (!(pte & SM_PTE_P))
		goto fault;
	if (!allowed(pde, pte, acc, wp)) {
		fault_code |= SM_PF_P;
		goto fault;
	}
	if (set_ad) {
		if (!(pde & SM_PTE_A))
			*(volatile uint32_t *)pdep = pde | SM_PTE_A;
		uint32_t n = pte | SM_PTE_A | ((acc & SM_PF_W) ? SM_PTE_D : 0);
		if (n != pte)
			*(volatile uint32_t *)ptep = n;
		pte = n;
	}
	w->gpa = (pte & 0xfffff000u) | (va & 0xfffu);
	w->user = (pde & pte & SM_PTE_U) != 0;
	w->writable = (acc & SM_PF_U) ? (pde & pte & SM_PTE_W) != 0
				      : (!wp || (pde & pte & SM_PTE_W));
	w->dirty = (pte & SM_PTE_D) != 0;
	w->error_code = 0;
	return SM_WALK_OK;

fault:
	w->error_code = fault_code;
	return SM_WALK_FAULT;
}
