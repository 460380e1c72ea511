/* monitor/fpu_simdint.c — packed-integer instructions on MMX (8-byte) and
 * XMM (16-byte) registers: MMX, the SSE integer additions (PAVG, PMIN/MAX,
 * PSADBW, PSHUFW, ...) and the SSE2 128-bit forms, data moves, EMMS
 * (SDM Vol. 1 chapter 9, §10.4.4, §11.4.3; Vol. 2 P* pages). */
#include "monitor/fpu_vec.h"

enum {
	L_ADD, L_SUB, L_ADDS, L_ADDUS, L_SUBS, L_SUBUS, L_MULL, L_MULH,
	L_MULHU, L_AND, L_ANDN, L_OR, L_XOR, L_CMPEQ, L_CMPGT, L_AVG, L_MINU,
	L_MAXU, L_MINS, L_MAXS,
};

#define M(x) ZYDIS_MNEMONIC_##x
static const struct { uint16_t mn; uint8_t op, es; } lane_ops[] = {
	{ M(PADDB), L_ADD, 1 }, { M(PADDW), L_ADD, 2 }, { M(PADDD), L_ADD, 4 },
	{ M(PADDQ), L_ADD, 8 }, { M(PSUBB), L_SUB, 1 }, { M(PSUBW), L_SUB, 2 },
	{ M(PSUBD), L_SUB, 4 }, { M(PSUBQ), L_SUB, 8 },
	{ M(PADDSB), L_ADDS, 1 }, { M(PADDSW), L_ADDS, 2 },
	{ M(PADDUSB), L_ADDUS, 1 }, { M(PADDUSW), L_ADDUS, 2 },
	{ M(PSUBSB), L_SUBS, 1 }, { M(PSUBSW), L_SUBS, 2 },
	{ M(PSUBUSB), L_SUBUS, 1 }, { M(PSUBUSW), L_SUBUS, 2 },
	{ M(PMULLW), L_MULL, 2 }, { M(PMULHW), L_MULH, 2 },
	{ M(PMULHUW), L_MULHU, 2 }, { M(PAND), L_AND, 8 },
	{ M(PANDN), L_ANDN, 8 }, { M(POR), L_OR, 8 }, { M(PXOR), L_XOR, 8 },
	{ M(PCMPEQB), L_CMPEQ, 1 }, { M(PCMPEQW), L_CMPEQ, 2 },
	{ M(PCMPEQD), L_CMPEQ, 4 }, { M(PCMPGTB), L_CMPGT, 1 },
	{ M(PCMPGTW), L_CMPGT, 2 }, { M(PCMPGTD), L_CMPGT, 4 },
	{ M(PAVGB), L_AVG, 1 }, { M(PAVGW), L_AVG, 2 },
	{ M(PMINUB), L_MINU, 1 }, { M(PMAXUB), L_MAXU, 1 },
	{ M(PMINSW), L_MINS, 2 }, { M(PMAXSW), L_MAXS, 2 },
};

