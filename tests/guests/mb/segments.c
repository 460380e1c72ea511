/* tests/guests/mb/segments.c — segment register loads and their descriptor
 * checks (type, DPL/RPL/CPL, present, table limit), the accessed bit, bases,
 * LSL/LAR/VERR/VERW, and limit checks incl. expand-down (skipped with a note
 * where QEMU TCG, which ignores limits, raises nothing).
 * SDM Vol. 3A 3.4-3.5 (descriptors), 5.3-5.7 (limit, type, privilege checks). */
#include "rt.h"

const char rt_test_name[] = "segments";

#define D_IDX	(GDT_FREE)	/* scratch descriptors */
#define D2_IDX	(GDT_FREE + 1)
#define D_SEL	SEL(D_IDX, 0)
#define D2_SEL	SEL(D2_IDX, 0)

uint32_t t_ds(uint32_t), t_fs(uint32_t), t_ss(uint32_t), t_movcs(uint32_t);
uint32_t t_fsread(uint32_t), t_popfs(uint32_t), t_lss(uint32_t);
extern char t_ds_i[], t_fs_i[], t_ss_i[], t_movcs_i[], t_fsread_i[];

ASM_FN(t_ds, "mov 4(%esp),%eax\n t_ds_i: mov %ax,%ds\n mov %ss,%ax\n mov %ax,%ds\n ret");
/* loads FS and returns what FS reads back as */
ASM_FN(t_fs, "mov 4(%esp),%eax\n t_fs_i: mov %ax,%fs\n mov %fs,%eax\n movzwl %ax,%eax\n ret");
ASM_FN(t_ss, "mov 4(%esp),%eax\n mov %ss,%ecx\n t_ss_i: mov %ax,%ss\n mov %cx,%ss\n ret");
/* MOV to CS does not exist: #UD */
ASM_FN(t_movcs, "t_movcs_i: .byte 0x8e, 0xc8\n ret");
/* a dword at FS:arg (FS loaded by the caller) */
ASM_FN(t_fsread, "mov 4(%esp),%ecx\n t_fsread_i: mov %fs:(%ecx),%eax\n ret");
ASM_FN(t_popfs, "push 4(%esp)\n pop %fs\n mov %fs,%eax\n movzwl %ax,%eax\n ret");
/* LSS: SS:ESP from memory in one instruction; returns the ESP it loaded */
ASM_FN(t_lss, "mov %esp,lss_ptr\n mov %ss,%eax\n mov %ax,lss_ptr+4\n"
	      "subl $16,lss_ptr\n lss lss_ptr,%esp\n mov %esp,%eax\n add $16,%esp\n ret\n"
	      ".data\n.p2align 2\nlss_ptr: .long 0\n .word 0,0\n.text");

static struct rt_fault f;
static uint16_t fs_load;
static uint32_t read_at_fs(uint32_t off) { return off; }

/* runs t_fsread with FS = fs_load, from a wrapper so the load is inside rt_try */
static uint32_t fs_then_read(uint32_t off)
{
	asm volatile("mov %0,%%fs" :: "r"((uint32_t)fs_load));
	return t_fsread(off);
}

static int lsl(uint16_t sel, uint32_t *lim)
{
	uint8_t z;
	uint32_t v = 0xdeadbeef;
	asm volatile("lsl %2,%0\n\tsetz %1" : "+r"(v), "=q"(z) : "r"((uint32_t)sel) : "cc");
	*lim = v;
	return z;
}

static int lar(uint16_t sel, uint32_t *ar)
{
	uint8_t z;
	uint32_t v = 0xdeadbeef;
	asm volatile("lar %2,%0\n\tsetz %1" : "+r"(v), "=q"(z) : "r"((uint32_t)sel) : "cc");
	*ar = v;
	return z;
}

