/* tests/unit/test_bt_rand.c — random guest programs, translated vs
 * interpreted (tests/unit/bt-bed.h). From a seed: straight ALU code with
 * every flag-setting form, memory and stack operands, PUSHF/POPF/CLI/STI,
 * forward jcc/jmp (short and near), counted loops (LOOP, DEC+JNZ, JECXZ),
 * direct and indirect calls (register, memory, [esp]) to subroutines that
 * return with RET or RET imm16, indirect jumps, and a few exits. Registers,
 * data and flags start random. Every run must end in the same state. */
#include "tests/unit/bt-bed.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEDS		1000
#define MAXCODE		0x8000u
#define NSUB		6

struct gen {
	uint32_t s;
	uint8_t *p;
	uint32_t n;
	uint32_t sub[NSUB];		/* subroutine addresses */
	uint32_t subfix[256];		/* positions of call rel32 needing sub[] */
	uint8_t subidx[256];
	unsigned nfix;
	uint32_t table;			/* DATA address of the sub table */
	uint32_t base;			/* guest address of p[0] */
	unsigned cur_sub;		/* subroutine being generated */
	/* Self-modifying code: imm32s of "mov $imm32, %reg" (patch slots)
	 * and the disp32s of the stores that write into one of them. */
	uint32_t pslot[256], pwrite[256];
	uint8_t pwsub[256];		/* the write's target: sub i's entry, or 0xff */
	unsigned npslot, npwrite;
};

static uint32_t rnd(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 17;
	g->s ^= g->s << 5;
	return g->s;
}

static unsigned pick(struct gen *g, unsigned n)
{
	return rnd(g) % n;
}

static void b1(struct gen *g, uint8_t v)
{
	g->p[g->n++] = v;
}

static void b4(struct gen *g, uint32_t v)
{
	memcpy(g->p + g->n, &v, 4);
	g->n += 4;
}

/* Registers random code may write: not ECX (loop counter), not ESP. */
static const uint8_t wregs[] = { 0, 2, 3, 5, 6, 7 };

static uint8_t wreg(struct gen *g)
{
	return wregs[pick(g, sizeof(wregs))];
}

static uint32_t data_addr(struct gen *g)
{
	return BB_DATA + 0x100 + 4 * pick(g, 64);
}

