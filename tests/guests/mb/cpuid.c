/* tests/guests/mb/cpuid.c — CPUID is consistent (stable answers, sane
 * leaves, the out-of-range rule) and every feature it claims works: x87,
 * TSC, MSR, PSE, PAE, CX8, SEP, PGE, CMOV, MMX, FXSR, SSE, SSE2 (with
 * CR4.OSFXSR, and #UD without it). RDTSC is monotonic and honours CR4.TSD.
 * SDM Vol. 2A CPUID, Vol. 3A 13.1 (OSFXSR), 17.17 (TSC). */
#include "rt.h"

const char rt_test_name[] = "cpuid";

uint32_t t_x87(uint32_t), t_cmov(uint32_t), t_cx8(uint32_t), t_mmx(uint32_t);
uint32_t t_fxsave(uint32_t), t_sse(uint32_t), t_sse2(uint32_t), t_rdtsc(uint32_t);
extern char t_sse_i[], t_rdtsc_i[];

/* 1.0 + 1.0 through the x87 stack, stored as an integer */
ASM_FN(t_x87, "fninit\n fld1\n fld1\n faddp\n sub $4,%esp\n fistpl (%esp)\n pop %eax\n ret");
ASM_FN(t_cmov, "mov $1,%eax\n mov $5,%ecx\n xor %edx,%edx\n cmp $0,%edx\n cmovz %ecx,%eax\n"
	       "cmovnz %edx,%eax\n ret");
/* CMPXCHG8B: equal -> store ECX:EBX, ZF=1 */
ASM_FN(t_cx8, "push %ebx\n push %esi\n mov $cx8buf,%esi\n mov $0x11111111,%eax\n"
	      "mov $0x22222222,%edx\n mov $0x33333333,%ebx\n mov $0x44444444,%ecx\n"
	      "cmpxchg8b (%esi)\n setz %al\n movzbl %al,%eax\n pop %esi\n pop %ebx\n ret\n"
	      ".data\n.p2align 3\n.globl cx8buf\ncx8buf: .long 0x11111111,0x22222222\n.text");
ASM_FN(t_mmx, "mov $0x01020304,%eax\n movd %eax,%mm0\n paddb %mm0,%mm0\n movd %mm0,%eax\n"
	      "emms\n ret");
ASM_FN(t_fxsave, "mov 4(%esp),%ecx\n fxsave (%ecx)\n mov $1,%eax\n ret");
ASM_FN(t_sse, "mov $0x3f800000,%eax\n t_sse_i: movd %eax,%xmm1\n addss %xmm1,%xmm1\n"
	      "movd %xmm1,%eax\n ret");
ASM_FN(t_sse2, "mov $0x7f,%eax\n movd %eax,%xmm0\n paddq %xmm0,%xmm0\n movd %xmm0,%eax\n ret");
ASM_FN(t_rdtsc, "t_rdtsc_i: rdtsc\n ret");

extern uint32_t cx8buf[2];
static struct rt_fault f;
static uint8_t fxarea[512] __attribute__((aligned(16)));

