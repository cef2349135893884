/*
 * Noise on aggregate shares (engine/dp/noise.c): negative noise wraps modulo p,
 * two aggregators' noised shares combine to total + noise_leader + noise_helper
 * (read as negative above p/2), malformed shares are refused untouched, and the
 * timing design of docs/dp.md:
 *   - the noise is drawn before the collection (RNG words are consumed there);
 *   - the collection-path add consumes no randomness and, run under valgrind
 *     memcheck with the noise marked undefined (secret), makes no branch or memory
 *     index that depends on it (ctgrind, as in Monocypher's tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/memcheck.h>

#include "support/ctgrind.h"

/* The library's declassification hook (a weak no-op there): what it declares
 * public (a stored value's bound check, a share's canonicity) is public here. */
void pa_ct_declassify(void *p, size_t n)
{
    VALGRIND_MAKE_MEM_DEFINED(p, n);
}

#include "field/field128.h"
#include "field/field64.h"
#include "privagg/common.h"
#include "privagg/dp.h"

#define P64 PA_F64_MODULUS

static const int64_t k_vals[] = {0, 1, -1, 5, -5, 1000000, -1000000, (int64_t)1 << 61,
                                 -((int64_t)1 << 61)};
#define N_VALS (sizeof k_vals / sizeof k_vals[0])

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void test_f64_wraps(void **state)
{
    pa_dp_noise *pN;
    uint8_t share[N_VALS * 8] = {0};
    (void)state;
    assert_int_equal(pa_dp_noise_from_values_for_tests(k_vals, N_VALS, &pN), PA_OK);
    assert_int_equal(pa_dp_noise_add_f64(pN, share, N_VALS), PA_OK);
    for (size_t i = 0; i < N_VALS; i++) {
        uint64_t want = k_vals[i] >= 0 ? (uint64_t)k_vals[i] : P64 - (uint64_t)(-k_vals[i]);
        assert_true(get_le64(share + 8 * i) == want);
    }
    pa_dp_noise_free(pN);
}

static void test_f128_wraps(void **state)
{
    pa_dp_noise *pN;
    uint8_t share[N_VALS * 16] = {0};
    (void)state;
    assert_int_equal(pa_dp_noise_from_values_for_tests(k_vals, N_VALS, &pN), PA_OK);
    assert_int_equal(pa_dp_noise_add_f128(pN, share, N_VALS), PA_OK);
    for (size_t i = 0; i < N_VALS; i++) {
        unsigned __int128 p = ((unsigned __int128)PA_F128_P1 << 64) | PA_F128_P0;
        unsigned __int128 want = k_vals[i] >= 0 ? (unsigned __int128)k_vals[i]
                                                : p - (unsigned __int128)(-k_vals[i]);
        unsigned __int128 got = ((unsigned __int128)get_le64(share + 16 * i + 8) << 64) |
                                get_le64(share + 16 * i);
        assert_true(got == want);
    }
    pa_dp_noise_free(pN);
}

