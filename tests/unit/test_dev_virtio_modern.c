/* tests/unit/test_dev_virtio_modern.c — the virtio 1.0 (modern) PCI
 * interface of a transitional virtio-blk: capabilities, 64-bit feature
 * negotiation with FEATURES_OK, per-queue addresses and sizes, notify and
 * ISR regions, and the error paths. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_SIZE (1u << 20)
#define DESC 0x10000u
#define AVAIL 0x11000u
#define USED 0x12000u
#define BUF 0x40000u

static uint8_t ram[RAM_SIZE];
static struct guest_ram gr = {ram, RAM_SIZE};
static struct guest_mem gm = {guest_ram__translate, &gr};
static struct bus bus;
static struct pci_host host;
static struct virtio_blk blk;
static struct irq_rec rec;
static char img_path[64];
static uint32_t bar4;
static unsigned cap_off[5];	/* by cfg_type */
static uint16_t avail_idx;

static uint32_t common_rd(unsigned off, unsigned len)
{
	uint32_t v = 0;
	bus__access(&bus, BUS_MMIO, bar4 + off, &v, len, false);
	return v;
}

static void common_wr(unsigned off, uint32_t v, unsigned len)
{
	bus__access(&bus, BUS_MMIO, bar4 + off, &v, len, true);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	memcpy(ram + DESC + 16 * i, &addr, 8);
	memcpy(ram + DESC + 16 * i + 8, &len, 4);
	memcpy(ram + DESC + 16 * i + 12, &flags, 2);
	memcpy(ram + DESC + 16 * i + 14, &next, 2);
}

static void setup(void)
{
	memset(ram, 0, sizeof(ram));
	memset(cap_off, 0, sizeof(cap_off));
	avail_idx = 0;
	bus__init(&bus);
	irq_rec__init(&rec);
	pci_host__init(&host, &bus, NULL, NULL);
	strcpy(img_path, "/tmp/hvmm-vblk1-XXXXXX");
	int fd = mkstemp(img_path);
	CU_ASSERT_FATAL(fd >= 0);
	uint8_t sec[512];
	for (unsigned s = 0; s < 16; s++) {
		memset(sec, s + 1, sizeof(sec));
		CU_ASSERT_EQUAL(write(fd, sec, 512), 512);
	}
	CU_ASSERT_EQUAL_FATAL(virtio_blk__init_fd(&blk, &gm, fd, false, true), 0);
	pci_dev__wire_intx(&blk.vp.pci, &rec.line[10], 10);
	pci_host__add(&host, &blk.vp.pci, 4);
	CU_ASSERT_EQUAL(pci_host__assign_resources(&host, 0xc000, 0x10000, 0xe0000000, 0xfec00000), 0);
	pci_host__cfg_write(&host, 4, 0, 0x04, 2, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER);
	bar4 = pci_dev__bar_addr(&blk.vp.pci, 4);
	/* walk the capability list as Linux's virtio_pci_find_capability does */
	unsigned c = pci_host__cfg_read(&host, 4, 0, 0x34, 1), guard = 0;
	while (c && guard++ < 48) {
		if (pci_host__cfg_read(&host, 4, 0, c, 1) == 0x09) {
			unsigned type = pci_host__cfg_read(&host, 4, 0, c + 3, 1);
			if (type < 5)
				cap_off[type] = c;
		}
		c = pci_host__cfg_read(&host, 4, 0, c + 1, 1);
	}
}

static void teardown(void)
{
	virtio_blk__close(&blk);
	unlink(img_path);
}

static uint32_t cap_field(unsigned type, unsigned off)
{
	return pci_host__cfg_read(&host, 4, 0, cap_off[type] + off, 4);
}

/* Linux's vp_modern bring-up up to DRIVER_OK with queue 0 of size qsz. */
static void bring_up(uint16_t qsz)
{
	common_wr(0x14, 0, 1);
	common_wr(0x14, 1, 1);
	common_wr(0x14, 3, 1);
	common_wr(0x00, 0, 4);
	uint32_t lo = common_rd(0x04, 4);
	common_wr(0x00, 1, 4);
	uint32_t hi = common_rd(0x04, 4);
	common_wr(0x08, 0, 4);
	common_wr(0x0c, lo, 4);
	common_wr(0x08, 1, 4);
	common_wr(0x0c, hi, 4);
	common_wr(0x14, 0x0b, 1);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x08, 0x08);
	common_wr(0x16, 0, 2);
	common_wr(0x18, qsz, 2);
	common_wr(0x20, DESC, 4), common_wr(0x24, 0, 4);
	common_wr(0x28, AVAIL, 4), common_wr(0x2c, 0, 4);
	common_wr(0x30, USED, 4), common_wr(0x34, 0, 4);
	common_wr(0x1c, 1, 2);
	common_wr(0x14, 0x0f, 1);
}

