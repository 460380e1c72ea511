/* monitor/cpu-sys.c — system instructions: port I/O with the IOPL/TSS
 * bitmap checks, CLI/STI/HLT, control and debug registers, descriptor
 * table registers, LLDT/LTR, LAR/LSL/VERR/VERW/ARPL, INVLPG, SYSENTER/
 * SYSEXIT, CPUID/RDTSC/RDMSR/WRMSR (SDM Vol. 2 and Vol. 3 ch. 2, 5).
 */
#include "monitor/cpu-internal.h"


static int need_cpl0(struct cpu *cpu)
{
	if (cpu_pmode(cpu) && (cpu->cpl != 0 || cpu_v86(cpu)))
		return cpu__raise(cpu, EXC_GP, 0);
	return 0;
}

static int need_pmode(struct cpu *cpu)
{
	if (!cpu_pmode(cpu) || cpu_v86(cpu))
		return cpu__raise(cpu, EXC_UD, 0);
	return 0;
}

/* ---- Port I/O --------------------------------------------------------- */

int io__check(struct cpu *cpu, uint16_t port, unsigned len)
{
	uint16_t base, bits = 0;

	if (!cpu_pmode(cpu) || (!cpu_v86(cpu) && cpu->cpl <= cpu_iopl(cpu)))
		return 0;
	/* SDM Vol. 1 §18.5.2: 32-bit TSS, bitmap at the offset in byte 102. */
	if (!(SEGA_TYPE(cpu->tr.attr) & 8) || cpu->tr.limit < 103)
		return cpu__raise(cpu, EXC_GP, 0);
	if (mem__lin_read(cpu, cpu->tr.base + 102, &base, 2, ACC_R | ACC_SUP))
		return CPU_ABORT;
	if ((uint32_t)base + port / 8 + 1 > cpu->tr.limit)
		return cpu__raise(cpu, EXC_GP, 0);
	if (mem__lin_read(cpu, cpu->tr.base + base + port / 8, &bits, 2,
			  ACC_R | ACC_SUP))
		return CPU_ABORT;
	if ((bits >> (port & 7)) & ((1u << len) - 1))
		return cpu__raise(cpu, EXC_GP, 0);
	return 0;
}

int io__port(struct cpu *cpu, uint16_t port, uint32_t *v, unsigned len,
	     bool write);
int io__port(struct cpu *cpu, uint16_t port, uint32_t *v, unsigned len,
	     bool write)
{
	uint32_t data = write ? *v : 0xffffffffu;
	int r = cpu->ops->pio ? cpu->ops->pio(cpu->opaque, port, &data, len, write)
			      : 0;
	if (r == CPU_BUS_STOP || r == CPU_BUS_RETRY) {
		cpu->exit_req = 1;
		cpu->smc = true;
	}
	if (r == CPU_BUS_RETRY)
		return CPU_ABORT;	/* no exception queued: re-executed */
	if (!write)
		*v = data & size_mask(len);
	return 0;
}

static int h_inout(struct cpu *cpu, const struct insn *i)
{
	bool in = i->mnem == ZYDIS_MNEMONIC_IN;
	const struct insn_op *pop = &i->op[in ? 1 : 0], *dop = &i->op[in ? 0 : 1];
	uint16_t port = pop->kind == OK_IMM ? (uint16_t)(i->imm & 0xff)
					     : (uint16_t)cpu->r[R_EDX];
	unsigned len = dop->size;
	uint32_t v;

	if (io__check(cpu, port, len))
		return CPU_ABORT;
	if (in) {
		if (io__port(cpu, port, &v, len, false))
			return CPU_ABORT;
		reg_set(cpu, R_EAX, len, v);
	} else {
		v = reg_get(cpu, R_EAX, len);
		if (io__port(cpu, port, &v, len, true))
			return CPU_ABORT;
	}
	return 0;
}

/* ---- Interrupt flag, halt ---------------------------------------------- */

static int h_cli_sti(struct cpu *cpu, const struct insn *i)
{
	if (cpu_pmode(cpu) && cpu->cpl > cpu_iopl(cpu))
		return cpu__raise(cpu, EXC_GP, 0);
	if (i->mnem == ZYDIS_MNEMONIC_CLI) {
		cpu->eflags &= ~FL_IF;
	} else {
		if (!(cpu->eflags & FL_IF))
			cpu->shadow = 1;	/* SDM Vol. 2 STI: one insn */
		cpu->eflags |= FL_IF;
	}
	return 0;
}

