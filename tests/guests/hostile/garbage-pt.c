/* tests/guests/hostile/garbage-pt.c — the first 4 MiB identity mapped, every
 * other page-directory entry pseudo-random garbage: 4 MiB pages over RAM,
 * MMIO and nothing, page tables taken from arbitrary physical memory,
 * reserved bits. It then reads every 4 MiB region and writes those that a PS
 * entry maps at or above 16 MiB, catching each fault, and ends normally.
 * Values read are not checked (they differ between engines and machines);
 * what matters is that the engine maps nothing of the host into the guest
 * and survives. QEMU: finishes, status 1. */
#include "hostile.h"

const char rt_test_name[] = "garbage-pt";

static uint32_t pd[1024] __attribute__((aligned(4096)));

uint32_t t_rd(uint32_t), t_wr(uint32_t);
ASM_FN(t_rd, "mov 4(%esp),%ecx\n mov (%ecx),%eax\n ret");
ASM_FN(t_wr, "mov 4(%esp),%ecx\n movl $0x6a6a6a6a,(%ecx)\n ret");

void test_main(void)
{
	struct rt_fault f;
	uint32_t reads = 0, writes = 0, faults = 0;

	pd[0] = 0x00000000 | 0x87;		/* P W U PS: the kernel */
	for (int i = 1; i < 1024; i++)
		pd[i] = hostile_rand();
	rt_printf("HOSTILE garbage-pt: 1023 garbage page-directory entries\n");
	write_cr4(read_cr4() | (1u << 4));
	write_cr3((uint32_t)pd);
	write_cr0(read_cr0() | 0x80000000u);
	for (uint32_t i = 1; i < 1024; i++) {
		uint32_t va = (i << 22) + 0x123458;
		if (rt_try(0, t_rd, va, &f) < 0)
			reads++;
		else
			faults++;
		if ((pd[i] & 0x81) == 0x81 && (pd[i] & 0xffc00000) >= (16u << 20)) {
			if (rt_try(0, t_wr, va, &f) < 0)
				writes++;
			else
				faults++;
		}
	}
	write_cr0(read_cr0() & ~0x80000000u);
	rt_printf("NOTE garbage-pt: %u reads, %u writes, %u faults\n", reads, writes, faults);
	rt_check(reads + faults > 1000, "garbage-pt-survived", "%u accesses", reads + faults);
}
