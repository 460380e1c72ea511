/* monitor/monitor.h — interface of the shared CPU code: the IA-32 interpreter
 * (the `interp` engine's CPU, the monitor's slow path and the test oracle).
 * Everything under monitor/, shadowmm/ and bt/ compiles both into userland and
 * freestanding (no libc), so this header includes only compiler-provided
 * headers, Zydis, and monitor/fpu.h (x87/MMX/SSE state, owned by the fpu part).
 *
 * Use:
 *	struct cpu *cpu = calloc(1, sizeof *cpu);   // large: never on the stack
 *	cpu__init(cpu, &my_bus_ops, board);
 *	cpu__reset(cpu);                            // or cpu__setup_flat32(...)
 *	for (;;) switch (cpu__run(cpu, 100000)) { ... }
 *
 * See docs/interpreter.md for the design.
 */
#ifndef HVMM_MONITOR_H
#define HVMM_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "monitor/fpu.h"

/* ---- Architectural constants ------------------------------------------ */

/* General registers, in hardware encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* Segment registers, in hardware encoding order (SDM Vol. 2 Table 3-6). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NSEGS };

/* Exception vectors (SDM Vol. 3 Table 6-1). */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4,
	EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10,
	EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
	EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* EFLAGS bits. */
#define FL_CF	0x00000001u
#define FL_1	0x00000002u	/* reserved, always 1 */
#define FL_PF	0x00000004u
#define FL_AF	0x00000010u
#define FL_ZF	0x00000040u
#define FL_SF	0x00000080u
#define FL_TF	0x00000100u
#define FL_IF	0x00000200u
#define FL_DF	0x00000400u
#define FL_OF	0x00000800u
#define FL_IOPL	0x00003000u
#define FL_NT	0x00004000u
#define FL_RF	0x00010000u
#define FL_VM	0x00020000u
#define FL_AC	0x00040000u
#define FL_VIF	0x00080000u
#define FL_VIP	0x00100000u
#define FL_ID	0x00200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 / CR4 / EFER bits. */
#define CR0_PE	0x00000001u
#define CR0_MP	0x00000002u
#define CR0_EM	0x00000004u
#define CR0_TS	0x00000008u
#define CR0_ET	0x00000010u
#define CR0_NE	0x00000020u
#define CR0_WP	0x00010000u
#define CR0_AM	0x00040000u
#define CR0_NW	0x20000000u
#define CR0_CD	0x40000000u
#define CR0_PG	0x80000000u
#define CR4_VME	0x00000001u
#define CR4_PVI	0x00000002u
#define CR4_TSD	0x00000004u
#define CR4_DE	0x00000008u
#define CR4_PSE	0x00000010u
#define CR4_PAE	0x00000020u
#define CR4_MCE	0x00000040u
#define CR4_PGE	0x00000080u
#define CR4_PCE	0x00000100u
#define CR4_OSFXSR	0x00000200u
#define CR4_OSXMMEXCPT	0x00000400u
#define EFER_NXE	0x00000800u

/* MSR numbers the interpreter implements (SDM Vol. 4). */
#define MSR_TSC			0x010
#define MSR_APIC_BASE		0x01b
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_MISC_ENABLE		0x1a0
#define MSR_PAT			0x277
#define MSR_EFER		0xc0000080

/* ---- State --------------------------------------------------------------- */

/* A segment register: the visible selector and the hidden descriptor cache
 * (SDM Vol. 3 §3.4.3). attr holds descriptor bits 40..55 as a 16-bit word:
 * bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G. limit is the
 * expanded byte limit (G already applied). Also used for LDTR and TR. */
struct seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t base;
	uint32_t limit;
};
#define SEGA_TYPE(a)	((a) & 0xf)
#define SEGA_S		0x0010
#define SEGA_DPL(a)	(((a) >> 5) & 3)
#define SEGA_P		0x0080
#define SEGA_DB		0x4000
#define SEGA_G		0x8000

struct dtr {
	uint32_t base;
	uint16_t limit;
};