static int printable(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static void check_leaves(uint32_t *max, uint32_t *f1edx)
{
	uint32_t r[4], q[4];
	char vendor[13];

	uint32_t fl = read_eflags();
	write_eflags(fl ^ EFL_ID);
	rt_check((read_eflags() ^ fl) & EFL_ID, "eflags-id-toggles", "%s", "ID stuck");
	write_eflags(fl);

	cpuid(0, 0, r);
	*max = r[0];
	rt_check(r[0] >= 1 && r[0] < 0x100, "leaf0-max", "max basic leaf 0x%x", r[0]);
	rt_memcpy(vendor, &r[1], 4);
	rt_memcpy(vendor + 4, &r[3], 4);
	rt_memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	rt_check(printable(vendor, 12), "leaf0-vendor-printable", "%s", "vendor has junk");
	rt_printf("NOTE vendor %s, max leaf 0x%x\n", vendor, r[0]);

	cpuid(1, 0, r);
	cpuid(1, 0, q);
	rt_check(!rt_memcmp(r, q, sizeof(r)), "leaf1-stable", "%s", "two answers differ");
	uint32_t fam = (r[0] >> 8) & 0xf;
	rt_check(fam >= 6, "leaf1-family-p6-or-later", "family %u", fam);
	*f1edx = r[3];
	rt_printf("NOTE leaf 1: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x\n", r[0], r[1], r[2], r[3]);

	/* above the maximum basic leaf: the highest basic leaf's data (Intel) */
	cpuid(*max, 0, q);
	cpuid(*max + 1, 0, r);
	if (rt_memcmp(r, q, sizeof(r)) && !(r[0] | r[1] | r[2] | r[3]))
		rt_skip("leaf-above-max", "returns zeros (AMD behaviour), Intel returns leaf max");
	else
		rt_check(!rt_memcmp(r, q, sizeof(r)), "leaf-above-max",
			 "eax 0x%x, leaf max eax 0x%x", r[0], q[0]);

	/* no extended leaves at all (e.g. a Pentium II) answers like leaf max */
	cpuid(0x80000000, 0, r);
	rt_check(r[0] < 0x80000000 ? r[0] == q[0] : r[0] < 0x80000100, "ext-leaf-max",
		 "max extended leaf 0x%x", r[0]);
	if (r[0] >= 0x80000004) {
		char brand[49];
		for (int i = 0; i < 3; i++)
			cpuid(0x80000002 + i, 0, (uint32_t *)(brand + 16 * i));
		brand[48] = 0;
		int n = 0;
		while (n < 48 && brand[n])
			n++;
		rt_check(n > 0 && printable(brand, n), "brand-string-printable", "%s", "junk");
	}
}

#define ANY	0xffffffffu	/* feature(): any result, only no fault */
#define HAS(bit)	((edx >> (bit)) & 1)

static void feature(const char *name, int has, uint32_t (*fn)(uint32_t), uint32_t arg,
		    uint32_t want)
{
	if (!has) {
		rt_skip(name, "feature not reported");
		return;
	}
	int v = rt_try(0, fn, arg, &f);
	if (v >= 0)
		rt_check(0, name, "claimed, but vector %d at 0x%x", v, f.eip);
	else if (want == ANY)
		rt_check(1, name, "%s", "");
	else
		rt_expect_eq(name, f.ret, want);
}

static uint32_t try_cr4(uint32_t bit)
{
	uint32_t cr4 = read_cr4();
	write_cr4(cr4 | bit);
	uint32_t got = read_cr4() & bit;
	write_cr4(cr4);
	return got;
}

static uint32_t try_msr(uint32_t msr)
{
	return (uint32_t)rdmsr(msr) | 1;	/* it did not fault */
}

static void check_features(uint32_t edx)
{
	feature("fpu-x87-works", HAS(0), t_x87, 0, 2);
	feature("pse-cr4-settable", HAS(3), try_cr4, 1u << 4, 1u << 4);
	feature("tsc-rdtsc-works", HAS(4), t_rdtsc, 0, ANY);
	feature("msr-rdmsr-works", HAS(5), try_msr, 0x10, ANY);
	feature("pae-cr4-settable", HAS(6), try_cr4, 1u << 5, 1u << 5);
	feature("cx8-cmpxchg8b", HAS(8), t_cx8, 0, 1);
	if (HAS(8))
		rt_check(cx8buf[0] == 0x33333333 && cx8buf[1] == 0x44444444, "cx8-stored",
			 "0x%x 0x%x", cx8buf[0], cx8buf[1]);
	feature("sep-sysenter-msr", HAS(11), try_msr, 0x174, ANY);
	feature("pge-cr4-settable", HAS(13), try_cr4, 1u << 7, 1u << 7);
	feature("cmov-works", HAS(15), t_cmov, 0, 5);
	feature("mmx-works", HAS(23), t_mmx, 0, 0x02040608);
	if (HAS(24))
		write_cr4(read_cr4() | (1u << 9));	/* OSFXSR */
	feature("fxsr-fxsave", HAS(24), t_fxsave, (uint32_t)fxarea, 1);
	feature("sse-works", HAS(25), t_sse, 0, 0x40000000);
	feature("sse2-works", HAS(26), t_sse2, 0, 0xfe);
	if (HAS(25)) {
		/* SSE with CR4.OSFXSR clear: #UD */
		write_cr4(read_cr4() & ~(1u << 9));
		int v = rt_try(0, t_sse, 0, &f);
		write_cr4(read_cr4() | (1u << 9));
		rt_expect_fault("sse-ud-without-osfxsr", v, &f, 6, 0, (uint32_t)t_sse_i);
	}
}

static void check_rdtsc(uint32_t edx)
{
	if (!HAS(4)) {
		rt_skip("rdtsc", "no TSC");
		return;
	}
	uint64_t prev = rdtsc(), first = prev;
	int mono = 1;
	for (int i = 0; i < 1000; i++) {
		uint64_t t = rdtsc();
		mono &= t >= prev;
		prev = t;
	}
	rt_check(mono, "rdtsc-monotonic", "%s", "went backwards");
	for (volatile int i = 0; i < 100000; i++)
		;
	rt_check(rdtsc() > first, "rdtsc-advances", "%s", "did not move");

	int v = rt_try(3, t_rdtsc, 0, &f);
	rt_expect_fault("rdtsc-cpl3-allowed", v, &f, -1, 0, 0);
	write_cr4(read_cr4() | (1u << 2));		/* TSD */
	v = rt_try(3, t_rdtsc, 0, &f);
	rt_expect_fault("rdtsc-cpl3-tsd-gp", v, &f, 13, 0, (uint32_t)t_rdtsc_i);
	v = rt_try(0, t_rdtsc, 0, &f);
	rt_expect_fault("rdtsc-cpl0-tsd-allowed", v, &f, -1, 0, 0);
	write_cr4(read_cr4() & ~(1u << 2));

	if (HAS(5)) {
		/* the TSC is MSR 0x10: a write moves RDTSC */
		uint64_t base = 0x0000123400000000ull;
		wrmsr(0x10, base);
		uint64_t t = rdtsc();
		if (t < base && (t >> 32) == 0)
			rt_skip("tsc-msr-write", "RDTSC ignores a write to IA32_TSC (QEMU TCG does)");
		else
			rt_check(t >= base && t - base < 0x100000000ull, "tsc-msr-write",
				 "rdtsc 0x%x%08x", (uint32_t)(t >> 32), (uint32_t)t);
	}
}

void test_main(void)
{
	uint32_t max, edx;
	check_leaves(&max, &edx);
	check_features(edx);
	check_rdtsc(edx);
}