/* One random instruction that only writes wregs, flags and data. */
static void alu(struct gen *g)
{
	static const uint8_t binop[] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29,
					 0x31, 0x39, 0x85, 0x89 };
	uint8_t d = wreg(g), s = (uint8_t)pick(g, 8);
	uint8_t cc = (uint8_t)pick(g, 16);

	switch (pick(g, 25)) {
	case 23:	/* mov $imm32, d: a patch slot */
		if (g->npslot < 256) {
			b1(g, (uint8_t)(0xb8 + d));
			g->pslot[g->npslot++] = g->n;
			b4(g, rnd(g));
		}
		break;
	case 24:	/* a store into a patch slot: movl $imm32 / movb $imm8 */
		if (g->npwrite < 256) {
			bool byte = pick(g, 3) == 0;

			b1(g, byte ? 0xc6 : 0xc7);
			b1(g, 0x05);
			g->pwsub[g->npwrite] = 0xff;
			g->pwrite[g->npwrite++] = g->n;
			b4(g, 0);
			if (byte)
				b1(g, (uint8_t)rnd(g));
			else
				b4(g, rnd(g));
		}
		break;
	case 20:	/* pushf ; xor [esp], IF ; popf: IF flips */
		b1(g, 0x9c);
		b1(g, 0x81);
		b1(g, 0x34);
		b1(g, 0x24);
		b4(g, FL_IF | (rnd(g) & FL_ARITH));
		b1(g, 0x9d);
		break;
	case 21:	/* segment loads through the mirrored GDT */
		switch (pick(g, 3)) {
		case 0: b1(g, 0xbd); b4(g, pick(g, 2) ? 0x10 : 0x33);
			b1(g, 0x8e); b1(g, (uint8_t)(0xc5 | (pick(g, 2) ? 0 : 3) << 3)); break;
		case 1: b1(g, 0x1e); b1(g, 0x07); break;	/* push ds; pop es */
		default: b1(g, 0x8c); b1(g, (uint8_t)(0xc0 | 3 << 3 | d)); break;
		}
		break;
	case 22:	/* enter $n, $0 ; leave */
		b1(g, 0xc8);
		b1(g, (uint8_t)(4 * pick(g, 8)));
		b1(g, 0);
		b1(g, 0);
		b1(g, 0xc9);
		break;
	case 0: case 1:
		b1(g, binop[pick(g, sizeof(binop))]);
		b1(g, (uint8_t)(0xc0 | s << 3 | d));
		break;
	case 2:		/* the same at 16 bits, or at 8 (al dl bl ah dh bh) */
		if (pick(g, 2)) {
			b1(g, 0x66);
			b1(g, binop[pick(g, sizeof(binop))]);
			b1(g, (uint8_t)(0xc0 | s << 3 | d));
		} else {
			static const uint8_t r8[] = { 0, 2, 3, 4, 6, 7 };

			b1(g, (uint8_t)(binop[pick(g, sizeof(binop))] - 1));
			b1(g, (uint8_t)(0xc0 | s << 3 | r8[pick(g, 6)]));
		}
		break;
	case 3:
		b1(g, 0x81);
		b1(g, (uint8_t)(0xc0 | pick(g, 8) << 3 | d));
		b4(g, rnd(g));
		break;
	case 4:
		b1(g, 0x83);
		b1(g, (uint8_t)(0xc0 | pick(g, 8) << 3 | d));
		b1(g, (uint8_t)rnd(g));
		break;
	case 5: {
		static const uint8_t sh[] = { 0, 1, 2, 3, 4, 5, 7 };
		b1(g, pick(g, 2) ? 0xc1 : 0xd1);
		b1(g, (uint8_t)(0xc0 | sh[pick(g, 7)] << 3 | d));
		if (g->p[g->n - 2] == 0xc1)
			b1(g, (uint8_t)pick(g, 40));
		break;
	}
	case 6:
		b1(g, (uint8_t)((pick(g, 2) ? 0x40 : 0x48) + d));
		break;
	case 7:
		b1(g, 0xf7);
		b1(g, (uint8_t)(0xc0 | (2 + pick(g, 2)) << 3 | d));
		break;
	case 8:
		b1(g, 0x0f);
		b1(g, 0xaf);
		b1(g, (uint8_t)(0xc0 | d << 3 | s));
		break;
	case 9:		/* setcc al/dl/bl */
		b1(g, 0x0f);
		b1(g, (uint8_t)(0x90 | cc));
		b1(g, (uint8_t)(0xc0 | (pick(g, 3) == 0 ? 0 : pick(g, 2) ? 2 : 3)));
		break;
	case 10:	/* cmovcc */
		b1(g, 0x0f);
		b1(g, (uint8_t)(0x40 | cc));
		b1(g, (uint8_t)(0xc0 | d << 3 | s));
		break;
	case 11:	/* lea d, [s + s2*4 + disp8] */
		b1(g, 0x8d);
		b1(g, (uint8_t)(0x44 | d << 3));
		b1(g, (uint8_t)(0x80 | pick(g, 8) << 3 | (s == 4 ? 0 : s)));
		b1(g, (uint8_t)rnd(g));
		break;
	case 12:	/* mov [abs], r / op [abs], r / op r, [abs] */
		b1(g, (uint8_t[]){ 0x89, 0x01, 0x31, 0x03, 0x8b, 0x2b,
				   0x23 }[pick(g, 7)]);
		if (g->p[g->n - 1] >= 0x02 && g->p[g->n - 1] != 0x31 &&
		    g->p[g->n - 1] != 0x89)
			b1(g, (uint8_t)(0x05 | d << 3));
		else
			b1(g, (uint8_t)(0x05 | s << 3));
		b4(g, data_addr(g));
		break;
	case 13:	/* push r ; pop d */
		b1(g, (uint8_t)(0x50 + s));
		b1(g, (uint8_t)(0x58 + d));
		break;
	case 14:	/* pushf ; pop d */
		b1(g, 0x9c);
		b1(g, (uint8_t)(0x58 + d));
		break;
	case 15:	/* pushf ; xor [esp], imm32 & arith ; popf */
		b1(g, 0x9c);
		b1(g, 0x81);
		b1(g, 0x34);
		b1(g, 0x24);
		b4(g, rnd(g) & FL_ARITH);
		b1(g, 0x9d);
		break;
	case 16:
		b1(g, pick(g, 2) ? 0xfa : 0xfb);	/* cli / sti */
		break;
	case 17:	/* xadd / bt / shld / movzx */
		switch (pick(g, 4)) {
		case 0: b1(g, 0x0f); b1(g, 0xc1); b1(g, (uint8_t)(0xc0 | d << 3 | wreg(g))); break;
		case 1: b1(g, 0x0f); b1(g, 0xa3); b1(g, (uint8_t)(0xc0 | s << 3 | d)); break;
		case 2: b1(g, 0x0f); b1(g, 0xa4); b1(g, (uint8_t)(0xc0 | s << 3 | d)); b1(g, (uint8_t)pick(g, 32)); break;
		default: b1(g, 0x0f); b1(g, 0xb6); b1(g, (uint8_t)(0xc0 | d << 3 | (s & 3))); break;
		}
		break;
	case 18:	/* lahf/sahf, cmc, stc, clc, std+cld */
		switch (pick(g, 4)) {
		case 0: b1(g, 0x9f); b1(g, 0x9e); break;
		case 1: b1(g, 0xf5); break;
		case 2: b1(g, 0xf9); break;
		default: b1(g, 0xfd); b1(g, 0xfc); break;
		}
		break;
	default:	/* an exit: smsw / sgdt / out to the console */
		switch (pick(g, 3)) {
		case 0: b1(g, 0x66); b1(g, 0x0f); b1(g, 0x01); b1(g, (uint8_t)(0xe0 | d)); break;
		case 1: b1(g, 0x0f); b1(g, 0x01); b1(g, 0x05); b4(g, data_addr(g)); break;
		default: b1(g, 0xe6); b1(g, 0xe9); break;
		}
		break;
	}
}

