/* shadowmm/sm.h — guest RAM (struct sm_gmem) and the first, 2-level-only
 * walker interface sm__walk32 (kept for its callers; it is now a wrapper of
 * the general walker sm__walk in shadowmm/shadowmm.h, the component's
 * interface header). Compiles in userland, freestanding and in the kernel
 * module. */
#ifndef HVMM_SM_H
#define HVMM_SM_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

/* Guest RAM: guest frame i (guest-physical i*4096) is at host address
 * dmap_base + frames[i]. In the module frames[] holds host-physical
 * addresses and dmap_base is the kernel's direct map; in userland
 * dmap_base is the mapping of guest RAM and frames[i] = i*4096.
 * frames[i] == SM_NO_FRAME marks a hole (MMIO, no RAM) below nframes. */
struct sm_gmem {
	uint64_t dmap_base;
	const uint64_t *frames;
	uint32_t nframes;
};

/* Access kinds, as the #PF error code bits (SDM Vol. 3A §4.7). */
#define SM_PF_P		0x01	/* the fault was a protection violation */
#define SM_PF_W		0x02	/* write access */
#define SM_PF_U		0x04	/* CPL 3 access */
#define SM_PF_RSVD	0x08
#define SM_PF_I		0x10	/* instruction fetch */

/* PTE bits of the 2-level format. */
#define SM_PTE_P	0x001
#define SM_PTE_W	0x002
#define SM_PTE_U	0x004
#define SM_PTE_A	0x020
#define SM_PTE_D	0x040
#define SM_PTE_PS	0x080

struct sm_walk {
	uint32_t gpa;		/* guest-physical address of va */
	bool writable;		/* a write at this privilege would succeed */
	bool user;		/* U/S set at both levels */
	bool dirty;		/* D set in the leaf */
	bool global;		/* G set in the leaf (means something with CR4.PGE) */
	uint32_t error_code;	/* on SM_WALK_FAULT: #PF error code */
};

enum {
	SM_WALK_OK = 0,
	SM_WALK_FAULT = 1,	/* a guest #PF: w->error_code */
	SM_WALK_BAD_GPA = -1,	/* a paging structure lies outside guest RAM */
};

#define SM_NO_FRAME	(~0ull)

/* Host pointer to guest-physical @gpa (any width), or NULL when it is
 * outside RAM or in a hole. */
static inline void *sm__gpa_host(const struct sm_gmem *m, uint64_t gpa)
{
	uint64_t fn = gpa >> 12;

	if (fn >= m->nframes || m->frames[fn] == SM_NO_FRAME)
		return NULL;
	return (void *)(uintptr_t)(m->dmap_base + m->frames[fn] + (gpa & 0xfff));
}

/* Host pointer to guest-physical @gpa, or NULL when it is outside RAM. */
static inline void *sm__gpa_ptr(const struct sm_gmem *m, uint32_t gpa)
{
	return sm__gpa_host(m, gpa);
}

/* Walk the 2-level guest tables at @cr3 for linear @va with access @acc
 * (SM_PF_W|SM_PF_U|SM_PF_I). @pse: CR4.PSE; @wp: CR0.WP. With @set_ad the
 * accessed (and on a write, dirty) bits are set as the CPU would.
 * Returns SM_WALK_OK, SM_WALK_FAULT or SM_WALK_BAD_GPA (also for a 4 MiB
 * page above 4 GiB). Unlike sm__walk, a fault's error code keeps SM_PF_I
 * of @acc (what a 64-bit Linux host reports for the same user program). */
int sm__walk32(const struct sm_gmem *m, uint32_t cr3, bool pse, bool wp, uint32_t va,
	       uint32_t acc, bool set_ad, struct sm_walk *w);

#endif
