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
#include <string.h>

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

/* The element as one 128-bit integer, and back.  GCC keeps these in register
 * pairs and turns 128-bit + and - into add/adc and sub/sbb. */
static inline pa_f128_u128 pa_f128_to_u128(pa_f128 a)
{
    return ((pa_f128_u128)a.w[1] << 64) | a.w[0];
}

static inline pa_f128 pa_f128_from_u128(pa_f128_u128 x)
{
    return pa_f128_make((uint64_t)x, (uint64_t)(x >> 64));
}

/*
 * 128-bit subtraction and addition with the borrow or carry as a mask (all-ones
 * or zero), never from __builtin_{add,sub}_overflow, whose flag GCC may compute
 * with a jump (protocols/common/ct.h): sub/sbb (add/adc) then sbb on x86-64, the
 * 64-bit mask helpers elsewhere.
 */
static inline uint64_t pa_f128_sub_mask(pa_f128_u128 x, pa_f128_u128 y, pa_f128_u128 *r)
{
    uint64_t lo = (uint64_t)x, hi = (uint64_t)(x >> 64), m;
#if defined(__x86_64__) && defined(__GNUC__)
    __asm__("subq %[y0], %[lo]\n\t"
            "sbbq %[y1], %[hi]\n\t"
            "sbbq %[m], %[m]"
            : [lo] "+&r"(lo), [hi] "+&r"(hi), [m] "=r"(m)
            : [y0] "rm"((uint64_t)y), [y1] "rm"((uint64_t)(y >> 64))
            : "cc");
#else
    uint64_t b0 = pa_ct_sub_mask(lo, (uint64_t)y, &lo);
    uint64_t b1 = pa_ct_sub_mask(hi, (uint64_t)(y >> 64), &hi);
    m = b1 | pa_ct_sub_mask(hi, b0 & 1, &hi);
#endif
    *r = ((pa_f128_u128)hi << 64) | lo;
    return m;
}

static inline uint64_t pa_f128_add_mask(pa_f128_u128 x, pa_f128_u128 y, pa_f128_u128 *r)
{
    uint64_t lo = (uint64_t)x, hi = (uint64_t)(x >> 64), m;
#if defined(__x86_64__) && defined(__GNUC__)
    __asm__("addq %[y0], %[lo]\n\t"
            "adcq %[y1], %[hi]\n\t"
            "sbbq %[m], %[m]"
            : [lo] "+&r"(lo), [hi] "+&r"(hi), [m] "=r"(m)
            : [y0] "rm"((uint64_t)y), [y1] "rm"((uint64_t)(y >> 64))
            : "cc");
#else
    uint64_t c0 = pa_ct_add_mask(lo, (uint64_t)y, &lo);
    uint64_t c1 = pa_ct_add_mask(hi, (uint64_t)(y >> 64), &hi);
    m = c1 | pa_ct_add_mask(hi, c0 & 1, &hi);
#endif
    *r = ((pa_f128_u128)hi << 64) | lo;
    return m;
}

/*
 * x - y mod p for 128-bit integers with x - y in (-p, p): subtract, and when the
 * subtraction borrows add p back.  Adding p mod 2^128 is adding (P1 & m)·2^64 +
 * (1 & m) under the borrow mask m (computed without a branch).
 */
static inline pa_f128 pa_f128_sub_mod(pa_f128_u128 x, pa_f128_u128 y)
{
    pa_f128_u128 r;
    uint64_t m = pa_f128_sub_mask(x, y, &r);
    r += ((pa_f128_u128)(m & PA_F128_P1) << 64) | (m & PA_F128_P0);
    return pa_f128_from_u128(r);
}

/*
 * x86-64: GCC 12 spills the 128-bit temporaries of the portable code below to
 * the stack inside the NTT loops, so add, sub and mul are also written as
 * inline assembly (same results; mul, add/adc, sub/sbb and a carry mask from
 * sbb: no branch, no table, constant time).  With e = 2^128 - p = 27·2^64 +
 * (2^64 - 1), "add p mod 2^128" is "subtract (m, m & 27)" under a mask m.  Define
 * PA_F128_NO_ASM to build the portable code instead (both were checked against
 * the unit tests, GMP included, and the VDAF vectors).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PA_F128_NO_ASM)
#define PA_F128_ASM 1
#else
#define PA_F128_ASM 0
#endif

/* a + b mod p without a 129-bit sum: the asm adds e first (a + e < 2^128) and
 * reads "a + b >= p" off the final carry; the portable code computes
 * a - (p - b), with p - b in (0, p]. */
