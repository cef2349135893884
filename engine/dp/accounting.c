/*
 * Privacy accounting: sensitivities from contribution bounds, the privacy cost of
 * one release (rho for the discrete Gaussian, eps for the discrete Laplace), and the
 * conversions between zCDP and (eps, delta)-DP:
 *   - tight rho -> (eps, delta): Canonne, Kamath, Steinke 2020, Proposition 12 /
 *     Corollary 13, minimised over alpha > 1 (the optimal alpha solved for exactly,
 *     see below), next to the standard eps = rho + 2 sqrt(rho ln(1/delta));
 *   - its inverse (eps, delta) -> largest rho;
 *   - the exact delta(eps) of the discrete Gaussian, CKS 2020 Theorem 7;
 *   - calibration of the smallest sigma2 on a 9-significant-digit rational grid.
 * Accounting never touches secret values, so double / long double are used here
 * (never in the samplers).
 *
 * With L = ln(1/delta), Corollary 13 gives, for each alpha > 1,
 *   eps(alpha) = alpha rho + (L + (alpha-1) ln(1-1/alpha) - ln alpha) / (alpha-1),
 *   ln delta(alpha) = (alpha-1)(alpha rho - eps) + (alpha-1) ln(1-1/alpha) - ln alpha.
 * Their derivatives are eps'(alpha) = rho + (ln alpha - L)/(alpha-1)^2 and
 * (ln delta)'(alpha) = (2 alpha - 1) rho - eps + ln(1 - 1/alpha), both with a single
 * sign change, so each optimum is the unique root of an increasing function, found
 * by bisection on ln(alpha - 1).  Everything is computed in log form (log1p), so
 * no intermediate overflows for any alpha (10^4 and far beyond).
 */
#include <math.h>
#include <stdint.h>

#include "dp/dgmath.h"
#include "privagg/common.h"
#include "privagg/dp.h"

#define PA_BISECT_STEPS 200

int pa_dp_sensitivity_from_bounds(uint64_t perCell, uint64_t maxCells, pa_dp_sensitivity *pOut)
{
    uint64_t l1, c2, l2sq;
    if (perCell == 0 || maxCells == 0)
        return pa_fail(PA_EINVAL, "sensitivity: per-cell bound %llu and max cells %llu must be >= 1",
                       (unsigned long long)perCell, (unsigned long long)maxCells);
    if (__builtin_mul_overflow(perCell, maxCells, &l1) ||
        __builtin_mul_overflow(perCell, perCell, &c2) || __builtin_mul_overflow(c2, maxCells, &l2sq))
        return pa_fail(PA_ERANGE, "sensitivity: bounds %llu x %llu overflow 64 bits",
                       (unsigned long long)perCell, (unsigned long long)maxCells);
    pOut->l1 = l1;
    pOut->l2sq = l2sq;
    return PA_OK;
}

int pa_dp_rho_gaussian(uint64_t l2sq, pa_dp_rational sigma2, double *pRho)
{
    if (sigma2.num == 0 || sigma2.den == 0)
        return pa_fail(PA_EINVAL, "sigma2: %llu/%llu must be positive",
                       (unsigned long long)sigma2.num, (unsigned long long)sigma2.den);
    /* l2sq * b / (2 a) */
    *pRho = (double)((long double)l2sq * sigma2.den / (2.0L * sigma2.num));
    return PA_OK;
}

int pa_dp_eps_laplace(uint64_t l1, pa_dp_rational scale, double *pEps)
{
    if (scale.num == 0 || scale.den == 0)
        return pa_fail(PA_EINVAL, "scale: %llu/%llu must be positive",
                       (unsigned long long)scale.num, (unsigned long long)scale.den);
    *pEps = (double)((long double)l1 * scale.den / scale.num);
    return PA_OK;
}

static int check_rho(double rho)
{
    if (!(rho >= 0) || !isfinite(rho))
        return pa_fail(PA_EINVAL, "rho: %g must be finite and >= 0", rho);
    return PA_OK;
}

static int check_delta(double delta)
{
    if (!(delta > 0) || !(delta < 1))
        return pa_fail(PA_EINVAL, "delta: %g outside (0, 1)", delta);
    return PA_OK;
}

