/* monitor/cpu-alu.c — integer arithmetic and logic, data movement, bit
 * operations and BCD (SDM Vol. 2). Flags are exact for every defined flag;
 * for flags the SDM calls undefined a fixed, documented choice is made
 * (see docs/interpreter.md) and the oracle masks them.
 */
#include "monitor/cpu-internal.h"

enum { A_ADD, A_OR, A_ADC, A_SBB, A_AND, A_SUB, A_XOR, A_CMP, A_TEST };

/* Computes a (op) b at size, sets lazy flags; returns the result. */
static inline uint32_t alu_op(struct cpu *cpu, unsigned op, unsigned sz,
			      uint32_t a, uint32_t b)
{
	uint32_t m = size_mask(sz), r, c;

	switch (op) {
	case A_ADD:
		r = (a + b) & m;
		lf_set(cpu, LF_ADD, sz, r, a, b);
		return r;
	case A_ADC:
		c = flags__cf(cpu) ? 1 : 0;
		r = (a + b + c) & m;
		lf_set(cpu, c ? LF_ADC : LF_ADD, sz, r, a, b);
		return r;
	case A_SBB:
		c = flags__cf(cpu) ? 1 : 0;
		r = (a - b - c) & m;
		lf_set(cpu, c ? LF_SBB : LF_SUB, sz, r, a, b);
		return r;
	case A_SUB:
	case A_CMP:
		r = (a - b) & m;
		lf_set(cpu, LF_SUB, sz, r, a, b);
		return r;
	case A_AND:
	case A_TEST:
		r = a & b & m;
		break;
	case A_OR:
		r = (a | b) & m;
		break;
	default:
		r = (a ^ b) & m;
		break;
	}
	lf_set(cpu, LF_LOGIC, sz, r, 0, 0);
	return r;
}

#define ALU_HANDLERS(name, OPC)                                                 \
static int h_##name(struct cpu *cpu, const struct insn *i)                    \
{                                                                              \
	uint32_t a, b, r;                                                      \
	unsigned sz = i->op[0].size;                                           \
	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &b))                  \
		return CPU_ABORT;                                              \
	r = alu_op(cpu, OPC, sz, a, b & size_mask(sz));                         \
	if (OPC == A_CMP || OPC == A_TEST)                                       \
		return 0;                                                      \
	if (op_write(cpu, i, 0, r)) {                                          \
		cpu->lf.op = LF_NONE;                                          \
		return CPU_ABORT;                                              \
	}                                                                      \
	return 0;                                                              \
}                                                                              \
static int h_##name##_rr(struct cpu *cpu, const struct insn *i)               \
{                                                                              \
	uint32_t r = alu_op(cpu, OPC, 4, cpu->r[i->op[0].reg],                  \
			    cpu->r[i->op[1].reg]);                             \
	if (OPC != A_CMP && OPC != A_TEST)                                       \
		cpu->r[i->op[0].reg] = r;                                      \
	return 0;                                                              \
}                                                                              \
static int h_##name##_ri(struct cpu *cpu, const struct insn *i)               \
{                                                                              \
	uint32_t r = alu_op(cpu, OPC, 4, cpu->r[i->op[0].reg], i->imm);        \
	if (OPC != A_CMP && OPC != A_TEST)                                       \
		cpu->r[i->op[0].reg] = r;                                      \
	return 0;                                                              \
}

/* A failed write must not leave flags changed: the lazy record is restored
 * by re-materializing nothing (flags were not yet committed to eflags). */
ALU_HANDLERS(add, A_ADD)
ALU_HANDLERS(or, A_OR)
ALU_HANDLERS(adc, A_ADC)
ALU_HANDLERS(sbb, A_SBB)
ALU_HANDLERS(and, A_AND)
ALU_HANDLERS(sub, A_SUB)
ALU_HANDLERS(xor, A_XOR)
ALU_HANDLERS(cmp, A_CMP)
ALU_HANDLERS(test, A_TEST)

static int h_inc(struct cpu *cpu, const struct insn *i)
{
	uint32_t a, r;
	unsigned sz = i->op[0].size;

	if (op_read(cpu, i, 0, &a))
		return CPU_ABORT;
	r = (a + (i->mnem == ZYDIS_MNEMONIC_INC ? 1 : -1u)) & size_mask(sz);
	if (op_write(cpu, i, 0, r))
		return CPU_ABORT;
	/* INC/DEC keep CF: carried in src2. */
	lf_set(cpu, i->mnem == ZYDIS_MNEMONIC_INC ? LF_INC : LF_DEC, sz, r, a,
	       flags__cf(cpu));
	return 0;
}

