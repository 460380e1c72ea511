/* tests/unit/test_loader_linux.c — the Linux boot protocol loader with
 * synthetic bzImages: the zero page it writes, and malformed images. */
#include "userland/loader.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE (64u << 20)
static struct guest_ram ram;
static struct e820_map map;
static uint8_t *img;
static size_t img_len;

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
	free(img);
	return 0;
}

/* A bzImage: 4 setup sectors + boot sector, then pm_len bytes of "kernel". */
static void make_bzimage(size_t pm_len, uint16_t version)
{
	free(img);
	img_len = 5 * 512 + pm_len;
	img = calloc(1, img_len);
	img[0x1f1] = 4;
	st32(img + 0x1f4, (uint32_t)(pm_len / 16));
	st16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	st16(img + 0x206, version);
	img[0x211] = 0x01;			/* LOADED_HIGH */
	st32(img + 0x214, 0x100000);
	st32(img + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	st32(img + 0x230, 0x200000);
	st32(img + 0x238, 2047);		/* cmdline_size */
	st32(img + 0x258, 0x1000000);		/* pref_address 16 MiB */
	st32(img + 0x260, 0x800000);		/* init_size 8 MiB */
	for (size_t i = 0; i < pm_len; i++)
		img[5 * 512 + i] = (uint8_t)(i * 7 + 1);
}

static int load(const uint8_t *rd, size_t rd_len, const char *cl, struct boot_entry *e)
{
	return loader_linux__load(&ram, &map, img, img_len, rd, rd_len, cl, e);
}

static void test_good_image(void)
{
	make_bzimage(0x4000, 0x20f);
	CU_ASSERT_EQUAL(loader__probe(img, img_len), IMAGE_BZIMAGE);
	static uint8_t rd[10000];
	memset(rd, 0x5a, sizeof(rd));
	struct boot_entry e;
	memset(ram.host, 0xcc, 0x200000);
	CU_ASSERT_EQUAL_FATAL(load(rd, sizeof(rd), "console=ttyS0 root=/dev/ram", &e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	CU_ASSERT_EQUAL(e.esi, LOADER_ZEROPAGE_ADDR);
	CU_ASSERT_EQUAL(e.cs, 0x10);
	CU_ASSERT_EQUAL(e.ds, 0x18);
	CU_ASSERT_EQUAL(e.eax | e.ebx, 0);
	/* kernel bytes at 1 MiB */
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x100000, img + 5 * 512, 0x4000), 0);
	uint8_t *bp = ram.host + LOADER_ZEROPAGE_ADDR;
	CU_ASSERT_EQUAL(memcmp(bp + 0x202, "HdrS", 4), 0);
	CU_ASSERT_EQUAL(bp[0x210], 0xff);		/* type_of_loader */
	CU_ASSERT_EQUAL(ld16(bp + 0x1fa), 0xffff);	/* vid_mode */
	CU_ASSERT_EQUAL(bp[0x0], 0);			/* screen_info zeroed */
	CU_ASSERT_EQUAL(bp[0x290], 0);			/* beyond the header: zero */
	uint32_t clp = ld32(bp + 0x228);
	CU_ASSERT_STRING_EQUAL((char *)ram.host + clp, "console=ttyS0 root=/dev/ram");
	/* initrd: page-aligned, at the top of RAM, bytes intact */
	uint32_t rdi = ld32(bp + 0x218);
	CU_ASSERT_EQUAL(rdi & 0xfff, 0);
	CU_ASSERT_EQUAL(ld32(bp + 0x21c), sizeof(rd));
	CU_ASSERT(rdi + sizeof(rd) <= RAM_SIZE && rdi + sizeof(rd) + 0x1000 > RAM_SIZE);
	CU_ASSERT_EQUAL(memcmp(ram.host + rdi, rd, sizeof(rd)), 0);
	/* e820: the map the board built, in boot_params */
	CU_ASSERT_EQUAL(bp[0x1e8], map.n);
	int found_high = 0;
	for (unsigned i = 0; i < bp[0x1e8]; i++) {
		uint8_t *ent = bp + 0x2d0 + 20 * i;
		if (ld32(ent) == 0x100000 && ld32(ent + 16) == E820_RAM &&
		    ld32(ent + 8) == RAM_SIZE - 0x100000)
			found_high = 1;
	}
	CU_ASSERT_TRUE(found_high);
	/* GDT: flat code at 0x10, flat data at 0x18 */
	uint8_t *g = ram.host + e.gdt_base;
	CU_ASSERT_EQUAL(ld32(g + 0x10), 0x0000ffff);
	CU_ASSERT_EQUAL(ld32(g + 0x14), 0x00cf9b00);
	CU_ASSERT_EQUAL(ld32(g + 0x1c), 0x00cf9300);
	CU_ASSERT_EQUAL(e.gdt_limit, 0x1f);
}

static void test_no_initrd_no_cmdline(void)
{
	make_bzimage(0x1000, 0x206);
	struct boot_entry e;
	CU_ASSERT_EQUAL(load(NULL, 0, NULL, &e), 0);
	uint8_t *bp = ram.host + LOADER_ZEROPAGE_ADDR;
	CU_ASSERT_EQUAL(ld32(bp + 0x218), 0);
	CU_ASSERT_EQUAL(ld32(bp + 0x21c), 0);
	CU_ASSERT_STRING_EQUAL((char *)ram.host + ld32(bp + 0x228), "");
}

static void test_malformed(void)
{
	struct boot_entry e;
	make_bzimage(0x1000, 0x20f);
	/* truncated: shorter than syssize says, or shorter than the setup */
	CU_ASSERT_EQUAL(loader_linux__load(&ram, &map, img, img_len - 32, NULL, 0, "", &e), -EINVAL);
	CU_ASSERT_EQUAL(loader_linux__load(&ram, &map, img, 0x300, NULL, 0, "", &e), -EINVAL);
	CU_ASSERT_EQUAL(loader_linux__load(&ram, &map, img, 0x100, NULL, 0, "", &e), -ENOEXEC);
	CU_ASSERT_EQUAL(loader_linux__load(&ram, &map, NULL, 0, NULL, 0, "", &e), -ENOEXEC);
	/* bad magics */
	img[0x203] = 'x';
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -ENOEXEC);
	CU_ASSERT_EQUAL(loader__probe(img, img_len), -ENOEXEC);
	make_bzimage(0x1000, 0x20f);
	img[0x1fe] = 0;
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -ENOEXEC);
	/* old protocol, zImage */
	make_bzimage(0x1000, 0x205);
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -EOPNOTSUPP);
	make_bzimage(0x1000, 0x20f);
	img[0x211] = 0;
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -EOPNOTSUPP);
	/* setup_sects beyond the file */
	make_bzimage(0x1000, 0x20f);
	img[0x1f1] = 200;
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -EINVAL);
	/* command line longer than cmdline_size */
	make_bzimage(0x1000, 0x20f);
	st32(img + 0x238, 8);
	CU_ASSERT_EQUAL(load(NULL, 0, "123456789", &e), -E2BIG);
	CU_ASSERT_EQUAL(load(NULL, 0, "12345678", &e), 0);
	/* huge sizes: kernel decompression beyond RAM, initrd larger than RAM */
	make_bzimage(0x1000, 0x20f);
	st32(img + 0x260, 0xfff00000);
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), -ENOMEM);
	make_bzimage(0x1000, 0x20f);
	CU_ASSERT_EQUAL(loader_linux__load(&ram, &map, img, img_len, img, RAM_SIZE + 1, "", &e), -ENOMEM);
	/* initrd_addr_max below the kernel: nowhere to put the initrd */
	st32(img + 0x22c, 0x00ffffff);
	static uint8_t rd[4096];
	CU_ASSERT_EQUAL(load(rd, sizeof(rd), "", &e), -ENOMEM);
	/* a kernel bigger than RAM */
	struct guest_ram small = { ram.host, 2u << 20 };
	struct e820_map sm;
	e820__build(&sm, small.size);
	make_bzimage(0x180000, 0x209);
	CU_ASSERT_EQUAL(loader_linux__load(&small, &sm, img, img_len, NULL, 0, "", &e), -ENOMEM);
}