static inline pa_f128 pa_f128_add(pa_f128 a, pa_f128 b)
{
#if PA_F128_ASM
    uint64_t r0 = a.w[0], r1 = a.w[1], m, m1;
    __asm__("addq $-1, %[r0]\n\t"
            "adcq $27, %[r1]\n\t"   /* a + e, e = 2^128 - p: below 2^128 */
            "addq %[b0], %[r0]\n\t"
            "adcq %[b1], %[r1]\n\t" /* carry iff a + b >= p: then r = a + b - p */
            "sbbq %[m], %[m]\n\t"
            "notq %[m]\n\t"         /* m = no carry ? ~0 : 0 */
            "movq %[m], %[m1]\n\t"
            "andl $27, %k[m1]\n\t"
            "subq %[m], %[r0]\n\t"
            "sbbq %[m1], %[r1]"       /* no carry: take e back off */
            : [r0] "+&r"(r0), [r1] "+&r"(r1), [m] "=&r"(m), [m1] "=&r"(m1)
            : [b0] "rm"(b.w[0]), [b1] "rm"(b.w[1])
            : "cc");
    return pa_f128_make(r0, r1);
#else
    const pa_f128_u128 p = ((pa_f128_u128)PA_F128_P1 << 64) | PA_F128_P0;
    return pa_f128_sub_mod(pa_f128_to_u128(a), p - pa_f128_to_u128(b));
#endif
}

static inline pa_f128 pa_f128_sub(pa_f128 a, pa_f128 b)
{
#if PA_F128_ASM
    uint64_t r0 = a.w[0], r1 = a.w[1], m, m1;
    __asm__("subq %[b0], %[r0]\n\t"
            "sbbq %[b1], %[r1]\n\t"
            "sbbq %[m], %[m]\n\t"   /* m = borrow ? ~0 : 0 */
            "movq %[m], %[m1]\n\t"
            "andl $27, %k[m1]\n\t"
            "subq %[m], %[r0]\n\t"
            "sbbq %[m1], %[r1]"       /* borrow: + p = - e (mod 2^128) */
            : [r0] "+&r"(r0), [r1] "+&r"(r1), [m] "=&r"(m), [m1] "=&r"(m1)
            : [b0] "rm"(b.w[0]), [b1] "rm"(b.w[1])
            : "cc");
    return pa_f128_make(r0, r1);
#else
    return pa_f128_sub_mod(pa_f128_to_u128(a), pa_f128_to_u128(b));
#endif
}

static inline pa_f128 pa_f128_neg(pa_f128 a)
{
    return pa_f128_sub(pa_f128_make(0, 0), a);
}

/* The 256-bit integer product of the limbs, a·b = t0 + t1·2^64 + H·2^128 (returns
 * H < 2^128): the portable form shared by pa_f128_mul and pa_f128_wide_mac (each
 * of which has it fused into one asm block on x86-64). */
