/*
 * Field128: the prime field GF(p), p = 2^66 * 4611686018427387897 + 1
 * = 2^128 - 28·2^64 + 1, as defined in draft-irtf-cfrg-vdaf-20 §6.1.4
 * (Parameters, Field128: GEN_ORDER = 2^66, generator = 7^4611686018427387897).
 *
 * Representation: Montgomery form with R = 2^128, two 64-bit limbs, always
 * fully reduced to [0, p) so equality and zero tests work on the limbs.  Callers
 * treat pa_f128 as opaque; encode/decode convert to and from the canonical integer.
 *
 * Why Montgomery rather than a special reduction on 2^128 = 28·2^64 - 1: p ≡ 1
 * (mod 2^64), so the Montgomery digit is simply m = -t_i mod 2^64 (no multiply by
 * -p^-1) and m·p = m + m·(2^64 - 28)·2^64 costs one 64x64 multiply.  A full
 * multiplication is then 4 + 2 = 6 wide multiplies with a fixed carry chain and a
 * single masked final subtraction, whereas the special fold 2^128 -> 28·2^64 - 1
 * produces signed intermediates that need two folding rounds and two masked
 * corrections.  The cost of Montgomery is one extra multiply at encode/decode time,
 * which happens far less often than arithmetic.
 *
 * Every function below except pa_f128_pow (public exponent) runs in time
 * independent of the element values (masks from protocols/common/ct.h).
 */
#ifndef PA_FIELD128_H
#define PA_FIELD128_H

#include <stddef.h>
#include <stdint.h>

#include "common/ct.h"
#include "privagg/common.h"

typedef struct {
    uint64_t w[2]; /* Montgomery form a·2^128 mod p, little-endian limbs, < p */
} pa_f128;

#define PA_F128_ENCODED_SIZE 16
/* p = P1·2^64 + P0 */
#define PA_F128_P0 UINT64_C(0x0000000000000001)
#define PA_F128_P1 UINT64_C(0xffffffffffffffe4)
/* log2(GEN_ORDER) */
#define PA_F128_TWO_ADICITY 66

typedef unsigned __int128 pa_f128_u128;

static inline pa_f128 pa_f128_make(uint64_t lo, uint64_t hi)
{
    pa_f128 r;
    r.w[0] = lo;
    r.w[1] = hi;
    return r;
}

/* a + b + carry_in (carry_in in {0,1}); *carry_out in {0,1}.  Compiles to add/adc. */
static inline uint64_t pa_f128_adc(uint64_t a, uint64_t b, uint64_t carry_in, uint64_t *carry_out)
{
    uint64_t s;
    uint64_t c1 = (uint64_t)__builtin_add_overflow(a, b, &s);
    uint64_t c2 = (uint64_t)__builtin_add_overflow(s, carry_in, &s);
    *carry_out = c1 | c2;
    return s;
}

/* a - b - borrow_in; *borrow_out in {0,1}.  Compiles to sub/sbb. */
static inline uint64_t pa_f128_sbb(uint64_t a, uint64_t b, uint64_t borrow_in,
                                   uint64_t *borrow_out)
{
    uint64_t d;
    uint64_t b1 = (uint64_t)__builtin_sub_overflow(a, b, &d);
    uint64_t b2 = (uint64_t)__builtin_sub_overflow(d, borrow_in, &d);
    *borrow_out = b1 | b2;
    return d;
}

/*
 * (t0, t1) + c·2^128 with c in {0,1} and value < 2p  ->  value mod p.
 * Subtract p; keep the difference when c is set or the subtraction did not borrow.
 */
static inline pa_f128 pa_f128_sub_p_if_ge(uint64_t t0, uint64_t t1, uint64_t c)
{
    uint64_t b0, b1;
    uint64_t d0 = pa_f128_sbb(t0, PA_F128_P0, 0, &b0);
    uint64_t d1 = pa_f128_sbb(t1, PA_F128_P1, b0, &b1);
    uint64_t m = pa_ct_mask(c | (b1 ^ 1));
    return pa_f128_make(t0 ^ (m & (t0 ^ d0)), t1 ^ (m & (t1 ^ d1)));
}

