/* userland/run.c — `hvmm run`: placeholder until the machine issue lands. */
#include "userland/hvmm.h"
#include "userland/hybrid-dev.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
	/* hybrid engine, user-program mode (issue 5): userland/hybrid-run.c */
	int r = hybrid__run_cmdline(argc, argv);
	if (r >= 0)
		return r;

	fprintf(stderr, "hvmm run: no engine is built yet\n");
	return 1;
}