static int h_hlt(struct cpu *cpu, const struct insn *i)
{
	if (need_cpl0(cpu))
		return CPU_ABORT;
	cpu->halted = true;
	return CPU_RET_EXIT;
}

/* ---- Control and debug registers ------------------------------------- */

int cr__write(struct cpu *cpu, unsigned n, uint32_t v)
{
	uint32_t old;

	switch (n) {
	case 0:
		old = cpu->cr0;
		if ((v & CR0_PG) && !(v & CR0_PE))
			return cpu__raise(cpu, EXC_GP, 0);
		if ((v & CR0_NW) && !(v & CR0_CD))
			return cpu__raise(cpu, EXC_GP, 0);
		cpu->cr0 = (v & 0xe005003fu) | CR0_ET;
		if ((old ^ cpu->cr0) & (CR0_PG | CR0_WP | CR0_PE)) {
			mem__tlb_flush(cpu, true);
			cpu__mode_changed(cpu);
			if (cpu->ops->tlb_event)
				cpu->ops->tlb_event(cpu->opaque, 0, true);
		}
		return 0;
	case 2:
		cpu->cr2 = v;
		return 0;
	case 3:
		cpu->cr3 = v;
		mem__tlb_flush(cpu, false);
		return 0;
	case 4: {
		uint32_t ok = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
			      CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
		if (v & ~ok)
			return cpu__raise(cpu, EXC_GP, 0);
		old = cpu->cr4;
		cpu->cr4 = v;
		if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE)) {
			mem__tlb_flush(cpu, true);
			if (cpu->ops->tlb_event)
				cpu->ops->tlb_event(cpu->opaque, 0, true);
		}
		return 0;
	}
	default:
		return cpu__raise(cpu, EXC_UD, 0);
	}
}

static int h_mov_cr(struct cpu *cpu, const struct insn *i)
{
	bool to = i->op[0].kind == OK_CR || i->op[0].kind == OK_DR;
	const struct insn_op *c = to ? &i->op[0] : &i->op[1];
	const struct insn_op *g = to ? &i->op[1] : &i->op[0];
	unsigned n = c->reg;

	if (need_cpl0(cpu))
		return CPU_ABORT;
	if (c->kind == OK_DR) {
		if ((n == 4 || n == 5) && (cpu->cr4 & CR4_DE))
			return cpu__raise(cpu, EXC_UD, 0);
		if (n == 4 || n == 5)
			n += 2;
		if (to)
			cpu->dr[n] = n == 6 ? (cpu->r[g->reg] | 0xffff0ff0u)
				   : n == 7 ? ((cpu->r[g->reg] | 0x400) & ~0xd000u)
					    : cpu->r[g->reg];
		else
			cpu->r[g->reg] = cpu->dr[n];
		if (to && (n < 4 || n == 7))
			dbg__update(cpu);
		return 0;
	}
	if (to)
		return cr__write(cpu, n, cpu->r[g->reg]);
	switch (n) {
	case 0: cpu->r[g->reg] = cpu->cr0; return 0;
	case 2: cpu->r[g->reg] = cpu->cr2; return 0;
	case 3: cpu->r[g->reg] = cpu->cr3; return 0;
	case 4: cpu->r[g->reg] = cpu->cr4; return 0;
	default: return cpu__raise(cpu, EXC_UD, 0);
	}
}

static int h_mov_sreg(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (i->op[0].reg == SEG_CS)
		return cpu__raise(cpu, EXC_UD, 0);
	if (op_read(cpu, i, 1, &v) || seg__load(cpu, i->op[0].reg, (uint16_t)v))
		return CPU_ABORT;
	if (i->op[0].reg == SEG_SS)
		cpu->shadow = 1;
	return 0;
}

static int h_clts(struct cpu *cpu, const struct insn *i)
{
	if (need_cpl0(cpu))
		return CPU_ABORT;
	cpu->cr0 &= ~CR0_TS;
	return 0;
}

