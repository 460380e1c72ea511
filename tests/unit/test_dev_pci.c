/* tests/unit/test_dev_pci.c — configuration mechanism #1, the host bridge,
 * BAR sizing and moves, command-register decoding, capabilities, INTx. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static struct bus bus;
static struct pci_host host;
static struct pci_dev dev;
static struct irq_rec rec;
static unsigned resets;

struct fake {
	uint64_t last_off;
	unsigned hits;
};
static struct fake fio, fmem;

static int fake_io(void *opaque, uint64_t off, void *data, unsigned len, bool w)
{
	struct fake *f = opaque;
	f->last_off = off;
	f->hits++;
	if (!w)
		memset(data, 0x5a, len);
	return 0;
}

static void on_reset(void *ctx) { resets++; }

static uint32_t cfg_rd(unsigned slot, unsigned off, unsigned len)
{
	io_out(&bus, 0xcf8, 0x80000000u | slot << 11 | (off & 0xfc), 4);
	return io_in(&bus, 0xcfc + (off & 3), len);
}

static void cfg_wr(unsigned slot, unsigned off, uint32_t v, unsigned len)
{
	io_out(&bus, 0xcf8, 0x80000000u | slot << 11 | (off & 0xfc), 4);
	io_out(&bus, 0xcfc + (off & 3), v, len);
}

static void setup(void)
{
	bus__init(&bus);
	irq_rec__init(&rec);
	memset(&fio, 0, sizeof(fio));
	memset(&fmem, 0, sizeof(fmem));
	resets = 0;
	pci_host__init(&host, &bus, on_reset, NULL);
	bus__register(&bus, BUS_PIO, 0xcf8, 8, pci_host__io, &host, "pci");
	pci_dev__init(&dev, 0x1af4, 0x1001, 0x010000, 0, 0x1af4, 2, 1);
	CU_ASSERT_EQUAL(pci_dev__set_bar(&dev, 0, 32, BUS_PIO, fake_io, &fio, "io"), 0);
	CU_ASSERT_EQUAL(pci_dev__set_bar(&dev, 1, 4096, BUS_MMIO, fake_io, &fmem, "mem"), 0);
	pci_dev__wire_intx(&dev, &rec.line[11], 11);
	CU_ASSERT_EQUAL(pci_host__add(&host, &dev, 3), 0);
}

static void test_mechanism1_and_bridge(void)
{
	setup();
	/* Linux pci_check_type1 */
	outb(&bus, 0xcfb, 0x01);
	io_out(&bus, 0xcf8, 0x80000000u, 4);
	CU_ASSERT_EQUAL(io_in(&bus, 0xcf8, 4), 0x80000000u);
	CU_ASSERT_EQUAL(cfg_rd(0, 0x00, 4), 0x12378086u);
	CU_ASSERT_EQUAL(cfg_rd(0, 0x0a, 2), 0x0600);
	CU_ASSERT_EQUAL(cfg_rd(0, 0x02, 2), 0x1237);
	CU_ASSERT_EQUAL(cfg_rd(0, 0x03, 1), 0x12);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x00, 4), 0x10011af4u);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x2e, 2), 2);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x3d, 1), 1);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x3c, 1), 11);
	/* absent slot, function 1, bus 1, disabled: all-ones */
	CU_ASSERT_EQUAL(cfg_rd(5, 0x00, 4), 0xffffffffu);
	io_out(&bus, 0xcf8, 0x80000100u, 4);
	CU_ASSERT_EQUAL(io_in(&bus, 0xcfc, 4), 0xffffffffu);
	io_out(&bus, 0xcf8, 0x80010000u, 4);
	CU_ASSERT_EQUAL(io_in(&bus, 0xcfc, 4), 0xffffffffu);
	io_out(&bus, 0xcf8, 0x00000000u, 4);
	CU_ASSERT_EQUAL(io_in(&bus, 0xcfc, 4), 0xffffffffu);
	/* read-only IDs */
	cfg_wr(3, 0x00, 0, 4);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x00, 4), 0x10011af4u);
	/* 0xcf9 reset control */
	outb(&bus, 0xcf9, 0x02);
	CU_ASSERT_EQUAL(resets, 0);
	outb(&bus, 0xcf9, 0x06);
	CU_ASSERT_EQUAL(resets, 1);
	CU_ASSERT_EQUAL(pci_host__add(&host, &dev, 3), -EEXIST);
	CU_ASSERT_EQUAL(pci_host__add(&host, &dev, 32), -EINVAL);
}

