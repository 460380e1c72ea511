/* tests/unit/fpu_run.h — runs the same machine-code snippet natively (the
 * host CPU is the oracle) and through fpu__exec on an interpreter CPU, from
 * the same random FPU/SSE state and data, and compares the FXSAVE images,
 * the data buffer, EAX and the arithmetic flags.
 *
 * Snippets are assembled by gcc into .text between two labels and must
 * encode the same in 64- and 32-bit mode: FPU/MMX/SSE instructions whose
 * memory operands are (%rdx)-relative (the data buffer; [edx] when decoded
 * as 32-bit code), no REX prefixes.
 */
#ifndef HVMM_TESTS_FPU_RUN_H
#define HVMM_TESTS_FPU_RUN_H

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "monitor/monitor.h"
#include "tests/unit/fpu_oracle.h"

#define SNIPPET(name, body)                                              \
	extern const uint8_t name##_start[], name##_end[];               \
	__asm__(".pushsection .text\n" #name "_start:\n\t" body "\n"      \
		#name "_end:\n\t.popsection")
#define SNIP(name) { #name, name##_start, name##_end }

struct snip {
	const char *name;
	const uint8_t *start, *end;
};

#define DATA_SIZE 0x600
#define GUEST_DATA 0x10000u	/* guest offset of the data buffer */
#define GUEST_CODE 0x20000u
#define GUEST_IMG 0x30000u	/* FXRSTOR/FXSAVE images */

/* Offsets in the data buffer. */
enum {
	D_F80A = 0x00, D_F80B = 0x10, D_F64A = 0x20, D_F64B = 0x28,
	D_F32A = 0x30, D_F32B = 0x34, D_I32 = 0x38, D_I16 = 0x3c,
	D_CW = 0x40, D_MXCSR = 0x44, D_I64 = 0x48, D_BCD = 0x50,
	D_OUT = 0x60, D_XMM = 0x100, D_ENV = 0x200,
};

struct run_result {
	uint8_t img[512];
	uint8_t data[DATA_SIZE];
	uint64_t rax, rflags;
};

static uint8_t *run_page;

/* Native: fxrstor [rdi]; rdx = data; snippet; fxsave [rdi+512];
 * rax/rflags to [rdi+1024]. */
static void run_native(const struct snip *s, const uint8_t *img,
		       uint8_t *data, struct run_result *out)
{
	static const uint8_t pro[] = {
		0x48, 0x89, 0xf2,		/* mov rdx, rsi */
		0x31, 0xc0,			/* xor eax, eax */
		0x0f, 0xae, 0x0f,		/* fxrstor [rdi] */
	};
	static const uint8_t epi[] = {
		0x0f, 0xae, 0x87, 0x00, 0x02, 0x00, 0x00, /* fxsave [rdi+512] */
		0x48, 0x89, 0x87, 0x00, 0x04, 0x00, 0x00, /* mov [rdi+1024],rax */
		0x9c, 0x59,				   /* pushfq; pop rcx */
		0x48, 0x89, 0x8f, 0x08, 0x04, 0x00, 0x00, /* mov [rdi+1032],rcx */
		0xc3,
	};
	static uint8_t area[2048] __attribute__((aligned(64)));
	size_t n = (size_t)(s->end - s->start), k = 0;

	if (!run_page)
		run_page = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(run_page, pro, sizeof(pro));
	k = sizeof(pro);
	memcpy(run_page + k, s->start, n);
	k += n;
	memcpy(run_page + k, epi, sizeof(epi));
	memcpy(area, img, 512);
	((void (*)(uint8_t *, uint8_t *))(uintptr_t)run_page)(area, data);
	memcpy(out->img, area + 512, 512);
	memcpy(&out->rax, area + 1024, 8);
	memcpy(&out->rflags, area + 1032, 8);
	memcpy(out->data, data, DATA_SIZE);
}

/* ---- emulated side ---- */

static uint8_t emu_ram[0x40000] __attribute__((aligned(4096)));

static uint8_t *emu_ram_page(void *opaque, uint64_t gpa, bool *writable)
{
	*writable = true;
	return gpa < sizeof(emu_ram) ? emu_ram + gpa : NULL;
}

static const struct cpu_bus_ops emu_ops = { .ram_page = emu_ram_page };

static struct cpu *emu_cpu(void)
{
	static struct cpu *cpu;
	if (!cpu)
		cpu = calloc(1, CPU_ALLOC_SIZE);
	memset(cpu, 0, sizeof(*cpu));
	cpu__init(cpu, &emu_ops, NULL);
	cpu__reset(cpu);
	cpu__setup_flat32(cpu, 0x08, 0x10, GUEST_CODE);
	cpu->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	cpu__set_eflags(cpu, FL_1 | FL_ZF | FL_PF);
	return cpu;
}

/* Distinct instruction forms (mnemonic + operand kinds and sizes) run by
 * the oracle comparisons, and the number of runs compared. */
static uint32_t form_seen[4096];
static unsigned form_count, runs_compared;
static bool form_counting;

static void form_note(const ZydisDecodedInstruction *in,
		      const ZydisDecodedOperand *ops)
{
	uint32_t h = in->mnemonic * 2654435761u;
	for (unsigned k = 0; k < in->operand_count_visible; k++)
		h = (h ^ (uint32_t)(ops[k].type << 16 | ops[k].size)) * 16777619u;
	h |= 1;
	for (unsigned i = h % 4096;; i = (i + 1) % 4096) {
		if (form_seen[i] == h)
			return;
		if (!form_seen[i]) {
			form_seen[i] = h;
			form_count++;
			return;
		}
	}
}

/* Decodes and executes code[0..n) with fpu__exec; returns 0 or the first
 * non-zero return (its instruction offset in *at). */
static int emu_exec(struct cpu *cpu, const uint8_t *code, size_t n,
		    size_t *at)
{
	ZydisDecoder d;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LEGACY_32,
			 ZYDIS_STACK_WIDTH_32);
	for (size_t off = 0; off < n; off += in.length) {
		*at = off;
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, code + off, n - off,
							 &in, ops)))
			return -1;
		cpu->eip = GUEST_CODE + (uint32_t)off;
		if (form_counting)
			form_note(&in, ops);
		int rc = fpu__exec(cpu, &in, ops);
		if (rc)
			return rc;
	}
	return 0;
}

