/* userland/hybrid-dev.h — the userland side of /dev/hvmm: opening the device
 * with a version check, and (issue 5) the hybrid engine's user-program path. */
#ifndef HVMM_HYBRID_DEV_H
#define HVMM_HYBRID_DEV_H

#include "host-driver/hvmm-abi.h"

/* Open /dev/hvmm and check that the module speaks HVMM_ABI_VERSION.
 * Returns the fd, or -1 after printing a one-line explanation on stderr. */
int hybrid__open_dev(void);

#endif
