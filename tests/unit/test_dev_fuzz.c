/* tests/unit/test_dev_fuzz.c — seeded random accesses: every device behind
 * one bus gets random port/MMIO reads and writes of every width, and
 * virtio-blk gets random rings and descriptors. Nothing may crash, hang or
 * touch memory outside guest RAM (run it under ASan to see the latter);
 * afterwards the devices still answer their basic protocol. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

/* HVMM_FUZZ_SEED=n in the environment replays another sequence. */
static void seed(uint64_t dflt)
{
	const char *e = getenv("HVMM_FUZZ_SEED");
	rng_state = e ? strtoull(e, NULL, 0) ^ dflt : dflt;
}

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

#define RAM_SIZE (256u << 10)
static uint8_t ram[RAM_SIZE];
static struct guest_ram gr = {ram, RAM_SIZE};
static struct guest_mem gm = {guest_ram__translate, &gr};

static struct bus bus;
static struct fake_clock clk;
static struct irq_rec rec;
static struct serial uart;
static struct pic pic;
static struct pit pit;
static struct rtc rtc;
static struct i8042 kbc;
static struct pci_host host;
static struct lapic lapic;
static struct ioapic ioapic;
static struct acpi_pm pm;
static struct virtio_blk blk, blk2;
static struct debug_exit dx;
static char img[64];
static unsigned stops;

static uint8_t extint(void *ctx) { return pic__ack(ctx); }
static void on_stop(void *ctx, uint32_t st) { stops++; }

static void build_machine(void)
{
	bus__init(&bus);
	fake_clock__init(&clk);
	irq_rec__init(&rec);
	serial__init(&uart, &rec.line[4], NULL, NULL);
	pic__init(&pic, NULL);
	pit__init(&pit, &clk.vc, &rec.line[0]);
	rtc__init(&rtc, &clk.vc, &rec.line[8], 1700000000ll * 1000000000ll);
	i8042__init(&kbc, &rec.line[1], &rec.line[12], NULL);
	pci_host__init(&host, &bus, NULL, NULL);
	struct lapic_ops ops = {.extint_ack = extint, .ctx = &pic};
	lapic__init(&lapic, &clk.vc, &ops);
	ioapic__init(&ioapic, &lapic);
	acpi_pm__init(&pm, &clk.vc, &rec.line[9], NULL, NULL);
	debug_exit__init(&dx, on_stop, NULL);
	strcpy(img, "/tmp/hvmm-fuzz-XXXXXX");
	int fd = mkstemp(img);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, 32 * 1024), 0);
	CU_ASSERT_EQUAL_FATAL(virtio_blk__init_fd(&blk, &gm, fd, false, false), 0);
	pci_dev__wire_intx(&blk.vp.pci, &rec.line[11], 11);
	pci_host__add(&host, &blk.vp.pci, 3);
	int fd2 = dup(fd);
	CU_ASSERT_EQUAL_FATAL(virtio_blk__init_fd(&blk2, &gm, fd2, true, true), 0);
	pci_dev__wire_intx(&blk2.vp.pci, &rec.line[10], 10);
	pci_host__add(&host, &blk2.vp.pci, 4);
	pci_host__assign_resources(&host, 0xc000, 0x10000, 0xe0000000, 0xfec00000);
	pci_cfg__set16(&blk.vp.pci, 0x04, 7);
	pci_host__cfg_write(&host, 4, 0, 0x04, 2, 7);
	bus__register(&bus, BUS_PIO, 0x3f8, 8, serial__io, &uart, "com1");
	bus__register(&bus, BUS_PIO, 0x20, 2, pic__io_master, &pic, "pic1");
	bus__register(&bus, BUS_PIO, 0xa0, 2, pic__io_slave, &pic, "pic2");
	bus__register(&bus, BUS_PIO, 0x4d0, 2, pic__io_elcr, &pic, "elcr");
	bus__register(&bus, BUS_PIO, 0x40, 4, pit__io, &pit, "pit");
	bus__register(&bus, BUS_PIO, 0x61, 1, pit__io_port61, &pit, "p61");
	bus__register(&bus, BUS_PIO, 0x70, 2, rtc__io, &rtc, "rtc");
	bus__register(&bus, BUS_PIO, 0x60, 1, i8042__io_data, &kbc, "kd");
	bus__register(&bus, BUS_PIO, 0x64, 1, i8042__io_cmd, &kbc, "kc");
	bus__register(&bus, BUS_PIO, 0x92, 1, i8042__io_port92, &kbc, "p92");
	bus__register(&bus, BUS_PIO, 0xcf8, 8, pci_host__io, &host, "pci");
	bus__register(&bus, BUS_PIO, 0x600, ACPI_PM_IO_LEN, acpi_pm__io, &pm, "pm");
	bus__register(&bus, BUS_PIO, 0xf4, 4, debug_exit__io, &dx, "dx");
	bus__register(&bus, BUS_MMIO, 0xfee00000, 0x1000, lapic__mmio, &lapic, "lapic");
	bus__register(&bus, BUS_MMIO, 0xfec00000, 0x1000, ioapic__mmio, &ioapic, "ioapic");
}

