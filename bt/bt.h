/* bt/bt.h — the binary translator for guest kernel code (docs/bt.md).
 *
 * Guest CPL-0 code (32-bit protected mode, flat CS, paging on) is copied
 * into a translation cache (TC) that the monitor runs at CPL 1 in a
 * compatibility-mode segment, inside a *window*: a 4 MiB-aligned range of
 * the guest's linear space that the guest's own page tables leave unmapped
 * (the monitor picks it and moves it on collision; bt__reset). Guest
 * registers are the real registers; guest memory is reached through the
 * shadow page tables at the guest's own linear addresses, so most
 * instructions are copied verbatim. Translated: control flow (direct
 * branches chain TC blocks, indirect ones look up a hash table in the
 * window), CLI/STI/PUSHF/POPF (the guest's IF is virtual: bt_wdata), and
 * every instruction a CPL-1 copy would run differently (privileged,
 * sensitive, far transfers...) becomes an exit site: a UD2 whose TC address
 * names the guest instruction; the monitor hands the guest state to the
 * interpreter there.
 *
 * Window layout (guest-linear offsets from the window base, host memory
 * given to bt__init as one contiguous kernel mapping of BT_WIN_BYTES):
 *   0x00000  struct bt_wdata       (one page; writable at CPL 1)
 *   0x01000  indirect-branch hash  (BT_HASH_ENTRIES x struct bt_hent in 2-way
 *                                   sets; read-only at CPL 1)
 *   0x20000  translation cache     (BT_TC_BYTES; read-only at CPL 1)
 * The TC's absolute references (wdata fields, hash table, chained jumps)
 * embed the window base: moving the window means bt__reset.
 *
 * Precise state: at every TC address the translator records as a *site*,
 * the real registers, EFLAGS (arithmetic bits, DF, AC) and guest memory
 * equal the guest's state before the guest instruction site->eip, after the
 * fix-ups site->fix (registers to reload from bt_wdata scratch slots). Any
 * guest-memory access a translated sequence makes (and so any guest fault)
 * happens at a site. Between sites (inside a multi-instruction sequence)
 * the state is not a guest state: the monitor either resumes there, or
 * single-steps (EFLAGS.TF) to the next site.
 *
 * Everything here is plain C with no privileged instruction, compiled into
 * userland (unit tests run translated code in the interpreter) and into
 * hvmm.ko's build/monitor-fs.a (freestanding).
 */
#ifndef HVMM_BT_H
#define HVMM_BT_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/errno.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif
#if defined(__KERNEL__)
#elif defined(HVMM_FREESTANDING)
#define EINVAL	22	/* the Linux values (no libc here) */
#define ENOENT	2
#define EFAULT	14
#define ENOSPC	28
#else
#include <errno.h>
#endif

#define BT_WIN_ALIGN		0x400000u	/* one guest PDE (2-level paging) */
#define BT_WDATA_OFF		0x00000u
#define BT_HASH_OFF		0x01000u
#define BT_HASH_ENTRIES		8192u		/* 2^13: bt_hash_slot; 4096 sets of 2 */
#define BT_TC_OFF		0x20000u
#define BT_TC_BYTES		0x300000u	/* < 16 MiB: SREC_OFF */
#define BT_WIN_BYTES		(BT_TC_OFF + BT_TC_BYTES)

/* Data the translated code reads and writes (window offset 0). Layout is
 * ABI between translated code and the monitor: fixed offsets. */
