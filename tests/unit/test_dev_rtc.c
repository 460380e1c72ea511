/* tests/unit/test_dev_rtc.c — MC146818 RTC/CMOS: calendar from the host
 * date, BCD/binary/12h, UIP, setting the time, periodic/update/alarm
 * interrupts on IRQ 8, NMI mask bit, memory-size bytes. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <time.h>

static struct bus bus;
static struct rtc rtc;
static struct irq_rec rec;
static struct fake_clock clk;
static int64_t host_ns;

static uint8_t cmos_rd(unsigned idx)
{
	outb(&bus, 0x70, idx);
	return inb(&bus, 0x71);
}

static void cmos_wr(unsigned idx, uint8_t v)
{
	outb(&bus, 0x70, idx);
	outb(&bus, 0x71, v);
}

/* 2026-11-26 17:20:30.5 UTC, a Thursday */
static void setup(void)
{
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 26, .tm_hour = 17,
			.tm_min = 20, .tm_sec = 30};
	host_ns = (int64_t)timegm(&tm) * 1000000000ll + 500000000;
	bus__init(&bus);
	irq_rec__init(&rec);
	fake_clock__init(&clk);
	clk.now = 0;
	rtc__init(&rtc, &clk.vc, &rec.line[8], host_ns);
	bus__register(&bus, BUS_PIO, 0x70, 2, rtc__io, &rtc, "rtc");
}

static void test_host_date_formats(void)
{
	setup();
	CU_ASSERT_EQUAL(cmos_rd(0x00), 0x30);
	CU_ASSERT_EQUAL(cmos_rd(0x02), 0x20);
	CU_ASSERT_EQUAL(cmos_rd(0x04), 0x17);
	CU_ASSERT_EQUAL(cmos_rd(0x06), 5);
	CU_ASSERT_EQUAL(cmos_rd(0x07), 0x26);
	CU_ASSERT_EQUAL(cmos_rd(0x08), 0x11);
	CU_ASSERT_EQUAL(cmos_rd(0x09), 0x26);
	CU_ASSERT_EQUAL(cmos_rd(0x32), 0x20);
	CU_ASSERT_EQUAL(cmos_rd(0x0a), 0x26);
	CU_ASSERT_EQUAL(cmos_rd(0x0b), 0x02);
	CU_ASSERT_EQUAL(cmos_rd(0x0d), 0x80);
	cmos_wr(0x0b, 0x06);			/* binary */
	CU_ASSERT_EQUAL(cmos_rd(0x00), 30);
	CU_ASSERT_EQUAL(cmos_rd(0x09), 26);
	cmos_wr(0x0b, 0x00);			/* 12-hour BCD: 5 PM */
	CU_ASSERT_EQUAL(cmos_rd(0x04), 0x85);
	cmos_wr(0x0b, 0x02);
	clk.now += 2000000000ull;		/* 17:20:32.5 */
	CU_ASSERT_EQUAL(cmos_rd(0x00), 0x32);
	/* UIP in the last 244 us before the update */
	clk.now += 499800000ull;		/* .9998 */
	CU_ASSERT_EQUAL(cmos_rd(0x0a) & 0x80, 0x80);
	clk.now += 300000ull;			/* .0001 of the next second */
	CU_ASSERT_EQUAL(cmos_rd(0x0a) & 0x80, 0);
	CU_ASSERT_EQUAL(cmos_rd(0x00), 0x33);
}

static void test_set_time(void)
{
	setup();
	cmos_wr(0x0b, 0x82);			/* SET */
	clk.now += 5000000000ull;
	CU_ASSERT_EQUAL(cmos_rd(0x00), 0x30);	/* frozen */
	cmos_wr(0x00, 0x59);
	cmos_wr(0x02, 0x59);
	cmos_wr(0x04, 0x23);
	cmos_wr(0x07, 0x31);
	cmos_wr(0x08, 0x12);
	cmos_wr(0x09, 0x99);
	cmos_wr(0x32, 0x19);
	cmos_wr(0x0b, 0x02);
	CU_ASSERT_EQUAL(cmos_rd(0x09), 0x99);
	clk.now += 1000000000ull;		/* rolls into 2000 */
	CU_ASSERT_EQUAL(cmos_rd(0x00), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(0x04), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(0x07), 0x01);
	CU_ASSERT_EQUAL(cmos_rd(0x08), 0x01);
	CU_ASSERT_EQUAL(cmos_rd(0x09), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(0x32), 0x20);
	CU_ASSERT_EQUAL(cmos_rd(0x06), 7);	/* 2000-01-01 was a Saturday */
	/* writing one field of a running clock */
	cmos_wr(0x02, 0x42);
	CU_ASSERT_EQUAL(cmos_rd(0x02), 0x42);
	CU_ASSERT_EQUAL(cmos_rd(0x09), 0x00);
	/* C and D are read-only */
	cmos_wr(0x0d, 0x00);
	CU_ASSERT_EQUAL(cmos_rd(0x0d), 0x80);
}

