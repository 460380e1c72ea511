/* int3 — INT3 at CPL 3: #BP, a trap (EIP is the next instruction), no error code.
 * Natively Linux kills it with SIGTRAP; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(3, -1, (uint32_t)after_insn, 0);
	asm volatile("fault_insn: int3\n after_insn:" ::: "memory");
	survived();
}
