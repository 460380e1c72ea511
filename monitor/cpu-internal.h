/* monitor/cpu-internal.h — private declarations shared by the interpreter's
 * files (monitor/cpu-*.c). Not for other components: they use monitor.h. */
#ifndef HVMM_CPU_INTERNAL_H
#define HVMM_CPU_INTERNAL_H

#include "monitor/monitor.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* ---- Compact decoded instruction ----------------------------------------
 * Built once from Zydis' output (monitor/cpu-decode.c) and kept in blocks of
 * straight-line code keyed by guest-physical address. */
enum { OK_NONE, OK_REG, OK_SREG, OK_CR, OK_DR, OK_MEM, OK_IMM, OK_REL, OK_PTR };

struct insn_op {
	uint8_t kind;	/* OK_* */
	uint8_t size;	/* bytes: 1, 2, 4 (6/8 for far pointers in memory) */
	uint8_t reg;	/* register index (byte regs: 0-3 low, 4-7 AH..BH) */
};

struct insn;
typedef int (*insn_fn)(struct cpu *cpu, const struct insn *i);

struct insn {
	insn_fn fn;
	uint16_t mnem;		/* ZydisMnemonic */
	uint8_t len;
	uint8_t osz;		/* effective operand size: 2 or 4 */
	uint8_t asz;		/* effective address size: 2 or 4 */
	uint8_t nops;		/* visible operands */
	uint8_t rep;		/* 0, 1 = REP/REPE, 2 = REPNE */
	uint8_t seg;		/* segment of the memory operand / string source */
	uint8_t base, index;	/* REG_NONE or 0-7 */
	uint8_t scale;		/* 1, 2, 4, 8; 0 when there is no index */
	uint8_t flags;		/* IF_* */
	struct insn_op op[3];
	uint16_t end;		/* offset of the next instruction in the block */
	uint32_t disp;
	uint32_t imm;		/* first immediate, relative offset, far offset */
	uint32_t imm2;		/* second immediate (ENTER), far selector */
	uint8_t xop;		/* inline form in cpu-fast.c, 0 = call fn */
};
#define REG_NONE 0xff
#define IF_LOCK		0x01
#define IF_ENDBLK	0x02	/* ends a decoded block (branch, mode change) */
#define IF_FPU		0x04	/* x87/MMX/SSE: re-decoded for fpu__exec */
#define IF_SEGOVR	0x08	/* explicit segment override prefix */

/* Internal return values of handlers (besides 0 and CPU_ABORT). */
#define CPU_RET_EXIT	(-1001)	/* leave the run loop (HLT, stop request) */

/* ---- Register access ----------------------------------------------------- */
static inline uint32_t reg_get(const struct cpu *cpu, unsigned r, unsigned size)
{
	if (size == 4)
		return cpu->r[r];
	if (size == 2)
		return cpu->r[r] & 0xffff;
	return r < 4 ? cpu->r[r] & 0xff : (cpu->r[r - 4] >> 8) & 0xff;
}

static inline void reg_set(struct cpu *cpu, unsigned r, unsigned size,
			   uint32_t v)
{
	if (size == 4)
		cpu->r[r] = v;
	else if (size == 2)
		cpu->r[r] = (cpu->r[r] & 0xffff0000u) | (v & 0xffff);
	else if (r < 4)
		cpu->r[r] = (cpu->r[r] & 0xffffff00u) | (v & 0xff);
	else
		cpu->r[r - 4] = (cpu->r[r - 4] & 0xffff00ffu) | ((v & 0xff) << 8);
}

static inline uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : size == 2 ? 0xffffu : 0xffu;
}

static inline uint32_t size_sign(unsigned size)
{
	return 1u << (size * 8 - 1);
}

/* ---- Lazy flags (monitor/cpu-flags.c) ------------------------------------ */
enum {
	LF_NONE,	/* eflags holds the arithmetic flags */
	LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG,
	LF_FIXED,	/* ZF/SF/PF from res; CF, OF, AF exactly as in src2
			 * (MUL/IMUL, SHL/SHR/SAR, SHLD/SHRD) */
};

