/* monitor/fpu_x87.c — x87 register stack, loads, stores and the basic
 * arithmetic instructions (SDM Vol. 1 chapter 8, Vol. 2 F* pages). */
#include "monitor/fpu_int.h"

/* ---- register stack ------------------------------------------------------ */

struct fpu_reg80 x87_indefinite(void)
{
	return (struct fpu_reg80){ .m = 0xc000000000000000ull, .se = 0xffff };
}

unsigned x87_tag_of(struct fpu_reg80 r)
{
	unsigned exp = r.se & 0x7fff;
	if (exp == 0)
		return r.m ? FTAG_SPECIAL : FTAG_ZERO;
	if (exp == 0x7fff || !(r.m >> 63))
		return FTAG_SPECIAL;
	return FTAG_VALID;
}

void x87_write(struct fpu_state *f, unsigned i, struct fpu_reg80 r)
{
	unsigned p = x87_phys(f, i);
	f->st[p] = r;
	x87_set_tag(f, p, x87_tag_of(r));
}

void x87_pop(struct fpu_state *f)
{
	x87_set_tag(f, x87_top(f), FTAG_EMPTY);
	x87_set_top(f, x87_top(f) + 1);
}

void x87_push(struct fpu_state *f, struct fpu_reg80 r)
{
	x87_set_top(f, x87_top(f) - 1);
	x87_write(f, 0, r);
}

struct sf_ctx x87_ctx(const struct fpu_state *f)
{
	return (struct sf_ctx){ .rc = (f->fcw >> FCW_RC_SHIFT) & 3,
				.adj = true, .masks = f->fcw & 0x3f };
}

/* SDM Vol. 1 §8.6-8.7: flags are sticky; an unmasked one sets ES and B and
 * is reported (#MF) at the next waiting x87 instruction. C1 tells whether
 * an inexact result was rounded up (§8.1.3.3). */
bool x87_flags(struct fpu_state *f, const struct sf_ctx *c)
{
	unsigned fl = c->flags & 0x3f;
	f->fsw &= (uint16_t)~FSW_C1;
	if ((fl & FSW_PE) && c->up)
		f->fsw |= FSW_C1;
	f->fsw |= (uint16_t)fl;
	if (fl & ~f->fcw & 0x3f)
		f->fsw |= FSW_ES | FSW_B;
	return (fl & ~f->fcw & (FSW_IE | FSW_DE | FSW_ZE)) != 0;
}

/* SDM Vol. 1 §8.5.1.1: stack overflow (push onto a full register) and
 * underflow (read of an empty one) set IE and SF, C1 = overflow. */
bool x87_stack_fault(struct fpu_state *f, bool overflow)
{
	f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | FSW_IE | FSW_SF |
			    (overflow ? FSW_C1 : 0));
	if (!(f->fcw & FCW_IM)) {
		f->fsw |= FSW_ES | FSW_B;
		return true;
	}
	return false;
}

int fpu_read(struct fpu_insn *x, unsigned delta, void *buf, unsigned len)
{
	return cpu__vread(x->cpu, x->seg, x->off + delta, buf, len);
}

int fpu_write(struct fpu_insn *x, unsigned delta, const void *buf,
	      unsigned len)
{
	return cpu__vwrite(x->cpu, x->seg, x->off + delta, buf, len);
}

/* ST(i) of a register form: the modrm r/m field for every x87 opcode. */
static unsigned st_rm(const struct fpu_insn *x)
{
	return x->in->raw.modrm.rm;
}

/* ---- loads ----------------------------------------------------------------- */

/* Loads a memory operand of the given kind as an exact value. */
enum { K_F32, K_F64, K_F80, K_I16, K_I32, K_I64, K_BCD };

