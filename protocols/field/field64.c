/*
 * Field64 (draft-irtf-cfrg-vdaf-20 §6.1.4): the out-of-line parts — inversion,
 * public-exponent power, the table of roots of unity and vector codecs.  The
 * hot arithmetic is static inline in field64.h.
 */
#include "field/field64.h"

#include <assert.h>
#include <string.h>

/*
 * ROOTS[k] = gen^(2^(32-k)) with gen = 7^4294967295 mod p: a primitive 2^k-th
 * root of unity.  Computed offline with Python's pow(); the unit test
 * field_roots_test recomputes every entry from 7 with pa_f64_pow.
 */
static const uint64_t PA_F64_ROOTS[PA_F64_TWO_ADICITY + 1] = {
    UINT64_C(0x0000000000000001), UINT64_C(0xffffffff00000000), UINT64_C(0x0001000000000000),
    UINT64_C(0xfffffffeff000001), UINT64_C(0xefffffff00000001), UINT64_C(0x00003fffffffc000),
    UINT64_C(0x0000008000000000), UINT64_C(0xf80007ff08000001), UINT64_C(0xbf79143ce60ca966),
    UINT64_C(0x1905d02a5c411f4e), UINT64_C(0x9d8f2ad78bfed972), UINT64_C(0x0653b4801da1c8cf),
    UINT64_C(0xf2c35199959dfcb6), UINT64_C(0x1544ef2335d17997), UINT64_C(0xe0ee099310bba1e2),
    UINT64_C(0xf6b2cffe2306baac), UINT64_C(0x54df9630bf79450e), UINT64_C(0xabd0a6e8aa3d8a0e),
    UINT64_C(0x81281a7b05f9beac), UINT64_C(0xfbd41c6b8caa3302), UINT64_C(0x30ba2ecd5e93e76d),
    UINT64_C(0xf502aef532322654), UINT64_C(0x4b2a18ade67246b5), UINT64_C(0xea9d5a1336fbc98b),
    UINT64_C(0x86cdcc31c307e171), UINT64_C(0x4bbaf5976ecfefd8), UINT64_C(0xed41d05b78d6e286),
    UINT64_C(0x10d78dd8915a171d), UINT64_C(0x59049500004a4485), UINT64_C(0xdfa8c93ba46d2666),
    UINT64_C(0x7e9bd009b86a0845), UINT64_C(0x400a7f755588e659), UINT64_C(0x185629dcda58878c),
};

pa_f64 pa_f64_pow(pa_f64 a, uint64_t e)
{
    pa_f64 r = pa_f64_one();
    while (e != 0) {
        if (e & 1)
            r = pa_f64_mul(r, a);
        a = pa_f64_mul(a, a);
        e >>= 1;
    }
    return r;
}

/*
 * a^(p-2) with p - 2 = 0xfffffffe_ffffffff, by a fixed addition chain (the
 * exponent is a public constant, so the sequence of operations never depends on
 * a): build a^(2^k - 1) by doubling k, then
 * p - 2 = (2^31 - 1)·2^33 + 2^32 - 1.
 */
pa_f64 pa_f64_inv(pa_f64 a)
{
    pa_f64 x1 = a, x2, x4, x8, x16, x31, x32, t;
    int i;

    x2 = pa_f64_mul(pa_f64_mul(x1, x1), x1);              /* 2^2 - 1 */
    t = x2;
    for (i = 0; i < 2; i++)
        t = pa_f64_mul(t, t);
    x4 = pa_f64_mul(t, x2);                               /* 2^4 - 1 */
    t = x4;
    for (i = 0; i < 4; i++)
        t = pa_f64_mul(t, t);
    x8 = pa_f64_mul(t, x4);                               /* 2^8 - 1 */
    t = x8;
    for (i = 0; i < 8; i++)
        t = pa_f64_mul(t, t);
    x16 = pa_f64_mul(t, x8);                              /* 2^16 - 1 */
    t = x16;
    for (i = 0; i < 15; i++)
        t = pa_f64_mul(t, t);
    /* (2^16 - 1)·2^15 + (2^15 - 1) needs x15; use x16·2^15 · x8·2^7 · x4·2^3 · x2·2 · x1 */
    {
        pa_f64 u = x8;
        for (i = 0; i < 7; i++)
            u = pa_f64_mul(u, u);                          /* (2^8 - 1)·2^7 */
        pa_f64 v = x4;
        for (i = 0; i < 3; i++)
            v = pa_f64_mul(v, v);                          /* (2^4 - 1)·2^3 */
        pa_f64 w = pa_f64_mul(x2, x2);                     /* (2^2 - 1)·2 */
        x31 = pa_f64_mul(pa_f64_mul(pa_f64_mul(t, u), pa_f64_mul(v, w)), x1); /* 2^31 - 1 */
    }
    x32 = pa_f64_mul(pa_f64_mul(x31, x31), x1);           /* 2^32 - 1 */
    t = x31;
    for (i = 0; i < 33; i++)
        t = pa_f64_mul(t, t);                             /* (2^31 - 1)·2^33 */
    return pa_f64_mul(t, x32);
}

pa_f64 pa_f64_root_of_unity(size_t n)
{
    unsigned k = 0;
    assert(n != 0 && (n & (n - 1)) == 0 && n <= ((size_t)1 << 32));
    while (k <= 32 && ((size_t)1 << k) < n)
        k++;
    /* release build, invalid n: no out-of-bounds read; zero is never a root */
    if (n == 0 || (n & (n - 1)) != 0 || k > 32)
        return 0;
    return PA_F64_ROOTS[k];
}

void pa_f64_encode_vec(uint8_t *out, const pa_f64 *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pa_f64_encode(out + i * PA_F64_ENCODED_SIZE, v[i]);
}

int pa_f64_decode_vec(pa_f64 *out, const uint8_t *in, size_t n)
{
    /* One pass without a per-element branch: validity flags are OR-ed together
     * and only the overall verdict, which the status reveals anyway, is
     * declassified and branched on (then, on a bad vector, the failing index). */
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = pa_f64_load64le(in + i * PA_F64_ENCODED_SIZE);
        uint64_t ok = pa_ct_lt(v, PA_F64_MODULUS);
        bad |= ok ^ 1;
        out[i] = v & pa_ct_mask(ok);
    }
    if (pa_ct_public(bad) == 0)
        return 0;
    size_t i = 0;
    while (i + 1 < n && pa_ct_public(pa_f64_canonical(in + i * PA_F64_ENCODED_SIZE)))
        i++; /* bounded: in is read again */
    memset(out, 0, n * sizeof *out);
    return pa_fail(PA_EDECODE, "field64 element %zu of %zu: value >= modulus %llu", i, n,
                   (unsigned long long)PA_F64_MODULUS);
}
