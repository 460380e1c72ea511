/* monitor/cpu-fast.c — the block executor: runs the instructions of a
 * decoded block back to back.
 *
 * The common integer forms (32-bit register/immediate/memory MOV and ALU,
 * LEA, shifts, IMUL, MOVZX/MOVSX, PUSH/POP, Jcc) are executed inline here,
 * dispatched by computed goto on the instruction's fast-op index (xop): no
 * call, no return-code check, and register-only forms neither store EIP
 * nor test for self-modifying code. Every other instruction calls its
 * handler (xop X_CALL) as before. The inline forms must behave exactly as
 * the handlers they stand for (monitor/cpu-alu*.c, cpu-ctl.c); the oracle
 * suite runs through this executor.
 *
 * EIP: instructions inside a block never change EIP except the last
 * (IF_ENDBLK), so each instruction's EIP is the block's start plus its
 * offset. Register-only forms leave cpu->eip stale; it is brought up to
 * date before any handler call or memory access (a slow memory path can
 * reach a device callback or raise an exception) and when the block ends.
 */
#include "monitor/cpu-internal.h"

/* Condition code cc (Jcc/SETcc/CMOVcc encoding) with the common cases of
 * flags__cond inline: ZF/SF of any recorded result, CMP/SUB operands. */
static inline bool fcond(struct cpu *cpu, unsigned cc)
{
	unsigned op = cpu->lf.op;
	uint32_t m, sb, a, b;
	bool r;

	if (op == LF_SUB && cpu->lf.size == 4) {
		a = cpu->lf.src1;
		b = cpu->lf.src2;
		switch (cc >> 1) {
		case 1: r = a < b; break;				/* B */
		case 2: r = a == b; break;				/* E */
		case 3: r = a <= b; break;				/* BE */
		case 4: r = (int32_t)(a - b) < 0; break;		/* S */
		case 6: r = (int32_t)a < (int32_t)b; break;		/* L */
		case 7: r = (int32_t)a <= (int32_t)b; break;		/* LE */
		default: return flags__cond(cpu, cc);
		}
		return (cc & 1) ? !r : r;
	}
	if (op != LF_NONE && ((cc >> 1) == 2 || (cc >> 1) == 4)) {
		m = size_mask(cpu->lf.size);
		sb = size_sign(cpu->lf.size);
		r = (cc >> 1) == 2 ? (cpu->lf.res & m) == 0 : (cpu->lf.res & sb);
		return (cc & 1) ? !r : r;
	}
	return flags__cond(cpu, cc);
}

/* chain_ok for the executor's block b, which is known to be current: it
 * was checked when entered and nothing was invalidated since (cpu->smc is
 * clear). A successor in the same pgen slot then needs no pgen check: the
 * link was made after b was decoded, with a current successor, and the
 * slot has not moved since b was decoded. */
static inline bool link_ok(const struct cpu *cpu, const struct block *b,
			   unsigned s)
{
	const struct block *nb = b->succ[s];

	return b->succ_eip[s] == cpu->eip && b->succ_gen[s] == cpu->gen &&
	       block_here(cpu, nb) &&
	       ((((nb->gpa ^ b->gpa) >> 12) & (PGEN_SIZE - 1)) == 0 ||
		nb->pgen == *pgen_of(cpu, nb->gpa));
}

/* No cross-jumping: every inline form keeps its own dispatch jump, so the
 * host's branch predictor sees one indirect jump per form (threaded code)
 * instead of one shared jump. */
