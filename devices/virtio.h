/* devices/virtio.h — split virtqueues (virtio 1.x ch. 2.7, legacy layout of
 * virtio 0.9.5 for QUEUE_PFN) and virtio-blk over legacy virtio-pci.
 *
 * Board wiring for virtio-blk:
 *	struct virtio_blk blk;
 *	virtio_blk__init(&blk, &guest_mem, "disk.img", read_only)  -> 0 / -errno
 *	pci_dev__wire_intx(&blk.pci, irq_line, isa_irq);    (level, e.g. GSI 11)
 *	pci_host__add(&host, &blk.pci, slot);
 *	... pci_host__assign_resources(...) (or the guest assigns BAR 0)
 *	virtio_blk__close(&blk) at exit.
 * Requests are executed synchronously inside the QUEUE_NOTIFY write (pread/
 * pwrite straight into guest RAM, fsync for FLUSH). Every ring and buffer
 * address is checked through guest_mem; a malformed ring (index out of
 * range, descriptor loop, indirect descriptor, readable after writable, no
 * status byte, avail index jump) puts the device in NEEDS_RESET (status bit
 * 0x40, config interrupt) until the driver resets it; a data buffer outside
 * RAM or an out-of-range sector completes the request with IOERR.
 */
#ifndef HVMM_DEVICES_VIRTIO_H
#define HVMM_DEVICES_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"

struct guest_mem;

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_MAX_SIZE		256

struct virtq_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

struct virtq_chain {
	uint16_t head;
	unsigned nseg;
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

struct virtq {
	uint16_t size;		/* power of two, <= VIRTQ_MAX_SIZE */
	uint64_t desc, avail, used;	/* guest-physical ring addresses; desc 0 = off */
	uint16_t last_avail;	/* next avail entry to take */
	uint16_t used_idx;	/* next used entry to fill */
};

/* Sets the rings for the legacy layout: desc at pfn << 12, avail after the
 * descriptors, used at the next 4096-byte boundary. pfn 0 disables. */
void virtq__set_legacy_pfn(struct virtq *q, uint32_t pfn);

/* Takes the next available chain. Returns 1 with *c filled, 0 if the ring is
 * empty or disabled, -EINVAL if the ring or the chain is malformed or not in
 * guest RAM (the device must then stop and ask for a reset). */
int virtq__pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c);

/* Returns chain head to the driver with len bytes written. 0 or -EINVAL. */
int virtq__push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len);

/* Whether the driver asked not to be interrupted (avail flags). */
bool virtq__no_interrupt(const struct virtq *q, const struct guest_mem *m);

/* ---- virtio-blk ------------------------------------------------------------ */

#define VIRTIO_BLK_QUEUE_SIZE	128
#define VIRTIO_BLK_BAR_SIZE	64
#define VIRTIO_STATUS_NEEDS_RESET 0x40

struct virtio_blk {
	struct pci_dev pci;
	const struct guest_mem *mem;
	int fd;
	bool read_only;
	uint64_t capacity;	/* in 512-byte sectors */
	uint32_t host_features, guest_features;
	uint32_t queue_pfn;
	uint16_t queue_sel;
	uint8_t status, isr;
	struct virtq vq;
	char serial[20];
	/* counters for tests and diagnostics */
	uint64_t reqs, ioerrs, unsupp, flushes, broken_events;
	struct virtq_chain chain;	/* scratch for the request being served */
};

/* Opens the raw image (O_RDWR, or O_RDONLY when read_only) and builds the
 * PCI function 1af4:1001 (subsystem 1af4:0002) with I/O BAR 0. */
int virtio_blk__init(struct virtio_blk *b, const struct guest_mem *mem,
		     const char *path, bool read_only);

/* Same with an already open fd (owned by the device afterwards). */
int virtio_blk__init_fd(struct virtio_blk *b, const struct guest_mem *mem, int fd,
			bool read_only);

/* BAR 0 handler (legacy virtio header + virtio-blk config). */
int virtio_blk__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

void virtio_blk__close(struct virtio_blk *b);

#endif
