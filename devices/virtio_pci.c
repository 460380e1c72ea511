/* devices/virtio_pci.c — virtio over PCI, legacy and modern transports.
 * Legacy I/O BAR 0 (virtio 0.9.5 / virtio 1.x 4.1.4.8), no MSI-X:
 *   0x00 host features (RO, low 32 bits)  0x04 guest features
 *   0x08 queue PFN (legacy ring layout, 4096 alignment)
 *   0x0c queue size (RO, u16)  0x0e queue select  0x10 queue notify (u16)
 *   0x12 device status (u8)    0x13 ISR (u8, read clears)  0x14.. config
 * Modern memory BAR 4 (virtio 1.x 4.1.4), located by vendor capabilities
 * (cap id 0x09: cap_len, cfg_type, bar, offset, length [, multiplier]):
 *   0x0000 common configuration (struct virtio_pci_common_cfg, 0x38 bytes)
 *   0x1000 ISR   0x2000 device configuration   0x3000 notifications
 *   (queue n notifies at 0x3000 + 4 * n: queue_notify_off = n, multiplier 4)
 * MSI-X is not implemented: msix_config and queue_msix_vector read
 * VIRTIO_MSI_NO_VECTOR (0xffff), so drivers fall back to INTx.
 * FEATURES_OK (modern) is kept only if the driver's features are a subset of
 * the device's and include VERSION_1.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

enum {
	M_COMMON = 0x0000, M_ISR = 0x1000, M_DEVICE = 0x2000, M_NOTIFY = 0x3000,
	NOTIFY_MULT = 4, COMMON_LEN = 0x38, NO_VECTOR = 0xffff,
	CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4,
};

static void reset_transport(struct virtio_pci *vp)
{
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->queue_sel = 0;
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		q->size = q->max_size;
		q->legacy_pfn = 0;
		q->desc = q->driver = q->device = 0;
		q->enabled = false;
		q->vq.size = q->max_size;
		virtq__set_legacy_pfn(&q->vq, 0);
	}
	pci_dev__set_intx(&vp->pci, 0);
	if (vp->ops && vp->ops->reset)
		vp->ops->reset(vp->dev);
}

void virtio_pci__interrupt(struct virtio_pci *vp, uint8_t bits)
{
	vp->isr |= bits;
	pci_dev__set_intx(&vp->pci, vp->isr != 0);
}

void virtio_pci__used(struct virtio_pci *vp, unsigned n)
{
	struct virtq *q = n < vp->nqueues ? &vp->q[n].vq : NULL;
	if (q && !virtq__no_interrupt(q, vp->mem))
		virtio_pci__interrupt(vp, 1);
}

void virtio_pci__needs_reset(struct virtio_pci *vp)
{
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	vp->config_gen++;
	vp->broken_events++;
	virtio_pci__interrupt(vp, 2);
}

bool virtio_pci__can_dma(const struct virtio_pci *vp)
{
	return pci_cfg__get16(&vp->pci, 0x04) & PCI_CMD_MASTER;
}

struct virtq *virtio_pci__queue(struct virtio_pci *vp, unsigned n)
{
	if (n >= vp->nqueues || (vp->status & VIRTIO_STATUS_NEEDS_RESET) ||
	    !vp->q[n].vq.desc)
		return NULL;
	return &vp->q[n].vq;
}

static void notify(struct virtio_pci *vp, unsigned n)
{
	if (n < vp->nqueues && vp->ops && vp->ops->notify)
		vp->ops->notify(vp->dev, n);
}

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		reset_transport(vp);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* 3.1.1: the device refuses a feature set it cannot honour */
		bool ok = !(vp->guest_features & ~vp->host_features) &&
			  (!vp->modern || (vp->guest_features & VIRTIO_F_VERSION_1));
		if (!ok)
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	vp->status = v | (vp->status & VIRTIO_STATUS_NEEDS_RESET);
}

static uint8_t read_isr(struct virtio_pci *vp)
{
	uint8_t v = vp->isr;
	vp->isr = 0;
	pci_dev__set_intx(&vp->pci, 0);
	return v;
}

/* ---- legacy BAR 0 ---------------------------------------------------------- */

