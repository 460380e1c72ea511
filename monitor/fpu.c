/* monitor/fpu.c — FPU state life cycle and the CPUID feature bits.
 * See monitor/fpu.h and docs/fpu.md. */
#include "monitor/fpu.h"

/* SDM Vol. 1 §8.1.9 Table 8-3 (FNINIT) and Vol. 3 §9.1.1 (RESET: the data
 * registers and XMM registers are cleared, MXCSR = 0x1F80). */
void fpu__reset(struct fpu_state *fpu)
{
	__builtin_memset(fpu, 0, sizeof(*fpu));
	fpu->fcw = 0x037f;
	fpu->ftw = 0xffff;
	fpu->mxcsr = MXCSR_DEFAULT;
}

/* The feature bits grow as the parts of fpu__exec are implemented. */
uint32_t fpu__cpuid_edx(void)
{
	return 0;
}

uint32_t fpu__features(void)
{
	return fpu__cpuid_edx();
}
