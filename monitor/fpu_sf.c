/* monitor/fpu_sf.c — soft-float core: unpack/pack, the rounder, and the
 * basic IEEE operations (add, mul, div, sqrt) with their special cases.
 * See monitor/fpu_sf.h for the representation. */
#include "monitor/fpu_sf.h"

const struct sf_fmt sf_f32 = { 24, -126, 127, 127, 192 };
const struct sf_fmt sf_f64 = { 53, -1022, 1023, 1023, 1536 };
const struct sf_fmt sf_f80 = { 64, -16382, 16383, 16383, 24576 };
static const struct sf_fmt x87_pc24 = { 24, -16382, 16383, 16383, 24576 };
static const struct sf_fmt x87_pc53 = { 53, -16382, 16383, 16383, 24576 };

/* SDM Vol. 1 §8.1.5.2: PC 00 single, 10 double, 11 extended, 01 reserved
 * (treated as extended). */
const struct sf_fmt *sf_x87_fmt(unsigned pc)
{
	return pc == 0 ? &x87_pc24 : pc == 2 ? &x87_pc53 : &sf_f80;
}

static int clz128(sf_u128 v)
{
	uint64_t hi = (uint64_t)(v >> 64);
	if (hi)
		return __builtin_clzll(hi);
	return 64 + __builtin_clzll((uint64_t)v);
}

struct sf_val sf_default_nan(void)
{
	return (struct sf_val){ .m = 0xc000000000000000ull, .e = 0,
				.sign = 1, .cls = SF_QNAN };
}

struct sf_val sf_zero(int sign)
{
	return (struct sf_val){ .sign = (uint8_t)sign, .cls = SF_ZERO };
}

struct sf_val sf_inf(int sign)
{
	return (struct sf_val){ .m = 1ull << 63, .sign = (uint8_t)sign,
				.cls = SF_INF };
}

/* Extended format (SDM Vol. 1 §4.2.2, Table 8-3 for unsupported forms). */
struct sf_val sf_from80(struct fpu_reg80 r)
{
	struct sf_val v = { .m = r.m, .sign = r.se >> 15 };
	unsigned exp = r.se & 0x7fff;
	bool ibit = r.m >> 63;

	if (exp == 0x7fff) {
		if (!ibit)
			v.cls = SF_BAD;		/* pseudo-infinity/NaN */
		else if ((r.m << 1) == 0)
			v.cls = SF_INF;
		else
			v.cls = (r.m >> 62) & 1 ? SF_QNAN : SF_SNAN;
		return v;
	}
	if (exp == 0) {
		if (r.m == 0) {
			v.cls = SF_ZERO;
			return v;
		}
		/* denormal, or pseudo-denormal (integer bit set) which the
		 * 387+ reads as the same value with exponent 1 */
		int n = __builtin_clzll(r.m);
		v.cls = SF_NORM;
		v.den = 1;
		v.m = r.m << n;
		v.e = -16382 - n;
		return v;
	}
	if (!ibit) {
		v.cls = SF_BAD;				/* unnormal */
		return v;
	}
	v.cls = SF_NORM;
	v.e = (int32_t)exp - 16383;
	return v;
}

/* IEEE binary formats: exponent width ew, fraction width fw. */
static struct sf_val from_ieee(uint64_t x, int ew, int fw, bool daz)
{
	struct sf_val v = { .sign = (uint8_t)(x >> (ew + fw)) };
	uint64_t frac = x & ((1ull << fw) - 1);
	uint32_t emax = (1u << ew) - 1, exp = (uint32_t)(x >> fw) & emax;
	int32_t bias = (int32_t)(emax >> 1);

	if (exp == emax) {
		v.m = (1ull << 63) | (frac << (63 - fw));
		if (!frac)
			v.cls = SF_INF;
		else
			v.cls = (frac >> (fw - 1)) & 1 ? SF_QNAN : SF_SNAN;
		return v;
	}
	if (exp == 0) {
		if (!frac || daz) {
			v.cls = SF_ZERO;
			return v;
		}
		int n = __builtin_clzll(frac);
		v.cls = SF_NORM;
		v.den = 1;
		v.m = frac << n;
		/* value = frac * 2^(1 - bias - fw); bit 63-n of frac */
		v.e = 1 - bias - fw + (63 - n);
		return v;
	}
	v.cls = SF_NORM;
	v.m = (1ull << 63) | (frac << (63 - fw));
	v.e = (int32_t)exp - bias;
	return v;
}

struct sf_val sf_from64(uint64_t x, bool daz)
{
	return from_ieee(x, 11, 52, daz);
}