static inline void lf_set(struct cpu *cpu, unsigned op, unsigned size,
			  uint32_t res, uint32_t s1, uint32_t s2)
{
	cpu->lf.op = op;
	cpu->lf.size = size;
	cpu->lf.res = res;
	/* Logic results need no operands (CF = OF = 0): not stored. */
	if (op != LF_LOGIC) {
		cpu->lf.src1 = s1;
		cpu->lf.src2 = s2;
	}
}

/* CF of the recorded operation (flags__cf inline). */
static inline bool lf_cf(const struct cpu *cpu)
{
	uint32_t m = size_mask(cpu->lf.size);
	uint32_t res = cpu->lf.res & m, a = cpu->lf.src1 & m,
		 b = cpu->lf.src2 & m;

	switch (cpu->lf.op) {
	case LF_ADD: return res < a;
	case LF_ADC: return ((res - a - b) & m) ? res <= a : res < a;
	case LF_SUB: return a < b;
	case LF_SBB: return ((a - b - res) & m) ? a <= b : a < b;
	case LF_LOGIC: return false;
	case LF_INC: case LF_DEC: return cpu->lf.src2 != 0;
	case LF_FIXED: return cpu->lf.src2 & FL_CF;
	default: return cpu->eflags & FL_CF;
	}
}

/* Folds the lazy flags into cpu->eflags (lf.op becomes LF_NONE). */
void flags__materialize(struct cpu *cpu);
/* Architectural EFLAGS without changing the CPU (dumps). */
uint32_t flags__peek(const struct cpu *cpu);
/* CF of the last flag-setting operation (cheap: no other flag). */
bool flags__cf(const struct cpu *cpu);
/* Evaluates condition code cc (0-15, the Jcc/SETcc/CMOVcc encoding). */
bool flags__cond(struct cpu *cpu, unsigned cc);
/* Sets the arithmetic flags explicitly (mask selects which). */
void flags__set_arith(struct cpu *cpu, uint32_t mask, uint32_t values);
/* PF of the low byte. */
static inline uint32_t parity_flag(uint32_t v)
{
	return __builtin_parity(v & 0xff) ? 0 : FL_PF;
}
/* ZF|SF|PF for a result of the given size. */
static inline uint32_t szp_flags(uint32_t res, unsigned size)
{
	res &= size_mask(size);
	return (res == 0 ? FL_ZF : 0) | (res & size_sign(size) ? FL_SF : 0) |
	       parity_flag(res);
}

/* ---- Memory (monitor/cpu-mem.c) -------------------------------------------
 * Access kinds for the paging walker. */
enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };
#define ACC_SUP 0x10	/* implicit supervisor access (descriptor tables, TSS) */

/* Linear access with paging checks at the current CPL (or supervisor with
 * ACC_SUP). Returns 0 or CPU_ABORT (#PF raised). */
int mem__lin_read(struct cpu *cpu, uint32_t lin, void *buf, unsigned len,
		  unsigned acc);
int mem__lin_write(struct cpu *cpu, uint32_t lin, const void *buf,
		   unsigned len, unsigned acc);
/* Checks that a write to [lin, lin+len) would succeed (RMW, multi-part
 * writes), raising #PF if not. */
int mem__lin_probe_write(struct cpu *cpu, uint32_t lin, unsigned len,
			 unsigned acc);
/* Segment check for an access: returns 0 and the linear address, or
 * CPU_ABORT (#GP(0) or #SS(0)). write selects writable-segment checks. */
int mem__seg_check(struct cpu *cpu, int seg, uint32_t off, unsigned len,
		   bool write, uint32_t *lin);
/* Translates a linear code address for instruction fetch: guest-physical
 * address and host pointer to its page (NULL if not RAM). */
int mem__fetch_xlate(struct cpu *cpu, uint32_t lin, uint32_t *gpa,
		     uint8_t **host);
