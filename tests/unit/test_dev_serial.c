/* tests/unit/test_dev_serial.c — 16550A: the Linux probe sequence, FIFOs,
 * interrupts, divisor latch, loopback, and the chardev backends. */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define COM1 0x3f8

static struct bus bus;
static struct serial uart;
static struct irq_rec irqs;
static uint8_t out[256];
static unsigned nout;

static void tx(void *ctx, uint8_t b)
{
	if (nout < sizeof(out))
		out[nout++] = b;
}

static void setup(void)
{
	bus__init(&bus);
	irq_rec__init(&irqs);
	nout = 0;
	serial__init(&uart, &irqs.line[4], tx, NULL);
	CU_ASSERT_EQUAL(bus__register(&bus, BUS_PIO, COM1, 8, serial__io, &uart, "com1"), 0);
}

static void test_linux_probe(void)
{
	setup();
	/* scratch */
	outb(&bus, COM1 + 7, 0xa5);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 7), 0xa5);
	/* IER reads back low nibble only */
	outb(&bus, COM1 + 1, 0xff);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 1), 0x0f);
	outb(&bus, COM1 + 1, 0);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 1), 0);
	/* loopback MSR test: MCR=0x1a → MSR high nibble 0x90 */
	outb(&bus, COM1 + 4, 0x1a);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 6) & 0xf0, 0x90);
	outb(&bus, COM1 + 4, 0);
	/* FIFO: IIR bits 7:6 = 11 after FCR=1, 00 before */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2), 0x01);
	outb(&bus, COM1 + 2, 0x01);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) >> 6, 3);
	/* no EFR: offset 2 reads IIR (non-zero) with LCR=0xbf */
	outb(&bus, COM1 + 3, 0xbf);
	CU_ASSERT_NOT_EQUAL(inb(&bus, COM1 + 2), 0);
	/* not a 16750: FCR bit 5 with DLAB set does not show in IIR bit 5 */
	outb(&bus, COM1 + 3, 0x80);
	outb(&bus, COM1 + 2, 0x21);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x20, 0);
	outb(&bus, COM1 + 3, 0x03);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x20, 0);
	/* LSR: transmitter empty */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5), 0x60);
}

static void test_divisor_latch(void)
{
	setup();
	outb(&bus, COM1 + 1, 0x05);		/* IER */
	outb(&bus, COM1 + 3, 0x83);
	outb(&bus, COM1 + 0, 0x01);
	outb(&bus, COM1 + 1, 0x02);
	CU_ASSERT_EQUAL(uart.divisor, 0x0201);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 0), 0x01);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 1), 0x02);
	outb(&bus, COM1 + 3, 0x03);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 1), 0x05);	/* IER kept */
	CU_ASSERT_EQUAL(nout, 0);			/* DLL write sent nothing */
	outb(&bus, COM1, 'A');
	CU_ASSERT_EQUAL(nout, 1);
	CU_ASSERT_EQUAL(out[0], 'A');
}

static void test_thre_interrupt(void)
{
	setup();
	outb(&bus, COM1 + 4, 0x0b);		/* DTR RTS OUT2 */
	CU_ASSERT_EQUAL(irqs.level[4], 0);
	outb(&bus, COM1 + 1, 0x02);		/* ETBEI while THR empty */
	CU_ASSERT_EQUAL(irqs.level[4], 1);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x02);
	CU_ASSERT_EQUAL(irqs.level[4], 0);	/* IIR read cleared THRE */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x01);
	outb(&bus, COM1, 'x');			/* THR empties again at once */
	CU_ASSERT_EQUAL(irqs.level[4], 1);
	outb(&bus, COM1 + 1, 0x00);
	CU_ASSERT_EQUAL(irqs.level[4], 0);
	/* without OUT2 the line stays low even though IIR shows THRE */
	outb(&bus, COM1 + 4, 0x03);
	outb(&bus, COM1 + 1, 0x02);
	CU_ASSERT_EQUAL(irqs.level[4], 0);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x02);
}