/* Why cpu__run returned. */
enum cpu_exit {
	CPU_EXIT_BUDGET = 0,	/* max_instructions executed */
	CPU_EXIT_HALT,		/* HLT with IF=1: wait for an interrupt, run again */
	CPU_EXIT_HALT_DEAD,	/* HLT with IF=0: only NMI/reset can wake the CPU */
	CPU_EXIT_SHUTDOWN,	/* triple fault (or shutdown cycle) */
	CPU_EXIT_STOP,		/* a bus callback asked to stop (debug-exit port...) */
	CPU_EXIT_ERROR,		/* internal error: see cpu->error and cpu__dump */
};

/* How the CPU reaches the machine; set by the board, never changed while
 * cpu__run is running. All callbacks get the board's opaque pointer. */
struct cpu_bus_ops {
	/* Host pointer to the 4 KiB guest-physical page holding gpa (page
	 * aligned on both sides), or NULL if it is MMIO/unbacked. *writable is
	 * set false for ROM (writes to ROM are dropped). The pointer must stay
	 * valid until the board calls cpu__invalidate_phys for it. */
	uint8_t *(*ram_page)(void *opaque, uint64_t gpa, bool *writable);
	/* An access to a guest-physical address ram_page returned NULL for.
	 * len is 1, 2, 4 or 8, data little-endian. Returns 0, or CPU_BUS_STOP
	 * to make cpu__run return CPU_EXIT_STOP after this instruction. */
	int (*mmio)(void *opaque, uint64_t gpa, void *data, unsigned len,
		    bool is_write);
	/* Port I/O, len 1, 2 or 4. Same return convention as mmio. */
	int (*pio)(void *opaque, uint16_t port, void *data, unsigned len,
		   bool is_write);
	/* Interrupt acknowledge: the vector of the highest-priority pending
	 * external interrupt (0..255), or -1 if none after all (spurious).
	 * Setting cpu->exit_req inside it makes cpu__run return CPU_EXIT_STOP
	 * at this instruction boundary, before anything else executes. */
	int (*intr_ack)(void *opaque);
	/* Optional: current TSC value. NULL: the TSC counts instructions. */
	uint64_t (*read_tsc)(void *opaque);
	/* Optional (hybrid engine): asked at each instruction-block boundary
	 * while CPL is 3; returning true makes cpu__run return CPU_EXIT_STOP
	 * there, before any event delivery (the monitor then runs the guest's
	 * user code natively, docs/hybrid.md). */
	bool (*user_boundary)(void *opaque);
	/* Optional (hybrid engine, translated kernel code): a guest page
	 * that held decoded code was written (gpa_page: its address). */
	void (*code_written)(void *opaque, uint32_t gpa_page);
	/* (called with ~0u when every watched page was forgotten: an
	 * icache flush; the board marks again what it needs) */
	/* Optional: the guest invalidated translations: INVLPG of linear
	 * @lin (all false), or a CR0.PG/WP/PE or CR4.PSE/PAE/PGE change (all
	 * true). A CR3 load is not reported (global pages survive it). */
	void (*tlb_event)(void *opaque, uint32_t lin, bool all);
};
#define CPU_BUS_STOP 1
/* mmio/pio: the value is not available yet (the hybrid engine exits to
 * userland for it): the instruction is aborted with no side effect of its
 * own, EIP stays at it, cpu__run returns CPU_EXIT_STOP, and the instruction
 * re-executes on the next cpu__run (the callback then answers). Only
 * accesses made by instructions (not cpu__pread/pwrite or page walks). */
#define CPU_BUS_RETRY 2

/* Return value of every emulation helper that raised an exception: the
 * current instruction is aborted (the exception is already queued for
 * delivery) and the caller must return it up unchanged. */
#define CPU_ABORT (-1000)
/* fpu__exec's "not an x87/MMX/SSE instruction" (an ordinary #UD follows). */
#define CPU_NOT_FPU 1

/* Lazy arithmetic flags: the last flag-setting operation, evaluated on demand
 * (private to the interpreter). */
struct cpu_lazy {
	uint32_t res, src1, src2;
	uint8_t op, size;	/* LF_* in monitor/cpu-flags.c, size 1/2/4 */
};

