/*
 * Intervals of the noise of published numbers (include/privagg/publish.h).
 *
 * A published number's noise is a linear combination of independent
 * N_Z(0, sigma2) draws (one per aggregator and cell of every batch it uses):
 *   unreconciled:  Z = O                 (O: the batch's own 2m draws)
 *   reconciled:    Z = a O + b R         (R: the other batches' draws, an integer
 *                                         sum, sign irrelevant by symmetry)
 * O and R are integer sums of draws; their pmfs are computed numerically in long
 * double by binary powering of the one-draw pmf (support |k| <= 12 sigma + 2: the
 * mass beyond is below e^-72), dropping tail entries below 1e-40 after each
 * convolution.  Then P(|a O + b R| <= w) = sum_r P(R = r) P(|a O + b r| <= w) is
 * a sum over R's support with O's cdf, and the half-width is the smallest w with
 * that probability >= level (bisection on w, counting boundary points out, so any
 * rounding only widens it).  That is the exact distribution: no sub-Gaussian or
 * normal approximation.
 *
 * When a pmf would be too long to convolve (cost ~ 800 n sigma2 products per pmf,
 * above PA_PUB_PMF_COST), the interval is conservative instead, by Chebyshev's
 * inequality with Var N_Z(0, s) <= s: by Poisson summation
 * theta(s) = sum_y e^{-y^2/(2s)} = sqrt(2 pi s) (1 + eps(s)),
 * eps(s) = 2 sum_{k>=1} e^{-2 pi^2 s k^2}, and E[Y^2] = 2 s^2 theta'(s)/theta(s)
 * = s + 2 s^2 eps'(s)/(1 + eps(s)) <= s since eps' < 0.  With the own part exact
 * when it is short: a w_O(1 - (1 - level - beta)) + b sqrt(Var R / beta)
 * (union bound), minimised over a fixed grid of beta; otherwise
 * sqrt(Var Z / (1 - level)).  docs/publish.md says which applies when.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/publish.h"

#define PA_PUB_PMF_COST 2e9        /* products of one pmf's convolutions, at most */

typedef struct {
    long double *p;
    long nHalf;                   /* support -nHalf .. nHalf, p[k + nHalf] */
} pmf;

static int conv(const pmf *a, const pmf *b, pmf *out)
{
    long n = a->nHalf + b->nHalf, lo = 0, hi;
    long double *p = calloc((size_t)(2 * n + 1), sizeof *p);
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "noise pmf: %ld entries", 2 * n + 1);
    for (long i = 0; i <= 2 * a->nHalf; i++) {
        long double x = a->p[i];
        if (x == 0)
            continue;
        for (long j = 0; j <= 2 * b->nHalf; j++)
            p[i + j] += x * b->p[j];
    }
    /* trim symmetric tails below 1e-40 */
    while (lo < n && p[lo] < 1e-40L && p[2 * n - lo] < 1e-40L)
        lo++;
    hi = n - lo;
    out->nHalf = hi;
    out->p = malloc((size_t)(2 * hi + 1) * sizeof *out->p);
    if (out->p == NULL) {
        free(p);
        return pa_fail(PA_ENOMEM, "noise pmf");
    }
    memcpy(out->p, p + lo, (size_t)(2 * hi + 1) * sizeof *out->p);
    free(p);
    return PA_OK;
}

/* estimated products of pmf_sum(sigma2, n) */
static double pmf_cost(double sigma2, uint64_t nDraws)
{
    return 800.0 * (double)nDraws * (sigma2 > 1 ? sigma2 : 1);
}

