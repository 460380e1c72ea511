// SPDX-License-Identifier: GPL-2.0
/* tests/kmod/kmod-main.c — hvmm-fstest.ko: runs the test groups of tests/fs/
 * (freestanding objects, linked in by scripts/monitor.kbuild) from its init
 * function, i.e. at CPL 0 in the module area with relocations applied by the
 * kernel's module loader. Prints "hvmm-fstest: all checks passed" and loads,
 * or prints each failure and refuses to load (-EINVAL). */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

#include "tests/fs/harness.h"

void fs_harness__puts(const char *s)
{
	pr_cont("%s", s);
}

void fs_harness__put_hex(uint64_t v)
{
	pr_cont("%#llx", (unsigned long long)v);
}

int fs_harness__fail(const char *name, const char *what, uint64_t got, uint64_t want)
{
	pr_err("hvmm-fstest: FAIL %s: %s got %#llx want %#llx\n", name, what,
	       (unsigned long long)got, (unsigned long long)want);
	return 1;
}

static int __init fstest_init(void)
{
	int fails = fs_test__zydis() + fs_test__libc() + fs_test__shadowmm();

	if (fails) {
		pr_err("hvmm-fstest: %d check(s) failed\n", fails);
		return -EINVAL;
	}
	pr_info("hvmm-fstest: all checks passed\n");
	return 0;
}

static void __exit fstest_exit(void)
{
}

module_init(fstest_init);
module_exit(fstest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmm: freestanding tests (Zydis, fs-libc) in kernel context");
