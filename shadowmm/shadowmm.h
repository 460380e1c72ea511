/* shadowmm/shadowmm.h — the shadow MMU of the hybrid engine: the guest
 * page-table walker for every IA-32 paging mode and the shadow page tables
 * (gva -> ma) the monitor world runs guest code under. See docs/shadowmm.md.
 *
 * Portable, pure memory work: compiles in userland (unit tests), freestanding
 * (build/monitor-fs.a) and in the kernel module. It never executes a
 * privileged instruction: after each call the caller reads sm->flush_tlb and
 * reloads CR3 (or INVLPGs the faulting address) itself.
 *
 * Linear address split (a 32-bit guest address in the 4-level shadow):
 *
 *   31 30 29        21 20         12 11          0
 *  +-----+------------+-------------+-------------+
 *  | PDP |  PD index  |  PT index   |   offset    |   shadow (and PAE guest)
 *  +-----+------------+-------------+-------------+
 *  |  PD index (10)   | PT idx (10) |   offset    |   2-level guest
 *  +------------------+-------------+-------------+
 */
#ifndef HVMM_SHADOWMM_H
#define HVMM_SHADOWMM_H

#include "shadowmm/sm.h"

/* ---------------------------------------------------------------------
 * Guest paging modes and the walker (sm-walk.c)
 * ------------------------------------------------------------------- */

/* Entry bits shared by the guest formats and the 4-level shadow format. */
#define SM_PTE_PWT	0x008ull
#define SM_PTE_PCD	0x010ull
#define SM_PTE_G	0x100ull
#define SM_PTE_XD	(1ull << 63)

/* The guest's paging state, as the walker needs it. Fill it with
 * sm__paging_init(); PAE PDPTEs are loaded there, as a CPU does at a MOV to
 * CR3/CR0/CR4 (SDM Vol. 3A §4.4.1), not at each walk. */
struct sm_paging {
	uint32_t cr3;
	bool pg;		/* CR0.PG: off = linear is physical */
	bool pae;		/* CR4.PAE */
	bool pse;		/* CR4.PSE (ignored with PAE: PS always honoured) */
	bool wp;		/* CR0.WP */
	bool pge;		/* CR4.PGE */
	bool nxe;		/* EFER.NXE (with PAE only) */
	bool pse36;		/* CPUID.1:EDX.PSE-36: 4 MiB pages reach above 4 GiB */
	uint8_t maxphyaddr;	/* the guest's MAXPHYADDR (CPUID 0x80000008), 32..52 */
	uint64_t pdpte[4];	/* PAE: the PDPTE registers */
};

#define SM_CR0_WP	0x00010000u
#define SM_CR0_PG	0x80000000u
#define SM_CR4_PSE	0x00000010u
#define SM_CR4_PAE	0x00000020u
#define SM_CR4_PGE	0x00000080u
#define SM_EFER_NXE	0x00000800u

/* Fill @p from the guest's CR0, CR3, CR4 and EFER. @maxphyaddr 0 is the
 * CPU the interpreter's CPUID describes: MAXPHYADDR 36 (PAE, no leaf
 * 0x80000008) and no PSE-36; any other value is that MAXPHYADDR with
 * PSE-36. With PAE also loads the four PDPTEs from guest RAM. Returns 0,
 * or -1 when the CPU would raise #GP(0) instead (a PDPTE with a reserved
 * bit set, or the PDPT outside guest RAM; SDM §4.4.1). */
int sm__paging_init(struct sm_paging *p, const struct sm_gmem *m, uint32_t cr0, uint32_t cr3,
		    uint32_t cr4, uint64_t efer, unsigned int maxphyaddr);

/* The result of one walk. pte_gpa[l] is the guest-physical address of the
 * entry used at level l (1 = PTE, 2 = PDE, 3 = PDPTE), valid up to the
 * level where the walk stopped. */
