/* tests/unit/test_loader_multiboot.c — the Multiboot v1 loader with synthetic
 * ELF32 and a.out-kludge kernels: info structure, module, malformed images. */
#include "userland/loader.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE (32u << 20)
static struct guest_ram ram;
static struct e820_map map;
static uint8_t img[0x4000];

static int setup_suite(void)
{
	ram.size = RAM_SIZE;
	ram.host = calloc(1, RAM_SIZE);
	e820__build(&map, RAM_SIZE);
	return ram.host ? 0 : -1;
}

static int cleanup_suite(void)
{
	free(ram.host);
	return 0;
}

static void mb_header(size_t off, uint32_t flags)
{
	st32(img + off, 0x1badb002);
	st32(img + off + 4, flags);
	st32(img + off + 8, (uint32_t)-(0x1badb002u + flags));
}

/* ELF32 i386 executable: two PT_LOAD segments. Text at file 0x1000 -> 1 MiB
 * (vaddr 0xc0100000), data at file 0x2000 -> 0x200000 with 0x3000 of bss. */
static void make_elf(void)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 1, img[5] = 1, img[6] = 1;
	st16(img + 16, 2);			/* ET_EXEC */
	st16(img + 18, 3);			/* EM_386 */
	st32(img + 24, 0xc0100010);		/* entry (virtual) */
	st32(img + 28, 52);			/* phoff */
	st16(img + 42, 32);
	st16(img + 44, 2);
	uint8_t *ph = img + 52;
	st32(ph, 1), st32(ph + 4, 0x1000), st32(ph + 8, 0xc0100000), st32(ph + 12, 0x100000);
	st32(ph + 16, 0x1000), st32(ph + 20, 0x1000);
	ph += 32;
	st32(ph, 1), st32(ph + 4, 0x2000), st32(ph + 8, 0xc0200000), st32(ph + 12, 0x200000);
	st32(ph + 16, 0x800), st32(ph + 20, 0x3000);
	mb_header(0x1000, 0x3);			/* in the text segment, page-align + meminfo */
	memset(img + 0x1010, 0x90, 16);
	memset(img + 0x2000, 0xd4, 0x800);
}

/* a.out kludge: header at file 0x40, header_addr 0x100040, load from 0x100000. */
static void make_aout(uint32_t load_end, uint32_t bss_end)
{
	memset(img, 0, sizeof(img));
	mb_header(0x40, 0x10003);
	st32(img + 0x4c, 0x100040);		/* header_addr */
	st32(img + 0x50, 0x100000);		/* load_addr */
	st32(img + 0x54, load_end);
	st32(img + 0x58, bss_end);
	st32(img + 0x5c, 0x100060);		/* entry */
	memset(img + 0x60, 0xf4, 0x100);
}

static int load(size_t len, const uint8_t *mod, size_t mod_len, struct boot_entry *e)
{
	return loader_multiboot__load(&ram, &map, img, len, mod, mod_len, "kernel -v", "initrd.gz", e);
}

static void test_elf(void)
{
	make_elf();
	CU_ASSERT_EQUAL(loader__probe(img, sizeof(img)), IMAGE_MULTIBOOT);
	memset(ram.host + 0x200000, 0xee, 0x4000);
	static uint8_t mod[5000];
	memset(mod, 0x77, sizeof(mod));
	struct boot_entry e;
	CU_ASSERT_EQUAL_FATAL(load(sizeof(img), mod, sizeof(mod), &e), 0);
	CU_ASSERT_EQUAL(e.eax, 0x2badb002);
	CU_ASSERT_EQUAL(e.eip, 0x100010);		/* virtual entry made physical */
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x100000, img + 0x1000, 0x1000), 0);
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x200000, img + 0x2000, 0x800), 0);
	CU_ASSERT_EQUAL(ram.host[0x200800], 0);		/* bss zeroed */
	CU_ASSERT_EQUAL(ram.host[0x202fff], 0);
	CU_ASSERT_EQUAL(ram.host[0x203000], 0x77);	/* the module follows */
	uint8_t *mi = ram.host + e.ebx;
	uint32_t flags = ld32(mi);
	CU_ASSERT_EQUAL(flags & 0x24d, 0x24d);		/* mem, cmdline, mods, mmap, name */
	CU_ASSERT_EQUAL(ld32(mi + 4), 639);
	CU_ASSERT_EQUAL(ld32(mi + 8), (RAM_SIZE - 0x100000) >> 10);
	CU_ASSERT_STRING_EQUAL((char *)ram.host + ld32(mi + 16), "kernel -v");
	CU_ASSERT_EQUAL(ld32(mi + 20), 1);
	uint8_t *m = ram.host + ld32(mi + 24);
	uint32_t ms = ld32(m), me = ld32(m + 4);
	CU_ASSERT_EQUAL(ms & 0xfff, 0);
	CU_ASSERT(ms >= 0x203000);			/* after the kernel's bss */
	CU_ASSERT_EQUAL(me - ms, sizeof(mod));
	CU_ASSERT_EQUAL(memcmp(ram.host + ms, mod, sizeof(mod)), 0);
	CU_ASSERT_STRING_EQUAL((char *)ram.host + ld32(m + 8), "initrd.gz");
	CU_ASSERT(e.ebx >= me);				/* info after the module */
	/* memory map: size-prefixed entries equal to the e820 map */
	CU_ASSERT_EQUAL(ld32(mi + 44), 24 * map.n);
	uint8_t *mm = ram.host + ld32(mi + 48);
	for (unsigned i = 0; i < map.n; i++, mm += 24) {
		CU_ASSERT_EQUAL(ld32(mm), 20);
		CU_ASSERT_EQUAL(ld32(mm + 4), (uint32_t)map.e[i].addr);
		CU_ASSERT_EQUAL(ld32(mm + 12), (uint32_t)map.e[i].size);
		CU_ASSERT_EQUAL(ld32(mm + 20), map.e[i].type);
	}
	CU_ASSERT_STRING_EQUAL((char *)ram.host + ld32(mi + 64), "hvmm");
	CU_ASSERT_EQUAL(ld32(ram.host + e.gdt_base + 0x14), 0x00cf9b00);
	/* without a module: no MODS flag */
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), 0);
	CU_ASSERT_EQUAL(ld32(ram.host + e.ebx) & 0x8, 0);
}