__attribute__((optimize("no-crossjumping")))
int fast__run_block(struct cpu *cpu, struct block **pb, unsigned n,
		    uint64_t end, unsigned *done)
{
	static const void *const tab[X_NOPS] = {
		[X_CALL] = &&l_call,
		[X_MOV_RR] = &&l_mov_rr, [X_MOV_RI] = &&l_mov_ri,
		[X_MOV_RM] = &&l_mov_rm, [X_MOV_MR] = &&l_mov_mr,
		[X_ADD_RR] = &&l_add_rr, [X_ADD_RI] = &&l_add_ri,
		[X_SUB_RR] = &&l_sub_rr, [X_SUB_RI] = &&l_sub_ri,
		[X_CMP_RR] = &&l_cmp_rr, [X_CMP_RI] = &&l_cmp_ri,
		[X_AND_RR] = &&l_and_rr, [X_AND_RI] = &&l_and_ri,
		[X_OR_RR] = &&l_or_rr, [X_OR_RI] = &&l_or_ri,
		[X_XOR_RR] = &&l_xor_rr, [X_XOR_RI] = &&l_xor_ri,
		[X_TEST_RR] = &&l_test_rr, [X_TEST_RI] = &&l_test_ri,
		[X_ADC_RR] = &&l_adc_rr, [X_ADC_RI] = &&l_adc_ri,
		[X_SBB_RR] = &&l_sbb_rr, [X_SBB_RI] = &&l_sbb_ri,
		[X_ADD_RM] = &&l_add_rm, [X_SUB_RM] = &&l_sub_rm,
		[X_CMP_RM] = &&l_cmp_rm, [X_CMP_MR] = &&l_cmp_mr,
		[X_AND_RM] = &&l_and_rm, [X_OR_RM] = &&l_or_rm,
		[X_XOR_RM] = &&l_xor_rm,
		[X_LEA] = &&l_lea, [X_SHL_RI] = &&l_shl_ri,
		[X_SHR_RI] = &&l_shr_ri, [X_SAR_RI] = &&l_sar_ri,
		[X_IMUL_RR] = &&l_imul_rr, [X_IMUL_RM] = &&l_imul_rm,
		[X_INC_R] = &&l_inc_r, [X_DEC_R] = &&l_dec_r,
		[X_MOVZX8_RR] = &&l_movzx8_rr, [X_MOVZX16_RR] = &&l_movzx16_rr,
		[X_MOVSX8_RR] = &&l_movsx8_rr, [X_MOVSX16_RR] = &&l_movsx16_rr,
		[X_MOVZX8_RM] = &&l_movzx8_rm, [X_MOVZX16_RM] = &&l_movzx16_rm,
		[X_MOVSX8_RM] = &&l_movsx8_rm, [X_MOVSX16_RM] = &&l_movsx16_rm,
		[X_PUSH_R] = &&l_push_r, [X_POP_R] = &&l_pop_r,
		[X_JCC] = &&l_jcc, [X_JMP] = &&l_jmp,
		[X_SETCC_R] = &&l_setcc_r, [X_CMOV_RR] = &&l_cmov_rr,
		[X_CMOV_RM] = &&l_cmov_rm,
		[X_MOV8_RM] = &&l_mov8_rm, [X_MOV8_MR] = &&l_mov8_mr,
		[X_MOV16_RM] = &&l_mov16_rm, [X_MOV16_MR] = &&l_mov16_mr,
		[X_MOV_MI] = &&l_mov_mi,
		[X_CMP8_RI] = &&l_cmp8_ri, [X_TEST8_RR] = &&l_test8_rr,
		[X_CALL_REL] = &&l_call_rel, [X_RET] = &&l_ret,
		[X_TEST8_RI] = &&l_test8_ri, [X_TEST8_MI] = &&l_test8_mi,
		[X_TEST_MI] = &&l_test_mi, [X_CMP_MI] = &&l_cmp_mi,
		[X_CMP8_MI] = &&l_cmp8_mi,
		[X_ADD_MR] = &&l_add_mr, [X_SUB_MR] = &&l_sub_mr,
		[X_AND_MR] = &&l_and_mr, [X_OR_MR] = &&l_or_mr,
		[X_XOR_MR] = &&l_xor_mr,
		[X_ADD_MI] = &&l_add_mi, [X_SUB_MI] = &&l_sub_mi,
		[X_AND_MI] = &&l_and_mi, [X_OR_MI] = &&l_or_mi,
		[X_XOR_MI] = &&l_xor_mi,
		[X_INC_M] = &&l_inc_m, [X_DEC_M] = &&l_dec_m,
		[X_LEAVE] = &&l_leave, [X_PUSH_I] = &&l_push_i,
	};
	struct block *b = *pb, *nb;
	const struct insn *i = b->insns, *last = b->insns + n - 1;
	uint32_t *r = cpu->r;
	uint32_t beip = cpu->eip, emask = b->mode ? ~0u : 0xffffu;
	/* The TLB of the current CPL: only a handler call can change it. */
	struct cpu_tlb_entry *tlb = cpu->tlb[cpu->cpl == 3];
	uint32_t v, t, res;
	int rc;

/* EIP of the current instruction / of the next one. */
#define CUR_EIP	((beip + i->end - i->len) & emask)
#define NEXT_EIP ((beip + i->end) & emask)
#define SYNC()	do { cpu->insn_eip = CUR_EIP; cpu->eip = NEXT_EIP; } while (0)
#define DISPATCH goto *tab[i->xop]
/* After a register-only form: EIP is brought up to date only at the end. */
#define NEXT_R	do {							\
		if (unlikely(i == last)) {				\
			cpu->eip = NEXT_EIP;				\
			goto done;					\
		}							\
		i++;							\
		DISPATCH;						\
	} while (0)
