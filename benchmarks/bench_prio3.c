/*
 * Benchmarks of the prio3 module: per report on one core, two aggregators — shard,
 * verify_init (leader and helper separately), verifier_shares_to_message,
 * aggregate (adding one output share), unshard, and the report size (public share
 * plus all input shares) for the VDAF configurations the Prio3 issue names.
 * Randomness is fixed (deterministic rand, nonce, verify key): the work per call
 * does not depend on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"
#include "privagg/prio3.h"

typedef struct {
    pa_prio3 *v;
    uint8_t vk[32], nonce[16], ctx[16];
    uint8_t *rand;
    uint64_t *meas;
    uint8_t *ps, *is[2], *st[2], *vs[2], msg[32], *out[2], *agg[2], *acc;
    size_t vs_len[2], agg_len[2];
    uint64_t *result;
    int failed;
} fixture;

static void do_shard(void *p)
{
    fixture *f = p;
    f->failed |= pa_prio3_shard(f->v, f->ctx, sizeof f->ctx, f->meas,
                                pa_prio3_measurement_len(f->v), f->nonce, f->rand,
                                pa_prio3_rand_size(f->v), f->ps, f->is) != 0;
}

static void verify_init(fixture *f, size_t j)
{
    f->failed |= pa_prio3_verify_init(f->v, f->vk, f->ctx, sizeof f->ctx, j, f->nonce, f->ps,
                                      pa_prio3_public_share_size(f->v), f->is[j],
                                      pa_prio3_input_share_size(f->v, j), f->st[j],
                                      f->vs[j]) != 0;
}

static void do_verify_leader(void *p) { verify_init(p, 0); }
static void do_verify_helper(void *p) { verify_init(p, 1); }

static void do_to_message(void *p)
{
    fixture *f = p;
    f->failed |= pa_prio3_verifier_shares_to_message(f->v, f->ctx, sizeof f->ctx,
                                                     (const uint8_t *const *)f->vs, f->vs_len,
                                                     f->msg) != 0;
}

static void do_aggregate(void *p)
{
    fixture *f = p;
    f->failed |= pa_prio3_agg_update(f->v, f->acc, f->out[0],
                                     pa_prio3_out_share_size(f->v)) != 0;
}

static void do_unshard(void *p)
{
    fixture *f = p;
    f->failed |= pa_prio3_unshard(f->v, (const uint8_t *const *)f->agg, f->agg_len, 2, 1,
                                  f->result) != 0;
}

static int setup(fixture *f, pa_prio3 *v, int kind)
{
    memset(f, 0, sizeof *f);
    f->v = v;
    randombytes_buf_deterministic(f->vk, sizeof f->vk, (const unsigned char *)"bench_prio3_verify_key_seed_0001");
    memcpy(f->ctx, "privagg bench v1", 16);
    f->rand = malloc(pa_prio3_rand_size(v));
    randombytes_buf_deterministic(f->rand, pa_prio3_rand_size(v),
                                  (const unsigned char *)"bench_prio3_rand_seed_0000000001");
    size_t mlen = pa_prio3_measurement_len(v);
    f->meas = calloc(mlen, sizeof *f->meas);
    /* a typical valid measurement */
    for (size_t i = 0; i < mlen; i++)
        f->meas[i] = kind == 0 ? 1 : kind == 1 ? 40000 : kind == 2 ? (i * 2654435761u) % 65536
                                                                   : (i % 3 == 0);
    if (kind == 4)
        f->meas[0] = 4242; /* histogram bucket */
    f->ps = malloc(pa_prio3_public_share_size(v) + 1);
    f->result = calloc(pa_prio3_output_len(v), sizeof *f->result);
    for (int j = 0; j < 2; j++) {
        f->is[j] = malloc(pa_prio3_input_share_size(v, j));
        f->st[j] = malloc(pa_prio3_verify_state_size(v));
        f->vs[j] = malloc(pa_prio3_verifier_share_size(v));
        f->out[j] = malloc(pa_prio3_out_share_size(v));
        f->agg[j] = malloc(pa_prio3_agg_share_size(v));
        f->vs_len[j] = pa_prio3_verifier_share_size(v);
        f->agg_len[j] = pa_prio3_agg_share_size(v);
        pa_prio3_agg_init(v, f->agg[j]);
    }
    do_shard(f);
    do_verify_leader(f);
    do_verify_helper(f);
    do_to_message(f);
    for (size_t j = 0; j < 2; j++) {
        f->failed |= pa_prio3_verify_next(v, f->st[j], pa_prio3_verify_state_size(v), f->msg,
                                          pa_prio3_verifier_message_size(v), f->out[j]) != 0;
        /* unshard is timed on the aggregate shares of this one report */
        f->failed |= pa_prio3_agg_update(v, f->agg[j], f->out[j], pa_prio3_out_share_size(v)) != 0;
    }
    f->acc = malloc(pa_prio3_agg_share_size(v));
    pa_prio3_agg_init(v, f->acc);
    return f->failed;
}