/* *pOut = the pmf of the sum of nDraws independent N_Z(0, sigma2), normalised */
static int pmf_sum(double sigma2, uint64_t nDraws, pmf *pOut)
{
    pmf base, acc, t;
    long double sum = 0;
    long k;
    int rc = PA_OK;

    base.nHalf = (long)ceil(12 * sqrt(sigma2)) + 2;
    base.p = malloc((size_t)(2 * base.nHalf + 1) * sizeof *base.p);
    acc.nHalf = 0;
    acc.p = malloc(sizeof *acc.p);
    if (base.p == NULL || acc.p == NULL) {
        free(base.p);
        free(acc.p);
        return pa_fail(PA_ENOMEM, "noise pmf");
    }
    acc.p[0] = 1;
    for (k = -base.nHalf; k <= base.nHalf; k++)
        sum += base.p[k + base.nHalf] = expl(-(long double)k * k / (2.0L * sigma2));
    for (k = 0; k <= 2 * base.nHalf; k++)
        base.p[k] /= sum;
    for (uint64_t n = nDraws; rc == PA_OK && n > 0; n >>= 1) {
        if (n & 1) {
            rc = conv(&acc, &base, &t);
            if (rc == PA_OK) {
                free(acc.p);
                acc = t;
            }
        }
        if (rc == PA_OK && n > 1) {
            rc = conv(&base, &base, &t);
            if (rc == PA_OK) {
                free(base.p);
                base = t;
            }
        }
    }
    free(base.p);
    if (rc != PA_OK) {
        free(acc.p);
        return rc;
    }
    /* renormalise what the trimming dropped */
    sum = 0;
    for (k = 0; k <= 2 * acc.nHalf; k++)
        sum += acc.p[k];
    for (k = 0; k <= 2 * acc.nHalf; k++)
        acc.p[k] /= sum;
    *pOut = acc;
    return PA_OK;
}

/* the smallest integer w with P(|X| <= w) >= level for an integer X of pmf q */
static uint64_t pmf_halfwidth(const pmf *q, long double level)
{
    long double mass = q->p[q->nHalf];
    long k;
    for (k = 1; mass < level && k <= q->nHalf; k++)
        mass += q->p[q->nHalf + k] + q->p[q->nHalf - k];
    return (uint64_t)(k - 1);
}

int pa_publish_dg_halfwidth(double sigma2, uint64_t nDraws, double level, uint64_t *pW)
{
    pmf q;
    if (!(sigma2 > 0) || sigma2 > 1e4 || nDraws == 0 || nDraws > 1000000 || !(level > 0 && level < 1))
        return pa_fail(PA_EINVAL, "noise interval: sigma2 %g (0, 1e4], draws %llu (1..1e6), level %g (0, 1)",
                       sigma2, (unsigned long long)nDraws, level);
    PA_GUARD(pmf_sum(sigma2, nDraws, &q));
    *pW = pmf_halfwidth(&q, (long double)level);
    free(q.p);
    return PA_OK;
}

/* pmf of n1 draws of s1 plus n2 draws of s2 (either count may be 0) */
static int pmf_mixed(double s1, uint64_t n1, double s2, uint64_t n2, pmf *pOut)
{
    pmf a = {NULL, 0}, b = {NULL, 0};
    int rc;
    if (n2 == 0)
        return pmf_sum(s1, n1, pOut);
    if (n1 == 0)
        return pmf_sum(s2, n2, pOut);
    PA_GUARD(pmf_sum(s1, n1, &a));
    rc = pmf_sum(s2, n2, &b);
    if (rc == PA_OK)
        rc = conv(&a, &b, pOut);
    free(a.p);
    free(b.p);
    return rc;
}

/* P(|a O + b R| <= w), boundary points counted out; aCdf[i] = P(O <= i - nHalf) */
static long double mixed_mass(const long double *aCdf, const pmf *o, const pmf *r, double a, double b, double w)
{
    long double s = 0;
    for (long j = 0; j <= 2 * r->nHalf; j++) {
        double x = b * (double)(j - r->nHalf);
        double hiF = floor((w - x) / a - 1e-9), loC = ceil((-w - x) / a + 1e-9);
        long hi = hiF > (double)o->nHalf ? o->nHalf : (long)hiF, lo;
        if (hiF < -(double)o->nHalf)
            continue;
        lo = loC < -(double)o->nHalf ? -o->nHalf : (long)loC;
        if (lo > o->nHalf || lo > hi)
            continue;
        s += r->p[j] * (aCdf[hi + o->nHalf] - (lo > -o->nHalf ? aCdf[lo - 1 + o->nHalf] : 0));
    }
    return s;
}

