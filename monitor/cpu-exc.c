/* monitor/cpu-exc.c — interrupt and exception delivery (real mode IVT,
 * protected-mode IDT with interrupt/trap/task gates, privilege change with
 * the TSS stack switch, from V86 mode), double/triple fault, and IRET.
 * SDM Vol. 3 §6.10-6.15, Vol. 2 INT n / IRET.
 */
#include "monitor/cpu-internal.h"


/* Writes a frame of len bytes below esp on the stack segment described by
 * ss (limit checks: #SS(errsel)); returns the new ESP or CPU_ABORT via *r. */
static int frame_push(struct cpu *cpu, const struct seg *ss, uint32_t *esp,
		      const void *frame, unsigned len, unsigned acc,
		      uint16_t errsel)
{
	uint32_t mask = ss->attr & SEGA_DB ? 0xffffffffu : 0xffff;
	uint32_t top = (*esp - len) & mask, last = top + len - 1;
	bool ok;

	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		ok = last <= ss->limit || (last & mask) < top;
		ok = true;	/* real mode: wraps within 64K */
	} else if (SEGA_TYPE(ss->attr) & 4) {
		ok = top > ss->limit && last <= mask && last >= top;
	} else {
		ok = last <= ss->limit && last >= top;
	}
	if (!ok)
		return cpu__raise(cpu, EXC_SS, errsel);
	if (mem__lin_write(cpu, ss->base + top, frame, len, acc))
		return CPU_ABORT;
	*esp = (*esp & ~mask) | top;
	return 0;
}

static void record_exc(struct cpu *cpu, int vec, uint32_t err)
{
	unsigned k = cpu->nlastexc++ % CPU_NLASTEXC;
	cpu->lastexc[k].vec = (uint8_t)vec;
	cpu->lastexc[k].err = err;
	cpu->lastexc[k].eip = cpu->eip;
	cpu->lastexc[k].cs = cpu->seg[SEG_CS].sel;
	if (vec < 32)
		cpu->nexc[vec]++;
	if (vec != EXC_PF)
		for (unsigned t = 0; t < 32; t++)
			cpu->exc_trace[t] = cpu->trace[(cpu->ntrace + t) & 31];
}

static int deliver_real(struct cpu *cpu, int vec)
{
	uint16_t frame[3], ip, cs;
	uint32_t esp = cpu->r[R_ESP];

	if ((uint32_t)vec * 4 + 3 > cpu->idtr.limit)
		return cpu__raise(cpu, EXC_GP, 0);
	if (mem__lin_read(cpu, cpu->idtr.base + vec * 4, &ip, 2, ACC_R) ||
	    mem__lin_read(cpu, cpu->idtr.base + vec * 4 + 2, &cs, 2, ACC_R))
		return CPU_ABORT;
	frame[0] = (uint16_t)cpu->eip;
	frame[1] = cpu->seg[SEG_CS].sel;
	frame[2] = (uint16_t)cpu__eflags(cpu);
	if (frame_push(cpu, &cpu->seg[SEG_SS], &esp, frame, 6, ACC_R, 0))
		return CPU_ABORT;
	cpu->r[R_ESP] = esp;
	cpu->eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
	seg__load(cpu, SEG_CS, cs);
	cpu->eip = ip;
	return 0;
}

/* Reads SS:ESP for privilege level dpl from the current TSS. */
static int tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *esp,
		     bool ext)
{
	bool t32 = (SEGA_TYPE(cpu->tr.attr) & 8) != 0;
	uint32_t off = t32 ? 4 + dpl * 8 : 2 + dpl * 4;
	uint32_t v = 0;

	if (off + (t32 ? 5 : 3) > cpu->tr.limit)
		return cpu__raise(cpu, EXC_TS, (cpu->tr.sel & 0xfffc) | ext);
	if (mem__lin_read(cpu, cpu->tr.base + off, &v, t32 ? 4 : 2,
			  ACC_R | ACC_SUP) ||
	    mem__lin_read(cpu, cpu->tr.base + off + (t32 ? 4 : 2), ss, 2,
			  ACC_R | ACC_SUP))
		return CPU_ABORT;
	*esp = v;
	return 0;
}

/* Checks a stack segment for a privilege change to level dpl
 * (SDM Vol. 2 INT n, "INTER-PRIVILEGE-LEVEL-INTERRUPT"). */
static int check_new_ss(struct cpu *cpu, uint16_t ss, unsigned dpl, bool ext,
			struct seg *out)
{
	uint64_t d;

