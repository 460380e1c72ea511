/* tests/unit/test_bus.c — the device bus: placement, dispatch, unclaimed space. */
#include "devices/devices.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

struct fake_dev {
	uint64_t last_off;
	unsigned last_len;
	bool last_write;
	uint32_t reg;
};

static int fake_io(void *opaque, uint64_t off, void *data, unsigned len, bool w)
{
	struct fake_dev *d = opaque;
	d->last_off = off, d->last_len = len, d->last_write = w;
	if (off + len > 4)
		return -EINVAL;
	if (w)
		memcpy((uint8_t *)&d->reg + off, data, len);
	else
		memcpy(data, (uint8_t *)&d->reg + off, len);
	return 0;
}

static void test_dispatch_offsets(void)
{
	static struct bus bus;
	struct fake_dev d = {0};
	bus__init(&bus);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x3f8, 8, fake_io, &d, "uart"), 0);
	uint32_t v = 0x12345678;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_PIO, 0x3f8, &v, 4, true), 0);
	CU_ASSERT_EQUAL(d.last_off, 0);
	CU_ASSERT_TRUE(d.last_write);
	uint16_t r = 0;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_PIO, 0x3f9, &r, 1, false), 0);
	CU_ASSERT_EQUAL(d.last_off, 1);
	CU_ASSERT_EQUAL(r, 0x56);
	/* the same device in MMIO space sees the same offsets */
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_MMIO, 0xfee00000, 0x1000, fake_io, &d, "m"), 0);
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_MMIO, 0xfee00002, &r, 2, false), 0);
	CU_ASSERT_EQUAL(d.last_off, 2);
	CU_ASSERT_EQUAL(r, 0x1234);
}

static void test_overlap_and_bad_ranges(void)
{
	static struct bus bus;
	struct fake_dev d = {0};
	bus__init(&bus);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x60, 1, fake_io, &d, "a"), 0);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x5f, 2, fake_io, &d, "b"), -EEXIST);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x61, 1, fake_io, &d, "c"), 0);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x70, 0, fake_io, &d, "d"), -EINVAL);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_MMIO, UINT64_MAX - 1, 4, fake_io, &d, "e"), -EINVAL);
	CU_ASSERT_EQUAL(bus__unregister(&bus, BUS_PIO, 0x60, &d), 0);
	CU_ASSERT_EQUAL(bus__unregister(&bus, BUS_PIO, 0x60, &d), -ENOENT);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x60, 2, fake_io, &d, "b"), -EEXIST);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, 0x5f, 2, fake_io, &d, "b"), 0);
}

static void test_unclaimed_reads_ones(void)
{
	static struct bus bus;
	struct fake_dev d = {0};
	bus__init(&bus);
	bus__register(&bus, BUS_PIO, 0x80, 4, fake_io, &d, "a");
	uint32_t v = 0;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_PIO, 0x1234, &v, 4, false), -ENOENT);
	CU_ASSERT_EQUAL(v, 0xffffffffu);
	CU_ASSERT_EQUAL(bus.unclaimed[BUS_PIO], 1);
	/* a device that rejects an access looks unclaimed too */
	v = 0;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_PIO, 0x80, &v, 4, false), 0);
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_MMIO, 0x80, &v, 2, false), -ENOENT);
	CU_ASSERT_EQUAL(v & 0xffff, 0xffff);
}

static CU_TestInfo bus_tests[] = {
	{"dispatch_offsets", test_dispatch_offsets},
	{"overlap_and_bad_ranges", test_overlap_and_bad_ranges},
	{"unclaimed_reads_ones", test_unclaimed_reads_ones},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bus, .tests = bus_tests);
