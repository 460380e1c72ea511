/* tests/unit/test_dev_pic.c — i8259A pair: Linux's init sequence, cascade,
 * priorities, EOI forms, rotation, level/edge, special mask, AEOI, poll,
 * spurious IRQ 7/15. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

static struct bus bus;
static struct pic pic;
static struct irq_rec rec;

/* Linux's init_8259A(): ICW1 0x11, ICW2 base, ICW3, ICW4 0x01. */
static void setup(int aeoi)
{
	bus__init(&bus);
	irq_rec__init(&rec);
	pic__init(&pic, &rec.line[0]);
	bus__register(&bus, BUS_PIO, 0x20, 2, pic__io_master, &pic, "pic1");
	bus__register(&bus, BUS_PIO, 0xa0, 2, pic__io_slave, &pic, "pic2");
	bus__register(&bus, BUS_PIO, 0x4d0, 2, pic__io_elcr, &pic, "elcr");
	outb(&bus, 0x21, 0xff);
	outb(&bus, 0xa1, 0xff);
	outb(&bus, 0x20, 0x11);
	outb(&bus, 0x21, 0x30);
	outb(&bus, 0x21, 0x04);
	outb(&bus, 0x21, aeoi ? 0x03 : 0x01);
	outb(&bus, 0xa0, 0x11);
	outb(&bus, 0xa1, 0x38);
	outb(&bus, 0xa1, 0x02);
	outb(&bus, 0xa1, 0x01);
	outb(&bus, 0x21, 0x00);
	outb(&bus, 0xa1, 0x00);
}

static void test_init_and_mask(void)
{
	setup(0);
	CU_ASSERT_EQUAL(pic.chip[0].irq_base, 0x30);
	CU_ASSERT_EQUAL(pic.chip[1].irq_base, 0x38);
	CU_ASSERT_EQUAL(pic.chip[0].init_state, 0);
	outb(&bus, 0x21, 0xfb);
	CU_ASSERT_EQUAL(inb(&bus, 0x21), 0xfb);	/* Linux's probe_8259A */
	pic__set_irq(&pic, 0, 1);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	CU_ASSERT_EQUAL(rec.level[0], 0);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x01);	/* IRR visible though masked */
	outb(&bus, 0x21, 0xfa);
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	CU_ASSERT_EQUAL(rec.level[0], 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x30);
	CU_ASSERT_EQUAL(rec.level[0], 0);
	outb(&bus, 0x20, 0x0b);				/* OCW3 read ISR */
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x01);
	outb(&bus, 0x20, 0x20);				/* non-specific EOI */
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x00);
	outb(&bus, 0x20, 0x0a);				/* back to IRR */
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x00);		/* edge consumed */
}

static void test_priority_and_nesting(void)
{
	setup(0);
	pic__set_irq(&pic, 4, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x34);
	pic__set_irq(&pic, 6, 1);
	CU_ASSERT_FALSE(pic__has_intr(&pic));	/* lower priority than IR4 in service */
	pic__set_irq(&pic, 1, 1);
	CU_ASSERT_TRUE(pic__has_intr(&pic));	/* higher priority nests */
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x31);
	outb(&bus, 0x20, 0x20);			/* EOI clears IR1 (highest in service) */
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	outb(&bus, 0x20, 0x64);			/* specific EOI IR4 */
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x36);
}

static void test_cascade_and_spurious(void)
{
	setup(0);
	pic__set_irq(&pic, 12, 1);
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x3c);
	outb(&bus, 0x20, 0x0b);
	outb(&bus, 0xa0, 0x0b);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x04);	/* master IR2 in service */
	CU_ASSERT_EQUAL(inb(&bus, 0xa0), 0x10);
	outb(&bus, 0xa0, 0x20);
	outb(&bus, 0x20, 0x20);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0);
	/* spurious on the master: nothing pending → IR7, no ISR bit */
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x37);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0);
	/* request withdrawn between INTR and INTA on the slave (level) → IRQ15 */
	outb(&bus, 0x4d1, 0x02);			/* IRQ9 level */
	pic__set_irq(&pic, 9, 1);
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	/* the master already committed to IR2; model by masking on the slave */
	pic.chip[0].irr |= 0x04;
	pic.chip[1].imr = 0x02;
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x3f);
	CU_ASSERT_EQUAL(pic.spurious, 2);
	CU_ASSERT_EQUAL(inb(&bus, 0xa0), 0x00);	/* slave ISR untouched */
}

