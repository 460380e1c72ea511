/* tests/unit/test_dev_virtio_blk.c — virtio-blk over legacy virtio-pci: a
 * driver written here sets the device up through PCI config space and the
 * I/O BAR, then submits requests in guest RAM; hostile rings and wild
 * descriptors must end in IOERR or NEEDS_RESET, never a crash. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_SIZE (1u << 20)
#define RING 0x10000u		/* pfn 0x10 */
#define QN 128u
#define BUF 0x40000u
#define IOB 0xc000u

static uint8_t ram[RAM_SIZE];
static struct guest_ram gr = {ram, RAM_SIZE};
static struct guest_mem gm = {guest_ram__translate, &gr};
static struct bus bus;
static struct pci_host host;
static struct virtio_blk blk;
static struct irq_rec rec;
static char img_path[64];
static uint16_t avail_idx, used_seen;

static void put16(uint64_t a, uint16_t v) { memcpy(ram + a, &v, 2); }
static uint16_t get16(uint64_t a) { uint16_t v; memcpy(&v, ram + a, 2); return v; }
static uint32_t get32(uint64_t a) { uint32_t v; memcpy(&v, ram + a, 4); return v; }

static void cfg_wr16(unsigned off, uint16_t v)
{
	io_out(&bus, 0xcf8, 0x80000000u | 3 << 11 | (off & 0xfc), 4);
	io_out(&bus, 0xcfc + (off & 3), v, 2);
}

static uint64_t desc_at(unsigned i) { return RING + 16ull * i; }
static uint64_t avail_at(void) { return RING + 16ull * QN; }
static uint64_t used_at(void) { return (avail_at() + 4 + 2 * QN + 2 + 4095) & ~4095ull; }

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	memcpy(ram + desc_at(i), &addr, 8);
	memcpy(ram + desc_at(i) + 8, &len, 4);
	memcpy(ram + desc_at(i) + 12, &flags, 2);
	memcpy(ram + desc_at(i) + 14, &next, 2);
}

/* Makes the chain starting at head available and notifies. */
static void kick(uint16_t head)
{
	put16(avail_at() + 4 + 2 * (avail_idx % QN), head);
	avail_idx++;
	put16(avail_at() + 2, avail_idx);
	io_out(&bus, IOB + 0x10, 0, 2);
}

static void write_hdr(uint64_t a, uint32_t type, uint64_t sector)
{
	uint32_t z = 0;
	memcpy(ram + a, &type, 4);
	memcpy(ram + a + 4, &z, 4);
	memcpy(ram + a + 8, &sector, 8);
}

static void make_image(size_t size)
{
	strcpy(img_path, "/tmp/hvmm-vblk-XXXXXX");
	int fd = mkstemp(img_path);
	CU_ASSERT_FATAL(fd >= 0);
	uint8_t *p = malloc(size);
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(i / 512 * 7 + i);
	CU_ASSERT_EQUAL(write(fd, p, size), (ssize_t)size);
	free(p);
	close(fd);
}

/* The Linux legacy driver's bring-up. */
static void setup_ro(bool ro)
{
	memset(ram, 0, sizeof(ram));
	avail_idx = used_seen = 0;
	bus__init(&bus);
	irq_rec__init(&rec);
	pci_host__init(&host, &bus, NULL, NULL);
	bus__register(&bus, BUS_PIO, 0xcf8, 8, pci_host__io, &host, "pci");
	make_image(64 * 1024);
	CU_ASSERT_EQUAL_FATAL(virtio_blk__init(&blk, &gm, img_path, ro, false), 0);
	pci_dev__wire_intx(&blk.vp.pci, &rec.line[11], 11);
	CU_ASSERT_EQUAL(pci_host__add(&host, &blk.vp.pci, 3), 0);
	CU_ASSERT_EQUAL(pci_host__assign_resources(&host, IOB, 0x10000, 0xe0000000, 0xfec00000), 0);
	cfg_wr16(0x04, PCI_CMD_IO | PCI_CMD_MASTER);
	outb(&bus, IOB + 0x12, 0);
	outb(&bus, IOB + 0x12, 1);
	outb(&bus, IOB + 0x12, 3);
	io_out(&bus, IOB + 0x04, io_in(&bus, IOB, 4), 4);
	io_out(&bus, IOB + 0x0e, 0, 2);
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x0c, 2), QN);
	io_out(&bus, IOB + 0x08, RING >> 12, 4);
	outb(&bus, IOB + 0x12, 7);
}

static void setup(void) { setup_ro(false); }

static void teardown(void)
{
	virtio_blk__close(&blk);
	unlink(img_path);
}

static uint16_t used_idx(void) { return get16(used_at() + 2); }