static void test_e820(void)
{
	struct e820_map m;
	e820__build(&m, 256u << 20);
	CU_ASSERT_EQUAL(m.n, 4);
	CU_ASSERT_EQUAL(m.e[0].addr, 0);
	CU_ASSERT_EQUAL(m.e[0].size, 0x9fc00);
	CU_ASSERT_EQUAL(m.e[0].type, E820_RAM);
	CU_ASSERT_EQUAL(e820__ram_top(&m), 256u << 20);
	for (unsigned i = 0; i < m.n; i++)	/* nothing RAM inside the PC hole */
		if (m.e[i].type == E820_RAM)
			CU_ASSERT(m.e[i].addr >= 0x100000 || m.e[i].addr + m.e[i].size <= 0xa0000);
	CU_ASSERT_FALSE(loader__range_ok(&ram, 0x9f000, 0x2000));
	CU_ASSERT_FALSE(loader__range_ok(&ram, RAM_SIZE - 1, 2));
	CU_ASSERT_FALSE(loader__range_ok(&ram, UINT64_MAX - 1, 4));
	CU_ASSERT_TRUE(loader__range_ok(&ram, 0x100000, RAM_SIZE - 0x100000));
}

/* A 32-bit vmlinux ELF: two PT_LOAD segments (0x1000000: 0x2000 bytes of
 * code; 0x1100000: 0x100 bytes + BSS to 0x1180000), entry 0x1000040. */
