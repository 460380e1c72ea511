/* tests/unit/test_dev_catchup.c — lost timer ticks are re-delivered: the
 * PIT's IRQ0 backlog (with an interrupt-controller probe), the LAPIC's
 * periodic-timer backlog, their bounds, and the board's wiring where a
 * stall of ten periods gives the CPU ten timer interrupts, one per
 * INTA + EOI (what keeps Linux's jiffies and `pit` clocksource on time). */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"
#include "userland/board.h"

#include <string.h>

#define LATCH_250HZ	4773u	/* Linux's PIT count for HZ=250 */

static struct bus bus;
static struct pit pit;
static struct irq_rec rec;
static struct fake_clock clk;
static bool pending;		/* the probe: last pulse not yet acknowledged */

static bool probe(void *ctx)
{
	(void)ctx;
	return pending;
}

/* ns at which tick t has elapsed since 'base' */
static uint64_t tick_ns(uint64_t base, uint64_t t)
{
	return base + (t * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void pit_setup(bool with_probe, unsigned mode, uint16_t count)
{
	bus__init(&bus);
	irq_rec__init(&rec);
	fake_clock__init(&clk);
	clk.now = 1000;
	pending = false;
	pit__init(&pit, &clk.vc, &rec.line[0]);
	if (with_probe)
		pit__set_irq_probe(&pit, probe, NULL);
	bus__register(&bus, BUS_PIO, 0x40, 4, pit__io, &pit, "pit");
	outb(&bus, 0x43, 0x30 | mode << 1);	/* ch0, lobyte/hibyte */
	outb(&bus, 0x40, count & 0xff);
	outb(&bus, 0x40, count >> 8);
}

/* Polls at now; a pulse sets pending (the PIC latched it). Returns the
 * number of pulses this poll sent. */
static unsigned poll_at(uint64_t now)
{
	unsigned before = rec.rises[0];
	pit__poll(&pit, now);
	if (rec.rises[0] != before)
		pending = true;
	return rec.rises[0] - before;
}

static void test_pit_backlog_redelivered(void)
{
	pit_setup(true, 2, LATCH_250HZ);
	uint64_t late = tick_ns(1000, 10 * LATCH_250HZ + 7);	/* 10 edges due */
	CU_ASSERT_EQUAL(poll_at(late), 1);
	CU_ASSERT_EQUAL(pit.backlog, 9);
	/* the first is not acknowledged: polling again must not merge another */
	CU_ASSERT_EQUAL(poll_at(late + 1000), 0);
	CU_ASSERT_EQUAL(pit.backlog, 9);
	/* each acknowledgement lets exactly one more through */
	for (unsigned i = 0; i < 9; i++) {
		pending = false;
		CU_ASSERT_EQUAL(poll_at(late + 2000 + i), 1);
		CU_ASSERT_EQUAL(poll_at(late + 2000 + i), 0);
	}
	CU_ASSERT_EQUAL(pit.backlog, 0);
	CU_ASSERT_EQUAL(rec.rises[0], 10);
	CU_ASSERT_EQUAL(pit.edges, 10);
	CU_ASSERT_EQUAL(pit.lost_edges, 0);
	CU_ASSERT_EQUAL(pit.backlog_max, 10);
	/* the schedule itself did not move */
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), tick_ns(1000, 11 * LATCH_250HZ));
	pending = false;
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 11 * LATCH_250HZ)), 1);
	CU_ASSERT_EQUAL(pit.irq_pulses, 11);
}

/* An edge due while the previous pulse waits is held, not merged. */
static void test_pit_edge_held_while_pending(void)
{
	pit_setup(true, 2, LATCH_250HZ);
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, LATCH_250HZ)), 1);
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 2 * LATCH_250HZ)), 0);	/* still pending */
	CU_ASSERT_EQUAL(pit.backlog, 1);
	pending = false;
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 2 * LATCH_250HZ) + 5), 1);
	CU_ASSERT_EQUAL(pit.lost_edges, 0);
}

static void test_pit_backlog_bound(void)
{
	pit_setup(true, 2, LATCH_250HZ);
	uint64_t period = tick_ns(0, LATCH_250HZ);
	uint32_t limit = (uint32_t)(PIT_CATCHUP_NS / period);
	/* a 3 s stall: 750 edges, only PIT_CATCHUP_NS worth are kept */
	uint64_t late = tick_ns(1000, 750ull * LATCH_250HZ + 1);
	CU_ASSERT_EQUAL(poll_at(late), 1);
	CU_ASSERT_EQUAL(pit.edges, 750);
	CU_ASSERT_EQUAL(pit.backlog, limit - 1);
	CU_ASSERT_EQUAL(pit.lost_edges, 750 - limit);
	CU_ASSERT(limit >= 400 && limit <= 500);
}

