/* userland/loader-vmlinux.c — a bzImage's kernel decompressed by the loader.
 *
 * A bzImage's protected-mode part is a decompressor: the guest would first
 * run it to unpack the real kernel (vmlinux, an ELF image) from the payload
 * (boot protocol >= 2.08: payload_offset/payload_length), place its PT_LOAD
 * segments and jump to its 32-bit entry with ESI = boot_params. Under an
 * interpreter that stub is most of a boot: Debian's 686 kernel spends 2.3 G
 * of its 2.9 G instructions to /init in the XZ decoder. Like QEMU's and
 * firecracker's vmlinux/PVH boots, the loader does that work instead when
 * the payload is XZ (liblzma): the segments go to their physical addresses
 * (the kernel's link address, so no relocation is needed, i.e. no KASLR),
 * and the CPU starts at the ELF entry (startup_32 of vmlinux, which loads its
 * own GDT and clears its BSS). Anything else (other compressors, a payload
 * that does not decode or does not fit the kernel's own init_size window)
 * leaves the bzImage to decompress itself.
 */
#include "userland/loader.h"
#include "userland/loader-internal.h"

#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#define HDR_VERSION		0x206
#define HDR_SETUP_SECTS		0x1f1
#define HDR_PAYLOAD_OFFSET	0x248
#define HDR_PAYLOAD_LENGTH	0x24c
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

#define VMLINUX_MAX		(256u << 20)	/* decoded size bound */

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

/* Decodes the XZ stream [in, in+len) into a malloc'd buffer. */
static int unxz(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = len * 4 + 65536;
	uint8_t *buf = NULL;
	int rc = -EINVAL;

	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		uint8_t *nb = realloc(buf, cap);
		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		s.next_out = buf + s.total_out;
		s.avail_out = cap - s.total_out;
		lzma_ret r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_STREAM_END) {
			rc = 0;
			break;
		}
		if ((r != LZMA_OK && r != LZMA_BUF_ERROR) || s.avail_out || cap >= VMLINUX_MAX)
			break;	/* corrupt, truncated (no progress), or too large */
		cap = cap * 2 > VMLINUX_MAX ? VMLINUX_MAX : cap * 2;
	}
	if (!rc) {
		*out = buf;
		*outlen = s.total_out;
	} else {
		free(buf);
	}
	lzma_end(&s);
	return rc;
}

/* The PT_LOAD segments of a 32-bit x86 ELF image, checked against
 * [lo, hi) of guest RAM, then copied there (BSS zeroed) when place. */
static int elf_place(struct guest_ram *ram, const uint8_t *e, size_t len,
		     uint64_t lo, uint64_t hi, bool place, uint32_t *entry)
{
	if (len < 52 || memcmp(e, "\x7f" "ELF", 4) || e[4] != 1 || e[5] != 1 ||
	    ld16(e + 16) != 2 || ld16(e + 18) != 3)	/* ELFCLASS32, LSB, EXEC, 386 */
		return -EINVAL;
	uint32_t phoff = ld32(e + 28);
	unsigned phentsize = ld16(e + 42), phnum = ld16(e + 44), loads = 0;
	if (phentsize < 32 || phnum == 0 || phoff > len ||
	    (uint64_t)phnum * phentsize > len - phoff)
		return -EINVAL;
	*entry = ld32(e + 24);
	bool entry_ok = false;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = e + phoff + (size_t)i * phentsize;
		if (ld32(ph) != 1)			/* PT_LOAD */
			continue;
		uint64_t off = ld32(ph + 4), pa = ld32(ph + 12);
		uint64_t filesz = ld32(ph + 16), memsz = ld32(ph + 20);
		if (filesz > memsz || off + filesz > len || pa < lo || pa + memsz > hi ||
		    !loader__range_ok(ram, pa, memsz))
			return -EINVAL;
		if (*entry >= pa && *entry < pa + filesz)
			entry_ok = true;
		if (place) {
			memcpy(ram->host + pa, e + off, filesz);
			memset(ram->host + pa + filesz, 0, memsz - filesz);
		}
		loads++;
	}
	return loads && entry_ok ? 0 : -EINVAL;
}

int loader_vmlinux__load(struct guest_ram *ram, const uint8_t *img, size_t len,
			 uint64_t ram_top, uint32_t *entry)
{
	if (len < 0x264 || ld16(img + HDR_VERSION) < 0x20a)
		return -ENOENT;		/* no payload fields or no pref_address */
	unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	uint64_t pm = (uint64_t)(setup_sects + 1) * 512;
	uint64_t poff = pm + ld32(img + HDR_PAYLOAD_OFFSET), plen = ld32(img + HDR_PAYLOAD_LENGTH);
	if (poff > len || plen > len - poff || plen < sizeof(xz_magic) ||
	    memcmp(img + poff, xz_magic, sizeof(xz_magic)))
		return -ENOENT;
	/* the window the kernel itself would decompress into */
	uint64_t lo = ld32(img + HDR_PREF_ADDRESS), hi = lo + ld32(img + HDR_INIT_SIZE);
	if (img[HDR_PREF_ADDRESS + 4] || img[HDR_PREF_ADDRESS + 5] ||
	    img[HDR_PREF_ADDRESS + 6] || img[HDR_PREF_ADDRESS + 7] || hi > ram_top)
		return -ENOENT;
	uint8_t *elf;
	size_t elflen;
	int rc = unxz(img + poff, plen, &elf, &elflen);
	if (rc)
		return rc == -ENOMEM ? rc : -ENOENT;
	rc = elf_place(ram, elf, elflen, lo, hi, false, entry);
	if (!rc)
		rc = elf_place(ram, elf, elflen, lo, hi, true, entry);
	free(elf);
	return rc ? -ENOENT : 0;
}
