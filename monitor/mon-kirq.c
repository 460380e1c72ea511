/* monitor/mon-kirq.c — the in-kernel irqchip (docs/kirq.md): devices/pic.c
 * and devices/pit.c wired as the board wires them (PIT OUT0 -> IRQ0, PIC
 * INTR -> the vCPU; the LAPIC is in its firmware virtual-wire state while
 * this chip is on, so the PIC's INTR is the CPU's), plus port 0x80.
 * Userland's other ISA devices reach the PIC through mon_kirq__set_lines.
 * Compiled into userland too (plain C; the unit tests drive it there).
 */
#include "monitor/mon-kirq.h"
#include "devices/devices.h"
#include "monitor/fs-libc.h"

static const uint16_t kirq_ports[HVMM_KIRQ_NPORTS] = HVMM_KIRQ_PORTS;

struct mon_kirq {
	bool on;
	struct pic pic;
	struct pit pit;
	struct vclock clock;
	struct irq_line intr_line, irq0_line;
	unsigned long long (*now_ns)(void);
	uint64_t clock_start;
	uint16_t levels;		/* userland's ISA lines as applied */
	void (*intr)(void *ctx, int level);
	void *intr_ctx;
	uint64_t pio[HVMM_KIRQ_NPORTS], acks, line_updates, timer_kicks;
};

_Static_assert(sizeof(struct pic) <= sizeof(((struct hvmm_kirq_state *)0)->pic),
	       "struct pic does not fit hvmm_kirq_state.pic");
_Static_assert(sizeof(struct pit) <= sizeof(((struct hvmm_kirq_state *)0)->pit),
	       "struct pit does not fit hvmm_kirq_state.pit");

unsigned long mon_kirq__size(void)
{
	return sizeof(struct mon_kirq);
}

static uint64_t kirq_clock(void *ctx)
{
	struct mon_kirq *k = ctx;

	return k->now_ns() - k->clock_start;
}

static void kirq_intr_changed(void *ctx, unsigned irq, int level)
{
	struct mon_kirq *k = ctx;

	(void)irq;
	if (k->on && k->intr)
		k->intr(k->intr_ctx, level);
}

static void kirq_irq0(void *ctx, unsigned irq, int level)
{
	pic__set_irq(&((struct mon_kirq *)ctx)->pic, irq, level);
}

/* The PIT's catch-up probe: the last IRQ0 pulse waits in the master's IRR. */
static bool kirq_irq0_pending(void *ctx)
{
	return ((struct mon_kirq *)ctx)->pic.chip[0].irr & 1;
}

/* Points the devices' pointer members at this object's own wiring. */
static void kirq_wire(struct mon_kirq *k)
{
	pic__attach(&k->pic, &k->intr_line);
	pit__attach(&k->pit, &k->clock, &k->irq0_line, kirq_irq0_pending, k);
}

void mon_kirq__init(struct mon_kirq *k, unsigned long long (*now_ns)(void))
{
	void (*intr)(void *, int) = k->intr;
	void *ctx = k->intr_ctx;

	memset(k, 0, sizeof(*k));
	k->intr = intr;
	k->intr_ctx = ctx;
	k->now_ns = now_ns;
	k->clock = (struct vclock){ .now_ns = kirq_clock, .ctx = k };
	k->intr_line = (struct irq_line){ .set_level = kirq_intr_changed, .ctx = k };
	k->irq0_line = (struct irq_line){ .set_level = kirq_irq0, .ctx = k, .irq = 0 };
	pic__init(&k->pic, &k->intr_line);
	pit__init(&k->pit, &k->clock, &k->irq0_line);
	pit__set_irq_probe(&k->pit, kirq_irq0_pending, k);
}

void mon_kirq__connect(struct mon_kirq *k, void (*intr)(void *ctx, int level), void *ctx)
{
	k->intr = intr;
	k->intr_ctx = ctx;
}

/* A bool read from an image may hold any byte: make it 0 or 1 before the
 * models read it as a bool. */
static void fix_bool(bool *b)
{
	uint8_t v;

	memcpy(&v, b, 1);
	v = v != 0;
	memcpy(b, &v, 1);
}

/* Clamps what userland sent to values the models handle (a count of 0
 * would divide by zero, a mode > 5 index nothing). */
static void kirq_sanitize(struct mon_kirq *k)
{
	for (int i = 0; i < 2; i++) {
		struct pic_chip *c = &k->pic.chip[i];

		c->is_master = i == 0;
		c->elcr_mask = i == 0 ? 0xf8 : 0xde;
		c->elcr &= c->elcr_mask;
		c->priority_add &= 7;
		c->irq_base &= 0xf8;
		if (c->init_state > 3)
			c->init_state = 0;
		fix_bool(&c->init4); fix_bool(&c->single); fix_bool(&c->auto_eoi);
		fix_bool(&c->rotate_on_aeoi); fix_bool(&c->special_fully_nested);
		fix_bool(&c->read_isr); fix_bool(&c->poll); fix_bool(&c->special_mask);
		fix_bool(&c->is_master);
	}
	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &k->pit.ch[i];

		if (c->count == 0 || c->count > 0x10000)
			c->count = 0x10000;
		if (c->mode > 5)
			c->mode = 2;
		c->rw &= 3;
		c->bcd &= 1;
		c->latch_rw &= 3;
		fix_bool(&c->gate); fix_bool(&c->waiting); fix_bool(&c->paused);
		fix_bool(&c->has_count); fix_bool(&c->null_count); fix_bool(&c->write_hi);
		fix_bool(&c->read_hi); fix_bool(&c->count_latched);
		fix_bool(&c->status_latched); fix_bool(&c->latch_hi);
	}
	kirq_wire(k);
}

