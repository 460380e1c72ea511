/* monitor/fpu.h — the floating-point unit of the IA-32 interpreter: x87 FPU,
 * MMX, SSE, SSE2, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, EMMS (a Pentium-4-class
 * guest). All arithmetic is integer soft-float (the monitor is built with
 * -mgeneral-regs-only), exact to the bit against the hardware for the basic
 * operations. See docs/fpu.md.
 *
 * The state lives inside struct cpu (monitor/monitor.h) as `cpu->fpu`; this
 * header must not include monitor.h (monitor.h includes it).
 */
#ifndef HVMM_FPU_H
#define HVMM_FPU_H

#include <stdint.h>

#include <Zydis/Zydis.h>

struct cpu;

/* fpu__exec's "not an x87/MMX/SSE instruction" (the caller raises #UD).
 * Same value as monitor.h's CPU_NOT_FPU. */
#define FPU_NOT_MINE 1

/* An x87 data register in extended real format (SDM Vol. 1 §4.2.2):
 * sign in se bit 15, biased exponent in se bits 0-14, the 64-bit significand
 * with its explicit integer bit in m bit 63. An MMX register MMi is the m of
 * physical register Ri (SDM Vol. 1 §9.5). */
struct fpu_reg80 {
	uint64_t m;
	uint16_t se;
};

/* An XMM register, little-endian lanes. */
union fpu_xmm {
	uint64_t q[2];
	uint32_t d[4];
	uint16_t w[8];
	uint8_t b[16];
};

/* The whole guest-visible FPU/MMX/SSE state. The fields map one to one to
 * the FXSAVE image (SDM Vol. 1 §10.5.1, Table 10-2) except the tag word, which
 * is kept in its full two-bits-per-register form (FNSAVE layout) and
 * abridged on FXSAVE. Register st[i] is PHYSICAL register Ri; ST(i) is
 * st[(TOP + i) & 7] with TOP in fsw bits 11-13. */
struct fpu_state {
	uint16_t fcw;		/* control word */
	uint16_t fsw;		/* status word, TOP included */
	uint16_t ftw;		/* tag word: 2 bits per physical register */
	uint16_t fop;		/* last non-control opcode (11 bits) */
	uint32_t fip;		/* last non-control instruction: offset */
	uint16_t fcs;		/* ... and CS selector */
	uint32_t fdp;		/* last memory operand: offset */
	uint16_t fds;		/* ... and segment selector */
	uint32_t mxcsr;
	struct fpu_reg80 st[8];
	union fpu_xmm xmm[8];
};

/* Control word bits (SDM Vol. 1 §8.1.5). */
#define FCW_IM		0x0001
#define FCW_DM		0x0002
#define FCW_ZM		0x0004
#define FCW_OM		0x0008
#define FCW_UM		0x0010
#define FCW_PM		0x0020
#define FCW_PC_SHIFT	8	/* 0: 24 bits, 2: 53 bits, 3: 64 bits */
#define FCW_RC_SHIFT	10	/* 0 nearest, 1 down, 2 up, 3 toward zero */
#define FCW_X		0x1000	/* infinity control, ignored since the 287 */

/* Status word bits (SDM Vol. 1 §8.1.3). The exception flags IE..PE have the
 * same positions in FSW and in MXCSR. */
#define FSW_IE		0x0001
#define FSW_DE		0x0002
#define FSW_ZE		0x0004
#define FSW_OE		0x0008
#define FSW_UE		0x0010
#define FSW_PE		0x0020
#define FSW_SF		0x0040	/* stack fault (with IE; C1 = overflow) */
#define FSW_ES		0x0080	/* error summary */
#define FSW_C0		0x0100
#define FSW_C1		0x0200
#define FSW_C2		0x0400
#define FSW_TOP_SHIFT	11
#define FSW_C3		0x4000
#define FSW_B		0x8000

/* Tag values (SDM Vol. 1 §8.1.7). */
#define FTAG_VALID	0
#define FTAG_ZERO	1
#define FTAG_SPECIAL	2
#define FTAG_EMPTY	3

/* MXCSR bits (SDM Vol. 1 §10.2.3). */
#define MXCSR_DAZ	0x0040
#define MXCSR_IM	0x0080	/* masks: exception flag << 7 */
#define MXCSR_RC_SHIFT	13
#define MXCSR_FZ	0x8000
#define MXCSR_DEFAULT	0x1f80
#define MXCSR_MASK	0xffff	/* bits a guest may set (FXSAVE MXCSR_MASK) */

/* Power-on / FNINIT state of the x87 unit (SDM Vol. 1 §8.1.9, Table 8-3)
 * plus MXCSR = 0x1F80 and XMM/ST registers cleared (RESET state). */
void fpu__reset(struct fpu_state *fpu);

/* Writes the first 288 bytes of an FXSAVE image of f to b (SDM Vol. 1
 * §10.5.1, Table 10-2): abridged tags, MXCSR masked by mxcsr_mask, which is
 * also stored as MXCSR_MASK. Reserved bytes in that range are left as found. */
void fpu__fx_store(const struct fpu_state *f, uint8_t *b, uint32_t mxcsr_mask);

/* Loads f from an FXSAVE image (full tags recomputed from the registers
 * marked valid); MXCSR is taken as is (the caller checks it). */
void fpu__fx_load(struct fpu_state *f, const uint8_t *b);

/* Executes one x87/MMX/SSE/SSE2 instruction (also FXSAVE/FXRSTOR,
 * LDMXCSR/STMXCSR, EMMS, FWAIT) with cpu->eip at its start; on success the
 * caller advances EIP. The caller has already done the CR0.EM/TS/MP checks
 * (#NM/#UD); CR4.OSFXSR/OSXMMEXCPT gating and pending-x87-exception (#MF)
 * delivery are done here. Returns 0, the abort value of a memory access or
 * exception (cpu__raise's), or FPU_NOT_MINE. */
int fpu__exec(struct cpu *cpu, const ZydisDecodedInstruction *insn,
	      const ZydisDecodedOperand *ops);

/* CPUID.1:EDX feature bits that fpu__exec implements (FPU, MMX, FXSR, SSE,
 * SSE2), for the interpreter's CPUID. fpu__features is the same. */
uint32_t fpu__cpuid_edx(void);
uint32_t fpu__features(void);

#endif