static void test_capabilities(void)
{
	setup();
	CU_ASSERT_NOT_EQUAL(bar4, 0);
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 4, 0, 0x24, 4) & 0xf, 0);	/* 32-bit mem */
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 4, 0, 0x06, 2) & 0x10, 0x10);
	for (unsigned t = 1; t <= 4; t++) {
		CU_ASSERT_NOT_EQUAL(cap_off[t], 0);
		CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 4, 0, cap_off[t] + 4, 1), 4);	/* BAR 4 */
	}
	CU_ASSERT_EQUAL(cap_field(1, 8), 0x0000);
	CU_ASSERT_EQUAL(cap_field(1, 12), 0x38);
	CU_ASSERT_EQUAL(cap_field(3, 8), 0x1000);
	CU_ASSERT_EQUAL(cap_field(4, 8), 0x2000);
	CU_ASSERT_EQUAL(cap_field(2, 8), 0x3000);
	CU_ASSERT_EQUAL(cap_field(2, 16), 4);		/* notify_off_multiplier */
	CU_ASSERT_EQUAL(pci_host__cfg_read(&host, 4, 0, cap_off[2] + 2, 1), 20);
	/* common config basics */
	CU_ASSERT_EQUAL(common_rd(0x12, 2), 1);		/* num_queues */
	CU_ASSERT_EQUAL(common_rd(0x10, 2), 0xffff);	/* no MSI-X */
	CU_ASSERT_EQUAL(common_rd(0x18, 2), 128);
	CU_ASSERT_EQUAL(common_rd(0x1e, 2), 0);		/* notify off */
	common_wr(0x00, 1, 4);
	CU_ASSERT_EQUAL(common_rd(0x04, 4) & 1, 1);	/* VERSION_1 */
	common_wr(0x00, 7, 4);
	CU_ASSERT_EQUAL(common_rd(0x04, 4), 0);
	/* device configuration: capacity 16 sectors, blk_size 512 */
	CU_ASSERT_EQUAL(common_rd(0x2000, 4), 16);
	CU_ASSERT_EQUAL(common_rd(0x2014, 4), 512);
	/* the legacy BAR still answers (transitional device) */
	uint32_t io = pci_dev__bar_addr(&blk.vp.pci, 0);
	CU_ASSERT_EQUAL(io_in(&bus, io + 0x14, 4), 16);
	teardown();
}

static void test_features_ok(void)
{
	setup();
	/* without VERSION_1 the device refuses FEATURES_OK */
	common_wr(0x14, 3, 1);
	common_wr(0x08, 0, 4);
	common_wr(0x0c, 1u << 9, 4);
	common_wr(0x14, 0x0b, 1);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x08, 0);
	/* a feature the device never offered: refused too */
	common_wr(0x14, 0, 1);
	common_wr(0x14, 3, 1);
	common_wr(0x08, 1, 4);
	common_wr(0x0c, 1 | 4, 4);			/* VERSION_1 | bit 34 */
	common_wr(0x14, 0x0b, 1);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x08, 0);
	/* the proper handshake */
	bring_up(64);
	CU_ASSERT_EQUAL(common_rd(0x14, 1), 0x0f);
	CU_ASSERT_EQUAL(blk.vp.guest_features & VIRTIO_F_VERSION_1, VIRTIO_F_VERSION_1);
	/* features are frozen after FEATURES_OK */
	common_wr(0x08, 0, 4);
	common_wr(0x0c, 0, 4);
	CU_ASSERT_NOT_EQUAL(blk.vp.guest_features & 0xffffffffu, 0);
	teardown();
}

