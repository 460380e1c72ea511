/* tests/guests/hostile/io-storm.c — IN from every port (byte, word, dword),
 * then OUT of 0x00 and 0xff bytes and 0xffff words to every port, COM1 and
 * the debug-exit port last. Devices get reprogrammed, reset lines pulsed:
 * the engine must end in a guest reset/shutdown or run on, never hurt the
 * host. QEMU -no-reboot: the 0xff write to port 0x92 (fast reset) ends it
 * with status 0. */
#include "hostile.h"

const char rt_test_name[] = "io-storm";

static int spared(uint32_t p)
{
	return (p >= 0x3f8 && p <= 0x3ff) || (p >= 0xf4 && p <= 0xf7);
}

static void outw(uint16_t p, uint16_t v) { asm volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }

void test_main(void)
{
	rt_printf("HOSTILE io-storm: in and out on all 65536 ports\n");
	for (uint32_t p = 0; p < 0x10000; p++) {
		uint32_t v;
		asm volatile("inb %w1,%b0" : "=a"(v) : "Nd"((uint16_t)p));
		/* QEMU 7.2's 16550 asserts on wider reads (serial.c: size == 1):
		 * COM1 gets byte reads only, so that the reference run goes on */
		if (p >= 0x3f5 && p <= 0x3ff)
			continue;
		asm volatile("inw %w1,%w0" : "=a"(v) : "Nd"((uint16_t)p));
		asm volatile("inl %w1,%0" : "=a"(v) : "Nd"((uint16_t)p));
	}
	rt_printf("NOTE io-storm: reads done\n");
	for (uint32_t p = 0; p < 0x10000; p++)
		if (!spared(p))
			outb((uint16_t)p, 0x00);
	rt_printf("NOTE io-storm: 0x00 writes done\n");
	for (uint32_t p = 0; p < 0x10000; p++)
		if (!spared(p))
			outb((uint16_t)p, 0xff);
	rt_printf("NOTE io-storm: 0xff writes done\n");
	for (uint32_t p = 0; p < 0x10000; p += 2)
		if (!spared(p))
			outw((uint16_t)p, 0xffff);
	rt_printf("NOTE io-storm: 0xffff writes done\n");
	for (uint32_t p = 0x3f9; p <= 0x3ff; p++)
		outb((uint16_t)p, 0xff);
	outb(0xf5, 0xff);
	outb(0xf6, 0xff);
	outb(0xf7, 0xff);
	rt_check(1, "io-storm-survived", "%s", "");
	outb(0xf4, 0xff);	/* the debug-exit port, last */
}
