/* tests/oracle/forms.c — the user-level instruction forms the oracle
 * checks, built from opcode templates: ModRM register/register, register/
 * memory (absolute disp32 or SIB), group opcodes with /digit, immediates.
 * Undefined flags follow the SDM's per-instruction "Flags Affected".
 */
#include "tests/oracle/oracle.h"

#include <stdio.h>
#include <string.h>

enum { MR_NONE, MR_RR, MR_RM, MR_GR, MR_GM, MR_SIB };
enum {
	SP_NONE, SP_DIV, SP_SHIFT, SP_SHXD, SP_STR, SP_BTMEM, SP_XLAT,
	SP_LEAVE, SP_ENTER, SP_NZIMM, SP_MARK, SP_MOFFS, SP_RET, SP_CALL,
};

#define U_ALL	(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define U_LOGIC	FL_AF
#define U_MUL	(FL_SF | FL_ZF | FL_AF | FL_PF)
#define U_BT	(FL_OF | FL_SF | FL_AF | FL_PF)
#define U_BS	(FL_CF | FL_OF | FL_SF | FL_AF | FL_PF)

struct form {
	char name[40];
	uint8_t op[8], oplen;
	uint8_t mr, digit, imm, size, special;
	uint32_t undef;
};

#define MAXFORMS 640
static struct form forms[MAXFORMS];
static unsigned nforms;

