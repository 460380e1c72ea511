/* devices/ioapic.c — 82093AA I/O APIC, 24 pins, version 0x11.
 * MMIO: IOREGSEL at 0x00, IOWIN at 0x10 (dword). Registers: 0 ID (27:24),
 * 1 version (max redirection entry 23 in bits 23:16, version 0x11),
 * 2 arbitration ID, 0x10+2n / 0x11+2n redirection entry n low/high.
 * Entry: vector 7:0, delivery mode 10:8, dest mode 11, delivery status 12
 * (RO), polarity 13, remote IRR 14 (RO), trigger 15 (1 = level), mask 16,
 * destination 63:56. A level interrupt sets Remote IRR when delivered and is
 * not delivered again until the LAPIC's EOI for its vector clears it.
 * An edge that arrives while the pin is masked is kept and delivered at
 * unmask (so a lazily masked edge IRQ is never lost).
 * One CPU: every destination reaches the one local APIC.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

#define RED_MASK	(1ull << 16)
#define RED_LEVEL	(1ull << 15)
#define RED_RIRR	(1ull << 14)
#define RED_DS		(1ull << 12)
#define RED_WMASK	0xff0000000001afffull	/* RO: delivery status, remote IRR */

static void eoi_cb(void *ctx, uint8_t vector)
{
	ioapic__eoi(ctx, vector);
}

void ioapic__init(struct ioapic *io, struct lapic *lapic)
{
	memset(io, 0, sizeof(*io));
	io->lapic = lapic;
	io->id = 1;	/* firmware's choice, as in the MADT: distinct from LAPIC 0 */
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->pin[i].redir = RED_MASK;
	if (lapic) {
		lapic->ops.eoi = eoi_cb;
		lapic->ops.eoi_ctx = io;
	}
}

/* Delivers pin n if its state calls for it. */
static void service(struct ioapic *io, unsigned n)
{
	struct ioapic_pin *p = &io->pin[n];
	uint64_t r = p->redir;
	if (r & RED_MASK)
		return;
	if (r & RED_LEVEL) {
		if (!p->level || (r & RED_RIRR))
			return;
		p->redir |= RED_RIRR;
	} else {
		if (!p->pending)
			return;
		p->pending = false;
	}
	io->delivered++;
	if (io->lapic)
		lapic__deliver(io->lapic, r & 0xff, (r >> 8) & 7, r & RED_LEVEL);
}

void ioapic__set_irq(struct ioapic *io, unsigned n, int level)
{
	if (n >= IOAPIC_PINS)
		return;
	struct ioapic_pin *p = &io->pin[n];
	int old = p->level;
	p->level = !!level;
	if (!(p->redir & RED_LEVEL) && p->level && !old)
		p->pending = true;
	service(io, n);
}

bool ioapic__pin_pending(const struct ioapic *io, unsigned n)
{
	if (n >= IOAPIC_PINS)
		return false;
	const struct ioapic_pin *p = &io->pin[n];
	if (p->redir & RED_MASK)
		return false;	/* nobody takes it this way (PIC mode) */
	return io->lapic && lapic__irr_test(io->lapic, p->redir & 0xff);
}

void ioapic__eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned n = 0; n < IOAPIC_PINS; n++) {
		struct ioapic_pin *p = &io->pin[n];
		if ((p->redir & RED_LEVEL) && (p->redir & 0xff) == vector &&
		    (p->redir & RED_RIRR)) {
			p->redir &= ~RED_RIRR;
			service(io, n);
		}
	}
}

static uint32_t reg_read(struct ioapic *io, uint8_t sel)
{
	switch (sel) {
	case 0x00: return io->id << 24;
	case 0x01: return ((IOAPIC_PINS - 1) << 16) | 0x11;
	case 0x02: return io->id << 24;
	}
	if (sel >= 0x10 && sel < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t r = io->pin[(sel - 0x10) / 2].redir;
		return (sel & 1) ? r >> 32 : (uint32_t)r;
	}
	return 0xffffffffu;
}

static void reg_write(struct ioapic *io, uint8_t sel, uint32_t v)
{
	if (sel == 0x00) {
		io->id = (v >> 24) & 0x0f;
		return;
	}
	if (sel < 0x10 || sel >= 0x10 + 2 * IOAPIC_PINS)
		return;
	unsigned n = (sel - 0x10) / 2;
	struct ioapic_pin *p = &io->pin[n];
	uint64_t nv = (sel & 1) ? ((uint64_t)v << 32) | (p->redir & 0xffffffffu)
				: (p->redir & 0xffffffff00000000ull) | v;
	p->redir = (nv & RED_WMASK) | (p->redir & ~RED_WMASK);
	if (!(p->redir & RED_LEVEL))
		p->redir &= ~RED_RIRR;	/* remote IRR is undefined for edge: keep clear */
	service(io, n);
}

int ioapic__mmio(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct ioapic *io = dev;
	if (offset == 0x00 && len <= 4) {
		if (is_write)
			io->regsel = *(uint8_t *)data;
		else {
			uint32_t v = io->regsel;
			memcpy(data, &v, len);
		}
		return 0;
	}
	if (offset == 0x10 && len == 4) {
		uint32_t v;
		if (is_write) {
			memcpy(&v, data, 4);
			reg_write(io, io->regsel, v);
		} else {
			v = reg_read(io, io->regsel);
			memcpy(data, &v, 4);
		}
		return 0;
	}
	if (offset < 0x1000) {	/* other offsets: reads 0, writes ignored */
		if (!is_write)
			memset(data, 0, len);
		return 0;
	}
	return -EINVAL;
}
