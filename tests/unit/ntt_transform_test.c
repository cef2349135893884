/*
 * NTT module tests, both fields: pa_F_ntt and pa_F_intt against the naive O(n^2)
 * transform a[i] <- sum_j a[j]·w^(i·j) (w recomputed from the draft's generator
 * 7^K, not from root_of_unity) for EVERY size 2^0 .. 2^12, likewise the coset
 * transform (the draft's ntt with set_s) at s·w^i; intt(ntt(a)) == a;
 * poly_mul against schoolbook on random sizes on both sides of the NTT
 * threshold, with aliasing and error cases; poly_eval against direct evaluation.
 * Deterministic randomness (fixed seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/det_rng.h"
#include <sodium.h>

#include "ntt/ntt.h"

#define MAX_LOG 12


static pa_f64 rnd_f64(void) { return pa_f64_from_u64(rnd64()); }

static pa_f128 rnd_f128(void)
{
    uint8_t b[PA_F128_ENCODED_SIZE];
    pa_f128 x;
    do {
        uint64_t lo = rnd64(), hi = rnd64();
        memcpy(b, &lo, 8);
        memcpy(b + 8, &hi, 8);
    } while (pa_f128_decode(&x, b) != 0);
    return x;
}

/* Primitive 2^k-th root from the draft's generator: (7^K)^(2^(S-k)). */
static pa_f64 ref_root_f64(unsigned k)
{
    pa_f64 w = pa_f64_pow(pa_f64_from_u64(7), UINT64_C(4294967295));
    for (unsigned s = 0; s < 32 - k; s++)
        w = pa_f64_mul(w, w);
    return w;
}

static pa_f128 ref_root_f128(unsigned k)
{
    pa_f128 w = pa_f128_pow(pa_f128_from_u64(7), UINT64_C(4611686018427387897));
    for (unsigned s = 0; s < 66 - k; s++)
        w = pa_f128_mul(w, w);
    return w;
}

/*
 * Per field F (type T): naive transform with root w (out[i] = sum_j in[j] w^(ij)),
 * the NTT test over all sizes, poly_mul vs schoolbook, and poly_eval vs direct.
 */
