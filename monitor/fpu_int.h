/* monitor/fpu_int.h — private interface between the parts of the FPU
 * (monitor/fpu*.c): x87 register stack helpers, exception bookkeeping and
 * the per-family executors that fpu__exec dispatches to. */
#ifndef HVMM_FPU_INT_H
#define HVMM_FPU_INT_H

#include "monitor/fpu_sf.h"
#include "monitor/monitor.h"

/* Per-instruction operand access. */
struct fpu_insn {
	struct cpu *cpu;
	struct fpu_state *f;
	const ZydisDecodedInstruction *in;
	const ZydisDecodedOperand *ops;
	const ZydisDecodedOperand *mem;	/* the memory operand or NULL */
	int seg;			/* its segment (SEG_*) ... */
	uint32_t off;			/* ... and effective offset */
};

/* Variable-length copy for freestanding code (no memcpy to call); the
 * empty asm keeps gcc from turning the loop back into a memcpy call. */
static inline void fpu_copy(void *d, const void *s, unsigned n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	for (unsigned i = 0; i < n; i++) {
		dp[i] = sp[i];
		__asm__("" ::: "memory");
	}
}

/* ---- x87 stack (fpu_x87.c) ---- */
static inline unsigned x87_top(const struct fpu_state *f)
{
	return (f->fsw >> FSW_TOP_SHIFT) & 7;
}
static inline void x87_set_top(struct fpu_state *f, unsigned top)
{
	f->fsw = (uint16_t)((f->fsw & ~(7u << FSW_TOP_SHIFT)) |
			    ((top & 7) << FSW_TOP_SHIFT));
}
static inline unsigned x87_phys(const struct fpu_state *f, unsigned i)
{
	return (x87_top(f) + i) & 7;
}
static inline unsigned x87_tag(const struct fpu_state *f, unsigned phys)
{
	return (f->ftw >> (2 * phys)) & 3;
}
static inline void x87_set_tag(struct fpu_state *f, unsigned phys,
			       unsigned tag)
{
	f->ftw = (uint16_t)((f->ftw & ~(3u << (2 * phys))) |
			    (tag << (2 * phys)));
}
static inline bool x87_empty(const struct fpu_state *f, unsigned i)
{
	return x87_tag(f, x87_phys(f, i)) == FTAG_EMPTY;
}
static inline struct fpu_reg80 x87_st(const struct fpu_state *f, unsigned i)
{
	return f->st[x87_phys(f, i)];
}

/* FCW as stored: reserved bit 6 reads as 1, bits 13-15 as 0. */
static inline uint16_t x87_fcw(uint32_t w)
{
	return (uint16_t)((w & 0x1f3f) | 0x40);
}

/* The tag a register value deserves (SDM Vol. 1 §8.1.7). */
unsigned x87_tag_of(struct fpu_reg80 r);
/* Writes ST(i) and its tag. */
void x87_write(struct fpu_state *f, unsigned i, struct fpu_reg80 r);
void x87_pop(struct fpu_state *f);
/* Pushes r (after the overflow check x87_push_ok). */
void x87_push(struct fpu_state *f, struct fpu_reg80 r);
/* The QNaN floating-point indefinite (SDM Vol. 1 §4.8.3.7). */
struct fpu_reg80 x87_indefinite(void);

/* An sf_ctx set up from FCW for an x87 operation. */
struct sf_ctx x87_ctx(const struct fpu_state *f);
/* Folds an operation's flags into FSW (sticky flags, ES/B summary when an
 * unmasked one is set, C1 = rounded up when PE). Returns true if an
 * unmasked IE, DE or ZE occurred: the destination must not be written. */
bool x87_flags(struct fpu_state *f, const struct sf_ctx *c);
/* Stack fault: IE|SF with C1 = overflow; true if IE is unmasked. */
bool x87_stack_fault(struct fpu_state *f, bool overflow);

/* Memory operand access for the current instruction. */
int fpu_read(struct fpu_insn *x, unsigned delta, void *buf, unsigned len);
int fpu_write(struct fpu_insn *x, unsigned delta, const void *buf,
	      unsigned len);

/* ---- executors: return 0, CPU_ABORT or FPU_NOT_MINE ---- */
int x87_exec(struct fpu_insn *x);		/* fpu_x87.c */
int x87_exec_misc(struct fpu_insn *x);	/* fpu_x87misc.c */
int x87_exec_trans(struct fpu_insn *x);	/* fpu_x87trans.c */
int fpu_env_exec(struct fpu_insn *x);		/* fpu_env.c */
int fpu_mmx_exec(struct fpu_insn *x);		/* fpu_simdint.c */
int fpu_sse_exec(struct fpu_insn *x);		/* fpu_sse.c */

/* ---- x87 special operations (fpu_sfx.c, fpu_trans.c) ---- */
/* FPREM (round = false) / FPREM1: *cc receives C0..C3 bits of FSW. */
struct sf_val sf_prem(struct sf_ctx *c, struct sf_val a, struct sf_val b,
		      bool round, uint16_t *cc);
struct sf_val sf_scale(struct sf_ctx *c, struct sf_val a, struct sf_val b);
/* FXTRACT: *sig receives the significand, the exponent is returned. */
struct sf_val sf_xtract(struct sf_ctx *c, struct sf_val a,
			struct sf_val *sig);

#endif