static void test_bar_sizing_and_moves(void)
{
	setup();
	cfg_wr(3, 0x10, 0xffffffff, 4);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x10, 4), 0xffffffe1u);
	cfg_wr(3, 0x14, 0xffffffff, 4);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x14, 4), 0xfffff000u);
	cfg_wr(3, 0x18, 0xffffffff, 4);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x18, 4), 0);	/* unimplemented */
	cfg_wr(3, 0x10, 0xc040, 4);
	cfg_wr(3, 0x14, 0xfebf0000, 4);
	/* decoding still off */
	CU_ASSERT_EQUAL(io_in(&bus, 0xc044, 1), 0xff);
	CU_ASSERT_EQUAL(fio.hits, 0);
	cfg_wr(3, 0x04, 0x0003, 2);
	CU_ASSERT_EQUAL(io_in(&bus, 0xc044, 1), 0x5a);
	CU_ASSERT_EQUAL(fio.last_off, 4);
	CU_ASSERT_EQUAL(mmio_rd(&bus, 0xfebf0010), 0x5a5a5a5au);
	CU_ASSERT_EQUAL(fmem.last_off, 0x10);
	/* move the I/O BAR: old address unclaimed, new one decodes */
	cfg_wr(3, 0x10, 0xd000, 4);
	CU_ASSERT_EQUAL(io_in(&bus, 0xc044, 1), 0xff);
	CU_ASSERT_EQUAL(io_in(&bus, 0xd01f, 1), 0x5a);
	CU_ASSERT_EQUAL(fio.last_off, 0x1f);
	/* memory decode off: memory BAR gone, I/O stays */
	cfg_wr(3, 0x04, 0x0001, 2);
	CU_ASSERT_EQUAL(mmio_rd(&bus, 0xfebf0010), 0xffffffffu);
	CU_ASSERT_EQUAL(io_in(&bus, 0xd000, 1), 0x5a);
	/* a BAR over another region stays unmapped, no crash */
	bus__register(&bus, BUS_PIO, 0xe000, 0x10, fake_io, &fmem, "other");
	cfg_wr(3, 0x10, 0xe000, 4);
	CU_ASSERT_FALSE(dev.bar[0].mapped);
	/* an I/O BAR past 64 KiB is not decoded */
	cfg_wr(3, 0x10, 0xffffffe0, 4);
	CU_ASSERT_FALSE(dev.bar[0].mapped);
	/* bad BAR definitions */
	CU_ASSERT_EQUAL(pci_dev__set_bar(&dev, 6, 32, BUS_PIO, fake_io, &fio, "x"), -EINVAL);
	CU_ASSERT_EQUAL(pci_dev__set_bar(&dev, 2, 24, BUS_PIO, fake_io, &fio, "x"), -EINVAL);
	CU_ASSERT_EQUAL(pci_dev__set_bar(&dev, 2, 8, BUS_MMIO, fake_io, &fio, "x"), -EINVAL);
}

static void test_assign_resources(void)
{
	setup();
	CU_ASSERT_EQUAL(pci_host__assign_resources(&host, 0xc000, 0x10000, 0xe0000000, 0xfec00000), 0);
	CU_ASSERT_EQUAL(pci_dev__bar_addr(&dev, 0), 0xc000);
	CU_ASSERT_EQUAL(pci_dev__bar_addr(&dev, 1), 0xe0000000);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x04, 2) & 3, 3);
	CU_ASSERT_EQUAL(io_in(&bus, 0xc001, 1), 0x5a);
	/* no room */
	setup();
	CU_ASSERT_EQUAL(pci_host__assign_resources(&host, 0xc000, 0xc010, 0xe0000000, 0xfec00000), -ENOSPC);
}

static void test_status_caps_intx(void)
{
	setup();
	int c1 = pci_dev__add_cap(&dev, 0x09, 16);
	int c2 = pci_dev__add_cap(&dev, 0x05, 10);
	CU_ASSERT_EQUAL(c1, 0x40);
	CU_ASSERT_EQUAL(c2, 0x50);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x06, 2) & 0x10, 0x10);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x34, 1), 0x40);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x41, 1), 0x50);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x51, 1), 0x00);
	CU_ASSERT_EQUAL(pci_dev__add_cap(&dev, 0x09, 250), -ENOSPC);
	/* INTx follows the device, masked by command bit 10 */
	pci_dev__set_intx(&dev, 1);
	CU_ASSERT_EQUAL(rec.level[11], 1);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x06, 2) & 0x08, 0x08);
	cfg_wr(3, 0x04, 0x0400, 2);
	CU_ASSERT_EQUAL(rec.level[11], 0);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x06, 2) & 0x08, 0x08);	/* status still shows it */
	cfg_wr(3, 0x04, 0x0000, 2);
	CU_ASSERT_EQUAL(rec.level[11], 1);
	pci_dev__set_intx(&dev, 0);
	CU_ASSERT_EQUAL(rec.level[11], 0);
	/* status error bits: write 1 to clear, others read-only */
	dev.cfg[0x07] = 0x80;
	cfg_wr(3, 0x06, 0xffff, 2);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x06, 2), 0x0010);
	/* interrupt line is writable, pin is not */
	cfg_wr(3, 0x3c, 0x0205, 2);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x3c, 2), 0x0105);
	/* command: only the implemented bits stick */
	cfg_wr(3, 0x04, 0xffff, 2);
	CU_ASSERT_EQUAL(cfg_rd(3, 0x04, 2), 0x0547);
}

static CU_TestInfo pci_tests[] = {
	{"mechanism1_and_bridge", test_mechanism1_and_bridge},
	{"bar_sizing_and_moves", test_bar_sizing_and_moves},
	{"assign_resources", test_assign_resources},
	{"status_caps_intx", test_status_caps_intx},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_pci, .tests = pci_tests);
