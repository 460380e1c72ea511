/* monitor/fpu_sfx.c — x87-only soft-float operations: FPREM/FPREM1,
 * FSCALE, FXTRACT (SDM Vol. 2 pages of the same names). */
#include "monitor/fpu_int.h"

/* Partial-remainder step size of FPREM/FPREM1 when the exponent difference
 * D is 64 or more: "an implementation-dependent number between 32 and 63"
 * (SDM Vol. 2 FPREM); this choice matches the host in tests/unit. */
static int prem_n(int32_t d)
{
	return 32 + (int)((d - 32) & 31);
}

struct sf_val sf_prem(struct sf_ctx *c, struct sf_val a, struct sf_val b,
		      bool round, uint16_t *cc)
{
	*cc = 0;
	if (a.cls >= SF_QNAN || b.cls >= SF_QNAN)
		return sf_nan2(c, a, b);
	if (a.cls == SF_INF || b.cls == SF_ZERO) {
		c->flags |= FSW_IE;
		return sf_default_nan();
	}
	if ((a.cls == SF_NORM && a.den) || (b.cls == SF_NORM && b.den))
		c->flags |= FSW_DE;
	if (a.cls == SF_ZERO || b.cls == SF_INF)
		return a;

	int32_t d = a.e - b.e;
	int steps = d;
	int32_t e_lsb = b.e - 63;
	bool partial = d >= 64;
	if (partial) {
		steps = prem_n(d);
		e_lsb = a.e - 63 - steps;
	}
	if (d < 0 && !(round && d == -1))
		return a;		/* |a| < |b|/2: a is the remainder */

	sf_u128 r, B = b.m;
	uint64_t q = 0;
	if (d < 0) {		/* FPREM1, |a| in [|b|/2, |b|) */
		r = a.m;
		e_lsb = a.e - 63;
		B <<= 1;
	} else {
		r = a.m;
		if (r >= B) {
			r -= B;
			q = 1;
		}
		for (int i = 0; i < steps; i++) {
			r <<= 1;
			q <<= 1;
			if (r >= B) {
				r -= B;
				q |= 1;
			}
		}
	}
	int sign = a.sign;
	if (round && !partial && (2 * r > B || (2 * r == B && (q & 1)))) {
		r = B - r;
		q++;
		sign ^= 1;
	}
	if (!partial)
		*cc = (uint16_t)(((q >> 2) & 1 ? FSW_C0 : 0) |
				 ((q >> 1) & 1 ? FSW_C3 : 0) |
				 (q & 1 ? FSW_C1 : 0));
	else
		*cc = FSW_C2;
	if (!r)
		return sf_zero(a.sign);
	return sf_round(c, &sf_f80, sign, e_lsb, r, false);
}

struct sf_val sf_scale(struct sf_ctx *c, struct sf_val a, struct sf_val b)
{
	if (a.cls >= SF_QNAN || b.cls >= SF_QNAN)
		return sf_nan2(c, a, b);
	if ((a.cls == SF_NORM && a.den) || (b.cls == SF_NORM && b.den))
		c->flags |= FSW_DE;
	if (b.cls == SF_INF) {
		if ((a.cls == SF_ZERO && !b.sign) || (a.cls == SF_INF && b.sign)) {
			c->flags |= FSW_IE;
			return sf_default_nan();
		}
		if (a.cls == SF_ZERO || a.cls == SF_INF)
			return a;
		return b.sign ? sf_zero(a.sign) : sf_inf(a.sign);
	}
	if (a.cls != SF_NORM)
		return a;
	int32_t n = 0;
	if (b.cls == SF_NORM && b.e >= 0)
		n = b.e >= 30 ? (1 << 30) : (int32_t)(b.m >> (63 - b.e));
	if (b.sign)
		n = -n;
	return sf_round(c, &sf_f80, a.sign, a.e - 63 + n, a.m, false);
}

struct sf_val sf_xtract(struct sf_ctx *c, struct sf_val a,
			struct sf_val *sig)
{
	*sig = a;
	if (a.cls == SF_BAD || a.cls == SF_SNAN) {
		c->flags |= FSW_IE;
		*sig = a.cls == SF_BAD ? sf_default_nan() : sf_quiet(a);
		return *sig;
	}
	if (a.cls == SF_QNAN)
		return a;
	if (a.cls == SF_ZERO) {
		c->flags |= FSW_ZE;
		return sf_inf(1);
	}
	if (a.cls == SF_INF)
		return sf_inf(0);
	if (a.den)
		c->flags |= FSW_DE;
	sig->e = 0;
	sig->den = 0;
	return sf_from_int(c, &sf_f80, a.e);
}
