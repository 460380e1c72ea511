/* monitor/cpu-cpuid.c — CPUID, the time-stamp counter and model-specific
 * registers. CPUID describes exactly what the interpreter implements: a
 * P6-family CPU with PSE, PAE (with NX), PGE, CX8, SEP, CMOV, PAT, TSC, MSR,
 * plus the FPU/MMX/FXSR/SSE/SSE2 bits the fpu part reports it implements.
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
		out[0] = 2;
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
	case 0x80000000:
		out[0] = 0x80000004;
		break;
	case 0x80000001:
		out[3] = E_NX;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		cpu_memcpy(out, brand + (leaf - 0x80000002) * 16, 16);
		break;
	default:
		/* Leaves beyond the maximum return the highest basic leaf
		 * (Intel behaviour, SDM Vol. 2 CPUID). */
		if (leaf < 0x80000000u)
			cpuid__query(cpu, 2, sub, out);
		break;
	}
}

int msr__read(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case MSR_TSC: *v = cpu__tsc(cpu); return 0;
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
