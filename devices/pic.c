/* devices/pic.c — i8259A pair. Facts from the Intel 8259A datasheet:
 * - ICW1 (A0=0, D4=1) resets the edge-sense latch (an input that is already
 *   high must go low then high again), clears IMR and ISR, sets IR7 lowest
 *   priority, cancels special mask and selects IRR for reads.
 * - OCW2 (A0=0, D4:3=00) commands EOI / rotation; OCW3 (D4:3=01) selects the
 *   IRR/ISR read, poll mode and special mask mode.
 * - An INTA with no request left (the request went away) returns IR7 of
 *   the chip without setting ISR: the spurious interrupt.
 * - Special fully nested mode lets the master take a new request from the
 *   slave while IR2 is in service.
 * The LTIM bit of ICW1 is ignored as on PIIX chipsets: ELCR selects the
 * trigger mode per line. IRQ0-2, 8 and 13 cannot be level-triggered.
 */
#include "devices/devices.h"
#include "devices/dev-libc.h"

/* Priority (0 highest) of the best set bit of mask, or 8 if none. */
static unsigned best_priority(const struct pic_chip *c, uint8_t mask)
{
	if (!mask)
		return 8;
	unsigned pr = 0;
	while (!(mask & (1u << ((pr + c->priority_add) & 7))))
		pr++;
	return pr;
}

/* The IR the chip would signal now, or -1. */
static int chip_pending(const struct pic_chip *c)
{
	unsigned pr = best_priority(c, c->irr & ~c->imr);
	if (pr == 8)
		return -1;
	uint8_t in_service = c->isr;
	if (c->special_mask)
		in_service &= ~c->imr;	/* masked levels do not block lower ones */
	if (c->special_fully_nested && c->is_master)
		in_service &= ~(1u << 2);
	if (pr < best_priority(c, in_service))
		return (pr + c->priority_add) & 7;
	return -1;
}

static void chip_set_input(struct pic_chip *c, unsigned ir, int level)
{
	uint8_t m = 1u << ir;
	if (c->elcr & m) {
		if (level)
			c->irr |= m;
		else
			c->irr &= ~m;
	} else if (level && !(c->lines & m)) {
		c->irr |= m;	/* rising edge latched until INTA */
	}
	if (level)
		c->lines |= m;
	else
		c->lines &= ~m;
}

/* Propagates slave output to master IR2 and master output to INTR. */
static void update(struct pic *p)
{
	/* the slave's INT output is a level on master IR2 */
	if (chip_pending(&p->chip[1]) >= 0)
		p->chip[0].irr |= 1u << 2;
	else
		p->chip[0].irr &= ~(1u << 2);
	int intr = chip_pending(&p->chip[0]) >= 0;
	if (intr != p->intr) {
		p->intr = intr;
		irq_line__set(p->intr_line, intr);
	}
}

static void chip_reset(struct pic_chip *c)
{
	uint8_t elcr = c->elcr, emask = c->elcr_mask, lines = c->lines;
	bool master = c->is_master;
	memset(c, 0, sizeof(*c));
	c->elcr = elcr;
	c->elcr_mask = emask;
	c->lines = lines;
	c->is_master = master;
	c->irr = lines & elcr;	/* level inputs still request; edges need a new edge */
}

void pic__init(struct pic *p, const struct irq_line *intr_line)
{
	memset(p, 0, sizeof(*p));
	p->intr_line = intr_line;
	p->chip[0].is_master = true;
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
}

void pic__attach(struct pic *p, const struct irq_line *intr_line)
{
	p->intr_line = intr_line;
	p->intr = pic__has_intr(p);
}

void pic__set_irq(struct pic *p, unsigned irq, int level)
{
	if (irq >= 16 || irq == 2)
		return;
	chip_set_input(&p->chip[irq >> 3], irq & 7, level);
	update(p);
}

static void set_irq_cb(void *ctx, unsigned irq, int level)
{
	pic__set_irq(ctx, irq, level);
}

void pic__irq_line(struct pic *p, unsigned irq, struct irq_line *line)
{
	*line = (struct irq_line){.set_level = set_irq_cb, .ctx = p, .irq = irq};
}

bool pic__has_intr(const struct pic *p)
{
	return chip_pending(&p->chip[0]) >= 0;
}

/* INTA on one chip for ir: sets ISR (or rotates in auto-EOI), clears an
 * edge request. */
static void chip_intack(struct pic_chip *c, int ir)
{
	uint8_t m = 1u << ir;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->priority_add = (ir + 1) & 7;
	} else {
		c->isr |= m;
	}
	if (!(c->elcr & m))
		c->irr &= ~m;
}

