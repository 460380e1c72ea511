/* tests/unit/fpu_oracle.h — helpers shared by the FPU unit tests: a random
 * generator biased towards the interesting floating-point operands, and the
 * host CPU (x86-64: x87 is native 80-bit, SSE native) as the oracle. */
#ifndef HVMM_TESTS_FPU_ORACLE_H
#define HVMM_TESTS_FPU_ORACLE_H

#include <stdint.h>
#include <stdio.h>

#include "monitor/fpu_sf.h"

static uint64_t orc_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t orc_rand(void)
{
	orc_state ^= orc_state << 13;
	orc_state ^= orc_state >> 7;
	orc_state ^= orc_state << 17;
	return orc_state;
}

/* A significand: random, or with few bits / long runs (rounding ties). */
static inline uint64_t orc_mant(void)
{
	switch (orc_rand() % 6) {
	case 0:
		return ~0ull << (orc_rand() % 64);
	case 1:
		return (1ull << 63) | (1ull << (orc_rand() % 63)) |
		       (orc_rand() & 1);
	case 2:
		return ~(orc_rand() % 5);
	case 3:	/* exactly representable in fewer bits, with tie bits */
		return (orc_rand() | (1ull << 63)) & (~0ull << (orc_rand() % 64));
	default:
		return orc_rand();
	}
}

/* An extended-precision operand, biased to specials and to exponents close
 * to `near` (so that sums cancel and products/quotients hit the limits). */
static inline struct fpu_reg80 orc_f80(int near)
{
	struct fpu_reg80 r;
	uint16_t sign = (orc_rand() & 1) << 15;
	int e;

	switch (orc_rand() % 16) {
	case 0:
		r.se = sign;
		r.m = orc_rand() % 4 ? 0 : orc_mant() >> (orc_rand() % 64);
		return r;			/* zero / denormal */
	case 1:
		r.se = sign | 0x7fff;
		r.m = orc_rand() % 3 ? 1ull << 63 : orc_mant() | (1ull << 63);
		return r;			/* inf / NaN */
	case 2:
		r.se = sign | (uint16_t)(orc_rand() % 0x7fff);
		r.m = orc_mant() & (orc_rand() % 4 ? ~0ull : ~(1ull << 63));
		return r;			/* maybe unsupported */
	case 3: case 4:
		e = (int)(orc_rand() % 140);	/* around the denormal range */
		break;
	case 5: case 6:
		e = 0x7ffe - (int)(orc_rand() % 140);
		break;
	case 7:
		e = (int)(orc_rand() % 0x7ffe) + 1;
		break;
	default:
		e = near + (int)(orc_rand() % 140) - 70;
	}
	if (e < 1)
		e = 1;
	if (e > 0x7ffe)
		e = 0x7ffe;
	r.se = sign | (uint16_t)e;
	r.m = orc_mant() | (1ull << 63);
	return r;
}

/* IEEE single/double operand built the same way through the f80 space. */
static inline uint64_t orc_ieee(int ew, int fw, int near)
{
	uint64_t sign = orc_rand() & 1, emax = (1u << ew) - 1, e;
	uint64_t frac = orc_mant() >> (64 - fw);

	switch (orc_rand() % 12) {
	case 0:
		e = 0;
		frac = orc_rand() % 3 ? frac >> (orc_rand() % fw) : 0;
		break;
	case 1:
		e = emax;
		frac = orc_rand() % 2 ? 0 : frac;
		break;
	case 2: case 3:
		e = orc_rand() % 60;
		break;
	case 4: case 5:
		e = emax - 1 - orc_rand() % 60;
		break;
	case 6:
		e = orc_rand() % emax;
		break;
	default:
		e = (uint64_t)(near + (int)(orc_rand() % 80) - 40);
		if ((int64_t)e < 0 || e >= emax)
			e = (uint64_t)near;
	}
	return (sign << (ew + fw)) | (e << fw) | frac;
}

static inline uint32_t orc_f32(int near)
{
	return (uint32_t)orc_ieee(8, 23, near);
}

static inline uint64_t orc_f64(int near)
{
	return orc_ieee(11, 52, near);
}

#endif