static int h_lmsw(struct cpu *cpu, const struct insn *i)
{
	uint32_t v;
	if (i->mnem == ZYDIS_MNEMONIC_SMSW)
		return op_write(cpu, i, 0, i->op[0].kind == OK_REG ? cpu->cr0
					    : cpu->cr0 & 0xffff);
	if (need_cpl0(cpu) || op_read(cpu, i, 0, &v))
		return CPU_ABORT;
	/* LMSW sets PE but cannot clear it (SDM Vol. 2 LMSW). */
	v = (cpu->cr0 & ~0xeu) | (v & 0xf) | (cpu->cr0 & CR0_PE);
	return cr__write(cpu, 0, v);
}

static int h_invlpg(struct cpu *cpu, const struct insn *i)
{
	if (need_cpl0(cpu))
		return CPU_ABORT;
	uint32_t lin = cpu->seg[i->seg].base + insn_ea(cpu, i);

	mem__tlb_flush_page(cpu, lin);
	if (cpu->ops->tlb_event)
		cpu->ops->tlb_event(cpu->opaque, lin, false);
	return 0;
}

static int h_cache(struct cpu *cpu, const struct insn *i)
{
	return need_cpl0(cpu);	/* INVD/WBINVD: no caches to model */
}

/* ---- Descriptor tables -------------------------------------------------- */

static int h_lgdt(struct cpu *cpu, const struct insn *i)
{
	uint32_t lim, base, ea = insn_ea(cpu, i);
	bool idt = i->mnem == ZYDIS_MNEMONIC_LIDT || i->mnem == ZYDIS_MNEMONIC_SIDT;
	struct dtr *t = idt ? &cpu->idtr : &cpu->gdtr;

	if (i->op[0].kind != OK_MEM)
		return cpu__raise(cpu, EXC_UD, 0);
	if (i->mnem == ZYDIS_MNEMONIC_SGDT || i->mnem == ZYDIS_MNEMONIC_SIDT) {
		if (mem__write(cpu, i->seg, ea, t->limit, 2) ||
		    mem__write(cpu, i->seg, ea + 2, t->base, 4))
			return CPU_ABORT;
		return 0;
	}
	if (need_cpl0(cpu) || mem__read(cpu, i->seg, ea, &lim, 2) ||
	    mem__read(cpu, i->seg, ea + 2, &base, 4))
		return CPU_ABORT;
	t->limit = (uint16_t)lim;
	t->base = i->osz == 2 ? base & 0xffffff : base;
	return 0;
}

static int h_lldt_ltr(struct cpu *cpu, const struct insn *i)
{
	uint32_t v, base, limit;
	uint64_t d;
	uint16_t sel, attr;
	bool ltr = i->mnem == ZYDIS_MNEMONIC_LTR;

	if (need_pmode(cpu) || need_cpl0(cpu) || op_read(cpu, i, 0, &v))
		return CPU_ABORT;
	sel = (uint16_t)v;
	if ((sel & ~3) == 0) {
		if (ltr)
			return cpu__raise(cpu, EXC_GP, 0);
		seg__load_raw(cpu, -1, sel, 0, 0, 0);
		return 0;
	}
	if (sel & 4)
		return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	if (seg__read_desc(cpu, sel, &d, EXC_GP))
		return CPU_ABORT;
	seg__desc_unpack(d, &base, &limit, &attr);
	if ((attr & SEGA_S) || (ltr ? (SEGA_TYPE(attr) != 1 && SEGA_TYPE(attr) != 9)
				    : SEGA_TYPE(attr) != 2))
		return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	if (!(attr & SEGA_P))
		return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
	if (ltr) {
		d |= 2ull << 40;	/* mark busy */
		if (seg__write_desc(cpu, sel, d))
			return CPU_ABORT;
		attr |= 2;
	}
	seg__load_raw(cpu, ltr ? -2 : -1, sel, base, limit, attr);
	return 0;
}

static int h_sldt_str(struct cpu *cpu, const struct insn *i)
{
	uint16_t sel = i->mnem == ZYDIS_MNEMONIC_STR ? cpu->tr.sel : cpu->ldtr.sel;
	if (need_pmode(cpu))
		return CPU_ABORT;
	if (i->op[0].kind == OK_MEM)
		return mem__write(cpu, i->seg, insn_ea(cpu, i), sel, 2);
	reg_set(cpu, i->op[0].reg, i->op[0].size, sel);
	return 0;
}

