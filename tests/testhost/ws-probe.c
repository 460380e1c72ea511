/* tests/testhost/ws-probe.c — build/hvmm-wsprobe: abuses the /dev/hvmm ABI
 * from a hostile userland inside the test host (tests/system/testhost-abuse.sh).
 * The module must refuse bad arguments with the documented errors, sanitize
 * what it accepts, and survive guests with garbage page tables and garbage
 * code (every run ends in an exit or -EINTR, never a host oops or hang).
 *   hvmm-wsprobe [ROUNDS]   prints "ok/FAIL - ..." lines, exits 0 if all ok */
#include "host-driver/hvmm-abi.h"
#define PROBE_SEED 0x2545f491
#include "tests/testhost/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (8u << 20)

static void on_alarm(int sig)
{
	(void)sig;
}

static struct hvmm_regs base_regs(void)
{
	struct hvmm_regs r;

	memset(&r, 0, sizeof(r));
	r.cs = HVMM_SEL_CODE;
	r.ss = r.ds = r.es = HVMM_SEL_DATA;
	r.eflags = 0x202;
	r.cr0 = 0x80010001;
	r.cr4 = 0x10;
	return r;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	int dev = open(HVMM_DEVICE, O_RDWR);
	struct hvmm_ram ram;
	struct hvmm_regs r;
	struct hvmm_run run;
	struct hvmm_info info;
	int vm, vcpu, exits[HVMM_EXIT_REASONS] = { 0 }, eintr = 0;
	uint8_t *mem, *ro;

	if (dev < 0) {
		perror(HVMM_DEVICE);
		return 1;
	}
	check(ioc(dev, HVMM_IOC_ABI_VERSION, NULL) == HVMM_ABI_VERSION, "ABI version");
	check(ioc(dev, _IO(HVMM_IOC_MAGIC, 0x7f), NULL) == -ENOTTY, "unknown ioctl: ENOTTY");
	vm = (int)ioc(dev, HVMM_IOC_CREATE_VM, NULL);
	check(vm >= 0, "create VM");
	check(ioc(vm, HVMM_VM_CREATE_VCPU, NULL) < 0, "no vCPU before RAM");