static int load_mem(struct fpu_insn *x, int kind, struct sf_val *v)
{
	uint8_t b[10] = { 0 };
	static const unsigned len[] = { 4, 8, 10, 2, 4, 8, 10 };
	struct sf_ctx c = { 0 };
	int r = fpu_read(x, 0, b, len[kind]);
	if (r)
		return r;
	uint64_t q = 0;
	__builtin_memcpy(&q, b, 8);
	switch (kind) {
	case K_F32:
		*v = sf_from32((uint32_t)q, false);
		break;
	case K_F64:
		*v = sf_from64(q, false);
		break;
	case K_F80: {
		struct fpu_reg80 rr = { .m = q, .se = (uint16_t)(b[8] | b[9] << 8) };
		*v = sf_from80(rr);
		break;
	}
	case K_I16:
		*v = sf_from_int(&c, &sf_f80, (int16_t)q);
		break;
	case K_I32:
		*v = sf_from_int(&c, &sf_f80, (int32_t)q);
		break;
	case K_I64:
		*v = sf_from_int(&c, &sf_f80, (int64_t)q);
		break;
	default: {	/* packed BCD, SDM Vol. 1 §4.7 */
		int64_t n = 0;
		for (int i = 8; i >= 0; i--)
			n = n * 100 + (b[i] >> 4) * 10 + (b[i] & 15);
		*v = sf_from_int(&c, &sf_f80, n);
		if (b[9] & 0x80)
			v->sign = 1;
	}
	}
	return 0;
}

static int mem_kind(const struct fpu_insn *x, bool integer)
{
	switch (x->mem->size) {
	case 16:
		return K_I16;
	case 32:
		return integer ? K_I32 : K_F32;
	case 64:
		return integer ? K_I64 : K_F64;
	default:
		return K_F80;
	}
}

/* SDM Vol. 1 §8.5.1.1: pushing onto a non-empty ST(7). */
static bool push_overflows(struct fpu_state *f)
{
	return x87_tag(f, (x87_top(f) - 1) & 7) != FTAG_EMPTY;
}

static int do_fld(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	struct fpu_reg80 r;
	struct sf_ctx c = x87_ctx(f);

	if (x->mem) {
		int kind = mn == ZYDIS_MNEMONIC_FBLD ? K_BCD :
			   mem_kind(x, mn == ZYDIS_MNEMONIC_FILD);
		struct sf_val v;
		int rc;
		if (kind == K_F80) {
			uint8_t b[10];
			if ((rc = fpu_read(x, 0, b, 10)))
				return rc;
			__builtin_memcpy(&r.m, b, 8);
			r.se = (uint16_t)(b[8] | b[9] << 8);
		} else {
			if ((rc = load_mem(x, kind, &v)))
				return rc;
			if (v.cls == SF_SNAN)
				c.flags |= FSW_IE;
			if (v.cls == SF_NORM && v.den)
				c.flags |= FSW_DE;
			r = sf_to80(sf_quiet(v));
		}
	} else {
		if (x87_empty(f, st_rm(x))) {
			if (x87_stack_fault(f, false))
				return 0;
			r = x87_indefinite();
		} else {
			r = x87_st(f, st_rm(x));
		}
	}
	if (push_overflows(f)) {
		if (x87_stack_fault(f, true))
			return 0;
		r = x87_indefinite();
	} else if (x87_flags(f, &c)) {
		return 0;
	}
	x87_push(f, r);
	return 0;
}

/* 128-bit constants, rounded to 64 bits under RC like the 387 and later
 * (SDM Vol. 1 §8.3.8); no flag is raised. value = hi:lo * 2^(e - 127). */
static const struct { uint64_t hi, lo; int e; } x87_consts[] = {
	{ 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 1 },	/* log2(10) */
	{ 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0 },	/* log2(e) */
	{ 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1 },	/* pi */
	{ 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2 },	/* log10(2) */
	{ 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1 },	/* ln(2) */
};

static int do_fldconst(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	struct fpu_reg80 r;
	if (mn == ZYDIS_MNEMONIC_FLDZ) {
		r = (struct fpu_reg80){ 0, 0 };
	} else if (mn == ZYDIS_MNEMONIC_FLD1) {
		r = (struct fpu_reg80){ 1ull << 63, 0x3fff };
	} else {
		int k = mn == ZYDIS_MNEMONIC_FLDL2T ? 0 :
			mn == ZYDIS_MNEMONIC_FLDL2E ? 1 :
			mn == ZYDIS_MNEMONIC_FLDPI ? 2 :
			mn == ZYDIS_MNEMONIC_FLDLG2 ? 3 : 4;
		struct sf_ctx c = x87_ctx(f);
		sf_u128 v = ((sf_u128)x87_consts[k].hi << 64) | x87_consts[k].lo;
		r = sf_to80(sf_round(&c, &sf_f80, 0, x87_consts[k].e - 127,
				     v, false));
	}
	if (push_overflows(f)) {
		if (x87_stack_fault(f, true))
			return 0;
		r = x87_indefinite();
	}
	f->fsw &= (uint16_t)~FSW_C1;
	x87_push(f, r);
	return 0;
}

