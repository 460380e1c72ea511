/* userland/hvmm.h — the userland process's interface between its parts:
 * subcommands, and (as they land) the VM/board, loaders and engines. */
#ifndef HVMM_USERLAND_H
#define HVMM_USERLAND_H

#define HVMM_VERSION "0.1.0"

/* Exit statuses of `hvmm run`. Odd values belong to the guest: writing V to
 * the debug-exit port ends the VM with (V << 1) | 1, as QEMU's isa-debug-exit. */
#define HVMM_EXIT_POWEROFF	0	/* the guest powered off */
#define HVMM_EXIT_USAGE		2	/* bad command line, file or image */
#define HVMM_EXIT_REBOOT	4	/* the guest rebooted under --no-reboot */
#define HVMM_EXIT_VM_ERROR	8	/* triple fault, engine failure */

/* Subcommands: each takes the arguments after its name (argv[0] is the
 * subcommand) and returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);

#endif