static int verr(uint16_t sel)
{
	uint8_t z;
	asm volatile("verr %1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
	return z;
}

static int verw(uint16_t sel)
{
	uint8_t z;
	asm volatile("verw %1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
	return z;
}

/* at CPL 3: 1 if VERR says readable */
static uint32_t verr_u(uint32_t sel) { return verr((uint16_t)sel); }
static uint32_t lsl_u(uint32_t sel) { uint32_t l; return lsl((uint16_t)sel, &l); }

static void check_load_checks(void)
{
	int v;

	/* null selectors: fine in DS..GS, #GP(0) in SS */
	v = rt_try(0, t_fs, 0, &f);
	rt_expect_fault("null-fs-loads", v, &f, -1, 0, 0);
	rt_expect_eq("null-fs-value", f.ret, 0);
	v = rt_try(3, t_fs, 3, &f);
	rt_expect_fault("null-fs-loads-cpl3", v, &f, -1, 0, 0);
	v = rt_try(0, t_ss, 0, &f);
	rt_expect_fault("null-ss-gp", v, &f, 13, 0, (uint32_t)t_ss_i);
	v = rt_try(0, t_movcs, 0, &f);
	rt_expect_fault("mov-to-cs-ud", v, &f, 6, 0, (uint32_t)t_movcs_i);

	/* RPL above DPL at CPL 0 */
	v = rt_try(0, t_ds, SEL_KDATA | 1, &f);
	rt_expect_fault("rpl1-dpl0-data-gp", v, &f, 13, SEL_KDATA, (uint32_t)t_ds_i);
	/* CPL 3 loads a DPL 3 segment through an RPL 0 selector: allowed */
	v = rt_try(3, t_fs, SEL_UDATA & ~3, &f);
	rt_expect_fault("cpl3-rpl0-dpl3-data-ok", v, &f, -1, 0, 0);
	rt_expect_eq("cpl3-rpl0-selector-kept", f.ret, SEL_UDATA & ~3);
	/* SS needs RPL == CPL == DPL */
	v = rt_try(0, t_ss, SEL_UDATA, &f);
	rt_expect_fault("ss-dpl3-at-cpl0-gp", v, &f, 13, SEL_UDATA & ~3, (uint32_t)t_ss_i);
	v = rt_try(0, t_ss, SEL_KDATA | 3, &f);
	rt_expect_fault("ss-rpl3-at-cpl0-gp", v, &f, 13, SEL_KDATA, (uint32_t)t_ss_i);
	v = rt_try(3, t_ss, SEL_UDATA, &f);
	rt_expect_fault("ss-dpl3-at-cpl3-ok", v, &f, -1, 0, 0);

	/* types: execute-only code never, readable code yes, system never */
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE, FLG_G | FLG_DB);
	v = rt_try(0, t_fs, D_SEL, &f);
	rt_expect_fault("execute-only-code-into-fs-gp", v, &f, 13, D_SEL, (uint32_t)t_fs_i);
	v = rt_try(0, t_fs, SEL_KCODE, &f);
	rt_expect_fault("readable-code-into-fs-ok", v, &f, -1, 0, 0);
	v = rt_try(0, t_ss, SEL_KCODE, &f);
	rt_expect_fault("code-into-ss-gp", v, &f, 13, SEL_KCODE, (uint32_t)t_ss_i);
	v = rt_try(0, t_fs, SEL_TSS, &f);
	rt_expect_fault("tss-into-fs-gp", v, &f, 13, SEL_TSS, (uint32_t)t_fs_i);
	rt_gdt_gate(D_IDX, SEL_KCODE, 0, GATE_CALL32, 3, 0);
	v = rt_try(0, t_fs, D_SEL, &f);
	rt_expect_fault("callgate-into-fs-gp", v, &f, 13, D_SEL, (uint32_t)t_fs_i);
	/* readable conforming code: no privilege check on a data load */
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R | ACC_CODE_C,
		   FLG_G | FLG_DB);
	v = rt_try(3, t_fs, D_SEL, &f);
	rt_expect_fault("conforming-dpl0-into-fs-at-cpl3-ok", v, &f, -1, 0, 0);

	/* the privilege check comes before the present check */
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	v = rt_try(3, t_fs, D_SEL | 3, &f);
	rt_expect_fault("not-present-dpl0-at-cpl3-gp", v, &f, 13, D_SEL, (uint32_t)t_fs_i);
	v = rt_try(0, t_fs, D_SEL, &f);
	rt_expect_fault("not-present-fs-np", v, &f, 11, D_SEL, (uint32_t)t_fs_i);
	rt_gdt[D_IDX] = 0;
}