static inline pa_f128_u128 pa_f128_product(pa_f128 a, pa_f128 b, uint64_t *t0, uint64_t *t1)
{
    pa_f128_u128 p00 = (pa_f128_u128)a.w[0] * b.w[0];
    pa_f128_u128 p01 = (pa_f128_u128)a.w[0] * b.w[1];
    pa_f128_u128 p10 = (pa_f128_u128)a.w[1] * b.w[0];
    pa_f128_u128 p11 = (pa_f128_u128)a.w[1] * b.w[1];
    pa_f128_u128 mid = (pa_f128_u128)(uint64_t)(p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    *t0 = (uint64_t)p00;
    *t1 = (uint64_t)mid;
    return p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

#if PA_F128_ASM
/* The 256-bit product (t0, t1, t2, t3) of a = (a0, a1) and b = (b0, b1), schoolbook
 * with mulq: the asm text that pa_f128_mul and pa_f128_wide_mac begin with (their
 * operands carry these names; rax and rdx are clobbered). */
#define PA_F128_ASM_PRODUCT \
    "movq %[a0], %%rax\n\t" \
    "mulq %[b0]\n\t" \
    "movq %%rax, %[t0]\n\t" \
    "movq %%rdx, %[t1]\n\t" \
    "movq %[a1], %%rax\n\t" \
    "mulq %[b1]\n\t" \
    "movq %%rax, %[t2]\n\t" \
    "movq %%rdx, %[t3]\n\t" \
    "movq %[a0], %%rax\n\t" \
    "mulq %[b1]\n\t" \
    "addq %%rax, %[t1]\n\t" \
    "adcq %%rdx, %[t2]\n\t" \
    "adcq $0, %[t3]\n\t" \
    "movq %[a1], %%rax\n\t" \
    "mulq %[b0]\n\t" \
    "addq %%rax, %[t1]\n\t" \
    "adcq %%rdx, %[t2]\n\t" \
    "adcq $0, %[t3]\n\t"
#endif

/*
 * Montgomery product a·b·2^-128 mod p (operands in Montgomery form, so this is
 * the field product).  Derivation in the file comment; a, b < p give a result in
 * [0, p).  No 129-bit intermediate: with H = floor(a·b / 2^128) <= (p-1)^2/2^128
 * = 2^128 - 56·2^64 + 784 and 28·q1 + k <= 28·2^64, H + 28·q1 + k < 2^128.
 */
static inline pa_f128 pa_f128_mul(pa_f128 a, pa_f128 b)
{
#if PA_F128_ASM
    uint64_t t0, t1, t2, t3, rax, rdx;
    __asm__(PA_F128_ASM_PRODUCT /* T = a·b = (t0, t1, t2, t3) */
            "movl $28, %%eax\n\t"
            "mulq %[t0]\n\t"
            "addq %%rax, %[t1]\n\t" /* t1 = q1 */
            "adcq $0, %%rdx\n\t"    /* rdx = k */
            "addq %%rdx, %[t2]\n\t"
            "adcq $0, %[t3]\n\t"
            "movl $28, %%eax\n\t"
            "mulq %[t1]\n\t"
            "addq %%rax, %[t2]\n\t"
            "adcq %%rdx, %[t3]\n\t" /* S = H + k + 28·q1 */
            "subq %[t0], %[t2]\n\t"
            "sbbq %[t1], %[t3]\n\t" /* S - q */
            "sbbq %%rax, %%rax\n\t"
            "movq %%rax, %%rdx\n\t"
            "andl $27, %%edx\n\t"
            "subq %%rax, %[t2]\n\t"
            "sbbq %%rdx, %[t3]"       /* borrow: + p = - e (mod 2^128) */
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), "=&a"(rax),
              "=&d"(rdx)
            : [a0] "rm"(a.w[0]), [a1] "rm"(a.w[1]), [b0] "rm"(b.w[0]), [b1] "rm"(b.w[1])
            : "cc");
    (void)rax;
    (void)rdx;
    return pa_f128_make(t2, t3);
#else
    uint64_t t0, t1;
    pa_f128_u128 h = pa_f128_product(a, b, &t0, &t1); /* T = a·b = t0 + t1·2^64 + H·2^128 */
    /* q = T·p^-1 mod 2^128 = t0 + q1·2^64, with q1 + k·2^64 = t1 + 28·t0 */
    pa_f128_u128 x = (pa_f128_u128)t0 * 28 + t1;
    uint64_t q1 = (uint64_t)x, k = (uint64_t)(x >> 64);
    /* (T - q·p)/2^128 = H + 28·q1 + k - q, in (-p, p) */
    pa_f128_u128 s = h + ((pa_f128_u128)q1 * 28 + k);
    return pa_f128_sub_mod(s, ((pa_f128_u128)q1 << 64) | t0);
#endif
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

/* Little-endian 64-bit load and store through memcpy: one mov each on x86-64. */
static inline uint64_t pa_f128_load64le(const uint8_t *in)
{
    uint64_t v;
    memcpy(&v, in, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void pa_f128_store64le(uint8_t *out, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(out, &v, sizeof v);
}

/* Writes PA_F128_ENCODED_SIZE bytes: little-endian canonical integer. */
static inline void pa_f128_encode(uint8_t *out, pa_f128 a)
{
    uint64_t lo, hi;
    pa_f128_to_u64_pair(a, &lo, &hi);
    pa_f128_store64le(out, lo);
    pa_f128_store64le(out + 8, hi);
}

/* 1 if the PA_F128_ENCODED_SIZE little-endian bytes at in encode an integer
 * below p (value - p borrows; constant time, the caller decides whether the
 * answer is public). */
static inline uint64_t pa_f128_canonical(const uint8_t *in)
{
    pa_f128_u128 v = ((pa_f128_u128)pa_f128_load64le(in + 8) << 64) | pa_f128_load64le(in), d;
    return pa_f128_sub_mask(v, ((pa_f128_u128)PA_F128_P1 << 64) | PA_F128_P0, &d) & 1;
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
    uint64_t ok = pa_f128_canonical(in);
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

/*
 * "Raw" vectors: decoding without the conversion into Montgomery form (one
 * multiplication per element saved).  decode_vec_raw is as strict as
 * decode_vec, but out[i] holds the canonical integer x_i itself, i.e. the element
 * x_i·R^-1 (R = 2^128).  Raw vectors stay raw under addition and multiplication
 * by (ordinary) elements; pa_f128_mul(c, raw_factor) turns an ordinary c into one
 * whose product with a raw x_i is the ordinary c·x_i; encode_vec_raw writes a raw
 * vector's integers back (decode_vec_raw's inverse).  Used for the leader's
 * measurement share in verify_init, which is only added and scaled.
 */
int pa_f128_decode_vec_raw(pa_f128 *out, const uint8_t *in, size_t n);
void pa_f128_encode_vec_raw(uint8_t *out, const pa_f128 *v, size_t n);
static inline pa_f128 pa_f128_raw_factor(void)
{
    const pa_f128 r2 = {{UINT64_C(0xfffffffffffffcf1), UINT64_C(0x5587)}}; /* the element R */
    return r2;
}

/*
 * Lazy reduction: a sum of products with one Montgomery reduction at the end.
 *
 * pa_f128_wide is an unreduced 320-bit integer (w[0] least significant).
 * pa_f128_wide_mac adds the plain 256-bit product a·b of two elements (their
 * Montgomery-form limbs) to it; pa_f128_wide_reduce returns the element
 * sum·2^-128 mod p.  Since REDC(T) = T·2^-128 mod p for every T, and that map is
 * additive mod p, reduce(sum_i a_i·b_i) = sum_i pa_f128_mul(a_i, b_i): the
 * same field element (hence the same limbs: the representation is unique) at
 * the cost of four 64x64 products per term instead of six plus a modular add.
 *
 * Overflow bound: each product is at most (p-1)^2 < 2^256, so after n terms the
 * sum is below n·2^256 and w[4] < n.  A caller MUST add at most
 * PA_F128_WIDE_MAX_TERMS products between pa_f128_wide_zero and
 * pa_f128_wide_reduce (2^20 terms: w[4] < 2^20, which the reduction needs below
 * 2^32; the limit is checked by the unit test at exactly that count).
 * All three run in time independent of the values (add-with-carry and masks).
 */
#define PA_F128_WIDE_MAX_TERMS ((size_t)1 << 20)

typedef struct {
    uint64_t w[5];
} pa_f128_wide;

static inline pa_f128_wide pa_f128_wide_zero(void)
{
    pa_f128_wide z = {{0, 0, 0, 0, 0}};
    return z;
}

/* *acc += a·b (the 256-bit integer product of the limbs, no reduction). */
static inline void pa_f128_wide_mac(pa_f128_wide *acc, pa_f128 a, pa_f128 b)
{
#if PA_F128_ASM
    uint64_t t0, t1, t2, t3, rax, rdx;
    __asm__(PA_F128_ASM_PRODUCT /* a·b = (t0, t1, t2, t3) */
            "addq %[t0], %[w0]\n\t"
            "adcq %[t1], %[w1]\n\t"
            "adcq %[t2], %[w2]\n\t"
            "adcq %[t3], %[w3]\n\t"
            "adcq $0, %[w4]"
            : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), "=&a"(rax),
              "=&d"(rdx), [w0] "+m"(acc->w[0]), [w1] "+m"(acc->w[1]), [w2] "+m"(acc->w[2]),
              [w3] "+m"(acc->w[3]), [w4] "+m"(acc->w[4])
            : [a0] "rm"(a.w[0]), [a1] "rm"(a.w[1]), [b0] "rm"(b.w[0]), [b1] "rm"(b.w[1])
            : "cc");
    (void)rax;
    (void)rdx;
#else
    uint64_t t0, t1;
    pa_f128_u128 h = pa_f128_product(a, b, &t0, &t1);
    pa_f128_u128 s = (pa_f128_u128)acc->w[0] + t0;
    acc->w[0] = (uint64_t)s;
    s = (s >> 64) + acc->w[1] + t1;
    acc->w[1] = (uint64_t)s;
    s = (s >> 64) + acc->w[2] + (uint64_t)h;
    acc->w[2] = (uint64_t)s;
    s = (s >> 64) + acc->w[3] + (uint64_t)(h >> 64);
    acc->w[3] = (uint64_t)s;
    acc->w[4] += (uint64_t)(s >> 64);
#endif
}

/*
 * The element acc·2^-128 mod p, for acc the sum of at most
 * PA_F128_WIDE_MAX_TERMS products (so w[4] < 2^32).  Two steps:
 *  1. the high part H = w[2] + w[3]·2^64 + w[4]·2^128 becomes h < p with
 *     h = H (mod p), folding w[4] with 2^128 = 28·2^64 - 1 (mod p): (w[2], w[3])
 *     + 28·w[4]·2^64 = c·2^128 + g (c a carry bit; c = 1 only if g < 2^101, so
 *     g + 28·c·2^64 does not overflow), then subtract c + w[4] (adding p back on
 *     a borrow, which leaves a value below p) and subtract p once if the result
 *     is still >= p (2^128 - p < p).
 *  2. T = w[0] + w[1]·2^64 + h·2^128 < p·2^128 is Montgomery-reduced as in
 *     pa_f128_mul: H + 28·q1 + k <= (p - 1) + 28·2^64 - 1 < 2^128, and
 *     (T - q·p)/2^128 lies in (-p, p), so one masked correction.
 */
static inline pa_f128 pa_f128_wide_reduce(const pa_f128_wide *acc)
{
    const pa_f128_u128 p = ((pa_f128_u128)PA_F128_P1 << 64) | PA_F128_P0;
    uint64_t t4 = acc->w[4];
    pa_f128_u128 hi = ((pa_f128_u128)acc->w[3] << 64) | acc->w[2], g, h, d;
    uint64_t c = pa_f128_add_mask(hi, (pa_f128_u128)(28 * t4) << 64, &g) & 1;
    g += (pa_f128_u128)(28 * c) << 64;
    uint64_t m = pa_f128_sub_mask(g, (pa_f128_u128)(c + t4), &h);
    h += ((pa_f128_u128)(m & PA_F128_P1) << 64) | (m & PA_F128_P0); /* mod 2^128 */
    m = pa_f128_sub_mask(h, p, &d) ^ ~(uint64_t)0; /* h >= p */
    h = (((pa_f128_u128)m << 64 | m) & d) | (((pa_f128_u128)~m << 64 | ~m) & h);

    uint64_t t0 = acc->w[0];
    pa_f128_u128 x = (pa_f128_u128)t0 * 28 + acc->w[1];
    uint64_t q1 = (uint64_t)x, k = (uint64_t)(x >> 64);
    pa_f128_u128 s = h + ((pa_f128_u128)q1 * 28 + k);
    return pa_f128_sub_mod(s, ((pa_f128_u128)q1 << 64) | t0);
}

/*
 * sum_{l < n} 2^l·v[l] for n <= PA_F128_SUM_POW2_MAX (the bits of a range-checked
 * integer, draft-irtf-cfrg-vdaf-20 §7.4.2): the representations are summed as
 * one integer (below 2^(128+n-1)) by Horner's rule and reduced once, instead of
 * two modular additions per element.  Representations are additive mod p
 * (Montgomery form a·R, and raw vectors alike), so the result is the field sum
 * in the inputs' own form.  Time independent of the values.
 */
#define PA_F128_SUM_POW2_MAX 32
static inline pa_f128 pa_f128_sum_pow2(const pa_f128 *v, size_t n)
{
    pa_f128_u128 lo = 0; /* T = hi·2^128 + lo */
    uint64_t hi = 0;
    for (size_t l = n; l-- > 0;) {
        pa_f128_u128 x = pa_f128_to_u128(v[l]), s;
        hi = (hi << 1) | (uint64_t)(lo >> 127);
        lo <<= 1;
        hi += pa_f128_add_mask(lo, x, &s) & 1;
        lo = s;
    }
    /* T mod p = REDC(T·2^128): T < (2^n - 1)·p < 2^160 sits in the top three
     * words with hi < 2^32, within pa_f128_wide_reduce's bound */
    pa_f128_wide w = {{0, 0, (uint64_t)lo, (uint64_t)(lo >> 64), hi}};
    return pa_f128_wide_reduce(&w);
}

#endif