static void test_rx_fifo_and_trigger(void)
{
	setup();
	outb(&bus, COM1 + 4, 0x08);
	outb(&bus, COM1 + 2, 0x81);		/* FIFO on, trigger 8 */
	outb(&bus, COM1 + 1, 0x01);
	CU_ASSERT_EQUAL(serial__rx_space(&uart), 16);
	uint8_t in[20];
	for (int i = 0; i < 20; i++)
		in[i] = 'a' + i;
	CU_ASSERT_EQUAL(serial__receive(&uart, in, 3), 3);
	CU_ASSERT_EQUAL(irqs.level[4], 1);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2), 0xcc);	/* timeout below trigger */
	CU_ASSERT_EQUAL(serial__receive(&uart, in + 3, 17), 13);	/* FIFO full */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2), 0xc4);	/* RDA at trigger */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5) & 0x03, 0x01);	/* DR, no overrun */
	for (int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(inb(&bus, COM1), 'a' + i);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5) & 0x01, 0);
	CU_ASSERT_EQUAL(irqs.level[4], 0);
	/* clear RX FIFO through FCR */
	serial__receive(&uart, in, 5);
	outb(&bus, COM1 + 2, 0x83);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5) & 0x01, 0);
	/* FIFO disabled: one byte of room */
	outb(&bus, COM1 + 2, 0x00);
	CU_ASSERT_EQUAL(serial__rx_space(&uart), 1);
	CU_ASSERT_EQUAL(serial__receive(&uart, in, 4), 1);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2), 0x04);
}

static void test_loopback_and_overrun(void)
{
	setup();
	outb(&bus, COM1 + 4, 0x18);		/* loop + OUT2 */
	outb(&bus, COM1 + 1, 0x05);		/* RDI + RLSI */
	CU_ASSERT_EQUAL(serial__rx_space(&uart), 0);
	outb(&bus, COM1, 'q');
	CU_ASSERT_EQUAL(nout, 0);		/* looped, not sent */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x04);
	CU_ASSERT_EQUAL(irqs.level[4], 0);	/* no IRQ out of the chip in loopback */
	outb(&bus, COM1, 'r');			/* FIFO off: overrun */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x06);	/* line status first */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5) & 0x03, 0x03);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 5) & 0x02, 0);	/* OE cleared by read */
	CU_ASSERT_EQUAL(inb(&bus, COM1), 'q');
	/* modem status deltas from MCR in loopback */
	inb(&bus, COM1 + 6);
	outb(&bus, COM1 + 4, 0x1b);		/* raise DTR, RTS */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 6), 0xb3);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 6), 0xb0);
	outb(&bus, COM1 + 4, 0x1f);
	outb(&bus, COM1 + 4, 0x1b);		/* RI trailing edge → TERI */
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 6) & 0x04, 0x04);
	/* MSI shows in IIR at the lowest priority */
	outb(&bus, COM1 + 1, 0x08);
	outb(&bus, COM1 + 4, 0x19);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x00);
	inb(&bus, COM1 + 6);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 2) & 0x0f, 0x01);
}

static void test_bad_accesses(void)
{
	setup();
	uint32_t v = 0;
	/* a word write splits into consecutive registers */
	v = 0x5a03;
	CU_ASSERT_EQUAL(bus__access(&bus, BUS_PIO, COM1 + 6, &v, 2, true), 0);
	CU_ASSERT_EQUAL(inb(&bus, COM1 + 7), 0x5a);
	/* crossing the end of the 8 registers is rejected */
	struct serial s2;
	serial__init(&s2, NULL, NULL, NULL);
	CU_ASSERT_EQUAL(serial__io(&s2, 7, &v, 2, false), -EINVAL);
	CU_ASSERT_EQUAL(serial__io(&s2, 8, &v, 1, true), -EINVAL);
	/* no tx callback, no irq line: writes still work */
	v = 'z';
	CU_ASSERT_EQUAL(serial__io(&s2, 0, &v, 1, true), 0);
	CU_ASSERT_EQUAL(s2.tx_bytes, 1);
}

