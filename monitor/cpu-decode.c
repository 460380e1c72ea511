/* monitor/cpu-decode.c — the decoded-instruction cache.
 *
 * Straight-line runs of guest code ("blocks", at most BLOCK_MAX instructions,
 * never crossing a 4 KiB page, ending after any instruction that may change
 * EIP non-sequentially or the decoding mode) are decoded once with Zydis into
 * compact struct insn records and kept in an arena, found through a hash on
 * (guest-physical address, decode mode). Every guest-physical page holding
 * decoded code is marked in a bitmap; the TLB sends writes to such pages down
 * the slow path (monitor/cpu-mem.c), which drops the page's blocks before
 * the write lands: self-modifying code and DMA stay coherent.
 * An instruction that straddles a page boundary is decoded every time it
 * runs (never cached): its second page may be remapped independently.
 */
#include "monitor/cpu-internal.h"

#define BLOCK_MAX	64
#define HASH_BITS	15
#define HASH_SIZE	(1u << HASH_BITS)

/* Decoded instructions that straddle a page (or the CS limit): they get no
 * block, so without this each execution decoded them again with Zydis
 * (~2 per guest system call in Linux's kernel paths). An entry is used
 * only when the bytes fetched now equal the bytes it was decoded from, so
 * it needs no invalidation. */
#define STRAD_N		64
struct strad_ent {
	uint32_t lin;
	uint8_t mode, n, valid;
	uint8_t bytes[15];
	struct insn insn;
};

struct cpu_icache {
	ZydisDecoder dec[2];	/* [mode]: 16-bit, 32-bit */
	struct block *hash[HASH_SIZE];
	uint32_t codebits[(1u << 20) / 32];	/* per 4 KiB page of 4 GiB */
	uint32_t pgen[PGEN_SIZE];		/* cpu->pgen */
	size_t used, size;
	union {
		struct block b;
		uint8_t mem[sizeof(struct block) + sizeof(struct insn)];
	} tmp;
	struct strad_ent strad[STRAD_N];
	uint8_t arena[] __attribute__((aligned(16)));
};

void icache__init(struct cpu *cpu)
{
	struct cpu_icache *ic = (struct cpu_icache *)(void *)cpu->icache_mem;

	cpu->ic = ic;
	cpu->pgen = ic->pgen;
	ZydisDecoderInit(&ic->dec[0], ZYDIS_MACHINE_MODE_LEGACY_16,
			 ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&ic->dec[1], ZYDIS_MACHINE_MODE_LEGACY_32,
			 ZYDIS_STACK_WIDTH_32);
	ic->size = cpu->icache_bytes - sizeof(*ic);
	icache__flush(cpu);
}

void icache__flush(struct cpu *cpu)
{
	struct cpu_icache *ic = cpu->ic;

	cpu_memset(ic->hash, 0, sizeof(ic->hash));
	cpu_memset(ic->codebits, 0, sizeof(ic->codebits));
	ic->used = 0;
	cpu->gen++;
	cpu->smc = true;
	/* every code bit went: the board re-marks pages it needs watched */
	if (cpu->ops->code_written)
		cpu->ops->code_written(cpu->opaque, ~0u);
}

bool mem__is_code_page(const struct cpu *cpu, uint32_t gpa_page)
{
	uint32_t pfn = gpa_page >> 12;
	return cpu->ic->codebits[pfn >> 5] & (1u << (pfn & 31));
}

static void set_code_bit(struct cpu *cpu, uint32_t gpa_page)
{
	uint32_t pfn = gpa_page >> 12;
	if (mem__is_code_page(cpu, gpa_page))
		return;
	cpu->ic->codebits[pfn >> 5] |= 1u << (pfn & 31);
	mem__set_code_page(cpu, gpa_page, true);
}

static inline uint32_t hash_of(uint32_t gpa, unsigned mode)
{
	return ((gpa * 0x9e3779b1u) >> (32 - HASH_BITS)) ^ mode;
}

void icache__invalidate_page(struct cpu *cpu, uint32_t gpa_page)
{
	struct cpu_icache *ic = cpu->ic;
	uint32_t pfn = gpa_page >> 12;

	/* O(1): the page's blocks become stale (links, the jump cache and
	 * lookups compare b->pgen); lookups unlink them as they meet them.
	 * Links into other pages stay valid (cpu->gen does not move). */
	(*pgen_of(cpu, gpa_page))++;
	ic->codebits[pfn >> 5] &= ~(1u << (pfn & 31));
	cpu->smc = true;
	if (cpu->ops->code_written)
		cpu->ops->code_written(cpu->opaque, gpa_page);
}

