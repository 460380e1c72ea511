/* bt/bt-class.c — which guest instructions the TC copies verbatim, which it
 * translates (control flow, the virtual IF) and which become exits.
 *
 * Verbatim means: at CPL 1 in a flat 32-bit segment, with IOPL 0 and the
 * guest's segments mirrored (DPL raised to 1), the instruction does exactly
 * what it does at the guest's CPL 0, and the guest's CPU has it (CPUID of
 * monitor/cpu-cpuid.c: i386..P6 integer, CMOV, x87, FCMOV, MMX, SSE, SSE2,
 * FXSR, PAUSE and the long NOP). A whitelist of Zydis ISA sets, minus a
 * table of mnemonics that are sensitive (SDM Vol. 3 §2.8, and the
 * unprivileged ones Zydis does not flag: SGDT/SIDT/SLDT/STR/SMSW, LAR/LSL/
 * VERR/VERW, PUSHF/POPF, segment moves of CS/SS, far transfers, CPUID).
 * Everything else is an exit: the interpreter gives the guest its result
 * (including #UD for what the guest's CPU does not have).
 */
#include "bt/bt-int.h"

static bool isa_ok(ZydisISASet s)
{
	switch (s) {
	case ZYDIS_ISA_SET_I86: case ZYDIS_ISA_SET_I186:
	case ZYDIS_ISA_SET_I386: case ZYDIS_ISA_SET_I486:
	case ZYDIS_ISA_SET_I486REAL: case ZYDIS_ISA_SET_PENTIUMREAL:
	case ZYDIS_ISA_SET_PPRO: case ZYDIS_ISA_SET_CMOV:
	case ZYDIS_ISA_SET_FCMOV: case ZYDIS_ISA_SET_X87:
	case ZYDIS_ISA_SET_PENTIUMMMX: case ZYDIS_ISA_SET_SSE:
	case ZYDIS_ISA_SET_SSE2: case ZYDIS_ISA_SET_SSE2MMX:
	case ZYDIS_ISA_SET_SSEMXCSR: case ZYDIS_ISA_SET_SSE_PREFETCH:
	case ZYDIS_ISA_SET_FXSAVE: case ZYDIS_ISA_SET_LAHF:
	case ZYDIS_ISA_SET_FAT_NOP: case ZYDIS_ISA_SET_PAUSE:
		return true;
	default:
		/* I286REAL/I286PROTECTED hold only system instructions
		 * (LGDT, LMSW, LAR, ARPL...): all exits. */
		return false;
	}
}