static int check_noise(const pa_publish_noise *n, double level)
{
    int bad = !(n->rOwn > 0) || !(n->rSigma2Own > 0) || n->nOwn == 0 || !(n->rRest >= 0) ||
              !(level > 0 && level < 1) || n->nOwn > 100000000;
    for (int k = 0; k < 2; k++)
        bad |= n->anRest[k] > 100000000 || (n->anRest[k] > 0 && !(n->aSigma2Rest[k] > 0));
    if (bad)
        return pa_fail(PA_EINVAL, "noise interval: own %g x %llu draws of sigma2 %g, rest %g, level %g: "
                                  "coefficients and sigma2 must be positive, draws 1..1e8, level in (0, 1)",
                       n->rOwn, (unsigned long long)n->nOwn, n->rSigma2Own, n->rRest, level);
    return PA_OK;
}

int pa_publish_noise_halfwidth(const pa_publish_noise *n, double level, double *pHalf, int *pbExact)
{
    static const double aBeta[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05};
    int bRest, rc = PA_OK;
    double varRest, costRest, costOwn, miss = 1 - level;
    pmf o = {NULL, 0}, r = {NULL, 0};
    long double *aCdf = NULL;

    PA_GUARD(check_noise(n, level));
    bRest = n->rRest > 0 && n->anRest[0] + n->anRest[1] > 0;
    varRest = (double)n->anRest[0] * n->aSigma2Rest[0] + (double)n->anRest[1] * n->aSigma2Rest[1];
    costOwn = pmf_cost(n->rSigma2Own, n->nOwn);
    costRest = bRest ? pmf_cost(n->aSigma2Rest[0], n->anRest[0]) + pmf_cost(n->aSigma2Rest[1], n->anRest[1]) : 0;
    if (costOwn > PA_PUB_PMF_COST) {
        /* Chebyshev for everything */
        double var = n->rOwn * n->rOwn * (double)n->nOwn * n->rSigma2Own + n->rRest * n->rRest * varRest;
        *pHalf = sqrt(var / miss);
        *pbExact = 0;
        return PA_OK;
    }
    PA_GUARD(pmf_sum(n->rSigma2Own, n->nOwn, &o));
    if (!bRest) {
        *pHalf = n->rOwn * (double)pmf_halfwidth(&o, (long double)level);
        *pbExact = 1;
        free(o.p);
        return PA_OK;
    }
    if (costRest > PA_PUB_PMF_COST) {
        /* exact own part, Chebyshev for the rest, union bound over the split */
        double best = INFINITY;
        for (size_t i = 0; i < sizeof aBeta / sizeof aBeta[0] && aBeta[i] < miss - 1e-6; i++) {
            double h = n->rOwn * (double)pmf_halfwidth(&o, (long double)(1 - (miss - aBeta[i]))) +
                       n->rRest * sqrt(varRest / aBeta[i]);
            if (h < best)
                best = h;
        }
        free(o.p);
        *pHalf = best;
        *pbExact = 0;
        return PA_OK;
    }
    rc = pmf_mixed(n->aSigma2Rest[0], n->anRest[0], n->aSigma2Rest[1], n->anRest[1], &r);
    if (rc == PA_OK && (aCdf = malloc((size_t)(2 * o.nHalf + 1) * sizeof *aCdf)) == NULL)
        rc = pa_fail(PA_ENOMEM, "noise interval");
    if (rc == PA_OK) {
        long double c = 0;
        double lo = 0, hi = n->rOwn * (double)o.nHalf + n->rRest * (double)r.nHalf + 1;
        for (long k = 0; k <= 2 * o.nHalf; k++)
            aCdf[k] = c += o.p[k];
        /* hi covers all the (renormalised) mass but rounding: at least level */
        for (int it = 0; it < 100 && hi - lo > 1e-9 * (hi > 1 ? hi : 1); it++) {
            double mid = (lo + hi) / 2;
            if (mixed_mass(aCdf, &o, &r, n->rOwn, n->rRest, mid) >= (long double)level)
                hi = mid;
            else
                lo = mid;
        }
        *pHalf = hi;
        *pbExact = 1;
    }
    free(aCdf);
    free(o.p);
    free(r.p);
    return rc;
}
