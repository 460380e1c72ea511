/* tests/guests/mb/strings.c — string instructions: REP MOVS/STOS/LODS/CMPS/
 * SCAS, the direction flag, overlapping copies (sequential semantics),
 * final ESI/EDI/ECX, 16-bit address size, segment overrides, REP with
 * ECX=0, and single-stepping through a REP (one trap per iteration).
 * SDM Vol. 2B (MOVS, REP/REPE/REPNE), Vol. 3A 17.3.1.4. */
#include "rt.h"

const char rt_test_name[] = "strings";

struct sregs { uint32_t esi, edi, ecx, eflags; };
struct sregs str_out;

/* runs "op" with ESI, EDI, ECX, EAX and DF from arguments, saves the results */
#define STR_FN(name, op)                                                      \
	uint32_t name(uint32_t esi, uint32_t edi, uint32_t ecx, uint32_t eax, int df); \
	ASM_FN(name, "push %esi\n push %edi\n mov 12(%esp),%esi\n mov 16(%esp),%edi\n" \
	       "mov 20(%esp),%ecx\n mov 24(%esp),%eax\n cmpl $0,28(%esp)\n je 1f\n std\n" \
	       "1: " op "\n pushf\n cld\n mov %esi,str_out\n mov %edi,str_out+4\n mov %ecx,str_out+8\n" \
	       "popl str_out+12\n pop %edi\n pop %esi\n ret")

STR_FN(s_rep_movsb, "rep movsb");
STR_FN(s_rep_movsd, "rep movsl");
STR_FN(s_rep_stosw, "rep stosw");
STR_FN(s_lodsb, "lodsb");
STR_FN(s_lodsd, "lodsl");
STR_FN(s_repe_cmpsb, "repe cmpsb");
STR_FN(s_repne_scasb, "repne scasb");
STR_FN(s_a16_rep_movsb, "addr16 rep movsb");
STR_FN(s_fs_rep_movsb, "rep movsb %fs:(%esi),%es:(%edi)");

uint32_t t_step_rep(uint32_t);
extern char t_step_rep_i[], t_step_rep_end[];
ASM_FN(t_step_rep, "push %esi\n push %edi\n mov $srcbuf,%esi\n mov $dstbuf,%edi\n mov $4,%ecx\n"
		   "pushf\n orl $0x100,(%esp)\n popf\n nop\n"
		   "t_step_rep_i: rep movsb\n t_step_rep_end: pushf\n andl $~0x100,(%esp)\n popf\n"
		   "pop %edi\n pop %esi\n ret");
uint32_t t_std_int3(uint32_t);
ASM_FN(t_std_int3, "std\n int3\n pushf\n pop %eax\n cld\n ret");

uint8_t srcbuf[256], dstbuf[256];
static struct rt_fault f;

static int fill(uint8_t *p, int n, int seed)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return n;
}

