/* tests/unit/test_dev_pit.c — i8254 against a hand-moved clock: Linux's
 * periodic and one-shot programming, latch and read-back, BCD, the modes'
 * OUT waveforms, the channel-2 gate and port 0x61. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

static struct bus bus;
static struct pit pit;
static struct irq_rec rec;
static struct fake_clock clk;

/* ns at which tick t has elapsed since time 'base' */
static uint64_t tick_ns(uint64_t base, uint64_t t)
{
	return base + (t * 1000000000ull + PIT_HZ - 1) / PIT_HZ;
}

static void setup(void)
{
	bus__init(&bus);
	irq_rec__init(&rec);
	fake_clock__init(&clk);
	clk.now = 5000;
	pit__init(&pit, &clk.vc, &rec.line[0]);
	bus__register(&bus, BUS_PIO, 0x40, 4, pit__io, &pit, "pit");
	bus__register(&bus, BUS_PIO, 0x61, 1, pit__io_port61, &pit, "p61");
}

static uint16_t read16(unsigned port)
{
	uint16_t lo = inb(&bus, port);
	return lo | inb(&bus, port) << 8;
}

static void test_periodic_mode2(void)
{
	setup();
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), VCLOCK_NEVER);
	outb(&bus, 0x43, 0x34);			/* ch0, lobyte/hibyte, mode 2 */
	outb(&bus, 0x40, 4773 & 0xff);		/* LATCH for HZ=250 */
	outb(&bus, 0x40, 4773 >> 8);
	uint64_t base = 5000, d = pit__next_deadline_ns(&pit);
	CU_ASSERT_EQUAL(d, tick_ns(base, 4773));
	pit__poll(&pit, d - 1);
	CU_ASSERT_EQUAL(rec.rises[0], 0);
	pit__poll(&pit, d);
	CU_ASSERT_EQUAL(rec.rises[0], 1);
	CU_ASSERT_EQUAL(rec.level[0], 0);	/* a pulse */
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), tick_ns(base, 2 * 4773));
	/* polled very late: missed edges coalesce into one pulse */
	pit__poll(&pit, tick_ns(base, 10 * 4773 + 5));
	CU_ASSERT_EQUAL(rec.rises[0], 2);
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), tick_ns(base, 11 * 4773));
	/* counter reads: latch command, 100 ticks into a period */
	clk.now = tick_ns(base, 11 * 4773 + 100);
	outb(&bus, 0x43, 0x00);
	clk.now += 1000000;			/* latched value does not move */
	CU_ASSERT_EQUAL(read16(0x40), 4773 - 100);
	/* OUT low for exactly one clock at count 1 */
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(base, 4772 - 1)), 1);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(base, 4772)), 0);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(base, 4773)), 1);
}

static void test_oneshot_mode4_and_mode0(void)
{
	setup();
	outb(&bus, 0x43, 0x38);			/* Linux's oneshot: mode 4 */
	outb(&bus, 0x40, 100);
	outb(&bus, 0x40, 0);
	uint64_t d = pit__next_deadline_ns(&pit);
	CU_ASSERT_EQUAL(d, tick_ns(5000, 101));
	pit__poll(&pit, d);
	CU_ASSERT_EQUAL(rec.rises[0], 1);
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), VCLOCK_NEVER);
	pit__poll(&pit, d + 100000000);
	CU_ASSERT_EQUAL(rec.rises[0], 1);
	/* mode 0: OUT low until terminal count, then stays high */
	clk.now = 1000000;
	outb(&bus, 0x43, 0x30);
	outb(&bus, 0x40, 0x10);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, clk.now), 0);	/* first byte: stopped */
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), VCLOCK_NEVER);
	outb(&bus, 0x40, 0x00);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(1000000, 15)), 0);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(1000000, 16)), 1);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(1000000, 5000)), 1);
	/* count wraps through 0xffff after terminal count */
	clk.now = tick_ns(1000000, 17);
	CU_ASSERT_EQUAL(read16(0x40), 0xffff);
}

