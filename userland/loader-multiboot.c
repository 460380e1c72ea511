/* userland/loader-multiboot.c — Multiboot v1 (the GNU Multiboot Specification
 * 0.6.96): ELF32 kernels and the a.out kludge, memory info and map, command
 * line, and the --initrd file as the single module (as QEMU's -kernel does).
 * The info structures go in RAM after the kernel and module, page-aligned. */
#include "userland/loader.h"
#include "userland/loader-internal.h"

#include <errno.h>
#include <string.h>

/* Header flags (spec §3.1.2). Bits 0-15 are requirements: a loader that does
 * not understand one must refuse the image. */
#define MBH_PAGE_ALIGN	(1u << 0)	/* modules page-aligned: always true here */
#define MBH_MEMORY_INFO	(1u << 1)	/* mem_* fields: always given */
#define MBH_VIDEO_MODE	(1u << 2)	/* a preferred mode: we have no video, ignored */
#define MBH_AOUT_KLUDGE	(1u << 16)	/* load from header address fields */
#define MBH_KNOWN_REQ	(MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE)

/* Info flags (spec §3.3). */
#define MBI_MEMORY	(1u << 0)
#define MBI_CMDLINE	(1u << 2)
#define MBI_MODS	(1u << 3)
#define MBI_MMAP	(1u << 6)
#define MBI_LOADER_NAME	(1u << 9)

/* Our layout of the info area (offsets from its page-aligned base). */
#define MBA_INFO	0x000
#define MBA_MMAP	0x080	/* 24-byte entries, E820_MAX of them */
#define MBA_MODS	0x380
#define MBA_NAME	0x390
#define MBA_GDT		0x3e0
#define MBA_STRINGS	0x400
#define MB_STRING_MAX	4096
#define MB_MAX_PHDRS	256

#define PAGE_UP(x)	(((x) + 0xfffull) & ~0xfffull)

struct seg {
	uint64_t paddr, memsz, filesz;
	uint64_t offset;
};

static bool overlaps(const struct seg *s, unsigned n, const struct seg *t)
{
	for (unsigned i = 0; i < n; i++)
		if (t->paddr < s[i].paddr + s[i].memsz && s[i].paddr < t->paddr + t->memsz)
			return true;
	return false;
}

/* Reads the ELF32 program headers into segs. Returns the count or -errno. */
static int elf_segments(const uint8_t *img, size_t len, struct seg *segs, uint32_t *eip)
{
	if (len < 52 || memcmp(img, "\x7f" "ELF", 4))
		return -ENOEXEC;
	if (img[4] != 1 || img[5] != 1 || ld16(img + 18) != 3)	/* ELF32, LE, EM_386 */
		return -ENOEXEC;
	if (ld16(img + 16) != 2)				/* ET_EXEC */
		return -ENOEXEC;
	uint64_t phoff = ld32(img + 28);
	unsigned phentsize = ld16(img + 42), phnum = ld16(img + 44);
	if (phentsize < 32 || phnum == 0 || phnum > MB_MAX_PHDRS ||
	    phoff + (uint64_t)phentsize * phnum > len)
		return -EINVAL;
	uint32_t entry = ld32(img + 24);
	bool entry_found = false;
	int n = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
		if (ld32(ph) != 1)				/* PT_LOAD */
			continue;
		struct seg s = {
			.offset = ld32(ph + 4), .paddr = ld32(ph + 12),
			.filesz = ld32(ph + 16), .memsz = ld32(ph + 20),
		};
		uint32_t vaddr = ld32(ph + 8);
		if (!s.memsz)
			continue;
		if (s.filesz > s.memsz || s.offset + s.filesz > len)
			return -EINVAL;
		if (overlaps(segs, (unsigned)n, &s))
			return -EINVAL;
		/* The entry is a virtual address; run it at its physical copy
		 * (kernels linked high but loaded low, as QEMU translates it). */
		if (!entry_found && entry - vaddr < s.memsz) {
			*eip = (uint32_t)(entry - vaddr + s.paddr);
			entry_found = true;
		}
		segs[n++] = s;
	}
	if (!n || !entry_found)
		return -EINVAL;
	return n;
}

/* The a.out kludge (spec §3.1.3): addresses come from the header. */
static int aout_segment(const uint8_t *img, size_t len, long hoff, struct seg *s, uint32_t *eip)
{
	const uint8_t *h = img + hoff;
	if ((size_t)hoff + 32 > len)
		return -EINVAL;
	uint32_t header_addr = ld32(h + 12), load_addr = ld32(h + 16);
	uint32_t load_end = ld32(h + 20), bss_end = ld32(h + 24), entry = ld32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > (uint64_t)hoff)
		return -EINVAL;
	s->offset = (uint64_t)hoff - (header_addr - load_addr);
	if (load_end == 0) {
		s->filesz = len - s->offset;
	} else {
		if (load_end <= load_addr || load_end - load_addr > len - s->offset)
			return -EINVAL;
		s->filesz = load_end - load_addr;
	}
	s->paddr = load_addr;
	s->memsz = s->filesz;
	if (bss_end) {
		if (bss_end < load_addr + s->filesz)
			return -EINVAL;
		s->memsz = bss_end - load_addr;
	}
	if (entry - load_addr >= s->memsz)
		return -EINVAL;
	*eip = entry;
	return 1;
}

