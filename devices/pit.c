/* devices/pit.c — i8254 PIT. Mode facts (Intel 82C54 datasheet):
 *   0 interrupt on terminal count: OUT low after the count is written, high
 *     when it reaches 0; gate low pauses counting.
 *   1 hardware one-shot: a gate rising edge loads the count; OUT low until 0.
 *   2 rate generator: OUT high, low for one clock when the count reaches 1,
 *     period = count; gate low stops it with OUT high, a rising edge reloads.
 *   3 square wave: OUT high for ceil(N/2), low for floor(N/2) clocks.
 *   4 software strobe: OUT high, low for one clock at terminal count.
 *   5 hardware strobe: as 4, started by a gate rising edge.
 * Modes 6 and 7 are aliases of 2 and 3. A count of 0 means 0x10000 (10000 in
 * BCD). Control word 11xxxxxx is the read-back command; RW=00 latches a count.
 */
#include "devices/devices.h"
#include "devices/dev-libc.h"

/* floor(ns * PIT_HZ / 1e9), split at whole seconds so that only 64-bit
 * divisions remain: hvmm.ko links this file too (docs/kirq.md), and the
 * kernel has no 128-bit division helper. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / 1000000000u * PIT_HZ + ns % 1000000000u * PIT_HZ / 1000000000u;
}

/* Smallest ns with ns_to_ticks(ns) >= ticks: ceil(ticks * 1e9 / PIT_HZ). */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ticks / PIT_HZ * 1000000000u +
	       (ticks % PIT_HZ * 1000000000u + PIT_HZ - 1) / PIT_HZ;
}

/* Ticks counted since the channel started, or 0 while waiting. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (c->waiting)
		return 0;
	if (c->paused)
		return c->paused_ticks;
	return now > c->load_ns ? ns_to_ticks(now - c->load_ns) : 0;
}

static uint16_t counter_value(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = elapsed(c, now);
	uint32_t n = c->count, v;
	if (c->waiting)
		return n & 0xffff;
	switch (c->mode) {
	case 2:
		v = n - (d % n);
		break;
	case 3:
		/* counts down by two each clock, twice per period */
		v = n - ((2 * d) % n);
		v &= ~1u;
		if (!v)
			v = n & ~1u;
		break;
	default:		/* 0, 1, 4, 5: wrap through 0xffff (9999 in BCD) after 0 */
		if (c->bcd)
			v = (uint32_t)((n + 10000 - d % 10000) % 10000);
		else
			v = (uint32_t)((n - d) & 0xffff);
		break;
	}
	return v & 0xffff;
}

static int out_level(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = elapsed(c, now);
	uint32_t n = c->count;
	switch (c->mode) {
	case 0:
		return !c->waiting && d >= n;
	case 1:
		return c->waiting || d >= n;
	case 2:
		if (c->waiting || !c->gate)
			return 1;
		return (d % n) != n - 1;
	case 3:
		if (c->waiting || !c->gate)
			return 1;
		return (d % n) < (n + 1) / 2;
	default:		/* 4, 5 */
		return c->waiting || d != n;
	}
}

/* The first rising edge of OUT strictly after tick d, or UINT64_MAX. */
static uint64_t next_edge_after(const struct pit_channel *c, uint64_t d)
{
	uint32_t n = c->count;
	if (c->waiting || c->paused)
		return UINT64_MAX;
	switch (c->mode) {
	case 0:
	case 1:
		return d < n ? n : UINT64_MAX;
	case 2:
	case 3:
		if (!c->gate)
			return UINT64_MAX;
		return (d / n + 1) * n;
	default:
		return d < n + 1 ? n + 1 : UINT64_MAX;
	}
}

static void rearm(struct pit_channel *c, uint64_t now)
{
	c->next_irq_tick = next_edge_after(c, elapsed(c, now));
}

static void start(struct pit_channel *c, uint64_t now)
{
	c->load_ns = now;
	c->waiting = false;
	c->paused = false;
	c->null_count = false;
	rearm(c, now);
}