void cpu__mark_code_page(struct cpu *cpu, uint32_t gpa_page)
{
	set_code_bit(cpu, gpa_page & ~0xfffu);
}

/* Converts one Zydis instruction into its compact form. */
static void convert(const ZydisDecodedInstruction *zi,
		    const ZydisDecodedOperand *zo, struct insn *i)
{
	unsigned nimm = 0;

	cpu_memset(i, 0, sizeof(*i));
	i->mnem = zi->mnemonic;
	i->len = zi->length;
	i->osz = zi->operand_width == 16 ? 2 : zi->operand_width == 8 ? 1 : 4;
	i->asz = zi->address_width == 16 ? 2 : 4;
	i->base = i->index = REG_NONE;
	i->seg = SEG_DS;
	if (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		i->rep = 1;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_REPNE)
		i->rep = 2;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_LOCK)
		i->flags |= IF_LOCK;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_SEGMENT)
		i->flags |= IF_SEGOVR;
	for (unsigned k = 0; k < zi->operand_count; k++) {
		const ZydisDecodedOperand *o = &zo[k];
		bool vis = k < zi->operand_count_visible;
		struct insn_op *d = k < 3 ? &i->op[k] : NULL;

		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			/* String instructions: the source (ESI) segment. */
			if (!vis && o->mem.base != ZYDIS_REGISTER_NONE) {
				ZydisRegister b = o->mem.base;
				if (b == ZYDIS_REGISTER_ESI || b == ZYDIS_REGISTER_SI ||
				    b == ZYDIS_REGISTER_EBX || b == ZYDIS_REGISTER_BX)
					i->seg = o->mem.segment - ZYDIS_REGISTER_ES;
			}
		}
		if (!vis || !d)
			continue;
		i->nops = k + 1;
		d->size = o->size / 8;
		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER: {
			ZydisRegisterClass c = ZydisRegisterGetClass(o->reg.value);
			d->reg = ZydisRegisterGetId(o->reg.value);
			if (c == ZYDIS_REGCLASS_GPR8 || c == ZYDIS_REGCLASS_GPR16 ||
			    c == ZYDIS_REGCLASS_GPR32)
				d->kind = OK_REG;
			else if (c == ZYDIS_REGCLASS_SEGMENT)
				d->kind = OK_SREG, d->size = 2;
			else if (c == ZYDIS_REGCLASS_CONTROL)
				d->kind = OK_CR, d->size = 4;
			else if (c == ZYDIS_REGCLASS_DEBUG)
				d->kind = OK_DR, d->size = 4;
			else
				d->kind = OK_NONE;
			break;
		}
		case ZYDIS_OPERAND_TYPE_MEMORY:
			d->kind = OK_MEM;
			i->seg = o->mem.segment - ZYDIS_REGISTER_ES;
			if (o->mem.base != ZYDIS_REGISTER_NONE)
				i->base = ZydisRegisterGetId(o->mem.base);
			if (o->mem.index != ZYDIS_REGISTER_NONE) {
				i->index = ZydisRegisterGetId(o->mem.index);
				i->scale = o->mem.scale ? o->mem.scale : 1;
			}
			i->disp = (uint32_t)o->mem.disp.value;
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			if (o->imm.is_relative) {
				d->kind = OK_REL;
				i->imm = (uint32_t)o->imm.value.u;
			} else {
				d->kind = OK_IMM;
				if (nimm++ == 0)
					i->imm = (uint32_t)o->imm.value.u;
				else
					i->imm2 = (uint32_t)o->imm.value.u;
			}
			break;
		case ZYDIS_OPERAND_TYPE_POINTER:
			d->kind = OK_PTR;
			i->imm = o->ptr.offset;
			i->imm2 = o->ptr.segment;
			break;
		default:
			d->kind = OK_NONE;
			break;
		}
	}
}

/* Decodes one instruction at bytes[0..avail) into i; returns false if the
 * bytes run out (the instruction continues past avail). */
