/* devices/pci.c — PCI bus 0 behind configuration mechanism #1.
 * 0xcf8: bit 31 enable, 23:16 bus, 15:11 device, 10:8 function, 7:2 dword.
 * Only dword accesses at 0xcf8 reach the address register (Linux's
 * pci_check_type1 writes a byte to 0xcfb and expects the dword unchanged);
 * byte 0xcf9 is the PIIX reset control register (bit 2 pulses reset with
 * bit 1 choosing hard reset). A function that is absent reads all-ones.
 * BAR sizing (PCI Local Bus spec 3.0, 6.2.5.1): write all-ones, read back;
 * the address bits below the size read as zero, flag bits keep their value.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

static bool bar_enabled(const struct pci_dev *d, const struct pci_bar *b)
{
	uint16_t cmd = pci_cfg__get16(d, 0x04);
	return b->space == BUS_PIO ? (cmd & PCI_CMD_IO) : (cmd & PCI_CMD_MEM);
}

uint32_t pci_dev__bar_addr(const struct pci_dev *d, unsigned idx)
{
	uint32_t v = pci_cfg__get32(d, 0x10 + 4 * idx);
	return d->bar[idx].space == BUS_PIO ? v & ~3u : v & ~15u;
}

/* Places each BAR on the bus where the guest put it, if decoding is on. */
static void update_mappings(struct pci_dev *d)
{
	struct bus *bus = d->host ? d->host->bus : NULL;
	if (!bus)
		return;
	for (unsigned i = 0; i < 6; i++) {
		struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		uint64_t base = pci_dev__bar_addr(d, i);
		uint64_t limit = b->space == BUS_PIO ? 0x10000 : 0x100000000ull;
		bool want = bar_enabled(d, b) && base != 0 && base + b->size <= limit;
		if (b->mapped && (!want || b->mapped_base != base)) {
			bus__unregister(bus, b->space, b->mapped_base, b->opaque);
			b->mapped = false;
		}
		if (want && !b->mapped) {
			/* a BAR over another device (e.g. mid-sizing) stays unmapped */
			if (bus__register(bus, b->space, base, b->size, b->fn, b->opaque,
					  b->name) == 0) {
				b->mapped = true;
				b->mapped_base = base;
			}
		}
	}
}

static void drive_intx(struct pci_dev *d)
{
	bool disabled = pci_cfg__get16(d, 0x04) & PCI_CMD_INTX_DISABLE;
	int out = d->intx_level && !disabled;
	uint16_t st = pci_cfg__get16(d, 0x06) & ~PCI_STATUS_INTX;
	pci_cfg__set16(d, 0x06, st | (d->intx_level ? PCI_STATUS_INTX : 0));
	if (out != d->intx_out) {
		d->intx_out = out;
		irq_line__set(d->intx, out);
	}
}

void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device,
		   uint32_t class_code, uint8_t rev, uint16_t sub_vendor,
		   uint16_t sub_device, uint8_t int_pin)
{
	memset(d, 0, sizeof(*d));
	pci_cfg__set16(d, 0x00, vendor);
	pci_cfg__set16(d, 0x02, device);
	d->cfg[0x08] = rev;
	d->cfg[0x09] = class_code & 0xff;
	d->cfg[0x0a] = (class_code >> 8) & 0xff;
	d->cfg[0x0b] = (class_code >> 16) & 0xff;
	pci_cfg__set16(d, 0x2c, sub_vendor);
	pci_cfg__set16(d, 0x2e, sub_device);
	d->cfg[0x3d] = int_pin;
	/* command: I/O, memory, bus master, parity, SERR, INTx disable */
	d->wmask[0x04] = 0x47;
	d->wmask[0x05] = 0x05;
	/* status: error bits are write-1-to-clear */
	d->w1c[0x07] = 0xf9;
	d->wmask[0x0c] = 0xff;	/* cache line size */
	d->wmask[0x0d] = 0xff;	/* latency timer */
	d->wmask[0x3c] = 0xff;	/* interrupt line */
	d->next_cap = 0x40;
}

int pci_dev__set_bar(struct pci_dev *d, unsigned idx, uint32_t size,
		     enum bus_space space, io_handler_fn fn, void *opaque,
		     const char *name)
{
	if (idx >= 6 || !fn || (size & (size - 1)) || space >= BUS_NSPACES ||
	    size < (space == BUS_PIO ? 4u : 16u) || (space == BUS_PIO && size > 256))
		return -EINVAL;
	d->bar[idx] = (struct pci_bar){.size = size, .space = space, .fn = fn,
				       .opaque = opaque, .name = name};
	uint32_t mask = ~(size - 1) & (space == BUS_PIO ? ~3u : ~15u);
	unsigned off = 0x10 + 4 * idx;
	for (unsigned i = 0; i < 4; i++)
		d->wmask[off + i] = mask >> (8 * i);
	pci_cfg__set32(d, off, space == BUS_PIO ? 1 : 0);	/* bit 0: I/O; mem 32-bit non-prefetchable */
	return 0;
}

int pci_dev__add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
	unsigned off = (d->next_cap + 3) & ~3u;
	if (len < 2 || off + len > 256)
		return -ENOSPC;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	if (d->last_cap)
		d->cfg[d->last_cap + 1] = off;
	else
		d->cfg[0x34] = off;
	d->last_cap = off;
	d->next_cap = off + len;
	d->cfg[0x06] |= PCI_STATUS_CAP_LIST;
	return (int)off;
}