/* Flushes the TLB (all entries, or non-global ones only). */
void mem__tlb_flush(struct cpu *cpu, bool global_too);
void mem__tlb_flush_page(struct cpu *cpu, uint32_t lin);
/* Audit (cpu->audit_every != 0): checks every live TLB entry against the
 * page tables and the block b against guest memory; records mismatches. */
void mem__tlb_audit(struct cpu *cpu);
struct block;
void icache__audit_block(struct cpu *cpu, const struct block *b);
/* Records one audit mismatch (kind: AUDIT_*). */
void cpu__audit_report(struct cpu *cpu, unsigned kind, uint32_t lin,
		       uint32_t gpa, uint32_t now);
#define AUDIT_TLB_FRAME	1	/* present PTE maps another frame */
#define AUDIT_TLB_WRITE	2	/* fast write tag, PTE not writable/dirty */
#define AUDIT_TLB_USER	3	/* user entry for a non-present PTE */
#define AUDIT_BLOCK	4	/* decoded block differs from memory */
/* Recomputes the per-segment fast-path validity after a segment load. */
void mem__seg_update(struct cpu *cpu, int seg);
/* Marks a guest-physical page as holding decoded code (write-protects it
 * in the TLB), or clears the mark. */
void mem__set_code_page(struct cpu *cpu, uint32_t gpa_page, bool code);
bool mem__is_code_page(const struct cpu *cpu, uint32_t gpa_page);

/* Slow paths of mem__read/mem__write: full segment and paging checks. */
int mem__read_slow(struct cpu *cpu, int seg, uint32_t off, uint32_t *v,
		   unsigned size);
int mem__write_slow(struct cpu *cpu, int seg, uint32_t off, uint32_t v,
		    unsigned size);

/* Does the board want to hear about this block boundary (user_boundary)? */
static inline bool cpu__boundary_hooked(const struct cpu *cpu)
{
	return cpu->ops->user_boundary &&
	       (cpu->cpl == 3 || (cpu->cpl == 0 && cpu->kernel_boundary));
}

#define TLB_INVALID 1u
static inline struct cpu_tlb_entry *tlb_entry(struct cpu *cpu, uint32_t lin,
					      bool user)
{
	return &cpu->tlb[user][(lin >> 12) & (CPU_TLB_SIZE - 1)];
}

static inline uint32_t load_le(const uint8_t *p, unsigned size)
{
	if (size == 4)
		return *(const uint32_t *)(const void *)p;
	if (size == 2)
		return *(const uint16_t *)(const void *)p;
	return *p;
}

static inline void store_le(uint8_t *p, uint32_t v, unsigned size)
{
	if (size == 4)
		*(uint32_t *)(void *)p = v;
	else if (size == 2)
		*(uint16_t *)(void *)p = (uint16_t)v;
	else
		*p = (uint8_t)v;
}

/* cpu->seg_fast[] bits (mem__seg_update): the segment allows fast reads /
 * writes (present, type, expand-up: only the limit is left to check); FLAT
 * also means base 0 and limit 4 GiB - 1, so no limit check is needed: an
 * access that would wrap past 4 GiB crosses a page and takes the slow path. */
#define SF_R		1
#define SF_W		2
#define SF_FLAT_R	4
#define SF_FLAT_W	8

/* Host address for a size-byte (1, 2, 4) access at seg:off when the fast
 * path allows it (segment check passes, TLB hit with the right rights, the
 * access within one page), else NULL: the caller takes the slow path. */
static inline uint8_t *mem__fast_ptr_in(struct cpu *cpu,
					struct cpu_tlb_entry *tlb, int seg,
					uint32_t off, unsigned size, bool write)
{
	const struct seg *s = &cpu->seg[seg];
	unsigned f = cpu->seg_fast[seg];
	struct cpu_tlb_entry *e;
	uint32_t lin;

	if (likely(f & (write ? SF_FLAT_W : SF_FLAT_R)))
		lin = off;
	else if ((f & (write ? SF_W : SF_R)) && s->limit >= size - 1 &&
		 off <= s->limit - (size - 1))
		lin = s->base + off;
	else
		return NULL;
	e = &tlb[(lin >> 12) & (CPU_TLB_SIZE - 1)];
	if (likely((write ? e->tag_w : e->tag_r) == (lin & ~0xfffu) &&
		   (lin & 0xfff) <= 4096 - size))
		return (uint8_t *)e->host + (lin & 0xfff);
	return NULL;
}

