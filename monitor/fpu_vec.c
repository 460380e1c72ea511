/* monitor/fpu_vec.c — operand access shared by the MMX and SSE parts: MMX
 * and XMM registers, 32-bit general registers, memory (with the 16-byte
 * alignment rule of legacy SSE), and the x87/MMX state transition. */
#include "monitor/fpu_vec.h"

bool vec_is_mm(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       o->reg.value >= ZYDIS_REGISTER_MM0 &&
	       o->reg.value <= ZYDIS_REGISTER_MM7;
}

bool vec_is_xmm(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       o->reg.value >= ZYDIS_REGISTER_XMM0 &&
	       o->reg.value <= ZYDIS_REGISTER_XMM7;
}

static bool is_gpr32(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       o->reg.value >= ZYDIS_REGISTER_EAX &&
	       o->reg.value <= ZYDIS_REGISTER_EDI;
}

/* SDM Vol. 1 §9.5.1: an MMX instruction sets TOP to 0 and every tag to
 * valid; the register exponent field reads as all ones after a write. */
void vec_mmx_enter(struct fpu_state *f)
{
	x87_set_top(f, 0);
	f->ftw = 0;
}

/* Legacy SSE: a 16-byte memory operand must be 16-byte aligned, except for
 * the unaligned moves (SDM Vol. 1 §10.4.1.1, §11.4.1.1): #GP(0). */
int vec_check_align(struct fpu_insn *x, unsigned len)
{
	ZydisMnemonic mn = x->in->mnemonic;
	if (len != 16 || mn == ZYDIS_MNEMONIC_MOVUPS ||
	    mn == ZYDIS_MNEMONIC_MOVUPD || mn == ZYDIS_MNEMONIC_MOVDQU)
		return 0;
	if ((x->cpu->seg[x->seg].base + x->off) & 15)
		return cpu__raise(x->cpu, EXC_GP, 0);
	return 0;
}

int vec_read(struct fpu_insn *x, const ZydisDecodedOperand *o, void *buf,
	     unsigned len)
{
	struct fpu_state *f = x->f;
	__builtin_memset(buf, 0, 16);
	switch (o->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		if (vec_is_mm(o))
			fpu_copy(buf, &f->st[o->reg.value -
						     ZYDIS_REGISTER_MM0].m,
					 len > 8 ? 8 : len);
		else if (vec_is_xmm(o))
			fpu_copy(buf, f->xmm[o->reg.value -
						     ZYDIS_REGISTER_XMM0].b, len);
		else if (is_gpr32(o))
			fpu_copy(buf, &x->cpu->r[o->reg.value -
							 ZYDIS_REGISTER_EAX],
					 len > 4 ? 4 : len);
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY: {
		int rc = vec_check_align(x, len);
		return rc ? rc : fpu_read(x, 0, buf, len);
	}
	case ZYDIS_OPERAND_TYPE_IMMEDIATE: {
		uint64_t v = o->imm.value.u;
		fpu_copy(buf, &v, len > 8 ? 8 : len);
		return 0;
	}
	default:
		return 0;
	}
}

int vec_write(struct fpu_insn *x, const ZydisDecodedOperand *o,
	      const void *buf, unsigned len)
{
	struct fpu_state *f = x->f;
	if (vec_is_mm(o)) {
		struct fpu_reg80 *r = &f->st[o->reg.value - ZYDIS_REGISTER_MM0];
		__builtin_memcpy(&r->m, buf, 8);
		r->se = 0xffff;
		return 0;
	}
	if (vec_is_xmm(o)) {
		fpu_copy(f->xmm[o->reg.value - ZYDIS_REGISTER_XMM0].b,
				 buf, len);
		return 0;
	}
	if (is_gpr32(o)) {
		uint32_t v = 0;
		fpu_copy(&v, buf, len > 4 ? 4 : len);
		x->cpu->r[o->reg.value - ZYDIS_REGISTER_EAX] = v;
		return 0;
	}
	int rc = vec_check_align(x, len);
	return rc ? rc : fpu_write(x, 0, buf, len);
}

/* Width in bytes of a vector register operand (8 MMX, 16 XMM). */
unsigned vec_width(const ZydisDecodedOperand *o)
{
	return vec_is_mm(o) ? 8 : 16;
}