static void destroy_machine(void)
{
	virtio_blk__close(&blk);
	virtio_blk__close(&blk2);
	unlink(img);
}

static const struct { enum bus_space sp; uint64_t base, len; } targets[] = {
	{BUS_PIO, 0x3f8, 8}, {BUS_PIO, 0x20, 2}, {BUS_PIO, 0xa0, 2}, {BUS_PIO, 0x4d0, 2},
	{BUS_PIO, 0x40, 4}, {BUS_PIO, 0x61, 1}, {BUS_PIO, 0x70, 2}, {BUS_PIO, 0x60, 1},
	{BUS_PIO, 0x64, 1}, {BUS_PIO, 0x92, 1}, {BUS_PIO, 0xcf8, 8}, {BUS_PIO, 0x600, 12},
	{BUS_PIO, 0xc000, 64}, {BUS_PIO, 0xc040, 64}, {BUS_MMIO, 0xe0000000, 0x4000},
	{BUS_PIO, 0xf4, 4}, {BUS_MMIO, 0xfee00000, 0x1000}, {BUS_MMIO, 0xfec00000, 0x100},
};

static void test_random_register_access(void)
{
	seed(12345);
	build_machine();
	static const unsigned widths[] = {1, 2, 4, 8};
	for (unsigned i = 0; i < 200000; i++) {
		unsigned t = rnd() % (sizeof(targets) / sizeof(targets[0]));
		uint64_t addr = targets[t].base + rnd() % (targets[t].len + 2);
		unsigned w = (rnd() & 1) ? 1 : widths[rnd() % 4];
		uint64_t v = (uint64_t)rnd() << 32 | rnd();
		/* keep the I/O BAR where it is, so the fuzz keeps reaching it */
		if (addr >= 0xcf8 && addr < 0xd00 && (rnd() & 1))
			v = 0x80001800u | (rnd() & 0x3c);	/* slot 3, header only */
		bus__access(&bus, targets[t].sp, addr, &v, w, rnd() & 1);
		clk.now += rnd() % 5000;
		if ((i & 255) == 0) {
			pit__poll(&pit, clk.now);
			rtc__poll(&rtc, clk.now);
			lapic__poll(&lapic, clk.now);
			acpi_pm__poll(&pm, clk.now);
			while (lapic__has_intr(&lapic) && (rnd() & 7))
				lapic__ack(&lapic);
			if (pic__has_intr(&pic))
				pic__ack(&pic);
			uint8_t k[4] = {(uint8_t)rnd(), (uint8_t)rnd(), 0xf0, (uint8_t)rnd()};
			i8042__inject(&kbc, k, 4);
			serial__receive(&uart, k, 4);
		}
	}
	/* still alive and speaking the protocol */
	outb(&bus, 0x3f8 + 3, 0x03);
	outb(&bus, 0x3f8 + 7, 0x5a);
	CU_ASSERT_EQUAL(inb(&bus, 0x3f8 + 7), 0x5a);
	outb(&bus, 0x64, 0xaa);
	while (inb(&bus, 0x64) & 1)
		if (inb(&bus, 0x60) == 0x55)
			break;
	CU_ASSERT_TRUE(stops > 0);	/* debug-exit was hit */
	fprintf(stderr, "fuzz: %u stops, %lu unclaimed\n", stops, (unsigned long)bus.unclaimed[BUS_PIO]);
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 0, 0, 0, 4), 0x12378086u);
	CU_ASSERT_EQUAL(pci_dev__bar_addr(&blk2.vp.pci, 4), 0xe0000000u);
	destroy_machine();
}

