/* devices/serial.c — 16550A UART.
 *
 * Register map (offset, LCR.DLAB):
 *   0 RBR/THR (DLL when DLAB)   1 IER (DLM when DLAB)   2 IIR (r) / FCR (w)
 *   3 LCR   4 MCR   5 LSR   6 MSR   7 SCR
 * Facts Linux's 8250 probe depends on (drivers/tty/serial/8250/8250_port.c
 * autoconfig): scratch register holds a value; in loopback with MCR=0x1a MSR
 * reads 0x90 in its high nibble; after FCR=1 IIR bits 7:6 read 11b (16550A),
 * IIR bit 5 stays 0 whatever FCR bit 5 says (not a 16750), IER bits 7:4 are
 * read-only zero (not a 16C950/XScale), and IIR is readable at offset 2 with
 * any LCR (so the EFR probes at LCR=0xbf/0x80 read non-zero: no EFR).
 * On a PC the INTR pin reaches the PIC only when MCR.OUT2 is set; loopback
 * forces OUT2 inactive, so no interrupt leaves the chip in loopback.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

enum {
	IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08,
	IIR_NONE = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04,
	IIR_RLSI = 0x06, IIR_CTI = 0x0c, IIR_FIFO = 0xc0,
	FCR_ENABLE = 0x01, FCR_CLR_RX = 0x02, FCR_CLR_TX = 0x04,
	LCR_DLAB = 0x80,
	MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
	MCR_LOOP = 0x10,
	LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20,
	LSR_TEMT = 0x40, LSR_ERRS = 0x1e,
	MSR_DELTAS = 0x0f, MSR_TERI = 0x04, MSR_CTS = 0x10, MSR_DSR = 0x20,
	MSR_RI = 0x40, MSR_DCD = 0x80,
};

static const unsigned rx_trigger[4] = {1, 4, 8, 14};

static bool fifo_on(const struct serial *s)
{
	return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct serial *s)
{
	return fifo_on(s) ? SERIAL_FIFO : 1;
}

/* The highest-priority pending interrupt as an IIR identification value. */
static uint8_t pending_id(const struct serial *s)
{
	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRS))
		return IIR_RLSI;
	if ((s->ier & IER_RDI) && s->rx_count) {
		/* No character clock is modelled: below the trigger level the
		 * timeout indication is given at once (as if 4 char times passed). */
		if (!fifo_on(s) || s->rx_count >= rx_trigger[s->fcr >> 6])
			return IIR_RDI;
		return IIR_CTI;
	}
	if ((s->ier & IER_THRI) && s->thre_pending)
		return IIR_THRI;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NONE;
}

static void update_irq(struct serial *s)
{
	int level = pending_id(s) != IIR_NONE && (s->mcr & MCR_OUT2) &&
		    !(s->mcr & MCR_LOOP);
	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line__set(s->irq, level);
	}
}

/* Recomputes MSR's status bits; latches deltas for bits that changed. */
static void update_msr(struct serial *s)
{
	uint8_t st;
	if (s->mcr & MCR_LOOP) {
		st = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
		     ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
	} else {
		st = MSR_DCD | MSR_DSR | MSR_CTS;	/* a terminal is attached */
	}
	uint8_t old = s->msr & 0xf0, chg = old ^ st, d = 0;
	if (chg & MSR_CTS)
		d |= 0x01;
	if (chg & MSR_DSR)
		d |= 0x02;
	if ((old & MSR_RI) && !(st & MSR_RI))
		d |= MSR_TERI;		/* trailing edge of RI only */
	if (chg & MSR_DCD)
		d |= 0x08;
	s->msr = st | (s->msr & MSR_DELTAS) | d;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = s->rx_count = 0;
}

static void rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count >= rx_capacity(s)) {
		s->lsr |= LSR_OE;	/* the shift register is overwritten */
		s->rx_overruns++;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO] = b;
	s->rx_count++;
	s->rx_bytes++;
}

void serial__init(struct serial *s, const struct irq_line *irq,
		  serial_tx_fn tx, void *tx_ctx)
{
	memset(s, 0, sizeof(*s));
	s->irq = irq;
	s->tx = tx;
	s->tx_ctx = tx_ctx;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->divisor = 12;	/* 9600 baud from 1.8432 MHz */
	s->lcr = 0x03;
	update_msr(s);
	s->msr &= 0xf0;		/* no deltas at power-on */
}

unsigned serial__rx_space(const struct serial *s)
{
	if (s->mcr & MCR_LOOP)
		return 0;	/* the receiver listens to the transmitter */
	return rx_capacity(s) - s->rx_count;
}

size_t serial__receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	while (n < len && serial__rx_space(s) > 0)
		rx_push(s, buf[n++]);
	if (n)
		update_irq(s);
	return n;
}

static uint8_t reg_read(struct serial *s, unsigned off)
{
	uint8_t v = 0;
	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB)
			return s->divisor & 0xff;
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
			s->rx_count--;
		}
		break;
	case 1:
		return (s->lcr & LCR_DLAB) ? s->divisor >> 8 : s->ier;
	case 2:
		v = pending_id(s);
		if (v == IIR_THRI)
			s->thre_pending = false;	/* reading IIR clears THRE */
		v |= fifo_on(s) ? IIR_FIFO : 0;
		break;
	case 3:
		return s->lcr;
	case 4:
		return s->mcr;
	case 5:
		v = s->lsr | (s->rx_count ? LSR_DR : 0);
		s->lsr &= ~(LSR_ERRS | 0x80);	/* error bits clear on read */
		break;
	case 6:
		v = s->msr;
		s->msr &= ~MSR_DELTAS;
		break;
	case 7:
		return s->scr;
	}
	update_irq(s);
	return v;
}

static void reg_write(struct serial *s, unsigned off, uint8_t v)
{
	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			s->divisor = (s->divisor & 0xff00) | v;
			return;
		}
		if (s->mcr & MCR_LOOP) {
			rx_push(s, v);
		} else {
			s->tx_bytes++;
			if (s->tx)
				s->tx(s->tx_ctx, v);
		}
		/* sent at once: THR (and the shifter) are empty again */
		s->thre_pending = true;
		break;
	case 1:
		if (s->lcr & LCR_DLAB) {
			s->divisor = (s->divisor & 0x00ff) | (uint16_t)v << 8;
			return;
		}
		/* enabling ETBEI while THR is empty raises THRE at once */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = true;
		s->ier = v & 0x0f;
		break;
	case 2: {
		uint8_t old = s->fcr;
		if ((v ^ old) & FCR_ENABLE)
			rx_clear(s);	/* toggling FIFO enable resets both FIFOs */
		if (v & FCR_CLR_RX)
			rx_clear(s);
		/* TX FIFO is always empty (instant transmit); FCR_CLR_TX is a no-op */
		s->fcr = (v & FCR_ENABLE) ? (v & 0xc9) : 0;
		break;
	}
	case 3:
		s->lcr = v;
		return;
	case 4:
		s->mcr = v & 0x1f;
		update_msr(s);
		break;
	case 5:
	case 6:
		return;	/* LSR/MSR writes are factory-test only: ignored */
	case 7:
		s->scr = v;
		return;
	}
	update_irq(s);
}

int serial__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct serial *s = dev;
	uint8_t *p = data;
	if (offset >= 8 || len > 8 - offset)
		return -EINVAL;
	for (unsigned i = 0; i < len; i++) {
		if (is_write)
			reg_write(s, offset + i, p[i]);
		else
			p[i] = reg_read(s, offset + i);
	}
	return 0;
}