static void teardown(fixture *f)
{
    free(f->rand);
    free(f->meas);
    free(f->ps);
    free(f->result);
    free(f->acc);
    for (int j = 0; j < 2; j++) {
        free(f->is[j]);
        free(f->st[j]);
        free(f->vs[j]);
        free(f->out[j]);
        free(f->agg[j]);
    }
    pa_prio3_free(f->v);
}

typedef struct {
    const char *name;
    const char *params;
    int kind; /* 0 count, 1 sum, 2 sumvec, 3 sumvec of bits, 4 histogram */
    const char *t_shard, *t_verify;
} config;

static void run_config(pa_bench *b, const config *c, pa_prio3 *v)
{
    fixture f;
    char name[96];
    double secs = c->kind >= 3 ? 1.0 : 0.5;

    if (v == NULL || setup(&f, v, c->kind) != 0) {
        pa_bench_fail(b, "prio3", "%s: set-up failed", c->name);
        if (v)
            teardown(&f);
        return;
    }
    snprintf(name, sizeof name, "%s shard", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_shard, &f, secs) / 1e3, "us",
                 c->t_shard);
    snprintf(name, sizeof name, "%s verify_init leader", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_verify_leader, &f, secs) / 1e3,
                 "us", c->t_verify);
    snprintf(name, sizeof name, "%s verify_init helper", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_verify_helper, &f, secs) / 1e3,
                 "us", c->t_verify);
    snprintf(name, sizeof name, "%s verifier_shares_to_message", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_to_message, &f, secs) / 1e3,
                 "us", NULL);
    snprintf(name, sizeof name, "%s aggregate (one out share)", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_aggregate, &f, secs) / 1e3,
                 "us", NULL);
    snprintf(name, sizeof name, "%s unshard", c->name);
    pa_bench_add(b, "prio3", name, c->params, pa_bench_time_ns(b, do_unshard, &f, secs) / 1e3, "us",
                 NULL);
    size_t bytes = pa_prio3_public_share_size(v);
    for (size_t j = 0; j < 2; j++)
        bytes += pa_prio3_input_share_size(v, j);
    snprintf(name, sizeof name, "%s report size", c->name);
    pa_bench_add(b, "prio3", name, c->params, (double)bytes, "bytes", NULL);
    if (f.failed) /* the figures above timed failing calls: the run fails */
        pa_bench_fail(b, "prio3", "%s: an operation failed", c->name);
    teardown(&f);
}

void pa_bench_prio3(pa_bench *b)
{
    static const config configs[] = {
        {"Prio3Count", "2 aggregators", 0, "<= 2.0 us", "<= 1.0 us"},
        {"Prio3Sum", "max_measurement=65535, 2 aggregators", 1, NULL, NULL},
        {"Prio3SumVec", "length=270 max=65535 chunk=66, 2 agg", 2, "<= 1000 us", "<= 450 us"},
        {"Prio3SumVec", "length=100000 max=1 chunk=316, 2 agg", 3, NULL, NULL},
        {"Prio3Histogram", "length=100000 chunk=316, 2 aggregators", 4, "<= 20000 us",
         "<= 8000 us"},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        pa_prio3 *v = NULL;
        int rc = -1;
        switch (configs[i].kind) {
        case 0: rc = pa_prio3_count_new(&v, 2); break;
        case 1: rc = pa_prio3_sum_new(&v, 2, 65535); break;
        case 2: rc = pa_prio3_sumvec_new(&v, 2, 270, 65535, 66); break;
        case 3: rc = pa_prio3_sumvec_new(&v, 2, 100000, 1, 316); break;
        case 4: rc = pa_prio3_histogram_new(&v, 2, 100000, 316); break;
        }
        run_config(b, &configs[i], rc == 0 ? v : NULL);
    }
}
