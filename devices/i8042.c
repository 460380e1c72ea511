/* devices/i8042.c — 8042 keyboard controller and a PS/2 keyboard.
 * Status register: bit 0 OBF, 1 IBF (always 0: input is consumed at once),
 * 2 SYS (command byte bit 2), 3 A2 (last write went to 0x64), 4 keyboard not
 * inhibited, 5 AUX data in the output buffer, 6 timeout, 7 parity error.
 * Command byte: bit 0 IRQ1 enable, 1 IRQ12 enable, 2 SYS, 4 keyboard clock
 * off, 5 AUX clock off, 6 translate set 2 to set 1.
 * Translation: bytes below 0x80 go through the fixed 8042 table, 0x83/0x84
 * become 0x41/0x54, other bytes pass; 0xf0 is swallowed and sets bit 7 of
 * the next translated byte (a break code).
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

enum {
	ST_OBF = 0x01, ST_SYS = 0x04, ST_A2 = 0x08, ST_UNLOCKED = 0x10,
	ST_AUXOBF = 0x20, ST_TIMEOUT = 0x40,
	CTR_KBDINT = 0x01, CTR_AUXINT = 0x02, CTR_SYS = 0x04, CTR_KBDDIS = 0x10,
	CTR_AUXDIS = 0x20, CTR_XLATE = 0x40,
	KBD_ACK = 0xfa, KBD_RESEND = 0xfe, KBD_BAT_OK = 0xaa,
};

/* set 2 → set 1 for 0x00-0x7f (0 where no key has that set-2 code, which
 * then passes unchanged) */
static const uint8_t xlat_lo[128] = {
	[0x76] = 0x01, [0x16] = 0x02, [0x1e] = 0x03, [0x26] = 0x04, [0x25] = 0x05,
	[0x2e] = 0x06, [0x36] = 0x07, [0x3d] = 0x08, [0x3e] = 0x09, [0x46] = 0x0a,
	[0x45] = 0x0b, [0x4e] = 0x0c, [0x55] = 0x0d, [0x66] = 0x0e, [0x0d] = 0x0f,
	[0x15] = 0x10, [0x1d] = 0x11, [0x24] = 0x12, [0x2d] = 0x13, [0x2c] = 0x14,
	[0x35] = 0x15, [0x3c] = 0x16, [0x43] = 0x17, [0x44] = 0x18, [0x4d] = 0x19,
	[0x54] = 0x1a, [0x5b] = 0x1b, [0x5a] = 0x1c, [0x14] = 0x1d, [0x1c] = 0x1e,
	[0x1b] = 0x1f, [0x23] = 0x20, [0x2b] = 0x21, [0x34] = 0x22, [0x33] = 0x23,
	[0x3b] = 0x24, [0x42] = 0x25, [0x4b] = 0x26, [0x4c] = 0x27, [0x52] = 0x28,
	[0x0e] = 0x29, [0x12] = 0x2a, [0x5d] = 0x2b, [0x1a] = 0x2c, [0x22] = 0x2d,
	[0x21] = 0x2e, [0x2a] = 0x2f, [0x32] = 0x30, [0x31] = 0x31, [0x3a] = 0x32,
	[0x41] = 0x33, [0x49] = 0x34, [0x4a] = 0x35, [0x59] = 0x36, [0x7c] = 0x37,
	[0x11] = 0x38, [0x29] = 0x39, [0x58] = 0x3a, [0x05] = 0x3b, [0x06] = 0x3c,
	[0x04] = 0x3d, [0x0c] = 0x3e, [0x03] = 0x3f, [0x0b] = 0x40, [0x0a] = 0x42,
	[0x01] = 0x43, [0x09] = 0x44, [0x77] = 0x45, [0x7e] = 0x46, [0x6c] = 0x47,
	[0x75] = 0x48, [0x7d] = 0x49, [0x7b] = 0x4a, [0x6b] = 0x4b, [0x73] = 0x4c,
	[0x74] = 0x4d, [0x79] = 0x4e, [0x69] = 0x4f, [0x72] = 0x50, [0x7a] = 0x51,
	[0x70] = 0x52, [0x71] = 0x53, [0x61] = 0x56, [0x78] = 0x57, [0x07] = 0x58,
};

static bool q_push(struct i8042_queue *q, uint16_t b)
{
	if (q->count == I8042_QUEUE)
		return false;
	q->buf[(q->head + q->count) % I8042_QUEUE] = b;
	q->count++;
	return true;
}

static uint16_t q_pop(struct i8042_queue *q)
{
	uint16_t b = q->buf[q->head];
	q->head = (q->head + 1) % I8042_QUEUE;
	q->count--;
	return b;
}

