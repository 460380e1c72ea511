/* tests/fs/harness.h — runtime of the freestanding test executables
 * (tests/fs/harness.c): no libc, raw Linux syscalls. The harness runs every
 * test group and exits with 0 if no check failed, else 1. The same groups run
 * in kernel context in tests/kmod/, whose kmod-main.c implements the output
 * functions below with printk. */
#ifndef HVMM_TESTS_FS_HARNESS_H
#define HVMM_TESTS_FS_HARNESS_H

#ifdef __KERNEL__
#include <linux/types.h>	/* in hvmm-fstest.ko (tests/kmod/): no <stdint.h> there */
#else
#include <stdint.h>
#endif

/* The test groups (one per file in tests/fs/): each returns its number of failed checks. */
int fs_test__zydis(void);
int fs_test__libc(void);
int fs_test__shadowmm(void);
int fs_test__bt(void);	/* executable only (tests/fs/bt-check.c) */

/* Called by _start with an aligned stack; never returns (executable only). */
void fs_harness__main(void) __attribute__((noreturn));

/* Writes a NUL-terminated string to stdout. */
void fs_harness__puts(const char *s);

/* Writes v as 0x-prefixed hexadecimal to stdout. */
void fs_harness__put_hex(uint64_t v);

/* Prints "FAIL <name>: <what> got 0x.. want 0x.." and returns 1, so a caller
 * counts failures with `fails += fs_harness__fail(...)`. */
int fs_harness__fail(const char *name, const char *what, uint64_t got, uint64_t want);

#endif
