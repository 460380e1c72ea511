/* monitor/fs-libc.c — memcpy, memmove, memset and memcmp for the freestanding
 * build (build/monitor-fs.a), which links into hvmm.ko and into the
 * freestanding test executable (tests/fs/). Userland uses libc's: this file
 * compiles to nothing there.
 *
 * Written with string instructions in inline asm, not C loops: gcc's loop
 * distribution (-O2, even under -ffreestanding) turns a byte-copy loop back
 * into a call to memcpy, i.e. into endless recursion. The SysV ABI (and the
 * monitor's entry stubs, which execute cld) guarantee EFLAGS.DF = 0 on entry. */
#ifdef HVMM_FREESTANDING
#include <stdint.h>

#include "monitor/fs-libc.h"

/* Copies n bytes; the areas must not overlap. Returns dst. */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
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

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

/* Compares n bytes as unsigned char: <0, 0 or >0 like libc's memcmp. */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}
#endif /* HVMM_FREESTANDING */
