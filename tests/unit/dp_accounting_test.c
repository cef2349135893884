/*
 * Accounting: the conversions of engine/dp/accounting.c against values derived
 * independently here (a brute-force alpha grid for CKS 2020 Corollary 13, the
 * hockey-stick divergence summed over the pmf for Theorem 7), their monotonicity,
 * rho(eps(rho)) = rho, calibration minimality, and sensitivities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/dp.h"

static int rel_close(double got, double want, double tol)
{
    if (fabs(got - want) <= tol * fabs(want))
        return 1;
    printf("  got %.17g want %.17g (rel %.3g)\n", got, want, fabs(got - want) / fabs(want));
    return 0;
}

/* min over a log-spaced grid of alpha - 1 in [1e-6, 1e9], then a finer grid
 * around the best point, of the function f(alpha) */
static long double grid_min(long double (*f)(long double alpha, const long double *p),
                            const long double *p)
{
    long double best = INFINITY, bestX = 0;
    const int n = 150000;
    for (int i = 0; i <= n; i++) {
        long double x = powl(10.0L, -6 + 15.0L * i / n);
        long double v = f(1 + x, p);
        if (v < best) {
            best = v;
            bestX = x;
        }
    }
    for (int round = 0; round < 3; round++) {
        long double lo = bestX * powl(10.0L, -15.0L * 2 / n / (round ? 1000 * round : 1));
        long double hi = bestX * powl(10.0L, 15.0L * 2 / n / (round ? 1000 * round : 1));
        for (int i = 0; i <= 20000; i++) {
            long double x = lo * powl(hi / lo, (long double)i / 20000);
            long double v = f(1 + x, p);
            if (v < best) {
                best = v;
                bestX = x;
            }
        }
    }
    return best;
}

/* Corollary 13 written directly (not in the code's log1p form) */
static long double eps_of_alpha(long double a, const long double *p)
{
    long double rho = p[0], delta = p[1];
    return a * rho + (logl(1 / delta) + (a - 1) * logl(1 - 1 / a) - logl(a)) / (a - 1);
}

static long double lndelta_of_alpha(long double a, const long double *p)
{
    long double rho = p[0], eps = p[1];
    return (a - 1) * (a * rho - eps) + a * logl(1 - 1 / a) - logl(a - 1);
}

static void test_eps_against_grid(void **state)
{
    const double aRho[] = {1e-7, 1e-3, 0.05, 0.5, 2, 10};
    const double aDelta[] = {1e-3, 1e-6, 1e-10, 1e-300};
    (void)state;
    for (size_t i = 0; i < sizeof aRho / sizeof aRho[0]; i++) {
        for (size_t j = 0; j < sizeof aDelta / sizeof aDelta[0]; j++) {
            long double p[2] = {aRho[i], aDelta[j]};
            double eps, std;
            long double want = grid_min(eps_of_alpha, p);
            if (want < 0)
                want = 0;
            assert_int_equal(pa_dp_zcdp_eps(aRho[i], aDelta[j], &eps, &std), PA_OK);
            assert_true(isfinite(eps));
            if (want > 1e-300)
                assert_true(rel_close(eps, (double)want, 1e-9));
            assert_true(eps <= std * (1 + 1e-12));
            assert_true(rel_close(std, aRho[i] + 2 * sqrt(aRho[i] * log(1 / aDelta[j])), 1e-12));
        }
    }
}

static void test_delta_against_grid(void **state)
{
    const double aRho[] = {1e-4, 0.05, 0.5, 3};
    const double aEps[] = {0.1, 1, 5, 20};
    (void)state;
    for (size_t i = 0; i < sizeof aRho / sizeof aRho[0]; i++) {
        for (size_t j = 0; j < sizeof aEps / sizeof aEps[0]; j++) {
            long double p[2] = {aRho[i], aEps[j]};
            double d;
            long double want = expl(grid_min(lndelta_of_alpha, p));
            if (want > 1)
                want = 1;
            assert_int_equal(pa_dp_zcdp_delta(aRho[i], aEps[j], &d), PA_OK);
            if (want > 1e-300)
                assert_true(rel_close(d, (double)want, 1e-9));
            else
                assert_true(d <= 1e-290);
        }
    }
}

