/* monitor/mon-native.h — pure helpers for running guest user code natively
 * from system mode (issue 6 stage 2, docs/hybrid.md): sanitised segment
 * descriptors for the world GDT, the FXSAVE image of the interpreter's FPU
 * state and back, EFLAGS between the guest and the native frame. No
 * privileged instruction, no libc: compiled into userland (unit tests),
 * freestanding (build/monitor-fs.a) and so into hvmm.ko. */
#ifndef HVMM_MON_NATIVE_H
#define HVMM_MON_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/fpu.h"

/* World GDT indexes the guest's selectors cannot use natively: 0 (null), 2
 * (the monitor's 64-bit code, Linux's __KERNEL_CS) and from MON_NAT_MAX_IDX
 * on (the monitor's TSS descriptor, 16 bytes). */
#define MON_NAT_MAX_IDX	510

/* A 64-bit-GDT descriptor for guest segment register @seg (0 ES, 1 CS,
 * 2 SS, 3 DS, 4 FS, 5 GS) from its hidden part (@attr = descriptor bits
 * 40..55, @base, expanded @limit): DPL 3, present, accessed, never L=1,
 * never a system descriptor; CS becomes non-conforming. Returns 0 and sets
 * *desc, or -1 when the segment cannot be run natively (not present,
 * system, a code segment in SS, a data segment in CS, DPL != 3 for CS/SS). */
int mon_native__desc(int seg, uint16_t attr, uint32_t base, uint32_t limit,
		     uint64_t *desc);

/* True when selector @sel (non-null, TI=0) may get a world GDT slot. */
bool mon_native__sel_ok(uint16_t sel);

/* EFLAGS the guest keeps natively (arithmetic, DF, AC, ID, NT); the rest
 * (IF, IOPL, VM, TF, RF...) is the monitor's. */
#define MON_NAT_FLAGS	0x00244cd5u

/* Native RFLAGS for guest @eflags: IF=1, IOPL=0, VM=0, TF=0, RF=0. */
uint32_t mon_native__eflags_in(uint32_t eflags);

/* Guest EFLAGS after a native stay: the guest-owned bits from @native (TF
 * too: a POPF can set it), the others from @guest. */
uint32_t mon_native__eflags_out(uint32_t guest, uint32_t native);

/* The 512-byte FXSAVE image (32-bit format, SDM Vol. 1 §10.5.1 Table 10-2)
 * of @f, for FXRSTOR; MXCSR is ANDed with @mxcsr_mask. */
void mon_native__fx_from_fpu(uint8_t *img, const struct fpu_state *f,
			     uint32_t mxcsr_mask);

/* Reads an FXSAVE image (32-bit format) back into @f; the full tag word is
 * recomputed from the abridged one and the register contents. */
void mon_native__fx_to_fpu(struct fpu_state *f, const uint8_t *img);

#endif