static int run_emu(const struct snip *s, const uint8_t *img,
		   const uint8_t *data, struct run_result *out, size_t *at)
{
	static const uint8_t rstor[] = { 0x0f, 0xae, 0x0b };	/* [ebx] */
	static const uint8_t save[] = { 0x0f, 0xae, 0x83, 0x00, 0x02, 0x00,
					0x00 };			/* [ebx+512] */
	struct cpu *cpu = emu_cpu();
	int rc;

	memcpy(emu_ram + GUEST_IMG, img, 512);
	memcpy(emu_ram + GUEST_DATA, data, DATA_SIZE);
	cpu->r[R_EBX] = GUEST_IMG;
	cpu->r[R_EDX] = GUEST_DATA;
	if ((rc = emu_exec(cpu, rstor, sizeof(rstor), at)))
		return rc;
	if ((rc = emu_exec(cpu, s->start, (size_t)(s->end - s->start), at)))
		return rc == CPU_ABORT ? -1000 - cpu->pending_exc : rc;
	if ((rc = emu_exec(cpu, save, sizeof(save), at))) {
		*at += 0x10000;
		return rc == CPU_ABORT ? -1000 - cpu->pending_exc : rc;
	}
	memcpy(out->img, emu_ram + GUEST_IMG + 512, 512);
	memcpy(out->data, emu_ram + GUEST_DATA, DATA_SIZE);
	out->rax = cpu->r[R_EAX];
	out->rflags = cpu__eflags(cpu);
	return 0;
}