/* leader and helper each noise their share; the collector's total carries both */
static void test_two_aggregators_combine(void **state)
{
    enum { N = 270 };
    pa_dp_mechanism m;
    pa_dp_rng *pRng;
    pa_dp_noise *pL, *pH;
    uint8_t seed = 9, shL[N * 8], shH[N * 8];
    int64_t nL[N], nH[N];
    uint64_t total[N];
    (void)state;
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(100, 1)), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    assert_int_equal(pa_dp_noise_draw_vartime(pRng, &m, N, &pL), PA_OK);
    assert_int_equal(pa_dp_noise_draw_vartime(pRng, &m, N, &pH), PA_OK);
    pa_dp_rng_free(pRng);
    assert_int_equal(pa_dp_noise_values(pL, nL, N), PA_OK);
    assert_int_equal(pa_dp_noise_values(pH, nH, N), PA_OK);
    for (size_t i = 0; i < N; i++) {
        /* a secret sharing of the true count i % 3 */
        pa_f64 r = pa_f64_from_u64(0x123456789abcdefULL * (i + 1));
        pa_f64_encode(shL + 8 * i, r);
        pa_f64_encode(shH + 8 * i, pa_f64_sub(pa_f64_from_u64(i % 3), r));
    }
    assert_int_equal(pa_dp_noise_add_f64(pL, shL, N), PA_OK);
    assert_int_equal(pa_dp_noise_add_f64(pH, shH, N), PA_OK);
    for (size_t i = 0; i < N; i++) {
        pa_f64 a, b;
        assert_int_equal(pa_f64_decode(&a, shL + 8 * i), 0);
        assert_int_equal(pa_f64_decode(&b, shH + 8 * i), 0);
        total[i] = pa_f64_to_u64(pa_f64_add(a, b));
        int64_t got = total[i] > P64 / 2 ? -(int64_t)(P64 - total[i]) : (int64_t)total[i];
        assert_true(got == (int64_t)(i % 3) + nL[i] + nH[i]);
    }
    pa_dp_noise_free(pL);
    pa_dp_noise_free(pH);
}

static void test_bad_share_untouched(void **state)
{
    pa_dp_noise *pN;
    uint8_t share[3 * 8] = {0}, copy[sizeof share];
    (void)state;
    assert_int_equal(pa_dp_noise_from_values_for_tests(k_vals, 3, &pN), PA_OK);
    memset(share + 16, 0xff, 8); /* 2^64 - 1 >= p */
    memcpy(copy, share, sizeof share);
    assert_int_equal(pa_dp_noise_add_f64(pN, share, 3), PA_EDECODE);
    assert_memory_equal(share, copy, sizeof share);
    assert_int_equal(pa_dp_noise_add_f64(pN, share, 2), PA_EINVAL);
    pa_dp_noise_free(pN);
    {
        int64_t big = INT64_MAX;
        assert_int_equal(pa_dp_noise_from_values_for_tests(&big, 1, &pN), PA_ERANGE);
    }
}

/* stored between aggregation start and collection */
static void test_encode_decode(void **state)
{
    pa_dp_noise *pN, *pBack;
    uint8_t buf[N_VALS * 8];
    int64_t back[N_VALS];
    (void)state;
    assert_int_equal(pa_dp_noise_encoded_size(N_VALS), sizeof buf);
    assert_int_equal(pa_dp_noise_from_values_for_tests(k_vals, N_VALS, &pN), PA_OK);
    assert_int_equal(pa_dp_noise_encode(pN, buf, sizeof buf), PA_OK);
    assert_int_equal(pa_dp_noise_encode(pN, buf, sizeof buf - 1), PA_EINVAL);
    assert_int_equal(pa_dp_noise_decode(&pBack, buf, sizeof buf, N_VALS), PA_OK);
    assert_int_equal(pa_dp_noise_values(pBack, back, N_VALS), PA_OK);
    assert_memory_equal(back, k_vals, sizeof back);
    pa_dp_noise_free(pBack);
    assert_int_equal(pa_dp_noise_decode(&pBack, buf, sizeof buf - 8, N_VALS), PA_EDECODE);
    assert_null(pBack);
    assert_int_equal(pa_dp_noise_decode(&pBack, buf, 0, 0), PA_EDECODE);
    buf[8 * 3 + 7] = 0x40; /* 5 + 2^62: beyond 2^61 */
    assert_int_equal(pa_dp_noise_decode(&pBack, buf, sizeof buf, N_VALS), PA_EDECODE);
    assert_null(pBack);
    memset(buf, 0, 8);
    buf[7] = 0x80; /* INT64_MIN */
    assert_int_equal(pa_dp_noise_decode(&pBack, buf, 8, 1), PA_EDECODE);
    pa_dp_noise_free(pN);
}