	if ((ss & ~3) == 0)
		return cpu__raise(cpu, EXC_TS, ext);
	if (seg__read_desc(cpu, ss, &d, EXC_TS))
		return CPU_ABORT;
	seg__desc_unpack(d, &out->base, &out->limit, &out->attr);
	out->attr = (uint16_t)(d >> 40);
	out->sel = ss;
	if ((ss & 3) != dpl || SEGA_DPL(out->attr) != dpl ||
	    !(out->attr & SEGA_S) || (SEGA_TYPE(out->attr) & 0xa) != 2)
		return cpu__raise(cpu, EXC_TS, (ss & 0xfffc) | ext);
	if (!(out->attr & SEGA_P))
		return cpu__raise(cpu, EXC_SS, (ss & 0xfffc) | ext);
	return 0;
}

int exc__deliver(struct cpu *cpu, int vec, int src, bool has_err, uint32_t err)
{
	uint32_t ext = (src == INT_SOFT) ? 0 : 1, idt_err = vec * 8 + 2 + ext;
	uint64_t gate, cd;
	uint16_t csel, attr;
	unsigned gtype, dpl, newcpl;
	uint32_t target, fl, frame[10], esp;
	unsigned nf = 0;
	bool g32, to_v86 = false;
	struct seg newss;

	if (src == INT_EXC)
		record_exc(cpu, vec, err);
	if (!cpu_pmode(cpu))
		return deliver_real(cpu, vec);
	if ((uint32_t)vec * 8 + 7 > cpu->idtr.limit)
		return cpu__raise(cpu, EXC_GP, idt_err);
	if (mem__lin_read(cpu, cpu->idtr.base + vec * 8, &gate, 8,
			  ACC_R | ACC_SUP))
		return CPU_ABORT;
	attr = (uint16_t)(gate >> 40);
	gtype = SEGA_TYPE(attr);
	if ((attr & SEGA_S) || (gtype != 5 && gtype != 6 && gtype != 7 &&
				gtype != 14 && gtype != 15))
		return cpu__raise(cpu, EXC_GP, idt_err);
	if (src == INT_SOFT && SEGA_DPL(attr) < cpu->cpl)
		return cpu__raise(cpu, EXC_GP, idt_err);
	if (!(attr & SEGA_P))
		return cpu__raise(cpu, EXC_NP, idt_err);
	if (gtype == 5) {
		uint16_t tsel = (uint16_t)(gate >> 16);
		uint64_t td;
		if (tsel & 4)
			return cpu__raise(cpu, EXC_TS, (tsel & 0xfffc) | ext);
		if (seg__read_desc(cpu, tsel, &td, EXC_TS))
			return CPU_ABORT;
		return task__switch(cpu, tsel, td, TS_INT, has_err, err);
	}
	csel = (uint16_t)(gate >> 16);
	target = (uint32_t)(gate & 0xffff) | (uint32_t)((gate >> 32) & 0xffff0000u);
	g32 = gtype & 8;
	if (!g32)
		target &= 0xffff;
	if ((csel & ~3) == 0)
		return cpu__raise(cpu, EXC_GP, ext);
	if (seg__read_desc(cpu, csel, &cd, EXC_GP))
		return CPU_ABORT;
	{
		uint16_t ca = (uint16_t)(cd >> 40);
		dpl = SEGA_DPL(ca);
		if (!(ca & SEGA_S) || !(SEGA_TYPE(ca) & 8) || dpl > cpu->cpl)
			return cpu__raise(cpu, EXC_GP, (csel & 0xfffc) | ext);
		if (!(ca & SEGA_P))
			return cpu__raise(cpu, EXC_NP, (csel & 0xfffc) | ext);
		newcpl = (SEGA_TYPE(ca) & 4) ? cpu->cpl : dpl;
	}
	fl = cpu__eflags(cpu);
	/* Faults push RF set so the restarted instruction does not hit its
	 * instruction breakpoint again; not #DB itself (SDM Vol. 3 §18.3.1.1). */
	if (src == INT_EXC && vec != EXC_DB && vec != EXC_BP && vec != EXC_OF)
		fl |= FL_RF;
	if (cpu_v86(cpu)) {
		if (newcpl != 0)
			return cpu__raise(cpu, EXC_GP, (csel & 0xfffc) | ext);
		to_v86 = true;
	}
	if (newcpl < cpu->cpl) {
		uint16_t ss;
		if (tss_stack(cpu, newcpl, &ss, &esp, ext) ||
		    check_new_ss(cpu, ss, newcpl, ext, &newss))
			return CPU_ABORT;
		if (to_v86) {
			frame[nf++] = cpu->seg[SEG_GS].sel;
			frame[nf++] = cpu->seg[SEG_FS].sel;
			frame[nf++] = cpu->seg[SEG_DS].sel;
			frame[nf++] = cpu->seg[SEG_ES].sel;
		}
		frame[nf++] = cpu->seg[SEG_SS].sel;
		frame[nf++] = cpu->r[R_ESP];
	} else {
		newss = cpu->seg[SEG_SS];
		esp = cpu->r[R_ESP];
	}
	frame[nf++] = fl;
	frame[nf++] = cpu->seg[SEG_CS].sel;
	frame[nf++] = cpu->eip;
	if (has_err)
		frame[nf++] = err;
	{
		/* Build the frame lowest address first. */
		uint8_t buf[40];
		unsigned w = g32 ? 4 : 2;
		for (unsigned k = 0; k < nf; k++) {
			uint32_t v = frame[nf - 1 - k];
			if (w == 4)
				__builtin_memcpy(buf + k * 4, &v, 4);
			else {
				uint16_t h = (uint16_t)v;
				__builtin_memcpy(buf + k * 2, &h, 2);
			}
		}
		if (frame_push(cpu, &newss, &esp, buf, nf * w,
			       newcpl < 3 ? ACC_SUP : 0,
			       newcpl < cpu->cpl ? (newss.sel & 0xfffc) | ext : ext))
			return CPU_ABORT;
	}
	/* Commit. */
	if (newcpl < cpu->cpl)
		seg__load_raw(cpu, SEG_SS, (newss.sel & ~3) | newcpl, newss.base,
			      newss.limit, newss.attr);
	cpu->r[R_ESP] = esp;
	cpu->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(gtype & 1))
		cpu->eflags &= ~FL_IF;
	if (to_v86)
		for (int s = SEG_ES; s <= SEG_GS; s++)
			if (s != SEG_CS && s != SEG_SS)
				seg__load_raw(cpu, s, 0, 0, 0, 0);
	if (seg__commit_cs(cpu, csel, cd, newcpl))
		return CPU_ABORT;
	cpu->eip = target;
	return 0;
}