static void check_moves(void)
{
	uint32_t s = (uint32_t)srcbuf, d = (uint32_t)dstbuf;

	fill(srcbuf, 256, 1);
	rt_memset(dstbuf, 0, 256);
	s_rep_movsb(s, d, 100, 0, 0);
	rt_check(!rt_memcmp(srcbuf, dstbuf, 100) && dstbuf[100] == 0, "rep-movsb-copies",
		 "%s", "data differs");
	rt_expect_eq("rep-movsb-esi", str_out.esi, s + 100);
	rt_expect_eq("rep-movsb-edi", str_out.edi, d + 100);
	rt_expect_eq("rep-movsb-ecx", str_out.ecx, 0);

	/* DF=1: from the last dword down */
	rt_memset(dstbuf, 0, 256);
	s_rep_movsd(s + 36, d + 36, 10, 0, 1);
	rt_check(!rt_memcmp(srcbuf, dstbuf, 40) && dstbuf[40] == 0, "rep-movsd-backward-copies",
		 "%s", "data differs");
	rt_expect_eq("rep-movsd-backward-esi", str_out.esi, s - 4);
	rt_expect_eq("rep-movsd-backward-edi", str_out.edi, d - 4);
	rt_check(str_out.eflags & EFL_DF, "rep-movsd-df-kept", "eflags 0x%x", str_out.eflags);

	/* overlapping forward copy by one byte replicates the first byte */
	fill(srcbuf, 64, 0x41);
	s_rep_movsb(s, s + 1, 32, 0, 0);
	int ok = 1;
	for (int i = 0; i <= 32; i++)
		ok &= srcbuf[i] == 0x41;
	rt_check(ok && srcbuf[33] == (uint8_t)(0x41 + 33 * 7), "rep-movsb-overlap-forward",
		 "bytes %x %x %x", srcbuf[1], srcbuf[32], srcbuf[33]);
	/* and backward with DF=1 the last byte */
	fill(srcbuf, 64, 0x10);
	uint8_t last = srcbuf[40];
	s_rep_movsb(s + 40, s + 39, 8, 0, 1);
	ok = 1;
	for (int i = 32; i <= 40; i++)
		ok &= srcbuf[i] == last;
	rt_check(ok && srcbuf[31] == (uint8_t)(0x10 + 31 * 7), "rep-movsb-overlap-backward",
		 "bytes %x %x", srcbuf[32], srcbuf[31]);

	rt_memset(dstbuf, 0, 256);
	s_rep_stosw(0, d + 2, 5, 0xa1b2, 0);
	rt_check(dstbuf[2] == 0xb2 && dstbuf[3] == 0xa1 && dstbuf[11] == 0xa1 &&
		 dstbuf[12] == 0 && dstbuf[1] == 0, "rep-stosw", "%s", "pattern wrong");
	rt_expect_eq("rep-stosw-edi", str_out.edi, d + 12);

	/* ECX=0: nothing at all */
	rt_memset(dstbuf, 0, 256);
	s_rep_movsb(s, d, 0, 0, 0);
	rt_check(dstbuf[0] == 0 && str_out.esi == s && str_out.edi == d, "rep-ecx-zero-noop",
		 "esi 0x%x edi 0x%x", str_out.esi, str_out.edi);

	fill(srcbuf, 16, 0x30);
	rt_expect_eq("lodsb-al", s_lodsb(s + 3, 0, 0, 0xffffff00, 0), 0xffffff00 | srcbuf[3]);
	rt_expect_eq("lodsb-esi", str_out.esi, s + 4);
	rt_expect_eq("lodsd-df", s_lodsd(s + 4, 0, 0, 0, 1), *(uint32_t *)(srcbuf + 4));
	rt_expect_eq("lodsd-df-esi", str_out.esi, s);
}

static void check_compares(void)
{
	uint32_t s = (uint32_t)srcbuf, d = (uint32_t)dstbuf;

	fill(srcbuf, 32, 3);
	rt_memcpy(dstbuf, srcbuf, 32);
	dstbuf[5] = srcbuf[5] + 1;		/* first difference at 5: src < dst */
	s_repe_cmpsb(s, d, 20, 0, 0);
	rt_expect_eq("repe-cmpsb-ecx", str_out.ecx, 20 - 6);
	rt_expect_eq("repe-cmpsb-esi", str_out.esi, s + 6);
	rt_expect_eq("repe-cmpsb-edi", str_out.edi, d + 6);
	rt_expect_eq("repe-cmpsb-flags", str_out.eflags & 0x41, 0x01);	/* CF=1 ZF=0 */
	s_repe_cmpsb(s, s, 20, 0, 0);
	rt_expect_eq("repe-cmpsb-equal-runs-out", str_out.ecx, 0);
	rt_expect_eq("repe-cmpsb-equal-zf", str_out.eflags & 0x40, 0x40);

	rt_memset(dstbuf, 'a', 32);
	dstbuf[7] = 'x';
	s_repne_scasb(0, d, 20, 'x', 0);
	rt_expect_eq("repne-scasb-found-ecx", str_out.ecx, 20 - 8);
	rt_expect_eq("repne-scasb-found-edi", str_out.edi, d + 8);
	rt_expect_eq("repne-scasb-found-zf", str_out.eflags & 0x40, 0x40);
	s_repne_scasb(0, d, 5, 'x', 0);
	rt_expect_eq("repne-scasb-absent-ecx", str_out.ecx, 0);
	rt_expect_eq("repne-scasb-absent-zf", str_out.eflags & 0x40, 0);
}

