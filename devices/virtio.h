/* devices/virtio.h — split virtqueues (virtio 1.x ch. 2.7, legacy layout of
 * virtio 0.9.5 for QUEUE_PFN) and virtio-blk over legacy virtio-pci.
 *
 * Board wiring for virtio-blk:
 *	struct virtio_blk blk;
 *	virtio_blk__init(&blk, &guest_mem, "disk.img", read_only, modern) -> 0 / -errno
 *	pci_dev__wire_intx(&blk.vp.pci, irq_line, isa_irq);    (level, e.g. GSI 11)
 *	pci_host__add(&host, &blk.vp.pci, slot);
 *	... pci_host__assign_resources(...) (or the guest assigns BAR 0)
 *	virtio_blk__close(&blk) at exit.
 * modern = false gives the legacy-only device Linux binds through its
 * legacy virtio-pci path; modern = true adds the virtio 1.0 interface.
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

/* ---- virtio-pci transport ---------------------------------------------------
 * One PCI function carrying a virtio device: the legacy (0.9.5) I/O BAR 0
 * always, and with modern = true also the virtio 1.0 capabilities (common,
 * notify, ISR, device config) in memory BAR 4 — a transitional device, which
 * Linux then drives through the modern interface. Interrupts: INTx only.
 */
#define VIRTIO_PCI_MAX_QUEUES	4
#define VIRTIO_LEGACY_BAR_SIZE	64
#define VIRTIO_MODERN_BAR_SIZE	0x4000
#define VIRTIO_STATUS_ACK	0x01
#define VIRTIO_STATUS_DRIVER	0x02
#define VIRTIO_STATUS_DRIVER_OK	0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_F_VERSION_1	(1ull << 32)

struct virtio_pci_ops {
	void (*notify)(void *dev, unsigned queue);	/* the driver kicked queue */
	void (*read_config)(void *dev, unsigned off, void *data, unsigned len);
	void (*reset)(void *dev);			/* status 0 was written */
};

struct virtio_pci_queue {
	struct virtq vq;	/* vq.desc != 0 once enabled */
	uint16_t max_size, size;
	uint32_t legacy_pfn;
	uint64_t desc, driver, device;	/* modern addresses before enable */
	bool enabled;
};

struct virtio_pci {
	struct pci_dev pci;
	const struct guest_mem *mem;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, config_gen;
	uint16_t queue_sel;
	unsigned nqueues, config_len;
	bool modern;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	const struct virtio_pci_ops *ops;
	void *dev;
	uint64_t broken_events;
};

/* Builds PCI function 1af4:(0x1000 + legacy_id), subsystem 1af4:type,
 * with nqueues queues of up to qsize entries (a power of two). VERSION_1 is
 * added to features when modern. Returns 0 or -EINVAL. */
int virtio_pci__init(struct virtio_pci *vp, const struct guest_mem *mem,
		     uint16_t legacy_id, uint16_t type, uint32_t class_code,
		     uint64_t features, unsigned nqueues, uint16_t qsize,
		     unsigned config_len, bool modern,
		     const struct virtio_pci_ops *ops, void *dev);

/* BAR handlers (registered by virtio_pci__init through pci_dev__set_bar). */
int virtio_pci__legacy_io(void *vp, uint64_t offset, void *data, unsigned len, bool is_write);
int virtio_pci__modern_mmio(void *vp, uint64_t offset, void *data, unsigned len, bool is_write);

/* The enabled queue n, or NULL (not set up, or the device needs a reset). */
struct virtq *virtio_pci__queue(struct virtio_pci *vp, unsigned n);

/* Whether the function may touch guest memory (Bus Master enabled). */
bool virtio_pci__can_dma(const struct virtio_pci *vp);

/* Raises ISR bits (1 = used buffers, 2 = configuration change) and INTx. */
void virtio_pci__interrupt(struct virtio_pci *vp, uint8_t isr_bits);

/* Used buffers were returned on queue n: interrupt unless suppressed. */
void virtio_pci__used(struct virtio_pci *vp, unsigned n);

/* The driver broke the protocol: NEEDS_RESET + config interrupt; queues
 * stop until the driver resets the device. */
void virtio_pci__needs_reset(struct virtio_pci *vp);

/* ---- virtio-blk ------------------------------------------------------------ */

#define VIRTIO_BLK_QUEUE_SIZE	128

struct virtio_blk {
	struct virtio_pci vp;
	int fd;
	bool read_only;
	uint64_t capacity;	/* in 512-byte sectors */
	char serial[20];
	/* counters for tests and diagnostics */
	uint64_t reqs, ioerrs, unsupp, flushes;
	struct virtq_chain chain;	/* scratch for the request being served */
	struct virtq_seg ext[VIRTQ_MAX_SIZE];	/* its data extents */
};

/* Opens the raw image (O_RDWR, or O_RDONLY when read_only) and builds the
 * PCI function 1af4:1001 (subsystem 1af4:0002) with legacy I/O BAR 0, and
 * with modern also the virtio 1.0 interface in memory BAR 4. */
int virtio_blk__init(struct virtio_blk *b, const struct guest_mem *mem,
		     const char *path, bool read_only, bool modern);

/* Same with an already open fd (owned by the device afterwards). */
int virtio_blk__init_fd(struct virtio_blk *b, const struct guest_mem *mem, int fd,
			bool read_only, bool modern);

void virtio_blk__close(struct virtio_blk *b);

#endif
