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

#endif
