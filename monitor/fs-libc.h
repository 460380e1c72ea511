/* monitor/fs-libc.h — the four libc string functions the freestanding build
 * provides (monitor/fs-libc.c). gcc emits calls to memcpy/memset/memmove/
 * memcmp for struct copies and __builtin_mem* even under -ffreestanding, so
 * every freestanding link needs them; in userland they are libc's. */
#ifndef HVMM_FS_LIBC_H
#define HVMM_FS_LIBC_H

#ifdef HVMM_FREESTANDING
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#else
#include <string.h>
#endif

#endif
