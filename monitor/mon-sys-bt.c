/* monitor/mon-sys-bt.c — the system-mode vCPU's side of translated guest
 * kernel code (bt/, docs/bt.md): when guest CPL-0 code may run translated,
 * its state as the world runs it at CPL 1 (a mirror of the guest GDT with
 * DPL-0 descriptors made DPL 1, CS and SS with RPL 1, the guest's IF
 * virtual), the state taken back at a site, how the translator reads guest
 * code, and the interpreter's events that invalidate translations (writes
 * to translated frames, INVLPG, paging-mode changes).
 * Plain C (userland unit tests, freestanding for hvmm.ko). */
#include <Zydis/Zydis.h>

#include "monitor/mon-sys-int.h"
#include "monitor/fs-libc.h"
#include "monitor/mon-kirq.h"
#include "monitor/mon-native.h"
#include "bt/bt.h"

#define PTE_P_	0x001u
#define PTE_PS_	0x080u
#define PTE_G_	0x100u

/* Guest-physical frame of linear @lin under the guest's 2-level tables
 * (no A/D update, no permission check), and whether the mapping is global
 * (CR4.PGE and G in the leaf: it survives CR3 loads). -1: not mapped or
 * not RAM. */
static int peek_frame(const struct mon_sys *ms, uint32_t lin, uint32_t *gfn, bool *global)
{
	const struct cpu *cpu = ms->cpu;
	uint32_t pd = cpu->cr3 >> 12, pde, pte;
	const uint32_t *t;

	if (pd >= ms->npages)
		return -1;
	t = ms->pages[pd];
	pde = t[lin >> 22];
	if (!(pde & PTE_P_))
		return -1;
	if ((pde & PTE_PS_) && (cpu->cr4 & CR4_PSE)) {
		*gfn = ((pde & 0xffc00000u) | (lin & 0x3ff000u)) >> 12;
		*global = (cpu->cr4 & CR4_PGE) && (pde & PTE_G_);
	} else {
		if ((pde >> 12) >= ms->npages)
			return -1;
		t = ms->pages[pde >> 12];
		pte = t[(lin >> 12) & 1023];
		if (!(pte & PTE_P_))
			return -1;
		*gfn = pte >> 12;
		*global = (cpu->cr4 & CR4_PGE) && (pte & PTE_G_);
	}
	if (*gfn >= ms->npages)
		return -1;
	/* MMIO and ROM: never translated (the interpreter reaches them) */
	if (((uint64_t)*gfn << 12) + 4096 > ms->mmio_start && ((uint64_t)*gfn << 12) < ms->mmio_end)
		return -1;
	if (((uint64_t)*gfn << 12) + 4096 > ms->rom_start && ((uint64_t)*gfn << 12) < ms->rom_end)
		return -1;
	return 0;
}

/* bt_env.code_page: only pages mapped global, so a translation keyed by
 * linear address stays right across CR3 loads (SDM Vol. 3A §4.10.2.4:
 * global translations survive MOV to CR3); INVLPG and paging-mode changes
 * reach bt through sys_tlb_event. The frame is watched by the interpreter
 * from now on: its writes to it reach bt__code_written. */
static int bt_code_page(void *opaque, uint32_t lin_page, const uint8_t **host, uint32_t *gfn)
{
	struct mon_sys *ms = opaque;
	bool global;

	if (peek_frame(ms, lin_page, gfn, &global) || !global)
		return -EFAULT;
	cpu__mark_code_page(ms->cpu, *gfn << 12);
	*host = ms->pages[*gfn];
	return 0;
}

void mon_sys__attach_bt(struct mon_sys *ms, struct bt *bt)
{
	ms->bt = bt;
	ms->cpu->kernel_boundary = bt != NULL;
	ms->bt_env.opaque = ms;
	ms->bt_env.code_page = bt_code_page;
}

const struct bt_env *mon_sys__bt_env(struct mon_sys *ms)
{
	return &ms->bt_env;
}

void mon_sys__bt_code_written(struct mon_sys *ms, uint32_t gpa_page)
{
	if (!ms->bt)
		return;
	if (gpa_page != ~0u) {
		/* translated code written: the guest patches its text (Linux's
		 * alternatives, ftrace, static keys at boot). Translating what
		 * is about to change costs more than interpreting it: the
		 * interpreter goes on for a while before the next offer. */
		if (bt__code_written(ms->bt, gpa_page >> 12))
			ms->bt_skip_icount = ms->cpu->icount + MON_BT_PATCH_SKIP;
		return;
	}
	/* the interpreter forgot every watched page: watch ours again */
	for (uint32_t g = 0; g < ms->npages; g++)
		if (bt__gfn_translated(ms->bt, g))
			cpu__mark_code_page(ms->cpu, g << 12);
}

