/* monitor/fpu_env.c — saving and restoring the FPU environment and state:
 * FNSTENV/FLDENV, FNSAVE/FRSTOR (SDM Vol. 1 §8.1.10-11, Figures 8-9..8-12),
 * FXSAVE/FXRSTOR (§10.5.1, Table 10-2), LDMXCSR/STMXCSR. */
#include "monitor/fpu_int.h"

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static uint32_t get16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/* Full tag word as FSTENV reports it: recomputed from the contents of each
 * non-empty register (the P6 and later keep only empty/non-empty). */
static uint16_t full_tags(const struct fpu_state *f)
{
	uint16_t t = 0;
	for (unsigned p = 0; p < 8; p++) {
		unsigned tag = x87_tag(f, p) == FTAG_EMPTY ? FTAG_EMPTY :
			       x87_tag_of(f->st[p]);
		t |= (uint16_t)(tag << (2 * p));
	}
	return t;
}

static void load_tags(struct fpu_state *f, uint16_t t)
{
	for (unsigned p = 0; p < 8; p++)
		x87_set_tag(f, p, ((t >> (2 * p)) & 3) == FTAG_EMPTY ?
			    FTAG_EMPTY : x87_tag_of(f->st[p]));
}

static bool real_mode(struct cpu *cpu)
{
	return !(cpu->cr0 & CR0_PE) || (cpu->eflags & FL_VM);
}

/* Writes the 14- or 28-byte environment image; returns its size. */
static unsigned env_image(struct fpu_insn *x, uint8_t *b)
{
	struct fpu_state *f = x->f;
	bool o16 = x->in->operand_width == 16, rm = real_mode(x->cpu);
	uint16_t tags = full_tags(f);
	uint32_t fip = f->fip, fdp = f->fdp;

	if (rm) {	/* real/V86 mode: 20-bit linear pointers */
		fip += (uint32_t)f->fcs << 4;
		fdp += (uint32_t)f->fds << 4;
	}
	if (o16) {
		put16(b, f->fcw);
		put16(b + 2, f->fsw);
		put16(b + 4, tags);
		put16(b + 6, fip);
		put16(b + 8, rm ? ((fip >> 16) << 12) | f->fop : f->fcs);
		put16(b + 10, fdp);
		put16(b + 12, rm ? (fdp >> 16) << 12 : f->fds);
		return 14;
	}
	__builtin_memset(b, 0, 28);
	put32(b, 0xffff0000u | f->fcw);
	put32(b + 4, 0xffff0000u | f->fsw);
	put32(b + 8, 0xffff0000u | tags);
	if (rm) {
		put32(b + 12, 0xffff0000u | (fip & 0xffff));
		put32(b + 16, ((fip >> 16) << 12) | f->fop);
		put32(b + 20, 0xffff0000u | (fdp & 0xffff));
		put32(b + 24, (fdp >> 16) << 12);
	} else {
		put32(b + 12, fip);
		put32(b + 16, f->fcs | (uint32_t)f->fop << 16);
		put32(b + 20, fdp);
		put32(b + 24, 0xffff0000u | f->fds);
	}
	return 28;
}

static unsigned env_load(struct fpu_insn *x, const uint8_t *b)
{
	struct fpu_state *f = x->f;
	bool o16 = x->in->operand_width == 16, rm = real_mode(x->cpu);

	f->fcw = x87_fcw(get16(b + 0));
	f->fsw = (uint16_t)get16(b + (o16 ? 2 : 4));
	load_tags(f, (uint16_t)get16(b + (o16 ? 4 : 8)));
	if (o16) {
		f->fip = get16(b + 6);
		f->fdp = get16(b + 10);
		if (rm) {
			f->fip |= (get16(b + 8) >> 12) << 16;
			f->fop = get16(b + 8) & 0x7ff;
			f->fdp |= (get16(b + 12) >> 12) << 16;
			f->fcs = f->fds = 0;
		} else {
			f->fcs = (uint16_t)get16(b + 8);
			f->fds = (uint16_t)get16(b + 12);
		}
		return 14;
	}
	if (rm) {
		f->fip = get16(b + 12) | (get32(b + 16) >> 12) << 16;
		f->fop = get32(b + 16) & 0x7ff;
		f->fdp = get16(b + 20) | (get32(b + 24) >> 12) << 16;
		f->fcs = f->fds = 0;
	} else {
		f->fip = get32(b + 12);
		f->fcs = (uint16_t)get16(b + 16);
		f->fop = (get32(b + 16) >> 16) & 0x7ff;
		f->fdp = get32(b + 20);
		f->fds = (uint16_t)get16(b + 24);
	}
	return 28;
}

static void put80(uint8_t *p, struct fpu_reg80 r)
{
	__builtin_memcpy(p, &r.m, 8);
	put16(p + 8, r.se);
}

static struct fpu_reg80 get80(const uint8_t *p)
{
	struct fpu_reg80 r;
	__builtin_memcpy(&r.m, p, 8);
	r.se = (uint16_t)get16(p + 8);
	return r;
}

