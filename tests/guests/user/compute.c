/* compute — a CPU-bound integer loop (xorshift, multiply, divide, shifts,
 * branches) printing its checksum next to the expected value; exit 0 when
 * they match. The expected value was computed natively on x86. */
#include "lib/ulib.h"

#define ITERATIONS	20000000u
#define EXPECTED	0x5379f2cbu	/* also checked by an independent Python model */

int main(void)
{
	uint32_t x = 2463534242u, acc = 0, odd = 0;

	for (uint32_t i = 0; i < ITERATIONS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		acc = acc * 31 + ((x >> 3) ^ i);
		acc += x % 1000003u;
		if (x & 1)
			odd++;
		else
			acc = (acc << 7) | (acc >> 25);
	}
	acc ^= odd;
	put("compute: checksum ");
	puthex(acc);
	put(" expected ");
	puthex(EXPECTED);
	put(acc == EXPECTED ? " ok\n" : " MISMATCH\n");
	return acc == EXPECTED ? 0 : 1;
}