/* LAR/LSL/VERR/VERW: ZF tells whether the selector passes the checks. */
static int h_lar(struct cpu *cpu, const struct insn *i)
{
	uint32_t v, base, limit;
	uint64_t d;
	uint16_t sel, attr;
	unsigned t, dpl;
	bool ok = false, verx = i->mnem == ZYDIS_MNEMONIC_VERR ||
				i->mnem == ZYDIS_MNEMONIC_VERW;

	if (need_pmode(cpu) || op_read(cpu, i, verx ? 0 : 1, &v))
		return CPU_ABORT;
	sel = (uint16_t)v;
	if ((sel & ~3) == 0)
		goto out;
	{
		uint32_t tl = (sel & 4) ? cpu->ldtr.limit : cpu->gdtr.limit;
		if ((sel & 4) && !(cpu->ldtr.attr & SEGA_P))
			goto out;
		if ((sel | 7u) > tl)
			goto out;
	}
	if (seg__read_desc(cpu, sel, &d, EXC_GP))
		return CPU_ABORT;
	seg__desc_unpack(d, &base, &limit, &attr);
	t = SEGA_TYPE(attr);
	dpl = SEGA_DPL(attr);
	/* Conforming code skips the privilege check. */
	if (!((attr & SEGA_S) && (t & 0xc) == 0xc) &&
	    (dpl < cpu->cpl || dpl < (sel & 3)))
		goto out;
	if (verx) {
		if (!(attr & SEGA_S))
			goto out;
		if (i->mnem == ZYDIS_MNEMONIC_VERR)
			ok = !(t & 8) || (t & 2);
		else
			ok = !(t & 8) && (t & 2);
		if (i->mnem == ZYDIS_MNEMONIC_VERR && (t & 0xc) == 0xc)
			ok = (t & 2) != 0;
		goto out;
	}
	if (!(attr & SEGA_S)) {
		/* Valid system types (SDM Vol. 2 LAR/LSL). */
		bool lsl = i->mnem == ZYDIS_MNEMONIC_LSL;
		if (!(t == 1 || t == 2 || t == 3 || t == 9 || t == 11 ||
		      (!lsl && (t == 4 || t == 5 || t == 12))))
			goto out;
	}
	ok = true;
	if (i->mnem == ZYDIS_MNEMONIC_LSL)
		reg_set(cpu, i->op[0].reg, i->op[0].size, limit);
	else
		reg_set(cpu, i->op[0].reg, i->op[0].size,
			(uint32_t)(d >> 32) & 0x00f0ff00u);
out:
	flags__set_arith(cpu, FL_ZF, ok ? FL_ZF : 0);
	return 0;
}

static int h_arpl(struct cpu *cpu, const struct insn *i)
{
	uint32_t d, s;
	if (need_pmode(cpu) || op_read(cpu, i, 0, &d) || op_read(cpu, i, 1, &s))
		return CPU_ABORT;
	if ((d & 3) < (s & 3)) {
		if (op_write(cpu, i, 0, (d & ~3u) | (s & 3)))
			return CPU_ABORT;
		flags__set_arith(cpu, FL_ZF, FL_ZF);
	} else {
		flags__set_arith(cpu, FL_ZF, 0);
	}
	return 0;
}

/* ---- Fast system calls (SDM Vol. 2 SYSENTER/SYSEXIT) --------------------- */

static int h_sysenter(struct cpu *cpu, const struct insn *i)
{
	uint16_t cs = (uint16_t)cpu->sysenter_cs & 0xfffc;

	if (!cpu_pmode(cpu) || cs == 0)
		return cpu__raise(cpu, EXC_GP, 0);
	if (i->mnem == ZYDIS_MNEMONIC_SYSENTER) {
		cpu->eflags &= ~(FL_VM | FL_IF | FL_RF);
		cpu->cpl = 0;
		seg__load_raw(cpu, SEG_CS, cs, 0, 0xffffffffu, 0xc09b);
		seg__load_raw(cpu, SEG_SS, cs + 8, 0, 0xffffffffu, 0xc093);
		cpu->r[R_ESP] = (uint32_t)cpu->sysenter_esp;
		cpu->eip = (uint32_t)cpu->sysenter_eip;
		return 0;
	}
	if (cpu->cpl != 0 || cpu_v86(cpu))
		return cpu__raise(cpu, EXC_GP, 0);
	seg__load_raw(cpu, SEG_CS, (cs + 16) | 3, 0, 0xffffffffu, 0xc0fb);
	seg__load_raw(cpu, SEG_SS, (cs + 24) | 3, 0, 0xffffffffu, 0xc0f3);
	cpu->r[R_ESP] = cpu->r[R_ECX];
	cpu->eip = cpu->r[R_EDX];
	return 0;
}