/* After a form that accessed memory (EIP already synced): a slow path may
 * have dropped decoded code or raised the interrupt line. */
#define NEXT_M	do {							\
		if (unlikely(cpu->smc)) {				\
			cpu->eip = NEXT_EIP;				\
			rc = 1;						\
			goto done;					\
		}							\
		NEXT_R;							\
	} while (0)
#define ABORT	do { rc = CPU_ABORT; goto out; } while (0)
/* Memory access: the inline fast path, or EIP synced and the slow path
 * (which may fault, reach a device or drop decoded code). */
#define RD(seg, off, dst, sz)	do {					\
		uint32_t o_ = (off), v_;				\
		uint8_t *p_ = mem__fast_ptr_in(cpu, tlb, (seg), o_, (sz), false); \
		if (likely(p_)) {					\
			(dst) = load_le(p_, (sz));			\
		} else {						\
			SYNC();						\
			if (mem__read_slow(cpu, (seg), o_, &v_, (sz)))	\
				ABORT;					\
			(dst) = v_;					\
		}							\
	} while (0)
#define WR(seg, off, val, sz)	do {					\
		uint32_t o_ = (off);					\
		uint8_t *p_ = mem__fast_ptr_in(cpu, tlb, (seg), o_, (sz), true); \
		if (likely(p_)) {					\
			store_le(p_, (val), (sz));			\
		} else {						\
			SYNC();						\
			if (mem__write_slow(cpu, (seg), o_, (val), (sz))) \
				ABORT;					\
		}							\
	} while (0)
#define ALU_RR(name, OP, LF)						\
	l_##name##_rr:							\
		v = r[i->op[0].reg]; t = r[i->op[1].reg];		\
		res = v OP t;						\
		lf_set(cpu, LF, 4, res, LF == LF_LOGIC ? 0 : v,		\
		       LF == LF_LOGIC ? 0 : t);				\
		r[i->op[0].reg] = res;					\
		NEXT_R;							\
	l_##name##_ri:							\
		v = r[i->op[0].reg]; t = i->imm;			\
		res = v OP t;						\
		lf_set(cpu, LF, 4, res, LF == LF_LOGIC ? 0 : v,		\
		       LF == LF_LOGIC ? 0 : t);				\
		r[i->op[0].reg] = res;					\
		NEXT_R;
/* Read-modify-write of a 32-bit memory operand (register or immediate
 * source): inline only when the TLB gives a fast write entry (which also
 * allows the read); anything else runs the handler, which does the
 * checks, faults and device accesses in the architectural order. */
#define ALU_M(name, OP, LF)						\
	l_##name##_mr:							\
		t = r[i->op[1].reg];					\
		goto name##_m;						\
	l_##name##_mi:							\
		t = i->imm;						\
	name##_m: {							\
		uint8_t *p_ = mem__fast_ptr_in(cpu, tlb, i->seg,	\
					       insn_ea32(cpu, i), 4, true); \
		if (unlikely(!p_))					\
			goto l_call;					\
		v = load_le(p_, 4);					\
		res = v OP t;						\
		lf_set(cpu, LF, 4, res, LF == LF_LOGIC ? 0 : v,		\
		       LF == LF_LOGIC ? 0 : t);				\
		store_le(p_, res, 4);					\
		NEXT_R;							\
	}
