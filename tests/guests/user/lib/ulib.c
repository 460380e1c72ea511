/* tests/guests/user/lib/ulib.c — system calls and output helpers (ulib.h). */
#include "ulib.h"

int sys_write(int fd, const void *buf, uint32_t len)
{
	int r;
	asm volatile("int $0x80" : "=a"(r) : "a"(SYS_write), "b"(fd), "c"(buf), "d"(len)
		     : "memory");
	return r;
}

void sys_exit(int status)
{
	for (;;)
		asm volatile("int $0x80" :: "a"(SYS_exit), "b"(status));
}

void put(const char *s)
{
	uint32_t n = 0;
	while (s[n])
		n++;
	sys_write(1, s, n);
}

void puthex(uint32_t v)
{
	char b[11] = "0x";
	for (int i = 0; i < 8; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
	b[10] = 0;
	put(b);
}

void putdec(uint32_t v)
{
	char b[11];
	int n = 10;
	b[n] = 0;
	do {
		b[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b + n);
}

void expect_fault(int vector, long error, uint32_t eip, uint32_t cr2)
{
	put("EXPECT vector=");
	putdec((uint32_t)vector);
	if (error >= 0) {
		put(" error=");
		puthex((uint32_t)error);
	}
	put(" eip=");
	puthex(eip);
	if (cr2) {
		put(" cr2=");
		puthex(cr2);
	}
	put("\n");
}

void survived(void)
{
	put("FAIL: the fault did not happen\n");
	sys_exit(1);
}