static void test_probe(void)
{
	setup();
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 3, 0, 0, 4), 0x10011af4u);
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 3, 0, 0x2e, 2), 2);
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 3, 0, 0x08, 1), 0);	/* ABI rev 0 */
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 3, 0, 0x3d, 1), 1);
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 3, 0, 0x10, 4), IOB | 1);
	uint32_t f = io_in(&bus, IOB, 4);
	CU_ASSERT_EQUAL(f & (1u << 9), 1u << 9);			/* FLUSH */
	CU_ASSERT_EQUAL(f & (1u << 5), 0);				/* not RO */
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x14, 4), 128);		/* capacity */
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x18, 4), 0);
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x28, 4), 512);
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x08, 4), RING >> 12);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x12), 7);
	io_out(&bus, IOB + 0x0e, 1, 2);					/* no queue 1 */
	CU_ASSERT_EQUAL(io_in(&bus, IOB + 0x0c, 2), 0);
	io_out(&bus, IOB + 0x0e, 0, 2);
	teardown();
}

static void test_read_write_flush(void)
{
	setup();
	/* read sectors 2-3 into two data buffers, header split in two descriptors */
	write_hdr(BUF, 0, 2);
	set_desc(0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 8, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	set_desc(3, BUF + 0x3000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
	set_desc(4, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[BUF + 0x100] = 0xff;
	kick(0);
	CU_ASSERT_EQUAL(used_idx(), 1);
	CU_ASSERT_EQUAL(get32(used_at() + 4), 0);		/* id */
	CU_ASSERT_EQUAL(get32(used_at() + 8), 1025);		/* len */
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 0);
	CU_ASSERT_EQUAL(ram[BUF + 0x1000], (uint8_t)(2 * 7 + 1024));
	CU_ASSERT_EQUAL(ram[BUF + 0x3000 + 5], (uint8_t)(3 * 7 + 1536 + 5));
	CU_ASSERT_EQUAL(rec.level[11], 1);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x13), 1);		/* ISR, clears */
	CU_ASSERT_EQUAL(rec.level[11], 0);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x13), 0);
	/* write sector 5, then flush */
	write_hdr(BUF, 1, 5);
	memset(ram + BUF + 0x2000, 0xab, 512);
	set_desc(5, BUF, 16, VIRTQ_DESC_F_NEXT, 6);
	set_desc(6, BUF + 0x2000, 512, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, BUF + 0x101, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(5);
	CU_ASSERT_EQUAL(ram[BUF + 0x101], 0);
	CU_ASSERT_EQUAL(get32(used_at() + 4 + 8 + 4), 1);	/* nothing written to guest */
	write_hdr(BUF + 0x200, 4, 0);
	set_desc(8, BUF + 0x200, 16, VIRTQ_DESC_F_NEXT, 9);
	set_desc(9, BUF + 0x102, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[BUF + 0x102] = 0xff;
	kick(8);
	CU_ASSERT_EQUAL(ram[BUF + 0x102], 0);
	CU_ASSERT_EQUAL(blk.flushes, 1);
	int fd = open(img_path, O_RDONLY);
	uint8_t s[512];
	CU_ASSERT_EQUAL(pread(fd, s, 512, 5 * 512), 512);
	close(fd);
	CU_ASSERT_EQUAL(s[0], 0xab);
	CU_ASSERT_EQUAL(s[511], 0xab);
	/* GET_ID */
	write_hdr(BUF + 0x300, 8, 0);
	set_desc(10, BUF + 0x300, 16, VIRTQ_DESC_F_NEXT, 11);
	set_desc(11, BUF + 0x400, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 12);
	set_desc(12, BUF + 0x103, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(10);
	CU_ASSERT_EQUAL(ram[BUF + 0x103], 0);
	CU_ASSERT_EQUAL(memcmp(ram + BUF + 0x400, "hvmm-", 5), 0);
	CU_ASSERT_EQUAL(used_idx(), 4);
	teardown();
}

static void test_request_errors(void)
{
	setup();
	/* past the end of the disk */
	write_hdr(BUF, 0, 127);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 1024, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	/* huge sector number (overflow attempt) */
	write_hdr(BUF, 0, 0xffffffffffffffffull);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	/* not a multiple of 512 */
	write_hdr(BUF, 0, 0);
	set_desc(1, BUF + 0x1000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	/* unknown type */
	write_hdr(BUF, 99, 0);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 2);
	/* header too short */
	set_desc(3, BUF, 8, VIRTQ_DESC_F_NEXT, 4);
	set_desc(4, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(3);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	/* a data buffer outside guest RAM, and one wrapping the address space */
	write_hdr(BUF, 0, 0);
	set_desc(1, 0x7ffff000ull, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	set_desc(1, 0xfffffffffffffe00ull, 1024, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	write_hdr(BUF, 1, 0);
	set_desc(1, RAM_SIZE - 256, 512, VIRTQ_DESC_F_NEXT, 2);	/* straddles the end */
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x12) & 0x40, 0);	/* still healthy */
	CU_ASSERT_EQUAL(used_idx(), 8);
	CU_ASSERT_EQUAL(blk.ioerrs, 7);
	teardown();
	/* read-only disk: writes fail, RO offered */
	setup_ro(true);
	CU_ASSERT_EQUAL(io_in(&bus, IOB, 4) & (1u << 5), 1u << 5);
	write_hdr(BUF, 1, 0);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 1);
	teardown();
}

/* Runs one malformed chain and checks the device asked for a reset. */
static void expect_broken(const char *what)
{
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x12) & 0x40, 0x40);
	CU_ASSERT_EQUAL(rec.level[11], 1);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x13) & 2, 2);
	if (!(blk.vp.status & 0x40))
		fprintf(stderr, "not broken: %s\n", what);
}

