/* userland/loader-linux.c — the Linux/x86 boot protocol, 32-bit entry
 * (Documentation/x86/boot.rst): the protected-mode kernel of a bzImage goes to
 * 1 MiB, a boot_params "zero page" carries the setup header, the e820 map, the
 * command line and initrd pointers, and the CPU starts at the 32-bit entry in
 * flat protected mode with ESI = &boot_params, paging and interrupts off, and
 * EBP = EDI = EBX = 0. */
#include "userland/loader.h"

#include <errno.h>
#include <string.h>

/* Setup-header offsets (in the image and in boot_params alike). */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_SYSSIZE		0x1f4
#define HDR_VID_MODE		0x1fa
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define HDR_END_MAX		0x290	/* boot_params.edd_mbr_sig_buffer follows */

#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

#define LOADED_HIGH		0x01	/* loadflags: protected-mode code at 1 MiB */

int loader_linux__load(struct guest_ram *ram, const struct e820_map *map,
		       const uint8_t *img, size_t len,
		       const uint8_t *initrd, size_t initrd_len,
		       const char *cmdline, struct boot_entry *entry)
{
	return loader_linux__load_flags(ram, map, img, len, initrd, initrd_len, cmdline,
					0, entry);
}

int loader_linux__load_flags(struct guest_ram *ram, const struct e820_map *map,
			     const uint8_t *img, size_t len,
			     const uint8_t *initrd, size_t initrd_len,
			     const char *cmdline, unsigned flags, struct boot_entry *entry)
{
	if (!img || len < 0x264 || ld16(img + HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(img + HDR_MAGIC, "HdrS", 4))
		return -ENOEXEC;
	uint16_t version = ld16(img + HDR_VERSION);
	/* 2.06 gives cmdline_size; older kernels are not worth supporting. */
	if (version < 0x206 || !(img[HDR_LOADFLAGS] & LOADED_HIGH))
		return -EOPNOTSUPP;

	unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	size_t setup_len = (size_t)(setup_sects + 1) * 512;
	size_t hdr_end = 0x202 + img[HDR_JUMP + 1];
	if (hdr_end > HDR_END_MAX)
		hdr_end = HDR_END_MAX;
	if (setup_len >= len || hdr_end > setup_len)
		return -EINVAL;
	size_t pm_len = len - setup_len;
	/* syssize counts 16-byte paragraphs of the protected-mode part: an
	 * image shorter than that is truncated. */
	if ((uint64_t)ld32(img + HDR_SYSSIZE) * 16 > pm_len)
		return -EINVAL;

	uint64_t ram_top = e820__ram_top(map);
	if (ram_top > ram->size)
		ram_top = ram->size;
	if (!loader__range_ok(ram, LOADER_KERNEL_ADDR, pm_len) ||
	    LOADER_KERNEL_ADDR + pm_len > ram_top)
		return -ENOMEM;
	/* Protocol 2.10: the kernel decompresses to pref_address and needs
	 * init_size bytes there (more if loaded higher). */
	uint64_t kernel_end = LOADER_KERNEL_ADDR + pm_len;
	if (version >= 0x20a) {
		uint64_t pref = (uint64_t)ld32(img + HDR_PREF_ADDRESS) |
				(uint64_t)ld32(img + HDR_PREF_ADDRESS + 4) << 32;
		uint64_t need = (pref > LOADER_KERNEL_ADDR ? pref : LOADER_KERNEL_ADDR) +
				ld32(img + HDR_INIT_SIZE);
		if (need > ram_top)
			return -ENOMEM;
		if (need > kernel_end)
			kernel_end = need;
	}

	const char *cl = cmdline ? cmdline : "";
	size_t cl_len = strlen(cl);
	if (cl_len > ld32(img + HDR_CMDLINE_SIZE) || cl_len + 1 > LOADER_CMDLINE_MAX)
		return -E2BIG;

	uint64_t initrd_addr = 0;
	if (initrd && initrd_len) {
		uint64_t max = (uint64_t)ld32(img + HDR_INITRD_ADDR_MAX) + 1;
		if (max > ram_top)
			max = ram_top;
		if (initrd_len > max)
			return -ENOMEM;
		initrd_addr = (max - initrd_len) & ~0xfffull;
		if (initrd_addr < kernel_end)
			return -ENOMEM;
	}

	/* Everything checked: write guest memory. */
	uint32_t vmlinux_entry = 0;
	bool unpacked = (flags & LOADER_UNPACK) &&
			loader_vmlinux__load(ram, img, len, ram_top, &vmlinux_entry) == 0;
	if (!unpacked)
		memcpy(ram->host + LOADER_KERNEL_ADDR, img + setup_len, pm_len);

	uint8_t *bp = ram->host + LOADER_ZEROPAGE_ADDR;
	memset(bp, 0, 4096);
	memcpy(bp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	st16(bp + HDR_VID_MODE, 0xffff);		/* "normal" text mode */
	bp[HDR_TYPE_OF_LOADER] = 0xff;			/* undefined loader ID */
	st32(bp + HDR_CODE32_START, LOADER_KERNEL_ADDR);
	memcpy(ram->host + LOADER_CMDLINE_ADDR, cl, cl_len + 1);
	st32(bp + HDR_CMD_LINE_PTR, LOADER_CMDLINE_ADDR);
	if (initrd_addr) {
		memcpy(ram->host + initrd_addr, initrd, initrd_len);
		st32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
		st32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
	}
	unsigned n = map->n < BP_E820_MAX ? map->n : BP_E820_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		st64(e, map->e[i].addr);
		st64(e + 8, map->e[i].size);
		st32(e + 16, map->e[i].type);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;

	memset(entry, 0, sizeof(*entry));
	loader__write_gdt(ram, LOADER_GDT_ADDR, entry);
	entry->eip = unpacked ? vmlinux_entry : LOADER_KERNEL_ADDR;
	entry->esi = LOADER_ZEROPAGE_ADDR;
	entry->esp = LOADER_ZEROPAGE_ADDR;	/* the kernel sets its own stack */
	return 0;
}
