/* tests/fs/zydis-decode.c — Zydis in the freestanding build: decodes a table
 * of IA-32 instructions (32-bit protected mode) with ZydisDecoderDecodeFull
 * and checks mnemonic, length, attributes and every visible operand against
 * values taken from the SDM's opcode tables; then encodes, re-encodes and
 * formats, so the encoder and formatter objects are exercised too. */
#include <stddef.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "monitor/fs-libc.h"
#include "tests/fs/harness.h"

struct want_op {
	ZydisOperandType type;	/* UNUSED: no more operands to check */
	ZydisRegister reg;	/* REGISTER: the register; MEMORY: the base */
	ZydisRegister index;	/* MEMORY */
	ZydisRegister segreg;	/* MEMORY: effective segment; NONE = not checked */
	uint8_t scale;		/* MEMORY */
	int64_t value;		/* IMMEDIATE: value; MEMORY: disp; POINTER: offset */
	uint16_t seg;		/* POINTER: selector */
	uint16_t size;		/* bits; 0 = not checked */
};

struct decode_case {
	const char *name;
	uint8_t bytes[16];
	uint8_t avail;		/* bytes handed to the decoder */
	ZyanStatus status;
	ZydisMnemonic mnemonic;
	uint8_t length;
	uint8_t visible;	/* operand_count_visible; op[] may go on with hidden ones */
	uint8_t addr_width;	/* 0 = not checked */
	ZydisInstructionAttributes attrs;	/* must all be set */
	struct want_op op[3];
};

#define REG(r, sz)	{ .type = ZYDIS_OPERAND_TYPE_REGISTER, .reg = ZYDIS_REGISTER_##r, .size = sz }
#define IMM(v, sz)	{ .type = ZYDIS_OPERAND_TYPE_IMMEDIATE, .value = v, .size = sz }
#define MEM(b, i, sc, d, sz) { .type = ZYDIS_OPERAND_TYPE_MEMORY, .reg = ZYDIS_REGISTER_##b, \
			  .index = ZYDIS_REGISTER_##i, .scale = sc, .value = d, .size = sz }
#define MEMS(s, b, sz)	{ .type = ZYDIS_OPERAND_TYPE_MEMORY, .reg = ZYDIS_REGISTER_##b, \
			  .index = ZYDIS_REGISTER_NONE, .segreg = ZYDIS_REGISTER_##s, .size = sz }
#define OK		.status = ZYAN_STATUS_SUCCESS
#define M(m)		.mnemonic = ZYDIS_MNEMONIC_##m

