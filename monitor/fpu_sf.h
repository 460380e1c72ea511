/* monitor/fpu_sf.h — integer soft-float core shared by the x87 and SSE
 * parts of the FPU (private to monitor/fpu*.c and its unit tests).
 *
 * Every operand is first unpacked into a struct sf_val, the operation works
 * on exact integers (unsigned __int128, never a division by a 128-bit value
 * so no libgcc helper is needed), and one rounder, sf_round, turns the exact
 * result into the destination format's value set under the current rounding
 * mode, raising the IEEE flags. Packing is then exact.
 */
#ifndef HVMM_FPU_SF_H
#define HVMM_FPU_SF_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/fpu.h"

typedef unsigned __int128 sf_u128;

/* Value classes. SF_BAD is an x87 unsupported encoding (pseudo-NaN,
 * pseudo-infinity, unnormal: SDM Vol. 1 §8.2.2): always an invalid operand. */
enum { SF_ZERO, SF_NORM, SF_INF, SF_QNAN, SF_SNAN, SF_BAD };

/* An unpacked value. NORM: value = m * 2^(e - 63) with m bit 63 set (a
 * denormal is stored normalized, e below the format's emin; den records that
 * its encoding was denormal). NaNs keep their payload aligned as in the
 * extended format: m bit 63 set, bit 62 = quiet bit. */
struct sf_val {
	uint64_t m;
	int32_t e;
	uint8_t sign;
	uint8_t cls;
	uint8_t den;
};

/* A destination format: precision p (bits incl. the integer bit), exponent
 * range of normal numbers, exponent bias, and the bias adjustment used for
 * an unmasked x87 overflow/underflow (SDM Vol. 1 §8.5.4-5). */
struct sf_fmt {
	int p;
	int32_t emin, emax, bias, adj;
};
extern const struct sf_fmt sf_f32, sf_f64, sf_f80;
/* The x87 arithmetic format for precision control pc (FCW bits 8-9):
 * 24/53/64-bit significand, always the extended exponent range. */
const struct sf_fmt *sf_x87_fmt(unsigned pc);

/* Rounding control values (same encoding in FCW.RC and MXCSR.RC). */
enum { SF_RN = 0, SF_RD = 1, SF_RU = 2, SF_RZ = 3 };

/* Per-operation context: inputs (rounding, masks, modes) and outputs (the
 * exception flags in FSW/MXCSR bit positions, and whether the significand
 * was rounded up, which is x87's C1). */
struct sf_ctx {
	uint8_t rc;
	bool sse;	/* SSE NaN rules (first operand wins) instead of x87's */
	bool ftz;	/* MXCSR.FZ: masked underflow gives zero */
	bool daz;	/* MXCSR.DAZ: denormal operands read as zero */
	bool adj;	/* x87 register destination: unmasked O/U bias-adjust */
	uint16_t masks;	/* exception masks in flag positions (IM..PM) */
	uint16_t flags;	/* raised: FSW_IE..FSW_PE */
	bool up;	/* last rounding increased the magnitude */
};

/* Unpack/pack. Unpacking never raises flags (the caller decides: DE for a
 * denormal, IE for an SNaN); with daz a denormal unpacks to a signed zero. */
struct sf_val sf_from80(struct fpu_reg80 r);
struct sf_val sf_from64(uint64_t x, bool daz);
struct sf_val sf_from32(uint32_t x, bool daz);
struct fpu_reg80 sf_to80(struct sf_val v);
uint64_t sf_to64(struct sf_val v);
uint32_t sf_to32(struct sf_val v);

/* Constants. */
struct sf_val sf_default_nan(void);	/* QNaN indefinite / SSE default */
struct sf_val sf_zero(int sign);
struct sf_val sf_inf(int sign);
static inline bool sf_is_nan(struct sf_val v)
{
	return v.cls == SF_QNAN || v.cls == SF_SNAN;
}
static inline struct sf_val sf_quiet(struct sf_val v)
{
	if (v.cls == SF_SNAN) {
		v.cls = SF_QNAN;
		v.m |= 1ull << 62;
	}
	return v;
}

/* Rounds the exact value (-1)^sign * (v + sticky*epsilon) * 2^e_lsb (v != 0)
 * to format f; sets PE/UE/OE in c->flags and c->up. */
struct sf_val sf_round(struct sf_ctx *c, const struct sf_fmt *f, int sign,
		       int32_t e_lsb, sf_u128 v, bool sticky);
/* Rounds a value of any class to f (NaNs and zeros pass unchanged). */
struct sf_val sf_round_val(struct sf_ctx *c, const struct sf_fmt *f,
			   struct sf_val a);

/* IEEE operations with the full special-case, NaN and flag handling of the
 * x87 (c->sse false) or SSE (c->sse true); the result is in format f. */
struct sf_val sf_add(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b, bool sub);
struct sf_val sf_mul(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b);
struct sf_val sf_div(struct sf_ctx *c, const struct sf_fmt *f,
		     struct sf_val a, struct sf_val b);
struct sf_val sf_sqrt(struct sf_ctx *c, const struct sf_fmt *f,
		      struct sf_val a);
/* The NaN result of a two-operand operation with at least one NaN or
 * unsupported operand (raises IE for SNaN/unsupported). */
struct sf_val sf_nan2(struct sf_ctx *c, struct sf_val a, struct sf_val b);

/* Compare: returns -1 (a<b), 0, 1, or 2 (unordered). Raises IE for an SNaN
 * or unsupported operand, and for a QNaN too when `signaling`; DE for
 * denormal operands (unless daz). */
int sf_compare(struct sf_ctx *c, struct sf_val a, struct sf_val b,
	       bool signaling);

/* Integer conversions. sf_from_int rounds to f. sf_to_int rounds with mode
 * rc to a signed integer of `bits` bits; NaN, infinity or out of range set
 * *invalid (the caller stores the integer indefinite, 1 << (bits-1)). */
struct sf_val sf_from_int(struct sf_ctx *c, const struct sf_fmt *f,
			  int64_t x);
int64_t sf_to_int(struct sf_ctx *c, struct sf_val a, int bits, int rc,
		  bool *invalid);
/* Rounds a finite value to an integral value (FRNDINT, sign of zero kept). */
struct sf_val sf_rndint(struct sf_ctx *c, struct sf_val a, int rc);

#endif
