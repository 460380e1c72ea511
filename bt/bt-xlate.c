/* bt/bt-xlate.c — translating one block of guest code into the TC.
 *
 * A block starts at a guest EIP and ends after a control transfer or an
 * exit, after BT_BLOCK_INSNS instructions, at the end of its first page
 * (one instruction may straddle into the next), or when the TC is nearly
 * full; then a chainable jump to the next EIP ends it. The exact sequence
 * of each translated form, and why each faulting point is a correct site,
 * is in docs/bt.md; the comments here name the sites.
 */
#include "bt/bt-int.h"

/* A guest code page through the environment; -EFAULT unless it is RAM
 * the translator may record (gfn < ngfn). */
static int get_page(struct bt *bt, const struct bt_env *env, uint32_t lin,
		    const uint8_t **host, uint32_t *gfn)
{
	if (env->code_page(env->opaque, lin, host, gfn) || !*host ||
	    *gfn >= bt->ngfn)
		return -BT_EFAULT;
	return 0;
}

/* Patches the rel8 at TC offset @at (the byte after a short jump's opcode)
 * to reach the current position. */
static void patch_rel8(struct bt_emit *e, uint32_t at)
{
	*bt_tc_host(e->bt, at) = (uint8_t)(e->pos - (at + 1));
}

static void em_abs_op(struct bt_emit *e, uint8_t op, uint8_t modrm,
		      uint32_t abs)
{
	em_u8(e, op);
	em_u8(e, modrm);
	em_u32(e, abs);
}

/* mov [abs], ecx */
static void st_ecx(struct bt_emit *e, uint32_t abs)
{
	em_abs_op(e, 0x89, 0x0d, abs);
}

/* mov ecx, [abs] */
static void ld_ecx(struct bt_emit *e, uint32_t abs)
{
	em_abs_op(e, 0x8b, 0x0d, abs);
}

/* mov [abs], eax / mov eax, [abs] */
static void st_eax(struct bt_emit *e, uint32_t abs)
{
	em_u8(e, 0xa3);
	em_u32(e, abs);
}

static void ld_eax(struct bt_emit *e, uint32_t abs)
{
	em_u8(e, 0xa1);
	em_u32(e, abs);
}

static const uint8_t op_jmp[1] = { 0xe9 };

