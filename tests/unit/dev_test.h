/* tests/unit/dev_test.h — helpers shared by the device suites: a clock the
 * test moves by hand, an interrupt-line recorder, and port/MMIO accessors. */
#ifndef HVMM_TESTS_DEV_TEST_H
#define HVMM_TESTS_DEV_TEST_H

#include "devices/devices.h"

struct fake_clock {
	uint64_t now;
	struct vclock vc;
};

static inline uint64_t fake_clock__read(void *c)
{
	return ((struct fake_clock *)c)->now;
}

static inline void fake_clock__init(struct fake_clock *c)
{
	c->now = 0;
	c->vc = (struct vclock){.now_ns = fake_clock__read, .ctx = c};
}

/* Records the level of up to 32 lines and counts rising edges. */
struct irq_rec {
	int level[32];
	unsigned rises[32];
	struct irq_line line[32];
};

static inline void irq_rec__set(void *ctx, unsigned irq, int level)
{
	struct irq_rec *r = ctx;
	if (irq >= 32)
		return;
	if (level && !r->level[irq])
		r->rises[irq]++;
	r->level[irq] = level;
}

static inline void irq_rec__init(struct irq_rec *r)
{
	for (unsigned i = 0; i < 32; i++) {
		r->level[i] = 0;
		r->rises[i] = 0;
		r->line[i] = (struct irq_line){.set_level = irq_rec__set, .ctx = r, .irq = i};
	}
}

static inline uint32_t io_in(struct bus *b, uint64_t port, unsigned len)
{
	uint32_t v = 0;
	bus__access(b, BUS_PIO, port, &v, len, false);
	return v;
}

static inline void io_out(struct bus *b, uint64_t port, uint32_t v, unsigned len)
{
	bus__access(b, BUS_PIO, port, &v, len, true);
}

static inline uint8_t inb(struct bus *b, uint64_t port) { return io_in(b, port, 1); }
static inline void outb(struct bus *b, uint64_t port, uint8_t v) { io_out(b, port, v, 1); }

static inline uint32_t mmio_rd(struct bus *b, uint64_t a)
{
	uint32_t v = 0;
	bus__access(b, BUS_MMIO, a, &v, 4, false);
	return v;
}

static inline void mmio_wr(struct bus *b, uint64_t a, uint32_t v)
{
	bus__access(b, BUS_MMIO, a, &v, 4, true);
}

#endif