static const struct decode_case cases[] = {
	{ "mov eax, ebx", { 0x89, 0xd8 }, 2, OK, M(MOV), 2, 2, 32, 0,
	  { REG(EAX, 32), REG(EBX, 32) } },
	{ "mov eax, [esp+8]", { 0x8b, 0x44, 0x24, 0x08 }, 4, OK, M(MOV), 4, 2, 32, 0,
	  { REG(EAX, 32), MEM(ESP, NONE, 0, 8, 32) } },
	{ "mov ax, 0x1234", { 0x66, 0xb8, 0x34, 0x12 }, 4, OK, M(MOV), 4, 2, 32,
	  ZYDIS_ATTRIB_HAS_OPERANDSIZE, { REG(AX, 16), IMM(0x1234, 16) } },
	/* 0x48 is DEC EAX outside 64-bit mode, not a REX prefix */
	{ "dec eax", { 0x48, 0x90 }, 2, OK, M(DEC), 1, 1, 0, 0, { REG(EAX, 32) } },
	{ "add eax, -1", { 0x83, 0xc0, 0xff }, 3, OK, M(ADD), 3, 2, 0, 0,
	  { REG(EAX, 32), IMM(-1, 0) } },
	{ "lea eax, [ecx*4+0x1000]", { 0x8d, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00 }, 7, OK,
	  M(LEA), 7, 2, 32, 0, { REG(EAX, 32), MEM(NONE, ECX, 4, 0x1000, 0) } },
	{ "imul eax, [ebx+esi*2-4], 100", { 0x6b, 0x44, 0x73, 0xfc, 0x64 }, 5, OK,
	  M(IMUL), 5, 3, 32, 0,
	  { REG(EAX, 32), MEM(EBX, ESI, 2, -4, 32), IMM(100, 0) } },
	{ "mov eax, [bx] (addr16)", { 0x67, 0x8b, 0x07 }, 3, OK, M(MOV), 3, 2, 16,
	  ZYDIS_ATTRIB_HAS_ADDRESSSIZE, { REG(EAX, 32), MEM(BX, NONE, 0, 0, 32) } },
	{ "call rel32", { 0xe8, 0x10, 0x00, 0x00, 0x00 }, 5, OK, M(CALL), 5, 1, 0, 0,
	  { IMM(0x10, 0) } },
	{ "jmp far 0008:12345678", { 0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00 }, 7, OK,
	  M(JMP), 7, 1, 0, 0,
	  { { .type = ZYDIS_OPERAND_TYPE_POINTER, .value = 0x12345678, .seg = 8 } } },
	{ "int 0x80", { 0xcd, 0x80 }, 2, OK, M(INT), 2, 1, 0, 0, { IMM(0x80, 0) } },
	{ "in al, dx", { 0xec }, 1, OK, M(IN), 1, 2, 0, 0, { REG(AL, 8), REG(DX, 16) } },
	{ "out 0x80, al", { 0xe6, 0x80 }, 2, OK, M(OUT), 2, 2, 0, 0,
	  { IMM(0x80, 0), REG(AL, 8) } },
	/* string operands are hidden; the destination is always ES:EDI (SDM Vol. 2B MOVS) */
	{ "rep movsd", { 0xf3, 0xa5 }, 2, OK, M(MOVSD), 2, 0, 32, ZYDIS_ATTRIB_HAS_REP,
	  { MEMS(ES, EDI, 32), MEMS(DS, ESI, 32), REG(ECX, 32) } },
	{ "movsb es:[edi], fs:[esi]", { 0x64, 0xa4 }, 2, OK, M(MOVSB), 2, 0, 32, 0,
	  { MEMS(ES, EDI, 8), MEMS(FS, ESI, 8) } },
	{ "lock cmpxchg [edx], ecx", { 0xf0, 0x0f, 0xb1, 0x0a }, 4, OK, M(CMPXCHG), 4, 2, 32,
	  ZYDIS_ATTRIB_HAS_LOCK, { MEM(EDX, NONE, 0, 0, 32), REG(ECX, 32) } },
	{ "mov eax, cr0", { 0x0f, 0x20, 0xc0 }, 3, OK, M(MOV), 3, 2, 0,
	  ZYDIS_ATTRIB_IS_PRIVILEGED, { REG(EAX, 32), REG(CR0, 32) } },
	/* Zydis 4.0 flags LIDT but not LGDT as privileged: do not rely on the flag */
	{ "lidt [eax]", { 0x0f, 0x01, 0x18 }, 3, OK, M(LIDT), 3, 1, 32,
	  ZYDIS_ATTRIB_IS_PRIVILEGED, { MEM(EAX, NONE, 0, 0, 0) } },
	{ "lgdt [eax]", { 0x0f, 0x01, 0x10 }, 3, OK, M(LGDT), 3, 1, 32, 0,
	  { MEM(EAX, NONE, 0, 0, 0) } },
	{ "mov ds, ax", { 0x8e, 0xd8 }, 2, OK, M(MOV), 2, 2, 0, 0, { REG(DS, 16), REG(AX, 16) } },
	{ "movaps xmm0, xmm1", { 0x0f, 0x28, 0xc1 }, 3, OK, M(MOVAPS), 3, 2, 0, 0,
	  { REG(XMM0, 128), REG(XMM1, 128) } },
	{ "fld1", { 0xd9, 0xe8 }, 2, OK, M(FLD1), 2, 0, 0, 0, { { 0 } } },
	{ "cpuid", { 0x0f, 0xa2 }, 2, OK, M(CPUID), 2, 0, 0, 0, { { 0 } } },
	{ "pushfd", { 0x9c }, 1, OK, M(PUSHFD), 1, 0, 0, 0, { { 0 } } },
	{ "iretd", { 0xcf }, 1, OK, M(IRETD), 1, 0, 0, 0, { { 0 } } },
	{ "invalid ff /7", { 0xff, 0xff }, 2, .status = ZYDIS_STATUS_DECODING_ERROR },
	{ "truncated call", { 0xe8, 0x00, 0x00 }, 3, .status = ZYDIS_STATUS_NO_MORE_DATA },
	/* SDM Vol. 2A 2.3.11: an instruction longer than 15 bytes raises #GP */
	{ "16 bytes", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
			0x66, 0x66, 0x66, 0x66, 0x66, 0x90 }, 16,
	  .status = ZYDIS_STATUS_INSTRUCTION_TOO_LONG },
};

