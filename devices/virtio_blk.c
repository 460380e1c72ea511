/* devices/virtio_blk.c — virtio-blk, legacy virtio-pci (virtio 0.9.5) I/O BAR:
 *   0x00 host features (RO)   0x04 guest features   0x08 queue PFN
 *   0x0c queue size (RO, u16) 0x0e queue select     0x10 queue notify (u16)
 *   0x12 device status (u8)   0x13 ISR (u8, read clears; bit 0 used ring,
 *   bit 1 configuration change)   0x14.. virtio-blk configuration:
 *   capacity u64 (512-byte sectors), size_max u32, seg_max u32,
 *   geometry u32, blk_size u32.
 * Request (virtio 1.x 5.2.6): header { u32 type; u32 reserved; u64 sector }
 * in readable buffers, data, then one writable status byte (0 OK, 1 IOERR,
 * 2 UNSUPP) as the last byte of the chain. Types: 0 IN, 1 OUT, 4 FLUSH,
 * 8 GET_ID (20-byte serial).
 * No DMA happens while the function's Bus Master bit is clear.
 */
#include "devices/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	F_SEG_MAX = 1u << 2, F_RO = 1u << 5, F_BLK_SIZE = 1u << 6, F_FLUSH = 1u << 9,
	T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8,
	S_OK = 0, S_IOERR = 1, S_UNSUPP = 2,
	ISR_USED = 1, ISR_CONFIG = 2,
};

#define SECTOR 512u

/* A run of guest memory the request reads or fills. */
struct extent {
	uint64_t addr;
	uint32_t len;
};

static void set_isr(struct virtio_blk *b, uint8_t bits)
{
	b->isr |= bits;
	pci_dev__set_intx(&b->pci, b->isr != 0);
}

/* The guest broke the ring protocol: stop until the driver resets us. */
static void mark_broken(struct virtio_blk *b)
{
	if (b->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	b->status |= VIRTIO_STATUS_NEEDS_RESET;
	b->broken_events++;
	set_isr(b, ISR_CONFIG);
}

static void reset(struct virtio_blk *b)
{
	b->guest_features = 0;
	b->queue_pfn = 0;
	b->queue_sel = 0;
	b->status = 0;
	b->isr = 0;
	b->vq.size = VIRTIO_BLK_QUEUE_SIZE;
	virtq__set_legacy_pfn(&b->vq, 0);
	pci_dev__set_intx(&b->pci, 0);
}

/* Copies up to len bytes of the readable stream into buf. Returns bytes
 * copied or -EFAULT if a buffer is not guest RAM. */
static int read_header(struct virtio_blk *b, const struct virtq_chain *c, void *buf,
		       unsigned len)
{
	unsigned got = 0;
	for (unsigned i = 0; i < c->nseg && !c->seg[i].write && got < len; i++) {
		unsigned n = c->seg[i].len < len - got ? c->seg[i].len : len - got;
		const void *p = guest_mem__ptr(b->mem, c->seg[i].addr, n);
		if (n && !p)
			return -EFAULT;
		memcpy((uint8_t *)buf + got, p, n);
		got += n;
	}
	return (int)got;
}

/* Builds the data extents: readable bytes after the header (out = true) or
 * writable bytes before the status byte. Returns their total length. */
static uint64_t data_extents(const struct virtq_chain *c, bool out, struct extent *ex,
			     unsigned *nex)
{
	uint64_t total = 0, skip = out ? 16 : 0;
	unsigned n = 0;
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (s->write == out)
			continue;
		uint64_t a = s->addr, l = s->len;
		if (!out && i == c->nseg - 1)
			l--;			/* the status byte */
		if (skip) {
			uint64_t k = skip < l ? skip : l;
			a += k, l -= k, skip -= k;
		}
		if (l) {
			ex[n++] = (struct extent){a, (uint32_t)l};
			total += l;
		}
	}
	*nex = n;
	return total;
}

/* Transfers extents to/from the image at byte offset off. Returns bytes
 * moved, or -1 after a failure (a bad guest address or a host I/O error). */
static int64_t transfer(struct virtio_blk *b, const struct extent *ex, unsigned nex,
			uint64_t off, bool to_disk)
{
	int64_t done = 0;
	for (unsigned i = 0; i < nex; i++) {
		uint8_t *p = guest_mem__ptr(b->mem, ex[i].addr, ex[i].len);
		if (!p)
			return -1;
		uint32_t left = ex[i].len;
		while (left) {
			ssize_t r = to_disk ? pwrite(b->fd, p, left, off) : pread(b->fd, p, left, off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			p += r, off += r, left -= r, done += r;
		}
	}
	return done;
}

/* Serves one chain. Returns the used length, or -1 if the chain has no
 * usable status byte (then the device is broken). */
static int64_t serve(struct virtio_blk *b, const struct virtq_chain *c)
{
	static struct extent ex[VIRTQ_MAX_SIZE];
	const struct virtq_seg *last = &c->seg[c->nseg - 1];
	if (!last->write || last->len == 0)
		return -1;
	uint8_t *status = guest_mem__ptr(b->mem, last->addr + last->len - 1, 1);
	if (!status)
		return -1;
	b->reqs++;
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} __attribute__((packed)) h;
	unsigned nex;
	int hl = read_header(b, c, &h, sizeof(h));
	if (hl != (int)sizeof(h)) {
		b->ioerrs++;
		*status = S_IOERR;
		return 1;
	}
	uint8_t st = S_OK;
	int64_t written = 0;
	switch (h.type) {
	case T_IN:
	case T_OUT: {
		bool out = h.type == T_OUT;
		uint64_t total = data_extents(c, out, ex, &nex);
		if ((out && b->read_only) || total % SECTOR || h.sector > b->capacity ||
		    total / SECTOR > b->capacity - h.sector) {
			st = S_IOERR;
			break;
		}
		int64_t r = transfer(b, ex, nex, h.sector * SECTOR, out);
		if (r < 0)
			st = S_IOERR;
		else if (!out)
			written = r;
		break;
	}
	case T_FLUSH:
		b->flushes++;
		if (fsync(b->fd) < 0)
			st = S_IOERR;
		break;
	case T_GET_ID: {
		data_extents(c, false, ex, &nex);
		unsigned done = 0;
		for (unsigned i = 0; i < nex && done < sizeof(b->serial); i++) {
			unsigned n = ex[i].len < sizeof(b->serial) - done ? ex[i].len
									  : sizeof(b->serial) - done;
			uint8_t *p = guest_mem__ptr(b->mem, ex[i].addr, n);
			if (!p) {
				st = S_IOERR;
				break;
			}
			memcpy(p, b->serial + done, n);
			done += n;
		}
		written = done;
		break;
	}
	default:
		b->unsupp++;
		st = S_UNSUPP;
		break;
	}
	if (st == S_IOERR)
		b->ioerrs++;
	*status = st;
	return written + 1;
}

