/*
 * Field64 and Field128: field laws on random elements (associativity,
 * commutativity, distributivity, identities, additive and multiplicative
 * inverses, pow), strict decoding (p, p+1, all-ones rejected; p-1 accepted;
 * decode_vec zeroes its output on failure), encode/decode round trips, and the
 * roots of unity (recomputed from 7 and the draft's exponents; exact order).
 * Deterministic randomness (fixed seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "field/field128.h"
#include "field/field64.h"

#define N_LAWS 200000

static uint8_t g_seed[randombytes_SEEDBYTES];
static uint8_t g_buf[1 << 16];
static size_t g_pos = sizeof g_buf;
static uint64_t g_ctr;

static void rng_reset(uint8_t tag)
{
    memset(g_seed, 0x3c, sizeof g_seed);
    g_seed[0] = tag;
    g_ctr = 0;
    g_pos = sizeof g_buf;
}

static void rnd_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (g_pos == sizeof g_buf) {
            memcpy(g_seed + 8, &g_ctr, sizeof g_ctr);
            g_ctr++;
            randombytes_buf_deterministic(g_buf, sizeof g_buf, g_seed);
            g_pos = 0;
        }
        out[i] = g_buf[g_pos++];
    }
}

/* uniform elements by rejection sampling of encodings (as the XOF does) */
static pa_f64 rnd_f64(void)
{
    uint8_t b[PA_F64_ENCODED_SIZE];
    pa_f64 x;
    do
        rnd_bytes(b, sizeof b);
    while (pa_f64_decode(&x, b) != 0);
    return x;
}

static pa_f128 rnd_f128(void)
{
    uint8_t b[PA_F128_ENCODED_SIZE];
    pa_f128 x;
    do {
        rnd_bytes(b, sizeof b);
        b[15] |= (uint8_t)(b[0] & 1 ? 0xff : 0); /* often near the top, to exercise rejection */
    } while (pa_f128_decode(&x, b) != 0);
    return x;
}

