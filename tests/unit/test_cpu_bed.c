/* tests/unit/test_cpu_bed.c — the test board of tests/unit/cpu-bed.h. */
#include "tests/unit/cpu-bed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *bed_ram_page(void *opaque, uint64_t gpa, bool *writable)
{
	struct bed *b = opaque;
	if (gpa >= b->ram_size)
		return NULL;
	*writable = true;
	return b->ram + gpa;
}

static int bed_mmio(void *opaque, uint64_t gpa, void *data, unsigned len,
		    bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
	return 0;
}

static int bed_pio(void *opaque, uint16_t port, void *data, unsigned len,
		   bool is_write)
{
	struct bed *b = opaque;
	uint32_t v = 0;

	b->npio++;
	memcpy(&v, data, len);
	if (port == 0xe9 && is_write) {
		if (b->nout < sizeof(b->out) - 1)
			b->out[b->nout++] = (char)v;
		return 0;
	}
	if (port == 0xf4 && is_write) {
		b->stop_value = v;
		return CPU_BUS_STOP;
	}
	if (!is_write)
		memset(data, 0xff, len);
	return 0;
}

static int bed_intr_ack(void *opaque)
{
	struct bed *b = opaque;
	int v = b->irq_vector;
	b->irq_vector = -1;
	cpu__set_irq_pending(b->cpu, false);
	return v;
}

static const struct cpu_bus_ops bed_ops = {
	.ram_page = bed_ram_page,
	.mmio = bed_mmio,
	.pio = bed_pio,
	.intr_ack = bed_intr_ack,
};

struct bed *bed__new(size_t ram_size, uint32_t eip)
{
	struct bed *b = calloc(1, sizeof(*b));
	b->ram = calloc(1, ram_size);
	b->ram_size = ram_size;
	b->irq_vector = -1;
	b->cpu = calloc(1, CPU_ALLOC_SIZE);
	if (cpu__init(b->cpu, &bed_ops, b))
		abort();
	cpu__setup_flat32(b->cpu, 0x08, 0x10, eip);
	b->cpu->r[R_ESP] = (uint32_t)ram_size - 16;
	return b;
}

void bed__free(struct bed *b)
{
	free(b->cpu);
	free(b->ram);
	free(b);
}

void bed__load(struct bed *b, uint32_t gpa, const void *bytes, size_t n)
{
	memcpy(b->ram + gpa, bytes, n);
	cpu__invalidate_phys(b->cpu, gpa, n);
}

void bed__irq(struct bed *b, int vector)
{
	b->irq_vector = vector;
	cpu__set_irq_pending(b->cpu, true);
}

enum cpu_exit bed__run(struct bed *b, uint64_t max)
{
	return cpu__run(b->cpu, max);
}

void bed__dump(struct bed *b)
{
	char buf[4096];
	cpu__dump(b->cpu, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
}