int mon_kirq__set_state(struct mon_kirq *k, const struct hvmm_kirq_state *s)
{
	if (!(s->flags & HVMM_KIRQ_ON)) {
		if (k->on && k->intr)
			k->intr(k->intr_ctx, 0);
		k->on = false;
		return 0;
	}
	if (s->pic_size != sizeof(struct pic) || s->pit_size != sizeof(struct pit))
		return -22;	/* EINVAL: another build of the devices */
	memcpy(&k->pic, s->pic, sizeof(k->pic));
	memcpy(&k->pit, s->pit, sizeof(k->pit));
	kirq_sanitize(k);
	k->clock_start = s->clock_start_ns;
	k->levels = (uint16_t)((k->pic.chip[0].lines | k->pic.chip[1].lines << 8) & ~5u);
	k->on = true;
	if (k->intr)
		k->intr(k->intr_ctx, k->pic.intr);
	return 0;
}

void mon_kirq__get_state(const struct mon_kirq *k, struct hvmm_kirq_state *s)
{
	struct pic pic = k->pic;
	struct pit pit = k->pit;

	memset(s, 0, sizeof(*s));
	s->flags = k->on ? HVMM_KIRQ_ON : 0;
	s->pic_size = sizeof(pic);
	s->pit_size = sizeof(pit);
	s->levels = k->levels;
	s->clock_start_ns = k->clock_start;
	for (int i = 0; i < HVMM_KIRQ_NPORTS; i++)
		s->pio[i] = k->pio[i];
	s->acks = k->acks;
	s->line_updates = k->line_updates;
	s->timer_kicks = k->timer_kicks;
	/* no kernel address leaves the module */
	pic__attach(&pic, NULL);
	pit__attach(&pit, NULL, NULL, NULL, NULL);
	memcpy(s->pic, &pic, sizeof(pic));
	memcpy(s->pit, &pit, sizeof(pit));
}

void mon_kirq__set_lines(struct mon_kirq *k, __u16 levels, __u16 edges)
{
	levels &= ~5u;		/* IRQ 0 (the PIT) and 2 (cascade) are ours */
	edges &= ~5u;
	k->line_updates++;
	if (!k->on) {
		k->levels = levels;
		return;
	}
	for (unsigned irq = 1; irq < 16; irq++) {
		unsigned bit = 1u << irq;

		if (!(edges & bit) && !((levels ^ k->levels) & bit))
			continue;
		if (edges & bit) {	/* a pulse since the last call */
			pic__set_irq(&k->pic, irq, 0);
			pic__set_irq(&k->pic, irq, 1);
		}
		pic__set_irq(&k->pic, irq, !!(levels & bit));
	}
	k->levels = levels;
}

int mon_kirq__on(const struct mon_kirq *k)
{
	return k->on;
}

static int kirq_port_idx(__u16 port)
{
	int idx;

	for (idx = 0; idx < HVMM_KIRQ_NPORTS && kirq_ports[idx] != port; idx++)
		;
	return idx < HVMM_KIRQ_NPORTS ? idx : -1;
}

int mon_kirq__owns(const struct mon_kirq *k, __u16 port)
{
	return k->on && kirq_port_idx(port) >= 0;
}

int mon_kirq__pio(struct mon_kirq *k, __u16 port, void *data, unsigned len, int is_write)
{
	int idx = kirq_port_idx(port), r;

	if (!k->on || idx < 0)
		return 0;
	k->pio[idx]++;
	switch (port) {
	case 0x20: case 0x21:
		r = pic__io_master(&k->pic, port - 0x20, data, len, is_write);
		break;
	case 0xa0: case 0xa1:
		r = pic__io_slave(&k->pic, port - 0xa0, data, len, is_write);
		break;
	case 0x4d0: case 0x4d1:
		r = pic__io_elcr(&k->pic, port - 0x4d0, data, len, is_write);
		break;
	case 0x61:
		r = pit__io_port61(&k->pit, 0, data, len, is_write);
		break;
	case 0x80:		/* POST code / io delay: nobody decodes it */
		r = -1;
		break;
	default:
		r = pit__io(&k->pit, port - 0x40, data, len, is_write);
		break;
	}
	/* as the board's bus: a rejected access reads all-ones */
	if (r < 0 && !is_write)
		memset(data, 0xff, len);
	return 1;
}

void mon_kirq__poll(struct mon_kirq *k)
{
	uint64_t now;

	if (!k->on)
		return;
	now = kirq_clock(k);
	if (now >= pit__next_deadline_ns(&k->pit))
		pit__poll(&k->pit, now);
}

int mon_kirq__has_intr(const struct mon_kirq *k)
{
	return k->on && pic__has_intr(&k->pic);
}

int mon_kirq__ack(struct mon_kirq *k)
{
	int vec = pic__ack(&k->pic);

	k->acks++;
	/* PIT catch-up: the next owed tick enters IRR now (as board__intr_ack) */
	if (k->pit.backlog)
		pit__poll(&k->pit, kirq_clock(k));
	return vec;
}

unsigned long long mon_kirq__deadline(const struct mon_kirq *k)
{
	uint64_t d;

	if (!k->on)
		return ~0ull;
	d = pit__next_deadline_ns(&k->pit);
	return d == VCLOCK_NEVER ? ~0ull : d + k->clock_start;
}

void mon_kirq__count_kick(struct mon_kirq *k)
{
	k->timer_kicks++;
}
