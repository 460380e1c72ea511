/* monitor/cpu-task.c — hardware task switching through a TSS descriptor or
 * a task gate, for JMP, CALL, INT/exceptions (Linux i386 takes #DF through a
 * task gate) and IRET with NT set (SDM Vol. 3 §7.3, Table 7-2).
 */
#include "monitor/cpu-internal.h"

/* 32-bit TSS field offsets (SDM Vol. 3 Figure 7-2). */
#define T_LINK	0x00
#define T_CR3	0x1c
#define T_EIP	0x20
#define T_EFL	0x24
#define T_EAX	0x28
#define T_ES	0x48
#define T_LDT	0x60

static int set_busy(struct cpu *cpu, uint16_t sel, bool busy)
{
	uint64_t d;
	if (seg__read_desc(cpu, sel, &d, EXC_TS))
		return CPU_ABORT;
	if (busy)
		d |= 2ull << 40;
	else
		d &= ~(2ull << 40);
	return seg__write_desc(cpu, sel, d);
}

/* Loads a segment register of the new task; #TS(sel) on a bad descriptor. */
static int task_seg(struct cpu *cpu, int seg, uint16_t sel)
{
	uint64_t d;
	uint32_t base, limit;
	uint16_t attr;

	if (cpu_v86(cpu)) {
		seg__load_raw(cpu, seg, sel, (uint32_t)sel << 4, 0xffff,
			      seg == SEG_CS ? 0xfb : 0xf3);
		return 0;
	}
	if ((sel & ~3) == 0) {
		if (seg == SEG_CS || seg == SEG_SS)
			return cpu__raise(cpu, EXC_TS, sel & 0xfffc);
		seg__load_raw(cpu, seg, sel, 0, 0, 0);
		return 0;
	}
	if (seg__read_desc(cpu, sel, &d, EXC_TS))
		return CPU_ABORT;
	seg__desc_unpack(d, &base, &limit, &attr);
	if (!(attr & SEGA_S))
		return cpu__raise(cpu, EXC_TS, sel & 0xfffc);
	if (seg == SEG_CS && !(SEGA_TYPE(attr) & 8))
		return cpu__raise(cpu, EXC_TS, sel & 0xfffc);
	if (seg == SEG_SS && ((SEGA_TYPE(attr) & 0xa) != 2 ||
			      SEGA_DPL(attr) != (sel & 3)))
		return cpu__raise(cpu, EXC_TS, sel & 0xfffc);
	if (!(attr & SEGA_P))
		return cpu__raise(cpu, seg == SEG_SS ? EXC_SS : EXC_NP,
				  sel & 0xfffc);
	seg__load_raw(cpu, seg, sel, base, limit, attr);
	return 0;
}

int task__switch(struct cpu *cpu, uint16_t sel, uint64_t desc, int why,
		 bool has_err, uint32_t err)
{
	uint32_t base, limit, nt[26], ofl;
	uint16_t attr, old = cpu->tr.sel;
	bool t32;
	unsigned type;

	seg__desc_unpack(desc, &base, &limit, &attr);
	type = SEGA_TYPE(attr);
	if ((sel & 4) || (attr & SEGA_S) ||
	    (why == TS_IRET ? (type != 3 && type != 11) : (type != 1 && type != 9)))
		return cpu__raise(cpu, why == TS_IRET ? EXC_TS : EXC_GP,
				  sel & 0xfffc);
	if (!(attr & SEGA_P))
		return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
	t32 = type & 8;
	if (limit < (t32 ? 103u : 43u))
		return cpu__raise(cpu, EXC_TS, sel & 0xfffc);
	if (!t32)
		return insn_unimpl(cpu, NULL);	/* 16-bit TSS: not done */
	if (mem__lin_read(cpu, base, nt, sizeof(nt), ACC_R | ACC_SUP))
		return CPU_ABORT;
	/* Save the outgoing task (SDM Vol. 3 §7.3 step 8). */
	ofl = cpu__eflags(cpu);
	if (why == TS_IRET)
		ofl &= ~FL_NT;
	{
		uint32_t save[18];
		save[0] = cpu->eip;
		save[1] = ofl;
		for (int r = 0; r < 8; r++)
			save[2 + r] = cpu->r[r];
		for (int s = 0; s < SEG_NSEGS; s++)
			save[10 + s] = cpu->seg[s].sel;
		if (mem__lin_write(cpu, cpu->tr.base + T_EIP, save, 16 * 4,
				   ACC_W | ACC_SUP))
			return CPU_ABORT;
	}
	if (why == TS_JMP || why == TS_IRET)
		if (set_busy(cpu, old, false))
			return CPU_ABORT;
	if (why == TS_CALL || why == TS_INT) {
		uint32_t link = old;
		if (mem__lin_write(cpu, base + T_LINK, &link, 2, ACC_W | ACC_SUP))
			return CPU_ABORT;
		nt[T_EFL / 4] |= FL_NT;
	}
	if (why != TS_IRET && set_busy(cpu, sel, true))
		return CPU_ABORT;
	/* From here on, faults belong to the new task. */
	seg__load_raw(cpu, -2, sel, base, limit, (uint16_t)(attr | 2));
	cpu->cr0 |= CR0_TS;
	if (cpu->cr0 & CR0_PG) {
		cpu->cr3 = nt[T_CR3 / 4];
		mem__tlb_flush(cpu, false);
	}
	cpu->eip = nt[T_EIP / 4];
	cpu->lf.op = LF_NONE;
	cpu->eflags = (nt[T_EFL / 4] & 0x003f7fd7u) | FL_1;
	for (int r = 0; r < 8; r++)
		cpu->r[r] = nt[T_EAX / 4 + r];
	/* Selectors first (so a fault shows the new values), then checks. */
	for (int s = 0; s < SEG_NSEGS; s++)
		cpu->seg[s].sel = (uint16_t)nt[T_ES / 4 + s];
	cpu->cpl = cpu_v86(cpu) ? 3 : (nt[T_ES / 4 + SEG_CS] & 3);
	{
		uint16_t ldt = (uint16_t)nt[T_LDT / 4];
		uint64_t ld;
		uint32_t lb, ll;
		uint16_t la;
		if ((ldt & ~3) == 0) {
			seg__load_raw(cpu, -1, ldt, 0, 0, 0);
		} else {
			if ((ldt & 4) || seg__read_desc(cpu, ldt & ~4, &ld, EXC_TS))
				return cpu->pending_exc >= 0 ? CPU_ABORT
					: cpu__raise(cpu, EXC_TS, ldt & 0xfffc);
			seg__desc_unpack(ld, &lb, &ll, &la);
			if ((la & SEGA_S) || SEGA_TYPE(la) != 2)
				return cpu__raise(cpu, EXC_TS, ldt & 0xfffc);
			if (!(la & SEGA_P))
				return cpu__raise(cpu, EXC_TS, ldt & 0xfffc);
			seg__load_raw(cpu, -1, ldt, lb, ll, la);
		}
	}
	cpu__mode_changed(cpu);
	if (task_seg(cpu, SEG_CS, (uint16_t)nt[T_ES / 4 + SEG_CS]) ||
	    task_seg(cpu, SEG_SS, (uint16_t)nt[T_ES / 4 + SEG_SS]))
		return CPU_ABORT;
	for (int s = SEG_ES; s < SEG_NSEGS; s++)
		if (s != SEG_CS && s != SEG_SS &&
		    task_seg(cpu, s, (uint16_t)nt[T_ES / 4 + s]))
			return CPU_ABORT;
	if (has_err && stack__push(cpu, err, 4))
		return CPU_ABORT;
	return 0;
}
