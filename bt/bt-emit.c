/* bt/bt-emit.c — writing translated code into the TC: bytes, sites, direct
 * branches with their miss stubs, exits, and the indirect-branch lookup.
 * All code refers to the window by absolute guest-linear addresses
 * (bt->win_lin + offset); bytes are written through bt->win. The caller
 * (bt-xlate.c) guarantees BT_INSN_ROOM bytes and BT_INSN_SITES sites of
 * room before each guest instruction.
 */
#include "bt/bt-int.h"

void em_u8(struct bt_emit *e, uint8_t b)
{
	*bt_tc_host(e->bt, e->pos++) = b;
}

void em_u32(struct bt_emit *e, uint32_t v)
{
	uint8_t *p = bt_tc_host(e->bt, e->pos);

	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	e->pos += 4;
}

void em_bytes(struct bt_emit *e, const uint8_t *p, unsigned n)
{
	memcpy(bt_tc_host(e->bt, e->pos), p, n);
	e->pos += n;
}

void em_site(struct bt_emit *e, uint32_t eip, unsigned kind, unsigned fix)
{
	struct bt *bt = e->bt;
	unsigned fl = 0;

	if (e->shadow_next) {
		fl = BT_SF_SHADOW;
		e->shadow_next = false;
	}
	bt->sites[bt->nsites].eip = eip;
	bt->sites[bt->nsites].w = e->pos | kind << 24 | fix << 26 | fl << 29;
	bt->nsites++;
}

/* Two-byte helpers for the fixed sequences below. */
static void em_op_abs(struct bt_emit *e, uint8_t op, uint8_t modrm,
		      uint32_t abs)
{
	em_u8(e, op);
	em_u8(e, modrm);
	em_u32(e, abs);
}

void em_branch(struct bt_emit *e, const uint8_t *op, unsigned nop,
	       uint32_t target)
{
	struct bt *bt = e->bt;
	int32_t n = target == e->self_eip ? (int32_t)bt->nblocks
					  : bt_find_block(bt, target);

	em_bytes(e, op, nop);
	/* Patched by em_stubs once the stub's place is known, unless the
	 * target is there already. */
	e->stubs[e->nstubs].patch = e->pos;
	e->stubs[e->nstubs].target = target;
	e->stubs[e->nstubs].tgt = n >= 0 ? (uint32_t)n + 1 : 0;
	e->nstubs++;
	if (n >= 0) {
		uint32_t t = n == (int32_t)bt->nblocks ? e->self_tc
						       : bt->blocks[n].tc;

		em_u32(e, bt_tc_lin(bt, t) - bt_tc_lin(bt, e->pos + 4));
		return;
	}
	em_u32(e, 0);
}

/* Every branch gets a miss stub: UD2 (site MISS, eip = target) followed by
 * its link number (never executed). A branch linked at once is on its
 * target's list of incoming jumps; the others jump to their stub, and
 * bt__chain links them. The block being emitted is block bt->nblocks. */
void em_stubs(struct bt_emit *e)
{
	struct bt *bt = e->bt;

	for (unsigned k = 0; k < e->nstubs; k++) {
		uint32_t p = e->stubs[k].patch, l = bt->nlinks++, rel;
		struct bt_link *lk = &bt->links[l];

		lk->patch = p;
		lk->stub = e->pos;
		lk->src = bt->nblocks;
		lk->tgt = 0;
		lk->next = 0;
		if (e->stubs[k].tgt) {
			bt_link_into(bt, l, e->stubs[k].tgt - 1);
		} else {
			uint8_t *h = bt_tc_host(bt, p);

			rel = bt_tc_lin(bt, e->pos) - bt_tc_lin(bt, p + 4);
			h[0] = (uint8_t)rel;
			h[1] = (uint8_t)(rel >> 8);
			h[2] = (uint8_t)(rel >> 16);
			h[3] = (uint8_t)(rel >> 24);
		}
		em_site(e, e->stubs[k].target, BT_SITE_MISS, 0);
		em_u8(e, 0x0f);
		em_u8(e, 0x0b);
		em_u32(e, l);
	}
	e->nstubs = 0;
}

void em_exit(struct bt_emit *e, uint32_t eip, unsigned kind, unsigned fix)
{
	em_site(e, eip, kind, fix);
	em_u8(e, 0x0f);		/* ud2 */
	em_u8(e, 0x0b);
	e->bt->st.exit_sites++;
}

/* cmp ecx, [@hash + eax*8]: the guest target against hent.eip of slot EAX */
static void em_cmp_slot(struct bt_emit *e, uint32_t hash)
{
	em_u8(e, 0x3b);
	em_u8(e, 0x0c);
	em_u8(e, 0xc5);
	em_u32(e, hash);
}

