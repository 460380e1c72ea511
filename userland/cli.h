/* userland/cli.h — `hvmm run` options: parsing and the sizes they accept. */
#ifndef HVMM_CLI_H
#define HVMM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_MAX_DISKS	8
/* Guest RAM bounds. Below 4 MiB not even a Multiboot test kernel has room for
 * its page tables and stack; above 3 GiB RAM would collide with the PCI/APIC
 * MMIO hole at 0xc0000000-0xffffffff (this board has no RAM above 4 GiB). */
#define RUN_MEM_MIN	(4ull << 20)
#define RUN_MEM_MAX	(3ull << 30)
#define RUN_MEM_DEFAULT	(256ull << 20)

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_UNIX };

struct run_disk {
	const char *path;
	bool readonly;
};

struct run_opts {
	const char *kernel;		/* NULL: the default guest */
	const char *initrd;
	const char *append;
	uint64_t mem;
	struct run_disk disks[RUN_MAX_DISKS];
	unsigned ndisks;
	enum serial_kind serial;
	const char *serial_path;	/* for file: and unix: */
	const char *engine;		/* "interp" or "hybrid" */
	/* --irqchip: where the PIC pair, PIT, port 0x61 and 0x80 run:
	 * "module" (hvmm.ko, docs/kirq.md; the hybrid default) or "user" */
	const char *irqchip;
	const char *user_program;	/* hybrid engine: a guest user program */
	const char *stats_file;		/* --stats=FILE */
	bool stats;
	bool no_reboot;
	bool no_native;			/* hybrid: interpret guest user code too */
	bool bt;			/* hybrid: --bt given (translation is the default) */
	bool no_bt;			/* hybrid: interpret guest kernel code (--no-bt) */
	bool guest_decompress;		/* bzImage: run its own decompressor */
	bool help;
};

/* Parses a memory size: digits with an optional K/M/G suffix (binary units;
 * no suffix means MiB, as QEMU's -m). Returns 0 and *out in bytes, or -EINVAL
 * for syntax errors and -ERANGE outside [RUN_MEM_MIN, RUN_MEM_MAX]. */
int cli__parse_size(const char *s, uint64_t *out);

/* Parses `hvmm run` arguments (argv[0] is "run") into *o, filling defaults.
 * Returns 0, or -EINVAL with a one-line reason in err (no file is opened:
 * run.c checks files). --help sets o->help and returns 0. */
int cli__parse_run(int argc, const char *const *argv, struct run_opts *o, char *err, size_t errlen);

/* Prints `hvmm run --help`. */
void cli__usage(void *file);

#endif
