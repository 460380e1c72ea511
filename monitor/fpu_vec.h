/* monitor/fpu_vec.h — operand helpers shared by the MMX/SSE executors
 * (private to monitor/fpu*.c). */
#ifndef HVMM_FPU_VEC_H
#define HVMM_FPU_VEC_H

#include "monitor/fpu_int.h"

bool vec_is_mm(const ZydisDecodedOperand *o);
bool vec_is_xmm(const ZydisDecodedOperand *o);
/* The x87 -> MMX transition (TOP = 0, all tags valid). */
void vec_mmx_enter(struct fpu_state *f);
/* #GP(0) for a misaligned 16-byte memory operand (aligned forms only). */
int vec_check_align(struct fpu_insn *x, unsigned len);
/* Reads len bytes of an MMX/XMM/GPR32 register, memory or immediate
 * operand into buf, which must hold 16 bytes (zero-padded). */
int vec_read(struct fpu_insn *x, const ZydisDecodedOperand *o, void *buf,
	     unsigned len);
/* Writes len bytes to a register (an MMX write sets the exponent field to
 * all ones) or to memory. */
int vec_write(struct fpu_insn *x, const ZydisDecodedOperand *o,
	      const void *buf, unsigned len);
unsigned vec_width(const ZydisDecodedOperand *o);

/* SSE context from MXCSR, and folding of an operation's flags into MXCSR:
 * returns CPU_ABORT (#XM, or #UD without CR4.OSXMMEXCPT) when one of them
 * is unmasked; the destination must then be left alone. */
struct sf_ctx sse_ctx(const struct fpu_state *f);
int sse_flags(struct fpu_insn *x, const struct sf_ctx *c);
/* SSE/SSE2 moves, logic and shuffles (fpu_ssemov.c); falls through to the
 * packed-integer executor. */
int sse_move_exec(struct fpu_insn *x);

static inline uint64_t vec_lane(const uint8_t *p, unsigned es, unsigned i)
{
	uint64_t q;
	uint32_t d;
	uint16_t w;
	p += i * es;
	switch (es) {
	case 1:
		return *p;
	case 2:
		__builtin_memcpy(&w, p, 2);
		return w;
	case 4:
		__builtin_memcpy(&d, p, 4);
		return d;
	default:
		__builtin_memcpy(&q, p, 8);
		return q;
	}
}
static inline int64_t vec_slane(const uint8_t *p, unsigned es, unsigned i)
{
	uint64_t v = vec_lane(p, es, i);
	unsigned sh = 64 - 8 * es;
	return (int64_t)(v << sh) >> sh;
}
static inline void vec_put(uint8_t *p, unsigned es, unsigned i, uint64_t v)
{
	uint32_t d = (uint32_t)v;
	uint16_t w = (uint16_t)v;
	p += i * es;
	switch (es) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		__builtin_memcpy(p, &w, 2);
		break;
	case 4:
		__builtin_memcpy(p, &d, 4);
		break;
	default:
		__builtin_memcpy(p, &v, 8);
	}
}

#endif
