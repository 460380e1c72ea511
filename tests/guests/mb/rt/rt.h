/* tests/guests/mb/rt/rt.h — the tiny runtime shared by the multiboot test kernels.
 *
 * A test kernel defines test_main(); the runtime boots it (GDT, IDT, TSS, PIC
 * masked, interrupts off), runs it, then reports "SUMMARY name: P passed, F
 * failed" on COM1 and leaves through QEMU's isa-debug-exit port (0xf4): value 0
 * when every check passed (QEMU exits with status 1), 1 otherwise (status 3).
 *
 * Checks print "PASS name" or "FAIL name: detail" lines. Code that must fault
 * runs under rt_try(), at CPL 0 or CPL 3; the fault (vector, error code, CR2,
 * EIP, CS, EFLAGS) is captured and control returns to rt_try's caller.
 */
#ifndef HVMM_GUEST_RT_H
#define HVMM_GUEST_RT_H

#include <stdarg.h>
#include <stdint.h>

/* Fixed GDT layout (selectors). Indices from GDT_FREE on are for the tests. */
#define SEL_KCODE	0x08	/* 32-bit code, DPL 0, flat */
#define SEL_KDATA	0x10	/* 32-bit data, DPL 0, flat */
#define SEL_UCODE	0x1b	/* 32-bit code, DPL 3, flat (RPL 3) */
#define SEL_UDATA	0x23	/* 32-bit data, DPL 3, flat (RPL 3) */
#define SEL_TSS		0x28	/* the main task's TSS */
#define SEL_TSS2	0x30	/* a second TSS for task-switch tests */
#define SEL_CODE16	0x38	/* 16-bit code, DPL 0, base 0, limit 0xffff */
#define SEL_DATA16	0x40	/* 16-bit data, DPL 0, base 0, limit 0xffff */
#define GDT_FREE	9
#define GDT_ENTRIES	32
#define SEL(idx, rpl)	((uint16_t)(((idx) << 3) | (rpl)))

/* Descriptor access bytes (SDM Vol. 3A 3.4.5) */
#define ACC_P		0x80
#define ACC_DPL(d)	((d) << 5)
#define ACC_S		0x10	/* code/data (not system) */
#define ACC_CODE	0x08
#define ACC_DATA_W	0x02	/* data: writable */
#define ACC_DATA_ED	0x04	/* data: expand-down */
#define ACC_CODE_R	0x02	/* code: readable */
#define ACC_CODE_C	0x04	/* code: conforming */
#define ACC_A		0x01	/* accessed */
#define FLG_G		0x8	/* 4 KiB granularity */
#define FLG_DB		0x4	/* 32-bit default / big */

#define GATE_TASK	0x5
#define GATE_INT32	0xe
#define GATE_TRAP32	0xf
#define GATE_CALL32	0xc

#define EFL_CF	0x1
#define EFL_TF	0x100
#define EFL_IF	0x200
#define EFL_DF	0x400
#define EFL_OF	0x800
#define EFL_NT	0x4000
#define EFL_RF	0x10000
#define EFL_AC	0x40000
#define EFL_ID	0x200000

/* The vector rt_try's user trampoline uses to come back to CPL 0 (DPL 3 gate). */
#define RT_VEC_RETURN	0x81

struct tss32 {
	uint16_t link, _r0;
	uint32_t esp0; uint16_t ss0, _r1;
	uint32_t esp1; uint16_t ss1, _r2;
	uint32_t esp2; uint16_t ss2, _r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, _r4, cs, _r5, ss, _r6, ds, _r7, fs, _r8, gs, _r9, ldt, _r10;
	uint16_t trap, iomap;
} __attribute__((packed));

/* What an exception stub saved; esp/ss exist only when CS.RPL was 3. */
struct rt_frame {
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebp, esp_k, ebx, edx, ecx, eax;
	uint32_t vector, err;
	uint32_t eip, cs, eflags;
	uint32_t esp, ss;
};

struct rt_fault {
	uint32_t ret;		/* fn's return value when it did not fault */
	int vector;		/* -1: no fault */
	uint32_t err, cr2, eip, cs, eflags, esp, ss;
};

/* The runtime calls this once everything is set up. */
void test_main(void);

/* Serial output (COM1). */
void rt_putc(char c);
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports "PASS name" if ok, else "FAIL name: <fmt...>". Returns ok. */
int rt_check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports PASS if got == want, else FAIL with both values. */
int rt_expect_eq(const char *name, uint32_t got, uint32_t want);
/* Reports whether rt_try's result v / f is fault vec with error code err
 * (err < 0: any) at eip (eip 0: any). */
