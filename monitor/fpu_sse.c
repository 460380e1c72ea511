/* monitor/fpu_sse.c — SSE/SSE2 floating-point instructions: arithmetic,
 * MIN/MAX, compares (CMPcc, COMIS, UCOMIS), conversions, RCP/RSQRT, with
 * MXCSR flags and SIMD exceptions (SDM Vol. 1 §11.5; Vol. 2 pages). */
#include "monitor/fpu_vec.h"

#define M(x) ZYDIS_MNEMONIC_##x

enum { S_ADD, S_SUB, S_MUL, S_DIV, S_MIN, S_MAX, S_SQRT, S_RCP, S_RSQRT,
       S_CMP };

static const struct { uint16_t mn; uint8_t op, es, lanes; } arith[] = {
	{ M(ADDPS), S_ADD, 4, 4 }, { M(ADDSS), S_ADD, 4, 1 },
	{ M(ADDPD), S_ADD, 8, 2 }, { M(ADDSD), S_ADD, 8, 1 },
	{ M(SUBPS), S_SUB, 4, 4 }, { M(SUBSS), S_SUB, 4, 1 },
	{ M(SUBPD), S_SUB, 8, 2 }, { M(SUBSD), S_SUB, 8, 1 },
	{ M(MULPS), S_MUL, 4, 4 }, { M(MULSS), S_MUL, 4, 1 },
	{ M(MULPD), S_MUL, 8, 2 }, { M(MULSD), S_MUL, 8, 1 },
	{ M(DIVPS), S_DIV, 4, 4 }, { M(DIVSS), S_DIV, 4, 1 },
	{ M(DIVPD), S_DIV, 8, 2 }, { M(DIVSD), S_DIV, 8, 1 },
	{ M(MINPS), S_MIN, 4, 4 }, { M(MINSS), S_MIN, 4, 1 },
	{ M(MINPD), S_MIN, 8, 2 }, { M(MINSD), S_MIN, 8, 1 },
	{ M(MAXPS), S_MAX, 4, 4 }, { M(MAXSS), S_MAX, 4, 1 },
	{ M(MAXPD), S_MAX, 8, 2 }, { M(MAXSD), S_MAX, 8, 1 },
	{ M(SQRTPS), S_SQRT, 4, 4 }, { M(SQRTSS), S_SQRT, 4, 1 },
	{ M(SQRTPD), S_SQRT, 8, 2 }, { M(SQRTSD), S_SQRT, 8, 1 },
	{ M(RCPPS), S_RCP, 4, 4 }, { M(RCPSS), S_RCP, 4, 1 },
	{ M(RSQRTPS), S_RSQRT, 4, 4 }, { M(RSQRTSS), S_RSQRT, 4, 1 },
	{ M(CMPPS), S_CMP, 4, 4 }, { M(CMPSS), S_CMP, 4, 1 },
	{ M(CMPPD), S_CMP, 8, 2 }, { M(CMPSD), S_CMP, 8, 1 },
};

struct sf_ctx sse_ctx(const struct fpu_state *f)
{
	uint32_t mx = f->mxcsr;
	return (struct sf_ctx){ .rc = (mx >> MXCSR_RC_SHIFT) & 3, .sse = true,
				.ftz = mx & MXCSR_FZ, .daz = mx & MXCSR_DAZ,
				.masks = (mx >> 7) & 0x3f };
}

/* SDM Vol. 1 §11.5.1: flags are sticky in MXCSR; an unmasked one raises
 * #XM with CR4.OSXMMEXCPT, #UD without it, and nothing is written. */
int sse_flags(struct fpu_insn *x, const struct sf_ctx *c)
{
	x->f->mxcsr |= c->flags & 0x3f;
	if (!(c->flags & ~c->masks & 0x3f))
		return 0;
	return cpu__raise(x->cpu, x->cpu->cr4 & CR4_OSXMMEXCPT ? EXC_XM : EXC_UD,
			  0);
}