/* A random but valid starting state: FCW with every exception masked and a
 * random RC/PC, random TOP and tags, random registers; MXCSR masked with a
 * random RC/FZ/DAZ; random XMM lanes. */
static void random_image(uint8_t *img, bool keep_regs_valid)
{
	memset(img, 0, 512);
	uint16_t fcw = (uint16_t)(0x037f & ~0x0300) |
		       (uint16_t)((orc_rand() % 4) << 8) |
		       (uint16_t)((orc_rand() & 3) << 10);
	if ((fcw & 0x300) == 0x100)
		fcw |= 0x300;
	uint16_t fsw = (uint16_t)((orc_rand() & 7) << 11);
	memcpy(img, &fcw, 2);
	memcpy(img + 2, &fsw, 2);
	img[4] = keep_regs_valid ? 0xff : (uint8_t)orc_rand();
	for (int i = 0; i < 8; i++) {
		struct fpu_reg80 r = orc_f80(16383);
		memcpy(img + 32 + 16 * i, &r.m, 8);
		memcpy(img + 40 + 16 * i, &r.se, 2);
	}
	uint32_t mx = 0x1f80 | (uint32_t)((orc_rand() & 3) << 13);
	if (orc_rand() % 4 == 0)
		mx |= MXCSR_FZ;
	if (orc_rand() % 4 == 0)
		mx |= MXCSR_DAZ;
	memcpy(img + 24, &mx, 4);
	for (int i = 0; i < 32; i++) {
		uint32_t v = orc_rand() % 3 ? orc_f32(127) : (uint32_t)orc_rand();
		memcpy(img + 160 + 4 * i, &v, 4);
	}
}

static void random_data(uint8_t *d)
{
	memset(d, 0, DATA_SIZE);
	struct fpu_reg80 a = orc_f80(16383), b = orc_f80(16383 + 10);
	memcpy(d + D_F80A, &a.m, 8);
	memcpy(d + D_F80A + 8, &a.se, 2);
	memcpy(d + D_F80B, &b.m, 8);
	memcpy(d + D_F80B + 8, &b.se, 2);
	uint64_t q = orc_f64(1023);
	memcpy(d + D_F64A, &q, 8);
	q = orc_f64(1023 + 5);
	memcpy(d + D_F64B, &q, 8);
	uint32_t w = orc_f32(127);
	memcpy(d + D_F32A, &w, 4);
	w = orc_f32(127 + 3);
	memcpy(d + D_F32B, &w, 4);
	w = (uint32_t)orc_rand() >> (orc_rand() % 32);
	memcpy(d + D_I32, &w, 4);
	uint16_t h = (uint16_t)(orc_rand() >> (orc_rand() % 64));
	memcpy(d + D_I16, &h, 2);
	uint16_t cw = 0x3f | (uint16_t)((orc_rand() & 3) << 10) |
		      (uint16_t)(orc_rand() % 3 ? 0x300 : (orc_rand() & 1) << 9);
	memcpy(d + D_CW, &cw, 2);
	uint32_t mx = 0x1f80 | (uint32_t)((orc_rand() & 3) << 13) |
		      (orc_rand() % 4 ? 0 : MXCSR_FZ) |
		      (orc_rand() % 4 ? 0 : MXCSR_DAZ);
	memcpy(d + D_MXCSR, &mx, 4);
	q = orc_rand() >> (orc_rand() % 64);
	memcpy(d + D_I64, &q, 8);
	for (int i = 0; i < 9; i++)
		d[D_BCD + i] = (uint8_t)((orc_rand() % 10) | (orc_rand() % 10) << 4);
	d[D_BCD + 9] = orc_rand() & 1 ? 0x80 : 0;
	for (int i = 0; i < 64; i++) {
		uint32_t v = i % 4 < 2 && orc_rand() % 2 ? orc_f32(127) :
			     (uint32_t)orc_rand();
		if (i >= 32 && i < 48) {	/* doubles */
			uint64_t dv = orc_f64(1023);
			memcpy(d + D_XMM + 4 * i, &dv, 8);
			i++;
			continue;
		}
		memcpy(d + D_XMM + 4 * i, &v, 4);
	}
}