/* Sensitive or privileged mnemonics of the whitelisted sets. */
static bool mnem_exits(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_IN: case ZYDIS_MNEMONIC_OUT:
	case ZYDIS_MNEMONIC_INSB: case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_INSD: case ZYDIS_MNEMONIC_OUTSB:
	case ZYDIS_MNEMONIC_OUTSW: case ZYDIS_MNEMONIC_OUTSD:
	case ZYDIS_MNEMONIC_HLT: case ZYDIS_MNEMONIC_INT:
	case ZYDIS_MNEMONIC_INT1: case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_INTO: case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD: case ZYDIS_MNEMONIC_IRETQ:
	case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_SYSRET:
	case ZYDIS_MNEMONIC_LGDT: case ZYDIS_MNEMONIC_LIDT:
	case ZYDIS_MNEMONIC_LLDT: case ZYDIS_MNEMONIC_LTR:
	case ZYDIS_MNEMONIC_LMSW: case ZYDIS_MNEMONIC_CLTS:
	case ZYDIS_MNEMONIC_INVLPG: case ZYDIS_MNEMONIC_INVD:
	case ZYDIS_MNEMONIC_WBINVD: case ZYDIS_MNEMONIC_RDMSR:
	case ZYDIS_MNEMONIC_WRMSR: case ZYDIS_MNEMONIC_RDPMC:
	case ZYDIS_MNEMONIC_RDTSC: case ZYDIS_MNEMONIC_RDTSCP:
	case ZYDIS_MNEMONIC_CPUID: case ZYDIS_MNEMONIC_SGDT:
	case ZYDIS_MNEMONIC_SIDT: case ZYDIS_MNEMONIC_SLDT:
	case ZYDIS_MNEMONIC_STR: case ZYDIS_MNEMONIC_SMSW:
	case ZYDIS_MNEMONIC_LAR: case ZYDIS_MNEMONIC_LSL:
	case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW:
	case ZYDIS_MNEMONIC_ARPL: case ZYDIS_MNEMONIC_UD0:
	case ZYDIS_MNEMONIC_UD1: case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_RSM: case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_JCXZ:	/* CX-based: rare, not translated */
	case ZYDIS_MNEMONIC_PUSHF: case ZYDIS_MNEMONIC_POPF:	/* 16-bit */
	case ZYDIS_MNEMONIC_CMPXCHG8B:
		/* Not for the CPU's sake (at CPL 1 it is an ordinary locked
		 * RMW): QEMU 7.2's TCG, the test host, ran Linux's SLUB fast
		 * path "cmpxchg8b %fs:(%esi)" at CPL 1 in a compatibility-
		 * mode segment and left garbage in the EFLAGS bits it
		 * materialises afterwards (NT and IOPL set: RFLAGS 0xc2205262
		 * in the next exception frame); a later PUSHF/IRET showed the
		 * guest NT=1 and the kernel died of #TS on IRET. As an exit
		 * (the interpreter runs it) the corruption is gone. Measured
		 * on the test host; docs/bt.md, "Hardware and emulator
		 * facts". */
		return true;
	default:
		return false;
	}
}

static bool is_jcc(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_JO: case ZYDIS_MNEMONIC_JNO:
	case ZYDIS_MNEMONIC_JB: case ZYDIS_MNEMONIC_JNB:
	case ZYDIS_MNEMONIC_JZ: case ZYDIS_MNEMONIC_JNZ:
	case ZYDIS_MNEMONIC_JBE: case ZYDIS_MNEMONIC_JNBE:
	case ZYDIS_MNEMONIC_JS: case ZYDIS_MNEMONIC_JNS:
	case ZYDIS_MNEMONIC_JP: case ZYDIS_MNEMONIC_JNP:
	case ZYDIS_MNEMONIC_JL: case ZYDIS_MNEMONIC_JNL:
	case ZYDIS_MNEMONIC_JLE: case ZYDIS_MNEMONIC_JNLE:
		return true;
	default:
		return false;
	}
}

static bool is_cs_ss(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_CS || r == ZYDIS_REGISTER_SS;
}

/* Operands that make an otherwise whitelisted instruction an exit: control,
 * debug and test registers; CS and SS as a moved/pushed/popped segment
 * register (CS's RPL and SS's selector differ at CPL 1; PUSH CS/SS are
 * translated, XK_PUSH_SEG). Memory through a CS override is copied: the
 * world's CS is the guest's own code descriptor (DPL 1, readable as the
 * guest's, base 0), so such a read behaves as at CPL 0. */
static bool operands_exit(const ZydisDecodedInstruction *i,
			  const ZydisDecodedOperand *ops)
{
	for (unsigned k = 0; k < i->operand_count; k++) {
		const ZydisDecodedOperand *o = &ops[k];

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegisterClass c = ZydisRegisterGetClass(o->reg.value);

			if (c == ZYDIS_REGCLASS_CONTROL ||
			    c == ZYDIS_REGCLASS_DEBUG)
				return true;
			if (o->visibility != ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
			    is_cs_ss(o->reg.value))
				return true;
		}
	}
	/* PUSH CS / PUSH SS / POP SS name the register as an explicit but
	 * maybe "implicit" operand: check the opcodes too (SDM Vol. 2). */
	if (i->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	    (i->opcode == 0x0e || i->opcode == 0x16 || i->opcode == 0x17))
		return true;
	return false;
}