static int h_inc_r32(struct cpu *cpu, const struct insn *i)
{
	uint32_t *p = &cpu->r[i->op[0].reg];
	bool cf = flags__cf(cpu);
	if (i->mnem == ZYDIS_MNEMONIC_INC)
		lf_set(cpu, LF_INC, 4, ++*p, 0, cf);
	else
		lf_set(cpu, LF_DEC, 4, --*p, 0, cf);
	return 0;
}

static int h_not(struct cpu *cpu, const struct insn *i)
{
	uint32_t a;
	if (op_read(cpu, i, 0, &a))
		return CPU_ABORT;
	return op_write(cpu, i, 0, ~a);
}

static int h_neg(struct cpu *cpu, const struct insn *i)
{
	uint32_t a, r;
	unsigned sz = i->op[0].size;
	if (op_read(cpu, i, 0, &a))
		return CPU_ABORT;
	r = (0 - a) & size_mask(sz);
	if (op_write(cpu, i, 0, r))
		return CPU_ABORT;
	lf_set(cpu, LF_SUB, sz, r, 0, a);
	return 0;
}

/* ---- Moves ------------------------------------------------------------- */

static int h_mov(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (op_read(cpu, i, 1, &v))
		return CPU_ABORT;
	return op_write(cpu, i, 0, v);
}

static int h_mov_rr(struct cpu *cpu, const struct insn *i)
{
	cpu->r[i->op[0].reg] = cpu->r[i->op[1].reg];
	return 0;
}

static int h_mov_ri(struct cpu *cpu, const struct insn *i)
{
	cpu->r[i->op[0].reg] = i->imm;
	return 0;
}

static int h_mov_rm(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (mem__read(cpu, i->seg, insn_ea(cpu, i), &v, 4))
		return CPU_ABORT;
	cpu->r[i->op[0].reg] = v;
	return 0;
}

static int h_mov_mr(struct cpu *cpu, const struct insn *i)
{
	return mem__write(cpu, i->seg, insn_ea(cpu, i), cpu->r[i->op[1].reg], 4);
}

static int h_movzx(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (op_read(cpu, i, 1, &v))
		return CPU_ABORT;
	v &= size_mask(i->op[1].size);
	if (i->mnem == ZYDIS_MNEMONIC_MOVSX) {
		uint32_t s = size_sign(i->op[1].size);
		v = (v ^ s) - s;
	}
	reg_set(cpu, i->op[0].reg, i->op[0].size, v);
	return 0;
}

static int h_lea(struct cpu *cpu, const struct insn *i)
{
	reg_set(cpu, i->op[0].reg, i->op[0].size, insn_ea(cpu, i));
	return 0;
}

static int h_xchg(struct cpu *cpu, const struct insn *i)
{
	uint32_t a, b;
	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &b))
		return CPU_ABORT;
	/* The memory operand (if any) is written first so a fault leaves the
	 * register untouched. */
	if (i->op[0].kind == OK_MEM) {
		if (op_write(cpu, i, 0, b))
			return CPU_ABORT;
		return op_write(cpu, i, 1, a);
	}
	if (op_write(cpu, i, 1, a))
		return CPU_ABORT;
	return op_write(cpu, i, 0, b);
}

static int h_xadd(struct cpu *cpu, const struct insn *i)
{
	uint32_t a, b, r;
	unsigned sz = i->op[0].size;
	if (op_read(cpu, i, 0, &a) || op_read(cpu, i, 1, &b))
		return CPU_ABORT;
	r = (a + b) & size_mask(sz);
	/* SRC <- DEST, then DEST <- sum (the sum wins when both are the same
	 * register); a memory destination is written first so a fault
	 * leaves the register alone. */
	if (i->op[0].kind == OK_MEM) {
		if (op_write(cpu, i, 0, r))
			return CPU_ABORT;
		op_write(cpu, i, 1, a);
	} else {
		op_write(cpu, i, 1, a);
		op_write(cpu, i, 0, r);
	}
	lf_set(cpu, LF_ADD, sz, r, a, b);
	return 0;
}

