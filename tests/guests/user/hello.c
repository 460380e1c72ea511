/* hello — the smallest round trip: one write, then exit status 7. */
#include "lib/ulib.h"

int main(void)
{
	put("hello from a 32-bit user program\n");
	return 7;
}
