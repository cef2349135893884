/*
 * Prio3 end to end (draft-irtf-cfrg-vdaf-20 §7.2) for every VDAF with 2 and 3
 * aggregators: random measurements go through shard -> verify_init ->
 * verifier_shares_to_message -> verify_next -> agg_update -> unshard and the
 * result equals the plain sum.  Tampering with any input share, the public share or
 * any verifier share makes verification fail; invalid measurements make shard
 * return PA_EINVAL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/prio3.h"

static const uint8_t CTX[] = "prio3 roundtrip test";
static uint8_t g_vk[32];
static uint64_t g_rng = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void)
{
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

enum { K_COUNT, K_SUM, K_SUMVEC, K_HIST, K_MULTI, K_MP64, K_MP128, K_SUM1, K_SUMVEC1, K_N };

static pa_prio3 *make(int kind, size_t shares)
{
    pa_prio3 *v = NULL;
    int rc = -1;
    switch (kind) {
    case K_COUNT: rc = pa_prio3_count_new(&v, shares); break;
    case K_SUM: rc = pa_prio3_sum_new(&v, shares, 1337); break;
    case K_SUMVEC: rc = pa_prio3_sumvec_new(&v, shares, 10, 255, 9); break;
    case K_HIST: rc = pa_prio3_histogram_new(&v, shares, 11, 3); break;
    case K_MULTI: rc = pa_prio3_multihot_new(&v, shares, 10, 4, 3); break;
    case K_MP64: rc = pa_prio3_sumvec_multiproof_new(&v, shares, PA_PRIO3_FIELD64, 3, 6, 100, 4); break;
    case K_MP128: rc = pa_prio3_sumvec_multiproof_new(&v, shares, PA_PRIO3_FIELD128, 2, 4, 31, 3); break;
    case K_SUM1: rc = pa_prio3_sum_new(&v, shares, 1); break;
    case K_SUMVEC1: rc = pa_prio3_sumvec_new(&v, shares, 7, 1, 3); break;
    }
    assert_int_equal(rc, 0);
    return v;
}

/* A random valid measurement; adds it into expect[]. */
static void random_measurement(int kind, const pa_prio3 *v, uint64_t *m, uint64_t *expect)
{
    size_t n = pa_prio3_measurement_len(v);
    switch (kind) {
    case K_COUNT: m[0] = next_u64() & 1; expect[0] += m[0]; break;
    case K_SUM: m[0] = next_u64() % 1338; expect[0] += m[0]; break;
    case K_SUM1: m[0] = next_u64() & 1; expect[0] += m[0]; break;
    case K_HIST: m[0] = next_u64() % 11; expect[m[0]] += 1; break;
    case K_MULTI: {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            m[i] = (w < 4) ? (next_u64() & 1) : 0;
            w += m[i];
            expect[i] += m[i];
        }
        break;
    }
    default: {
        uint64_t max = kind == K_SUMVEC ? 255 : kind == K_MP64 ? 100 : kind == K_SUMVEC1 ? 1 : 31;
        for (size_t i = 0; i < n; i++) {
            m[i] = next_u64() % (max + 1);
            expect[i] += m[i];
        }
    }
    }
}

typedef struct {
    const pa_prio3 *v;
    size_t S;
    uint8_t nonce[16];
    uint8_t *ps;
    uint8_t *is[3];
    uint8_t *state[3];
    uint8_t *vs[3];
    uint8_t msg[32];
    uint8_t *out[3];
} flow;

static void flow_alloc(flow *f, const pa_prio3 *v)
{
    memset(f, 0, sizeof *f);
    f->v = v;
    f->S = pa_prio3_num_shares(v);
    f->ps = malloc(pa_prio3_public_share_size(v) + 1);
    for (size_t j = 0; j < f->S; j++) {
        f->is[j] = malloc(pa_prio3_input_share_size(v, j));
        f->state[j] = malloc(pa_prio3_verify_state_size(v));
        f->vs[j] = malloc(pa_prio3_verifier_share_size(v));
        f->out[j] = malloc(pa_prio3_out_share_size(v));
    }
}

static void flow_free(flow *f)
{
    free(f->ps);
    for (size_t j = 0; j < f->S; j++) {
        free(f->is[j]);
        free(f->state[j]);
        free(f->vs[j]);
        free(f->out[j]);
    }
}

/* shard with fresh randomness */
static int flow_shard(flow *f, const uint64_t *m)
{
    randombytes_buf(f->nonce, sizeof f->nonce);
    return pa_prio3_shard_random(f->v, CTX, sizeof CTX - 1, m, pa_prio3_measurement_len(f->v),
                                 f->nonce, f->ps, f->is);
}

