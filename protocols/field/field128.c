/*
 * Field128 (draft-irtf-cfrg-vdaf-20 §6.1.4): the out-of-line parts — inversion,
 * public-exponent power, the table of roots of unity and vector codecs.  The
 * hot arithmetic is static inline in field128.h.
 */
#include "field/field128.h"

#include <assert.h>
#include <string.h>

/*
 * ROOTS[k] = gen^(2^(66-k)) in Montgomery form, gen = 7^4611686018427387897
 * mod p: a primitive 2^k-th root of unity, for k = 0..32 (NTT sizes fit a
 * size_t; the field would allow up to 2^66).  Computed offline with Python's
 * pow(); the unit test field_roots_test recomputes every entry from 7.
 */
static const pa_f128 PA_F128_ROOTS[33] = {
    {{UINT64_C(0xffffffffffffffff), UINT64_C(0x000000000000001b)}},
    {{UINT64_C(0x0000000000000002), UINT64_C(0xffffffffffffffc8)}},
    {{UINT64_C(0x8ff94ea745b7d9d6), UINT64_C(0x6171e408747992c7)}},
    {{UINT64_C(0x1323bb095fba9556), UINT64_C(0x7f2a4e6655e5a49c)}},
    {{UINT64_C(0xd1c455956aafabfc), UINT64_C(0x3d661493c5e89442)}},
    {{UINT64_C(0x416d53fbcdfcc65c), UINT64_C(0x5c159e1cffd5eca0)}},
    {{UINT64_C(0x1428d15e766f5f3e), UINT64_C(0x960d5c8696ec3aa3)}},
    {{UINT64_C(0x8f0cef59f8c23f3e), UINT64_C(0xcce83f596bb28730)}},
    {{UINT64_C(0x432d8d01ae187081), UINT64_C(0x12b496afe629224c)}},
    {{UINT64_C(0x0edc26fa686e3d3b), UINT64_C(0xc2026e57b1554ea9)}},
    {{UINT64_C(0x79663ccecfe8c86c), UINT64_C(0xf38c95d1e57405ea)}},
    {{UINT64_C(0xfecc377cf0f47a9f), UINT64_C(0x2b486d42d73283bd)}},
    {{UINT64_C(0x0ab1068497116540), UINT64_C(0x70866815dbf52bac)}},
    {{UINT64_C(0x2d9420dc5196c01a), UINT64_C(0x852c9b234b09c7df)}},
    {{UINT64_C(0x1a491a6cf3399115), UINT64_C(0xca4b831e2e621692)}},
    {{UINT64_C(0xb99152aabeebd757), UINT64_C(0xb7fbf514f82e2269)}},
    {{UINT64_C(0xb8da2f851dfd594a), UINT64_C(0x597c0e93a246d640)}},
    {{UINT64_C(0xf2888c210ef9f1c4), UINT64_C(0x97f929a5d52ab886)}},
    {{UINT64_C(0xe6a0ccbc956fc7fb), UINT64_C(0xfa4748aea960d0eb)}},
    {{UINT64_C(0xe53d6d96e1ec92a0), UINT64_C(0xc24ed95c3c013bcc)}},
    {{UINT64_C(0x6cc6e9129e1679c0), UINT64_C(0x6f825f88648b270c)}},
    {{UINT64_C(0x2c4d04cc40a2bd04), UINT64_C(0x17c2af4df9629e3d)}},
    {{UINT64_C(0x843747925bd7da8e), UINT64_C(0xdcd8c9979b888e8a)}},
    {{UINT64_C(0x4a1b1730d0aa77a0), UINT64_C(0x391696912d85b368)}},
    {{UINT64_C(0x68fb2b7e053e9500), UINT64_C(0x8ab5e54096ca012c)}},
    {{UINT64_C(0x1ccc0958442d4cd2), UINT64_C(0x819909091849c5c1)}},
    {{UINT64_C(0x25e9f8eeb3a11b26), UINT64_C(0x741eb9f6cfde0f02)}},
    {{UINT64_C(0x57b7921d9d4d0d66), UINT64_C(0x681f358ffad3a90d)}},
    {{UINT64_C(0x9bd3b6be3602bfe2), UINT64_C(0x294e31a63bbd8bb1)}},
    {{UINT64_C(0xe36811a2b6dd2f4d), UINT64_C(0x402946e8dcc86185)}},
    {{UINT64_C(0x468354d0ce6f4f42), UINT64_C(0xdc3971476a49c161)}},
    {{UINT64_C(0xd42c20d91e16ba3b), UINT64_C(0x16849c909ba2920d)}},
    {{UINT64_C(0x488a61cbe76f8796), UINT64_C(0xe0312b455090dc3d)}},
};

pa_f128 pa_f128_pow(pa_f128 a, uint64_t e)
{
    pa_f128 r = pa_f128_one();
    while (e != 0) {
        if (e & 1)
            r = pa_f128_mul(r, a);
        a = pa_f128_mul(a, a);
        e >>= 1;
    }
    return r;
}