int loader_multiboot__load(struct guest_ram *ram, const struct e820_map *map,
			   const uint8_t *img, size_t len,
			   const uint8_t *initrd, size_t initrd_len,
			   const char *cmdline, const char *module_cmdline,
			   struct boot_entry *entry)
{
	if (!img)
		return -ENOEXEC;
	long hoff = multiboot__find_header(img, len);
	if (hoff < 0)
		return -ENOEXEC;
	uint32_t hflags = ld32(img + hoff + 4);
	if (hflags & 0xffffu & ~MBH_KNOWN_REQ)
		return -EOPNOTSUPP;

	static struct seg segs[MB_MAX_PHDRS];
	uint32_t eip = 0;
	int n = (hflags & MBH_AOUT_KLUDGE) ? aout_segment(img, len, hoff, segs, &eip)
					   : elf_segments(img, len, segs, &eip);
	if (n < 0)
		return n;
	uint64_t end = 0;
	for (int i = 0; i < n; i++) {
		if (!loader__range_ok(ram, segs[i].paddr, segs[i].memsz))
			return -ENOMEM;
		if (segs[i].paddr + segs[i].memsz > end)
			end = segs[i].paddr + segs[i].memsz;
	}

	const char *cl = cmdline ? cmdline : "";
	const char *mcl = module_cmdline ? module_cmdline : "";
	size_t cl_len = strlen(cl) + 1, mcl_len = strlen(mcl) + 1;
	if (cl_len > MB_STRING_MAX || mcl_len > MB_STRING_MAX)
		return -E2BIG;

	/* Place the module, then the info area, after the kernel. */
	uint64_t mod_addr = PAGE_UP(end), mod_end = mod_addr;
	if (initrd && initrd_len)
		mod_end = mod_addr + initrd_len;
	uint64_t info = PAGE_UP(mod_end);
	uint64_t info_len = MBA_STRINGS + cl_len + mcl_len;
	if (mod_addr < 0x100000 || !loader__range_ok(ram, mod_addr, mod_end - mod_addr) ||
	    !loader__range_ok(ram, info, info_len) || info + info_len > (1ull << 32))
		return -ENOMEM;

	/* All checked: write guest memory. */
	for (int i = 0; i < n; i++) {
		uint8_t *dst = ram->host + segs[i].paddr;
		memcpy(dst, img + segs[i].offset, segs[i].filesz);
		memset(dst + segs[i].filesz, 0, segs[i].memsz - segs[i].filesz);
	}
	if (mod_end > mod_addr)
		memcpy(ram->host + mod_addr, initrd, initrd_len);

	uint8_t *mi = ram->host + info;
	memset(mi, 0, MBA_STRINGS);
	uint32_t flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	/* mem_lower: KiB from 0 (max 640); mem_upper: KiB of RAM from 1 MiB up
	 * to the first hole. */
	st32(mi + 4, 639);
	st32(mi + 8, (uint32_t)((e820__ram_top(map) - 0x100000) >> 10));
	uint32_t s = (uint32_t)info + MBA_STRINGS;
	memcpy(ram->host + s, cl, cl_len);
	st32(mi + 16, s);
	if (mod_end > mod_addr) {
		uint8_t *m = mi + MBA_MODS;
		memcpy(ram->host + s + cl_len, mcl, mcl_len);
		st32(m, (uint32_t)mod_addr);
		st32(m + 4, (uint32_t)mod_end);
		st32(m + 8, s + (uint32_t)cl_len);
		st32(m + 12, 0);
		st32(mi + 20, 1);
		st32(mi + 24, (uint32_t)info + MBA_MODS);
		flags |= MBI_MODS;
	}
	/* Memory map: each entry is preceded by its size, not counting the size
	 * field itself (20). */
	for (unsigned i = 0; i < map->n; i++) {
		uint8_t *e = mi + MBA_MMAP + 24 * i;
		st32(e, 20);
		st64(e + 4, map->e[i].addr);
		st64(e + 12, map->e[i].size);
		st32(e + 20, map->e[i].type);
	}
	st32(mi + 44, 24 * map->n);
	st32(mi + 48, (uint32_t)info + MBA_MMAP);
	memcpy(mi + MBA_NAME, "hvmm", 5);
	st32(mi + 64, (uint32_t)info + MBA_NAME);
	st32(mi, flags);

	memset(entry, 0, sizeof(*entry));
	loader__write_gdt(ram, (uint32_t)info + MBA_GDT, entry);
	entry->eip = eip;
	entry->eax = MB_BOOT_MAGIC;
	entry->ebx = (uint32_t)info;
	return 0;
}