static struct sf_val unpack(const uint8_t *p, unsigned es, unsigned i,
			    bool daz)
{
	return es == 4 ? sf_from32((uint32_t)vec_lane(p, 4, i), daz) :
			 sf_from64(vec_lane(p, 8, i), daz);
}

static uint64_t pack(struct sf_val v, unsigned es)
{
	return es == 4 ? sf_to32(v) : sf_to64(v);
}

/* MINPS/MAXPS family: a NaN operand (either kind) or two zeros give the
 * second (source) operand; a NaN is invalid. */
static uint64_t minmax(struct sf_ctx *c, const uint8_t *d, const uint8_t *s,
		       unsigned es, unsigned i, bool max)
{
	/* the operand as read, i.e. a DAZ-flushed denormal reads as zero */
	struct sf_val a = unpack(d, es, i, c->daz), b = unpack(s, es, i, c->daz);
	int r = sf_compare(c, a, b, true);
	if (r != 2 && (max ? r > 0 : r < 0))
		return pack(a, es);
	return pack(b, es);
}

/* Approximate reciprocal (square root): the exact result rounded to 12
 * fraction bits, within the SDM bound |rel. error| <= 1.5 * 2^-12. The
 * hardware's table values are not published, so the low bits can differ
 * from a real CPU. Denormal inputs count as zero, tiny results flush. */
static uint64_t approx(const uint8_t *s, unsigned i, bool rsqrt)
{
	struct sf_ctx c = { .rc = SF_RZ, .sse = true, .ftz = true,
			    .masks = 0x3f };
	struct sf_val a = sf_from32((uint32_t)vec_lane(s, 4, i), true), r;
	if (rsqrt) {
		if (a.cls == SF_ZERO)
			return sf_to32(sf_inf(a.sign));
		r = sf_sqrt(&c, &sf_f64, a);
		if (r.cls == SF_NORM)
			r = sf_div(&c, &sf_f64, sf_from32(0x3f800000, false), r);
		else if (r.cls == SF_INF)
			r = sf_zero(0);
	} else {
		r = sf_div(&c, &sf_f64, sf_from32(0x3f800000, false), a);
	}
	if (r.cls == SF_NORM) {
		static const struct sf_fmt f13 = { 13, -1022, 1023, 1023, 0 };
		c.rc = SF_RN;
		r = sf_round_val(&c, &sf_f32, sf_round_val(&c, &f13, r));
	}
	return sf_to32(sf_quiet(r));
}

/* CMPPS predicates 0-7 (SDM Vol. 2 CMPPS Table 3-7); the ordered
 * relational ones (LT, LE, NLT, NLE) signal on QNaN too. */
static uint64_t cmp_pred(struct sf_ctx *c, const uint8_t *d, const uint8_t *s,
			 unsigned es, unsigned i, unsigned pred)
{
	pred &= 7;
	bool sig = pred == 1 || pred == 2 || pred == 5 || pred == 6;
	int r = sf_compare(c, unpack(d, es, i, c->daz), unpack(s, es, i, c->daz),
			   sig);
	bool t;
	switch (pred) {
	case 0: t = r == 0; break;
	case 1: t = r == -1; break;
	case 2: t = r == -1 || r == 0; break;
	case 3: t = r == 2; break;
	case 4: t = r != 0; break;
	case 5: t = r != -1; break;
	case 6: t = !(r == -1 || r == 0); break;
	default: t = r != 2; break;
	}
	return t ? ~0ull : 0;
}

