/* monitor/fpu.c — FPU entry points: state life cycle, the CPUID feature
 * bits, and fpu__exec, which does the checks common to a family (pending
 * x87 exception, CR4.OSFXSR), records the last-instruction pointers and
 * dispatches to the executors of monitor/fpu_*.c. See docs/fpu.md. */
#include "monitor/fpu_vec.h"

/* SDM Vol. 1 §8.1.9 Table 8-3 (FNINIT) and Vol. 3 §9.1.1 (RESET: the data
 * registers and XMM registers are cleared, MXCSR = 0x1F80). */
void fpu__reset(struct fpu_state *fpu)
{
	__builtin_memset(fpu, 0, sizeof(*fpu));
	fpu->fcw = 0x037f;
	fpu->ftw = 0xffff;
	fpu->mxcsr = MXCSR_DEFAULT;
}

/* CPUID.1:EDX bit numbers (SDM Vol. 2 CPUID, Table 3-11). */
#define CPUID_FPU	(1u << 0)
#define CPUID_MMX	(1u << 23)
#define CPUID_FXSR	(1u << 24)
#define CPUID_SSE	(1u << 25)
#define CPUID_SSE2	(1u << 26)

uint32_t fpu__cpuid_edx(void)
{
	return CPUID_FPU | CPUID_MMX | CPUID_FXSR | CPUID_SSE | CPUID_SSE2;
}

uint32_t fpu__features(void)
{
	return fpu__cpuid_edx();
}

/* x87 instructions that neither check for a pending exception nor update
 * FIP/FOP/FDP (SDM Vol. 1 §8.3.11-12, §8.1.8). */
static bool x87_is_control(ZydisMnemonic mn, bool *no_wait)
{
	switch (mn) {
	case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FNCLEX:
	case ZYDIS_MNEMONIC_FNSTSW: case ZYDIS_MNEMONIC_FNSTCW:
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
		*no_wait = true;
		return true;
	case ZYDIS_MNEMONIC_FLDCW: case ZYDIS_MNEMONIC_FLDENV:
	case ZYDIS_MNEMONIC_FRSTOR: case ZYDIS_MNEMONIC_FWAIT:
		*no_wait = false;
		return true;
	default:
		*no_wait = false;
		return false;
	}
}

/* SDM Vol. 1 §8.7: a pending unmasked x87 exception is reported at the next
 * waiting x87 (or MMX) instruction as #MF. With CR0.NE = 0 a PC would
 * assert FERR# (IRQ13 through the PIC); that wiring is not modelled and #MF
 * is raised in both cases (Linux sets CR0.NE). */
static int x87_pending(struct fpu_insn *x)
{
	if (x->f->fsw & FSW_ES)
		return cpu__raise(x->cpu, EXC_MF, 0);
	return 0;
}

int fpu__exec(struct cpu *cpu, const ZydisDecodedInstruction *insn,
	      const ZydisDecodedOperand *ops)
{
	struct fpu_insn x = { .cpu = cpu, .f = &cpu->fpu, .in = insn,
			      .ops = ops };
	ZydisISAExt ext = insn->meta.isa_ext;
	bool no_wait;
	int rc;

	if (ext != ZYDIS_ISA_EXT_X87 && ext != ZYDIS_ISA_EXT_MMX &&
	    ext != ZYDIS_ISA_EXT_SSE && ext != ZYDIS_ISA_EXT_SSE2)
		return FPU_NOT_MINE;
	for (unsigned k = 0; k < insn->operand_count_visible; k++)
		if (ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY) {
			x.mem = &ops[k];
			if (cpu__mem_operand(cpu, insn, &ops[k], &x.seg, &x.off))
				return FPU_NOT_MINE;
			break;
		}

	if (ext == ZYDIS_ISA_EXT_X87) {
		bool control = x87_is_control(insn->mnemonic, &no_wait);
		if (!no_wait && (rc = x87_pending(&x)))
			return rc;
		if (!control) {
			struct fpu_state *f = x.f;
			f->fip = cpu->eip;
			f->fcs = cpu->seg[SEG_CS].sel;
			f->fop = (uint16_t)(((insn->opcode & 7) << 8) |
					    insn->raw.modrm.mod << 6 |
					    insn->raw.modrm.reg << 3 |
					    insn->raw.modrm.rm);
			if (x.mem) {
				f->fdp = x.off;
				f->fds = cpu->seg[x.seg].sel;
			}
		}
		return x87_exec(&x);
	}
	if (insn->meta.isa_set == ZYDIS_ISA_SET_FXSAVE)
		return fpu_env_exec(&x);
	switch (insn->mnemonic) {
	case ZYDIS_MNEMONIC_PREFETCHNTA: case ZYDIS_MNEMONIC_PREFETCHT0:
	case ZYDIS_MNEMONIC_PREFETCHT1: case ZYDIS_MNEMONIC_PREFETCHT2:
	case ZYDIS_MNEMONIC_LFENCE: case ZYDIS_MNEMONIC_MFENCE:
	case ZYDIS_MNEMONIC_SFENCE:
		return 0;	/* hints and ordering: nothing to do here */
	case ZYDIS_MNEMONIC_MOVNTI: {
		uint8_t v[16];	/* vec_read fills 16 bytes */
		return (rc = vec_read(&x, &ops[1], v, 4)) ? rc :
		       vec_write(&x, &ops[0], v, 4);
	}
	default:
		break;
	}

	/* MMX registers anywhere: pending x87 exception check, then the
	 * x87 -> MMX transition (SDM Vol. 1 §9.5-9.6) */
	bool mmx = insn->mnemonic == ZYDIS_MNEMONIC_EMMS;
	for (unsigned k = 0; k < insn->operand_count_visible; k++)
		if (vec_is_mm(&ops[k]))
			mmx = true;
	if (ext != ZYDIS_ISA_EXT_MMX && !(cpu->cr4 & CR4_OSFXSR))
		return cpu__raise(cpu, EXC_UD, 0);	/* SDM Vol. 3 §13.1.3 */
	if (mmx && (rc = x87_pending(&x)))
		return rc;
	if (ext == ZYDIS_ISA_EXT_MMX)
		rc = fpu_mmx_exec(&x);
	else if (insn->meta.isa_set == ZYDIS_ISA_SET_SSEMXCSR)
		rc = fpu_env_exec(&x);
	else
		rc = fpu_sse_exec(&x);
	if (rc == 0 && mmx && insn->mnemonic != ZYDIS_MNEMONIC_EMMS)
		vec_mmx_enter(x.f);
	return rc;
}
