/* userland/hybrid-run.c — the hybrid engine's user-program mode: a static
 * 32-bit Linux ELF program runs natively at CPL 3 in the monitor world
 * (issue 5). The loader builds the guest's 2-level page tables in guest RAM
 * (segments, a stack with argc/argv/envp/auxv as Linux lays them out), the
 * loop completes write and exit over int 0x80, and anything else ends the
 * run with a message. */
#include "userland/hybrid-dev.h"
#include "shadowmm/sm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_BADFILE	2
#define EXIT_VMERR	8
#define STACK_TOP	0xc0000000u
#define STACK_PAGES	256u		/* 1 MiB */
#define PD_GPA		0x1000u

struct uprog {
	uint8_t *ram;
	uint32_t ram_size, next_gpa;
	uint64_t *frames;
	struct sm_gmem gmem;
	int vm, vcpu;
};

static uint32_t *gpa_u32(struct uprog *p, uint32_t gpa)
{
	return (uint32_t *)(p->ram + gpa);
}

/* A zeroed guest frame from the bump allocator; 0 when RAM is full. */
static uint32_t alloc_frame(struct uprog *p)
{
	uint32_t gpa = p->next_gpa;

	if (gpa + 4096 > p->ram_size)
		return 0;
	p->next_gpa += 4096;
	memset(p->ram + gpa, 0, 4096);
	return gpa;
}

/* Guest-physical frame mapped at @va (user), made on demand; @writable is
 * ORed in. Returns the frame's gpa or 0 when RAM is full. */
static uint32_t map_page(struct uprog *p, uint32_t va, int writable)
{
	uint32_t *pde = gpa_u32(p, PD_GPA + (va >> 22) * 4), *pte, gpa;

	if (!(*pde & SM_PTE_P)) {
		uint32_t pt = alloc_frame(p);
		if (!pt)
			return 0;
		*pde = pt | SM_PTE_P | SM_PTE_W | SM_PTE_U;
	}
	pte = gpa_u32(p, (*pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4);
	if (!(*pte & SM_PTE_P)) {
		gpa = alloc_frame(p);
		if (!gpa)
			return 0;
		*pte = gpa | SM_PTE_P | SM_PTE_U;
	}
	if (writable)
		*pte |= SM_PTE_W;
	return *pte & ~0xfffu;
}

static int load_elf(struct uprog *p, const uint8_t *img, size_t len, uint32_t *entry)
{
	const Elf32_Ehdr *eh = (const void *)img;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_machine != EM_386 ||
	    eh->e_type != ET_EXEC || eh->e_phentsize != sizeof(Elf32_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len)
		return -ENOEXEC;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const void *)(img + eh->e_phoff + i * sizeof(Elf32_Phdr));

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset + (uint64_t)ph->p_filesz > len ||
		    (uint64_t)ph->p_vaddr + ph->p_memsz > STACK_TOP - STACK_PAGES * 4096)
			return -ENOEXEC;
		for (uint64_t va = ph->p_vaddr & ~0xfffu; va < (uint64_t)ph->p_vaddr + ph->p_memsz;
		     va += 4096) {
			uint32_t gpa = map_page(p, (uint32_t)va, (ph->p_flags & PF_W) != 0);
			if (!gpa)
				return -ENOMEM;
			/* copy the part of the file image that falls in this page */
			for (uint32_t o = 0; o < 4096; o++) {
				uint64_t a = va + o;
				if (a >= ph->p_vaddr && a < (uint64_t)ph->p_vaddr + ph->p_filesz)
					p->ram[gpa + o] = img[ph->p_offset + (a - ph->p_vaddr)];
			}
		}
	}
	*entry = eh->e_entry;
	return 0;
}

/* Linux i386 initial stack: argc, argv[], NULL, envp NULL, auxv AT_PAGESZ,
 * AT_NULL, then the strings. Returns the initial ESP or 0. */
static uint32_t build_stack(struct uprog *p, const char *argv0)
{
	uint32_t gpa = 0, sp, str;
	size_t n = strlen(argv0) + 1;

	for (uint32_t i = 1; i <= STACK_PAGES; i++)
		if (!(gpa = map_page(p, STACK_TOP - i * 4096, 1)))
			return 0;
	gpa = map_page(p, STACK_TOP - 4096, 1);
	if (n > 256)
		n = 256;
	str = STACK_TOP - 256;
	memcpy(p->ram + gpa + 4096 - 256, argv0, n);
	p->ram[gpa + 4096 - 256 + n - 1] = 0;
	uint32_t words[] = { 1, str, 0, 0, AT_PAGESZ, 4096, AT_NULL, 0 };
	sp = (str - sizeof(words)) & ~15u;
	memcpy(p->ram + gpa + (sp & 0xfff), words, sizeof(words));
	return sp;
}

