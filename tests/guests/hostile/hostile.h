/* tests/guests/hostile/hostile.h — shared bits of the hostile guests: a
 * deterministic pseudo-random source for the garbage they feed the CPU. */
#ifndef HVMM_GUEST_HOSTILE_H
#define HVMM_GUEST_HOSTILE_H

#include "rt.h"

static uint32_t hostile_seed = 0x2545f491;

/* xorshift32: the same garbage on every engine */
static inline uint32_t hostile_rand(void)
{
	uint32_t x = hostile_seed;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return hostile_seed = x;
}

/* Paging on with the first 16 MiB identity mapped by 4 MiB pages that CPL 3
 * may read and write: code run by rt_try(3, ...) then runs with CR0.PG=1,
 * which is what lets an engine run guest user mode natively (the hybrid
 * engine's stage 2), so hostile user code reaches the native path. */
static uint32_t hostile_pd[1024] __attribute__((aligned(4096), unused));

static inline __attribute__((unused)) void hostile_paging_on(void)
{
	for (uint32_t i = 0; i < 4; i++)
		hostile_pd[i] = (i << 22) | 0x87;	/* P W U PS */
	write_cr4(read_cr4() | (1u << 4));		/* CR4.PSE */
	write_cr3((uint32_t)hostile_pd);
	write_cr0(read_cr0() | 0x80000000u);
}

/* Stores n bytes at a physical/linear address below 16 MiB. */
static inline __attribute__((unused)) void hostile_poke(uint32_t addr, const void *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		asm volatile("movb %1,(%0)" :: "r"(addr + i), "q"(((const uint8_t *)src)[i]) : "memory");
}

#endif