/* mem__fast_ptr_in with the TLB of the current privilege level (tlb is
 * cpu->tlb[cpu->cpl == 3], which the block executor keeps at hand). */
static inline uint8_t *mem__fast_ptr(struct cpu *cpu, int seg, uint32_t off,
				     unsigned size, bool write)
{
	return mem__fast_ptr_in(cpu, cpu->tlb[cpu->cpl == 3], seg, off, size,
				write);
}

/* Reads size (1, 2, 4) bytes at seg:off: segment cache + TLB fast path. */
static inline int mem__read(struct cpu *cpu, int seg, uint32_t off,
			    uint32_t *v, unsigned size)
{
	uint8_t *p = mem__fast_ptr(cpu, seg, off, size, false);

	if (likely(p)) {
		*v = load_le(p, size);
		return 0;
	}
	return mem__read_slow(cpu, seg, off, v, size);
}

/* Writes size bytes at seg:off (fast path as mem__read). */
static inline int mem__write(struct cpu *cpu, int seg, uint32_t off,
			     uint32_t v, unsigned size)
{
	uint8_t *p = mem__fast_ptr(cpu, seg, off, size, true);

	if (likely(p)) {
		store_le(p, v, size);
		return 0;
	}
	return mem__write_slow(cpu, seg, off, v, size);
}

/* ---- Decode cache (monitor/cpu-decode.c) -------------------------------- */
struct block {
	struct block *hnext;
	uint32_t gpa;		/* guest-physical address of the first byte */
	uint8_t mode;
	uint8_t ninsn;
	uint16_t bytes;
	/* Chaining: the last two successors seen (a conditional branch has
	 * two), each valid while its gen matches cpu->gen. */
	uint32_t succ_eip[2];
	uint32_t succ_gen[2];
	struct block *succ[2];
	/* cpu->pgen[] of the block's page when it was decoded: a block whose
	 * page has been written since (icache__invalidate_page) is stale. */
	uint32_t pgen;
	struct insn insns[];
};
/* Per-page generations: one counter per slot of guest-physical page
 * numbers (pages 256 MiB apart share a slot: a write to one also drops the
 * other's blocks, which are decoded again). With 4,096 slots (16 MiB) the
 * hybrid benchmark re-decoded hot kernel code in some runs (Zydis 4.5% of
 * the test host's work): every first write to a page holding decoded code
 * also dropped the blocks of the 7 other pages of a 128 MiB guest in its
 * slot. 65,536 slots cost 256 KiB of the decoded-code area. */
#define PGEN_BITS	16
#define PGEN_SIZE	(1u << PGEN_BITS)
static inline uint32_t *pgen_of(const struct cpu *cpu, uint32_t gpa)
{
	return &cpu->pgen[(gpa >> 12) & (PGEN_SIZE - 1)];
}

/* Block executor (monitor/cpu-fast.c): the inline form of an
 * instruction; the run of up to n instructions of *pb from cpu->eip, which
 * goes on into linked successor blocks while no event needs the run loop
 * and cpu->icount stays within end (0: never). On return *pb is the block
 * the result and *done refer to; cpu->icount counts the blocks before it. */
