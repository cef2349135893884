/*
 * Accuracy of released cells: exact two-sided intervals of the noise of a published
 * cell, which is the sum of the two aggregators' discrete Gaussians (or one draw).
 *
 * For two independent N_Z(0, s2) draws, completing the square gives the exact pmf
 *   P(Z = z) = e^{-z^2/(4 s2)} * S_{z mod 2} / N^2,
 *   S_0 = sum_y e^{-y^2/s2},  S_1 = sum_y e^{-(y-1/2)^2/s2},  N = sum_y e^{-y^2/(2 s2)},
 * so the interval needs no convolution and no normal approximation.  Also holds the
 * discrete Gaussian sums shared with accounting.c (dgmath.h).  Not on the sampling
 * path: long double is fine here.
 */
#include <math.h>
#include <stdint.h>

#include "dp/dgmath.h"
#include "privagg/common.h"
#include "privagg/dp.h"

#define PA_PI_L 3.141592653589793238462643383279502884L

long double pa_dp_dg_theta(long double s2, long double c)
{
    long double sum = 0;
    if (s2 < 4) {
        /* direct: terms beyond |y - c| > 40 sqrt(s2) + 2 are below e^-800 */
        int64_t lim = (int64_t)(40 * sqrtl(s2)) + 3;
        for (int64_t y = -lim; y <= lim; y++) {
            long double d = (long double)y - c;
            sum += expl(-d * d / (2 * s2));
        }
        return sum;
    }
    /* Poisson summation */
    sum = 1;
    for (int k = 1; k < 64; k++) {
        long double t = expl(-2 * PA_PI_L * PA_PI_L * s2 * k * k);
        if (t < 1e-40L)
            break;
        sum += 2 * t * cosl(2 * PA_PI_L * k * c);
    }
    return sqrtl(2 * PA_PI_L * s2) * sum;
}

long double pa_dp_dg_tail_weight(long double s2, int64_t m)
{
    long double sum = 0, term, ratio, q;
    int64_t z = m;
    /* term(z) = e^{-z^2/(2 s2)}; ratio(z) = term(z+1)/term(z) = e^{-(2z+1)/(2 s2)}.
     * Recomputed exactly every 4096 steps so the product does not drift. */
    q = expl(-1 / s2);
    for (;;) {
        term = expl(-(long double)z * z / (2 * s2));
        ratio = expl(-(2 * (long double)z + 1) / (2 * s2));
        for (int i = 0; i < 4096; i++, z++) {
            if (term == 0 || term < sum * 1e-40L)
                return sum;
            sum += term;
            term *= ratio;
            ratio *= q;
        }
    }
}

long double pa_dp_dg_tail_prob(long double s2, int64_t m)
{
    long double n = pa_dp_dg_theta(s2, 0);
    if (m > 0)
        return pa_dp_dg_tail_weight(s2, m) / n;
    /* P[Z >= m] = 1 - P[Z <= m-1] = 1 - P[Z >= 1-m] */
    return 1 - pa_dp_dg_tail_weight(s2, 1 - m) / n;
}

static int check_args(double sigma2, unsigned nShares)
{
    if (!(sigma2 > 0) || !(sigma2 <= 1e14))
        return pa_fail(PA_EINVAL, "sigma2: %g outside (0, 1e14]", sigma2);
    if (nShares != 1 && nShares != 2)
        return pa_fail(PA_EINVAL, "shares: %u, expected 1 or 2", nShares);
    return PA_OK;
}

/* pmf of the sum, as e^{-z^2/(2 v)} * c[z mod 2] */
static void pmf_form(long double s2, unsigned nShares, long double *pV, long double c[2])
{
    long double n = pa_dp_dg_theta(s2, 0);
    if (nShares == 1) {
        *pV = s2;
        c[0] = c[1] = 1 / n;
    } else {
        *pV = 2 * s2;
        c[0] = pa_dp_dg_theta(s2 / 2, 0) / (n * n);
        c[1] = pa_dp_dg_theta(s2 / 2, 0.5L) / (n * n);
    }
}

int pa_dp_gaussian_sum_pmf(double sigma2, unsigned nShares, int64_t z, double *pP)
{
    long double v, c[2];
    int rc = check_args(sigma2, nShares);
    if (rc != PA_OK)
        return rc;
    pmf_form(sigma2, nShares, &v, c);
    *pP = (double)(expl(-(long double)z * z / (2 * v)) * c[z & 1]);
    return PA_OK;
}

int pa_dp_gaussian_interval(double sigma2, unsigned nShares, double level, uint64_t *pHalfWidth)
{
    long double v, c[2], mass, term, ratio, q;
    uint64_t w = 0;
    int rc = check_args(sigma2, nShares);
    if (rc != PA_OK)
        return rc;
    if (!(level > 0) || !(level <= 1 - 1e-15))
        return pa_fail(PA_EINVAL, "level: %g outside (0, 1 - 1e-15]", level);
    pmf_form(sigma2, nShares, &v, c);
    /* grow w from 0 while P(|Z| <= w) < level; e(z) = e^{-z^2/(2v)} by recurrence,
     * recomputed exactly every 4096 steps */
    mass = c[0];
    q = expl(-1 / v);
    while (mass < level) {
        term = expl(-(long double)(w + 1) * (w + 1) / (2 * v));
        ratio = expl(-(2 * (long double)(w + 1) + 1) / (2 * v));
        for (int i = 0; i < 4096 && mass < level; i++) {
            w++;
            mass += 2 * term * c[w & 1];
            term *= ratio;
            ratio *= q;
        }
        if (w > (uint64_t)1 << 40)
            return pa_fail(PA_EINTERNAL, "interval: no half-width below 2^40");
    }
    *pHalfWidth = w;
    return PA_OK;
}