uint8_t pic__ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	uint8_t vec;
	int ir = chip_pending(m);
	if (ir < 0) {
		p->spurious++;
		vec = m->irq_base + 7;
	} else if (ir == 2) {
		chip_intack(m, 2);
		int ir2 = chip_pending(s);
		if (ir2 >= 0) {
			chip_intack(s, ir2);
		} else {
			p->spurious++;
			ir2 = 7;	/* spurious on the slave: IRQ15 */
		}
		vec = s->irq_base + ir2;
	} else {
		chip_intack(m, ir);
		vec = m->irq_base + ir;
	}
	update(p);
	return vec;
}

static void chip_eoi(struct pic_chip *c, unsigned cmd, unsigned level)
{
	switch (cmd) {
	case 0:			/* clear rotate in auto-EOI */
	case 4:			/* set rotate in auto-EOI */
		c->rotate_on_aeoi = cmd == 4;
		break;
	case 1:			/* non-specific EOI */
	case 5: {		/* rotate on non-specific EOI */
		unsigned pr = best_priority(c, c->isr);
		if (pr == 8)
			break;
		unsigned ir = (pr + c->priority_add) & 7;
		c->isr &= ~(1u << ir);
		if (cmd == 5)
			c->priority_add = (ir + 1) & 7;
		break;
	}
	case 3:			/* specific EOI */
	case 7:			/* rotate on specific EOI */
		c->isr &= ~(1u << level);
		if (cmd == 7)
			c->priority_add = (level + 1) & 7;
		break;
	case 6:			/* set priority: level becomes lowest */
		c->priority_add = (level + 1) & 7;
		break;
	default:		/* 2: no operation */
		break;
	}
}

static void chip_write(struct pic *p, struct pic_chip *c, unsigned a0, uint8_t v)
{
	if (a0 == 0) {
		if (v & 0x10) {			/* ICW1 */
			chip_reset(c);
			c->init_state = 1;
			c->init4 = v & 0x01;
			c->single = v & 0x02;
		} else if (v & 0x08) {		/* OCW3 */
			if (v & 0x04)
				c->poll = true;
			if (v & 0x02)
				c->read_isr = v & 0x01;
			if (v & 0x40)
				c->special_mask = (v >> 5) & 1;
		} else {			/* OCW2 */
			chip_eoi(c, v >> 5, v & 7);
		}
	} else {
		switch (c->init_state) {
		case 0:			/* OCW1 */
			c->imr = v;
			break;
		case 1:			/* ICW2 */
			c->irq_base = v & 0xf8;
			c->init_state = c->single ? (c->init4 ? 3 : 0) : 2;
			break;
		case 2:			/* ICW3: cascade wiring is fixed */
			c->init_state = c->init4 ? 3 : 0;
			break;
		case 3:			/* ICW4 */
			c->auto_eoi = v & 0x02;
			c->special_fully_nested = v & 0x10;
			c->init_state = 0;
			break;
		}
	}
	update(p);
}

/* Poll command result: 0x80 | IR with the request acknowledged, or 0. */
static uint8_t chip_poll(struct pic *p, struct pic_chip *c)
{
	c->poll = false;
	int ir = chip_pending(c);
	if (ir < 0)
		return 0;
	chip_intack(c, ir);
	if (c->is_master && ir == 2) {
		/* the cascaded chip sees the poll as its INTA too */
		int ir2 = chip_pending(&p->chip[1]);
		if (ir2 >= 0)
			chip_intack(&p->chip[1], ir2);
	}
	update(p);
	return 0x80 | ir;
}

static uint8_t chip_read(struct pic *p, struct pic_chip *c, unsigned a0)
{
	if (c->poll)
		return chip_poll(p, c);
	if (a0 == 0)
		return c->read_isr ? c->isr : c->irr;
	return c->imr;
}

static int chip_io(struct pic *p, unsigned idx, uint64_t off, void *data,
		   unsigned len, bool is_write)
{
	uint8_t *b = data;
	if (off >= 2 || len > 2 - off)
		return -EINVAL;
	for (unsigned i = 0; i < len; i++) {
		if (is_write)
			chip_write(p, &p->chip[idx], off + i, b[i]);
		else
			b[i] = chip_read(p, &p->chip[idx], off + i);
	}
	return 0;
}

int pic__io_master(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	return chip_io(dev, 0, offset, data, len, is_write);
}

int pic__io_slave(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	return chip_io(dev, 1, offset, data, len, is_write);
}

int pic__io_elcr(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct pic *p = dev;
	uint8_t *b = data;
	if (offset >= 2 || len > 2 - offset)
		return -EINVAL;
	for (unsigned i = 0; i < len; i++) {
		struct pic_chip *c = &p->chip[offset + i];
		if (is_write) {
			c->elcr = b[i] & c->elcr_mask;
			/* a line switched to level mode requests while high */
			c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
		} else {
			b[i] = c->elcr;
		}
	}
	update(p);
	return 0;
}