#define ALU_RM(name, OP, LF)						\
	l_##name##_rm:							\
		RD(i->seg, insn_ea32(cpu, i), t, 4);				\
		v = r[i->op[0].reg];					\
		res = v OP t;						\
		lf_set(cpu, LF, 4, res, LF == LF_LOGIC ? 0 : v,		\
		       LF == LF_LOGIC ? 0 : t);				\
		r[i->op[0].reg] = res;					\
		NEXT_M;

	rc = 0;
	DISPATCH;

l_call:
	SYNC();
	rc = i->fn(cpu, i);
	if (unlikely(rc)) {
		if (rc != CPU_ABORT)
			goto done;	/* CPU_RET_EXIT: it completed */
		goto out;
	}
	tlb = cpu->tlb[cpu->cpl == 3];
	/* The handler has set EIP (it may have branched). */
	if (unlikely(cpu->smc)) {
		rc = 1;
		goto done;
	}
	if (unlikely(i == last))
		goto done;
	i++;
	DISPATCH;

l_mov_rr:
	r[i->op[0].reg] = r[i->op[1].reg];
	NEXT_R;
l_mov_ri:
	r[i->op[0].reg] = i->imm;
	NEXT_R;
l_mov_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 4);
	r[i->op[0].reg] = v;
	NEXT_M;
l_mov_mr:
	WR(i->seg, insn_ea32(cpu, i), r[i->op[1].reg], 4);
	NEXT_M;

	ALU_RR(add, +, LF_ADD)
	ALU_RR(sub, -, LF_SUB)
	ALU_RR(and, &, LF_LOGIC)
	ALU_RR(or, |, LF_LOGIC)
	ALU_RR(xor, ^, LF_LOGIC)
	ALU_RM(add, +, LF_ADD)
	ALU_RM(sub, -, LF_SUB)
	ALU_RM(and, &, LF_LOGIC)
	ALU_RM(or, |, LF_LOGIC)
	ALU_RM(xor, ^, LF_LOGIC)
	ALU_M(add, +, LF_ADD)
	ALU_M(sub, -, LF_SUB)
	ALU_M(and, &, LF_LOGIC)
	ALU_M(or, |, LF_LOGIC)
	ALU_M(xor, ^, LF_LOGIC)

l_test8_ri:
	lf_set(cpu, LF_LOGIC, 1, reg_get(cpu, i->op[0].reg, 1) & i->imm & 0xff,
	       0, 0);
	NEXT_R;
l_test8_mi:
	RD(i->seg, insn_ea32(cpu, i), v, 1);
	lf_set(cpu, LF_LOGIC, 1, v & i->imm & 0xff, 0, 0);
	NEXT_M;
l_test_mi:
	RD(i->seg, insn_ea32(cpu, i), v, 4);
	lf_set(cpu, LF_LOGIC, 4, v & i->imm, 0, 0);
	NEXT_M;
l_cmp_mi:
	RD(i->seg, insn_ea32(cpu, i), v, 4);
	t = i->imm;
	lf_set(cpu, LF_SUB, 4, v - t, v, t);
	NEXT_M;
l_cmp8_mi:
	RD(i->seg, insn_ea32(cpu, i), v, 1);
	t = i->imm & 0xff;
	lf_set(cpu, LF_SUB, 1, (v - t) & 0xff, v, t);
	NEXT_M;
l_inc_m:
l_dec_m: {
	/* INC/DEC m32 keep CF (in src2), as h_inc. */
	uint8_t *p_ = mem__fast_ptr_in(cpu, tlb, i->seg, insn_ea32(cpu, i), 4,
				       true);
	if (unlikely(!p_))
		goto l_call;
	v = load_le(p_, 4);
	t = lf_cf(cpu);
	if (i->xop == X_INC_M) {
		res = v + 1;
		lf_set(cpu, LF_INC, 4, res, v, t);
	} else {
		res = v - 1;
		lf_set(cpu, LF_DEC, 4, res, v, t);
	}
	store_le(p_, res, 4);
	NEXT_R;
}
l_leave: {
	/* LEAVE with a 32-bit operand and stack: ESP = EBP, POP EBP. */
	uint8_t *p_;

	if (unlikely(!(cpu->seg[SEG_SS].attr & SEGA_DB)))
		goto l_call;
	p_ = mem__fast_ptr_in(cpu, tlb, SEG_SS, r[R_EBP], 4, false);
	if (unlikely(!p_))
		goto l_call;
	r[R_ESP] = r[R_EBP] + 4;
	r[R_EBP] = load_le(p_, 4);
	NEXT_R;
}
l_push_i:
	if (unlikely(!(cpu->seg[SEG_SS].attr & SEGA_DB)))
		goto l_call;
	t = r[R_ESP] - 4;
	WR(SEG_SS, t, i->imm, 4);
	r[R_ESP] = t;
	NEXT_M;

