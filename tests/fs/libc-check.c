/* tests/fs/libc-check.c — checks of monitor/fs-libc.c (memcpy, memmove,
 * memset, memcmp) in the freestanding executable: overlap in both
 * directions, zero lengths, unsigned comparison. */
#include <stddef.h>
#include <stdint.h>

#include "monitor/fs-libc.h"
#include "tests/fs/harness.h"

static int check_bytes(const char *name, const uint8_t *got, const char *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != (uint8_t)want[i])
			return fs_harness__fail(name, "byte", got[i], (uint8_t)want[i]);
	return 0;
}

int fs_test__libc(void)
{
	uint8_t buf[16];
	int fails = 0;

	memcpy(buf, "abcdefghijklmno", 16);
	fails += check_bytes("memcpy", buf, "abcdefghijklmno", 16);
	if (memcpy(buf + 1, buf + 8, 0) != buf + 1)
		fails += fs_harness__fail("memcpy", "return value", 0, 1);
	fails += check_bytes("memcpy 0 bytes", buf, "abcdefghijklmno", 16);

	/* destination above source, overlapping: needs the descending copy */
	memmove(buf + 2, buf, 8);
	fails += check_bytes("memmove up", buf, "ababcdefghklmno", 16);
	/* destination below source, overlapping: ascending copy */
	memcpy(buf, "abcdefghijklmno", 16);
	memmove(buf, buf + 3, 8);
	fails += check_bytes("memmove down", buf, "defghijkijklmno", 16);
	if (memmove(buf + 4, buf + 4, 4) != buf + 4)
		fails += fs_harness__fail("memmove", "return value", 0, 1);

	memset(buf + 1, 0x1ff, 3);	/* stores (unsigned char)0x1ff */
	fails += check_bytes("memset", buf, "d\xff\xff\xffhijkijklmno", 16);
	memset(buf, 'z', 0);
	fails += check_bytes("memset 0 bytes", buf, "d\xff\xff\xffhijkijklmno", 16);

	if (memcmp("abc", "abd", 3) >= 0)
		fails += fs_harness__fail("memcmp", "abc < abd", 1, 0);
	if (memcmp("ab\x80", "ab\x01", 3) <= 0)	/* compared as unsigned char */
		fails += fs_harness__fail("memcmp", "0x80 > 0x01", 0, 1);
	if (memcmp("abc", "abd", 2) != 0 || memcmp("x", "y", 0) != 0)
		fails += fs_harness__fail("memcmp", "equal prefix", 1, 0);
	return fails;
}
