/* monitor/fpu_x87trans.c — the x87 transcendental instructions: stack
 * handling, special operands (SDM Vol. 2 FSIN/FCOS/FSINCOS/FPTAN/FPATAN/
 * F2XM1/FYL2X/FYL2XP1 tables) and the kernels of fpu_trans.c. */
#include "monitor/fpu_int.h"
#include "monitor/fpu_trans.h"

static bool push_slot_full(const struct fpu_state *f)
{
	return x87_tag(f, (x87_top(f) - 1) & 7) != FTAG_EMPTY;
}

static struct sf_val one(int sign)
{
	return (struct sf_val){ .m = 1ull << 63, .e = 0, .sign = (uint8_t)sign,
				.cls = SF_NORM };
}

/* FSIN, FCOS, FSINCOS, FPTAN. */
static int do_trig(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	bool two = mn == ZYDIS_MNEMONIC_FSINCOS || mn == ZYDIS_MNEMONIC_FPTAN;
	struct sf_ctx c = x87_ctx(f);
	struct sf_val a = sf_from80(x87_st(f, 0)), r0, r1 = sf_zero(0);

	if (x87_empty(f, 0) || (two && push_slot_full(f))) {
		if (x87_stack_fault(f, !x87_empty(f, 0)))
			return 0;
		x87_write(f, 0, x87_indefinite());
		if (two)
			x87_push(f, x87_indefinite());
		return 0;
	}
	f->fsw &= (uint16_t)~FSW_C2;
	if (a.cls == SF_NORM && a.e >= 63) {
		f->fsw |= FSW_C2;	/* out of range: operand unchanged */
		return 0;
	}
	switch (a.cls) {
	case SF_BAD:
	case SF_INF:
		c.flags |= FSW_IE;
		r0 = r1 = sf_default_nan();
		break;
	case SF_SNAN:
	case SF_QNAN:
		if (a.cls == SF_SNAN)
			c.flags |= FSW_IE;
		r0 = r1 = sf_quiet(a);
		break;
	case SF_ZERO:
		r0 = mn == ZYDIS_MNEMONIC_FCOS ? one(0) : a;
		r1 = one(0);
		break;
	default: {
		struct sf_val s, co;
		struct sf_ctx cs, cc;
		if (a.den)
			c.flags |= FSW_DE;
		cs = cc = c;
		if (mn == ZYDIS_MNEMONIC_FPTAN) {
			r0 = trans_tan(&c, a);
			r1 = one(0);
			break;
		}
		trans_sincos(&cs, &cc, a, &s, &co);
		r0 = mn == ZYDIS_MNEMONIC_FCOS ? co : s;
		r1 = co;
		/* FSINCOS: flags of both, C1 of the cosine (pushed last) */
		c = mn == ZYDIS_MNEMONIC_FSIN ? cs : cc;
		c.flags |= cs.flags | cc.flags;
	}
	}
	if (x87_flags(f, &c))
		return 0;
	x87_write(f, 0, sf_to80(r0));
	if (two)
		x87_push(f, sf_to80(r1));
	return 0;
}

/* FPATAN: ST(1) = atan2(ST(1), ST(0)), pop. */
static struct sf_val fpatan(struct sf_ctx *c, struct sf_val y, struct sf_val x)
{
	if (y.cls >= SF_QNAN || x.cls >= SF_QNAN)
		return sf_nan2(c, x, y);
	if ((y.cls == SF_NORM && y.den) || (x.cls == SF_NORM && x.den))
		c->flags |= FSW_DE;
	if (y.cls == SF_ZERO)
		return x.sign ? trans_pi(c, y.sign, 1, 1) : sf_zero(y.sign);
	if (y.cls == SF_INF) {
		if (x.cls == SF_INF)
			return trans_pi(c, y.sign, x.sign ? 3 : 1, 4);
		return trans_pi(c, y.sign, 1, 2);
	}
	if (x.cls == SF_ZERO)
		return trans_pi(c, y.sign, 1, 2);
	if (x.cls == SF_INF)
		return x.sign ? trans_pi(c, y.sign, 1, 1) : sf_zero(y.sign);
	return trans_atan(c, y, x);
}

/* FYL2X: ST(1) = ST(1) * log2(ST(0)), pop. */
static struct sf_val fyl2x(struct sf_ctx *c, struct sf_val y, struct sf_val x)
{
	if (y.cls >= SF_QNAN || x.cls >= SF_QNAN)
		return sf_nan2(c, x, y);
	bool is_one = x.cls == SF_NORM && !x.sign && x.e == 0 &&
		      x.m == 1ull << 63;
	if ((x.sign && x.cls != SF_ZERO) ||
	    (x.cls == SF_ZERO && y.cls == SF_ZERO) ||
	    (x.cls == SF_INF && y.cls == SF_ZERO) ||
	    (is_one && y.cls == SF_INF)) {
		c->flags |= FSW_IE;
		return sf_default_nan();
	}
	if ((y.cls == SF_NORM && y.den) || (x.cls == SF_NORM && x.den))
		c->flags |= FSW_DE;
	if (x.cls == SF_ZERO) {
		if (y.cls != SF_INF)
			c->flags |= FSW_ZE;
		return sf_inf(!y.sign);
	}
	if (x.cls == SF_INF)
		return sf_inf(y.sign);
	bool below = x.e < 0;		/* x < 1: negative logarithm */
	if (y.cls == SF_INF)
		return sf_inf(y.sign ^ below);
	if (y.cls == SF_ZERO || is_one)
		return sf_zero(y.sign ^ below);
	return trans_yl2x(c, y, x);
}

