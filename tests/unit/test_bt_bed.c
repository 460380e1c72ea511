/* tests/unit/test_bt_bed.c — the two-bed harness of tests/unit/bt-bed.h:
 * the oracle run and the translated run with a driver that does what the
 * monitor does at each exit of translated code. */
#include "tests/unit/bt-bed.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GDT	0x500u
#define TSS	0x600u
#define TSS2	0x700u		/* the oracle's #PF task */
#define IDT	0x800u
#define PD	0x2000u
#define PT	0x3000u		/* two tables: 8 MiB */
#define STK0	0x9000u

/* Hidden attributes (descriptor bits 40..55): G, D, P, DPL, S, type. */
#define ATTR_CODE0	0xc09bu
#define ATTR_DATA0	0xc093u
#define ATTR_CODE1	0xc0bbu
#define ATTR_DATA1	0xc0b3u
#define SEL_CODE1	0x19u	/* GDT 0x18, RPL 1 */
#define SEL_DATA1	0x11u	/* GDT 0x10 (DPL 1 in the translating bed) */

static void wr32(struct bed *b, uint32_t a, uint32_t v)
{
	memcpy(b->ram + a, &v, 4);
}

static uint32_t rd32(struct bed *b, uint32_t a)
{
	uint32_t v;
	memcpy(&v, b->ram + a, 4);
	return v;
}

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access,
		     unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void wr64(struct bed *b, uint32_t a, uint64_t v)
{
	memcpy(b->ram + a, &v, 8);
}

/* GDT: 0x08 code DPL0, 0x10 data (DPL @data_dpl: the translating bed
 * mirrors the guest's kernel data at DPL 1), 0x18 code DPL 1, 0x20 data
 * DPL 0 (ring-0 stack), 0x28 TSS, 0x30 data DPL 3, 0x38 the oracle's #PF
 * task. */
static void tables(struct bed *b, unsigned data_dpl)
{
	struct cpu *c = b->cpu;

	wr64(b, GDT + 0x08, desc(0, 0xfffff, 0x9b, 0xc));
	wr64(b, GDT + 0x10, desc(0, 0xfffff, 0x93 | data_dpl << 5, 0xc));
	wr64(b, GDT + 0x18, desc(0, 0xfffff, 0xbb, 0xc));
	wr64(b, GDT + 0x20, desc(0, 0xfffff, 0x93, 0xc));
	wr64(b, GDT + 0x28, desc(TSS, 0x67, 0x8b, 0));
	wr64(b, GDT + 0x30, desc(0, 0xfffff, 0xf3, 0xc));
	c->gdtr.base = GDT;
	c->gdtr.limit = 0x3f;
	for (unsigned v = 0; v < 32; v++) {
		uint32_t off = BB_HND + 2 * v;
		uint64_t g = (off & 0xffff) | ((uint64_t)0x08 << 16) |
			     ((uint64_t)0x8e << 40) |
			     ((uint64_t)(off >> 16) << 48);
		wr64(b, IDT + 8 * v, g);
		b->ram[off] = 0xf4;	/* hlt */
		b->ram[off + 1] = 0x90;
	}
	c->idtr.base = IDT;
	c->idtr.limit = 32 * 8 - 1;
	wr32(b, TSS + 4, STK0);
	wr32(b, TSS + 8, 0x20);
	if (data_dpl == 0) {
		/* The oracle runs at CPL 0: a #PF on its own stack could not
		 * push a frame there (#DF, shutdown). It goes through a task
		 * gate instead; the faulting state is saved in TSS. */
		wr64(b, GDT + 0x38, desc(TSS2, 0x67, 0x89, 0));
		wr32(b, TSS2 + 0x1c, PD);
		wr32(b, TSS2 + 0x20, BB_HND + 2 * EXC_PF);
		wr32(b, TSS2 + 0x24, 0x2);
		wr32(b, TSS2 + 0x38, STK0 - 0x1000);
		wr32(b, TSS2 + 0x4c, 0x08);
		for (uint32_t o = 0x48; o <= 0x5c; o += 4)
			if (o != 0x4c)
				wr32(b, TSS2 + o, 0x20);
		wr64(b, IDT + 8 * EXC_PF,
		     (uint64_t)0x38 << 16 | (uint64_t)0x85 << 40);
	}
	cpu__set_seg(c, -2, 0x28, TSS, 0x67, 0x8b);
	c->r[R_ESP] = BB_STACK;
	cpu__set_eflags(c, 0x2);
	cpu__state_changed(c);
}

