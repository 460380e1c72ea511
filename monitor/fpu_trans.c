/* monitor/fpu_trans.c — x87 transcendental functions in 128-bit fixed
 * point: FSIN, FCOS, FSINCOS, FPTAN (argument reduction modulo the 66-bit
 * pi of the hardware, SDM Vol. 1 §8.3.10), FPATAN, F2XM1, FYL2X, FYL2XP1.
 *
 * Each result is formed as an exact product (64-bit significand times a
 * 124-bit-accurate series factor) and rounded once by sf_round, so results
 * are within about one ulp (checked against the host with a tolerance in
 * tests/unit/test_fpu_trans.c); they are not guaranteed bit-identical.
 */
#include "monitor/fpu_fx.h"
#include "monitor/fpu_trans.h"

/* Constants in fixed point (value * 2^124), from 128-bit expansions. */
#define FX_PI	((((sf_u128)0xc90fdaa22168c234ull << 64) | \
		  0xc4c6628b80dc1cd1ull) >> 2)
#define FX_LN2	((((sf_u128)0xb17217f7d1cf79abull << 64) | \
		  0xc9e3b39803f2f6afull) >> 4)
#define FX_L2E	((((sf_u128)0xb8aa3b295c17f0bbull << 64) | \
		  0xbe87fed0691d3e88ull) >> 3)
/* pi/2 rounded to 66 significant bits, as a 68-bit integer: value
 * P_HALF * 2^-67 (the x87's internal pi for argument reduction). */
#define P_HALF	(((sf_u128)0xc90fdaa22168c234ull << 4) | 0xc)

/* Rounds (hi:lo + inexact*epsilon) * 2^e_lsb. */
static struct sf_val round256x(struct sf_ctx *c, int sign, int32_t e_lsb,
			       sf_u128 hi, sf_u128 lo, bool inexact)
{
	if (!hi)
		return lo ? sf_round(c, &sf_f80, sign, e_lsb, lo, inexact) :
			    sf_zero(sign);
	int n = 0;
	while (!(hi >> 127)) {
		hi = (hi << 1) | (lo >> 127);
		lo <<= 1;
		n++;
	}
	return sf_round(c, &sf_f80, sign, e_lsb + 128 - n, hi,
			inexact || lo);
}

/* The same for a result known to be inexact (a series value). */
static struct sf_val round256(struct sf_ctx *c, int sign, int32_t e_lsb,
			      sf_u128 hi, sf_u128 lo)
{
	return round256x(c, sign, e_lsb, hi, lo, true);
}

/* pi * num / den rounded (FPATAN's exact-angle results). */
struct sf_val trans_pi(struct sf_ctx *c, int sign, unsigned num, unsigned den)
{
	return sf_round(c, &sf_f80, sign, -FX_FRAC, fx_divk(FX_PI * num, den),
			true);
}

/* m * 2^(e-63) as fixed point (truncated below 2^-124). */
static sf_u128 to_fx(uint64_t m, int32_t e)
{
	int sh = e + FX_FRAC - 63;
	if (sh >= 0)
		return (sf_u128)m << sh;
	return sh <= -64 ? 0 : (sf_u128)m >> -sh;
}

/* sum over k of (-1)^k u^k / ((2k+1)!) (odd = true) or / (2k)! */
static sf_u128 sincos_series(sf_u128 u, bool odd)
{
	fx_s sum = (fx_s)FX_ONE;
	sf_u128 t = FX_ONE;
	for (unsigned k = 1; t; k++) {
		uint64_t d = odd ? (2 * k) * (2 * k + 1) : (2 * k - 1) * (2 * k);
		t = fx_divk(fx_mul(t, u), d);
		sum += k & 1 ? -(fx_s)t : (fx_s)t;
	}
	return (sf_u128)sum;
}

/* The reduced argument of sin/cos/tan: |a| = q * pi66/2 + r, folded to
 * r in [0, pi/4] (swap: the complement was taken), r = R * 2^rl. */