static int h_cmpxchg(struct cpu *cpu, const struct insn *i)
{
	uint32_t d, s, acc;
	unsigned sz = i->op[0].size;
	if (op_read(cpu, i, 0, &d) || op_read(cpu, i, 1, &s))
		return CPU_ABORT;
	acc = reg_get(cpu, R_EAX, sz);
	d &= size_mask(sz);
	/* The destination is always written (SDM Vol. 2 CMPXCHG). */
	if (op_write(cpu, i, 0, acc == d ? s : d))
		return CPU_ABORT;
	if (acc != d)
		reg_set(cpu, R_EAX, sz, d);
	lf_set(cpu, LF_SUB, sz, (acc - d) & size_mask(sz), acc, d);
	return 0;
}

static int h_cmpxchg8b(struct cpu *cpu, const struct insn *i)
{
	uint32_t lo, hi, ea = insn_ea(cpu, i), lin;
	if (i->op[0].kind != OK_MEM)
		return cpu__raise(cpu, EXC_UD, 0);
	if (mem__read(cpu, i->seg, ea, &lo, 4) ||
	    mem__read(cpu, i->seg, ea + 4, &hi, 4))
		return CPU_ABORT;
	if (mem__seg_check(cpu, i->seg, ea, 8, true, &lin) ||
	    mem__lin_probe_write(cpu, lin, 8, ACC_W))
		return CPU_ABORT;
	flags__materialize(cpu);
	if (lo == cpu->r[R_EAX] && hi == cpu->r[R_EDX]) {
		mem__write(cpu, i->seg, ea, cpu->r[R_EBX], 4);
		mem__write(cpu, i->seg, ea + 4, cpu->r[R_ECX], 4);
		cpu->eflags |= FL_ZF;
	} else {
		mem__write(cpu, i->seg, ea, lo, 4);
		mem__write(cpu, i->seg, ea + 4, hi, 4);
		cpu->r[R_EAX] = lo;
		cpu->r[R_EDX] = hi;
		cpu->eflags &= ~FL_ZF;
	}
	return 0;
}

static int h_bswap(struct cpu *cpu, const struct insn *i)
{
	uint32_t *p = &cpu->r[i->op[0].reg];
	if (i->op[0].size == 2)	/* undefined: hardware gives 0 in low word */
		*p &= 0xffff0000u;
	else
		*p = __builtin_bswap32(*p);
	return 0;
}

static int h_cmovcc(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	/* The source is read (and may fault) even when the condition is
	 * false (SDM Vol. 2 CMOVcc). imm2 holds the condition code. */
	if (op_read(cpu, i, 1, &v))
		return CPU_ABORT;
	if (flags__cond(cpu, i->imm2))
		reg_set(cpu, i->op[0].reg, i->op[0].size, v);
	return 0;
}

static int h_cbw(struct cpu *cpu, const struct insn *i)
{
	uint32_t a = cpu->r[R_EAX];
	if (i->mnem == ZYDIS_MNEMONIC_CBW)
		reg_set(cpu, R_EAX, 2, (uint32_t)(int32_t)(int8_t)a);
	else
		cpu->r[R_EAX] = (uint32_t)(int32_t)(int16_t)a;
	return 0;
}

static int h_cwd(struct cpu *cpu, const struct insn *i)
{
	if (i->mnem == ZYDIS_MNEMONIC_CWD)
		reg_set(cpu, R_EDX, 2, (cpu->r[R_EAX] & 0x8000) ? 0xffff : 0);
	else
		cpu->r[R_EDX] = (cpu->r[R_EAX] & 0x80000000u) ? ~0u : 0;
	return 0;
}

