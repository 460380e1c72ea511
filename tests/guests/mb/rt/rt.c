/* tests/guests/mb/rt/rt.c — serial output, reporting, descriptor tables and
 * exception capture for the multiboot test kernels (see rt.h). */
#include "rt.h"

uint64_t rt_gdt[GDT_ENTRIES] __attribute__((aligned(8)));
uint64_t rt_idt[256] __attribute__((aligned(8)));
/* rt_tss and the 8193-byte rt_iobitmap after it are in boot.S */
struct tss32 rt_tss2 __attribute__((aligned(128)));

extern char rt_stubs[];
extern char __bss_end[];

/* Stack the CPU switches to on an interrupt from CPL 3 (TSS.esp0). */
static uint8_t rt_istack[16384] __attribute__((aligned(16)));
/* Stack rt_try's CPL 3 code runs on. */
static uint8_t rt_ustack[16384] __attribute__((aligned(16)));

struct rt_jmp {
	uint32_t ebx, esi, edi, ebp, esp, eip, eflags;
	struct rt_jmp *prev;
	struct rt_fault *f;
};

int rt_setjmp(struct rt_jmp *j) __attribute__((returns_twice));
void rt_longjmp(struct rt_jmp *j, int v) __attribute__((noreturn));
void rt_enter_user(uint32_t (*fn)(uint32_t), uint32_t arg, uint32_t esp)
	__attribute__((noreturn));
void rt_main(void);
void rt_isr(struct rt_frame *fr);

uint32_t rt_user_eflags;
static struct rt_jmp *rt_cur_jmp;
static rt_handler_fn rt_handlers[256];
static unsigned rt_npass, rt_nfail, rt_nskip;

/* ---- small libc ---- */