l_cmp_rr:
	v = r[i->op[0].reg]; t = r[i->op[1].reg];
	lf_set(cpu, LF_SUB, 4, v - t, v, t);
	NEXT_R;
l_cmp_ri:
	v = r[i->op[0].reg]; t = i->imm;
	lf_set(cpu, LF_SUB, 4, v - t, v, t);
	NEXT_R;
l_cmp_rm:
	RD(i->seg, insn_ea32(cpu, i), t, 4);
	v = r[i->op[0].reg];
	lf_set(cpu, LF_SUB, 4, v - t, v, t);
	NEXT_M;
l_cmp_mr:
	RD(i->seg, insn_ea32(cpu, i), v, 4);
	t = r[i->op[1].reg];
	lf_set(cpu, LF_SUB, 4, v - t, v, t);
	NEXT_M;
l_test_rr:
	lf_set(cpu, LF_LOGIC, 4, r[i->op[0].reg] & r[i->op[1].reg], 0, 0);
	NEXT_R;
l_test_ri:
	lf_set(cpu, LF_LOGIC, 4, r[i->op[0].reg] & i->imm, 0, 0);
	NEXT_R;
l_adc_rr:
	t = r[i->op[1].reg];
	goto adc;
l_adc_ri:
	t = i->imm;
adc:
	v = r[i->op[0].reg];
	if (lf_cf(cpu)) {
		res = v + t + 1;
		lf_set(cpu, LF_ADC, 4, res, v, t);
	} else {
		res = v + t;
		lf_set(cpu, LF_ADD, 4, res, v, t);
	}
	r[i->op[0].reg] = res;
	NEXT_R;
l_sbb_rr:
	t = r[i->op[1].reg];
	goto sbb;
l_sbb_ri:
	t = i->imm;
sbb:
	v = r[i->op[0].reg];
	if (lf_cf(cpu)) {
		res = v - t - 1;
		lf_set(cpu, LF_SBB, 4, res, v, t);
	} else {
		res = v - t;
		lf_set(cpu, LF_SUB, 4, res, v, t);
	}
	r[i->op[0].reg] = res;
	NEXT_R;

l_lea:
	r[i->op[0].reg] = insn_ea32(cpu, i);
	NEXT_R;
l_shl_ri:
	t = i->imm & 31;
	if (t) {
		v = r[i->op[0].reg];
		res = v << t;
		v = (v >> (32 - t)) & 1;	/* CF */
		lf_set(cpu, LF_FIXED, 4, res, 0,
		       v | (((res >> 31) ^ v) ? FL_OF : 0));
		r[i->op[0].reg] = res;
	}
	NEXT_R;
l_shr_ri:
	t = i->imm & 31;
	if (t) {
		v = r[i->op[0].reg];
		res = v >> t;
		lf_set(cpu, LF_FIXED, 4, res, 0, ((v >> (t - 1)) & 1) |
		       (t == 1 && (v & 0x80000000u) ? FL_OF : 0));
		r[i->op[0].reg] = res;
	}
	NEXT_R;
l_sar_ri:
	t = i->imm & 31;
	if (t) {
		v = r[i->op[0].reg];
		res = (uint32_t)((int32_t)v >> t);
		lf_set(cpu, LF_FIXED, 4, res, 0, ((int32_t)v >> (t - 1)) & 1);
		r[i->op[0].reg] = res;
	}
	NEXT_R;
l_imul_rr:
	t = r[i->op[1].reg];
