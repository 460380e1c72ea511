/* devices/virtio_blk.c — virtio-blk on the virtio-pci transport.
 * Configuration (virtio 1.x 5.2.4): capacity u64 (512-byte sectors),
 * size_max u32, seg_max u32, geometry u32, blk_size u32.
 * Request (virtio 1.x 5.2.6): header { u32 type; u32 reserved; u64 sector }
 * in readable buffers, data, then one writable status byte (0 OK, 1 IOERR,
 * 2 UNSUPP) as the last byte of the chain. Types: 0 IN, 1 OUT, 4 FLUSH,
 * 8 GET_ID (20-byte serial).
 * No DMA happens while the function's Bus Master bit is clear.
 */
#define CONFIG_LEN 24
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
};

#define SECTOR 512u

/* Copies up to len bytes of the readable stream into buf. Returns bytes
 * copied or -EFAULT if a buffer is not guest RAM. */
static int read_header(struct virtio_blk *b, const struct virtq_chain *c, void *buf,
		       unsigned len)
{
	unsigned got = 0;
	for (unsigned i = 0; i < c->nseg && !c->seg[i].write && got < len; i++) {
		unsigned n = c->seg[i].len < len - got ? c->seg[i].len : len - got;
		const void *p = guest_mem__ptr(b->vp.mem, c->seg[i].addr, n);
		if (n && !p)
			return -EFAULT;
		memcpy((uint8_t *)buf + got, p, n);
		got += n;
	}
	return (int)got;
}

/* Builds the data extents: readable bytes after the header (out = true) or
 * writable bytes before the status byte. Returns their total length. */
static uint64_t data_extents(const struct virtq_chain *c, bool out, struct virtq_seg *ex,
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
			ex[n++] = (struct virtq_seg){.addr = a, .len = (uint32_t)l, .write = !out};
			total += l;
		}
	}
	*nex = n;
	return total;
}

/* Transfers extents to/from the image at byte offset off. Returns bytes
 * moved, or -1 after a failure (a bad guest address or a host I/O error). */
static int64_t transfer(struct virtio_blk *b, const struct virtq_seg *ex, unsigned nex,
			uint64_t off, bool to_disk)
{
	int64_t done = 0;
	for (unsigned i = 0; i < nex; i++) {
		uint8_t *p = guest_mem__ptr(b->vp.mem, ex[i].addr, ex[i].len);
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
	struct virtq_seg *ex = b->ext;
	const struct virtq_seg *last = &c->seg[c->nseg - 1];
	if (!last->write || last->len == 0)
		return -1;
	uint8_t *status = guest_mem__ptr(b->vp.mem, last->addr + last->len - 1, 1);
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
			uint8_t *p = guest_mem__ptr(b->vp.mem, ex[i].addr, n);
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

static void blk_notify(void *dev, unsigned n)
{
	struct virtio_blk *b = dev;
	struct virtq *q = virtio_pci__queue(&b->vp, n);
	if (!q || !virtio_pci__can_dma(&b->vp))
		return;		/* not set up, broken, or no bus mastering */
	bool pushed = false;
	for (;;) {
		int r = virtq__pop(q, b->vp.mem, &b->chain);
		if (r == 0)
			break;
		int64_t used = r < 0 ? -1 : serve(b, &b->chain);
		if (used < 0 || virtq__push(q, b->vp.mem, b->chain.head, (uint32_t)used) < 0) {
			virtio_pci__needs_reset(&b->vp);
			break;
		}
		pushed = true;
	}
	if (pushed)
		virtio_pci__used(&b->vp, n);
}

static void blk_config(void *dev, unsigned off, void *data, unsigned len)
{
	const struct virtio_blk *b = dev;
	uint8_t img[CONFIG_LEN] = {0};
	uint32_t seg_max = VIRTIO_BLK_QUEUE_SIZE - 2, blk = SECTOR;
	memcpy(img + 0x00, &b->capacity, 8);
	memcpy(img + 0x0c, &seg_max, 4);
	memcpy(img + 0x14, &blk, 4);
	if (off < CONFIG_LEN)
		memcpy(data, img + off, len < CONFIG_LEN - off ? len : CONFIG_LEN - off);
}

static const struct virtio_pci_ops blk_ops = {
	.notify = blk_notify,
	.read_config = blk_config,
};

int virtio_blk__init_fd(struct virtio_blk *b, const struct guest_mem *mem, int fd,
			bool read_only, bool modern)
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
	b->read_only = read_only;
	b->capacity = size / SECTOR;
	snprintf(b->serial, sizeof(b->serial), "hvmm-%llx", (unsigned long long)st.st_ino);
	uint64_t f = F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (read_only ? F_RO : 0);
	int r = virtio_pci__init(&b->vp, mem, 1, 2, 0x010000, f, 1, VIRTIO_BLK_QUEUE_SIZE,
				 CONFIG_LEN, modern, &blk_ops, b);
	if (r < 0)
		return r;
	b->fd = fd;
	return 0;
}

int virtio_blk__init(struct virtio_blk *b, const struct guest_mem *mem,
		     const char *path, bool read_only, bool modern)
{
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = virtio_blk__init_fd(b, mem, fd, read_only, modern);
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
