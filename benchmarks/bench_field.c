/*
 * Benchmarks of the field and ntt modules: Field64 / Field128 multiplication
 * (latency of a dependent chain and throughput over independent vectors),
 * inversion, and the NTT at the sizes Prio3 uses (tiny for Count, ~1024 for
 * Histogram/SumVec gadgets) and a large one (2^17).  draft-irtf-cfrg-vdaf-20 §6.1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "ntt/ntt.h"

#define BENCH_CHAIN 1000
#define BENCH_VEC 1024

struct field_ctx {
    pa_f64 x64, y64, v64[BENCH_VEC], w64[BENCH_VEC];
    pa_f128 x128, y128, v128[BENCH_VEC], w128[BENCH_VEC];
};

static void run_mul64_chain(void *p)
{
    struct field_ctx *c = p;
    pa_f64 x = c->x64, y = c->y64;
    for (int i = 0; i < BENCH_CHAIN; i++)
        x = pa_f64_mul(x, y);
    c->x64 = x;
}

static void run_mul128_chain(void *p)
{
    struct field_ctx *c = p;
    pa_f128 x = c->x128, y = c->y128;
    for (int i = 0; i < BENCH_CHAIN; i++)
        x = pa_f128_mul(x, y);
    c->x128 = x;
}

static void run_mul64_vec(void *p)
{
    struct field_ctx *c = p;
    for (int i = 0; i < BENCH_VEC; i++)
        c->v64[i] = pa_f64_mul(c->v64[i], c->w64[i]);
}

static void run_mul128_vec(void *p)
{
    struct field_ctx *c = p;
    for (int i = 0; i < BENCH_VEC; i++)
        c->v128[i] = pa_f128_mul(c->v128[i], c->w128[i]);
}

static void run_add128_vec(void *p)
{
    struct field_ctx *c = p;
    for (int i = 0; i < BENCH_VEC; i++)
        c->v128[i] = pa_f128_add(c->v128[i], c->w128[i]);
}

static void run_inv64(void *p)
{
    struct field_ctx *c = p;
    c->x64 = pa_f64_add(pa_f64_inv(c->x64), c->y64);
}

static void run_inv128(void *p)
{
    struct field_ctx *c = p;
    c->x128 = pa_f128_add(pa_f128_inv(c->x128), c->y128);
}

struct ntt_ctx {
    size_t n;
    pa_f64 *a64;
    pa_f128 *a128;
};

static void run_ntt64(void *p)
{
    struct ntt_ctx *c = p;
    pa_f64_ntt(c->a64, c->n);
}

static void run_ntt128(void *p)
{
    struct ntt_ctx *c = p;
    pa_f128_ntt(c->a128, c->n);
}

static void run_intt128(void *p)
{
    struct ntt_ctx *c = p;
    pa_f128_intt(c->a128, c->n);
}

void pa_bench_field(pa_bench *b)
{
    struct field_ctx *c = calloc(1, sizeof *c);
    char params[64];
    double ns;

    if (c == NULL)
        return;
    c->x64 = pa_f64_from_u64(UINT64_C(0x123456789abcdef1));
    c->y64 = pa_f64_from_u64(UINT64_C(0xfedcba9876543210));
    c->x128 = pa_f128_from_u64_pair(UINT64_C(0x123456789abcdef1), UINT64_C(0x0fedcba987654321));
    c->y128 = pa_f128_from_u64_pair(UINT64_C(0xfedcba9876543210), UINT64_C(0x1234567890abcdef));
    for (int i = 0; i < BENCH_VEC; i++) {
        c->v64[i] = pa_f64_from_u64((uint64_t)i * UINT64_C(0x9e3779b97f4a7c15));
        c->w64[i] = pa_f64_from_u64((uint64_t)i * UINT64_C(0xc2b2ae3d27d4eb4f) + 1);
        c->v128[i] = pa_f128_from_u64_pair(c->v64[i], c->w64[i] >> 1);
        c->w128[i] = pa_f128_from_u64_pair(c->w64[i], c->v64[i] >> 1);
    }

    ns = pa_bench_time_ns(b, run_mul64_chain, c, 0.3);
    pa_bench_add(b, "field", "f64_mul_latency", "dependent chain", ns / BENCH_CHAIN, "ns", NULL);
    ns = pa_bench_time_ns(b, run_mul64_vec, c, 0.3);
    pa_bench_add(b, "field", "f64_mul_throughput", "1024 independent", ns / BENCH_VEC, "ns", NULL);
    ns = pa_bench_time_ns(b, run_mul128_chain, c, 0.3);
    pa_bench_add(b, "field", "f128_mul_latency", "dependent chain", ns / BENCH_CHAIN, "ns", NULL);
    ns = pa_bench_time_ns(b, run_mul128_vec, c, 0.3);
    pa_bench_add(b, "field", "f128_mul_throughput", "1024 independent", ns / BENCH_VEC, "ns",
                 NULL);
    ns = pa_bench_time_ns(b, run_add128_vec, c, 0.3);
    pa_bench_add(b, "field", "f128_add_throughput", "1024 independent", ns / BENCH_VEC, "ns",
                 NULL);
    ns = pa_bench_time_ns(b, run_inv64, c, 0.3);
    pa_bench_add(b, "field", "f64_inv", "Fermat, constant time", ns, "ns", NULL);
    ns = pa_bench_time_ns(b, run_inv128, c, 0.3);
    pa_bench_add(b, "field", "f128_inv", "Fermat, constant time", ns, "ns", NULL);
    free(c);

    static const unsigned logs[] = {2, 10, 17};
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        struct ntt_ctx nc;
        nc.n = (size_t)1 << logs[i];
        nc.a64 = malloc(nc.n * sizeof *nc.a64);
        nc.a128 = malloc(nc.n * sizeof *nc.a128);
        if (nc.a64 == NULL || nc.a128 == NULL) {
            free(nc.a64);
            free(nc.a128);
            return;
        }
        for (size_t j = 0; j < nc.n; j++) {
            nc.a64[j] = pa_f64_from_u64(j * 7919 + 1);
            nc.a128[j] = pa_f128_from_u64(j * 7919 + 1);
        }
        double secs = logs[i] >= 17 ? 1.0 : 0.3;
        snprintf(params, sizeof params, "n = 2^%u", logs[i]);
        ns = pa_bench_time_ns(b, run_ntt64, &nc, secs);
        pa_bench_add(b, "field", "f64_ntt", params, ns, "ns", NULL);
        ns = pa_bench_time_ns(b, run_ntt128, &nc, secs);
        pa_bench_add(b, "field", "f128_ntt", params, ns, "ns", NULL);
        ns = pa_bench_time_ns(b, run_intt128, &nc, secs);
        pa_bench_add(b, "field", "f128_intt", params, ns, "ns", NULL);
        free(nc.a64);
        free(nc.a128);
    }
}