static int check_op(const struct decode_case *c, int i, const ZydisDecodedOperand *op)
{
	const struct want_op *w = &c->op[i];
	int fails = 0;

	if (op->type != w->type)
		return fs_harness__fail(c->name, "operand type", op->type, w->type);
	if (w->size && op->size != w->size)
		fails += fs_harness__fail(c->name, "operand size", op->size, w->size);
	switch (w->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		if (op->reg.value != w->reg)
			fails += fs_harness__fail(c->name, "register", op->reg.value, w->reg);
		break;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if (op->mem.base != w->reg)
			fails += fs_harness__fail(c->name, "base", op->mem.base, w->reg);
		if (op->mem.index != w->index)
			fails += fs_harness__fail(c->name, "index", op->mem.index, w->index);
		if (op->mem.scale != w->scale)
			fails += fs_harness__fail(c->name, "scale", op->mem.scale, w->scale);
		if (w->segreg && op->mem.segment != w->segreg)
			fails += fs_harness__fail(c->name, "segment", op->mem.segment, w->segreg);
		if (op->mem.disp.value != w->value)
			fails += fs_harness__fail(c->name, "displacement",
						  (uint64_t)op->mem.disp.value, (uint64_t)w->value);
		break;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		if (op->imm.value.u != (uint64_t)w->value)
			fails += fs_harness__fail(c->name, "immediate", op->imm.value.u,
						  (uint64_t)w->value);
		break;
	case ZYDIS_OPERAND_TYPE_POINTER:
		if (op->ptr.segment != w->seg || op->ptr.offset != w->value)
			fails += fs_harness__fail(c->name, "far pointer",
				((uint64_t)op->ptr.segment << 32) | op->ptr.offset,
				((uint64_t)w->seg << 32) | (uint64_t)w->value);
		break;
	default:
		break;
	}
	return fails;
}

/* Decodes one case; on success also re-encodes the decoded instruction and
 * decodes the result, which must give the same mnemonic and length. */