static void chunk(struct gen *g, unsigned depth, bool in_sub);

/* jcc/jmp over a chunk generated behind it (forward only: terminates). */
static void skip(struct gen *g, unsigned depth, bool in_sub)
{
	uint32_t at = g->n, len;
	bool near = pick(g, 3) == 0, uncond = pick(g, 4) == 0;
	uint8_t cc = (uint8_t)pick(g, 16);

	g->n += near ? (uncond ? 5 : 6) : 2;
	chunk(g, depth + 1, in_sub);
	len = g->n - at - (near ? (uncond ? 5 : 6) : 2);
	if (!near && len > 127) {	/* keep it short: fall back */
		uint32_t d = uncond ? 3 : 4;

		near = true;
		memmove(g->p + at + 2 + d, g->p + at + 2, len);
		g->n += d;
		for (unsigned f = 0; f < g->nfix; f++)
			if ((g->subfix[f] & 0x7fffffffu) >= at + 2)
				g->subfix[f] += d;
		for (unsigned f = 0; f < g->npslot; f++)
			if (g->pslot[f] >= at + 2)
				g->pslot[f] += d;
		for (unsigned f = 0; f < g->npwrite; f++)
			if (g->pwrite[f] >= at + 2)
				g->pwrite[f] += d;
	}
	if (near && uncond) {
		g->p[at] = 0xe9;
		memcpy(g->p + at + 1, &len, 4);
	} else if (near) {
		g->p[at] = 0x0f;
		g->p[at + 1] = (uint8_t)(0x80 | cc);
		memcpy(g->p + at + 2, &len, 4);
	} else {
		g->p[at] = uncond ? 0xeb : (uint8_t)(0x70 | cc);
		g->p[at + 1] = (uint8_t)len;
	}
}