struct reduced {
	sf_u128 R;
	int32_t rl;
	unsigned q;
	bool swap;
};

static struct reduced reduce(struct sf_val a)
{
	struct reduced z = { .R = a.m, .rl = a.e - 63 };
	if (a.e >= -1) {	/* |a| >= 0.5: reduce modulo pi66/2 */
		sf_u128 r = 0;
		unsigned q = 0;
		int bits = 64 + a.e + 4;	/* a in units of 2^-67 */
		for (int i = bits - 1; i >= 0; i--) {
			uint64_t bit = i >= a.e + 4 ? (a.m >> (i - a.e - 4)) & 1 : 0;
			r = (r << 1) | bit;
			q <<= 1;
			if (r >= P_HALF) {
				r -= P_HALF;
				q |= 1;
			}
		}
		if (2 * r > P_HALF) {	/* past pi/4: use the complement */
			r = P_HALF - r;
			z.swap = true;
		}
		z.R = r;
		z.rl = -67;
		z.q = q & 3;
	}
	return z;
}

/* The two kernels on the reduced argument: sin r = R * S * 2^(rl-124)
 * exactly as hi:lo, cos r = C * 2^-124 (C in [0.7, 1]). */
static void kernels(const struct reduced *z, sf_u128 *hi, sf_u128 *lo,
		    sf_u128 *C)
{
	int32_t sh = z->rl + FX_FRAC;
	sf_u128 rfx = sh >= 0 ? z->R << sh : sh <= -128 ? 0 : z->R >> -sh;
	sf_u128 u = fx_mul(rfx, rfx);
	fx_mul256(z->R, sincos_series(u, true), hi, lo);
	*C = sincos_series(u, false);
}

/* FSIN, FCOS, FSINCOS on a finite nonzero |a| < 2^63: the sine is rounded
 * in context cs, the cosine in cc (each gets its own C1). */
void trans_sincos(struct sf_ctx *cs, struct sf_ctx *cc, struct sf_val a,
		  struct sf_val *s, struct sf_val *co)
{
	struct reduced z = reduce(a);
	sf_u128 hi, lo, cv;
	/* sin|a|, cos|a| by quadrant q of |a|; the sine takes a's sign */
	bool sin_by_c = (z.q & 1) ^ z.swap;
	int sin_sign = (z.q >> 1) ^ a.sign, cos_sign = (z.q == 1 || z.q == 2);
	kernels(&z, &hi, &lo, &cv);
	struct sf_ctx *c_for_s = sin_by_c ? cc : cs;	/* S kernel's user */
	struct sf_ctx *c_for_c = sin_by_c ? cs : cc;
	int s_sign = sin_by_c ? cos_sign : sin_sign;
	int c_sign = sin_by_c ? sin_sign : cos_sign;
	struct sf_val ks = z.R ? round256(c_for_s, s_sign, z.rl - FX_FRAC, hi,
					  lo) : sf_zero(s_sign);
	struct sf_val kc = sf_round(c_for_c, &sf_f80, c_sign, -FX_FRAC, cv, true);
	*s = sin_by_c ? kc : ks;
	*co = sin_by_c ? ks : kc;
}

/* Quotient of two normalized 128-bit significands n/d (bit 127 set):
 * 67 bits, value q * 2^-66, with the remainder as sticky. */
static sf_u128 div_norm(sf_u128 n, sf_u128 d, bool *sticky)
{
	sf_u128 q = 0;
	n >>= 1;
	d >>= 1;
	for (int i = 0; i < 67; i++) {
		q <<= 1;
		if (n >= d) {
			n -= d;
			q |= 1;
		}
		n <<= 1;
	}
	*sticky = n != 0;
	return q;
}

static sf_u128 normalize(sf_u128 hi, sf_u128 lo, int32_t *e)
{
	while (!(hi >> 127)) {
		hi = (hi << 1) | (lo >> 127);
		lo <<= 1;
		(*e)--;
	}
	return hi;
}

