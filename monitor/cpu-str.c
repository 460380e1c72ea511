/* monitor/cpu-str.c — string instructions with REP/REPE/REPNE
 * (SDM Vol. 2 MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS, §"REP prefix").
 *
 * A REP instruction runs at most STR_CHUNK iterations per execution and
 * then re-executes itself (EIP left at the instruction), so interrupts are
 * taken between chunks as hardware takes them between iterations. ECX,
 * ESI and EDI are updated per iteration, so a fault mid-way restarts
 * exactly where the hardware would.
 */
#include "monitor/cpu-internal.h"

#define STR_CHUNK 4096

enum { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

int io__port(struct cpu *cpu, uint16_t port, uint32_t *v, unsigned len,
	     bool write);

static inline void adv(struct cpu *cpu, int r, uint32_t amask, int32_t d)
{
	cpu->r[r] = (cpu->r[r] & ~amask) | ((cpu->r[r] + (uint32_t)d) & amask);
}

/* One iteration. Returns 0, CPU_ABORT. */
static inline int str_step(struct cpu *cpu, const struct insn *i, unsigned kind,
			   unsigned sz, uint32_t amask, int32_t d)
{
	uint32_t a, b;

	switch (kind) {
	case S_MOVS:
		if (mem__read(cpu, i->seg, cpu->r[R_ESI] & amask, &a, sz) ||
		    mem__write(cpu, SEG_ES, cpu->r[R_EDI] & amask, a, sz))
			return CPU_ABORT;
		adv(cpu, R_ESI, amask, d);
		adv(cpu, R_EDI, amask, d);
		return 0;
	case S_CMPS:
		if (mem__read(cpu, i->seg, cpu->r[R_ESI] & amask, &a, sz) ||
		    mem__read(cpu, SEG_ES, cpu->r[R_EDI] & amask, &b, sz))
			return CPU_ABORT;
		lf_set(cpu, LF_SUB, sz, (a - b) & size_mask(sz), a, b);
		adv(cpu, R_ESI, amask, d);
		adv(cpu, R_EDI, amask, d);
		return 0;
	case S_STOS:
		if (mem__write(cpu, SEG_ES, cpu->r[R_EDI] & amask,
			       cpu->r[R_EAX], sz))
			return CPU_ABORT;
		adv(cpu, R_EDI, amask, d);
		return 0;
	case S_LODS:
		if (mem__read(cpu, i->seg, cpu->r[R_ESI] & amask, &a, sz))
			return CPU_ABORT;
		reg_set(cpu, R_EAX, sz, a);
		adv(cpu, R_ESI, amask, d);
		return 0;
	case S_SCAS:
		if (mem__read(cpu, SEG_ES, cpu->r[R_EDI] & amask, &b, sz))
			return CPU_ABORT;
		a = reg_get(cpu, R_EAX, sz);
		lf_set(cpu, LF_SUB, sz, (a - b) & size_mask(sz), a, b);
		adv(cpu, R_EDI, amask, d);
		return 0;
	case S_INS: {
		uint32_t lin;
		/* Check the destination before the port read (side effects). */
		if (mem__seg_check(cpu, SEG_ES, cpu->r[R_EDI] & amask, sz, true,
				   &lin) ||
		    mem__lin_probe_write(cpu, lin, sz, ACC_W))
			return CPU_ABORT;
		if (io__port(cpu, (uint16_t)cpu->r[R_EDX], &a, sz, false))
			return CPU_ABORT;
		if (mem__write(cpu, SEG_ES, cpu->r[R_EDI] & amask, a, sz))
			return CPU_ABORT;
		adv(cpu, R_EDI, amask, d);
		return 0;
	}
	default:	/* S_OUTS */
		if (mem__read(cpu, i->seg, cpu->r[R_ESI] & amask, &a, sz) ||
		    io__port(cpu, (uint16_t)cpu->r[R_EDX], &a, sz, true))
			return CPU_ABORT;
		adv(cpu, R_ESI, amask, d);
		return 0;
	}
}

/* Host pointer for size bytes at seg:off if the segment and TLB fast paths
 * allow it, with the number of bytes left in that page; else NULL. */
static uint8_t *fast_ptr(struct cpu *cpu, int seg, uint32_t off, bool write,
			 uint32_t *room)
{
	const struct seg *s = &cpu->seg[seg];
	uint32_t lin = s->base + off, tag;
	struct cpu_tlb_entry *e;

	if (!(cpu->seg_fast[seg] & (write ? 2 : 1)) || s->limit != 0xffffffffu)
		return NULL;
	e = tlb_entry(cpu, lin, cpu->cpl == 3);
	tag = write ? e->tag_w : e->tag_r;
	if (tag != (lin & ~0xfffu))
		return NULL;
	*room = 4096 - (lin & 0xfff);
	return (uint8_t *)e->host + (lin & 0xfff);
}

/* REP STOS/MOVS forward over flat RAM: whole runs within a page at a
 * time, element by element in order (so overlapping MOVS replicates as the
 * hardware does). Returns the number of elements done (0: take the
 * per-element path for the next one). */
static uint32_t str_bulk(struct cpu *cpu, const struct insn *i, unsigned kind,
			 unsigned sz, uint32_t count)
{
	uint32_t droom, sroom = ~0u, n;
	uint8_t *d = fast_ptr(cpu, SEG_ES, cpu->r[R_EDI], true, &droom), *sp = NULL;

	if (!d)
		return 0;
	if (kind == S_MOVS && !(sp = fast_ptr(cpu, i->seg, cpu->r[R_ESI], false,
					      &sroom)))
		return 0;
	n = (droom < sroom ? droom : sroom) / sz;
	if (n > count)
		n = count;
	if (kind == S_STOS) {
		uint32_t v = cpu->r[R_EAX];
		for (uint32_t k = 0; k < n; k++)
			store_le(d + k * sz, v, sz);
	} else {
		for (uint32_t k = 0; k < n; k++)
			store_le(d + k * sz, load_le(sp + k * sz, sz), sz);
		cpu->r[R_ESI] += n * sz;
	}
	cpu->r[R_EDI] += n * sz;
	cpu->r[R_ECX] -= n;
	return n;
}

/* str_bulk over up to 16 pages (64 KiB): elements done, 0 if none. */
static uint32_t str_bulk_run(struct cpu *cpu, const struct insn *i,
			     unsigned kind, unsigned sz)
{
	uint32_t done = 0, k;

	for (unsigned n = 0; n < 16 && cpu->r[R_ECX]; n++) {
		if (!(k = str_bulk(cpu, i, kind, sz, cpu->r[R_ECX])))
			break;
		done += k;
	}
	return done;
}

static unsigned str_kind(unsigned mnem)
{
	switch (mnem) {
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD: return S_MOVS;
	case ZYDIS_MNEMONIC_CMPSB: case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_CMPSD: return S_CMPS;
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD: return S_STOS;
	case ZYDIS_MNEMONIC_LODSB: case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_LODSD: return S_LODS;
	case ZYDIS_MNEMONIC_SCASB: case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD: return S_SCAS;
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_INSD: return S_INS;
	default: return S_OUTS;
	}
}

static int h_string(struct cpu *cpu, const struct insn *i)
{
	unsigned kind = str_kind(i->mnem), sz = i->osz;
	uint32_t amask = i->asz == 2 ? 0xffff : 0xffffffffu;
	int32_t d;
	bool bulk;

	flags__materialize(cpu);
	d = (cpu->eflags & FL_DF) ? -(int32_t)sz : (int32_t)sz;
	if ((kind == S_INS || kind == S_OUTS) &&
	    io__check(cpu, (uint16_t)cpu->r[R_EDX], sz))
		return CPU_ABORT;
	if (!i->rep)
		return str_step(cpu, i, kind, sz, amask, d);
	bulk = (kind == S_STOS || kind == S_MOVS) && d > 0 && i->asz == 4 &&
	       !cpu->step_one;
	if (bulk)
		str_bulk_run(cpu, i, kind, sz);
	for (unsigned n = 0, chunk = cpu->step_one ? 1 : STR_CHUNK; n < chunk;
	     n++) {
		if ((cpu->r[R_ECX] & amask) == 0)
			return 0;
		if (str_step(cpu, i, kind, sz, amask, d))
			return CPU_ABORT;
		adv(cpu, R_ECX, amask, -1);
		if (kind == S_CMPS || kind == S_SCAS) {
			bool zf = flags__cond(cpu, 4);
			if ((i->rep == 1 && !zf) || (i->rep == 2 && zf))
				return 0;
		}
		if (cpu->exit_req)
			break;
		/* The element's slow path may have filled the TLB (the
		 * usual reason the bulk path declined: a page not yet in
		 * the TLB, e.g. each new page-cache page copy_to_user
		 * reads): the rest in bulk again, then end this execution
		 * (the instruction continues in the next one). */
		if (bulk && cpu->r[R_ECX] && str_bulk_run(cpu, i, kind, sz))
			break;
	}
	if (cpu->r[R_ECX] & amask)
		cpu->eip = cpu->insn_eip;	/* continue in the next chunk */
	return 0;
}

insn_fn str__handler(unsigned mnem)
{
	return h_string;
}
