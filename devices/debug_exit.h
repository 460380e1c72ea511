/* devices/debug_exit.h — QEMU isa-debug-exit compatible port.
 *
 * Board wiring:
 *	debug_exit__init(&dx, request_stop_fn, ctx);
 *	bus__register(bus, BUS_PIO, 0xf4, 4, debug_exit__io, &dx, "debug-exit");
 * A write of value V (any width 1/2/4 at offset 0; the value is the
 * zero-extended data written) calls request_stop(ctx, (V << 1) | 1): the
 * board stops the VM and the process exits with that status (truncated to
 * 8 bits by the OS, as with QEMU). Reads return 0, as QEMU's do.
 */
#ifndef HVMM_DEVICES_DEBUG_EXIT_H
#define HVMM_DEVICES_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*debug_exit_fn)(void *ctx, uint32_t exit_status);

struct debug_exit {
	debug_exit_fn request_stop;
	void *ctx;
	bool requested;
	uint32_t status;	/* last requested exit status */
};

void debug_exit__init(struct debug_exit *dx, debug_exit_fn request_stop, void *ctx);

int debug_exit__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

#endif
