/* tests/fs/libc-check.c — checks of monitor/fs-libc.c (memcpy, memmove,
 * memset, memcmp) in the freestanding executable: overlap in both
 * directions, zero lengths, unsigned comparison, and lengths and offsets
 * that are not multiples of the 8-byte steps the bulk of each one takes. */
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

/* Odd lengths at odd offsets: the 8-byte bulk plus the byte tail, and a
 * difference found inside a word, in the tail, or in a later word. */
static int check_words(void)
{
	static const char src[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
	uint8_t buf[48], cmp[48];
	int fails = 0;

	memset(buf, '.', sizeof(buf));
	memcpy(buf + 3, src + 5, 37);
	fails += check_bytes("memcpy 37 at +3", buf,
			     "...56789abcdefghijklmnopqrstuvwxyzABCDEF........", 48);
	memset(buf + 1, 'q', 19);
	fails += check_bytes("memset 19 at +1", buf,
			     ".qqqqqqqqqqqqqqqqqqqmnopqrstuvwxyzABCDEF........", 48);
	memcpy(cmp, buf, sizeof(buf));
	if (memcmp(buf, cmp, sizeof(buf)) != 0)
		fails += fs_harness__fail("memcmp", "48 equal bytes", 1, 0);
	cmp[13] = 'r';	/* inside the second word */
	if (memcmp(buf, cmp, 30) >= 0 || memcmp(cmp, buf, 30) <= 0)
		fails += fs_harness__fail("memcmp", "byte 13 of 30", 0, 1);
	if (memcmp(buf, cmp, 13) != 0)
		fails += fs_harness__fail("memcmp", "13-byte equal prefix", 1, 0);
	cmp[13] = buf[13];
	cmp[45] = 0x80;	/* in the byte tail of 46 */
	if (memcmp(buf + 1, cmp + 1, 45) >= 0 || memcmp(buf, cmp, 45) != 0)
		fails += fs_harness__fail("memcmp", "tail byte 45", 0, 1);
	return fails;
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
	return fails + check_words();
}