static int check_eps(double eps)
{
    if (!(eps >= 0) || !isfinite(eps))
        return pa_fail(PA_EINVAL, "eps: %g must be finite and >= 0", eps);
    return PA_OK;
}

/* eps(alpha) of Corollary 13, alpha = 1 + x */
static long double eps_at(long double rho, long double lnInvDelta, long double x)
{
    long double alpha = 1 + x;
    return alpha * rho + (lnInvDelta + x * log1pl(-1 / alpha) - log1pl(x)) / x;
}

/* Root of an increasing f on x = alpha - 1 in (lo, hi) by bisection on ln x. */
static long double bisect_log(long double (*f)(long double x, const long double *p),
                              const long double *p, long double lo, long double hi)
{
    for (int i = 0; i < PA_BISECT_STEPS; i++) {
        long double mid = sqrtl(lo * hi);
        if (mid <= lo || mid >= hi)
            break;
        if (f(mid, p) < 0)
            lo = mid;
        else
            hi = mid;
    }
    return sqrtl(lo * hi);
}

/* rho x^2 + ln(1+x) - L: the sign of eps'(alpha); p = {rho, L} */
static long double eps_slope(long double x, const long double *p)
{
    return p[0] * x * x + log1pl(x) - p[1];
}

static long double eps_tight_ld(long double rho, long double lnInvDelta)
{
    long double p[2] = {rho, lnInvDelta}, x, e;
    if (rho == 0)
        return 0;
    /* eps_slope(0) = -L < 0 and eps_slope(sqrt(L/rho)) > 0 */
    x = bisect_log(eps_slope, p, 1e-300L, sqrtl(lnInvDelta / rho) * 1.0000001L + 1e-300L);
    e = eps_at(rho, lnInvDelta, x);
    return e > 0 ? e : 0;
}

int pa_dp_zcdp_eps(double rho, double delta, double *pEpsTight, double *pEpsStandard)
{
    int rc;
    long double l;
    if ((rc = check_rho(rho)) != PA_OK || (rc = check_delta(delta)) != PA_OK)
        return rc;
    l = -logl(delta);
    if (pEpsTight)
        *pEpsTight = (double)eps_tight_ld(rho, l);
    if (pEpsStandard)
        *pEpsStandard = (double)(rho + 2 * sqrtl((long double)rho * l));
    return PA_OK;
}

/* (2 alpha - 1) rho - eps + ln(1 - 1/alpha); p = {rho, eps} */
static long double delta_slope(long double x, const long double *p)
{
    long double alpha = 1 + x;
    return (2 * alpha - 1) * p[0] - p[1] + log1pl(-1 / alpha);
}

static long double ln_delta_ld(long double rho, long double eps)
{
    long double p[2] = {rho, eps}, hi, x, alpha;
    hi = (eps + 1) / (2 * rho) + 1; /* delta_slope(hi) > 0 */
    x = bisect_log(delta_slope, p, 1e-300L, hi);
    alpha = 1 + x;
    return x * (alpha * rho - eps) + x * log1pl(-1 / alpha) - log1pl(x);
}

int pa_dp_zcdp_delta(double rho, double eps, double *pDelta)
{
    int rc;
    long double ld;
    if ((rc = check_rho(rho)) != PA_OK || (rc = check_eps(eps)) != PA_OK)
        return rc;
    if (rho == 0) {
        *pDelta = 0;
        return PA_OK;
    }
    ld = ln_delta_ld(rho, eps);
    *pDelta = ld >= 0 ? 1.0 : (double)expl(ld);
    return PA_OK;
}

int pa_dp_rho_from_eps_delta(double eps, double delta, double *pRho)
{
    int rc;
    long double l, lo, hi, s;
    if ((rc = check_eps(eps)) != PA_OK || (rc = check_delta(delta)) != PA_OK)
        return rc;
    l = -logl(delta);
    /* the standard conversion is looser, so its inverse is a lower bound */
    s = sqrtl(l + eps) - sqrtl(l);
    lo = s * s;
    if (!(lo > 1e-300L))
        lo = 1e-300L;
    if (eps_tight_ld(lo, l) > eps) {
        *pRho = 0;
        return PA_OK;
    }
    hi = lo * 2;
    while (eps_tight_ld(hi, l) <= eps) {
        lo = hi;
        hi *= 2;
        if (hi > 1e300L)
            return pa_fail(PA_ERANGE, "rho: no finite rho reaches eps %g at delta %g", eps, delta);
    }
    for (int i = 0; i < PA_BISECT_STEPS; i++) {
        long double mid = sqrtl(lo * hi);
        if (mid <= lo || mid >= hi)
            break;
        if (eps_tight_ld(mid, l) <= eps)
            lo = mid;
        else
            hi = mid;
    }
    *pRho = (double)lo;
    return PA_OK;
}