struct bt_wdata {
	uint32_t vif;		/* 0x00: guest EFLAGS.IF as 0 (clear) or 256 (set) */
	uint32_t pend;		/* 0x04: nonzero: an interrupt waits for IF=1 */
	uint32_t s_eax;		/* 0x08: scratch: EAX saved by a sequence */
	uint32_t s_ecx;		/* 0x0c: scratch: ECX */
	uint32_t s_fl;		/* 0x10: scratch: LAHF/SETO image of the flags */
	uint32_t target;	/* 0x14: guest EIP of an indirect branch */
	uint32_t jmp_tc;	/* 0x18: TC address an indirect branch jumps to */
	uint32_t cs_sel;	/* 0x1c: the guest's CS selector (PUSH CS pushes it) */
	uint32_t ss_sel;	/* 0x20: the guest's SS selector (PUSH SS pushes it) */
	uint32_t cr2;		/* 0x24: the guest's CR2 (MOV r32, CR2 reads it): set
				 * per stay, which a guest #PF ends */
	uint32_t pad[54];
	uint8_t iftab[512];	/* 0x100: iftab[vif + b] = b with bit 1 (IF in
				 * EFLAGS byte 1) taken from vif: PUSHF's fix */
};

/* One indirect-branch hash entry: guest EIP -> TC address. The table is
 * 2-way set-associative: slots 2s and 2s + 1 are set s, and the lookup of
 * an eip probes its slot k = bt_hash_slot(eip), then k ^ 1; an entry is in
 * either slot of its set. An empty entry holds an eip of another set (so
 * neither probe matches it) and tc 0. */
struct bt_hent {
	uint32_t eip;
	uint32_t tc;
};

/* The hash slot of guest EIP @eip: a multiplicative (Fibonacci) hash, the
 * top 13 bits of eip * 0x9e3779b1 (the translated lookup computes it with
 * IMUL and SHR). Function entries aligned to 16 bytes spread over every
 * slot (eip & 8191 would give them one slot in 16). */
static inline uint32_t bt_hash_slot(uint32_t eip)
{
	return (eip * 0x9e3779b1u) >> 19;
}

/* Fix-ups a site needs before its state is the guest's (bit mask). */
#define BT_FIX_EAX	0x1u	/* EAX := wdata.s_eax */
#define BT_FIX_ECX	0x2u	/* ECX := wdata.s_ecx */
#define BT_FIX_FLAGS	0x4u	/* arithmetic flags := wdata.s_fl (AH=SAHF image, AL=OF) */

enum bt_site_kind {
	BT_SITE_INSN = 0,	/* a boundary before guest instruction eip */
	BT_SITE_EXIT,		/* UD2: the interpreter executes eip next */
	BT_SITE_MISS,		/* UD2: direct branch to eip not translated yet;
				 * bt__chain translates it and patches the jump */
	BT_SITE_EXIT_DYN,	/* UD2: indirect branch done, guest EIP is
				 * wdata.target (hash miss after a CALL's push) */
};

struct bt_site {
	uint32_t eip;		/* guest EIP (for EXIT_DYN: read wdata.target) */
	uint8_t kind;		/* enum bt_site_kind */
	uint8_t fix;		/* BT_FIX_* */
	uint8_t flags;		/* BT_SF_* */
};

/* Site flags. SHADOW: the guest instruction before eip was an STI that
 * the TC executed inline (it set wdata.vif): eip is inside STI's interrupt
 * shadow (SDM Vol. 2 STI), so no interrupt may be delivered before the
 * instruction at eip completes (e.g. STI; HLT must not sleep with the
 * interrupt taken in between). */
#define BT_SF_SHADOW	0x1u

/* How the translator reads guest code: the host address of the 4 KiB guest
 * page at linear @lin_page (supervisor instruction fetch under the current
 * paging) and its guest frame number; -EFAULT when not present, not RAM,
 * or not translatable (the caller interprets it). */
struct bt_env {
	void *opaque;
	int (*code_page)(void *opaque, uint32_t lin_page, const uint8_t **host,
			 uint32_t *gfn);
};

struct bt;

/* Bytes to allocate (zeroed, never on a stack) for a struct bt. */
size_t bt__size(void);
/* Prepares @bt over the window memory @win (BT_WIN_BYTES, writable by the
 * caller; the guest sees it at @win_lin, BT_WIN_ALIGN-aligned) for a guest
 * with @ngfn frames. Returns 0 or -EINVAL. */
