/* devices/serial.h — 16550A UART (8 ports from the region base: 0x3f8 for COM1).
 *
 * Board wiring:
 *	serial__init(&u, irq_line, tx_fn, tx_ctx);
 *	bus__register(bus, BUS_PIO, 0x3f8, 8, serial__io, &u, "com1");
 *	... when input arrives: n = serial__receive(&u, buf, len) (takes at most
 *	serial__rx_space(&u) bytes; keep the rest and offer them again later).
 * Transmission is instantaneous: every THR write that is not looped back
 * calls tx_fn(tx_ctx, byte) at once, so THRE/TEMT are set again right away.
 */
#ifndef HVMM_DEVICES_SERIAL_H
#define HVMM_DEVICES_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct irq_line;

#define SERIAL_FIFO 16

typedef void (*serial_tx_fn)(void *ctx, uint8_t byte);

struct serial {
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint16_t divisor;
	uint8_t rx[SERIAL_FIFO];
	unsigned rx_head, rx_count;
	bool thre_pending;	/* THR-empty interrupt armed, cleared by IIR read/THR write */
	bool msr_changed;	/* delta bits latched in msr */
	int irq_level;		/* last level driven on the line */
	const struct irq_line *irq;
	serial_tx_fn tx;
	void *tx_ctx;
	uint64_t tx_bytes, rx_bytes, rx_overruns;
};

/* Resets the UART to its power-on state and connects it. irq and tx may be NULL. */
void serial__init(struct serial *s, const struct irq_line *irq,
		  serial_tx_fn tx, void *tx_ctx);

/* Bus handler for the 8 registers (byte accesses; wider ones are split). */
int serial__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* How many bytes the receiver can take now (0 in loopback mode). */
unsigned serial__rx_space(const struct serial *s);

/* Feeds up to len received bytes; returns how many were taken. */
size_t serial__receive(struct serial *s, const uint8_t *buf, size_t len);

/* ---- Character backends the board can connect a UART to --------------
 * A chardev owns an input fd (or -1) and an output fd; serial__init gets
 * chardev__tx as tx_fn and the chardev as ctx; the run loop calls
 * chardev__pump() when in_fd is readable (or just periodically: it never
 * blocks). */
struct chardev {
	int in_fd, out_fd;
	int listen_fd;		/* unix: listening socket until a peer connects */
	bool tty_raw;		/* stdio on a terminal switched to raw mode */
	uint8_t pending[256];	/* read from in_fd, not yet taken by the UART */
	unsigned npending, pending_off;
	void *termios_saved;	/* struct termios * when tty_raw */
	bool eof;		/* stdin/pipe input ended (a socket waits for a new peer) */
	int stdin_flags;	/* F_GETFL of stdin before we made it non-blocking, or -1 */
};

/* Backends: "stdio" (raw mode if stdin is a tty, restored by chardev__close),
 * "file:PATH" (output only, created/truncated), "unix:PATH" (listens on a
 * UNIX socket, the first client becomes input and output; output before a
 * client connects is dropped). Returns 0 or -errno. */
int chardev__open(struct chardev *cd, const char *spec);

/* Serial tx callback: writes one byte to out_fd (EAGAIN/EPIPE drop it). */
void chardev__tx(void *cd, uint8_t byte);

/* Moves available input (non-blocking) into the UART, as much as it takes.
 * Returns bytes delivered, 0 if none, -errno on a broken input. */
int chardev__pump(struct chardev *cd, struct serial *s);

/* Restores the terminal and closes the fds. */
void chardev__close(struct chardev *cd);

#endif
