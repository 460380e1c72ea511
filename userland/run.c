/* userland/run.c — `hvmm run`: placeholder until the machine issue lands. */
#include "userland/hvmm.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "hvmm run: no engine is built yet\n");
	return 1;
}
