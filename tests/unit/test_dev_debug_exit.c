/* tests/unit/test_dev_debug_exit.c — isa-debug-exit semantics. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

static uint32_t got;
static unsigned calls;

static void stop(void *ctx, uint32_t status)
{
	got = status;
	calls++;
	*(int *)ctx = 1;
}

static void test_exit_codes(void)
{
	static struct bus bus;
	struct debug_exit dx;
	int flag = 0;
	bus__init(&bus);
	debug_exit__init(&dx, stop, &flag);
	bus__register(&bus, BUS_PIO, 0xf4, 4, debug_exit__io, &dx, "dx");
	calls = 0;
	CU_ASSERT_EQUAL(io_in(&bus, 0xf4, 4), 0);
	CU_ASSERT_EQUAL(calls, 0);
	outb(&bus, 0xf4, 0x10);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT_EQUAL(got, 0x21);
	CU_ASSERT_EQUAL(flag, 1);
	io_out(&bus, 0xf4, 0, 4);
	CU_ASSERT_EQUAL(got, 1);
	io_out(&bus, 0xf4, 0x1234, 2);
	CU_ASSERT_EQUAL(got, 0x2469);
	outb(&bus, 0xf5, 0x01);			/* inside the 4-byte window */
	CU_ASSERT_EQUAL(calls, 4);
	CU_ASSERT_TRUE(dx.requested);
	/* no callback: recorded only */
	struct debug_exit d2;
	debug_exit__init(&d2, NULL, NULL);
	uint8_t v = 3;
	CU_ASSERT_EQUAL(debug_exit__io(&d2, 0, &v, 1, true), 0);
	CU_ASSERT_EQUAL(d2.status, 7);
	uint32_t w = 0;
	CU_ASSERT_NOT_EQUAL(debug_exit__io(&d2, 2, &w, 4, true), 0);
}

static CU_TestInfo dx_tests[] = {
	{"exit_codes", test_exit_codes},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_debug_exit, .tests = dx_tests);
