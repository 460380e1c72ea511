/* monitor/cpu-dispatch.c — picks the handler of a decoded instruction:
 * specialised fast forms first (32-bit register/immediate ALU, MOV, PUSH/POP),
 * then the generic handler of the mnemonic, x87/MMX/SSE to the fpu part, and
 * #UD (counted) for anything not implemented. Also decides which
 * instructions end a decoded block, and which run inline in the block
 * executor (fast__classify, monitor/cpu-fast.c).
 */
#include "monitor/cpu-internal.h"

insn_fn alu__handler_fast(const struct insn *i);
insn_fn alu2__handler(unsigned mnem);
insn_fn alu2__handler_fast(const struct insn *i);
insn_fn ctl__handler_fast(const struct insn *i);
insn_fn ctl__far_handler(unsigned mnem);
insn_fn sys__mov_handler(const struct insn *i);

/* Condition code (Jcc/SETcc/CMOVcc encoding, SDM Vol. 2 Table B-1) of a
 * mnemonic, or -1. */
static int cond_code(unsigned m)
{
#define CC(o, no, b, nb, z, nz, be, nbe, s, ns, p, np, l, nl, le, nle)         \
	switch (m) {                                                           \
	case o: return 0; case no: return 1; case b: return 2; case nb: return 3; \
	case z: return 4; case nz: return 5; case be: return 6; case nbe: return 7; \
	case s: return 8; case ns: return 9; case p: return 10; case np: return 11; \
	case l: return 12; case nl: return 13; case le: return 14; case nle: return 15; \
	default: break;                                                        \
	}
#define Z(x) ZYDIS_MNEMONIC_##x
	CC(Z(JO), Z(JNO), Z(JB), Z(JNB), Z(JZ), Z(JNZ), Z(JBE), Z(JNBE), Z(JS),
	   Z(JNS), Z(JP), Z(JNP), Z(JL), Z(JNL), Z(JLE), Z(JNLE))
	CC(Z(SETO), Z(SETNO), Z(SETB), Z(SETNB), Z(SETZ), Z(SETNZ), Z(SETBE),
	   Z(SETNBE), Z(SETS), Z(SETNS), Z(SETP), Z(SETNP), Z(SETL), Z(SETNL),
	   Z(SETLE), Z(SETNLE))
	CC(Z(CMOVO), Z(CMOVNO), Z(CMOVB), Z(CMOVNB), Z(CMOVZ), Z(CMOVNZ),
	   Z(CMOVBE), Z(CMOVNBE), Z(CMOVS), Z(CMOVNS), Z(CMOVP), Z(CMOVNP),
	   Z(CMOVL), Z(CMOVNL), Z(CMOVLE), Z(CMOVNLE))
#undef Z
#undef CC
	return -1;
}

static int h_setcc(struct cpu *cpu, const struct insn *i)
{
	return op_write(cpu, i, 0, flags__cond(cpu, i->imm2));
}

static bool is_fpu(const ZydisDecodedInstruction *zi)
{
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_LFENCE: case ZYDIS_MNEMONIC_MFENCE:
	case ZYDIS_MNEMONIC_SFENCE: case ZYDIS_MNEMONIC_PREFETCHNTA:
	case ZYDIS_MNEMONIC_PREFETCHT0: case ZYDIS_MNEMONIC_PREFETCHT1:
	case ZYDIS_MNEMONIC_PREFETCHT2: case ZYDIS_MNEMONIC_MOVNTI:
	case ZYDIS_MNEMONIC_CLFLUSH: case ZYDIS_MNEMONIC_PAUSE:
		return false;
	default:
		break;
	}
	switch (zi->meta.isa_ext) {
	case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX:
	case ZYDIS_ISA_EXT_SSE: case ZYDIS_ISA_EXT_SSE2:
	case ZYDIS_ISA_EXT_SSE3: case ZYDIS_ISA_EXT_SSSE3:
	case ZYDIS_ISA_EXT_SSE4: case ZYDIS_ISA_EXT_AMD3DNOW:
		return true;
	default:
		return zi->mnemonic == ZYDIS_MNEMONIC_FXSAVE ||
		       zi->mnemonic == ZYDIS_MNEMONIC_FXRSTOR;
	}
}

static int h_nop2(struct cpu *cpu, const struct insn *i)
{
	return 0;
}