int bt__init(struct bt *bt, void *win, uint32_t win_lin, uint32_t ngfn);
/* Drops every translation and moves the window to @win_lin. */
void bt__reset(struct bt *bt, uint32_t win_lin);
uint32_t bt__win_lin(const struct bt *bt);
/* The window's data page as the caller sees it (to set vif/pend, read
 * scratch slots). */
struct bt_wdata *bt__wdata(struct bt *bt);

/* TC address of guest @eip, translating a block on a miss. 0; -EFAULT:
 * the code cannot be fetched or translated here (interpret it); -ENOSPC:
 * the TC is full (bt__reset, then retry). */
int bt__lookup(struct bt *bt, const struct bt_env *env, uint32_t eip, uint32_t *tc);
/* The site at TC address @tc: 0, or -ENOENT when @tc is not a site
 * (inside a sequence, or not in the TC). */
int bt__site(const struct bt *bt, uint32_t tc, struct bt_site *out);
/* After a BT_SITE_MISS exit at @tc: translates its target and patches the
 * branch that reached the stub, so it is never taken again. *next is where
 * to resume. Same returns as bt__lookup, and -EINVAL if @tc is not a miss
 * stub. */
int bt__chain(struct bt *bt, const struct bt_env *env, uint32_t tc, uint32_t *next);
/* Applies site @s's fix-ups to the 8 guest registers @gpr (EAX..EDI order)
 * and the arithmetic flags of *eflags. */
void bt__fixup(const struct bt *bt, const struct bt_site *s, uint32_t gpr[8],
	       uint32_t *eflags);

/* Does a live translation come from guest frame @gfn? Writes to such
 * frames must reach bt__code_written before translated code runs again.
 * Exact: false again once every block from the frame was dropped. */
bool bt__gfn_translated(const struct bt *bt, uint32_t gfn);
/* Guest frame @gfn was (or may have been) written: drops every block whose
 * code bytes came from it (a block may span two frames). Other blocks
 * stay; chained jumps from them into a dropped block go back to their miss
 * stubs (bt__chain links them again), and the indirect-branch hash forgets
 * the dropped ones. Returns true if any was dropped. */
bool bt__code_written(struct bt *bt, uint32_t gfn);

/* The guest invalidated the TLB entry of linear @lin (INVLPG): drops the
 * blocks made from code at that linear page (as bt__code_written does).
 * Translations are keyed by linear EIP; the code_page callback only gives
 * pages whose mapping survives CR3 loads (global), so CR3 loads keep them,
 * and INVLPG, CR4.PGE/PSE and CR0.PG changes must reach bt. */
bool bt__invlpg(struct bt *bt, uint32_t lin);

/* A dropped block's TC space is not reused (until the next reset), and its
 * sites stay known to bt__site. No jump in the TC reaches a dropped block
 * (also not from another dropped one): a monitor that was stopped inside
 * one (a host interrupt, while a device wrote the code by DMA) may resume
 * there; it runs the old bytes to the block's end, where its branches go
 * to live blocks or to miss stubs. */

/* Limits the TC to its first @bytes (at least 4 KiB; at most BT_TC_BYTES)
 * and drops every translation: for tests of a full TC. 0 or -EINVAL. */
int bt__set_tc_limit(struct bt *bt, uint32_t bytes);

/* Counters, for --stats. */
struct bt_stats {
	uint64_t blocks;	/* blocks translated */
	uint64_t insns;		/* guest instructions translated */
	uint64_t tc_used;	/* bytes of TC in use */
	uint64_t resets;	/* bt__reset calls (full flushes) */
	uint64_t chains;	/* jumps patched by bt__chain */
	uint64_t exit_sites;	/* exit sites emitted */
	uint64_t lookups;	/* bt__lookup calls */
	uint64_t invalidations;	/* bt__code_written/bt__invlpg calls that dropped blocks */
	uint64_t dropped;	/* blocks dropped by them */
	uint64_t unchained;	/* chained jumps sent back to their stubs by them */
};
void bt__stats(const struct bt *bt, struct bt_stats *out);

#endif
