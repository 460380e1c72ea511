/* monitor/fpu_ssemov.c — SSE/SSE2 data movement, bitwise logic and
 * shuffles on packed single/double values (SDM Vol. 2 MOV*PS/PD, AND*PS,
 * SHUFPS/PD, UNPCK*PS/PD). None of them raises a floating-point flag. */
#include "monitor/fpu_vec.h"

#define M(x) ZYDIS_MNEMONIC_##x

/* A 16-byte (aligned or not) move in either direction. */
static int move16(struct fpu_insn *x)
{
	uint8_t v[16];
	int rc = vec_read(x, &x->ops[1], v, 16);
	return rc ? rc : vec_write(x, &x->ops[0], v, 16);
}

/* MOVSS/MOVSD: register to register merges the low lane, a load clears
 * the rest, a store writes the lane. */
static int move_scalar(struct fpu_insn *x, unsigned es)
{
	uint8_t d[16], s[16];
	int rc;
	if (!vec_is_xmm(&x->ops[0]))
		return (rc = vec_read(x, &x->ops[1], s, es)) ? rc :
		       vec_write(x, &x->ops[0], s, es);
	if ((rc = vec_read(x, &x->ops[0], d, 16)) ||
	    (rc = vec_read(x, &x->ops[1], s, es)))
		return rc;
	if (x->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY)
		__builtin_memset(d, 0, 16);
	fpu_copy(d, s, es);
	return vec_write(x, &x->ops[0], d, 16);
}

/* MOVLPS/MOVHPS/MOVLPD/MOVHPD/MOVHLPS/MOVLHPS: 8-byte halves. */
static int move_half(struct fpu_insn *x, unsigned dhalf, unsigned shalf)
{
	uint8_t d[16], s[16];
	int rc;
	if (!vec_is_xmm(&x->ops[0])) {		/* store of a half */
		if ((rc = vec_read(x, &x->ops[1], s, 16)))
			return rc;
		return vec_write(x, &x->ops[0], s + 8 * shalf, 8);
	}
	if ((rc = vec_read(x, &x->ops[0], d, 16)))
		return rc;
	if (x->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY) {
		if ((rc = vec_read(x, &x->ops[1], s, 8)))
			return rc;
		shalf = 0;
	} else if ((rc = vec_read(x, &x->ops[1], s, 16))) {
		return rc;
	}
	__builtin_memcpy(d + 8 * dhalf, s + 8 * shalf, 8);
	return vec_write(x, &x->ops[0], d, 16);
}

int sse_move_exec(struct fpu_insn *x)
{
	ZydisMnemonic mn = x->in->mnemonic;
	uint8_t d[16], s[16], r[16];
	int rc;

	switch (mn) {
	case M(MOVAPS): case M(MOVUPS): case M(MOVAPD): case M(MOVUPD):
	case M(MOVNTPS): case M(MOVNTPD):
		return move16(x);
	case M(MOVSS):
		return move_scalar(x, 4);
	case M(MOVSD):
		return move_scalar(x, 8);
	case M(MOVLPS): case M(MOVLPD):
		return move_half(x, 0, 0);
	case M(MOVHPS): case M(MOVHPD):
		return move_half(x, 1, 1);
	case M(MOVHLPS):
		return move_half(x, 0, 1);
	case M(MOVLHPS):
		return move_half(x, 1, 0);
	case M(MOVMSKPS): case M(MOVMSKPD): {
		unsigned es = mn == M(MOVMSKPS) ? 4 : 8;
		uint32_t m = 0;
		if ((rc = vec_read(x, &x->ops[1], s, 16)))
			return rc;
		for (unsigned i = 0; i < 16 / es; i++)
			m |= (uint32_t)(s[es * i + es - 1] >> 7) << i;
		return vec_write(x, &x->ops[0], &m, 4);
	}
	default:
		break;
	}

	bool logic = mn == M(ANDPS) || mn == M(ANDPD) || mn == M(ANDNPS) ||
		     mn == M(ANDNPD) || mn == M(ORPS) || mn == M(ORPD) ||
		     mn == M(XORPS) || mn == M(XORPD);
	bool shuf = mn == M(SHUFPS) || mn == M(SHUFPD) ||
		    mn == M(UNPCKLPS) || mn == M(UNPCKHPS) ||
		    mn == M(UNPCKLPD) || mn == M(UNPCKHPD);
	if (!logic && !shuf)
		return fpu_mmx_exec(x);
	if ((rc = vec_read(x, &x->ops[0], d, 16)) ||
	    (rc = vec_read(x, &x->ops[1], s, 16)))
		return rc;
	uint8_t imm = x->in->operand_count_visible > 2 ?
		      (uint8_t)x->ops[2].imm.value.u : 0;
	for (unsigned i = 0; i < 16; i++) {
		switch (mn) {
		case M(ANDPS): case M(ANDPD): r[i] = d[i] & s[i]; break;
		case M(ANDNPS): case M(ANDNPD): r[i] = (uint8_t)(~d[i] & s[i]); break;
		case M(ORPS): case M(ORPD): r[i] = d[i] | s[i]; break;
		case M(XORPS): case M(XORPD): r[i] = d[i] ^ s[i]; break;
		default: break;
		}
	}
	switch (mn) {
	case M(SHUFPS):
		for (unsigned i = 0; i < 4; i++)
			vec_put(r, 4, i, vec_lane(i < 2 ? d : s, 4,
						  (imm >> 2 * i) & 3));
		break;
	case M(SHUFPD):
		vec_put(r, 8, 0, vec_lane(d, 8, imm & 1));
		vec_put(r, 8, 1, vec_lane(s, 8, (imm >> 1) & 1));
		break;
	case M(UNPCKLPS): case M(UNPCKHPS): {
		unsigned b = mn == M(UNPCKHPS) ? 2 : 0;
		for (unsigned i = 0; i < 2; i++) {
			vec_put(r, 4, 2 * i, vec_lane(d, 4, b + i));
			vec_put(r, 4, 2 * i + 1, vec_lane(s, 4, b + i));
		}
		break;
	}
	case M(UNPCKLPD): case M(UNPCKHPD): {
		unsigned b = mn == M(UNPCKHPD) ? 1 : 0;
		vec_put(r, 8, 0, vec_lane(d, 8, b));
		vec_put(r, 8, 1, vec_lane(s, 8, b));
		break;
	}
	default:
		break;
	}
	return vec_write(x, &x->ops[0], r, 16);
}