static void update_irq(struct i8042 *k)
{
	int l1 = k->ob_full && !k->ob_aux && (k->ctr & CTR_KBDINT);
	int l12 = k->ob_full && k->ob_aux && (k->ctr & CTR_AUXINT);
	if (l1 != k->irq1_level)
		irq_line__set(k->irq1, k->irq1_level = l1);
	if (l12 != k->irq12_level)
		irq_line__set(k->irq12, k->irq12_level = l12);
}

/* Translates one keyboard byte; returns false when it is swallowed (0xf0). */
static bool translate(struct i8042 *k, uint8_t *b)
{
	if (!(k->ctr & CTR_XLATE))
		return true;
	if (*b == 0xf0) {
		k->xlat_break = true;
		return false;
	}
	uint8_t v = *b;
	if (v < 0x80 && xlat_lo[v])
		v = xlat_lo[v];
	else if (v == 0x83)
		v = 0x41;
	else if (v == 0x84)
		v = 0x54;
	if (k->xlat_break)
		v |= 0x80;
	k->xlat_break = false;
	*b = v;
	return true;
}

/* Moves the next byte into an empty output buffer: controller replies first,
 * then keyboard bytes unless its clock is off. */
static void refill(struct i8042 *k)
{
	while (!k->ob_full) {
		if (k->ctrl_q.count) {
			uint16_t e = q_pop(&k->ctrl_q);
			k->ob = e & 0xff;
			k->ob_aux = e >> 8;
		} else if (k->kbd_q.count && !(k->ctr & CTR_KBDDIS)) {
			uint8_t b = q_pop(&k->kbd_q) & 0xff;
			if (!translate(k, &b))
				continue;
			k->ob = b;
			k->ob_aux = false;
		} else {
			break;
		}
		k->ob_full = true;
	}
	update_irq(k);
}

static void kbd_reply(struct i8042 *k, uint8_t b)
{
	k->kbd_last = b;
	q_push(&k->kbd_q, b);
}

static void set_outport(struct i8042 *k, uint8_t v)
{
	bool a20_before = i8042__a20(k);
	k->outport = v;
	if (i8042__a20(k) != a20_before && k->ops.set_a20)
		k->ops.set_a20(k->ops.ctx, i8042__a20(k));
	if (!(v & 0x01)) {
		k->resets++;
		k->outport |= 0x01;	/* the reset line is a pulse */
		if (k->ops.reset)
			k->ops.reset(k->ops.ctx);
	}
}

void i8042__init(struct i8042 *k, const struct irq_line *irq1,
		 const struct irq_line *irq12, const struct i8042_ops *ops)
{
	memset(k, 0, sizeof(*k));
	k->irq1 = irq1;
	k->irq12 = irq12;
	if (ops)
		k->ops = *ops;
	k->ctr = CTR_XLATE | CTR_SYS | CTR_KBDINT;
	k->status = ST_UNLOCKED;
	k->outport = 0x03;	/* reset line high, A20 on: as firmware leaves it */
	k->kbd_set = 2;
	k->kbd_scanning = true;
}

bool i8042__a20(const struct i8042 *k)
{
	return (k->outport & 0x02) || (k->port92 & 0x02);
}

unsigned i8042__inject(struct i8042 *k, const uint8_t *set2, unsigned n)
{
	unsigned i = 0;
	if (!k->kbd_scanning)
		return 0;
	while (i < n && q_push(&k->kbd_q, set2[i]))
		i++;
	refill(k);
	return i;
}

/* A byte the CPU sent to the keyboard. */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->kbd_pending;
	if (cmd) {
		k->kbd_pending = 0;
		switch (cmd) {
		case 0xf0:		/* set/get scancode set */
			kbd_reply(k, KBD_ACK);
			if (v == 0)
				kbd_reply(k, k->kbd_set);
			else if (v <= 3)
				k->kbd_set = v;
			return;
		case 0xed:		/* LEDs */
			k->kbd_leds = v & 7;
			kbd_reply(k, KBD_ACK);
			return;
		default:		/* 0xf3 typematic rate */
			kbd_reply(k, KBD_ACK);
			return;
		}
	}
	switch (v) {
	case 0xed:
	case 0xf0:
	case 0xf3:
		k->kbd_pending = v;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xee:		/* echo */
		kbd_reply(k, 0xee);
		break;
	case 0xf2:		/* identify: MF2 keyboard */
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, 0xab);
		kbd_reply(k, 0x83);
		break;
	case 0xf4:
		k->kbd_scanning = true;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xf5:		/* disable and restore defaults */
		k->kbd_scanning = false;
		k->kbd_set = 2;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xf6:
		k->kbd_set = 2;
		kbd_reply(k, KBD_ACK);
		break;
	case 0xfe:		/* resend the last byte */
		q_push(&k->kbd_q, k->kbd_last);
		break;
	case 0xff:		/* reset: ACK then BAT passed */
		k->kbd_q.count = 0;
		k->kbd_set = 2;
		k->kbd_leds = 0;
		k->kbd_scanning = true;
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, KBD_BAT_OK);
		break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
		kbd_reply(k, KBD_ACK);	/* set-3 key type commands: accepted */
		break;
	default:
		kbd_reply(k, KBD_RESEND);
		break;
	}
}

