/* monitor/cpu-alu2.c — shifts and rotates, multiply and divide, bit tests
 * and scans (SDM Vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD/SHRD,
 * MUL/IMUL/DIV/IDIV, BT/BTS/BTR/BTC, BSF/BSR).
 */
#include "monitor/cpu-internal.h"

/* ---- Shifts and rotates --------------------------------------------------- */

/* SHL/SHR/SAR (SDM Vol. 2 SAL/SAR/SHL/SHR): the flags are recorded lazily
 * (LF_FIXED: CF and OF exact, AF -- undefined for a non-zero count --
 * cleared). A zero count changes nothing. */
static inline int shift_lazy(unsigned mnem, unsigned sz,
			     uint32_t a, unsigned cnt, uint32_t *out)
{
	unsigned bits = sz * 8;
	uint32_t r, m = size_mask(sz), sign = size_sign(sz), cf, of;

	a &= m;
	if (mnem == ZYDIS_MNEMONIC_SHL) {
		r = cnt < 32 ? (a << cnt) & m : 0;
		cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
		of = (!!(r & sign) ^ cf) ? FL_OF : 0;
	} else if (mnem == ZYDIS_MNEMONIC_SHR) {
		r = a >> cnt;
		cf = cnt <= bits ? (a >> (cnt - 1)) & 1 : 0;
		of = (cnt == 1 ? (a & sign) : 0) ? FL_OF : 0;
	} else {
		int32_t sa = (int32_t)((a ^ sign) - sign);
		r = (uint32_t)(sa >> (cnt < bits ? cnt : bits - 1)) & m;
		cf = (uint32_t)(sa >> (cnt - 1 < bits ? cnt - 1 : bits - 1)) & 1;
		of = 0;
	}
	*out = r;
	return (int)(cf | of);
}

static int h_shift_lazy(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size, cnt;
	uint32_t a, c, r, f;

	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &c))
		return CPU_ABORT;
	cnt = c & 0x1f;
	if (cnt == 0)
		return 0;	/* no flags change, no write (but a read fault) */
	f = (uint32_t)shift_lazy(i->mnem, sz, a, cnt, &r);
	if (op_write(cpu, i, 0, r))
		return CPU_ABORT;
	lf_set(cpu, LF_FIXED, sz, r, 0, f);
	return 0;
}

/* 32-bit register shifted by an immediate count or CL. */
#define SHIFT_R32(name, MN, CNT)                                               \
static int h_##name(struct cpu *cpu, const struct insn *i)                    \
{                                                                              \
	unsigned cnt = (CNT) & 0x1f;                                           \
	uint32_t r, f;                                                         \
	if (cnt == 0)                                                          \
		return 0;                                                      \
	f = (uint32_t)shift_lazy(ZYDIS_MNEMONIC_##MN, 4,                  \
				 cpu->r[i->op[0].reg], cnt, &r);               \
	cpu->r[i->op[0].reg] = r;                                              \
	lf_set(cpu, LF_FIXED, 4, r, 0, f);                                     \
	return 0;                                                              \
}
SHIFT_R32(shl_ri, SHL, i->imm)
SHIFT_R32(shr_ri, SHR, i->imm)
SHIFT_R32(sar_ri, SAR, i->imm)
SHIFT_R32(shl_rc, SHL, cpu->r[R_ECX])
SHIFT_R32(shr_rc, SHR, cpu->r[R_ECX])
SHIFT_R32(sar_rc, SAR, cpu->r[R_ECX])