insn_fn exec__handler(const ZydisDecodedInstruction *zi,
		      const ZydisDecodedOperand *zo, struct insn *i)
{
	unsigned m = zi->mnemonic;
	int cc = cond_code(m);
	insn_fn f;

	if (cc >= 0)
		i->imm2 = (uint32_t)cc;
	/* Without BMI1/ABM in CPUID, F3 0F BC/BD are BSF/BSR with an ignored
	 * REP prefix (Linux uses "rep bsf" on purpose). */
	if (m == ZYDIS_MNEMONIC_TZCNT)
		m = i->mnem = ZYDIS_MNEMONIC_BSF;
	else if (m == ZYDIS_MNEMONIC_LZCNT)
		m = i->mnem = ZYDIS_MNEMONIC_BSR;
	if (zi->meta.category == ZYDIS_CATEGORY_STRINGOP ||
	    zi->meta.category == ZYDIS_CATEGORY_IOSTRINGOP) {
		if (i->rep || zi->meta.category == ZYDIS_CATEGORY_IOSTRINGOP)
			i->flags |= IF_ENDBLK;
		return str__handler(m);
	}
	if (is_fpu(zi)) {
		i->flags |= IF_FPU;
		return insn_fpu;
	}
	if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR &&
	    (m == ZYDIS_MNEMONIC_RET || m == ZYDIS_MNEMONIC_JMP ||
	     m == ZYDIS_MNEMONIC_CALL)) {
		i->flags |= IF_ENDBLK;
		return ctl__far_handler(m);
	}
	if (m == ZYDIS_MNEMONIC_CLFLUSH)
		return h_nop2;
	if (m >= ZYDIS_MNEMONIC_SETB && m <= ZYDIS_MNEMONIC_SETZ && cc >= 0)
		return h_setcc;
	if (m == ZYDIS_MNEMONIC_MOV && (f = sys__mov_handler(i))) {
		i->flags |= IF_ENDBLK;
		return f;
	}
	if ((f = alu__handler_fast(i)) || (f = alu2__handler_fast(i)) ||
	    (f = alu__handler(m)) ||
	    (f = alu2__handler(m)))
		return f;
	if ((f = ctl__handler_fast(i)) || (f = ctl__handler(m))) {
		switch (m) {
		case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_PUSHA:
		case ZYDIS_MNEMONIC_PUSHAD: case ZYDIS_MNEMONIC_POPA:
		case ZYDIS_MNEMONIC_POPAD: case ZYDIS_MNEMONIC_ENTER:
		case ZYDIS_MNEMONIC_LEAVE: case ZYDIS_MNEMONIC_BOUND:
		case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES:
		case ZYDIS_MNEMONIC_LFS: case ZYDIS_MNEMONIC_LGS:
		case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_PUSHFD:
			break;
		case ZYDIS_MNEMONIC_POP:
			if (i->op[0].kind == OK_SREG)
				i->flags |= IF_ENDBLK;
			break;
		default:
			i->flags |= IF_ENDBLK;
		}
		return f;
	}
	if ((f = sys__handler(m))) {
		i->flags |= IF_ENDBLK;
		return f;
	}
	i->flags |= IF_ENDBLK;
	return insn_unimpl;
}

/* The fast-op index of a decoded instruction (0: call its handler).
 * Only forms whose semantics are fully reproduced below are chosen. */
