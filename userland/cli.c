/* userland/cli.c — `hvmm run` option parsing. Every bad input gives one line
 * in err; nothing here touches files (run.c checks them). */
#include "userland/cli.h"
#include "userland/hvmm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli__parse_size(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	uint64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	unsigned shift = 20;			/* bare number: MiB, as QEMU */
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default: return -EINVAL;
	}
	if (p[-1] > '9' && (!strcmp(p, "iB") || !strcmp(p, "B")))
		p += strlen(p);			/* 256MiB, 256MB */
	if (*p)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	v <<= shift;
	if (v < RUN_MEM_MIN || v > RUN_MEM_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

static int fail(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && n)
		vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_disk(const char *arg, struct run_opts *o, char *err, size_t n)
{
	if (o->ndisks == RUN_MAX_DISKS)
		return fail(err, n, "too many --disk options (at most %d)", RUN_MAX_DISKS);
	struct run_disk *d = &o->disks[o->ndisks];
	const char *comma = strchr(arg, ',');
	d->readonly = false;
	if (comma) {
		if (strcmp(comma + 1, "ro") && strcmp(comma + 1, "rw"))
			return fail(err, n, "--disk %s: unknown option '%s' (only ro or rw)",
				    arg, comma + 1);
		d->readonly = !strcmp(comma + 1, "ro");
		/* arg lives in argv, which we may not write: terminate in place is
		 * not allowed, so keep a private copy of the path */
		static char paths[RUN_MAX_DISKS][4096];
		size_t len = (size_t)(comma - arg);
		if (len >= sizeof(paths[0]))
			return fail(err, n, "--disk: path too long");
		memcpy(paths[o->ndisks], arg, len);
		paths[o->ndisks][len] = 0;
		d->path = paths[o->ndisks];
	} else {
		d->path = arg;
	}
	if (!*d->path)
		return fail(err, n, "--disk: empty file name");
	o->ndisks++;
	return 0;
}

static int parse_serial(const char *arg, struct run_opts *o, char *err, size_t n)
{
	if (!strcmp(arg, "stdio")) {
		o->serial = SERIAL_STDIO;
		o->serial_path = NULL;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		o->serial = SERIAL_FILE;
		o->serial_path = arg + 5;
	} else if (!strncmp(arg, "unix:", 5) && arg[5]) {
		o->serial = SERIAL_UNIX;
		o->serial_path = arg + 5;
	} else {
		return fail(err, n, "--serial %s: expected stdio, file:PATH or unix:PATH", arg);
	}
	return 0;
}

/* Options that take a value, in the order of the help text. */
static const char *const valued[] = {
	"kernel", "initrd", "append", "mem", "disk", "serial", "engine",
	"irqchip", "user-program", NULL,
};

static bool takes_value(const char *name)
{
	for (unsigned i = 0; valued[i]; i++)
		if (!strcmp(valued[i], name))
			return true;
	return false;
}

int cli__parse_run(int argc, const char *const *argv, struct run_opts *o, char *err, size_t n)
{
	memset(o, 0, sizeof(*o));
	o->mem = RUN_MEM_DEFAULT;
	o->engine = "interp";
	o->serial = SERIAL_STDIO;
	if (err && n)
		err[0] = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) || !a[2])
			return fail(err, n, "unexpected argument '%s' (options start with --)", a);
		char name[32];
		const char *val = NULL;
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (len >= sizeof(name))
			return fail(err, n, "unknown option '%s'", a);
		memcpy(name, a + 2, len);
		name[len] = 0;
		if (eq)
			val = eq + 1;

		if (takes_value(name)) {
			if (!val) {
				if (i + 1 >= argc)
					return fail(err, n, "option --%s needs an argument", name);
				val = argv[++i];
			}
			if (!*val && strcmp(name, "append"))
				return fail(err, n, "option --%s needs a non-empty argument", name);
		} else if (val && strcmp(name, "stats")) {
			return fail(err, n, "option --%s takes no argument", name);
		}

		if (!strcmp(name, "kernel")) {
			o->kernel = val;
		} else if (!strcmp(name, "initrd")) {
			o->initrd = val;
		} else if (!strcmp(name, "append")) {
			o->append = val;
		} else if (!strcmp(name, "mem")) {
			int r = cli__parse_size(val, &o->mem);
			if (r == -ERANGE)
				return fail(err, n, "--mem %s: out of range (%lluM to %lluG)", val,
					    RUN_MEM_MIN >> 20, RUN_MEM_MAX >> 30);
			if (r)
				return fail(err, n, "--mem %s: not a size (e.g. 256M, 1G)", val);
		} else if (!strcmp(name, "disk")) {
			if (parse_disk(val, o, err, n))
				return -EINVAL;
		} else if (!strcmp(name, "serial")) {
			if (parse_serial(val, o, err, n))
				return -EINVAL;
		} else if (!strcmp(name, "engine")) {
			if (strcmp(val, "interp") && strcmp(val, "hybrid"))
				return fail(err, n, "--engine %s: expected interp or hybrid", val);
			o->engine = val;
		} else if (!strcmp(name, "irqchip")) {
			if (strcmp(val, "user") && strcmp(val, "module"))
				return fail(err, n, "--irqchip %s: expected user or module", val);
			o->irqchip = val;
		} else if (!strcmp(name, "user-program")) {
			o->user_program = val;
		} else if (!strcmp(name, "no-reboot")) {
			o->no_reboot = true;
		} else if (!strcmp(name, "no-native")) {
			o->no_native = true;
		} else if (!strcmp(name, "bt")) {
			o->bt = true;
			o->no_bt = false;
		} else if (!strcmp(name, "no-bt")) {
			o->no_bt = true;
			o->bt = false;
		} else if (!strcmp(name, "guest-decompress")) {
			o->guest_decompress = true;
		} else if (!strcmp(name, "stats")) {
			if (val && !*val)
				return fail(err, n, "--stats=: empty file name");
			o->stats = true;
			o->stats_file = val;
		} else if (!strcmp(name, "help")) {
			o->help = true;
		} else {
			return fail(err, n, "unknown option '%s' (try `hvmm run --help`)", a);
		}
	}
	if (o->user_program && strcmp(o->engine, "hybrid"))
		return fail(err, n, "--user-program needs --engine hybrid");
	if (o->irqchip && !strcmp(o->irqchip, "module") && strcmp(o->engine, "hybrid"))
		return fail(err, n, "--irqchip module needs --engine hybrid");
	if (!o->irqchip)
		o->irqchip = strcmp(o->engine, "hybrid") ? "user" : "module";
	return 0;
}