/* the draw happens before; the collection path uses no randomness */
static void test_collection_path_draws_nothing(void **state)
{
    pa_dp_mechanism m;
    pa_dp_rng *pRng;
    pa_dp_noise *pN;
    uint8_t seed = 3, share[270 * 16] = {0}, share64[270 * 8] = {0};
    uint64_t before;
    (void)state;
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(1000000, 1)), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    assert_int_equal(pa_dp_noise_draw_vartime(pRng, &m, 270, &pN), PA_OK);
    before = pa_dp_rng_words_drawn(pRng);
    assert_true(before > 270);
    assert_int_equal(pa_dp_noise_add_f128(pN, share, 270), PA_OK);
    assert_int_equal(pa_dp_noise_add_f64(pN, share64, 270), PA_OK);
    assert_true(pa_dp_rng_words_drawn(pRng) == before);
    pa_dp_noise_free(pN);
    pa_dp_rng_free(pRng);
}

/* Run inside valgrind: noise marked undefined; any branch or index on it is an error. */
static int ctgrind_body(void)
{
    static const int64_t aVal[] = {0, 1, -1, 123456, -123456, (int64_t)1 << 60, -((int64_t)1 << 60)};
    enum { N = sizeof aVal / sizeof aVal[0] };
    pa_dp_noise *pN;
    uint8_t s64[N * 8] = {0}, s128[N * 16] = {0};
    int64_t *aSecret;

    if (pa_dp_noise_from_values_for_tests(aVal, N, &pN) != PA_OK)
        return 2;
    /* the noise values live right after the cell count inside the opaque vector */
    aSecret = (int64_t *)((char *)pN + sizeof(size_t));
    VALGRIND_MAKE_MEM_UNDEFINED(aSecret, N * sizeof(int64_t));
    if (pa_dp_noise_add_f64(pN, s64, N) != PA_OK || pa_dp_noise_add_f128(pN, s128, N) != PA_OK)
        return 2;
    unsigned nAdd = (unsigned)VALGRIND_COUNT_ERRORS;
    /* the stored form: encoded when drawn, decoded (with its bound check) when
     * the batch is released; the bytes are as secret as the values */
    uint8_t aBlob[N * 8];
    pa_dp_noise *pBack = NULL;
    if (pa_dp_noise_encode(pN, aBlob, sizeof aBlob) != PA_OK)
        return 2;
    VALGRIND_MAKE_MEM_UNDEFINED(aBlob, sizeof aBlob);
    if (pa_dp_noise_decode(&pBack, aBlob, sizeof aBlob, N) != PA_OK)
        return 2;
    if (pa_dp_noise_add_f64(pBack, s64, N) != PA_OK || pa_dp_noise_add_f128(pBack, s128, N) != PA_OK)
        return 2;
    unsigned nStored = (unsigned)VALGRIND_COUNT_ERRORS - nAdd;
    VALGRIND_MAKE_MEM_DEFINED(aSecret, N * sizeof(int64_t));
    VALGRIND_MAKE_MEM_DEFINED((char *)pBack + sizeof(size_t), N * sizeof(int64_t));
    VALGRIND_MAKE_MEM_DEFINED(aBlob, sizeof aBlob);
    VALGRIND_MAKE_MEM_DEFINED(s64, sizeof s64);
    VALGRIND_MAKE_MEM_DEFINED(s128, sizeof s128);
    fprintf(stderr, "ctgrind: dp noise add: %u report(s); encode, decode and add: %u report(s)\n", nAdd, nStored);
    pa_dp_noise_free(pBack);
    pa_dp_noise_free(pN);
    return (int)VALGRIND_COUNT_ERRORS;
}

int main(int argc, char **argv)
{
    int rc = ctgrind_dispatch(argc, argv, ctgrind_body);
    if (rc >= 0)
        return rc; /* the valgrind re-run: CTest entry <name>_ctgrind */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f64_wraps),
        cmocka_unit_test(test_f128_wraps),
        cmocka_unit_test(test_two_aggregators_combine),
        cmocka_unit_test(test_bad_share_untouched),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_collection_path_draws_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
