/* monitor/cpu-ctl.c — stack and control transfer: PUSH/POP and friends,
 * near and far JMP/CALL/RET (code segments, call gates, task gates/TSS),
 * Jcc/LOOP/JCXZ, ENTER/LEAVE, INT n/INT3/INTO/IRET, BOUND, far pointer
 * loads (SDM Vol. 2; Vol. 3 §5.8 for call gates).
 */
#include "monitor/cpu-internal.h"


int stack__push(struct cpu *cpu, uint32_t v, unsigned size)
{
	uint32_t m = stack_mask(cpu), esp = (cpu->r[R_ESP] - size) & m;
	if (mem__write(cpu, SEG_SS, esp, v, size))
		return CPU_ABORT;
	cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | esp;
	return 0;
}

int stack__pop(struct cpu *cpu, uint32_t *v, unsigned size)
{
	uint32_t m = stack_mask(cpu), esp = cpu->r[R_ESP] & m;
	if (mem__read(cpu, SEG_SS, esp, v, size))
		return CPU_ABORT;
	cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | ((esp + size) & m);
	return 0;
}


static int h_push(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	unsigned sz = i->op[0].kind == OK_SREG || i->op[0].kind == OK_IMM
			      ? i->osz : i->op[0].size;
	if (op_read(cpu, i, 0, &v))
		return CPU_ABORT;
	if (i->op[0].kind == OK_SREG && sz == 4) {
		/* P6+: a 32-bit push of a segment register writes 16 bits. */
		uint32_t m = stack_mask(cpu), esp = (cpu->r[R_ESP] - 4) & m;
		if (mem__write(cpu, SEG_SS, esp, v, 2))
			return CPU_ABORT;
		cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | esp;
		return 0;
	}
	return stack__push(cpu, v, sz);
}

static int h_push_r32(struct cpu *cpu, const struct insn *i)
{
	return stack__push(cpu, cpu->r[i->op[0].reg], 4);
}

static int h_pop_r32(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (stack__pop(cpu, &v, 4))
		return CPU_ABORT;
	cpu->r[i->op[0].reg] = v;
	return 0;
}

static int h_pop(struct cpu *cpu, const struct insn *i)
{
	uint32_t v, old = cpu->r[R_ESP];
	unsigned sz = i->op[0].kind == OK_SREG ? i->osz : i->op[0].size;

	if (stack__peek(cpu, 0, &v, sz == 4 && i->op[0].kind == OK_SREG ? 2 : sz))
		return CPU_ABORT;
	stack__add(cpu, sz);
	if (i->op[0].kind == OK_SREG) {
		if (seg__load(cpu, i->op[0].reg, (uint16_t)v)) {
			cpu->r[R_ESP] = old;
			return CPU_ABORT;
		}
		if (i->op[0].reg == SEG_SS)
			cpu->shadow = 1;
		return 0;
	}
	/* The ESP used in the destination's address is the incremented one. */
	if (op_write(cpu, i, 0, v)) {
		cpu->r[R_ESP] = old;
		return CPU_ABORT;
	}
	return 0;
}

static int h_pusha(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->osz;
	uint32_t m = stack_mask(cpu), esp = cpu->r[R_ESP];
	for (int r = 0; r < 8; r++) {
		uint32_t v = r == R_ESP ? esp : cpu->r[r];
		if (mem__write(cpu, SEG_SS, (esp - (r + 1) * sz) & m, v, sz)) {
			cpu->r[R_ESP] = esp;
			return CPU_ABORT;
		}
	}
	cpu->r[R_ESP] = (esp & ~m) | ((esp - 8 * sz) & m);
	return 0;
}

static int h_popa(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->osz;
	uint32_t v[8];
	for (int r = 0; r < 8; r++)
		if (stack__peek(cpu, (7 - r) * sz, &v[r], sz))
			return CPU_ABORT;
	for (int r = 0; r < 8; r++)
		if (r != R_ESP)
			reg_set(cpu, r, sz, v[r]);
	stack__add(cpu, 8 * sz);
	return 0;
}

static int h_pushf(struct cpu *cpu, const struct insn *i)
{
	uint32_t f;
	if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
		return cpu__raise(cpu, EXC_GP, 0);
	f = cpu__eflags(cpu) & ~(FL_VM | FL_RF);
	return stack__push(cpu, f, i->osz);
}

static int h_popf(struct cpu *cpu, const struct insn *i)
{
	uint32_t f, mask;
	if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
		return cpu__raise(cpu, EXC_GP, 0);
	if (stack__peek(cpu, 0, &f, i->osz))
		return CPU_ABORT;
	stack__add(cpu, i->osz);
	mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
	if (!cpu_pmode(cpu) || cpu->cpl == 0)
		mask |= FL_IOPL | FL_IF;
	else if (cpu->cpl <= cpu_iopl(cpu))
		mask |= FL_IF;
	if (cpu_v86(cpu))
		mask &= ~FL_IOPL;
	if (i->osz == 2)
		mask &= 0xffff;
	cpu->lf.op = LF_NONE;
	cpu->eflags = (cpu->eflags & ~mask & ~FL_RF) | (f & mask) | FL_1;
	return 0;
}

