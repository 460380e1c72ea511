/* tests/unit/test_cpu_fuzz.c — the host survives any guest: random bytes
 * as code, GDT, IDT, TSS and page tables, entered in flat protected mode (and
 * real mode) at random places. Every run must come back within its budget
 * (fault loops count against it), never crash, never hang; the dump works
 * after each. */
#include "tests/unit/unit.h"
#include "tests/unit/cpu-bed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRAMS 200
#define BUDGET 20000

static uint32_t seed = 2463534242u;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static void test_random_guests(void)
{
	unsigned exits[CPU_EXIT_ERROR + 1] = { 0 };
	struct timespec t0, t1;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned p = 0; p < PROGRAMS; p++) {
		struct bed *b = bed__new(1 << 20, 0);
		struct cpu *c = b->cpu;
		enum cpu_exit r;

		for (size_t k = 0; k < b->ram_size; k += 4) {
			uint32_t v = rnd();
			memcpy(b->ram + k, &v, 4);
		}
		cpu__invalidate_phys(c, 0, b->ram_size);
		if (p % 4 == 3) {
			cpu__reset(c);		/* real mode at F000:FFF0 → MMIO */
			cpu__set_seg(c, SEG_CS, 0x1000, 0x10000, 0xffff, 0x9b);
		}
		c->eip = rnd() % (b->ram_size - 16);
		c->gdtr.base = rnd() % b->ram_size;
		c->gdtr.limit = (uint16_t)rnd();
		c->idtr.base = rnd() % b->ram_size;
		c->idtr.limit = (uint16_t)rnd();
		cpu__set_seg(c, -2, 0x28, rnd() % b->ram_size, 0x67, 0x8b);
		if (p % 3 == 0)
			c->r[R_ESP] = rnd();
		for (int round = 0; round < 4; round++) {
			r = bed__run(b, BUDGET);
			exits[r]++;
			if (r != CPU_EXIT_BUDGET && r != CPU_EXIT_STOP &&
			    r != CPU_EXIT_HALT)
				break;
			if (r == CPU_EXIT_HALT)
				bed__irq(b, (int)(rnd() & 0xff));
		}
		CU_ASSERT(cpu__dump(c, buf, sizeof(buf)) > 100);
		bed__free(b);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("[fuzz: %u programs; exits budget %u halt %u dead %u shutdown %u stop %u error %u; %.1f s] ",
	       PROGRAMS, exits[CPU_EXIT_BUDGET], exits[CPU_EXIT_HALT],
	       exits[CPU_EXIT_HALT_DEAD], exits[CPU_EXIT_SHUTDOWN],
	       exits[CPU_EXIT_STOP], exits[CPU_EXIT_ERROR],
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	CU_ASSERT(exits[CPU_EXIT_SHUTDOWN] > 0);	/* the mix is varied */
}

static CU_TestInfo cpu_fuzz_tests[] = {
	{ "random guests come back", test_random_guests },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cpu_fuzz, .tests = cpu_fuzz_tests);