/* mov $k, %ecx ; L: body ; loop L | dec ecx; jnz L | jecxz out; jmp L */
static void loop(struct gen *g, unsigned depth, bool in_sub)
{
	uint32_t top, k = 1 + pick(g, 12);
	unsigned kind = pick(g, 3), n = 1 + pick(g, 4);
	int32_t rel;

	b1(g, 0xb9);
	b4(g, k);
	top = g->n;
	if (kind == 2) {	/* dec ecx first, exit through jecxz */
		b1(g, 0x49);
		b1(g, 0xe3);
		b1(g, 0);
	}
	for (unsigned i = 0; i < n && g->n - top < 90; i++)
		alu(g);
	if (!in_sub && kind != 2 && pick(g, 2))
		chunk(g, depth + 2, in_sub);	/* maybe a call in the body */
	switch (kind) {
	case 0:
		rel = (int32_t)top - (int32_t)(g->n + 2);
		if (rel >= -128) {
			b1(g, 0xe2);
			b1(g, (uint8_t)rel);
			break;
		}
		/* fallthrough */
	case 1:
		b1(g, 0x49);
		b1(g, 0x0f);
		b1(g, 0x85);
		b4(g, (uint32_t)((int32_t)top - (int32_t)(g->n + 4)));
		break;
	default:
		b1(g, 0xe9);
		b4(g, (uint32_t)((int32_t)top - (int32_t)(g->n + 4)));
		g->p[top + 2] = (uint8_t)(g->n - (top + 3));
		break;
	}
}

/* A call to subroutine i, direct or indirect; some take an argument popped
 * by RET 4 (odd subroutines). */
static void call(struct gen *g)
{
	unsigned i = pick(g, NSUB), how = pick(g, 4);

	if (i & 1) {
		b1(g, 0x50 + wreg(g));		/* the argument */
	}
	switch (how) {
	case 0:
		b1(g, 0xe8);
		g->subfix[g->nfix] = g->n;
		g->subidx[g->nfix++] = (uint8_t)i;
		b4(g, 0);
		break;
	case 1:		/* call *table(,%reg,4) with reg = i: via EBP */
		b1(g, 0xbd);
		b4(g, i);
		b1(g, 0xff);
		b1(g, 0x14);
		b1(g, 0xad);
		b4(g, g->table);
		break;
	case 2:		/* mov $sub, %ebp ; call *%ebp */
		b1(g, 0xbd);
		g->subfix[g->nfix] = g->n | 0x80000000u;
		g->subidx[g->nfix++] = (uint8_t)i;
		b4(g, 0);
		b1(g, 0xff);
		b1(g, 0xd5);
		break;
	default:	/* push $sub ; call *(%esp) ; lea 4(%esp), %esp */
		b1(g, 0x68);
		g->subfix[g->nfix] = g->n | 0x80000000u;
		g->subidx[g->nfix++] = (uint8_t)i;
		b4(g, 0);
		b1(g, 0xff);
		b1(g, 0x14);
		b1(g, 0x24);
		b1(g, 0x8d);
		b1(g, 0x64);
		b1(g, 0x24);
		b1(g, 0x04);
		break;
	}
	/* Half the time, patch the subroutine's entry after the call: in a
	 * loop, the next call runs the new bytes (its chained jump was
	 * unchained when the write dropped the block). */
	if (pick(g, 2) && g->npwrite < 256) {
		b1(g, 0xc7);
		b1(g, 0x05);
		g->pwsub[g->npwrite] = (uint8_t)i;
		g->pwrite[g->npwrite++] = g->n;
		b4(g, 0);
		b4(g, rnd(g));
	}
}