static void test_periodic_irq(void)
{
	setup();
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), VCLOCK_NEVER);
	cmos_wr(0x0b, 0x42);			/* PIE, rate 6 = 1024 Hz */
	uint64_t d = rtc__next_deadline_ns(&rtc);
	CU_ASSERT_EQUAL(d, 976563);		/* first 1/1024 s boundary */
	rtc__poll(&rtc, d - 1);
	CU_ASSERT_EQUAL(rec.level[8], 0);
	rtc__poll(&rtc, d);
	CU_ASSERT_EQUAL(rec.level[8], 1);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), VCLOCK_NEVER);
	CU_ASSERT_EQUAL(cmos_rd(0x0c), 0xc0);
	CU_ASSERT_EQUAL(rec.level[8], 0);
	CU_ASSERT_EQUAL(cmos_rd(0x0c), 0x00);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), 2 * 976563 - 1);
	/* PF latches without PIE, but no interrupt */
	cmos_wr(0x0b, 0x02);
	clk.now += 10000000;
	CU_ASSERT_EQUAL(cmos_rd(0x0c), 0x40);
	CU_ASSERT_EQUAL(rec.rises[8], 1);
	/* rate 15 = 2 Hz; rate 0 = off */
	cmos_wr(0x0a, 0x2f);
	cmos_wr(0x0b, 0x42);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), 500000000);
	cmos_wr(0x0a, 0x20);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), VCLOCK_NEVER);
	/* divider held in reset: nothing */
	cmos_wr(0x0a, 0x66);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), VCLOCK_NEVER);
}

static void test_update_and_alarm(void)
{
	setup();
	cmos_wr(0x0a, 0x20);			/* no periodic flag in the way */
	cmos_wr(0x0b, 0x12);			/* UIE */
	uint64_t d = rtc__next_deadline_ns(&rtc);
	CU_ASSERT_EQUAL(d, 500000000);		/* host time was at .5 s */
	rtc__poll(&rtc, d);
	CU_ASSERT_EQUAL(rec.level[8], 1);
	CU_ASSERT_EQUAL(cmos_rd(0x0c), 0x90);
	/* alarm at hh:mm:35 with hour/minute don't-care */
	cmos_wr(0x01, 0x35);
	cmos_wr(0x03, 0xc0);
	cmos_wr(0x05, 0xff);
	cmos_wr(0x0b, 0x22);			/* AIE only */
	rtc__poll(&rtc, 4000000000ull);		/* 17:20:34.5 */
	CU_ASSERT_EQUAL(rec.level[8], 0);
	CU_ASSERT_EQUAL(cmos_rd(0x0c) & 0x20, 0);
	CU_ASSERT_EQUAL(rtc__next_deadline_ns(&rtc), 4500000000ull);
	rtc__poll(&rtc, 4500000000ull);		/* 17:20:35 */
	CU_ASSERT_EQUAL(rec.level[8], 1);
	CU_ASSERT_EQUAL(cmos_rd(0x0c), 0xb0);	/* IRQF, AF, UF */
	/* SET clears UIE and stops updates */
	cmos_wr(0x0b, 0x92);
	CU_ASSERT_EQUAL(cmos_rd(0x0b), 0x82);
	rtc__poll(&rtc, 9000000000ull);
	CU_ASSERT_EQUAL(cmos_rd(0x0c) & 0x10, 0);
}

static void test_nmi_and_memory(void)
{
	setup();
	outb(&bus, 0x70, 0x8f);
	CU_ASSERT_TRUE(rtc__nmi_masked(&rtc));
	CU_ASSERT_EQUAL(inb(&bus, 0x70), 0xff);
	outb(&bus, 0x70, 0x0f);
	CU_ASSERT_FALSE(rtc__nmi_masked(&rtc));
	rtc__set_memory_size(&rtc, 32ull << 20);
	CU_ASSERT_EQUAL(cmos_rd(0x15) | cmos_rd(0x16) << 8, 640);
	CU_ASSERT_EQUAL(cmos_rd(0x17) | cmos_rd(0x18) << 8, 31 * 1024);
	CU_ASSERT_EQUAL(cmos_rd(0x30) | cmos_rd(0x31) << 8, 31 * 1024);
	CU_ASSERT_EQUAL(cmos_rd(0x34) | cmos_rd(0x35) << 8, 16 * 16);
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += cmos_rd(i);
	CU_ASSERT_EQUAL(cmos_rd(0x2e) << 8 | cmos_rd(0x2f), sum);
	rtc__set_memory_size(&rtc, 8ull << 30);		/* clamps */
	CU_ASSERT_EQUAL(cmos_rd(0x17) | cmos_rd(0x18) << 8, 0xffff);
	CU_ASSERT_EQUAL(cmos_rd(0x34) | cmos_rd(0x35) << 8, 0xffff);
	/* plain CMOS RAM */
	cmos_wr(0x50, 0xab);
	CU_ASSERT_EQUAL(cmos_rd(0x50), 0xab);
	uint16_t w = 0;
	CU_ASSERT_NOT_EQUAL(rtc__io(&rtc, 0, &w, 2, false), 0);
}

static CU_TestInfo rtc_tests[] = {
	{"host_date_formats", test_host_date_formats},
	{"set_time", test_set_time},
	{"periodic_irq", test_periodic_irq},
	{"update_and_alarm", test_update_and_alarm},
	{"nmi_and_memory", test_nmi_and_memory},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_rtc, .tests = rtc_tests);
