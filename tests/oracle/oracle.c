/* tests/oracle/oracle.c — the host CPU as the oracle for user-level
 * instructions. Each case builds a 32-bit stub that loads random registers
 * and flags, runs ONE instruction form, and stores registers and flags; the
 * stub runs natively in compatibility mode (far return to the Linux
 * __USER32_CS selector 0x23, back through __USER_CS 0x33), and the same
 * instruction runs in the interpreter from the same state and memory. The
 * suite compares registers, EFLAGS (minus the flags the SDM leaves
 * undefined for that form and operand) and the data and stack areas.
 *
 * Memory layout (identical for both, at LOW, mapped below 4 GiB):
 *   LOW+0x0000  64-bit landing code (native only)
 *   LOW+0x1000  the 32-bit stub; the instruction under test at INSN
 *   LOW+0x2000  register state in/out (native only)
 *   LOW+0x4000  data area (memory operands), 4 KiB
 *   LOW+0x7000  stack area, ESP = LOW+0x7800 at the instruction
 */
#include "tests/oracle/oracle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOW	0x30000000u
#define LOWSZ	0x10000u
#define STUB	(LOW + 0x1000)
#define STATE	(LOW + 0x2000)
#define DATA	(LOW + 0x4000)
#define STACK	(LOW + 0x7000)
#define ESP0	(LOW + 0x7800)

enum { S_IN = 0, S_OUT = 12 };	/* uint32 index: eax..edi, eflags */

/* ---- Native execution ---------------------------------------------------- */

__asm__(".text\n"
	".globl oracle_enter\n"
	"oracle_enter:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"mov %rsp, oracle_saved_rsp(%rip)\n"
	"pushq $0x23\n"
	"push %rdi\n"
	"lretq\n"
	".globl oracle_back\n"
	"oracle_back:\n"
	"cld\n"
	"mov oracle_saved_rsp(%rip), %rsp\n"
	"mov $0x2b, %eax\nmov %eax, %ss\n"
	"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\n"
	"ret\n"
	".data\noracle_saved_rsp: .quad 0\n.text\n");
void oracle_enter(uint64_t entry32);
extern char oracle_back[];

static uint8_t *low;	/* native view of LOW */

static int native_setup(void)
{
	void *p = mmap((void *)(uintptr_t)LOW, LOWSZ,
		       PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)LOW)
		return -errno;
	low = p;
	/* Landing: movabs $oracle_back, %rax; jmp *%rax (64-bit code). */
	low[0] = 0x48;
	low[1] = 0xb8;
	uint64_t back = (uint64_t)(uintptr_t)oracle_back;
	memcpy(low + 2, &back, 8);
	low[10] = 0xff;
	low[11] = 0xe0;
	return 0;
}

static uint8_t *emit(uint8_t *p, const void *b, size_t n)
{
	memcpy(p, b, n);
	return p + n;
}

static uint8_t *emit32(uint8_t *p, uint32_t v)
{
	return emit(p, &v, 4);
}

/* Builds the stub around insn; returns the instruction's address. */
static uint32_t build_stub(const uint8_t *insn, unsigned len)
{
	static const uint8_t ld_modrm[8] = { 0, 0x0d, 0x15, 0x1d, 0x25, 0x2d,
					     0x35, 0x3d };
	uint8_t *p = low + 0x1000;
	uint32_t at;

	/* mov $0x2b,%ax; mov %ax,%ds; mov %ax,%es */
	p = emit(p, "\x66\xb8\x2b\x00\x8e\xd8\x8e\xc0", 8);
	*p++ = 0xbc;					/* mov $ESP0-64,%esp */
	p = emit32(p, ESP0 - 64);
	p = emit(p, "\xff\x35", 2);			/* push IN.eflags */
	p = emit32(p, STATE + 4 * (S_IN + 8));
	*p++ = 0x9d;					/* popf */
	for (int r = 0; r < 8; r++) {			/* mov IN.r, %r */
		*p++ = 0x8b;
		*p++ = r == 0 ? 0x05 : ld_modrm[r];
		p = emit32(p, STATE + 4 * (S_IN + r));
	}
	at = (uint32_t)(p - low) + LOW;
	p = emit(p, insn, len);
	for (int r = 0; r < 8; r++) {			/* mov %r, OUT.r */
		*p++ = 0x89;
		*p++ = r == 0 ? 0x05 : ld_modrm[r];
		p = emit32(p, STATE + 4 * (S_OUT + r));
	}
	*p++ = 0xbc;					/* mov $ESP0-64,%esp */
	p = emit32(p, ESP0 - 64);
	*p++ = 0x9c;					/* pushf */
	p = emit(p, "\x8f\x05", 2);			/* pop OUT.eflags */
	p = emit32(p, STATE + 4 * (S_OUT + 8));
	*p++ = 0xea;					/* ljmp $0x33, $LOW */
	p = emit32(p, LOW);
	p = emit(p, "\x33\x00", 2);
	return at;
}

/* ---- Interpreter side ---------------------------------------------------- */

struct oboard {
	uint8_t mem[LOWSZ];
};

static uint8_t *ob_ram_page(void *opaque, uint64_t gpa, bool *writable)
{
	struct oboard *b = opaque;
	if (gpa < LOW || gpa >= LOW + LOWSZ)
		return NULL;
	*writable = true;
	return b->mem + (gpa - LOW);
}

static const struct cpu_bus_ops ob_ops = { .ram_page = ob_ram_page };

/* ---- Forms --------------------------------------------------------------- */