static int flow_verify_init(flow *f)
{
    for (size_t j = 0; j < f->S; j++) {
        int rc = pa_prio3_verify_init(f->v, g_vk, CTX, sizeof CTX - 1, j, f->nonce, f->ps,
                                      pa_prio3_public_share_size(f->v), f->is[j],
                                      pa_prio3_input_share_size(f->v, j), f->state[j], f->vs[j]);
        if (rc)
            return rc;
    }
    return 0;
}

static int flow_finish(flow *f)
{
    size_t lens[3];
    for (size_t j = 0; j < f->S; j++)
        lens[j] = pa_prio3_verifier_share_size(f->v);
    int rc = pa_prio3_verifier_shares_to_message(f->v, CTX, sizeof CTX - 1,
                                                 (const uint8_t *const *)f->vs, lens, f->msg);
    if (rc)
        return rc;
    for (size_t j = 0; j < f->S; j++) {
        rc = pa_prio3_verify_next(f->v, f->state[j], pa_prio3_verify_state_size(f->v), f->msg,
                                  pa_prio3_verifier_message_size(f->v), f->out[j]);
        if (rc)
            return rc;
    }
    return 0;
}

static void roundtrip(int kind, size_t shares)
{
    pa_prio3 *v = make(kind, shares);
    size_t olen = pa_prio3_output_len(v), asz = pa_prio3_agg_share_size(v);
    uint64_t *expect = calloc(olen, sizeof *expect), *got = calloc(olen, sizeof *got);
    uint64_t m[16];
    uint8_t *agg[3];
    size_t lens[3];
    flow f;
    const size_t reports = 6;

    for (size_t j = 0; j < shares; j++) {
        agg[j] = malloc(asz);
        lens[j] = asz;
        pa_prio3_agg_init(v, agg[j]);
    }
    flow_alloc(&f, v);
    for (size_t r = 0; r < reports; r++) {
        random_measurement(kind, v, m, expect);
        assert_int_equal(flow_shard(&f, m), 0);
        assert_int_equal(flow_verify_init(&f), 0);
        assert_int_equal(flow_finish(&f), 0);
        for (size_t j = 0; j < shares; j++)
            assert_int_equal(
                pa_prio3_agg_update(v, agg[j], f.out[j], pa_prio3_out_share_size(v)), 0);
    }
    assert_int_equal(pa_prio3_unshard(v, (const uint8_t *const *)agg, lens, shares, reports, got),
                     0);
    assert_memory_equal(got, expect, olen * sizeof *got);
    flow_free(&f);
    for (size_t j = 0; j < shares; j++)
        free(agg[j]);
    free(expect);
    free(got);
    pa_prio3_free(v);
}

static void test_roundtrip(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        roundtrip(kind, 2);
        roundtrip(kind, 3);
    }
}

/* Flip one bit of buf[pos] and check that verification fails; restore. */
static void expect_reject(flow *f, uint8_t *buf, size_t pos, int after_init)
{
    buf[pos] ^= 0x01;
    int rc = 0;
    if (!after_init)
        rc = flow_verify_init(f);
    if (rc == 0)
        rc = flow_finish(f);
    assert_int_not_equal(rc, 0);
    buf[pos] ^= 0x01;
}

static void test_tamper(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        for (size_t shares = 2; shares <= 3; shares++) {
            pa_prio3 *v = make(kind, shares);
            uint64_t m[16], expect[16];
            flow f;
            memset(expect, 0, sizeof expect);
            random_measurement(kind, v, m, expect);
            flow_alloc(&f, v);
            assert_int_equal(flow_shard(&f, m), 0);
            assert_int_equal(flow_verify_init(&f), 0);
            assert_int_equal(flow_finish(&f), 0);
            /* every aggregator's input share: first, middle and last byte */
            for (size_t j = 0; j < shares; j++) {
                size_t n = pa_prio3_input_share_size(v, j);
                size_t pos[3] = {0, n / 2, n - 1};
                for (int k = 0; k < 3; k++)
                    expect_reject(&f, f.is[j], pos[k], 0);
            }
            /* the public share (joint randomness parts), if any */
            size_t psz = pa_prio3_public_share_size(v);
            for (size_t pos = 0; pos < psz; pos += 32)
                expect_reject(&f, f.ps, pos, 0);
            /* every verifier share, after a clean verify_init */
            assert_int_equal(flow_verify_init(&f), 0);
            for (size_t j = 0; j < shares; j++) {
                size_t n = pa_prio3_verifier_share_size(v);
                expect_reject(&f, f.vs[j], 0, 1);
                expect_reject(&f, f.vs[j], n - 1, 1);
            }
            /* a nonce other than the client's: the joint randomness parts bind it */
            if (psz > 0) {
                f.nonce[0] ^= 1;
                assert_int_not_equal(flow_verify_init(&f) == 0 ? flow_finish(&f) : -1, 0);
                f.nonce[0] ^= 1;
            }
            assert_int_equal(flow_verify_init(&f), 0);
            assert_int_equal(flow_finish(&f), 0);
            flow_free(&f);
            pa_prio3_free(v);
        }
    }
}

