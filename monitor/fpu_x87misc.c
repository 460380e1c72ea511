/* monitor/fpu_x87misc.c — x87 comparisons, FXAM, one-register operations
 * (FSQRT, FRNDINT, FXTRACT, FSCALE, FPREM), register-file control and the
 * control/status words (SDM Vol. 1 §8.1, §8.3.6-8.3.11, Vol. 2 F* pages). */
#include "monitor/fpu_int.h"

/* ST(i) of a register form: the modrm r/m field for every x87 opcode. */
static unsigned st_rm(const struct fpu_insn *x)
{
	return x->in->raw.modrm.rm;
}

/* ---- comparisons --------------------------------------------------------- */

static int do_compare(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	bool unordered_ok = mn == ZYDIS_MNEMONIC_FUCOM ||
			    mn == ZYDIS_MNEMONIC_FUCOMP ||
			    mn == ZYDIS_MNEMONIC_FUCOMPP ||
			    mn == ZYDIS_MNEMONIC_FUCOMI ||
			    mn == ZYDIS_MNEMONIC_FUCOMIP;
	bool to_eflags = mn == ZYDIS_MNEMONIC_FCOMI ||
			 mn == ZYDIS_MNEMONIC_FCOMIP ||
			 mn == ZYDIS_MNEMONIC_FUCOMI ||
			 mn == ZYDIS_MNEMONIC_FUCOMIP;
	int pops = mn == ZYDIS_MNEMONIC_FCOMPP || mn == ZYDIS_MNEMONIC_FUCOMPP ?
		   2 : mn == ZYDIS_MNEMONIC_FCOMP || mn == ZYDIS_MNEMONIC_FUCOMP ||
		   mn == ZYDIS_MNEMONIC_FICOMP || mn == ZYDIS_MNEMONIC_FCOMIP ||
		   mn == ZYDIS_MNEMONIC_FUCOMIP ? 1 : 0;
	struct sf_ctx c = x87_ctx(f);
	struct sf_val b;
	bool empty = x87_empty(f, 0);
	int res;

	if (mn == ZYDIS_MNEMONIC_FTST) {
		b = sf_zero(0);
	} else if (x->mem) {
		uint8_t buf[8] = { 0 };
		unsigned len = x->mem->size / 8;
		int rc = fpu_read(x, 0, buf, len);
		if (rc)
			return rc;
		uint64_t q;
		__builtin_memcpy(&q, buf, 8);
		if (mn == ZYDIS_MNEMONIC_FICOM || mn == ZYDIS_MNEMONIC_FICOMP)
			b = sf_from_int(&c, &sf_f80, len == 2 ? (int16_t)q :
						      (int32_t)q);
		else
			b = len == 4 ? sf_from32((uint32_t)q, false) :
				       sf_from64(q, false);
	} else {
		unsigned i = st_rm(x);
		empty = empty || x87_empty(f, i);
		b = sf_from80(x87_st(f, i));
	}
	if (empty) {
		if (x87_stack_fault(f, false))
			return 0;
		res = 2;
	} else {
		uint16_t c1 = f->fsw & FSW_C1;
		res = sf_compare(&c, sf_from80(x87_st(f, 0)), b, !unordered_ok);
		c.up = false;
		if (x87_flags(f, &c))
			return 0;
		if (to_eflags)
			f->fsw |= c1;
	}
	if (to_eflags) {
		/* the host leaves C1 alone here (the SDM says cleared) */
		/* SDM Vol. 2 FCOMI: ZF PF CF = 000 >, 001 <, 100 =, 111 unord;
		 * OF, SF, AF cleared */
		uint32_t fl = cpu__eflags(x->cpu) & ~FL_ARITH;
		fl |= res == 2 ? FL_ZF | FL_PF | FL_CF : res == 0 ? FL_ZF :
		      res < 0 ? FL_CF : 0;
		cpu__set_eflags(x->cpu, fl);
	} else {
		f->fsw &= (uint16_t)~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
		f->fsw |= res == 2 ? FSW_C0 | FSW_C2 | FSW_C3 :
			  res == 0 ? FSW_C3 : res < 0 ? FSW_C0 : 0;
	}
	while (pops--)
		x87_pop(f);
	return 0;
}