static void test_chardev_file_and_unix(void)
{
	char path[] = "/tmp/hvmm-serial-XXXXXX";
	int tfd = mkstemp(path);
	CU_ASSERT_FATAL(tfd >= 0);
	close(tfd);
	char spec[64];
	snprintf(spec, sizeof(spec), "file:%s", path);
	struct chardev cd;
	CU_ASSERT_EQUAL_FATAL(chardev__open(&cd, spec), 0);
	setup();
	serial__init(&uart, NULL, chardev__tx, &cd);
	outb(&bus, COM1, 'o');
	outb(&bus, COM1, 'k');
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 0);	/* no input on a file */
	chardev__close(&cd);
	FILE *f = fopen(path, "r");
	char buf[8] = {0};
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fread(buf, 1, sizeof(buf), f), 2);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "ok");
	unlink(path);
	CU_ASSERT_EQUAL(chardev__open(&cd, "bogus"), -EINVAL);
	CU_ASSERT_EQUAL(chardev__open(&cd, "file:/nonexistent-dir/x"), -ENOENT);

	/* unix socket: a client receives output and sends input */
	snprintf(spec, sizeof(spec), "unix:/tmp/hvmm-serial-%d.sock", (int)getpid());
	CU_ASSERT_EQUAL_FATAL(chardev__open(&cd, spec), 0);
	serial__init(&uart, NULL, chardev__tx, &cd);
	outb(&bus, COM1, '-');		/* no client yet: dropped */
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, spec + 5);
	CU_ASSERT_EQUAL_FATAL(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	outb(&bus, COM1, 'h');
	outb(&bus, COM1, 'i');
	CU_ASSERT_EQUAL(read(c, buf, 2), 2);
	CU_ASSERT_EQUAL(memcmp(buf, "hi", 2), 0);
	CU_ASSERT_EQUAL(write(c, "abc", 3), 3);
	usleep(1000);
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 1);	/* FIFO off: 1 byte room */
	CU_ASSERT_EQUAL(inb(&bus, COM1), 'a');
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 1);
	CU_ASSERT_EQUAL(inb(&bus, COM1), 'b');
	close(c);
	chardev__close(&cd);
	unlink(spec + 5);
}

static void test_chardev_stdio_pipe(void)
{
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	int saved = dup(STDIN_FILENO);
	CU_ASSERT_FATAL(saved >= 0);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	struct chardev cd;
	CU_ASSERT_EQUAL(chardev__open(&cd, "stdio"), 0);
	CU_ASSERT_FALSE(cd.tty_raw);		/* a pipe is not a terminal */
	setup();
	outb(&bus, COM1 + 2, 0x01);		/* FIFO on: 16 bytes of room */
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 0);	/* nothing yet, no block */
	CU_ASSERT_EQUAL(write(p[1], "ls\n", 3), 3);
	close(p[1]);
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 3);
	CU_ASSERT_FALSE(cd.eof);
	CU_ASSERT_EQUAL(chardev__pump(&cd, &uart), 0);
	CU_ASSERT_TRUE(cd.eof);
	CU_ASSERT_EQUAL(inb(&bus, COM1), 'l');
	CU_ASSERT_EQUAL(inb(&bus, COM1), 's');
	CU_ASSERT_EQUAL(inb(&bus, COM1), '\n');
	CU_ASSERT_TRUE(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK);
	chardev__close(&cd);
	CU_ASSERT_FALSE(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK);	/* put back */
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static CU_TestInfo serial_tests[] = {
	{"linux_probe", test_linux_probe},
	{"divisor_latch", test_divisor_latch},
	{"thre_interrupt", test_thre_interrupt},
	{"rx_fifo_and_trigger", test_rx_fifo_and_trigger},
	{"loopback_and_overrun", test_loopback_and_overrun},
	{"bad_accesses", test_bad_accesses},
	{"chardev_file_and_unix", test_chardev_file_and_unix},
	{"chardev_stdio_pipe", test_chardev_stdio_pipe},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_serial, .tests = serial_tests);
