/* tests/unit/cpu-bed.h — a minimal board for interpreter tests: flat RAM at
 * guest-physical 0, a debug console on port 0xe9, a stop port 0xf4, and a
 * settable external interrupt. Shared by tests/unit/test_cpu_*.c, the oracle
 * (tests/oracle/) and the benchmark (bench/). */
#ifndef HVMM_TESTS_CPU_BED_H
#define HVMM_TESTS_CPU_BED_H

#include "monitor/monitor.h"

struct bed {
	struct cpu *cpu;
	uint8_t *ram;
	size_t ram_size;
	char out[4096];		/* bytes written to port 0xe9 */
	size_t nout;
	uint32_t stop_value;	/* last value written to port 0xf4 */
	int irq_vector;		/* -1: none pending */
	unsigned npio;
};

/* A CPU with ram_size bytes of RAM, reset, then put in flat 32-bit
 * protected mode (CS=0x08, DS=0x10) at eip. */
struct bed *bed__new(size_t ram_size, uint32_t eip);
void bed__free(struct bed *b);
/* Copies bytes into guest-physical memory (and tells the CPU). */
void bed__load(struct bed *b, uint32_t gpa, const void *bytes, size_t n);
/* Raises an external interrupt with the given vector (INTR line high). */
void bed__irq(struct bed *b, int vector);
/* Runs until stop/halt/error or max instructions; returns the exit. */
enum cpu_exit bed__run(struct bed *b, uint64_t max);
/* Prints the CPU state to stderr (for failing tests). */
void bed__dump(struct bed *b);

#endif
