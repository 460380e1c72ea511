/* userland/info.c — `hvmm info`: the module's ABI version and the host CPU
 * facts that matter to the monitor, read through /dev/hvmm. */
#include "userland/hvmm.h"
#include "userland/hybrid-dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *yesno(const struct hvmm_info *info, unsigned long long bit)
{
	return (info->features & bit) ? "yes" : "no";
}

static void print_info(const struct hvmm_info *info)
{
	printf("hvmm module ABI version: %u (userland %d)\n", info->abi_version, HVMM_ABI_VERSION);
	printf("cpu: %s (family %u)\n", info->cpu_model, info->cpu_family);
	printf("cpus online: %u\n", info->ncpus);
	printf("tsc: %llu kHz\n", (unsigned long long)info->tsc_khz);
	printf("vmx: %s\n", (info->features & HVMM_HF_VMX) ? "present" : "absent");
	printf("svm: %s\n", (info->features & HVMM_HF_SVM) ? "present" : "absent");
	printf("paging: %u-level\n", info->paging_levels);
	printf("nx: %s\n", yesno(info, HVMM_HF_NX));
	printf("smep: %s\n", yesno(info, HVMM_HF_SMEP));
	printf("smap: %s\n", yesno(info, HVMM_HF_SMAP));
	printf("umip: %s\n", yesno(info, HVMM_HF_UMIP));
	printf("pcid: %s\n", yesno(info, HVMM_HF_PCID));
	printf("pku: %s\n", yesno(info, HVMM_HF_PKU));
	printf("fsgsbase: %s\n", yesno(info, HVMM_HF_FSGSBASE));
	printf("xsave: %s\n", yesno(info, HVMM_HF_XSAVE));
	printf("pti: %s\n", (info->features & HVMM_HF_PTI) ? "on" : "off");
	printf("pinned pages: %llu\n", (unsigned long long)info->pinned_pages);
	printf("vms: %u vcpus: %u\n", info->vms, info->vcpus);
	printf("host cr0=%#llx cr4=%#llx efer=%#llx\n", (unsigned long long)info->cr0,
	       (unsigned long long)info->cr4, (unsigned long long)info->efer);
}

int cmd_info(int argc, char **argv)
{
	struct hvmm_info info;
	int fd, r;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: hvmm info\n"
		       "Prints the kernel module's ABI version and the host CPU facts\n"
		       "the monitor depends on. Needs the hvmm module loaded.\n");
		return 0;
	}
	fd = hybrid__open_dev();
	if (fd < 0)
		return 1;
	memset(&info, 0, sizeof(info));
	r = ioctl(fd, HVMM_IOC_INFO, &info);
	if (r < 0) {
		fprintf(stderr, "hvmm: HVMM_IOC_INFO failed: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	print_info(&info);
	return 0;
}