static inline pa_f128 pa_f128_add(pa_f128 a, pa_f128 b)
{
    uint64_t c0, c1;
    uint64_t s0 = pa_f128_adc(a.w[0], b.w[0], 0, &c0);
    uint64_t s1 = pa_f128_adc(a.w[1], b.w[1], c0, &c1);
    return pa_f128_sub_p_if_ge(s0, s1, c1);
}

static inline pa_f128 pa_f128_sub(pa_f128 a, pa_f128 b)
{
    uint64_t b0, b1, c0, c1;
    uint64_t d0 = pa_f128_sbb(a.w[0], b.w[0], 0, &b0);
    uint64_t d1 = pa_f128_sbb(a.w[1], b.w[1], b0, &b1);
    uint64_t m = pa_ct_mask(b1);
    /* on borrow add p back (mod 2^128; the final carry is the borrow's 2^128) */
    d0 = pa_f128_adc(d0, PA_F128_P0 & m, 0, &c0);
    d1 = pa_f128_adc(d1, PA_F128_P1 & m, c0, &c1);
    (void)c1;
    return pa_f128_make(d0, d1);
}

static inline pa_f128 pa_f128_neg(pa_f128 a)
{
    return pa_f128_sub(pa_f128_make(0, 0), a);
}

/*
 * Montgomery product a·b·2^-128 mod p (operands in Montgomery form, so this is
 * the field product).  Two REDC rounds on the 256-bit product, each with digit
 * m = -t_i mod 2^64 because p ≡ 1 (mod 2^64); the sum stays below
 * p^2 + p·2^64 + p·2^128 < 2^257, and the result before the final subtraction is < 2p.
 */
static inline pa_f128 pa_f128_mul(pa_f128 a, pa_f128 b)
{
    pa_f128_u128 z;
    uint64_t t0, t1, t2, t3, t4, c, m;

    /* 256-bit product (t0, t1, t2, t3) */
    z = (pa_f128_u128)a.w[0] * b.w[0];
    t0 = (uint64_t)z;
    z = (pa_f128_u128)a.w[1] * b.w[0] + (uint64_t)(z >> 64);
    t1 = (uint64_t)z;
    t2 = (uint64_t)(z >> 64);
    z = (pa_f128_u128)a.w[0] * b.w[1] + t1;
    t1 = (uint64_t)z;
    c = (uint64_t)(z >> 64);
    z = (pa_f128_u128)a.w[1] * b.w[1] + t2 + c;
    t2 = (uint64_t)z;
    t3 = (uint64_t)(z >> 64);

    /* round 1: add m·p with m = -t0; the low limb becomes 0 with carry (t0 != 0) */
    m = (uint64_t)0 - t0;
    z = (pa_f128_u128)t0 + m;
    z = (pa_f128_u128)m * PA_F128_P1 + t1 + (uint64_t)(z >> 64);
    t1 = (uint64_t)z;
    z = (pa_f128_u128)t2 + (uint64_t)(z >> 64);
    t2 = (uint64_t)z;
    z = (pa_f128_u128)t3 + (uint64_t)(z >> 64);
    t3 = (uint64_t)z;
    t4 = (uint64_t)(z >> 64);

    /* round 2: m = -t1 */
    m = (uint64_t)0 - t1;
    z = (pa_f128_u128)t1 + m;
    z = (pa_f128_u128)m * PA_F128_P1 + t2 + (uint64_t)(z >> 64);
    t2 = (uint64_t)z;
    z = (pa_f128_u128)t3 + (uint64_t)(z >> 64);
    t3 = (uint64_t)z;
    t4 += (uint64_t)(z >> 64);

    return pa_f128_sub_p_if_ge(t2, t3, t4);
}

static inline pa_f128 pa_f128_zero(void) { return pa_f128_make(0, 0); }

/* 1 in Montgomery form: 2^128 mod p = 28·2^64 - 1 */
static inline pa_f128 pa_f128_one(void)
{
    return pa_f128_make(UINT64_C(0xffffffffffffffff), UINT64_C(0x1b));
}