static void test_aout(void)
{
	struct boot_entry e;
	make_aout(0x100160, 0x102000);
	memset(ram.host + 0x100000, 0xcc, 0x3000);
	CU_ASSERT_EQUAL_FATAL(load(0x1000, NULL, 0, &e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100060);
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x100000, img, 0x160), 0);
	CU_ASSERT_EQUAL(ram.host[0x100160], 0);		/* bss */
	CU_ASSERT_EQUAL(ram.host[0x101fff], 0);
	CU_ASSERT_EQUAL(e.ebx, 0x102000);		/* info in the next page */
	CU_ASSERT(e.ebx >= 0x102000);
	make_aout(0, 0);				/* load to end of file, no bss */
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), 0);
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x100000, img, 0x1000), 0);
}

static void test_malformed(void)
{
	struct boot_entry e;
	/* bad checksum, bad magic, header past 8 KiB, misaligned header */
	make_elf();
	st32(img + 0x1008, 0);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOEXEC);
	CU_ASSERT_EQUAL(loader__probe(img, sizeof(img)), -ENOEXEC);
	make_elf();
	memset(img + 0x1000, 0, 12);
	mb_header(0x2002, 3);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOEXEC);
	make_elf();
	memset(img + 0x1000, 0, 12);
	mb_header(0x2800, 3);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOEXEC);
	/* an unknown required flag */
	make_elf();
	mb_header(0x1000, 0x3 | (1u << 5));
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EOPNOTSUPP);
	/* not ELF32/i386 */
	make_elf();
	img[4] = 2;
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOEXEC);
	make_elf();
	st16(img + 18, 62);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOEXEC);
	/* truncated: segment beyond the file, program headers beyond the file */
	make_elf();
	CU_ASSERT_EQUAL(load(0x2400, NULL, 0, &e), -EINVAL);
	make_elf();
	st32(img + 28, 0x3ff0);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EINVAL);
	make_elf();
	st16(img + 44, 0xffff);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EINVAL);
	/* filesz > memsz */
	make_elf();
	st32(img + 52 + 32 + 20, 0x100);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EINVAL);
	/* overlapping segments */
	make_elf();
	st32(img + 52 + 32 + 12, 0x100800);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EINVAL);
	/* outside RAM, in the PC hole, huge memsz wrapping 4 GiB */
	make_elf();
	st32(img + 52 + 32 + 12, RAM_SIZE - 0x1000);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOMEM);
	make_elf();
	st32(img + 52 + 12, 0xb8000);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOMEM);
	make_elf();
	st32(img + 52 + 32 + 20, 0xffffff00);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -ENOMEM);
	/* entry outside every segment */
	make_elf();
	st32(img + 24, 0x8000000);
	CU_ASSERT_EQUAL(load(sizeof(img), NULL, 0, &e), -EINVAL);
	/* a module that does not fit */
	make_elf();
	CU_ASSERT_EQUAL(load(sizeof(img), img, RAM_SIZE, &e), -ENOMEM);
	/* a.out kludge: load_addr above header_addr, load_end past the file,
	 * bss below load_end, entry outside */
	make_aout(0x100160, 0x102000);
	st32(img + 0x50, 0x100080);
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -EINVAL);
	make_aout(0x100160, 0x102000);
	st32(img + 0x4c, 0x200040);			/* file offset would be negative */
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -EINVAL);
	make_aout(0x109000, 0);
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -EINVAL);
	make_aout(0x100160, 0x100100);
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -EINVAL);
	make_aout(0x100160, 0x102000);
	st32(img + 0x5c, 0x200000);
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -EINVAL);
	make_aout(0x100160, 0xfffff000);
	CU_ASSERT_EQUAL(load(0x1000, NULL, 0, &e), -ENOMEM);
	make_aout(0x100160, 0x102000);
	CU_ASSERT_EQUAL(load(0x50, NULL, 0, &e), -EINVAL);	/* header cut short */
	/* nothing at all */
	CU_ASSERT_EQUAL(loader_multiboot__load(&ram, &map, img, 0, NULL, 0, "", "", &e), -ENOEXEC);
	/* strings too long */
	make_elf();
	static char longcl[8192];
	memset(longcl, 'a', sizeof(longcl) - 1);
	CU_ASSERT_EQUAL(loader_multiboot__load(&ram, &map, img, sizeof(img), NULL, 0, longcl, "", &e), -E2BIG);
}

static CU_TestInfo loader_multiboot_tests[] = {
	{"elf", test_elf},
	{"aout_kludge", test_aout},
	{"malformed", test_malformed},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(loader_multiboot, .init = setup_suite, .cleanup = cleanup_suite,
	   .tests = loader_multiboot_tests);