static int bb_code_page(void *opaque, uint32_t lin, const uint8_t **host,
			uint32_t *gfn)
{
	struct btbed *bb = opaque;

	if (lin >= BB_WIN || lin < BB_CODE || lin == bb->deny_lin)
		return -14;
	*host = bb->tc->ram + lin;
	*gfn = lin >> 12;
	if (lin < BB_CODE_END)
		memcpy(bb->snap + (lin - BB_CODE), bb->tc->ram + lin, 4096);
	return 0;
}

struct btbed *bb__new(const uint8_t *code, size_t n)
{
	return bb__new_at(BB_CODE, code, n);
}

struct btbed *bb__new_at(uint32_t at, const uint8_t *code, size_t n)
{
	struct btbed *bb = calloc(1, sizeof(*bb));
	struct cpu *c;

	bb->orig = bed__new(BB_RAM, BB_CODE);
	bb->tc = bed__new(BB_RAM, BB_CODE);
	tables(bb->orig, 0);
	tables(bb->tc, 1);
	/* Identity paging over RAM, supervisor read/write, in both (so that
	 * tests can unmap a page in both: bb__unmap). */
	for (int k = 0; k < 2; k++) {
		struct bed *b = k ? bb->tc : bb->orig;

		for (uint32_t t = 0; t < 2; t++)
			wr32(b, PD + 4 * t, (PT + 0x1000 * t) | 3);
		for (uint32_t p = 0; p < BB_RAM >> 12; p++)
			wr32(b, PT + 4 * p, (p << 12) | 3);
		c = b->cpu;
		c->cr3 = PD;
		c->cr0 |= CR0_PG | (k ? CR0_WP : 0);
		cpu__state_changed(c);
	}
	bb->bt = calloc(1, bt__size());
	if (bt__init(bb->bt, bb->tc->ram + BB_WIN, BB_WIN, BB_RAM >> 12))
		abort();
	bb->env.opaque = bb;
	bb->env.code_page = bb_code_page;
	bb__load(bb, at, code, n);
	bb->orig->cpu->eip = at;
	bb->tc->cpu->eip = at;
	return bb;
}

void bb__free(struct btbed *bb)
{
	bed__free(bb->orig);
	bed__free(bb->tc);
	free(bb->bt);
	free(bb);
}

void bb__load(struct btbed *bb, uint32_t gpa, const void *p, size_t n)
{
	bed__load(bb->orig, gpa, p, n);
	bed__load(bb->tc, gpa, p, n);
}

void bb__unmap(struct btbed *bb, uint32_t lin)
{
	wr32(bb->orig, PT + 4 * (lin >> 12), 0);
	wr32(bb->tc, PT + 4 * (lin >> 12), 0);
	cpu__state_changed(bb->orig->cpu);
	cpu__state_changed(bb->tc->cpu);
}

void bb__set_reg(struct btbed *bb, int r, uint32_t v)
{
	bb->orig->cpu->r[r] = v;
	bb->tc->cpu->r[r] = v;
}

void bb__set_eflags(struct btbed *bb, uint32_t fl)
{
	cpu__set_eflags(bb->orig->cpu, fl);
	cpu__set_eflags(bb->tc->cpu, fl);
}

static bool in_handlers(uint32_t eip)
{
	return eip >= BB_HND && eip < BB_HND + 64;
}