static int h_flagop(struct cpu *cpu, const struct insn *i)
{
	flags__materialize(cpu);
	switch (i->mnem) {
	case ZYDIS_MNEMONIC_CLC: cpu->eflags &= ~FL_CF; break;
	case ZYDIS_MNEMONIC_STC: cpu->eflags |= FL_CF; break;
	case ZYDIS_MNEMONIC_CMC: cpu->eflags ^= FL_CF; break;
	case ZYDIS_MNEMONIC_CLD: cpu->eflags &= ~FL_DF; break;
	case ZYDIS_MNEMONIC_STD: cpu->eflags |= FL_DF; break;
	case ZYDIS_MNEMONIC_LAHF:
		reg_set(cpu, 4, 1, (cpu->eflags & 0xd5) | FL_1);
		break;
	case ZYDIS_MNEMONIC_SAHF:
		cpu->eflags = (cpu->eflags & ~0xd5u) |
			      ((cpu->r[R_EAX] >> 8) & 0xd5);
		break;
	case ZYDIS_MNEMONIC_SALC:
		reg_set(cpu, 0, 1, (cpu->eflags & FL_CF) ? 0xff : 0);
		break;
	default:
		break;
	}
	return 0;
}

static int h_nop(struct cpu *cpu, const struct insn *i)
{
	return 0;
}

static int h_xlat(struct cpu *cpu, const struct insn *i)
{
	uint32_t off = cpu->r[R_EBX] + (cpu->r[R_EAX] & 0xff), v;
	if (i->asz == 2)
		off &= 0xffff;
	if (mem__read(cpu, i->seg, off, &v, 1))
		return CPU_ABORT;
	reg_set(cpu, 0, 1, v);
	return 0;
}

/* ---- BCD (SDM Vol. 2 DAA/DAS/AAA/AAS/AAM/AAD) --------------------------- */

static int h_bcd(struct cpu *cpu, const struct insn *i)
{
	uint32_t al = cpu->r[R_EAX] & 0xff, ah = (cpu->r[R_EAX] >> 8) & 0xff;
	uint32_t f, cf, af, res;

	flags__materialize(cpu);
	f = cpu->eflags;
	cf = f & FL_CF;
	af = f & FL_AF;
	switch (i->mnem) {
	case ZYDIS_MNEMONIC_DAA:
	case ZYDIS_MNEMONIC_DAS: {
		bool sub = i->mnem == ZYDIS_MNEMONIC_DAS;
		uint32_t old = al, ncf = 0, naf = 0, of;
		if ((al & 0xf) > 9 || af) {
			ncf = cf || (sub ? al < 6 : al + 6 > 0xff);
			al = (sub ? al - 6 : al + 6) & 0xff;
			naf = FL_AF;
		}
		if (old > 0x99 || cf) {
			al = (sub ? al - 0x60 : al + 0x60) & 0xff;
			ncf = 1;
		}
		/* OF undefined: hardware computes it as for the ADD/SUB. */
		of = sub ? ((old ^ al) & (old & 0x80) ? FL_OF : 0)
			 : ((~old & al & 0x80) ? FL_OF : 0);
		reg_set(cpu, 0, 1, al);
		flags__set_arith(cpu, FL_ARITH, szp_flags(al, 1) | naf |
					(ncf ? FL_CF : 0) | of);
		return 0;
	}
	case ZYDIS_MNEMONIC_AAA:
	case ZYDIS_MNEMONIC_AAS: {
		uint32_t ax = cpu->r[R_EAX] & 0xffff, nf = 0;
		if ((al & 0xf) > 9 || af) {
			if (i->mnem == ZYDIS_MNEMONIC_AAA)
				ax += 0x106;
			else
				ax = (ax - 6 - 0x100) & 0xffff;	/* AX-6, AH-1 */
			nf = FL_AF | FL_CF;
		}
		ax = (ax & 0xff0f) & 0xffff;
		reg_set(cpu, 0, 2, ax);
		flags__set_arith(cpu, FL_ARITH, nf | szp_flags(ax & 0xff, 1));
		return 0;
	}
	case ZYDIS_MNEMONIC_AAM:
		if ((i->imm & 0xff) == 0)
			return cpu__raise(cpu, EXC_DE, 0);
		res = al % (i->imm & 0xff);
		reg_set(cpu, 0, 2, ((al / (i->imm & 0xff)) << 8) | res);
		flags__set_arith(cpu, FL_ARITH, szp_flags(res, 1));
		return 0;
	default:	/* AAD */
		res = (al + ah * (i->imm & 0xff)) & 0xff;
		lf_set(cpu, LF_ADD, 1, res, al, (ah * (i->imm & 0xff)) & 0xff);
		reg_set(cpu, 0, 2, res);
		return 0;
	}
}