static size_t make_vmlinux(uint8_t *e, uint32_t entry)
{
	memset(e, 0, 0x3200);
	memcpy(e, "\x7f" "ELF\x01\x01\x01", 7);
	st16(e + 16, 2);			/* ET_EXEC */
	st16(e + 18, 3);			/* EM_386 */
	st32(e + 24, entry);
	st32(e + 28, 52);			/* phoff */
	st16(e + 42, 32);
	st16(e + 44, 2);
	uint8_t *ph = e + 52;
	st32(ph, 1); st32(ph + 4, 0x1000); st32(ph + 8, 0xc1000000u);
	st32(ph + 12, 0x1000000); st32(ph + 16, 0x2000); st32(ph + 20, 0x2000);
	ph += 32;
	st32(ph, 1); st32(ph + 4, 0x3000); st32(ph + 8, 0xc1100000u);
	st32(ph + 12, 0x1100000); st32(ph + 16, 0x100); st32(ph + 20, 0x80000);
	for (int i = 0; i < 0x2000; i++)
		e[0x1000 + i] = (uint8_t)(i * 13 + 5);
	memset(e + 0x3000, 0xab, 0x100);
	return 0x3100;
}

/* make_bzimage with its payload (payload_offset 0x40 into the pm part)
 * being xz(data) when xz, else data as it is. */
static void make_bzimage_payload(const uint8_t *data, size_t len, bool xz)
{
	static uint8_t out[65536];
	size_t olen = 0;
	if (xz) {
		CU_ASSERT_FATAL(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, data, len,
							out, &olen, sizeof(out)) == LZMA_OK);
	} else {
		memcpy(out, data, olen = len);
	}
	make_bzimage(0x40 + olen, 0x20f);
	memcpy(img + 5 * 512 + 0x40, out, olen);
	st32(img + 0x248, 0x40);
	st32(img + 0x24c, (uint32_t)olen);
}

static int load_unpack(struct boot_entry *e)
{
	return loader_linux__load_flags(&ram, &map, img, img_len, NULL, 0, "", LOADER_UNPACK, e);
}

static void test_vmlinux_unpack(void)
{
	static uint8_t elf[0x3200];
	size_t n = make_vmlinux(elf, 0x1000040);
	struct boot_entry e;

	make_bzimage_payload(elf, n, true);
	memset(ram.host + 0x1000000, 0xcc, 0x200000);
	CU_ASSERT_EQUAL_FATAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x1000040);
	CU_ASSERT_EQUAL(e.esi, LOADER_ZEROPAGE_ADDR);
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x1000000, elf + 0x1000, 0x2000), 0);
	CU_ASSERT_EQUAL(memcmp(ram.host + 0x1100000, elf + 0x3000, 0x100), 0);
	CU_ASSERT_EQUAL(ram.host[0x1100100], 0);	/* BSS zeroed */
	CU_ASSERT_EQUAL(ram.host[0x117ffff], 0);
	CU_ASSERT_EQUAL(ram.host[0x1180000], 0xcc);	/* nothing beyond */
	/* without the flag: the bzImage decompresses itself */
	CU_ASSERT_EQUAL(load(NULL, 0, "", &e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	/* each of these falls back to the bzImage's own decompressor */
	make_vmlinux(elf, 0x1003000);			/* entry outside the code */
	make_bzimage_payload(elf, n, true);
	CU_ASSERT_EQUAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	make_vmlinux(elf, 0x1000040);
	st32(elf + 52 + 32 + 20, 0x900000);		/* BSS past init_size */
	make_bzimage_payload(elf, n, true);
	CU_ASSERT_EQUAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	make_vmlinux(elf, 0x1000040);
	make_bzimage_payload(elf, n, true);
	img[img_len - 20] ^= 0x55;			/* corrupt stream */
	CU_ASSERT_EQUAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	make_bzimage_payload(elf, n, false);		/* not XZ */
	CU_ASSERT_EQUAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
	make_bzimage_payload(elf, n, true);
	st32(img + 0x24c, 0x7fffff00);			/* payload beyond the file */
	CU_ASSERT_EQUAL(load_unpack(&e), 0);
	CU_ASSERT_EQUAL(e.eip, 0x100000);
}

static CU_TestInfo loader_linux_tests[] = {
	{ "XZ payload unpacked to vmlinux, fallbacks", test_vmlinux_unpack },
	{"good_image", test_good_image},
	{"no_initrd_no_cmdline", test_no_initrd_no_cmdline},
	{"malformed", test_malformed},
	{"e820", test_e820},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(loader_linux, .init = setup_suite, .cleanup = cleanup_suite,
	   .tests = loader_linux_tests);
