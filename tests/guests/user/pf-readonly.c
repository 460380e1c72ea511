/* pf-readonly — a write to a word in .rodata (a read-only page): #PF error
 * 0x7 (user, write, present), CR2 = its address.
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];
const uint32_t ro_word __attribute__((aligned(4096))) = 0x5a5a5a5a;

int main(void)
{
	expect_fault(14, 7, (uint32_t)fault_insn, (uint32_t)&ro_word);
	asm volatile("fault_insn: movl $1,ro_word\n after_insn:" ::: "memory");
	survived();
}