/* The data byte of a two-byte controller command. */
static void cmd_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	if (cmd >= 0x60 && cmd <= 0x7f) {
		k->ram[cmd & 0x1f] = v;
		if (cmd == 0x60) {
			k->ctr = v;
			k->status = (k->status & ~ST_SYS) | (v & CTR_SYS);
		}
		return;
	}
	switch (cmd) {
	case 0xd1:		/* write output port */
		set_outport(k, v);
		break;
	case 0xd2:		/* as if from the keyboard (no translation, any clock) */
		q_push(&k->ctrl_q, v);
		break;
	case 0xd3:		/* as if from the AUX device (whatever its clock) */
		q_push(&k->ctrl_q, 0x100 | v);
		break;
	case 0xd4:		/* to the AUX device: none attached, time out */
		k->status |= ST_TIMEOUT;
		q_push(&k->ctrl_q, 0x100 | 0xfe);
		break;
	}
}

static void controller_cmd(struct i8042 *k, uint8_t c)
{
	k->status &= ~ST_TIMEOUT;
	if (c >= 0x20 && c <= 0x3f) {
		q_push(&k->ctrl_q, c == 0x20 ? k->ctr : k->ram[c & 0x1f]);
		return;
	}
	if ((c >= 0x60 && c <= 0x7f) || c == 0xd1 || c == 0xd2 || c == 0xd3 || c == 0xd4) {
		k->pending_cmd = c;
		return;
	}
	if (c >= 0xf0) {	/* pulse output port bits whose mask bit is 0 */
		if (!(c & 0x01))
			set_outport(k, k->outport & ~0x01);
		return;
	}
	switch (c) {
	case 0xa7:
		k->ctr |= CTR_AUXDIS;
		break;
	case 0xa8:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case 0xa9:		/* AUX interface test: OK */
	case 0xab:		/* keyboard interface test: OK */
		q_push(&k->ctrl_q, 0x00);
		break;
	case 0xaa:		/* self-test */
		k->status |= ST_SYS;
		q_push(&k->ctrl_q, 0x55);
		break;
	case 0xad:
		k->ctr |= CTR_KBDDIS;
		break;
	case 0xae:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case 0xc0:		/* input port: keyboard not inhibited */
		q_push(&k->ctrl_q, 0x80);
		break;
	case 0xd0: {		/* output port with buffer-full bits */
		uint8_t v = k->outport & 0x03;
		if (k->ob_full)
			v |= k->ob_aux ? 0x20 : 0x10;
		q_push(&k->ctrl_q, v);
		break;
	}
	case 0xdd:
		set_outport(k, k->outport & ~0x02);
		break;
	case 0xdf:
		set_outport(k, k->outport | 0x02);
		break;
	default:
		break;	/* unknown commands are ignored */
	}
}

int i8042__io_data(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct i8042 *k = dev;
	uint8_t *b = data;
	if (offset != 0 || len != 1)
		return -EINVAL;
	if (is_write) {
		k->status &= ~ST_A2;
		uint8_t cmd = k->pending_cmd;
		k->pending_cmd = 0;
		if (cmd) {
			cmd_data(k, cmd, b[0]);
		} else {
			k->ctr &= ~CTR_KBDDIS;	/* sending enables the clock */
			kbd_write(k, b[0]);
		}
		refill(k);
		return 0;
	}
	b[0] = k->ob;	/* an empty buffer re-reads the last byte */
	if (k->ob_full) {
		k->ob_full = false;
		update_irq(k);	/* the line drops, the next byte makes a new edge */
		refill(k);
	}
	return 0;
}

int i8042__io_cmd(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct i8042 *k = dev;
	uint8_t *b = data;
	if (offset != 0 || len != 1)
		return -EINVAL;
	if (is_write) {
		k->status |= ST_A2;
		k->pending_cmd = 0;
		controller_cmd(k, b[0]);
		refill(k);
		return 0;
	}
	b[0] = k->status | (k->ob_full ? ST_OBF : 0) |
	       (k->ob_full && k->ob_aux ? ST_AUXOBF : 0);
	return 0;
}

int i8042__io_port92(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct i8042 *k = dev;
	uint8_t *b = data;
	if (offset != 0 || len != 1)
		return -EINVAL;
	if (!is_write) {
		b[0] = k->port92 & 0x02;
		return 0;
	}
	bool a20_before = i8042__a20(k);
	k->port92 = b[0] & 0x02;
	if (i8042__a20(k) != a20_before && k->ops.set_a20)
		k->ops.set_a20(k->ops.ctx, i8042__a20(k));
	if (b[0] & 0x01) {	/* fast reset */
		k->resets++;
		if (k->ops.reset)
			k->ops.reset(k->ops.ctx);
	}
	return 0;
}
