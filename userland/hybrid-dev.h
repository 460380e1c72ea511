/* userland/hybrid-dev.h — the userland side of /dev/hvmm: opening the device
 * with a version check, and (issue 5) the hybrid engine's user-program path. */
#ifndef HVMM_HYBRID_DEV_H
#define HVMM_HYBRID_DEV_H

#include "host-driver/hvmm-abi.h"

/* Open /dev/hvmm and check that the module speaks HVMM_ABI_VERSION.
 * Returns the fd, or -1 after printing a one-line explanation on stderr. */
int hybrid__open_dev(void);

/* Options of the user-program mode (`hvmm run --engine hybrid --user-program`). */
struct hybrid_opts {
	unsigned int mem_mib;	/* guest RAM, MiB (0: 128) */
	int stats;		/* print the module's counters on stderr at the end */
};

/* Run the static 32-bit Linux ELF program @path natively at CPL 3 in the
 * monitor world, completing write (eax=4) and exit (eax=1) over int 0x80.
 * Returns hvmm's exit status: the program's exit status, 2 for a bad file,
 * 8 when the run ends otherwise (fault, other system call, module error),
 * after a one-line message on stderr. */
int hybrid__run_user_program(const char *path, const struct hybrid_opts *opts);

#endif