/* Software TLB entry: linear page -> host address of the page (private). */
struct cpu_tlb_entry {
	uint32_t tag_r;		/* linear page | valid bit; ~0 when invalid */
	uint32_t tag_w;
	uint32_t tag_x;
	uintptr_t host;		/* host address of the page (RAM only) */
	uint32_t gpa;		/* guest-physical page */
	uint32_t global;	/* 1: survives CR3 reloads (PTE.G with CR4.PGE) */
};
#define CPU_TLB_SIZE 1024

/* Decoded-instruction cache (private): see monitor/cpu-decode.c. */
struct cpu_icache;
struct block;

/* Jump cache: the block last entered at an EIP, found without the decoded
 * cache's hash when no block link applies (returns, indirect branches,
 * events); an entry is used only after the same checks as a link. */
struct cpu_jc_entry {
	uint32_t eip, gen;
	struct block *b;
};
#define CPU_JC_SIZE 1024

#define CPU_NLASTEXC 8
#define CPU_INVLPG_LOG 16

struct cpu {
	/* Architectural state. */
	uint32_t r[8];		/* EAX..EDI */
	uint32_t eip;
	uint32_t eflags;	/* arithmetic bits valid only via cpu__eflags() */
	struct seg seg[SEG_NSEGS];
	struct seg ldtr, tr;
	struct dtr gdtr, idtr;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint64_t efer, sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t apic_base, pat, misc_enable, tsc_offset;
	unsigned cpl;
	bool a20;		/* A20 gate enabled (mask bit 20 when false) */
	struct fpu_state fpu;

	/* Run state. */
	bool halted;
	uint8_t shadow;		/* interrupt shadow after STI / MOV SS / POP SS */
	volatile int irq_pending;	/* INTR line level, set by the board */
	volatile int nmi_pending;
	bool nmi_blocked;	/* inside an NMI handler until IRET */
	int exit_req;		/* set by a bus callback returning CPU_BUS_STOP */
	const char *error;	/* reason for CPU_EXIT_ERROR */

	/* Counters. */
	uint64_t icount;	/* instructions retired */
	uint64_t nexc[32];	/* exceptions delivered, per vector */
	uint64_t nirq;		/* external interrupts delivered */
	uint64_t nud_unimpl;	/* #UD raised for unimplemented instructions */
	uint64_t ntlb_flush, ndecode;
	uint64_t ntlb_flush_global;	/* those of ntlb_flush that took global pages too */
	/* The last INVLPG addresses (ring, ninvlpg in all): with ntlb_flush,
	 * the guest's TLB invalidations for a shadow that acts as its TLB. */
	uint64_t ninvlpg;
	uint32_t invlpg_log[CPU_INVLPG_LOG];
	uint32_t last_unimpl_eip;
	uint8_t last_unimpl_bytes[15];
	struct { uint8_t vec; uint32_t err, eip; uint16_t cs; }
		lastexc[CPU_NLASTEXC];
	unsigned nlastexc;
	uint32_t trace[32];	/* EIPs of the last blocks entered (ring) */
	unsigned ntrace;
	uint32_t exc_trace[32];	/* trace[] at the last exception other than #PF */

	/* Machine. */
	const struct cpu_bus_ops *ops;
	void *opaque;