/* A new control word or count for channel 0 drops what is owed. */
static void test_pit_reprogram_drops_backlog(void)
{
	pit_setup(true, 2, LATCH_250HZ);
	poll_at(tick_ns(1000, 5 * LATCH_250HZ));
	CU_ASSERT_EQUAL(pit.backlog, 4);
	outb(&bus, 0x43, 0xb0);			/* channel 2: no effect on ch0 */
	CU_ASSERT_EQUAL(pit.backlog, 4);
	outb(&bus, 0x43, 0x00);			/* ch0 latch command: neither */
	CU_ASSERT_EQUAL(pit.backlog, 4);
	outb(&bus, 0x43, 0x38);			/* ch0 mode 4: Linux's one-shot */
	CU_ASSERT_EQUAL(pit.backlog, 0);
	pit_setup(true, 2, LATCH_250HZ);
	clk.now = tick_ns(1000, 5 * LATCH_250HZ);
	poll_at(clk.now);
	outb(&bus, 0x40, 0x10), outb(&bus, 0x40, 0x00);	/* new count, 13 us */
	CU_ASSERT_EQUAL(pit.backlog, 0);
	pending = false;
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 5 * LATCH_250HZ) + 1), 0);
}

/* Without a probe, or at rates above 5 kHz, or in one-shot modes, missed
 * edges coalesce into one pulse (the old behaviour, a bare wire). */
static void test_pit_no_catchup_cases(void)
{
	pit_setup(false, 2, LATCH_250HZ);
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 10 * LATCH_250HZ)), 1);
	CU_ASSERT_EQUAL(pit.backlog, 0);
	CU_ASSERT_EQUAL(pit.lost_edges, 9);
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 10 * LATCH_250HZ) + 5), 0);

	pit_setup(true, 2, 100);		/* ~84 us period */
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 1000)), 1);
	CU_ASSERT_EQUAL(pit.backlog, 0);
	CU_ASSERT_EQUAL(pit.lost_edges, 9);

	pit_setup(true, 0, 1000);		/* mode 0: one edge */
	pending = true;				/* something else still pending */
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 5000)), 0);
	CU_ASSERT_EQUAL(pit.backlog, 1);
	pending = false;
	CU_ASSERT_EQUAL(poll_at(tick_ns(1000, 5000) + 1), 1);
	CU_ASSERT_EQUAL(pit.edges, 1);
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), VCLOCK_NEVER);
}

/* ---- LAPIC timer -------------------------------------------------------- */

static struct lapic la;
#define LA 0xfee00000u

static void lapic_setup(uint32_t lvt, uint32_t count)
{
	bus__init(&bus);
	fake_clock__init(&clk);
	lapic__init(&la, &clk.vc, NULL);
	bus__register(&bus, BUS_MMIO, LA, 0x1000, lapic__mmio, &la, "lapic");
	mmio_wr(&bus, LA + 0xf0, 0x1ff);
	mmio_wr(&bus, LA + 0x3e0, 0xb);		/* divide by 1: 1 count = 1 ns */
	mmio_wr(&bus, LA + 0x320, lvt);
	mmio_wr(&bus, LA + 0x380, count);
}

/* Takes every timer interrupt the LAPIC has (INTA + EOI each); returns how many. */
static unsigned take_all(uint8_t vec)
{
	unsigned n = 0;
	while (lapic__has_intr(&la)) {
		CU_ASSERT_EQUAL(lapic__ack(&la), vec);
		mmio_wr(&bus, LA + 0xb0, 0);
		n++;
		if (n > 1000)
			break;
	}
	return n;
}

static void test_lapic_periodic_backlog(void)
{
	lapic_setup(0x20040, 4000000);		/* periodic, vector 0x40, 4 ms */
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 4000000);
	lapic__poll(&la, 40000000 + 10);	/* 10 periods due */
	CU_ASSERT_EQUAL(la.timer_backlog, 9);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 44000000);
	/* INTA moves it to ISR and queues the next in IRR, blocked until EOI */
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x40);
	CU_ASSERT_TRUE(lapic__irr_test(&la, 0x40));
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_EQUAL(take_all(0x40), 9);
	CU_ASSERT_EQUAL(la.timer_backlog, 0);
	CU_ASSERT_EQUAL(la.timer_fires, 10);
	CU_ASSERT_EQUAL(la.timer_lost, 0);
	/* an expiry while the previous still waits in IRR is held */
	lapic__poll(&la, 44000000);
	lapic__poll(&la, 48000000);
	CU_ASSERT_EQUAL(la.timer_backlog, 1);
	CU_ASSERT_EQUAL(take_all(0x40), 2);
}