struct sm_gwalk {
	uint64_t gpa;		/* guest-physical address of va (on SM_WALK_OK) */
	uint64_t gpte;		/* the leaf entry (PTE or large PDE), after A/D */
	uint64_t pte_gpa[4];
	uint32_t error_code;	/* on SM_WALK_FAULT: the #PF error code */
	uint8_t level;		/* leaf level: 1 = 4 KiB page, 2 = 4 MiB/2 MiB page */
	bool user;		/* U/S = 1 at every level */
	bool writable;		/* R/W = 1 at every level */
	bool nx;		/* XD = 1 at some level (PAE with EFER.NXE only) */
	bool global;		/* G in the leaf and CR4.PGE */
	bool dirty;		/* D in the leaf (after this walk's update) */
};

#define SM_WALK_SET_AD	0x1	/* set A (and D on a write) as the CPU does */

/* SM_WALK_OK, SM_WALK_FAULT, SM_WALK_BAD_GPA (in sm.h) and: */
#define SM_WALK_RETRY	2	/* an entry changed under the A/D update 16 times */

/* Walk the guest tables described by @p for linear @va and access @acc
 * (SM_PF_W | SM_PF_U | SM_PF_I, where U means CPL 3) as the CPU does (SDM
 * Vol. 3A §4.3-4.8). A fault is reported as the #PF error code the CPU
 * would push (P, W, U, RSVD, I). A paging structure outside guest RAM (or
 * in a hole) gives SM_WALK_BAD_GPA. Entries are read once each (a guest
 * may change them concurrently); A/D updates use compare-and-exchange. */
int sm__walk(const struct sm_gmem *m, const struct sm_paging *p, uint32_t va, uint32_t acc,
	     unsigned int flags, struct sm_gwalk *w);

/* Reserved bits of a present guest PTE (4 KiB leaf) in mode @p: 0 for
 * 2-level paging. */
uint64_t sm__pte_rsvd(const struct sm_paging *p);

/* ---------------------------------------------------------------------
 * Shadow page tables (sm-shadow.c, sm-track.c)
 * ------------------------------------------------------------------- */

/* Shadow (4-level, IA-32e) entry bits; SDM Vol. 3A §4.5, tables 4-15..4-20. */
#define SM_SPTE_P	0x001ull
#define SM_SPTE_W	0x002ull
#define SM_SPTE_U	0x004ull
#define SM_SPTE_A	0x020ull
#define SM_SPTE_D	0x040ull
#define SM_SPTE_ADDR	0x000ffffffffff000ull
/* Bits 62:52 of a non-leaf entry are ignored by the CPU (tables 4-15, 4-17):
 * they hold the index of the child shadow page in sm->pages[]. */
#define SM_SPTE_IDX_SHIFT 52
#define SM_SPTE_IDX_MASK  0x7ffull

#define SM_MAX_PAGES	2048	/* fits SM_SPTE_IDX_MASK */
#define SM_MAX_ROOTS	8
#define SM_HASH		1024	/* gfn hash buckets (an empty bucket answers sm__gfn_tracked at once) */
#define SM_RMAP_ENTS	8192	/* reverse-map entries (writable sptes) */
#define SM_NIL		0xffffu
#define SM_NO_GFN	0xffffffffu

/* The caller's page allocator. page_alloc returns a 4 KiB page (host
 * pointer, any content) and stores its machine address in *ma, or NULL.
 * Inside the monitor world both must be pure memory work (a pinned pool). */
struct sm_alloc {
	void *(*page_alloc)(void *opaque, uint64_t *ma);
	void (*page_free)(void *opaque, void *page, uint64_t ma);
	void *opaque;
};

/* One shadow page (metadata; the page itself is @pt at machine @ma). */
struct sm_page {
	uint64_t *pt;
	uint64_t ma;
	uint32_t gfn;		/* guest table frame it shadows, or SM_NO_GFN */
	uint16_t hnext;		/* next page with the same gfn hash, or SM_NIL */
	uint16_t parent;	/* parent shadow page (SM_NIL: a root) */
	uint16_t pindex;	/* index of our entry in the parent */
	uint8_t level;		/* 1 PT, 2 PD, 3 root (PDPT) */
	uint8_t quadrant;	/* 2-level guest: which part of the guest table */
	uint8_t large;		/* a PT shadowing a guest 4 MiB / 2 MiB page */
	uint8_t in_use;
};