#define DEFINE_NTT_TESTS(F, T, RND, REF_ROOT)                                                     \
    static void naive_##F(T *out, const T *in, size_t n, T w)                                     \
    {                                                                                             \
        T wi = pa_##F##_one();                                                                    \
        for (size_t i = 0; i < n; i++) {                                                          \
            T acc = pa_##F##_zero(), x = pa_##F##_one();                                          \
            for (size_t j = 0; j < n; j++) {                                                      \
                acc = pa_##F##_add(acc, pa_##F##_mul(in[j], x));                                  \
                x = pa_##F##_mul(x, wi);                                                          \
            }                                                                                     \
            out[i] = acc;                                                                         \
            wi = pa_##F##_mul(wi, w);                                                             \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    static void test_ntt_##F(void **state)                                                        \
    {                                                                                             \
        size_t nmax = (size_t)1 << MAX_LOG;                                                       \
        T *a = malloc(nmax * sizeof *a), *b = malloc(nmax * sizeof *b);                           \
        T *ref = malloc(nmax * sizeof *ref);                                                      \
        (void)state;                                                                              \
        assert_non_null(a);                                                                       \
        assert_non_null(b);                                                                       \
        assert_non_null(ref);                                                                     \
        rng_reset(1);                                                                             \
        for (unsigned k = 0; k <= MAX_LOG; k++) {                                                 \
            size_t n = (size_t)1 << k;                                                            \
            T w = REF_ROOT(k);                                                                    \
            assert_true(pa_##F##_eq(w, pa_##F##_root_of_unity(n)));                               \
            for (size_t i = 0; i < n; i++)                                                        \
                a[i] = RND();                                                                     \
            if (k == 3) /* a boundary value among the inputs */                                   \
                a[0] = pa_##F##_neg(pa_##F##_one());                                              \
            memcpy(b, a, n * sizeof *a);                                                          \
            naive_##F(ref, a, n, w);                                                              \
            pa_##F##_ntt(b, n);                                                                   \
            for (size_t i = 0; i < n; i++)                                                        \
                if (!pa_##F##_eq(b[i], ref[i]))                                                   \
                    fail_msg(#F " ntt n=%zu: mismatch at %zu", n, i);                             \
            /* inverse: back to a, and equal to the naive transform with w^-1, scaled by 1/n */   \
            pa_##F##_intt(b, n);                                                                  \
            assert_memory_equal(b, a, n * sizeof *a);                                             \
            memcpy(b, a, n * sizeof *a);                                                          \
            pa_##F##_intt(b, n);                                                                  \
            naive_##F(ref, a, n, pa_##F##_inv(w));                                                \
            T inv_n = pa_##F##_inv(pa_##F##_from_u64(n));                                         \
            for (size_t i = 0; i < n; i++)                                                        \
                if (!pa_##F##_eq(b[i], pa_##F##_mul(ref[i], inv_n)))                              \
                    fail_msg(#F " intt n=%zu: mismatch at %zu", n, i);                            \
            /* coset transform: evaluations at s·w^i, s = 2n-th root (REF_ROOT(k + 1)) */ \
            memcpy(b, a, n * sizeof *a);                                                          \
            pa_##F##_ntt_coset(b, n);                                                             \
            {                                                                                     \
                T s2 = REF_ROOT(k + 1), si = s2;                                                  \
                for (size_t i = 0; i < n; i++) {                                                  \
                    T acc = pa_##F##_zero(), x = pa_##F##_one();                                  \
                    for (size_t j = 0; j < n; j++) {                                              \
                        acc = pa_##F##_add(acc, pa_##F##_mul(a[j], x));                           \
                        x = pa_##F##_mul(x, si);                                                  \
                    }                                                                             \
                    if (!pa_##F##_eq(b[i], acc))                                                  \
                        fail_msg(#F " ntt_coset n=%zu: mismatch at %zu", n, i);                   \
                    si = pa_##F##_mul(si, w);                                                     \
                }                                                                                 \
            }                                                                                     \
            /* impulse at 1 -> powers of w; constant c -> (n·c, 0, ..., 0) */                     \
            for (size_t i = 0; i < n; i++)                                                        \
                b[i] = pa_##F##_zero();                                                           \
            if (n > 1) {                                                                          \
                b[1] = pa_##F##_one();                                                            \
                pa_##F##_ntt(b, n);                                                               \
                for (size_t i = 0; i < n; i++)                                                    \
                    assert_true(pa_##F##_eq(b[i], pa_##F##_pow(w, i)));                          \
            }                                                                                     \
            T c = RND();                                                                          \
            for (size_t i = 0; i < n; i++)                                                        \
                b[i] = c;                                                                         \
            pa_##F##_ntt(b, n);                                                                   \
            assert_true(pa_##F##_eq(b[0], pa_##F##_mul(c, pa_##F##_from_u64(n))));                \
            for (size_t i = 1; i < n; i++)                                                        \
                assert_true(pa_##F##_is_zero(b[i]));                                              \
        }                                                                                         \
        free(a);                                                                                  \
        free(b);                                                                                  \
        free(ref);                                                                                \
    }                                                                                             \
                                                                                                  \
    static void schoolbook_##F(T *out, const T *a, size_t na, const T *b, size_t nb)              \
    {                                                                                             \
        for (size_t i = 0; i < na + nb - 1; i++)                                                  \
            out[i] = pa_##F##_zero();                                                             \
        for (size_t i = 0; i < na; i++)                                                           \
            for (size_t j = 0; j < nb; j++)                                                       \
                out[i + j] = pa_##F##_add(out[i + j], pa_##F##_mul(a[i], b[j]));                  \
    }                                                                                             \
                                                                                                  \
    static void test_poly_mul_##F(void **state)                                                   \
    {                                                                                             \
        /* sizes on both sides of the schoolbook/NTT switch, powers of two and not */             \
        static const size_t sizes[][2] = {                                                        \
            {1, 1},    {1, 7},     {2, 2},     {3, 5},    {8, 8},     {9, 9},     {16, 17},       \
            {33, 31},  {64, 64},   {65, 64},   {100, 3},  {128, 129}, {200, 300}, {511, 513},     \
            {1024, 1}, {1000, 24}, {777, 1500}, {2048, 2049}, {3000, 100}, {4, 2500},             \
        };                                                                                        \
        (void)state;                                                                              \
        rng_reset(2);                                                                             \
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] + 20; s++) {                        \
            size_t na, nb;                                                                        \
            if (s < sizeof sizes / sizeof sizes[0]) {                                             \
                na = sizes[s][0];                                                                 \
                nb = sizes[s][1];                                                                 \
            } else {                                                                              \
                na = 1 + rnd64() % 700;                                                           \
                nb = 1 + rnd64() % 700;                                                           \
            }                                                                                     \
            size_t no = na + nb - 1;                                                              \
            T *a = malloc((na + nb) * sizeof *a), *b = malloc(nb * sizeof *b);                    \
            T *out = malloc(no * sizeof *out), *ref = malloc(no * sizeof *ref);                   \
            assert_true(a && b && out && ref);                                                    \
            for (size_t i = 0; i < na; i++)                                                       \
                a[i] = RND();                                                                     \
            for (size_t i = 0; i < nb; i++)                                                       \
                b[i] = RND();                                                                     \
            schoolbook_##F(ref, a, na, b, nb);                                                    \
            assert_int_equal(pa_##F##_poly_mul(out, a, na, b, nb), 0);                            \
            for (size_t i = 0; i < no; i++)                                                       \
                if (!pa_##F##_eq(out[i], ref[i]))                                                 \
                    fail_msg(#F " poly_mul %zu x %zu: mismatch at %zu", na, nb, i);               \
            /* aliasing: out == a (a has room for na + nb - 1 coefficients) */                    \
            assert_int_equal(pa_##F##_poly_mul(a, a, na, b, nb), 0);                              \
            assert_memory_equal(a, ref, no * sizeof *a);                                          \
            free(a);                                                                              \
            free(b);                                                                              \
            free(out);                                                                            \
            free(ref);                                                                            \
        }                                                                                         \
        T x = pa_##F##_one(), y[2];                                                               \
        assert_int_equal(pa_##F##_poly_mul(y, &x, 0, &x, 1), PA_EINVAL);                          \
        assert_int_equal(pa_##F##_poly_mul(y, &x, 1, &x, 0), PA_EINVAL);                          \
    }                                                                                             \
                                                                                                  \
    static void test_poly_eval_##F(void **state)                                                  \
    {                                                                                             \
        T c[300];                                                                                 \
        (void)state;                                                                              \
        rng_reset(3);                                                                             \
        for (size_t n = 0; n <= 300; n += (n < 10 ? 1 : 37)) {                                    \
            for (size_t i = 0; i < n; i++)                                                        \
                c[i] = RND();                                                                     \
            for (int t = 0; t < 5; t++) {                                                         \
                T x = t == 0 ? pa_##F##_zero() : t == 1 ? pa_##F##_one() : RND();                 \
                T acc = pa_##F##_zero(), xp = pa_##F##_one();                                     \
                for (size_t i = 0; i < n; i++) {                                                  \
                    acc = pa_##F##_add(acc, pa_##F##_mul(c[i], xp));                              \
                    xp = pa_##F##_mul(xp, x);                                                     \
                }                                                                                 \
                assert_true(pa_##F##_eq(pa_##F##_poly_eval(c, n, x), acc));                       \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_NTT_TESTS(f64, pa_f64, rnd_f64, ref_root_f64)
DEFINE_NTT_TESTS(f128, pa_f128, rnd_f128, ref_root_f128)

/* Invalid sizes are programmer errors (asserted); a release build must not touch
 * memory out of bounds: the transforms leave the input alone, roots are 0. */
static void test_invalid_sizes_release(void **state)
{
    (void)state;
#ifdef NDEBUG
    pa_f64 a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8];
    pa_f128 c[8], d[8];
    for (int i = 0; i < 8; i++)
        c[i] = pa_f128_from_u64((uint64_t)i + 1);
    memcpy(b, a, sizeof a);
    memcpy(d, c, sizeof c);
    static const size_t bad[] = {0, 3, 5, 6, 7};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_f64_ntt(a, bad[i]);
        pa_f64_intt(a, bad[i]);
        pa_f64_ntt_coset(a, bad[i]);
        pa_f128_ntt(c, bad[i]);
        pa_f128_intt(c, bad[i]);
        pa_f128_ntt_coset(c, bad[i]);
        assert_true(pa_f64_is_zero(pa_f64_root_of_unity(bad[i])));
        assert_true(pa_f128_is_zero(pa_f128_root_of_unity(bad[i])));
    }
    assert_true(pa_f64_is_zero(pa_f64_root_of_unity((size_t)1 << 33)));
    assert_true(pa_f128_is_zero(pa_f128_root_of_unity(((size_t)1 << 33))));
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(c, d, sizeof c);
#else
    skip(); /* with asserts on, an invalid size aborts by design */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntt_f64),       cmocka_unit_test(test_ntt_f128),
        cmocka_unit_test(test_poly_mul_f64),  cmocka_unit_test(test_poly_mul_f128),
        cmocka_unit_test(test_poly_eval_f64), cmocka_unit_test(test_poly_eval_f128),
        cmocka_unit_test(test_invalid_sizes_release),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