	/* Interpreter internals (private to monitor/cpu-*.c). */
	struct cpu_lazy lf;
	int pending_exc;	/* vector queued by cpu__raise, -1 none */
	uint32_t pending_err;
	bool pending_has_err;
	int exc_nest;		/* for #DF / triple-fault detection */
	uint32_t insn_eip;	/* EIP of the instruction being executed */
	uint32_t a20_mask;
	unsigned mode;		/* decoder mode key: 0 = 16-bit code, 1 = 32-bit */
	uint8_t seg_fast[SEG_NSEGS];	/* SF_* (cpu-internal.h); 0: slow path */
	bool smc;		/* decoded code was invalidated mid-block */
	/* ask ops->user_boundary at CPL-0 block boundaries too (the hybrid
	 * engine's translated kernel code, docs/bt.md) */
	bool kernel_boundary;
	uint64_t code_marks;	/* pages newly marked as holding decoded code */
	bool dbg;		/* TF or DR7 breakpoints: one instruction at a time */
	uint8_t dbg_data;	/* DR7 enables a data breakpoint */
	bool step_one;		/* REP strings: one iteration per step (TF) */
	uint32_t db_hits;	/* data breakpoints hit by this instruction */
	uint32_t gen;		/* bumped when decoded blocks are dropped */
	/* Consistency checks for hunting emulation bugs (0 = off, the
	 * default; docs/interpreter.md "Audit"): after every TLB flush the
	 * surviving entries are compared with fresh page walks, and every
	 * audit_every-th block is decoded again from guest memory and
	 * compared. Mismatches are counted; the last one is kept. */
	uint32_t audit_every, audit_left;
	uint64_t audit_runs, audit_bad;
	struct { uint32_t kind, lin, gpa, now, cr3, eip; } audit_last;
	uint64_t budget_end;	/* icount at which cpu__run stops */
	struct cpu_tlb_entry tlb[2][CPU_TLB_SIZE];	/* [user] */
	struct cpu_jc_entry jc[CPU_JC_SIZE];
	uint32_t *pgen;		/* per-page generations of decoded code */
	struct cpu_icache *ic;
	size_t icache_bytes;
	uint8_t icache_mem[] __attribute__((aligned(64)));
};

/* Bytes a board must allocate for a struct cpu: sizeof(struct cpu) plus the
 * decoded-instruction cache that follows it. */
#define CPU_ALLOC_SIZE (sizeof(struct cpu) + CPU_ICACHE_BYTES)
#define CPU_ICACHE_BYTES (8u << 20)

/* ---- Life cycle and run loop ------------------------------------------- */

/* Prepares a zeroed CPU_ALLOC_SIZE-byte area for use with the given bus;
 * then call cpu__reset. Returns 0 or -EINVAL-like negative on bad args. */
int cpu__init(struct cpu *cpu, const struct cpu_bus_ops *ops, void *opaque);

/* Like cpu__init for an area of sizeof(struct cpu) + icache_bytes bytes
 * (at least CPU_ICACHE_MIN): a smaller decoded-instruction cache for the
 * monitor's slow path. */
#define CPU_ICACHE_MIN (1u << 20)
int cpu__init_sized(struct cpu *cpu, const struct cpu_bus_ops *ops,
		    void *opaque, size_t icache_bytes);

/* Loads a segment register's selector and hidden part as given (no checks;
 * seg is SEG_*, or -1 for LDTR, -2 for TR), for importing state. */
void cpu__set_seg(struct cpu *cpu, int seg, uint16_t sel, uint32_t base,
		  uint32_t limit, uint16_t attr);

/* After the caller changed struct cpu fields directly (CRs, DR7, segment
 * caches, EFLAGS.VM...): recomputes derived state (CPL, decode mode, segment
 * fast paths, debug mode) and flushes the TLB. EFLAGS itself is written
 * with cpu__set_eflags (it drops the lazy flags). */
void cpu__state_changed(struct cpu *cpu);

/* Power-on/RESET state (SDM Vol. 3 §9.1.1): real mode, CS=F000 base
 * FFFF0000, EIP=FFF0, EDX=0x6xx signature, caches flushed. */
void cpu__reset(struct cpu *cpu);

/* Flat 32-bit protected mode as the Linux 32-bit boot protocol and Multiboot
 * expect: CR0.PE, paging off, IF=0, CS=cs_sel (base 0, limit 4G, code, DPL 0,
 * 32-bit), DS=ES=SS=FS=GS=ds_sel (flat writable data), EIP=eip. The GDTR is
 * left as is: the caller sets cpu->gdtr to a GDT holding those descriptors
 * if the guest will reload the selectors. */
void cpu__setup_flat32(struct cpu *cpu, uint16_t cs_sel, uint16_t ds_sel,
		       uint32_t eip);

/* Runs at most max_instructions instructions (interrupt deliveries do not
 * count) and returns why it stopped. */
enum cpu_exit cpu__run(struct cpu *cpu, uint64_t max_instructions);

/* Sets the INTR line level (board side; takes effect at the next
 * instruction boundary, also from inside a bus callback). */
void cpu__set_irq_pending(struct cpu *cpu, bool level);

/* Latches an NMI (edge). */
void cpu__raise_nmi(struct cpu *cpu);

