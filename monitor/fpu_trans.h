/* monitor/fpu_trans.h — x87 transcendental kernels (monitor/fpu_trans.c);
 * callers handle NaNs, zeros, infinities and ranges (fpu_x87trans.c). */
#ifndef HVMM_FPU_TRANS_H
#define HVMM_FPU_TRANS_H

#include "monitor/fpu_sf.h"

/* pi * num / den, rounded (inexact). */
struct sf_val trans_pi(struct sf_ctx *c, int sign, unsigned num,
		       unsigned den);
/* sin (rounded in cs) and cos (in cc) of a finite nonzero |a| < 2^63. */
void trans_sincos(struct sf_ctx *cs, struct sf_ctx *cc, struct sf_val a,
		  struct sf_val *s, struct sf_val *co);
/* tan of a finite nonzero |a| < 2^63. */
struct sf_val trans_tan(struct sf_ctx *c, struct sf_val a);
/* atan2(y, x) for finite nonzero y, x: the FPATAN result. */
struct sf_val trans_atan(struct sf_ctx *c, struct sf_val y, struct sf_val x);
/* 2^x - 1 for finite nonzero x. */
struct sf_val trans_f2xm1(struct sf_ctx *c, struct sf_val x);
/* y * log2(x) for finite nonzero y, finite x > 0. */
struct sf_val trans_yl2x(struct sf_ctx *c, struct sf_val y, struct sf_val x);
/* y * log2(1 + x) for finite nonzero y and x. */
struct sf_val trans_yl2xp1(struct sf_ctx *c, struct sf_val y,
			   struct sf_val x);

#endif