/* FPTAN on a finite nonzero |a| < 2^63: sin/cos of the kernels divided
 * at 127-bit precision, one rounding. */
struct sf_val trans_tan(struct sf_ctx *c, struct sf_val a)
{
	struct reduced z = reduce(a);
	sf_u128 hi, lo, cv;
	if (!z.R)
		return sf_zero(a.sign);
	kernels(&z, &hi, &lo, &cv);
	bool sin_by_c = (z.q & 1) ^ z.swap;
	int sign = ((z.q >> 1) ^ a.sign) ^ (z.q == 1 || z.q == 2);
	int32_t es = z.rl - FX_FRAC + 128, ec = -FX_FRAC;   /* of bit 0 */
	sf_u128 S = normalize(hi, lo, &es);
	sf_u128 C = normalize(cv, 0, &ec);
	bool sticky;
	sf_u128 q = sin_by_c ? div_norm(C, S, &sticky) : div_norm(S, C, &sticky);
	int32_t e = sin_by_c ? ec - es : es - ec;
	return sf_round(c, &sf_f80, sign, e - 66, q, true);
}

/* arctan(t) for 0 <= t <= 1/2: sum of (-1)^k t^(2k+1) / (2k+1). */
static sf_u128 atan_small(sf_u128 t)
{
	sf_u128 u = fx_mul(t, t), p = t;
	fx_s sum = (fx_s)t;
	for (unsigned k = 1; p; k++) {
		p = fx_mul(p, u);
		sf_u128 term = fx_divk(p, 2 * k + 1);
		sum += k & 1 ? -(fx_s)term : (fx_s)term;
	}
	return (sf_u128)sum;
}

/* FPATAN for finite nonzero y (ST1) and x (ST0). */
struct sf_val trans_atan(struct sf_ctx *c, struct sf_val y, struct sf_val x)
{
	bool steep = y.e > x.e || (y.e == x.e && y.m > x.m);
	struct sf_val sm = steep ? x : y, bg = steep ? y : x;
	int32_t d = bg.e - sm.e;
	if (!steep && !x.sign && d > 40) {
		/* atan(t) = t (1 - t^2/3 ...) rounds like t itself */
		struct sf_val r = sf_div(c, &sf_f80, y, x);
		c->flags |= FSW_PE;
		return r;
	}
	sf_u128 t = d >= 128 ? 0 : fx_div(to_fx(sm.m, 0), to_fx(bg.m, 0)) >> d;
	sf_u128 a;
	if (t > FX_ONE / 2)	/* atan t = pi/4 - atan((1-t)/(1+t)) */
		a = FX_PI / 4 - atan_small(fx_div(FX_ONE - t, FX_ONE + t));
	else
		a = atan_small(t);
	if (steep)
		a = FX_PI / 2 - a;
	if (x.sign)
		a = FX_PI - a;
	return sf_round(c, &sf_f80, y.sign, -FX_FRAC, a, true);
}

/* F2XM1 for finite nonzero x: x * ln2 * sum z^k/(k+1)!, z = x ln2. */
struct sf_val trans_f2xm1(struct sf_ctx *c, struct sf_val x)
{
	fx_s z = fx_smul((fx_s)to_fx(x.m, x.e), (fx_s)FX_LN2);
	if (x.sign)
		z = -z;
	fx_s sum = (fx_s)FX_ONE, t = (fx_s)FX_ONE;
	for (unsigned k = 1; t; k++) {
		t = fx_smul(t, z);
		t = t < 0 ? -(fx_s)fx_divk((sf_u128)-t, k + 1) :
			    (fx_s)fx_divk((sf_u128)t, k + 1);
		sum += t;
	}
	sf_u128 h = fx_mul(FX_LN2, (sf_u128)sum), hi, lo;
	fx_mul256(x.m, h, &hi, &lo);
	return round256(c, x.sign, x.e - 63 - FX_FRAC, hi, lo);
}

