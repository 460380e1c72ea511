/* userland/info.c — `hvmm info`: placeholder until the module's first face lands. */
#include "userland/hvmm.h"

#include <stdio.h>

int cmd_info(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "hvmm info: /dev/hvmm is not available\n");
	return 1;
}