/* alpha up to 10^4 and beyond: tiny rho puts the optimum near sqrt(L/rho) */
static void test_large_alpha_no_overflow(void **state)
{
    double eps, d;
    (void)state;
    assert_int_equal(pa_dp_zcdp_eps(1e-9, 1e-6, &eps, NULL), PA_OK);
    assert_true(isfinite(eps) && eps > 0 && eps < 1e-3);
    assert_int_equal(pa_dp_zcdp_delta(1e-9, 1e-4, &d), PA_OK);
    assert_true(isfinite(d) && d >= 0 && d <= 1);
}

static void test_monotone_and_roundtrip(void **state)
{
    double prev = INFINITY;
    (void)state;
    /* eps decreasing in delta */
    for (double delta = 1e-300; delta < 0.5; delta *= 1e10) {
        double eps;
        assert_int_equal(pa_dp_zcdp_eps(0.3, delta, &eps, NULL), PA_OK);
        assert_true(eps < prev);
        prev = eps;
    }
    /* eps increasing in rho; rho(eps(rho)) = rho */
    prev = -1;
    for (double rho = 1e-6; rho < 100; rho *= 3.7) {
        double eps, back;
        assert_int_equal(pa_dp_zcdp_eps(rho, 1e-6, &eps, NULL), PA_OK);
        assert_true(eps > prev);
        prev = eps;
        assert_int_equal(pa_dp_rho_from_eps_delta(eps, 1e-6, &back), PA_OK);
        assert_true(rel_close(back, rho, 1e-9));
    }
    /* and the other way: eps(rho(eps)) = eps */
    for (double eps = 0.01; eps < 30; eps *= 2.3) {
        double rho, back;
        assert_int_equal(pa_dp_rho_from_eps_delta(eps, 1e-9, &rho), PA_OK);
        assert_int_equal(pa_dp_zcdp_eps(rho, 1e-9, &back, NULL), PA_OK);
        assert_true(rel_close(back, eps, 1e-9));
    }
}

static void test_bad_arguments(void **state)
{
    double x;
    (void)state;
    assert_int_equal(pa_dp_zcdp_eps(-1, 1e-6, &x, NULL), PA_EINVAL);
    assert_int_equal(pa_dp_zcdp_eps(0.1, 0, &x, NULL), PA_EINVAL);
    assert_int_equal(pa_dp_zcdp_eps(0.1, 1, &x, NULL), PA_EINVAL);
    assert_int_equal(pa_dp_zcdp_eps(NAN, 0.1, &x, NULL), PA_EINVAL);
    assert_int_equal(pa_dp_rho_from_eps_delta(-1, 1e-6, &x), PA_EINVAL);
    assert_int_equal(pa_dp_zcdp_delta(0.1, INFINITY, &x), PA_EINVAL);
    assert_int_equal(pa_dp_gaussian_exact_delta(0, 1, 1, &x), PA_EINVAL);
    assert_int_equal(pa_dp_gaussian_exact_delta(1, 0, 1, &x), PA_EINVAL);
    assert_int_equal(pa_dp_zcdp_eps(0, 1e-6, &x, NULL), PA_OK);
    assert_true(x == 0);
}

/* hockey-stick divergence of N_Z(0,s2) vs N_Z(K,s2), summed over the pmf */
static long double hockey(long double s2, int64_t k, long double eps)
{
    long double norm = 0, d = 0;
    int64_t lim = (int64_t)(60 * sqrtl(s2)) + 60 + k;
    for (int64_t z = -lim; z <= lim; z++)
        norm += expl(-(long double)z * z / (2 * s2));
    for (int64_t z = -lim; z <= lim; z++) {
        long double p = expl(-(long double)z * z / (2 * s2)) / norm;
        long double q = expl(-(long double)(z - k) * (z - k) / (2 * s2)) / norm;
        if (p > expl(eps) * q)
            d += p - expl(eps) * q;
    }
    return d;
}