/* 2*log2(e)*atanh(s) with s = (n/dn) * 2^-pre (fixed point, 0 < n < dn).
 * Returns f * 2^k in fixed point (f the logarithm, k >= pre). */
static sf_u128 log2_atanh(sf_u128 n, sf_u128 dn, int pre, int *k)
{
	int sh = 0;
	while ((n << 1) < dn && sh < 200) {
		n <<= 1;
		sh++;
	}
	*k = sh + pre;
	sf_u128 s = fx_div(n, dn);		/* s * 2^k, in [0.5, 1) */
	sf_u128 u = 2 * *k >= 128 ? 0 : fx_mul(s, s) >> (2 * *k);
	sf_u128 sum = FX_ONE, p = FX_ONE;
	for (unsigned j = 1; p; j++) {
		p = fx_mul(p, u);
		sum += fx_divk(p, 2 * j + 1);
	}
	return fx_mul(s, fx_mul(2 * FX_L2E, sum));
}

/* y * L with L = V * 2^vl (exact product, one rounding). */
static struct sf_val times(struct sf_ctx *c, struct sf_val y, int sign,
			   sf_u128 V, int32_t vl, bool inexact)
{
	sf_u128 hi, lo;
	fx_mul256(y.m, V, &hi, &lo);
	return round256x(c, y.sign ^ sign, y.e - 63 + vl, hi, lo, inexact);
}

/* FYL2X for finite nonzero y and finite positive x != 1. */
struct sf_val trans_yl2x(struct sf_ctx *c, struct sf_val y, struct sf_val x)
{
	int32_t E = x.e;
	sf_u128 n, dn;
	int sign = 0, k;
	if (x.m > 0xb504f333f9de6484ull) {	/* mantissa > sqrt 2: halve */
		E++;
		n = ((sf_u128)1 << 64) - x.m;
		dn = ((sf_u128)1 << 64) + x.m;
		sign = 1;
	} else {
		n = 2 * (sf_u128)(x.m - (1ull << 63));
		dn = 2 * ((sf_u128)x.m + (1ull << 63));
	}
	if (!n)
		return times(c, y, E < 0, (sf_u128)(E < 0 ? -E : E), 0, false);
	sf_u128 f = log2_atanh(n << 60, dn << 60, 0, &k);
	if (E == 0)
		return times(c, y, sign, f, -FX_FRAC - k, true);
	/* E + f with 112 fraction bits */
	fx_s fe = (fx_s)(k + 12 >= 128 ? 0 : f >> (12 + k));
	fx_s v = ((fx_s)E << 112) + (sign ? -fe : fe);
	return times(c, y, v < 0, (sf_u128)(v < 0 ? -v : v), -112, true);
}

/* FYL2XP1 for finite nonzero y and x: y * log2(1 + x). */
struct sf_val trans_yl2xp1(struct sf_ctx *c, struct sf_val y, struct sf_val x)
{
	if (x.e < -110) {	/* log2(1+x) = x log2(e) to 2^-110 */
		sf_u128 hi, lo;
		fx_mul256((sf_u128)x.m * y.m, FX_L2E, &hi, &lo);
		return round256(c, x.sign ^ y.sign,
				x.e - 63 + y.e - 63 - FX_FRAC, hi, lo);
	}
	/* s = |x| / (2 + x), |x| < 2; for tiny x as (mant/2) / (2 + x)
	 * times 2^(e+1) to keep every bit of x */
	sf_u128 xf = to_fx(x.m, x.e);
	sf_u128 dn = x.sign ? 2 * FX_ONE - xf : 2 * FX_ONE + xf;
	int k;
	sf_u128 f = x.e >= -61 ? log2_atanh(xf, dn, 0, &k) :
		    log2_atanh(to_fx(x.m, 0) >> 1, dn, -(x.e + 1), &k);
	return times(c, y, x.sign, f, -FX_FRAC - k, true);
}
