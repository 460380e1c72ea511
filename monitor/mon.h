/* monitor/mon.h — the monitor world of the hybrid engine: layout of a vCPU's
 * world block (shared by the switch assembly in host-driver/hvmm-switch.S,
 * the module's C side and the monitor's trap handlers in monitor/mon-*.c).
 * See docs/world-switch.md. Safe to include from assembly (__ASSEMBLY__).
 *
 * One world block per vCPU, MON_BLOCK_SIZE bytes aligned to its size, in the
 * host kernel's direct map (so mapped in both worlds, above 4 GiB):
 *
 *   0x0000  struct mon_world (header: host save area, exit info, counters)
 *   0x1000  GDT      0x2000  IDT      0x3000  TSS (no I/O bitmap)
 *   0x4000  #DF stack (IST1)  0x5000  NMI stack (IST2)  0x6000  #MC stack (IST4)
 *   0x7000  FPU area (fxsave, guest state)
 *   0x8000 .. 0x10000  monitor stack; TSS.RSP0 = top; a trap from the guest
 *           always builds its struct mon_frame at MON_FRAME_OFF.
 * Any RSP inside the block finds the header with RSP & ~(MON_BLOCK_SIZE-1).
 */
#ifndef HVMM_MON_H
#define HVMM_MON_H

#define MON_BLOCK_SIZE	0x10000
#define MON_OFF_GDT	0x1000
#define MON_OFF_IDT	0x2000
#define MON_OFF_TSS	0x3000
#define MON_OFF_IST_DF	0x5000		/* stack tops */
#define MON_OFF_IST_NMI	0x6000
#define MON_OFF_IST_MC	0x7000
#define MON_OFF_FPU	0x7000
#define MON_OFF_STACK	0x10000
#define MON_FRAME_SIZE	(26 * 8)
#define MON_FRAME_OFF	(MON_OFF_STACK - MON_FRAME_SIZE)

/* Selectors of the monitor GDT. The 64-bit ones reuse Linux's numbers
 * (__KERNEL_CS, __KERNEL_DS, GDT_ENTRY_TSS) so CS stays valid across the
 * switch and a mid-switch NMI finds what it expects. The guest ones equal
 * Linux's __USER32_CS / __USER_DS (and HVMM_SEL_CODE / HVMM_SEL_DATA). */
#define MON_SEL_CS	0x10
#define MON_SEL_DS	0x18
#define MON_SEL_GCODE	0x23
#define MON_SEL_GDATA	0x2b
#define MON_SEL_TSS	0xff0	/* index 510-511: the guest may use 1..509 but 2 */
#define MON_GDT_ENTRIES	512

/* Header offsets used by the assembly (checked against the struct in C). */
#define W_HOST_RSP	0x00
#define W_HOST_CR3	0x08
#define W_MON_CR3	0x10
#define W_HOST_GSBASE	0x18
#define W_HOST_SS	0x20
#define W_HOST_TR	0x28
#define W_HOST_GDTR	0x30	/* 10 bytes each: limit, base */
#define W_HOST_IDTR	0x40
#define W_MON_GDTR	0x50
#define W_MON_IDTR	0x60
#define W_HOST_GDTR_RW	0x70
#define W_HOST_LDT	0x80
#define W_HOST_CR4	0xa0
#define W_MON_CR4	0xa8	/* 0: the world keeps the host's CR4 */

/* Frame offsets (struct mon_frame). */
#define F_DS		(15 * 8)
#define F_ES		(16 * 8)
#define F_FS		(17 * 8)
#define F_GS		(18 * 8)
#define F_VECTOR	(19 * 8)
#define F_ERROR		(20 * 8)
#define F_RIP		(21 * 8)
#define F_CS		(22 * 8)

/* Exit reasons (the same numbers as enum hvmm_exit_reason in
 * host-driver/hvmm-abi.h; the module checks that they agree). */
#define MON_X_SYSCALL		1
#define MON_X_IO		2
#define MON_X_HLT		3
#define MON_X_FAULT		4
#define MON_X_BAD_MEMORY	5
#define MON_X_MONITOR_ERROR	6
#define MON_X_HOST_IRQ		16
#define MON_X_HOST_NMI		17
#define MON_X_BT_YIELD		18	/* translated code: the module must look */

