/* tests/unit/test_dev_apic.c — local APIC (priorities, EOI, timer, LINT0
 * ExtINT, IPIs, errors) and I/O APIC (redirection, edge/level, remote IRR,
 * EOI broadcast), through MMIO with a hand-moved clock. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>

#define LA 0xfee00000u
#define IO 0xfec00000u

static struct bus bus;
static struct lapic la;
static struct ioapic ioa;
static struct pic pic;
static struct fake_clock clk;
static unsigned nmis;

static uint8_t extint_ack(void *ctx) { return pic__ack(ctx); }
static void nmi(void *ctx) { nmis++; }

static void pic_intr(void *ctx, unsigned irq, int level)
{
	lapic__set_lint(&la, 0, level);
}
static const struct irq_line pic_to_lint0 = {.set_level = pic_intr};

static void setup(void)
{
	bus__init(&bus);
	fake_clock__init(&clk);
	nmis = 0;
	pic__init(&pic, &pic_to_lint0);
	struct lapic_ops ops = {.extint_ack = extint_ack, .nmi = nmi, .ctx = &pic};
	lapic__init(&la, &clk.vc, &ops);
	ioapic__init(&ioa, &la);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_MMIO, LA, 0x1000, lapic__mmio, &la, "lapic"), 0);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_MMIO, IO, 0x1000, ioapic__mmio, &ioa, "ioapic"), 0);
}

static void io_wr(unsigned reg, uint32_t v)
{
	mmio_wr(&bus, IO, reg);
	mmio_wr(&bus, IO + 0x10, v);
}

static uint32_t io_rd(unsigned reg)
{
	mmio_wr(&bus, IO, reg);
	return mmio_rd(&bus, IO + 0x10);
}

static void test_lapic_registers(void)
{
	setup();
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x30), 0x00050014u);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x20), 0);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xf0), 0xff);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xe0), 0xffffffffu);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x350), 0x10000);
	/* software-disabled: LVT mask cannot be cleared */
	mmio_wr(&bus, LA + 0x350, 0x700);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x350), 0x10700);
	mmio_wr(&bus, LA + 0xf0, 0x1ff);
	mmio_wr(&bus, LA + 0x350, 0x700);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x350), 0x700);
	/* clearing SVR bit 8 masks every LVT */
	mmio_wr(&bus, LA + 0xf0, 0x0ff);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x350), 0x10700);
	mmio_wr(&bus, LA + 0xd0, 0x01ffffff);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xd0), 0x01000000u);
	mmio_wr(&bus, LA + 0x20, 0x05000000);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x20), 0x05000000u);
	/* base MSR */
	CU_ASSERT_EQUAL(lapic__read_base_msr(&la), 0xfee00900u);
	CU_ASSERT_EQUAL(lapic__write_base_msr(&la, 0xfed00900u), -EINVAL);
	CU_ASSERT_EQUAL(lapic__write_base_msr(&la, 0xfee00d00u), -EINVAL);	/* x2APIC */
	/* byte read of the version, bad accesses */
	uint8_t b = 0;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_MMIO, LA + 0x30, &b, 1, false), 0);
	CU_ASSERT_EQUAL(b, 0x14);
	uint32_t v;
	CU_ASSERT_NOT_EQUAL(lapic__mmio(&la, 0x34, &v, 4, false), 0);
}

static void test_priority_and_eoi(void)
{
	setup();
	mmio_wr(&bus, LA + 0xf0, 0x1ff);
	lapic__deliver(&la, 0x31, APIC_DM_FIXED, false);
	lapic__deliver(&la, 0x52, APIC_DM_FIXED, false);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x200 + 0x10), 1u << 17);	/* IRR 0x31 */
	CU_ASSERT_TRUE(lapic__has_intr(&la));
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x52);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xa0), 0x50);		/* PPR */
	CU_ASSERT_FALSE(lapic__has_intr(&la));				/* 0x31 below */
	lapic__deliver(&la, 0x58, APIC_DM_FIXED, false);
	CU_ASSERT_FALSE(lapic__has_intr(&la));				/* same class */
	lapic__deliver(&la, 0x61, APIC_DM_FIXED, false);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x61);
	mmio_wr(&bus, LA + 0xb0, 0);
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xa0), 0);
	/* TPR blocks classes at or below it */
	mmio_wr(&bus, LA + 0x80, 0x58);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0xa0), 0x58);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	CU_ASSERT_EQUAL(lapic__ack(&la), 0xff);				/* spurious */
	mmio_wr(&bus, LA + 0x80, 0x40);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x58);
	/* illegal vector */
	lapic__deliver(&la, 0x05, APIC_DM_FIXED, false);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x280), 0);			/* not latched yet */
	mmio_wr(&bus, LA + 0x280, 0);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x280), 0x40);
	mmio_wr(&bus, LA + 0x280, 0);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x280), 0);
}

