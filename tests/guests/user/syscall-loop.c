/* syscall-loop — 20000 zero-length write(1, buf, 0) calls (each returns 0)
 * and one line at the end: under hvmm every call is an exit to userland and
 * back, so this measures the world-switch round trip; exit 0 when every
 * call returned 0. */
#include "lib/ulib.h"

#define CALLS	20000u

int main(void)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < CALLS; i++)
		bad += sys_write(1, "", 0) != 0;
	put("syscall-loop: ");
	putdec(CALLS);
	put(" calls, ");
	putdec(bad);
	put(bad ? " bad FAIL\n" : " bad ok\n");
	return bad ? 1 : 0;
}