/* ---- stores ---------------------------------------------------------------- */

/* Converts ST(0) for a store of the given kind into b[]; flags in c. */
static void convert_store(struct sf_ctx *c, struct sf_val v, int kind,
			  uint8_t b[10], struct fpu_reg80 raw)
{
	uint64_t q = 0;
	bool inv;
	__builtin_memset(b, 0, 10);
	switch (kind) {
	case K_F32:
	case K_F64:
		if (v.cls == SF_BAD) {
			c->flags |= FSW_IE;
			v = sf_default_nan();
		} else if (v.cls == SF_SNAN) {
			c->flags |= FSW_IE;
			v = sf_quiet(v);
		}
		v = sf_round_val(c, kind == K_F32 ? &sf_f32 : &sf_f64, v);
		q = kind == K_F32 ? sf_to32(v) : sf_to64(v);
		break;
	case K_F80:
		q = raw.m;
		b[8] = (uint8_t)raw.se;
		b[9] = (uint8_t)(raw.se >> 8);
		break;
	case K_I16:
	case K_I32:
	case K_I64: {
		int bits = kind == K_I16 ? 16 : kind == K_I32 ? 32 : 64;
		q = (uint64_t)sf_to_int(c, v, bits, c->rc, &inv);
		break;
	}
	default: {	/* FBSTP: 18 digits; SDM Vol. 1 §4.8.3.8 indefinite */
		int64_t n = sf_to_int(c, v, 64, c->rc, &inv);
		uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
		if (!inv && u > 999999999999999999ull) {
			c->flags = (uint16_t)((c->flags & ~FSW_PE) | FSW_IE);
			inv = true;
		}
		if (inv) {
			b[7] = 0xc0;
			b[8] = b[9] = 0xff;
			return;
		}
		for (int i = 0; i < 9; i++) {
			b[i] = (uint8_t)(u % 10 | (u / 10 % 10) << 4);
			u /= 100;
		}
		b[9] = v.sign ? 0x80 : 0;
		return;
	}
	}
	__builtin_memcpy(b, &q, 8);
}

static int do_fst(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	bool pop = mn == ZYDIS_MNEMONIC_FSTP || mn == ZYDIS_MNEMONIC_FISTP ||
		   mn == ZYDIS_MNEMONIC_FBSTP || mn == ZYDIS_MNEMONIC_FSTPNCE;
	struct sf_ctx c = x87_ctx(f);
	c.adj = false;

	if (!x->mem) {		/* FST(P) ST(i): a plain copy */
		struct fpu_reg80 r = x87_st(f, 0);
		if (x87_empty(f, 0)) {
			if (x87_stack_fault(f, false))
				return 0;
			r = x87_indefinite();
		} else {
			f->fsw &= (uint16_t)~FSW_C1;
		}
		x87_write(f, st_rm(x), r);
		if (pop)
			x87_pop(f);
		return 0;
	}
	int kind = mn == ZYDIS_MNEMONIC_FBSTP ? K_BCD :
		   mem_kind(x, mn == ZYDIS_MNEMONIC_FIST ||
				   mn == ZYDIS_MNEMONIC_FISTP);
	static const unsigned len[] = { 4, 8, 10, 2, 4, 8, 10 };
	uint8_t b[10];
	bool fault = x87_empty(f, 0);
	struct fpu_reg80 raw = fault ? x87_indefinite() : x87_st(f, 0);
	convert_store(&c, sf_from80(raw), kind, b, raw);
	if (fault) {
		if (!(f->fcw & FCW_IM)) {
			x87_stack_fault(f, false);
			return 0;
		}
		c.flags = 0;	/* the indefinite is stored silently */
	}
	/* unmasked invalid, overflow or underflow: memory is not written */
	if (c.flags & ~f->fcw & (FSW_IE | FSW_OE | FSW_UE)) {
		x87_flags(f, &c);
		return 0;
	}
	int rc = fpu_write(x, 0, b, len[kind]);
	if (rc)
		return rc;
	if (fault)
		x87_stack_fault(f, false);
	else
		x87_flags(f, &c);
	if (pop)
		x87_pop(f);
	return 0;
}

