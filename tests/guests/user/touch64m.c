/* touch64m — writes one word in every 4 KiB page of a 64 MiB .bss array
 * (16384 pages, each a first touch: a page fault natively, a shadow fault
 * under hvmm), then reads them all back; exit 0 when every value is right. */
#include "lib/ulib.h"

#define SIZE	(64u << 20)
#define PAGE	4096u

static uint8_t big[SIZE] __attribute__((aligned(4096)));

int main(void)
{
	uint32_t pages = SIZE / PAGE, bad = 0, sum = 0;

	for (uint32_t p = 0; p < pages; p++)
		*(volatile uint32_t *)(big + p * PAGE + (p % 1000) * 4) = p * 2654435761u;
	for (uint32_t p = 0; p < pages; p++) {
		uint32_t v = *(volatile uint32_t *)(big + p * PAGE + (p % 1000) * 4);
		bad += v != p * 2654435761u;
		sum += v;
	}
	put("touch64m: touched ");
	putdec(pages);
	put(" pages, ");
	putdec(bad);
	put(" wrong, sum ");
	puthex(sum);
	put(bad ? " FAIL\n" : " ok\n");
	return bad ? 1 : 0;
}
