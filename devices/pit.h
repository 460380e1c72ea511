/* devices/pit.h — i8254 programmable interval timer (3 channels, 1.193182 MHz)
 * plus the PC's system control port B (0x61: channel 2 gate, speaker enable,
 * OUT2 and the refresh toggle).
 *
 * Board wiring:
 *	pit__init(&pit, &clock, irq0_line);
 *	bus__register(bus, BUS_PIO, 0x40, 4, pit__io, &pit, "pit");
 *	bus__register(bus, BUS_PIO, 0x61, 1, pit__io_port61, &pit, "port61");
 *	run loop: if (vclock__now(&clock) >= pit__next_deadline_ns(&pit))
 *			pit__poll(&pit, now);
 * Counters are computed from the clock when read: nothing ticks between
 * accesses. IRQ0 is a pulse (1 then 0) at every rising edge of OUT0; when
 * the run loop polls late, the edges missed in between are coalesced into
 * one pulse (lost ticks; Linux keeps time from its clocksource).
 */
#ifndef HVMM_DEVICES_PIT_H
#define HVMM_DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;
struct vclock;

#define PIT_HZ 1193182u

struct pit_channel {
	uint32_t count;		/* reload value in ticks, 1..0x10000 */
	uint64_t load_ns;	/* time counting (re)started */
	uint64_t paused_ticks;	/* ticks elapsed when the gate paused it */
	uint8_t mode, rw, bcd;
	bool gate, waiting;	/* waiting: mode 1/5 armed, or no count yet */
	bool paused;		/* gate low in mode 0/4 */
	bool has_count;		/* a count was written since the control word */
	bool null_count;	/* count written, not yet loaded (status bit 6) */
	uint8_t write_lsb;	/* first byte of a 16-bit write */
	bool write_hi, read_hi;	/* LSB/MSB flip-flops */
	bool count_latched, status_latched;
	uint16_t latched_count;
	uint8_t latched_status;
	uint8_t latch_rw;	/* rw mode the latched count is read with */
	bool latch_hi;
	uint64_t next_irq_tick;	/* next rising edge of OUT (ticks since load) */
};

struct pit {
	struct pit_channel ch[3];
	uint8_t port61;		/* bits 0-3 as written */
	const struct vclock *clock;
	const struct irq_line *irq0;
	uint64_t irq_pulses;
};

/* Power-on: every channel in mode 0 with no count, gate 0,1 high, gate 2 low. */
void pit__init(struct pit *p, const struct vclock *clock, const struct irq_line *irq0);

/* Ports 0x40-0x43 (byte accesses). */
int pit__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Port 0x61: bit0 gate 2, bit1 speaker data, bit4 refresh toggle (15.085 us),
 * bit5 OUT2; bits 2-3 read back as written. */
int pit__io_port61(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Earliest time (ns) channel 0 raises IRQ0, or VCLOCK_NEVER. */
uint64_t pit__next_deadline_ns(const struct pit *p);

/* Raises the IRQ0 pulse if a rising edge of OUT0 is due at or before now. */
void pit__poll(struct pit *p, uint64_t now_ns);

/* Level of OUT for channel n at time now (for tests and the speaker). */
int pit__out(const struct pit *p, unsigned n, uint64_t now_ns);

#endif