	mem = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, RAM, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ram = (struct hvmm_ram){ (uintptr_t)mem + 8, RAM };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) == -EINVAL, "unaligned RAM: EINVAL");
	ram = (struct hvmm_ram){ (uintptr_t)mem, 0 };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) == -EINVAL, "empty RAM: EINVAL");
	ram = (struct hvmm_ram){ (uintptr_t)mem, HVMM_MAX_RAM + 4096 };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) == -EINVAL, "too much RAM: EINVAL");
	ram = (struct hvmm_ram){ (uintptr_t)ro, RAM };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) < 0, "read-only RAM refused");
	ram = (struct hvmm_ram){ 0x1000, RAM };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) < 0, "unmapped RAM refused");
	ioc(dev, HVMM_IOC_INFO, &info);
	check(info.pinned_pages == 0, "failed pins left nothing pinned");
	ram = (struct hvmm_ram){ (uintptr_t)mem, RAM };
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) == 0, "set RAM");
	check(ioc(vm, HVMM_VM_SET_RAM, &ram) == -EBUSY, "second RAM: EBUSY");
	ioc(dev, HVMM_IOC_INFO, &info);
	check(info.pinned_pages == RAM / 4096, "pinned pages counted");
	vcpu = (int)ioc(vm, HVMM_VM_CREATE_VCPU, NULL);
	check(vcpu >= 0, "create vCPU");
	check(ioc(vm, HVMM_VM_CREATE_VCPU, NULL) == -EEXIST, "second vCPU: EEXIST");

	/* register validation */
	r = base_regs(); r.cs = 0x10;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == -EINVAL, "CS 0x10 (monitor code): EINVAL");
	r = base_regs(); r.cs = 0x13;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == -EINVAL, "CS 0x13: EINVAL");
	r = base_regs(); r.ss = HVMM_SEL_CODE;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == -EINVAL, "SS = code: EINVAL");
	r = base_regs(); r.gs = 0x40;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == -EINVAL, "GS = TSS selector: EINVAL");
	r = base_regs(); r.cr3 = 0x1234;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == -EINVAL, "unaligned CR3: EINVAL");
	r = base_regs(); r.eflags = 0xffffffff;
	check(ioc(vcpu, HVMM_VCPU_SET_REGS, &r) == 0, "all EFLAGS bits accepted...");
	ioc(vcpu, HVMM_VCPU_GET_REGS, &r);
	check((r.eflags & 0x3000) == 0 && (r.eflags & 0x200) && !(r.eflags & 0x24000),
	      "...but IOPL 0, IF 1, NT/VM 0");
	memset(&run, 0, sizeof(run));
	run.flags = 0x80;
	check(ioc(vcpu, HVMM_VCPU_RUN, &run) == -EINVAL, "unknown run flag: EINVAL");

	/* CR3 beyond guest RAM */
	r = base_regs(); r.cr3 = 0x40000000; r.eip = 0x1000;
	run.flags = HVMM_RUN_SET_REGS; run.regs = r;
	check(ioc(vcpu, HVMM_VCPU_RUN, &run) == 0 && run.exit.reason == HVMM_EXIT_BAD_MEMORY,
	      "CR3 outside RAM: BAD_MEMORY exit");

	/* garbage page tables and garbage code */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;		/* no SA_RESTART: the run returns -EINTR */
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < rounds; i++) {
		for (uint32_t o = 0; o < RAM; o += 4)
			*(uint32_t *)(mem + o) = rnd();
		/* make many entries point inside RAM so walks go deep */
		for (uint32_t o = 0; o < RAM; o += 4)
			if (rnd() & 1)
				*(uint32_t *)(mem + o) = (*(uint32_t *)(mem + o) % RAM) | 0x7;
		r = base_regs();
		r.cr3 = (rnd() % RAM) & ~0xfffu;
		r.eip = rnd();
		r.esp = rnd();
		r.eax = rnd(); r.ebx = rnd(); r.ecx = rnd(); r.edx = rnd();
		r.cr4 = rnd() & 0x10;
		run.flags = HVMM_RUN_SET_REGS;
		run.regs = r;
		alarm(1);
		long rc = ioc(vcpu, HVMM_VCPU_RUN, &run);
		alarm(0);
		if (rc == -EINTR)
			eintr++;
		else if (rc == 0 && run.exit.reason < HVMM_EXIT_REASONS)
			exits[run.exit.reason]++;
		else {
			printf("round %d: run returned %ld\n", i, rc);
			fails++;
			break;
		}
	}
	printf("garbage rounds: syscall %d io %d hlt %d fault %d bad_memory %d monitor_error %d eintr %d\n",
	       exits[HVMM_EXIT_SYSCALL], exits[HVMM_EXIT_IO], exits[HVMM_EXIT_HLT],
	       exits[HVMM_EXIT_FAULT], exits[HVMM_EXIT_BAD_MEMORY], exits[HVMM_EXIT_MONITOR_ERROR],
	       eintr);
	check(exits[HVMM_EXIT_MONITOR_ERROR] == 0, "no monitor error from garbage guests");
	check(exits[HVMM_EXIT_FAULT] > 0, "garbage guests fault");

	/* the process drops its mapping: the pinned pages stay valid */
	munmap(mem, RAM);
	r = base_regs(); r.cr3 = 0x1000; r.eip = 0;
	run.flags = HVMM_RUN_SET_REGS; run.regs = r;
	check(ioc(vcpu, HVMM_VCPU_RUN, &run) == 0, "run after munmap of guest RAM");
	close(vcpu);
	close(vm);
	ioc(dev, HVMM_IOC_INFO, &info);
	check(info.pinned_pages == 0 && info.vms == 0 && info.vcpus == 0, "close releases everything");
	return fails ? 1 : 0;
}