int rt_expect_fault(const char *name, int v, const struct rt_fault *f,
		    int vec, long err, uint32_t eip);
/* Reports a skipped check (counted as neither pass nor fail). */
void rt_skip(const char *name, const char *why);
/* Prints a SUMMARY line and leaves via the debug-exit port (never returns). */
void rt_finish(void) __attribute__((noreturn));

/* Runs fn(arg) at CPL ring (0 or 3, flat segments, user stack for 3).
 * Returns -1 and sets f->ret if fn returned, or the vector of the first
 * exception it raised (f filled) — control comes back here either way. */
int rt_try(int ring, uint32_t (*fn)(uint32_t), uint32_t arg, struct rt_fault *f);
/* EFLAGS bits rt_try(3, ...) sets for the user code (default 0: IF, TF,
 * DF and NT clear). EFL_IF lets an engine that runs only IF=1 user code
 * natively (the hybrid engine's stage 2) run it there. */
extern uint32_t rt_user_eflags;

/* Ends the innermost rt_try as if exception vec (error code err, at eip) had
 * been captured there; for code that cannot simply return, such as a
 * double-fault task. Runs at CPL 0. */
void rt_abort_try(int vec, uint32_t err, uint32_t eip) __attribute__((noreturn));

/* A per-vector hook run before rt_try's capture: return 1 when the frame was
 * handled (the stub irets with the possibly modified frame), 0 to go on. */
typedef int (*rt_handler_fn)(struct rt_frame *fr);
void rt_set_handler(int vec, rt_handler_fn fn);

/* Descriptor tables. */
extern uint64_t rt_gdt[GDT_ENTRIES];
extern uint64_t rt_idt[256];
extern struct tss32 rt_tss, rt_tss2;
/* The I/O permission bitmap right after rt_tss (offset 104), all ones, plus
 * the 0xff byte the CPU may read past it; the runtime's TSS limit (103)
 * leaves it out (SDM Vol. 3A 19.5.2). */
extern uint8_t rt_iobitmap[8192 + 1];
void rt_gdt_set(int idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* The 8259A pair remapped to vectors vec..vec+15 with only IRQ0 unmasked,
 * and PIT channel 0 in mode 2 (rate generator) dividing 1193182 Hz by
 * @divisor (1193: 1 kHz). */
void rt_pic_pit_init(uint8_t vec, uint16_t divisor);
void rt_gdt_gate(int idx, uint16_t sel, uint32_t off, int type, int dpl, int params);
void rt_gdt_tss(int idx, struct tss32 *t, uint32_t limit, int busy);
/* IDT entry vec: type GATE_INT32/GATE_TRAP32/GATE_TASK, present p. */
void rt_idt_set(int vec, uint16_t sel, uint32_t off, int type, int dpl, int p);
/* Puts back the runtime's own gate for vec. */
void rt_idt_default(int vec);
/* Address of the runtime's stub for vec. */
uint32_t rt_idt_stub(int vec);

/* Small helpers. */
void *rt_memset(void *d, int c, uint32_t n);
void *rt_memcpy(void *d, const void *s, uint32_t n);
int rt_memcmp(const void *a, const void *b, uint32_t n);

static inline void outb(uint16_t p, uint8_t v) { asm volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { asm volatile("outl %0,%1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; asm volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t read_cr0(void) { uint32_t v; asm volatile("mov %%cr0,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr2(void) { uint32_t v; asm volatile("mov %%cr2,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; asm volatile("mov %%cr3,%0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; asm volatile("mov %%cr4,%0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { asm volatile("mov %0,%%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { asm volatile("mov %0,%%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { asm volatile("mov %0,%%cr4" :: "r"(v) : "memory"); }
static inline uint32_t read_eflags(void) { uint32_t v; asm volatile("pushfl; popl %0" : "=r"(v)); return v; }
static inline void write_eflags(uint32_t v) { asm volatile("pushl %0; popfl" :: "r"(v) : "memory", "cc"); }
static inline uint16_t read_cs(void) { uint16_t v; asm volatile("mov %%cs,%0" : "=r"(v)); return v; }
static inline void invlpg(uint32_t va) { asm volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Defines a global asm routine NAME in .text (for tests that need labels at
 * exact instructions, e.g. the expected fault EIP). */
#define ASM_FN(name, body)                                                \
	asm(".text\n.p2align 4\n.globl " #name "\n.type " #name ",@function\n" \
	    #name ":\n" body "\n.size " #name ", .-" #name "\n")

#endif