/* Copy guest buffer [va, va+len) as the guest's user mode may read it. */
static int read_guest(struct uprog *p, uint32_t cr3, uint32_t va, uint32_t len, uint8_t *out)
{
	while (len) {
		struct sm_walk w;
		uint32_t chunk = 4096 - (va & 0xfff);

		if (chunk > len)
			chunk = len;
		if (sm__walk32(&p->gmem, cr3, true, true, va, SM_PF_U, false, &w) != SM_WALK_OK)
			return -EFAULT;
		memcpy(out, p->ram + w.gpa, chunk);
		out += chunk;
		va += chunk;
		len -= chunk;
	}
	return 0;
}

static const char *vector_name(unsigned int v)
{
	static const char *names[] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC",
		"#XM", "#VE", "#CP" };
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "vector";
}

static void print_stats(struct uprog *p)
{
	struct hvmm_stats st;
	static const char *reasons[HVMM_EXIT_REASONS] = {
		[HVMM_EXIT_SYSCALL] = "syscall", [HVMM_EXIT_IO] = "io", [HVMM_EXIT_HLT] = "hlt",
		[HVMM_EXIT_FAULT] = "fault", [HVMM_EXIT_BAD_MEMORY] = "bad_memory",
		[HVMM_EXIT_MONITOR_ERROR] = "monitor_error", [HVMM_EXIT_HOST_IRQ] = "host_irq",
		[HVMM_EXIT_HOST_NMI] = "host_nmi", [HVMM_EXIT_BT_YIELD] = "bt_yield" };

	if (ioctl(p->vcpu, HVMM_VCPU_GET_STATS, &st) < 0)
		return;
	fprintf(stderr, "stats world_switches %llu\n", (unsigned long long)st.world_switches);
	for (int i = 0; i < HVMM_EXIT_REASONS; i++)
		if (reasons[i])
			fprintf(stderr, "stats exits_%s %llu\n", reasons[i],
				(unsigned long long)st.exits[i]);
	fprintf(stderr, "stats shadow_faults %llu\nstats shadow_flushes %llu\n"
		"stats monitor_traps %llu\nstats guest_tsc %llu\nstats run_calls %llu\n"
		"stats nmis_deferred %llu\n",
		(unsigned long long)st.shadow_faults, (unsigned long long)st.shadow_flushes,
		(unsigned long long)st.monitor_traps, (unsigned long long)st.guest_tsc,
		(unsigned long long)st.run_calls, (unsigned long long)st.nmis_deferred);
}

/* The vCPU loop: returns hvmm's exit status. One ioctl per exit: the
 * registers come back with the exit and go in with the next run. */
static int run_loop(struct uprog *p, struct hvmm_run *run)
{
	static uint8_t buf[1 << 16];
	struct hvmm_exit ex;
	struct hvmm_regs r;

	for (;;) {
		int rc = ioctl(p->vcpu, HVMM_VCPU_RUN, run);

		run->flags = 0;		/* applied even when interrupted */
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hvmm: HVMM_VCPU_RUN: %s\n", strerror(errno));
			return EXIT_VMERR;
		}
		ex = run->exit;
		r = run->regs;
		switch (ex.reason) {
		case HVMM_EXIT_SYSCALL:
			if (r.eax == 1)
				return (int)(r.ebx & 0xff);
			if (r.eax != 4) {
				fprintf(stderr, "hvmm: guest system call %u is not supported with "
					"--user-program (only write=4 and exit=1); stopping at eip %#x\n",
					r.eax, ex.eip);
				return EXIT_VMERR;
			}
			if (r.ebx != 1 && r.ebx != 2) {
				r.eax = (uint32_t)-EBADF;
			} else {
				uint32_t len = r.edx > sizeof(buf) ? sizeof(buf) : r.edx;
				if (read_guest(p, r.cr3, r.ecx, len, buf) < 0) {
					r.eax = (uint32_t)-EFAULT;
				} else {
					ssize_t n = len ? write((int)r.ebx, buf, len) : 0;
					r.eax = n < 0 ? (uint32_t)-errno : (uint32_t)n;
				}
			}
			run->regs = r;
			run->flags = HVMM_RUN_SET_REGS;
			continue;
		case HVMM_EXIT_IO:
			fprintf(stderr, "hvmm: guest fault: #GP (vector 13) error %#x at eip %#x: "
				"%s%s port %#x size %u at CPL 3 with IOPL 0\n", ex.error_code, ex.eip,
				ex.io_in ? "in" : "out", ex.io_string ? "s" : "", ex.port, ex.io_size);
			return EXIT_VMERR;
		case HVMM_EXIT_HLT:
			fprintf(stderr, "hvmm: guest fault: #GP (vector 13) error %#x at eip %#x: "
				"hlt at CPL 3\n", ex.error_code, ex.eip);
			return EXIT_VMERR;
		case HVMM_EXIT_FAULT:
			fprintf(stderr, "hvmm: guest fault: %s (vector %u) error %#x cr2 %#x at eip %#x\n",
				vector_name(ex.vector), ex.vector, ex.error_code,
				ex.vector == 14 ? ex.cr2 : 0, ex.eip);
			return EXIT_VMERR;
		case HVMM_EXIT_BAD_MEMORY:
			fprintf(stderr, "hvmm: guest page tables point outside guest RAM "
				"(address %#x, eip %#x)\n", ex.cr2, ex.eip);
			return EXIT_VMERR;
		case HVMM_EXIT_MONITOR_ERROR:
			fprintf(stderr, "hvmm: monitor error: vector %u error %#x cr2 %#x at monitor "
				"rip %#llx (see dmesg)\n", ex.vector, ex.error_code, ex.cr2,
				(unsigned long long)ex.monitor_rip);
			return EXIT_VMERR;
		default:
			fprintf(stderr, "hvmm: unknown exit reason %u\n", ex.reason);
			return EXIT_VMERR;
		}
	}
}

