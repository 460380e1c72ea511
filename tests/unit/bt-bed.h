/* tests/unit/bt-bed.h — running guest code twice, for the translator's
 * tests: once in the interpreter (the oracle), once translated by bt/ and
 * executed by the interpreter at CPL 1 the way the monitor will run it.
 *
 * Both beds are flat 32-bit protected mode over 8 MiB of RAM with the same
 * GDT, IDT (every exception vector goes to a CPL-0 `hlt`, which ends a run)
 * and TSS. The translating bed has paging on (identity, CR0.WP=1) with the
 * guest pages bt translated from mapped read-only, the window at WIN, and a
 * driver loop that plays the monitor: UD2 exits run one guest instruction in
 * the interpreter at CPL 0, MISS stubs are chained, writes to translated
 * pages reach bt__code_written, guest faults end the run at their site.
 *
 * Memory map (both beds): GDT 0x500, TSS 0x600, IDT 0x800, handlers 0x1000,
 * page tables 0x2000.., ring-0 stack below 0x9000, guest code CODE..,
 * data DATA.., guest stack below STACK, window WIN. */
#ifndef HVMM_TESTS_BT_BED_H
#define HVMM_TESTS_BT_BED_H

#include "bt/bt.h"
#include "tests/unit/cpu-bed.h"

#define BB_RAM		(8u << 20)
#define BB_HND		0x1000u
#define BB_CODE		0x10000u
#define BB_CODE_END	0x40000u
#define BB_DATA		0x80000u
#define BB_DATA_LEN	0x10000u
#define BB_STACK	0x3f0000u
#define BB_WIN		0x400000u

/* A guest snippet assembled into this binary as 32-bit code, to be loaded
 * at BB_CODE: inside it, A(label) is label's address there. */
#define BB_GUEST(name, code)                                                   \
	__asm__(".pushsection .rodata\n.balign 16\n" #name "_start:\n"         \
		".code32\n.set gbase, " #name "_start - 0x10000\n" code        \
		"\n.code64\n" #name "_end:\n.popsection\n");                  \
	extern const uint8_t name##_start[] __asm__(#name "_start");            \
	extern const uint8_t name##_end[] __asm__(#name "_end")
#define A(l) "(" #l " - gbase)"

/* The guest-visible end of a run. */
struct bb_state {
	uint32_t r[8], eip, eflags;
	int vec;		/* exception that ended it, or -1 (HLT/stop) */
	uint32_t cr2;		/* with vec 14 */
};

struct btbed {
	struct bed *orig, *tc;
	struct bt *bt;
	struct bt_env env;
	uint32_t deny_lin;	/* code_page fails for this page (0: none) */
	uint8_t snap[BB_CODE_END - BB_CODE];	/* code as bt last read it */
	bool prot[(BB_CODE_END - BB_CODE) >> 12];
	/* Counters of the last bb__run_tc. */
	unsigned nexit, nmiss, ndyn, ncodewr, nenospc, ninterp, nfault_interp;
	unsigned npreempt;	/* preemptions taken at a site */
	/* Nonzero: a seed; the driver then preempts the translated code
	 * every 1..16 instructions the way a host interrupt would. */
	uint32_t preempt;
	struct bb_state o, t;
	char why[160];		/* driver failure, "" if none */
};

/* Both beds with @code (n bytes) at BB_CODE, EIP there, ESP = BB_STACK. */
struct btbed *bb__new(const uint8_t *code, size_t n);
/* The same with the code and EIP at @at (in BB_CODE..BB_CODE_END). */
struct btbed *bb__new_at(uint32_t at, const uint8_t *code, size_t n);
void bb__free(struct btbed *bb);
/* Copies bytes into both beds' RAM. */
void bb__load(struct btbed *bb, uint32_t gpa, const void *p, size_t n);
/* Makes the page at linear @lin not present in both beds. */
void bb__unmap(struct btbed *bb, uint32_t lin);
/* Sets a register / EFLAGS in both beds. */
void bb__set_reg(struct btbed *bb, int r, uint32_t v);
void bb__set_eflags(struct btbed *bb, uint32_t fl);
/* Runs the original in the interpreter; fills bb->o. */
void bb__run_orig(struct btbed *bb, uint64_t budget);
/* Runs the translation from the current EIP; fills bb->t. 0, or -1 with
 * bb->why set when the driver met something the monitor could not handle
 * (a fault at a TC address that is not a site...). */
int bb__run_tc(struct btbed *bb, uint64_t budget);
/* Both runs, then asserts equal end states and equal data and stack
 * memory (the stack only when no exception ended the runs). */
void bb__run_both_and_compare(struct btbed *bb, uint64_t budget);
/* Compares the two end states and memory; 0 if equal, else prints. */
int bb__compare(struct btbed *bb, bool quiet);

#endif
