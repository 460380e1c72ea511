/* monitor/fpu_fx.h — 128-bit fixed-point helpers for the x87
 * transcendentals (private to monitor/fpu_trans*.c). A fixed-point value v
 * stands for v * 2^-FX_FRAC; signed values use __int128 and stay below 8
 * in magnitude. */
#ifndef HVMM_FPU_FX_H
#define HVMM_FPU_FX_H

#include "monitor/fpu_int.h"

#define FX_FRAC 124
#define FX_ONE ((sf_u128)1 << FX_FRAC)
typedef __int128 fx_s;

/* Full 128x128 -> 256-bit product. */
static inline void fx_mul256(sf_u128 a, sf_u128 b, sf_u128 *hi, sf_u128 *lo)
{
	uint64_t a1 = (uint64_t)(a >> 64), a0 = (uint64_t)a;
	uint64_t b1 = (uint64_t)(b >> 64), b0 = (uint64_t)b;
	sf_u128 p00 = (sf_u128)a0 * b0, p01 = (sf_u128)a0 * b1;
	sf_u128 p10 = (sf_u128)a1 * b0, p11 = (sf_u128)a1 * b1;
	sf_u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
	*hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
	*lo = (mid << 64) | (uint64_t)p00;
}

/* a * b in fixed point (truncated). */
static inline sf_u128 fx_mul(sf_u128 a, sf_u128 b)
{
	sf_u128 hi, lo;
	fx_mul256(a, b, &hi, &lo);
	return (hi << (128 - FX_FRAC)) | (lo >> FX_FRAC);
}

static inline fx_s fx_smul(fx_s a, fx_s b)
{
	bool neg = (a < 0) != (b < 0);
	sf_u128 p = fx_mul((sf_u128)(a < 0 ? -a : a), (sf_u128)(b < 0 ? -b : b));
	return neg ? -(fx_s)p : (fx_s)p;
}

/* a / k for a small integer k (two x86-64 DIVs). */
static inline sf_u128 fx_divk(sf_u128 a, uint64_t k)
{
	uint64_t hi = (uint64_t)(a >> 64), lo = (uint64_t)a, q0, r;
	uint64_t q1 = hi / k;
	r = hi % k;
	__asm__("divq %4" : "=a"(q0), "=d"(r) : "a"(lo), "d"(r), "rm"(k));
	return ((sf_u128)q1 << 64) | q0;
}

/* a / b in fixed point, a < 8, 0 < b < 8 (restoring division). */
static inline sf_u128 fx_div(sf_u128 a, sf_u128 b)
{
	sf_u128 q = 0, r = 0;
	for (int i = 127 + FX_FRAC; i >= 0; i--) {
		r = (r << 1) | (i >= FX_FRAC ? (a >> (i - FX_FRAC)) & 1 : 0);
		q <<= 1;
		if (r >= b) {
			r -= b;
			q |= 1;
		}
	}
	return q;
}

#endif