struct ocase {
	uint32_t in[9];		/* eax..edi, eflags */
	uint8_t insn[24];
	unsigned len;
	uint32_t undef;		/* EFLAGS bits not compared */
	bool skip;
};

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Interesting values: edges more often than uniform randomness gives. */
static uint32_t rnd_val(void)
{
	static const uint32_t edge[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x100,
		0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000u,
		0xffffffffu, 0xfffffffeu, 0x0f0f0f0f, 9, 10, 0x99, 0x31 };
	uint32_t k = rnd() % 8;
	if (k == 0)
		return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	if (k == 1)
		return rnd() & 0xff;
	if (k == 2)
		return rnd() & 0x1f;
	return rnd();
}

unsigned oracle__nforms(void)
{
	return forms__count();
}

static void random_state(struct ocase *c)
{
	for (int r = 0; r < 8; r++)
		c->in[r] = rnd_val();
	c->in[R_ESP] = ESP0;
	c->in[8] = (rnd() & (FL_ARITH)) | 0x202;
}

static int compare(const char *name, const struct ocase *c, const uint32_t *nat,
		   const uint8_t *nat_mem, struct cpu *cpu, const uint8_t *emu_mem,
		   char *msg, size_t msz)
{
	uint32_t mask = (FL_ARITH | FL_DF) & ~c->undef;
	uint32_t efl = cpu__eflags(cpu);
	int n = 0;

	for (int r = 0; r < 8; r++)
		if (nat[r] != cpu->r[r])
			n += snprintf(msg + n, msz - n, " r%d native %08x interp %08x;",
				      r, nat[r], cpu->r[r]);
	if ((nat[8] & mask) != (efl & mask))
		n += snprintf(msg + n, msz - n, " eflags native %08x interp %08x (mask %08x);",
			      nat[8], efl, mask);
	for (unsigned k = 0x4000; k < 0x8000 && n < 200; k++)
		/* 0x77b0-0x77bf: the stub's own EFLAGS scratch slot. */
		if ((k < 0x5000 || k >= 0x7000) && (k < 0x77b0 || k >= 0x77c0) &&
		    nat_mem[k] != emu_mem[k]) {
			n += snprintf(msg + n, msz - n, " mem[+%x] native %02x interp %02x;",
				      k, nat_mem[k], emu_mem[k]);
			break;
		}
	return n;
}

int oracle__run(unsigned cases_per_form, unsigned *nforms, unsigned long *ncases,
		unsigned long *nskipped, int verbose)
{
	struct oboard *ob;
	struct cpu *cpu;
	unsigned nf = forms__count(), failures = 0;
	uint8_t *snap = malloc(LOWSZ);

	*nforms = nf;
	*ncases = 0;
	*nskipped = 0;
	if (native_setup())
		return -1;
	ob = calloc(1, sizeof(*ob));
	cpu = calloc(1, CPU_ALLOC_SIZE);
	cpu__init(cpu, &ob_ops, ob);
	fpu__reset(&cpu->fpu);
	for (unsigned f = 0; f < nf; f++) {
		unsigned ffail = 0;
		for (unsigned k = 0; k < cases_per_form; k++) {
			struct ocase c;
			uint32_t at, end, nat[9];
			char msg[512];
			enum cpu_exit r;

			memset(&c, 0, sizeof(c));
			random_state(&c);
			for (unsigned m = 0x4000; m < 0x8000; m++)
				low[m] = (uint8_t)rnd();
			/* The instruction sits at a fixed place: build a
			 * throwaway stub to learn its address first. */
			at = build_stub((const uint8_t *)"\x90", 1);
			forms__make(f, &c.insn[0], &c.len, c.in, &c.undef, &c.skip,
				    at, DATA, STACK);
			if (c.skip) {
				(*nskipped)++;
				continue;
			}
			memcpy((uint32_t *)(low + 0x2000) + S_IN, c.in, 36);
			build_stub(c.insn, c.len);
			end = at + c.len;
			memcpy(ob->mem, low, LOWSZ);	/* same memory for both */
			oracle_enter(STUB);
			memcpy(nat, (uint32_t *)(low + 0x2000) + S_OUT, 36);
			memcpy(snap, low, LOWSZ);

			cpu__setup_flat32(cpu, 0x08, 0x10, at);
			cpu->nlastexc = 0;
			for (int q = 0; q < 8; q++)
				cpu->r[q] = c.in[q];
			cpu__set_eflags(cpu, c.in[8] & ~FL_IF);
			cpu__invalidate_phys(cpu, LOW, LOWSZ);
			for (int step = 0; step < 100 && cpu->eip != end; step++) {
				r = cpu__run(cpu, 1);
				if (r != CPU_EXIT_BUDGET || cpu->nlastexc)
					break;
			}
			(*ncases)++;
			msg[0] = 0;
			if (cpu->eip != end || cpu->nlastexc)
				snprintf(msg, sizeof(msg), " interp stopped at %08x (end %08x), %u exceptions, last vec %u",
					 cpu->eip, end, cpu->nlastexc, cpu->lastexc[0].vec);
			else
				compare(forms__name(f), &c, nat, snap, cpu, ob->mem,
					msg, sizeof(msg));
			if (msg[0]) {
				if (ffail++ < 3 && verbose) {
					fprintf(stderr, "oracle: %s: bytes", forms__name(f));
					for (unsigned q = 0; q < c.len; q++)
						fprintf(stderr, " %02x", c.insn[q]);
					fprintf(stderr, "; in");
					for (int q = 0; q < 9; q++)
						fprintf(stderr, " %08x", c.in[q]);
					fprintf(stderr, ";%s\n", msg);
				}
			}
		}
		if (ffail)
			failures++;
	}
	free(cpu);
	free(ob);
	free(snap);
	munmap(low, LOWSZ);
	return (int)failures;
}