static bool has_err(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

/* The state of a bed whose guest ran at CPL 0 and was stopped by HLT or
 * by an exception (frame on its own stack, at CPL 0). */
static void guest_end(struct bed *b, struct bb_state *s)
{
	struct cpu *c = b->cpu;

	memcpy(s->r, c->r, sizeof(s->r));
	s->eip = c->eip;
	s->eflags = cpu__eflags(c);
	s->vec = -1;
	if (in_handlers(c->eip) && c->tr.sel == 0x38) {
		/* The oracle's #PF task: the state left in the old TSS. */
		s->vec = EXC_PF;
		s->cr2 = c->cr2;
		s->eip = rd32(b, TSS + 0x20);
		s->eflags = rd32(b, TSS + 0x24);
		for (int k = 0; k < 8; k++)
			s->r[k] = rd32(b, TSS + 0x28 + 4 * k);
		return;
	}
	if (in_handlers(c->eip)) {
		uint32_t sp = c->r[R_ESP];

		s->vec = (int)((c->eip - BB_HND) / 2);
		s->cr2 = c->cr2;
		if (has_err(s->vec))
			sp += 4;
		s->eip = rd32(b, sp);
		s->eflags = rd32(b, sp + 8);
		s->r[R_ESP] = sp + 12;
	}
}

void bb__run_orig(struct btbed *bb, uint64_t budget)
{
	bed__run(bb->orig, budget);
	guest_end(bb->orig, &bb->o);
}

/* ---- The driver: the monitor's part ------------------------------------ */

static struct bt_wdata *wd(struct btbed *bb)
{
	return bt__wdata(bb->bt);
}

/* Guest mode (CPL 0, the interpreter) <-> TC mode (CPL 1, virtual IF). */
static void to_guest(struct btbed *bb, uint32_t eip)
{
	struct cpu *c = bb->tc->cpu;
	uint32_t fl = cpu__eflags(c) & ~FL_IF;

	if (wd(bb)->vif)
		fl |= FL_IF;
	cpu__set_eflags(c, fl);
	cpu__set_seg(c, SEG_CS, 0x08, 0, 0xffffffff, ATTR_CODE0);
	cpu__set_seg(c, SEG_SS, 0x10, 0, 0xffffffff, ATTR_DATA0);
	c->eip = eip;
	c->cr0 &= ~CR0_WP;	/* the interpreter writes code pages freely */
	cpu__state_changed(c);
}

static void to_tc(struct btbed *bb, uint32_t tc)
{
	struct cpu *c = bb->tc->cpu;
	uint32_t fl = cpu__eflags(c);

	wd(bb)->vif = (fl & FL_IF) ? 256 : 0;
	/* the guest's selectors, as the monitor gives them (to_guest's) */
	wd(bb)->cs_sel = 0x08;
	wd(bb)->ss_sel = 0x10;
	wd(bb)->cr2 = c->cr2;
	cpu__set_eflags(c, fl | FL_IF);
	cpu__set_seg(c, SEG_CS, SEL_CODE1, 0, 0xffffffff, ATTR_CODE1);
	cpu__set_seg(c, SEG_SS, SEL_DATA1, 0, 0xffffffff, ATTR_DATA1);
	c->eip = tc;
	c->cr0 |= CR0_WP;
	cpu__state_changed(c);
}

/* After bt changed the TC or what it translated: the CPU must not run
 * stale decoded TC bytes, and translated pages become read-only. */
static void bt_changed(struct btbed *bb)
{
	struct cpu *c = bb->tc->cpu;
	bool flush = false;

	cpu__invalidate_phys(c, BB_WIN, BT_WIN_BYTES);
	for (uint32_t p = 0; p < sizeof(bb->prot); p++) {
		uint32_t gfn = (BB_CODE >> 12) + p;
		bool ro = bt__gfn_translated(bb->bt, gfn);

		if (ro != bb->prot[p]) {
			bb->prot[p] = ro;
			wr32(bb->tc, PT + 4 * gfn, (gfn << 12) | (ro ? 1 : 3));
			flush = true;
		}
	}
	if (flush)
		cpu__state_changed(c);	/* flushes the TLB */
}

static int lookup(struct btbed *bb, uint32_t eip, uint32_t *tc)
{
	int r = bt__lookup(bb->bt, &bb->env, eip, tc);

	if (r == -28) {
		bb->nenospc++;
		bt__reset(bb->bt, BB_WIN);
		r = bt__lookup(bb->bt, &bb->env, eip, tc);
	}
	bt_changed(bb);
	return r;
}

/* Code the interpreter wrote: what the monitor's write tracking reports. */
static void interp_wrote_code(struct btbed *bb)
{
	for (uint32_t p = 0; p < sizeof(bb->prot); p++) {
		uint32_t lin = BB_CODE + (p << 12);

		if (!bt__gfn_translated(bb->bt, lin >> 12))
			continue;
		if (memcmp(bb->snap + (p << 12), bb->tc->ram + lin, 4096)) {
			bb->ncodewr++;
			bt__code_written(bb->bt, lin >> 12);
		}
	}
	bt_changed(bb);
}

static int fail(struct btbed *bb, const char *what, uint32_t a)
{
	snprintf(bb->why, sizeof(bb->why), "%s (0x%x)", what, a);
	return -1;
}

enum step { ST_CONT, ST_END, ST_FAIL };

/* Runs guest instructions in the interpreter from @eip: one, or more
 * while the guest's TF or IOPL keeps it out of translated code. */
static enum step interpret(struct btbed *bb, uint32_t eip)
{
	struct cpu *c = bb->tc->cpu;
	enum cpu_exit ex;

	to_guest(bb, eip);
	do {
		bb->ninterp++;
		ex = cpu__run(c, 1);
		interp_wrote_code(bb);
		if (ex != CPU_EXIT_BUDGET || c->halted ||
		    in_handlers(c->eip))
			return ST_END;
	} while (cpu__eflags(c) & (FL_TF | FL_IOPL));
	return ST_CONT;
}

/* Guest mode at c->eip -> translated code: code bt cannot fetch
 * (-EFAULT) is interpreted, one instruction at a time. */
static enum step resume(struct btbed *bb)
{
	struct cpu *c = bb->tc->cpu;
	uint32_t tc;

	for (;;) {
		int r = lookup(bb, c->eip, &tc);

		if (r == 0)
			break;
		if (r != -14) {
			fail(bb, "lookup failed", c->eip);
			return ST_FAIL;
		}
		bb->nfault_interp++;
		if (interpret(bb, c->eip) == ST_END)
			return ST_END;
	}
	to_tc(bb, tc);
	return ST_CONT;
}

/* The frame a CPL-1 -> CPL-0 exception left on the ring-0 stack. */
static int take_exception(struct btbed *bb, uint32_t *tc, uint32_t *cr2)
{
	struct cpu *c = bb->tc->cpu;
	uint32_t sp = c->r[R_ESP];
	int v = (int)((c->eip - BB_HND) / 2);

	if (has_err(v))
		sp += 4;
	*tc = rd32(bb->tc, sp);
	*cr2 = c->cr2;
	c->r[R_ESP] = rd32(bb->tc, sp + 12);
	cpu__set_eflags(c, rd32(bb->tc, sp + 8));
	c->halted = false;
	return v;
}

static void fixup(struct btbed *bb, const struct bt_site *s)
{
	struct cpu *c = bb->tc->cpu;
	uint32_t fl = cpu__eflags(c);

	bt__fixup(bb->bt, s, c->r, &fl);
	cpu__set_eflags(c, fl);
}

/* A pseudo-random preemption distance, 0..15 instructions. */
static uint64_t next_preempt(struct btbed *bb)
{
	bb->preempt ^= bb->preempt << 13;
	bb->preempt ^= bb->preempt >> 17;
	bb->preempt ^= bb->preempt << 5;
	return bb->preempt & 15;
}

int bb__run_tc(struct btbed *bb, uint64_t budget)
{
	struct cpu *c = bb->tc->cpu;
	uint64_t stepping = 0;
	uint64_t end = c->icount + budget;
	uint32_t eip = c->eip;

	bb->nexit = bb->nmiss = bb->ndyn = bb->ncodewr = 0;
	bb->nenospc = bb->ninterp = bb->nfault_interp = bb->npreempt = 0;
	bb->why[0] = 0;
	wd(bb)->vif = (cpu__eflags(c) & FL_IF) ? 256 : 0;
	to_guest(bb, eip);
	switch (resume(bb)) {
	case ST_FAIL:
		return -1;
	case ST_END:
		guest_end(bb->tc, &bb->t);
		return 0;
	default:
		break;
	}
	while (c->icount < end) {
		struct bt_site s;
		uint32_t at, cr2;
		uint64_t n = end - c->icount;
		enum cpu_exit ex;
		enum step st;
		int v;

		if (bb->preempt) {
			uint64_t m = stepping ? 1 : 1 + next_preempt(bb);

			if (m < n)
				n = m;
		}
		ex = cpu__run(c, n);
		if (ex == CPU_EXIT_BUDGET && bb->preempt && !in_handlers(c->eip)) {
			/* Preempted in the TC (a host interrupt, say): at an
			 * INSN site the state is the guest's before s.eip —
			 * go through guest mode and enter the TC afresh at
			 * s.eip; elsewhere single-step to the next site. */
			if (bt__site(bb->bt, c->eip, &s) || s.kind != BT_SITE_INSN) {
				stepping = 1;
				continue;
			}
			stepping = 0;
			bb->npreempt++;
			fixup(bb, &s);
			to_guest(bb, s.eip);
			st = resume(bb);
			if (st == ST_FAIL)
				return -1;
			if (st == ST_END) {
				guest_end(bb->tc, &bb->t);
				return 0;
			}
			continue;
		}
		stepping = 0;
		/* An exception went to its handler (which may not have run
		 * its HLT yet when the budget ended right after delivery). */
		if ((ex != CPU_EXIT_HALT_DEAD && ex != CPU_EXIT_BUDGET) ||
		    !in_handlers(c->eip)) {
			if (getenv("BT_DEBUG"))
				bed__dump(bb->tc);
			return fail(bb, "translated code stopped oddly", c->eip);
		}
		v = take_exception(bb, &at, &cr2);
		/* The monitor's invariant in translated code: real IF = 1,
		 * IOPL = 0, TF = 0 (the guest's IF is wdata.vif). */
		if ((cpu__eflags(c) & (FL_IF | FL_IOPL | FL_TF)) != FL_IF)
			return fail(bb, "real IF/IOPL/TF changed in the TC", at);
		cpu__set_seg(c, SEG_CS, SEL_CODE1, 0, 0xffffffff, ATTR_CODE1);
		cpu__set_seg(c, SEG_SS, SEL_DATA1, 0, 0xffffffff, ATTR_DATA1);
		c->eip = at;
		cpu__state_changed(c);
		if (bt__site(bb->bt, at, &s))
			return fail(bb, "exception at a TC address not a site", at);
		if (v == EXC_UD && s.kind == BT_SITE_MISS) {
			uint32_t next;
			int r;

			bb->nmiss++;
			r = bt__chain(bb->bt, &bb->env, at, &next);
			if (r == -28) {
				bb->nenospc++;
				bt__reset(bb->bt, BB_WIN);
				r = bt__lookup(bb->bt, &bb->env, s.eip, &next);
			}
			bt_changed(bb);
			if (r)
				return fail(bb, "chain failed", s.eip);
			c->eip = next;
			cpu__state_changed(c);
			continue;
		}
		if (v == EXC_UD && s.kind == BT_SITE_EXIT_DYN) {
			bb->ndyn++;
			fixup(bb, &s);
			to_guest(bb, wd(bb)->target);
			st = resume(bb);
			if (st == ST_FAIL)
				return -1;
			if (st == ST_END) {
				guest_end(bb->tc, &bb->t);
				return 0;
			}
			continue;
		}
		if (v == EXC_UD && s.kind == BT_SITE_EXIT) {
			bb->nexit++;
		} else if (v == EXC_PF && (cr2 >> 12) < (BB_CODE_END >> 12) &&
			   bt__gfn_translated(bb->bt, cr2 >> 12)) {
			/* A write to translated code (the page is read-only
			 * only for that): drop, then emulate the write. */
			if (s.kind != BT_SITE_INSN)
				return fail(bb, "code write at a non-INSN site", at);
			bb->ncodewr++;
			bt__code_written(bb->bt, cr2 >> 12);
			bt_changed(bb);
		} else {
			/* A guest fault: the monitor would reflect it at
			 * the site's guest EIP; the run ends here. */
			if (s.kind != BT_SITE_INSN)
				return fail(bb, "guest fault at an exit site", at);
			fixup(bb, &s);
			to_guest(bb, s.eip);
			memcpy(bb->t.r, c->r, sizeof(bb->t.r));
			bb->t.eip = s.eip;
			bb->t.eflags = cpu__eflags(c);
			bb->t.vec = v;
			bb->t.cr2 = cr2;
			return 0;
		}
		fixup(bb, &s);
		if (interpret(bb, s.eip) == ST_END) {
			guest_end(bb->tc, &bb->t);
			return 0;
		}
		st = resume(bb);
		if (st == ST_FAIL)
			return -1;
		if (st == ST_END) {
			guest_end(bb->tc, &bb->t);
			return 0;
		}
	}
	return fail(bb, "budget exhausted", c->eip);
}

static const char *const rn[8] = { "eax", "ecx", "edx", "ebx",
				   "esp", "ebp", "esi", "edi" };

#define FL_CMP (FL_ARITH | FL_DF | FL_IF | FL_TF | FL_IOPL | FL_AC | FL_NT)

int bb__compare(struct btbed *bb, bool quiet)
{
	const struct bb_state *o = &bb->o, *t = &bb->t;
	int bad = 0;

	for (int k = 0; k < 8; k++)
		if (o->r[k] != t->r[k]) {
			bad++;
			if (!quiet)
				fprintf(stderr, "  %s: oracle %08x, bt %08x\n",
					rn[k], o->r[k], t->r[k]);
		}
	if (o->vec == EXC_PF && o->cr2 != t->cr2) {
		bad++;
		if (!quiet)
			fprintf(stderr, "  cr2 %08x/%08x\n", o->cr2, t->cr2);
	}
	if (o->eip != t->eip || o->vec != t->vec ||
	    (o->eflags & FL_CMP) != (t->eflags & FL_CMP)) {
		bad++;
		if (!quiet)
			fprintf(stderr,
				"  eip %08x/%08x vec %d/%d eflags %08x/%08x\n",
				o->eip, t->eip, o->vec, t->vec, o->eflags,
				t->eflags);
	}
	if (memcmp(bb->orig->ram + BB_DATA, bb->tc->ram + BB_DATA,
		   BB_DATA_LEN)) {
		bad++;
		if (!quiet)
			fprintf(stderr, "  data memory differs\n");
	}
	if (memcmp(bb->orig->ram + BB_CODE, bb->tc->ram + BB_CODE,
		   BB_CODE_END - BB_CODE)) {
		bad++;
		if (!quiet)
			fprintf(stderr, "  code memory differs\n");
	}
	/* An exception frame lies below the oracle's stack only. */
	if (o->vec < 0 && memcmp(bb->orig->ram + BB_STACK - 0x4000,
				 bb->tc->ram + BB_STACK - 0x4000, 0x4000)) {
		bad++;
		if (!quiet)
			fprintf(stderr, "  stack memory differs\n");
	}
	return bad;
}

void bb__run_both_and_compare(struct btbed *bb, uint64_t budget)
{
	int r;

	bb__run_orig(bb, budget);
	r = bb__run_tc(bb, budget * 4);
	if (r)
		fprintf(stderr, "\n  bt driver: %s\n", bb->why);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(bb__compare(bb, false), 0);
}
