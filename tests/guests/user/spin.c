/* spin — prints one line, then loops forever with no system call: the
 * guest for "kill -9 during a long guest loop" and "a guest spinning for
 * 10 s must not stall the host". Natively it runs until killed. */
#include "lib/ulib.h"

int main(void)
{
	volatile uint32_t n = 0;

	put("spin: looping until killed\n");
	for (;;)
		n++;
}