void fpu__fx_store(const struct fpu_state *f, uint8_t *b, uint32_t mxcsr_mask)
{
	uint8_t abridged = 0;

	for (unsigned p = 0; p < 8; p++)
		if (x87_tag(f, p) != FTAG_EMPTY)
			abridged |= (uint8_t)(1u << p);
	put16(b, f->fcw);
	put16(b + 2, f->fsw);
	b[4] = abridged;
	put16(b + 6, f->fop);
	put32(b + 8, f->fip);
	put16(b + 12, f->fcs);
	put32(b + 16, f->fdp);
	put16(b + 20, f->fds);
	put32(b + 24, f->mxcsr & mxcsr_mask);
	put32(b + 28, mxcsr_mask);
	for (unsigned i = 0; i < 8; i++)
		put80(b + 32 + 16 * i, x87_st(f, i));
	__builtin_memcpy(b + 160, f->xmm, 128);
}

void fpu__fx_load(struct fpu_state *f, const uint8_t *b)
{
	f->fcw = x87_fcw(get16(b));
	f->fsw = (uint16_t)get16(b + 2);
	f->fop = get16(b + 6) & 0x7ff;
	f->fip = get32(b + 8);
	f->fcs = (uint16_t)get16(b + 12);
	f->fdp = get32(b + 16);
	f->fds = (uint16_t)get16(b + 20);
	f->mxcsr = get32(b + 24);
	for (unsigned i = 0; i < 8; i++)
		f->st[x87_phys(f, i)] = get80(b + 32 + 16 * i);
	for (unsigned p = 0; p < 8; p++)
		x87_set_tag(f, p, (b[4] >> p) & 1 ? x87_tag_of(f->st[p]) :
			    FTAG_EMPTY);
	__builtin_memcpy(f->xmm, b + 160, 128);
}

static int do_fxsave(struct fpu_insn *x)
{
	uint8_t b[288];

	if (x->off & 15)	/* SDM Vol. 2 FXSAVE: #GP(0) if unaligned */
		return cpu__raise(x->cpu, EXC_GP, 0);
	__builtin_memset(b, 0, sizeof(b));
	fpu__fx_store(x->f, b, MXCSR_MASK);
	return fpu_write(x, 0, b, sizeof(b));
}

static int do_fxrstor(struct fpu_insn *x)
{
	uint8_t b[288];
	int rc;

	if (x->off & 15)
		return cpu__raise(x->cpu, EXC_GP, 0);
	if ((rc = fpu_read(x, 0, b, sizeof(b))))
		return rc;
	if (get32(b + 24) & ~(uint32_t)MXCSR_MASK)
		return cpu__raise(x->cpu, EXC_GP, 0);
	fpu__fx_load(x->f, b);
	return 0;
}

int fpu_env_exec(struct fpu_insn *x)
{
	struct fpu_state *f = x->f;
	uint8_t b[108];
	unsigned n;
	int rc;

	switch (x->in->mnemonic) {
	case ZYDIS_MNEMONIC_FNSTENV:
		n = env_image(x, b);
		if ((rc = fpu_write(x, 0, b, n)))
			return rc;
		f->fcw |= 0x3f;	/* FNSTENV masks all exceptions */
		return 0;
	case ZYDIS_MNEMONIC_FLDENV:
		if ((rc = fpu_read(x, 0, b, x->in->operand_width == 16 ? 14 :
				   28)))
			return rc;
		env_load(x, b);
		return 0;
	case ZYDIS_MNEMONIC_FNSAVE:
		n = env_image(x, b);
		for (unsigned i = 0; i < 8; i++)
			put80(b + n + 10 * i, x87_st(f, i));
		if ((rc = fpu_write(x, 0, b, n + 80)))
			return rc;
		f->fcw = 0x037f;	/* then FNINIT */
		f->fsw = 0;
		f->ftw = 0xffff;
		f->fop = 0;
		f->fip = f->fdp = 0;
		f->fcs = f->fds = 0;
		return 0;
	case ZYDIS_MNEMONIC_FRSTOR:
		n = x->in->operand_width == 16 ? 14 : 28;
		if ((rc = fpu_read(x, 0, b, n + 80)))
			return rc;
		/* registers first: the tags are recomputed from them */
		f->fsw = (uint16_t)get16(b + (n == 14 ? 2 : 4));
		for (unsigned i = 0; i < 8; i++)
			f->st[x87_phys(f, i)] = get80(b + n + 10 * i);
		env_load(x, b);
		return 0;
	case ZYDIS_MNEMONIC_FXSAVE:
		return do_fxsave(x);
	case ZYDIS_MNEMONIC_FXRSTOR:
		return do_fxrstor(x);
	case ZYDIS_MNEMONIC_STMXCSR:
		return fpu_write(x, 0, &f->mxcsr, 4);
	case ZYDIS_MNEMONIC_LDMXCSR: {
		uint32_t v;
		if ((rc = fpu_read(x, 0, &v, 4)))
			return rc;
		if (v & ~(uint32_t)MXCSR_MASK)
			return cpu__raise(x->cpu, EXC_GP, 0);
		f->mxcsr = v;
		return 0;
	}
	default:
		return FPU_NOT_MINE;
	}
}