struct sf_val sf_from32(uint32_t x, bool daz)
{
	return from_ieee(x, 8, 23, daz);
}

/* Packs an already-representable value. */
static uint64_t to_ieee(struct sf_val v, int ew, int fw)
{
	uint64_t sign = (uint64_t)v.sign << (ew + fw);
	uint64_t emax = (1u << ew) - 1;
	int32_t bias = (int32_t)(emax >> 1);

	switch (v.cls) {
	case SF_ZERO:
		return sign;
	case SF_INF:
		return sign | (emax << fw);
	case SF_QNAN:
	case SF_SNAN:
	case SF_BAD:
		return sign | (emax << fw) |
		       ((v.m << 1) >> (64 - fw));
	}
	int32_t be = v.e + bias;
	if (be <= 0) {		/* denormal: exact by construction */
		int sh = 63 - fw + 1 - be;
		return sign | (sh < 64 ? v.m >> sh : 0);
	}
	return sign | ((uint64_t)be << fw) | ((v.m << 1) >> (64 - fw));
}

uint64_t sf_to64(struct sf_val v)
{
	return to_ieee(v, 11, 52);
}

uint32_t sf_to32(struct sf_val v)
{
	return (uint32_t)to_ieee(v, 8, 23);
}

struct fpu_reg80 sf_to80(struct sf_val v)
{
	struct fpu_reg80 r = { .se = (uint16_t)(v.sign << 15) };

	switch (v.cls) {
	case SF_ZERO:
		return r;
	case SF_INF:
		r.se |= 0x7fff;
		r.m = 1ull << 63;
		return r;
	case SF_QNAN:
	case SF_SNAN:
	case SF_BAD:
		r.se |= 0x7fff;
		r.m = v.m;
		return r;
	}
	int32_t be = v.e + 16383;
	if (be <= 0) {
		int sh = 1 - be;
		r.m = sh < 64 ? v.m >> sh : 0;
		return r;
	}
	r.se |= (uint16_t)be;
	r.m = v.m;
	return r;
}

/* Rounding decision from the lsb kept, the round bit and the sticky bit. */
static bool round_up(int rc, int sign, bool lsb, bool rnd, bool sticky)
{
	switch (rc) {
	case SF_RN:
		return rnd && (sticky || lsb);
	case SF_RD:
		return (rnd || sticky) && sign;
	case SF_RU:
		return (rnd || sticky) && !sign;
	default:
		return false;
	}
}

/* Splits normalized v at `shift` bits: q = v >> shift, round and sticky. */
static sf_u128 split(sf_u128 v, int shift, bool *rnd, bool *sticky)
{
	if (shift > 128) {
		*rnd = false;
		*sticky = v != 0;
		return 0;
	}
	*rnd = (v >> (shift - 1)) & 1;
	*sticky = (v & ((((sf_u128)1) << (shift - 1)) - 1)) != 0;
	return shift == 128 ? 0 : v >> shift;
}

/* SDM Vol. 1 §4.8.3 and §4.9.1.4-5: overflow gives infinity or the largest
 * finite number depending on RC; tininess is detected after rounding
 * (x86 behaviour, checked against the host in tests/unit/test_fpu_sf.c);
 * masked underflow is flagged only when the result is also inexact. */