/* Entry: ECX = guest target (= wdata.target), guest ECX in wdata.s_ecx.
 *	mov [s_eax], eax
 *	lahf
 *	seto al
 *	mov [s_fl], eax
 *	imul eax, ecx, 0x9e3779b1	; bt_hash_slot
 *	shr eax, 19
 *	cmp ecx, [HASH + eax*8]		; hent.eip, slot k
 *	jne probe2
 * hit:	mov eax, [HASH + eax*8 + 4]	; hent.tc
 *	mov [jmp_tc], eax
 *	mov eax, [s_fl]
 *	add al, 0x7f			; OF := AL (1 + 0x7f overflows)
 *	sahf				; SF ZF AF PF CF := AH
 *	mov eax, [s_eax]
 *	mov ecx, [s_ecx]
 *	jmp [jmp_tc]
 * probe2: xor eax, 1			; the other slot of the set, k ^ 1
 *	cmp ecx, [HASH + eax*8]
 *	je hit
 * miss: ud2				; EXIT_DYN, fix EAX|ECX|FLAGS
 * None of it touches guest memory: no site but the miss. A hit in slot k
 * runs straight through (no taken branch before the jmp). 83 bytes. */
void em_ind_tail(struct bt_emit *e)
{
	struct bt *bt = e->bt;
	uint32_t hash = bt->win_lin + BT_HASH_OFF;
	uint32_t jne_at, hit, probe2;

	em_u8(e, 0xa3);
	em_u32(e, WD(bt, s_eax));
	em_u8(e, 0x9f);
	em_u8(e, 0x0f);
	em_u8(e, 0x90);
	em_u8(e, 0xc0);
	em_u8(e, 0xa3);
	em_u32(e, WD(bt, s_fl));
	em_u8(e, 0x69);					/* imul eax, ecx, imm32 */
	em_u8(e, 0xc1);
	em_u32(e, 0x9e3779b1u);
	em_u8(e, 0xc1);					/* shr eax, 19 */
	em_u8(e, 0xe8);
	em_u8(e, 19);
	em_cmp_slot(e, hash);
	em_u8(e, 0x75);					/* jne probe2 (below) */
	jne_at = e->pos;
	em_u8(e, 0);
	hit = e->pos;
	em_u8(e, 0x8b);					/* mov eax, [hash + 4 + eax*8] */
	em_u8(e, 0x04);
	em_u8(e, 0xc5);
	em_u32(e, hash + 4);
	em_u8(e, 0xa3);
	em_u32(e, WD(bt, jmp_tc));
	em_u8(e, 0xa1);
	em_u32(e, WD(bt, s_fl));
	em_u8(e, 0x04);					/* add al, 0x7f */
	em_u8(e, 0x7f);
	em_u8(e, 0x9e);					/* sahf */
	em_u8(e, 0xa1);
	em_u32(e, WD(bt, s_eax));
	em_op_abs(e, 0x8b, 0x0d, WD(bt, s_ecx));
	em_op_abs(e, 0xff, 0x25, WD(bt, jmp_tc));
	probe2 = e->pos;
	*bt_tc_host(bt, jne_at) = (uint8_t)(probe2 - hit);	/* 37 */
	em_u8(e, 0x83);					/* xor eax, 1 */
	em_u8(e, 0xf0);
	em_u8(e, 0x01);
	em_cmp_slot(e, hash);
	em_u8(e, 0x74);					/* je hit: -49 */
	em_u8(e, (uint8_t)(hit - (e->pos + 1)));
	em_exit(e, 0, BT_SITE_EXIT_DYN,
		BT_FIX_EAX | BT_FIX_ECX | BT_FIX_FLAGS);
}

void em_load_rm_ecx(struct bt_emit *e, const ZydisDecodedInstruction *i,
		    const uint8_t *raw)
{
	unsigned mo = i->raw.modrm.offset;

	/* Prefixes before the FF opcode: segment overrides and 0x67 matter;
	 * F2/F3 (BND, ignored on near branches) would change nothing on a
	 * MOV but are dropped anyway; 0x66 never gets here (exit). */
	for (unsigned k = 0; k + 1 < mo; k++)
		if (raw[k] != 0xf2 && raw[k] != 0xf3)
			em_u8(e, raw[k]);
	em_u8(e, 0x8b);
	em_u8(e, (uint8_t)((raw[mo] & 0xc7) | (1u << 3)));
	em_bytes(e, raw + mo + 1, i->length - mo - 1u);
}
