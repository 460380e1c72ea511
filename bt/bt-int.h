/* bt/bt-int.h — the translator's private state and the functions its files
 * share (bt-core.c: blocks, index, sites, chaining, invalidation; bt-class.c:
 * which instructions are copied, translated or exits; bt-emit.c: byte and
 * sequence emitters; bt-xlate.c: the block translator). docs/bt.md. */
#ifndef HVMM_BT_INT_H
#define HVMM_BT_INT_H

#include <Zydis/Zydis.h>

#include "bt/bt.h"
#include "monitor/fs-libc.h"

/* errno values (Linux numbering) without <errno.h> in the freestanding build. */
#define BT_EINVAL	22
#define BT_EFAULT	14
#define BT_ENOSPC	28
#define BT_ENOENT	2

#define BT_MAX_BLOCKS	32768u		/* blocks per TC fill */
#define BT_MAX_SITES	(1u << 19)	/* sites per TC fill */
#define BT_INDEX_SIZE	(2 * BT_MAX_BLOCKS)	/* open addressing, power of 2 */
#define BT_MAX_GFN	(1u << 20)	/* 4 GiB of guest frames */
#define BT_BLOCK_INSNS	48		/* guest instructions per block */
/* Room one guest instruction may need in the TC (the longest sequence,
 * the indirect call, is under 140 bytes) plus the block's tail (a jump and
 * up to three miss stubs). Checked before each instruction. */
#define BT_INSN_ROOM	256u
#define BT_INSN_SITES	8u		/* sites one instruction may add */
#define BT_MAX_STUBS	4u		/* miss stubs a block may end with */
/* Direct branches (each with its own stub) per TC fill: a block has at
 * most two (a jcc or loop and its fall-through). */
#define BT_MAX_LINKS	(2 * BT_MAX_BLOCKS)
/* Page records per TC fill (a block adds at most four: two frames, two
 * linear pages) and their open-addressing table. */
#define BT_MAX_PAGES	16384u
#define BT_PAGE_SLOTS	(2 * BT_MAX_PAGES)	/* power of 2 */
#define BT_PG_NONE	0xffffu		/* no page record (bt_block.pg) */

/* A block's page memberships, index into bt_block.pg/pnext: the frames of
 * its first and (if an instruction straddles) second page, then the two
 * linear pages. */
enum { BT_PM_GFN0, BT_PM_GFN1, BT_PM_LIN0, BT_PM_LIN1, BT_PM_N };

/* A translated block: guest code from eip to a block end, at TC offsets
 * [tc, tc_end); its sites are sites[site0 .. site0 + nsites). Blocks are
 * allocated sequentially: sorted by tc. A dead block (dropped by
 * invalidation) keeps its TC bytes and sites but is in no index, hash
 * entry or chained jump: nothing enters it again. */
struct bt_block {
	uint32_t eip;
	uint32_t tc, tc_end;
	uint32_t site0, nsites;
	uint32_t in;			/* chained jumps into it: link + 1, 0 = none */
	uint32_t pnext[BT_PM_N];	/* next membership node + 1 in the page's list */
	uint16_t pg[BT_PM_N];		/* page record slot, or BT_PG_NONE */
	bool dead;
};

/* A direct branch of the TC: its rel32 at TC offset patch jumps either to
 * its own miss stub (at TC offset stub) or, chained, to the start of block
 * tgt - 1; then it is on that block's list of incoming jumps (next). The
 * stub's UD2 is followed by the link number. */
struct bt_link {
	uint32_t patch, stub;
	uint32_t src;		/* block the branch is in */
	uint32_t tgt;		/* target block + 1, 0: not chained */
	uint32_t next;		/* next link + 1 into the same target */
};

/* A page code was translated from: key = (page number | kind << 20) + 1,
 * kind 0 a guest frame, 1 a linear page; 0 = empty slot. Its membership
 * nodes (block << 2 | BT_PM_*) form a list from head (node + 1); nodes of
 * dead blocks stay on the list until it is walked. nlive counts live
 * memberships: the page's bitmap bit is set iff nlive > 0. */
struct bt_page {
	uint32_t key;
	uint32_t head;
	uint32_t nlive;
};
#define BT_PK_GFN	0u
#define BT_PK_LIN	1u

/* A site, packed: w = TC offset (bits 0-23) | kind << 24 | fix << 26 |
 * flags << 29. */
struct bt_srec {
	uint32_t eip;
	uint32_t w;
};
#define SREC_OFF(w)	((w) & 0xffffffu)
#define SREC_KIND(w)	(((w) >> 24) & 3u)
#define SREC_FIX(w)	(((w) >> 26) & 7u)
#define SREC_FLAGS(w)	(((w) >> 29) & 1u)

struct bt {
	uint8_t *win;		/* the window, as the caller maps it */
	uint32_t win_lin;	/* the window's guest-linear base */
	uint32_t ngfn;
	uint32_t tc_limit;	/* bytes of the TC in use at most */
	uint32_t tc_used;
	uint32_t nblocks, nsites, nlinks, npages;
	bool any_code;		/* a bitmap bit is set (since the last reset) */
	ZydisDecoder dec;
	/* The instruction being translated (here, not on the stack: the
	 * monitor's kernel stack is small; bt is not reentrant anyway). */
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct bt_stats st;
	struct bt_block blocks[BT_MAX_BLOCKS];
	struct bt_srec sites[BT_MAX_SITES];
	struct bt_link links[BT_MAX_LINKS];
	struct bt_page pages[BT_PAGE_SLOTS];
	uint32_t index[BT_INDEX_SIZE];		/* live block number + 1; 0: empty */
	uint32_t gfnbits[BT_MAX_GFN / 32];	/* frames live code came from */
	uint32_t linbits[(1u << 20) / 32];	/* linear pages live code came from */
	/* Indirect-branch hash: bit s set = the newer entry of set s (slots
	 * 2s, 2s + 1) is the odd one (bt-core.c hash_put). */
	uint32_t hash_newer[BT_HASH_ENTRIES / 2 / 32];
};