/* What mon__trap tells the assembly. */
#define MON_RESUME	0
#define MON_EXIT	1

#ifndef __ASSEMBLY__

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include "shadowmm/sm.h"

struct bt;

/* Registers as the trap stubs leave them on the monitor stack. */
struct mon_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t ds, es, fs, gs;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

struct mon_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define MON_EXITS	24	/* == HVMM_EXIT_REASONS */

/* Shadow page tables of the guest's low 4 GiB (4 KiB entries only). The
 * four PD pages cover 4 GiB; PTs come from a fixed pool of pinned pages
 * (no allocation inside the monitor world) and the whole shadow is dropped
 * when the pool runs dry. Pointers are host direct-map addresses. */
#define MON_POOL_PAGES	512
#define MON_WLOG	1024
#define MON_PT_FREE	0xffffu	/* mon_shadow.pool_slot: not linked */
#define MON_PT_GLOBAL	0x1u	/* mon_shadow.pool_kinds: a guest-global entry */
#define MON_PT_LOCAL	0x2u	/* ... an entry a CR3 load drops */
struct mon_shadow {
	uint64_t *pd[4];
	uint64_t *pool_kva[MON_POOL_PAGES];
	uint64_t pool_hpa[MON_POOL_PAGES];
	uint32_t pool_used;
	/* per pool page below pool_used: the shadow PD slot it is linked at
	 * (va >> 21) or MON_PT_FREE, and the kinds of entry it holds
	 * (MON_PT_GLOBAL, MON_PT_LOCAL); pages mon__shadow_drop_local unlinked
	 * wait in pool_free[0..pool_nfree) */
	uint16_t pool_slot[MON_POOL_PAGES];
	uint8_t pool_kinds[MON_POOL_PAGES];
	uint16_t pool_free[MON_POOL_PAGES];
	uint32_t pool_nfree;
	/* guest frames mapped writable since the last flush (system mode: the
	 * interpreter drops its decoded code of them); wlog_n > MON_WLOG means
	 * the log overflowed. wbits (one bit per guest frame, wbits_n words;
	 * NULL: none) holds the same set and never overflows: global shadows
	 * outlive CR3 loads, so the log overflows in normal use */
	uint32_t wlog_n;
	uint32_t wlog[MON_WLOG];
	uint32_t *wbits;
	uint32_t wbits_n;
};

/* The world header at offset 0 of the block (at most 4 KiB). */
struct mon_world {
	/* --- used by the assembly, offsets fixed above --- */
	uint64_t host_rsp, host_cr3, mon_cr3, host_gs_base;
	uint64_t host_ss, host_tr;
	struct mon_dtr host_gdtr;	uint8_t pad0[6];
	struct mon_dtr host_idtr;	uint8_t pad1[6];
	struct mon_dtr mon_gdtr;	uint8_t pad2[6];
	struct mon_dtr mon_idtr;	uint8_t pad3[6];
	struct mon_dtr host_gdtr_rw;	uint8_t pad4[6];
	uint64_t host_ldt;		/* LDTR selector; the world runs with none */
	uint64_t resume_sregs, resume_add, resume_iret;	/* labels in the switch code */
	uint64_t host_cr4, mon_cr4;

	/* --- the guest, as the monitor sees it --- */
	struct sm_gmem gmem;		/* guest RAM (pinned frames) */
	uint32_t guest_cr0, guest_cr3, guest_cr4, guest_cr2;
	struct mon_shadow *shadow;

	/* --- why the world was left (set by mon__trap) --- */
	uint32_t exit_reason, exit_vector, exit_error, exit_cr2;
	uint32_t io_port;
	uint8_t io_size, io_in, io_string, insn_len;
	uint64_t exit_rip;		/* MONITOR_ERROR: faulting monitor RIP */
	uint32_t nmi_pending;
	uint32_t dead;			/* a monitor error happened */
	uint32_t shadow_flushed;	/* set by mon__shadow_fault */
	uint32_t sys_mode;		/* system mode: guest user code of a whole guest */

