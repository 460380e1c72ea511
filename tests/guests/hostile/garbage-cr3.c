/* tests/guests/hostile/garbage-cr3.c — paging on with a page directory of
 * pseudo-random garbage (present bits, PS bits, reserved bits, frames
 * anywhere in 4 GiB, page tables in MMIO): the next fetch faults, the IDT is
 * unreachable, and the VM triple-faults. QEMU -no-reboot exits with status 0. */
#include "hostile.h"

const char rt_test_name[] = "garbage-cr3";

static uint32_t pd[1024] __attribute__((aligned(4096)));

void test_main(void)
{
	for (int i = 0; i < 1024; i++)
		pd[i] = hostile_rand();
	rt_printf("HOSTILE garbage-cr3: paging on with a garbage page directory\n");
	write_cr4(read_cr4() | (1u << 4));
	write_cr3((uint32_t)pd);
	write_cr0(read_cr0() | 0x80000000u);
	rt_printf("FAIL garbage-cr3: still running\n");
}