/* SDM Vol. 2 FXAM: C3 C2 C0 class code, C1 = sign. */
static int do_fxam(struct fpu_state *f)
{
	struct fpu_reg80 r = x87_st(f, 0);
	unsigned exp = r.se & 0x7fff;
	uint16_t cc;

	if (x87_empty(f, 0))
		cc = FSW_C3 | FSW_C0;
	else if (exp == 0)
		cc = r.m ? FSW_C3 | FSW_C2 : FSW_C3;
	else if (!(r.m >> 63))
		cc = 0;					/* unsupported */
	else if (exp == 0x7fff)
		cc = (r.m << 1) ? FSW_C0 : FSW_C2 | FSW_C0;
	else
		cc = FSW_C2;
	f->fsw &= (uint16_t)~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
	f->fsw |= cc | (r.se & 0x8000 ? FSW_C1 : 0);
	return 0;
}

/* ---- operations on ST(0) (and ST(1)) ---------------------------------- */

static int do_unary(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	struct sf_ctx c = x87_ctx(f);
	struct sf_val a = sf_from80(x87_st(f, 0)), r;

	if (x87_empty(f, 0)) {
		if (!x87_stack_fault(f, false))
			x87_write(f, 0, x87_indefinite());
		return 0;
	}
	if (mn == ZYDIS_MNEMONIC_FSQRT) {
		r = sf_sqrt(&c, sf_x87_fmt((f->fcw >> FCW_PC_SHIFT) & 3), a);
	} else {			/* FRNDINT */
		if (a.cls == SF_BAD || a.cls == SF_SNAN) {
			c.flags |= FSW_IE;
			r = a.cls == SF_BAD ? sf_default_nan() : sf_quiet(a);
		} else {
			r = sf_rndint(&c, a, c.rc);
		}
	}
	if (x87_flags(f, &c))
		return 0;
	x87_write(f, 0, sf_to80(r));
	return 0;
}

static int do_binary(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	struct sf_ctx c = x87_ctx(f);
	uint16_t cc = 0;

	if (x87_empty(f, 0) || x87_empty(f, 1)) {
		if (!x87_stack_fault(f, false))
			x87_write(f, 0, x87_indefinite());
		return 0;
	}
	struct sf_val a = sf_from80(x87_st(f, 0)), b = sf_from80(x87_st(f, 1));
	struct sf_val r;
	if (mn == ZYDIS_MNEMONIC_FSCALE)
		r = sf_scale(&c, a, b);
	else
		r = sf_prem(&c, a, b, mn == ZYDIS_MNEMONIC_FPREM1, &cc);
	if (x87_flags(f, &c))
		return 0;
	if (mn != ZYDIS_MNEMONIC_FSCALE) {
		f->fsw &= (uint16_t)~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3);
		f->fsw |= cc;
	}
	x87_write(f, 0, sf_to80(r));
	return 0;
}

static int do_fxtract(struct fpu_state *f)
{
	struct sf_ctx c = x87_ctx(f);
	struct sf_val sig;

	if (x87_empty(f, 0)) {
		if (x87_stack_fault(f, false))
			return 0;
		x87_write(f, 0, x87_indefinite());
		if (x87_tag(f, (x87_top(f) - 1) & 7) == FTAG_EMPTY)
			x87_push(f, x87_indefinite());
		return 0;
	}
	if (x87_tag(f, (x87_top(f) - 1) & 7) != FTAG_EMPTY) {
		if (x87_stack_fault(f, true))
			return 0;
		x87_write(f, 0, x87_indefinite());
		x87_push(f, x87_indefinite());
		return 0;
	}
	struct sf_val e = sf_xtract(&c, sf_from80(x87_st(f, 0)), &sig);
	if (x87_flags(f, &c))
		return 0;
	x87_write(f, 0, sf_to80(e));
	x87_push(f, sf_to80(sig));
	return 0;
}

/* ---- control ------------------------------------------------------------- */

