/* monitor/cpu-debug.c — debug exceptions: single-step (EFLAGS.TF) and the
 * DR0-DR3 instruction and data breakpoints of DR7 (SDM Vol. 3 ch. 18).
 *
 * While TF is set or DR7 enables a breakpoint the run loop executes one
 * instruction per step and calls dbg__before/dbg__after around it. Data
 * breakpoints see accesses through the slow path only: pages holding a
 * watched address never get fast TLB tags (cpu-mem.c asks
 * dbg__page_watched).
 */
#include "monitor/cpu-internal.h"

#define DR6_BS	0x4000u

static unsigned bp_len(uint32_t dr7, unsigned n)
{
	static const unsigned len[4] = { 1, 2, 8, 4 };
	return len[(dr7 >> (18 + 4 * n)) & 3];
}

static unsigned bp_rw(uint32_t dr7, unsigned n)
{
	return (dr7 >> (16 + 4 * n)) & 3;
}

static bool bp_on(uint32_t dr7, unsigned n)
{
	return (dr7 >> (2 * n)) & 3;
}

void dbg__update(struct cpu *cpu)
{
	uint32_t dr7 = cpu->dr[7];
	uint8_t data = 0;
	bool any = false;

	for (unsigned n = 0; n < 4; n++) {
		if (!bp_on(dr7, n))
			continue;
		any = true;
		if (bp_rw(dr7, n) == 1 || bp_rw(dr7, n) == 3)
			data |= (uint8_t)(1u << n);
	}
	cpu->dbg_data = data;
	cpu->dbg = any || (cpu->eflags & FL_TF);
	mem__tlb_flush(cpu, true);	/* watched pages lose fast tags */
}

bool dbg__page_watched(const struct cpu *cpu, uint32_t page)
{
	for (unsigned n = 0; n < 4; n++)
		if ((cpu->dbg_data >> n) & 1) {
			uint32_t a = cpu->dr[n] & ~(bp_len(cpu->dr[7], n) - 1);
			if ((a & ~0xfffu) == page)
				return true;
		}
	return false;
}

void dbg__access(struct cpu *cpu, uint32_t lin, unsigned len, bool write)
{
	for (unsigned n = 0; n < 4; n++) {
		unsigned l;
		uint32_t a;
		if (!((cpu->dbg_data >> n) & 1))
			continue;
		if (!write && bp_rw(cpu->dr[7], n) == 1)
			continue;
		l = bp_len(cpu->dr[7], n);
		a = cpu->dr[n] & ~(l - 1);
		if (lin < a + l && a < lin + len)
			cpu->db_hits |= 1u << n;
	}
}

/* Before an instruction: an instruction breakpoint at CS.base+EIP raises a
 * fault-class #DB unless EFLAGS.RF is set (SDM Vol. 3 §18.3.1.1). */
int dbg__before(struct cpu *cpu)
{
	uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip, hits = 0;

	cpu->db_hits = 0;
	if (cpu->eflags & FL_RF)
		return 0;
	for (unsigned n = 0; n < 4; n++)
		if (bp_on(cpu->dr[7], n) && bp_rw(cpu->dr[7], n) == 0 &&
		    cpu->dr[n] == lin)
			hits |= 1u << n;
	if (!hits)
		return 0;
	cpu->dr[6] = (cpu->dr[6] & ~0xfu) | hits;
	return cpu__raise(cpu, EXC_DB, 0);
}

/* After an instruction that completed: clear RF, then a trap-class #DB for
 * data breakpoints hit and for single-step if TF was set before it. */
int dbg__after(struct cpu *cpu, bool tf_before, bool rf_before,
	       const struct insn *i)
{
	uint32_t bits = cpu->db_hits & 0xf;

	if (rf_before)
		cpu->eflags &= ~FL_RF;
	/* INT n/INT3/INTO clear TF on entry to their handler: no step trap
	 * for them; MOV SS/POP SS hold it back one instruction (shadow). */
	if (tf_before && !cpu->shadow && i &&
	    i->mnem != ZYDIS_MNEMONIC_INT && i->mnem != ZYDIS_MNEMONIC_INT3 &&
	    i->mnem != ZYDIS_MNEMONIC_INTO && i->mnem != ZYDIS_MNEMONIC_INT1)
		bits |= DR6_BS;
	cpu->db_hits = 0;
	if (!bits)
		return 0;
	cpu->dr[6] = (cpu->dr[6] & ~(0xfu | DR6_BS)) | bits;
	cpu->nexc[EXC_DB]++;
	return exc__deliver(cpu, EXC_DB, INT_EXC, false, 0);
}