static void test_exact_delta_theorem7(void **state)
{
    const double aS2[] = {0.5, 1, 10, 100, 2500};
    const int aK[] = {1, 2, 3};
    const double aEps[] = {0.1, 1, 3};
    (void)state;
    for (size_t i = 0; i < sizeof aS2 / sizeof aS2[0]; i++)
        for (size_t j = 0; j < 3; j++)
            for (size_t l = 0; l < 3; l++) {
                double d;
                long double want = hockey(aS2[i], aK[j], aEps[l]);
                assert_int_equal(pa_dp_gaussian_exact_delta(aS2[i], (uint64_t)aK[j], aEps[l], &d), PA_OK);
                if (want > 1e-300)
                    assert_true(rel_close(d, (double)want, 1e-9));
                else
                    assert_true(d < 1e-290);
            }
    /* large sigma, small eps: the two tails nearly cancel */
    {
        const double aCase[][3] = {{1e4, 0.01, 5}, {1e6, 0.001, 1}, {1e6, 0.01, 1}, {4e6, 0.0005, 2}};
        for (size_t i = 0; i < sizeof aCase / sizeof aCase[0]; i++) {
            double d;
            long double want = hockey(aCase[i][0], (int64_t)aCase[i][2], aCase[i][1]);
            assert_int_equal(pa_dp_gaussian_exact_delta(aCase[i][0], (uint64_t)aCase[i][2], aCase[i][1], &d),
                             PA_OK);
            printf("  delta(sigma2=%g, eps=%g, K=%g) = %.15g\n", aCase[i][0], aCase[i][1], aCase[i][2], d);
            assert_true(rel_close(d, (double)want, 1e-9));
        }
    }
}

static void test_calibration(void **state)
{
    pa_dp_rational s2;
    double rho, eps, d;
    char z[64];
    (void)state;
    /* rho: sigma2 >= l2sq / (2 rho) and one grid step below fails */
    assert_int_equal(pa_dp_calibrate_rho(0.05, 1, &s2), PA_OK);
    assert_int_equal(pa_dp_rational_format(s2, z, sizeof z), PA_OK);
    assert_string_equal(z, "10");
    assert_int_equal(pa_dp_calibrate_rho(0.03, 4, &s2), PA_OK);
    assert_int_equal(pa_dp_rational_format(s2, z, sizeof z), PA_OK);
    assert_string_equal(z, "66.6666667");
    /* (eps, delta) through zCDP */
    assert_int_equal(pa_dp_calibrate_eps_delta(1.5, 1e-6, 1, &s2), PA_OK);
    assert_int_equal(pa_dp_rho_gaussian(1, s2, &rho), PA_OK);
    assert_int_equal(pa_dp_zcdp_eps(rho, 1e-6, &eps, NULL), PA_OK);
    assert_true(eps <= 1.5 * (1 + 1e-12));
    {
        pa_dp_rational below = pa_dp_rational_make(s2.num - 1, s2.den);
        double rho2, eps2;
        assert_int_equal(pa_dp_rho_gaussian(1, below, &rho2), PA_OK);
        assert_int_equal(pa_dp_zcdp_eps(rho2, 1e-6, &eps2, NULL), PA_OK);
        assert_true(eps2 > 1.5);
    }
    /* exact Theorem 7 calibration: meets delta, one grid step below does not */
    assert_int_equal(pa_dp_calibrate_exact(1, 1e-5, 4, &s2), PA_OK);
    assert_int_equal(pa_dp_gaussian_exact_delta((double)pa_dp_rational_to_ld(s2), 2, 1, &d), PA_OK);
    assert_true(d <= 1e-5);
    {
        pa_dp_rational below = pa_dp_rational_make(s2.num - 1, s2.den);
        assert_int_equal(pa_dp_gaussian_exact_delta((double)pa_dp_rational_to_ld(below), 2, 1, &d), PA_OK);
        assert_true(d > 1e-5);
    }
    assert_int_equal(pa_dp_calibrate_exact(1, 1e-5, 3, &s2), PA_EINVAL);
    assert_int_equal(pa_dp_calibrate_exact(1e300, 1e-5, 1, &s2), PA_ERANGE); /* below 1e-9 */
    /* every calibrated sigma2 in the supported range is accepted by the exact sampler */
    for (double r = 1e-13; r < 1e8; r *= 7.3) {
        pa_dp_mechanism m;
        int rc = pa_dp_calibrate_rho(r, 1, &s2);
        if (rc == PA_ERANGE)
            continue;
        assert_int_equal(rc, PA_OK);
        assert_int_equal(pa_dp_mechanism_gaussian(&m, s2), PA_OK);
        assert_int_equal(pa_dp_rho_gaussian(1, s2, &rho), PA_OK);
        assert_true(rho <= r);
    }
    assert_int_equal(pa_dp_calibrate_rho(1e-20, 1, &s2), PA_ERANGE);
    assert_int_equal(pa_dp_calibrate_rho(1e12, 1, &s2), PA_ERANGE);
}

