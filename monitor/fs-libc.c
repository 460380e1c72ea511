/* monitor/fs-libc.c — memcpy, memmove, memset and memcmp for the freestanding
 * build (build/monitor-fs.a), which links into hvmm.ko and into the
 * freestanding test executable (tests/fs/). Userland uses libc's: this file
 * compiles to nothing there.
 *
 * Written with string instructions in inline asm, not C loops: gcc's loop
 * distribution (-O2, even under -ffreestanding) turns a byte-copy loop back
 * into a call to memcpy, i.e. into endless recursion. The SysV ABI (and the
 * monitor's entry stubs, which execute cld) guarantee EFLAGS.DF = 0 on entry.
 * Bulk work moves 8 bytes per step: under QEMU TCG (the test host) every
 * iteration of a REP string instruction is a translation block of its own,
 * so a byte-wise copy of the monitor's 500-byte FPU image cost 500 blocks. */
#ifdef HVMM_FREESTANDING
#include <stdint.h>

#include "monitor/fs-libc.h"

/* Copies n bytes; the areas must not overlap. Returns dst. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n >> 3, r = n & 7;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(r) : : "memory");
	return dst;
}

/* Copies n bytes between areas that may overlap. Returns dst. */
void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d;
	const unsigned char *s;

	/* dst below src, or at/after its end: an ascending copy is safe. */
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);
	/* dst inside [src, src + n): copy descending, from the last byte
	 * (SDM Vol. 2B, MOVS: with DF = 1 RSI/RDI decrement). */
	d = (unsigned char *)dst + n - 1;
	s = (const unsigned char *)src + n - 1;
	__asm__ volatile("std; rep movsb; cld"
			 : "+D"(d), "+S"(s), "+c"(n) : : "memory", "cc");
	return dst;
}

/* Fills n bytes with (unsigned char)c. Returns dst. */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t q = n >> 3, r = n & 7;
	uint64_t v = 0x0101010101010101ull * (unsigned char)c;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
	return dst;
}

/* Compares n bytes as unsigned char: <0, 0 or >0 like libc's memcmp. */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	/* equal 8-byte words are skipped; the first differing one is
	 * compared byte by byte below */
	for (; n >= 8; n -= 8, p += 8, q += 8) {
		uint64_t x, y;

		__builtin_memcpy(&x, p, 8);	/* unaligned loads: plain MOVs */
		__builtin_memcpy(&y, q, 8);
		if (x != y)
			break;
	}
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}
#endif /* HVMM_FREESTANDING */
