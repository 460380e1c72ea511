/* devices/i8042.h — i8042 keyboard controller with a PS/2 keyboard behind it
 * (no mouse: the AUX port exists, commands to an AUX device get 0xfe), and
 * System Control Port A (0x92: fast A20, fast reset).
 *
 * Board wiring:
 *	i8042__init(&kbc, irq1_line, irq12_line, &ops);
 *	bus__register(bus, BUS_PIO, 0x60, 1, i8042__io_data, &kbc, "kbd-data");
 *	bus__register(bus, BUS_PIO, 0x64, 1, i8042__io_cmd, &kbc, "kbd-cmd");
 *	bus__register(bus, BUS_PIO, 0x92, 1, i8042__io_port92, &kbc, "port92");
 *	keys:	i8042__inject(&kbc, set2_bytes, n)   (make/break codes in the
 *		keyboard's native scancode set 2; the controller translates to
 *		set 1 when command-byte bit 6 is set, as on a PC)
 *	ops.reset(ctx) is called for command 0xfe (pulse reset), output-port
 *	bit 0 cleared, or port 0x92 bit 0 set; ops.set_a20(ctx, on) on A20 changes.
 */
#ifndef HVMM_DEVICES_I8042_H
#define HVMM_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;

struct i8042_ops {
	void (*reset)(void *ctx);
	void (*set_a20)(void *ctx, bool enabled);
	void *ctx;
};

#define I8042_QUEUE 64

struct i8042_queue {
	uint16_t buf[I8042_QUEUE];	/* bit 8: byte is AUX data */
	unsigned head, count;
};

struct i8042 {
	uint8_t ctr;		/* command byte (controller RAM 0) */
	uint8_t ram[32];
	uint8_t status;
	uint8_t outport;	/* bit 0 reset (1 = run), bit 1 A20 */
	uint8_t port92;
	uint8_t pending_cmd;	/* controller command waiting for its data byte */
	uint8_t ob;		/* output buffer */
	bool ob_full, ob_aux;
	bool xlat_break;	/* translation saw 0xf0 */
	struct i8042_queue ctrl_q, kbd_q;	/* controller replies (and D2/D3), keyboard bytes */
	/* the keyboard */
	uint8_t kbd_pending;	/* keyboard command waiting for its parameter */
	uint8_t kbd_set, kbd_leds, kbd_last;
	bool kbd_scanning;
	int irq1_level, irq12_level;
	const struct irq_line *irq1, *irq12;
	struct i8042_ops ops;
	uint64_t resets;
};

/* Power-on state: command byte 0x45 (translate, system flag, kbd IRQ),
 * output port 0x03 (A20 on, as firmware leaves it and as the loaders'
 * protected-mode entry needs; QEMU resets it the same way), keyboard
 * scanning in set 2. ops may be NULL. */
void i8042__init(struct i8042 *k, const struct irq_line *irq1,
		 const struct irq_line *irq12, const struct i8042_ops *ops);

/* Queues bytes from the keyboard (set 2); returns how many fit. */
unsigned i8042__inject(struct i8042 *k, const uint8_t *set2, unsigned n);

/* Whether A20 is enabled (output port bit 1 or port 0x92 bit 1). */
bool i8042__a20(const struct i8042 *k);

int i8042__io_data(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);
int i8042__io_cmd(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);
int i8042__io_port92(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

#endif