/* CKS 2020 Theorem 7 in long double */
static long double exact_delta_ld(long double s2, uint64_t k, long double eps)
{
    long double kk = (long double)k;
    long double x1 = eps * s2 / kk - kk / 2, x2 = eps * s2 / kk + kk / 2, d;
    /* sigma2 <= 1e14: beyond 4e18 standard deviations both tails are exactly 0 in
     * long double (and the index would not fit int64) */
    if (x1 > 4e18L)
        return 0;
    /* P[Z > x] = P[Z >= floor(x) + 1] */
    long double t1 = pa_dp_dg_tail_prob(s2, (int64_t)floorl(x1) + 1);
    long double t2 = pa_dp_dg_tail_prob(s2, (int64_t)floorl(x2) + 1);
    d = t1 - expl(eps) * t2;
    return d > 0 ? d : 0;
}

int pa_dp_gaussian_exact_delta(double sigma2, uint64_t sensitivity, double eps, double *pDelta)
{
    int rc;
    if ((rc = check_eps(eps)) != PA_OK)
        return rc;
    if (!(sigma2 > 0) || !(sigma2 <= 1e14))
        return pa_fail(PA_EINVAL, "sigma2: %g outside (0, 1e14]", sigma2);
    if (sensitivity == 0 || sensitivity > ((uint64_t)1 << 32))
        return pa_fail(PA_EINVAL, "sensitivity: %llu outside 1..2^32",
                       (unsigned long long)sensitivity);
    if (eps * sigma2 / (double)sensitivity > 9e18)
        return pa_fail(PA_ERANGE, "eps * sigma2 / sensitivity: %g above 9e18",
                       eps * sigma2 / (double)sensitivity);
    *pDelta = (double)exact_delta_ld(sigma2, sensitivity, eps);
    return PA_OK;
}

/* ---- calibration -------------------------------------------------------- */

typedef int (*meets_fn)(long double sigma2, const void *ctx);

struct grid_point {
    uint64_t m;       /* mantissa, 10^8 <= m < 10^9 (or fewer digits at the top) */
    int e;            /* sigma2 = m * 10^e */
};

static long double grid_value(struct grid_point g)
{
    return (long double)g.m * powl(10.0L, (long double)g.e);
}

static int grid_to_rational(struct grid_point g, pa_dp_rational *pOut)
{
    uint64_t v = g.m, d = 1;
    for (int i = 0; i < g.e; i++) {
        if (__builtin_mul_overflow(v, (uint64_t)10, &v))
            return pa_fail(PA_ERANGE, "sigma2: above 2^64");
    }
    for (int i = 0; i > g.e; i--) {
        if (__builtin_mul_overflow(d, (uint64_t)10, &d))
            return pa_fail(PA_ERANGE, "sigma2: below 1e-19");
    }
    *pOut = pa_dp_rational_make(v, d);
    return PA_OK;
}

/* smallest grid point >= x meeting the predicate (which is monotone in sigma2) */
static int grid_calibrate(long double x, meets_fn meets, const void *ctx, pa_dp_rational *pOut)
{
    struct grid_point g;
    int nStep = 0;
    /* the range the exact sampler accepts (numerator <= 2^50, denominators <= 10^17) */
    if (!(x >= 1e-9L) || !(x <= 1e15L))
        return pa_fail(PA_ERANGE, "sigma2: %Lg outside the supported [1e-9, 1e15]", x);
    g.e = (int)floorl(log10l(x)) - 8;
    g.m = (uint64_t)ceill(x / powl(10.0L, (long double)g.e));
    /* fix the floating rounding of the first guess in both directions */
    while (!meets(grid_value(g), ctx)) {
        g.m++;
        if (++nStep > 100000)
            return pa_fail(PA_EINTERNAL, "calibrate: no grid point meets the target near %Lg", x);
    }
    while (g.m > 1 && meets(grid_value((struct grid_point){g.m - 1, g.e}), ctx)) {
        g.m--;
        if (++nStep > 100000)
            return pa_fail(PA_EINTERNAL, "calibrate: grid search did not settle near %Lg", x);
    }
    return grid_to_rational(g, pOut);
}