void mon_sys__bt_tlb_event(struct mon_sys *ms, uint32_t lin, bool all)
{
	if (!ms->bt)
		return;
	if (all) {
		/* every translation goes; at boot, global flushes come in
		 * bursts (text patching, page attribute changes): wait a while
		 * before translating again, as after a code write */
		bt__reset(ms->bt, bt__win_lin(ms->bt));
		ms->bt_skip_icount = ms->cpu->icount + MON_BT_PATCH_SKIP;
	} else {
		bt__invlpg(ms->bt, lin);
	}
}

int mon_sys__irq_pending(struct mon_sys *ms)
{
	if (ms->kirq)
		mon_kirq__poll(ms->kirq);
	return ms->have_inject || ms->user_irq || (ms->kirq && mon_kirq__has_intr(ms->kirq));
}

/* A flat 32-bit segment: base 0, 4 GiB limit, D/B set. */
static bool flat32(const struct seg *s)
{
	return s->base == 0 && s->limit == 0xffffffffu && (s->attr & SEGA_DB);
}

/* May guest kernel code run translated now? CPL 0 in 32-bit protected
 * mode with 2-level paging, CR0.WP set (the world's WP=1 binds CPL 1),
 * TS/EM clear, flat 32-bit CS and SS from the GDT, IOPL 0, no TF/VM/RF/NT,
 * nothing pending that the interpreter must deliver first. */
bool mon_sys__bt_ok(struct mon_sys *ms)
{
	struct cpu *cpu = ms->cpu;
	uint32_t fl, gfn;
	bool global;

	if (!ms->bt || cpu->cpl != 0 || ms->have_inject ||
	    ms->read_pos < ms->nread || ms->pend != ACC_NONE)
		return false;
	if ((ms->hold && cpu->icount == ms->hold_icount) || cpu->icount < ms->bt_skip_icount)
		return false;
	if ((cpu->cr0 & (CR0_PE | CR0_PG | CR0_TS | CR0_EM | CR0_WP)) !=
	    (CR0_PE | CR0_PG | CR0_WP) ||
	    (cpu->cr4 & CR4_PAE) || !cpu->a20 || (cpu->dr[7] & 0xff) ||
	    cpu->shadow || cpu->halted || cpu->pending_exc >= 0 || cpu->nmi_pending ||
	    (cpu->fpu.mxcsr & ~ms->mxcsr_mask))
		return false;
	fl = cpu__eflags(cpu);
	if (fl & (FL_IOPL | FL_TF | FL_VM | FL_RF | FL_NT))
		return false;
	if (cpu->irq_pending && (fl & FL_IF))
		return false;	/* the interpreter delivers it first */
	if (!flat32(&cpu->seg[SEG_CS]) || !flat32(&cpu->seg[SEG_SS]) ||
	    (cpu->seg[SEG_CS].sel & 7) || (cpu->seg[SEG_SS].sel & 7))
		return false;
	if ((cpu->gdtr.limit + 1u) / 8 > MON_BT_GDT_MAX)
		return false;
	/* only code on global pages is translated (bt_code_page): checked
	 * here, where it is cheap, so early boot code is not offered */
	return peek_frame(ms, cpu->eip, &gfn, &global) == 0 && global;
}

/* The world's copy of guest descriptor @d: 0 for a system or not-present
 * one; DPL 0 becomes DPL 1 (so CPL 1 can load it), code becomes
 * non-conforming and never 64-bit (L=0), accessed set (the CPU never
 * writes the copy). A code segment whose base + limit passes 4 GiB is
 * left out (a compatibility-mode fetch under TCG would not wrap). */