static bool decode_one(struct cpu *cpu, const uint8_t *bytes, unsigned avail,
		       struct insn *i)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZyanStatus st;

	st = ZydisDecoderDecodeFull(&cpu->ic->dec[cpu->mode], bytes,
				    avail > 15 ? 15 : avail, &zi, zo);
	cpu->ndecode++;
	if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15)
		return false;
	if (!ZYAN_SUCCESS(st)) {
		cpu_memset(i, 0, sizeof(*i));
		i->fn = insn_unimpl;
		i->len = 1;
		i->flags = IF_ENDBLK;
		return true;
	}
	convert(&zi, zo, i);
	i->fn = exec__handler(&zi, zo, i);
	i->xop = fast__classify(i);
	return true;
}

/* The strad[] entry an instruction at linear address @lin would use. */
static struct strad_ent *strad_slot(struct cpu *cpu, uint32_t lin)
{
	return &cpu->ic->strad[(lin ^ (lin >> 7)) & (STRAD_N - 1)];
}

static bool same_bytes(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t k = 0; k < n; k++)
		if (x[k] != y[k])
			return false;
	return true;
}

/* Builds the uncached block for an instruction that straddles pages or
 * a CS limit; fetches through the full linear-read path (faults included),
 * and decodes only when the bytes differ from its strad[] entry's. */
static struct block *decode_straddling(struct cpu *cpu, uint32_t lin,
				       unsigned limit_avail)
{
	struct block *b = &cpu->ic->tmp.b;
	struct strad_ent *c = strad_slot(cpu, lin);
	uint8_t bytes[15];
	unsigned n = limit_avail < 15 ? limit_avail : 15;
	unsigned first = 4096 - (lin & 0xfff);
	bool hit = false;

	cpu_memset(bytes, 0, sizeof(bytes));
	if (mem__lin_read(cpu, lin, bytes, first < n ? first : n, ACC_X))
		return NULL;
	if (c->valid && c->lin == lin && c->mode == cpu->mode && c->n == n) {
		/* the same fetches as a decode would do: the second page only
		 * for an instruction that reaches into it */
		unsigned len = c->insn.len;

		if (len > first && first < n &&
		    mem__lin_read(cpu, lin + first, bytes + first, n - first, ACC_X))
			return NULL;
		hit = same_bytes(bytes, c->bytes, len);
		if (hit)
			b->insns[0] = c->insn;
	}
	if (!hit) {
		if (first < n && !decode_one(cpu, bytes, first, &b->insns[0])) {
			if (mem__lin_read(cpu, lin + first, bytes + first, n - first,
					  ACC_X))
				return NULL;
		}
		if (!decode_one(cpu, bytes, n, &b->insns[0])) {
			cpu__raise(cpu, EXC_GP, 0);	/* runs past the CS limit */
			return NULL;
		}
		c->valid = 1;
		c->lin = lin;
		c->mode = (uint8_t)cpu->mode;
		c->n = (uint8_t)n;
		cpu_memcpy(c->bytes, bytes, sizeof(bytes));
		c->insn = b->insns[0];
	}
	b->ninsn = 1;
	b->gpa = ~0u;
	b->mode = (uint8_t)cpu->mode;
	b->insns[0].end = b->insns[0].len;
	b->succ_gen[0] = b->succ_gen[1] = cpu->gen - 1;
	b->insns[0].flags |= IF_ENDBLK;
	return b;
}

struct block *icache__lookup(struct cpu *cpu)
{
	struct cpu_icache *ic = cpu->ic;
	const struct seg *cs = &cpu->seg[SEG_CS];
	uint32_t lin = cs->base + cpu->eip, gpa, h, avail, lim;
	uint8_t *host;
	struct block *b;