/* mov $after, %ebp ; jmp *%ebp ; chunk ; after: */
static void ind_skip(struct gen *g, unsigned depth, bool in_sub)
{
	uint32_t at;

	b1(g, 0xbd);
	at = g->n;
	b4(g, 0);
	b1(g, 0xff);
	b1(g, 0xe5);
	chunk(g, depth + 1, in_sub);
	{
		uint32_t v = g->base + g->n;
		memcpy(g->p + at, &v, 4);
	}
}

static void chunk(struct gen *g, unsigned depth, bool in_sub)
{
	unsigned n = pick(g, 11);

	if (n == 10 && depth < 3) {
		ind_skip(g, depth, in_sub);
		return;
	}

	if (depth > 3 || n < 5) {
		alu(g);
		return;
	}
	if (n < 7)
		skip(g, depth, in_sub);
	else if (n < 8 && !in_sub && depth == 0)
		loop(g, depth, in_sub);
	else if (!in_sub)
		call(g);
	else if (g->cur_sub + 1 < NSUB && pick(g, 3) == 0) {
		unsigned i = g->cur_sub + 1 + pick(g, NSUB - g->cur_sub - 1);

		if (i & 1)
			b1(g, (uint8_t)(0x50 + wreg(g)));
		b1(g, 0xe8);
		g->subfix[g->nfix] = g->n;
		g->subidx[g->nfix++] = (uint8_t)i;
		b4(g, 0);
	} else
		alu(g);
}

static void generate(struct gen *g, uint8_t *buf, uint32_t seed)
{
	unsigned n;

	memset(g, 0, sizeof(*g));
	g->s = seed * 2654435761u + 1;
	g->p = buf;
	g->table = BB_DATA + 0x40;
	/* Anywhere in the first page: programs cross page boundaries. */
	g->base = BB_CODE + pick(g, 4096);
	n = 20 + pick(g, 60);
	for (unsigned k = 0; k < n && g->n < MAXCODE - 0x1000; k++)
		chunk(g, 0, false);
	b1(g, 0xf4);				/* hlt */
	/* Half the programs have their subroutines in a later page: calls
	 * chain across pages, stores into them drop blocks other pages
	 * jump to. */
	if (pick(g, 2) && g->n + 0x1800 < MAXCODE) {
		uint32_t pad = 0x1000 - ((g->base + g->n) & 0xfff) + pick(g, 0x400);

		memset(g->p + g->n, 0xcc, pad);
		g->n += pad;
	}
	for (unsigned i = 0; i < NSUB; i++) {
		uint8_t d = wreg(g);

		g->cur_sub = i;
		g->sub[i] = g->base + g->n;
		/* mov $imm32, d (its patch slot) ; add d, [its data word] */
		b1(g, (uint8_t)(0xb8 + d));
		b4(g, rnd(g));
		b1(g, 0x01);
		b1(g, (uint8_t)(0x05 | d << 3));
		b4(g, BB_DATA + 0x300 + 4 * i);
		for (unsigned k = 1 + pick(g, 6); k; k--)
			chunk(g, 1, true);
		if (i & 1) {
			b1(g, 0xc2);		/* ret $4 */
			b1(g, 4);
			b1(g, 0);
		} else {
			b1(g, 0xc3);
		}
	}
	for (unsigned f = 0; f < g->nfix; f++) {
		uint32_t at = g->subfix[f] & 0x7fffffffu;
		uint32_t v = g->sub[g->subidx[f]];

		if (!(g->subfix[f] & 0x80000000u))
			v -= g->base + at + 4;
		memcpy(g->p + at, &v, 4);
	}
	/* Each store writes a patch slot (anywhere: its own block, another
	 * page, a subroutine), or data when there is none. */
	for (unsigned f = 0; f < g->npwrite; f++) {
		uint32_t v = g->npslot ? g->base + g->pslot[pick(g, g->npslot)]
				       : data_addr(g);

		if (g->pwsub[f] != 0xff)
			v = g->sub[g->pwsub[f]] + 1;

		memcpy(g->p + g->pwrite[f], &v, 4);
	}
}

