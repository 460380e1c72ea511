/* tests/unit/test_dev_i8042.c — i8042: Linux's probe (self-test, CTR, AUX
 * loop), keyboard reset/identify, translation, IRQ 1/12, A20, CPU reset. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

static struct bus bus;
static struct i8042 kbc;
static struct irq_rec rec;
static unsigned resets, a20_calls;
static bool a20;

static void on_reset(void *ctx) { resets++; }
static void on_a20(void *ctx, bool on) { a20 = on; a20_calls++; }

static void setup(void)
{
	static const struct i8042_ops ops = {.reset = on_reset, .set_a20 = on_a20};
	bus__init(&bus);
	irq_rec__init(&rec);
	resets = a20_calls = 0;
	a20 = false;
	i8042__init(&kbc, &rec.line[1], &rec.line[12], &ops);
	bus__register(&bus, BUS_PIO, 0x60, 1, i8042__io_data, &kbc, "kd");
	bus__register(&bus, BUS_PIO, 0x64, 1, i8042__io_cmd, &kbc, "kc");
	bus__register(&bus, BUS_PIO, 0x92, 1, i8042__io_port92, &kbc, "p92");
}

static uint8_t status(void) { return inb(&bus, 0x64); }
static uint8_t data(void) { return inb(&bus, 0x60); }

static void test_controller_probe(void)
{
	setup();
	CU_ASSERT_EQUAL(status() & 0x01, 0);
	outb(&bus, 0x64, 0xaa);
	CU_ASSERT_EQUAL(status() & 0x0d, 0x0d);	/* OBF, SYS, A2 */
	CU_ASSERT_EQUAL(data(), 0x55);
	CU_ASSERT_EQUAL(status() & 0x01, 0);
	outb(&bus, 0x64, 0x20);
	CU_ASSERT_EQUAL(data(), 0x45);
	outb(&bus, 0x64, 0x60);
	outb(&bus, 0x60, 0x47);
	CU_ASSERT_EQUAL(status() & 0x08, 0);	/* A2 = 0 after a data write */
	outb(&bus, 0x64, 0x20);
	CU_ASSERT_EQUAL(data(), 0x47);
	/* AUX loop: byte comes back as AUX data on IRQ12 */
	outb(&bus, 0x64, 0xd3);
	outb(&bus, 0x60, 0x5a);
	CU_ASSERT_EQUAL(status() & 0x21, 0x21);
	CU_ASSERT_EQUAL(rec.level[12], 1);
	CU_ASSERT_EQUAL(rec.level[1], 0);
	CU_ASSERT_EQUAL(data(), 0x5a);
	CU_ASSERT_EQUAL(rec.level[12], 0);
	/* AUX disable/enable toggles CTR bit 5 */
	outb(&bus, 0x64, 0xa7);
	outb(&bus, 0x64, 0x20);
	CU_ASSERT_EQUAL(data() & 0x20, 0x20);
	outb(&bus, 0x64, 0xa8);
	outb(&bus, 0x64, 0x20);
	CU_ASSERT_EQUAL(data() & 0x20, 0);
	outb(&bus, 0x64, 0xa9);
	CU_ASSERT_EQUAL(data(), 0x00);
	/* no mouse: a byte for the AUX device times out with 0xfe */
	outb(&bus, 0x64, 0xd4);
	outb(&bus, 0x60, 0xff);
	CU_ASSERT_EQUAL(status() & 0x61, 0x61);
	CU_ASSERT_EQUAL(data(), 0xfe);
	/* controller RAM */
	outb(&bus, 0x64, 0x65);
	outb(&bus, 0x60, 0x99);
	outb(&bus, 0x64, 0x25);
	CU_ASSERT_EQUAL(data(), 0x99);
}

static void test_keyboard_commands(void)
{
	setup();
	outb(&bus, 0x60, 0xff);			/* reset */
	CU_ASSERT_EQUAL(rec.level[1], 1);
	CU_ASSERT_EQUAL(data(), 0xfa);
	CU_ASSERT_EQUAL(rec.level[1], 1);	/* next byte: new edge */
	CU_ASSERT_EQUAL(rec.rises[1], 2);
	CU_ASSERT_EQUAL(data(), 0xaa);
	CU_ASSERT_EQUAL(rec.level[1], 0);
	outb(&bus, 0x60, 0xf2);			/* identify, translated: ab 41 */
	CU_ASSERT_EQUAL(data(), 0xfa);
	CU_ASSERT_EQUAL(data(), 0xab);
	CU_ASSERT_EQUAL(data(), 0x41);
	outb(&bus, 0x60, 0xed);
	CU_ASSERT_EQUAL(data(), 0xfa);
	outb(&bus, 0x60, 0x07);
	CU_ASSERT_EQUAL(data(), 0xfa);
	CU_ASSERT_EQUAL(kbc.kbd_leds, 7);
	outb(&bus, 0x60, 0xee);
	CU_ASSERT_EQUAL(data(), 0xee);
	outb(&bus, 0x60, 0x12);			/* not a command */
	CU_ASSERT_EQUAL(data(), 0xfe);
	/* untranslated: raw set 2 and the scancode set query */
	outb(&bus, 0x64, 0x60);
	outb(&bus, 0x60, 0x07);
	outb(&bus, 0x60, 0xf0);
	outb(&bus, 0x60, 0x00);
	CU_ASSERT_EQUAL(data(), 0xfa);
	CU_ASSERT_EQUAL(data(), 0xfa);
	CU_ASSERT_EQUAL(data(), 0x02);
	outb(&bus, 0x60, 0xf2);
	data(), data();
	CU_ASSERT_EQUAL(data(), 0x83);
}