/* ---- Near transfers ------------------------------------------------------- */

static inline int set_eip(struct cpu *cpu, uint32_t t, unsigned osz)
{
	if (osz == 2)
		t &= 0xffff;
	if (unlikely(t > cpu->seg[SEG_CS].limit))
		return cpu__raise(cpu, EXC_GP, 0);
	cpu->eip = t;
	return 0;
}

static int h_jcc(struct cpu *cpu, const struct insn *i)
{
	if (flags__cond(cpu, i->imm2))
		return set_eip(cpu, cpu->eip + i->imm, i->osz);
	return 0;
}

static int h_jmp(struct cpu *cpu, const struct insn *i)
{
	uint32_t t;
	if (i->op[0].kind == OK_REL)
		return set_eip(cpu, cpu->eip + i->imm, i->osz);
	if (op_read(cpu, i, 0, &t))
		return CPU_ABORT;
	return set_eip(cpu, t, i->osz);
}

static int h_call(struct cpu *cpu, const struct insn *i)
{
	uint32_t t, ret = cpu->eip;
	if (i->op[0].kind == OK_REL)
		t = cpu->eip + i->imm;
	else if (op_read(cpu, i, 0, &t))
		return CPU_ABORT;
	if (i->osz == 2)
		t &= 0xffff;
	if (t > cpu->seg[SEG_CS].limit)
		return cpu__raise(cpu, EXC_GP, 0);
	if (stack__push(cpu, ret, i->osz))
		return CPU_ABORT;
	cpu->eip = t;
	return 0;
}

static int h_ret(struct cpu *cpu, const struct insn *i)
{
	uint32_t t;
	if (stack__peek(cpu, 0, &t, i->osz))
		return CPU_ABORT;
	if (set_eip(cpu, t, i->osz))
		return CPU_ABORT;
	stack__add(cpu, i->osz + (i->nops ? (i->imm & 0xffff) : 0));
	return 0;
}

static int h_loop(struct cpu *cpu, const struct insn *i)
{
	uint32_t m = i->asz == 2 ? 0xffff : 0xffffffffu, c;
	bool take;

	if (i->mnem == ZYDIS_MNEMONIC_JCXZ || i->mnem == ZYDIS_MNEMONIC_JECXZ) {
		take = (cpu->r[R_ECX] & m) == 0;
	} else {
		c = (cpu->r[R_ECX] - 1) & m;
		cpu->r[R_ECX] = (cpu->r[R_ECX] & ~m) | c;
		take = c != 0;
		if (i->mnem == ZYDIS_MNEMONIC_LOOPE)
			take = take && flags__cond(cpu, 4);
		else if (i->mnem == ZYDIS_MNEMONIC_LOOPNE)
			take = take && !flags__cond(cpu, 4);
	}
	if (take)
		return set_eip(cpu, cpu->eip + i->imm, i->osz);
	return 0;
}

static int h_enter(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->osz, level = i->imm2 & 31;
	uint32_t m = stack_mask(cpu), esp = cpu->r[R_ESP], ebp = cpu->r[R_EBP];
	uint32_t frame, v;

	esp = (esp - sz) & m;
	if (mem__write(cpu, SEG_SS, esp, ebp, sz))
		return CPU_ABORT;
	frame = esp;
	for (unsigned k = 1; k < level; k++) {
		uint32_t bp = (ebp - k * sz) & (sz == 4 && m == 0xffffffffu ? m : 0xffff);
		if (mem__read(cpu, SEG_SS, bp & m, &v, sz))
			return CPU_ABORT;
		esp = (esp - sz) & m;
		if (mem__write(cpu, SEG_SS, esp, v, sz))
			return CPU_ABORT;
	}
	if (level) {
		esp = (esp - sz) & m;
		if (mem__write(cpu, SEG_SS, esp, frame, sz))
			return CPU_ABORT;
	}
	esp = (esp - (i->imm & 0xffff)) & m;
	/* The final stack pointer must be writable (SDM: #SS if not). */
	if (mem__read(cpu, SEG_SS, esp, &v, 1))
		return CPU_ABORT;
	reg_set(cpu, R_EBP, sz, frame);
	cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | esp;
	return 0;
}

static int h_leave(struct cpu *cpu, const struct insn *i)
{
	uint32_t m = stack_mask(cpu), v, old = cpu->r[R_ESP];
	cpu->r[R_ESP] = (cpu->r[R_ESP] & ~m) | (cpu->r[R_EBP] & m);
	if (stack__pop(cpu, &v, i->osz)) {
		cpu->r[R_ESP] = old;
		return CPU_ABORT;
	}
	reg_set(cpu, R_EBP, i->osz, v);
	return 0;
}

