/* userland/loader.h — boot loaders: put a kernel into guest RAM and describe
 * the CPU state to start it in. Both loaders leave the CPU in flat 32-bit
 * protected mode (paging off, IF=0) with a GDT they wrote into guest memory.
 *
 * Guest-physical layout used by the loaders (below 1 MiB):
 *   0x00500  GDT: 0x08 unused, 0x10 flat code, 0x18 flat data (Linux's
 *            __BOOT_CS/__BOOT_DS, also fine for Multiboot)
 *   0x07000  Linux boot_params ("zero page"), 4 KiB; stack grows down below it
 *   0x20000  Linux command line
 * Multiboot info, memory map and module list sit in the page after the last
 * kernel segment / module (as QEMU does), so any Multiboot kernel above 1 MiB
 * is free to use low memory.
 */
#ifndef HVMM_LOADER_H
#define HVMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "devices/devices.h"

/* Guest RAM as the loaders see it (struct guest_ram, devices/devices.h):
 * guest-physical [0, size) is host[0, size). */

enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

#define E820_MAX 32
struct e820_map {
	struct e820_entry e[E820_MAX];
	unsigned n;
};

/* The CPU state a loaded kernel starts in. */
struct boot_entry {
	uint32_t eip, esp, eax, ebx, esi;
	uint32_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds;	/* flat 4 GiB segments from that GDT */
};

#define LOADER_GDT_ADDR		0x500u
#define LOADER_BOOT_CS		0x10u
#define LOADER_BOOT_DS		0x18u
#define LOADER_ZEROPAGE_ADDR	0x7000u
#define LOADER_CMDLINE_ADDR	0x20000u
#define LOADER_CMDLINE_MAX	0x10000u	/* up to 0x30000 */
#define LOADER_KERNEL_ADDR	0x100000u

enum image_kind { IMAGE_BZIMAGE = 1, IMAGE_MULTIBOOT = 2 };

/* Tells what an image is. Returns IMAGE_BZIMAGE, IMAGE_MULTIBOOT, or
 * -ENOEXEC for anything else. */
int loader__probe(const uint8_t *img, size_t len);

/* Fills a PC e820 map for size bytes of RAM: 639 KiB of base memory, the
 * EBDA and BIOS area reserved, RAM from 1 MiB to size. */
void e820__build(struct e820_map *map, uint64_t size);

/* Highest end of e820 RAM below 4 GiB that is contiguous from 1 MiB. */
uint64_t e820__ram_top(const struct e820_map *map);

/* Loads a bzImage (boot protocol >= 2.06) with an optional initrd and command
 * line. Returns 0 and *entry, or -ENOEXEC (not a bzImage), -EOPNOTSUPP (old
 * protocol or not loaded high), -E2BIG (command line too long), -ENOMEM (does
 * not fit in RAM), -EINVAL (inconsistent header). */
int loader_linux__load(struct guest_ram *ram, const struct e820_map *map,
		       const uint8_t *img, size_t len,
		       const uint8_t *initrd, size_t initrd_len,
		       const char *cmdline, struct boot_entry *entry);
/* The same; with LOADER_UNPACK the kernel of a bzImage whose payload is XZ
 * is decompressed here and started at its vmlinux entry (no KASLR), see
 * loader-vmlinux.c; a payload that cannot be unpacked boots as usual. */
#define LOADER_UNPACK	1u
int loader_linux__load_flags(struct guest_ram *ram, const struct e820_map *map,
			     const uint8_t *img, size_t len,
			     const uint8_t *initrd, size_t initrd_len,
			     const char *cmdline, unsigned flags, struct boot_entry *entry);
/* Places the vmlinux of an XZ bzImage payload inside the kernel's own
 * window [pref_address, + init_size) below ram_top and gives its entry.
 * 0, -ENOENT (not applicable: left to the bzImage) or -ENOMEM. Writes guest
 * memory only when it returns 0. */
int loader_vmlinux__load(struct guest_ram *ram, const uint8_t *img, size_t len,
			 uint64_t ram_top, uint32_t *entry);

/* Loads a Multiboot v1 kernel (ELF32 or a.out kludge); an initrd becomes the
 * single module with module_cmdline. Returns 0 and *entry, or -ENOEXEC (no
 * header, bad checksum, not ELF32/i386), -EOPNOTSUPP (a required feature we
 * lack), -ENOMEM (outside RAM or in the PC hole), -EINVAL (inconsistent
 * header, overlapping or truncated segments), -E2BIG (strings too long). */
int loader_multiboot__load(struct guest_ram *ram, const struct e820_map *map,
			   const uint8_t *img, size_t len,
			   const uint8_t *initrd, size_t initrd_len,
			   const char *cmdline, const char *module_cmdline,
			   struct boot_entry *entry);

/* Shared helpers (loader.c). */
/* True if guest-physical [addr, addr+len) is RAM a loader may write: inside
 * ram and not in the PC hole 0xa0000-0xfffff. */
int loader__range_ok(const struct guest_ram *ram, uint64_t addr, uint64_t len);
/* Writes the flat GDT at addr and fills entry's GDT and selector fields. */
void loader__write_gdt(struct guest_ram *ram, uint32_t addr, struct boot_entry *entry);
/* Little-endian field access on a byte buffer. */
static inline uint32_t ld32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void st32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static inline void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, (uint32_t)(v >> 32)); }

#endif