int virtio_pci__legacy_io(void *opaque, uint64_t off, void *data, unsigned len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	if (off >= VIRTIO_LEGACY_BAR_SIZE || len > VIRTIO_LEGACY_BAR_SIZE - off)
		return -EINVAL;
	struct virtio_pci_queue *q = vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
	if (!is_write) {
		uint8_t img[VIRTIO_LEGACY_BAR_SIZE] = {0};
		uint32_t hf = (uint32_t)vp->host_features, gf = (uint32_t)vp->guest_features;
		uint32_t pfn = q ? q->legacy_pfn : 0;
		uint16_t qnum = q ? q->max_size : 0;
		memcpy(img + 0x00, &hf, 4);
		memcpy(img + 0x04, &gf, 4);
		memcpy(img + 0x08, &pfn, 4);
		memcpy(img + 0x0c, &qnum, 2);
		memcpy(img + 0x0e, &vp->queue_sel, 2);
		img[0x12] = vp->status;
		img[0x13] = vp->isr;
		unsigned n = vp->config_len < VIRTIO_LEGACY_BAR_SIZE - 0x14
			   ? vp->config_len : VIRTIO_LEGACY_BAR_SIZE - 0x14;
		if (vp->ops && vp->ops->read_config)
			vp->ops->read_config(vp->dev, 0, img + 0x14, n);
		memcpy(data, img + off, len);
		if (off <= 0x13 && off + len > 0x13)
			read_isr(vp);
		return 0;
	}
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	switch (off) {
	case 0x04:
		if (len == 4)
			vp->guest_features = v & vp->host_features;
		break;
	case 0x08:
		if (len == 4 && q) {
			q->legacy_pfn = v;
			q->size = q->vq.size = q->max_size;
			virtq__set_legacy_pfn(&q->vq, v);
			q->enabled = v != 0;
		}
		break;
	case 0x0e:
		if (len == 2)
			vp->queue_sel = v;
		break;
	case 0x10:
		if (len == 2)
			notify(vp, v);
		break;
	case 0x12:
		if (len == 1)
			write_status(vp, v);
		break;
	default:
		break;	/* read-only fields, configuration: ignored */
	}
	return 0;
}

/* ---- modern BAR 4 ------------------------------------------------------------ */

static void common_image(struct virtio_pci *vp, uint8_t img[COMMON_LEN])
{
	struct virtio_pci_queue *q = vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
	uint32_t df = vp->dfselect < 2 ? (uint32_t)(vp->host_features >> (32 * vp->dfselect)) : 0;
	uint32_t gf = vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0;
	uint16_t nq = vp->nqueues, nv = NO_VECTOR, qs = q ? q->size : 0;
	uint16_t qen = q ? q->enabled : 0, qoff = q ? vp->queue_sel : 0;
	uint64_t d = q ? q->desc : 0, dr = q ? q->driver : 0, dv = q ? q->device : 0;
	memset(img, 0, COMMON_LEN);
	memcpy(img + 0x00, &vp->dfselect, 4);
	memcpy(img + 0x04, &df, 4);
	memcpy(img + 0x08, &vp->gfselect, 4);
	memcpy(img + 0x0c, &gf, 4);
	memcpy(img + 0x10, &nv, 2);
	memcpy(img + 0x12, &nq, 2);
	img[0x14] = vp->status;
	img[0x15] = vp->config_gen;
	memcpy(img + 0x16, &vp->queue_sel, 2);
	memcpy(img + 0x18, &qs, 2);
	memcpy(img + 0x1a, &nv, 2);
	memcpy(img + 0x1c, &qen, 2);
	memcpy(img + 0x1e, &qoff, 2);
	memcpy(img + 0x20, &d, 8);
	memcpy(img + 0x28, &dr, 8);
	memcpy(img + 0x30, &dv, 8);
}

static bool touched(uint64_t off, unsigned len, unsigned field, unsigned flen)
{
	return off < field + flen && field < off + len;
}

static void enable_queue(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	q->vq.size = q->size;
	q->vq.desc = q->desc;
	q->vq.avail = q->driver;
	q->vq.used = q->device;
	q->vq.last_avail = q->vq.used_idx = 0;
	q->enabled = true;
	if (!q->desc)	/* a ring at 0 would read as "disabled": refuse it */
		virtio_pci__needs_reset(vp);
}

static void common_write(struct virtio_pci *vp, uint64_t off, const void *data, unsigned len)
{
	uint8_t img[COMMON_LEN];
	common_image(vp, img);
	memcpy(img + off, data, len);
	uint32_t u32;
	uint16_t u16;
	struct virtio_pci_queue *q = vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
	if (touched(off, len, 0x00, 4))
		memcpy(&vp->dfselect, img + 0x00, 4);
	if (touched(off, len, 0x08, 4))
		memcpy(&vp->gfselect, img + 0x08, 4);
	if (touched(off, len, 0x0c, 4) && vp->gfselect < 2 &&
	    !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		memcpy(&u32, img + 0x0c, 4);
		unsigned sh = 32 * vp->gfselect;
		vp->guest_features = (vp->guest_features & ~(0xffffffffull << sh)) |
				     ((uint64_t)u32 << sh);
	}
	if (q && !q->enabled) {
		if (touched(off, len, 0x18, 2)) {
			memcpy(&u16, img + 0x18, 2);
			/* split rings need a power of two no larger than the maximum */
			if (u16 && !(u16 & (u16 - 1)) && u16 <= q->max_size)
				q->size = u16;
		}
		if (touched(off, len, 0x20, 8))
			memcpy(&q->desc, img + 0x20, 8);
		if (touched(off, len, 0x28, 8))
			memcpy(&q->driver, img + 0x28, 8);
		if (touched(off, len, 0x30, 8))
			memcpy(&q->device, img + 0x30, 8);
	}
	if (touched(off, len, 0x1c, 2) && q) {
		memcpy(&u16, img + 0x1c, 2);
		if (u16 == 1 && !q->enabled)
			enable_queue(vp, q);	/* writing 0 is not allowed (4.1.4.3.2) */
	}
	if (touched(off, len, 0x16, 2)) {
		memcpy(&u16, img + 0x16, 2);
		vp->queue_sel = u16;
	}
	if (touched(off, len, 0x14, 1))
		write_status(vp, img[0x14]);
}