	if (cpu->eip > cs->limit) {
		cpu__raise(cpu, EXC_GP, 0);
		return NULL;
	}
	lim = cs->limit - cpu->eip + 1;
	if (lim == 0)
		lim = ~0u;
	if (mem__fetch_xlate(cpu, lin, &gpa, &host))
		return NULL;
	h = hash_of(gpa, cpu->mode);
	for (struct block **pp = &ic->hash[h]; (b = *pp);) {
		if (b->pgen != *pgen_of(cpu, b->gpa)) {
			*pp = b->hnext;		/* stale: its page was written */
			continue;
		}
		if (b->gpa == gpa && b->mode == cpu->mode)
			return b;
		pp = &b->hnext;
	}
	if (!host) {
		cpu->error = "instruction fetch from MMIO/unbacked memory";
		return NULL;
	}
	avail = 4096 - (gpa & 0xfff);
	if (lim < avail)
		avail = lim;
	if (avail < 15) {
		/* a known straddler: skip the block attempt (a Zydis call that
		 * fails at the page end) */
		const struct strad_ent *c = strad_slot(cpu, lin);

		if (c->valid && c->lin == lin && c->mode == cpu->mode)
			return decode_straddling(cpu, lin, lim);
	}
	if (ic->used + sizeof(struct block) + BLOCK_MAX * sizeof(struct insn) >
	    ic->size) {
		icache__flush(cpu);
		h = hash_of(gpa, cpu->mode);
	}
	b = (struct block *)(void *)(ic->arena + ic->used);
	b->gpa = gpa;
	b->mode = cpu->mode;
	b->ninsn = 0;
	b->succ[0] = b->succ[1] = NULL;
	b->succ_gen[0] = b->succ_gen[1] = cpu->gen - 1;
	b->pgen = *pgen_of(cpu, gpa);
	{
		const uint8_t *p = host + (gpa & 0xfff);
		unsigned off = 0;
		while (b->ninsn < BLOCK_MAX && off < avail) {
			struct insn *i = &b->insns[b->ninsn];
			if (!decode_one(cpu, p + off, avail - off, i))
				break;
			b->ninsn++;
			off += i->len;
			i->end = (uint16_t)off;
			if (i->flags & IF_ENDBLK)
				break;
		}
		b->bytes = off;
	}
	if (b->ninsn == 0)
		return decode_straddling(cpu, lin, lim);
	b->insns[b->ninsn - 1].flags |= IF_ENDBLK;
	ic->used += sizeof(struct block) + b->ninsn * sizeof(struct insn);
	ic->used = (ic->used + 15) & ~(size_t)15;
	b->hnext = ic->hash[h];
	ic->hash[h] = b;
	set_code_bit(cpu, gpa & ~0xfffu);
	return b;
}


void icache__audit_block(struct cpu *cpu, const struct block *b)
{
	uint32_t lin = cpu->seg[SEG_CS].base + cpu->eip, gpa;
	uint8_t *host;
	struct insn i;
	unsigned off = 0;

	if (b->gpa == ~0u || mem__fetch_xlate(cpu, lin, &gpa, &host)) {
		cpu->pending_exc = -1;
		return;
	}
	if (gpa != b->gpa) {
		cpu__audit_report(cpu, AUDIT_BLOCK, lin, b->gpa, gpa);
		return;
	}
	if (!host)
		return;
	for (unsigned k = 0; k < b->ninsn; k++) {
		const struct insn *d = &b->insns[k];
		if (!decode_one(cpu, host + (gpa & 0xfff) + off,
				4096 - ((gpa & 0xfff) + off), &i))
			break;
		off += i.len;
		i.end = (uint16_t)off;
		i.flags |= d->flags & IF_ENDBLK;
		if (!same_bytes(&i, d, sizeof(i))) {
			cpu__audit_report(cpu, AUDIT_BLOCK, lin + off - i.len,
					  b->gpa, k);
			return;
		}
	}
}

int icache__redecode(struct cpu *cpu, ZydisDecodedInstruction *zi,
		     ZydisDecodedOperand *zo)
{
	uint8_t bytes[15];
	uint32_t lin = cpu->seg[SEG_CS].base + cpu->insn_eip;
	unsigned n = 15;

	cpu_memset(bytes, 0, sizeof(bytes));
	while (n && mem__lin_read(cpu, lin, bytes, n, ACC_X)) {
		/* The tail may sit on an unmapped page: retry shorter, and
		 * drop the #PF that probe raised. */
		cpu->pending_exc = -1;
		n--;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&cpu->ic->dec[cpu->mode],
						 bytes, n, zi, zo)))
		return -1;
	return 0;
}

int cpu__mem_operand(struct cpu *cpu, const ZydisDecodedInstruction *zi,
		     const ZydisDecodedOperand *op, int *seg, uint32_t *off)
{
	uint32_t ea;

	if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return -1;
	ea = (uint32_t)op->mem.disp.value;
	if (op->mem.base != ZYDIS_REGISTER_NONE)
		ea += cpu->r[ZydisRegisterGetId(op->mem.base)];
	if (op->mem.index != ZYDIS_REGISTER_NONE)
		ea += cpu->r[ZydisRegisterGetId(op->mem.index)] * op->mem.scale;
	if (zi->address_width == 16)
		ea &= 0xffff;
	*seg = op->mem.segment - ZYDIS_REGISTER_ES;
	*off = ea;
	return 0;
}