static int do_arith(struct fpu_insn *x, unsigned k)
{
	unsigned op = arith[k].op, es = arith[k].es, lanes = arith[k].lanes;
	const struct sf_fmt *fm = es == 4 ? &sf_f32 : &sf_f64;
	uint8_t d[16], s[16], r[16];
	struct sf_ctx c = sse_ctx(x->f);
	int rc;

	if ((rc = vec_read(x, &x->ops[0], d, 16)) ||
	    (rc = vec_read(x, &x->ops[1], s, lanes == 1 ? es : 16)))
		return rc;
	__builtin_memcpy(r, d, 16);
	for (unsigned i = 0; i < lanes; i++) {
		struct sf_val a = unpack(d, es, i, c.daz);
		struct sf_val b = unpack(s, es, i, c.daz);
		uint64_t v;
		switch (op) {
		case S_ADD: v = pack(sf_add(&c, fm, a, b, false), es); break;
		case S_SUB: v = pack(sf_add(&c, fm, a, b, true), es); break;
		case S_MUL: v = pack(sf_mul(&c, fm, a, b), es); break;
		case S_DIV: v = pack(sf_div(&c, fm, a, b), es); break;
		case S_SQRT: v = pack(sf_sqrt(&c, fm, b), es); break;
		case S_MIN: v = minmax(&c, d, s, es, i, false); break;
		case S_MAX: v = minmax(&c, d, s, es, i, true); break;
		case S_RCP: v = approx(s, i, false); break;
		case S_RSQRT: v = approx(s, i, true); break;
		default:
			v = cmp_pred(&c, d, s, es, i,
				     (unsigned)x->ops[2].imm.value.u);
		}
		vec_put(r, es, i, v);
	}
	if ((rc = sse_flags(x, &c)))
		return rc;
	return vec_write(x, &x->ops[0], r, 16);
}

/* COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF like FCOMI, OF SF AF cleared. */
static int do_comis(struct fpu_insn *x, unsigned es, bool signaling)
{
	uint8_t d[16], s[16];
	struct sf_ctx c = sse_ctx(x->f);
	int rc;

	if ((rc = vec_read(x, &x->ops[0], d, 16)) ||
	    (rc = vec_read(x, &x->ops[1], s, es)))
		return rc;
	int r = sf_compare(&c, unpack(d, es, 0, c.daz), unpack(s, es, 0, c.daz),
			   signaling);
	if ((rc = sse_flags(x, &c)))
		return rc;
	uint32_t fl = cpu__eflags(x->cpu) & ~FL_ARITH;
	fl |= r == 2 ? FL_ZF | FL_PF | FL_CF : r == 0 ? FL_ZF :
	      r < 0 ? FL_CF : 0;
	cpu__set_eflags(x->cpu, fl);
	return 0;
}

/* ---- conversions ---- */

enum { C_I32, C_F32, C_F64 };
enum { W_MERGE, W_ZERO, W_MM, W_GPR };

static const struct {
	uint16_t mn;
	uint8_t sk, dk, lanes, trunc, mode;
} cvts[] = {
	{ M(CVTSI2SS), C_I32, C_F32, 1, 0, W_MERGE },
	{ M(CVTSI2SD), C_I32, C_F64, 1, 0, W_MERGE },
	{ M(CVTSS2SI), C_F32, C_I32, 1, 0, W_GPR },
	{ M(CVTTSS2SI), C_F32, C_I32, 1, 1, W_GPR },
	{ M(CVTSD2SI), C_F64, C_I32, 1, 0, W_GPR },
	{ M(CVTTSD2SI), C_F64, C_I32, 1, 1, W_GPR },
	{ M(CVTSS2SD), C_F32, C_F64, 1, 0, W_MERGE },
	{ M(CVTSD2SS), C_F64, C_F32, 1, 0, W_MERGE },
	{ M(CVTPI2PS), C_I32, C_F32, 2, 0, W_MERGE },
	{ M(CVTPS2PI), C_F32, C_I32, 2, 0, W_MM },
	{ M(CVTTPS2PI), C_F32, C_I32, 2, 1, W_MM },
	{ M(CVTPI2PD), C_I32, C_F64, 2, 0, W_ZERO },
	{ M(CVTPD2PI), C_F64, C_I32, 2, 0, W_MM },
	{ M(CVTTPD2PI), C_F64, C_I32, 2, 1, W_MM },
	{ M(CVTDQ2PS), C_I32, C_F32, 4, 0, W_ZERO },
	{ M(CVTPS2DQ), C_F32, C_I32, 4, 0, W_ZERO },
	{ M(CVTTPS2DQ), C_F32, C_I32, 4, 1, W_ZERO },
	{ M(CVTDQ2PD), C_I32, C_F64, 2, 0, W_ZERO },
	{ M(CVTPD2DQ), C_F64, C_I32, 2, 0, W_ZERO },
	{ M(CVTTPD2DQ), C_F64, C_I32, 2, 1, W_ZERO },
	{ M(CVTPS2PD), C_F32, C_F64, 2, 0, W_ZERO },
	{ M(CVTPD2PS), C_F64, C_F32, 2, 0, W_ZERO },
};