static int h_int(struct cpu *cpu, const struct insn *i)
{
	int vec = i->mnem == ZYDIS_MNEMONIC_INT3 ? 3 : i->mnem == ZYDIS_MNEMONIC_INTO
		  ? 4 : i->mnem == ZYDIS_MNEMONIC_INT1 ? 1 : (int)(i->imm & 0xff);
	int src = i->mnem == ZYDIS_MNEMONIC_INT1 ? INT_ICEBP : INT_SOFT;

	if (i->mnem == ZYDIS_MNEMONIC_INTO && !flags__cond(cpu, 0))
		return 0;
	/* V86 mode with IOPL < 3: INT n is #GP(0) (no VME). */
	if (cpu_v86(cpu) && cpu_iopl(cpu) < 3 && i->mnem == ZYDIS_MNEMONIC_INT)
		return cpu__raise(cpu, EXC_GP, 0);
	if (vec < 32)
		cpu->nexc[vec]++;
	return exc__deliver(cpu, vec, src, false, 0);
}

static int h_iret(struct cpu *cpu, const struct insn *i)
{
	return exc__iret(cpu, i->osz);
}

static int h_bound(struct cpu *cpu, const struct insn *i)
{
	uint32_t lo, hi, v = reg_get(cpu, i->op[0].reg, i->osz);
	uint32_t ea = insn_ea(cpu, i), sg = size_sign(i->osz);
	if (mem__read(cpu, i->seg, ea, &lo, i->osz) ||
	    mem__read(cpu, i->seg, (ea + i->osz) & (i->asz == 2 ? 0xffff : ~0u),
		      &hi, i->osz))
		return CPU_ABORT;
	if ((int32_t)((v ^ sg) - sg) < (int32_t)((lo ^ sg) - sg) ||
	    (int32_t)((v ^ sg) - sg) > (int32_t)((hi ^ sg) - sg))
		return cpu__raise(cpu, EXC_BR, 0);
	return 0;
}

static int h_lxs(struct cpu *cpu, const struct insn *i)
{
	uint32_t o, s, ea = insn_ea(cpu, i);
	int seg = i->mnem == ZYDIS_MNEMONIC_LDS ? SEG_DS : i->mnem == ZYDIS_MNEMONIC_LES
		  ? SEG_ES : i->mnem == ZYDIS_MNEMONIC_LFS ? SEG_FS
		  : i->mnem == ZYDIS_MNEMONIC_LGS ? SEG_GS : SEG_SS;
	if (i->op[1].kind != OK_MEM)
		return cpu__raise(cpu, EXC_UD, 0);
	if (mem__read(cpu, i->seg, ea, &o, i->osz) ||
	    mem__read(cpu, i->seg, ea + i->osz, &s, 2))
		return CPU_ABORT;
	if (seg__load(cpu, seg, (uint16_t)s))
		return CPU_ABORT;
	reg_set(cpu, i->op[0].reg, i->osz, o);
	return 0;
}

insn_fn ctl__handler_fast(const struct insn *i);
insn_fn ctl__handler_fast(const struct insn *i)
{
	if (i->mnem == ZYDIS_MNEMONIC_PUSH && i->op[0].kind == OK_REG &&
	    i->op[0].size == 4)
		return h_push_r32;
	if (i->mnem == ZYDIS_MNEMONIC_POP && i->op[0].kind == OK_REG &&
	    i->op[0].size == 4)
		return h_pop_r32;
	return NULL;
}

insn_fn ctl__handler(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_PUSH: return h_push;
	case ZYDIS_MNEMONIC_POP: return h_pop;
	case ZYDIS_MNEMONIC_PUSHA: case ZYDIS_MNEMONIC_PUSHAD: return h_pusha;
	case ZYDIS_MNEMONIC_POPA: case ZYDIS_MNEMONIC_POPAD: return h_popa;
	case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFD: return h_pushf;
	case ZYDIS_MNEMONIC_POPF: case ZYDIS_MNEMONIC_POPFD: return h_popf;
	case ZYDIS_MNEMONIC_JMP: return h_jmp;
	case ZYDIS_MNEMONIC_CALL: return h_call;
	case ZYDIS_MNEMONIC_RET: return h_ret;
	case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE: case ZYDIS_MNEMONIC_JCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
		return h_loop;
	case ZYDIS_MNEMONIC_ENTER: return h_enter;
	case ZYDIS_MNEMONIC_LEAVE: return h_leave;
	case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_INTO: case ZYDIS_MNEMONIC_INT1:
		return h_int;
	case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD: return h_iret;
	case ZYDIS_MNEMONIC_BOUND: return h_bound;
	case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES:
	case ZYDIS_MNEMONIC_LFS: case ZYDIS_MNEMONIC_LGS:
	case ZYDIS_MNEMONIC_LSS:
		return h_lxs;
	default:
		if (mnem >= ZYDIS_MNEMONIC_JB && mnem <= ZYDIS_MNEMONIC_JZ)
			return h_jcc;
		return NULL;
	}
}