static void notify(struct virtio_blk *b, uint16_t queue)
{
	if (queue != 0 || (b->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	if (!(pci_cfg__get16(&b->pci, 0x04) & PCI_CMD_MASTER))
		return;		/* no bus mastering, no DMA */
	bool pushed = false;
	for (;;) {
		int r = virtq__pop(&b->vq, b->mem, &b->chain);
		if (r == 0)
			break;
		int64_t used = r < 0 ? -1 : serve(b, &b->chain);
		if (used < 0 || virtq__push(&b->vq, b->mem, b->chain.head, (uint32_t)used) < 0) {
			mark_broken(b);
			break;
		}
		pushed = true;
	}
	if (pushed && !virtq__no_interrupt(&b->vq, b->mem))
		set_isr(b, ISR_USED);
}

static void config_image(const struct virtio_blk *b, uint8_t img[VIRTIO_BLK_BAR_SIZE])
{
	memset(img, 0, VIRTIO_BLK_BAR_SIZE);
	uint16_t qnum = b->queue_sel == 0 ? VIRTIO_BLK_QUEUE_SIZE : 0;
	uint32_t pfn = b->queue_sel == 0 ? b->queue_pfn : 0;
	uint32_t seg_max = VIRTIO_BLK_QUEUE_SIZE - 2, blk = SECTOR;
	memcpy(img + 0x00, &b->host_features, 4);
	memcpy(img + 0x04, &b->guest_features, 4);
	memcpy(img + 0x08, &pfn, 4);
	memcpy(img + 0x0c, &qnum, 2);
	memcpy(img + 0x0e, &b->queue_sel, 2);
	img[0x12] = b->status;
	img[0x13] = b->isr;
	memcpy(img + 0x14, &b->capacity, 8);
	memcpy(img + 0x20, &seg_max, 4);
	memcpy(img + 0x28, &blk, 4);
}

int virtio_blk__io(void *dev, uint64_t off, void *data, unsigned len, bool is_write)
{
	struct virtio_blk *b = dev;
	if (off >= VIRTIO_BLK_BAR_SIZE || len > VIRTIO_BLK_BAR_SIZE - off)
		return -EINVAL;
	if (!is_write) {
		uint8_t img[VIRTIO_BLK_BAR_SIZE];
		config_image(b, img);
		memcpy(data, img + off, len);
		if (off <= 0x13 && off + len > 0x13) {	/* reading ISR clears it */
			b->isr = 0;
			pci_dev__set_intx(&b->pci, 0);
		}
		return 0;
	}
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	switch (off) {
	case 0x04:
		if (len == 4)
			b->guest_features = v & b->host_features;
		break;
	case 0x08:
		if (len == 4 && b->queue_sel == 0) {
			b->queue_pfn = v;
			b->vq.size = VIRTIO_BLK_QUEUE_SIZE;
			virtq__set_legacy_pfn(&b->vq, v);
		}
		break;
	case 0x0e:
		if (len == 2)
			b->queue_sel = v;
		break;
	case 0x10:
		if (len == 2)
			notify(b, v);
		break;
	case 0x12:
		if (len != 1)
			break;
		if (v == 0)
			reset(b);
		else
			b->status = v | (b->status & VIRTIO_STATUS_NEEDS_RESET);
		break;
	default:
		break;	/* read-only fields and configuration: ignored */
	}
	return 0;
}

int virtio_blk__init_fd(struct virtio_blk *b, const struct guest_mem *mem, int fd,
			bool read_only)
{
	struct stat st;
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	uint64_t size = st.st_size;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return -errno;
		size = end;
	}
	b->fd = fd;
	b->mem = mem;
	b->read_only = read_only;
	b->capacity = size / SECTOR;
	b->host_features = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (read_only ? F_RO : 0);
	snprintf(b->serial, sizeof(b->serial), "hvmm-%llx", (unsigned long long)st.st_ino);
	pci_dev__init(&b->pci, 0x1af4, 0x1001, 0x010000, 0, 0x1af4, 2, 1);
	b->pci.owner = b;
	pci_dev__set_bar(&b->pci, 0, VIRTIO_BLK_BAR_SIZE, BUS_PIO, virtio_blk__io, b,
			 "virtio-blk");
	reset(b);
	return 0;
}

int virtio_blk__init(struct virtio_blk *b, const struct guest_mem *mem,
		     const char *path, bool read_only)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = virtio_blk__init_fd(b, mem, fd, read_only);
	if (r < 0)
		close(fd);
	return r;
}

void virtio_blk__close(struct virtio_blk *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}
