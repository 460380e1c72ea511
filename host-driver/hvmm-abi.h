/* SPDX-License-Identifier: GPL-2.0 */
/* host-driver/hvmm-abi.h — the ioctl ABI of /dev/hvmm, shared by hvmm.ko and
 * the userland process. Every change to a structure or ioctl here bumps
 * HVMM_ABI_VERSION; HVMM_IOC_ABI_VERSION itself never changes, so any
 * userland can ask any module which ABI it speaks (docs/world-switch.md). */
#ifndef HVMM_ABI_H
#define HVMM_ABI_H

#ifdef HVMM_FREESTANDING	/* monitor/mon-sys.c in build/monitor-fs.a */
#include <stdint.h>
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

#define HVMM_ABI_VERSION	7
#define HVMM_DEVICE		"/dev/hvmm"
#define HVMM_IOC_MAGIC		0xE7

/* ioctl(fd, HVMM_IOC_ABI_VERSION) returns the module's HVMM_ABI_VERSION. */
#define HVMM_IOC_ABI_VERSION	_IO(HVMM_IOC_MAGIC, 0x00)

/* Host facts the monitor depends on (HVMM_IOC_INFO). */
#define HVMM_HF_VMX		(1ull << 0)	/* CPUID says VT-x is present */
#define HVMM_HF_SVM		(1ull << 1)	/* CPUID says AMD-V is present */
#define HVMM_HF_SMEP		(1ull << 2)	/* CR4.SMEP set by the host */
#define HVMM_HF_SMAP		(1ull << 3)	/* CR4.SMAP set by the host */
#define HVMM_HF_PCID		(1ull << 4)	/* CR4.PCIDE set by the host */
#define HVMM_HF_NX		(1ull << 5)	/* EFER.NXE set by the host */
#define HVMM_HF_PTI		(1ull << 6)	/* Linux page-table isolation on */
#define HVMM_HF_UMIP		(1ull << 7)	/* CR4.UMIP set */
#define HVMM_HF_PKU		(1ull << 8)	/* CR4.PKE set */
#define HVMM_HF_FSGSBASE	(1ull << 9)	/* CR4.FSGSBASE set */
#define HVMM_HF_LA57		(1ull << 10)	/* 5-level paging (CR4.LA57) */
#define HVMM_HF_FRED		(1ull << 11)	/* FRED (no world switch path yet) */
#define HVMM_HF_XSAVE		(1ull << 12)	/* CR4.OSXSAVE set */

struct hvmm_info {
	__u32 abi_version;	/* HVMM_ABI_VERSION of the module */
	__u32 ncpus;		/* online CPUs */
	__u32 paging_levels;	/* 4 or 5 */
	__u32 cpu_family;
	__u64 features;		/* HVMM_HF_* */
	__u64 cr0, cr4, efer;	/* host values on the CPU that answered */
	__u64 tsc_khz;
	char cpu_model[64];	/* NUL-terminated CPUID brand string */
	__u64 pinned_pages;	/* guest RAM pages pinned by all VMs now */
	__u32 vms, vcpus;	/* live VM and vCPU objects */
	__u64 reserved[6];
};

/* ioctl(fd, HVMM_IOC_INFO, &info): fills struct hvmm_info; 0 or -errno. */
#define HVMM_IOC_INFO		_IOR(HVMM_IOC_MAGIC, 0x01, struct hvmm_info)

/* ioctl(fd, HVMM_IOC_CREATE_VM): returns a new VM fd (one guest). */
#define HVMM_IOC_CREATE_VM	_IO(HVMM_IOC_MAGIC, 0x02)

/* --- VM fd ----------------------------------------------------------------- */
/* Guest RAM: [uaddr, uaddr+size) of the caller's memory becomes guest-physical
 * [0, size). Page-aligned, at most HVMM_MAX_RAM; set once, before the vCPU.
 * The pages stay pinned until the VM fd and its vCPU fd are closed. */
#define HVMM_MAX_RAM		(2ull << 30)
struct hvmm_ram {
	__u64 uaddr;
	__u64 size;
};
#define HVMM_VM_SET_RAM		_IOW(HVMM_IOC_MAGIC, 0x10, struct hvmm_ram)
/* Returns a new vCPU fd (one per VM for now). */
#define HVMM_VM_CREATE_VCPU	_IO(HVMM_IOC_MAGIC, 0x11)

