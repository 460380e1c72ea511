/* monitor/cpu-far.c — far JMP/CALL/RET: to code segments, through call
 * gates (with the stack switch and parameter copy of a call to an inner
 * level), to TSS descriptors and task gates; real and V86 mode forms
 * (SDM Vol. 2 JMP/CALL/RET, Vol. 3 §5.8).
 */
#include "monitor/cpu-internal.h"


/* ---- Far transfers -------------------------------------------------------- */

/* Pushes a far CALL's return CS and EIP (size 2 or 4 bytes each) on the
 * current stack; ESP changes only when both writes succeeded.
 * Returns 0 or CPU_ABORT. */
static int push_far_return(struct cpu *cpu, uint32_t ret_cs, uint32_t ret_eip,
			   unsigned size)
{
	uint32_t m = stack_mask(cpu), esp = cpu->r[R_ESP];
	if (mem__write(cpu, SEG_SS, (esp - size) & m, ret_cs, size) ||
	    mem__write(cpu, SEG_SS, (esp - 2 * size) & m, ret_eip, size))
		return CPU_ABORT;
	cpu->r[R_ESP] = (esp & ~m) | ((esp - 2 * size) & m);
	return 0;
}

/* Far JMP/CALL to sel:off (SDM Vol. 2 JMP, CALL). */
static int far_transfer(struct cpu *cpu, uint16_t sel, uint32_t off,
			unsigned osz, bool call)
{
	uint64_t d, cd;
	uint16_t attr;
	uint32_t ret_cs = cpu->seg[SEG_CS].sel, ret_eip = cpu->eip;

	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		if (call && push_far_return(cpu, ret_cs, ret_eip, osz))
			return CPU_ABORT;
		seg__load(cpu, SEG_CS, sel);
		cpu->eip = osz == 2 ? off & 0xffff : off;
		return 0;
	}
	if ((sel & ~3) == 0)
		return cpu__raise(cpu, EXC_GP, 0);
	if (seg__read_desc(cpu, sel, &d, EXC_GP))
		return CPU_ABORT;
	attr = (uint16_t)(d >> 40);
	if (attr & SEGA_S) {
		uint32_t base, limit;
		uint16_t a;
		if (seg__check_code(cpu, sel, d, cpu->cpl, false))
			return CPU_ABORT;
		seg__desc_unpack(d, &base, &limit, &a);
		if (osz == 2)
			off &= 0xffff;
		if (off > limit)
			return cpu__raise(cpu, EXC_GP, 0);
		if (call && push_far_return(cpu, ret_cs, ret_eip, osz))
			return CPU_ABORT;
		if (seg__commit_cs(cpu, sel, d, cpu->cpl))
			return CPU_ABORT;
		cpu->eip = off;
		return 0;
	}
	{
		unsigned t = SEGA_TYPE(attr), dpl = SEGA_DPL(attr);
		if (t == 1 || t == 9 || t == 5) {	/* TSS or task gate */
			if (dpl < cpu->cpl || dpl < (sel & 3))
				return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
			if (!(attr & SEGA_P))
				return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
			if (t == 5) {
				uint16_t tsel = (uint16_t)(d >> 16);
				if (seg__read_desc(cpu, tsel, &d, EXC_GP))
					return CPU_ABORT;
				sel = tsel;
			}
			return task__switch(cpu, sel, d, call ? TS_CALL : TS_JMP,
					    false, 0);
		}
		if (t != 4 && t != 12)
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
		/* Call gate (SDM Vol. 3 §5.8.4). */
		if (dpl < cpu->cpl || dpl < (sel & 3))
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
		if (!(attr & SEGA_P))
			return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
		{
			uint16_t csel = (uint16_t)(d >> 16), ca;
			uint32_t target = (uint32_t)(d & 0xffff) |
					  (uint32_t)((d >> 32) & 0xffff0000u);
			unsigned gsz = t == 12 ? 4 : 2, cdpl, nparam = d >> 32 & 31;
			if (gsz == 2)
				target &= 0xffff;
			if ((csel & ~3) == 0)
				return cpu__raise(cpu, EXC_GP, 0);
			if (seg__read_desc(cpu, csel, &cd, EXC_GP))
				return CPU_ABORT;
			ca = (uint16_t)(cd >> 40);
			cdpl = SEGA_DPL(ca);
			if (!(ca & SEGA_S) || !(SEGA_TYPE(ca) & 8) || cdpl > cpu->cpl ||
			    (!call && !(SEGA_TYPE(ca) & 4) && cdpl != cpu->cpl))
				return cpu__raise(cpu, EXC_GP, csel & 0xfffc);
			if (!(ca & SEGA_P))
				return cpu__raise(cpu, EXC_NP, csel & 0xfffc);
			if (call && !(SEGA_TYPE(ca) & 4) && cdpl < cpu->cpl) {
				/* More privileged: switch stacks, copy params. */
				uint32_t nesp, params[32], oesp = cpu->r[R_ESP];
				uint16_t nss;
				uint64_t sd;
				uint32_t sb, sl, m2;
				uint16_t sa;
				bool t32 = (SEGA_TYPE(cpu->tr.attr) & 8) != 0;
				uint32_t toff = t32 ? 4 + cdpl * 8 : 2 + cdpl * 4;
				uint16_t oss = cpu->seg[SEG_SS].sel;
				nesp = 0;
				if (mem__lin_read(cpu, cpu->tr.base + toff, &nesp, t32 ? 4 : 2, ACC_R | ACC_SUP) ||
				    mem__lin_read(cpu, cpu->tr.base + toff + (t32 ? 4 : 2), &nss, 2, ACC_R | ACC_SUP))
					return CPU_ABORT;
				if ((nss & ~3) == 0)
					return cpu__raise(cpu, EXC_TS, 0);
				if (seg__read_desc(cpu, nss, &sd, EXC_TS))
					return CPU_ABORT;
				seg__desc_unpack(sd, &sb, &sl, &sa);
				if ((nss & 3) != cdpl || SEGA_DPL(sa) != cdpl ||
				    !(sa & SEGA_S) || (SEGA_TYPE(sa) & 0xa) != 2)
					return cpu__raise(cpu, EXC_TS, nss & 0xfffc);
				if (!(sa & SEGA_P))
					return cpu__raise(cpu, EXC_SS, nss & 0xfffc);
				for (unsigned k = 0; k < nparam; k++)
					if (stack__peek(cpu, k * gsz, &params[k], gsz))
						return CPU_ABORT;
				{
					uint8_t buf[4 * 36];
					unsigned n = 0, len;
					uint32_t vals[36];
					vals[n++] = ret_eip;
					vals[n++] = ret_cs;
					for (unsigned k = 0; k < nparam; k++)
						vals[n++] = params[k];
					vals[n++] = oesp;
					vals[n++] = oss;
					/* vals[] is in increasing address order. */
					for (unsigned k = 0; k < n; k++) {
						if (gsz == 4)
							__builtin_memcpy(buf + 4 * k, &vals[k], 4);
						else {
							uint16_t h = (uint16_t)vals[k];
							__builtin_memcpy(buf + 2 * k, &h, 2);
						}
					}
					len = n * gsz;
					m2 = (sa & SEGA_DB) ? 0xffffffffu : 0xffff;
					if (((nesp - len) & m2) + len - 1 > sl)
						return cpu__raise(cpu, EXC_SS, nss & 0xfffc);
					if (mem__lin_write(cpu, sb + ((nesp - len) & m2), buf,
							   len, ACC_W | ACC_SUP))
						return CPU_ABORT;
					if (seg__commit_cs(cpu, csel, cd, cdpl))
						return CPU_ABORT;
					seg__load_raw(cpu, SEG_SS, nss, sb, sl, (uint16_t)(sd >> 40));
					cpu->r[R_ESP] = (nesp & ~m2) | ((nesp - len) & m2);
					cpu->eip = target;
				}
				return 0;
			}
			if (call && push_far_return(cpu, ret_cs, ret_eip, gsz))
				return CPU_ABORT;
			if (seg__commit_cs(cpu, csel, cd, cpu->cpl))
				return CPU_ABORT;
			cpu->eip = target;
			return 0;
		}
	}
}