/* Inline forms of the block executor (insn.xop); X_CALL calls insn.fn. */
enum {
	X_CALL = 0,
	X_MOV_RR, X_MOV_RI, X_MOV_RM, X_MOV_MR,
	X_ADD_RR, X_ADD_RI, X_SUB_RR, X_SUB_RI, X_CMP_RR, X_CMP_RI,
	X_AND_RR, X_AND_RI, X_OR_RR, X_OR_RI, X_XOR_RR, X_XOR_RI,
	X_TEST_RR, X_TEST_RI, X_ADC_RR, X_ADC_RI, X_SBB_RR, X_SBB_RI,
	X_ADD_RM, X_SUB_RM, X_CMP_RM, X_CMP_MR, X_AND_RM, X_OR_RM, X_XOR_RM,
	X_LEA, X_SHL_RI, X_SHR_RI, X_SAR_RI, X_IMUL_RR, X_IMUL_RM,
	X_INC_R, X_DEC_R, X_MOVZX8_RR, X_MOVZX16_RR, X_MOVSX8_RR,
	X_MOVSX16_RR, X_MOVZX8_RM, X_MOVZX16_RM, X_MOVSX8_RM, X_MOVSX16_RM,
	X_PUSH_R, X_POP_R, X_JCC, X_JMP,
	X_SETCC_R, X_CMOV_RR, X_CMOV_RM,
	X_MOV8_RM, X_MOV8_MR, X_MOV16_RM, X_MOV16_MR, X_MOV_MI,
	X_CMP8_RI, X_TEST8_RR, X_CALL_REL, X_RET,
	X_TEST8_RI, X_TEST8_MI, X_TEST_MI, X_CMP_MI, X_CMP8_MI,
	X_ADD_MR, X_SUB_MR, X_AND_MR, X_OR_MR, X_XOR_MR,
	X_ADD_MI, X_SUB_MI, X_AND_MI, X_OR_MI, X_XOR_MI,
	X_INC_M, X_DEC_M, X_LEAVE, X_PUSH_I,
	X_NOPS
};
uint8_t fast__classify(const struct insn *i);
int fast__run_block(struct cpu *cpu, struct block **pb, unsigned n,
		    uint64_t end, unsigned *done);

/* Whether the TLB maps CS.base + EIP executable at this CPL to nb's
 * guest-physical address, and nb was decoded in the current mode. */
static inline bool block_here(const struct cpu *cpu, const struct block *nb)
{
	uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip;
	const struct cpu_tlb_entry *e =
		&cpu->tlb[cpu->cpl == 3][(lin >> 12) & (CPU_TLB_SIZE - 1)];

	return e->tag_x == (lin & ~0xfffu) &&
	       (e->gpa | (lin & 0xfffu)) == nb->gpa && nb->mode == cpu->mode;
}

/* Whether nb, entered at eip under generation gen, is the block at CS:EIP
 * now. Blocks are keyed by guest-physical address, so a link is checked
 * against the current translation instead of being dropped on every TLB
 * flush, CS load or IRET: same EIP, no cache flush since (gen), the TLB
 * maps CS.base + EIP executable at this CPL to the block's address, same
 * mode, the block's page not written since it was decoded (pgen). */
static inline bool block_ok(const struct cpu *cpu, const struct block *nb,
			    uint32_t eip, uint32_t gen)
{
	return eip == cpu->eip && gen == cpu->gen && block_here(cpu, nb) &&
	       nb->pgen == *pgen_of(cpu, nb->gpa);
}

/* Whether prev's successor slot s is the block at CS:EIP now. */
static inline bool chain_ok(const struct cpu *cpu, const struct block *prev,
			    unsigned s)
{
	return block_ok(cpu, prev->succ[s], prev->succ_eip[s],
			prev->succ_gen[s]);
}

/* The jump cache's block for CS:EIP if it is still right, else NULL. */
static inline struct block *jc_find(const struct cpu *cpu)
{
	const struct cpu_jc_entry *j = &cpu->jc[cpu->eip & (CPU_JC_SIZE - 1)];

	return j->b && block_ok(cpu, j->b, j->eip, j->gen) ? j->b : NULL;
}

/* Records b (just looked up at cpu->eip; never the scratch block). */
static inline void jc_put(struct cpu *cpu, struct block *b)
{
	struct cpu_jc_entry *j = &cpu->jc[cpu->eip & (CPU_JC_SIZE - 1)];

	j->eip = cpu->eip;
	j->gen = cpu->gen;
	j->b = b;
}