static void check_address_size_and_segments(void)
{
	/* 0x67: SI, DI and CX only; the upper halves stay (SDM Vol. 2B REP) */
	uint8_t *lo_src = (uint8_t *)0x7000, *lo_dst = (uint8_t *)0x7800;
	fill(srcbuf, 16, 0x60);
	rt_memcpy(lo_src, srcbuf, 16);
	rt_memset(lo_dst, 0, 32);
	s_a16_rep_movsb(0xdead7000, 0xbeef7800, 0x55550010, 0, 0);
	rt_check(!rt_memcmp(lo_dst, srcbuf, 16) && lo_dst[16] == 0, "a16-rep-movsb-copies",
		 "%s", "data differs");
	rt_expect_eq("a16-rep-movsb-esi", str_out.esi, 0xdead7010);
	rt_expect_eq("a16-rep-movsb-edi", str_out.edi, 0xbeef7810);
	rt_expect_eq("a16-rep-movsb-ecx", str_out.ecx, 0x55550000);

	/* FS: overrides the source; the destination is always ES */
	rt_gdt_set(GDT_FREE, 0x100, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	asm volatile("mov %0,%%fs" :: "r"((uint32_t)SEL(GDT_FREE, 0)));
	fill(srcbuf, 16, 0x70);
	rt_memset(dstbuf, 0, 32);
	s_fs_rep_movsb((uint32_t)srcbuf - 0x100, (uint32_t)dstbuf, 16, 0, 0);
	asm volatile("mov %0,%%fs" :: "r"((uint32_t)SEL_KDATA));
	rt_check(!rt_memcmp(dstbuf, srcbuf, 16), "fs-override-source", "%s", "data differs");
	rt_gdt[GDT_FREE] = 0;
}

static uint32_t trap_eip[16];
static int ntrap;

static int on_db(struct rt_frame *fr)
{
	if (ntrap < 16)
		trap_eip[ntrap] = fr->eip;
	ntrap++;
	return 1;
}

static int on_bp(struct rt_frame *fr) { (void)fr; return 1; }

static void check_step_and_df(void)
{
	rt_set_handler(1, on_db);
	int v = rt_try(0, t_step_rep, 0, &f);
	rt_set_handler(1, 0);
	rt_expect_fault("step-rep-no-fault", v, &f, -1, 0, 0);
	/* trap 0 after the NOP; 1-3 inside the REP (EIP still at it); 4 after it;
	 * then after PUSHF, ANDL and POPF */
	rt_expect_eq("step-rep-trap-count", ntrap, 8);
	rt_expect_eq("step-rep-first-at-rep", trap_eip[0], (uint32_t)t_step_rep_i);
	rt_check(trap_eip[1] == (uint32_t)t_step_rep_i && trap_eip[2] == (uint32_t)t_step_rep_i &&
		 trap_eip[3] == (uint32_t)t_step_rep_i, "step-rep-per-iteration",
		 "eips 0x%x 0x%x 0x%x", trap_eip[1], trap_eip[2], trap_eip[3]);
	rt_expect_eq("step-rep-after-last", trap_eip[4], (uint32_t)t_step_rep_end);

	/* DF survives an interrupt (the handler runs with its own flags) */
	rt_set_handler(3, on_bp);
	v = rt_try(0, t_std_int3, 0, &f);
	rt_set_handler(3, 0);
	rt_check(v < 0 && (f.ret & EFL_DF), "df-kept-across-interrupt", "eflags 0x%x", f.ret);
}

void test_main(void)
{
	check_moves();
	check_compares();
	check_address_size_and_segments();
	check_step_and_df();
}
