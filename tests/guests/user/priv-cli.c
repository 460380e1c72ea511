/* priv-cli — CLI at CPL 3 with IOPL 0: #GP(0).
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(13, 0, (uint32_t)fault_insn, 0);
	asm volatile("fault_insn: cli\n after_insn:" ::: "memory");
	survived();
}
