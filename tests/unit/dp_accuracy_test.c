/*
 * Accuracy intervals (engine/dp/accuracy.c): the half-widths of the noise of a
 * published cell (sum of two discrete Gaussians) against a brute-force numerical
 * convolution of the exact pmf, the closed-form pmf against the convolution, and
 * the empirical coverage of sampled pairs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/dp.h"

/* pmf of the sum of two N_Z(0,s2) by convolution over [-lim, lim] */
static long double *convolved(long double s2, int64_t lim, int64_t *pLim2)
{
    int64_t n = 2 * lim + 1, n2 = 2 * n - 1;
    long double *a = calloc((size_t)n, sizeof *a), *c = calloc((size_t)n2, sizeof *c), norm = 0;
    for (int64_t z = -lim; z <= lim; z++)
        norm += a[z + lim] = expl(-(long double)z * z / (2 * s2));
    for (int64_t i = 0; i < n; i++)
        a[i] /= norm;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            c[i + j] += a[i] * a[j];
    free(a);
    *pLim2 = 2 * lim;
    return c;
}

static uint64_t brute_width(const long double *c, int64_t lim2, double level)
{
    long double mass = c[lim2];
    uint64_t w = 0;
    while (mass < level) {
        w++;
        mass += c[lim2 + (int64_t)w] + c[lim2 - (int64_t)w];
    }
    return w;
}

static void test_against_convolution(void **state)
{
    const double aS2[] = {0.5, 1, 2.25, 25, 100, 400};
    const double aLevel[] = {0.5, 0.9, 0.95, 0.99, 0.9999};
    (void)state;
    for (size_t i = 0; i < sizeof aS2 / sizeof aS2[0]; i++) {
        int64_t lim = (int64_t)(40 * sqrt(aS2[i])) + 40, lim2;
        long double *c = convolved(aS2[i], lim, &lim2);
        for (int64_t z = -30; z <= 30; z++) {
            double p;
            assert_int_equal(pa_dp_gaussian_sum_pmf(aS2[i], 2, z, &p), PA_OK);
            assert_true(fabsl(p - c[lim2 + z]) <= 1e-12L * c[lim2 + z] + 1e-300L);
        }
        for (size_t j = 0; j < sizeof aLevel / sizeof aLevel[0]; j++) {
            uint64_t w;
            assert_int_equal(pa_dp_gaussian_interval(aS2[i], 2, aLevel[j], &w), PA_OK);
            assert_int_equal(w, brute_width(c, lim2, aLevel[j]));
        }
        printf("  sigma2=%g: 90%% +-%llu, 95%% +-%llu\n", aS2[i],
               (unsigned long long)brute_width(c, lim2, 0.9), (unsigned long long)brute_width(c, lim2, 0.95));
        free(c);
    }
}

static void test_one_share_and_large_sigma(void **state)
{
    uint64_t w1, w2;
    (void)state;
    /* one share at 2 sigma2 is close to (not equal to) two shares at sigma2 */
    assert_int_equal(pa_dp_gaussian_interval(1e6, 2, 0.95, &w2), PA_OK);
    assert_int_equal(pa_dp_gaussian_interval(2e6, 1, 0.95, &w1), PA_OK);
    assert_true(llabs((long long)w1 - (long long)w2) <= 1);
    /* large sigma: the normal quantile 1.959964 * sqrt(2 sigma2) within a unit */
    assert_int_equal(pa_dp_gaussian_interval(1e12, 2, 0.95, &w2), PA_OK);
    assert_true(fabs((double)w2 - 1.959963985 * sqrt(2e12)) <= 2);
    assert_int_equal(pa_dp_gaussian_interval(0, 2, 0.95, &w2), PA_EINVAL);
    assert_int_equal(pa_dp_gaussian_interval(1, 3, 0.95, &w2), PA_EINVAL);
    assert_int_equal(pa_dp_gaussian_interval(1, 2, 1.0, &w2), PA_EINVAL);
}

/* sampled pairs land inside the 95% interval about 95% of the time */
static void test_coverage(void **state)
{
    pa_dp_mechanism m;
    pa_dp_rng *pRng;
    uint8_t seed = 42;
    uint64_t w, in = 0;
    const int n = 200000;
    (void)state;
    assert_int_equal(pa_dp_mechanism_gaussian(&m, pa_dp_rational_make(25, 1)), PA_OK);
    assert_int_equal(pa_dp_gaussian_interval(25, 2, 0.95, &w), PA_OK);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, &seed, 1), PA_OK);
    for (int i = 0; i < n; i++) {
        int64_t a, b;
        assert_int_equal(pa_dp_sample_vartime(pRng, &m, &a), PA_OK);
        assert_int_equal(pa_dp_sample_vartime(pRng, &m, &b), PA_OK);
        in += (uint64_t)(llabs(a + b) <= (long long)w);
    }
    pa_dp_rng_free(pRng);
    {
        /* exact coverage of w is >= 0.95; compare with it */
        double cov = 0, p;
        for (int64_t z = -(int64_t)w; z <= (int64_t)w; z++) {
            assert_int_equal(pa_dp_gaussian_sum_pmf(25, 2, z, &p), PA_OK);
            cov += p;
        }
        assert_true(fabs((double)in / n - cov) <= 5 * sqrt(cov * (1 - cov) / n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_convolution),
        cmocka_unit_test(test_one_share_and_large_sigma),
        cmocka_unit_test(test_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
