/* pf-unmapped — a read of the unmapped address 0x70000123: #PF error 0x4
 * (user, read, not present), CR2 = the address.
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];

int main(void)
{
	expect_fault(14, 4, (uint32_t)fault_insn, 0x70000123);
	asm volatile("mov $0x70000123,%%ecx\n fault_insn: mov (%%ecx),%%eax\n after_insn:"
		     ::: "eax", "ecx", "memory");
	survived();
}
