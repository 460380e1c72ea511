/* monitor/cpu-lib.c — the few libc-like helpers the interpreter needs, so
 * the same code builds freestanding inside the monitor. */
#include "monitor/cpu-internal.h"

void *cpu_memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	while (n >= 8) {
		uint64_t v;
		__builtin_memcpy(&v, sp, 8);
		__builtin_memcpy(dp, &v, 8);
		dp += 8, sp += 8, n -= 8;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *cpu_memset(void *d, int c, size_t n)
{
	uint8_t *dp = d;
	while (n--)
		*dp++ = (uint8_t)c;
	return d;
}