static uint64_t mirror_desc(uint64_t d)
{
	uint32_t type = (d >> 40) & 0xf, dpl = (d >> 45) & 3;
	uint64_t base = ((d >> 16) & 0xffffff) | ((d >> 56) << 24);
	uint64_t limit = (d & 0xffff) | (((d >> 48) & 0xf) << 16);

	if (!(d & (1ull << 47)) || !(d & (1ull << 44)))
		return 0;
	if (d & (1ull << 55))
		limit = (limit << 12) | 0xfff;
	if (type & 8) {
		if (base + limit > 0xffffffffull)
			return 0;
		type &= ~4u;
	}
	type |= 1;
	if (dpl == 0)
		dpl = 1;
	d &= ~((0xfull << 40) | (3ull << 45) | (1ull << 53));
	return d | ((uint64_t)type << 40) | ((uint64_t)dpl << 45);
}

/* Reads guest descriptor table bytes at linear @lin (supervisor, no A/D
 * update). -1 when a page is not mapped. */
static int peek_lin(const struct mon_sys *ms, uint32_t lin, void *buf, uint32_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint32_t n = 4096 - (lin & 0xfff), gfn;
		bool g;

		if (n > len)
			n = len;
		if (peek_frame(ms, lin, &gfn, &g))
			return -1;
		memcpy(out, (const uint8_t *)ms->pages[gfn] + (lin & 0xfff), n);
		lin += n;
		out += n;
		len -= n;
	}
	return 0;
}

static void desc_parse(uint64_t d, uint32_t *base, uint32_t *limit, uint16_t *attr)
{
	*base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) << 24));
	*limit = (uint32_t)((d & 0xffff) | (((d >> 48) & 0xf) << 16));
	if (d & (1ull << 55))
		*limit = (*limit << 12) | 0xfff;
	*attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
}

static int export_state(struct mon_sys *ms, struct mon_bt_state *st, void *fx);

int mon_sys__bt_export(struct mon_sys *ms, struct mon_bt_state *st, void *fx)
{
	if (export_state(ms, st, fx) == 0)
		return 0;
	mon_sys__bt_refused(ms);
	return -1;
}

void mon_sys__bt_refused(struct mon_sys *ms)
{
	/* the interpreter goes on for a while before the next offer */
	ms->bt_skip_icount = ms->cpu->icount + MON_BT_REFUSED_SKIP;
}

static int export_state(struct mon_sys *ms, struct mon_bt_state *st, void *fx)
{
	struct cpu *cpu = ms->cpu;
	uint32_t n = (cpu->gdtr.limit + 1u) / 8, fl = cpu__eflags(cpu), gfn;
	bool g;

	if (n > MON_BT_GDT_MAX || peek_lin(ms, cpu->gdtr.base, ms->bt_gdt_raw, n * 8))
		return -1;
	ms->bt_gdt_n = n;
	st->gdt_n = n;
	for (uint32_t i = 0; i < n; i++)
		st->gdt[i] = (i == 0 || i == 2) ? 0 : mirror_desc(ms->bt_gdt_raw[i]);
	st->gdt_gfn[0] = st->gdt_gfn[1] = ~0u;
	if (!peek_frame(ms, cpu->gdtr.base, &gfn, &g))
		st->gdt_gfn[0] = gfn;
	if (!peek_frame(ms, cpu->gdtr.base + cpu->gdtr.limit, &gfn, &g))
		st->gdt_gfn[1] = gfn;
	/* every loaded segment must be what its mirror gives (the world
	 * loads the selectors from the mirror) */
	for (int i = 0; i < SEG_NSEGS; i++) {
		const struct seg *s = &cpu->seg[i];
		uint32_t idx = s->sel >> 3, base, limit;
		uint16_t attr;

		ms->nat_seg[i] = *s;
		st->sel[i] = s->sel;
		if ((s->sel & ~3) == 0 && i != SEG_CS && i != SEG_SS)
			continue;
		if ((s->sel & 4) || idx >= n || !st->gdt[idx])
			return -1;
		desc_parse(ms->bt_gdt_raw[idx], &base, &limit, &attr);
		if (base != s->base || limit != s->limit || ((attr ^ s->attr) & 0x60fe))
			return -1;
	}
	st->sel[SEG_CS] = (cpu->seg[SEG_CS].sel & ~3) | 1;
	st->sel[SEG_SS] = (cpu->seg[SEG_SS].sel & ~3) | 1;
	for (int i = 0; i < 8; i++)
		st->gpr[i] = cpu->r[i];
	st->eip = cpu->eip;
	st->eflags = mon_native__eflags_in(fl);
	st->vif = (fl & FL_IF) ? 256 : 0;
	st->cr0 = cpu->cr0;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	st->cr2 = cpu->cr2;
	mon_sys__fx_export(ms, fx);
	return 0;
}