/* ---- arithmetic -------------------------------------------------------------- */

enum { A_ADD, A_SUB, A_SUBR, A_MUL, A_DIV, A_DIVR };

static int do_arith(struct fpu_insn *x, int op, bool pop)
{
	struct fpu_state *f = x->f;
	unsigned di = 0, si = 0;
	struct sf_val a, b;
	bool empty;

	if (x->mem) {
		bool integer = x->in->opcode == 0xda || x->in->opcode == 0xde;
		int rc = load_mem(x, mem_kind(x, integer), &b);
		if (rc)
			return rc;
		empty = x87_empty(f, 0);
	} else {
		/* D8: ST(0) op= ST(i); DC, DE: ST(i) op= ST(0) */
		if (x->in->opcode == 0xd8)
			si = st_rm(x);
		else
			di = st_rm(x);
		empty = x87_empty(f, di) || x87_empty(f, si);
		b = sf_from80(x87_st(f, si));
	}
	if (empty) {
		if (x87_stack_fault(f, false))
			return 0;
		x87_write(f, di, x87_indefinite());
		if (pop)
			x87_pop(f);
		return 0;
	}
	a = sf_from80(x87_st(f, di));
	struct sf_ctx c = x87_ctx(f);
	const struct sf_fmt *fm = sf_x87_fmt((f->fcw >> FCW_PC_SHIFT) & 3);
	struct sf_val r;
	switch (op) {
	case A_ADD:
		r = sf_add(&c, fm, a, b, false);
		break;
	case A_SUB:
		r = sf_add(&c, fm, a, b, true);
		break;
	case A_SUBR:
		r = sf_add(&c, fm, b, a, true);
		break;
	case A_MUL:
		r = sf_mul(&c, fm, a, b);
		break;
	case A_DIV:
		r = sf_div(&c, fm, a, b);
		break;
	default:
		r = sf_div(&c, fm, b, a);
		break;
	}
	if (x87_flags(f, &c))
		return 0;
	x87_write(f, di, sf_to80(r));
	if (pop)
		x87_pop(f);
	return 0;
}

/* One-operand operations on ST(0) that cannot raise more than a stack
 * fault: FCHS, FABS. */
static int do_sign(struct fpu_insn *x, bool abs)
{
	struct fpu_state *f = x->f;
	if (x87_empty(f, 0)) {
		if (!x87_stack_fault(f, false))
			x87_write(f, 0, x87_indefinite());
		return 0;
	}
	struct fpu_reg80 r = x87_st(f, 0);
	r.se = abs ? r.se & 0x7fff : r.se ^ 0x8000;
	f->fsw &= (uint16_t)~FSW_C1;
	x87_write(f, 0, r);
	return 0;
}

static int do_fxch(struct fpu_insn *x)
{
	struct fpu_state *f = x->f;
	unsigned i = st_rm(x);
	struct fpu_reg80 a = x87_st(f, 0), b = x87_st(f, i);
	if (x87_empty(f, 0) || x87_empty(f, i)) {
		if (x87_stack_fault(f, false))
			return 0;
		if (x87_empty(f, 0))
			a = x87_indefinite();
		if (x87_empty(f, i))
			b = x87_indefinite();
	} else {
		f->fsw &= (uint16_t)~FSW_C1;
	}
	x87_write(f, 0, b);
	x87_write(f, i, a);
	return 0;
}

/* FCMOVcc (P6): the EFLAGS conditions of Vol. 2 FCMOVcc. */
static int do_fcmov(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	uint32_t fl = cpu__eflags(x->cpu);
	bool cf = fl & FL_CF, zf = fl & FL_ZF, pf = fl & FL_PF, cond;
	switch (mn) {
	case ZYDIS_MNEMONIC_FCMOVB: cond = cf; break;
	case ZYDIS_MNEMONIC_FCMOVE: cond = zf; break;
	case ZYDIS_MNEMONIC_FCMOVBE: cond = cf || zf; break;
	case ZYDIS_MNEMONIC_FCMOVU: cond = pf; break;
	case ZYDIS_MNEMONIC_FCMOVNB: cond = !cf; break;
	case ZYDIS_MNEMONIC_FCMOVNE: cond = !zf; break;
	case ZYDIS_MNEMONIC_FCMOVNBE: cond = !cf && !zf; break;
	default: cond = !pf; break;
	}
	unsigned i = st_rm(x);
	if (x87_empty(f, 0) || x87_empty(f, i)) {
		if (!x87_stack_fault(f, false))
			x87_write(f, 0, x87_indefinite());
		return 0;
	}
	f->fsw &= (uint16_t)~FSW_C1;
	if (cond)
		x87_write(f, 0, x87_st(f, i));
	return 0;
}

