/* tests/testhost/sys-probe.c — build/hvmm-sysprobe: abuses the system-mode
 * ioctls of /dev/hvmm (ABI 4-5, docs/hybrid.md) inside the test host
 * (tests/system/testhost-hybrid-guests.sh). Refused arguments give the
 * documented errors; guests with random state (every mode: real, 16/32-bit
 * protected, paging, V86, random descriptor caches and tables), random RAM
 * and random answers to their I/O run to an exit every time: the
 * interpreter inside the module never takes the host down.
 *   hvmm-sysprobe [GUESTS]   prints "ok/FAIL - ..." lines, exits 0 if all ok */
#include "host-driver/hvmm-abi.h"
#define PROBE_SEED 0x9e3779b9
#include "tests/testhost/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM (4u << 20)

static void rnd_seg(struct hvmm_seg *s)
{
	s->sel = (uint16_t)rnd();
	s->attr = (uint16_t)rnd() | 0x80;
	s->base = rnd() % 3 ? rnd() & 0x3fffff : rnd();
	s->limit = rnd() & 1 ? 0xffffffff : rnd() & 0xfffff;
}

static void rnd_state_for(struct hvmm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 8; i++)
		s->gpr[i] = rnd();
	s->eip = rnd() & 0x3fffff;
	s->eflags = rnd();
	for (int i = 0; i < 6; i++)
		rnd_seg(&s->seg[i]);
	rnd_seg(&s->ldtr);
	rnd_seg(&s->tr);
	s->gdt_base = rnd() & 0x3fffff;
	s->gdt_limit = rnd() & 0xffff;
	s->idt_base = rnd() & 0x3fffff;
	s->idt_limit = rnd() & 0xffff;
	s->cr0 = rnd();
	s->cr3 = rnd() & 0x3ff000;
	s->cr4 = rnd();
	for (int i = 0; i < 8; i++)
		s->dr[i] = rnd();
	s->cpl = rnd();
	s->flags = rnd();
	s->efer = rnd();
	s->sysenter_cs = rnd();
	s->sysenter_eip = rnd();
	s->mmio_start = rnd() & 0x3fffff;
	s->mmio_end = s->mmio_start + (rnd() & 0xfffff);
	s->rom_start = rnd();
	s->rom_end = rnd();
}

/* ABI 6: the in-kernel irqchip with a random image (right sizes, any
 * bytes): the module must make it safe; a wrong size is refused. */
static int kirq_random(int vcpu, int first)
{
	static struct hvmm_kirq_state k, g;
	int bad = 0;

	if (ioc(vcpu, HVMM_VCPU_KIRQ_GET, &k) || k.flags || !k.pic_size || !k.pit_size)
		bad++;		/* SET_SYSTEM left it off, with its sizes */
	for (unsigned i = 0; i < sizeof(k.pic); i++)
		k.pic[i] = (uint8_t)rnd();
	for (unsigned i = 0; i < sizeof(k.pit); i++)
		k.pit[i] = rnd() % 4 ? 0 : (uint8_t)rnd();
	k.clock_start_ns = rnd() % 2 ? 0 : ((uint64_t)rnd() << 32) | rnd();
	k.pit_size++;
	k.flags = HVMM_KIRQ_ON;
	if (first)
		check(ioc(vcpu, HVMM_VCPU_KIRQ_SET, &k) == -EINVAL &&
		      ioc(vcpu, HVMM_VCPU_KIRQ_GET, &g) == 0 && !g.flags,
		      "KIRQ_SET with another struct size: -EINVAL, chip stays off");
	else
		bad += ioc(vcpu, HVMM_VCPU_KIRQ_SET, &k) != -EINVAL;
	k.pit_size--;
	k.flags = HVMM_KIRQ_ON | (rnd() & ~1u);
	if (ioc(vcpu, HVMM_VCPU_KIRQ_SET, &k) || ioc(vcpu, HVMM_VCPU_KIRQ_GET, &k) ||
	    !(k.flags & HVMM_KIRQ_ON))
		bad++;
	return bad;
}