static int exc_class(int vec)
{
	if (vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP))
		return 1;	/* contributory */
	if (vec == EXC_PF)
		return 2;
	if (vec == EXC_DF)
		return 3;
	return 0;
}

int exc__deliver_pending(struct cpu *cpu)
{
	int first = -1;

	while (cpu->pending_exc >= 0) {
		int vec = cpu->pending_exc;
		uint32_t err = cpu->pending_err;
		bool has = cpu->pending_has_err;

		cpu->pending_exc = -1;
		if (first >= 0) {
			int c1 = exc_class(first), c2 = exc_class(vec);
			if (c1 == 3 && c2 != 0)
				return CPU_EXIT_SHUTDOWN;	/* triple fault */
			if ((c1 == 1 && c2 == 1) || (c1 == 2 && c2 != 0)) {
				vec = EXC_DF;
				err = 0;
				has = true;
			}
		}
		cpu->halted = false;
		if (exc__deliver(cpu, vec, INT_EXC, has, err) == 0)
			return 0;
		if (cpu->pending_exc < 0)
			return 0;
		first = vec;
		if (++cpu->exc_nest > 8)
			return CPU_EXIT_SHUTDOWN;
	}
	cpu->exc_nest = 0;
	return 0;
}

static int pop_at(struct cpu *cpu, unsigned idx, unsigned size, uint32_t *v)
{
	uint32_t off = (cpu->r[R_ESP] + idx * size) & stack_mask(cpu);
	return mem__read(cpu, SEG_SS, off, v, size);
}

/* Which EFLAGS bits a POPF/IRET at the current CPL/IOPL may change. */
static uint32_t eflags_writable(struct cpu *cpu, unsigned osz)
{
	uint32_t m = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_RF;
	if (cpu->cpl == 0 || !cpu_pmode(cpu))
		m |= FL_IOPL | FL_IF;
	else if (cpu->cpl <= cpu_iopl(cpu))
		m |= FL_IF;
	return osz == 2 ? m & 0xffff : m;
}

