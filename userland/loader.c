/* userland/loader.c — what loaders share: image probing, the e820 map, the
 * boot GDT, guest-RAM range checks. */
#include "userland/loader.h"
#include "userland/loader-internal.h"

#include <errno.h>
#include <string.h>

#define PC_HOLE_START	0xa0000u
#define PC_HOLE_END	0x100000u
#define EBDA_START	0x9fc00u

int loader__probe(const uint8_t *img, size_t len)
{
	if (!img)
		return -ENOEXEC;
	if (len >= 0x206 && ld16(img + 0x1fe) == 0xaa55 && !memcmp(img + 0x202, "HdrS", 4))
		return IMAGE_BZIMAGE;
	if (multiboot__find_header(img, len) >= 0)
		return IMAGE_MULTIBOOT;
	return -ENOEXEC;
}

long multiboot__find_header(const uint8_t *img, size_t len)
{
	/* Multiboot 1 spec §3.1.1: the header lies within the first 8192 bytes,
	 * 32-bit aligned; magic + flags + checksum == 0 (mod 2^32). */
	size_t lim = len < 8192 ? len : 8192;
	for (size_t off = 0; off + 12 <= lim; off += 4) {
		if (ld32(img + off) != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(ld32(img + off) + ld32(img + off + 4) + ld32(img + off + 8)) == 0)
			return (long)off;
	}
	return -1;
}

static void e820_add(struct e820_map *map, uint64_t addr, uint64_t end, uint32_t type)
{
	if (end > addr && map->n < E820_MAX)
		map->e[map->n++] = (struct e820_entry){ .addr = addr, .size = end - addr, .type = type };
}

void e820__build(struct e820_map *map, uint64_t size)
{
	memset(map, 0, sizeof(*map));
	uint64_t base_end = size < EBDA_START ? size : EBDA_START;
	e820_add(map, 0, base_end, E820_RAM);
	/* EBDA (where a BIOS keeps its data; Linux avoids it) and the BIOS area
	 * 0xe0000-0xfffff that holds the ACPI tables and RSDP. */
	e820_add(map, EBDA_START, PC_HOLE_START, E820_RESERVED);
	e820_add(map, 0xe0000, PC_HOLE_END, E820_RESERVED);
	if (size > PC_HOLE_END)
		e820_add(map, PC_HOLE_END, size, E820_RAM);
}

uint64_t e820__ram_top(const struct e820_map *map)
{
	uint64_t top = PC_HOLE_END;
	bool grew = true;
	while (grew) {			/* follow RAM entries that continue the run */
		grew = false;
		for (unsigned i = 0; i < map->n; i++) {
			const struct e820_entry *e = &map->e[i];
			if (e->type == E820_RAM && e->addr <= top && e->addr + e->size > top &&
			    e->addr + e->size <= (1ull << 32)) {
				top = e->addr + e->size;
				grew = true;
			}
		}
	}
	return top;
}

int loader__range_ok(const struct guest_ram *ram, uint64_t addr, uint64_t len)
{
	if (addr + len < addr || addr + len > ram->size)
		return 0;
	if (len && addr < PC_HOLE_END && addr + len > PC_HOLE_START)
		return 0;
	return 1;
}

/* A flat segment descriptor (SDM Vol. 3A §3.4.5): base 0, limit 0xfffff with
 * G=1 (4 GiB), D/B=1 (32-bit), P=1, DPL 0, S=1, type in access byte bits 0-3.
 * The accessed bit is preset so the CPU need not write the GDT. */
static uint64_t flat_desc(uint8_t type)
{
	return 0xffffull | (0xfull << 48) | (0xcull << 52) |	/* limit, G, D/B */
	       ((uint64_t)(0x90 | type) << 40);		/* P=1, S=1, type */
}

void loader__write_gdt(struct guest_ram *ram, uint32_t addr, struct boot_entry *entry)
{
	uint8_t *g = ram->host + addr;
	memset(g, 0, 0x20);
	st64(g + LOADER_BOOT_CS, flat_desc(0xb));	/* execute/read, accessed */
	st64(g + LOADER_BOOT_DS, flat_desc(0x3));	/* read/write, accessed */
	entry->gdt_base = addr;
	entry->gdt_limit = 0x1f;
	entry->cs = LOADER_BOOT_CS;
	entry->ds = LOADER_BOOT_DS;
}
