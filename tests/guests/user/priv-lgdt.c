/* priv-lgdt — LGDT at CPL 3: #GP(0).
 * Natively Linux kills it with SIGSEGV; under hvmm the run ends with the fault
 * stated on the EXPECT line. */
#include "lib/ulib.h"

extern char fault_insn[], after_insn[];
struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr_img = { 0xffff, 0 };

int main(void)
{
	expect_fault(13, 0, (uint32_t)fault_insn, 0);
	asm volatile("fault_insn: lgdt gdtr_img\n after_insn:" ::: "memory");
	survived();
}