static void test_invalid_measurements(void **state)
{
    (void)state;
    uint8_t nonce[16] = {0};
    for (int kind = 0; kind < K_N; kind++) {
        pa_prio3 *v = make(kind, 2);
        flow f;
        uint64_t m[16] = {0};
        flow_alloc(&f, v);
        switch (kind) {
        case K_COUNT: m[0] = 2; break;
        case K_SUM: m[0] = 1338; break;
        case K_SUMVEC: m[3] = 256; break;
        case K_HIST: m[0] = 11; break;
        case K_MULTI: m[0] = m[1] = m[2] = m[3] = m[4] = 1; break; /* weight 5 > 4 */
        case K_MP64: m[5] = 101; break;
        case K_MP128: m[0] = 32; break;
        case K_SUM1: m[0] = 2; break;
        case K_SUMVEC1: m[6] = 2; break;
        }
        assert_int_equal(pa_prio3_shard_random(v, CTX, sizeof CTX - 1, m,
                                               pa_prio3_measurement_len(v), nonce, f.ps, f.is),
                         PA_EINVAL);
        /* wrong number of values */
        assert_int_equal(pa_prio3_shard_random(v, CTX, sizeof CTX - 1, m,
                                               pa_prio3_measurement_len(v) + 1, nonce, f.ps, f.is),
                         PA_EINVAL);
        if (kind == K_MULTI) {
            memset(m, 0, sizeof m);
            m[2] = 2;
            assert_int_equal(pa_prio3_shard_random(v, CTX, sizeof CTX - 1, m, 10, nonce, f.ps,
                                                   f.is),
                             PA_EINVAL);
        }
        flow_free(&f);
        pa_prio3_free(v);
    }
    pa_prio3 *v = NULL;
    assert_int_equal(pa_prio3_count_new(&v, 1), PA_EINVAL);
    assert_int_equal(pa_prio3_count_new(&v, 256), PA_EINVAL);
    assert_int_equal(pa_prio3_sumvec_multiproof_new(&v, 2, 3, 2, 4, 1, 1), PA_EINVAL);
    assert_int_equal(pa_prio3_sumvec_multiproof_new(&v, 2, PA_PRIO3_FIELD64, 0, 4, 1, 1),
                     PA_EINVAL);
}

/* Many aggregators: 255 shares works end to end for Count. */
static void test_many_shares(void **state)
{
    (void)state;
    pa_prio3 *v = NULL;
    assert_int_equal(pa_prio3_count_new(&v, 255), 0);
    size_t S = 255;
    uint8_t *ps = malloc(1), **is = calloc(S, sizeof *is), **st = calloc(S, sizeof *st);
    uint8_t **vs = calloc(S, sizeof *vs), **out = calloc(S, sizeof *out);
    size_t *lens = calloc(S, sizeof *lens);
    uint8_t nonce[16] = {1}, msg[1];
    uint64_t m = 1, res = 0;
    for (size_t j = 0; j < S; j++) {
        is[j] = malloc(pa_prio3_input_share_size(v, j));
        st[j] = malloc(pa_prio3_verify_state_size(v));
        vs[j] = malloc(pa_prio3_verifier_share_size(v));
        out[j] = malloc(pa_prio3_out_share_size(v));
        lens[j] = pa_prio3_verifier_share_size(v);
    }
    assert_int_equal(pa_prio3_shard_random(v, NULL, 0, &m, 1, nonce, ps, is), 0);
    for (size_t j = 0; j < S; j++)
        assert_int_equal(pa_prio3_verify_init(v, g_vk, NULL, 0, j, nonce, ps, 0, is[j],
                                              pa_prio3_input_share_size(v, j), st[j], vs[j]),
                         0);
    assert_int_equal(
        pa_prio3_verifier_shares_to_message(v, NULL, 0, (const uint8_t *const *)vs, lens, msg), 0);
    for (size_t j = 0; j < S; j++) {
        assert_int_equal(pa_prio3_verify_next(v, st[j], pa_prio3_verify_state_size(v), msg, 0,
                                              out[j]),
                         0);
        lens[j] = pa_prio3_out_share_size(v);
    }
    assert_int_equal(pa_prio3_unshard(v, (const uint8_t *const *)out, lens, S, 1, &res), 0);
    assert_int_equal(res, 1);
    for (size_t j = 0; j < S; j++) {
        free(is[j]);
        free(st[j]);
        free(vs[j]);
        free(out[j]);
    }
    free(ps);
    free(is);
    free(st);
    free(vs);
    free(out);
    free(lens);
    pa_prio3_free(v);
}

int main(void)
{
    randombytes_buf_deterministic(g_vk, sizeof g_vk,
                                  (const unsigned char *)"prio3_roundtrip_verify_key_seed!");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_invalid_measurements),
        cmocka_unit_test(test_many_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