static void test_translation_and_inject(void)
{
	setup();
	const uint8_t a_press_release[] = {0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75};
	CU_ASSERT_EQUAL(i8042__inject(&kbc, a_press_release, 8), 8);
	CU_ASSERT_EQUAL(data(), 0x1e);		/* 'A' make, set 1 */
	CU_ASSERT_EQUAL(data(), 0x9e);		/* break */
	CU_ASSERT_EQUAL(data(), 0xe0);
	CU_ASSERT_EQUAL(data(), 0x48);		/* up arrow */
	CU_ASSERT_EQUAL(data(), 0xe0);
	CU_ASSERT_EQUAL(data(), 0xc8);
	CU_ASSERT_EQUAL(status() & 0x01, 0);
	/* keyboard clock off: bytes wait */
	outb(&bus, 0x64, 0xad);
	i8042__inject(&kbc, a_press_release, 1);
	CU_ASSERT_EQUAL(status() & 0x01, 0);
	outb(&bus, 0x64, 0xae);
	CU_ASSERT_EQUAL(status() & 0x01, 0x01);
	CU_ASSERT_EQUAL(data(), 0x1e);
	/* IRQ1 follows command byte bit 0 */
	outb(&bus, 0x64, 0x60);
	outb(&bus, 0x60, 0x44);
	i8042__inject(&kbc, a_press_release, 1);
	CU_ASSERT_EQUAL(rec.level[1], 0);
	CU_ASSERT_EQUAL(status() & 0x01, 0x01);
	/* queue overflow: the excess is refused, not lost silently */
	setup();
	uint8_t many[100] = {0};
	CU_ASSERT_EQUAL(i8042__inject(&kbc, many, 100), I8042_QUEUE);
	/* scanning disabled: keys are not accepted */
	setup();
	outb(&bus, 0x60, 0xf5);
	data();
	CU_ASSERT_EQUAL(i8042__inject(&kbc, a_press_release, 2), 0);
}

static void test_a20_and_reset(void)
{
	setup();
	CU_ASSERT_TRUE(i8042__a20(&kbc));	/* as firmware leaves it */
	outb(&bus, 0x64, 0xd0);
	CU_ASSERT_EQUAL(data() & 0x03, 0x03);
	outb(&bus, 0x64, 0xd1);
	outb(&bus, 0x60, 0xdd);			/* A20 off, reset line high */
	CU_ASSERT_FALSE(i8042__a20(&kbc));
	CU_ASSERT_EQUAL(a20_calls, 1);
	outb(&bus, 0x64, 0xd1);
	outb(&bus, 0x60, 0xdf);			/* A20 on */
	CU_ASSERT_TRUE(i8042__a20(&kbc));
	CU_ASSERT_TRUE(a20);
	CU_ASSERT_EQUAL(resets, 0);
	outb(&bus, 0x64, 0xd0);
	CU_ASSERT_EQUAL(data() & 0x03, 0x03);
	outb(&bus, 0x64, 0xdd);
	CU_ASSERT_FALSE(a20);
	outb(&bus, 0x92, 0x02);			/* fast A20: the gate is the OR */
	CU_ASSERT_TRUE(a20);
	CU_ASSERT_EQUAL(inb(&bus, 0x92), 0x02);
	outb(&bus, 0x92, 0x00);
	CU_ASSERT_FALSE(a20);
	CU_ASSERT_EQUAL(a20_calls, 5);
	outb(&bus, 0x64, 0xfe);			/* pulse reset */
	CU_ASSERT_EQUAL(resets, 1);
	outb(&bus, 0x64, 0xff);			/* pulse nothing */
	CU_ASSERT_EQUAL(resets, 1);
	outb(&bus, 0x64, 0xd1);
	outb(&bus, 0x60, 0x00);			/* output port bit 0 low */
	CU_ASSERT_EQUAL(resets, 2);
	outb(&bus, 0x92, 0x03);			/* fast reset */
	CU_ASSERT_EQUAL(resets, 3);
	uint16_t w = 0;
	CU_ASSERT_NOT_EQUAL(i8042__io_data(&kbc, 0, &w, 2, false), 0);
}

static CU_TestInfo i8042_tests[] = {
	{"controller_probe", test_controller_probe},
	{"keyboard_commands", test_keyboard_commands},
	{"translation_and_inject", test_translation_and_inject},
	{"a20_and_reset", test_a20_and_reset},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_i8042, .tests = i8042_tests);
