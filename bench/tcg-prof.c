/* bench/tcg-prof.c — a QEMU TCG plugin that profiles the TEST HOST's kernel
 * code (hvmm.ko included) by translation block: every TB whose address is
 * in the kernel half gets an inline execution counter; at exit one line per
 * TB, "vaddr n_insns executions", goes to the file given as out=PATH.
 * Options: lo=HEX (count TBs at or above it), mark=HEX.
 * Under TCG the cost of host code is roughly the TBs it executes (each TB
 * end through an indirect branch or RET is a lookup in QEMU), so the sum of
 * executions per symbol is the profile that matters for hvmm's in-module
 * interpreter. bench/tcg-profile.sh builds, runs and symbolises it.
 *
 * Phases: each time a TB at the mark address runs (the static program
 * bench/tcg-mark, linked there, run inside the test host), the counts so far
 * go to PATH.N (N = 1, 2, ...), so a workload between two marks is the
 * difference of two snapshots.
 *
 * Written against QEMU's plugin API version 1 (QEMU 7.2, Debian 12); the
 * few declarations it needs are repeated here (Debian ships no header). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
	void (*cb)(unsigned int, void *), enum qemu_plugin_cb_flags flags, void *udata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
	void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
	enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
	void (*cb)(qemu_plugin_id_t, void *), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct rec {
	uint64_t count;		/* first: the inline add's target */
	uint64_t vaddr;
	uint32_t ninsns;
};

#define CHUNK 65536
static struct rec **chunks;
static size_t nchunks, used = CHUNK;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char out_path[4096] = "tcg-prof.txt";
static unsigned nsnap;
/* TBs at or above lo are counted (default: an x86-64 kernel half; 0xc0000000
 * for a 32-bit Linux guest run directly under qemu-system-i386) */
static uint64_t lo = 0xffff800000000000ull;
/* bench/tcg-mark's entry point (tcg-mark32 for an i386 guest) */
static uint64_t mark = 0x13570000ull;

static void write_counts(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	pthread_mutex_lock(&lock);
	for (size_t c = 0; c < nchunks; c++) {
		size_t n = c + 1 == nchunks ? used : CHUNK;
		for (size_t i = 0; i < n; i++)
			if (chunks[c][i].count)
				fprintf(f, "%" PRIx64 " %u %" PRIu64 "\n", chunks[c][i].vaddr,
					chunks[c][i].ninsns, chunks[c][i].count);
	}
	pthread_mutex_unlock(&lock);
	fclose(f);
}

static void on_mark(unsigned int vcpu, void *u)
{
	char path[4200];

	(void)vcpu;
	(void)u;
	snprintf(path, sizeof(path), "%s.%u", out_path, __atomic_add_fetch(&nsnap, 1, __ATOMIC_SEQ_CST));
	write_counts(path);
}

/* A new record; records are never freed (a TB translated again gets
 * another one; the output is summed by address afterwards). */
static struct rec *rec_new(void)
{
	if (used == CHUNK) {
		struct rec **c = realloc(chunks, (nchunks + 1) * sizeof(*c));
		if (!c)
			return NULL;
		chunks = c;
		chunks[nchunks] = calloc(CHUNK, sizeof(struct rec));
		if (!chunks[nchunks])
			return NULL;
		nchunks++;
		used = 0;
	}
	return &chunks[nchunks - 1][used++];
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	struct rec *r;

	(void)id;
	if (va == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
	if (va < lo)
		return;
	pthread_mutex_lock(&lock);
	r = rec_new();
	if (r) {
		r->vaddr = va;
		r->ninsns = (uint32_t)qemu_plugin_tb_n_insns(tb);
	}
	pthread_mutex_unlock(&lock);
	if (r)
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &r->count, 1);
}

static void on_exit_cb(qemu_plugin_id_t id, void *u)
{
	(void)id;
	(void)u;
	write_counts(out_path);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
		else if (!strncmp(argv[i], "lo=", 3))
			lo = strtoull(argv[i] + 3, NULL, 16);
		else if (!strncmp(argv[i], "mark=", 5))
			mark = strtoull(argv[i] + 5, NULL, 16);
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
