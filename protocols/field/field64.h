/*
 * Field64: the prime field GF(p), p = 2^32 * 4294967295 + 1 = 2^64 - 2^32 + 1
 * ("Goldilocks"), as defined in draft-irtf-cfrg-vdaf-20 §6.1.4 (Parameters,
 * Field64: GEN_ORDER = 2^32, generator = 7^4294967295).
 *
 * Representation: an element is its canonical integer in [0, p) held in a
 * uint64_t.  Callers treat pa_f64 as opaque and go through these functions.
 *
 * Reduction uses the shape of p: 2^64 = 2^32 - 1 and 2^96 = -1 (mod p), so a
 * 128-bit product hi·2^64 + lo folds to lo - hi_hi + hi_lo·(2^32 - 1) with two
 * masked corrections and no division.  Every function below except pa_f64_pow
 * (public exponent) runs in time independent of the element values: carries and
 * borrows become masks (protocols/common/ct.h), never branches.
 */
#ifndef PA_FIELD64_H
#define PA_FIELD64_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/ct.h"
#include "privagg/common.h"

typedef uint64_t pa_f64;

#define PA_F64_ENCODED_SIZE 8
#define PA_F64_MODULUS      UINT64_C(0xffffffff00000001)
/* 2^64 mod p = 2^32 - 1 */
#define PA_F64_EPSILON      UINT64_C(0x00000000ffffffff)
/* log2(GEN_ORDER): the largest power-of-two NTT size is 2^32 */
#define PA_F64_TWO_ADICITY  32

typedef unsigned __int128 pa_f64_u128;

static inline pa_f64 pa_f64_zero(void) { return 0; }
static inline pa_f64 pa_f64_one(void) { return 1; }

/*
 * Carries and borrows come as masks from pa_ct_add_mask / pa_ct_sub_mask
 * (protocols/common/ct.h: add/sub then sbb in one asm block on x86-64), so the
 * correction is an AND, never a branch.  Not __builtin_{add,sub}_overflow: GCC
 * 12 compiled the borrow of pa_f64_neg, inlined into pa_flp_query_f64, as a jump.
 */

/* x in [0, 2^64) -> x mod p: x >= p exactly when x + (2^32 - 1) carries out,
 * and then the wrapped sum is x - p. */
static inline uint64_t pa_f64_canon(uint64_t x)
{
    uint64_t y; /* only the carry is used; the masked add below recomputes y */
    uint64_t carry = pa_ct_add_mask(x, PA_F64_EPSILON, &y);
    return x + (PA_F64_EPSILON & carry);
}

/* Any uint64_t, reduced mod p. */
static inline pa_f64 pa_f64_from_u64(uint64_t v) { return pa_f64_canon(v); }

/* Canonical integer value in [0, p). */
static inline uint64_t pa_f64_to_u64(pa_f64 a) { return a; }

static inline pa_f64 pa_f64_sub(pa_f64 a, pa_f64 b)
{
    /* b <= p is enough: on borrow d = a - b + 2^64 >= 2^64 - p = 2^32 - 1, and
     * subtracting 2^64 - p leaves a - b + p in [0, p) */
    uint64_t d;
    uint64_t borrow = pa_ct_sub_mask(a, b, &d);
    return d - (PA_F64_EPSILON & borrow);
}

/* a + b = a - (p - b), where p - b is in (0, p]: one subtraction more than sub,
 * and no separate carry and reduction steps. */
static inline pa_f64 pa_f64_add(pa_f64 a, pa_f64 b)
{
    return pa_f64_sub(a, PA_F64_MODULUS - b);
}

static inline pa_f64 pa_f64_neg(pa_f64 a) { return pa_f64_sub(0, a); }

