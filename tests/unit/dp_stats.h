/*
 * Helpers shared by the dp sampler tests (header only): chi-squared goodness of
 * fit of integer samples against an exact symmetric pmf, with bins pooled so that
 * every expected count is at least 5, and the 5-sigma checks of mean and variance.
 */
#ifndef PA_TEST_DP_STATS_H
#define PA_TEST_DP_STATS_H

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef long double (*dp_pmf_fn)(int64_t z, const void *ctx);

struct dp_fit {
    double chi2, p, mean, var, varTrue, meanBound, varBound;
    int df;
};

/*
 * Fit n samples to a pmf symmetric about 0 whose mass beyond +-R is negligible
 * for the moments (the tails beyond R are still binned exactly: edge bins hold
 * P(Z <= -R) and P(Z >= R)).
 */
static inline struct dp_fit dp_fit_symmetric(const int64_t *aS, size_t n, dp_pmf_fn pmf,
                                             const void *ctx, int64_t R)
{
    struct dp_fit f = {0};
    size_t nb = (size_t)(2 * R + 1);
    long double *aE = calloc(nb, sizeof *aE), inner = 0, m2 = 0, m4 = 0;
    uint64_t *aO = calloc(nb, sizeof *aO);
    long double sum = 0, sumsq = 0;
    long double eAcc = 0, chi2 = 0;
    uint64_t oAcc = 0;
    int nBins = 0;

    for (int64_t z = -R; z <= R; z++) {
        long double p = pmf(z, ctx);
        aE[z + R] = p;
        if (z != -R && z != R)
            inner += p;
        m2 += p * z * z;
        m4 += p * (long double)z * z * z * z;
    }
    aE[0] = aE[2 * R] = (1 - inner) / 2;
    for (size_t i = 0; i < n; i++) {
        int64_t z = aS[i] < -R ? -R : aS[i] > R ? R : aS[i];
        aO[z + R]++;
        sum += aS[i];
        sumsq += (long double)aS[i] * aS[i];
    }
    /* pool left to right; the last partial bin joins the previous one */
    long double lastE = 0;
    uint64_t lastO = 0;
    for (size_t i = 0; i < nb; i++) {
        eAcc += aE[i] * n;
        oAcc += aO[i];
        if (eAcc >= 5) {
            if (lastE > 0) {
                chi2 += ((long double)lastO - lastE) * ((long double)lastO - lastE) / lastE;
                nBins++;
            }
            lastE = eAcc;
            lastO = oAcc;
            eAcc = 0;
            oAcc = 0;
        }
    }
    lastE += eAcc;
    lastO += oAcc;
    chi2 += ((long double)lastO - lastE) * ((long double)lastO - lastE) / lastE;
    nBins++;
    f.chi2 = (double)chi2;
    f.df = nBins - 1;
    f.p = f.df > 0 ? gsl_cdf_chisq_Q(f.chi2, f.df) : 1.0;
    f.mean = (double)(sum / n);
    f.var = (double)(sumsq / n); /* the true mean is 0 */
    f.varTrue = (double)m2;
    f.meanBound = 5 * sqrt((double)m2 / (double)n);
    f.varBound = 5 * sqrt((double)(m4 - m2 * m2) / (double)n);
    free(aE);
    free(aO);
    return f;
}

static inline void dp_fit_print(const char *zWhat, const struct dp_fit *f)
{
    printf("  %-28s chi2 %.1f df %d p %.4f | mean %.4g (|.| <= %.3g) | var %.6g vs %.6g (+- %.3g)\n",
           zWhat, f->chi2, f->df, f->p, f->mean, f->meanBound, f->var, f->varTrue, f->varBound);
}

#endif