/* v (any uint64_t, always < p) into Montgomery form: v·R^2·R^-1. */
static inline pa_f128 pa_f128_from_u64(uint64_t v)
{
    /* R^2 mod p */
    const pa_f128 r2 = {{UINT64_C(0xfffffffffffffcf1), UINT64_C(0x5587)}};
    return pa_f128_mul(pa_f128_make(v, 0), r2);
}

/* Canonical integer hi·2^64 + lo into Montgomery form.  The value MUST be < p
 * (callers with untrusted input use pa_f128_decode, which checks). */
static inline pa_f128 pa_f128_from_u64_pair(uint64_t lo, uint64_t hi)
{
    const pa_f128 r2 = {{UINT64_C(0xfffffffffffffcf1), UINT64_C(0x5587)}};
    return pa_f128_mul(pa_f128_make(lo, hi), r2);
}

/* Canonical integer value of a as two limbs (value = hi·2^64 + lo). */
static inline void pa_f128_to_u64_pair(pa_f128 a, uint64_t *lo, uint64_t *hi)
{
    pa_f128 c = pa_f128_mul(a, pa_f128_make(1, 0)); /* a·R^-1 */
    *lo = c.w[0];
    *hi = c.w[1];
}

/* 1 if a == b, else 0 (constant time; the representation is unique). */
static inline int pa_f128_eq(pa_f128 a, pa_f128 b)
{
    return (int)pa_ct_eq((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]), 0);
}

static inline int pa_f128_is_zero(pa_f128 a) { return (int)pa_ct_eq(a.w[0] | a.w[1], 0); }

static inline uint64_t pa_f128_load64le(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)in[i] << (8 * i);
    return v;
}

static inline void pa_f128_store64le(uint8_t *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

/* Writes PA_F128_ENCODED_SIZE bytes: little-endian canonical integer. */
static inline void pa_f128_encode(uint8_t *out, pa_f128 a)
{
    uint64_t lo, hi;
    pa_f128_to_u64_pair(a, &lo, &hi);
    pa_f128_store64le(out, lo);
    pa_f128_store64le(out + 8, hi);
}

/*
 * Reads PA_F128_ENCODED_SIZE little-endian bytes.  Returns 0, or PA_EDECODE if
 * the integer is >= p (non-canonical); *out is then zero.  Constant time apart
 * from the returned status.
 */
static inline int pa_f128_decode(pa_f128 *out, const uint8_t *in)
{
    const pa_f128 r2 = {{UINT64_C(0xfffffffffffffcf1), UINT64_C(0x5587)}};
    uint64_t lo = pa_f128_load64le(in), hi = pa_f128_load64le(in + 8);
    /* value < p  iff  value - p borrows */
    pa_f128_u128 d0 = (pa_f128_u128)lo - PA_F128_P0;
    pa_f128_u128 d1 = (pa_f128_u128)hi - PA_F128_P1 - (uint64_t)(d0 >> 127);
    uint64_t ok = (uint64_t)(d1 >> 127);
    uint64_t m = pa_ct_mask(ok);
    *out = pa_f128_mul(pa_f128_make(lo & m, hi & m), r2);
    return ok ? 0 : PA_EDECODE;
}

/* Multiplicative inverse by Fermat (a^(p-2), fixed public exponent), constant
 * time; inv(0) = 0. */
pa_f128 pa_f128_inv(pa_f128 a);

/* a^e.  VARIABLE TIME in e: only for public exponents (never branches on a). */
pa_f128 pa_f128_pow(pa_f128 a, uint64_t e);

/*
 * gen^(GEN_ORDER / n) with gen = 7^4611686018427387897: a primitive n-th root of
 * unity, the draft's alpha for the FLP.  n MUST be a power of two,
 * 1 <= n <= 2^32 (asserted: programmer error).  Table lookup, O(1).
 */
pa_f128 pa_f128_root_of_unity(size_t n);

/* Encode n elements (n·16 bytes).  out and v must not overlap. */
void pa_f128_encode_vec(uint8_t *out, const pa_f128 *v, size_t n);

/* Decode n elements from n·16 bytes.  Strict: any element >= p -> PA_EDECODE
 * (with its index in pa_error_detail()); out is then fully zeroed. */
int pa_f128_decode_vec(pa_f128 *out, const uint8_t *in, size_t n);

#endif