static int far_operand(struct cpu *cpu, const struct insn *i, uint16_t *sel,
		       uint32_t *off)
{
	uint32_t o, s, ea = insn_ea(cpu, i);
	if (i->op[0].kind == OK_PTR) {
		*sel = (uint16_t)i->imm2;
		*off = i->imm;
		return 0;
	}
	if (i->op[0].kind != OK_MEM)
		return cpu__raise(cpu, EXC_UD, 0);
	if (mem__read(cpu, i->seg, ea, &o, i->osz) ||
	    mem__read(cpu, i->seg, ea + i->osz, &s, 2))
		return CPU_ABORT;
	*sel = (uint16_t)s;
	*off = o;
	return 0;
}

static int h_jmp_far(struct cpu *cpu, const struct insn *i)
{
	uint16_t sel = 0;
	uint32_t off = 0;
	if (far_operand(cpu, i, &sel, &off))
		return CPU_ABORT;
	return far_transfer(cpu, sel, off, i->osz, i->mnem == ZYDIS_MNEMONIC_CALL);
}

static int h_retf(struct cpu *cpu, const struct insn *i)
{
	unsigned sz = i->osz, imm = i->nops ? i->imm & 0xffff : 0;
	uint32_t eip, cs;
	uint64_t d;

	if (stack__peek(cpu, 0, &eip, sz) || stack__peek(cpu, sz, &cs, sz))
		return CPU_ABORT;
	cs &= 0xffff;
	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		stack__add(cpu, 2 * sz + imm);
		seg__load(cpu, SEG_CS, (uint16_t)cs);
		cpu->eip = sz == 2 ? eip & 0xffff : eip;
		return 0;
	}
	if ((cs & ~3) == 0)
		return cpu__raise(cpu, EXC_GP, 0);
	if (seg__read_desc(cpu, (uint16_t)cs, &d, EXC_GP) ||
	    seg__check_code(cpu, (uint16_t)cs, d, cs & 3, true))
		return CPU_ABORT;
	if ((cs & 3) > cpu->cpl) {
		uint32_t nesp, nss, sb, sl;
		uint64_t sd;
		uint16_t sa;
		unsigned rpl = cs & 3;
		if (stack__peek(cpu, 2 * sz + imm, &nesp, sz) ||
		    stack__peek(cpu, 3 * sz + imm, &nss, sz))
			return CPU_ABORT;
		nss &= 0xffff;
		if ((nss & ~3) == 0)
			return cpu__raise(cpu, EXC_GP, 0);
		if (seg__read_desc(cpu, (uint16_t)nss, &sd, EXC_GP))
			return CPU_ABORT;
		seg__desc_unpack(sd, &sb, &sl, &sa);
		if ((nss & 3) != rpl || SEGA_DPL(sa) != rpl || !(sa & SEGA_S) ||
		    (SEGA_TYPE(sa) & 0xa) != 2)
			return cpu__raise(cpu, EXC_GP, nss & 0xfffc);
		if (!(sa & SEGA_P))
			return cpu__raise(cpu, EXC_SS, nss & 0xfffc);
		if (seg__commit_cs(cpu, (uint16_t)cs, d, rpl))
			return CPU_ABORT;
		seg__load_raw(cpu, SEG_SS, (uint16_t)nss, sb, sl, (uint16_t)(sd >> 40));
		cpu->r[R_ESP] = (sa & SEGA_DB) ? nesp + imm
			: (cpu->r[R_ESP] & 0xffff0000u) | ((nesp + imm) & 0xffff);
		seg__invalidate_outer(cpu);
	} else {
		if (seg__commit_cs(cpu, (uint16_t)cs, d, cpu->cpl))
			return CPU_ABORT;
		stack__add(cpu, 2 * sz + imm);
	}
	cpu->eip = sz == 2 ? eip & 0xffff : eip;
	return 0;
}

insn_fn ctl__far_handler(unsigned mnem);
insn_fn ctl__far_handler(unsigned mnem)
{
	return mnem == ZYDIS_MNEMONIC_RET ? h_retf : h_jmp_far;
}