/* ret [imm16]: read the return address first (the one guest access). */
static void x_ret(struct bt_emit *e, uint32_t eip,
		  const ZydisDecodedInstruction *zi,
		  const ZydisDecodedOperand *ops)
{
	struct bt *bt = e->bt;
	uint32_t imm = 0;

	if (zi->operand_count_visible &&
	    ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		imm = (uint32_t)(ops[0].imm.value.u & 0xffff);
	em_site(e, eip, BT_SITE_INSN, 0);
	st_ecx(e, WD(bt, s_ecx));
	em_site(e, eip, BT_SITE_INSN, 0);	/* mov ecx, [esp]: may fault */
	em_u8(e, 0x8b);
	em_u8(e, 0x0c);
	em_u8(e, 0x24);
	em_u8(e, 0x8d);				/* lea esp, [esp + 4 + imm] */
	em_u8(e, 0xa4);
	em_u8(e, 0x24);
	em_u32(e, 4 + imm);
	st_ecx(e, WD(bt, target));
	em_ind_tail(e);
}

/* jmp r/m32 and call r/m32: the target is read before anything changes. */
static void x_ind(struct bt_emit *e, uint32_t eip, uint32_t next, bool call,
		  const ZydisDecodedInstruction *zi, const uint8_t *raw)
{
	struct bt *bt = e->bt;

	em_site(e, eip, BT_SITE_INSN, 0);
	st_ecx(e, WD(bt, s_ecx));
	em_site(e, eip, BT_SITE_INSN, 0);	/* mov ecx, r/m32: may fault */
	em_load_rm_ecx(e, zi, raw);
	st_ecx(e, WD(bt, target));
	if (call) {
		ld_ecx(e, WD(bt, s_ecx));
		em_site(e, eip, BT_SITE_INSN, 0);	/* push: may fault */
		em_u8(e, 0x68);
		em_u32(e, next);
		/* Now the guest state is the target's (EIP dynamic). */
		st_ecx(e, WD(bt, s_ecx));
		ld_ecx(e, WD(bt, target));
	}
	em_ind_tail(e);
}

/* sti: inline only when wdata.pend is 0 (no interrupt waits for IF). */
static void x_sti(struct bt_emit *e, uint32_t eip)
{
	struct bt *bt = e->bt;

	em_site(e, eip, BT_SITE_INSN, 0);
	st_ecx(e, WD(bt, s_ecx));
	ld_ecx(e, WD(bt, pend));
	em_u8(e, 0xe3);				/* jecxz over the ud2 */
	em_u8(e, 2);
	em_exit(e, eip, BT_SITE_EXIT, BT_FIX_ECX);
	ld_ecx(e, WD(bt, s_ecx));
	em_abs_op(e, 0xc7, 0x05, WD(bt, vif));	/* mov dword [vif], 256 */
	em_u32(e, 256);
	e->shadow_next = true;
}

/* pushf, then byte 1 of the image := iftab[vif + byte]: the guest's IF. */
static void x_pushf(struct bt_emit *e, uint32_t eip)
{
	struct bt *bt = e->bt;

	em_site(e, eip, BT_SITE_INSN, 0);	/* pushf: may fault */
	em_u8(e, 0x9c);
	st_eax(e, WD(bt, s_eax));
	ld_eax(e, WD(bt, vif));			/* 0 or 256: AL = 0 */
	em_u8(e, 0x8a);				/* mov al, [esp + 1] */
	em_u8(e, 0x44);
	em_u8(e, 0x24);
	em_u8(e, 0x01);
	em_abs_op(e, 0x8a, 0x80, WD(bt, iftab));	/* mov al, [iftab + eax] */
	em_u8(e, 0x88);				/* mov [esp + 1], al */
	em_u8(e, 0x44);
	em_u8(e, 0x24);
	em_u8(e, 0x01);
	ld_eax(e, WD(bt, s_eax));
}

/* popf: exit when the image sets TF or IOPL, or sets IF while an interrupt
 * is pending; else vif := image.IF and a real popf (at CPL 1, IOPL 0 it
 * leaves the real IF and IOPL alone: SDM Vol. 2 POPF). */
static void x_popf(struct bt_emit *e, uint32_t eip)
{
	struct bt *bt = e->bt;
	uint32_t j_tf, j_noif, j_pend, j_over;

	em_site(e, eip, BT_SITE_INSN, 0);
	st_ecx(e, WD(bt, s_ecx));
	em_site(e, eip, BT_SITE_INSN, 0);	/* mov ecx, [esp]: may fault */
	em_u8(e, 0x8b);
	em_u8(e, 0x0c);
	em_u8(e, 0x24);
	st_eax(e, WD(bt, s_eax));
	em_u8(e, 0x9f);				/* lahf */
	em_u8(e, 0x0f);				/* seto al */
	em_u8(e, 0x90);
	em_u8(e, 0xc0);
	st_eax(e, WD(bt, s_fl));
	em_u8(e, 0xf7);				/* test ecx, TF|IOPL */
	em_u8(e, 0xc1);
	em_u32(e, 0x3100);
	em_u8(e, 0x75);				/* jnz exit */
	j_tf = e->pos;
	em_u8(e, 0);
	em_u8(e, 0x81);				/* and ecx, IF */
	em_u8(e, 0xe1);
	em_u32(e, 0x200);
	em_u8(e, 0xd1);				/* shr ecx, 1: 0 or 256 */
	em_u8(e, 0xe9);
	em_u8(e, 0x74);				/* jz store */
	j_noif = e->pos;
	em_u8(e, 0);
	em_abs_op(e, 0x83, 0x3d, WD(bt, pend));	/* cmp dword [pend], 0 */
	em_u8(e, 0);
	em_u8(e, 0x75);				/* jne exit */
	j_pend = e->pos;
	em_u8(e, 0);
	patch_rel8(e, j_noif);
	st_ecx(e, WD(bt, vif));
	ld_eax(e, WD(bt, s_eax));
	ld_ecx(e, WD(bt, s_ecx));
	em_u8(e, 0x9d);				/* popf: cannot fault now */
	em_u8(e, 0xeb);				/* jmp over */
	j_over = e->pos;
	em_u8(e, 0);
	patch_rel8(e, j_tf);
	patch_rel8(e, j_pend);
	em_exit(e, eip, BT_SITE_EXIT, BT_FIX_EAX | BT_FIX_ECX | BT_FIX_FLAGS);
	patch_rel8(e, j_over);
}

/* Translates one guest instruction at @eip; true if it ends the block. */
static bool xlate_one(struct bt_emit *e, enum bt_xk k, uint32_t eip,
		      const ZydisDecodedInstruction *zi,
		      const ZydisDecodedOperand *ops, const uint8_t *raw)
{
	struct bt *bt = e->bt;
	uint32_t next = eip + zi->length, target = 0;
	uint8_t op[2];

	if (k == XK_JMP || k == XK_JCC || k == XK_LOOP || k == XK_CALL)
		target = next + (uint32_t)ops[0].imm.value.s;
	switch (k) {
	case XK_COPY:
		em_site(e, eip, BT_SITE_INSN, 0);
		em_bytes(e, raw, zi->length);
		return false;
	case XK_COPY_NOREP:
		em_site(e, eip, BT_SITE_INSN, 0);
		for (unsigned b = 0; b < zi->length; b++)
			if (b >= zi->raw.prefix_count || raw[b] != 0xf3)
				em_u8(e, raw[b]);
		return false;
	case XK_EXIT:
		em_exit(e, eip, BT_SITE_EXIT, 0);
		return true;
	case XK_JMP:
		em_site(e, eip, BT_SITE_INSN, 0);
		em_branch(e, op_jmp, 1, target);
		return true;
	case XK_JCC:
		op[0] = 0x0f;
		op[1] = (uint8_t)(0x80 | (zi->opcode & 0xf));
		em_site(e, eip, BT_SITE_INSN, 0);
		em_branch(e, op, 2, target);
		em_site(e, next, BT_SITE_INSN, 0);
		em_branch(e, op_jmp, 1, next);
		return true;
	case XK_LOOP:
		/* loop* / jecxz taken -> over the fall-through jmp. */
		em_site(e, eip, BT_SITE_INSN, 0);
		em_u8(e, (uint8_t)zi->opcode);
		em_u8(e, 5);
		em_site(e, next, BT_SITE_INSN, 0);
		em_branch(e, op_jmp, 1, next);
		em_site(e, target, BT_SITE_INSN, 0);
		em_branch(e, op_jmp, 1, target);
		return true;
	case XK_CALL:
		em_site(e, eip, BT_SITE_INSN, 0);	/* push: may fault */
		em_u8(e, 0x68);
		em_u32(e, next);
		em_site(e, target, BT_SITE_INSN, 0);
		em_branch(e, op_jmp, 1, target);
		return true;
	case XK_RET:
		x_ret(e, eip, zi, ops);
		return true;
	case XK_JMP_IND:
	case XK_CALL_IND:
		x_ind(e, eip, next, k == XK_CALL_IND, zi, raw);
		return true;
	case XK_CLI:
		em_site(e, eip, BT_SITE_INSN, 0);
		em_abs_op(e, 0xc7, 0x05, WD(bt, vif));	/* mov dword [vif], 0 */
		em_u32(e, 0);
		return false;
	case XK_STI:
		x_sti(e, eip);
		return false;
	case XK_PUSHF:
		x_pushf(e, eip);
		return false;
	case XK_PUSH_SEG:
		/* push dword [W.cs_sel / W.ss_sel]: the guest's selector, not
		 * the RPL-1 one the world runs with; the push is the only
		 * guest access (a site: it may fault on the stack) */
		em_site(e, eip, BT_SITE_INSN, 0);
		em_abs_op(e, 0xff, 0x35, zi->opcode == 0x0e ? WD(bt, cs_sel) : WD(bt, ss_sel));
		return false;
	case XK_MOV_SEG:
	case XK_MOV_CR2:
		/* [66] mov reg, [W.cs_sel / W.ss_sel / W.cr2]: the guest's
		 * value, not the world's (CS/SS at RPL 1; CR2 the host's). No
		 * guest access: the site only marks the boundary. */
		em_site(e, eip, BT_SITE_INSN, 0);
		if (zi->operand_width == 16)
			em_u8(e, 0x66);
		em_abs_op(e, 0x8b, (uint8_t)(0x05 | zi->raw.modrm.rm << 3),
			  k == XK_MOV_CR2 ? WD(bt, cr2) :
			  zi->raw.modrm.reg == 1 ? WD(bt, cs_sel) : WD(bt, ss_sel));
		return false;
	case XK_POPF:
		x_popf(e, eip);
		return false;
	}
	return true;
}

/* Room for one more guest instruction and the block's tail? */
static bool have_room(const struct bt_emit *e)
{
	return e->pos + BT_INSN_ROOM <= e->end &&
	       e->bt->nsites + BT_INSN_SITES + BT_MAX_STUBS <= BT_MAX_SITES;
}

int bt_translate(struct bt *bt, const struct bt_env *env, uint32_t eip,
		 uint32_t *n)
{
	struct bt_emit e = { .bt = bt, .pos = bt->tc_used, .end = bt->tc_limit };
	uint32_t page = eip & ~0xfffu, cur = eip, gfn0, gfn1 = 0;
	const uint8_t *h0, *h1 = NULL;
	bool tried1 = false, straddled = false, force = false;
	struct bt_block *b;
	unsigned ninsn = 0;

	if (bt->nblocks >= BT_MAX_BLOCKS || !have_room(&e) ||
	    bt->nlinks + BT_MAX_STUBS > BT_MAX_LINKS ||
	    bt->npages + BT_PM_N > BT_MAX_PAGES)
		return -BT_ENOSPC;
	if (get_page(bt, env, page, &h0, &gfn0))
		return -BT_EFAULT;
	b = &bt->blocks[bt->nblocks];
	b->eip = eip;
	b->tc = e.pos;
	b->site0 = bt->nsites;
	b->in = 0;
	b->dead = false;
	for (unsigned pm = 0; pm < BT_PM_N; pm++) {
		b->pg[pm] = BT_PG_NONE;
		b->pnext[pm] = 0;
	}
	e.self_eip = eip;
	e.self_tc = e.pos;
	for (;;) {
		const ZydisDecodedInstruction *zi = &bt->zi;
		const ZydisDecodedOperand *ops = bt->ops;
		uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
		uint32_t off = cur & 0xfff, avail = 4096 - off, len;
		enum bt_xk k;

		if (!force && (ninsn >= BT_BLOCK_INSNS ||
			       (cur & ~0xfffu) != page || !have_room(&e))) {
			em_site(&e, cur, BT_SITE_INSN, 0);
			em_branch(&e, op_jmp, 1, cur);
			break;
		}
		force = false;
		len = avail < sizeof(buf) ? avail : sizeof(buf);
		memcpy(buf, h0 + off, len);
		if (avail < sizeof(buf)) {
			if (!tried1) {
				tried1 = true;
				if (get_page(bt, env, page + 4096, &h1, &gfn1))
					h1 = NULL;
			}
			if (h1) {
				memcpy(buf + avail, h1, sizeof(buf) - avail);
				len = sizeof(buf);
			}
		}
		ninsn++;
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&bt->dec, buf, len,
							 &bt->zi, bt->ops))) {
			/* Undecodable, or it straddles into a page we
			 * cannot fetch: the interpreter raises the fault. */
			em_exit(&e, cur, BT_SITE_EXIT, 0);
			break;
		}
		if (zi->length > avail)
			straddled = true;
		k = bt_classify(zi, ops);
		if (k == XK_STI) {
			/* Inline only if the instruction in its shadow comes
			 * in this block (its site carries BT_SF_SHADOW). */
			uint32_t nx = cur + zi->length;

			if ((nx & ~0xfffu) != page || ninsn >= BT_BLOCK_INSNS ||
			    e.pos + 2 * BT_INSN_ROOM > e.end ||
			    bt->nsites + 2 * BT_INSN_SITES + BT_MAX_STUBS >
				    BT_MAX_SITES)
				k = XK_EXIT;
			else
				force = true;
		}
		if (xlate_one(&e, k, cur, zi, ops, buf))
			break;
		cur += zi->length;
	}
	em_stubs(&e);
	b->tc_end = e.pos;
	b->nsites = bt->nsites - b->site0;
	bt->tc_used = e.pos;
	*n = bt->nblocks++;
	/* The pages its bytes came from: what invalidation drops it for. */
	bt_page_add(bt, *n, BT_PM_GFN0, BT_PK_GFN << 20 | gfn0);
	bt_page_add(bt, *n, BT_PM_LIN0, BT_PK_LIN << 20 | page >> 12);
	if (straddled) {
		bt_page_add(bt, *n, BT_PM_GFN1, BT_PK_GFN << 20 | gfn1);
		bt_page_add(bt, *n, BT_PM_LIN1,
			    BT_PK_LIN << 20 | ((page >> 12) + 1) % (1u << 20));
	}
	bt->st.blocks++;
	bt->st.insns += ninsn;
	bt_publish_block(bt, *n);
	return 0;
}