static int read_whole(const char *path, uint8_t **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 28)) {
		close(fd);
		return -EINVAL;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len + 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < *len;) {
		ssize_t n = read(fd, *data + got, *len - got);
		if (n <= 0) {
			close(fd);
			free(*data);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

int hybrid__run_user_program(const char *path, const struct hybrid_opts *opts)
{
	struct uprog p = { .vm = -1, .vcpu = -1 };
	static struct hvmm_run run;
	struct hvmm_regs regs;
	struct hvmm_ram ram;
	uint8_t *img = NULL;
	size_t len = 0;
	uint32_t entry, sp;
	int dev, r, status = EXIT_VMERR;

	r = read_whole(path, &img, &len);
	if (r < 0) {
		fprintf(stderr, "hvmm: --user-program %s: %s\n", path, strerror(-r));
		return EXIT_BADFILE;
	}
	dev = hybrid__open_dev();
	if (dev < 0) {
		free(img);
		return EXIT_VMERR;
	}
	p.ram_size = (opts && opts->mem_mib ? opts->mem_mib : 128) << 20;
	p.ram = mmap(NULL, p.ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p.frames = calloc(p.ram_size >> 12, sizeof(*p.frames));
	if (p.ram == MAP_FAILED || !p.frames) {
		fprintf(stderr, "hvmm: cannot allocate %u MiB of guest RAM\n", p.ram_size >> 20);
		goto out;
	}
	for (uint32_t i = 0; i < p.ram_size >> 12; i++)
		p.frames[i] = (uint64_t)i << 12;
	p.gmem = (struct sm_gmem){ (uint64_t)(uintptr_t)p.ram, p.frames, p.ram_size >> 12 };
	p.next_gpa = PD_GPA + 4096;
	memset(p.ram + PD_GPA, 0, 4096);

	r = load_elf(&p, img, len, &entry);
	if (r < 0) {
		fprintf(stderr, "hvmm: --user-program %s: %s\n", path, r == -ENOMEM ?
			"does not fit in guest RAM (try a larger --mem)" :
			"not a static 32-bit i386 ELF executable");
		status = EXIT_BADFILE;
		goto out;
	}
	sp = build_stack(&p, path);
	if (!sp) {
		fprintf(stderr, "hvmm: no room for the stack in guest RAM\n");
		goto out;
	}

	p.vm = ioctl(dev, HVMM_IOC_CREATE_VM);
	ram.uaddr = (uint64_t)(uintptr_t)p.ram;
	ram.size = p.ram_size;
	if (p.vm < 0 || ioctl(p.vm, HVMM_VM_SET_RAM, &ram) < 0 ||
	    (p.vcpu = ioctl(p.vm, HVMM_VM_CREATE_VCPU)) < 0) {
		fprintf(stderr, "hvmm: creating the VM: %s\n", strerror(errno));
		goto out;
	}
	memset(&regs, 0, sizeof(regs));
	regs.eip = entry;
	regs.esp = sp;
	regs.eflags = 0x202;
	regs.cs = HVMM_SEL_CODE;
	regs.ss = regs.ds = regs.es = HVMM_SEL_DATA;
	regs.cr0 = 0x80010001;		/* PG, WP, PE */
	regs.cr3 = PD_GPA;
	regs.cr4 = 0x10;		/* PSE */
	if (ioctl(p.vcpu, HVMM_VCPU_SET_REGS, &regs) < 0) {
		fprintf(stderr, "hvmm: HVMM_VCPU_SET_REGS: %s\n", strerror(errno));
		goto out;
	}
	status = run_loop(&p, &run);
	if (opts && opts->stats)
		print_stats(&p);
out:
	if (p.vcpu >= 0)
		close(p.vcpu);
	if (p.vm >= 0)
		close(p.vm);
	close(dev);
	if (p.ram && p.ram != MAP_FAILED)
		munmap(p.ram, p.ram_size);
	free(p.frames);
	free(img);
	return status;
}