/* A cached shadow root, keyed by (guest CR3, PDPTEs for PAE). */
struct sm_root {
	uint16_t page;		/* SM_NIL: slot free */
	uint32_t cr3;
	uint64_t pdpte[4];
	uint64_t stamp;		/* last use, for LRU */
};

/* Reverse map of writable leaf sptes: gfn -> where an spte may map it
 * writable (page index << 9 | entry). Entries can be stale (checked when
 * used); every writable spte has one unless the map overflowed. */
struct sm_rmap_ent {
	uint32_t gfn;
	uint32_t loc;
	uint16_t next;
};

enum sm_flush_cause {
	SM_FLUSH_MODE,		/* CR0.WP/PG, CR4.PSE/PAE/PGE, EFER.NXE changed */
	SM_FLUSH_PRESSURE,	/* the page cap was reached */
	SM_FLUSH_INVLPG,	/* sptes dropped by guest INVLPG */
	SM_FLUSH_GPT_WRITE,	/* sptes dropped by a write to a guest page table */
	SM_FLUSH_ROOT_EVICT,	/* a cached root evicted for a new CR3 */
	SM_FLUSH_CALLER,	/* sm__flush_all from the caller */
	SM_FLUSH_CAUSES
};

struct sm_stats {
	uint64_t shadow_faults;		/* hidden: fixed by building an spte */
	uint64_t guest_faults;		/* reflected into the guest as #PF */
	uint64_t mmio_faults;		/* gpa outside RAM or in a hole */
	uint64_t emulate_faults;	/* writes to write-protected guest tables */
	uint64_t spurious_faults;	/* the spte already allowed the access */
	uint64_t sptes_built;
	uint64_t sptes_prefetched;	/* neighbours built with a fault's spte */
	uint64_t root_hits, root_misses;
	uint64_t gpt_writes;		/* sm__guest_write calls that hit a tracked page */
	uint64_t wp_scans;		/* full scans (reverse map overflowed) */
	uint64_t wp_rmap;		/* write protections done through the reverse map */
	uint64_t rmap_overflows;
	uint64_t flushes[SM_FLUSH_CAUSES];
	uint32_t pages_in_use, pages_peak;
};

/* The shadow MMU of one guest address-space family (one per vCPU). The
 * caller allocates it (about 100 KiB), then calls sm__init. */
struct sm {
	struct sm_gmem gmem;
	struct sm_alloc alloc;
	struct sm_paging paging;
	uint32_t max_pages;	/* hard cap on shadow pages, <= SM_MAX_PAGES */
	uint32_t nroots;	/* cached roots, 1..SM_MAX_ROOTS */
	uint32_t prefetch;	/* sptes per aligned block filled at a fault
				 * (0, 1: off; a power of two <= 512; default 16) */
	int cur;		/* current root slot, -1 before sm__set_paging */
	uint64_t clock;
	bool flush_tlb;		/* set: entries of the current root were removed or
				 * downgraded; the caller reloads CR3 and clears it */
	/* Optional: called when guest frame @gfn becomes a tracked page
	 * table (@tracked true) or stops being one, so the caller can route
	 * its own writes to that frame (interpreter, DMA) through
	 * sm__guest_write, e.g. by dropping a cached writable pointer. Must
	 * not call back into sm. */
	void (*track_notify)(void *opaque, uint32_t gfn, bool tracked);
	void *notify_opaque;
	uint16_t free_head;	/* free metadata slots */
	uint16_t hash[SM_HASH];	/* gfn -> pages shadowing that guest table */
	struct sm_root roots[SM_MAX_ROOTS];
	struct sm_page pages[SM_MAX_PAGES];
	bool rmap_full;		/* overflowed: write protection scans all PTs
				 * until the shadow is empty again */
	uint16_t rmap_free;
	uint16_t rmap_head[SM_HASH];
	struct sm_rmap_ent rmap[SM_RMAP_ENTS];
	struct sm_stats stats;
};