/* FXSAVE bytes that legitimately differ: FIP/FCS/FDP/FDS (addresses of the
 * native run), FOP (the host, a recent Intel CPU, saves 0: FOP is kept for
 * the P4-class guest), and the reserved area after the XMM registers. */
static bool img_byte_compared(int i)
{
	return !(i >= 6 && i < 24) && i < 288;
}

#include <stdio.h>

/* Environment images hold FIP/FCS/FDP/FDS of the native run. */
static bool data_byte_compared(int i)
{
	if (i >= 0x20c && i < 0x21c)
		return false;		/* fnstenv at 0x200 */
	if (i >= 0x24c && i < 0x25c)
		return false;		/* fnsave at 0x240 */
	if ((i >= 0x286 && i < 0x28e) || (i >= 0x2a6 && i < 0x2ae))
		return false;		/* 16-bit fnstenv/fnsave */
	if (i >= 0x306 && i < 0x318)
		return false;		/* fxsave at 0x300 */
	return true;
}

static void dump_diff(const char *what, const uint8_t *a, const uint8_t *b,
		      int n, bool (*cmp)(int))
{
	printf("\n    %s differs at:", what);
	int shown = 0;
	for (int i = 0; i < n && shown < 6; i++)
		if (cmp(i) && a[i] != b[i]) {
			printf(" %#x(host %02x emu %02x)", i, a[i], b[i]);
			shown++;
		}
}

static __attribute__((unused)) int fpu_run_compare(const struct snip *s, int iters, bool flags)
{
	static uint8_t img[512] __attribute__((aligned(16)));
	static uint8_t data[DATA_SIZE] __attribute__((aligned(16)));
	static uint8_t data0[DATA_SIZE];
	struct run_result h, e;
	int bad = 0;

	for (int it = 0; it < iters; it++) {
		size_t at = 0;
		random_image(img, it % 4 == 0);
		random_data(data);
		memcpy(data0, data, DATA_SIZE);
		run_native(s, img, data, &h);
		form_counting = it == 0;
		int rc = run_emu(s, img, data0, &e, &at);
		form_counting = false;
		runs_compared++;
		bool ok = rc == 0;
		for (int i = 0; ok && i < 512; i++)
			if (img_byte_compared(i) && h.img[i] != e.img[i])
				ok = false;
		for (int i = 0; ok && i < DATA_SIZE; i++)
			if (data_byte_compared(i) && h.data[i] != e.data[i])
				ok = false;
		if (ok && (uint32_t)h.rax != (uint32_t)e.rax)
			ok = false;
		if (ok && flags && ((h.rflags ^ e.rflags) & FL_ARITH))
			ok = false;
		if (ok)
			continue;
		if (bad++ < 3) {
			printf("\n  %s iteration %d:", s->name, it);
			if (rc) {
				printf(" emulation returned %d at +%zu", rc, at);
				continue;
			}
			dump_diff("fxsave", h.img, e.img, 512, img_byte_compared);
			dump_diff("data", h.data, e.data, DATA_SIZE,
				  data_byte_compared);
			printf("\n    eax host %08x emu %08x, flags host %03llx emu %03llx",
			       (uint32_t)h.rax, (uint32_t)e.rax,
			       (unsigned long long)(h.rflags & FL_ARITH),
			       (unsigned long long)(e.rflags & FL_ARITH));
		}
	}
	if (bad)
		printf("\n  %s: %d of %d runs differ", s->name, bad, iters);
	return bad;
}

#endif
