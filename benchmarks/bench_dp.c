/*
 * Benchmarks of the dp module (one core):
 *   - the exact discrete Gaussian sampler in its variable-time form, as used off the
 *     request path (targets: sigma = 100 >= 1,000,000 samples/s, sigma = 10^6 >=
 *     300,000 samples/s), with the production RNG (randombytes_buf, buffered);
 *   - the discrete Laplace sampler (no target);
 *   - noise for a 270-cell share in the form used on the collection path
 *     (pa_dp_noise_add_f64 / _f128 of a precomputed vector; target <= 5 ms), and the
 *     off-path draw of that vector;
 *   - the accounting conversion and the exact interval (no target).
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "privagg/dp.h"

#define BENCH_DP_BATCH 1000
#define BENCH_DP_CELLS 270

struct sample_ctx {
    pa_dp_rng *pRng;
    pa_dp_mechanism mech;
    int64_t aOut[BENCH_DP_BATCH];
    int failed;
};

static void run_samples(void *p)
{
    struct sample_ctx *c = p;
    c->failed |= pa_dp_sample_many_vartime(c->pRng, &c->mech, c->aOut, BENCH_DP_BATCH) != 0;
}

struct noise_ctx {
    pa_dp_rng *pRng;
    pa_dp_mechanism mech;
    pa_dp_noise *pNoise;
    uint8_t share64[BENCH_DP_CELLS * 8];
    uint8_t share128[BENCH_DP_CELLS * 16];
    int failed;
};

static void run_add_f64(void *p)
{
    struct noise_ctx *c = p;
    c->failed |= pa_dp_noise_add_f64(c->pNoise, c->share64, BENCH_DP_CELLS) != 0;
}

static void run_add_f128(void *p)
{
    struct noise_ctx *c = p;
    c->failed |= pa_dp_noise_add_f128(c->pNoise, c->share128, BENCH_DP_CELLS) != 0;
}

static void run_draw(void *p)
{
    struct noise_ctx *c = p;
    pa_dp_noise *pN = NULL;
    if (pa_dp_noise_draw_vartime(c->pRng, &c->mech, BENCH_DP_CELLS, &pN) == 0)
        pa_dp_noise_free(pN);
    else
        c->failed = 1;
}

static void run_eps(void *p)
{
    double eps;
    (void)p;
    (void)pa_dp_zcdp_eps(0.05, 1e-6, &eps, NULL);
}

static void run_interval(void *p)
{
    uint64_t w;
    (void)p;
    (void)pa_dp_gaussian_interval(1e6, 2, 0.95, &w);
}

static void bench_sampler(pa_bench *b, struct sample_ctx *c, const char *zName, const char *zParams,
                          const char *zTarget)
{
    double ns = pa_bench_time_ns(b, run_samples, c, 1.0);
    if (c->failed) {
        pa_bench_fail(b, "dp", "%s (%s): a draw failed", zName, zParams);
        c->failed = 0;
        return;
    }
    pa_bench_add(b, "dp", zName, zParams, (double)BENCH_DP_BATCH / ns * 1e9, "samples/s", zTarget);
}

void pa_bench_dp(pa_bench *b)
{
    struct sample_ctx *c = calloc(1, sizeof *c);
    struct noise_ctx *n = calloc(1, sizeof *n);

    if (c == NULL || n == NULL || pa_dp_rng_new(&c->pRng) != 0 || pa_dp_rng_new(&n->pRng) != 0) {
        pa_bench_fail(b, "dp", "set-up failed");
        goto done;
    }
    if (pa_dp_mechanism_gaussian(&c->mech, pa_dp_rational_make(10000, 1)) == 0)
        bench_sampler(b, c, "discrete_gaussian_vartime", "sigma = 100 (sigma2 = 1e4), exact",
                      ">= 1000000");
    if (pa_dp_mechanism_gaussian(&c->mech, pa_dp_rational_make(1000000000000ull, 1)) == 0)
        bench_sampler(b, c, "discrete_gaussian_vartime", "sigma = 1e6 (sigma2 = 1e12), exact",
                      ">= 300000");
    if (pa_dp_mechanism_gaussian(&c->mech, pa_dp_rational_make(1, 2)) == 0)
        bench_sampler(b, c, "discrete_gaussian_vartime", "sigma2 = 0.5, exact", NULL);
    if (pa_dp_mechanism_laplace(&c->mech, pa_dp_rational_make(10, 1)) == 0)
        bench_sampler(b, c, "discrete_laplace_vartime", "scale = 10, exact", NULL);
    if (pa_dp_mechanism_laplace(&c->mech, pa_dp_rational_make(1000, 1)) == 0)
        bench_sampler(b, c, "discrete_laplace_vartime", "scale = 1000, exact", NULL);

    if (pa_dp_mechanism_gaussian(&n->mech, pa_dp_rational_make(10000, 1)) == 0 &&
        pa_dp_noise_draw_vartime(n->pRng, &n->mech, BENCH_DP_CELLS, &n->pNoise) == 0) {
        double ns = pa_bench_time_ns(b, run_add_f64, n, 0.5);
        pa_bench_add(b, "dp", "noise_add_f64 (collection path)", "270 cells, precomputed noise",
                     ns / 1e6, "ms", "<= 5 ms");
        ns = pa_bench_time_ns(b, run_add_f128, n, 0.5);
        pa_bench_add(b, "dp", "noise_add_f128 (collection path)", "270 cells, precomputed noise",
                     ns / 1e6, "ms", "<= 5 ms");
        ns = pa_bench_time_ns(b, run_draw, n, 0.5);
        if (!n->failed)
            pa_bench_add(b, "dp", "noise_draw_vartime (off path)", "270 cells, sigma2 = 1e4", ns / 1e6,
                         "ms", NULL);
        else
            pa_bench_fail(b, "dp", "a noise addition or draw failed");
    } else {
        pa_bench_fail(b, "dp", "noise set-up failed");
    }
    pa_bench_add(b, "dp", "zcdp_eps (tight)", "rho 0.05, delta 1e-6",
                 pa_bench_time_ns(b, run_eps, NULL, 0.3) / 1e3, "us", NULL);
    pa_bench_add(b, "dp", "gaussian_interval", "sigma2 1e6, 2 shares, 95%",
                 pa_bench_time_ns(b, run_interval, NULL, 0.3) / 1e3, "us", NULL);
done:
    if (c != NULL)
        pa_dp_rng_free(c->pRng);
    if (n != NULL) {
        pa_dp_noise_free(n->pNoise);
        pa_dp_rng_free(n->pRng);
    }
    free(c);
    free(n);
}