/* Prepare @sm for guest RAM @m with @alloc, at most @max_pages shadow pages
 * (at least 8) and @nroots cached roots. The guest starts with paging off
 * until sm__set_paging. Returns 0 or -1 on bad arguments. */
int sm__init(struct sm *sm, const struct sm_gmem *m, const struct sm_alloc *alloc,
	     uint32_t max_pages, uint32_t nroots);

/* Give every shadow page back to the allocator. */
void sm__destroy(struct sm *sm);

/* The guest wrote CR0, CR3, CR4 or EFER: a change of any mode bit (PG, WP,
 * PSE, PAE, PGE, NXE) flushes every shadow; a new CR3 switches to its cached
 * root or a fresh one. Returns 0, -1 when the guest must get #GP(0) (PAE
 * PDPTE with reserved bits: state unchanged), or -2 when no page could be
 * had for a root. Afterwards install sm__root_entry() in PML4[0] and
 * reload CR3. */
int sm__set_paging(struct sm *sm, uint32_t cr0, uint32_t cr3, uint32_t cr4, uint64_t efer,
		   unsigned int maxphyaddr);

/* The PML4[0] entry that maps the guest's low 4 GiB through the current
 * root (0 before the first sm__set_paging). */
uint64_t sm__root_entry(const struct sm *sm);

/* What a shadow page fault turned out to be. */
enum sm_fault_result {
	SM_FIXED = 0,		/* spte built: INVLPG va (CR3 if flush_tlb), resume */
	SM_GUEST_FAULT,		/* reflect #PF(out->error_code) with CR2 = va */
	SM_MMIO,		/* out->gpa is not RAM: emulate the access as MMIO */
	SM_EMULATE,		/* write to a tracked guest page table: emulate the
				 * instruction, then call sm__guest_write */
	SM_SPURIOUS,		/* the spte already allowed it (stale TLB, or SMAP/
				 * SMEP of the monitor world): INVLPG and resume */
	SM_RETRY,		/* shadow recycled or a racing A/D update: resume */
	SM_BAD_GPA,		/* a guest paging structure lies outside RAM */
};

struct sm_fault_out {
	uint32_t error_code;	/* SM_GUEST_FAULT */
	uint64_t gpa;		/* SM_MMIO, SM_EMULATE */
};

/* A #PF in the monitor world at guest linear @va with the host's error code
 * @err (U set when the guest ran at CPL 3; CPL 1 is supervisor). Walks the
 * guest tables (setting A/D) and builds the spte, or says why not. */
enum sm_fault_result sm__fault(struct sm *sm, uint32_t va, uint32_t err, struct sm_fault_out *out);

/* Guest INVLPG @va: drop the sptes for that page in every cached root (for a
 * large guest page, its whole shadow PT). Sets flush_tlb when needed. */
void sm__invlpg(struct sm *sm, uint32_t va);

/* Drop every shadow page (cause recorded in the counters). */
void sm__flush_all(struct sm *sm, enum sm_flush_cause cause);

/* True when guest frame @gfn holds a guest page table that has shadows: a
 * write to it (from the interpreter, emulation or DMA) must be reported
 * with sm__guest_write. */
bool sm__gfn_tracked(const struct sm *sm, uint32_t gfn);

/* The guest wrote [@gpa, @gpa+@len) (already done or about to be done by
 * the caller): drop the sptes derived from the guest entries written.
 * Sets flush_tlb when a current-root entry was removed. */
void sm__guest_write(struct sm *sm, uint64_t gpa, uint32_t len);

/* Stop shadowing guest frame @gfn as a page table: drop every shadow page
 * derived from it (and what hangs below), so the frame is writable again
 * until a walk uses it as a table. The simple answer to SM_EMULATE when
 * the caller would rather not emulate: unprotect, then resume. */
void sm__unprotect(struct sm *sm, uint32_t gfn);

#endif
