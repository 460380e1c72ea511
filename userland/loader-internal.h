/* userland/loader-internal.h — constants and helpers the loaders share. */
#ifndef HVMM_LOADER_INTERNAL_H
#define HVMM_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC		0x1badb002u	/* in the kernel image */
#define MB_BOOT_MAGIC		0x2badb002u	/* in EAX at entry */

/* Offset of a valid Multiboot v1 header in img, or -1. */
long multiboot__find_header(const uint8_t *img, size_t len);

#endif