static int do_cvt(struct fpu_insn *x, unsigned k)
{
	static const unsigned size[] = { 4, 4, 8 };
	unsigned sk = cvts[k].sk, dk = cvts[k].dk, lanes = cvts[k].lanes;
	unsigned ses = size[sk], des = size[dk], mode = cvts[k].mode;
	uint8_t d[16], s[16], r[16];
	struct sf_ctx c = sse_ctx(x->f);
	int rc;

	if ((rc = vec_read(x, &x->ops[0], d, 16)))
		return rc;
	unsigned slen = ses * lanes;
	if (x->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && slen == 8 &&
	    (x->in->mnemonic == M(CVTPD2PI) || x->in->mnemonic == M(CVTTPD2PI)))
		slen = 16;
	if (slen == 8 && x->in->mnemonic == M(CVTPD2PS))
		slen = 16;
	if ((x->in->mnemonic == M(CVTPD2DQ) || x->in->mnemonic == M(CVTTPD2DQ)))
		slen = 16;
	if ((rc = vec_read(x, &x->ops[1], s, slen)))
		return rc;
	if (vec_is_mm(&x->ops[0]) || vec_is_mm(&x->ops[1]))
		vec_mmx_enter(x->f);
	__builtin_memcpy(r, d, 16);
	if (mode == W_ZERO || mode == W_MM || mode == W_GPR)
		__builtin_memset(r, 0, 16);
	for (unsigned i = 0; i < lanes; i++) {
		uint64_t v;
		if (sk == C_I32) {
			int32_t n = (int32_t)vec_lane(s, 4, i);
			v = pack(sf_from_int(&c, dk == C_F32 ? &sf_f32 : &sf_f64,
					     n), des);
		} else {
			struct sf_val a = unpack(s, ses, i, c.daz);
			if (dk == C_I32) {
				bool inv;
				v = (uint32_t)sf_to_int(&c, a, 32,
							cvts[k].trunc ? SF_RZ : c.rc,
							&inv);
			} else {
				if (a.cls == SF_SNAN)
					c.flags |= FSW_IE;
				if (a.cls == SF_NORM && a.den)
					c.flags |= FSW_DE;
				a = sf_round_val(&c, dk == C_F32 ? &sf_f32 : &sf_f64,
						 sf_quiet(a));
				v = pack(a, des);
			}
		}
		vec_put(r, des, i, v);
	}
	if ((rc = sse_flags(x, &c)))
		return rc;
	switch (mode) {
	case W_MM:
		return vec_write(x, &x->ops[0], r, 8);
	case W_GPR:
		return vec_write(x, &x->ops[0], r, 4);
	default:
		return vec_write(x, &x->ops[0], r, 16);
	}
}

int fpu_sse_exec(struct fpu_insn *x)
{
	ZydisMnemonic mn = x->in->mnemonic;

	for (unsigned k = 0; k < sizeof(arith) / sizeof(arith[0]); k++)
		if (arith[k].mn == mn)
			return do_arith(x, k);
	for (unsigned k = 0; k < sizeof(cvts) / sizeof(cvts[0]); k++)
		if (cvts[k].mn == mn)
			return do_cvt(x, k);
	switch (mn) {
	case M(COMISS): return do_comis(x, 4, true);
	case M(UCOMISS): return do_comis(x, 4, false);
	case M(COMISD): return do_comis(x, 8, true);
	case M(UCOMISD): return do_comis(x, 8, false);
	default:
		return sse_move_exec(x);
	}
}