int virtio_pci__modern_mmio(void *opaque, uint64_t off, void *data, unsigned len, bool is_write)
{
	struct virtio_pci *vp = opaque;
	if (off >= VIRTIO_MODERN_BAR_SIZE || len > VIRTIO_MODERN_BAR_SIZE - off)
		return -EINVAL;
	if (off < M_COMMON + COMMON_LEN) {
		if (off + len > COMMON_LEN)
			return -EINVAL;
		if (is_write) {
			common_write(vp, off, data, len);
		} else {
			uint8_t img[COMMON_LEN];
			common_image(vp, img);
			memcpy(data, img + off, len);
		}
		return 0;
	}
	if (off == M_ISR) {
		if (!is_write)
			memset(data, 0, len), *(uint8_t *)data = read_isr(vp);
		return 0;
	}
	if (off >= M_DEVICE && off < M_DEVICE + 0x1000) {
		unsigned o = off - M_DEVICE;
		memset(data, 0, is_write ? 0 : len);
		if (!is_write && o < vp->config_len && vp->ops && vp->ops->read_config) {
			unsigned n = len < vp->config_len - o ? len : vp->config_len - o;
			vp->ops->read_config(vp->dev, o, data, n);
		}
		return 0;
	}
	if (off >= M_NOTIFY && off < M_NOTIFY + NOTIFY_MULT * VIRTIO_PCI_MAX_QUEUES) {
		if (is_write)
			notify(vp, (off - M_NOTIFY) / NOTIFY_MULT);
		else
			memset(data, 0, len);
		return 0;
	}
	if (!is_write)
		memset(data, 0, len);
	return 0;
}

/* Adds one vendor capability describing a window of BAR 4. */
static void add_vcap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len, bool notify_cap)
{
	unsigned clen = notify_cap ? 20 : 16;
	int c = pci_dev__add_cap(d, 0x09, clen);
	if (c < 0)
		return;
	d->cfg[c + 2] = clen;
	d->cfg[c + 3] = type;
	d->cfg[c + 4] = 4;	/* BAR 4 */
	pci_cfg__set32(d, c + 8, off);
	pci_cfg__set32(d, c + 12, len);
	if (notify_cap)
		pci_cfg__set32(d, c + 16, NOTIFY_MULT);
}

int virtio_pci__init(struct virtio_pci *vp, const struct guest_mem *mem,
		     uint16_t legacy_id, uint16_t type, uint32_t class_code,
		     uint64_t features, unsigned nqueues, uint16_t qsize,
		     unsigned config_len, bool modern,
		     const struct virtio_pci_ops *ops, void *dev)
{
	if (!nqueues || nqueues > VIRTIO_PCI_MAX_QUEUES || !qsize ||
	    qsize > VIRTQ_MAX_SIZE || (qsize & (qsize - 1)) || config_len > 0x1000)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->mem = mem;
	vp->modern = modern;
	vp->host_features = features | (modern ? VIRTIO_F_VERSION_1 : 0);
	vp->nqueues = nqueues;
	vp->config_len = config_len;
	vp->ops = ops;
	vp->dev = dev;
	for (unsigned i = 0; i < nqueues; i++)
		vp->q[i].max_size = qsize;
	struct pci_dev *d = &vp->pci;
	pci_dev__init(d, 0x1af4, 0x1000 + legacy_id, class_code, 0, 0x1af4, type, 1);
	d->owner = vp;
	pci_dev__set_bar(d, 0, VIRTIO_LEGACY_BAR_SIZE, BUS_PIO, virtio_pci__legacy_io, vp,
			 "virtio-legacy");
	if (modern) {
		pci_dev__set_bar(d, 4, VIRTIO_MODERN_BAR_SIZE, BUS_MMIO, virtio_pci__modern_mmio,
				 vp, "virtio-modern");
		add_vcap(d, CAP_COMMON, M_COMMON, COMMON_LEN, false);
		add_vcap(d, CAP_ISR, M_ISR, 1, false);
		add_vcap(d, CAP_DEVICE, M_DEVICE, config_len ? config_len : 4, false);
		add_vcap(d, CAP_NOTIFY, M_NOTIFY, NOTIFY_MULT * nqueues, true);
	}
	reset_transport(vp);
	return 0;
}