void *rt_memset(void *d, int c, uint32_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *rt_memcpy(void *d, const void *s, uint32_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int rt_memcmp(const void *a, const void *b, uint32_t n)
{
	const uint8_t *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return 0;
}

/* gcc may emit calls to these for struct copies and initialisers */
void *memset(void *d, int c, uint32_t n);
void *memcpy(void *d, const void *s, uint32_t n);
void *memset(void *d, int c, uint32_t n) { return rt_memset(d, c, n); }
void *memcpy(void *d, const void *s, uint32_t n) { return rt_memcpy(d, s, n); }

/* ---- serial ---- */

void rt_putc(char c)
{
	/* wait (bounded) for the 16550's transmit holding register */
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

static void rt_puts(const char *s)
{
	while (*s)
		rt_putc(*s++);
}

static void rt_putnum(uint32_t v, unsigned base, int width, char pad, int neg)
{
	char buf[12];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (width-- > n)
		rt_putc(pad);
	while (n)
		rt_putc(buf[--n]);
}

static void rt_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			rt_putc(*fmt);
			continue;
		}
		char pad = ' ';
		int width = 0;
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			fmt++;
		switch (*fmt) {
		case 'd': {
			int v = va_arg(ap, int);
			rt_putnum(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			rt_putnum(va_arg(ap, uint32_t), 10, width, pad, 0);
			break;
		case 'x':
			rt_putnum(va_arg(ap, uint32_t), 16, width, pad, 0);
			break;
		case 'p':
			rt_puts("0x");
			rt_putnum(va_arg(ap, uint32_t), 16, 8, '0', 0);
			break;
		case 's':
			rt_puts(va_arg(ap, const char *));
			break;
		case 'c':
			rt_putc((char)va_arg(ap, int));
			break;
		case '%':
			rt_putc('%');
			break;
		default:
			rt_putc('?');
			break;
		}
	}
}

void rt_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- reporting ---- */

int rt_check(int ok, const char *name, const char *fmt, ...)
{
	if (ok) {
		rt_npass++;
		rt_printf("PASS %s\n", name);
		return 1;
	}
	rt_nfail++;
	rt_printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
	rt_putc('\n');
	return 0;
}

int rt_expect_eq(const char *name, uint32_t got, uint32_t want)
{
	return rt_check(got == want, name, "got 0x%x, want 0x%x", got, want);
}

int rt_expect_fault(const char *name, int v, const struct rt_fault *f,
		    int vec, long err, uint32_t eip)
{
	if (v < 0)
		return rt_check(vec < 0, name, "no exception, want vector %d", vec);
	if (vec < 0)
		return rt_check(0, name, "vector %d err 0x%x at eip 0x%x, want none",
				v, f->err, f->eip);
	if (v != vec)
		return rt_check(0, name, "vector %d err 0x%x at eip 0x%x, want vector %d",
				v, f->err, f->eip, vec);
	if (err >= 0 && f->err != (uint32_t)err)
		return rt_check(0, name, "vector %d error code 0x%x, want 0x%x",
				v, f->err, (uint32_t)err);
	if (eip && f->eip != eip)
		return rt_check(0, name, "vector %d at eip 0x%x, want 0x%x", v, f->eip, eip);
	return rt_check(1, name, "%s", "");
}

void rt_skip(const char *name, const char *why)
{
	rt_nskip++;
	rt_printf("SKIP %s: %s\n", name, why);
}

extern const char rt_test_name[];

void rt_finish(void)
{
	rt_printf("SUMMARY %s: %u passed, %u failed, %u skipped\n", rt_test_name,
		  rt_npass, rt_nfail, rt_nskip);
	/* QEMU's isa-debug-exit turns value v into exit status (v << 1) | 1 */
	outl(0xf4, rt_nfail || !rt_npass ? 1 : 0);
	/* no debug-exit device: stop here */
	for (;;)
		asm volatile("cli; hlt");
}

/* ---- descriptor tables ---- */

void rt_gdt_set(int idx, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	rt_gdt[idx] = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
		      ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
		      ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

void rt_pic_pit_init(uint8_t vec, uint16_t divisor)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(0x21, vec); outb(0xa1, vec + 8);		/* ICW2: vectors */
	outb(0x21, 0x04); outb(0xa1, 0x02);		/* ICW3 */
	outb(0x21, 0x01); outb(0xa1, 0x01);		/* ICW4: 8086 mode */
	outb(0x21, 0xfe); outb(0xa1, 0xff);		/* only IRQ0 */
	outb(0x43, 0x34);				/* PIT ch0, lo/hi, mode 2 */
	outb(0x40, divisor & 0xff);
	outb(0x40, divisor >> 8);
}

void rt_gdt_gate(int idx, uint16_t sel, uint32_t off, int type, int dpl, int params)
{
	rt_gdt[idx] = (off & 0xffff) | ((uint64_t)sel << 16) |
		      ((uint64_t)(params & 0x1f) << 32) |
		      ((uint64_t)(ACC_P | ACC_DPL(dpl) | type) << 40) |
		      ((uint64_t)(off >> 16) << 48);
}

void rt_gdt_tss(int idx, struct tss32 *t, uint32_t limit, int busy)
{
	/* type 9: available 32-bit TSS, 11: busy (SDM Vol. 3A 7.2.2) */
	rt_gdt_set(idx, (uint32_t)t, limit, ACC_P | (busy ? 0xb : 0x9), 0);
}

void rt_idt_set(int vec, uint16_t sel, uint32_t off, int type, int dpl, int p)
{
	rt_idt[vec] = (off & 0xffff) | ((uint64_t)sel << 16) |
		      ((uint64_t)((p ? ACC_P : 0) | ACC_DPL(dpl) | type) << 40) |
		      ((uint64_t)(off >> 16) << 48);
}

uint32_t rt_idt_stub(int vec)
{
	return (uint32_t)rt_stubs + 16 * vec;
}

void rt_idt_default(int vec)
{
	/* int3, into and the return vector are reachable from CPL 3 */
	int dpl = (vec == 3 || vec == 4 || vec == RT_VEC_RETURN) ? 3 : 0;
	rt_idt_set(vec, SEL_KCODE, rt_idt_stub(vec), GATE_INT32, dpl, 1);
}

void rt_set_handler(int vec, rt_handler_fn fn)
{
	rt_handlers[vec] = fn;
}

static void rt_load_tables(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr, idtr;

	rt_gdt[0] = 0;
	rt_gdt_set(1, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	rt_gdt_set(2, 0, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	rt_gdt_set(3, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	rt_gdt_set(4, 0, 0xfffff, ACC_P | ACC_DPL(3) | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	rt_gdt_tss(5, &rt_tss, sizeof(rt_tss) - 1, 0);
	rt_gdt_tss(6, &rt_tss2, sizeof(rt_tss2) - 1, 0);
	rt_gdt_set(7, 0, 0xffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R, 0);
	rt_gdt_set(8, 0, 0xffff, ACC_P | ACC_S | ACC_DATA_W, 0);

	rt_tss.ss0 = SEL_KDATA;
	rt_tss.esp0 = (uint32_t)(rt_istack + sizeof(rt_istack));
	rt_tss.iomap = sizeof(rt_tss);	/* past the limit: CPL > IOPL gets #GP */
	rt_memset(rt_iobitmap, 0xff, sizeof(rt_iobitmap));
	rt_tss2.iomap = sizeof(rt_tss2);

	for (int v = 0; v < 256; v++)
		rt_idt_default(v);

	gdtr.limit = sizeof(rt_gdt) - 1;
	gdtr.base = (uint32_t)rt_gdt;
	idtr.limit = sizeof(rt_idt) - 1;
	idtr.base = (uint32_t)rt_idt;
	asm volatile("lgdt %0\n\t"
		     "ljmp $0x08, $1f\n"
		     "1:\tmov $0x10, %%ax\n\t"
		     "mov %%ax, %%ds\n\tmov %%ax, %%es\n\tmov %%ax, %%ss\n\t"
		     "mov %%ax, %%fs\n\tmov %%ax, %%gs\n\t"
		     "lidt %1\n\t"
		     "mov $0x28, %%ax\n\tltr %%ax\n\t"
		     "xor %%eax, %%eax\n\tlldt %%ax"
		     :: "m"(gdtr), "m"(idtr) : "eax", "memory");
}

/* ---- exceptions ---- */

void rt_isr(struct rt_frame *fr)
{
	int v = (int)fr->vector;

	if (rt_handlers[v] && rt_handlers[v](fr))
		return;
	struct rt_jmp *j = rt_cur_jmp;
	if (j && v == RT_VEC_RETURN && fr->eax == 0x52455455 && (fr->cs & 3) == 3) {
		j->f->ret = fr->ebx;
		rt_longjmp(j, 0x1000);
	}
	if (j) {
		struct rt_fault *f = j->f;
		f->vector = v;
		f->err = fr->err;
		f->cr2 = read_cr2();
		f->eip = fr->eip;
		f->cs = fr->cs & 0xffff;
		f->eflags = fr->eflags;
		if (fr->cs & 3) {
			f->esp = fr->esp;
			f->ss = fr->ss & 0xffff;
		} else {
			f->esp = (uint32_t)&fr->esp;
			f->ss = SEL_KDATA;
		}
		rt_longjmp(j, v + 1);
	}
	rt_nfail++;
	rt_printf("FAIL unexpected-exception: vector %d err 0x%x eip 0x%x cs 0x%x "
		  "eflags 0x%x cr2 0x%x\n", v, fr->err, fr->eip, fr->cs & 0xffff,
		  fr->eflags, read_cr2());
	rt_finish();
}

void rt_abort_try(int vec, uint32_t err, uint32_t eip)
{
	struct rt_jmp *j = rt_cur_jmp;

	if (!j) {
		rt_nfail++;
		rt_printf("FAIL unexpected-abort: vector %d err 0x%x eip 0x%x\n", vec, err, eip);
		rt_finish();
	}
	j->f->vector = vec;
	j->f->err = err;
	j->f->cr2 = read_cr2();
	j->f->eip = eip;
	j->f->cs = read_cs();
	j->f->eflags = read_eflags();
	rt_longjmp(j, vec + 1);
}

int rt_try(int ring, uint32_t (*fn)(uint32_t), uint32_t arg, struct rt_fault *f)
{
	struct rt_jmp j;
	volatile int v;

	rt_memset(f, 0, sizeof(*f));
	f->vector = -1;
	j.prev = rt_cur_jmp;
	j.f = f;
	v = rt_setjmp(&j);
	if (v == 0) {
		rt_cur_jmp = &j;
		if (ring == 0) {
			f->ret = fn(arg);
			v = 0x1000;
		} else {
			rt_enter_user(fn, arg, (uint32_t)(rt_ustack + sizeof(rt_ustack)));
		}
	}
	rt_cur_jmp = j.prev;
	return v == 0x1000 ? -1 : v - 1;
}

void rt_main(void)
{
	rt_load_tables();
	/* mask both PICs: the tests run with IF set at times and want no IRQs */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	rt_printf("\nSTART %s\n", rt_test_name);
	test_main();
	rt_finish();
}