/* The decoded block starting at cpu->eip, or NULL with an exception raised
 * (#PF on fetch, #GP on limit) — the caller delivers it. */
struct block *icache__lookup(struct cpu *cpu);
void icache__init(struct cpu *cpu);
void icache__flush(struct cpu *cpu);
void icache__invalidate_page(struct cpu *cpu, uint32_t gpa_page);
/* Decodes the instruction at cpu->insn_eip again, in full, for fpu__exec. */
int icache__redecode(struct cpu *cpu, ZydisDecodedInstruction *zi,
		     ZydisDecodedOperand *zo);

/* Operand helpers used by handlers (monitor/cpu-decode.c). */
static inline uint32_t insn_ea32(const struct cpu *cpu, const struct insn *i)
{
	uint32_t ea = i->disp;
	if (i->base != REG_NONE)
		ea += cpu->r[i->base];
	if (i->index != REG_NONE)
		ea += cpu->r[i->index] * i->scale;
	return ea;
}

static inline uint32_t insn_ea(const struct cpu *cpu, const struct insn *i)
{
	uint32_t ea = insn_ea32(cpu, i);
	return i->asz == 2 ? ea & 0xffff : ea;
}

/* ---- Segments and exceptions (cpu-seg.c, cpu-exc.c) ---------------------- */
/* Loads a segment register by selector with the protected-mode checks of
 * MOV/POP/LDS (SDM Vol. 3 §5.10, Vol. 2 MOV). Real/V86 mode: base=sel<<4. */
int seg__load(struct cpu *cpu, int seg, uint16_t sel);
/* Loads without checks from a descriptor (used by task switch, SYSENTER). */
void seg__load_raw(struct cpu *cpu, int seg, uint16_t sel, uint32_t base,
		   uint32_t limit, uint16_t attr);
/* Reads the 8-byte descriptor for sel from the GDT/LDT; raises
 * exc(sel & ~3) if outside the table. */
int seg__read_desc(struct cpu *cpu, uint16_t sel, uint64_t *desc, int exc);
int seg__write_desc(struct cpu *cpu, uint16_t sel, uint64_t desc);
void seg__desc_unpack(uint64_t d, uint32_t *base, uint32_t *limit,
		      uint16_t *attr);
/* Far-transfer helpers: code-segment checks for JMP/CALL/RET/IRET, commit
 * of a checked descriptor into CS, nulling of outer data segments. */
int seg__check_code(struct cpu *cpu, uint16_t sel, uint64_t d, unsigned new_cpl,
		    bool is_ret);
int seg__commit_cs(struct cpu *cpu, uint16_t sel, uint64_t d, unsigned cpl);
void seg__invalidate_outer(struct cpu *cpu);
/* Sets CPL-dependent state after CS changes. */
void seg__cpl_changed(struct cpu *cpu);
void cpu__mode_changed(struct cpu *cpu);

/* Delivers interrupt/exception vec (SDM Vol. 3 §6.12); src tells the kind. */
enum { INT_EXC, INT_SOFT, INT_EXT, INT_NMI, INT_ICEBP };
int exc__deliver(struct cpu *cpu, int vec, int src, bool has_err,
		 uint32_t err);
/* Delivers the exception queued by cpu__raise; returns CPU_EXIT_SHUTDOWN on
 * triple fault, else 0. */
int exc__deliver_pending(struct cpu *cpu);
int exc__iret(struct cpu *cpu, unsigned osz);
int task__switch(struct cpu *cpu, uint16_t sel, uint64_t desc, int why,
		 bool has_err, uint32_t err);
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };

/* Stack helpers (cpu-ctl.c). */
int stack__push(struct cpu *cpu, uint32_t v, unsigned size);
int stack__pop(struct cpu *cpu, uint32_t *v, unsigned size);
static inline uint32_t stack_mask(const struct cpu *cpu)
{
	return cpu->seg[SEG_SS].attr & SEGA_DB ? 0xffffffffu : 0xffffu;
}

/* Reads size bytes at SS:(ESP + off), wrapped to the stack size; no ESP
 * change. Returns 0 or CPU_ABORT. */