static uint16_t to_bcd(uint16_t v)
{
	v %= 10000;
	return (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
}

static uint32_t from_bcd(uint16_t v)
{
	return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 +
	       ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

static void load_count(struct pit *p, struct pit_channel *c, uint16_t raw)
{
	uint64_t now = vclock__now(p->clock);
	uint32_t n = c->bcd ? from_bcd(raw) : raw;
	if (n == 0)
		n = c->bcd ? 10000 : 0x10000;
	c->count = n;
	c->null_count = true;
	c->has_count = true;
	if (c == &p->ch[0]) {		/* a new count: old edges are moot */
		p->lost_edges += p->backlog;
		p->backlog = 0;
	}
	if (c->mode == 1 || c->mode == 5) {
		/* armed: waits for a gate rising edge (gate 0/1 are tied high,
		 * a hardware-triggered mode on them never starts) */
		c->waiting = true;
		c->next_irq_tick = UINT64_MAX;
		return;
	}
	start(c, now);
	if (!c->gate && (c->mode == 0 || c->mode == 4)) {
		c->paused = true;
		c->paused_ticks = 0;
		c->next_irq_tick = UINT64_MAX;
	}
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		c->next_irq_tick = UINT64_MAX;
}

static uint8_t status_byte(const struct pit_channel *c, uint64_t now)
{
	return (out_level(c, now) << 7) | (c->null_count << 6) | (c->rw << 4) |
	       (c->mode << 1) | c->bcd;
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->count_latched)
		return;		/* first latch wins until read */
	uint16_t v = counter_value(c, now);
	c->latched_count = c->bcd ? to_bcd(v) : v;
	c->count_latched = true;
	c->latch_rw = c->rw;
	c->latch_hi = false;
}

static void control_write(struct pit *p, uint8_t v)
{
	uint64_t now = vclock__now(p->clock);
	unsigned sel = v >> 6;
	if (sel == 3) {			/* read-back */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			struct pit_channel *c = &p->ch[i];
			if (!(v & 0x20))
				latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->latched_status = status_byte(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	struct pit_channel *c = &p->ch[sel];
	unsigned rw = (v >> 4) & 3;
	if (rw == 0) {
		latch_count(c, now);
		return;
	}
	if (sel == 0) {
		p->lost_edges += p->backlog;
		p->backlog = 0;
	}
	c->rw = rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = v & 1;
	c->write_hi = c->read_hi = false;
	c->count_latched = c->status_latched = false;
	/* a new control word stops the channel until a count arrives */
	c->waiting = true;
	c->has_count = false;
	c->null_count = true;
	c->next_irq_tick = UINT64_MAX;
}

static void data_write(struct pit *p, struct pit_channel *c, uint8_t v)
{
	switch (c->rw) {
	case 1:
		load_count(p, c, v);
		break;
	case 2:
		load_count(p, c, (uint16_t)v << 8);
		break;
	case 3:
		if (!c->write_hi) {
			c->write_lsb = v;
			c->write_hi = true;
			if (c->mode == 0)	/* mode 0: first byte stops counting */
				c->waiting = true, c->next_irq_tick = UINT64_MAX;
		} else {
			c->write_hi = false;
			load_count(p, c, c->write_lsb | (uint16_t)v << 8);
		}
		break;
	}
}

static uint8_t data_read(struct pit *p, struct pit_channel *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}
	if (c->count_latched) {
		uint16_t v = c->latched_count;
		uint8_t b;
		switch (c->latch_rw) {
		case 1:
			c->count_latched = false;
			return v & 0xff;
		case 2:
			c->count_latched = false;
			return v >> 8;
		default:
			b = c->latch_hi ? v >> 8 : v & 0xff;
			if (c->latch_hi)
				c->count_latched = false;
			c->latch_hi = !c->latch_hi;
			return b;
		}
	}
	uint16_t v = counter_value(c, vclock__now(p->clock));
	if (c->bcd)
		v = to_bcd(v);
	switch (c->rw) {
	case 1:
		return v & 0xff;
	case 2:
		return v >> 8;
	default: {
		uint8_t b = c->read_hi ? v >> 8 : v & 0xff;
		c->read_hi = !c->read_hi;
		return b;
	}
	}
}

void pit__init(struct pit *p, const struct vclock *clock, const struct irq_line *irq0)
{
	memset(p, 0, sizeof(*p));
	p->clock = clock;
	p->irq0 = irq0;
	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		c->count = 0x10000;
		c->rw = 3;
		c->gate = i != 2;
		c->waiting = true;
		c->next_irq_tick = UINT64_MAX;
	}
}

void pit__attach(struct pit *p, const struct vclock *clock, const struct irq_line *irq0,
		 bool (*pending)(void *ctx), void *ctx)
{
	p->clock = clock;
	p->irq0 = irq0;
	p->irq_pending = pending;
	p->probe_ctx = ctx;
}

int pit__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct pit *p = dev;
	uint8_t *b = data;
	if (offset >= 4 || len > 4 - offset)
		return -EINVAL;
	for (unsigned i = 0; i < len; i++) {
		unsigned r = offset + i;
		if (is_write) {
			if (r == 3)
				control_write(p, b[i]);
			else
				data_write(p, &p->ch[r], b[i]);
		} else {
			b[i] = r == 3 ? 0xff : data_read(p, &p->ch[r]);	/* control reads float */
		}
	}
	return 0;
}