imul: {
	int64_t p = (int64_t)(int32_t)r[i->op[0].reg] * (int32_t)t;
	res = (uint32_t)p;
	r[i->op[0].reg] = res;
	lf_set(cpu, LF_FIXED, 4, res, 0,
	       p != (int64_t)(int32_t)res ? FL_CF | FL_OF : 0);
	if (i->xop == X_IMUL_RM)
		NEXT_M;
	NEXT_R;
}
l_imul_rm:
	RD(i->seg, insn_ea32(cpu, i), t, 4);
	goto imul;
l_inc_r:
	t = lf_cf(cpu);
	res = ++r[i->op[0].reg];
	lf_set(cpu, LF_INC, 4, res, 0, t);
	NEXT_R;
l_dec_r:
	t = lf_cf(cpu);
	res = --r[i->op[0].reg];
	lf_set(cpu, LF_DEC, 4, res, 0, t);
	NEXT_R;
l_movzx8_rr:
	r[i->op[0].reg] = reg_get(cpu, i->op[1].reg, 1);
	NEXT_R;
l_movzx16_rr:
	r[i->op[0].reg] = r[i->op[1].reg] & 0xffff;
	NEXT_R;
l_movsx8_rr:
	r[i->op[0].reg] = (uint32_t)(int32_t)(int8_t)reg_get(cpu, i->op[1].reg, 1);
	NEXT_R;
l_movsx16_rr:
	r[i->op[0].reg] = (uint32_t)(int32_t)(int16_t)r[i->op[1].reg];
	NEXT_R;
l_movzx8_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 1);
	r[i->op[0].reg] = v & 0xff;
	NEXT_M;
l_movzx16_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 2);
	r[i->op[0].reg] = v & 0xffff;
	NEXT_M;
l_movsx8_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 1);
	r[i->op[0].reg] = (uint32_t)(int32_t)(int8_t)v;
	NEXT_M;
l_movsx16_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 2);
	r[i->op[0].reg] = (uint32_t)(int32_t)(int16_t)v;
	NEXT_M;
l_push_r:
	/* 32-bit stack inline; a 16-bit one through stack__push. */
	v = r[i->op[0].reg];
	if (likely(cpu->seg[SEG_SS].attr & SEGA_DB)) {
		t = r[R_ESP] - 4;
		WR(SEG_SS, t, v, 4);
		r[R_ESP] = t;
	} else {
		SYNC();
		if (stack__push(cpu, v, 4))
			ABORT;
	}
	NEXT_M;
l_pop_r:
	if (likely(cpu->seg[SEG_SS].attr & SEGA_DB)) {
		t = r[R_ESP];
		RD(SEG_SS, t, v, 4);
		/* ESP first: POP ESP loads the popped value. */
		r[R_ESP] = t + 4;
	} else {
		SYNC();
		if (stack__pop(cpu, &v, 4))
			ABORT;
	}
	r[i->op[0].reg] = v;
	NEXT_M;
l_setcc_r:
	reg_set(cpu, i->op[0].reg, 1, fcond(cpu, i->imm2));
	NEXT_R;
l_cmov_rr:
	if (fcond(cpu, i->imm2))
		r[i->op[0].reg] = r[i->op[1].reg];
	NEXT_R;
l_cmov_rm:
	/* The source is read (and may fault) whatever the condition. */
	RD(i->seg, insn_ea32(cpu, i), v, 4);
	if (fcond(cpu, i->imm2))
		r[i->op[0].reg] = v;
	NEXT_M;
l_mov8_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 1);
	reg_set(cpu, i->op[0].reg, 1, v);
	NEXT_M;
l_mov16_rm:
	RD(i->seg, insn_ea32(cpu, i), v, 2);
	reg_set(cpu, i->op[0].reg, 2, v);
	NEXT_M;
l_mov8_mr:
	WR(i->seg, insn_ea32(cpu, i), reg_get(cpu, i->op[1].reg, 1), 1);
	NEXT_M;
l_mov16_mr:
	WR(i->seg, insn_ea32(cpu, i), r[i->op[1].reg] & 0xffff, 2);
	NEXT_M;
l_mov_mi:
	WR(i->seg, insn_ea32(cpu, i), i->imm, 4);
	NEXT_M;