static void test_level_and_elcr(void)
{
	setup(0);
	outb(&bus, 0x4d0, 0xff);
	CU_ASSERT_EQUAL(inb(&bus, 0x4d0), 0xf8);	/* IRQ0-2 edge only */
	outb(&bus, 0x4d1, 0xff);
	CU_ASSERT_EQUAL(inb(&bus, 0x4d1), 0xde);	/* IRQ8, IRQ13 edge only */
	outb(&bus, 0x4d0, 0x20);
	outb(&bus, 0x4d1, 0x00);
	pic__set_irq(&pic, 5, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x35);
	outb(&bus, 0x20, 0x20);
	CU_ASSERT_TRUE(pic__has_intr(&pic));	/* still high: fires again */
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x35);
	pic__set_irq(&pic, 5, 0);
	outb(&bus, 0x20, 0x20);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	/* an edge line held high fires once */
	pic__set_irq(&pic, 3, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x33);
	outb(&bus, 0x20, 0x20);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	pic__set_irq(&pic, 3, 1);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	pic__set_irq(&pic, 3, 0);
	pic__set_irq(&pic, 3, 1);
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	/* ICW1 resets the edge sense: the high edge line needs a new edge */
	setup(0);
	pic__set_irq(&pic, 3, 1);
	outb(&bus, 0x20, 0x11);
	outb(&bus, 0x21, 0x30);
	outb(&bus, 0x21, 0x04);
	outb(&bus, 0x21, 0x01);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	/* irq 2 / out of range are ignored */
	pic__set_irq(&pic, 2, 1);
	pic__set_irq(&pic, 99, 1);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
}

static void test_rotation_and_aeoi(void)
{
	setup(1);
	pic__set_irq(&pic, 0, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x30);
	outb(&bus, 0x20, 0x0b);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0);	/* auto-EOI: no ISR */
	setup(0);
	outb(&bus, 0x20, 0xc4);			/* set priority: IR4 lowest */
	pic__set_irq(&pic, 3, 1);
	pic__set_irq(&pic, 5, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x35);	/* IR5 now highest */
	outb(&bus, 0x20, 0xa0);			/* rotate on non-specific EOI */
	CU_ASSERT_EQUAL(pic.chip[0].priority_add, 6);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x33);
	outb(&bus, 0x20, 0xe3);			/* rotate on specific EOI 3 */
	CU_ASSERT_EQUAL(pic.chip[0].priority_add, 4);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0);
}

static void test_special_mask_and_poll(void)
{
	setup(0);
	pic__set_irq(&pic, 1, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x31);
	pic__set_irq(&pic, 5, 1);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	outb(&bus, 0x21, 0x02);			/* mask IR1 (in service) */
	outb(&bus, 0x20, 0x68);			/* set special mask */
	CU_ASSERT_TRUE(pic__has_intr(&pic));	/* IR5 allowed now */
	outb(&bus, 0x20, 0x48);			/* reset special mask */
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	outb(&bus, 0x20, 0x61);			/* specific EOI 1 */
	outb(&bus, 0x21, 0x00);
	/* poll: next read returns 0x80|IR and acknowledges */
	outb(&bus, 0x20, 0x0c);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x85);
	CU_ASSERT_FALSE(pic__has_intr(&pic));
	outb(&bus, 0x20, 0x0c);
	CU_ASSERT_EQUAL(inb(&bus, 0x21), 0x00);	/* nothing left: 0 */
	CU_ASSERT_EQUAL(inb(&bus, 0x21), 0x00);	/* then IMR again */
	/* special fully nested: slave request beats master IR2 in service */
	setup(0);
	outb(&bus, 0x20, 0x11);
	outb(&bus, 0x21, 0x30);
	outb(&bus, 0x21, 0x04);
	outb(&bus, 0x21, 0x11);
	pic__set_irq(&pic, 13, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x3d);
	pic__set_irq(&pic, 9, 1);
	CU_ASSERT_TRUE(pic__has_intr(&pic));
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x39);
}

static void test_irq_line_helper(void)
{
	setup(0);
	struct irq_line l;
	pic__irq_line(&pic, 7, &l);
	irq_line__set(&l, 1);
	CU_ASSERT_EQUAL(pic__ack(&pic), 0x37);
	outb(&bus, 0x20, 0x0b);
	CU_ASSERT_EQUAL(inb(&bus, 0x20), 0x80);	/* a real IR7: ISR set */
	uint32_t v;
	CU_ASSERT_NOT_EQUAL(pic__io_master(&pic, 2, &v, 1, false), 0);
}

static CU_TestInfo pic_tests[] = {
	{"init_and_mask", test_init_and_mask},
	{"priority_and_nesting", test_priority_and_nesting},
	{"cascade_and_spurious", test_cascade_and_spurious},
	{"level_and_elcr", test_level_and_elcr},
	{"rotation_and_aeoi", test_rotation_and_aeoi},
	{"special_mask_and_poll", test_special_mask_and_poll},
	{"irq_line_helper", test_irq_line_helper},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_pic, .tests = pic_tests);
