/* devices/debug_exit.c — isa-debug-exit: writing V requests exit (V << 1) | 1. */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

void debug_exit__init(struct debug_exit *dx, debug_exit_fn request_stop, void *ctx)
{
	memset(dx, 0, sizeof(*dx));
	dx->request_stop = request_stop;
	dx->ctx = ctx;
}

int debug_exit__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct debug_exit *dx = dev;
	if (offset >= 4 || len > 4 - offset)
		return -EINVAL;
	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	uint32_t v = 0;
	memcpy(&v, data, len);	/* little-endian host: low bytes first */
	dx->status = (v << 1) | 1;
	dx->requested = true;
	if (dx->request_stop)
		dx->request_stop(dx->ctx, dx->status);
	return 0;
}