static void test_random_virtqueues(void)
{
	seed(987654321);
	build_machine();
	const uint32_t ring = 0x8000;
	unsigned broken = 0, reqs_before = 0;
	for (unsigned round = 0; round < 3000; round++) {
		if (blk.vp.status == 0 || (blk.vp.status & VIRTIO_STATUS_NEEDS_RESET)) {
			broken += !!(blk.vp.status & VIRTIO_STATUS_NEEDS_RESET);
			virtio_pci__legacy_io(&blk.vp, 0x12, &(uint8_t){0}, 1, true);
			if (rnd() & 7)	/* a driver re-initialises its rings */
				memset(ram + ring, 0, 3 * 4096);
			virtio_pci__legacy_io(&blk.vp, 0x12, &(uint8_t){3}, 1, true);
			uint32_t pfn = (rnd() % 16 == 0) ? rnd() : ring >> 12;
			virtio_pci__legacy_io(&blk.vp, 0x08, &pfn, 4, true);
			virtio_pci__legacy_io(&blk.vp, 0x12, &(uint8_t){7}, 1, true);
		}
		/* scribble descriptors: mostly plausible, sometimes wild */
		for (unsigned n = rnd() % 8; n--;) {
			unsigned i = rnd() % VIRTIO_BLK_QUEUE_SIZE;
			uint8_t *d = ram + ring + 16 * i;
			uint64_t addr = (rnd() & 3) ? rnd() % RAM_SIZE : (uint64_t)rnd() << 32 | rnd();
			uint32_t len = (rnd() & 3) ? rnd() % 2048 : rnd();
			uint16_t flags = rnd() & 7, next = (rnd() & 7) ? rnd() % VIRTIO_BLK_QUEUE_SIZE : rnd();
			memcpy(d, &addr, 8);
			memcpy(d + 8, &len, 4);
			memcpy(d + 12, &flags, 2);
			memcpy(d + 14, &next, 2);
		}
		/* requests headers somewhere in RAM */
		uint32_t h = rnd() % (RAM_SIZE - 16);
		uint16_t good_head = rnd() % VIRTIO_BLK_QUEUE_SIZE;
		if (rnd() & 1) {	/* a well-formed chain: header, data, status */
			uint16_t i1 = good_head, i2 = rnd() % VIRTIO_BLK_QUEUE_SIZE;
			uint16_t i3 = rnd() % VIRTIO_BLK_QUEUE_SIZE;
			if (i2 == i1 || i3 == i1 || i3 == i2)
				i2 = (i1 + 1) % VIRTIO_BLK_QUEUE_SIZE, i3 = (i1 + 2) % VIRTIO_BLK_QUEUE_SIZE;
			uint64_t a[3] = {h, rnd() % (RAM_SIZE - 4096), rnd() % RAM_SIZE};
			uint32_t l[3] = {16, 512u * (1 + rnd() % 4), 1};
			uint16_t f[3] = {VIRTQ_DESC_F_NEXT,
					 VIRTQ_DESC_F_NEXT | ((rnd() & 1) ? VIRTQ_DESC_F_WRITE : 0),
					 VIRTQ_DESC_F_WRITE};
			uint16_t nx[3] = {i2, i3, 0}, ix[3] = {i1, i2, i3};
			if (f[1] & VIRTQ_DESC_F_WRITE)
				memcpy(ram + h, &(uint32_t){0}, 4);
			for (unsigned k = 0; k < 3; k++) {
				uint8_t *d = ram + ring + 16 * ix[k];
				memcpy(d, &a[k], 8);
				memcpy(d + 8, &l[k], 4);
				memcpy(d + 12, &f[k], 2);
				memcpy(d + 14, &nx[k], 2);
			}
		}
		uint32_t type = (rnd() & 1) ? rnd() % 2 : rnd() % 10;
		uint64_t sector = (rnd() & 1) ? rnd() % 80 : (uint64_t)rnd() << 32 | rnd();
		memcpy(ram + h, &type, 4);
		memcpy(ram + h + 8, &sector, 8);
		/* avail ring: entries and index */
		uint64_t avail = ring + 16 * VIRTIO_BLK_QUEUE_SIZE;
		uint16_t idx;
		memcpy(&idx, ram + avail + 2, 2);
		for (unsigned n = rnd() % 4; n--;) {
			uint16_t head = (rnd() & 1) ? good_head
				      : (rnd() & 15) ? rnd() % VIRTIO_BLK_QUEUE_SIZE : rnd();
			memcpy(ram + avail + 4 + 2 * (idx % VIRTIO_BLK_QUEUE_SIZE), &head, 2);
			idx += (rnd() & 31) ? 1 : rnd();
		}
		memcpy(ram + avail + 2, &idx, 2);
		uint16_t q = (rnd() & 15) ? 0 : rnd();
		virtio_pci__legacy_io(&blk.vp, 0x10, &q, 2, true);
		uint8_t isr;
		virtio_pci__legacy_io(&blk.vp, 0x13, &isr, 1, false);
		CU_ASSERT_EQUAL(rec.level[11], 0);
	}
	reqs_before = blk.reqs;
	fprintf(stderr, "fuzz: broken %u reqs %lu ioerr %lu unsupp %lu\n", broken, (unsigned long)blk.reqs, (unsigned long)blk.ioerrs, (unsigned long)blk.unsupp);
	CU_ASSERT_TRUE(broken > 0);		/* the fuzz did reach the error paths */
	CU_ASSERT_TRUE(reqs_before > 0);	/* ... and served real requests */
	CU_ASSERT_TRUE(blk.ioerrs > 0);
	destroy_machine();
}

static CU_TestInfo fuzz_tests[] = {
	{"random_register_access", test_random_register_access},
	{"random_virtqueues", test_random_virtqueues},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_fuzz, .tests = fuzz_tests);