/* --- vCPU fd --------------------------------------------------------------- */
/* Guest state. The guest runs at CPL 3 with paging on (2-level, CR4.PSE
 * honoured); CS must be HVMM_SEL_CODE, SS HVMM_SEL_DATA, DS/ES/FS/GS one of
 * 0, HVMM_SEL_CODE, HVMM_SEL_DATA; EFLAGS keeps only the arithmetic flags,
 * TF, DF, AC and ID (IF is forced on, IOPL to 0). Setting cr3/cr4/cr0
 * drops every shadow page table. */
#define HVMM_SEL_CODE		0x23	/* flat 32-bit code, DPL 3 */
#define HVMM_SEL_DATA		0x2b	/* flat 32-bit data, DPL 3 */
struct hvmm_regs {
	__u32 eax, ebx, ecx, edx, esi, edi, ebp, esp;
	__u32 eip, eflags;
	__u32 cs, ss, ds, es, fs, gs;
	__u32 cr0, cr2, cr3, cr4;
};
#define HVMM_VCPU_GET_REGS	_IOR(HVMM_IOC_MAGIC, 0x20, struct hvmm_regs)
#define HVMM_VCPU_SET_REGS	_IOW(HVMM_IOC_MAGIC, 0x21, struct hvmm_regs)

/* Why HVMM_VCPU_RUN returned (0 from the ioctl). -EINTR: a signal is
 * pending, the guest state is consistent, run again or close. */
enum hvmm_exit_reason {
	HVMM_EXIT_NONE = 0,
	HVMM_EXIT_SYSCALL,	/* int 0x80; eip is after the instruction */
	HVMM_EXIT_IO,		/* in/out at CPL 3, IOPL 0 (#GP(0)); eip at it */
	HVMM_EXIT_HLT,		/* hlt at CPL 3 (#GP(0)); eip at it */
	HVMM_EXIT_FAULT,	/* any other guest exception: vector, error, cr2 */
	HVMM_EXIT_BAD_MEMORY,	/* guest page tables point outside guest RAM */
	HVMM_EXIT_MONITOR_ERROR,/* a monitor bug; the vCPU is dead */
	HVMM_EXIT_USER_MAX,
	/* handled inside the module, counted only */
	HVMM_EXIT_HOST_IRQ = 16,/* a host interrupt, handed back to Linux */
	HVMM_EXIT_HOST_NMI,	/* an NMI, handed back to Linux */
	HVMM_EXIT_BT_YIELD,	/* translated code: in-world work the module finishes */
	HVMM_EXIT_REASONS = 24,
};
struct hvmm_exit {
	__u32 reason;		/* enum hvmm_exit_reason */
	__u32 vector;		/* exception vector (FAULT, IO and HLT: 13) */
	__u32 error_code;
	__u32 cr2;		/* #PF: the faulting linear address */
	__u32 eip;
	__u32 port;		/* IO: port, -1 when it is in DX and unknown */
	__u8 io_size;		/* IO: 1, 2 or 4 */
	__u8 io_in;		/* IO: 1 = in/ins */
	__u8 io_string;		/* IO: ins/outs */
	__u8 insn_len;		/* IO, HLT: length of the instruction */
	__u32 pad;
	__u64 monitor_rip;	/* MONITOR_ERROR: where the monitor faulted */
};
/* One round trip per exit: HVMM_VCPU_RUN loads run.regs first when
 * HVMM_RUN_SET_REGS is set (even if it then returns -EINTR: clear the flag
 * after every call), and on return 0 fills run.exit and run.regs (the guest
 * state at the exit). */
#define HVMM_RUN_SET_REGS	1u
struct hvmm_run {
	__u32 flags;
	__u32 pad;
	struct hvmm_regs regs;
	struct hvmm_exit exit;
};
#define HVMM_VCPU_RUN		_IOWR(HVMM_IOC_MAGIC, 0x22, struct hvmm_run)

struct hvmm_stats {
	__u64 world_switches;	/* entries into the monitor world */
	__u64 exits[HVMM_EXIT_REASONS];	/* returns to the host, by reason */
	__u64 shadow_faults;	/* #PF fixed by building a shadow entry */
	__u64 shadow_flushes;	/* all shadow tables dropped (pool empty, cr3) */
	__u64 monitor_traps;	/* traps handled inside the monitor world */
	__u64 guest_tsc;	/* TSC cycles spent in the monitor world */
	__u64 run_calls;	/* HVMM_VCPU_RUN ioctls */
	__u64 nmis_deferred;	/* NMIs that hit the monitor, forwarded later */
	__u64 reserved[8];
};
#define HVMM_VCPU_GET_STATS	_IOR(HVMM_IOC_MAGIC, 0x23, struct hvmm_stats)

