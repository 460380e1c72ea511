/* userland/main.c — `hvmm` command dispatch. */
#include "userland/hvmm.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvmm COMMAND [OPTIONS]\n"
		"\n"
		"A hosted hybrid virtual machine monitor for 32-bit x86 guests.\n"
		"\n"
		"commands:\n"
		"  run       boot a guest (see `hvmm run --help`)\n"
		"  info      show the kernel module's ABI version and host CPU facts\n"
		"  version   print hvmm's version\n"
		"  help      this text\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("hvmm %s\n", HVMM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hvmm: unknown command '%s' (try `hvmm help`)\n", cmd);
	return 2;
}
