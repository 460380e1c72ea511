/* userland/engine.h — how `hvmm run` drives a vCPU engine. An engine runs the
 * guest on a board until the VM stops; the board owns RAM, devices and time.
 *
 *   create   builds the vCPU in the loader's entry state (flat 32-bit
 *            protected mode, struct boot_entry); returns 0 or -errno and a
 *            one-line reason in err
 *   run      runs until the VM stops; returns why (the board's b->stop,
 *            or VM_TRIPLE_FAULT / VM_ERROR seen by the CPU, after printing a
 *            register dump to stderr)
 *   stats    prints "name value" counter lines (instructions, exits, ...)
 *   destroy  frees the vCPU (the board is destroyed by the caller)
 *
 * Engines are found by name in run.c's table. An engine that is not linked
 * in (hybrid comes with userland/hybrid-*.c) is a weak reference that stays
 * NULL, and `--engine NAME` then says so.
 */
#ifndef HVMM_ENGINE_H
#define HVMM_ENGINE_H

#include <stddef.h>
#include <stdio.h>

#include "userland/board.h"
#include "userland/cli.h"
#include "userland/loader.h"

struct engine_ops {
	const char *name;
	int (*create)(struct board *b, const struct boot_entry *entry,
		      const struct run_opts *opts, void **state, char *err, size_t errlen);
	enum vm_stop (*run)(void *state);
	void (*stats)(void *state, FILE *f);
	void (*destroy)(void *state);
};

extern const struct engine_ops engine_interp __attribute__((weak));
extern const struct engine_ops engine_hybrid __attribute__((weak));

#endif