static int check_case(const ZydisDecoder *dec, const struct decode_case *c)
{
	ZydisDecodedInstruction insn, again;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT], ops2[ZYDIS_MAX_OPERAND_COUNT];
	ZydisEncoderRequest req;
	uint8_t enc[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize enc_len = sizeof(enc);
	ZyanStatus st;
	int fails = 0;

	memset(&insn, 0xcc, sizeof(insn));
	st = ZydisDecoderDecodeFull(dec, c->bytes, c->avail, &insn, ops);
	if (st != c->status)
		return fs_harness__fail(c->name, "status", st, c->status);
	if (!ZYAN_SUCCESS(st))
		return 0;
	if (insn.mnemonic != c->mnemonic)
		fails += fs_harness__fail(c->name, "mnemonic", insn.mnemonic, c->mnemonic);
	if (insn.length != c->length)
		fails += fs_harness__fail(c->name, "length", insn.length, c->length);
	if (insn.operand_count_visible != c->visible)
		return fails + fs_harness__fail(c->name, "visible operands",
						insn.operand_count_visible, c->visible);
	if (c->addr_width && insn.address_width != c->addr_width)
		fails += fs_harness__fail(c->name, "address width", insn.address_width,
					  c->addr_width);
	if ((insn.attributes & c->attrs) != c->attrs)
		fails += fs_harness__fail(c->name, "attributes", insn.attributes, c->attrs);
	for (int i = 0; i < 3 && c->op[i].type != ZYDIS_OPERAND_TYPE_UNUSED; i++)
		fails += i < insn.operand_count ? check_op(c, i, &ops[i]) :
			 fs_harness__fail(c->name, "operand count", insn.operand_count, i + 1);

	st = ZydisEncoderDecodedInstructionToEncoderRequest(&insn, ops,
			insn.operand_count_visible, &req);
	if (ZYAN_SUCCESS(st))
		st = ZydisEncoderEncodeInstruction(&req, enc, &enc_len);
	if (!ZYAN_SUCCESS(st))
		return fails + fs_harness__fail(c->name, "re-encode status", st, 0);
	st = ZydisDecoderDecodeFull(dec, enc, enc_len, &again, ops2);
	if (!ZYAN_SUCCESS(st) || again.mnemonic != insn.mnemonic ||
	    again.operand_count_visible != insn.operand_count_visible)
		fails += fs_harness__fail(c->name, "re-encoded mnemonic", again.mnemonic,
					  insn.mnemonic);
	return fails;
}

/* Encodes mov eax, imm32 from scratch: SDM Vol. 2B MOV, B8+rd id. */
static int check_encoder(void)
{
	static const uint8_t want[] = { 0xb8, 0x78, 0x56, 0x34, 0x12 };
	ZydisEncoderRequest req;
	uint8_t out[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(out);
	ZyanStatus st;

	memset(&req, 0, sizeof(req));
	req.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_32;
	req.mnemonic = ZYDIS_MNEMONIC_MOV;
	req.operand_count = 2;
	req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
	req.operands[0].reg.value = ZYDIS_REGISTER_EAX;
	req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	req.operands[1].imm.u = 0x12345678;
	st = ZydisEncoderEncodeInstruction(&req, out, &len);
	if (!ZYAN_SUCCESS(st))
		return fs_harness__fail("encode mov eax, imm32", "status", st, 0);
	if (len != sizeof(want))
		return fs_harness__fail("encode mov eax, imm32", "length", len, sizeof(want));
	for (size_t i = 0; i < len; i++)
		if (out[i] != want[i])
			return fs_harness__fail("encode mov eax, imm32", "byte", out[i], want[i]);
	return 0;
}

/* Formats an instruction in Intel syntax into a caller buffer. */
static int check_formatter(const ZydisDecoder *dec)
{
	static const uint8_t code[] = { 0x6b, 0x44, 0x73, 0xfc, 0x64 };
	static const char want[] = "imul eax, [ebx+esi*2-0x04], 0x64";
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;
	char text[64];

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, code, sizeof(code), &insn, ops)) ||
	    !ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
	    !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &insn, ops,
				insn.operand_count_visible, text, sizeof(text),
				0x1000, NULL)))
		return fs_harness__fail("format imul", "status", 1, 0);
	if (memcmp(text, want, sizeof(want)) != 0) {
		fs_harness__puts("formatted: ");
		fs_harness__puts(text);
		fs_harness__puts("\n");
		return fs_harness__fail("format imul", "text", 0, 1);
	}
	return 0;
}

int fs_test__zydis(void)
{
	ZydisDecoder dec;
	int fails = 0;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32,
					   ZYDIS_STACK_WIDTH_32)))
		return fs_harness__fail("ZydisDecoderInit", "status", 1, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fails += check_case(&dec, &cases[i]);
	fails += check_encoder();
	fails += check_formatter(&dec);
	return fails;
}