struct rho_ctx {
    long double rho;
    long double l2sq;
};

static int meets_rho(long double s2, const void *ctx)
{
    const struct rho_ctx *c = ctx;
    return c->l2sq / (2 * s2) <= c->rho;
}

int pa_dp_calibrate_rho(double rho, uint64_t l2sq, pa_dp_rational *pSigma2)
{
    struct rho_ctx c;
    if (!(rho > 0) || !isfinite(rho))
        return pa_fail(PA_EINVAL, "rho: %g must be finite and > 0", rho);
    if (l2sq == 0)
        return pa_fail(PA_EINVAL, "sensitivity: L2^2 must be >= 1");
    c.rho = rho;
    c.l2sq = (long double)l2sq;
    return grid_calibrate(c.l2sq / (2 * c.rho), meets_rho, &c, pSigma2);
}

int pa_dp_calibrate_eps_delta(double eps, double delta, uint64_t l2sq, pa_dp_rational *pSigma2)
{
    double rho;
    int rc;
    if ((rc = check_eps(eps)) != PA_OK || (rc = check_delta(delta)) != PA_OK)
        return rc;
    if ((rc = pa_dp_rho_from_eps_delta(eps, delta, &rho)) != PA_OK)
        return rc;
    if (!(rho > 0))
        return pa_fail(PA_ERANGE, "eps %g, delta %g: no positive rho meets them", eps, delta);
    return pa_dp_calibrate_rho(rho, l2sq, pSigma2);
}

struct exact_ctx {
    uint64_t k;
    long double eps;
    long double delta;
};

static int meets_exact(long double s2, const void *ctx)
{
    const struct exact_ctx *c = ctx;
    return exact_delta_ld(s2, c->k, c->eps) <= c->delta;
}

int pa_dp_calibrate_exact(double eps, double delta, uint64_t l2sq, pa_dp_rational *pSigma2)
{
    struct exact_ctx c;
    long double lo, hi;
    uint64_t k;
    int rc;
    if ((rc = check_eps(eps)) != PA_OK || (rc = check_delta(delta)) != PA_OK)
        return rc;
    k = (uint64_t)llroundl(sqrtl((long double)l2sq));
    if (k == 0 || k * k != l2sq || k > ((uint64_t)1 << 32))
        return pa_fail(PA_EINVAL, "sensitivity: L2^2 = %llu is not the square of an integer <= 2^32",
                       (unsigned long long)l2sq);
    if (eps == 0)
        return pa_fail(PA_ERANGE, "eps: 0 cannot be met by a finite sigma2");
    c.k = k;
    c.eps = eps;
    c.delta = delta;
    /* bracket lo (fails) < hi (meets): delta(sigma2) decreases in sigma2 */
    hi = lo = 1e-6L * (long double)l2sq;
    if (meets_exact(lo, &c)) {
        while (meets_exact(lo, &c)) {
            hi = lo;
            lo /= 2;
            if (lo < 1e-9L)
                return pa_fail(PA_ERANGE, "sigma2: below the supported 1e-9 suffices for eps %g, "
                                          "delta %g", eps, delta);
        }
    } else {
        while (!meets_exact(hi, &c)) {
            lo = hi;
            hi *= 2;
            if (hi > 1e14L)
                return pa_fail(PA_ERANGE, "sigma2: above 1e14 needed for eps %g, delta %g", eps, delta);
        }
    }
    for (int i = 0; i < 100 && hi / lo > 1 + 1e-12L; i++) {
        long double mid = sqrtl(lo * hi);
        if (meets_exact(mid, &c))
            hi = mid;
        else
            lo = mid;
    }
    return grid_calibrate(hi * (1 - 1e-10L), meets_exact, &c, pSigma2);
}