/* Reduce any 128-bit integer mod p (Goldilocks folding, see file comment). */
static inline uint64_t pa_f64_reduce128(pa_f64_u128 x)
{
    uint64_t lo = (uint64_t)x;
    uint64_t hi = (uint64_t)(x >> 64);
    uint64_t hi_hi = hi >> 32;
    uint64_t hi_lo = hi & PA_F64_EPSILON;
    uint64_t t0, t2;

    /* lo - hi_hi; on borrow the wrap added 2^64 = 2^32 - 1, take it back.  The
     * wrapped value is >= 2^64 - 2^32 + 1 > 2^32 - 1 so this cannot borrow again. */
    uint64_t borrow = pa_ct_sub_mask(lo, hi_hi, &t0);
    t0 -= PA_F64_EPSILON & borrow;

    /* + hi_lo·(2^32 - 1) < 2^64; on carry add 2^64 mod p back (cannot carry twice). */
    uint64_t t1 = (hi_lo << 32) - hi_lo;
    uint64_t carry = pa_ct_add_mask(t0, t1, &t2);
    return pa_f64_canon(t2 + (PA_F64_EPSILON & carry));
}

static inline pa_f64 pa_f64_mul(pa_f64 a, pa_f64 b)
{
    return pa_f64_reduce128((pa_f64_u128)a * b);
}

/* 1 if a == b, else 0 (constant time). */
static inline int pa_f64_eq(pa_f64 a, pa_f64 b) { return (int)pa_ct_eq(a, b); }

static inline int pa_f64_is_zero(pa_f64 a) { return (int)pa_ct_eq(a, 0); }

/* Writes PA_F64_ENCODED_SIZE bytes: little-endian canonical integer. */
static inline void pa_f64_encode(uint8_t *out, pa_f64 a)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    a = __builtin_bswap64(a);
#endif
    memcpy(out, &a, sizeof a);
}

/* Little-endian 64-bit load through memcpy (one mov on x86-64). */
static inline uint64_t pa_f64_load64le(const uint8_t *in)
{
    uint64_t v;
    memcpy(&v, in, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* 1 if the PA_F64_ENCODED_SIZE little-endian bytes at in encode an integer
 * below p (constant time; the caller decides whether the answer is public). */
static inline uint64_t pa_f64_canonical(const uint8_t *in)
{
    return pa_ct_lt(pa_f64_load64le(in), PA_F64_MODULUS);
}

/*
 * Reads PA_F64_ENCODED_SIZE little-endian bytes.  Returns 0, or PA_EDECODE if
 * the integer is >= p (non-canonical); *out is then set to zero.  The check
 * itself is constant time; only the returned status reveals the outcome.
 */
static inline int pa_f64_decode(pa_f64 *out, const uint8_t *in)
{
    uint64_t v = pa_f64_load64le(in);
    uint64_t ok = pa_ct_lt(v, PA_F64_MODULUS);
    *out = v & pa_ct_mask(ok);
    return ok ? 0 : PA_EDECODE;
}

/* Multiplicative inverse by Fermat (a^(p-2)), constant time; inv(0) = 0. */
pa_f64 pa_f64_inv(pa_f64 a);

/* a^e.  VARIABLE TIME in e: only for public exponents.  a itself may be secret
 * only if e is public (the ladder branches on the bits of e, never on a). */
pa_f64 pa_f64_pow(pa_f64 a, uint64_t e);

/*
 * gen^(GEN_ORDER / n) with gen = 7^4294967295: a primitive n-th root of unity,
 * the draft's alpha for the FLP.  n MUST be a power of two, 1 <= n <= 2^32
 * (asserted: programmer error; a release build returns 0 for an invalid n).
 * Table lookup, O(1).
 */
pa_f64 pa_f64_root_of_unity(size_t n);

/* Encode n elements (n·8 bytes).  out and v must not overlap. */
void pa_f64_encode_vec(uint8_t *out, const pa_f64 *v, size_t n);

/* Decode n elements from n·8 bytes.  Strict: any element >= p -> PA_EDECODE
 * (with its index in pa_error_detail()); out is then fully zeroed. */
int pa_f64_decode_vec(pa_f64 *out, const uint8_t *in, size_t n);

/* "Raw" vectors (see field128.h): the representation of Field64 is already the
 * canonical integer, so raw and ordinary coincide and the factor is one. */
static inline int pa_f64_decode_vec_raw(pa_f64 *out, const uint8_t *in, size_t n)
{
    return pa_f64_decode_vec(out, in, n);
}
static inline void pa_f64_encode_vec_raw(uint8_t *out, const pa_f64 *v, size_t n)
{
    pa_f64_encode_vec(out, v, n);
}
static inline pa_f64 pa_f64_raw_factor(void) { return pa_f64_one(); }

#endif
