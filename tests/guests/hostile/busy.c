/* tests/guests/hostile/busy.c — never ends: keeps the vCPU busy in four
 * ways in turn, for the kill -9 tests (tests/system/testhost-hostile-sys.sh):
 * spinning at CPL 0, spinning at CPL 3 under paging (native under the
 * hybrid engine's stage 2), a port-I/O storm (PIT and PIC reads, POST-port
 * writes), and HLT waiting for the 1 kHz PIT interrupt. The phase it
 * starts in comes from the TSC, so kills at random moments find each of
 * them. Not run by the QEMU reference test (it does not end); each round
 * prints "BUSY n" on COM1. */
#include "hostile.h"

const char rt_test_name[] = "busy";

static volatile uint32_t ticks;

static int on_irq0(struct rt_frame *fr)
{
	ticks++;
	outb(0x20, 0x20);	/* EOI */
	return 1;
}

uint32_t u_spin(uint32_t n);
uint32_t u_spin(uint32_t n)
{
	uint32_t x = n;

	for (uint32_t i = 0; i < n; i++)
		x = x * 1103515245u + 12345u;
	return x;
}

static void io_storm(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		outb(0x43, 0x00);		/* latch PIT channel 0 */
		(void)inb(0x40);
		(void)inb(0x40);
		(void)inb(0x21);
		outb(0x80, (uint8_t)i);
	}
}

static void halt_wait(uint32_t n)
{
	uint32_t t0 = ticks;

	while (ticks - t0 < n)
		asm volatile("sti; hlt; cli");
}

void test_main(void)
{
	struct rt_fault f;
	uint32_t phase = (uint32_t)rdtsc() >> 4;

	rt_printf("HOSTILE busy: kernel spin, user spin, I/O storm, HLT, forever\n");
	hostile_paging_on();
	rt_set_handler(0x20, on_irq0);
	outb(0x20, 0x11); outb(0xa0, 0x11);		/* ICW1 */
	outb(0x21, 0x20); outb(0xa1, 0x28);		/* ICW2: vectors 0x20, 0x28 */
	outb(0x21, 0x04); outb(0xa1, 0x02);		/* ICW3 */
	outb(0x21, 0x01); outb(0xa1, 0x01);		/* ICW4 */
	outb(0x21, 0xfe); outb(0xa1, 0xff);		/* IRQ0 only */
	outb(0x43, 0x34);				/* PIT ch0, mode 2, 1 kHz */
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	for (uint32_t round = 0;; round++, phase++) {
		switch (phase & 3) {
		case 0:
			(void)u_spin(2000000);
			break;
		case 1:
			rt_try(3, u_spin, 2000000, &f);
			break;
		case 2:
			io_storm(2000);
			break;
		default:
			halt_wait(50);
			break;
		}
		rt_printf("BUSY %u\n", round);
	}
}