/* The laws are written once and instantiated for both fields. */
#define DEFINE_LAWS(F, T, RND)                                                                    \
    static void test_laws_##F(void **state)                                                       \
    {                                                                                             \
        (void)state;                                                                              \
        rng_reset(1);                                                                             \
        for (int i = 0; i < N_LAWS; i++) {                                                        \
            T a = RND(), b = RND(), c = RND();                                                    \
            T zero = pa_##F##_zero(), one = pa_##F##_one();                                       \
            if (i == 0)                                                                           \
                a = zero;                                                                         \
            if (i == 1)                                                                           \
                b = one;                                                                          \
            if (i == 2)                                                                           \
                c = pa_##F##_neg(one);                                                            \
            assert_true(pa_##F##_eq(pa_##F##_add(pa_##F##_add(a, b), c),                          \
                                    pa_##F##_add(a, pa_##F##_add(b, c))));                        \
            assert_true(pa_##F##_eq(pa_##F##_mul(pa_##F##_mul(a, b), c),                          \
                                    pa_##F##_mul(a, pa_##F##_mul(b, c))));                        \
            assert_true(pa_##F##_eq(pa_##F##_add(a, b), pa_##F##_add(b, a)));                     \
            assert_true(pa_##F##_eq(pa_##F##_mul(a, b), pa_##F##_mul(b, a)));                     \
            assert_true(pa_##F##_eq(pa_##F##_mul(a, pa_##F##_add(b, c)),                          \
                                    pa_##F##_add(pa_##F##_mul(a, b), pa_##F##_mul(a, c))));       \
            assert_true(pa_##F##_eq(pa_##F##_add(a, zero), a));                                   \
            assert_true(pa_##F##_eq(pa_##F##_mul(a, one), a));                                    \
            assert_true(pa_##F##_is_zero(pa_##F##_mul(a, zero)));                                 \
            assert_true(pa_##F##_is_zero(pa_##F##_add(a, pa_##F##_neg(a))));                      \
            assert_true(pa_##F##_eq(pa_##F##_sub(a, b), pa_##F##_add(a, pa_##F##_neg(b))));       \
            assert_true(pa_##F##_eq(pa_##F##_sub(pa_##F##_add(a, b), b), a));                     \
            assert_true(pa_##F##_eq(pa_##F##_neg(pa_##F##_neg(a)), a));                           \
            assert_int_equal(pa_##F##_eq(a, b), pa_##F##_is_zero(pa_##F##_sub(a, b)));            \
            if ((i & 15) == 0) {                                                                  \
                T ai = pa_##F##_inv(a);                                                           \
                if (pa_##F##_is_zero(a))                                                          \
                    assert_true(pa_##F##_is_zero(ai));                                            \
                else                                                                              \
                    assert_true(pa_##F##_eq(pa_##F##_mul(a, ai), one));                           \
                uint64_t e1 = (uint64_t)i * 2654435761u, e2 = (uint64_t)i ^ 0x5555;               \
                assert_true(pa_##F##_eq(pa_##F##_pow(a, e1 + e2),                                \
                                        pa_##F##_mul(pa_##F##_pow(a, e1), pa_##F##_pow(a, e2)))); \
            }                                                                                     \
        }                                                                                         \
        assert_true(pa_##F##_is_zero(pa_##F##_inv(pa_##F##_zero())));                            \
        assert_true(pa_##F##_eq(pa_##F##_inv(pa_##F##_one()), pa_##F##_one()));                  \
        assert_true(pa_##F##_eq(pa_##F##_pow(pa_##F##_from_u64(3), 0), pa_##F##_one()));         \
        assert_true(pa_##F##_eq(pa_##F##_add(pa_##F##_from_u64(2), pa_##F##_from_u64(3)),         \
                                pa_##F##_from_u64(5)));                                           \
        assert_true(pa_##F##_eq(pa_##F##_mul(pa_##F##_from_u64(6), pa_##F##_from_u64(7)),         \
                                pa_##F##_from_u64(42)));                                          \
    }

DEFINE_LAWS(f64, pa_f64, rnd_f64)
DEFINE_LAWS(f128, pa_f128, rnd_f128)

static void put_le(uint8_t *out, size_t n, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i < 8 ? lo >> (8 * i) : hi >> (8 * (i - 8)));
}

static void test_decode_f64(void **state)
{
    const uint64_t p = PA_F64_MODULUS;
    const uint64_t bad[] = {p, p + 1, p + 2, UINT64_C(0xffffffff80000000), UINT64_MAX - 1,
                            UINT64_MAX};
    uint8_t b[PA_F64_ENCODED_SIZE], e[PA_F64_ENCODED_SIZE];
    pa_f64 x;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_le(b, sizeof b, bad[i], 0);
        x = pa_f64_one();
        assert_int_equal(pa_f64_decode(&x, b), PA_EDECODE);
        assert_true(pa_f64_is_zero(x));
    }
    const uint64_t good[] = {0, 1, p - 1, p - 2, UINT64_C(0xfffffffeffffffff), 1ULL << 63};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        put_le(b, sizeof b, good[i], 0);
        assert_int_equal(pa_f64_decode(&x, b), 0);
        assert_true(pa_f64_to_u64(x) == good[i]);
        pa_f64_encode(e, x);
        assert_memory_equal(e, b, sizeof b);
    }
    /* vectors: round trip, and one bad element anywhere rejects all and zeroes out */
    enum { N = 37 };
    pa_f64 v[N], w[N];
    uint8_t buf[N * PA_F64_ENCODED_SIZE], buf2[N * PA_F64_ENCODED_SIZE];
    rng_reset(2);
    for (int i = 0; i < N; i++)
        v[i] = rnd_f64();
    pa_f64_encode_vec(buf, v, N);
    assert_int_equal(pa_f64_decode_vec(w, buf, N), 0);
    assert_memory_equal(v, w, sizeof v);
    pa_f64_encode_vec(buf2, w, N);
    assert_memory_equal(buf, buf2, sizeof buf);
    for (int j = 0; j < N; j += 12) {
        memcpy(buf2, buf, sizeof buf);
        put_le(buf2 + j * PA_F64_ENCODED_SIZE, PA_F64_ENCODED_SIZE, p, 0);
        assert_int_equal(pa_f64_decode_vec(w, buf2, N), PA_EDECODE);
        for (int i = 0; i < N; i++)
            assert_true(pa_f64_is_zero(w[i]));
    }
    assert_int_equal(pa_f64_decode_vec(w, buf, 0), 0);
}

static void test_decode_f128(void **state)
{
    const uint64_t p0 = PA_F128_P0, p1 = PA_F128_P1;
    const uint64_t bad[][2] = {
        {p0, p1}, {p0 + 1, p1}, {UINT64_MAX, p1}, {0, p1 + 1}, {UINT64_MAX, UINT64_MAX},
        {0, UINT64_MAX}, {12345, p1 + 5},
    };
    const uint64_t good[][2] = {
        {0, 0}, {1, 0}, {0, p1}, {0, p1 - 1}, {UINT64_MAX, p1 - 1}, {UINT64_MAX, 0}, {0, 1},
    };
    uint8_t b[PA_F128_ENCODED_SIZE], e[PA_F128_ENCODED_SIZE];
    pa_f128 x;
    uint64_t lo, hi;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_le(b, sizeof b, bad[i][0], bad[i][1]);
        x = pa_f128_one();
        assert_int_equal(pa_f128_decode(&x, b), PA_EDECODE);
        assert_true(pa_f128_is_zero(x));
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        put_le(b, sizeof b, good[i][0], good[i][1]);
        assert_int_equal(pa_f128_decode(&x, b), 0);
        pa_f128_to_u64_pair(x, &lo, &hi);
        assert_true(lo == good[i][0] && hi == good[i][1]);
        pa_f128_encode(e, x);
        assert_memory_equal(e, b, sizeof b);
    }
    /* p - 1 is the largest accepted value */
    put_le(b, sizeof b, p0 - 1, p1);
    assert_int_equal(pa_f128_decode(&x, b), 0);
    assert_true(pa_f128_eq(x, pa_f128_neg(pa_f128_one())));

    enum { N = 29 };
    pa_f128 v[N], w[N];
    uint8_t buf[N * PA_F128_ENCODED_SIZE], buf2[N * PA_F128_ENCODED_SIZE];
    rng_reset(3);
    for (int i = 0; i < N; i++)
        v[i] = rnd_f128();
    pa_f128_encode_vec(buf, v, N);
    assert_int_equal(pa_f128_decode_vec(w, buf, N), 0);
    assert_memory_equal(v, w, sizeof v);
    pa_f128_encode_vec(buf2, w, N);
    assert_memory_equal(buf, buf2, sizeof buf);
    for (int j = 0; j < N; j += 7) {
        memcpy(buf2, buf, sizeof buf);
        put_le(buf2 + j * PA_F128_ENCODED_SIZE, PA_F128_ENCODED_SIZE, UINT64_MAX, UINT64_MAX);
        assert_int_equal(pa_f128_decode_vec(w, buf2, N), PA_EDECODE);
        for (int i = 0; i < N; i++)
            assert_true(pa_f128_is_zero(w[i]));
    }
}

/* root_of_unity(2^k) == gen^(2^(S-k)), gen = 7^K from the draft, and has exact order 2^k. */
static void test_roots_f64(void **state)
{
    (void)state;
    pa_f64 gen = pa_f64_pow(pa_f64_from_u64(7), UINT64_C(4294967295));
    pa_f64 one = pa_f64_one();
    assert_true(pa_f64_to_u64(gen) == UINT64_C(0x185629dcda58878c));
    for (unsigned k = 0; k <= 32; k++) {
        size_t n = (size_t)1 << k;
        pa_f64 w = gen;
        for (unsigned s = 0; s < 32 - k; s++)
            w = pa_f64_mul(w, w);
        pa_f64 r = pa_f64_root_of_unity(n);
        assert_true(pa_f64_eq(r, w));
        /* exact order: r^(2^k) = 1 and, for k >= 1, r^(2^(k-1)) = -1 */
        pa_f64 t = r;
        for (unsigned s = 0; s + 1 < k; s++)
            t = pa_f64_mul(t, t);
        if (k >= 1) {
            assert_true(pa_f64_eq(t, pa_f64_neg(one)));
            t = pa_f64_mul(t, t);
        }
        assert_true(pa_f64_eq(t, one));
        assert_true(pa_f64_eq(pa_f64_pow(r, (uint64_t)n), one));
    }
    /* gen itself has order exactly 2^32 */
    assert_false(pa_f64_eq(pa_f64_pow(gen, UINT64_C(1) << 31), one));
    assert_true(pa_f64_eq(pa_f64_pow(gen, UINT64_C(1) << 32), one));
}

static void test_roots_f128(void **state)
{
    (void)state;
    pa_f128 gen = pa_f128_pow(pa_f128_from_u64(7), UINT64_C(4611686018427387897));
    pa_f128 one = pa_f128_one(), t;
    uint64_t lo, hi;
    pa_f128_to_u64_pair(gen, &lo, &hi);
    assert_true(lo == UINT64_C(0x1f9b2759c5109f06) && hi == UINT64_C(0x6d278fbf4f60228b));
    for (unsigned k = 0; k <= 32; k++) {
        size_t n = (size_t)1 << k;
        pa_f128 w = gen;
        for (unsigned s = 0; s < 66 - k; s++)
            w = pa_f128_mul(w, w);
        pa_f128 r = pa_f128_root_of_unity(n);
        assert_true(pa_f128_eq(r, w));
        t = r;
        for (unsigned s = 0; s + 1 < k; s++)
            t = pa_f128_mul(t, t);
        if (k >= 1) {
            assert_true(pa_f128_eq(t, pa_f128_neg(one)));
            t = pa_f128_mul(t, t);
        }
        assert_true(pa_f128_eq(t, one));
    }
    /* gen has order exactly 2^66 */
    t = gen;
    for (int s = 0; s < 65; s++)
        t = pa_f128_mul(t, t);
    assert_true(pa_f128_eq(t, pa_f128_neg(one)));
    assert_true(pa_f128_eq(pa_f128_mul(t, t), one));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_laws_f64),    cmocka_unit_test(test_laws_f128),
        cmocka_unit_test(test_decode_f64),  cmocka_unit_test(test_decode_f128),
        cmocka_unit_test(test_roots_f64),   cmocka_unit_test(test_roots_f128),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
