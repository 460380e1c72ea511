/* tests/guests/mb/dma.c — code overwritten by device DMA: the kernel runs
 * code from a buffer, has a virtio-blk disk (legacy PCI transport, polled,
 * no interrupts) read other code over it, and runs it again. A CPU that
 * caches decoded instructions (the interpreter, a translation cache) must
 * notice writes that no CPU made. The kernel first writes the replacement
 * code to the disk itself, so any writable disk works (`--disk F`,
 * QEMU `-drive file=F,format=raw,if=virtio`); without a virtio-blk device
 * every check is skipped. Virtio 1.0 §4.1.4.8 (legacy interface) and §2.4
 * (split virtqueues, legacy layout). */
#include "rt.h"

const char rt_test_name[] = "dma";

static inline void outw(uint16_t p, uint16_t v) { asm volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }
static inline uint16_t inw(uint16_t p) { uint16_t v; asm volatile("inw %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; asm volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }

/* legacy virtio BAR 0 registers */
#define V_GUEST_FEATURES 0x04
#define V_QUEUE_PFN	0x08
#define V_QUEUE_NUM	0x0c
#define V_QUEUE_SEL	0x0e
#define V_QUEUE_NOTIFY	0x10
#define V_STATUS	0x12
#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4

#define DESC_NEXT 1
#define DESC_WRITE 2

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct blk_req {
	uint32_t type;		/* 0 read (IN), 1 write (OUT) */
	uint32_t reserved;
	uint64_t sector;
};

#define QMAX 256
/* desc[QMAX] + avail (4 + 2*QMAX + 2) fit in 2 pages; used in the third */
static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t code[2 * 4096] __attribute__((aligned(4096)));	/* executed */
static uint8_t src[2 * 4096] __attribute__((aligned(4096)));	/* written to disk */
static struct blk_req req;
static volatile uint8_t status;
static uint16_t iobase, qsize, avail_idx, used_seen;

static uint32_t pci_read(int dev, int off)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)off);
	return inl(0xcfc);
}

static void pci_write(int dev, int off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | (uint32_t)dev << 11 | (uint32_t)off);
	outl(0xcfc, v);
}

/* Bus 0: the first transitional virtio-blk (1af4:1001) with an I/O BAR 0. */
static int find_blk(void)
{
	for (int dev = 0; dev < 32; dev++) {
		uint32_t id = pci_read(dev, 0);
		if (id != 0x10011af4u)
			continue;
		uint32_t bar = pci_read(dev, 0x10);
		if (!(bar & 1))
			continue;
		pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x5);	/* I/O, bus master */
		iobase = (uint16_t)(bar & ~3u);
		return 1;
	}
	return 0;
}

static uint32_t align4k(uint32_t v)
{
	return (v + 4095) & ~4095u;
}

static int blk_setup(void)
{
	outb(iobase + V_STATUS, 0);
	outb(iobase + V_STATUS, ST_ACK);
	outb(iobase + V_STATUS, ST_ACK | ST_DRIVER);
	outl(iobase + V_GUEST_FEATURES, 0);
	outw(iobase + V_QUEUE_SEL, 0);
	qsize = inw(iobase + V_QUEUE_NUM);
	if (qsize < 4 || qsize > QMAX ||
	    align4k(16 * qsize + 6 + 2 * qsize) + 6 + 8 * qsize > sizeof(ring))
		return 0;
	rt_memset(ring, 0, sizeof(ring));
	outl(iobase + V_QUEUE_PFN, (uint32_t)ring >> 12);
	outb(iobase + V_STATUS, ST_ACK | ST_DRIVER | ST_DRIVER_OK);
	return 1;
}

/* One request of len bytes at buf from/to sector 0; polls the used ring.
 * Returns the status byte (0 = OK) or -1 on timeout. */
static int blk_rw(int write, void *buf, uint32_t len)
{
	struct desc *d = (struct desc *)ring;
	volatile uint16_t *avail = (volatile uint16_t *)(ring + 16 * qsize);
	volatile uint16_t *used = (volatile uint16_t *)(ring + align4k(16 * qsize + 6 + 2 * qsize));

	req = (struct blk_req){ .type = write ? 1 : 0, .sector = 0 };
	status = 0xff;
	d[0] = (struct desc){ (uint32_t)&req, sizeof(req), DESC_NEXT, 1 };
	d[1] = (struct desc){ (uint32_t)buf, len, (uint16_t)(DESC_NEXT | (write ? 0 : DESC_WRITE)), 2 };
	d[2] = (struct desc){ (uint32_t)&status, 1, DESC_WRITE, 0 };
	avail[2 + avail_idx % qsize] = 0;
	asm volatile("" ::: "memory");
	avail[1] = ++avail_idx;
	asm volatile("" ::: "memory");
	outw(iobase + V_QUEUE_NOTIFY, 0);
	for (uint32_t spin = 0; used[1] == used_seen; spin++)
		if (spin > 10000000)
			return -1;
	used_seen = used[1];
	return status;
}

/* "mov $v,%eax; ret" at p */
static void emit(uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	p[1] = (uint8_t)v;
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)(v >> 16);
	p[4] = (uint8_t)(v >> 24);
	p[5] = 0xc3;
}

static uint32_t call(uint8_t *p)
{
	return ((uint32_t (*)(void))p)();
}

#define OFF2 0x1800	/* the second function, in the second page */

void test_main(void)
{
	if (!find_blk()) {
		rt_skip("dma-virtio-blk", "no virtio-blk device (run with a disk)");
		rt_finish();
	}
	rt_check(blk_setup(), "dma-queue-setup", "queue size %u", qsize);
	/* the replacement code goes to the disk first (a DMA read of src) */
	rt_memset(src, 0xcc, sizeof(src));
	emit(src, 0x22222222);
	emit(src + OFF2, 0x44444444);
	rt_expect_eq("dma-write-to-disk", (uint32_t)blk_rw(1, src, sizeof(src)), 0);
	/* run the original code, so that it is decoded / cached */
	rt_memset(code, 0xcc, sizeof(code));
	emit(code, 0x11111111);
	emit(code + OFF2, 0x33333333);
	uint32_t a = 0, b = 0;
	for (int i = 0; i < 3; i++) {
		a = call(code);
		b = call(code + OFF2);
	}
	rt_expect_eq("dma-code-before-1", a, 0x11111111);
	rt_expect_eq("dma-code-before-2", b, 0x33333333);
	/* the device overwrites both pages of code */
	rt_expect_eq("dma-read-from-disk", (uint32_t)blk_rw(0, code, sizeof(code)), 0);
	rt_expect_eq("dma-data-seen", *(volatile uint32_t *)(code + 1), 0x22222222);
	rt_expect_eq("dma-code-after-1", call(code), 0x22222222);
	rt_expect_eq("dma-code-after-2", call(code + OFF2), 0x44444444);
	/* and once more, with a one-sector read into the middle of a page */
	emit(src, 0x55555555);
	rt_expect_eq("dma-write-to-disk-2", (uint32_t)blk_rw(1, src, 512), 0);
	for (int i = 0; i < 3; i++)
		b = call(code + OFF2);
	rt_expect_eq("dma-read-sector", (uint32_t)blk_rw(0, code + OFF2, 512), 0);
	rt_expect_eq("dma-code-after-3", call(code + OFF2), 0x55555555);
	rt_expect_eq("dma-code-untouched", call(code), 0x22222222);
	outb(iobase + V_STATUS, 0);	/* reset the device */
	rt_finish();
}
