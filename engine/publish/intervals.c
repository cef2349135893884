/*
 * Exact intervals of summed discrete Gaussian noise (include/privagg/publish.h).
 *
 * A published margin over m cells carries 2m independent N_Z(0, sigma2) draws
 * (one per aggregator and cell).  Its pmf is the m-fold convolution of the
 * two-draw pmf; we compute it numerically in long double, by binary powering of
 * the one-draw pmf (support |k| <= 12 sigma + 2: the mass beyond is below e^-72),
 * dropping tail entries below 1e-40 after each convolution.  The half-width is then
 * accumulated outward from 0 as pa_dp_gaussian_interval does for two draws (and the
 * unit test checks the two agree).  Cost: O(log n) convolutions of ~ 28 sd
 * entries; the caller limits sigma2 (docs/publish.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/publish.h"

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

int pa_publish_dg_halfwidth(double sigma2, uint64_t nDraws, double level, uint64_t *pW)
{
    pmf base, acc, t;
    long double sum = 0, mass;
    long k;
    int rc = PA_OK;

    if (!(sigma2 > 0) || sigma2 > 1e4 || nDraws == 0 || nDraws > 1000000 || !(level > 0 && level < 1))
        return pa_fail(PA_EINVAL, "noise interval: sigma2 %g (0, 1e4], draws %llu (1..1e6), level %g (0, 1)",
                       sigma2, (unsigned long long)nDraws, level);
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
    if (rc == PA_OK) {
        /* renormalise what the trimming dropped, then accumulate outward */
        sum = 0;
        for (k = 0; k <= 2 * acc.nHalf; k++)
            sum += acc.p[k];
        mass = acc.p[acc.nHalf] / sum;
        for (k = 1; mass < (long double)level && k <= acc.nHalf; k++)
            mass += (acc.p[acc.nHalf + k] + acc.p[acc.nHalf - k]) / sum;
        *pW = (uint64_t)(k > acc.nHalf && mass < (long double)level ? (long)acc.nHalf : k - 1);
        if (k == 1)
            *pW = 0;
    }
    free(base.p);
    free(acc.p);
    return rc;
}