/* ---- CPUID, TSC, MSRs --------------------------------------------------- */

static int h_cpuid(struct cpu *cpu, const struct insn *i)
{
	uint32_t out[4];
	cpuid__query(cpu, cpu->r[R_EAX], cpu->r[R_ECX], out);
	cpu->r[R_EAX] = out[0];
	cpu->r[R_EBX] = out[1];
	cpu->r[R_ECX] = out[2];
	cpu->r[R_EDX] = out[3];
	return 0;
}

static int h_rdtsc(struct cpu *cpu, const struct insn *i)
{
	uint64_t t;
	if ((cpu->cr4 & CR4_TSD) && cpu_pmode(cpu) && cpu->cpl != 0)
		return cpu__raise(cpu, EXC_GP, 0);
	t = cpu__tsc(cpu);
	cpu->r[R_EAX] = (uint32_t)t;
	cpu->r[R_EDX] = (uint32_t)(t >> 32);
	return 0;
}

static int h_msr(struct cpu *cpu, const struct insn *i)
{
	uint64_t v;
	if (need_cpl0(cpu))
		return CPU_ABORT;
	if (i->mnem == ZYDIS_MNEMONIC_RDMSR) {
		if (msr__read(cpu, cpu->r[R_ECX], &v))
			return CPU_ABORT;
		cpu->r[R_EAX] = (uint32_t)v;
		cpu->r[R_EDX] = (uint32_t)(v >> 32);
		return 0;
	}
	return msr__write(cpu, cpu->r[R_ECX],
			  ((uint64_t)cpu->r[R_EDX] << 32) | cpu->r[R_EAX]);
}

static int h_ud(struct cpu *cpu, const struct insn *i)
{
	return cpu__raise(cpu, EXC_UD, 0);
}

static int h_gp0(struct cpu *cpu, const struct insn *i)
{
	return cpu__raise(cpu, EXC_GP, 0);	/* RDPMC: no counters */
}

insn_fn sys__handler(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT: return h_inout;
	case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI: return h_cli_sti;
	case ZYDIS_MNEMONIC_HLT: return h_hlt;
	case ZYDIS_MNEMONIC_CLTS: return h_clts;
	case ZYDIS_MNEMONIC_LMSW: case ZYDIS_MNEMONIC_SMSW: return h_lmsw;
	case ZYDIS_MNEMONIC_INVLPG: return h_invlpg;
	case ZYDIS_MNEMONIC_INVD: case ZYDIS_MNEMONIC_WBINVD: return h_cache;
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT:
	case ZYDIS_MNEMONIC_SGDT: case ZYDIS_MNEMONIC_SIDT:
		return h_lgdt;
	case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR: return h_lldt_ltr;
	case ZYDIS_MNEMONIC_SLDT: case ZYDIS_MNEMONIC_STR: return h_sldt_str;
	case ZYDIS_MNEMONIC_LAR: case ZYDIS_MNEMONIC_LSL:
	case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW:
		return h_lar;
	case ZYDIS_MNEMONIC_ARPL: return h_arpl;
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
		return h_sysenter;
	case ZYDIS_MNEMONIC_CPUID: return h_cpuid;
	case ZYDIS_MNEMONIC_RDTSC: return h_rdtsc;
	case ZYDIS_MNEMONIC_RDMSR: case ZYDIS_MNEMONIC_WRMSR: return h_msr;
	case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1:
	case ZYDIS_MNEMONIC_UD2: return h_ud;
	case ZYDIS_MNEMONIC_RDPMC: return h_gp0;
	default: return NULL;
	}
}

/* MOV with a control/debug/segment register operand. */
insn_fn sys__mov_handler(const struct insn *i);
insn_fn sys__mov_handler(const struct insn *i)
{
	if (i->op[0].kind == OK_CR || i->op[0].kind == OK_DR ||
	    i->op[1].kind == OK_CR || i->op[1].kind == OK_DR)
		return h_mov_cr;
	if (i->op[0].kind == OK_SREG)
		return h_mov_sreg;
	return NULL;
}
