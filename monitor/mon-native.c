/* monitor/mon-native.c — pure helpers for native guest user mode from
 * system mode: sanitised descriptors, FXSAVE image conversion, EFLAGS.
 * See monitor/mon-native.h and docs/hybrid.md. */
#include "monitor/mon-native.h"

/* Descriptor bits (SDM Vol. 3A §3.4.5). In @attr: 0-3 type, 4 S, 5-6 DPL,
 * 7 P, 12 AVL, 13 L, 14 D/B, 15 G. */
#define A_TYPE_CODE	0x8
#define A_TYPE_CONF	0x4	/* code: conforming; data: expand-down */
#define A_TYPE_RW	0x2	/* code: readable; data: writable */
#define A_TYPE_ACC	0x1
#define A_S		0x10
#define A_DPL3		0x60
#define A_P		0x80
#define A_DB		0x4000

int mon_native__desc(int seg, uint16_t attr, uint32_t base, uint32_t limit,
		     uint64_t *desc)
{
	unsigned type = attr & 0xf, dpl = (attr >> 5) & 3;
	uint64_t d, raw;
	bool code = type & A_TYPE_CODE;

	if (!(attr & A_P) || !(attr & A_S))
		return -1;
	switch (seg) {
	case 1:		/* CS: code; non-conforming DPL 3, or conforming */
		if (!code || (!(type & A_TYPE_CONF) && dpl != 3))
			return -1;
		/* base + EIP past 4 GiB wraps in IA-32, but a compatibility-
		 * mode fetch under QEMU TCG is not truncated: it reaches
		 * linear 0x1_0000_xxxx (found by the hostile kernel
		 * far-crafted: an endless hidden-fault loop on CR2 above
		 * 4 GiB). Such code stays interpreted. */
		if ((uint64_t)base + limit > 0xffffffffull)
			return -1;
		type &= ~A_TYPE_CONF;
		break;
	case 2:		/* SS: writable data, DPL 3 (= CPL) */
		if (code || !(type & A_TYPE_RW) || dpl != 3)
			return -1;
		break;
	default:	/* data, or readable code */
		if (code && !(type & A_TYPE_RW))
			return -1;
		if (code)
			type &= ~A_TYPE_CONF;
		break;
	}
	type |= A_TYPE_ACC;	/* the CPU never writes our copy */
	if (limit > 0xfffff)
		raw = (limit >> 12) | (1ull << 23);	/* G=1 (bit 55 - 32) */
	else
		raw = limit;
	d = (raw & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	    ((uint64_t)(type | A_S | A_DPL3 | A_P) << 40) |
	    ((uint64_t)((raw >> 16) & 0xf) << 48) |
	    ((uint64_t)(attr & A_DB) << 40) |		/* D/B: bit 54; never L */
	    ((uint64_t)((raw >> 23) & 1) << 55) |
	    ((uint64_t)(base >> 24) << 56);
	*desc = d;
	return 0;
}

bool mon_native__sel_ok(uint16_t sel)
{
	unsigned idx = sel >> 3;

	return !(sel & 4) && idx != 0 && idx != 2 && idx < MON_NAT_MAX_IDX;
}

uint32_t mon_native__eflags_in(uint32_t eflags)
{
	return (eflags & MON_NAT_FLAGS) | 0x200u | 0x2u;
}

uint32_t mon_native__eflags_out(uint32_t guest, uint32_t native)
{
	const uint32_t own = MON_NAT_FLAGS | 0x100u;	/* + TF */

	return (guest & ~own) | (native & own) | 0x2u;
}

void mon_native__fx_from_fpu(uint8_t *img, const struct fpu_state *f,
			     uint32_t mxcsr_mask)
{
	__builtin_memset(img, 0, 512);
	fpu__fx_store(f, img, mxcsr_mask);
}

void mon_native__fx_to_fpu(struct fpu_state *f, const uint8_t *img)
{
	fpu__fx_load(f, img);
}