static void test_hostile_rings(void)
{
	/* descriptor loop */
	setup();
	write_hdr(BUF, 0, 0);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	expect_broken("loop");
	CU_ASSERT_EQUAL(used_idx(), 0);
	/* further notifies are ignored until reset */
	kick(0);
	CU_ASSERT_EQUAL(used_idx(), 0);
	/* a reset brings it back */
	outb(&bus, IOB + 0x12, 0);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x12), 0);
	CU_ASSERT_EQUAL(rec.level[11], 0);
	memset(ram + RING, 0, 0x3000);
	avail_idx = 0;
	outb(&bus, IOB + 0x12, 3);
	io_out(&bus, IOB + 0x08, RING >> 12, 4);
	outb(&bus, IOB + 0x12, 7);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	CU_ASSERT_EQUAL(used_idx(), 1);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 0);
	teardown();

	/* next index out of range */
	setup();
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 500);
	kick(0);
	expect_broken("next");
	teardown();

	/* head index out of range */
	setup();
	kick(QN + 3);
	expect_broken("head");
	teardown();

	/* avail index jumps by more than the ring size */
	setup();
	put16(avail_at() + 2, QN + 1);
	io_out(&bus, IOB + 0x10, 0, 2);
	expect_broken("avail jump");
	teardown();

	/* indirect descriptor (not offered) */
	setup();
	set_desc(0, BUF, 16, VIRTQ_DESC_F_INDIRECT, 0);
	kick(0);
	expect_broken("indirect");
	teardown();

	/* readable after writable */
	setup();
	set_desc(0, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF, 16, 0, 0);
	kick(0);
	expect_broken("order");
	teardown();

	/* no writable status byte at all, and a status byte outside RAM */
	setup();
	write_hdr(BUF, 4, 0);
	set_desc(0, BUF, 16, 0, 0);
	kick(0);
	expect_broken("no status");
	teardown();
	setup();
	write_hdr(BUF, 4, 0);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, 0x80000000ull, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	expect_broken("status outside RAM");
	teardown();

	/* rings outside guest RAM */
	setup();
	io_out(&bus, IOB + 0x08, 0xfffff, 4);
	io_out(&bus, IOB + 0x10, 0, 2);
	expect_broken("ring PFN");
	teardown();

	/* notify for a queue that does not exist, bogus widths: harmless */
	setup();
	io_out(&bus, IOB + 0x10, 7, 2);
	io_out(&bus, IOB + 0x10, 0, 4);
	io_out(&bus, IOB + 0x12, 0, 2);
	CU_ASSERT_EQUAL(inb(&bus, IOB + 0x12), 7);
	uint32_t v;
	CU_ASSERT_NOT_EQUAL(virtio_pci__legacy_io(&blk.vp, 62, &v, 4, false), 0);
	teardown();
}

static void test_no_interrupt_and_bus_master(void)
{
	setup();
	put16(avail_at(), VIRTQ_AVAIL_F_NO_INTERRUPT);
	write_hdr(BUF, 4, 0);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	kick(0);
	CU_ASSERT_EQUAL(used_idx(), 1);
	CU_ASSERT_EQUAL(rec.level[11], 0);
	/* bus master off: no DMA, the request waits */
	put16(avail_at(), 0);
	cfg_wr16(0x04, PCI_CMD_IO);
	kick(0);
	CU_ASSERT_EQUAL(used_idx(), 1);
	cfg_wr16(0x04, PCI_CMD_IO | PCI_CMD_MASTER);
	io_out(&bus, IOB + 0x10, 0, 2);
	CU_ASSERT_EQUAL(used_idx(), 2);
	CU_ASSERT_EQUAL(rec.level[11], 1);
	/* INTx disable in the command register masks the line */
	cfg_wr16(0x04, PCI_CMD_IO | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	CU_ASSERT_EQUAL(rec.level[11], 0);
	teardown();
	/* bad backends */
	struct virtio_blk b2;
	CU_ASSERT_EQUAL(virtio_blk__init(&b2, &gm, "/nonexistent/disk.img", false, false), -ENOENT);
	CU_ASSERT_EQUAL(virtio_blk__init(&b2, &gm, "/tmp", true, false), -EINVAL);
}

static CU_TestInfo vblk_tests[] = {
	{"probe", test_probe},
	{"read_write_flush", test_read_write_flush},
	{"request_errors", test_request_errors},
	{"hostile_rings", test_hostile_rings},
	{"no_interrupt_and_bus_master", test_no_interrupt_and_bus_master},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_virtio_blk, .tests = vblk_tests);