enum bt_xk bt_classify(const ZydisDecodedInstruction *i,
		       const ZydisDecodedOperand *ops)
{
	ZydisMnemonic m = i->mnemonic;
	bool far = i->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
	bool o16 = i->operand_width == 16;

	/* mov r32, cr2 (0f 20 /r, reg 2; no prefix): Linux's page-fault
	 * entry. The guest's CR2 cannot change within a translated stay (a
	 * guest #PF ends it; MOV to CR2 exits), so it is read from wdata. */
	if (m == ZYDIS_MNEMONIC_MOV && i->opcode_map == ZYDIS_OPCODE_MAP_0F &&
	    i->opcode == 0x20 && i->raw.modrm.reg == 2 && i->length == 3)
		return XK_MOV_CR2;
	if (i->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return XK_EXIT;
	switch (m) {
	case ZYDIS_MNEMONIC_JMP:
		if (far || o16)
			return XK_EXIT;
		return ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? XK_JMP
								   : XK_JMP_IND;
	case ZYDIS_MNEMONIC_CALL:
		if (far || o16)
			return XK_EXIT;
		return ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? XK_CALL
								   : XK_CALL_IND;
	case ZYDIS_MNEMONIC_RET:
		return far || o16 ? XK_EXIT : XK_RET;
	case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE: case ZYDIS_MNEMONIC_JECXZ:
		/* 0x67 makes LOOP count in CX: rare, interpreted. */
		return o16 || i->address_width != 32 ? XK_EXIT : XK_LOOP;
	case ZYDIS_MNEMONIC_CLI:
		return XK_CLI;
	case ZYDIS_MNEMONIC_STI:
		return XK_STI;
	case ZYDIS_MNEMONIC_PUSHFD:
		return XK_PUSHF;
	case ZYDIS_MNEMONIC_TZCNT:
	case ZYDIS_MNEMONIC_LZCNT:
		/* F3 0F BC/BD: TZCNT/LZCNT on a host with BMI1/ABM, but BSF/
		 * BSR with an ignored REP on the guest's CPU (no BMI1/ABM in
		 * its CPUID; Linux's __ffs is "rep; bsf" on purpose). */
		return operands_exit(i, ops) ? XK_EXIT : XK_COPY_NOREP;
	case ZYDIS_MNEMONIC_POPFD:
		return XK_POPF;
	case ZYDIS_MNEMONIC_MOV:
		/* 8c /r, register destination, CS (1) or SS (2), no prefix
		 * but 0x66: mov %ss, %eax in Linux's exception entry. A
		 * 32-bit destination gets the selector zero-extended (SDM
		 * Vol. 2B MOV, P6 and later), a 16-bit one its low half. */
		if (i->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && i->opcode == 0x8c &&
		    i->raw.modrm.mod == 3 && (i->raw.modrm.reg == 1 || i->raw.modrm.reg == 2) &&
		    i->length == (o16 ? 3 : 2))
			return XK_MOV_SEG;
		break;
	case ZYDIS_MNEMONIC_PUSH:
		/* 0e: push cs, 16: push ss (32-bit operand only) */
		if (i->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && !o16 &&
		    (i->opcode == 0x0e || i->opcode == 0x16))
			return XK_PUSH_SEG;
		break;
	case ZYDIS_MNEMONIC_VERW: case ZYDIS_MNEMONIC_VERR:
		/* VERW/VERR at CPL 1 on the world's mirror of the guest GDT
		 * give the guest's ZF: DPL-0 descriptors are DPL 1 there, so
		 * max(CPL 1, RPL) <= DPL holds exactly when it holds at CPL 0
		 * with DPL 0; system descriptors are absent and not accessible
		 * either way. Not the same: a selector at index 2 or past the
		 * 128 mirrored entries (reads not accessible). Linux runs VERW
		 * on __KERNEL_DS before every return to user mode (MDS buffer
		 * clearing): an exit each time otherwise. */
		return operands_exit(i, ops) ? XK_EXIT : XK_COPY;
	default:
		break;
	}
	if (is_jcc(m))
		return o16 ? XK_EXIT : XK_JCC;
	if (mnem_exits(m) || !isa_ok(i->meta.isa_set) || operands_exit(i, ops))
		return XK_EXIT;
	return XK_COPY;
}
