/* priv-out — OUT to port 0x80 at CPL 3 with IOPL 0 and no I/O permission: #GP(0).
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(13, 0, (uint32_t)fault_insn, 0);
	asm volatile("mov $0x42,%%al\n fault_insn: outb %%al,$0x80\n after_insn:" ::: "eax", "memory");
	survived();
}