static void test_timer(void)
{
	setup();
	mmio_wr(&bus, LA + 0xf0, 0x1ff);
	mmio_wr(&bus, LA + 0x3e0, 0x3);				/* divide by 16 */
	mmio_wr(&bus, LA + 0x320, 0x20);			/* one-shot, vector 0x20 */
	clk.now = 1000;
	mmio_wr(&bus, LA + 0x380, 1000);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 1000 + 16000);
	clk.now = 1000 + 1600;
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x390), 900);
	lapic__poll(&la, 16999);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	lapic__poll(&la, 17000);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x20);
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), VCLOCK_NEVER);
	clk.now = 20000;
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x390), 0);
	/* periodic, divide by 1 */
	mmio_wr(&bus, LA + 0x3e0, 0xb);
	mmio_wr(&bus, LA + 0x320, 0x20021);
	mmio_wr(&bus, LA + 0x380, 500);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 20500);
	lapic__poll(&la, 20500);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 21000);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x21);
	mmio_wr(&bus, LA + 0xb0, 0);
	lapic__poll(&la, 23200);				/* late: coalesced */
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), 23500);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x21);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	clk.now = 23300;
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x390), 200);
	/* masked: no deadline; zero count stops */
	mmio_wr(&bus, LA + 0x320, 0x30021);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), VCLOCK_NEVER);
	mmio_wr(&bus, LA + 0x320, 0x20021);
	mmio_wr(&bus, LA + 0x380, 0);
	CU_ASSERT_EQUAL(lapic__next_deadline_ns(&la), VCLOCK_NEVER);
}

static void test_lint0_extint_and_ipis(void)
{
	setup();
	/* global disable: the PIC is wired straight through */
	CU_ASSERT_EQUAL(lapic__write_base_msr(&la, 0xfee00100u), 0);
	pic.chip[0].irq_base = 0x30;
	pic__set_irq(&pic, 1, 1);
	CU_ASSERT_TRUE(lapic__has_intr(&la));
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x31);
	/* enabled, software enabled, LINT0 masked: nothing; firmware_init: ExtINT */
	CU_ASSERT_EQUAL(lapic__write_base_msr(&la, 0xfee00900u), 0);
	uint8_t eoi = 0x20;
	pic__io_master(&pic, 0, &eoi, 1, true);
	pic__set_irq(&pic, 3, 1);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	lapic__firmware_init(&la);
	CU_ASSERT_TRUE(lapic__has_intr(&la));
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x33);
	/* LINT1 NMI on a rising edge */
	lapic__set_lint(&la, 1, 1);
	lapic__set_lint(&la, 1, 1);
	CU_ASSERT_EQUAL(nmis, 1);
	/* self IPI, broadcast INIT/SIPI tolerated */
	mmio_wr(&bus, LA + 0x300, 0x40040);			/* self, fixed 0x40 */
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x300) & 0x1000, 0);	/* idle */
	mmio_wr(&bus, LA + 0x310, 0);
	mmio_wr(&bus, LA + 0x300, 0x41);			/* physical dest 0 */
	mmio_wr(&bus, LA + 0x300, 0xc4500);			/* INIT all-but-self */
	mmio_wr(&bus, LA + 0x300, 0xc4699);			/* SIPI all-but-self */
	mmio_wr(&bus, LA + 0x300, 0xc0050);			/* fixed all-but-self */
	mmio_wr(&bus, LA + 0x310, 0x07000000);
	mmio_wr(&bus, LA + 0x300, 0x42);			/* to APIC 7: absent */
	CU_ASSERT_EQUAL(la.init_ipis, 1);
	CU_ASSERT_EQUAL(la.sipis, 1);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x41);
	CU_ASSERT_FALSE(lapic__has_intr(&la));			/* 0x40: same class */
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x40);
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	mmio_wr(&bus, LA + 0x300, 0x40400);			/* NMI to self */
	CU_ASSERT_EQUAL(nmis, 2);
	/* illegal vector send, with the error LVT unmasked */
	mmio_wr(&bus, LA + 0x370, 0xfe);
	mmio_wr(&bus, LA + 0x300, 0x40003);
	mmio_wr(&bus, LA + 0x280, 0);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x280), 0x20);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0xfe);
}