static void check_gdt_limit(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) g, save;

	asm volatile("sgdt %0" : "=m"(save));
	rt_expect_eq("sgdt-limit", save.limit, sizeof(rt_gdt) - 1);
	rt_expect_eq("sgdt-base", save.base, (uint32_t)rt_gdt);
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	g.base = save.base;
	g.limit = D_IDX * 8 + 7;	/* the last byte of D_IDX: D_IDX is in */
	asm volatile("lgdt %0" :: "m"(g));
	int v1 = rt_try(0, t_fs, D_SEL, &f);
	g.limit = D_IDX * 8 + 6;	/* one byte short: D_IDX is out */
	asm volatile("lgdt %0" :: "m"(g));
	struct rt_fault f2;
	int v2 = rt_try(0, t_fs, D_SEL, &f2);
	asm volatile("lgdt %0" :: "m"(save));
	rt_expect_fault("gdt-limit-last-entry-ok", v1, &f, -1, 0, 0);
	rt_expect_fault("gdt-limit-exceeded-gp", v2, &f2, 13, D_SEL, (uint32_t)t_fs_i);
	rt_gdt[D_IDX] = 0;
}

static void check_accessed_and_base(void)
{
	static volatile uint32_t target = 0x5eed1234;
	int v;

	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	v = rt_try(0, t_fs, D_SEL, &f);
	rt_expect_fault("accessed-load-ok", v, &f, -1, 0, 0);
	rt_check((rt_gdt[D_IDX] >> 40) & ACC_A, "accessed-bit-set-by-load",
		 "descriptor 0x%x%08x", (uint32_t)(rt_gdt[D_IDX] >> 32), (uint32_t)rt_gdt[D_IDX]);

	/* base + offset */
	rt_gdt_set(D_IDX, (uint32_t)&target - 0x100, 0xfffff, ACC_P | ACC_S | ACC_DATA_W,
		   FLG_G | FLG_DB);
	fs_load = D_SEL;
	v = rt_try(0, fs_then_read, 0x100, &f);
	rt_expect_fault("base-read-ok", v, &f, -1, 0, 0);
	rt_expect_eq("base-plus-offset", f.ret, target);
	/* base + offset wraps at 4 GiB */
	rt_gdt_set(D_IDX, 0xfffff000, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	v = rt_try(0, fs_then_read, (uint32_t)&target + 0x1000, &f);
	rt_expect_fault("base-wrap-read-ok", v, &f, -1, 0, 0);
	rt_expect_eq("base-plus-offset-wraps-32bit", f.ret, target);

	v = rt_try(0, t_popfs, SEL_UDATA, &f);
	rt_expect_eq("pop-fs", f.ret, SEL_UDATA);
	v = rt_try(0, t_lss, 0, &f);
	rt_expect_fault("lss-ok", v, &f, -1, 0, 0);
	rt_gdt[D_IDX] = 0;
	(void)read_at_fs;
}

/* Limit violations: #GP(0) for data segments (SDM Vol. 3A 5.3). QEMU TCG
 * ignores segment limits; when nothing is raised the check is skipped. */
static void limit_fault(const char *name, uint32_t off)
{
	int v = rt_try(0, fs_then_read, off, &f);
	if (v < 0)
		rt_skip(name, "no fault on a segment-limit violation (QEMU TCG ignores limits)");
	else
		rt_expect_fault(name, v, &f, 13, 0, (uint32_t)t_fsread_i);
}

static void check_limits(void)
{
	int v;
	uint32_t lim, ar;
	int ok;

	/* expand-up, byte granular, limit 0xfff */
	rt_gdt_set(D_IDX, 0, 0xfff, ACC_P | ACC_S | ACC_DATA_W, FLG_DB);
	fs_load = D_SEL;
	v = rt_try(0, fs_then_read, 0xffc, &f);
	rt_expect_fault("limit-last-dword-ok", v, &f, -1, 0, 0);
	limit_fault("limit-dword-crossing-limit", 0xffd);
	limit_fault("limit-past-limit", 0x1000);
	ok = lsl(D_SEL, &lim);
	rt_check(ok && lim == 0xfff, "lsl-byte-granular", "limit 0x%x", lim);

	/* expand-down, B=1: valid offsets are limit+1 .. 0xffffffff */
	rt_gdt_set(D_IDX, 0, 0xfff, ACC_P | ACC_S | ACC_DATA_W | ACC_DATA_ED, FLG_DB);
	v = rt_try(0, fs_then_read, 0x2000, &f);
	rt_expect_fault("expand-down-above-limit-ok", v, &f, -1, 0, 0);
	v = rt_try(0, fs_then_read, 0x1000, &f);
	rt_expect_fault("expand-down-limit-plus-1-ok", v, &f, -1, 0, 0);
	limit_fault("expand-down-at-limit", 0xfff);
	limit_fault("expand-down-below-limit", 0x10);
	/* LSL reports the raw limit; LAR shows the expand-down type */
	ok = lsl(D_SEL, &lim);
	rt_check(ok && lim == 0xfff, "lsl-expand-down-raw-limit", "limit 0x%x", lim);
	ok = lar(D_SEL, &ar);
	rt_check(ok && ar == 0x00409700, "lar-expand-down",
		 "ar 0x%x, want 0x409700", ar);

	/* page granular: limit*4096 + 0xfff */
	rt_gdt_set(D_IDX, 0, 0xabcde, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	ok = lsl(D_SEL, &lim);
	rt_check(ok && lim == 0xabcdefff, "lsl-page-granular", "limit 0x%x", lim);
	rt_gdt[D_IDX] = 0;
}

static void check_lar_ver(void)
{
	uint32_t lim, ar;
	int ok;
	struct rt_fault f2;

	ok = lar(SEL_KCODE, &ar);
	rt_check(ok && ar == 0x00c09b00, "lar-kernel-code",
		 "ar 0x%x, want 0xc09b00", ar);	/* LAR masks 0x00f0ff00 */
	ok = lsl(SEL_TSS, &lim);
	rt_check(ok && lim == sizeof(struct tss32) - 1, "lsl-tss",
		 "limit 0x%x", lim);
	ok = lar(SEL_TSS, &ar);
	rt_check(ok && ((ar >> 8) & 0xff) == 0x8b, "lar-tss-busy",
		 "ar 0x%x (loaded TR: busy 32-bit TSS, type 0xb)", ar);
	ok = lsl(0, &lim);
	rt_check(!ok && lim == 0xdeadbeef, "lsl-null-zf-clear", "limit 0x%x", lim);
	ok = lsl(0x1000, &lim);
	rt_check(!ok, "lsl-past-gdt-zf-clear", "limit 0x%x", lim);
	rt_gdt_gate(D_IDX, SEL_KCODE, 0, GATE_CALL32, 3, 0);
	ok = lsl(D_SEL, &lim);
	rt_check(!ok, "lsl-callgate-invalid", "limit 0x%x", lim);
	ok = lar(D_SEL, &ar);
	rt_check(ok && ((ar >> 8) & 0xff) == 0xec, "lar-callgate-valid",
		 "ar 0x%x", ar);

	rt_check(verr(SEL_KDATA) && verw(SEL_KDATA), "verr-verw-writable-data", "%s", "ZF clear");
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S, FLG_G | FLG_DB);		/* read-only */
	rt_check(verr(D_SEL) && !verw(D_SEL), "verw-readonly-data", "%s", "wrong ZF");
	rt_gdt_set(D_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE, FLG_G | FLG_DB);	/* exec-only */
	rt_check(!verr(D_SEL) && !verw(D_SEL), "verr-execute-only-code", "%s", "wrong ZF");
	rt_check(verr(SEL_KCODE) && !verw(SEL_KCODE), "verr-readable-code", "%s", "wrong ZF");
	/* from CPL 3 a DPL 0 segment is neither readable nor sized */
	rt_try(3, verr_u, SEL_KDATA, &f2);
	rt_expect_eq("verr-dpl0-from-cpl3", f2.ret, 0);
	rt_try(3, verr_u, SEL_UDATA, &f2);
	rt_expect_eq("verr-dpl3-from-cpl3", f2.ret, 1);
	rt_try(3, lsl_u, SEL_KDATA, &f2);
	rt_expect_eq("lsl-dpl0-from-cpl3", f2.ret, 0);
	rt_gdt[D_IDX] = 0;
}

static void check_null_use(void)
{
	/* a memory access through a null selector: #GP(0) (SDM Vol. 3A 3.4.2) */
	fs_load = 0;
	int v = rt_try(0, fs_then_read, (uint32_t)&f, &f);
	if (v < 0)
		rt_skip("null-fs-access-gp", "no #GP on an access through a null FS");
	else
		rt_expect_fault("null-fs-access-gp", v, &f, 13, 0, (uint32_t)t_fsread_i);
}

void test_main(void)
{
	check_load_checks();
	check_gdt_limit();
	check_accessed_and_base();
	check_limits();
	check_lar_ver();
	check_null_use();
}