static int64_t sat_s(int64_t v, unsigned es)
{
	int64_t lo = -(1ll << (8 * es - 1)), hi = (1ll << (8 * es - 1)) - 1;
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t sat_u(int64_t v, unsigned es)
{
	int64_t hi = (1ll << (8 * es)) - 1;
	return (uint64_t)(v < 0 ? 0 : v > hi ? hi : v);
}

static uint64_t lane_op(int op, unsigned es, uint64_t a, uint64_t b,
			int64_t sa, int64_t sb)
{
	uint64_t ones = es == 8 ? ~0ull : (1ull << (8 * es)) - 1;
	switch (op) {
	case L_ADD: return a + b;
	case L_SUB: return a - b;
	case L_ADDS: return (uint64_t)sat_s(sa + sb, es);
	case L_ADDUS: return sat_u((int64_t)(a + b), es);
	case L_SUBS: return (uint64_t)sat_s(sa - sb, es);
	case L_SUBUS: return sat_u((int64_t)a - (int64_t)b, es);
	case L_MULL: return (uint64_t)(sa * sb);
	case L_MULH: return (uint64_t)((sa * sb) >> 16);
	case L_MULHU: return (a * b) >> 16;
	case L_AND: return a & b;
	case L_ANDN: return ~a & b;
	case L_OR: return a | b;
	case L_XOR: return a ^ b;
	case L_CMPEQ: return a == b ? ones : 0;
	case L_CMPGT: return sa > sb ? ones : 0;
	case L_AVG: return (a + b + 1) >> 1;
	case L_MINU: return a < b ? a : b;
	case L_MAXU: return a > b ? a : b;
	case L_MINS: return sa < sb ? a : b;
	default: return sa > sb ? a : b;
	}
}

/* Shift by a count from an immediate or a register/memory operand; a count
 * beyond the lane width clears the lane (or fills it with the sign). */
static void shift(uint8_t *d, unsigned n, unsigned es, uint64_t cnt,
		  int kind)
{
	unsigned bits = 8 * es;
	for (unsigned i = 0; i < n / es; i++) {
		uint64_t v = vec_lane(d, es, i);
		int64_t sv = vec_slane(d, es, i);
		if (kind == 2)		/* arithmetic right */
			v = (uint64_t)(sv >> (cnt >= bits ? bits - 1 : cnt));
		else if (cnt >= bits)
			v = 0;
		else
			v = kind == 0 ? v << cnt : v >> cnt;
		vec_put(d, es, i, v);
	}
}

static void pack(uint8_t *r, const uint8_t *d, const uint8_t *s, unsigned n,
		 unsigned es, bool uns)
{
	unsigned k = n / es;	/* source lanes per operand */
	for (unsigned i = 0; i < 2 * k; i++) {
		int64_t v = i < k ? vec_slane(d, es, i) : vec_slane(s, es, i - k);
		vec_put(r, es / 2, i, uns ? sat_u(v, es / 2) :
				      (uint64_t)sat_s(v, es / 2));
	}
}

static void unpack(uint8_t *r, const uint8_t *d, const uint8_t *s,
		   unsigned n, unsigned es, bool high)
{
	unsigned k = n / es / 2, base = high ? k : 0;
	for (unsigned i = 0; i < k; i++) {
		vec_put(r, es, 2 * i, vec_lane(d, es, base + i));
		vec_put(r, es, 2 * i + 1, vec_lane(s, es, base + i));
	}
}

/* MOVD/MOVQ/MOVDQA/MOVDQU/MOVNT*, MOVQ2DQ/MOVDQ2Q: the destination width
 * decides (an XMM destination of a 4/8-byte move has its upper part
 * cleared). */
static int do_move(struct fpu_insn *x, unsigned len)
{
	uint8_t v[16];
	const ZydisDecodedOperand *d = &x->ops[0], *s = &x->ops[1];
	int rc = vec_read(x, s, v, len);
	if (rc)
		return rc;
	if (vec_is_xmm(d))
		return vec_write(x, d, v, 16);
	if (vec_is_mm(d))
		return vec_write(x, d, v, 8);
	return vec_write(x, d, v, len);
}

/* MASKMOVQ/MASKMOVDQU: bytes selected by the mask's sign bits are stored
 * at DS:EDI (the hidden memory operand, segment override honoured). */
static int do_maskmov(struct fpu_insn *x, unsigned n)
{
	uint8_t v[16], m[16];
	int rc;
	for (unsigned k = 0; k < x->in->operand_count; k++)
		if (x->ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    cpu__mem_operand(x->cpu, x->in, &x->ops[k], &x->seg,
				     &x->off))
			return FPU_NOT_MINE;
	if ((rc = vec_read(x, &x->ops[0], v, n)) ||
	    (rc = vec_read(x, &x->ops[1], m, n)))
		return rc;
	for (unsigned i = 0; i < n; i++)
		if ((m[i] & 0x80) && (rc = fpu_write(x, i, &v[i], 1)))
			return rc;
	return 0;
}

int fpu_mmx_exec(struct fpu_insn *x)
{
	ZydisMnemonic mn = x->in->mnemonic;
	const ZydisDecodedOperand *o = x->ops;
	uint8_t d[16], s[16], r[16];
	unsigned n = vec_width(&o[0]);
	uint8_t imm = x->in->operand_count_visible > 2 &&
		      o[2].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ?
		      (uint8_t)o[2].imm.value.u : 0;
	int rc;

	switch (mn) {
	case M(EMMS):
		x->f->ftw = 0xffff;
		return 0;
	case M(MOVD):
		return do_move(x, 4);
	case M(MOVQ): case M(MOVQ2DQ): case M(MOVDQ2Q): case M(MOVNTQ):
		return do_move(x, 8);
	case M(MOVDQA): case M(MOVDQU): case M(MOVNTDQ):
		return do_move(x, 16);
	case M(MASKMOVQ): case M(MASKMOVDQU):
		return do_maskmov(x, n);
	case M(PMOVMSKB): {
		uint32_t mask = 0;
		n = vec_width(&o[1]);
		if ((rc = vec_read(x, &o[1], s, n)))
			return rc;
		for (unsigned i = 0; i < n; i++)
			mask |= (uint32_t)(s[i] >> 7) << i;
		return vec_write(x, &o[0], &mask, 4);
	}
	case M(PEXTRW): {
		n = vec_width(&o[1]);
		if ((rc = vec_read(x, &o[1], s, n)))
			return rc;
		uint32_t w = (uint32_t)vec_lane(s, 2, imm & (n / 2 - 1));
		return vec_write(x, &o[0], &w, 4);
	}
	default:
		break;
	}

	if ((rc = vec_read(x, &o[0], d, n)))
		return rc;
	/* the source: 8/16 bytes, 2 for PINSRW m16, none for shift-by-imm */
	unsigned slen = mn == M(PINSRW) ? 2 : n;
	if (o[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	    (rc = vec_read(x, &o[1], s, o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
			   !vec_is_mm(&o[1]) && !vec_is_xmm(&o[1]) ? 4 : slen)))
		return rc;
	__builtin_memcpy(r, d, 16);

	for (unsigned k = 0; k < sizeof(lane_ops) / sizeof(lane_ops[0]); k++) {
		if (lane_ops[k].mn != mn)
			continue;
		unsigned es = lane_ops[k].es;
		for (unsigned i = 0; i < n / es; i++)
			vec_put(r, es, i, lane_op(lane_ops[k].op, es,
						  vec_lane(d, es, i),
						  vec_lane(s, es, i),
						  vec_slane(d, es, i),
						  vec_slane(s, es, i)));
		return vec_write(x, &o[0], r, n);
	}

	uint64_t cnt = o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ?
		       (uint8_t)o[1].imm.value.u : vec_lane(s, 8, 0);
	switch (mn) {
	case M(PSLLW): shift(r, n, 2, cnt, 0); break;
	case M(PSLLD): shift(r, n, 4, cnt, 0); break;
	case M(PSLLQ): shift(r, n, 8, cnt, 0); break;
	case M(PSRLW): shift(r, n, 2, cnt, 1); break;
	case M(PSRLD): shift(r, n, 4, cnt, 1); break;
	case M(PSRLQ): shift(r, n, 8, cnt, 1); break;
	case M(PSRAW): shift(r, n, 2, cnt, 2); break;
	case M(PSRAD): shift(r, n, 4, cnt, 2); break;
	case M(PSLLDQ):
	case M(PSRLDQ):
		__builtin_memset(r, 0, 16);
		for (unsigned i = 0; cnt < 16 && i < 16 - cnt; i++) {
			if (mn == M(PSLLDQ))
				r[i + cnt] = d[i];
			else
				r[i] = d[i + cnt];
		}
		break;
	case M(PACKSSWB): pack(r, d, s, n, 2, false); break;
	case M(PACKSSDW): pack(r, d, s, n, 4, false); break;
	case M(PACKUSWB): pack(r, d, s, n, 2, true); break;
	case M(PUNPCKLBW): unpack(r, d, s, n, 1, false); break;
	case M(PUNPCKLWD): unpack(r, d, s, n, 2, false); break;
	case M(PUNPCKLDQ): unpack(r, d, s, n, 4, false); break;
	case M(PUNPCKLQDQ): unpack(r, d, s, n, 8, false); break;
	case M(PUNPCKHBW): unpack(r, d, s, n, 1, true); break;
	case M(PUNPCKHWD): unpack(r, d, s, n, 2, true); break;
	case M(PUNPCKHDQ): unpack(r, d, s, n, 4, true); break;
	case M(PUNPCKHQDQ): unpack(r, d, s, n, 8, true); break;
	case M(PMADDWD):
		for (unsigned i = 0; i < n / 4; i++)
			vec_put(r, 4, i, (uint64_t)(
				vec_slane(d, 2, 2 * i) * vec_slane(s, 2, 2 * i) +
				vec_slane(d, 2, 2 * i + 1) *
				vec_slane(s, 2, 2 * i + 1)));
		break;
	case M(PMULUDQ):
		for (unsigned i = 0; i < n / 8; i++)
			vec_put(r, 8, i, vec_lane(d, 4, 2 * i) *
					 vec_lane(s, 4, 2 * i));
		break;
	case M(PSADBW):
		for (unsigned i = 0; i < n / 8; i++) {
			uint64_t sum = 0;
			for (unsigned j = 8 * i; j < 8 * i + 8; j++)
				sum += d[j] > s[j] ? d[j] - s[j] : s[j] - d[j];
			vec_put(r, 8, i, sum);
		}
		break;
	case M(PSHUFW): case M(PSHUFD):
		for (unsigned i = 0; i < 4; i++)
			vec_put(r, n / 4, i, vec_lane(s, n / 4, (imm >> 2 * i) & 3));
		break;
	case M(PSHUFLW): case M(PSHUFHW): {
		unsigned base = mn == M(PSHUFHW) ? 4 : 0;
		__builtin_memcpy(r, s, 16);
		for (unsigned i = 0; i < 4; i++)
			vec_put(r, 2, base + i,
				vec_lane(s, 2, base + ((imm >> 2 * i) & 3)));
		break;
	}
	case M(PINSRW):
		vec_put(r, 2, imm & (n / 2 - 1), vec_lane(s, 2, 0));
		break;
	default:
		return FPU_NOT_MINE;
	}
	return vec_write(x, &o[0], r, n);
}
