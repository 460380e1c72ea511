/* userland/board.c — the PC board: guest RAM as a memfd, the device
 * placement table, interrupt routing, console and virtual clock. */
#include "userland/board.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define VGA_START	0xa0000u
#define BIOS_START	0xc0000u
#define BIOS_END	0x100000u
#define ACPI_BASE	0xe0000u	/* tables + RSDP, in the e820-reserved BIOS area */
#define ACPI_SIZE	0x10000u
#define ACPI_PM_BASE	0x600u
#define SCI_IRQ		9
#define PCI_FIRST_SLOT	3
#define PCI_IRQ(i)	((i) % 2 ? 10 : 11)	/* disk i's INTA# */

static int errf(char *err, size_t n, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- Placement table ---------------------------------------------------
 * Every device the board has, where it sits. dev is an offset into struct
 * board so the table stays constant. */
struct placement {
	enum bus_space space;
	uint64_t base, len;
	io_handler_fn fn;
	size_t dev;
	const char *name;
};

static const struct placement placements[] = {
	{ BUS_PIO, 0x20, 2, pic__io_master, offsetof(struct board, pic), "pic-master" },
	{ BUS_PIO, 0xa0, 2, pic__io_slave, offsetof(struct board, pic), "pic-slave" },
	{ BUS_PIO, 0x4d0, 2, pic__io_elcr, offsetof(struct board, pic), "pic-elcr" },
	{ BUS_PIO, 0x40, 4, pit__io, offsetof(struct board, pit), "pit" },
	{ BUS_PIO, 0x61, 1, pit__io_port61, offsetof(struct board, pit), "port61" },
	{ BUS_PIO, 0x60, 1, i8042__io_data, offsetof(struct board, kbc), "kbd-data" },
	{ BUS_PIO, 0x64, 1, i8042__io_cmd, offsetof(struct board, kbc), "kbd-cmd" },
	{ BUS_PIO, 0x92, 1, i8042__io_port92, offsetof(struct board, kbc), "port92" },
	{ BUS_PIO, 0x70, 2, rtc__io, offsetof(struct board, rtc), "rtc" },
	{ BUS_PIO, 0xf4, 4, debug_exit__io, offsetof(struct board, dbgexit), "debug-exit" },
	{ BUS_PIO, 0x3f8, 8, serial__io, offsetof(struct board, com1), "com1" },
	{ BUS_PIO, 0xcf8, 8, pci_host__io, offsetof(struct board, pci), "pci-conf" },
	{ BUS_PIO, ACPI_PM_BASE, ACPI_PM_IO_LEN, acpi_pm__io, offsetof(struct board, acpi), "acpi-pm" },
	{ BUS_MMIO, IOAPIC_BASE, 0x1000, ioapic__mmio, offsetof(struct board, ioapic), "ioapic" },
	{ BUS_MMIO, LAPIC_BASE, 0x1000, lapic__mmio, offsetof(struct board, lapic), "lapic" },
};

/* ---- Interrupt routing ------------------------------------------------- */

/* The CPU's INTR: the local APIC decides (with the APIC globally disabled
 * or LINT0 in ExtINT mode, that is the PIC's INTR). */
static void update_intr(struct board *b)
{
	/* with the in-kernel irqchip the PIC's INTR reaches the CPU there */
	lapic__set_lint(&b->lapic, 0, !b->kirq && pic__has_intr(&b->pic));
	bool level = lapic__has_intr(&b->lapic);
	if (level != b->intr_level) {
		b->intr_level = level;
		if (b->set_intr)
			b->set_intr(b->cpu, level);
	}
}

static void pic_intr_changed(void *ctx, unsigned irq, int level)
{
	(void)irq, (void)level;
	update_intr(ctx);
}

/* An ISA device's IRQ line: to the PIC pair (and, later, the I/O APIC). */
/* An ISA (or routed PCI) line: PIC input n and I/O APIC pin n, except the
 * PIT's IRQ 0 which is wired to pin 2 (the MADT says so with an override). */
static void isa_irq_set(void *ctx, unsigned irq, int level)
{
	struct board *b = ctx;
	if (b->kirq) {
		uint16_t bit = (uint16_t)(1u << irq);
		if (level && !(b->kirq_levels & bit))
			b->kirq_edges |= bit;
		if (!!(b->kirq_levels & bit) != !!level)
			b->kirq_dirty = true;
		b->kirq_levels = (uint16_t)(level ? b->kirq_levels | bit : b->kirq_levels & ~bit);
	} else {
		pic__set_irq(&b->pic, irq, level);
	}
	ioapic__set_irq(&b->ioapic, irq == 0 ? 2 : irq, level);
	update_intr(b);
}

/* The PIT's catch-up probe: is the last IRQ0 pulse still unacknowledged?
 * In the PIC's IRR while the 8259 reaches the CPU (masked or not: a new
 * edge would merge), else at I/O APIC pin 2 or in the LAPIC's IRR. */
static bool irq0_pending(void *ctx)
{
	struct board *b = ctx;
	if (lapic__routes_pic(&b->lapic) && (b->pic.chip[0].irr & 1))
		return true;
	return ioapic__pin_pending(&b->ioapic, 2);
}

int board__intr_ack(struct board *b)
{
	update_intr(b);
	if (!lapic__has_intr(&b->lapic))
		return -1;
	int vec = lapic__ack(&b->lapic);
	/* PIT catch-up: the next owed tick enters IRR now and is taken after
	 * the guest's EOI, before the code the tick interrupted resumes. */
	if (b->pit.backlog)
		pit__poll(&b->pit, board__now(b));
	update_intr(b);
	return vec;
}

static uint8_t lapic_extint_ack(void *ctx)
{
	return pic__ack(&((struct board *)ctx)->pic);
}

void board__connect_cpu(struct board *b, void (*set_intr)(void *cpu, bool level), void *cpu)
{
	b->set_intr = set_intr;
	b->cpu = cpu;
	b->intr_level = false;
	update_intr(b);
	if (b->intr_level && set_intr)
		set_intr(cpu, true);
}

void board__kirq_give(struct board *b)
{
	b->kirq = true;
	b->kirq_levels = (uint16_t)((b->pic.chip[0].lines | b->pic.chip[1].lines << 8) & ~5u);
	b->kirq_edges = 0;
	b->kirq_dirty = false;
	b->kirq_deadline = VCLOCK_NEVER;
	update_intr(b);
}

void board__kirq_take(struct board *b, const struct pic *pic, const struct pit *pit)
{
	b->pic = *pic;
	b->pit = *pit;
	pic__attach(&b->pic, &b->pic_intr);
	pit__attach(&b->pit, &b->clock, &b->isa_irq[0], irq0_pending, b);
	b->kirq = false;
	/* lines that moved after the engine's last update */
	for (unsigned irq = 1; irq < 16; irq++) {
		unsigned bit = 1u << irq;
		unsigned now = (pic->chip[irq >> 3].lines >> (irq & 7)) & 1;
		if (irq != 2 && ((b->kirq_edges & bit) || now != !!(b->kirq_levels & bit))) {
			if (b->kirq_edges & bit) {	/* a pulse: latch it */
				pic__set_irq(&b->pic, irq, 0);
				pic__set_irq(&b->pic, irq, 1);
			}
			pic__set_irq(&b->pic, irq, !!(b->kirq_levels & bit));
		}
	}
	b->kirq_edges = 0;
	b->kirq_dirty = false;
	update_intr(b);
}

void board__connect_dma(struct board *b, void (*dma_written)(void *cpu, uint64_t gpa, uint64_t len))
{
	b->dma_written = dma_written;
}

/* b->gmem's translate: flat RAM, then the engine's coherence hook. The hook
 * runs before the device writes (the pointer is returned first), which is
 * enough: the CPU is not running while a device model runs, and the next
 * fetch from those pages re-decodes. Reads are reported too (devices do not
 * say which they do); for pages without decoded code that costs a bit test. */
static void *board_dma_translate(void *ctx, uint64_t gpa, uint64_t len)
{
	struct board *b = ctx;
	void *p = guest_ram__translate(&b->ram, gpa, len);
	if (p && b->dma_written && b->cpu)
		b->dma_written(b->cpu, gpa, len);
	return p;
}

/* ---- Clock --------------------------------------------------------------- */

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t board__now(struct board *b)
{
	return host_ns() - b->clock_start_ns;
}

static uint64_t clock_read(void *ctx)
{
	return board__now(ctx);
}

/* ---- Signals: stop cleanly, restore the terminal ------------------------ */

static struct board *volatile signal_board;
static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

static void on_stop_signal(int sig)
{
	if (!signal_board)
		return;
	if (sig == SIGUSR1)
		signal_board->dump_req = 1;
	else if (sig == SIGUSR2)
		signal_board->stats_req = 1;
	else
		signal_board->stop = VM_QUIT;
}

static void on_fatal_signal(int sig)
{
	if (tty_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(struct board *b)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	signal_board = b;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void board__request_stop(struct board *b, enum vm_stop why)
{
	if (b->stop == VM_RUNNING)
		b->stop = why;
}

/* ---- Console --------------------------------------------------------------- */

static int console_open(struct board *b, const struct run_opts *o, char *err, size_t n)
{
	char spec[4200];
	switch (o->serial) {
	case SERIAL_FILE: snprintf(spec, sizeof(spec), "file:%s", o->serial_path); break;
	case SERIAL_UNIX: snprintf(spec, sizeof(spec), "unix:%s", o->serial_path); break;
	default: snprintf(spec, sizeof(spec), "stdio"); break;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tty) == 0)
		tty_saved = 1;
	int rc = chardev__open(&b->con, spec);
	if (rc)
		return errf(err, n, rc, "--serial %s: %s", spec, strerror(-rc));
	b->con_stdio = o->serial == SERIAL_STDIO;
	if (b->con.tty_raw) {
		/* QEMU-like: ^C goes to the guest; Ctrl-A x quits. */
		struct termios t;
		if (tcgetattr(STDIN_FILENO, &t) == 0) {
			t.c_lflag &= ~(tcflag_t)ISIG;
			t.c_oflag &= ~(tcflag_t)OPOST;	/* the guest sends CR LF itself */
			tcsetattr(STDIN_FILENO, TCSANOW, &t);
		}
	}
	if (o->serial == SERIAL_UNIX) {
		/* Wait for the one client, so the boot log is not lost. */
		fprintf(stderr, "hvmm: waiting for a client on %s\n", o->serial_path);
		struct pollfd p = { .fd = b->con.listen_fd, .events = POLLIN };
		while (b->stop == VM_RUNNING && poll(&p, 1, 200) >= 0) {
			if (!(p.revents & POLLIN))
				continue;
			int fd = accept4(b->con.listen_fd, NULL, NULL,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0) {
				b->con.in_fd = b->con.out_fd = fd;
				break;
			}
		}
	}
	return 0;
}

/* stdio input, with QEMU's escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one
 * Ctrl-A. Bytes the UART cannot take yet stay in in_buf. */
static void console_pump_stdio(struct board *b)
{
	if (b->in_len == 0 && !b->con_in_eof) {
		ssize_t n = read(b->con.in_fd, b->in_buf, sizeof(b->in_buf));
		if (n == 0) {
			b->con_in_eof = true;	/* a pipe that ended: keep running */
			return;
		}
		if (n < 0)
			return;
		/* filter escapes in place */
		unsigned w = 0;
		for (ssize_t i = 0; i < n; i++) {
			uint8_t c = b->in_buf[i];
			if (b->escape_seen) {
				b->escape_seen = false;
				if (c == 'x' || c == 'X') {
					board__request_stop(b, VM_QUIT);
					break;
				}
				if (c == BOARD_ESCAPE)
					b->in_buf[w++] = c;
				continue;
			}
			if (c == BOARD_ESCAPE) {
				b->escape_seen = true;
				continue;
			}
			b->in_buf[w++] = c;
		}
		b->in_len = w;
		b->in_off = 0;
	}
	if (b->in_len) {
		size_t took = serial__receive(&b->com1, b->in_buf + b->in_off, b->in_len);
		b->in_off += (unsigned)took;
		b->in_len -= (unsigned)took;
	}
}

static void console_pump(struct board *b)
{
	if (b->con_stdio) {
		if (b->con.in_fd >= 0)
			console_pump_stdio(b);
	} else {
		chardev__pump(&b->con, &b->com1);
	}
}

/* ---- RAM ----------------------------------------------------------------- */

static int ram_create(struct board *b, uint64_t size, char *err, size_t n)
{
	b->ram_fd = memfd_create("hvmm-guest-ram", MFD_CLOEXEC);
	if (b->ram_fd < 0)
		return errf(err, n, -errno, "guest RAM: memfd_create: %s", strerror(errno));
	if (ftruncate(b->ram_fd, (off_t)size) < 0)
		return errf(err, n, -errno, "guest RAM: %llu MiB: %s",
			    (unsigned long long)(size >> 20), strerror(errno));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       b->ram_fd, 0);
	if (p == MAP_FAILED)
		return errf(err, n, -errno, "guest RAM: mmap %llu MiB: %s",
			    (unsigned long long)(size >> 20), strerror(errno));
	b->ram.host = p;
	b->ram.size = size;
	return 0;
}

uint8_t *board__ram_page(struct board *b, uint64_t gpa, bool *writable)
{
	if (gpa >= b->ram.size || (gpa >= VGA_START && gpa < BIOS_START)) {
		b->ram_faults++;
		return NULL;
	}
	if (writable)
		*writable = !(gpa >= BIOS_START && gpa < BIOS_END);
	return b->ram.host + (gpa & ~0xfffull);
}

/* ---- Bus ------------------------------------------------------------------- */

int board__pio(struct board *b, uint16_t port, void *data, unsigned len, bool is_write)
{
	b->pio_count[port]++;
	bus__access(&b->bus, BUS_PIO, port, data, len, is_write);
	update_intr(b);
	return b->stop != VM_RUNNING;
}

int board__mmio(struct board *b, uint64_t gpa, void *data, unsigned len, bool is_write)
{
	b->mmio_count++;
	bus__access(&b->bus, BUS_MMIO, gpa, data, len, is_write);
	update_intr(b);
	return b->stop != VM_RUNNING;
}

/* ---- Time-driven work -------------------------------------------------------- */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t board__poll(struct board *b)
{
	b->polls++;
	if (b->stats_req) {
		b->stats_req = 0;
		if (b->print_stats)
			b->print_stats(b->stats_ctx);
	}
	uint64_t now = board__now(b);
	uint64_t pit_next = b->kirq ? VCLOCK_NEVER : pit__next_deadline_ns(&b->pit);
	if (now >= pit_next)
		pit__poll(&b->pit, now);
	if (now >= rtc__next_deadline_ns(&b->rtc))
		rtc__poll(&b->rtc, now);
	if (now >= lapic__next_deadline_ns(&b->lapic))
		lapic__poll(&b->lapic, now);
	if (now >= acpi_pm__next_deadline_ns(&b->acpi))
		acpi_pm__poll(&b->acpi, now);
	console_pump(b);
	update_intr(b);
	if (!b->kirq)
		pit_next = pit__next_deadline_ns(&b->pit);
	return min64(min64(pit_next, rtc__next_deadline_ns(&b->rtc)),
		     min64(lapic__next_deadline_ns(&b->lapic), acpi_pm__next_deadline_ns(&b->acpi)));
}

void board__wait(struct board *b, uint64_t deadline_ns)
{
	b->halts++;
	uint64_t now = board__now(b);
	if (deadline_ns <= now)
		return;
	uint64_t wait_ns = deadline_ns - now;
	int ms = wait_ns > 100000000ull ? 100 : (int)((wait_ns + 999999) / 1000000);
	struct pollfd p[1];
	int np = 0;
	if (b->in_len == 0 && b->con.in_fd >= 0 && !b->con_in_eof)
		p[np++] = (struct pollfd){ .fd = b->con.in_fd, .events = POLLIN };
	else if (b->con.listen_fd >= 0 && b->con.in_fd < 0)
		p[np++] = (struct pollfd){ .fd = b->con.listen_fd, .events = POLLIN };
	if (b->in_len)
		ms = ms < 1 ? ms : 1;	/* the UART is full: retry soon */
	poll(p, (nfds_t)np, ms);
}

bool board__halt(struct board *b)
{
	for (;;) {
		uint64_t next = board__poll(b);
		if (b->intr_level || b->stop != VM_RUNNING)
			return true;
		/* the engine's chip: its PIT is due, or a line it sees moved */
		if (b->kirq && (b->kirq_dirty || board__now(b) >= b->kirq_deadline))
			return true;
		if (b->dump_req)
			return false;
		board__wait(b, b->kirq ? min64(next, b->kirq_deadline) : next);
	}
}

/* ---- Device callbacks ------------------------------------------------------- */

static void on_debug_exit(void *ctx, uint32_t status)
{
	struct board *b = ctx;
	b->debug_exit_status = status;
	board__request_stop(b, VM_DEBUG_EXIT);
}

static void on_poweroff(void *ctx)
{
	board__request_stop(ctx, VM_POWEROFF);
}

/* i8042 pulse reset, port 0x92 bit 0, port 0xcf9 bit 2: a PC reset. */
static void on_reset(void *ctx)
{
	board__request_stop(ctx, VM_REBOOT);
}

/* The A20 gate (i8042 output port bit 1, port 0x92 bit 1): b->a20 is what
 * the engine's CPU must follow (the interp engine applies it after the
 * instruction that moved it). Power-on and reset leave it on, as the
 * loaders' protected-mode entry expects. */
static void on_kbc_a20(void *ctx, bool on)
{
	((struct board *)ctx)->a20 = on;
}

/* ---- Life cycle ----------------------------------------------------------------- */

/* Power-on state of every device, and the bus they sit on. Run at creation
 * and at each guest reset (PCI BARs move, so the bus is rebuilt). */
static void disks_close(struct board *b)
{
	if (!b->disks_open)
		return;
	for (unsigned i = 0; i < b->ndisks; i++)
		virtio_blk__close(&b->disks[i]);
	b->disks_open = false;
}

/* virtio-blk disks on the PCI bus, and what firmware would do for them:
 * the Interrupt Line register and a level-triggered PIC input (ELCR). */
static int disks_init(struct board *b, char *err, size_t n)
{
	const struct run_opts *o = b->opts;
	uint8_t elcr[2] = { 0, 1u << (SCI_IRQ - 8) };
	for (unsigned i = 0; i < b->ndisks; i++) {
		struct virtio_blk *d = &b->disks[i];
		int rc = virtio_blk__init(d, &b->gmem, o->disks[i].path, o->disks[i].readonly, true);
		if (rc) {
			for (unsigned j = 0; j < i; j++)
				virtio_blk__close(&b->disks[j]);
			return errf(err, n, rc, "--disk %s: %s", o->disks[i].path, strerror(-rc));
		}
		unsigned irq = PCI_IRQ(i);
		pci_dev__wire_intx(&d->vp.pci, &b->isa_irq[irq], (uint8_t)irq);
		rc = pci_host__add(&b->pci, &d->vp.pci, PCI_FIRST_SLOT + i);
		if (rc)
			return errf(err, n, rc, "--disk %s: no PCI slot", o->disks[i].path);
		elcr[1] |= (uint8_t)(1u << (irq - 8));
	}
	b->disks_open = true;
	for (unsigned k = 0; k < 2; k++)
		pic__io_elcr(&b->pic, k, &elcr[k], 1, true);
	return 0;
}

static int acpi_init(struct board *b, char *err, size_t n)
{
	struct acpi_config c = {
		.base = ACPI_BASE, .size = ACPI_SIZE, .pm_base = ACPI_PM_BASE,
		.sci_irq = SCI_IRQ, .pci_mem_lo = 0xe0000000u, .pci_mem_hi = IOAPIC_BASE,
	};
	for (unsigned i = 0; i < b->ndisks && c.nprt < ACPI_MAX_PRT; i++)
		c.prt[c.nprt++] = (struct acpi_prt_entry){
			.slot = (uint8_t)(PCI_FIRST_SLOT + i), .pin = 0, .gsi = (uint8_t)PCI_IRQ(i),
		};
	uint64_t rsdp;
	int rc = acpi__build_tables(&b->gmem, &c, &rsdp);	/* bytes used */
	if (rc < 0)
		return errf(err, n, rc, "board: ACPI tables: %s", strerror(-rc));
	return 0;
}

static int devices_init(struct board *b, char *err, size_t n)
{
	disks_close(b);
	bus__init(&b->bus);
	/* a quit request (SIGTERM, Ctrl-A x) that came during a reset stays */
	if (b->stop != VM_QUIT)
		b->stop = VM_RUNNING;
	b->intr_level = false;
	b->kirq = false;		/* the engine takes the chip again, if it will */
	b->kirq_dirty = false;
	b->kirq_edges = 0;
	b->pic_intr = (struct irq_line){ .set_level = pic_intr_changed, .ctx = b };
	pic__init(&b->pic, &b->pic_intr);
	for (unsigned i = 0; i < 16; i++)
		b->isa_irq[i] = (struct irq_line){ .set_level = isa_irq_set, .ctx = b, .irq = i };
	serial__init(&b->com1, &b->isa_irq[4], chardev__tx, &b->con);
	pit__init(&b->pit, &b->clock, &b->isa_irq[0]);
	pit__set_irq_probe(&b->pit, irq0_pending, b);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	rtc__init(&b->rtc, &b->clock, &b->isa_irq[8],
		  (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec);
	rtc__set_memory_size(&b->rtc, b->ram.size);
	const struct i8042_ops kbc_ops = { .reset = on_reset, .set_a20 = on_kbc_a20, .ctx = b };
	b->a20 = true;
	i8042__init(&b->kbc, &b->isa_irq[1], &b->isa_irq[12], &kbc_ops);
	debug_exit__init(&b->dbgexit, on_debug_exit, b);
	pci_host__init(&b->pci, &b->bus, on_reset, b);
	const struct lapic_ops lops = { .extint_ack = lapic_extint_ack, .ctx = b };
	lapic__init(&b->lapic, &b->clock, &lops);
	lapic__firmware_init(&b->lapic);	/* LINT0 ExtINT, as a BIOS leaves it */
	ioapic__init(&b->ioapic, &b->lapic);
	acpi_pm__init(&b->acpi, &b->clock, &b->isa_irq[SCI_IRQ], on_poweroff, b);
	int rc = disks_init(b, err, n);
	if (rc)
		return rc;
	if ((rc = acpi_init(b, err, n)))
		return rc;

	for (size_t i = 0; i < sizeof(placements) / sizeof(placements[0]); i++) {
		const struct placement *p = &placements[i];
		rc = bus__register(&b->bus, p->space, p->base, p->len, p->fn,
				   (char *)b + p->dev, p->name);
		if (rc)
			return errf(err, n, rc, "board: placing %s: %s", p->name, strerror(-rc));
	}
	/* Firmware role (there is no BIOS): place every BAR. I/O from 0xc000,
	 * memory in 0xe0000000-0xfebfffff, below the I/O APIC. */
	rc = pci_host__assign_resources(&b->pci, 0xc000, 0x10000, 0xe0000000, IOAPIC_BASE);
	if (rc)
		return errf(err, n, rc, "board: PCI resources: %s", strerror(-rc));
	return 0;
}

int board__create(struct board *b, const struct run_opts *o, char *err, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->ram_fd = -1;
	b->con.in_fd = b->con.out_fd = b->con.listen_fd = -1;
	b->pio_count = calloc(65536, sizeof(*b->pio_count));
	if (!b->pio_count)
		return errf(err, n, -ENOMEM, "out of memory");
	int rc = ram_create(b, o->mem, err, n);
	if (rc)
		return rc;
	e820__build(&b->e820, o->mem);
	b->gmem = (struct guest_mem){ .translate = board_dma_translate, .ctx = b };
	b->opts = o;
	b->ndisks = o->ndisks;
	b->disks = calloc(o->ndisks ? o->ndisks : 1, sizeof(*b->disks));
	if (!b->disks)
		return errf(err, n, -ENOMEM, "out of memory");
	b->clock_start_ns = host_ns();
	b->clock = (struct vclock){ .now_ns = clock_read, .ctx = b };
	install_signals(b);
	rc = console_open(b, o, err, n);
	if (rc)
		return rc;
	return devices_init(b, err, n);
}

int board__reset(struct board *b, char *err, size_t n)
{
	/* RAM reads as zeros again: drop its pages (the mapping stays). */
	if (fallocate(b->ram_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)b->ram.size) < 0)
		memset(b->ram.host, 0, b->ram.size);
	b->set_intr = NULL;
	b->cpu = NULL;
	b->resets++;
	return devices_init(b, err, n);
}

void board__destroy(struct board *b)
{
	disks_close(b);
	free(b->disks);
	chardev__close(&b->con);
	if (b->ram.host)
		munmap(b->ram.host, b->ram.size);
	if (b->ram_fd >= 0)
		close(b->ram_fd);
	free(b->pio_count);
	signal_board = NULL;
	memset(b, 0, sizeof(*b));
	b->ram_fd = -1;
}

void board__stats(struct board *b, void *file)
{
	FILE *f = file;
	uint64_t total = 0;
	for (unsigned p = 0; p < 65536; p++)
		total += b->pio_count[p];
	fprintf(f, "board.pio %llu\nboard.mmio %llu\nboard.halts %llu\nboard.polls %llu\n",
		(unsigned long long)total, (unsigned long long)b->mmio_count,
		(unsigned long long)b->halts, (unsigned long long)b->polls);
	fprintf(f, "board.resets %llu\n", (unsigned long long)b->resets);
	if (!b->kirq)	/* else the engine prints its chip's (kirq.*) */
		fprintf(f, "pit.edges %llu\npit.irq_pulses %llu\npit.lost_edges %llu\n"
		"pit.backlog_max %u\n",
		(unsigned long long)b->pit.edges, (unsigned long long)b->pit.irq_pulses,
		(unsigned long long)b->pit.lost_edges, b->pit.backlog_max);
	fprintf(f, "lapic.timer_fires %llu\nlapic.timer_lost %llu\nlapic.timer_backlog_max %u\n",
		(unsigned long long)b->lapic.timer_fires, (unsigned long long)b->lapic.timer_lost,
		b->lapic.timer_backlog_max);
	if (!b->kirq)
		fprintf(f, "pic.spurious %llu\n", (unsigned long long)b->pic.spurious);
	for (unsigned i = 0; i < b->ndisks && b->disks_open; i++)
		fprintf(f, "disk%u.requests %llu\ndisk%u.flushes %llu\ndisk%u.ioerrs %llu\n",
			i, (unsigned long long)b->disks[i].reqs, i,
			(unsigned long long)b->disks[i].flushes, i,
			(unsigned long long)b->disks[i].ioerrs);
	fprintf(f, "board.unclaimed_pio %llu\nboard.unclaimed_mmio %llu\n",
		(unsigned long long)b->bus.unclaimed[BUS_PIO],
		(unsigned long long)b->bus.unclaimed[BUS_MMIO]);
	for (unsigned p = 0; p < 65536; p++) {
		if (!b->pio_count[p])
			continue;
		const struct bus_region *r = bus__find(&b->bus, BUS_PIO, p);
		fprintf(f, "pio.0x%04x %llu %s\n", p, (unsigned long long)b->pio_count[p],
			r ? r->name : "-");
	}
}