uint8_t fast__classify(const struct insn *i)
{
	const struct insn_op *a = &i->op[0], *b = &i->op[1];
	bool r32 = a->kind == OK_REG && a->size == 4;
	bool rr = i->nops == 2 && r32 && b->kind == OK_REG && b->size == 4;
	bool ri = i->nops == 2 && r32 && b->kind == OK_IMM;
	bool rm = i->nops == 2 && r32 && b->kind == OK_MEM && b->size == 4 &&
		  i->asz == 4;
	bool mr = i->nops == 2 && a->kind == OK_MEM && a->size == 4 &&
		  b->kind == OK_REG && b->size == 4 && i->asz == 4;
	bool mi = i->nops == 2 && a->kind == OK_MEM && a->size == 4 &&
		  b->kind == OK_IMM && i->asz == 4;
	bool mi8 = i->nops == 2 && a->kind == OK_MEM && a->size == 1 &&
		   b->kind == OK_IMM && i->asz == 4;
	bool m32 = i->nops == 1 && a->kind == OK_MEM && a->size == 4 &&
		   i->asz == 4;

	if (i->flags & (IF_LOCK | IF_FPU) || i->rep)
		return X_CALL;
	if (i->mnem >= ZYDIS_MNEMONIC_CMOVB && i->mnem <= ZYDIS_MNEMONIC_CMOVZ)
		return rr ? X_CMOV_RR : rm ? X_CMOV_RM : X_CALL;
	if (i->mnem >= ZYDIS_MNEMONIC_SETB && i->mnem <= ZYDIS_MNEMONIC_SETZ &&
	    i->nops == 1 && a->kind == OK_REG && a->size == 1)
		return X_SETCC_R;
	switch (i->mnem) {
	case ZYDIS_MNEMONIC_MOV:
		if (i->nops == 2 && a->kind == OK_REG && b->kind == OK_MEM &&
		    i->asz == 4 && a->size == b->size && a->size != 4)
			return a->size == 1 ? X_MOV8_RM : X_MOV16_RM;
		if (i->nops == 2 && a->kind == OK_MEM && b->kind == OK_REG &&
		    i->asz == 4 && a->size == b->size && a->size != 4)
			return a->size == 1 ? X_MOV8_MR : X_MOV16_MR;
		if (i->nops == 2 && a->kind == OK_MEM && a->size == 4 &&
		    b->kind == OK_IMM && i->asz == 4)
			return X_MOV_MI;
		return rr ? X_MOV_RR : ri ? X_MOV_RI : rm ? X_MOV_RM :
		       mr ? X_MOV_MR : X_CALL;
#define ALU(M, X) case ZYDIS_MNEMONIC_##M: \
		return rr ? X##_RR : ri ? X##_RI : X_CALL;
	ALU(ADC, X_ADC) ALU(SBB, X_SBB)
#undef ALU
	case ZYDIS_MNEMONIC_TEST:
		if (i->nops == 2 && a->kind == OK_REG && a->size == 1 &&
		    b->kind == OK_REG && b->size == 1)
			return X_TEST8_RR;
		if (i->nops == 2 && a->kind == OK_REG && a->size == 1 &&
		    b->kind == OK_IMM)
			return X_TEST8_RI;
		return rr ? X_TEST_RR : ri ? X_TEST_RI : mi ? X_TEST_MI :
		       mi8 ? X_TEST8_MI : X_CALL;
#define ALU(M, X) case ZYDIS_MNEMONIC_##M: \
		return rr ? X##_RR : ri ? X##_RI : rm ? X##_RM : \
		       mr ? X##_MR : mi ? X##_MI : X_CALL;
	ALU(ADD, X_ADD) ALU(SUB, X_SUB) ALU(AND, X_AND) ALU(OR, X_OR)
	ALU(XOR, X_XOR)
#undef ALU
	case ZYDIS_MNEMONIC_CMP:
		if (i->nops == 2 && a->kind == OK_REG && a->size == 1 &&
		    b->kind == OK_IMM)
			return X_CMP8_RI;
		return rr ? X_CMP_RR : ri ? X_CMP_RI : rm ? X_CMP_RM :
		       mr ? X_CMP_MR : mi ? X_CMP_MI : mi8 ? X_CMP8_MI : X_CALL;
	case ZYDIS_MNEMONIC_LEA:
		return r32 && i->asz == 4 ? X_LEA : X_CALL;
	case ZYDIS_MNEMONIC_SHL:
		return ri ? X_SHL_RI : X_CALL;
	case ZYDIS_MNEMONIC_SHR:
		return ri ? X_SHR_RI : X_CALL;
	case ZYDIS_MNEMONIC_SAR:
		return ri ? X_SAR_RI : X_CALL;
	case ZYDIS_MNEMONIC_IMUL:
		return rr ? X_IMUL_RR : rm ? X_IMUL_RM : X_CALL;
	case ZYDIS_MNEMONIC_INC:
		return i->nops == 1 && r32 ? X_INC_R : m32 ? X_INC_M : X_CALL;
	case ZYDIS_MNEMONIC_DEC:
		return i->nops == 1 && r32 ? X_DEC_R : m32 ? X_DEC_M : X_CALL;
	case ZYDIS_MNEMONIC_LEAVE:
		return i->osz == 4 ? X_LEAVE : X_CALL;
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX: {
		bool sx = i->mnem == ZYDIS_MNEMONIC_MOVSX;
		if (!r32 || i->nops != 2 || (b->size != 1 && b->size != 2))
			return X_CALL;
		if (b->kind == OK_REG)
			return b->size == 1 ? (sx ? X_MOVSX8_RR : X_MOVZX8_RR)
					    : (sx ? X_MOVSX16_RR : X_MOVZX16_RR);
		if (b->kind == OK_MEM && i->asz == 4)
			return b->size == 1 ? (sx ? X_MOVSX8_RM : X_MOVZX8_RM)
					    : (sx ? X_MOVSX16_RM : X_MOVZX16_RM);
		return X_CALL;
	}
	case ZYDIS_MNEMONIC_PUSH:
		return i->nops == 1 && r32 ? X_PUSH_R :
		       i->nops == 1 && a->kind == OK_IMM && i->osz == 4 ?
		       X_PUSH_I : X_CALL;
	case ZYDIS_MNEMONIC_POP:
		return i->nops == 1 && r32 ? X_POP_R : X_CALL;
	case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JNO:
	case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JNB:
	case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JNZ:
	case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JNBE:
	case ZYDIS_MNEMONIC_JS: case ZYDIS_MNEMONIC_JNS:
	case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JNP:
	case ZYDIS_MNEMONIC_JL: case ZYDIS_MNEMONIC_JNL:
	case ZYDIS_MNEMONIC_JLE: case ZYDIS_MNEMONIC_JNLE:
		return a->kind == OK_REL ? X_JCC : X_CALL;
	case ZYDIS_MNEMONIC_JMP:
		return i->nops == 1 && a->kind == OK_REL ? X_JMP : X_CALL;
	case ZYDIS_MNEMONIC_CALL:
		return i->nops == 1 && a->kind == OK_REL && i->osz == 4
		       ? X_CALL_REL : X_CALL;
	case ZYDIS_MNEMONIC_RET:
		/* Far RET has the same fields: told apart by its handler. */
		return i->nops == 0 && i->osz == 4 &&
		       i->fn == ctl__handler(ZYDIS_MNEMONIC_RET) ? X_RET : X_CALL;
	default:
		return X_CALL;
	}
}
