// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-main.c — module entry (filled in by the foundation's
 * module item: /dev/hvmm and the ioctl ABI). */
#include <linux/module.h>

static int __init hvmm_init(void)
{
	return 0;
}

static void __exit hvmm_exit(void)
{
}

module_init(hvmm_init);
module_exit(hvmm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmm: hosted hybrid virtual machine monitor");
