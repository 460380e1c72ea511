/* tests/unit/test_board.c — the board: RAM layout seen by engines, device
 * placement, ISA IRQ routing through the PIC to the CPU's INTR, console
 * escape (Ctrl-A x) and input pumping, port counters. */
#include "userland/board.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static struct board b;

static struct run_opts file_opts(void)
{
	struct run_opts o;
	memset(&o, 0, sizeof(o));
	o.mem = 16u << 20;
	o.serial = SERIAL_FILE;
	o.serial_path = "/dev/null";
	return o;
}

static void test_ram_layout(void)
{
	struct run_opts o = file_opts();
	char err[256];
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	CU_ASSERT(b.ram_fd >= 0);
	CU_ASSERT_EQUAL(b.ram.size, 16u << 20);
	bool w = false;
	uint8_t *p = board__ram_page(&b, 0x1234, &w);
	CU_ASSERT_PTR_EQUAL(p, b.ram.host + 0x1000);
	CU_ASSERT_TRUE(w);
	CU_ASSERT_PTR_NULL(board__ram_page(&b, 0xb8000, &w));		/* VGA window */
	p = board__ram_page(&b, 0xe0010, &w);				/* BIOS area */
	CU_ASSERT_PTR_EQUAL(p, b.ram.host + 0xe0000);
	CU_ASSERT_FALSE(w);
	CU_ASSERT_PTR_NOT_NULL(board__ram_page(&b, (16u << 20) - 1, &w));
	CU_ASSERT_PTR_NULL(board__ram_page(&b, 16u << 20, &w));	/* beyond RAM */
	CU_ASSERT_PTR_NULL(board__ram_page(&b, 0xfee00000, &w));
	/* the memfd is the RAM: a write through the mapping is in the file */
	b.ram.host[0x5000] = 0xab;
	uint8_t v = 0;
	CU_ASSERT_EQUAL(pread(b.ram_fd, &v, 1, 0x5000), 1);
	CU_ASSERT_EQUAL(v, 0xab);
	/* the e820 map matches */
	CU_ASSERT_EQUAL(e820__ram_top(&b.e820), 16u << 20);
	board__destroy(&b);
}

static uint8_t pio_in(uint16_t port)
{
	uint8_t v = 0;
	board__pio(&b, port, &v, 1, false);
	return v;
}

static void pio_out(uint16_t port, uint8_t v)
{
	board__pio(&b, port, &v, 1, true);
}

static int intr_calls, intr_level;
static void fake_set_intr(void *cpu, bool level)
{
	(void)cpu;
	intr_calls++;
	intr_level = level;
}

static void test_irq_routing(void)
{
	struct run_opts o = file_opts();
	char err[256];
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	intr_calls = intr_level = 0;
	board__connect_cpu(&b, fake_set_intr, NULL);
	/* Linux's PIC setup: ICW1..4, vectors 0x30 master / 0x38 slave */
	pio_out(0x20, 0x11), pio_out(0x21, 0x30), pio_out(0x21, 0x04), pio_out(0x21, 0x01);
	pio_out(0xa0, 0x11), pio_out(0xa1, 0x38), pio_out(0xa1, 0x02), pio_out(0xa1, 0x01);
	pio_out(0x21, 0x00), pio_out(0xa1, 0x00);
	CU_ASSERT_EQUAL(pio_in(0x21), 0);
	CU_ASSERT_FALSE(intr_level);
	CU_ASSERT_EQUAL(board__intr_ack(&b), -1);
	/* an ISA line reaches the CPU through the PIC */
	irq_line__set(&b.isa_irq[3], 1);
	CU_ASSERT_TRUE(intr_level);
	CU_ASSERT_TRUE(b.intr_level);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x33);
	CU_ASSERT_FALSE(intr_level);		/* in service now */
	irq_line__set(&b.isa_irq[3], 0);
	pio_out(0x20, 0x20);			/* EOI */
	/* slave line 12 via the cascade */
	irq_line__set(&b.isa_irq[12], 1);
	CU_ASSERT_TRUE(intr_level);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x3c);
	/* the UART's line is IRQ 4: enable its THRE interrupt with OUT2 */
	pio_out(0xa0, 0x20), pio_out(0x20, 0x20);
	irq_line__set(&b.isa_irq[12], 0);
	pio_out(0x3f8 + 4, 0x08);		/* MCR.OUT2 */
	pio_out(0x3f8 + 1, 0x02);		/* IER.THRI */
	CU_ASSERT_TRUE(intr_level);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x34);
	/* counters per port */
	CU_ASSERT(b.pio_count[0x21] >= 5);
	CU_ASSERT_EQUAL(b.pio_count[0x3fc], 1);
	/* an unclaimed port reads all-ones */
	CU_ASSERT_EQUAL(pio_in(0x2e8), 0xff);
	CU_ASSERT(b.bus.unclaimed[BUS_PIO] >= 1);
	board__destroy(&b);
}