static void test_readback_status_and_bcd(void)
{
	setup();
	outb(&bus, 0x43, 0x31);			/* ch0 lo/hi mode 0 BCD */
	CU_ASSERT_EQUAL(inb(&bus, 0x43), 0xff);
	outb(&bus, 0x43, 0xe2);			/* read-back: status of ch0 */
	CU_ASSERT_EQUAL(inb(&bus, 0x40), 0x71);	/* OUT 0, null count, rw 3, mode 0, BCD */
	outb(&bus, 0x40, 0x00);
	outb(&bus, 0x40, 0x10);			/* 1000 decimal */
	clk.now = tick_ns(5000, 1);
	outb(&bus, 0x43, 0xc2);			/* read-back: count and status */
	CU_ASSERT_EQUAL(inb(&bus, 0x40), 0x31);	/* status first, count loaded */
	CU_ASSERT_EQUAL(read16(0x40), 0x0999);
	/* BCD wraps 0000 -> 9999 after terminal count */
	clk.now = tick_ns(5000, 1001);
	CU_ASSERT_EQUAL(read16(0x40), 0x9999);
	/* count 0 in BCD is 10000 */
	outb(&bus, 0x40, 0);
	outb(&bus, 0x40, 0);
	CU_ASSERT_EQUAL(pit.ch[0].count, 10000);
	/* lobyte-only and hibyte-only access modes */
	outb(&bus, 0x43, 0x54);			/* ch1, lobyte, mode 2 */
	outb(&bus, 0x41, 18);
	CU_ASSERT_EQUAL(pit.ch[1].count, 18);
	outb(&bus, 0x43, 0x64);			/* ch1, hibyte, mode 2 */
	outb(&bus, 0x41, 0x01);
	CU_ASSERT_EQUAL(pit.ch[1].count, 0x100);
	CU_ASSERT_EQUAL(inb(&bus, 0x41), 0x01);
	/* modes 6 and 7 alias 2 and 3 */
	outb(&bus, 0x43, 0x7e);
	CU_ASSERT_EQUAL(pit.ch[1].mode, 3);
	/* two latches: the first one wins until read */
	outb(&bus, 0x43, 0x34);
	outb(&bus, 0x40, 0);
	outb(&bus, 0x40, 0x10);			/* 0x1000 */
	uint64_t b = clk.now;
	clk.now = tick_ns(b, 5);
	outb(&bus, 0x43, 0x00);
	clk.now = tick_ns(b, 9);
	outb(&bus, 0x43, 0x00);
	CU_ASSERT_EQUAL(read16(0x40), 0x1000 - 5);
	CU_ASSERT_EQUAL(read16(0x40), 0x1000 - 9);	/* live again */
}

static void test_square_wave_mode3(void)
{
	setup();
	outb(&bus, 0x43, 0x36);
	outb(&bus, 0x40, 11);
	outb(&bus, 0x40, 0);
	/* odd count: high 6 clocks, low 5 */
	for (unsigned t = 0; t < 11; t++)
		CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(5000, t)), t < 6);
	CU_ASSERT_EQUAL(pit__out(&pit, 0, tick_ns(5000, 11)), 1);
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), tick_ns(5000, 11));
	clk.now = tick_ns(5000, 1);
	CU_ASSERT_EQUAL(read16(0x40) & 1, 0);	/* counts by two */
}

static void test_channel2_gate_port61(void)
{
	setup();
	/* Linux pit_calibrate_tsc: gate on, speaker off, mode 0 on ch2 */
	outb(&bus, 0x61, (inb(&bus, 0x61) & ~0x02) | 0x01);
	outb(&bus, 0x43, 0xb0);
	outb(&bus, 0x42, 0x2e);
	outb(&bus, 0x42, 0x9b);			/* 0x9b2e = 50 ms */
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0);
	clk.now = tick_ns(5000, 0x9b2e) - 1;
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0);
	clk.now = tick_ns(5000, 0x9b2e);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x23, 0x21);
	/* ch2 never drives IRQ0 */
	CU_ASSERT_EQUAL(pit__next_deadline_ns(&pit), VCLOCK_NEVER);
	/* gate low pauses mode 0 */
	setup();
	outb(&bus, 0x43, 0xb0);
	outb(&bus, 0x42, 100);
	outb(&bus, 0x42, 0);			/* gate still low: no counting */
	clk.now = tick_ns(5000, 500);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0);
	outb(&bus, 0x61, 0x01);
	uint64_t b = clk.now;
	clk.now = tick_ns(b, 40);
	outb(&bus, 0x61, 0x00);			/* pause after 40 ticks */
	clk.now += 1000000000;
	outb(&bus, 0x43, 0x80);
	CU_ASSERT_EQUAL(read16(0x42), 60);
	outb(&bus, 0x61, 0x01);
	b = clk.now;
	clk.now = tick_ns(b, 59);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0);
	clk.now = tick_ns(b, 61);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0x20);
	/* refresh toggle flips every 15.085 us */
	clk.now = 0;
	uint8_t r0 = inb(&bus, 0x61) & 0x10;
	clk.now = 15085;
	CU_ASSERT_NOT_EQUAL(inb(&bus, 0x61) & 0x10, r0);
	/* mode 1 waits for a gate edge */
	setup();
	outb(&bus, 0x43, 0xb2);
	outb(&bus, 0x42, 10);
	outb(&bus, 0x42, 0);
	clk.now = tick_ns(5000, 50);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0x20);	/* high until triggered */
	outb(&bus, 0x61, 0x01);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0);
	clk.now = tick_ns(clk.now, 10);
	CU_ASSERT_EQUAL(inb(&bus, 0x61) & 0x20, 0x20);
	uint32_t v = 0;
	CU_ASSERT_NOT_EQUAL(pit__io_port61(&pit, 0, &v, 2, false), 0);
	CU_ASSERT_NOT_EQUAL(pit__io(&pit, 3, &v, 2, false), 0);
}

static CU_TestInfo pit_tests[] = {
	{"periodic_mode2", test_periodic_mode2},
	{"oneshot_mode4_and_mode0", test_oneshot_mode4_and_mode0},
	{"readback_status_and_bcd", test_readback_status_and_bcd},
	{"square_wave_mode3", test_square_wave_mode3},
	{"channel2_gate_port61", test_channel2_gate_port61},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_pit, .tests = pit_tests);