void pci_dev__wire_intx(struct pci_dev *d, const struct irq_line *line, uint8_t isa_irq)
{
	d->intx = line;
	d->cfg[0x3c] = isa_irq;
}

void pci_dev__set_intx(struct pci_dev *d, int level)
{
	d->intx_level = !!level;
	drive_intx(d);
}

static void bridge_init(struct pci_dev *d)
{
	pci_dev__init(d, 0x8086, 0x1237, 0x060000, 0x02, 0, 0, 0);
}

void pci_host__init(struct pci_host *h, struct bus *bus, void (*reset)(void *ctx),
		    void *reset_ctx)
{
	memset(h, 0, sizeof(*h));
	h->bus = bus;
	h->reset = reset;
	h->reset_ctx = reset_ctx;
	bridge_init(&h->bridge);
	pci_host__add(h, &h->bridge, 0);
}

int pci_host__add(struct pci_host *h, struct pci_dev *d, unsigned slot)
{
	if (slot >= PCI_SLOTS)
		return -EINVAL;
	if (h->dev[slot])
		return -EEXIST;
	h->dev[slot] = d;
	d->slot = slot;
	d->host = h;
	update_mappings(d);
	return 0;
}

uint32_t pci_host__cfg_read(struct pci_host *h, unsigned slot, unsigned fn,
			    unsigned off, unsigned len)
{
	struct pci_dev *d = slot < PCI_SLOTS && fn == 0 ? h->dev[slot] : NULL;
	if (!d || off + len > 256)
		return len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
	uint32_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

void pci_host__cfg_write(struct pci_host *h, unsigned slot, unsigned fn,
			 unsigned off, unsigned len, uint32_t v)
{
	struct pci_dev *d = slot < PCI_SLOTS && fn == 0 ? h->dev[slot] : NULL;
	if (!d || off + len > 256)
		return;
	for (unsigned i = 0; i < len; i++) {
		uint8_t b = v >> (8 * i), o = off + i;
		uint8_t wm = d->wmask[o], c = d->w1c[o];
		d->cfg[o] = (d->cfg[o] & ~wm) | (b & wm);
		d->cfg[o] &= ~(b & c);
	}
	if (off < 0x28 && off + len > 0x04)	/* command or a BAR */
		update_mappings(d);
	if (off < 0x06 && off + len > 0x04)
		drive_intx(d);
	if (d->cfg_written)
		d->cfg_written(d, off, len);
}

int pci_host__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct pci_host *h = dev;
	uint32_t v = 0;
	if (offset >= 8 || len > 8 - offset)
		return -EINVAL;
	if (offset < 4) {
		if (offset == 0 && len == 4) {
			if (is_write)
				memcpy(&h->addr, data, 4), h->addr &= 0x80fffffcu;
			else
				memcpy(data, &h->addr, 4);
			return 0;
		}
		if (offset == 1 && len == 1) {
			if (!is_write) {
				*(uint8_t *)data = h->rcr;
				return 0;
			}
			uint8_t b = *(uint8_t *)data;
			/* writing RST_CPU (bit 2) resets; bit 1 selects hard reset */
			if ((b & 0x04) && !(h->rcr & 0x04) && h->reset)
				h->reset(h->reset_ctx);
			h->rcr = b & 0x0a;
			return 0;
		}
		return -EINVAL;	/* other sub-dword accesses: not ours */
	}
	unsigned off = (h->addr & 0xfc) + (offset - 4);
	unsigned bus = (h->addr >> 16) & 0xff, slot = (h->addr >> 11) & 0x1f;
	unsigned fn = (h->addr >> 8) & 7;
	bool ok = (h->addr & 0x80000000u) && bus == 0;
	if (is_write) {
		memcpy(&v, data, len);
		if (ok)
			pci_host__cfg_write(h, slot, fn, off, len, v);
	} else {
		v = ok ? pci_host__cfg_read(h, slot, fn, off, len) : 0xffffffffu;
		memcpy(data, &v, len);
	}
	return 0;
}

int pci_host__assign_resources(struct pci_host *h, uint32_t io_lo, uint32_t io_hi,
			       uint32_t mem_lo, uint32_t mem_hi)
{
	uint64_t io = io_lo, mem = mem_lo;
	for (unsigned s = 0; s < PCI_SLOTS; s++) {
		struct pci_dev *d = h->dev[s];
		if (!d)
			continue;
		uint16_t cmd = pci_cfg__get16(d, 0x04);
		for (unsigned i = 0; i < 6; i++) {
			struct pci_bar *b = &d->bar[i];
			if (!b->size || pci_dev__bar_addr(d, i))
				continue;
			uint64_t *next = b->space == BUS_PIO ? &io : &mem;
			uint64_t hi = b->space == BUS_PIO ? io_hi : mem_hi;
			uint64_t a = (*next + b->size - 1) & ~(uint64_t)(b->size - 1);
			if (a + b->size > hi)
				return -ENOSPC;
			*next = a + b->size;
			uint32_t flags = pci_cfg__get32(d, 0x10 + 4 * i) & (b->space == BUS_PIO ? 3 : 15);
			pci_cfg__set32(d, 0x10 + 4 * i, (uint32_t)a | flags);
			cmd |= b->space == BUS_PIO ? PCI_CMD_IO : PCI_CMD_MEM;
		}
		pci_cfg__set16(d, 0x04, cmd);
		update_mappings(d);
	}
	return 0;
}
