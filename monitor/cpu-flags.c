/* monitor/cpu-flags.c — lazy arithmetic flags and condition codes.
 *
 * Flag-setting ALU operations record (op, size, result, operands) in cpu->lf
 * instead of computing six flags; the flags are computed only when read
 * (Jcc, PUSHF, ADC...). Invariant: when lf.op != LF_NONE the arithmetic bits
 * of cpu->eflags are stale except CF for LF_INC/LF_DEC (INC/DEC preserve CF,
 * SDM Vol. 2 INC), which flags__materialize keeps.
 */
#include "monitor/cpu-internal.h"

/* Computes the six arithmetic flags of the recorded operation. */
static uint32_t lazy_flags(const struct cpu *cpu)
{
	unsigned size = cpu->lf.size;
	uint32_t m = size_mask(size), sign = size_sign(size);
	uint32_t res = cpu->lf.res & m, a = cpu->lf.src1 & m,
		 b = cpu->lf.src2 & m;
	uint32_t f = szp_flags(res, size);
	bool cin;

	switch (cpu->lf.op) {
	case LF_ADD:
		f |= res < a ? FL_CF : 0;
		f |= ((a ^ res) & (b ^ res) & sign) ? FL_OF : 0;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case LF_ADC:
		cin = ((res - a - b) & m) != 0;
		f |= (cin ? res <= a : res < a) ? FL_CF : 0;
		f |= ((a ^ res) & (b ^ res) & sign) ? FL_OF : 0;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case LF_SUB:
		f |= a < b ? FL_CF : 0;
		f |= ((a ^ b) & (a ^ res) & sign) ? FL_OF : 0;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case LF_SBB:
		cin = ((a - b - res) & m) != 0;
		f |= (cin ? a <= b : a < b) ? FL_CF : 0;
		f |= ((a ^ b) & (a ^ res) & sign) ? FL_OF : 0;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case LF_LOGIC:
		break;
	case LF_INC:
		f |= cpu->lf.src2 ? FL_CF : 0;	/* CF kept from before */
		f |= res == sign ? FL_OF : 0;
		f |= (res & 0xf) == 0 ? FL_AF : 0;
		break;
	case LF_DEC:
		f |= cpu->lf.src2 ? FL_CF : 0;
		f |= res == sign - 1 ? FL_OF : 0;
		f |= (res & 0xf) == 0xf ? FL_AF : 0;
		break;
	case LF_FIXED:
		f |= cpu->lf.src2 & (FL_CF | FL_OF | FL_AF);
		break;
	default:
		return cpu->eflags & FL_ARITH;
	}
	return f;
}

bool flags__cf(const struct cpu *cpu)
{
	return lf_cf(cpu);
}

void flags__materialize(struct cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return;
	cpu->eflags = (cpu->eflags & ~FL_ARITH) | lazy_flags(cpu);
	cpu->lf.op = LF_NONE;
}

uint32_t flags__peek(const struct cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return cpu->eflags;
	return (cpu->eflags & ~FL_ARITH) | lazy_flags(cpu);
}

void flags__set_arith(struct cpu *cpu, uint32_t mask, uint32_t values)
{
	flags__materialize(cpu);
	cpu->eflags = (cpu->eflags & ~mask) | (values & mask);
}

bool flags__cond(struct cpu *cpu, unsigned cc)
{
	unsigned op = cpu->lf.op;
	uint32_t f;
	bool r;

	/* Fast paths: ZF and SF come from the result of any recorded
	 * operation; CMP/SUB compare the recorded operands; logic results
	 * have CF = OF = 0. Only the rest folds all six flags. */
	if (op != LF_NONE) {
		uint32_t m = size_mask(cpu->lf.size), sb = size_sign(cpu->lf.size);
		uint32_t res = cpu->lf.res & m;
		switch (cc >> 1) {
		case 2: r = res == 0; goto out;			/* E */
		case 4: r = res & sb; goto out;			/* S */
		default: break;
		}
		if (op == LF_SUB) {
			uint32_t a = cpu->lf.src1 & m, b = cpu->lf.src2 & m;
			int32_t sa = (int32_t)((a ^ sb) - sb);
			int32_t sbb = (int32_t)((b ^ sb) - sb);
			switch (cc >> 1) {
			case 1: r = a < b; goto out;		/* B */
			case 3: r = a <= b; goto out;		/* BE */
			case 6: r = sa < sbb; goto out;		/* L */
			case 7: r = sa <= sbb; goto out;	/* LE */
			default: break;
			}
		} else if (op == LF_LOGIC) {
			switch (cc >> 1) {
			case 0: case 1: r = false; goto out;	/* O, B */
			case 3: r = res == 0; goto out;		/* BE */
			case 6: r = res & sb; goto out;		/* L: SF != 0 */
			case 7: r = res == 0 || (res & sb); goto out;
			default: break;
			}
		}
	}
	f = op == LF_NONE ? cpu->eflags : lazy_flags(cpu);
	switch (cc >> 1) {
	case 0: r = f & FL_OF; break;
	case 1: r = f & FL_CF; break;
	case 2: r = f & FL_ZF; break;
	case 3: r = f & (FL_CF | FL_ZF); break;
	case 4: r = f & FL_SF; break;
	case 5: r = f & FL_PF; break;
	case 6: r = !(f & FL_SF) != !(f & FL_OF); break;
	default: r = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
	}
out:
	return (cc & 1) ? !r : r;
}

uint32_t cpu__eflags(struct cpu *cpu)
{
	flags__materialize(cpu);
	return cpu->eflags;
}

void cpu__set_eflags(struct cpu *cpu, uint32_t fl)
{
	cpu->lf.op = LF_NONE;
	cpu->eflags = (fl | FL_1) & 0x003f7fd7u;
}