/* Rotates: only CF and OF change. */
static int h_shift(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size, bits = sz * 8, cnt;
	uint32_t a, c, r, m = size_mask(sz), sign = size_sign(sz);
	uint32_t f, cf, of;

	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &c))
		return CPU_ABORT;
	a &= m;
	cnt = c & 0x1f;
	if (cnt == 0)
		return 0;	/* no flags change, no write (but a read fault) */
	flags__materialize(cpu);
	f = cpu->eflags;
	cf = f & FL_CF;
	of = f & FL_OF;
	switch (i->mnem) {
	case ZYDIS_MNEMONIC_SHL:
		r = cnt < 32 ? (a << cnt) & m : 0;
		cf = cnt <= bits ? (a >> (bits - cnt)) & 1 : 0;
		of = (!!(r & sign) ^ cf) ? FL_OF : 0;
		f = szp_flags(r, sz) | (cf ? FL_CF : 0) | of;
		break;
	case ZYDIS_MNEMONIC_SHR:
		r = a >> cnt;
		cf = cnt <= bits ? (a >> (cnt - 1)) & 1 : 0;
		of = (cnt == 1 ? (a & sign) : 0) ? FL_OF : 0;
		f = szp_flags(r, sz) | (cf ? FL_CF : 0) | of;
		break;
	case ZYDIS_MNEMONIC_SAR: {
		int32_t sa = (int32_t)((a ^ sign) - sign);
		r = (uint32_t)(sa >> (cnt < bits ? cnt : bits - 1)) & m;
		cf = (uint32_t)(sa >> (cnt - 1 < bits ? cnt - 1 : bits - 1)) & 1;
		f = szp_flags(r, sz) | (cf ? FL_CF : 0);
		break;
	}
	case ZYDIS_MNEMONIC_ROL: {
		unsigned k = cnt % bits;
		r = k ? ((a << k) | (a >> (bits - k))) & m : a;
		cf = r & 1;
		of = ((r & sign) ? 1 : 0) ^ cf;
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	case ZYDIS_MNEMONIC_ROR: {
		unsigned k = cnt % bits;
		r = k ? ((a >> k) | (a << (bits - k))) & m : a;
		cf = (r & sign) ? 1 : 0;
		of = cf ^ ((r & (sign >> 1)) ? 1 : 0);
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	case ZYDIS_MNEMONIC_RCL:
	case ZYDIS_MNEMONIC_RCR: {
		unsigned k = sz == 4 ? cnt : cnt % (bits + 1);
		uint64_t v = ((uint64_t)(cf ? 1 : 0) << bits) | a;	/* CF:a */
		uint64_t vm = (1ull << (bits + 1)) - 1;
		if (i->mnem == ZYDIS_MNEMONIC_RCL)
			v = k ? ((v << k) | (v >> (bits + 1 - k))) & vm : v;
		else
			v = k ? ((v >> k) | (v << (bits + 1 - k))) & vm : v;
		r = (uint32_t)v & m;
		cf = (uint32_t)(v >> bits) & 1;
		if (i->mnem == ZYDIS_MNEMONIC_RCL)
			of = ((r & sign) ? 1 : 0) ^ cf;
		else
			of = ((r & sign) ? 1 : 0) ^ ((r & (sign >> 1)) ? 1 : 0);
		f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		break;
	}
	default:
		return insn_unimpl(cpu, i);
	}
	if (op_write(cpu, i, 0, r))
		return CPU_ABORT;
	flags__set_arith(cpu, FL_ARITH, (cpu->eflags & FL_AF) | (f & ~FL_AF));
	return 0;
}

static int h_shxd(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size, cnt;
	uint32_t a, b, c, r, cf, of, m = size_mask(sz), sign = size_sign(sz);
	uint64_t v;

	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &b) ||
	    op_read(cpu, i, 2, &c))
		return CPU_ABORT;
	cnt = c & 0x1f;
	if (cnt == 0)
		return 0;
	a &= m;
	b &= m;
	if (i->mnem == ZYDIS_MNEMONIC_SHLD) {
		/* 16-bit counts above 16 are undefined; a:b:a is shifted. */
		if (sz == 2) {
			uint64_t w = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
			r = (uint32_t)(w >> (32 - cnt)) & m;
			cf = (uint32_t)(w >> (48 - cnt)) & 1;
		} else {
			v = ((uint64_t)a << 32) | b;
			r = (uint32_t)(v >> (32 - cnt));
			cf = (uint32_t)(v >> (64 - cnt)) & 1;
		}
	} else {
		if (sz == 2) {
			uint64_t w = ((uint64_t)a) | ((uint64_t)b << 16) |
				     ((uint64_t)a << 32);
			r = (uint32_t)(w >> cnt) & m;
			cf = (uint32_t)(w >> (cnt - 1)) & 1;
		} else {
			v = ((uint64_t)b << 32) | a;
			r = (uint32_t)(v >> cnt);
			cf = (uint32_t)(v >> (cnt - 1)) & 1;
		}
	}
	of = ((a ^ r) & sign) ? FL_OF : 0;
	if (op_write(cpu, i, 0, r))
		return CPU_ABORT;
	/* AF is undefined for a non-zero count: cleared. */
	lf_set(cpu, LF_FIXED, sz, r & m, 0, (cf ? FL_CF : 0) | of);
	return 0;
}

