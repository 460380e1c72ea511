/* monitor/mon-sys.h — the system-mode vCPU of the hybrid engine (issue 6):
 * the IA-32 interpreter (monitor/cpu-*.c) driven by hvmm.ko over the VM's
 * pinned frames, with port I/O, MMIO and interrupt acknowledge turned into
 * exits to the userland process (struct hvmm_sys_run, host-driver/hvmm-abi.h).
 *
 * This header uses only plain C types and the ABI header, so that both the
 * kernel side (host-driver/hvmm-sys.c, kbuild flags) and the freestanding
 * side (monitor/mon-sys.c, in build/monitor-fs.a) include it. The objects
 * are allocated by the caller: never on a stack (the interpreter state is
 * about 8 MiB with its decoded-instruction cache).
 */
#ifndef HVMM_MON_SYS_H
#define HVMM_MON_SYS_H

#include "host-driver/hvmm-abi.h"

struct mon_sys;

/* Bytes to allocate, zeroed, for a struct mon_sys and for its struct cpu
 * (the latter 64-byte aligned: vmalloc memory is). */
unsigned long mon_sys__size(void);
unsigned long mon_sys__cpu_size(void);

/* Prepares ms over the guest RAM: pages[i] is the kernel address (direct
 * map, mapped in both worlds) of guest-physical page i; now_ns gives
 * CLOCK_MONOTONIC in ns. Returns 0 or a negative value. */
int mon_sys__init(struct mon_sys *ms, void *cpu, void *const *pages,
		  unsigned long npages, unsigned long long (*now_ns)(void));

/* The guest's EFLAGS now (what an exit reports). */
__u32 mon_sys__eflags(struct mon_sys *ms);

/* Loads / reads the full architectural state. Setting it drops every
 * cached translation and decoded instruction, and any half-done access. */
void mon_sys__set_state(struct mon_sys *ms, const struct hvmm_sregs *r);
void mon_sys__get_state(struct mon_sys *ms, struct hvmm_sregs *r);

/* Takes run's inputs (INTR line, injected vector, a read's data), runs the
 * interpreter for at most run->budget instructions and fills run's outputs.
 * Returns run->reason (enum hvmm_sys_exit). */
unsigned int mon_sys__run(struct mon_sys *ms, struct hvmm_sys_run *run);

/* Connects the in-kernel irqchip (monitor/mon-kirq.h; NULL: none): while
 * it is on, its ports, INTR and interrupt acknowledge are handled in
 * mon_sys__run without exits, and its PIT is polled at each call. */
struct mon_kirq;
void mon_sys__attach_kirq(struct mon_sys *ms, struct mon_kirq *k);

/* The interpreter's register dump into buf (NUL-terminated). */
unsigned long mon_sys__dump(struct mon_sys *ms, char *buf, unsigned long size);

/* A device wrote guest-physical [gpa, gpa+len) (DMA): drops the decoded
 * instructions of those pages. Clamped to guest RAM; any values are safe. */
void mon_sys__invalidate_phys(struct mon_sys *ms, unsigned long long gpa,
			      unsigned long long len);

/* Counters. */
void mon_sys__stats(struct mon_sys *ms, struct hvmm_sys_stats *st);

/* ---- Native guest user mode (issue 6 stage 2, docs/hybrid.md) -----------
 * mon_sys__run returns MON_SYS_NATIVE (never reported to userland) when the
 * interpreter reached a point where the guest is at CPL 3 and may run
 * natively: the caller exports the state, runs it in the monitor world and
 * imports it back, then calls mon_sys__run again (with no new inputs). */
#define MON_SYS_NATIVE	100

/* The guest user state as the world runs it: segment selectors are the
 * guest's own; desc[i] is the sanitised descriptor the world GDT gets at
 * index sel[i] >> 3 (0 for a null selector). eflags is the native value. */
struct mon_native_state {
	__u32 gpr[8];		/* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
	__u32 eip, eflags;
	__u16 sel[6];		/* ES, CS, SS, DS, FS, GS */
	__u64 desc[6];
	__u32 cr0, cr3, cr4;
};

/* Turns native mode on or off (default off until called); mxcsr_mask is
 * the host's FXSAVE MXCSR_MASK (a guest MXCSR outside it stays interpreted). */