static void test_console_escape(void)
{
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	int saved = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	struct run_opts o = file_opts();
	o.serial = SERIAL_STDIO;
	o.serial_path = NULL;
	char err[256];
	int rc = board__create(&b, &o, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0) {
		pio_out(0x3f8 + 2, 0x01);		/* FIFO on */
		/* Ctrl-A Ctrl-A is one Ctrl-A; Ctrl-A x quits; the rest is dropped */
		CU_ASSERT_EQUAL(write(fds[1], "ab\x01\x01" "c\x01xzz", 8), 8);
		board__poll(&b);
		CU_ASSERT_EQUAL(b.stop, VM_QUIT);
		CU_ASSERT_EQUAL(pio_in(0x3f8 + 5) & 1, 1);	/* data ready */
		CU_ASSERT_EQUAL(pio_in(0x3f8), 'a');
		CU_ASSERT_EQUAL(pio_in(0x3f8), 'b');
		CU_ASSERT_EQUAL(pio_in(0x3f8), 0x01);
		CU_ASSERT_EQUAL(pio_in(0x3f8), 'c');
		CU_ASSERT_EQUAL(pio_in(0x3f8 + 5) & 1, 0);
		/* input EOF: the board notes it and stops polling stdin */
		close(fds[1]);
		board__poll(&b);
		CU_ASSERT_TRUE(b.con_in_eof);
		board__destroy(&b);
	} else {
		close(fds[1]);
	}
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static void test_stops_and_timer(void)
{
	struct run_opts o = file_opts();
	char err[256];
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	/* debug-exit: V=0x21 -> (V<<1)|1; the access reports "stop" */
	uint32_t v = 0x21;
	CU_ASSERT_EQUAL(board__pio(&b, 0xf4, &v, 4, true), 1);
	CU_ASSERT_EQUAL(b.stop, VM_DEBUG_EXIT);
	CU_ASSERT_EQUAL(b.debug_exit_status, 0x43);
	board__destroy(&b);

	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.stop, VM_RUNNING);
	pio_out(0x64, 0xfe);			/* i8042 pulse reset line */
	CU_ASSERT_EQUAL(b.stop, VM_REBOOT);
	board__destroy(&b);

	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	pio_out(0xcf9, 0x06);			/* PCI reset control: hard reset */
	CU_ASSERT_EQUAL(b.stop, VM_REBOOT);
	/* the host bridge answers at 00:00.0 */
	uint32_t a = 0x80000000u, id = 0;
	board__pio(&b, 0xcf8, &a, 4, true);
	board__pio(&b, 0xcfc, &id, 4, false);
	CU_ASSERT_EQUAL(id, 0x12378086);
	board__destroy(&b);

	/* PIT channel 0, mode 2, 1 ms: IRQ 0 reaches INTR once time passes,
	 * and board__poll reports the next deadline */
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	intr_calls = intr_level = 0;
	board__connect_cpu(&b, fake_set_intr, NULL);
	pio_out(0x20, 0x11), pio_out(0x21, 0x20), pio_out(0x21, 0x04), pio_out(0x21, 0x01);
	pio_out(0x21, 0xfe);			/* only IRQ 0 */
	pio_out(0x43, 0x34), pio_out(0x40, 1193 & 0xff), pio_out(0x40, 1193 >> 8);
	uint64_t next = board__poll(&b);
	CU_ASSERT(next != VCLOCK_NEVER && next <= board__now(&b) + 1100000);
	board__wait(&b, next);			/* sleeps about 1 ms */
	usleep(1000);
	board__poll(&b);
	CU_ASSERT_TRUE(intr_level);
	CU_ASSERT_EQUAL(board__intr_ack(&b), 0x20);
	/* CMOS holds the memory size: 0x34/0x35 = 64 KiB blocks above 16 MiB (0 here),
	 * 0x17/0x18 = KiB above 1 MiB */
	pio_out(0x70, 0x17);
	unsigned lo = pio_in(0x71);
	pio_out(0x70, 0x18);
	unsigned hi = pio_in(0x71);
	CU_ASSERT_EQUAL(lo | hi << 8, 15u * 1024);
	board__destroy(&b);
}

static void test_reset(void)
{
	struct run_opts o = file_opts();
	char err[256];
	CU_ASSERT_EQUAL_FATAL(board__create(&b, &o, err, sizeof(err)), 0);
	int out_fd = b.con.out_fd;
	uint8_t *host = b.ram.host;
	host[0x100000] = 0x5a;
	pio_out(0x21, 0xaa);			/* PIC mask */
	pio_out(0x64, 0xfe);
	CU_ASSERT_EQUAL(b.stop, VM_REBOOT);
	CU_ASSERT_EQUAL(board__reset(&b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.stop, VM_RUNNING);
	CU_ASSERT_PTR_EQUAL(b.ram.host, host);	/* same mapping, zeroed */
	CU_ASSERT_EQUAL(host[0x100000], 0);
	CU_ASSERT_EQUAL(pio_in(0x21), 0);	/* PIC at power-on */
	CU_ASSERT_EQUAL(b.con.out_fd, out_fd);	/* console survives */
	CU_ASSERT_EQUAL(b.resets, 1);
	uint32_t a = 0x80000000u, id = 0;	/* the bus is whole again */
	board__pio(&b, 0xcf8, &a, 4, true);
	board__pio(&b, 0xcfc, &id, 4, false);
	CU_ASSERT_EQUAL(id, 0x12378086);
	board__destroy(&b);
}

static void test_bad_serial(void)
{
	struct run_opts o = file_opts();
	o.serial_path = "/nonexistent-dir/x";
	char err[256] = "";
	CU_ASSERT(board__create(&b, &o, err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--serial"));
	board__destroy(&b);
}

static CU_TestInfo board_tests[] = {
	{"ram_layout", test_ram_layout},
	{"irq_routing", test_irq_routing},
	{"console_escape", test_console_escape},
	{"stops_and_timer", test_stops_and_timer},
	{"reset", test_reset},
	{"bad_serial", test_bad_serial},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(board, .tests = board_tests);
