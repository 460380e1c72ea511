/* tests/unit/test_dev_wiring.c — the interrupt wiring docs/devices.md asks
 * the board for, end to end: PIT → PIC → LAPIC LINT0 (virtual wire), then
 * PIT → I/O APIC pin 2, PCI INTx (level) → pin 11 with EOI broadcast, SCI
 * → pin 9, all delivered through lapic__has_intr/lapic__ack. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct board {
	struct fake_clock clk;
	struct bus bus;
	struct pic pic;
	struct pit pit;
	struct lapic lapic;
	struct ioapic ioapic;
	struct acpi_pm pm;
	struct irq_line isa[16];	/* ISA IRQ n → PIC n and I/O APIC (0 → 2) */
	struct irq_line pic_intr;
};

static struct board B;

static void isa_irq(void *ctx, unsigned irq, int level)
{
	struct board *b = ctx;
	pic__set_irq(&b->pic, irq, level);
	ioapic__set_irq(&b->ioapic, irq == 0 ? 2 : irq, level);
}

static void pic_intr(void *ctx, unsigned irq, int level)
{
	lapic__set_lint(&((struct board *)ctx)->lapic, 0, level);
}

static uint8_t extint_ack(void *ctx) { return pic__ack(&((struct board *)ctx)->pic); }

static void board_init(struct board *b)
{
	memset(b, 0, sizeof(*b));
	fake_clock__init(&b->clk);
	bus__init(&b->bus);
	for (unsigned i = 0; i < 16; i++)
		b->isa[i] = (struct irq_line){.set_level = isa_irq, .ctx = b, .irq = i};
	b->pic_intr = (struct irq_line){.set_level = pic_intr, .ctx = b};
	pic__init(&b->pic, &b->pic_intr);
	pit__init(&b->pit, &b->clk.vc, &b->isa[0]);
	struct lapic_ops ops = {.extint_ack = extint_ack, .ctx = b};
	lapic__init(&b->lapic, &b->clk.vc, &ops);
	lapic__firmware_init(&b->lapic);
	ioapic__init(&b->ioapic, &b->lapic);
	acpi_pm__init(&b->pm, &b->clk.vc, &b->isa[9], NULL, NULL);
	bus__register(&b->bus, BUS_PIO, 0x20, 2, pic__io_master, &b->pic, "pic1");
	bus__register(&b->bus, BUS_PIO, 0xa0, 2, pic__io_slave, &b->pic, "pic2");
	bus__register(&b->bus, BUS_PIO, 0x4d0, 2, pic__io_elcr, &b->pic, "elcr");
	bus__register(&b->bus, BUS_PIO, 0x40, 4, pit__io, &b->pit, "pit");
	bus__register(&b->bus, BUS_PIO, 0x600, ACPI_PM_IO_LEN, acpi_pm__io, &b->pm, "pm");
	bus__register(&b->bus, BUS_MMIO, 0xfee00000, 0x1000, lapic__mmio, &b->lapic, "lapic");
	bus__register(&b->bus, BUS_MMIO, 0xfec00000, 0x1000, ioapic__mmio, &b->ioapic, "ioapic");
}

/* The run loop's timer step. */
static void run_until(struct board *b, uint64_t t)
{
	b->clk.now = t;
	if (t >= pit__next_deadline_ns(&b->pit))
		pit__poll(&b->pit, t);
	if (t >= lapic__next_deadline_ns(&b->lapic))
		lapic__poll(&b->lapic, t);
}

static void pic_init_linux(struct bus *bus)
{
	outb(bus, 0x20, 0x11), outb(bus, 0x21, 0x30), outb(bus, 0x21, 0x04), outb(bus, 0x21, 0x01);
	outb(bus, 0xa0, 0x11), outb(bus, 0xa1, 0x38), outb(bus, 0xa1, 0x02), outb(bus, 0xa1, 0x01);
	outb(bus, 0x21, 0xfa), outb(bus, 0xa1, 0xff);	/* IRQ0, cascade */
}

