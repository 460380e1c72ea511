/* tests/fs/harness.c — C runtime of the freestanding test executables: an
 * own _start, write and exit_group as raw syscalls. Built with the monitor's
 * freestanding flags and linked with -nostdlib -static against
 * build/monitor-fs.a and build/zydis-fs.a: anything those archives need from
 * outside shows up here as a link error. */
#include "tests/fs/harness.h"

/* The kernel enters _start with RSP 16-byte aligned (x86-64 psABI 3.4.1);
 * the call leaves it at 8 mod 16 as every C function expects on entry. */
__asm__(".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xorl %ebp, %ebp\n"
	"	andq $-16, %rsp\n"
	"	call fs_harness__main\n"
	"	ud2\n"
	".size _start, . - _start\n");

#define NR_write	1
#define NR_exit_group	231

static long fs_syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

void fs_harness__puts(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	fs_syscall3(NR_write, 1, (long)s, n);
}

void fs_harness__put_hex(uint64_t v)
{
	char buf[19];
	int i = sizeof(buf);

	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	fs_syscall3(NR_write, 1, (long)&buf[i], (long)sizeof(buf) - i);
}

int fs_harness__fail(const char *name, const char *what, uint64_t got, uint64_t want)
{
	fs_harness__puts("FAIL ");
	fs_harness__puts(name);
	fs_harness__puts(": ");
	fs_harness__puts(what);
	fs_harness__puts(" got ");
	fs_harness__put_hex(got);
	fs_harness__puts(" want ");
	fs_harness__put_hex(want);
	fs_harness__puts("\n");
	return 1;
}

void fs_harness__main(void)
{
	int fails = fs_test__zydis() + fs_test__libc() + fs_test__shadowmm() +
		    fs_test__bt();

	fs_harness__puts(fails ? "fs-test: FAILED\n" : "fs-test: all checks passed\n");

	for (;;)
		fs_syscall3(NR_exit_group, fails ? 1 : 0, 0, 0);
}
