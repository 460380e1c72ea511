/* devices/virtq.c — split virtqueue access with every guest address checked.
 * Layout (virtio 1.x 2.7, legacy alignment 4096):
 *   desc[n]  { u64 addr; u32 len; u16 flags; u16 next; }   16 bytes each
 *   avail    { u16 flags; u16 idx; u16 ring[n]; u16 used_event; }
 *   used     { u16 flags; u16 idx; { u32 id; u32 len; } ring[n]; u16 avail_event; }
 * The guest owns these rings and may change them at any time: every field
 * is read once into a local, validated, and never trusted again.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

void virtq__set_legacy_pfn(struct virtq *q, uint32_t pfn)
{
	q->last_avail = q->used_idx = 0;
	if (!pfn) {
		q->desc = q->avail = q->used = 0;
		return;
	}
	q->desc = (uint64_t)pfn << 12;
	q->avail = q->desc + 16ull * q->size;
	q->used = (q->avail + 4 + 2ull * q->size + 2 + 4095) & ~4095ull;
}

static int rd16(const struct guest_mem *m, uint64_t gpa, uint16_t *v)
{
	const uint8_t *p = guest_mem__ptr(m, gpa, 2);
	if (!p)
		return -EINVAL;
	*v = p[0] | p[1] << 8;
	return 0;
}

bool virtq__no_interrupt(const struct virtq *q, const struct guest_mem *m)
{
	uint16_t flags = 0;
	if (!q->desc || rd16(m, q->avail, &flags))
		return false;
	return flags & VIRTQ_AVAIL_F_NO_INTERRUPT;
}

int virtq__pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c)
{
	uint16_t avail_idx, head;
	if (!q->desc)
		return 0;
	if (rd16(m, q->avail + 2, &avail_idx))
		return -EINVAL;
	uint16_t pending = avail_idx - q->last_avail;
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return -EINVAL;	/* the driver cannot have more than size in flight */
	if (rd16(m, q->avail + 4 + 2ull * (q->last_avail % q->size), &head))
		return -EINVAL;
	if (head >= q->size)
		return -EINVAL;
	c->head = head;
	c->nseg = 0;
	bool seen_write = false;
	uint16_t i = head;
	for (;;) {
		const uint8_t *d = guest_mem__ptr(m, q->desc + 16ull * i, 16);
		if (!d)
			return -EINVAL;
		struct virtq_seg s;
		uint16_t flags, next;
		memcpy(&s.addr, d, 8);
		memcpy(&s.len, d + 8, 4);
		memcpy(&flags, d + 12, 2);
		memcpy(&next, d + 14, 2);
		s.write = flags & VIRTQ_DESC_F_WRITE;
		if (flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;	/* not offered */
		if (!s.write && seen_write)
			return -EINVAL;	/* readable after writable (2.7.4.2) */
		seen_write |= s.write;
		/* a chain longer than the ring must revisit a descriptor: a loop */
		if (c->nseg == q->size)
			return -EINVAL;
		c->seg[c->nseg++] = s;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		if (next >= q->size)
			return -EINVAL;
		i = next;
	}
	q->last_avail++;
	return 1;
}

int virtq__push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t len)
{
	uint8_t *e = guest_mem__ptr(m, q->used + 4 + 8ull * (q->used_idx % q->size), 8);
	uint8_t *idx = guest_mem__ptr(m, q->used + 2, 2);
	if (!e || !idx)
		return -EINVAL;
	uint32_t id = head;
	memcpy(e, &id, 4);
	memcpy(e + 4, &len, 4);
	q->used_idx++;
	/* single-threaded device: the entry is visible before the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	idx[0] = q->used_idx & 0xff;
	idx[1] = q->used_idx >> 8;
	return 0;
}