static void test_lapic_bound_and_reprogram(void)
{
	lapic_setup(0x20041, 4000000);
	lapic__poll(&la, 3000000000ull);	/* 3 s: 750 periods */
	uint32_t limit = (uint32_t)(LAPIC_CATCHUP_NS / 4000000);
	CU_ASSERT_EQUAL(la.timer_backlog, limit - 1);
	CU_ASSERT_EQUAL(la.timer_lost, 750 - limit);
	/* a new initial count drops the backlog (the in-IRR one stays) */
	clk.now = 3000000001ull;
	mmio_wr(&bus, LA + 0x380, 4000000);
	CU_ASSERT_EQUAL(la.timer_backlog, 0);
	CU_ASSERT_EQUAL(take_all(0x41), 1);
	/* masking the LVT drops it too */
	lapic__poll(&la, 3000000001ull + 5 * 4000000ull);
	CU_ASSERT_EQUAL(la.timer_backlog, 4);
	mmio_wr(&bus, LA + 0x320, 0x30041);
	CU_ASSERT_EQUAL(la.timer_backlog, 0);
	/* fast periods (under 200 us) and one-shot coalesce */
	lapic_setup(0x20042, 1000);
	lapic__poll(&la, 100000);
	CU_ASSERT_EQUAL(la.timer_backlog, 0);
	CU_ASSERT_EQUAL(la.timer_lost, 99);
	CU_ASSERT_EQUAL(take_all(0x42), 1);
}

/* ---- The board: PIT -> PIC -> CPU with the probe wired ------------------ */

static struct board b;
static bool cpu_intr;
static void fake_set_intr(void *cpu, bool level)
{
	(void)cpu;
	cpu_intr = level;
}

static void out8(uint16_t port, uint8_t v)
{
	board__pio(&b, port, &v, 1, true);
}

static void test_board_stall_gives_every_tick(void)
{
	struct run_opts o;
	char err[256];
	memset(&o, 0, sizeof(o));
	o.mem = 16u << 20;
	o.serial = SERIAL_FILE;
	o.serial_path = "/dev/null";
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	board__connect_cpu(&b, fake_set_intr, NULL);
	out8(0x20, 0x11), out8(0x21, 0x30), out8(0x21, 0x04), out8(0x21, 0x01);
	out8(0x21, 0xfe);				/* only IRQ 0 */
	out8(0x43, 0x34), out8(0x40, LATCH_250HZ & 0xff), out8(0x40, LATCH_250HZ >> 8);
	/* the VMM does not run for 10 periods and a bit (about 41 ms): move
	 * the board's clock origin back instead of sleeping */
	b.clock_start_ns -= 10 * 4000000ull + 100000;
	board__poll(&b);
	unsigned taken = 0;
	for (unsigned i = 0; i < 40 && cpu_intr; i++) {
		CU_ASSERT_EQUAL(board__intr_ack(&b), 0x30);
		/* next tick already latched in IRR, held by ISR until the EOI */
		CU_ASSERT_FALSE(cpu_intr);
		out8(0x20, 0x20);			/* EOI */
		taken++;
	}
	CU_ASSERT(taken >= 10 && taken <= 11);		/* 11 if a real period passed */
	CU_ASSERT_EQUAL(b.pit.lost_edges, 0);
	CU_ASSERT_EQUAL(b.pit.irq_pulses, taken);
	/* with IRQ 0 masked, owed ticks wait (the pulse in IRR is not acked) */
	out8(0x21, 0xff);
	b.clock_start_ns -= 5 * 4000000ull;
	board__poll(&b);
	CU_ASSERT_FALSE(cpu_intr);
	CU_ASSERT(b.pit.backlog >= 4);
	out8(0x21, 0xfe);
	CU_ASSERT_TRUE(cpu_intr);
	board__destroy(&b);
}

static CU_TestInfo catchup_tests[] = {
	{"pit_backlog_redelivered", test_pit_backlog_redelivered},
	{"pit_edge_held_while_pending", test_pit_edge_held_while_pending},
	{"pit_backlog_bound", test_pit_backlog_bound},
	{"pit_reprogram_drops_backlog", test_pit_reprogram_drops_backlog},
	{"pit_no_catchup_cases", test_pit_no_catchup_cases},
	{"lapic_periodic_backlog", test_lapic_periodic_backlog},
	{"lapic_bound_and_reprogram", test_lapic_bound_and_reprogram},
	{"board_stall_gives_every_tick", test_board_stall_gives_every_tick},
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(dev_timer_catchup, .tests = catchup_tests);
