/*
 * Benchmarks of the xof module: TurboSHAKE128 absorbing a long input (RFC 9861,
 * target >= 600 MB/s on one core) and XofTurboShake128 next_vec into Field128
 * (draft-irtf-cfrg-vdaf-20 §6.2), the inner loop of Prio3 share expansion.
 * Also one 69 KiB absorb (a leader's measurement share) per permutation backend
 * this CPU has (pa_turboshake128_set_impl), so docs can quote each of them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench.h"
#include "xof/xof.h"

#define BENCH_XOF_INPUT (1u << 20)
#define BENCH_XOF_VEC 1024
#define BENCH_XOF_SHARE (69u * 1024u)

struct absorb_ctx {
    uint8_t *in;
    uint8_t out[32];
};

static void run_absorb(void *p)
{
    struct absorb_ctx *c = p;
    pa_turboshake128_oneshot(c->out, sizeof c->out, c->in, BENCH_XOF_INPUT, 0x01);
    c->in[0] ^= c->out[0]; /* keep the calls dependent */
}

static void run_absorb_share(void *p)
{
    struct absorb_ctx *c = p;
    pa_turboshake128_oneshot(c->out, sizeof c->out, c->in, BENCH_XOF_SHARE, 0x01);
    c->in[0] ^= c->out[0];
}

/* One row per backend this CPU has, then back to the automatic choice. */
static void bench_share_per_impl(pa_bench *b, struct absorb_ctx *a)
{
    static const struct {
        int impl;
        const char *name;
    } impls[] = {
        {PA_TURBOSHAKE128_IMPL_AVX512VL, "turboshake128_absorb 69 KB (avx512vl)"},
        {PA_TURBOSHAKE128_IMPL_BMI2, "turboshake128_absorb 69 KB (bmi2)"},
        {PA_TURBOSHAKE128_IMPL_PORTABLE, "turboshake128_absorb 69 KB (portable)"},
    };

    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        if (pa_turboshake128_set_impl(impls[i].impl) != 0)
            continue;
        double ns = pa_bench_time_ns(b, run_absorb_share, a, 0.5);
        pa_bench_add(b, "xof", impls[i].name, "70656 B input, 32 B output, one sponge", ns / 1e3,
                     "us", NULL);
    }
    (void)pa_turboshake128_set_impl(PA_TURBOSHAKE128_IMPL_AUTO);
}

struct vec_ctx {
    pa_f128 v[BENCH_XOF_VEC];
    uint8_t seed[PA_XOF_SEED_SIZE];
};

static void run_next_vec(void *p)
{
    struct vec_ctx *c = p;
    pa_xof_expand_into_vec_f128(c->v, BENCH_XOF_VEC, c->seed, sizeof c->seed,
                                (const uint8_t *)"bench", 5, (const uint8_t *)"binder", 6);
    c->seed[0]++;
}

void pa_bench_xof(pa_bench *b)
{
    struct absorb_ctx *a = calloc(1, sizeof *a);
    struct vec_ctx *v = calloc(1, sizeof *v);

    if (a == NULL || v == NULL || (a->in = calloc(1, BENCH_XOF_INPUT)) == NULL) {
        free(a);
        free(v);
        return;
    }
    double ns = pa_bench_time_ns(b, run_absorb, a, 1.0);
    pa_bench_add(b, "xof", "turboshake128_absorb", "1 MiB input, 32 B output",
                 (double)BENCH_XOF_INPUT / ns * 1e3, "MB/s", ">= 600 MB/s");
    bench_share_per_impl(b, a);
    ns = pa_bench_time_ns(b, run_next_vec, v, 1.0);
    pa_bench_add(b, "xof", "xof_next_vec_f128", "1024 elements per call, incl. init",
                 (double)BENCH_XOF_VEC / ns * 1e9, "elem/s", NULL);
    free(a->in);
    free(a);
    free(v);
}