void mon_sys__set_native(struct mon_sys *ms, int on, __u32 mxcsr_mask);

/* The guest's TLB invalidations since the last call, for a shadow that
 * acts as the guest's TLB (SDM Vol. 3A 4.10.4: a translation may be used
 * until INVLPG, a CR3 load or a paging-mode change drops it): -1 when
 * every translation must go (a flush of global pages too: a paging-mode
 * or CR4.PGE change; more than @max INVLPGs; the first call), else the
 * number of INVLPG linear addresses put in @lin, with *@local set when a
 * flush that spares global pages (a CR3 load, SDM Vol. 3A 4.10.4.1)
 * happened too. */
int mon_sys__tlb_events(struct mon_sys *ms, __u32 *lin, int max, int *local);

/* Fills st and the 512-byte FXSAVE image fx (16-byte aligned) from the
 * interpreter's state. Only after mon_sys__run returned MON_SYS_NATIVE. */
void mon_sys__native_export(struct mon_sys *ms, struct mon_native_state *st, void *fx);

/* Takes the state back after a native stay that ended with @vector (an
 * exception vector 0-31, or -1 for a host interrupt / end of slice). A
 * guest exception makes the interpreter execute at least one instruction
 * (it re-executes the faulting one and delivers what the guest must see)
 * before the guest may go native again; a native single-step trap (TF set
 * by a POPF) is delivered as the guest's #DB here. */
void mon_sys__native_import(struct mon_sys *ms, const struct mon_native_state *st,
			    const void *fx, int vector);

/* Delivers a guest #PF found by the monitor's walk of the guest tables
 * during a native stay (after mon_sys__native_import): CR2 = @cr2, error
 * code @err (a 2-level guest never sees I/D). The faulting instruction is
 * not re-executed by the interpreter, so an instruction the interpreter
 * does not implement (the host CPU may have more) still faults right. */
void mon_sys__native_pf(struct mon_sys *ms, __u32 err, __u32 cr2);

/* The interpreter's decoded-code pages: bit n of the bitmap is guest page
 * n (the world maps them read-only, so a write there exits to the
 * interpreter); marks counts pages newly added to it. */
const __u32 *mon_sys__code_bits(struct mon_sys *ms);
unsigned long long mon_sys__code_marks(struct mon_sys *ms);
/* Guest page @gfn may have been written natively: drop decoded code of it.
 * gfn == ~0u: drop all decoded code. */
void mon_sys__code_written(struct mon_sys *ms, __u32 gfn);

/* ---- Translated guest kernel code (bt/, docs/bt.md) ----------------------
 * With a translator attached, mon_sys__run returns MON_SYS_BT (never
 * reported to userland) when the guest is at CPL 0 at a point where its
 * code may run translated at CPL 1 in the world: the caller exports the
 * state, runs the translation cache, and imports the state back at a site
 * (bt__site) with the guest EIP it names. */
#define MON_SYS_BT	101
#define MON_BT_GDT_MAX	128	/* guest GDT entries mirrored (more: interpreted) */
struct bt;
struct bt_env;
struct mon_bt_state {
	__u32 gpr[8];		/* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
	__u32 eip;		/* guest EIP */
	__u32 eflags;		/* native value: IF=1, IOPL 0 */
	__u32 vif;		/* the guest's IF as bt_wdata.vif: 0 or 256 */
	__u16 sel[6];		/* ES, CS, SS, DS, FS, GS as the world loads them
				 * (CS and SS with RPL 1) */
	__u32 cr0, cr3, cr4;
	__u32 cr2;		/* the guest's (bt_wdata.cr2) */
	__u32 gdt_n;		/* world GDT entries 0..gdt_n-1 come from gdt[] */
	__u64 gdt[MON_BT_GDT_MAX];	/* sanitised mirror of the guest GDT (0: none) */
	__u32 gdt_gfn[2];	/* guest frames holding the GDT (~0u: none) */
};
/* Attaches translator @bt (NULL: detach; the caller owns it). The guest's
 * writes to frames it translated from, INVLPG and paging-mode changes reach
 * it through the interpreter. */