static void test_virtual_wire(void)
{
	board_init(&B);
	struct bus *bus = &B.bus;
	pic_init_linux(bus);
	outb(bus, 0x43, 0x34);
	outb(bus, 0x40, 0x9c), outb(bus, 0x40, 0x2e);	/* 11932: 10 ms */
	unsigned ticks = 0;
	for (uint64_t t = 0; t < 100000000ull; t += 1000000) {
		run_until(&B, t);
		if (lapic__has_intr(&B.lapic)) {
			CU_ASSERT_EQUAL(lapic__ack(&B.lapic), 0x30);
			outb(bus, 0x20, 0x20);
			ticks++;
		}
	}
	CU_ASSERT_TRUE(ticks >= 9 && ticks <= 10);
}

static void test_apic_mode(void)
{
	board_init(&B);
	struct bus *bus = &B.bus;
	pic_init_linux(bus);
	outb(bus, 0x21, 0xff);				/* Linux masks the 8259 */
	mmio_wr(bus, 0xfee00000 + 0x350, 0x10700);	/* ExtINT masked */
	/* timer on pin 2 (ISO IRQ0 -> GSI 2), virtio on 11 level, SCI on 9 level */
	mmio_wr(bus, 0xfec00000, 0x14), mmio_wr(bus, 0xfec00010, 0x30);
	mmio_wr(bus, 0xfec00000, 0x26), mmio_wr(bus, 0xfec00010, 0xa041);
	mmio_wr(bus, 0xfec00000, 0x22), mmio_wr(bus, 0xfec00010, 0x8039);
	outb(bus, 0x43, 0x34);
	outb(bus, 0x40, 0x9c), outb(bus, 0x40, 0x2e);
	run_until(&B, 10100000);	/* 11932 ticks = 10.00015 ms */
	CU_ASSERT_TRUE(lapic__has_intr(&B.lapic));
	CU_ASSERT_EQUAL(lapic__ack(&B.lapic), 0x30);
	mmio_wr(bus, 0xfee000b0, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&B.lapic));
	/* a PCI INTx line: level on pin 11 */
	irq_line__set(&B.isa[11], 1);
	CU_ASSERT_EQUAL(lapic__ack(&B.lapic), 0x41);
	CU_ASSERT_FALSE(lapic__has_intr(&B.lapic));	/* remote IRR holds it */
	irq_line__set(&B.isa[11], 0);			/* driver read ISR */
	mmio_wr(bus, 0xfee000b0, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&B.lapic));
	/* SCI: power button with PWRBTN_EN, cleared by the handler */
	io_out(bus, 0x602, 0x100, 2);
	acpi_pm__power_button(&B.pm);
	CU_ASSERT_EQUAL(lapic__ack(&B.lapic), 0x39);
	io_out(bus, 0x600, 0x100, 2);
	mmio_wr(bus, 0xfee000b0, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&B.lapic));
	/* the LAPIC timer, calibrated Linux-style against the PIT ticks */
	mmio_wr(bus, 0xfee00000 + 0x3e0, 0x3);		/* divide by 16 */
	mmio_wr(bus, 0xfee00000 + 0x320, 0x200ef);	/* periodic vector 0xef */
	mmio_wr(bus, 0xfee00000 + 0x380, 0xffffffff);
	uint32_t c0 = mmio_rd(bus, 0xfee00000 + 0x390);
	run_until(&B, 20100000);
	uint32_t c1 = mmio_rd(bus, 0xfee00000 + 0x390);
	CU_ASSERT_EQUAL(c0 - c1, 10000000 / 16);	/* 10 ms at 1 GHz / 16 */
	CU_ASSERT_EQUAL(lapic__ack(&B.lapic), 0x30);	/* the PIT tick of that moment */
}

static CU_TestInfo wiring_tests[] = {
	{"virtual_wire", test_virtual_wire},
	{"apic_mode", test_apic_mode},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_wiring, .tests = wiring_tests);