static void test_queue_and_io(void)
{
	setup();
	/* queue size: only powers of two up to the maximum are accepted */
	common_wr(0x16, 0, 2);
	common_wr(0x18, 100, 2);
	CU_ASSERT_EQUAL(common_rd(0x18, 2), 128);
	common_wr(0x18, 256, 2);
	CU_ASSERT_EQUAL(common_rd(0x18, 2), 128);
	common_wr(0x16, 1, 2);				/* no queue 1 */
	CU_ASSERT_EQUAL(common_rd(0x18, 2), 0);
	bring_up(32);
	CU_ASSERT_EQUAL(common_rd(0x18, 2), 32);
	CU_ASSERT_EQUAL(common_rd(0x1c, 2), 1);
	CU_ASSERT_EQUAL(common_rd(0x20, 4), DESC);
	/* addresses are frozen once enabled */
	common_wr(0x20, 0x1000, 4);
	CU_ASSERT_EQUAL(common_rd(0x20, 4), DESC);
	/* read sector 3 with rings at independent addresses */
	uint32_t type = 0;
	uint64_t sector = 3;
	memcpy(ram + BUF, &type, 4);
	memcpy(ram + BUF + 8, &sector, 8);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[BUF + 0x100] = 0xff;
	uint16_t head = 0;
	memcpy(ram + AVAIL + 4, &head, 2);
	avail_idx = 1;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	common_wr(0x3000, 0, 2);			/* notify queue 0 */
	uint16_t used_idx;
	memcpy(&used_idx, ram + USED + 2, 2);
	CU_ASSERT_EQUAL(used_idx, 1);
	CU_ASSERT_EQUAL(ram[BUF + 0x100], 0);
	CU_ASSERT_EQUAL(ram[BUF + 0x1000], 4);
	CU_ASSERT_EQUAL(ram[BUF + 0x11ff], 4);
	CU_ASSERT_EQUAL(rec.level[10], 1);
	CU_ASSERT_EQUAL(common_rd(0x1000, 1), 1);	/* ISR read clears */
	CU_ASSERT_EQUAL(rec.level[10], 0);
	CU_ASSERT_EQUAL(common_rd(0x1000, 1), 0);
	/* a notify for a queue that does not exist is ignored */
	common_wr(0x3004, 1, 2);
	/* out-of-window accesses */
	uint32_t v;
	CU_ASSERT_NOT_EQUAL(virtio_pci__modern_mmio(&blk.vp, 0x36, &v, 4, false), 0);
	CU_ASSERT_NOT_EQUAL(virtio_pci__modern_mmio(&blk.vp, 0x3ffe, &v, 4, false), 0);
	CU_ASSERT_EQUAL(virtio_pci__modern_mmio(&blk.vp, 0x2800, &v, 4, false), 0);
	CU_ASSERT_EQUAL(v, 0);
	teardown();
}

static void test_modern_errors(void)
{
	/* a descriptor loop: NEEDS_RESET, config interrupt, generation bump */
	setup();
	bring_up(16);
	uint8_t gen = common_rd(0x15, 1);
	set_desc(0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	uint16_t head = 0;
	memcpy(ram + AVAIL + 4, &head, 2);
	avail_idx = 1;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	common_wr(0x3000, 0, 2);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x40, 0x40);
	CU_ASSERT_NOT_EQUAL(common_rd(0x15, 1), gen);
	CU_ASSERT_EQUAL(common_rd(0x1000, 1), 2);
	/* reset clears it */
	common_wr(0x14, 0, 1);
	CU_ASSERT_EQUAL(common_rd(0x14, 1), 0);
	CU_ASSERT_EQUAL(common_rd(0x1c, 2), 0);
	teardown();
	/* enabling a queue whose descriptor table is at 0 */
	setup();
	common_wr(0x14, 3, 1);
	common_wr(0x16, 0, 2);
	common_wr(0x1c, 1, 2);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x40, 0x40);
	teardown();
	/* rings outside guest RAM: the first notify breaks the device */
	setup();
	common_wr(0x14, 3, 1);
	common_wr(0x16, 0, 2);
	common_wr(0x20, 0x10000000, 4), common_wr(0x24, 0x5, 4);
	common_wr(0x28, AVAIL, 4);
	common_wr(0x30, USED, 4);
	common_wr(0x1c, 1, 2);
	common_wr(0x14, 7, 1);
	memcpy(ram + AVAIL + 2, &(uint16_t){1}, 2);
	common_wr(0x3000, 0, 2);
	CU_ASSERT_EQUAL(common_rd(0x14, 1) & 0x40, 0x40);
	teardown();
}

static CU_TestInfo modern_tests[] = {
	{"capabilities", test_capabilities},
	{"features_ok", test_features_ok},
	{"queue_and_io", test_queue_and_io},
	{"modern_errors", test_modern_errors},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_virtio_modern, .tests = modern_tests);