/* ES and B summarize the unmasked pending flags (SDM Vol. 1 §8.1.3.1). */
static void update_es(struct fpu_state *f)
{
	if (f->fsw & ~f->fcw & 0x3f)
		f->fsw |= FSW_ES | FSW_B;
	else
		f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

static int do_control(struct fpu_insn *x, ZydisMnemonic mn)
{
	struct fpu_state *f = x->f;
	uint16_t w;
	int rc;

	switch (mn) {
	case ZYDIS_MNEMONIC_FLDCW:
		if ((rc = fpu_read(x, 0, &w, 2)))
			return rc;
		f->fcw = x87_fcw(w);
		update_es(f);
		return 0;
	case ZYDIS_MNEMONIC_FNSTCW:
		return fpu_write(x, 0, &f->fcw, 2);
	case ZYDIS_MNEMONIC_FNSTSW:
		if (!x->mem) {
			x->cpu->r[R_EAX] = (x->cpu->r[R_EAX] & 0xffff0000u) |
					   f->fsw;
			return 0;
		}
		return fpu_write(x, 0, &f->fsw, 2);
	case ZYDIS_MNEMONIC_FNCLEX:
		f->fsw &= (uint16_t)~(0x3f | FSW_SF | FSW_ES | FSW_B);
		return 0;
	case ZYDIS_MNEMONIC_FNINIT:
		/* SDM Vol. 1 Table 8-3; the data registers are kept */
		f->fcw = 0x037f;
		f->fsw = 0;
		f->ftw = 0xffff;
		f->fop = 0;
		f->fip = f->fdp = 0;
		f->fcs = f->fds = 0;
		return 0;
	case ZYDIS_MNEMONIC_FFREE:
	case ZYDIS_MNEMONIC_FFREEP:
		x87_set_tag(f, x87_phys(f, st_rm(x)), FTAG_EMPTY);
		if (mn == ZYDIS_MNEMONIC_FFREEP)
			x87_pop(f);
		return 0;
	case ZYDIS_MNEMONIC_FINCSTP:
	case ZYDIS_MNEMONIC_FDECSTP:
		x87_set_top(f, x87_top(f) + (mn == ZYDIS_MNEMONIC_FINCSTP ?
					    1 : 7));
		f->fsw &= (uint16_t)~FSW_C1;
		return 0;
	default:	/* FNOP, FWAIT, and FENI/FDISI/FSETPM (FNOP on a 387+) */
		return 0;
	}
}

int x87_exec_misc(struct fpu_insn *x)
{
	ZydisMnemonic mn = x->in->mnemonic;
	switch (mn) {
	case ZYDIS_MNEMONIC_FCOM: case ZYDIS_MNEMONIC_FCOMP:
	case ZYDIS_MNEMONIC_FCOMPP: case ZYDIS_MNEMONIC_FUCOM:
	case ZYDIS_MNEMONIC_FUCOMP: case ZYDIS_MNEMONIC_FUCOMPP:
	case ZYDIS_MNEMONIC_FICOM: case ZYDIS_MNEMONIC_FICOMP:
	case ZYDIS_MNEMONIC_FCOMI: case ZYDIS_MNEMONIC_FCOMIP:
	case ZYDIS_MNEMONIC_FUCOMI: case ZYDIS_MNEMONIC_FUCOMIP:
	case ZYDIS_MNEMONIC_FTST:
		return do_compare(x, mn);
	case ZYDIS_MNEMONIC_FXAM:
		return do_fxam(x->f);
	case ZYDIS_MNEMONIC_FSQRT:
	case ZYDIS_MNEMONIC_FRNDINT:
		return do_unary(x, mn);
	case ZYDIS_MNEMONIC_FSCALE:
	case ZYDIS_MNEMONIC_FPREM:
	case ZYDIS_MNEMONIC_FPREM1:
		return do_binary(x, mn);
	case ZYDIS_MNEMONIC_FXTRACT:
		return do_fxtract(x->f);
	case ZYDIS_MNEMONIC_FLDCW: case ZYDIS_MNEMONIC_FNSTCW:
	case ZYDIS_MNEMONIC_FNSTSW: case ZYDIS_MNEMONIC_FNCLEX:
	case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FFREE:
	case ZYDIS_MNEMONIC_FFREEP: case ZYDIS_MNEMONIC_FINCSTP:
	case ZYDIS_MNEMONIC_FDECSTP: case ZYDIS_MNEMONIC_FNOP:
	case ZYDIS_MNEMONIC_FWAIT: case ZYDIS_MNEMONIC_FENI8087_NOP:
	case ZYDIS_MNEMONIC_FDISI8087_NOP: case ZYDIS_MNEMONIC_FSETPM287_NOP:
		return do_control(x, mn);
	case ZYDIS_MNEMONIC_FSIN: case ZYDIS_MNEMONIC_FCOS:
	case ZYDIS_MNEMONIC_FSINCOS: case ZYDIS_MNEMONIC_FPTAN:
	case ZYDIS_MNEMONIC_FPATAN: case ZYDIS_MNEMONIC_F2XM1:
	case ZYDIS_MNEMONIC_FYL2X: case ZYDIS_MNEMONIC_FYL2XP1:
		return x87_exec_trans(x);
	default:
		return fpu_env_exec(x);
	}
}
