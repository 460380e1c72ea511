/* devices/bus.c — port-I/O and MMIO dispatch by address range. */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

void bus__init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int bus__register(struct bus *bus, enum bus_space space, uint64_t base,
		  uint64_t len, io_handler_fn fn, void *dev, const char *name)
{
	if ((unsigned)space >= BUS_NSPACES || len == 0 || base + len < base || !fn)
		return -EINVAL;
	unsigned n = bus->nregions[space];
	for (unsigned i = 0; i < n; i++) {
		const struct bus_region *r = &bus->regions[space][i];
		if (ranges_overlap(base, len, r->base, r->len))
			return -EEXIST;
	}
	if (n == BUS_MAX_REGIONS)
		return -ENOSPC;
	bus->regions[space][n] = (struct bus_region){
		.base = base, .len = len, .fn = fn, .dev = dev, .name = name,
	};
	bus->nregions[space] = n + 1;
	return 0;
}

int bus__unregister(struct bus *bus, enum bus_space space, uint64_t base, void *dev)
{
	if ((unsigned)space >= BUS_NSPACES)
		return -EINVAL;
	unsigned n = bus->nregions[space];
	for (unsigned i = 0; i < n; i++) {
		struct bus_region *r = &bus->regions[space][i];
		if (r->base == base && r->dev == dev) {
			memmove(r, r + 1, (n - i - 1) * sizeof(*r));
			bus->nregions[space] = n - 1;
			return 0;
		}
	}
	return -ENOENT;
}

const struct bus_region *bus__find(const struct bus *bus, enum bus_space space,
				   uint64_t addr)
{
	if ((unsigned)space >= BUS_NSPACES)
		return NULL;
	for (unsigned i = 0; i < bus->nregions[space]; i++) {
		const struct bus_region *r = &bus->regions[space][i];
		if (addr - r->base < r->len)
			return r;
	}
	return NULL;
}

int bus__access(struct bus *bus, enum bus_space space, uint64_t addr,
		void *data, unsigned len, bool is_write)
{
	const struct bus_region *r = bus__find(bus, space, addr);
	if (r && r->fn(r->dev, addr - r->base, data, len, is_write) == 0)
		return 0;
	if (!is_write)
		memset(data, 0xff, len);
	if ((unsigned)space < BUS_NSPACES)
		bus->unclaimed[space]++;
	return -ENOENT;
}

void *guest_ram__translate(void *ram, uint64_t gpa, uint64_t len)
{
	struct guest_ram *r = ram;
	if (gpa > r->size || len > r->size - gpa)
		return NULL;
	return r->host + gpa;
}