static void set_gate(struct pit *p, struct pit_channel *c, bool gate)
{
	uint64_t now = vclock__now(p->clock);
	if (gate == c->gate)
		return;
	if (gate) {
		switch (c->mode) {
		case 0:
		case 4:
			if (c->paused) {
				c->paused = false;
				c->load_ns = now - ticks_to_ns(c->paused_ticks);
				c->gate = true;
				rearm(c, now);
			}
			break;
		default:	/* 1, 2, 3, 5: the rising edge (re)loads the count */
			c->gate = true;
			if (c->has_count)
				start(c, now);
			break;
		}
	} else if ((c->mode == 0 || c->mode == 4) && !c->waiting && !c->paused) {
		c->paused_ticks = elapsed(c, now);
		c->paused = true;
		c->next_irq_tick = UINT64_MAX;
	} else if (c->mode == 2 || c->mode == 3) {
		c->next_irq_tick = UINT64_MAX;
	}
	c->gate = gate;
}

int pit__io_port61(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct pit *p = dev;
	uint8_t *b = data;
	if (offset != 0 || len != 1)
		return -EINVAL;
	if (is_write) {
		p->port61 = b[0] & 0x0f;
		set_gate(p, &p->ch[2], b[0] & 1);
		return 0;
	}
	uint64_t now = vclock__now(p->clock);
	b[0] = p->port61 | ((now / 15085) & 1) << 4 |
	       out_level(&p->ch[2], now) << 5;
	return 0;
}

uint64_t pit__next_deadline_ns(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	if (c->next_irq_tick == UINT64_MAX || c->waiting || c->paused)
		return VCLOCK_NEVER;
	return c->load_ns + ticks_to_ns(c->next_irq_tick);
}

/* Most edges the backlog may hold for channel 0's current period. */
static uint32_t backlog_limit(const struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t period = ticks_to_ns(c->count);
	if (!p->irq_pending || (c->mode != 2 && c->mode != 3) ||
	    period < PIT_CATCHUP_MIN_PERIOD_NS)
		return 1;	/* one pending pulse: missed edges coalesce */
	uint64_t n = PIT_CATCHUP_NS / period;
	return n > UINT32_MAX ? UINT32_MAX : n ? (uint32_t)n : 1;
}

void pit__poll(struct pit *p, uint64_t now)
{
	struct pit_channel *c = &p->ch[0];
	if (pit__next_deadline_ns(p) <= now) {
		uint64_t d = elapsed(c, now), due = 1;
		if ((c->mode == 2 || c->mode == 3) && d >= c->next_irq_tick)
			due = (d - c->next_irq_tick) / c->count + 1;
		c->next_irq_tick = next_edge_after(c, d);
		p->edges += due;
		tick_backlog__add(&p->backlog, &p->backlog_max, &p->lost_edges, due,
				  backlog_limit(p));
	}
	if (!p->backlog || (p->irq_pending && p->irq_pending(p->probe_ctx)))
		return;
	p->backlog--;
	p->irq_pulses++;
	irq_line__set(p->irq0, 1);
	irq_line__set(p->irq0, 0);
}

void pit__set_irq_probe(struct pit *p, bool (*pending)(void *ctx), void *ctx)
{
	p->irq_pending = pending;
	p->probe_ctx = ctx;
	p->backlog = 0;
}

int pit__out(const struct pit *p, unsigned n, uint64_t now_ns)
{
	return n < 3 ? out_level(&p->ch[n], now_ns) : 0;
}
