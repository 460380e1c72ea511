/* monitor/cpu-seg.c — segment registers, descriptors and the checks of
 * segment loads (SDM Vol. 3 §3.4-3.5, §5.5-5.10; Vol. 2 MOV, POP, LDS).
 */
#include "monitor/cpu-internal.h"

void seg__desc_unpack(uint64_t d, uint32_t *base, uint32_t *limit,
		      uint16_t *attr)
{
	uint32_t lim = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);

	*base = (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)((d >> 32) & 0xff000000u);
	*attr = (uint16_t)(d >> 40);
	if (*attr & SEGA_G)
		lim = (lim << 12) | 0xfff;
	*limit = lim;
}

/* seg: 0-5 segment registers, -1 LDTR, -2 TR. */
void seg__load_raw(struct cpu *cpu, int seg, uint16_t sel, uint32_t base,
		   uint32_t limit, uint16_t attr)
{
	struct seg *s = seg == -1 ? &cpu->ldtr : seg == -2 ? &cpu->tr
			: &cpu->seg[seg];

	s->sel = sel;
	s->base = base;
	s->limit = limit;
	s->attr = attr;
	if (seg < 0)
		return;
	if (seg == SEG_CS) {
		if (cpu_pmode(cpu) && !cpu_v86(cpu))
			cpu->cpl = sel & 3;
		cpu__mode_changed(cpu);
	} else {
		mem__seg_update(cpu, seg);
	}
}

int seg__read_desc(struct cpu *cpu, uint16_t sel, uint64_t *desc, int exc)
{
	uint32_t base, limit, off = sel & ~7u;

	if (sel & 4) {
		if (!(cpu->ldtr.attr & SEGA_P) || (cpu->ldtr.sel & ~3) == 0)
			return cpu__raise(cpu, exc, sel & 0xfffc);
		base = cpu->ldtr.base;
		limit = cpu->ldtr.limit;
	} else {
		base = cpu->gdtr.base;
		limit = cpu->gdtr.limit;
	}
	if (off + 7 > limit)
		return cpu__raise(cpu, exc, sel & 0xfffc);
	return mem__lin_read(cpu, base + off, desc, 8, ACC_R | ACC_SUP);
}

int seg__write_desc(struct cpu *cpu, uint16_t sel, uint64_t desc)
{
	uint32_t base = (sel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
	return mem__lin_write(cpu, base + (sel & ~7u), &desc, 8, ACC_W | ACC_SUP);
}

/* Sets the descriptor's accessed bit in memory if clear (SDM Vol. 3 §3.4.5.1). */
static int set_accessed(struct cpu *cpu, uint16_t sel, uint64_t *d)
{
	if (*d & (1ull << 40))
		return 0;
	*d |= 1ull << 40;
	uint32_t base = (sel & 4) ? cpu->ldtr.base : cpu->gdtr.base;
	uint8_t b = (uint8_t)(*d >> 40);
	return mem__lin_write(cpu, base + (sel & ~7u) + 5, &b, 1,
			      ACC_W | ACC_SUP);
}

int seg__load(struct cpu *cpu, int seg, uint16_t sel)
{
	uint64_t d;
	uint32_t base, limit;
	uint16_t attr;
	unsigned rpl = sel & 3, dpl, t;

	if (!cpu_pmode(cpu) || cpu_v86(cpu)) {
		struct seg *s = &cpu->seg[seg];
		uint16_t a = cpu_v86(cpu) ? 0xf3 : (s->attr | SEGA_P | SEGA_S);
		if (cpu_v86(cpu))
			seg__load_raw(cpu, seg, sel, (uint32_t)sel << 4, 0xffff,
				      seg == SEG_CS ? 0xfb : a);
		else
			seg__load_raw(cpu, seg, sel, (uint32_t)sel << 4,
				      s->limit, a);
		return 0;
	}
	if ((sel & ~3) == 0) {
		if (seg == SEG_SS)
			return cpu__raise(cpu, EXC_GP, 0);
		seg__load_raw(cpu, seg, sel, 0, 0, 0);
		return 0;
	}
	if (seg__read_desc(cpu, sel, &d, EXC_GP))
		return CPU_ABORT;
	seg__desc_unpack(d, &base, &limit, &attr);
	dpl = SEGA_DPL(attr);
	t = SEGA_TYPE(attr);
	if (seg == SEG_SS) {
		if (rpl != cpu->cpl || dpl != cpu->cpl || !(attr & SEGA_S) ||
		    (t & 8) || !(t & 2))
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
		if (!(attr & SEGA_P))
			return cpu__raise(cpu, EXC_SS, sel & 0xfffc);
	} else {
		if (!(attr & SEGA_S) || ((t & 8) && !(t & 2)))
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
		/* Data and non-conforming code: DPL >= max(CPL, RPL). */
		if ((!(t & 8) || !(t & 4)) && (rpl > dpl || cpu->cpl > dpl))
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
		if (!(attr & SEGA_P))
			return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
	}
	if (set_accessed(cpu, sel, &d))
		return CPU_ABORT;
	seg__load_raw(cpu, seg, sel, base, limit, (uint16_t)(d >> 40));
	return 0;
}

/* Loads CS for a far JMP/CALL/RET to a code segment, with the checks of
 * SDM Vol. 2 JMP/CALL (non-conforming: RPL <= CPL and DPL == CPL;
 * conforming: DPL <= CPL). new_cpl is the CPL after the transfer. */
int seg__check_code(struct cpu *cpu, uint16_t sel, uint64_t d, unsigned new_cpl,
		    bool is_ret)
{
	uint16_t attr = (uint16_t)(d >> 40);
	unsigned dpl = SEGA_DPL(attr), t = SEGA_TYPE(attr), rpl = sel & 3;

	if (!(attr & SEGA_S) || !(t & 8))
		return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	if (is_ret) {
		if (rpl < cpu->cpl || ((t & 4) ? dpl > rpl : dpl != rpl))
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	} else if (t & 4) {
		if (dpl > cpu->cpl)
			return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	} else if (rpl > cpu->cpl || dpl != cpu->cpl) {
		return cpu__raise(cpu, EXC_GP, sel & 0xfffc);
	}
	if (!(attr & SEGA_P))
		return cpu__raise(cpu, EXC_NP, sel & 0xfffc);
	(void)new_cpl;
	return 0;
}

/* Commits a checked code descriptor into CS with the given CPL. */
int seg__commit_cs(struct cpu *cpu, uint16_t sel, uint64_t d, unsigned cpl)
{
	uint32_t base, limit;
	uint16_t attr;

	if (set_accessed(cpu, sel, &d))
		return CPU_ABORT;
	seg__desc_unpack(d, &base, &limit, &attr);
	seg__load_raw(cpu, SEG_CS, (uint16_t)((sel & ~3) | cpl), base, limit,
		      attr);
	return 0;
}

/* After a privilege drop (RET/IRET to outer level): data segments whose DPL
 * is below the new CPL become null (SDM Vol. 2 RET, "RETURN-TO-OUTER"). */
void seg__invalidate_outer(struct cpu *cpu)
{
	static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned k = 0; k < 4; k++) {
		struct seg *s = &cpu->seg[segs[k]];
		unsigned t = SEGA_TYPE(s->attr);
		bool data_or_nc = !(t & 8) || !(t & 4);
		if ((s->attr & SEGA_S) && data_or_nc &&
		    SEGA_DPL(s->attr) < cpu->cpl)
			seg__load_raw(cpu, segs[k], 0, 0, 0, 0);
	}
}
