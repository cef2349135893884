/*
 * Exact samplers for differential privacy, following Canonne, Kamath, Steinke
 * 2020, "The Discrete Gaussian for Differential Privacy" (arXiv 2004.00010):
 *   Algorithm 1  Bernoulli(e^-gamma) for rational gamma,
 *   Algorithm 2  discrete Laplace Lap_Z(t/s),
 *   Algorithm 3  discrete Gaussian N_Z(0, sigma2) by rejection from Lap_Z(floor(sigma)+1).
 * Integer arithmetic only: every probability is a ratio of 64/128-bit integers and
 * every coin is an exact uniform integer from the RNG, so the output distribution is
 * exactly the target one (no binary real numbers anywhere in this file).
 *
 * These functions are VARIABLE TIME (the number of trials depends on the draws).
 * They run off the request path: see noise.c and docs/dp.md.  Parameters whose
 * intermediate values could leave 128-bit integers are refused at setup; a draw
 * outside the precomputed exact range (probability below 2^-64) returns PA_ESAMPLE,
 * which the caller turns into a refused release, never a fallback.
 */
#include <stdint.h>

#include "dp/rng.h"
#include "privagg/common.h"
#include "privagg/dp.h"

/* Every rejection loop gives up after this many rounds (each round succeeds
 * with probability above 1/4, so reaching it has probability below 2^-400). */
#define PA_DP_MAX_ROUNDS 1000000u

/* Bernoulli(num/den), 0 <= num <= den, den >= 1. */
static inline int bern_ratio(pa_dp_rng *pRng, pa_u128 num, pa_u128 den)
{
    if ((den >> 64) == 0)
        return (pa_u128)pa_dp_uniform_u64(pRng, (uint64_t)den) < num;
    return pa_dp_uniform_u128(pRng, den) < num;
}

/* Bernoulli(e^-(num/den)) for num/den in [0, 1]: CKS 2020 Algorithm 1, first case.
 * K counts successes of Bernoulli(gamma/K); the result is 1 iff K ends odd. */
static int bern_e_minus_frac(pa_dp_rng *pRng, pa_u128 num, pa_u128 den)
{
    uint64_t k = 1;
    for (;;) {
        pa_u128 dk;
        int a;
        if (!__builtin_mul_overflow(den, (pa_u128)k, &dk))
            a = bern_ratio(pRng, num, dk);
        else /* gamma/K = (num/den) * (1/K): two independent coins */
            a = bern_ratio(pRng, num, den) && pa_dp_uniform_u64(pRng, k) == 0;
        if (!a)
            break;
        k++;
    }
    return (int)(k & 1);
}

/* Bernoulli(e^-1), the same loop with gamma = 1.  The first coin, Bernoulli(1/1),
 * is always 1, so K starts at 2. */
static inline int bern_e_minus_one(pa_dp_rng *pRng)
{
    uint64_t k = 2;
    while (pa_dp_uniform_u64(pRng, k) == 0)
        k++;
    return (int)(k & 1);
}

/* Bernoulli(e^-(num/den)) for any num/den >= 0: CKS 2020 Algorithm 1.  For
 * gamma > 1: floor(gamma) coins Bernoulli(e^-1), then one for the fraction. */
static int bern_e_minus(pa_dp_rng *pRng, pa_u128 num, pa_u128 den)
{
    pa_u128 q, r;
    if (num <= den)
        return bern_e_minus_frac(pRng, num, den);
    q = num / den;
    r = num - q * den;
    for (pa_u128 i = 0; i < q; i++) {
        if (!bern_e_minus_one(pRng))
            return 0;
    }
    return bern_e_minus_frac(pRng, r, den);
}

int pa_dp_sample_bernoulli_e_minus_vartime(pa_dp_rng *pRng, pa_dp_rational gamma, int *pOut)
{
    if (pRng == NULL || pOut == NULL || gamma.den == 0)
        return pa_fail(PA_EINVAL, "bernoulli: gamma denominator 0");
    *pOut = bern_e_minus(pRng, gamma.num, gamma.den);
    return PA_OK;
}

/* Discrete Laplace with scale t/s: CKS 2020 Algorithm 2. */
static int dlap(pa_dp_rng *pRng, uint64_t t, uint64_t s, int64_t *pOut)
{
    for (uint32_t round = 0; round < PA_DP_MAX_ROUNDS; round++) {
        uint64_t u = pa_dp_uniform_u64(pRng, t), v = 0, x, y;
        unsigned b;
        if (!bern_e_minus_frac(pRng, u, t))
            continue;
        while (bern_e_minus_one(pRng))
            v++;
        if (__builtin_mul_overflow(t, v, &x) || __builtin_add_overflow(x, u, &x))
            return pa_fail(PA_ESAMPLE, "discrete laplace: draw %llu*%llu beyond 64 bits",
                           (unsigned long long)v, (unsigned long long)t);
        y = (s == 1) ? x : x / s;
        b = pa_dp_rng_bit(pRng);
        if (b && y == 0)
            continue;
        if (y > (uint64_t)INT64_MAX)
            return pa_fail(PA_ESAMPLE, "discrete laplace: |draw| beyond 2^63");
        *pOut = b ? -(int64_t)y : (int64_t)y;
        return PA_OK;
    }
    return pa_fail(PA_ESAMPLE, "discrete laplace: no sample in %u rounds", PA_DP_MAX_ROUNDS);
}

