/* SPDX-License-Identifier: GPL-2.0 */
/* host-driver/hvmm-abi.h — the ioctl ABI of /dev/hvmm, shared by hvmm.ko and
 * the userland process. Every change to a structure or ioctl here bumps
 * HVMM_ABI_VERSION; HVMM_IOC_ABI_VERSION itself never changes, so any
 * userland can ask any module which ABI it speaks (docs/world-switch.md). */
#ifndef HVMM_ABI_H
#define HVMM_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HVMM_ABI_VERSION	1
#define HVMM_DEVICE		"/dev/hvmm"
#define HVMM_IOC_MAGIC		0xE7

/* ioctl(fd, HVMM_IOC_ABI_VERSION) returns the module's HVMM_ABI_VERSION. */
#define HVMM_IOC_ABI_VERSION	_IO(HVMM_IOC_MAGIC, 0x00)

/* Host facts the monitor depends on (HVMM_IOC_INFO). */
#define HVMM_HF_VMX		(1ull << 0)	/* CPUID says VT-x is present */
#define HVMM_HF_SVM		(1ull << 1)	/* CPUID says AMD-V is present */
#define HVMM_HF_SMEP		(1ull << 2)	/* CR4.SMEP set by the host */
#define HVMM_HF_SMAP		(1ull << 3)	/* CR4.SMAP set by the host */
#define HVMM_HF_PCID		(1ull << 4)	/* CR4.PCIDE set by the host */
#define HVMM_HF_NX		(1ull << 5)	/* EFER.NXE set by the host */
#define HVMM_HF_PTI		(1ull << 6)	/* Linux page-table isolation on */
#define HVMM_HF_UMIP		(1ull << 7)	/* CR4.UMIP set */
#define HVMM_HF_PKU		(1ull << 8)	/* CR4.PKE set */
#define HVMM_HF_FSGSBASE	(1ull << 9)	/* CR4.FSGSBASE set */
#define HVMM_HF_LA57		(1ull << 10)	/* 5-level paging (CR4.LA57) */
#define HVMM_HF_FRED		(1ull << 11)	/* FRED (no world switch path yet) */
#define HVMM_HF_XSAVE		(1ull << 12)	/* CR4.OSXSAVE set */

struct hvmm_info {
	__u32 abi_version;	/* HVMM_ABI_VERSION of the module */
	__u32 ncpus;		/* online CPUs */
	__u32 paging_levels;	/* 4 or 5 */
	__u32 cpu_family;
	__u64 features;		/* HVMM_HF_* */
	__u64 cr0, cr4, efer;	/* host values on the CPU that answered */
	__u64 tsc_khz;
	char cpu_model[64];	/* NUL-terminated CPUID brand string */
	__u64 reserved[8];
};

/* ioctl(fd, HVMM_IOC_INFO, &info): fills struct hvmm_info; 0 or -errno. */
#define HVMM_IOC_INFO		_IOR(HVMM_IOC_MAGIC, 0x01, struct hvmm_info)

#endif
