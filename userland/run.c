/* userland/run.c — `hvmm run`: check the command line and the files, build
 * the board, load the kernel, run the chosen engine, and turn the way the VM
 * stopped into an exit status (see HVMM_EXIT_* in hvmm.h). A guest reboot
 * rebuilds the whole VM from the same files. */
#include "userland/hvmm.h"
#include "userland/board.h"
#include "userland/cli.h"
#include "userland/engine.h"
#include "userland/hybrid-dev.h"
#include "userland/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_IMAGE (1ull << 30)	/* larger than any guest RAM we accept */

struct file_buf {
	uint8_t *data;
	size_t len;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hvmm run: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return HVMM_EXIT_USAGE;
}

/* Reads a whole regular file. Returns 0 or -errno. */
static int read_file(const char *path, struct file_buf *fb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return e;
	}
	if ((uint64_t)st.st_size > MAX_IMAGE) {
		close(fd);
		return -EFBIG;
	}
	fb->len = (size_t)st.st_size;
	fb->data = malloc(fb->len ? fb->len : 1);
	if (!fb->data) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < fb->len) {
		ssize_t r = read(fd, fb->data + got, fb->len - got);
		if (r <= 0) {
			int e = r < 0 ? -errno : -EIO;
			close(fd);
			free(fb->data);
			fb->data = NULL;
			return e;
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}

/* build/guest next to build/hvmm: the default guest made by `make guest`. */
static void default_guest_path(char *out, size_t n, const char *file)
{
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l <= 0) {
		snprintf(out, n, "build/guest/%s", file);
		return;
	}
	exe[l] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(out, n, "%s/guest/%s", exe, file);
}

static const struct engine_ops *find_engine(const char *name)
{
	const struct engine_ops *engines[] = { &engine_interp, &engine_hybrid };
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (engines[i] && !strcmp(engines[i]->name, name))
			return engines[i];
	return NULL;
}

static const char *load_error(int rc)
{
	switch (rc) {
	case -ENOEXEC: return "not a loadable kernel (bad magic, checksum or ELF header)";
	case -EOPNOTSUPP: return "needs a boot-protocol feature hvmm lacks (Linux boot protocol < 2.06, zImage, or an unknown Multiboot flag)";
	case -ENOMEM: return "does not fit in guest RAM (try a larger --mem)";
	case -E2BIG: return "command line too long for this kernel";
	case -EINVAL: return "malformed image (truncated, inconsistent header or overlapping segments)";
	default: return strerror(-rc);
	}
}

struct run_files {
	struct file_buf kernel, initrd;
	int kind;
	char mb_cmdline[8192];
};

static int load_kernel(struct board *b, const struct run_opts *o, struct run_files *f,
		       struct boot_entry *entry)
{
	if (f->kind == IMAGE_BZIMAGE)
		return loader_linux__load_flags(&b->ram, &b->e820, f->kernel.data,
						f->kernel.len, f->initrd.data, f->initrd.len,
						o->append,
						o->guest_decompress ? 0 : LOADER_UNPACK, entry);
	return loader_multiboot__load(&b->ram, &b->e820, f->kernel.data, f->kernel.len,
				      f->initrd.data, f->initrd.len, f->mb_cmdline,
				      o->initrd, entry);
}

static void print_stats(const struct run_opts *o, const struct engine_ops *eng,
			void *state, struct board *b, double seconds, const char *when)
{
	FILE *outs[2] = { stderr, NULL };
	if (o && o->stats_file) {
		outs[1] = fopen(o->stats_file, "w");
		if (!outs[1])
			fprintf(stderr, "hvmm run: --stats=%s: %s\n", o->stats_file, strerror(errno));
	}
	for (int i = 0; i < 2; i++) {
		FILE *f = outs[i];
		if (!f)
			continue;
		if (f == stderr)
			fprintf(f, "\r\n--- hvmm statistics%s ---\n", when);
		fprintf(f, "engine %s\nseconds %.3f\n", eng->name, seconds);
		if (eng->stats)
			eng->stats(state, f);
		board__stats(b, f);
		if (f != stderr)
			fclose(f);
	}
}

/* A SIGUSR2 snapshot: the same counters as --stats, to stderr only. */
struct snapshot {
	const struct engine_ops *eng;
	struct board *b;
	void *state;
	uint64_t t0;
};

static void snapshot_print(void *ctx)
{
	struct snapshot *s = ctx;

	if (s->state)
		print_stats(NULL, s->eng, s->state, s->b,
			    (double)(board__now(s->b) - s->t0) / 1e9, " (SIGUSR2)");
}

