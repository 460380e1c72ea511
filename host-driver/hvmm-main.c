// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-main.c — module entry: the /dev/hvmm misc device and the
 * ioctls that do not belong to a VM (ABI version, host facts). */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "host-driver/hvmm-abi.h"
#include "host-driver/hvmm-kern.h"

/* Test hook: a non-zero value is answered instead of HVMM_ABI_VERSION, so the
 * system tests can check userland's mismatch error (insmod hvmm.ko abi_override=99). */
static int abi_override;
module_param(abi_override, int, 0444);
MODULE_PARM_DESC(abi_override, "answer this ABI version instead of the real one (tests only)");

/* Fill @info with what the monitor needs to know about this host. The CR and
 * EFER values are those of the CPU that runs the ioctl; Linux keeps them
 * equal on all CPUs for the bits reported here. */
static void hvmm__host_info(struct hvmm_info *info)
{
	unsigned long cr4;
	u64 efer;

	memset(info, 0, sizeof(*info));
	info->abi_version = HVMM_ABI_VERSION;
	info->ncpus = num_online_cpus();
	info->paging_levels = pgtable_l5_enabled() ? 5 : 4;
	info->cpu_family = boot_cpu_data.x86;
	strscpy(info->cpu_model, boot_cpu_data.x86_model_id, sizeof(info->cpu_model));
	info->tsc_khz = tsc_khz;
	info->pinned_pages = atomic64_read(&hvmm_pinned_pages);
	info->vms = atomic_read(&hvmm_nr_vms);
	info->vcpus = atomic_read(&hvmm_nr_vcpus);

	preempt_disable();
	cr4 = __read_cr4();
	info->cr0 = read_cr0();
	info->cr4 = cr4;
	rdmsrl(MSR_EFER, efer);
	info->efer = efer;
	preempt_enable();

	if (boot_cpu_has(X86_FEATURE_VMX))
		info->features |= HVMM_HF_VMX;
	if (boot_cpu_has(X86_FEATURE_SVM))
		info->features |= HVMM_HF_SVM;
	if (cr4 & X86_CR4_SMEP)
		info->features |= HVMM_HF_SMEP;
	if (cr4 & X86_CR4_SMAP)
		info->features |= HVMM_HF_SMAP;
	if (cr4 & X86_CR4_PCIDE)
		info->features |= HVMM_HF_PCID;
	if (efer & EFER_NX)
		info->features |= HVMM_HF_NX;
	if (boot_cpu_has(X86_FEATURE_PTI))
		info->features |= HVMM_HF_PTI;
	if (cr4 & X86_CR4_UMIP)
		info->features |= HVMM_HF_UMIP;
	if (cr4 & X86_CR4_PKE)
		info->features |= HVMM_HF_PKU;
	if (cr4 & X86_CR4_FSGSBASE)
		info->features |= HVMM_HF_FSGSBASE;
	if (cr4 & X86_CR4_LA57)
		info->features |= HVMM_HF_LA57;
	if (cr4 & X86_CR4_OSXSAVE)
		info->features |= HVMM_HF_XSAVE;
}

static long hvmm__dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvmm_info info;

	switch (cmd) {
	case HVMM_IOC_ABI_VERSION:
		return abi_override ? abi_override : HVMM_ABI_VERSION;
	case HVMM_IOC_INFO:
		hvmm__host_info(&info);
		if (copy_to_user((void __user *)arg, &info, sizeof(info)))
			return -EFAULT;
		return 0;
	default:
		return hvmm__vm_dev_ioctl(file, cmd, arg);
	}
}

static const struct file_operations hvmm_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvmm__dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hvmm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hvmm",
	.fops = &hvmm_dev_fops,
	.mode = 0666,
};

static int __init hvmm_init(void)
{
	return misc_register(&hvmm_misc);
}

static void __exit hvmm_exit(void)
{
	misc_deregister(&hvmm_misc);
	/* every VM holds a module reference, so this is a bookkeeping bug */
	if (atomic64_read(&hvmm_pinned_pages))
		pr_err("hvmm: leaked %lld pinned pages\n", atomic64_read(&hvmm_pinned_pages));
}

module_init(hvmm_init);
module_exit(hvmm_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvmm: hosted hybrid virtual machine monitor");
