/*
 * Discrete Gaussian sampler (CKS 2020 Algorithm 3): chi-squared goodness of fit
 * against the exact pmf, 10^6 samples each for sigma2 in {0.5, 1, 25, 10^4, 10^6},
 * p >= 1e-3, and mean / variance within 5 sigma.  Fixed seeds: reproducible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dp_stats.h"
#include "privagg/common.h"
#include "privagg/dp.h"

#define N_SAMPLES 1000000

struct dg_ctx {
    long double s2, norm;
};

static long double dg_pmf(int64_t z, const void *pv)
{
    const struct dg_ctx *c = pv;
    return expl(-(long double)z * z / (2 * c->s2)) / c->norm;
}

static void check_gaussian(const char *zSigma2, uint8_t seed)
{
    pa_dp_rational s2;
    pa_dp_mechanism m;
    pa_dp_rng *pRng;
    struct dg_ctx c;
    int64_t *aS = malloc(N_SAMPLES * sizeof *aS);
    int64_t R;
    char zWhat[64];

    assert_non_null(aS);
    assert_int_equal(pa_dp_rational_parse(zSigma2, &s2), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&m, s2), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    assert_int_equal(pa_dp_sample_many_vartime(pRng, &m, aS, N_SAMPLES), PA_OK);
    pa_dp_rng_free(pRng);

    c.s2 = pa_dp_rational_to_ld(s2);
    R = (int64_t)(8 * sqrtl(c.s2)) + 8;
    c.norm = 0;
    for (int64_t z = -(int64_t)(40 * sqrtl(c.s2)) - 40; z <= (int64_t)(40 * sqrtl(c.s2)) + 40; z++)
        c.norm += expl(-(long double)z * z / (2 * c.s2));
    struct dp_fit f = dp_fit_symmetric(aS, N_SAMPLES, dg_pmf, &c, R);
    snprintf(zWhat, sizeof zWhat, "gaussian sigma2=%s", zSigma2);
    dp_fit_print(zWhat, &f);
    assert_true(f.p >= 1e-3);
    assert_true(fabs(f.mean) <= f.meanBound);
    assert_true(fabs(f.var - f.varTrue) <= f.varBound);
    free(aS);
}

static void test_sigma2_half(void **state) { (void)state; check_gaussian("0.5", 1); }
static void test_sigma2_1(void **state) { (void)state; check_gaussian("1", 2); }
static void test_sigma2_25(void **state) { (void)state; check_gaussian("25", 3); }
static void test_sigma2_1e4(void **state) { (void)state; check_gaussian("1e4", 4); }
static void test_sigma2_1e6(void **state) { (void)state; check_gaussian("1e6", 5); }

/* same seed, same samples; the production RNG takes no seed */
static void test_seeded_is_reproducible(void **state)
{
    pa_dp_mechanism m;
    pa_dp_rng *a, *b;
    uint8_t seed[32] = {7};
    int64_t x, y;
    (void)state;
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(9, 4)), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&a, seed, 32), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&b, seed, 32), PA_OK);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(pa_dp_sample_vartime(a, &m, &x), PA_OK);
        assert_int_equal(pa_dp_sample_vartime(b, &m, &y), PA_OK);
        assert_int_equal(x, y);
    }
    pa_dp_rng_free(a);
    pa_dp_rng_free(b);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&a, seed, 0), PA_EINVAL);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&a, seed, 33), PA_EINVAL);
}

/* parameters beyond the exact 128-bit range are refused with a clear error */
static void test_parameter_limits(void **state)
{
    pa_dp_mechanism m;
    (void)state;
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(0, 1)), PA_EINVAL);
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make((uint64_t)1 << 50, 1)), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(1, (uint64_t)1 << 30)), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(1000000000000ull, 1)), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(UINT64_MAX, 1)), PA_EUNSUPPORTED);
    assert_non_null(strstr(pa_error_detail(), "too large"));
    assert_int_equal(pa_dp_mechanism_laplace(&m, pa_dp_rational_make(UINT64_MAX, 1)), PA_EUNSUPPORTED);
    assert_int_equal(pa_dp_mechanism_laplace(&m, pa_dp_rational_make(0, 1)), PA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeded_is_reproducible), cmocka_unit_test(test_parameter_limits),
        cmocka_unit_test(test_sigma2_half),            cmocka_unit_test(test_sigma2_1),
        cmocka_unit_test(test_sigma2_25),              cmocka_unit_test(test_sigma2_1e4),
        cmocka_unit_test(test_sigma2_1e6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
