/*
 * Discrete Laplace (CKS 2020 Algorithm 2) and Bernoulli(e^-gamma) (Algorithm 1)
 * samplers: chi-squared goodness of fit against the exact pmf, 10^6 samples each
 * (Laplace scales 1, 10, 1000 and a rational scale; gamma in {0, 1/3, 1, 5/2, 7}),
 * p >= 1e-3, mean and variance within 5 sigma.  Fixed seeds: reproducible.
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

static long double lap_pmf(int64_t z, const void *pv)
{
    long double t = *(const long double *)pv;
    return tanhl(1 / (2 * t)) * expl(-fabsl((long double)z) / t);
}

static void check_laplace(const char *zScale, uint8_t seed)
{
    pa_dp_rational sc;
    pa_dp_mechanism m;
    pa_dp_rng *pRng;
    long double t;
    int64_t *aS = malloc(N_SAMPLES * sizeof *aS);
    char zWhat[64];

    assert_non_null(aS);
    assert_int_equal(pa_dp_rational_parse(zScale, &sc), PA_OK);
    assert_int_equal(pa_dp_mechanism_laplace(&m, sc), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    assert_int_equal(pa_dp_sample_many_vartime(pRng, &m, aS, N_SAMPLES), PA_OK);
    pa_dp_rng_free(pRng);
    t = pa_dp_rational_to_ld(sc);
    struct dp_fit f = dp_fit_symmetric(aS, N_SAMPLES, lap_pmf, &t, (int64_t)(40 * t) + 40);
    snprintf(zWhat, sizeof zWhat, "laplace scale=%s", zScale);
    dp_fit_print(zWhat, &f);
    assert_true(f.p >= 1e-3);
    assert_true(fabs(f.mean) <= f.meanBound);
    assert_true(fabs(f.var - f.varTrue) <= f.varBound);
    free(aS);
}

static void test_scale_1(void **state) { (void)state; check_laplace("1", 11); }
static void test_scale_10(void **state) { (void)state; check_laplace("10", 12); }
static void test_scale_1000(void **state) { (void)state; check_laplace("1000", 13); }
static void test_scale_rational(void **state) { (void)state; check_laplace("7/3", 14); }

static void check_bernoulli(uint64_t num, uint64_t den, uint8_t seed)
{
    pa_dp_rng *pRng;
    uint64_t ones = 0;
    long double p = expl(-(long double)num / den);
    double e1 = (double)(p * N_SAMPLES), e0 = N_SAMPLES - e1, chi2, pv, sd;

    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    for (int i = 0; i < N_SAMPLES; i++) {
        int b;
        assert_int_equal(pa_dp_sample_bernoulli_e_minus_vartime(pRng, pa_dp_rational_make(num, den), &b),
                         PA_OK);
        assert_true(b == 0 || b == 1);
        ones += (uint64_t)b;
    }
    pa_dp_rng_free(pRng);
    if (num == 0) {
        assert_int_equal(ones, N_SAMPLES);
        return;
    }
    chi2 = ((double)ones - e1) * ((double)ones - e1) / e1 +
           ((double)(N_SAMPLES - ones) - e0) * ((double)(N_SAMPLES - ones) - e0) / e0;
    pv = gsl_cdf_chisq_Q(chi2, 1);
    sd = sqrt((double)(p * (1 - p)) / N_SAMPLES);
    printf("  bernoulli(e^-%llu/%llu)  mean %.6f vs %.6f  chi2 %.2f p %.4f\n",
           (unsigned long long)num, (unsigned long long)den, (double)ones / N_SAMPLES, (double)p,
           chi2, pv);
    assert_true(pv >= 1e-3);
    assert_true(fabs((double)ones / N_SAMPLES - (double)p) <= 5 * sd);
}

static void test_bernoulli(void **state)
{
    (void)state;
    check_bernoulli(0, 1, 21);
    check_bernoulli(1, 3, 22);
    check_bernoulli(1, 1, 23);
    check_bernoulli(5, 2, 24);
    check_bernoulli(7, 1, 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bernoulli),  cmocka_unit_test(test_scale_1),
        cmocka_unit_test(test_scale_10),   cmocka_unit_test(test_scale_1000),
        cmocka_unit_test(test_scale_rational),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