insn_fn alu__handler_fast(const struct insn *i);
insn_fn alu__handler_fast(const struct insn *i)
{
	bool rr = i->nops == 2 && i->op[0].kind == OK_REG && i->op[0].size == 4 &&
		  i->op[1].kind == OK_REG && i->op[1].size == 4;
	bool ri = i->nops == 2 && i->op[0].kind == OK_REG && i->op[0].size == 4 &&
		  i->op[1].kind == OK_IMM;
#define FAST(M, n) case ZYDIS_MNEMONIC_##M: \
		return rr ? h_##n##_rr : ri ? h_##n##_ri : h_##n;
	switch (i->mnem) {
	FAST(ADD, add) FAST(OR, or) FAST(ADC, adc) FAST(SBB, sbb)
	FAST(AND, and) FAST(SUB, sub) FAST(XOR, xor) FAST(CMP, cmp)
	FAST(TEST, test)
	case ZYDIS_MNEMONIC_MOV:
		if (rr)
			return h_mov_rr;
		if (ri)
			return h_mov_ri;
		if (i->op[0].kind == OK_REG && i->op[0].size == 4 &&
		    i->op[1].kind == OK_MEM)
			return h_mov_rm;
		if (i->op[0].kind == OK_MEM && i->op[0].size == 4 &&
		    i->op[1].kind == OK_REG && i->op[1].size == 4)
			return h_mov_mr;
		return h_mov;
	case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC:
		return i->op[0].kind == OK_REG && i->op[0].size == 4 ? h_inc_r32
								   : h_inc;
	default:
		return NULL;
	}
#undef FAST
}

insn_fn alu__handler(unsigned mnem)
{
	if (mnem >= ZYDIS_MNEMONIC_CMOVB && mnem <= ZYDIS_MNEMONIC_CMOVZ)
		return h_cmovcc;
	switch (mnem) {
	case ZYDIS_MNEMONIC_NOT: return h_not;
	case ZYDIS_MNEMONIC_NEG: return h_neg;
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX: return h_movzx;
	case ZYDIS_MNEMONIC_LEA: return h_lea;
	case ZYDIS_MNEMONIC_XCHG: return h_xchg;
	case ZYDIS_MNEMONIC_XADD: return h_xadd;
	case ZYDIS_MNEMONIC_CMPXCHG: return h_cmpxchg;
	case ZYDIS_MNEMONIC_CMPXCHG8B: return h_cmpxchg8b;
	case ZYDIS_MNEMONIC_BSWAP: return h_bswap;
	case ZYDIS_MNEMONIC_CBW:
	case ZYDIS_MNEMONIC_CWDE: return h_cbw;
	case ZYDIS_MNEMONIC_CWD:
	case ZYDIS_MNEMONIC_CDQ: return h_cwd;
	case ZYDIS_MNEMONIC_CLC: case ZYDIS_MNEMONIC_STC:
	case ZYDIS_MNEMONIC_CMC: case ZYDIS_MNEMONIC_CLD:
	case ZYDIS_MNEMONIC_STD: case ZYDIS_MNEMONIC_LAHF:
	case ZYDIS_MNEMONIC_SAHF: case ZYDIS_MNEMONIC_SALC:
		return h_flagop;
	case ZYDIS_MNEMONIC_NOP: case ZYDIS_MNEMONIC_PAUSE:
	case ZYDIS_MNEMONIC_LFENCE: case ZYDIS_MNEMONIC_MFENCE:
	case ZYDIS_MNEMONIC_SFENCE: case ZYDIS_MNEMONIC_PREFETCHNTA:
	case ZYDIS_MNEMONIC_PREFETCHT0: case ZYDIS_MNEMONIC_PREFETCHT1:
	case ZYDIS_MNEMONIC_PREFETCHT2: case ZYDIS_MNEMONIC_PREFETCHW:
	case ZYDIS_MNEMONIC_PREFETCH:
		return h_nop;
	case ZYDIS_MNEMONIC_MOVNTI: return h_mov;
	case ZYDIS_MNEMONIC_XLAT: return h_xlat;
	case ZYDIS_MNEMONIC_DAA: case ZYDIS_MNEMONIC_DAS:
	case ZYDIS_MNEMONIC_AAA: case ZYDIS_MNEMONIC_AAS:
	case ZYDIS_MNEMONIC_AAM: case ZYDIS_MNEMONIC_AAD:
		return h_bcd;
	default:
		return NULL;
	}
}