/* Absolute guest-linear addresses of window parts, for emitted code. */
static inline uint32_t bt_wd(const struct bt *bt, uint32_t field_off)
{
	return bt->win_lin + BT_WDATA_OFF + field_off;
}
static inline uint32_t bt_tc_lin(const struct bt *bt, uint32_t off)
{
	return bt->win_lin + BT_TC_OFF + off;
}
static inline uint8_t *bt_tc_host(struct bt *bt, uint32_t off)
{
	return bt->win + BT_TC_OFF + off;
}
#define WD(bt, field)	bt_wd((bt), (uint32_t)offsetof(struct bt_wdata, field))

static inline void bt_setbit(uint32_t *map, uint32_t n)
{
	map[n >> 5] |= 1u << (n & 31);
}
static inline void bt_clrbit(uint32_t *map, uint32_t n)
{
	map[n >> 5] &= ~(1u << (n & 31));
}
static inline bool bt_testbit(const uint32_t *map, uint32_t n)
{
	return (map[n >> 5] >> (n & 31)) & 1u;
}

/* ---- bt-core.c ---- */
/* Number of the live block starting at guest @eip, or -1. */
int32_t bt_find_block(const struct bt *bt, uint32_t eip);
/* Publishes block number @n (index and indirect-branch hash). */
void bt_publish_block(struct bt *bt, uint32_t n);
/* Adds link @l (chained to block @n) to @n's incoming jumps. */
void bt_link_into(struct bt *bt, uint32_t l, uint32_t n);
/* Records membership @pm of block @n in the page @key (BT_PK_* << 20 |
 * page number); page records for it must have been reserved (the
 * translator checks bt->npages + BT_PM_N <= BT_MAX_PAGES first). */
void bt_page_add(struct bt *bt, uint32_t n, unsigned pm, uint32_t key);

/* ---- bt-class.c ---- */
enum bt_xk {
	XK_COPY,	/* verbatim */
	XK_COPY_NOREP,	/* verbatim without its F3 prefixes (REP BSF/BSR) */
	XK_EXIT,	/* the interpreter executes it */
	XK_JMP,		/* jmp rel8/rel32 */
	XK_JCC,		/* jcc rel8/rel32 */
	XK_LOOP,	/* loop/loope/loopne/jecxz rel8 */
	XK_CALL,	/* call rel32 */
	XK_RET,		/* ret, ret imm16 */
	XK_JMP_IND,	/* jmp r/m32 */
	XK_CALL_IND,	/* call r/m32 */
	XK_CLI,
	XK_STI,
	XK_PUSHF,
	XK_POPF,
	XK_PUSH_SEG,	/* push cs / push ss: the guest's selector from wdata */
	XK_MOV_SEG,	/* mov r16/r32, cs/ss: the same */
	XK_MOV_CR2,	/* mov r32, cr2: the guest's CR2 from wdata */
};
/* How guest instruction @i (decoded in 32-bit legacy mode) is translated. */
enum bt_xk bt_classify(const ZydisDecodedInstruction *i,
		       const ZydisDecodedOperand *ops);

/* ---- bt-emit.c ---- */
/* A block being emitted into the TC. */
struct bt_emit {
	struct bt *bt;
	uint32_t pos;		/* next TC offset */
	uint32_t end;		/* TC offset limit */
	bool shadow_next;	/* next site gets BT_SF_SHADOW */
	uint32_t self_eip;	/* the block being emitted: a branch to its */
	uint32_t self_tc;	/* start links to it directly */
	unsigned nstubs;
	/* rel32 to patch, guest target, target block + 1 if linked at once
	 * (0: to the stub) */
	struct { uint32_t patch, target, tgt; } stubs[BT_MAX_STUBS];
};
void em_u8(struct bt_emit *e, uint8_t b);
void em_u32(struct bt_emit *e, uint32_t v);
void em_bytes(struct bt_emit *e, const uint8_t *p, unsigned n);
/* Records a site at the current position. */
void em_site(struct bt_emit *e, uint32_t eip, unsigned kind, unsigned fix);
/* A jump (opcode bytes @op, @nop of them, then rel32) to guest @target:
 * to its block if translated, else to its miss stub (emitted at block end,
 * for every branch: bt__code_written unchains back to it). */
void em_branch(struct bt_emit *e, const uint8_t *op, unsigned nop,
	       uint32_t target);
/* Emits every branch's miss stub and link record (block end). */
void em_stubs(struct bt_emit *e);
/* UD2 exit site for guest @eip with fix-ups @fix. */
void em_exit(struct bt_emit *e, uint32_t eip, unsigned kind, unsigned fix);
/* The hash lookup tail of every indirect branch (docs/bt.md): ECX = the
 * guest target (also in wdata.target), the guest ECX in wdata.s_ecx, the
 * rest of the state the guest's at the target. */
void em_ind_tail(struct bt_emit *e);
/* mov ecx, r/m32 from the ModRM operand of the FF /2 or FF /4 at @raw. */
void em_load_rm_ecx(struct bt_emit *e, const ZydisDecodedInstruction *i,
		    const uint8_t *raw);

/* ---- bt-xlate.c ---- */
/* Translates the block at guest @eip into the TC (appended); *n its block
 * number. 0, -EFAULT or -ENOSPC (nothing kept). */
int bt_translate(struct bt *bt, const struct bt_env *env, uint32_t eip,
		 uint32_t *n);

#endif
