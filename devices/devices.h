/* devices/devices.h — the one device API every engine uses.
 *
 * Devices know nothing of engines or of where they sit: a device registers a
 * handler for a region of a bus (port I/O or MMIO) and sees only
 * (device, offset within region, data, len, is_write). The board table in
 * userland/ places devices; the interpreter and monitor exits both reach them
 * through bus__access(). Interrupts leave a device through an irq_line.
 */
#ifndef HVMM_DEVICES_H
#define HVMM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bus_space { BUS_PIO = 0, BUS_MMIO = 1, BUS_NSPACES };

/* A device's access handler. data is little-endian, len is 1, 2, 4 or 8.
 * Returns 0, or -errno for an access the device rejects (the bus then
 * behaves as for an unclaimed address: reads give all-ones, writes drop). */
typedef int (*io_handler_fn)(void *dev, uint64_t offset, void *data,
			     unsigned len, bool is_write);

struct bus_region {
	uint64_t base, len;
	io_handler_fn fn;
	void *dev;
	const char *name;
};

#define BUS_MAX_REGIONS 128

struct bus {
	struct bus_region regions[BUS_NSPACES][BUS_MAX_REGIONS];
	unsigned nregions[BUS_NSPACES];
	uint64_t unclaimed[BUS_NSPACES];	/* accesses nobody claimed */
};

/* Empties a bus. */
void bus__init(struct bus *bus);

/* Claims [base, base+len) of a space for a device.
 * Returns 0, -EINVAL for an empty or wrapping range, -EEXIST on overlap,
 * -ENOSPC when the table is full. */
int bus__register(struct bus *bus, enum bus_space space, uint64_t base,
		  uint64_t len, io_handler_fn fn, void *dev, const char *name);

/* Releases the region registered at exactly (space, base) for dev (PCI BAR
 * moves use it). Returns 0 or -ENOENT. */
int bus__unregister(struct bus *bus, enum bus_space space, uint64_t base,
		    void *dev);

/* Finds the region holding addr, or NULL. */
const struct bus_region *bus__find(const struct bus *bus, enum bus_space space,
				   uint64_t addr);

/* Performs one access. An access nobody claims reads as all-ones and is
 * counted in bus->unclaimed. Returns 0 if a device handled it, else -ENOENT. */
int bus__access(struct bus *bus, enum bus_space space, uint64_t addr,
		void *data, unsigned len, bool is_write);

/* An interrupt output: the device drives a level (edge devices pulse 1 then 0). */
struct irq_line {
	void (*set_level)(void *ctx, unsigned irq, int level);
	void *ctx;
	unsigned irq;
};

/* Drives an irq_line; a line with no set_level is ignored. */
static inline void irq_line__set(const struct irq_line *l, int level)
{
	if (l && l->set_level)
		l->set_level(l->ctx, l->irq, level);
}

/* Timer catch-up (PIT, LAPIC timer; docs/devices.md): adds `due` expiries to
 * a backlog bounded by `limit`; what does not fit is counted in *lost, the
 * largest backlog seen in *max. */
static inline void tick_backlog__add(uint32_t *backlog, uint32_t *max, uint64_t *lost,
				     uint64_t due, uint32_t limit)
{
	uint64_t room = limit > *backlog ? limit - *backlog : 0;

	if (due > room) {
		*lost += due - room;
		due = room;
	}
	*backlog += (uint32_t)due;
	if (*backlog > *max)
		*max = *backlog;
}

/* ---- Virtual time -------------------------------------------------------
 * Devices never run threads or host timers. The board owns one clock and
 * hands devices a struct vclock; a device reads "now" from it when the guest
 * touches it, and a timer device exposes
 *	uint64_t x__next_deadline_ns(x)	  earliest time it needs attention,
 *					  VCLOCK_NEVER if none;
 *	void x__poll(x, now_ns)		  fire everything due at or before now.
 * The run loop (interp engine between instruction batches, or the monitor's
 * exit path) calls x__poll() once now >= min(deadlines), then sleeps or runs
 * until the next minimum. Time is monotonic nanoseconds from VM start; a
 * test drives it by hand (see fake_clock in tests/unit/dev_test.h). */
#define VCLOCK_NEVER UINT64_MAX

struct vclock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

/* Current virtual time in ns; a clock with no now_ns reads 0. */
static inline uint64_t vclock__now(const struct vclock *c)
{
	return (c && c->now_ns) ? c->now_ns(c->ctx) : 0;
}

/* ---- Guest memory for DMA and table builders ---------------------------
 * translate() returns the host address of guest-physical [gpa, gpa+len) if
 * the whole range is guest RAM, else NULL. Devices check every guest-given
 * address through it and never keep the pointer across exits. */
struct guest_mem {
	void *(*translate)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

/* Flat RAM at guest-physical 0 (the common board layout); ctx is the
 * struct guest_ram itself. */
struct guest_ram {
	uint8_t *host;
	uint64_t size;
};
void *guest_ram__translate(void *ram, uint64_t gpa, uint64_t len);

/* Host address of [gpa, gpa+len) or NULL (also for len 0 overflow cases). */
static inline void *guest_mem__ptr(const struct guest_mem *m, uint64_t gpa,
				   uint64_t len)
{
	if (!m || !m->translate || gpa + len < gpa)
		return NULL;
	return m->translate(m->ctx, gpa, len);
}

/* ---- Device models (one header each, all reached through this one) ---- */
#include "devices/serial.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/apic.h"
#include "devices/acpi.h"
#include "devices/virtio.h"

#endif
