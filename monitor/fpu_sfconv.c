/* monitor/fpu_sfconv.c — soft-float comparisons and integer conversions. */
#include "monitor/fpu_sf.h"

int sf_compare(struct sf_ctx *c, struct sf_val a, struct sf_val b,
	       bool signaling)
{
	if (a.cls >= SF_QNAN || b.cls >= SF_QNAN) {
		if (signaling || a.cls == SF_SNAN || b.cls == SF_SNAN ||
		    a.cls == SF_BAD || b.cls == SF_BAD)
			c->flags |= FSW_IE;
		return 2;
	}
	if ((a.cls == SF_NORM && a.den) || (b.cls == SF_NORM && b.den))
		c->flags |= FSW_DE;
	if (a.cls == SF_ZERO && b.cls == SF_ZERO)
		return 0;
	if (a.cls == SF_ZERO)
		return b.sign ? 1 : -1;
	if (b.cls == SF_ZERO)
		return a.sign ? -1 : 1;
	if (a.sign != b.sign)
		return a.sign ? -1 : 1;
	int mag;	/* |a| vs |b| */
	if (a.cls == SF_INF || b.cls == SF_INF)
		mag = a.cls == b.cls ? 0 : a.cls == SF_INF ? 1 : -1;
	else if (a.e != b.e)
		mag = a.e > b.e ? 1 : -1;
	else
		mag = a.m == b.m ? 0 : a.m > b.m ? 1 : -1;
	return a.sign ? -mag : mag;
}

struct sf_val sf_from_int(struct sf_ctx *c, const struct sf_fmt *f,
			  int64_t x)
{
	if (!x)
		return sf_zero(0);
	uint64_t u = x < 0 ? -(uint64_t)x : (uint64_t)x;
	return sf_round(c, f, x < 0, 0, u, false);
}

/* Integer part of |a| rounded with rc into *q (up to 64 bits); returns
 * false if it does not fit 64 bits. Sets PE and c->up. */
static bool round_to_u64(struct sf_ctx *c, struct sf_val a, int rc,
			 uint64_t *q)
{
	c->up = false;
	if (a.cls == SF_ZERO) {
		*q = 0;
		return true;
	}
	if (a.e >= 64)
		return false;
	if (a.e == 63) {
		*q = a.m;
		return true;
	}
	/* value = m * 2^(e-63): drop 63-e fraction bits (1..) */
	int sh = 63 - a.e;
	bool rnd, sticky;
	uint64_t i;
	if (sh > 64) {
		i = 0;
		rnd = false;
		sticky = true;
	} else if (sh == 64) {
		i = 0;
		rnd = a.m >> 63;
		sticky = (a.m << 1) != 0;
	} else {
		i = a.m >> sh;
		rnd = (a.m >> (sh - 1)) & 1;
		sticky = (a.m & ((1ull << (sh - 1)) - 1)) != 0;
	}
	bool up;
	switch (rc) {
	case SF_RN:
		up = rnd && (sticky || (i & 1));
		break;
	case SF_RD:
		up = (rnd || sticky) && a.sign;
		break;
	case SF_RU:
		up = (rnd || sticky) && !a.sign;
		break;
	default:
		up = false;
	}
	if (rnd || sticky)
		c->flags |= FSW_PE;
	c->up = up;
	if (up && i == ~0ull)
		return false;
	*q = i + up;
	return true;
}

/* SDM Vol. 1 §4.9.1.2 (invalid on an unrepresentable integer: the caller
 * stores the integer indefinite when IE is masked). */
int64_t sf_to_int(struct sf_ctx *c, struct sf_val a, int bits, int rc,
		  bool *invalid)
{
	uint64_t q, lim = 1ull << (bits - 1);
	uint16_t saved = c->flags;

	*invalid = false;	/* no DE: FIST and CVT*2SI do not report it */
	if (a.cls != SF_NORM && a.cls != SF_ZERO)
		goto bad;
	if (!round_to_u64(c, a, rc, &q))
		goto bad;
	if (a.sign ? q > lim : q >= lim)
		goto bad;
	return a.sign ? (int64_t)(0 - q) : (int64_t)q;
bad:
	/* an out-of-range value is invalid, not also inexact */
	c->flags = (uint16_t)(saved | (c->flags & FSW_DE) | FSW_IE);
	c->up = false;
	*invalid = true;
	return (int64_t)(0 - lim);
}

struct sf_val sf_rndint(struct sf_ctx *c, struct sf_val a, int rc)
{
	uint64_t q;

	if (a.cls != SF_NORM || a.e >= 63)
		return a;
	if (a.den)
		c->flags |= FSW_DE;
	round_to_u64(c, a, rc, &q);	/* e < 63: always fits */
	if (!q)
		return sf_zero(a.sign);
	int z = __builtin_clzll(q);
	return (struct sf_val){ .m = q << z, .e = 63 - z, .sign = a.sign,
				.cls = SF_NORM };
}