static void test_sensitivity(void **state)
{
    pa_dp_sensitivity s;
    double rho, eps;
    (void)state;
    assert_int_equal(pa_dp_sensitivity_from_bounds(3, 4, &s), PA_OK);
    assert_int_equal(s.l1, 12);
    assert_int_equal(s.l2sq, 36);
    assert_int_equal(pa_dp_sensitivity_from_bounds(0, 4, &s), PA_EINVAL);
    assert_int_equal(pa_dp_sensitivity_from_bounds(UINT64_MAX, 2, &s), PA_ERANGE);
    assert_int_equal(pa_dp_rho_gaussian(36, pa_dp_rational_make(90, 1), &rho), PA_OK);
    assert_true(rho == 0.2);
    assert_int_equal(pa_dp_eps_laplace(12, pa_dp_rational_make(24, 1), &eps), PA_OK);
    assert_true(eps == 0.5);
}

static void test_rational(void **state)
{
    pa_dp_rational r;
    char z[64];
    (void)state;
    assert_int_equal(pa_dp_rational_parse("0.5", &r), PA_OK);
    assert_true(r.num == 1 && r.den == 2);
    assert_int_equal(pa_dp_rational_parse("1e6", &r), PA_OK);
    assert_true(r.num == 1000000 && r.den == 1);
    assert_int_equal(pa_dp_rational_parse("2.5e-3", &r), PA_OK);
    assert_true(r.num == 1 && r.den == 400);
    assert_int_equal(pa_dp_rational_parse("6/4", &r), PA_OK);
    assert_true(r.num == 3 && r.den == 2);
    assert_int_equal(pa_dp_rational_parse(".25", &r), PA_OK);
    assert_true(r.num == 1 && r.den == 4);
    assert_int_equal(pa_dp_rational_format(pa_dp_rational_make(1, 400), z, sizeof z), PA_OK);
    assert_string_equal(z, "0.0025");
    assert_int_equal(pa_dp_rational_format(pa_dp_rational_make(1, 3), z, sizeof z), PA_OK);
    assert_string_equal(z, "1/3");
    assert_int_equal(pa_dp_rational_format(pa_dp_rational_make(25, 1), z, sizeof z), PA_OK);
    assert_string_equal(z, "25");
    assert_int_equal(pa_dp_rational_parse("", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse(".", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("-1", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("1.2.3", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("1x", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("3/0", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("1e", &r), PA_EINVAL);
    assert_int_equal(pa_dp_rational_parse("99999999999999999999", &r), PA_ERANGE);
    assert_int_equal(pa_dp_rational_parse("1e30", &r), PA_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eps_against_grid),      cmocka_unit_test(test_delta_against_grid),
        cmocka_unit_test(test_large_alpha_no_overflow), cmocka_unit_test(test_monotone_and_roundtrip),
        cmocka_unit_test(test_bad_arguments),         cmocka_unit_test(test_exact_delta_theorem7),
        cmocka_unit_test(test_calibration),           cmocka_unit_test(test_sensitivity),
        cmocka_unit_test(test_rational),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