/* Whether mirrored GDT entry @idx is the flat 4 GiB segment of @attr's
 * type and DPL (as SYSENTER/SYSEXIT load it, attr as seg__load_raw's). */
static bool gdt_flat(const struct mon_sys *ms, uint32_t idx, uint16_t attr)
{
	uint32_t base, limit;
	uint16_t a;

	if (idx == 0 || idx >= ms->bt_gdt_n)
		return false;
	desc_parse(ms->bt_gdt_raw[idx], &base, &limit, &a);
	return base == 0 && limit == 0xffffffffu && ((a ^ attr) & 0x40fe) == 0;
}

void mon_sys__bt_sysenter(struct mon_sys *ms, struct mon_bt_sysenter *se)
{
	struct cpu *cpu = ms->cpu;
	uint32_t cs = (uint32_t)cpu->sysenter_cs & 0xfffc, i = cs >> 3;

	se->cs = cs;
	se->esp = (uint32_t)cpu->sysenter_esp;
	se->eip = (uint32_t)cpu->sysenter_eip;
	se->iret_ok = !cpu->nmi_blocked;
	se->ok = ms->native_on && cs != 0 && !(cs & 4) &&
		 gdt_flat(ms, i, 0xc09b) && gdt_flat(ms, i + 1, 0xc093) &&
		 gdt_flat(ms, i + 2, 0xc0fb) && gdt_flat(ms, i + 3, 0xc0f3);
}

void mon_sys__bt_import(struct mon_sys *ms, const struct mon_bt_state *st,
			const void *fx, int vector)
{
	struct cpu *cpu = ms->cpu;
	uint32_t fl = mon_native__eflags_out(cpu__eflags(cpu), st->eflags);
	bool user = (st->sel[SEG_CS] & 3) == 3;

	/* kernel mode: the guest's IF is the virtual one; user mode (after an
	 * in-world SYSEXIT) runs with IF set, as a native stay */
	fl = (fl & ~FL_IF) | (user || st->vif ? FL_IF : 0);
	for (int i = 0; i < 8; i++)
		cpu->r[i] = st->gpr[i];
	cpu->eip = st->eip;
	/* translated code loads DS/ES/FS/GS from the mirror; CS and SS change
	 * only by the in-world SYSENTER/SYSEXIT, to the flat segments
	 * mon_sys__bt_sysenter checked in the mirror (kernel ones at RPL 1 in
	 * the world, the guest's RPL 0): take the guest's own descriptor as it
	 * was when mirrored */
	for (int i = 0; i < SEG_NSEGS; i++) {
		uint16_t sel = st->sel[i];
		uint32_t base, limit, idx = sel >> 3;
		uint16_t attr;

		if ((i == SEG_CS || i == SEG_SS) && !user)
			sel &= ~3;
		if (sel == ms->nat_seg[i].sel && cpu->seg[i].sel == sel)
			continue;
		if ((sel & ~3) == 0 || idx >= ms->bt_gdt_n) {
			seg__load_raw(cpu, i, sel, 0, 0, 0);
			continue;
		}
		desc_parse(ms->bt_gdt_raw[idx], &base, &limit, &attr);
		seg__load_raw(cpu, i, sel, base, limit, attr | 1);
	}
	mon_sys__fx_import(ms, fx);
	cpu__set_eflags(cpu, fl);
	if (user) {
		mon_sys__native_end(ms, fl, vector);
		return;
	}
	/* the interpreter executes the instruction at EIP (a site exit, or
	 * the one that faulted) before translated code runs again */
	ms->hold = true;
	ms->hold_icount = cpu->icount;
}


/* Reads up to @n code bytes at guest linear @eip (one page; fewer at its
 * end). */
static uint32_t peek_code(const struct mon_sys *ms, uint32_t eip, uint8_t *b, uint32_t n)
{
	uint32_t gfn, i, avail = 4096 - (eip & 0xfff);
	bool g;

	if (peek_frame(ms, eip, &gfn, &g))
		return 0;
	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		b[i] = ((const uint8_t *)ms->pages[gfn])[(eip & 0xfff) + i];
	return n;
}