/* --- System mode (ABI 4, issue 6): a whole guest OS ------------------------
 * HVMM_VCPU_SET_SYSTEM switches the vCPU to system mode for good and loads
 * the full architectural state; from then on HVMM_VCPU_SYS_RUN runs it (the
 * user-program ioctls above answer -EINVAL). Code that cannot run natively
 * (guest CPL 0, real mode, paging off, V86) is interpreted by the monitor's
 * IA-32 interpreter inside the module. Any state is accepted: it is the
 * guest's own, reached only through the interpreter, which touches nothing
 * but the VM's pinned frames. */
struct hvmm_seg {
	__u16 sel;
	__u16 attr;		/* descriptor bits 40..55 (type, S, DPL, P, AVL, L, D/B, G) */
	__u32 base;
	__u32 limit;		/* expanded byte limit */
};
struct hvmm_sregs {
	__u32 gpr[8];		/* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
	__u32 eip, eflags;
	struct hvmm_seg seg[6];	/* ES, CS, SS, DS, FS, GS */
	struct hvmm_seg ldtr, tr;
	__u32 gdt_base, gdt_limit, idt_base, idt_limit;
	__u32 cr0, cr2, cr3, cr4;
	__u32 dr[8];
	__u32 cpl;
	__u32 flags;		/* HVMM_SF_* */
	__u64 efer, sysenter_cs, sysenter_esp, sysenter_eip, pat;
	/* guest-physical layout: [mmio_start, mmio_end) is MMIO even though
	 * RAM backs it (the VGA window), [rom_start, rom_end) ignores writes */
	__u32 mmio_start, mmio_end, rom_start, rom_end;
	__u64 clock_start_ns;	/* guest TSC = CLOCK_MONOTONIC ns - this */
	__u64 reserved[4];
};
#define HVMM_SF_HALTED		1u	/* waiting for an interrupt (HLT) */
#define HVMM_SF_A20		2u	/* A20 gate enabled */
#define HVMM_VCPU_SET_SYSTEM	_IOW(HVMM_IOC_MAGIC, 0x30, struct hvmm_sregs)
#define HVMM_VCPU_GET_SYSTEM	_IOR(HVMM_IOC_MAGIC, 0x31, struct hvmm_sregs)

/* Why HVMM_VCPU_SYS_RUN returned. */
enum hvmm_sys_exit {
	HVMM_SX_BUDGET = 1,	/* ran `budget` instructions: poll the devices */
	HVMM_SX_IO,		/* port I/O: see below */
	HVMM_SX_MMIO,		/* MMIO: see below */
	HVMM_SX_INTR_WINDOW,	/* the guest takes an interrupt now: ack it, inject */
	HVMM_SX_HLT,		/* HLT with IF=1: wait for an interrupt */
	HVMM_SX_HLT_DEAD,	/* HLT with IF=0 */
	HVMM_SX_SHUTDOWN,	/* triple fault: HVMM_VCPU_GET_DUMP has the state */
	HVMM_SX_ERROR,		/* interpreter or monitor error: the same */
	HVMM_SX_REASONS,
};
/* Port I/O and MMIO: a write has completed in the guest when it exits
 * (userland performs it on its device); a read exits before the instruction
 * commits: userland performs it, puts the value in data with
 * HVMM_SRUN_DATA, and the instruction re-executes and consumes it. */
struct hvmm_sys_run {
	/* in */
	__u32 flags;		/* HVMM_SRUN_* */
	__u32 inject;		/* with HVMM_SRUN_INJECT: vector to deliver */
	__u64 budget;		/* instructions before HVMM_SX_BUDGET (0: 20000) */
	__u64 data;		/* with HVMM_SRUN_DATA: the read's value */
	/* out */
	__u32 reason;		/* enum hvmm_sys_exit */
	__u32 is_write;
	__u64 addr;		/* port or guest-physical address */
	__u32 len;		/* 1, 2, 4 or 8 */
	__u32 eflags;		/* guest EFLAGS at the exit (IF for the window) */
	__u64 wdata;		/* a write's value */
	__u64 icount;		/* instructions interpreted so far */
};
#define HVMM_SRUN_IRQ		1u	/* the INTR line is high */
#define HVMM_SRUN_INJECT	2u	/* `inject` is the acknowledged vector */
#define HVMM_SRUN_DATA		4u	/* `data` completes the pending read */
#define HVMM_SRUN_NO_NATIVE	8u	/* ABI 5: interpret guest user code too */
#define HVMM_SRUN_A20_OFF	16u	/* ABI 5: the board's A20 gate is off */
#define HVMM_SRUN_BT		32u	/* ABI 7: run guest kernel code translated (docs/bt.md) */
#define HVMM_VCPU_SYS_RUN	_IOWR(HVMM_IOC_MAGIC, 0x32, struct hvmm_sys_run)

