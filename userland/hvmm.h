/* userland/hvmm.h — the userland process's interface between its parts:
 * subcommands, and (as they land) the VM/board, loaders and engines. */
#ifndef HVMM_USERLAND_H
#define HVMM_USERLAND_H

#define HVMM_VERSION "0.1.0"

/* Subcommands: each takes the arguments after its name (argv[0] is the
 * subcommand) and returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