/* ---- Multiply and divide -------------------------------------------------- */

static int h_mul(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size;
	uint32_t s, a = reg_get(cpu, R_EAX, sz), lo, hi;
	bool ovf;

	if (op_read(cpu, i, 0, &s))
		return CPU_ABORT;
	s &= size_mask(sz);
	if (i->mnem == ZYDIS_MNEMONIC_MUL) {
		uint64_t p = (uint64_t)a * s;
		lo = (uint32_t)p & size_mask(sz);
		hi = (uint32_t)(p >> (sz * 8)) & size_mask(sz);
		ovf = hi != 0;
	} else {
		uint32_t sg = size_sign(sz);
		int64_t p = (int64_t)(int32_t)((a ^ sg) - sg) *
			    (int64_t)(int32_t)((s ^ sg) - sg);
		lo = (uint32_t)p & size_mask(sz);
		hi = (uint32_t)((uint64_t)p >> (sz * 8)) & size_mask(sz);
		ovf = p != (int64_t)(int32_t)((lo ^ sg) - sg);
	}
	if (sz == 1) {
		reg_set(cpu, R_EAX, 2, lo | (hi << 8));
	} else {
		reg_set(cpu, R_EAX, sz, lo);
		reg_set(cpu, R_EDX, sz, hi);
	}
	/* SF/ZF/PF undefined: computed from the low half; AF clear. */
	lf_set(cpu, LF_FIXED, sz, lo, 0, ovf ? FL_CF | FL_OF : 0);
	return 0;
}

static int h_imul(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size;
	uint32_t a, b, sg = size_sign(sz), lo;
	int64_t p;

	if (i->nops == 1)
		return h_mul(cpu, i);
	if (op_read(cpu, i, i->nops == 3 ? 1 : 0, &a) ||
	    op_read(cpu, i, i->nops == 3 ? 2 : 1, &b))
		return CPU_ABORT;
	a &= size_mask(sz);
	b &= size_mask(sz);
	p = (int64_t)(int32_t)((a ^ sg) - sg) * (int64_t)(int32_t)((b ^ sg) - sg);
	lo = (uint32_t)p & size_mask(sz);
	reg_set(cpu, i->op[0].reg, sz, lo);
	lf_set(cpu, LF_FIXED, sz, lo, 0,
	       p != (int64_t)(int32_t)((lo ^ sg) - sg) ? FL_CF | FL_OF : 0);
	return 0;
}

static int h_div(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size, bits = sz * 8;
	uint32_t s, q, r;
	uint64_t n;

	if (op_read(cpu, i, 0, &s))
		return CPU_ABORT;
	s &= size_mask(sz);
	if (sz == 1)
		n = cpu->r[R_EAX] & 0xffff;
	else
		n = ((uint64_t)reg_get(cpu, R_EDX, sz) << bits) |
		    reg_get(cpu, R_EAX, sz);
	if (s == 0)
		return cpu__raise(cpu, EXC_DE, 0);
	if (i->mnem == ZYDIS_MNEMONIC_DIV) {
		uint64_t qq = n / s;
		if (qq > size_mask(sz))
			return cpu__raise(cpu, EXC_DE, 0);
		q = (uint32_t)qq;
		r = (uint32_t)(n % s);
	} else {
		uint32_t sg = size_sign(sz);
		uint64_t nsg = 1ull << (2 * bits - 1);
		int64_t sn = (int64_t)((n ^ nsg) - nsg);
		int64_t sd = (int32_t)((s ^ sg) - sg), qq;
		if (sz == 4 && sn == INT64_MIN && sd == -1)
			return cpu__raise(cpu, EXC_DE, 0);
		qq = sn / sd;
		if (qq > (int64_t)(sg - 1) || qq < -(int64_t)sg)
			return cpu__raise(cpu, EXC_DE, 0);
		q = (uint32_t)qq & size_mask(sz);
		r = (uint32_t)(sn % sd) & size_mask(sz);
	}
	if (sz == 1) {
		reg_set(cpu, R_EAX, 2, q | (r << 8));
	} else {
		reg_set(cpu, R_EAX, sz, q);
		reg_set(cpu, R_EDX, sz, r);
	}
	return 0;	/* all flags undefined: left unchanged */
}

/* ---- Bit test and scan ---------------------------------------------------- */