int mon_sys__bt_fast_exit(struct mon_sys *ms, const uint8_t *b, uint32_t n, uint32_t gpr[8],
			  uint32_t *len, int dry)
{
	uint32_t i = 0, size = 4, v;
	uint16_t port;
	bool in;

	if (n >= 2 && b[0] == 0x0f && b[1] == 0x31) {		/* RDTSC */
		uint64_t t;

		*len = 2;
		if (dry)
			return 0;
		t = cpu__tsc(ms->cpu);
		gpr[0] = (uint32_t)t;
		gpr[2] = (uint32_t)(t >> 32);
		return 0;
	}
	if (!ms->kirq || !mon_kirq__on(ms->kirq) || ms->pend != ACC_NONE)
		return -1;
	if (n >= 1 && b[0] == 0x66) {
		size = 2;
		i = 1;
	}
	if (i >= n)
		return -1;
	switch (b[i]) {
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:	/* IN/OUT imm8 */
		if (i + 1 >= n)
			return -1;
		port = b[i + 1];
		*len = i + 2;
		break;
	case 0xec: case 0xed: case 0xee: case 0xef:	/* IN/OUT DX */
		port = (uint16_t)gpr[2];
		*len = i + 1;
		break;
	default:
		return -1;
	}
	if (!(b[i] & 1))
		size = 1;
	in = !(b[i] & 2);
	if (!mon_kirq__owns(ms->kirq, port))
		return -1;
	if (dry)
		return 0;
	v = in ? 0 : gpr[0];
	if (!mon_kirq__pio(ms->kirq, port, &v, size, !in))
		return -1;
	if (in)
		gpr[0] = size == 4 ? v : (gpr[0] & ~((1u << (size * 8)) - 1)) |
					 (v & ((1u << (size * 8)) - 1));
	return 0;
}

uint32_t mon_sys__bt_peek(const struct mon_sys *ms, uint32_t eip, uint8_t *b, uint32_t n)
{
	return peek_code(ms, eip, b, n);
}

int mon_sys__bt_read(const struct mon_sys *ms, uint32_t lin, void *buf, uint32_t len)
{
	return peek_lin(ms, lin, buf, len);
}

/* The base of the segment @sel holds as the world loaded it (the mirror of
 * the guest GDT); 0 for a null selector. -1: not in the mirror. */
static int seg_base(const struct mon_sys *ms, uint16_t sel, uint32_t *base)
{
	uint32_t limit, idx = sel >> 3;
	uint16_t attr;

	*base = 0;
	if ((sel & ~3) == 0)
		return 0;
	if ((sel & 4) || idx >= ms->bt_gdt_n)
		return -1;
	desc_parse(ms->bt_gdt_raw[idx], base, &limit, &attr);
	return 0;
}

static bool gpr32_or_none(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_NONE || ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR32;
}

int mon_sys__bt_cx8_addr(const struct mon_sys *ms, const uint8_t *b, uint32_t n,
			 const uint32_t gpr[8], const uint16_t sel[6], uint32_t *lin, uint32_t *len)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	const ZydisDecodedOperandMem *m;
	uint32_t ea, base, si;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32,
					   ZYDIS_STACK_WIDTH_32)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, n, &zi, op)) ||
	    zi.mnemonic != ZYDIS_MNEMONIC_CMPXCHG8B || zi.address_width != 32 ||
	    op[0].type != ZYDIS_OPERAND_TYPE_MEMORY)
		return -1;
	/* LOCK and segment overrides only (no operand size, no REP) */
	for (uint32_t k = 0; k < zi.raw.prefix_count; k++) {
		uint8_t p = zi.raw.prefixes[k].value;

		if (!(p == 0xf0 || p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e ||
		      p == 0x64 || p == 0x65))
			return -1;
	}
	/* as cpu__mem_operand: a 32-bit GPR's Zydis id is its place in
	 * @gpr (EAX..EDI), a segment's offset from ES its place in @sel */
	m = &op[0].mem;
	si = (uint32_t)(m->segment - ZYDIS_REGISTER_ES);	/* SS for EBP/ESP bases */
	if (si >= 6 || !gpr32_or_none(m->base) || !gpr32_or_none(m->index))
		return -1;
	ea = (uint32_t)m->disp.value;
	if (m->base != ZYDIS_REGISTER_NONE)
		ea += gpr[ZydisRegisterGetId(m->base)];
	if (m->index != ZYDIS_REGISTER_NONE)
		ea += gpr[ZydisRegisterGetId(m->index)] * m->scale;
	if (seg_base(ms, sel[si], &base))
		return -1;
	*lin = base + ea;
	*len = zi.length;
	return 0;
}