static inline int stack__peek(struct cpu *cpu, unsigned off, uint32_t *v, unsigned size)
{
	return mem__read(cpu, SEG_SS, (cpu->r[R_ESP] + off) & stack_mask(cpu),
			 v, size);
}

/* ESP += n within the stack size (the upper half of ESP is kept for a
 * 16-bit stack). */
static inline void stack__add(struct cpu *cpu, uint32_t n)
{
	uint32_t m = stack_mask(cpu);
	cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | ((cpu->r[R_ESP] + n) & m);
}

/* Privilege helpers. */
static inline bool cpu_pmode(const struct cpu *cpu)
{
	return cpu->cr0 & CR0_PE;
}
static inline bool cpu_v86(const struct cpu *cpu)
{
	return cpu->eflags & FL_VM;
}
static inline unsigned cpu_iopl(const struct cpu *cpu)
{
	return (cpu->eflags >> 12) & 3;
}
/* I/O permission check (IOPL then TSS bitmap, SDM Vol. 1 §18.5). */
int io__check(struct cpu *cpu, uint16_t port, unsigned len);

/* Handler lookup by mnemonic (cpu-exec.c collects the tables). */
insn_fn exec__handler(const ZydisDecodedInstruction *zi,
		      const ZydisDecodedOperand *zo, struct insn *i);
insn_fn alu__handler(unsigned mnem);
insn_fn ctl__handler(unsigned mnem);
insn_fn str__handler(unsigned mnem);
insn_fn sys__handler(unsigned mnem);
int insn_unimpl(struct cpu *cpu, const struct insn *i);
int insn_fpu(struct cpu *cpu, const struct insn *i);

/* CPUID / MSR (cpu-cpuid.c). */
void cpuid__query(struct cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4]);
int msr__read(struct cpu *cpu, uint32_t msr, uint64_t *v);
int msr__write(struct cpu *cpu, uint32_t msr, uint64_t v);
uint64_t cpu__tsc(struct cpu *cpu);

/* Control registers (cpu-sys.c). */
int cr__write(struct cpu *cpu, unsigned n, uint32_t v);

/* Debug exceptions (cpu-debug.c). */
void dbg__update(struct cpu *cpu);
bool dbg__page_watched(const struct cpu *cpu, uint32_t page);
void dbg__access(struct cpu *cpu, uint32_t lin, unsigned len, bool write);
int dbg__before(struct cpu *cpu);
int dbg__after(struct cpu *cpu, bool tf_before, bool rf_before,
	       const struct insn *i);

/* Freestanding helpers (cpu-lib.c). */
void *cpu_memcpy(void *d, const void *s, size_t n);
void *cpu_memset(void *d, int c, size_t n);

/* Accessors for the generic operand model. */
static inline int op_read(struct cpu *cpu, const struct insn *i, unsigned n, uint32_t *v)
{
	const struct insn_op *o = &i->op[n];

	switch (o->kind) {
	case OK_REG:
		*v = reg_get(cpu, o->reg, o->size);
		return 0;
	case OK_MEM:
		return mem__read(cpu, i->seg, insn_ea(cpu, i), v, o->size);
	case OK_IMM:
		/* Sign- or zero-extended by the decoder as the encoding
		 * says; consumers truncate to their operand size. */
		*v = n == 0 || i->op[0].kind != OK_IMM ? i->imm : i->imm2;
		return 0;
	case OK_SREG:
		*v = cpu->seg[o->reg].sel;
		return 0;
	default:
		*v = 0;
		return 0;
	}
}

static inline int op_write(struct cpu *cpu, const struct insn *i, unsigned n, uint32_t v)
{
	const struct insn_op *o = &i->op[n];

	if (o->kind == OK_REG) {
		reg_set(cpu, o->reg, o->size, v);
		return 0;
	}
	if (o->kind == OK_MEM)
		return mem__write(cpu, i->seg, insn_ea(cpu, i), v, o->size);
	return 0;
}

#endif
