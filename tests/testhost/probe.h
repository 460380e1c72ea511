/* tests/testhost/probe.h — what the test-host probe programs (ws-probe.c,
 * sys-probe.c) share: "ok/FAIL - ..." checks, ioctl with -errno, and a
 * xorshift32 generator seeded by each probe (define PROBE_SEED first, so
 * each probe keeps its own reproducible sequence). */
#ifndef HVMM_TESTHOST_PROBE_H
#define HVMM_TESTHOST_PROBE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>

#ifndef PROBE_SEED
#error "define PROBE_SEED before including probe.h"
#endif

static int fails;

/* Prints one check line; counts the failures in `fails`. */
static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
	fails += !ok;
}

/* ioctl returning -errno (or the value). */
static long ioc(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);
	return r < 0 ? -errno : r;
}

static uint32_t rnd_state = PROBE_SEED;

/* xorshift32 (Marsaglia 2003): the next pseudo-random word. */
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

#endif
