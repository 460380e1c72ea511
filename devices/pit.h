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
 * accesses. IRQ0 is a pulse (1 then 0) at every rising edge of OUT0.
 *
 * Lost ticks and catch-up: when the run loop polls late (the host
 * descheduled the VMM, or the guest kept interrupts off for longer than a
 * period), several edges are due at once; pulsed together they would merge
 * into one request in the interrupt controller, and a guest that counts
 * ticks (Linux's jiffies in periodic mode, its `pit` clocksource) falls
 * behind real time. With an IRQ probe (pit__set_irq_probe) the PIT keeps
 * such edges as a backlog and pulses them one at a time, each once the
 * previous one has been acknowledged, at the board's next poll or right
 * after the CPU's INTA (reinjection, as KVM's PIT does). The backlog holds
 * at most PIT_CATCHUP_NS of periods; beyond that, and for periods shorter
 * than PIT_CATCHUP_MIN_PERIOD_NS, edges are dropped (counted in
 * lost_edges). Reprogramming channel 0 drops the backlog. Without a probe
 * missed edges coalesce into one pulse per poll (a PIT on a bare wire).
 */
#ifndef HVMM_DEVICES_PIT_H
#define HVMM_DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;
struct vclock;

#define PIT_HZ 1193182u
#define PIT_CATCHUP_NS		2000000000ull	/* backlog bound: 2 s of periods */
#define PIT_CATCHUP_MIN_PERIOD_NS 200000ull	/* no catch-up above 5 kHz */

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
	/* catch-up (see above): edges due but not yet pulsed, and the probe
	 * that says whether the last pulse still waits to be acknowledged */
	uint32_t backlog;
	bool (*irq_pending)(void *ctx);
	void *probe_ctx;
	uint32_t backlog_max;	/* largest backlog seen */
	uint64_t edges;		/* channel 0 edges accounted */
	uint64_t irq_pulses;	/* pulses sent: edges - lost_edges - backlog */
	uint64_t lost_edges;	/* edges dropped: over the bound, merged, or
				 * owed when channel 0 was reprogrammed */
};

/* Power-on: every channel in mode 0 with no count, gate 0,1 high, gate 2 low. */
void pit__init(struct pit *p, const struct vclock *clock, const struct irq_line *irq0);

/* Wires a PIT whose state was copied in from elsewhere (the in-kernel
 * irqchip moves it between hvmm.ko and the board): clock, IRQ0 line and
 * catch-up probe (all NULL for an image that leaves); unlike
 * pit__set_irq_probe the backlog stays, with counts and modes. */
void pit__attach(struct pit *p, const struct vclock *clock, const struct irq_line *irq0,
		 bool (*pending)(void *ctx), void *ctx);

/* Ports 0x40-0x43 (byte accesses). */
int pit__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Port 0x61: bit0 gate 2, bit1 speaker data, bit4 refresh toggle (15.085 us),
 * bit5 OUT2; bits 2-3 read back as written. */
int pit__io_port61(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Earliest time (ns) channel 0 raises IRQ0, or VCLOCK_NEVER. */
uint64_t pit__next_deadline_ns(const struct pit *p);

/* Accounts every rising edge of OUT0 due at or before now, and pulses IRQ0
 * for one of them (or one backlog edge) unless the probe says the previous
 * pulse is still pending. The board also calls it after an INTA while
 * p->backlog is non-zero. */
void pit__poll(struct pit *p, uint64_t now_ns);

/* Connects the catch-up probe: pending(ctx) is true while the last IRQ0
 * pulse has not been acknowledged by the CPU (still in the PIC's IRR or
 * the I/O APIC/LAPIC). NULL turns catch-up off. */
void pit__set_irq_probe(struct pit *p, bool (*pending)(void *ctx), void *ctx);

/* Level of OUT for channel n at time now (for tests and the speaker). */
int pit__out(const struct pit *p, unsigned n, uint64_t now_ns);

#endif