void cli__usage(void *file)
{
	fprintf((FILE *)file,
		"usage: hvmm run [OPTIONS]\n"
		"\n"
		"Boots a 32-bit x86 guest. With no --kernel, boots the default guest\n"
		"(build/guest/vmlinuz + initrd.gz, made by `make guest`).\n"
		"\n"
		"  --kernel FILE       bzImage (Linux boot protocol) or Multiboot v1 kernel\n"
		"  --initrd FILE       Linux initrd, or the Multiboot module\n"
		"  --append CMDLINE    kernel command line\n"
		"  --mem SIZE          guest RAM, e.g. 256M, 1G (default 256M; %lluM to %lluG)\n"
		"  --disk FILE[,ro]    raw image as a virtio-blk disk (repeatable)\n"
		"  --serial KIND       stdio (default), file:PATH or unix:PATH (a listening\n"
		"                      socket: hvmm waits for one client before booting)\n"
		"  --engine NAME       interp (default) or hybrid (needs /dev/hvmm)\n"
		"  --irqchip WHERE     hybrid engine: module (default) runs the PIC, PIT,\n"
		"                      port 0x61 and 0x80 inside hvmm.ko (no exit per\n"
		"                      timer tick); user runs them in this process\n"
		"  --user-program FILE hybrid engine only: run FILE as a guest user program\n"
		"  --no-reboot         exit with status %d when the guest reboots\n"
		"  --no-native         hybrid engine: interpret guest user code too\n"
		"  --bt                hybrid engine: run guest kernel code translated at\n"
		"                      CPL 1 (the default)\n"
		"  --no-bt             hybrid engine: interpret guest kernel code instead\n"
		"  --guest-decompress  bzImage: let the guest run the kernel's own\n"
		"                      decompressor (default: an XZ kernel is unpacked\n"
		"                      by the loader and started at its vmlinux entry)\n"
		"  --stats[=FILE]      print counters at exit (and write them to FILE)\n"
		"  --help              this text\n"
		"\n"
		"Exit status: 0 guest power-off; %d reboot under --no-reboot; %d triple fault\n"
		"or VM error; %d bad command line or file; (V<<1)|1 when the guest writes V\n"
		"to the debug-exit port 0xf4. On a stdio console, Ctrl-A x quits.\n",
		RUN_MEM_MIN >> 20, RUN_MEM_MAX >> 30, HVMM_EXIT_REBOOT,
		HVMM_EXIT_REBOOT, HVMM_EXIT_VM_ERROR, HVMM_EXIT_USAGE);
}
