/* monitor/mon-sys-int.h — struct mon_sys, private to monitor/mon-sys.c and
 * monitor/mon-sys-bt.c (the system-mode vCPU and its translated-kernel-code
 * side). Everyone else uses monitor/mon-sys.h. */
#ifndef HVMM_MON_SYS_INT_H
#define HVMM_MON_SYS_INT_H

#include "monitor/mon-sys.h"
#include "monitor/cpu-internal.h"
#include "bt/bt.h"

struct mon_kirq;
struct bt;

enum { ACC_NONE, ACC_PIO, ACC_MMIO };

#define SYS_DEFAULT_BUDGET 20000
/* device reads one instruction may make before the rest read as all-ones */
#define SYS_READS 16

struct mon_sys {
	struct cpu *cpu;
	void *const *pages;
	unsigned long npages;
	unsigned long long (*now_ns)(void);
	uint64_t clock_start;
	uint32_t mmio_start, mmio_end, rom_start, rom_end;

	/* the access recorded in this run (exit to userland) */
	int pend;			/* ACC_* */
	bool pend_write;
	uint64_t pend_addr, pend_wdata;
	unsigned pend_len;
	/* Reads userland completed for the instruction being re-executed, in
	 * the order it makes them: each re-execution is served from the start
	 * of the list (nread entries, the next at read_pos), so an
	 * instruction that needs several device reads (a gate and a
	 * descriptor in an MMIO table, a page walk through tables outside
	 * RAM) progresses by one read per exit instead of livelocking. The
	 * list belongs to one instruction state (read_fp): any progress (a
	 * retired instruction, a committed REP iteration) starts a new one. */
	struct sys_read { int kind; unsigned len; uint64_t addr, data; } reads[SYS_READS];
	unsigned nread, read_pos;
	uint64_t read_fp[5];
	/* interrupt acknowledge */
	bool have_inject, want_window;
	int inject;
	bool user_irq;			/* HVMM_SRUN_IRQ of this run */
	struct mon_kirq *kirq;		/* in-kernel irqchip, or NULL */
	/* native guest user mode */
	bool native_on, go_native, hold;
	uint32_t mxcsr_mask;
	uint64_t hold_icount;		/* no native entry before it changes */
	/* mon_sys__tlb_events: the interpreter's counters at the last call
	 * (seen_valid false: none yet) */
	bool seen_valid;
	uint64_t seen_flush, seen_flush_global, seen_invlpg;
	/* the FPU state last converted to or from the world's FXSAVE image
	 * (mon_sys__fx_export/import; fpu_seen_valid false: none) */
	bool fpu_seen_valid;
	struct fpu_state fpu_seen;
	bool shutdown;			/* an event delivered after a stay triple-faulted */
	struct seg nat_seg[SEG_NSEGS];	/* segments as exported */
	/* translated guest kernel code (mon-sys-bt.c, docs/bt.md) */
	struct bt *bt;			/* NULL: off */
	struct bt_env bt_env;
	bool go_bt;
	uint64_t bt_skip_icount;	/* no translated stay before this icount */
	uint32_t bt_gdt_n;		/* guest GDT entries as exported */
	uint64_t bt_gdt_raw[MON_BT_GDT_MAX];	/* the guest's descriptors then */

	struct hvmm_sys_stats st;
};

/* mon-sys-bt.c */
bool mon_sys__bt_ok(struct mon_sys *ms);
void mon_sys__bt_code_written(struct mon_sys *ms, uint32_t gpa_page);
void mon_sys__bt_tlb_event(struct mon_sys *ms, uint32_t lin, bool all);
/* The world's FXSAVE image @fx from the interpreter's FPU state, left as
 * it is when that state is still the one last converted either way (no
 * FPU/SSE instruction ran in the interpreter since the world saved @fx);
 * and the way back, remembering the state. */
void mon_sys__fx_export(struct mon_sys *ms, void *fx);
/* After guest user state came back from the world (EFLAGS @fl) with
 * @vector (-1: none): the interpreter holds only for an exception, and a
 * native #DB (single step, ICEBP) is delivered. */
void mon_sys__native_end(struct mon_sys *ms, uint32_t fl, int vector);
void mon_sys__fx_import(struct mon_sys *ms, const void *fx);

#endif