/* a^(2^k) by k squarings */
static pa_f128 pa_f128_sqr_n(pa_f128 a, int k)
{
    for (int i = 0; i < k; i++)
        a = pa_f128_mul(a, a);
    return a;
}

/*
 * a^(p-2) by a fixed addition chain (the exponent is a public constant, so the
 * sequence of operations never depends on a).  With x_k = a^(2^k - 1):
 *   p - 2 = 2^128 - 28·2^64 - 1 = ((2^59 - 1)·2^5 + 3)·2^64 + (2^64 - 1),
 * and x_64 = x_59^(2^5)·x_5.  128 squarings and 13 multiplications.
 */
pa_f128 pa_f128_inv(pa_f128 a)
{
    pa_f128 x2, x3, x4, x5, x10, x20, x40, x50, x55, x59, x64, s, t;

    x2 = pa_f128_mul(pa_f128_sqr_n(a, 1), a);
    x3 = pa_f128_mul(pa_f128_sqr_n(x2, 1), a);
    x4 = pa_f128_mul(pa_f128_sqr_n(x3, 1), a);
    x5 = pa_f128_mul(pa_f128_sqr_n(x3, 2), x2);
    x10 = pa_f128_mul(pa_f128_sqr_n(x5, 5), x5);
    x20 = pa_f128_mul(pa_f128_sqr_n(x10, 10), x10);
    x40 = pa_f128_mul(pa_f128_sqr_n(x20, 20), x20);
    x50 = pa_f128_mul(pa_f128_sqr_n(x40, 10), x10);
    x55 = pa_f128_mul(pa_f128_sqr_n(x50, 5), x5);
    x59 = pa_f128_mul(pa_f128_sqr_n(x55, 4), x4);
    s = pa_f128_sqr_n(x59, 5);             /* (2^59 - 1)·2^5 */
    x64 = pa_f128_mul(s, x5);              /* 2^64 - 1 */
    t = pa_f128_mul(s, x2);                /* (2^59 - 1)·2^5 + 3 */
    t = pa_f128_mul(pa_f128_sqr_n(t, 64), x64);
    return t;
}

pa_f128 pa_f128_root_of_unity(size_t n)
{
    unsigned k = 0;
    assert(n != 0 && (n & (n - 1)) == 0 && n <= ((size_t)1 << 32));
    while (k <= 32 && ((size_t)1 << k) < n)
        k++;
    /* release build, invalid n: no out-of-bounds read; zero is never a root */
    if (n == 0 || (n & (n - 1)) != 0 || k > 32)
        return pa_f128_zero();
    return PA_F128_ROOTS[k];
}

void pa_f128_encode_vec(uint8_t *out, const pa_f128 *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pa_f128_encode(out + i * PA_F128_ENCODED_SIZE, v[i]);
}

static int decode_vec(pa_f128 *out, const uint8_t *in, size_t n, int bRaw)
{
    /* One pass without a per-element branch: validity flags are OR-ed together
     * and only the overall verdict, which the status reveals anyway, is
     * declassified and branched on (then, on a bad vector, the failing index). */
    const pa_f128 r2 = {{UINT64_C(0xfffffffffffffcf1), UINT64_C(0x5587)}}; /* R^2 mod p */
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = in + i * PA_F128_ENCODED_SIZE;
        uint64_t lo = pa_f128_load64le(e), hi = pa_f128_load64le(e + 8);
        uint64_t ok = pa_f128_canonical(e); /* value < p */
        uint64_t m = pa_ct_mask(ok);
        bad |= ok ^ 1;
        out[i] = pa_f128_make(lo & m, hi & m);
        if (!bRaw)
            out[i] = pa_f128_mul(out[i], r2);
    }
    if (pa_ct_public(bad) == 0)
        return 0;
    size_t i = 0;
    while (i + 1 < n && pa_ct_public(pa_f128_canonical(in + i * PA_F128_ENCODED_SIZE)))
        i++; /* bounded: in is read again */
    memset(out, 0, n * sizeof *out);
    return pa_fail(PA_EDECODE, "field128 element %zu of %zu: value >= modulus 2^128-28*2^64+1",
                   i, n);
}

int pa_f128_decode_vec(pa_f128 *out, const uint8_t *in, size_t n)
{
    return decode_vec(out, in, n, 0);
}

int pa_f128_decode_vec_raw(pa_f128 *out, const uint8_t *in, size_t n)
{
    return decode_vec(out, in, n, 1);
}

void pa_f128_encode_vec_raw(uint8_t *out, const pa_f128 *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pa_f128_store64le(out + i * PA_F128_ENCODED_SIZE, v[i].w[0]);
        pa_f128_store64le(out + i * PA_F128_ENCODED_SIZE + 8, v[i].w[1]);
    }
}
