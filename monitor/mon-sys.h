/* monitor/mon-sys.h — the system-mode vCPU of the hybrid engine (issue 6):
 * the IA-32 interpreter (monitor/cpu-*.c) driven by hvmm.ko over the VM's
 * pinned frames, with port I/O, MMIO and interrupt acknowledge turned into
 * exits to the userland process (struct hvmm_sys_run, host-driver/hvmm-abi.h).
 *
 * This header uses only plain C types and the ABI header, so that both the
 * kernel side (host-driver/hvmm-sys.c, kbuild flags) and the freestanding
 * side (monitor/mon-sys.c, in build/monitor-fs.a) include it. The objects
 * are allocated by the caller: never on a stack (the interpreter state is
 * about 8 MiB with its decoded-instruction cache).
 */
#ifndef HVMM_MON_SYS_H
#define HVMM_MON_SYS_H

#include "host-driver/hvmm-abi.h"

struct mon_sys;

/* Bytes to allocate, zeroed, for a struct mon_sys and for its struct cpu
 * (the latter 64-byte aligned: vmalloc memory is). */
unsigned long mon_sys__size(void);
unsigned long mon_sys__cpu_size(void);

/* Prepares ms over the guest RAM: pages[i] is the kernel address (direct
 * map, mapped in both worlds) of guest-physical page i; now_ns gives
 * CLOCK_MONOTONIC in ns. Returns 0 or a negative value. */
int mon_sys__init(struct mon_sys *ms, void *cpu, void *const *pages,
		  unsigned long npages, unsigned long long (*now_ns)(void));

/* Loads / reads the full architectural state. Setting it drops every
 * cached translation and decoded instruction, and any half-done access. */
void mon_sys__set_state(struct mon_sys *ms, const struct hvmm_sregs *r);
void mon_sys__get_state(struct mon_sys *ms, struct hvmm_sregs *r);

/* Takes run's inputs (INTR line, injected vector, a read's data), runs the
 * interpreter for at most run->budget instructions and fills run's outputs.
 * Returns run->reason (enum hvmm_sys_exit). */
unsigned int mon_sys__run(struct mon_sys *ms, struct hvmm_sys_run *run);

/* The interpreter's register dump into buf (NUL-terminated). */
unsigned long mon_sys__dump(struct mon_sys *ms, char *buf, unsigned long size);

/* A device wrote guest-physical [gpa, gpa+len) (DMA): drops the decoded
 * instructions of those pages. Clamped to guest RAM; any values are safe. */
void mon_sys__invalidate_phys(struct mon_sys *ms, unsigned long long gpa,
			      unsigned long long len);

/* Counters. */
void mon_sys__stats(struct mon_sys *ms, struct hvmm_sys_stats *st);

#endif
