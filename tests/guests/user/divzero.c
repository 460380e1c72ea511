/* divzero — DIV by zero: #DE, a fault (EIP is the DIV), no error code.
 * Natively Linux kills it with SIGFPE; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(0, -1, (uint32_t)fault_insn, 0);
	asm volatile("xor %%ecx,%%ecx\n mov $1,%%eax\n xor %%edx,%%edx\n"
		     "fault_insn: div %%ecx\n after_insn:" ::: "eax", "ecx", "edx", "memory");
	survived();
}