	/* --- translated guest kernel code (bt/, docs/bt.md) --- */
	uint32_t bt_stay;		/* this stay runs translated code at CPL 1 */
	uint32_t bt_win;		/* window base (guest linear); 0: none */
	const uint64_t *bt_win_pa;	/* host-physical address of each window page */
	const struct bt *bt;		/* frames it translated from are watched */
	uint32_t bt_gdt_gfn[2];		/* the guest GDT's frames (watched; ~0u: none) */
	const uint32_t *code_bits;	/* the interpreter's decoded-code pages (watched) */
	uint32_t exit_watched;		/* the exit was a write to a watched frame */
	/* In a translated stay, a #UD at CPL 1 (an exit site of translated
	 * code, docs/bt.md) and a #GP(0) at CPL 3 (guest user code reached
	 * by an in-world SYSEXIT) go to this handler first, inside the world
	 * (interrupts off, host GS base): 0 = done, resume at the frame; 1 =
	 * leave the world with MON_X_BT_YIELD (state resumable as is); -1 =
	 * the ordinary exit, frame untouched. Set by the module. */
	int (*bt_trap)(struct mon_world *w, struct mon_frame *f);
	void *bt_ctx;

	/* --- counters (struct hvmm_stats) --- */
	uint64_t n_exits[MON_EXITS];
	uint64_t n_shadow_faults, n_shadow_flushes, n_monitor_traps, n_nmis_deferred;
	uint64_t n_shadow_local_drops;	/* mon__shadow_drop_local calls */
	uint64_t n_bt_traps;		/* bt_trap calls that resumed in the world */
};

static inline struct mon_frame *mon__frame(struct mon_world *w)
{
	return (struct mon_frame *)((char *)w + MON_FRAME_OFF);
}

/* Called by the trap stubs with the host's GS base back in place. Decides
 * whether to resume the guest (MON_RESUME) or leave the world (MON_EXIT,
 * with w->exit_* set). Runs with interrupts off on the monitor stack. */
int mon__trap(struct mon_world *w, struct mon_frame *f);

/* Drop every shadow entry (pool back to empty). The caller flushes the TLB. */
void mon__shadow_flush(struct mon_world *w);

/* The guest ran INVLPG @lin: its shadow translations go, for the whole
 * aligned 4 MiB region (a large guest page may be shadowed as many 4 KiB
 * entries, SDM Vol. 3A 4.10.4.1). The caller flushes the TLB. */
void mon__shadow_invlpg(struct mon_world *w, uint32_t lin);

/* The guest loaded CR3 (a TLB flush that spares global pages, SDM Vol. 3A
 * 4.10.4.1): every shadow entry goes but those of guest-global pages (G in
 * the guest's leaf entry with CR4.PGE set when it was built). Shadow PTs
 * left empty go back to the pool. The caller flushes the TLB. */
void mon__shadow_drop_local(struct mon_world *w);

/* A frame the interpreter decoded code from (w->code_bits), translated code
 * came from (w->bt), or holding the guest's GDT (mirrored in the world
 * GDT): the shadow maps it read-only, so a write leaves the world first and
 * the interpreter performs it (and drops what it decoded or translated from
 * the frame). */
bool mon__shadow_watched(const struct mon_world *w, uint32_t gfn);

/* Whether a frame mapped writable since the last flush (write log and
 * bitmap, struct mon_shadow) is watched now (mon__shadow_watched): then a
 * shadow may let a write bypass the watch, and every shadow must go. */
bool mon__shadow_wrote_watched(const struct mon_world *w);

/* Build the shadow entry for guest linear @va after a #PF with @err (pure
 * memory work: the caller invalidates the TLB entry, and reloads CR3 when
 * w->shadow_flushed was set). Returns 0 (fixed), 1 (a guest fault: exit_*
 * set), or -1 (bad guest memory: exit_reason set). */
int mon__shadow_fault(struct mon_world *w, uint32_t va, uint32_t err);

#endif /* __ASSEMBLY__ */
#endif
