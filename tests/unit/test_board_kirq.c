/* tests/unit/test_board_kirq.c — the board's side of the in-kernel irqchip
 * (docs/kirq.md), with the chip itself (monitor/mon-kirq.c, as hvmm.ko runs
 * it) in place of the module: the board's PIC and PIT go to the chip as an
 * image, ISA lines collect while it is away (edges kept), and the take-back
 * re-wires the same structs so that routing, acknowledge and timers work on
 * the board again, lines that moved meanwhile included. */
#include "userland/board.h"
#include "monitor/mon-kirq.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct board b;
static int intr_level;

static void fake_set_intr(void *cpu, bool level)
{
	(void)cpu;
	intr_level = level;
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void out(struct mon_kirq *k, uint16_t port, uint8_t v)
{
	CU_ASSERT_EQUAL(mon_kirq__pio(k, port, &v, 1, 1), 1);
}

static void test_give_and_take(void)
{
	struct run_opts o = { .mem = 16u << 20, .serial = SERIAL_FILE, .serial_path = "/dev/null" };
	static struct hvmm_kirq_state st;
	struct mon_kirq *k = calloc(1, mon_kirq__size());
	struct pic pic;
	struct pit pit;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	board__connect_cpu(&b, fake_set_intr, NULL);
	mon_kirq__init(k, mono_ns);
	/* give: the board's power-on devices as the image (as hybrid-sys.c) */
	st.flags = HVMM_KIRQ_ON;
	st.pic_size = sizeof(b.pic);
	st.pit_size = sizeof(b.pit);
	st.clock_start_ns = b.clock_start_ns;
	memcpy(st.pic, &b.pic, sizeof(b.pic));
	memcpy(st.pit, &b.pit, sizeof(b.pit));
	CU_ASSERT_EQUAL(mon_kirq__set_state(k, &st), 0);
	board__kirq_give(&b);
	/* the guest programs the chip: vectors 0x30, all unmasked; PIT 10 ms */
	out(k, 0x20, 0x11), out(k, 0x21, 0x30), out(k, 0x21, 0x04), out(k, 0x21, 0x01);
	out(k, 0x21, 0x00);
	out(k, 0x43, 0x34), out(k, 0x40, 0x9c), out(k, 0x40, 0x2e);
	/* COM1 raises IRQ4: only collected, the board's PIC is not touched */
	irq_line__set(&b.isa_irq[4], 1);
	CU_ASSERT_TRUE(b.kirq_dirty);
	CU_ASSERT_EQUAL(b.kirq_levels, 1u << 4);
	CU_ASSERT_EQUAL(b.kirq_edges, 1u << 4);
	CU_ASSERT_EQUAL(b.pic.chip[0].irr, 0);
	CU_ASSERT_EQUAL(intr_level, 0);
	CU_ASSERT_EQUAL(board__intr_ack(&b), -1);
	/* the engine passes them on: the chip's PIC takes it */
	mon_kirq__set_lines(k, b.kirq_levels, b.kirq_edges);
	b.kirq_edges = 0, b.kirq_dirty = false;
	CU_ASSERT_TRUE(mon_kirq__has_intr(k));
	CU_ASSERT_EQUAL(mon_kirq__ack(k), 0x34);
	out(k, 0x20, 0x20);			/* EOI */
	/* the i8042 pulses IRQ1 before the engine syncs: only an edge is left */
	irq_line__set(&b.isa_irq[1], 1);
	irq_line__set(&b.isa_irq[1], 0);
	CU_ASSERT_EQUAL(b.kirq_edges, 1u << 1);
	/* take back: the chip's state, the board's wiring */
	mon_kirq__get_state(k, &st);
	memcpy(&pic, st.pic, sizeof(pic));
	memcpy(&pit, st.pit, sizeof(pit));
	board__kirq_take(&b, &pic, &pit);
	CU_ASSERT_FALSE(b.kirq);
	CU_ASSERT_PTR_EQUAL(b.pic.intr_line, &b.pic_intr);
	CU_ASSERT_PTR_EQUAL(b.pit.clock, &b.clock);
	CU_ASSERT_PTR_EQUAL(b.pit.irq0, &b.isa_irq[0]);
	CU_ASSERT_EQUAL(b.pic.chip[0].irq_base, 0x30);
	CU_ASSERT_EQUAL(b.pit.ch[0].mode, 2);
	CU_ASSERT_NOT_EQUAL(pit__next_deadline_ns(&b.pit), VCLOCK_NEVER);
	/* IRQ1's edge and IRQ4's level (still high, after its EOI) reach the CPU
	 * through the LAPIC's virtual wire again, by priority */
	CU_ASSERT_EQUAL(intr_level, 1);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x31);
	uint8_t eoi = 0x20;
	board__pio(&b, 0x20, &eoi, 1, true);
	/* IRQ4 is edge-triggered and was acknowledged: no new request */
	CU_ASSERT_EQUAL(b.pic.chip[0].irr & 0x10, 0);
	/* the board's PIT drives IRQ0 again (10 ms period) */
	struct timespec ts = { 0, 12000000 };
	nanosleep(&ts, NULL);
	board__poll(&b);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x30);
	CU_ASSERT_EQUAL(b.pit.edges, 1);
	board__destroy(&b);
	free(k);
}

static CU_TestInfo board_kirq_tests[] = {
	{"give_and_take", test_give_and_take},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(board_kirq, .tests = board_kirq_tests);