/* floor of the square root of n, integer Newton iteration */
static uint64_t int_root2(uint64_t n)
{
    uint64_t x, y;
    if (n < 2)
        return n;
    x = n;
    y = n / 2 + (n & 1);
    while (y < x) {
        x = y;
        y = (x + n / x) / 2;
    }
    return x;
}

int pa_dp_mechanism_gaussian(pa_dp_mechanism *pMech, pa_dp_rational sigma2)
{
    pa_dp_rational r;
    uint64_t a, b, t, bt, lim;
    pa_u128 den;

    if (pMech == NULL || sigma2.den == 0 || sigma2.num == 0)
        return pa_fail(PA_EINVAL, "gaussian: sigma2 %llu/%llu must be positive",
                       (unsigned long long)sigma2.num, (unsigned long long)sigma2.den);
    r = pa_dp_rational_make(sigma2.num, sigma2.den);
    a = r.num;
    b = r.den;
    t = int_root2(a / b) + 1; /* floor(sigma) + 1: the integer root of floor(a/b) is floor(sigma) */
    /* |Y| up to 64 t is handled exactly: P(|Lap_Z(t)| > 64 t) < 2 e^-64 < 2^-91 per
     * Laplace draw, so a 270-cell vector (a few hundred draws) fails below 2^-80
     * (docs/dp.md).  64 t b t stays below 2^57 for every supported sigma2. */
    if (__builtin_mul_overflow(b, t, &bt) || __builtin_mul_overflow(t, (uint64_t)64, &lim) ||
        __builtin_mul_overflow(lim, bt, &(uint64_t){0}) ||
        __builtin_mul_overflow((pa_u128)a * 2, (pa_u128)bt, &den) ||
        __builtin_mul_overflow(den, (pa_u128)t, &den))
        return pa_fail(PA_EUNSUPPORTED,
                       "gaussian: sigma2 %llu/%llu too large for exact 128-bit arithmetic "
                       "(supported: numerator <= 2^50, denominator <= 2^30)",
                       (unsigned long long)a, (unsigned long long)b);
    pMech->kind = PA_DP_GAUSSIAN;
    pMech->param = r;
    pMech->lapT = t;
    pMech->lapS = 1;
    pMech->maxAbsY = lim;
    pMech->bt = bt;
    pMech->gDen = den;
    return PA_OK;
}

int pa_dp_mechanism_laplace(pa_dp_mechanism *pMech, pa_dp_rational scale)
{
    pa_dp_rational r;
    if (pMech == NULL || scale.den == 0 || scale.num == 0)
        return pa_fail(PA_EINVAL, "laplace: scale %llu/%llu must be positive",
                       (unsigned long long)scale.num, (unsigned long long)scale.den);
    r = pa_dp_rational_make(scale.num, scale.den);
    if (r.num > ((uint64_t)1 << 56) || r.den > ((uint64_t)1 << 56))
        return pa_fail(PA_EUNSUPPORTED, "laplace: scale %llu/%llu above the 2^56/2^56 limit",
                       (unsigned long long)r.num, (unsigned long long)r.den);
    pMech->kind = PA_DP_LAPLACE;
    pMech->param = r;
    pMech->lapT = r.num; /* Lap_Z(t/s) with t/s = scale */
    pMech->lapS = r.den;
    pMech->maxAbsY = UINT64_MAX;
    pMech->bt = 0;
    pMech->gDen = 0;
    return PA_OK;
}

/* Discrete Gaussian: CKS 2020 Algorithm 3.  With sigma2 = a/b and t = floor(sigma)+1,
 * accept Y ~ Lap_Z(t) with probability e^-gamma,
 *   gamma = (|Y| - sigma2/t)^2 / (2 sigma2) = (|Y| b t - a)^2 / (2 a b t^2). */
static int dgauss(pa_dp_rng *pRng, const pa_dp_mechanism *m, int64_t *pOut)
{
    const uint64_t a = m->param.num;
    for (uint32_t round = 0; round < PA_DP_MAX_ROUNDS; round++) {
        int64_t y;
        uint64_t ay, p, diff;
        int rc = dlap(pRng, m->lapT, 1, &y);
        if (rc != PA_OK)
            return rc;
        ay = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
        if (ay > m->maxAbsY)
            return pa_fail(PA_ESAMPLE, "discrete gaussian: |Y| = %llu above the exact range %llu",
                           (unsigned long long)ay, (unsigned long long)m->maxAbsY);
        p = ay * m->bt;
        diff = p >= a ? p - a : a - p;
        if (bern_e_minus(pRng, (pa_u128)diff * diff, m->gDen)) {
            *pOut = y;
            return PA_OK;
        }
    }
    return pa_fail(PA_ESAMPLE, "discrete gaussian: no sample in %u rounds", PA_DP_MAX_ROUNDS);
}

int pa_dp_sample_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, int64_t *pOut)
{
    if (pRng == NULL || pMech == NULL || pOut == NULL)
        return pa_fail(PA_EINVAL, "dp sample: NULL argument");
    switch (pMech->kind) {
    case PA_DP_GAUSSIAN:
        return dgauss(pRng, pMech, pOut);
    case PA_DP_LAPLACE:
        return dlap(pRng, pMech->lapT, pMech->lapS, pOut);
    default:
        return pa_fail(PA_EINVAL, "dp sample: mechanism kind %d", pMech->kind);
    }
}

int pa_dp_sample_many_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, int64_t *aOut,
                              size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pa_dp_sample_vartime(pRng, pMech, &aOut[i]);
        if (rc != PA_OK)
            return rc;
    }
    return PA_OK;
}
