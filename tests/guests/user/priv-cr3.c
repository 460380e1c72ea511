/* priv-cr3 — MOV to CR3 at CPL 3: #GP(0).
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(13, 0, (uint32_t)fault_insn, 0);
	asm volatile("xor %%eax,%%eax\n fault_insn: mov %%eax,%%cr3\n after_insn:" ::: "eax", "memory");
	survived();
}