/* The interpreter's register dump (text, NUL-terminated). */
#define HVMM_DUMP_SIZE		16384
#define HVMM_VCPU_GET_DUMP	_IOR(HVMM_IOC_MAGIC, 0x33, char[64])

/* ABI 5 (issue 6 stage 2): native guest user mode. native_exits[v] for an
 * exception vector v < 32; HVMM_NX_IRQ a host interrupt, HVMM_NX_NMI an
 * NMI, HVMM_NX_SLICE a stay ended for rescheduling or a signal. */
#define HVMM_NX_IRQ		32
#define HVMM_NX_NMI		33
#define HVMM_NX_SLICE		34
#define HVMM_NX_REASONS		40
struct hvmm_sys_stats {
	__u64 exits[HVMM_SX_REASONS];
	__u64 instructions, interrupts, retries, run_calls;
	__u64 decodes, tlb_flushes;	/* the interpreter's, as the interp engine's */
	__u64 reserved[6];
	/* ABI 5 */
	__u64 native_entries;	/* world entries running guest user code */
	__u64 native_stays;	/* interpreter -> native transitions */
	__u64 native_exits[HVMM_NX_REASONS];
	__u64 native_ns, interp_ns;	/* time in the world / in the interpreter */
	__u64 hidden_faults;	/* #PF fixed in the monitor (shadow built) */
	__u64 reflected_pf;	/* #PF handed to the interpreter (guest's fault) */
	__u64 shadow_flushes;	/* all shadows dropped (stay after interpretation) */
	__u64 code_invalidations;	/* shadow drops: a frame became watched (decoded or
					 * translated code, the GDT) while mapped writable */
	__u64 shadow_kept;	/* stays after interpretation that kept the shadows */
	/* ABI 6: with the in-kernel irqchip on, a run goes on instead of
	 * returning (docs/kirq.md): budgets and host interrupts kept inside */
	__u64 kirq_budgets_kept, kirq_irqs_kept;
	/* in a former reserved slot: guest CR3 loads that dropped the shadows
	 * of non-global pages only (docs/hybrid.md) */
	__u64 shadow_local_drops;
	__u64 reserved5[4];
	/* ABI 7: translated guest kernel code (docs/bt.md) */
	__u64 bt_stays;		/* interpreter -> translated code transitions */
	__u64 bt_entries;	/* world entries running translated code */
	__u64 bt_ns;		/* time in the world running it */
	__u64 bt_exit_sites;	/* stays ended at an exit site (interpreter runs it) */
	__u64 bt_chains;	/* misses resolved by translating and patching */
	__u64 bt_faults;	/* stays ended by a guest exception / MMIO / watched write */
	__u64 bt_host_irqs;	/* host interrupts during translated code */
	__u64 bt_steps;		/* single steps to reach a site */
	__u64 bt_blocks, bt_insns;	/* translated blocks, guest instructions */
	__u64 bt_resets;	/* translation cache flushes */
	__u64 bt_window_moves;	/* window placed or moved (guest mapped it) */
	__u64 bt_refused;	/* MON_SYS_BT answered by interpreting (untranslatable) */
	__u64 bt_indirect_misses;	/* indirect-branch hash misses resolved in the module */
	__u64 bt_fast_exits;	/* exit sites done in the module (RDTSC, irqchip ports) */
	/* in former reserved slots (a module without them leaves 0) */
	__u64 bt_world_traps;	/* exit sites, misses and chains done inside the world */
	__u64 bt_yields;	/* in-world work that needed the module (irq, timer) */
	__u64 bt_syscalls;	/* SYSENTER, SYSEXIT and IRET done inside the world */
	__u64 bt_user_exits;	/* stays that ended in guest user mode */
	__u64 reserved7[1];
};
#define HVMM_VCPU_SYS_STATS	_IOR(HVMM_IOC_MAGIC, 0x34, struct hvmm_sys_stats)