void mon_sys__attach_bt(struct mon_sys *ms, struct bt *bt);
/* How @bt reads guest code (the interpreter's RAM and current paging). */
const struct bt_env *mon_sys__bt_env(struct mon_sys *ms);
/* Fills st and the FXSAVE image fx for a translated stay (after
 * MON_SYS_BT). Returns 0, or -1 when the state cannot be mirrored after all
 * (the interpreter goes on). */
int mon_sys__bt_export(struct mon_sys *ms, struct mon_bt_state *st, void *fx);
/* Takes the state back at a site (st->eip and registers already fixed up)
 * after a stay that ended with @vector (-1: no exception: a site exit,
 * host interrupt...; 0-31: the exception the instruction at st->eip
 * raised, which the interpreter re-executes). The interpreter then runs at
 * least one instruction before the next translated stay. A state with CS
 * at RPL 3 is guest user mode the stay reached by an in-world SYSEXIT:
 * taken back as a native stay's (EFLAGS as the world has them, the
 * interpreter holds only for an exception, #DB as native_import does). */
void mon_sys__bt_import(struct mon_sys *ms, const struct mon_bt_state *st,
			const void *fx, int vector);
/* The guest's SYSENTER targets, for a translated stay that passes between
 * guest kernel and user mode inside the world (docs/bt.md "System calls
 * inside the world"). ok only when native user mode is on, SYSENTER_CS is
 * set and the mirrored GDT holds at CS, CS+8, CS+16 and CS+24 the flat
 * segments SYSENTER and SYSEXIT load (SDM Vol. 2B), so the world's loads
 * of those selectors give what the instructions give. After
 * mon_sys__bt_export. */
struct mon_bt_sysenter {
	__u32 ok, cs, esp, eip;
	__u32 iret_ok;		/* IRET may too: no NMI blocked (IRET unblocks) */
};
void mon_sys__bt_sysenter(struct mon_sys *ms, struct mon_bt_sysenter *se);
/* Up to @n code bytes at guest linear @eip (one page; fewer at its end;
 * 0 when not mapped). Pure C: callable inside the world. */
__u32 mon_sys__bt_peek(const struct mon_sys *ms, __u32 eip, __u8 *b, __u32 n);
/* CMPXCHG8B at an exit site, its @n code bytes at @code: its memory
 * operand's linear address (*lin) and the instruction's length (*len),
 * from the registers @gpr (EAX..EDI) and the selectors @sel (ES, CS, SS,
 * DS, FS, GS; bases from the guest GDT as mirrored). 0, or -1 when the
 * instruction is not a plain 32-bit-address CMPXCHG8B (the interpreter
 * runs it). Pure C. */
int mon_sys__bt_cx8_addr(const struct mon_sys *ms, const __u8 *code, __u32 n,
			 const __u32 gpr[8], const __u16 sel[6], __u32 *lin, __u32 *len);
/* @len bytes of guest memory at linear @lin as the guest kernel reads them
 * (no permission check, no A/D update): 0, or -1 when a page is not
 * mapped. Pure C: callable inside the world. */
int mon_sys__bt_read(const struct mon_sys *ms, __u32 lin, void *buf, __u32 len);
/* Translation failed at this point (the code could not be translated, no
 * window): the interpreter runs MON_BT_REFUSED_SKIP instructions before
 * translated code is tried again. */
#define MON_BT_REFUSED_SKIP	1000
/* After a write to translated code or a global TLB flush (which drops
 * every translation), the interpreter runs this many instructions before
 * translated code is offered again. */
#define MON_BT_PATCH_SKIP	100000
void mon_sys__bt_refused(struct mon_sys *ms);
/* At an exit site (its @n code bytes at @code), performs the guest
 * instruction itself when it is one the module can do without the
 * interpreter: RDTSC, and IN/OUT to a port of the in-kernel irqchip. @gpr
 * (EAX..EDI) is updated, *len is the instruction's length. 0, or -1 when
 * the interpreter must run it. With @dry, only says so and sets *len
 * (nothing performed). Pure C: callable inside the world. */
int mon_sys__bt_fast_exit(struct mon_sys *ms, const __u8 *code, __u32 n, __u32 gpr[8],
			  __u32 *len, int dry);
/* A guest interrupt is pending (INTR line, kirq or an injection). */
int mon_sys__irq_pending(struct mon_sys *ms);

#endif