static void test_random_programs(void)
{
	static uint8_t code[MAXCODE];
	unsigned failed = 0, exits = 0, miss = 0, dyn = 0, seeds = SEEDS;
	unsigned enospc = 0, straddles = 0, preempts = 0, codewr = 0;
	uint64_t dropped = 0, unchained = 0;
	const char *env = getenv("BT_RAND_SEEDS");	/* longer local runs */

	if (env)
		seeds = (unsigned)strtoul(env, NULL, 0);
	for (uint32_t seed = 1; seed <= seeds; seed++) {
		struct gen g;
		struct btbed *bb;
		uint32_t v;

		generate(&g, code, seed);
		bb = bb__new_at(g.base, code, g.n);
		if (seed % 8 == 1)	/* a tiny TC: -ENOSPC and resets */
			bt__set_tc_limit(bb->bt, 4096);
		for (uint32_t a = BB_DATA; a < BB_DATA + 0x400; a += 4) {
			v = rnd(&g);
			bb__load(bb, a, &v, 4);
		}
		for (unsigned i = 0; i < NSUB; i++)
			bb__load(bb, g.table + 4 * i, &g.sub[i], 4);
		for (int r = 0; r < 8; r++)
			if (r != R_ESP)
				bb__set_reg(bb, r, rnd(&g));
		bb__set_eflags(bb, 0x2 | (rnd(&g) & (FL_ARITH | FL_IF)));
		if (seed % 4 == 0)
			bt__wdata(bb->bt)->pend = 1;
		if (seed % 2)		/* preempted every 1..16 instructions */
			bb->preempt = seed * 0x9e3779b9u;
		bb__run_orig(bb, 1000000);
		if (bb__run_tc(bb, 4000000) || bb__compare(bb, true)) {
			if (getenv("BT_RAND_DUMP")) {
				char fn[64];
				FILE *f;

				snprintf(fn, sizeof(fn), "/tmp/bt-seed-%u.bin", seed);
				f = fopen(fn, "wb");
				if (f) {
					fwrite(code, 1, g.n, f);
					fclose(f);
				}
			}
			if (failed++ < 3) {
				fprintf(stderr, "\n  seed %u (%u bytes): %s\n",
					seed, g.n, bb->why);
				bb__compare(bb, false);
			}
		}
		exits += bb->nexit;
		enospc += bb->nenospc;
		preempts += bb->npreempt;
		straddles += (g.base & 0xfff) + g.n > 4096;
		miss += bb->nmiss;
		dyn += bb->ndyn;
		codewr += bb->ncodewr;
		{
			struct bt_stats st;

			bt__stats(bb->bt, &st);
			dropped += st.dropped;
			unchained += st.unchained;
		}
		bb__free(bb);
	}
	CU_ASSERT_EQUAL(failed, 0);
	/* The programs exercised what they should. */
	CU_ASSERT(exits > SEEDS);
	CU_ASSERT(miss > SEEDS);
	CU_ASSERT(dyn > SEEDS / 4);
	CU_ASSERT(enospc > 0);
	CU_ASSERT(preempts > SEEDS * 10);
	CU_ASSERT(straddles > SEEDS / 10);
	CU_ASSERT(codewr > SEEDS);
	CU_ASSERT(dropped > SEEDS);
	CU_ASSERT(unchained > SEEDS / 10);
	if (getenv("BT_RAND_SEEDS"))
		fprintf(stderr, "\n  exits %u misses %u dyn %u enospc %u "
			"page-crossing programs %u preemptions %u code writes "
			"%u blocks dropped %llu unchained %llu\n", exits,
			miss, dyn, enospc, straddles, preempts, codewr,
			(unsigned long long)dropped,
			(unsigned long long)unchained);
}

static CU_TestInfo bt_rand_tests[] = {
	{ "random_programs", test_random_programs },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bt_rand, .tests = bt_rand_tests);