/* A device wrote guest-physical [gpa, gpa+len) behind the vCPU's back (DMA,
 * e.g. a virtio-blk read): the interpreter drops what it decoded from those
 * pages, as the interp engine's cpu__invalidate_phys does. Userland calls it
 * before the next HVMM_VCPU_SYS_RUN; ranges outside RAM are ignored.
 * 0, or -EINVAL before HVMM_VCPU_SET_SYSTEM. (An additive request: a
 * module without it answers -ENOTTY.) */
struct hvmm_phys_range {
	__u64 gpa, len;
};
#define HVMM_VCPU_INVALIDATE_PHYS _IOW(HVMM_IOC_MAGIC, 0x3e, struct hvmm_phys_range)

/* --- ABI 6: the in-kernel irqchip (docs/kirq.md) ----------------------------
 * With it on, the i8259 pair (0x20-0x21, 0xa0-0xa1, ELCR 0x4d0-0x4d1), the
 * i8254 PIT (0x40-0x43), port 0x61 and port 0x80 (writes dropped, reads
 * 0xff) are handled inside hvmm.ko by the same devices/pic.c and pit.c
 * userland runs: a guest timer tick needs no exit to userland. The PIC
 * drives the vCPU's INTR and answers its interrupt acknowledge itself
 * (HVMM_SRUN_IRQ/INJECT still work and come first). The PIT's clock is
 * CLOCK_MONOTONIC ns - clock_start_ns, the board's clock.
 * The device state moves as the raw C structs (struct pic, struct pit of
 * devices/, the same compiler and ABI on both sides); pic_size/pit_size are
 * the sender's sizeof and must match the receiver's. Pointer members are
 * the receiver's own, never taken from the image; counts and modes are
 * clamped to what the models accept.
 * HVMM_VCPU_KIRQ_SET: flags & HVMM_KIRQ_ON loads pic/pit/clock_start_ns and
 * turns the chip on; without it the chip goes off (state kept for GET).
 * HVMM_VCPU_SET_SYSTEM turns it off and resets it. Counters are read-only.
 * HVMM_VCPU_KIRQ_GET: the current state and counters.
 * HVMM_VCPU_KIRQ_LINES: the ISA IRQ lines userland devices drive (bit n =
 * IRQ n; IRQ 0 and 2 are the module's and ignored): `edges` are lines that
 * rose since the last call (each makes an edge-triggered input latch a
 * request even if the line is low again or was already high), `levels`
 * the levels now. Applied at once, before the next run. `wake_ns` is
 * userland's own next device deadline (CLOCK_MONOTONIC ns, ~0 for none):
 * with the chip on, a SYS_RUN that keeps running across instruction
 * budgets and host interrupts (up to 8 ms) returns by then.
 * HVMM_SX_HLT with the chip on: `addr` is the PIT's next IRQ0 deadline (ns
 * on the board clock, ~0 for none): sleep no later than it. */
#define HVMM_KIRQ_ON		1u
#define HVMM_KIRQ_NPORTS	12
/* the ports counted in pio[], in this order */
#define HVMM_KIRQ_PORTS { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, \
			  0x40, 0x41, 0x42, 0x43, 0x61, 0x80 }
struct hvmm_kirq_state {
	__u32 flags;		/* HVMM_KIRQ_ON */
	__u32 pic_size, pit_size;
	__u16 levels;		/* GET: ISA line levels as last applied */
	__u16 pad;
	__u64 clock_start_ns;
	/* counters (GET) */
	__u64 pio[HVMM_KIRQ_NPORTS];	/* guest accesses per port */
	__u64 acks;		/* interrupt acknowledges answered by the PIC */
	__u64 line_updates;	/* HVMM_VCPU_KIRQ_LINES calls */
	__u64 timer_kicks;	/* host timers armed at a PIT deadline */
	__u64 reserved[5];
	__u8 pic[128];		/* struct pic */
	__u8 pit[512];		/* struct pit */
};
struct hvmm_kirq_lines {
	__u16 levels, edges;
	__u32 pad;
	__u64 wake_ns;
};
#define HVMM_VCPU_KIRQ_SET	_IOW(HVMM_IOC_MAGIC, 0x40, struct hvmm_kirq_state)
#define HVMM_VCPU_KIRQ_GET	_IOR(HVMM_IOC_MAGIC, 0x41, struct hvmm_kirq_state)
#define HVMM_VCPU_KIRQ_LINES	_IOW(HVMM_IOC_MAGIC, 0x42, struct hvmm_kirq_lines)

#endif
