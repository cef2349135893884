/*
 * Field128: the prime field GF(p), p = 2^66 * 4611686018427387897 + 1
 * = 2^128 - 28·2^64 + 1, as defined in draft-irtf-cfrg-vdaf-20 §6.1.4
 * (Parameters, Field128: GEN_ORDER = 2^66, generator = 7^4611686018427387897).
 *
 * Representation: Montgomery form with R = 2^128, two 64-bit limbs, always
 * fully reduced to [0, p) so equality and zero tests work on the limbs.  Callers
 * treat pa_f128 as opaque; encode/decode convert to and from the canonical integer.
 *
 * Why Montgomery, and why this reduction: p's shape makes Montgomery reduction
 * with R = 2^128 almost free.  p = 1 - 28·2^64 (mod 2^128), so
 * p^-1 = 1 + 28·2^64 (mod 2^128) and the REDC quotient for a 256-bit product
 * T = (t0, t1, t2, t3) is q = t0 + (t1 + 28·t0)·2^64; since q·p = q·2^128 -
 * 28·q·2^64 + q, (T - q·p)/2^128 works out to (t2, t3) - q + 28·q1 + k (q1, k the
 * low word and carry of t1 + 28·t0).  That is four 64x64 products for T, two
 * multiplications by the constant 28, a few add/sub-with-carry and one masked
 * correction (the value lies in [-p, p)).  A canonical-form special reduction
 * (2^128 = 28·2^64 - 1) needs two folding rounds with signed intermediates and
 * two masked corrections; generic 2-limb Montgomery needs two more full
 * multiplies.  The price is one extra multiplication at encode/decode time.
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

/* 28·x as a 2-word integer (hi < 28). */
static inline uint64_t pa_f128_mul28(uint64_t x, uint64_t *hi)
{
    pa_f128_u128 z = (pa_f128_u128)x * 28;
    *hi = (uint64_t)(z >> 64);
    return (uint64_t)z;
}

/*
 * Montgomery product a·b·2^-128 mod p (operands in Montgomery form, so this is
 * the field product).  Any a, b < p (in fact any a·b < p·2^128) give a result in
 * [0, p).  Derivation in the file comment.
 */
static inline pa_f128 pa_f128_mul(pa_f128 a, pa_f128 b)
{
    pa_f128_u128 z;
    uint64_t t0, t1, t2, t3, c, h, k, q1, m;
    uint64_t c0, c1, ac, b0, b1;

    /* T = a·b = (t0, t1, t2, t3) */
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

    /* q = T·p^-1 mod 2^128 = (t0, q1) with q1 + k·2^64 = t1 + 28·t0, k <= 28 */
    uint64_t l = pa_f128_mul28(t0, &h);
    q1 = pa_f128_adc(t1, l, 0, &c1);
    k = h + c1;

    /* A = (t2, t3) + 28·q1 + k, up to 129 bits (ac is bit 128) */
    uint64_t s0 = pa_f128_mul28(q1, &h);
    s0 = pa_f128_adc(s0, k, 0, &c0);
    h += c0; /* 28·q1 + k < 2^69: no overflow */
    uint64_t a0 = pa_f128_adc(t2, s0, 0, &c0);
    uint64_t a1 = pa_f128_adc(t3, h, c0, &ac);

    /* r = A - q = (T - q·p)/2^128, in [-p, p): negative iff the subtraction
     * borrows out of a 128-bit A; then add p back (mod 2^128). */
    a0 = pa_f128_sbb(a0, t0, 0, &b0);
    a1 = pa_f128_sbb(a1, q1, b0, &b1);
    m = pa_ct_mask(b1 & (ac ^ 1));
    a0 = pa_f128_adc(a0, PA_F128_P0 & m, 0, &c0);
    a1 = pa_f128_adc(a1, PA_F128_P1 & m, c0, &c1);
    (void)c1;
    return pa_f128_make(a0, a1);
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
 * 1 <= n <= 2^32 (asserted: programmer error; a release build returns 0 for an
 * invalid n).  Table lookup, O(1).
 */
pa_f128 pa_f128_root_of_unity(size_t n);

/* Encode n elements (n·16 bytes).  out and v must not overlap. */
void pa_f128_encode_vec(uint8_t *out, const pa_f128 *v, size_t n);

/* Decode n elements from n·16 bytes.  Strict: any element >= p -> PA_EDECODE
 * (with its index in pa_error_detail()); out is then fully zeroed. */
int pa_f128_decode_vec(pa_f128 *out, const uint8_t *in, size_t n);

#endif