struct sf_val sf_round(struct sf_ctx *c, const struct sf_fmt *f, int sign,
		       int32_t e_lsb, sf_u128 v, bool sticky_in)
{
	struct sf_val r = { .sign = (uint8_t)sign, .cls = SF_NORM };
	int n = clz128(v);
	bool rnd, sticky, up;
	sf_u128 q;

	v <<= n;
	if (sticky_in)
		v |= 1;
	int32_t e = e_lsb + 127 - n;		/* exponent of bit 127 */
	int drop = 128 - f->p;

	c->up = false;
	bool tiny = false;
	if (e < f->emin) {
		tiny = true;
		if (e == f->emin - 1) {
			q = split(v, drop, &rnd, &sticky);
			if (q == (((sf_u128)1) << f->p) - 1 &&
			    round_up(c->rc, sign, q & 1, rnd, sticky))
				tiny = false;
		}
	}
	if (tiny && c->adj && !(c->masks & FSW_UE)) {
		/* unmasked x87 underflow to a register: bias-adjusted */
		c->flags |= FSW_UE;
		e += f->adj;
		tiny = false;
	}
	int shift = drop + (e < f->emin ? f->emin - e : 0);
	q = split(v, shift, &rnd, &sticky);
	bool inexact = rnd || sticky;
	if (tiny && c->ftz && (c->masks & FSW_UE)) {
		/* MXCSR.FZ: a tiny result is flushed, flagged UE and PE
		 * even when exact (SDM Vol. 1 §10.2.3.3) */
		c->flags |= FSW_UE | FSW_PE;
		return sf_zero(sign);
	}
	if (tiny && (inexact || !(c->masks & FSW_UE)))
		c->flags |= FSW_UE;
	if (inexact)
		c->flags |= FSW_PE;
	up = round_up(c->rc, sign, q & 1, rnd, sticky);
	c->up = up;
	q += up;
	if (e < f->emin) {
		/* denormal (or rounded up to the smallest normal): value is
		 * q * 2^(emin - (p-1)) */
		if (!q)
			return sf_zero(sign);
		int z = __builtin_clzll((uint64_t)q);
		r.m = (uint64_t)q << z;
		r.e = f->emin - (f->p - 1) + (63 - z);
		return r;
	}
	if (q >> f->p) {
		q >>= 1;
		e++;
	}
	if (e > f->emax) {
		if (c->adj && !(c->masks & FSW_OE)) {
			c->flags |= FSW_OE;
			e -= f->adj;
		} else {
			c->flags |= FSW_OE | FSW_PE;
			bool to_inf = c->rc == SF_RN ||
				      (c->rc == SF_RU && !sign) ||
				      (c->rc == SF_RD && sign);
			c->up = to_inf;
			if (to_inf)
				return sf_inf(sign);
			r.m = ~0ull << (64 - f->p);
			r.e = f->emax;
			return r;
		}
	}
	r.m = (uint64_t)q << (64 - f->p);
	r.e = e;
	return r;
}

struct sf_val sf_round_val(struct sf_ctx *c, const struct sf_fmt *f,
			   struct sf_val a)
{
	if (a.cls != SF_NORM)
		return a;
	return sf_round(c, f, a.sign, a.e - 63, a.m, false);
}

/* SDM Vol. 1 §4.8.3.5 Table 4-7. x87: an SNaN is quieted; of two NaNs the
 * one with the larger significand wins (QNaN over SNaN). SSE: the first
 * source operand if it is a NaN, else the second. */
struct sf_val sf_nan2(struct sf_ctx *c, struct sf_val a, struct sf_val b)
{
	if (a.cls == SF_SNAN || b.cls == SF_SNAN || a.cls == SF_BAD ||
	    b.cls == SF_BAD)
		c->flags |= FSW_IE;
	if (a.cls == SF_BAD || b.cls == SF_BAD)
		return sf_default_nan();
	if (c->sse)
		return sf_quiet(sf_is_nan(a) ? a : b);
	if (!sf_is_nan(b))
		return sf_quiet(a);
	if (!sf_is_nan(a))
		return sf_quiet(b);
	if (a.cls == SF_QNAN && b.cls == SF_SNAN)
		return a;
	if (b.cls == SF_QNAN && a.cls == SF_SNAN)
		return b;
	uint64_t ma = a.m | (1ull << 62), mb = b.m | (1ull << 62);
	if (ma > mb)
		return sf_quiet(a);
	if (mb > ma)
		return sf_quiet(b);
	return sf_quiet(a.sign ? b : a);
}

static bool special2(struct sf_val a, struct sf_val b)
{
	return a.cls >= SF_QNAN || b.cls >= SF_QNAN;
}

static void denormal_check(struct sf_ctx *c, struct sf_val a, struct sf_val b)
{
	if ((a.cls == SF_NORM && a.den) || (b.cls == SF_NORM && b.den))
		c->flags |= FSW_DE;
}

static struct sf_val invalid(struct sf_ctx *c)
{
	c->flags |= FSW_IE;
	return sf_default_nan();
}