/* Tells the CPU that guest-physical [gpa, gpa+len) was written behind its
 * back (DMA, loader) or re-mapped: drops decoded code and TLB entries. */
void cpu__invalidate_phys(struct cpu *cpu, uint64_t gpa, uint64_t len);
/* Watches guest-physical page @gpa_page as if it held decoded code: the
 * next write to it reaches ops->code_written (once; mark it again after). */
void cpu__mark_code_page(struct cpu *cpu, uint32_t gpa_page);
/* The bitmap of guest-physical pages holding decoded code (bit n: page n,
 * 4 GiB worth); cpu->code_marks counts pages newly set in it. Read-only
 * view for the hybrid engine's shadow (watched pages). */
const uint32_t *cpu__code_bits(const struct cpu *cpu);

/* Flushes every cached translation and decoded instruction. */
void cpu__flush_all(struct cpu *cpu);

/* Sets the A20 gate as the board drives it: while off, bit 20 of every
 * physical address the CPU forms is masked (1 MiB wraps to 0, as on an
 * 8086). A change drops cached translations and decoded code. */
void cpu__set_a20(struct cpu *cpu, bool on);

/* Writes a readable register dump (GPRs, EIP, EFLAGS, segments, CRs, DRs,
 * descriptor tables, MSRs, counters, last exceptions) into buf (always
 * NUL-terminated). Returns the length it would have written. */
size_t cpu__dump(const struct cpu *cpu, char *buf, size_t size);

/* Architectural EFLAGS with the lazy arithmetic flags folded in. */
uint32_t cpu__eflags(struct cpu *cpu);

/* Replaces EFLAGS (bit 1 forced; no privilege checks: a board/debug write). */
void cpu__set_eflags(struct cpu *cpu, uint32_t fl);

/* ---- Helpers for instruction emulation (fpu part, monitor slow path) --- */

/* Reads/writes len bytes at seg:off with every segment check (limit, type,
 * present; #GP or #SS) and paging check (#PF with CR2, A/D bits) of the
 * current privilege level. Returns 0 or CPU_ABORT (exception raised; the
 * caller must stop the instruction and return CPU_ABORT). */
int cpu__vread(struct cpu *cpu, int seg, uint32_t off, void *buf, unsigned len);
int cpu__vwrite(struct cpu *cpu, int seg, uint32_t off, const void *buf,
		unsigned len);

/* Queues exception `vector` with error code errcode (ignored for vectors
 * that push none) for delivery at the end of the current instruction (which
 * is aborted, EIP left at its start). Returns CPU_ABORT. */
int cpu__raise(struct cpu *cpu, int vector, uint32_t errcode);

/* Segment and effective offset of a memory operand of the instruction being
 * executed (cpu->eip still points at it). Returns 0, or -1 if op is not a
 * memory operand. */
int cpu__mem_operand(struct cpu *cpu, const ZydisDecodedInstruction *insn,
		     const ZydisDecodedOperand *op, int *seg, uint32_t *off);

/* Physical memory access (no paging), for loaders, devices and debuggers. */
int cpu__pread(struct cpu *cpu, uint64_t gpa, void *buf, unsigned len);
int cpu__pwrite(struct cpu *cpu, uint64_t gpa, const void *buf, unsigned len);

/* ---- Provided by the fpu part (monitor/fpu*.c) ------------------------- *
 * void fpu__reset(struct fpu_state *fpu);           FNINIT + MXCSR default
 * int fpu__exec(struct cpu *cpu, const ZydisDecodedInstruction *insn,
 *               const ZydisDecodedOperand *ops);
 *	Executes one x87/MMX/SSE/SSE2 instruction (also FXSAVE/FXRSTOR,
 *	LDMXCSR/STMXCSR, EMMS, FWAIT). Called with cpu->eip at the instruction;
 *	the interpreter has already done the CR0.EM/TS/MP (#NM/#UD) and
 *	CR4.OSFXSR checks. Returns 0, CPU_ABORT, or CPU_NOT_FPU.
 * uint32_t fpu__features(void);   CPUID.1:EDX bits (FPU, MMX, FXSR, SSE,
 *                                 SSE2) that fpu__exec implements.
 */

#endif