int main(int argc, char **argv)
{
	int guests = argc > 1 ? atoi(argv[1]) : 20;
	int dev = open(HVMM_DEVICE, O_RDWR);
	static char dump[HVMM_DUMP_SIZE];
	struct hvmm_sys_run run;
	struct hvmm_sregs s;
	struct hvmm_regs regs;
	unsigned long exits[HVMM_SX_REASONS] = { 0 };
	int bad_runs = 0;

	if (dev < 0) {
		perror(HVMM_DEVICE);
		return 2;
	}
	check(ioc(dev, HVMM_IOC_ABI_VERSION, NULL) == HVMM_ABI_VERSION, "ABI version is HVMM_ABI_VERSION");
	for (int g = 0; g < guests; g++) {
		uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct hvmm_ram r = { (uintptr_t)ram, RAM };
		int vm = ioc(dev, HVMM_IOC_CREATE_VM, NULL), vcpu;

		for (unsigned i = 0; i < RAM / 4; i++)
			((uint32_t *)ram)[i] = rnd() % 5 ? rnd() : 0;
		if (vm < 0 || ioc(vm, HVMM_VM_SET_RAM, &r) ||
		    (vcpu = ioc(vm, HVMM_VM_CREATE_VCPU, NULL)) < 0) {
			check(0, "VM creation");
			break;
		}
		if (g == 0) {
			memset(&run, 0, sizeof(run));
			check(ioc(vcpu, HVMM_VCPU_SYS_RUN, &run) == -EINVAL,
			      "SYS_RUN before SET_SYSTEM: -EINVAL");
			check(ioc(vcpu, HVMM_VCPU_GET_DUMP, dump) == -EINVAL,
			      "GET_DUMP before SET_SYSTEM: -EINVAL");
			struct hvmm_phys_range pr = { 0, 4096 };
			check(ioc(vcpu, HVMM_VCPU_INVALIDATE_PHYS, &pr) == -EINVAL,
			      "INVALIDATE_PHYS before SET_SYSTEM: -EINVAL");
			static struct hvmm_kirq_state ks;
			struct hvmm_kirq_lines kl = { 0 };
			check(ioc(vcpu, HVMM_VCPU_KIRQ_GET, &ks) == -EINVAL &&
			      ioc(vcpu, HVMM_VCPU_KIRQ_LINES, &kl) == -EINVAL,
			      "KIRQ_GET/LINES before SET_SYSTEM: -EINVAL");
		}
		rnd_state_for(&s);
		if (ioc(vcpu, HVMM_VCPU_SET_SYSTEM, &s)) {
			check(0, "SET_SYSTEM accepts any state");
			break;
		}
		if (g % 2 == 0)		/* every other guest: a random irqchip */
			bad_runs += kirq_random(vcpu, g == 0);
		if (g == 0) {
			check(ioc(vcpu, HVMM_VCPU_GET_REGS, &regs) == -EINVAL,
			      "user-program GET_REGS in system mode: -EINVAL");
			run.flags = 0x80;
			check(ioc(vcpu, HVMM_VCPU_SYS_RUN, &run) == -EINVAL,
			      "unknown SYS_RUN flag: -EINVAL");
		}
		for (int k = 0; k < 100; k++) {
			memset(&run, 0, sizeof(run));
			run.flags = rnd() & 7;
			run.inject = rnd();
			run.data = ((uint64_t)rnd() << 32) | rnd();
			run.budget = rnd() % 50 ? rnd() % 5000 : ~0ull;	/* capped: 1 M */
			if (ioc(vcpu, HVMM_VCPU_SYS_RUN, &run) || !run.reason ||
			    run.reason >= HVMM_SX_REASONS) {
				bad_runs++;
				break;
			}
			exits[run.reason]++;
			if (run.reason == HVMM_SX_SHUTDOWN || run.reason == HVMM_SX_ERROR ||
			    run.reason == HVMM_SX_HLT_DEAD) {
				if (ioc(vcpu, HVMM_VCPU_GET_DUMP, dump) || !strstr(dump, "eip="))
					bad_runs++;
				rnd_state_for(&s);	/* a fresh random state, same VM */
				if (ioc(vcpu, HVMM_VCPU_SET_SYSTEM, &s))
					bad_runs++;
			}
			if (rnd() % 10 == 0) {	/* DMA invalidation of any range */
				struct hvmm_phys_range pr = {
					rnd() % 3 ? rnd() & 0x3fffff : ((uint64_t)rnd() << 32) | rnd(),
					rnd() % 3 ? rnd() & 0xffff : ((uint64_t)rnd() << 32) | rnd() };
				if (ioc(vcpu, HVMM_VCPU_INVALIDATE_PHYS, &pr))
					bad_runs++;
			}
			if (rnd() % 10 == 0) {	/* userland's ISA lines, any values */
				struct hvmm_kirq_lines kl = { (uint16_t)rnd(), (uint16_t)rnd(), rnd(),
					rnd() % 2 ? ~0ull : ((uint64_t)rnd() << 32) | rnd() };
				if (ioc(vcpu, HVMM_VCPU_KIRQ_LINES, &kl))
					bad_runs++;
			}
			if (rnd() % 50 == 0) {	/* state round trip */
				if (ioc(vcpu, HVMM_VCPU_GET_SYSTEM, &s) ||
				    ioc(vcpu, HVMM_VCPU_SET_SYSTEM, &s))
					bad_runs++;
			}
		}
		fprintf(stderr, "guest %d done\n", g);
		close(vcpu);
		close(vm);
		munmap(ram, RAM);
	}
	char msg[256];
	snprintf(msg, sizeof(msg), "%d random guests: every run ended in an exit "
		 "(budget %lu, io %lu, mmio %lu, window %lu, hlt %lu, hlt_dead %lu, "
		 "shutdown %lu, error %lu)", guests, exits[1], exits[2], exits[3],
		 exits[4], exits[5], exits[6], exits[7], exits[8]);
	check(bad_runs == 0, msg);
	check(exits[HVMM_SX_SHUTDOWN] + exits[HVMM_SX_HLT_DEAD] + exits[HVMM_SX_ERROR] > 0 &&
	      exits[HVMM_SX_IO] + exits[HVMM_SX_MMIO] > 0, "varied exits seen");
	struct hvmm_info info;
	check(ioc(dev, HVMM_IOC_INFO, &info) == 0 && info.pinned_pages == 0 &&
	      info.vms == 0, "nothing pinned, no VM left");
	return fails ? 1 : 0;
}