int x87_exec(struct fpu_insn *x)
{
	ZydisMnemonic mn = x->in->mnemonic;
	switch (mn) {
	case ZYDIS_MNEMONIC_FLD:
	case ZYDIS_MNEMONIC_FILD:
	case ZYDIS_MNEMONIC_FBLD:
		return do_fld(x, mn);
	case ZYDIS_MNEMONIC_FLDZ:
	case ZYDIS_MNEMONIC_FLD1:
	case ZYDIS_MNEMONIC_FLDPI:
	case ZYDIS_MNEMONIC_FLDL2T:
	case ZYDIS_MNEMONIC_FLDL2E:
	case ZYDIS_MNEMONIC_FLDLG2:
	case ZYDIS_MNEMONIC_FLDLN2:
		return do_fldconst(x, mn);
	case ZYDIS_MNEMONIC_FST:
	case ZYDIS_MNEMONIC_FSTP:
	case ZYDIS_MNEMONIC_FSTPNCE:
	case ZYDIS_MNEMONIC_FIST:
	case ZYDIS_MNEMONIC_FISTP:
	case ZYDIS_MNEMONIC_FBSTP:
		return do_fst(x, mn);
	case ZYDIS_MNEMONIC_FADD: case ZYDIS_MNEMONIC_FIADD:
		return do_arith(x, A_ADD, false);
	case ZYDIS_MNEMONIC_FADDP:
		return do_arith(x, A_ADD, true);
	case ZYDIS_MNEMONIC_FSUB: case ZYDIS_MNEMONIC_FISUB:
		return do_arith(x, A_SUB, false);
	case ZYDIS_MNEMONIC_FSUBP:
		return do_arith(x, A_SUB, true);
	case ZYDIS_MNEMONIC_FSUBR: case ZYDIS_MNEMONIC_FISUBR:
		return do_arith(x, A_SUBR, false);
	case ZYDIS_MNEMONIC_FSUBRP:
		return do_arith(x, A_SUBR, true);
	case ZYDIS_MNEMONIC_FMUL: case ZYDIS_MNEMONIC_FIMUL:
		return do_arith(x, A_MUL, false);
	case ZYDIS_MNEMONIC_FMULP:
		return do_arith(x, A_MUL, true);
	case ZYDIS_MNEMONIC_FDIV: case ZYDIS_MNEMONIC_FIDIV:
		return do_arith(x, A_DIV, false);
	case ZYDIS_MNEMONIC_FDIVP:
		return do_arith(x, A_DIV, true);
	case ZYDIS_MNEMONIC_FDIVR: case ZYDIS_MNEMONIC_FIDIVR:
		return do_arith(x, A_DIVR, false);
	case ZYDIS_MNEMONIC_FDIVRP:
		return do_arith(x, A_DIVR, true);
	case ZYDIS_MNEMONIC_FCHS:
		return do_sign(x, false);
	case ZYDIS_MNEMONIC_FABS:
		return do_sign(x, true);
	case ZYDIS_MNEMONIC_FXCH:
		return do_fxch(x);
	case ZYDIS_MNEMONIC_FCMOVB: case ZYDIS_MNEMONIC_FCMOVE:
	case ZYDIS_MNEMONIC_FCMOVBE: case ZYDIS_MNEMONIC_FCMOVU:
	case ZYDIS_MNEMONIC_FCMOVNB: case ZYDIS_MNEMONIC_FCMOVNE:
	case ZYDIS_MNEMONIC_FCMOVNBE: case ZYDIS_MNEMONIC_FCMOVNU:
		return do_fcmov(x, mn);
	default:
		return x87_exec_misc(x);
	}
}
