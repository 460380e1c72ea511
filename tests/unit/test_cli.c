/* tests/unit/test_cli.c — `hvmm run` option parsing: sizes, defaults, errors. */
#include "userland/cli.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define ARGV(...) ((const char *[]){ "run", __VA_ARGS__, NULL })
#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0]) - 1))

static struct run_opts o;
static char err[256];

static int parse(int argc, const char **argv)
{
	return cli__parse_run(argc, argv, &o, err, sizeof(err));
}

static void test_sizes(void)
{
	uint64_t v = 0;
	CU_ASSERT_EQUAL(cli__parse_size("256M", &v), 0);
	CU_ASSERT_EQUAL(v, 256ull << 20);
	CU_ASSERT_EQUAL(cli__parse_size("1G", &v), 0);
	CU_ASSERT_EQUAL(v, 1ull << 30);
	CU_ASSERT_EQUAL(cli__parse_size("64", &v), 0);		/* MiB, as QEMU */
	CU_ASSERT_EQUAL(v, 64ull << 20);
	CU_ASSERT_EQUAL(cli__parse_size("8192k", &v), 0);
	CU_ASSERT_EQUAL(v, 8ull << 20);
	CU_ASSERT_EQUAL(cli__parse_size("512MiB", &v), 0);
	CU_ASSERT_EQUAL(v, 512ull << 20);
	CU_ASSERT_EQUAL(cli__parse_size("3G", &v), 0);
	v = 7;
	CU_ASSERT_EQUAL(cli__parse_size("", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("M", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("-1G", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("12X", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("1GG", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("1.5G", &v), -EINVAL);
	CU_ASSERT_EQUAL(cli__parse_size("3M", &v), -ERANGE);		/* too small */
	CU_ASSERT_EQUAL(cli__parse_size("4097M", &v), -ERANGE);	/* too large */
	CU_ASSERT_EQUAL(cli__parse_size("99999999999999999999999G", &v), -ERANGE);
	CU_ASSERT_EQUAL(cli__parse_size("17179869184G", &v), -ERANGE);	/* 2^64 bytes */
	CU_ASSERT_EQUAL(v, 7);		/* untouched on error */
}

static void test_defaults(void)
{
	const char *v[] = { "run", NULL };
	CU_ASSERT_EQUAL(parse(1, v), 0);
	CU_ASSERT_PTR_NULL(o.kernel);
	CU_ASSERT_EQUAL(o.mem, RUN_MEM_DEFAULT);
	CU_ASSERT_STRING_EQUAL(o.engine, "interp");
	CU_ASSERT_STRING_EQUAL(o.irqchip, "user");	/* interp: always userland */
	CU_ASSERT_EQUAL(o.serial, SERIAL_STDIO);
	CU_ASSERT_EQUAL(o.ndisks, 0);
	CU_ASSERT_FALSE(o.no_reboot || o.stats || o.help || o.guest_decompress);
}

static void test_all_options(void)
{
	const char *v[] = { "run", "--kernel", "k", "--initrd=i", "--append",
		"console=ttyS0 quiet", "--mem", "1G", "--disk", "a.img", "--disk=b.img,ro",
		"--serial", "file:/tmp/x", "--no-reboot", "--stats=s.txt", "--engine",
		"hybrid", "--user-program", "p", "--guest-decompress", NULL };
	CU_ASSERT_EQUAL(parse(ARGC(v), v), 0);
	CU_ASSERT_STRING_EQUAL(o.kernel, "k");
	CU_ASSERT_STRING_EQUAL(o.initrd, "i");
	CU_ASSERT_STRING_EQUAL(o.append, "console=ttyS0 quiet");
	CU_ASSERT_EQUAL(o.mem, 1ull << 30);
	CU_ASSERT_EQUAL(o.ndisks, 2);
	CU_ASSERT_STRING_EQUAL(o.disks[0].path, "a.img");
	CU_ASSERT_FALSE(o.disks[0].readonly);
	CU_ASSERT_STRING_EQUAL(o.disks[1].path, "b.img");
	CU_ASSERT_TRUE(o.disks[1].readonly);
	CU_ASSERT_EQUAL(o.serial, SERIAL_FILE);
	CU_ASSERT_STRING_EQUAL(o.serial_path, "/tmp/x");
	CU_ASSERT_TRUE(o.no_reboot);
	CU_ASSERT_TRUE(o.guest_decompress);
	CU_ASSERT_TRUE(o.stats);
	CU_ASSERT_STRING_EQUAL(o.stats_file, "s.txt");
	CU_ASSERT_STRING_EQUAL(o.engine, "hybrid");
	CU_ASSERT_STRING_EQUAL(o.user_program, "p");
}

static void test_serial_kinds(void)
{
	const char **v = ARGV("--serial", "unix:/tmp/sock");
	CU_ASSERT_EQUAL(parse(3, v), 0);
	CU_ASSERT_EQUAL(o.serial, SERIAL_UNIX);
	CU_ASSERT_STRING_EQUAL(o.serial_path, "/tmp/sock");
	const char **w = ARGV("--serial", "stdio");
	CU_ASSERT_EQUAL(parse(3, w), 0);
	CU_ASSERT_EQUAL(o.serial, SERIAL_STDIO);
}

/* Each bad command line fails with -EINVAL and a message naming the problem. */
static void expect_bad(int argc, const char **argv, const char *needle)
{
	err[0] = 0;
	CU_ASSERT_EQUAL(parse(argc, argv), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));		/* one line */
}

static void test_errors(void)
{
	expect_bad(2, ARGV("--frob"), "unknown option '--frob'");
	expect_bad(2, ARGV("-k"), "unexpected argument");
	expect_bad(2, ARGV("vmlinuz"), "unexpected argument");
	expect_bad(2, ARGV("--kernel"), "needs an argument");
	expect_bad(2, ARGV("--kernel="), "non-empty");
	expect_bad(3, ARGV("--mem", "lots"), "not a size");
	expect_bad(3, ARGV("--mem", "1M"), "out of range");
	expect_bad(3, ARGV("--mem", "64G"), "out of range");
	expect_bad(3, ARGV("--serial", "tcp:1234"), "expected stdio");
	expect_bad(3, ARGV("--serial", "file:"), "expected stdio");
	expect_bad(3, ARGV("--engine", "kvm"), "expected interp or hybrid");
	expect_bad(3, ARGV("--disk", "x.img,rx"), "unknown option 'rx'");
	expect_bad(3, ARGV("--disk", ",ro"), "empty file name");
	expect_bad(2, ARGV("--no-reboot=1"), "takes no argument");
	expect_bad(2, ARGV("--guest-decompress=no"), "takes no argument");
	expect_bad(3, ARGV("--user-program", "p"), "needs --engine hybrid");
	expect_bad(3, ARGV("--irqchip", "kernel"), "--irqchip kernel: expected user or module");
	expect_bad(2, ARGV("--irqchip="), "non-empty");
	expect_bad(3, ARGV("--irqchip", "module"), "--irqchip module needs --engine hybrid");
	const char *many[2 + 2 * (RUN_MAX_DISKS + 1)];
	many[0] = "run";
	for (int i = 0; i <= RUN_MAX_DISKS; i++)
		many[1 + 2 * i] = "--disk", many[2 + 2 * i] = "d.img";
	many[1 + 2 * (RUN_MAX_DISKS + 1)] = NULL;
	expect_bad(1 + 2 * (RUN_MAX_DISKS + 1), many, "too many --disk");
}

/* --irqchip: module by default under the hybrid engine, user on request. */
static void test_irqchip(void)
{
	CU_ASSERT_EQUAL(parse(3, ARGV("--engine", "hybrid")), 0);
	CU_ASSERT_STRING_EQUAL(o.irqchip, "module");
	CU_ASSERT_EQUAL(parse(4, ARGV("--engine=hybrid", "--irqchip", "user")), 0);
	CU_ASSERT_STRING_EQUAL(o.irqchip, "user");
	CU_ASSERT_EQUAL(parse(3, ARGV("--irqchip=module", "--engine=hybrid")), 0);
	CU_ASSERT_STRING_EQUAL(o.irqchip, "module");
	CU_ASSERT_EQUAL(parse(2, ARGV("--irqchip=user")), 0);	/* interp: allowed */
	CU_ASSERT_STRING_EQUAL(o.irqchip, "user");
}

/* Translated guest kernel code is the hybrid engine's default: --no-bt
 * turns it off; the last of --bt and --no-bt wins. */
static void test_bt(void)
{
	CU_ASSERT_EQUAL(parse(3, ARGV("--engine", "hybrid")), 0);
	CU_ASSERT_FALSE(o.no_bt);
	CU_ASSERT_EQUAL(parse(4, ARGV("--engine=hybrid", "--no-bt", "--bt")), 0);
	CU_ASSERT_FALSE(o.no_bt);
	CU_ASSERT_TRUE(o.bt);
	CU_ASSERT_EQUAL(parse(4, ARGV("--engine=hybrid", "--bt", "--no-bt")), 0);
	CU_ASSERT_TRUE(o.no_bt);
	CU_ASSERT_FALSE(o.bt);
	expect_bad(2, ARGV("--no-bt=1"), "");
}

static void test_help(void)
{
	const char **v = ARGV("--mem", "64M", "--help");
	CU_ASSERT_EQUAL(parse(4, v), 0);
	CU_ASSERT_TRUE(o.help);
}

static CU_TestInfo cli_tests[] = {
	{"sizes", test_sizes},
	{"defaults", test_defaults},
	{"all_options", test_all_options},
	{"serial_kinds", test_serial_kinds},
	{"errors", test_errors},
	{"irqchip", test_irqchip},
	{"bt", test_bt},
	{"help", test_help},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cli, .tests = cli_tests);