static void test_ioapic(void)
{
	setup();
	mmio_wr(&bus, LA + 0xf0, 0x1ff);
	CU_ASSERT_EQUAL(io_rd(0x01), 0x00170011u);
	CU_ASSERT_EQUAL(io_rd(0x00), 0x01000000u);
	io_wr(0x00, 0x02000000);
	CU_ASSERT_EQUAL(io_rd(0x00), 0x02000000u);
	CU_ASSERT_EQUAL(io_rd(0x10 + 4), 0x10000);		/* pin 2 masked */
	/* edge pin 2 (timer) -> vector 0x30 */
	io_wr(0x10 + 4, 0x30);
	io_wr(0x11 + 4, 0);
	ioapic__set_irq(&ioa, 2, 1);
	ioapic__set_irq(&ioa, 2, 0);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x30);
	mmio_wr(&bus, LA + 0xb0, 0);
	/* edge while masked: kept and delivered at unmask */
	io_wr(0x10 + 4, 0x10030);
	ioapic__set_irq(&ioa, 2, 1);
	ioapic__set_irq(&ioa, 2, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	io_wr(0x10 + 4, 0x30);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x30);
	mmio_wr(&bus, LA + 0xb0, 0);
	/* level pin 11: remote IRR until EOI, redelivered while high */
	io_wr(0x10 + 22, 0xa041);
	ioapic__set_irq(&ioa, 11, 1);
	CU_ASSERT_EQUAL(io_rd(0x10 + 22) & 0x4000, 0x4000);
	CU_ASSERT_EQUAL(mmio_rd(&bus, LA + 0x180 + 0x20) & 0x2, 0x2);	/* TMR 0x41 */
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x41);
	ioapic__set_irq(&ioa, 11, 1);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	mmio_wr(&bus, LA + 0xb0, 0);				/* EOI broadcast */
	CU_ASSERT_EQUAL(ioa.delivered, 4);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x41);
	ioapic__set_irq(&ioa, 11, 0);
	mmio_wr(&bus, LA + 0xb0, 0);
	CU_ASSERT_EQUAL(io_rd(0x10 + 22) & 0x4000, 0);
	CU_ASSERT_FALSE(lapic__has_intr(&la));
	/* RO bits and bad selectors */
	io_wr(0x10 + 22, 0x1ffff);
	CU_ASSERT_EQUAL(io_rd(0x10 + 22) & 0x5000, 0);
	CU_ASSERT_EQUAL(io_rd(0x60), 0xffffffffu);
	io_wr(0x60, 1);
	ioapic__set_irq(&ioa, 99, 1);
	/* ExtINT and NMI delivery modes */
	io_wr(0x10, 0x700);
	pic.chip[0].irq_base = 0x30;
	pic__set_irq(&pic, 0, 1);
	ioapic__set_irq(&ioa, 0, 1);
	CU_ASSERT_EQUAL(lapic__ack(&la), 0x30);
	io_wr(0x12, 0x400);
	ioapic__set_irq(&ioa, 1, 1);
	CU_ASSERT_EQUAL(nmis, 1);
}

static CU_TestInfo apic_tests[] = {
	{"lapic_registers", test_lapic_registers},
	{"priority_and_eoi", test_priority_and_eoi},
	{"timer", test_timer},
	{"lint0_extint_and_ipis", test_lint0_extint_and_ipis},
	{"ioapic", test_ioapic},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_apic, .tests = apic_tests);
