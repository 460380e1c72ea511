/* tests/guests/hostile/user-io.c — port I/O from a CPL 3 process with IOPL 3
 * (paging on, user pages), as a Linux process after iopl(3) would do it:
 * first checks that it works as on hardware (the PIC's mask register and
 * the UART's scratch register read back what CPL 3 wrote; with IOPL 0 the
 * same IN is #GP(0), SDM Vol. 1 19.5.1), then IN of every size from all
 * 65536 ports, then OUT of 0x00 and 0xff as bytes, words and dwords to every
 * port but COM1, the debug-exit port and the reset controls (0x64, 0x92,
 * 0xcf9), and last a fast reset through port 0x92, still from CPL 3. The
 * engine has to carry every access to its device models (never to a real
 * port) and end with the reset. hvmm --no-reboot: status 4; QEMU
 * -no-reboot: status 0. */
#include "hostile.h"

const char rt_test_name[] = "user-io";

static int spared(uint32_t p)
{
	return (p >= 0x3f8 && p <= 0x3ff) || (p >= 0xf4 && p <= 0xf7) || p == 0x64 ||
	       p == 0x92 || (p >= 0xcf8 && p <= 0xcfb);
}

static inline void outw(uint16_t p, uint16_t v) { asm volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb_u(uint16_t p) { uint8_t v; asm volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }

uint32_t u_check(uint32_t), u_in(uint32_t), u_reads(uint32_t), u_writes(uint32_t), u_reset(uint32_t);

uint32_t u_check(uint32_t unused)
{
	uint32_t r;

	outb(0x21, 0xa5);
	r = inb_u(0x21);
	outb(0x21, 0xff);
	outb(0x3ff, 0x5a);
	r |= (uint32_t)inb_u(0x3ff) << 8;
	return r;
}

uint32_t u_in(uint32_t port)
{
	return inb_u((uint16_t)port);
}

/* every port, every size; a sum over the values so nothing is optimised
 * away (the sum itself differs between machines: not checked) */
uint32_t u_reads(uint32_t unused)
{
	uint32_t sum = 0, v;

	for (uint32_t p = 0; p < 0x10000; p++) {
		asm volatile("inb %w1,%b0" : "=a"(v) : "Nd"((uint16_t)p));
		sum += v & 0xff;
		/* QEMU 7.2's 16550 asserts on wider reads: byte reads only there */
		if (p >= 0x3f5 && p <= 0x3ff)
			continue;
		asm volatile("inw %w1,%w0" : "=a"(v) : "Nd"((uint16_t)p));
		sum += v & 0xffff;
		asm volatile("inl %w1,%0" : "=a"(v) : "Nd"((uint16_t)p));
		sum += v;
	}
	return 0x10000;
}

uint32_t u_writes(uint32_t val)
{
	uint32_t n = 0;

	for (uint32_t p = 0; p < 0x10000; p++) {
		if (spared(p))
			continue;
		outb((uint16_t)p, (uint8_t)val);
		n++;
	}
	for (uint32_t p = 0; p < 0x10000; p += 2) {
		if (spared(p) || spared(p + 1))
			continue;
		outw((uint16_t)p, (uint16_t)val);
		n++;
	}
	for (uint32_t p = 0; p < 0x10000; p += 4) {
		if (spared(p) || spared(p + 3))
			continue;
		outl((uint16_t)p, val);
		n++;
	}
	return n;
}

uint32_t u_reset(uint32_t unused)
{
	outb(0x92, 0x01);	/* fast reset (PS/2 system control port A) */
	for (volatile int i = 0; i < 1000; i++)
		;
	return 0xbad;
}

void test_main(void)
{
	struct rt_fault f;
	int v;

	rt_printf("HOSTILE user-io: IOPL 3 process: in/out of every size on all 65536 ports, "
		  "then a reset, from CPL 3\n");
	hostile_paging_on();
	v = rt_try(3, u_in, 0x21, &f);
	rt_expect_fault("user-in-iopl0-gp", v, &f, 13, 0, 0);
	write_eflags(read_eflags() | 0x3000);		/* IOPL 3, inherited by rt_try(3) */
	v = rt_try(3, u_check, 0, &f);
	rt_expect_fault("user-io-iopl3-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("user-io-pic-mask-readback", f.ret & 0xff, 0xa5);
	rt_expect_eq("user-io-uart-scratch-readback", f.ret >> 8, 0x5a);
	v = rt_try(3, u_reads, 0, &f);
	rt_expect_fault("user-in-all-ports", v, &f, -1, 0, 0);
	rt_printf("NOTE user-io: reads done\n");
	v = rt_try(3, u_writes, 0, &f);
	rt_expect_fault("user-out-0-all-ports", v, &f, -1, 0, 0);
	rt_printf("NOTE user-io: %u writes of 0 done\n", f.ret);
	v = rt_try(3, u_writes, 0xffffffff, &f);
	rt_expect_fault("user-out-ff-all-ports", v, &f, -1, 0, 0);
	rt_printf("NOTE user-io: %u writes of 0xff.. done\n", f.ret);
	rt_printf("NOTE user-io: reset from CPL 3\n");
	v = rt_try(3, u_reset, 0, &f);
	rt_printf("FAIL user-io: still running after the reset (%d)\n", v);
}
