/* monitor/cpu-cpuid.c — CPUID, the time-stamp counter and model-specific
 * registers. CPUID describes exactly what the interpreter implements: a
 * P6-family CPU with PSE, PAE (with NX), PGE, CX8, SEP, CMOV, PAT, TSC, MSR,
 * plus the FPU/MMX/FXSR/SSE/SSE2 bits the fpu part reports it implements.
 *
 * The time-stamp counter is the board's virtual clock in ns (read_tsc), so
 * it runs at exactly 1 GHz, at a constant rate, through HLT: CPUID says so
 * (leaf 0x15 TSC/crystal = 1/1 with a 1 GHz crystal, leaf 0x16 1000 MHz,
 * 0x80000007 invariant TSC) and IA32_TSC_ADJUST exists (leaf 7). Linux then
 * takes the TSC frequency from CPUID instead of calibrating against the PIT
 * (busy loops on port 0x61/0x42 of ~50 ms each) and needs no clocksource
 * watchdog for it (arch/x86/kernel/tsc.c, check_system_tsc_reliable).
 */
#include "monitor/cpu-internal.h"

#define F_FPU	(1u << 0)
#define F_PSE	(1u << 3)
#define F_TSC	(1u << 4)
#define F_MSR	(1u << 5)
#define F_PAE	(1u << 6)
#define F_CX8	(1u << 8)
#define F_SEP	(1u << 11)
#define F_PGE	(1u << 13)
#define F_CMOV	(1u << 15)
#define F_PAT	(1u << 16)
#define F_FPU_MASK ((1u << 0) | (1u << 23) | (1u << 24) | (1u << 25) | (1u << 26))
#define E_NX	(1u << 20)
#define L7_TSC_ADJUST	(1u << 1)	/* leaf 7 EBX */
#define P_INVARIANT_TSC	(1u << 8)	/* leaf 0x80000007 EDX */

#define MAX_BASIC_LEAF	0x16u
#define MAX_EXT_LEAF	0x80000007u
#define TSC_HZ		1000000000u	/* read_tsc counts ns */

/* SDM Vol. 4 Table 2-2; architectural, 0 at reset. */
#define MSR_TSC_ADJUST	0x03b

static const char brand[48] = "hvmm IA-32 interpreter";

uint64_t cpu__tsc(struct cpu *cpu)
{
	uint64_t t = cpu->ops->read_tsc ? cpu->ops->read_tsc(cpu->opaque)
					: cpu->icount;
	return t + cpu->tsc_offset;
}

void cpuid__query(struct cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	out[0] = out[1] = out[2] = out[3] = 0;
	switch (leaf) {
	case 0:
		out[0] = MAX_BASIC_LEAF;
		out[1] = 0x756e6547;	/* "GenuineIntel" */
		out[3] = 0x49656e69;
		out[2] = 0x6c65746e;
		break;
	case 1:
		out[0] = 0x00000633;	/* family 6 model 3 stepping 3 */
		out[3] = F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_SEP | F_PGE |
			 F_CMOV | F_PAT | (fpu__features() & F_FPU_MASK);
		break;
	case 2:
		out[0] = 1;		/* one iteration, no descriptors */
		break;
	case 7:
		if (sub == 0)
			out[1] = L7_TSC_ADJUST;	/* EAX 0: no further subleaves */
		break;
	case 0x15:			/* TSC = crystal * EBX / EAX */
		out[0] = 1;
		out[1] = 1;
		out[2] = TSC_HZ;
		break;
	case 0x16:			/* base, maximum MHz; no bus clock */
		out[0] = TSC_HZ / 1000000;
		out[1] = TSC_HZ / 1000000;
		break;
	case 0x80000000:
		out[0] = MAX_EXT_LEAF;
		break;
	case 0x80000001:
		out[3] = E_NX;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		cpu_memcpy(out, brand + (leaf - 0x80000002) * 16, 16);
		break;
	case 0x80000007:
		out[3] = P_INVARIANT_TSC;
		break;
	default:
		/* Leaves beyond the maximum return the highest basic leaf
		 * (Intel behaviour, SDM Vol. 2 CPUID); the others up to the
		 * maximum describe nothing (zeros: no such feature). */
		if (leaf > MAX_BASIC_LEAF && (leaf < 0x80000000u || leaf > MAX_EXT_LEAF))
			cpuid__query(cpu, MAX_BASIC_LEAF, sub, out);
		break;
	}
}

int msr__read(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case MSR_TSC: *v = cpu__tsc(cpu); return 0;
	/* TSC_ADJUST starts at 0 and moves with every change of the TSC's
	 * offset from the clock (SDM Vol. 3B 17.17.3), i.e. it is the offset. */
	case MSR_TSC_ADJUST: *v = cpu->tsc_offset; return 0;
	case MSR_APIC_BASE: *v = cpu->apic_base; return 0;
	case MSR_SYSENTER_CS: *v = cpu->sysenter_cs; return 0;
	case MSR_SYSENTER_ESP: *v = cpu->sysenter_esp; return 0;
	case MSR_SYSENTER_EIP: *v = cpu->sysenter_eip; return 0;
	case MSR_MISC_ENABLE: *v = cpu->misc_enable; return 0;
	case MSR_PAT: *v = cpu->pat; return 0;
	case MSR_EFER: *v = cpu->efer; return 0;
	case 0x8b: *v = 0; return 0;	/* microcode signature */
	default: return cpu__raise(cpu, EXC_GP, 0);
	}
}

int msr__write(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case MSR_TSC:
		cpu->tsc_offset = v - (cpu->ops->read_tsc
				       ? cpu->ops->read_tsc(cpu->opaque)
				       : cpu->icount);
		return 0;
	case MSR_TSC_ADJUST: cpu->tsc_offset = v; return 0;
	case MSR_APIC_BASE: cpu->apic_base = v; return 0;
	case MSR_SYSENTER_CS: cpu->sysenter_cs = v & 0xffff; return 0;
	case MSR_SYSENTER_ESP: cpu->sysenter_esp = (uint32_t)v; return 0;
	case MSR_SYSENTER_EIP: cpu->sysenter_eip = (uint32_t)v; return 0;
	case MSR_MISC_ENABLE: cpu->misc_enable = v; return 0;
	case MSR_PAT:
		cpu->pat = v;
		return 0;
	case MSR_EFER:
		if (v & ~(uint64_t)EFER_NXE)
			return cpu__raise(cpu, EXC_GP, 0);
		cpu->efer = v;
		mem__tlb_flush(cpu, true);
		return 0;
	case 0x8b: return 0;
	default: return cpu__raise(cpu, EXC_GP, 0);
	}
}