int exc__iret(struct cpu *cpu, unsigned osz)
{
	uint32_t eip, cs, fl, mask;
	uint64_t cd;
	unsigned rpl;

	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		if (cpu_v86(cpu) && cpu_iopl(cpu) < 3)
			return cpu__raise(cpu, EXC_GP, 0);
		if (pop_at(cpu, 0, osz, &eip) || pop_at(cpu, 1, osz, &cs) ||
		    pop_at(cpu, 2, osz, &fl))
			return CPU_ABORT;
		if (osz == 2 && eip > cpu->seg[SEG_CS].limit)
			return cpu__raise(cpu, EXC_GP, 0);
		mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_IF | FL_AC | FL_ID |
		       FL_RF | (cpu_v86(cpu) ? 0 : FL_IOPL);
		if (osz == 2)
			mask &= 0xffff;
		cpu->r[R_ESP] = (cpu->r[R_ESP] & ~stack_mask(cpu)) |
				((cpu->r[R_ESP] + 3 * osz) & stack_mask(cpu));
		flags__materialize(cpu);
		cpu->eflags = ((cpu->eflags & ~mask) | (fl & mask)) | FL_1;
		seg__load(cpu, SEG_CS, (uint16_t)cs);
		cpu->eip = eip;
		cpu->nmi_blocked = false;
		return 0;
	}
	if (cpu->eflags & FL_NT) {
		uint16_t back;
		uint64_t td;
		if (mem__lin_read(cpu, cpu->tr.base, &back, 2, ACC_R | ACC_SUP))
			return CPU_ABORT;
		if (back & 4)
			return cpu__raise(cpu, EXC_TS, back & 0xfffc);
		if (seg__read_desc(cpu, back, &td, EXC_TS))
			return CPU_ABORT;
		cpu->nmi_blocked = false;
		return task__switch(cpu, back, td, TS_IRET, false, 0);
	}
	if (pop_at(cpu, 0, osz, &eip) || pop_at(cpu, 1, osz, &cs) ||
	    pop_at(cpu, 2, osz, &fl))
		return CPU_ABORT;
	cs &= 0xffff;
	if (osz == 4 && (fl & FL_VM) && cpu->cpl == 0) {
		/* Return to virtual-8086 mode (SDM Vol. 2 IRET). */
		uint32_t v[6];
		for (unsigned k = 0; k < 6; k++)
			if (pop_at(cpu, 3 + k, 4, &v[k]))
				return CPU_ABORT;
		cpu->lf.op = LF_NONE;
		cpu->eflags = (fl & 0x003f7fd5u) | FL_1;
		cpu__mode_changed(cpu);
		seg__load_raw(cpu, SEG_CS, (uint16_t)cs, cs << 4, 0xffff, 0xfb);
		seg__load_raw(cpu, SEG_SS, (uint16_t)v[1], (v[1] & 0xffff) << 4, 0xffff, 0xf3);
		seg__load_raw(cpu, SEG_ES, (uint16_t)v[2], (v[2] & 0xffff) << 4, 0xffff, 0xf3);
		seg__load_raw(cpu, SEG_DS, (uint16_t)v[3], (v[3] & 0xffff) << 4, 0xffff, 0xf3);
		seg__load_raw(cpu, SEG_FS, (uint16_t)v[4], (v[4] & 0xffff) << 4, 0xffff, 0xf3);
		seg__load_raw(cpu, SEG_GS, (uint16_t)v[5], (v[5] & 0xffff) << 4, 0xffff, 0xf3);
		cpu->r[R_ESP] = v[0];
		cpu->eip = eip & 0xffff;
		cpu->nmi_blocked = false;
		return 0;
	}
	if ((cs & ~3) == 0)
		return cpu__raise(cpu, EXC_GP, 0);
	if (seg__read_desc(cpu, (uint16_t)cs, &cd, EXC_GP))
		return CPU_ABORT;
	rpl = cs & 3;
	if (seg__check_code(cpu, (uint16_t)cs, cd, rpl, true))
		return CPU_ABORT;
	mask = eflags_writable(cpu, osz);
	if (rpl > cpu->cpl) {
		uint32_t nesp, nss;
		struct seg ss;
		if (pop_at(cpu, 3, osz, &nesp) || pop_at(cpu, 4, osz, &nss))
			return CPU_ABORT;
		if (check_new_ss(cpu, (uint16_t)nss, rpl, false, &ss)) {
			/* IRET reports #GP, not #TS, for a bad return SS. */
			if (cpu->pending_exc == EXC_TS)
				cpu->pending_exc = EXC_GP;
			return CPU_ABORT;
		}
		if (cpu->pending_exc >= 0)
			return CPU_ABORT;
		if (seg__commit_cs(cpu, (uint16_t)cs, cd, rpl))
			return CPU_ABORT;
		seg__load_raw(cpu, SEG_SS, (uint16_t)nss, ss.base, ss.limit,
			      ss.attr);
		if (osz == 2)
			cpu->r[R_ESP] = (cpu->r[R_ESP] & ~0xffffu) | (nesp & 0xffff);
		else
			cpu->r[R_ESP] = nesp;
		if (!(ss.attr & SEGA_DB))
			cpu->r[R_ESP] = (cpu->r[R_ESP] & 0xffff0000u) | (nesp & 0xffff);
		seg__invalidate_outer(cpu);
	} else {
		if (seg__commit_cs(cpu, (uint16_t)cs, cd, cpu->cpl))
			return CPU_ABORT;
		cpu->r[R_ESP] = (cpu->r[R_ESP] & ~stack_mask(cpu)) |
				((cpu->r[R_ESP] + 3 * osz) & stack_mask(cpu));
	}
	flags__materialize(cpu);
	cpu->eflags = ((cpu->eflags & ~mask) | (fl & mask)) | FL_1;
	cpu->eip = osz == 2 ? eip & 0xffff : eip;
	cpu->nmi_blocked = false;
	return 0;
}