static uint32_t rs = 777;
static uint32_t r32(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

static void add(const char *name, const char *op, unsigned oplen, int mr,
		int digit, int imm, int size, int special, uint32_t undef)
{
	struct form *f = &forms[nforms++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	memcpy(f->op, op, oplen);
	f->oplen = (uint8_t)oplen;
	f->mr = (uint8_t)mr;
	f->digit = (uint8_t)digit;
	f->imm = (uint8_t)imm;
	f->size = (uint8_t)size;
	f->special = (uint8_t)special;
	f->undef = undef;
}

static const char *const mrname[] = { "", "r,r", "r,m", "r", "m", "sib" };

static void addf(const char *mn, const char *op, unsigned oplen, int mr,
		 int digit, int imm, int size, int special, uint32_t undef)
{
	char n[40];
	snprintf(n, sizeof(n), "%s%d %s%s", mn, size * 8, mrname[mr],
		 imm ? (imm == 1 ? ",i8" : imm == 2 ? ",i16" : ",i32") : "");
	add(n, op, oplen, mr, digit, imm, size, special, undef);
}

static void build(void)
{
	static const char *const alu[8] = { "add", "or", "adc", "sbb", "and",
					     "sub", "xor", "cmp" };
	static const char *const sh[8] = { "rol", "ror", "rcl", "rcr", "shl",
					   "shr", "sal", "sar" };
	char op[8];

	if (nforms)
		return;
	for (int o = 0; o < 8; o++) {
		uint32_t u = (o == 1 || o == 4 || o == 6) ? U_LOGIC : 0;
		uint8_t b = (uint8_t)(o * 8);
		op[0] = (char)b;
		addf(alu[o], op, 1, MR_RR, 0, 0, 1, 0, u);
		addf(alu[o], op, 1, MR_RM, 0, 0, 1, 0, u);
		op[0] = (char)(b + 1);
		addf(alu[o], op, 1, MR_RR, 0, 0, 4, 0, u);
		addf(alu[o], op, 1, MR_RM, 0, 0, 4, 0, u);
		addf(alu[o], op, 1, MR_SIB, 0, 0, 4, 0, u);
		op[0] = 0x66; op[1] = (char)(b + 1);
		addf(alu[o], op, 2, MR_RR, 0, 0, 2, 0, u);
		addf(alu[o], op, 2, MR_RM, 0, 0, 2, 0, u);
		op[0] = (char)(b + 2);
		addf(alu[o], op, 1, MR_RM, 0, 0, 1, 0, u);
		op[0] = (char)(b + 3);
		addf(alu[o], op, 1, MR_RM, 0, 0, 4, 0, u);
		op[0] = (char)(b + 4);
		addf(alu[o], op, 1, MR_NONE, 0, 1, 1, 0, u);
		op[0] = (char)(b + 5);
		addf(alu[o], op, 1, MR_NONE, 0, 4, 4, 0, u);
		op[0] = 0x66; op[1] = (char)(b + 5);
		addf(alu[o], op, 2, MR_NONE, 0, 2, 2, 0, u);
		addf(alu[o], "\x80", 1, MR_GR, o, 1, 1, 0, u);
		addf(alu[o], "\x80", 1, MR_GM, o, 1, 1, 0, u);
		addf(alu[o], "\x81", 1, MR_GR, o, 4, 4, 0, u);
		addf(alu[o], "\x81", 1, MR_GM, o, 4, 4, 0, u);
		addf(alu[o], "\x83", 1, MR_GR, o, 1, 4, 0, u);
		addf(alu[o], "\x66\x83", 2, MR_GR, o, 1, 2, 0, u);
	}
	addf("test", "\x84", 1, MR_RR, 0, 0, 1, 0, U_LOGIC);
	addf("test", "\x85", 1, MR_RR, 0, 0, 4, 0, U_LOGIC);
	addf("test", "\x85", 1, MR_RM, 0, 0, 4, 0, U_LOGIC);
	addf("test", "\xa8", 1, MR_NONE, 0, 1, 1, 0, U_LOGIC);
	addf("test", "\xa9", 1, MR_NONE, 0, 4, 4, 0, U_LOGIC);
	addf("test", "\xf6", 1, MR_GR, 0, 1, 1, 0, U_LOGIC);
	addf("test", "\xf7", 1, MR_GR, 0, 4, 4, 0, U_LOGIC);
	addf("test", "\xf7", 1, MR_GM, 0, 4, 4, 0, U_LOGIC);
	addf("test", "\x66\xf7", 2, MR_GR, 0, 2, 2, 0, U_LOGIC);
	for (int r = 0; r < 8; r++) {
		if (r == 4)
			continue;
		op[0] = (char)(0x40 + r);
		addf("inc", op, 1, MR_NONE, 0, 0, 4, 0, 0);
		op[0] = (char)(0x48 + r);
		addf("dec", op, 1, MR_NONE, 0, 0, 4, 0, 0);
		op[0] = (char)(0x0f); op[1] = (char)(0xc8 + r);
		addf("bswap", op, 2, MR_NONE, 0, 0, 4, 0, 0);
		op[0] = (char)(0x90 + r);
		if (r)
			addf("xchg-eax", op, 1, MR_NONE, 0, 0, 4, 0, 0);
		op[0] = (char)(0xb0 + r);
		addf("mov-r8", op, 1, MR_NONE, 0, 1, 1, 0, 0);
		op[0] = (char)(0xb8 + r);
		addf("mov-r32", op, 1, MR_NONE, 0, 4, 4, 0, 0);
		op[0] = (char)(0x50 + r);
		addf("push", op, 1, MR_NONE, 0, 0, 4, 0, 0);
		op[0] = (char)(0x58 + r);
		addf("pop", op, 1, MR_NONE, 0, 0, 4, 0, 0);
	}
	addf("inc", "\x66\x40", 2, MR_NONE, 0, 0, 2, 0, 0);
	addf("inc", "\xfe", 1, MR_GR, 0, 0, 1, 0, 0);
	addf("dec", "\xfe", 1, MR_GR, 1, 0, 1, 0, 0);
	addf("inc", "\xff", 1, MR_GM, 0, 0, 4, 0, 0);
	addf("dec", "\xff", 1, MR_GM, 1, 0, 4, 0, 0);
	addf("dec", "\x66\xff", 2, MR_GR, 1, 0, 2, 0, 0);
	for (int d = 2; d <= 3; d++) {
		const char *n = d == 2 ? "not" : "neg";
		addf(n, "\xf6", 1, MR_GR, d, 0, 1, 0, 0);
		addf(n, "\xf7", 1, MR_GR, d, 0, 4, 0, 0);
		addf(n, "\xf7", 1, MR_GM, d, 0, 4, 0, 0);
		addf(n, "\x66\xf7", 2, MR_GR, d, 0, 2, 0, 0);
	}
	for (int d = 4; d <= 7; d++) {
		static const char *const mn[] = { "mul", "imul1", "div", "idiv" };
		uint32_t u = d < 6 ? U_MUL : U_ALL;
		int sp = d < 6 ? 0 : SP_DIV;
		addf(mn[d - 4], "\xf6", 1, MR_GR, d, 0, 1, sp, u);
		addf(mn[d - 4], "\xf7", 1, MR_GR, d, 0, 4, sp, u);
		addf(mn[d - 4], "\x66\xf7", 2, MR_GR, d, 0, 2, sp, u);
		addf(mn[d - 4], "\xf7", 1, MR_GM, d, 0, 4, sp, u);
	}
	addf("imul", "\x0f\xaf", 2, MR_RR, 0, 0, 4, 0, U_MUL);
	addf("imul", "\x0f\xaf", 2, MR_RM, 0, 0, 4, 0, U_MUL);
	addf("imul", "\x66\x0f\xaf", 3, MR_RR, 0, 0, 2, 0, U_MUL);
	addf("imul3", "\x6b", 1, MR_RR, 0, 1, 4, 0, U_MUL);
	addf("imul3", "\x69", 1, MR_RR, 0, 4, 4, 0, U_MUL);
	addf("imul3", "\x66\x69", 2, MR_RR, 0, 2, 2, 0, U_MUL);
	for (int d = 0; d < 8; d++) {
		addf(sh[d], "\xc0", 1, MR_GR, d, 1, 1, SP_SHIFT, 0);
		addf(sh[d], "\xc1", 1, MR_GR, d, 1, 4, SP_SHIFT, 0);
		addf(sh[d], "\x66\xc1", 2, MR_GR, d, 1, 2, SP_SHIFT, 0);
		addf(sh[d], "\xd0", 1, MR_GR, d, 0, 1, SP_SHIFT, 0);
		addf(sh[d], "\xd1", 1, MR_GR, d, 0, 4, SP_SHIFT, 0);
		addf(sh[d], "\xd2", 1, MR_GR, d, 0, 1, SP_SHIFT, 0);
		addf(sh[d], "\xd3", 1, MR_GR, d, 0, 4, SP_SHIFT, 0);
		addf(sh[d], "\xd3", 1, MR_GM, d, 0, 4, SP_SHIFT, 0);
		addf(sh[d], "\x66\xd3", 2, MR_GR, d, 0, 2, SP_SHIFT, 0);
	}
	addf("shld", "\x0f\xa4", 2, MR_RR, 0, 1, 4, SP_SHXD, 0);
	addf("shld", "\x0f\xa5", 2, MR_RR, 0, 0, 4, SP_SHXD, 0);
	addf("shld", "\x0f\xa5", 2, MR_RM, 0, 0, 4, SP_SHXD, 0);
	addf("shrd", "\x0f\xac", 2, MR_RR, 0, 1, 4, SP_SHXD, 0);
	addf("shrd", "\x0f\xad", 2, MR_RR, 0, 0, 4, SP_SHXD, 0);
	addf("shld", "\x66\x0f\xa5", 3, MR_RR, 0, 0, 2, SP_SHXD, 0);
	addf("shrd", "\x66\x0f\xad", 3, MR_RR, 0, 0, 2, SP_SHXD, 0);
	addf("shrd", "\x66\x0f\xac", 3, MR_RR, 0, 1, 2, SP_SHXD, 0);
	/* Moves. */
	addf("mov", "\x88", 1, MR_RR, 0, 0, 1, 0, 0);
	addf("mov", "\x88", 1, MR_RM, 0, 0, 1, 0, 0);
	addf("mov", "\x89", 1, MR_RR, 0, 0, 4, 0, 0);
	addf("mov", "\x89", 1, MR_RM, 0, 0, 4, 0, 0);
	addf("mov", "\x89", 1, MR_SIB, 0, 0, 4, 0, 0);
	addf("mov", "\x66\x89", 2, MR_RM, 0, 0, 2, 0, 0);
	addf("mov", "\x8a", 1, MR_RM, 0, 0, 1, 0, 0);
	addf("mov", "\x8b", 1, MR_RM, 0, 0, 4, 0, 0);
	addf("mov", "\x8b", 1, MR_SIB, 0, 0, 4, 0, 0);
	addf("mov", "\x66\x8b", 2, MR_RM, 0, 0, 2, 0, 0);
	addf("mov", "\xc6", 1, MR_GM, 0, 1, 1, 0, 0);
	addf("mov", "\xc7", 1, MR_GM, 0, 4, 4, 0, 0);
	addf("mov", "\x66\xc7", 2, MR_GM, 0, 2, 2, 0, 0);
	addf("mov-moffs", "\xa1", 1, MR_NONE, 0, 0, 4, SP_MOFFS, 0);
	addf("mov-moffs", "\xa2", 1, MR_NONE, 0, 0, 1, SP_MOFFS, 0);
	addf("movzx", "\x0f\xb6", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("movzx", "\x0f\xb7", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("movzx", "\x0f\xb6", 2, MR_RM, 0, 0, 4, 0, 0);
	addf("movzx", "\x66\x0f\xb6", 3, MR_RR, 0, 0, 2, 0, 0);
	addf("movsx", "\x0f\xbe", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("movsx", "\x0f\xbf", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("movsx", "\x0f\xbf", 2, MR_RM, 0, 0, 4, 0, 0);
	addf("lea", "\x8d", 1, MR_RM, 0, 0, 4, 0, 0);
	addf("lea", "\x8d", 1, MR_SIB, 0, 0, 4, 0, 0);
	addf("lea", "\x66\x8d", 2, MR_SIB, 0, 0, 2, 0, 0);
	addf("xchg", "\x86", 1, MR_RR, 0, 0, 1, 0, 0);
	addf("xchg", "\x87", 1, MR_RR, 0, 0, 4, 0, 0);
	addf("xchg", "\x87", 1, MR_RM, 0, 0, 4, 0, 0);
	addf("xadd", "\x0f\xc0", 2, MR_RR, 0, 0, 1, 0, 0);
	addf("xadd", "\x0f\xc1", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("xadd", "\x0f\xc1", 2, MR_RM, 0, 0, 4, 0, 0);
	addf("cmpxchg", "\x0f\xb0", 2, MR_RR, 0, 0, 1, 0, 0);
	addf("cmpxchg", "\x0f\xb1", 2, MR_RR, 0, 0, 4, 0, 0);
	addf("cmpxchg", "\x0f\xb1", 2, MR_RM, 0, 0, 4, 0, 0);
	addf("cmpxchg", "\x66\x0f\xb1", 3, MR_RR, 0, 0, 2, 0, 0);
	addf("cmpxchg8b", "\x0f\xc7", 2, MR_GM, 1, 0, 4, 0, 0);
	for (int cc = 0; cc < 16; cc++) {
		char n[16];
		op[0] = 0x0f; op[1] = (char)(0x40 + cc);
		snprintf(n, sizeof(n), "cmov%x", cc);
		addf(n, op, 2, MR_RR, 0, 0, 4, 0, 0);
		op[1] = (char)(0x90 + cc);
		snprintf(n, sizeof(n), "set%x", cc);
		addf(n, op, 2, MR_GR, 0, 0, 1, 0, 0);
		op[0] = (char)(0x70 + cc);
		op[1] = 1;
		snprintf(n, sizeof(n), "j%x", cc);
		addf(n, op, 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
		op[0] = 0x0f; op[1] = (char)(0x80 + cc);
		op[2] = 1; op[3] = 0; op[4] = 0; op[5] = 0;
		snprintf(n, sizeof(n), "j%x-rel32", cc);
		add(n, op, 6, MR_NONE, 0, 0, 4, SP_MARK, 0);
	}
	addf("cmovz", "\x0f\x44", 2, MR_RM, 0, 0, 4, 0, 0);
	addf("cmovnz", "\x66\x0f\x45", 3, MR_RR, 0, 0, 2, 0, 0);
	addf("setz", "\x0f\x94", 2, MR_GM, 0, 0, 1, 0, 0);
	add("jecxz", "\xe3\x01", 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
	add("loop", "\xe2\x01", 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
	add("loope", "\xe1\x01", 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
	add("loopne", "\xe0\x01", 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
	add("jmp8", "\xeb\x01", 2, MR_NONE, 0, 0, 4, SP_MARK, 0);
	/* Bit operations. */
	for (int k = 0; k < 4; k++) {
		static const char *const bn[] = { "bt", "bts", "btr", "btc" };
		op[0] = 0x0f; op[1] = (char)(0xa3 + 8 * k);
		addf(bn[k], op, 2, MR_RR, 0, 0, 4, 0, U_BT);
		addf(bn[k], op, 2, MR_RM, 0, 0, 4, SP_BTMEM, U_BT);
		op[0] = 0x66; op[1] = 0x0f; op[2] = (char)(0xa3 + 8 * k);
		addf(bn[k], op, 3, MR_RR, 0, 0, 2, 0, U_BT);
		addf(bn[k], op, 3, MR_RM, 0, 0, 2, SP_BTMEM, U_BT);
		addf(bn[k], "\x0f\xba", 2, MR_GR, 4 + k, 1, 4, 0, U_BT);
		addf(bn[k], "\x0f\xba", 2, MR_GM, 4 + k, 1, 4, 0, U_BT);
	}
	addf("bsf", "\x0f\xbc", 2, MR_RR, 0, 0, 4, 0, U_BS);
	addf("bsr", "\x0f\xbd", 2, MR_RR, 0, 0, 4, 0, U_BS);
	addf("bsf", "\x0f\xbc", 2, MR_RM, 0, 0, 4, 0, U_BS);
	addf("bsr", "\x66\x0f\xbd", 3, MR_RR, 0, 0, 2, 0, U_BS);
	/* Conversions, flag instructions, BCD. */
	add("cwde", "\x98", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("cbw", "\x66\x98", 2, MR_NONE, 0, 0, 2, 0, 0);
	add("cdq", "\x99", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("cwd", "\x66\x99", 2, MR_NONE, 0, 0, 2, 0, 0);
	add("clc", "\xf8", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("stc", "\xf9", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("cmc", "\xf5", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("cld", "\xfc", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("std-cld", "\xfd\xfc", 2, MR_NONE, 0, 0, 4, 0, 0);
	add("lahf", "\x9f", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("sahf", "\x9e", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("salc", "\xd6", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("nop", "\x90", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("daa", "\x27", 1, MR_NONE, 0, 0, 1, 0, FL_OF);
	add("das", "\x2f", 1, MR_NONE, 0, 0, 1, 0, FL_OF);
	add("aaa", "\x37", 1, MR_NONE, 0, 0, 1, 0, FL_OF | FL_SF | FL_ZF | FL_PF);
	add("aas", "\x3f", 1, MR_NONE, 0, 0, 1, 0, FL_OF | FL_SF | FL_ZF | FL_PF);
	add("aam", "\xd4", 1, MR_NONE, 0, 1, 1, SP_NZIMM, FL_OF | FL_AF | FL_CF);
	add("aad", "\xd5", 1, MR_NONE, 0, 1, 1, 0, FL_OF | FL_AF | FL_CF);
	add("xlat", "\xd7", 1, MR_NONE, 0, 0, 1, SP_XLAT, 0);
	/* Sequences: flags carried through the lazy-flags record (INC/DEC
	 * keep CF; ADC/SBB read it; Jcc/SETcc after them). */
	add("seq sub;inc;adc", "\x29\xd8\x40\x11\xd1", 5, MR_NONE, 0, 0, 4, 0, 0);
	add("seq add;dec;sbb", "\x01\xd8\x48\x19\xd1", 5, MR_NONE, 0, 0, 4, 0, 0);
	add("seq cmp;dec;jc", "\x39\xd8\x4b\x72\x01\x42", 6, MR_NONE, 0, 0, 4, 0, 0);
	add("seq shl;inc;setc", "\xd1\xe0\x41\x0f\x92\xc2", 6, MR_NONE, 0, 0, 4, 0, FL_AF);
	add("seq xor;inc;adc8", "\x31\xd8\xfe\xc1\x10\xd6", 6, MR_NONE, 0, 0, 4, 0, 0);
	add("seq adc;dec;sbb16", "\x11\xd8\x66\x4a\x66\x19\xce", 7, MR_NONE, 0, 0, 4, 0, 0);
	add("seq neg;dec;cmc;adc", "\xf7\xd8\x4b\xf5\x11\xd1", 6, MR_NONE, 0, 0, 4, 0, 0);
	add("seq sbb;inc;jbe", "\x19\xd8\x40\x76\x01\x42", 6, MR_NONE, 0, 0, 4, 0, 0);
	/* Stack. */
	add("push-i8", "\x6a", 1, MR_NONE, 0, 1, 4, 0, 0);
	add("push-i32", "\x68", 1, MR_NONE, 0, 4, 4, 0, 0);
	add("push-i16", "\x66\x68", 2, MR_NONE, 0, 2, 2, 0, 0);
	addf("push", "\xff", 1, MR_GM, 6, 0, 4, 0, 0);
	addf("pop", "\x8f", 1, MR_GM, 0, 0, 4, 0, 0);
	add("pop16", "\x66\x58", 2, MR_NONE, 0, 0, 2, 0, 0);
	add("pushad", "\x60", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("popad", "\x61", 1, MR_NONE, 0, 0, 4, 0, 0);
	add("pushaw", "\x66\x60", 2, MR_NONE, 0, 0, 2, 0, 0);
	add("enter", "\xc8", 1, MR_NONE, 0, 0, 4, SP_ENTER, 0);
	add("leave", "\xc9", 1, MR_NONE, 0, 0, 4, SP_LEAVE, 0);
	add("call-rel", "\xe8\x00\x00\x00\x00", 5, MR_NONE, 0, 0, 4, 0, 0);
	add("push-ret", "\x68", 1, MR_NONE, 0, 0, 4, SP_RET, 0);
	add("call-ind", "\xff", 1, MR_NONE, 0, 0, 4, SP_CALL, 0);
	/* Strings. */
	{
		static const struct { const char *n; const char *b; unsigned l; } st[] = {
			{ "movsb", "\xa4", 1 }, { "movsd", "\xa5", 1 },
			{ "movsw", "\x66\xa5", 2 }, { "cmpsb", "\xa6", 1 },
			{ "cmpsd", "\xa7", 1 }, { "stosb", "\xaa", 1 },
			{ "stosd", "\xab", 1 }, { "lodsb", "\xac", 1 },
			{ "lodsd", "\xad", 1 }, { "scasb", "\xae", 1 },
			{ "scasd", "\xaf", 1 }, { "rep movsb", "\xf3\xa4", 2 },
			{ "rep movsd", "\xf3\xa5", 2 }, { "rep stosb", "\xf3\xaa", 2 },
			{ "rep stosw", "\x66\xf3\xab", 3 }, { "rep lodsb", "\xf3\xac", 2 },
			{ "repe cmpsb", "\xf3\xa6", 2 }, { "repne cmpsb", "\xf2\xa6", 2 },
			{ "repe scasb", "\xf3\xae", 2 }, { "repne scasd", "\xf2\xaf", 2 },
			{ "rep movsb a16", "\x67\xf3\xa4", 3 },
		};
		for (unsigned k = 0; k < sizeof(st) / sizeof(st[0]); k++)
			add(st[k].n, st[k].b, st[k].l, MR_NONE, 0, 0, 4, SP_STR, 0);
	}
}

unsigned forms__count(void)
{
	build();
	return nforms;
}

const char *forms__name(unsigned f)
{
	build();
	return forms[f].name;
}

/* A register index for a ModRM field: never ESP for 16/32-bit operands. */
static unsigned rreg(unsigned size)
{
	unsigned r;
	do
		r = r32() & 7;
	while (size != 1 && r == R_ESP);
	return r;
}

static uint32_t shift_undef(unsigned digit, unsigned size, unsigned cnt)
{
	unsigned bits = size * 8;
	uint32_t u = 0;
	cnt &= 31;
	if (cnt == 0)
		return 0;
	if (digit >= 4)
		u |= FL_AF;
	if (cnt != 1)
		u |= FL_OF;
	if ((digit == 4 || digit == 5 || digit == 6) && cnt >= bits)
		u |= FL_CF | FL_OF;
	return u;
}

void forms__make(unsigned f, uint8_t *insn, unsigned *len, uint32_t *in,
		 uint32_t *undef, bool *skip, uint32_t at, uint32_t data,
		 uint32_t stack)
{
	const struct form *fm;
	uint8_t *p = insn;
	unsigned reg = 0, rm = 0;
	uint32_t disp = data + (r32() % 0xff0);

	build();
	fm = &forms[f];
	*undef = fm->undef;
	*skip = false;
	memcpy(p, fm->op, fm->oplen);
	p += fm->oplen;
	switch (fm->mr) {
	case MR_RR:
		reg = rreg(fm->size);
		rm = rreg(fm->size);
		*p++ = (uint8_t)(0xc0 | reg << 3 | rm);
		break;
	case MR_RM:
		reg = rreg(fm->size);
		*p++ = (uint8_t)(0x05 | reg << 3);
		memcpy(p, &disp, 4);
		p += 4;
		break;
	case MR_GR:
		rm = rreg(fm->size);
		*p++ = (uint8_t)(0xc0 | fm->digit << 3 | rm);
		break;
	case MR_GM:
		*p++ = (uint8_t)(0x05 | fm->digit << 3);
		memcpy(p, &disp, 4);
		p += 4;
		break;
	case MR_SIB: {
		/* [ebx + esi*scale + disp8] with ebx/esi inside the data area. */
		unsigned scale = r32() & 3;
		do
			reg = rreg(4);
		while (reg == R_EBX || reg == R_ESI);
		*p++ = (uint8_t)(0x44 | reg << 3);
		*p++ = (uint8_t)(scale << 6 | R_ESI << 3 | R_EBX);
		*p++ = (uint8_t)(r32() & 0x7f);
		in[R_EBX] = data + 0x400;
		in[R_ESI] = r32() % 64;
		break;
	}
	default:
		break;
	}
	for (unsigned k = 0; k < fm->imm; k++)
		*p++ = (uint8_t)r32();
	switch (fm->special) {
	case SP_DIV: {
		unsigned bits = fm->size * 8;
		uint32_t m = fm->size == 4 ? ~0u : (1u << bits) - 1, d;
		uint64_t n;
		/* Keep the dividend small enough most of the time. */
		if (r32() & 1)
			in[R_EDX] = (r32() & 1) ? 0 : ~0u;
		if (fm->mr == MR_GM)
			d = 1 + (r32() & 0xffff);	/* memory: skipped below */
		else
			d = in[rm & (fm->size == 1 ? 3 : 7)];
		if (fm->size == 1 && rm >= 4)
			d = in[rm - 4] >> 8;
		d &= m;
		n = fm->size == 1 ? (in[R_EAX] & 0xffff)
				  : (((uint64_t)(in[R_EDX] & m) << bits) | (in[R_EAX] & m));
		if (d == 0) {
			*skip = true;
		} else if (fm->digit == 6) {
			if (n / d > m)
				*skip = true;
		} else {
			uint64_t nsg = 1ull << (2 * bits - 1);
			int64_t sn = (int64_t)((n ^ nsg) - nsg);
			int64_t sd = (int64_t)(int32_t)((d ^ (1u << (bits - 1))) -
							(1u << (bits - 1)));
			int64_t q;
			if (sd == -1 && sn == INT64_MIN)
				*skip = true;
			else {
				q = sn / sd;
				if (q >= (1ll << (bits - 1)) || q < -(1ll << (bits - 1)))
					*skip = true;
			}
		}
		if (fm->mr == MR_GM)
			*skip = true;	/* memory divisor not known here */
		break;
	}
	case SP_SHIFT: {
		unsigned cnt = fm->op[fm->oplen - 1] == 0xd0 || fm->op[fm->oplen - 1] == 0xd1
			       ? 1 : fm->imm ? p[-1] : in[R_ECX] & 0xff;
		*undef |= shift_undef(fm->digit, fm->size, cnt);
		break;
	}
	case SP_SHXD: {
		unsigned cnt = (fm->imm ? p[-1] : in[R_ECX]) & 31;
		if (fm->size == 2 && cnt > 16)
			*skip = true;
		if (cnt)
			*undef |= FL_AF | (cnt != 1 ? FL_OF : 0);
		break;
	}
	case SP_STR:
		in[R_ESI] = data + 0x800 + (r32() % 64);
		in[R_EDI] = data + 0xa00 + (r32() % 64);
		in[R_ECX] = r32() % 20;
		if (r32() & 1)
			in[8] |= FL_DF;
		if (insn[0] == 0x67) {	/* 16-bit addressing: stay in the data area */
			in[R_ESI] = (in[R_ESI] & 0xffff) | ((data + 0x800) & 0xffff0000u);
			in[R_EDI] = (in[R_EDI] & 0xffff) | ((data + 0x800) & 0xffff0000u);
			*skip = true;	/* the stub's DS base is 0: 16-bit SI cannot reach */
		}
		break;
	case SP_BTMEM:
		in[reg] = (uint32_t)((int32_t)(r32() % 1024) - 512);
		if (fm->size == 2)
			in[reg] = (in[reg] & 0xffff) | (r32() & 0xffff0000u);
		memcpy(p - 4, &(uint32_t){ data + 0x800 }, 4);
		break;
	case SP_XLAT:
		in[R_EBX] = data + 0x100;
		break;
	case SP_LEAVE:
		in[R_EBP] = stack + 0x900 + (r32() % 64) * 4;
		break;
	case SP_ENTER:
		*p++ = (uint8_t)(r32() % 64);
		*p++ = 0;
		*p++ = (uint8_t)(r32() % 4);
		in[R_EBP] = stack + 0x900 + (r32() % 64) * 4;
		break;
	case SP_NZIMM:
		if (p[-1] == 0)
			p[-1] = 10;
		break;
	case SP_MARK:
		*p++ = 0x42;	/* inc %edx, jumped over when taken */
		break;
	case SP_MOFFS:
		memcpy(p, &disp, 4);
		p += 4;
		break;
	case SP_RET: {
		uint32_t next = at + 6;
		memcpy(p, &next, 4);
		p += 4;
		*p++ = 0xc3;
		break;
	}
	case SP_CALL: {
		/* call *%ebx with ebx = the next instruction. */
		*p++ = 0xd3;
		in[R_EBX] = at + 2;
		break;
	}
	default:
		break;
	}
	*len = (unsigned)(p - insn);
}
