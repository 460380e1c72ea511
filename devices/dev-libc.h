/* devices/dev-libc.h — what the device models that hvmm.ko also links
 * (pic.c, pit.c: docs/kirq.md) take from libc: memset/memcpy and errno
 * values. Freestanding, monitor/fs-libc.c provides the functions and the
 * errno values are Linux's (the only host). */
#ifndef HVMM_DEVICES_DEV_LIBC_H
#define HVMM_DEVICES_DEV_LIBC_H

#ifdef HVMM_FREESTANDING
#include "monitor/fs-libc.h"
#define EINVAL 22
#else
#include <errno.h>
#include <string.h>
#endif

#endif
