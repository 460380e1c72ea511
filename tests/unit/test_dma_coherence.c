/* tests/unit/test_dma_coherence.c — a device writing guest RAM by DMA
 * (through the board's gmem, as virtio-blk does) must not leave the
 * interpreter running stale decoded code: the board reports every gmem
 * access to the engine's hook (board__connect_dma), which the interp engine
 * turns into cpu__invalidate_phys. A control run shows that a write which
 * bypasses the hook does leave stale code, so the check can fail. */
#include "monitor/monitor.h"
#include "userland/board.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

static struct board b;
static uint32_t stop_value;
static unsigned dma_calls;

static uint8_t *t_ram_page(void *o, uint64_t gpa, bool *w)
{
	return board__ram_page(o, gpa, w);
}

static int t_mmio(void *o, uint64_t gpa, void *d, unsigned len, bool w)
{
	if (!w)
		memset(d, 0xff, len);
	return 0;
}

static int t_pio(void *o, uint16_t port, void *d, unsigned len, bool w)
{
	if (port == 0xf4 && w) {
		stop_value = 0;
		memcpy(&stop_value, d, len < 4 ? len : 4);
		return CPU_BUS_STOP;
	}
	if (!w)
		memset(d, 0xff, len);
	return 0;
}

static int t_intr_ack(void *o)
{
	return -1;
}

static const struct cpu_bus_ops t_ops = {
	.ram_page = t_ram_page, .mmio = t_mmio, .pio = t_pio, .intr_ack = t_intr_ack,
};

static void t_dma_written(void *cpu, uint64_t gpa, uint64_t len)
{
	dma_calls++;
	cpu__invalidate_phys(cpu, gpa, len);
}

/* mov eax, v; out 0xf4, eax; jmp $ */
static void put_code(uint8_t *p, uint32_t v)
{
	const uint8_t code[] = { 0xb8, v, v >> 8, v >> 16, v >> 24, 0xe7, 0xf4, 0xeb, 0xfe };
	memcpy(p, code, sizeof(code));
}

static uint32_t run_at(struct cpu *cpu, uint32_t eip)
{
	cpu->eip = eip;
	stop_value = 0;
	enum cpu_exit e = cpu__run(cpu, 1000);
	CU_ASSERT_EQUAL(e, CPU_EXIT_STOP);
	return stop_value;
}

static void test_dma_drops_decoded_code(void)
{
	struct run_opts o;
	memset(&o, 0, sizeof(o));
	o.mem = 16u << 20;
	o.serial = SERIAL_FILE;
	o.serial_path = "/dev/null";
	char err[256];
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	struct cpu *cpu = aligned_alloc(64, (CPU_ALLOC_SIZE + 63) & ~(size_t)63);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cpu);
	memset(cpu, 0, CPU_ALLOC_SIZE);
	CU_ASSERT_EQUAL_FATAL(cpu__init(cpu, &t_ops, &b), 0);
	cpu__reset(cpu);
	cpu__setup_flat32(cpu, 0x10, 0x18, 0x100000);
	board__connect_dma(&b, t_dma_written);
	b.cpu = cpu;

	put_code(b.ram.host + 0x100000, 1);
	cpu__invalidate_phys(cpu, 0x100000, 16);	/* the loader's write */
	CU_ASSERT_EQUAL(run_at(cpu, 0x100000), 1);

	/* control: a write behind the CPU's back leaves the old decode */
	put_code(b.ram.host + 0x100000, 2);
	CU_ASSERT_EQUAL(run_at(cpu, 0x100000), 1);

	/* a DMA write through gmem is seen */
	dma_calls = 0;
	uint8_t *p = guest_mem__ptr(&b.gmem, 0x100000, 16);
	CU_ASSERT_PTR_EQUAL_FATAL(p, b.ram.host + 0x100000);
	put_code(p, 3);
	CU_ASSERT(dma_calls >= 1);
	CU_ASSERT_EQUAL(run_at(cpu, 0x100000), 3);

	/* gmem still refuses ranges outside RAM, without calling the hook */
	dma_calls = 0;
	CU_ASSERT_PTR_NULL(guest_mem__ptr(&b.gmem, (16u << 20) - 8, 16));
	CU_ASSERT_EQUAL(dma_calls, 0);

	b.cpu = NULL;
	board__destroy(&b);
	free(cpu);
}

static CU_TestInfo dma_tests[] = {
	{"dma_drops_decoded_code", test_dma_drops_decoded_code},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dma_coherence, .tests = dma_tests);