struct sf_val sf_add(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b, bool sub)
{
	if (special2(a, b))
		return sf_nan2(c, a, b);
	if (sub)
		b.sign ^= 1;
	denormal_check(c, a, b);
	if (a.cls == SF_INF || b.cls == SF_INF) {
		if (a.cls == SF_INF && b.cls == SF_INF && a.sign != b.sign)
			return invalid(c);
		return a.cls == SF_INF ? a : b;
	}
	if (a.cls == SF_ZERO && b.cls == SF_ZERO) {
		if (a.sign == b.sign)
			return a;
		return sf_zero(c->rc == SF_RD);
	}
	if (a.cls == SF_ZERO)
		return sf_round_val(c, f, b);
	if (b.cls == SF_ZERO)
		return sf_round_val(c, f, a);
	if (a.e < b.e || (a.e == b.e && a.m < b.m)) {
		struct sf_val t = a;
		a = b;
		b = t;
	}
	/* |a| >= |b|; both significands at bit 126 so a sum fits 128 bits */
	uint32_t d = (uint32_t)(a.e - b.e);
	sf_u128 va = (sf_u128)a.m << 63, vb = (sf_u128)b.m << 63;
	if (d >= 127) {
		vb = 1;				/* only a sticky bit */
	} else if (d) {
		bool lost = (vb & ((((sf_u128)1) << d) - 1)) != 0;
		vb = (vb >> d) | lost;
	}
	sf_u128 s = a.sign == b.sign ? va + vb : va - vb;
	if (!s)
		return sf_zero(c->rc == SF_RD);
	return sf_round(c, f, a.sign, a.e - 126, s, false);
}

struct sf_val sf_mul(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b)
{
	if (special2(a, b))
		return sf_nan2(c, a, b);
	int sign = a.sign ^ b.sign;
	if (a.cls == SF_INF || b.cls == SF_INF) {
		if (a.cls == SF_ZERO || b.cls == SF_ZERO)
			return invalid(c);
		denormal_check(c, a, b);
		return sf_inf(sign);
	}
	denormal_check(c, a, b);
	if (a.cls == SF_ZERO || b.cls == SF_ZERO)
		return sf_zero(sign);
	return sf_round(c, f, sign, a.e + b.e - 126, (sf_u128)a.m * b.m,
			false);
}

/* 128-by-64 division, hi < d: quotient and remainder (x86-64 DIV). */
static uint64_t div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
	uint64_t q, r;
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
	*rem = r;
	return q;
}

struct sf_val sf_div(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b)
{
	if (special2(a, b))
		return sf_nan2(c, a, b);
	int sign = a.sign ^ b.sign;
	if (a.cls == SF_INF) {
		if (b.cls == SF_INF)
			return invalid(c);
		denormal_check(c, a, b);
		return sf_inf(sign);
	}
	if (b.cls == SF_INF) {
		denormal_check(c, a, b);
		return sf_zero(sign);
	}
	if (b.cls == SF_ZERO) {
		if (a.cls == SF_ZERO)
			return invalid(c);
		/* divide-by-zero takes precedence over denormal (x87
		 * and SSE alike, SDM Vol. 1 §4.9.2, checked on the host) */
		c->flags |= FSW_ZE;
		return sf_inf(sign);
	}
	denormal_check(c, a, b);
	if (a.cls == SF_ZERO)
		return sf_zero(sign);
	uint64_t q1, q2, r;
	int32_t e_lsb = a.e - b.e;
	if (a.m >= b.m) {
		q1 = div128(a.m >> 1, a.m << 63, b.m, &r);
		e_lsb -= 127;
	} else {
		q1 = div128(a.m, 0, b.m, &r);
		e_lsb -= 128;
	}
	q2 = div128(r, 0, b.m, &r);
	return sf_round(c, f, sign, e_lsb, ((sf_u128)q1 << 64) | q2, r != 0);
}

struct sf_val sf_sqrt(struct sf_ctx *c, const struct sf_fmt *f,
		      struct sf_val a)
{
	if (a.cls == SF_BAD || a.cls == SF_SNAN) {
		c->flags |= FSW_IE;
		return a.cls == SF_BAD ? sf_default_nan() : sf_quiet(a);
	}
	if (a.cls == SF_QNAN || a.cls == SF_ZERO)
		return a;
	if (a.sign)
		return invalid(c);
	if (a.cls == SF_INF)
		return a;
	if (a.den)
		c->flags |= FSW_DE;
	/* value = m * 2^E, E = e - 63; make E even, then take the root of
	 * X * 2^68 digit by digit (67 root bits: 64 + guard + sticky room) */
	int32_t E = a.e - 63;
	sf_u128 X = a.m;
	if (E & 1) {
		X <<= 1;
		E -= 1;
	}
	sf_u128 rem = 0, root = 0;
	for (int j = 0; j < 67; j++) {
		unsigned pair = j <= 32 ? (unsigned)(X >> (64 - 2 * j)) & 3 : 0;
		rem = (rem << 2) | pair;
		sf_u128 t = (root << 2) | 1;
		if (rem >= t) {
			rem -= t;
			root = (root << 1) | 1;
		} else {
			root <<= 1;
		}
	}
	return sf_round(c, f, 0, E / 2 - 34, root, rem != 0);
}