static int h_bt(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size, bits = sz * 8;
	uint32_t b, v, bit, ea;
	int32_t off = 0;

	if (op_read(cpu, i, 1, &b))
		return CPU_ABORT;
	if (i->op[0].kind == OK_MEM) {
		ea = insn_ea(cpu, i);
		if (i->op[1].kind == OK_REG) {
			/* A register bit offset addresses memory beyond the
			 * operand (SDM Vol. 2 BT, Table 3-2). */
			uint32_t sg = size_sign(sz);
			int32_t sb = (int32_t)(((b & size_mask(sz)) ^ sg) - sg);
			off = (sb >> (sz == 4 ? 5 : 4)) * (int32_t)sz;
			bit = (uint32_t)sb & (bits - 1);
		} else {
			bit = b & (bits - 1);
		}
		ea += (uint32_t)off;
		if (i->asz == 2)
			ea &= 0xffff;
		if (mem__read(cpu, i->seg, ea, &v, sz))
			return CPU_ABORT;
	} else {
		bit = b & (bits - 1);
		v = reg_get(cpu, i->op[0].reg, sz);
		ea = 0;
	}
	{
		uint32_t cf = (v >> bit) & 1, nv = v;
		switch (i->mnem) {
		case ZYDIS_MNEMONIC_BTS: nv |= 1u << bit; break;
		case ZYDIS_MNEMONIC_BTR: nv &= ~(1u << bit); break;
		case ZYDIS_MNEMONIC_BTC: nv ^= 1u << bit; break;
		default: break;
		}
		if (i->mnem != ZYDIS_MNEMONIC_BT) {
			int rc = i->op[0].kind == OK_MEM
				 ? mem__write(cpu, i->seg, ea, nv, sz)
				 : (reg_set(cpu, i->op[0].reg, sz, nv), 0);
			if (rc)
				return CPU_ABORT;
		}
		flags__set_arith(cpu, FL_CF, cf ? FL_CF : 0);
	}
	return 0;
}

static int h_bsf(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->op[0].size;
	uint32_t s;

	if (op_read(cpu, i, 1, &s))
		return CPU_ABORT;
	s &= size_mask(sz);
	flags__materialize(cpu);
	if (s == 0) {
		/* Destination unchanged (what P6 and later do). */
		flags__set_arith(cpu, FL_ZF, FL_ZF);
		return 0;
	}
	reg_set(cpu, i->op[0].reg, sz, i->mnem == ZYDIS_MNEMONIC_BSF
					      ? (uint32_t)__builtin_ctz(s)
					      : 31u - (uint32_t)__builtin_clz(s));
	flags__set_arith(cpu, FL_ZF, 0);
	return 0;
}

insn_fn alu2__handler_fast(const struct insn *i);
insn_fn alu2__handler_fast(const struct insn *i)
{
	bool r32 = i->nops == 2 && i->op[0].kind == OK_REG && i->op[0].size == 4;
	bool imm = r32 && i->op[1].kind == OK_IMM;
	bool cl = r32 && i->op[1].kind == OK_REG && i->op[1].reg == R_ECX &&
		  i->op[1].size == 1;

	switch (i->mnem) {
	case ZYDIS_MNEMONIC_SHL:
		return imm ? h_shl_ri : cl ? h_shl_rc : h_shift_lazy;
	case ZYDIS_MNEMONIC_SHR:
		return imm ? h_shr_ri : cl ? h_shr_rc : h_shift_lazy;
	case ZYDIS_MNEMONIC_SAR:
		return imm ? h_sar_ri : cl ? h_sar_rc : h_shift_lazy;
	default:
		return NULL;
	}
}

insn_fn alu2__handler(unsigned mnem);
insn_fn alu2__handler(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_SHL:
	case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
	case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR:
	case ZYDIS_MNEMONIC_RCL: case ZYDIS_MNEMONIC_RCR:
		return h_shift;
	case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD:
		return h_shxd;
	case ZYDIS_MNEMONIC_MUL: return h_mul;
	case ZYDIS_MNEMONIC_IMUL: return h_imul;
	case ZYDIS_MNEMONIC_DIV: case ZYDIS_MNEMONIC_IDIV: return h_div;
	case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS:
	case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
		return h_bt;
	case ZYDIS_MNEMONIC_BSF: case ZYDIS_MNEMONIC_BSR: return h_bsf;
	default:
		return NULL;
	}
}
