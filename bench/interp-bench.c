/* bench/interp-bench.c — guest instructions per second of the interp
 * engine on integer loops (not a test: prints MIPS).
 *   build/interp-bench [iterations]                                     */
#include "tests/unit/cpu-bed.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* The loop also exists as a flat binary for QEMU (bench/interp.sh): keep
 * both in sync. 7 instructions per iteration. */
__asm__(".pushsection .rodata\n.balign 16\nbench_loop_start:\n.code32\n"
	"mov 0x2000, %ecx\n"
	"xor %eax, %eax\n"
	"mov $0x3000, %edi\n"
	"1: add %ecx, %eax\n"
	"xor %eax, %ebx\n"
	"mov %eax, (%edi)\n"
	"mov 4(%edi), %esi\n"
	"sub $3, %edx\n"
	"dec %ecx\n"
	"jnz 1b\n"
	"out %eax, $0xf4\n"
	".code64\nbench_loop_end:\n.popsection\n");
extern const uint8_t bench_loop_start[] __asm__("bench_loop_start");
extern const uint8_t bench_loop_end[] __asm__("bench_loop_end");

int main(int argc, char **argv)
{
	uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 50000000;
	struct bed *b = bed__new(1 << 20, 0x1000);
	struct timespec t0, t1;
	double s;
	enum cpu_exit r;

	bed__load(b, 0x1000, bench_loop_start,
		  (size_t)(bench_loop_end - bench_loop_start));
	*(uint32_t *)(b->ram + 0x2000) = iters;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		r = bed__run(b, 10000000);
	while (r == CPU_EXIT_BUDGET);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (r != CPU_EXIT_STOP) {
		bed__dump(b);
		return 1;
	}
	{
		/* CPU time too: the wall clock suffers when the machine is
		 * shared. */
		struct rusage ru;
		double u;
		getrusage(RUSAGE_SELF, &ru);
		u = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
		printf("interp: %llu instructions in %.3f s = %.1f MIPS (%.3f s user CPU = %.1f MIPS)\n",
		       (unsigned long long)b->cpu->icount, s,
		       (double)b->cpu->icount / s / 1e6, u,
		       (double)b->cpu->icount / u / 1e6);
	}
	bed__free(b);
	return 0;
}