/* FYL2XP1: ST(1) = ST(1) * log2(ST(0) + 1), pop. */
static struct sf_val fyl2xp1(struct sf_ctx *c, struct sf_val y,
			     struct sf_val x)
{
	if (y.cls >= SF_QNAN || x.cls >= SF_QNAN)
		return sf_nan2(c, x, y);
	if ((x.cls == SF_ZERO && y.cls == SF_INF) ||
	    (x.cls == SF_INF && (y.cls == SF_ZERO || x.sign))) {
		c->flags |= FSW_IE;		/* 0 * inf, log2(-inf) */
		return sf_default_nan();
	}
	if ((y.cls == SF_NORM && y.den) || (x.cls == SF_NORM && x.den))
		c->flags |= FSW_DE;
	if (x.cls == SF_NORM && x.sign && x.e >= 0 && y.cls != SF_INF) {
		/* x <= -1, outside the domain: the host (an Intel CPU)
		 * returns ST(0) itself, inexact */
		c->flags |= FSW_PE;
		return x;
	}
	if (x.cls == SF_ZERO || y.cls == SF_ZERO)
		return sf_zero(x.sign ^ y.sign);
	if (y.cls == SF_INF || x.cls == SF_INF)
		return sf_inf(x.sign ^ y.sign);
	if ((x.sign && x.e == -1) || (!x.sign && x.e >= 1)) {
		/* x in (-1, -1/2]: 1 + x is exact; x >= 2: 1 + x rounded
		 * costs less than an ulp of the logarithm */
		struct sf_ctx c2 = *c;
		c2.rc = SF_RN;
		return trans_yl2x(c, y, sf_add(&c2, &sf_f80, x, one(0), false));
	}
	return trans_yl2xp1(c, y, x);
}

/* F2XM1: ST(0) = 2^ST(0) - 1. */
static struct sf_val f2xm1(struct sf_ctx *c, struct sf_val a)
{
	if (a.cls == SF_BAD || a.cls == SF_SNAN) {
		c->flags |= FSW_IE;
		return a.cls == SF_BAD ? sf_default_nan() : sf_quiet(a);
	}
	if (a.cls == SF_QNAN || a.cls == SF_ZERO)
		return a;
	if (a.cls == SF_INF)
		return a.sign ? one(1) : a;
	if (a.den)
		c->flags |= FSW_DE;
	if (a.e > 0 || (a.e == 0 && a.m != 1ull << 63)) {
		/* |x| > 1, outside the documented domain: the host returns
		 * the operand itself, inexact */
		c->flags |= FSW_PE;
		return a;
	}
	return trans_f2xm1(c, a);
}

int x87_exec_trans(struct fpu_insn *x)
{
	struct fpu_state *f = x->f;
	ZydisMnemonic mn = x->in->mnemonic;
	struct sf_ctx c = x87_ctx(f);
	struct sf_val r;

	switch (mn) {
	case ZYDIS_MNEMONIC_FSIN: case ZYDIS_MNEMONIC_FCOS:
	case ZYDIS_MNEMONIC_FSINCOS: case ZYDIS_MNEMONIC_FPTAN:
		return do_trig(x, mn);
	case ZYDIS_MNEMONIC_F2XM1:
		if (x87_empty(f, 0)) {
			if (!x87_stack_fault(f, false))
				x87_write(f, 0, x87_indefinite());
			return 0;
		}
		r = f2xm1(&c, sf_from80(x87_st(f, 0)));
		if (!x87_flags(f, &c))
			x87_write(f, 0, sf_to80(r));
		return 0;
	case ZYDIS_MNEMONIC_FPATAN: case ZYDIS_MNEMONIC_FYL2X:
	case ZYDIS_MNEMONIC_FYL2XP1:
		break;
	default:
		return FPU_NOT_MINE;
	}
	if (x87_empty(f, 0) || x87_empty(f, 1)) {
		if (x87_stack_fault(f, false))
			return 0;
		x87_write(f, 1, x87_indefinite());
		x87_pop(f);
		return 0;
	}
	struct sf_val st0 = sf_from80(x87_st(f, 0)), st1 = sf_from80(x87_st(f, 1));
	if (mn == ZYDIS_MNEMONIC_FPATAN)
		r = fpatan(&c, st1, st0);
	else if (mn == ZYDIS_MNEMONIC_FYL2X)
		r = fyl2x(&c, st1, st0);
	else
		r = fyl2xp1(&c, st1, st0);
	if (x87_flags(f, &c))
		return 0;
	x87_write(f, 1, sf_to80(r));
	x87_pop(f);
	return 0;
}