int cmd_run(int argc, char **argv)
{
	static struct run_opts o;
	char err[512];
	if (cli__parse_run(argc, (const char *const *)argv, &o, err, sizeof(err)))
		return usage_error("%s", err);
	if (o.help) {
		cli__usage(stdout);
		return 0;
	}

	if (!strcmp(o.engine, "hybrid") && access("/dev/hvmm", F_OK))
		return usage_error("--engine hybrid: /dev/hvmm is missing: the hvmm kernel module is not loaded (insmod hvmm.ko)");

	/* Hybrid engine, user-program mode (issue 5): a static 32-bit Linux ELF
	 * runs natively at CPL 3 in the monitor world (userland/hybrid-run.c). */
	if (o.user_program) {
		if (access(o.user_program, R_OK))
			return usage_error("--user-program %s: %s", o.user_program, strerror(errno));
		struct hybrid_opts ho = {
			.mem_mib = (unsigned)(o.mem >> 20),
			.stats = o.stats,
		};
		return hybrid__run_user_program(o.user_program, &ho);
	}

	/* The default guest: build/guest/{vmlinuz,initrd.gz}, serial console. */
	static char def_kernel[PATH_MAX + 16], def_initrd[PATH_MAX + 16];
	if (!o.kernel) {
		default_guest_path(def_kernel, sizeof(def_kernel), "vmlinuz");
		if (access(def_kernel, F_OK))
			return usage_error("no --kernel given and no default guest at %s (run `make guest`)",
					   def_kernel);
		o.kernel = def_kernel;
		if (!o.initrd) {
			default_guest_path(def_initrd, sizeof(def_initrd), "initrd.gz");
			o.initrd = def_initrd;
		}
		if (!o.append)
			o.append = "console=ttyS0";
	}

	static struct run_files f;
	int rc = read_file(o.kernel, &f.kernel);
	if (rc)
		return usage_error("--kernel %s: %s", o.kernel, strerror(-rc));
	if (o.initrd && (rc = read_file(o.initrd, &f.initrd)))
		return usage_error("--initrd %s: %s", o.initrd, strerror(-rc));
	for (unsigned i = 0; i < o.ndisks; i++) {
		int fd = open(o.disks[i].path, (o.disks[i].readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0)
			return usage_error("--disk %s: %s", o.disks[i].path, strerror(errno));
		close(fd);
	}
	f.kind = loader__probe(f.kernel.data, f.kernel.len);
	if (f.kind < 0)
		return usage_error("--kernel %s: neither a bzImage nor a Multiboot kernel", o.kernel);
	/* Multiboot command line: the kernel's file name, then --append (QEMU). */
	snprintf(f.mb_cmdline, sizeof(f.mb_cmdline), "%s%s%s", o.kernel,
		 o.append ? " " : "", o.append ? o.append : "");

	/* Checked after the first load, so that every file is checked first. */
	const struct engine_ops *eng = find_engine(o.engine);

	static struct board b;
	if ((rc = board__create(&b, &o, err, sizeof(err)))) {
		board__destroy(&b);
		return usage_error("%s", err);
	}
	uint64_t t0 = board__now(&b);
	int status;
	struct snapshot snap = { .eng = eng, .b = &b, .t0 = t0 };
	b.print_stats = snapshot_print;
	b.stats_ctx = &snap;
	for (;;) {
		struct boot_entry entry;
		if ((rc = load_kernel(&b, &o, &f, &entry))) {
			board__destroy(&b);
			return usage_error("--kernel %s: %s", o.kernel, load_error(rc));
		}
		if (!eng) {
			board__destroy(&b);
			return usage_error("--engine %s: this hvmm was built without that engine",
					   o.engine);
		}
		void *state = NULL;
		snap.state = NULL;
		if ((rc = eng->create(&b, &entry, &o, &state, err, sizeof(err)))) {
			board__destroy(&b);
			fprintf(stderr, "hvmm run: engine %s: %s\n", eng->name, err);
			return HVMM_EXIT_VM_ERROR;
		}
		snap.state = state;
		enum vm_stop why = eng->run(state);
		snap.state = NULL;
		if (why == VM_REBOOT && !o.no_reboot) {
			eng->destroy(state);
			if ((rc = board__reset(&b, err, sizeof(err)))) {
				board__destroy(&b);
				fprintf(stderr, "hvmm: reset failed: %s\n", err);
				return HVMM_EXIT_VM_ERROR;
			}
			continue;
		}
		/* restore the terminal before printing anything */
		chardev__close(&b.con);
		switch (why) {
		case VM_POWEROFF:
			status = HVMM_EXIT_POWEROFF;
			break;
		case VM_REBOOT:
			fprintf(stderr, "hvmm: guest rebooted (--no-reboot)\n");
			status = HVMM_EXIT_REBOOT;
			break;
		case VM_DEBUG_EXIT:
			/* (V << 1) | 1, truncated to 8 bits as the OS would */
			status = (int)(b.debug_exit_status & 0xff);
			break;
		case VM_QUIT:
			fprintf(stderr, "hvmm: stopped\n");
			status = 0;
			break;
		case VM_TRIPLE_FAULT:
			fprintf(stderr, "hvmm: guest triple fault\n");
			status = HVMM_EXIT_VM_ERROR;
			break;
		default:
			fprintf(stderr, "hvmm: VM error\n");
			status = HVMM_EXIT_VM_ERROR;
			break;
		}
		if (o.stats)
			print_stats(&o, eng, state, &b, (double)(board__now(&b) - t0) / 1e9, "");
		eng->destroy(state);
		board__destroy(&b);
		return status;
	}
}