l_cmp8_ri:
	v = reg_get(cpu, i->op[0].reg, 1);
	t = i->imm & 0xff;
	lf_set(cpu, LF_SUB, 1, (v - t) & 0xff, v, t);
	NEXT_R;
l_test8_rr:
	lf_set(cpu, LF_LOGIC, 1, reg_get(cpu, i->op[0].reg, 1) &
	       reg_get(cpu, i->op[1].reg, 1), 0, 0);
	NEXT_R;
l_call_rel:
	/* Near CALL rel32 (last in its block); a 16-bit stack goes through
	 * the handler. */
	if (unlikely(!(cpu->seg[SEG_SS].attr & SEGA_DB)))
		goto l_call;
	t = NEXT_EIP + i->imm;
	if (unlikely(t > cpu->seg[SEG_CS].limit)) {
		SYNC();
		rc = cpu__raise(cpu, EXC_GP, 0);
		goto out;
	}
	v = r[R_ESP] - 4;
	WR(SEG_SS, v, NEXT_EIP, 4);
	r[R_ESP] = v;
	cpu->eip = t;
	goto done;
l_ret:
	/* Near RET with a 32-bit operand size (last in its block). */
	if (unlikely(!(cpu->seg[SEG_SS].attr & SEGA_DB)))
		goto l_call;
	RD(SEG_SS, r[R_ESP], t, 4);
	if (unlikely(t > cpu->seg[SEG_CS].limit)) {
		SYNC();
		rc = cpu__raise(cpu, EXC_GP, 0);
		goto out;
	}
	r[R_ESP] += 4;
	cpu->eip = t;
	goto done;
l_jcc:
	/* Last instruction of its block. */
	t = NEXT_EIP;
	if (fcond(cpu, i->imm2)) {
		t += i->imm;
		goto jump;
	}
	cpu->eip = t;
	goto done;
l_jmp:
	t = NEXT_EIP + i->imm;
jump:
	if (i->osz == 2)
		t &= 0xffff;
	if (unlikely(t > cpu->seg[SEG_CS].limit)) {
		SYNC();
		rc = cpu__raise(cpu, EXC_GP, 0);
		goto out;
	}
	cpu->eip = t;
	goto done;

done:	/* the current instruction completed */
	i++;
	/* The whole block ran: go on into a linked successor unless the run
	 * loop has to look at something first (the checks of cpu__run
	 * before a block: stop request, interrupt shadow, NMI, HLT, INTR
	 * with IF, debug mode, budget, the board's CPL-3 boundary hook; and
	 * cpu->smc: decoded code dropped or an event raised). The successor
	 * is a link of the block or, after returns and indirect branches,
	 * the jump cache's entry for the new EIP. */
	if (rc == 0 && i == b->insns + b->ninsn && b->gpa != ~0u &&
	    !(cpu->exit_req | cpu->shadow | cpu->nmi_pending | cpu->halted |
	      cpu->dbg | cpu->smc) &&
	    !(cpu->eflags & (FL_TF | FL_RF)) &&
	    !(cpu->irq_pending && (cpu->eflags & FL_IF)) &&
	    !cpu__boundary_hooked(cpu)) {
		if (link_ok(cpu, b, 0))
			nb = b->succ[0];
		else if (link_ok(cpu, b, 1))
			nb = b->succ[1];
		else if (!(nb = jc_find(cpu)))
			goto out;
		if (cpu->icount + b->ninsn + nb->ninsn > end)
			goto out;
		cpu->icount += b->ninsn;
		cpu->trace[cpu->ntrace++ & 31] = cpu->eip;
		b = nb;
		i = b->insns;
		last = i + b->ninsn - 1;
		beip = cpu->eip;
		emask = b->mode ? ~0u : 0xffffu;
		tlb = cpu->tlb[cpu->cpl == 3];
		DISPATCH;
	}
out:	/* i: the first instruction not completed */
	*pb = b;
	*done = (unsigned)(i - b->insns);
	return rc;
#undef CUR_EIP
#undef NEXT_EIP
#undef SYNC
#undef DISPATCH
#undef NEXT_R
#undef NEXT_M
#undef ABORT
#undef RD
#undef ALU_RR
#undef ALU_RM
#undef ALU_M
}
