/*
 * Strict decoding of every Prio3 message (draft-irtf-cfrg-vdaf-20 §7.2.6): for each
 * VDAF, the public share, leader and helper input shares, verifier share, verifier
 * message, output share and aggregate share are rejected with PA_EDECODE when
 * truncated, when followed by a trailing byte, and (where they hold field elements)
 * when an element is non-canonical (all 0xFF bytes) — both by the stand-alone
 * pa_prio3_check_* decoders and by the operations that consume the message.
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

static const uint8_t CTX[] = "decode test";
static const uint8_t VK[32] = {7};

enum { K_COUNT, K_SUM, K_SUMVEC, K_HIST, K_MULTI, K_MP64, K_MP128, K_N };

static pa_prio3 *make(int kind)
{
    pa_prio3 *v = NULL;
    int rc = -1;
    switch (kind) {
    case K_COUNT: rc = pa_prio3_count_new(&v, 2); break;
    case K_SUM: rc = pa_prio3_sum_new(&v, 2, 255); break;
    case K_SUMVEC: rc = pa_prio3_sumvec_new(&v, 2, 4, 15, 3); break;
    case K_HIST: rc = pa_prio3_histogram_new(&v, 2, 5, 2); break;
    case K_MULTI: rc = pa_prio3_multihot_new(&v, 2, 5, 2, 2); break;
    case K_MP64: rc = pa_prio3_sumvec_multiproof_new(&v, 2, PA_PRIO3_FIELD64, 2, 3, 7, 2); break;
    case K_MP128: rc = pa_prio3_sumvec_multiproof_new(&v, 2, PA_PRIO3_FIELD128, 2, 3, 7, 2); break;
    }
    assert_int_equal(rc, 0);
    return v;
}

/* Element size of the VDAF's field. */
static size_t elem_size(int kind)
{
    return (kind == K_COUNT || kind == K_SUM || kind == K_MP64) ? 8 : 16;
}

/* A copy of buf (n bytes) with room for one more byte. */
static uint8_t *dup1(const uint8_t *buf, size_t n)
{
    uint8_t *c = malloc(n + 1);
    memcpy(c, buf, n);
    c[n] = 0;
    return c;
}

typedef struct {
    pa_prio3 *v;
    uint8_t nonce[16];
    uint8_t *ps, *is[2], *st[2], *vs[2], msg[32], *out[2], *agg[2];
} msgs;

static void make_msgs(msgs *m, int kind)
{
    uint64_t meas[8] = {0};
    size_t lens[2];
    memset(m, 0, sizeof *m);
    m->v = make(kind);
    m->ps = malloc(pa_prio3_public_share_size(m->v) + 1);
    for (int j = 0; j < 2; j++) {
        m->is[j] = malloc(pa_prio3_input_share_size(m->v, j) + 1);
        m->st[j] = malloc(pa_prio3_verify_state_size(m->v));
        m->vs[j] = malloc(pa_prio3_verifier_share_size(m->v) + 1);
        m->out[j] = malloc(pa_prio3_out_share_size(m->v) + 1);
        m->agg[j] = malloc(pa_prio3_agg_share_size(m->v) + 1);
        lens[j] = pa_prio3_verifier_share_size(m->v);
    }
    meas[0] = kind == K_HIST ? 0 : 1; /* bucket 0 for the histogram */
    assert_int_equal(pa_prio3_shard_random(m->v, CTX, sizeof CTX - 1, meas,
                                           pa_prio3_measurement_len(m->v), m->nonce, m->ps, m->is),
                     0);
    for (size_t j = 0; j < 2; j++)
        assert_int_equal(pa_prio3_verify_init(m->v, VK, CTX, sizeof CTX - 1, j, m->nonce, m->ps,
                                              pa_prio3_public_share_size(m->v), m->is[j],
                                              pa_prio3_input_share_size(m->v, j), m->st[j],
                                              m->vs[j]),
                         0);
    assert_int_equal(pa_prio3_verifier_shares_to_message(m->v, CTX, sizeof CTX - 1,
                                                         (const uint8_t *const *)m->vs, lens,
                                                         m->msg),
                     0);
    for (int j = 0; j < 2; j++) {
        assert_int_equal(pa_prio3_verify_next(m->v, m->st[j], pa_prio3_verify_state_size(m->v),
                                              m->msg, pa_prio3_verifier_message_size(m->v),
                                              m->out[j]),
                         0);
        pa_prio3_agg_init(m->v, m->agg[j]);
        assert_int_equal(pa_prio3_agg_update(m->v, m->agg[j], m->out[j],
                                             pa_prio3_out_share_size(m->v)),
                         0);
    }
}

static void free_msgs(msgs *m)
{
    free(m->ps);
    for (int j = 0; j < 2; j++) {
        free(m->is[j]);
        free(m->st[j]);
        free(m->vs[j]);
        free(m->out[j]);
        free(m->agg[j]);
    }
    pa_prio3_free(m->v);
}

static int verify_init_with(msgs *m, size_t agg, const uint8_t *ps, size_t ps_len,
                            const uint8_t *is, size_t is_len)
{
    uint8_t *st = malloc(pa_prio3_verify_state_size(m->v));
    uint8_t *vs = malloc(pa_prio3_verifier_share_size(m->v));
    int rc = pa_prio3_verify_init(m->v, VK, CTX, sizeof CTX - 1, agg, m->nonce, ps, ps_len, is,
                                  is_len, st, vs);
    free(st);
    free(vs);
    return rc;
}

static void test_public_share(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        msgs m;
        make_msgs(&m, kind);
        size_t n = pa_prio3_public_share_size(m.v);
        uint8_t *c = dup1(m.ps, n);
        assert_int_equal(pa_prio3_check_public_share(m.v, c, n), 0);
        assert_int_equal(pa_prio3_check_public_share(m.v, c, n + 1), PA_EDECODE);
        assert_int_equal(verify_init_with(&m, 1, c, n + 1, m.is[1],
                                          pa_prio3_input_share_size(m.v, 1)),
                         PA_EDECODE);
        if (n > 0) {
            assert_int_equal(pa_prio3_check_public_share(m.v, c, n - 1), PA_EDECODE);
            assert_int_equal(verify_init_with(&m, 0, c, n - 1, m.is[0],
                                              pa_prio3_input_share_size(m.v, 0)),
                             PA_EDECODE);
        }
        free(c);
        free_msgs(&m);
    }
}

static void test_input_shares(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        msgs m;
        make_msgs(&m, kind);
        size_t psz = pa_prio3_public_share_size(m.v);
        for (size_t j = 0; j < 2; j++) {
            size_t n = pa_prio3_input_share_size(m.v, j);
            uint8_t *c = dup1(m.is[j], n);
            assert_int_equal(pa_prio3_check_input_share(m.v, j, c, n), 0);
            assert_int_equal(pa_prio3_check_input_share(m.v, j, c, n - 1), PA_EDECODE);
            assert_int_equal(pa_prio3_check_input_share(m.v, j, c, n + 1), PA_EDECODE);
            assert_int_equal(verify_init_with(&m, j, m.ps, psz, c, n - 1), PA_EDECODE);
            assert_int_equal(verify_init_with(&m, j, m.ps, psz, c, n + 1), PA_EDECODE);
            if (j == 0) {
                /* non-canonical measurement element, then proof element */
                size_t es = elem_size(kind);
                memset(c, 0xFF, es);
                assert_int_equal(pa_prio3_check_input_share(m.v, j, c, n), PA_EDECODE);
                assert_int_equal(verify_init_with(&m, j, m.ps, psz, c, n), PA_EDECODE);
                memcpy(c, m.is[j], n);
                size_t blind = psz ? 32 : 0;
                memset(c + n - blind - es, 0xFF, es);
                assert_int_equal(pa_prio3_check_input_share(m.v, j, c, n), PA_EDECODE);
                assert_int_equal(verify_init_with(&m, j, m.ps, psz, c, n), PA_EDECODE);
            }
            free(c);
        }
        free_msgs(&m);
    }
}

static void test_verifier_share_and_message(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        msgs m;
        make_msgs(&m, kind);
        size_t n = pa_prio3_verifier_share_size(m.v), es = elem_size(kind);
        uint8_t *c = dup1(m.vs[0], n);
        const uint8_t *sh[2] = {c, m.vs[1]};
        size_t lens[2] = {n, n};
        uint8_t msg[32];
        assert_int_equal(pa_prio3_check_verifier_share(m.v, c, n), 0);
        assert_int_equal(pa_prio3_check_verifier_share(m.v, c, n - 1), PA_EDECODE);
        assert_int_equal(pa_prio3_check_verifier_share(m.v, c, n + 1), PA_EDECODE);
        lens[0] = n - 1;
        assert_int_equal(pa_prio3_verifier_shares_to_message(m.v, CTX, sizeof CTX - 1, sh, lens, msg),
                         PA_EDECODE);
        lens[0] = n + 1;
        assert_int_equal(pa_prio3_verifier_shares_to_message(m.v, CTX, sizeof CTX - 1, sh, lens, msg),
                         PA_EDECODE);
        lens[0] = n;
        memset(c + es, 0xFF, es);
        assert_int_equal(pa_prio3_check_verifier_share(m.v, c, n), PA_EDECODE);
        assert_int_equal(pa_prio3_verifier_shares_to_message(m.v, CTX, sizeof CTX - 1, sh, lens, msg),
                         PA_EDECODE);
        free(c);

        /* verifier message: exactly 32 bytes with joint randomness, else empty */
        size_t ml = pa_prio3_verifier_message_size(m.v);
        uint8_t mm[33] = {0};
        memcpy(mm, m.msg, ml);
        uint8_t *out = malloc(pa_prio3_out_share_size(m.v));
        assert_int_equal(pa_prio3_check_verifier_message(m.v, mm, ml), 0);
        assert_int_equal(pa_prio3_check_verifier_message(m.v, mm, ml + 1), PA_EDECODE);
        assert_int_equal(pa_prio3_verify_next(m.v, m.st[0], pa_prio3_verify_state_size(m.v), mm,
                                              ml + 1, out),
                         PA_EDECODE);
        if (ml) {
            assert_int_equal(pa_prio3_check_verifier_message(m.v, mm, ml - 1), PA_EDECODE);
            assert_int_equal(pa_prio3_verify_next(m.v, m.st[0], pa_prio3_verify_state_size(m.v),
                                                  mm, ml - 1, out),
                             PA_EDECODE);
            mm[0] ^= 1;
            assert_int_equal(pa_prio3_verify_next(m.v, m.st[0], pa_prio3_verify_state_size(m.v),
                                                  mm, ml, out),
                             PA_EVERIFY);
        }
        free(out);
        free_msgs(&m);
    }
}

static void test_out_and_agg_shares(void **state)
{
    (void)state;
    for (int kind = 0; kind < K_N; kind++) {
        msgs m;
        make_msgs(&m, kind);
        size_t n = pa_prio3_out_share_size(m.v), es = elem_size(kind);
        uint8_t *c = dup1(m.out[0], n);
        uint8_t *acc = malloc(pa_prio3_agg_share_size(m.v));
        uint64_t res[16];
        pa_prio3_agg_init(m.v, acc);

        assert_int_equal(pa_prio3_check_out_share(m.v, c, n), 0);
        assert_int_equal(pa_prio3_check_out_share(m.v, c, n - 1), PA_EDECODE);
        assert_int_equal(pa_prio3_check_out_share(m.v, c, n + 1), PA_EDECODE);
        assert_int_equal(pa_prio3_agg_update(m.v, acc, c, n - 1), PA_EDECODE);
        assert_int_equal(pa_prio3_agg_update(m.v, acc, c, n + 1), PA_EDECODE);
        memset(c + n - es, 0xFF, es);
        assert_int_equal(pa_prio3_check_out_share(m.v, c, n), PA_EDECODE);
        assert_int_equal(pa_prio3_agg_update(m.v, acc, c, n), PA_EDECODE);

        size_t a = pa_prio3_agg_share_size(m.v);
        uint8_t *d = dup1(m.agg[1], a);
        const uint8_t *sh[2] = {m.agg[0], d};
        size_t lens[2] = {a, a};
        assert_int_equal(pa_prio3_unshard(m.v, sh, lens, 2, 1, res), 0);
        assert_int_equal(res[0], 1); /* measurement had a 1 in the first position */
        assert_int_equal(pa_prio3_check_agg_share(m.v, d, a), 0);
        assert_int_equal(pa_prio3_check_agg_share(m.v, d, a - 1), PA_EDECODE);
        assert_int_equal(pa_prio3_check_agg_share(m.v, d, a + 1), PA_EDECODE);
        lens[1] = a - 1;
        assert_int_equal(pa_prio3_unshard(m.v, sh, lens, 2, 1, res), PA_EDECODE);
        lens[1] = a + 1;
        assert_int_equal(pa_prio3_merge(m.v, sh, lens, 2, acc), PA_EDECODE);
        lens[1] = a;
        memset(d, 0xFF, es);
        assert_int_equal(pa_prio3_check_agg_share(m.v, d, a), PA_EDECODE);
        assert_int_equal(pa_prio3_unshard(m.v, sh, lens, 2, 1, res), PA_EDECODE);
        free(c);
        free(d);
        free(acc);
        free_msgs(&m);
    }
}

/* Random bytes of random lengths into every consumer: errors, never a crash (run under ASan). */
static void test_garbage(void **state)
{
    (void)state;
    uint8_t buf[4096], st[4096], vs[4096], out[4096];
    randombytes_buf_deterministic(buf, sizeof buf, (const unsigned char *)"prio3_decode_test_garbage_seed!!");
    for (int kind = 0; kind < K_N; kind++) {
        msgs m;
        make_msgs(&m, kind);
        size_t psz = pa_prio3_public_share_size(m.v);
        for (size_t trial = 0; trial < 64; trial++) {
            size_t len = (trial * 97) % 700;
            const uint8_t *g = buf + (trial * 31) % 2048;
            for (size_t j = 0; j < 2; j++) {
                int rc = pa_prio3_verify_init(m.v, VK, CTX, sizeof CTX - 1, j, m.nonce, m.ps, psz,
                                              g, len, st, vs);
                if (len != pa_prio3_input_share_size(m.v, j))
                    assert_int_equal(rc, PA_EDECODE);
            }
            const uint8_t *sh[2] = {g, g + 1};
            size_t lens[2] = {len, len};
            int rc = pa_prio3_verifier_shares_to_message(m.v, CTX, sizeof CTX - 1, sh, lens, out);
            assert_int_not_equal(rc, 0);
            rc = pa_prio3_verify_next(m.v, g, len, g, len % 40, out);
            (void)rc;
            uint8_t *acc = malloc(pa_prio3_agg_share_size(m.v));
            pa_prio3_agg_init(m.v, acc);
            rc = pa_prio3_agg_update(m.v, acc, g, len);
            if (len != pa_prio3_out_share_size(m.v))
                assert_int_equal(rc, PA_EDECODE);
            free(acc);
        }
        free_msgs(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_public_share),
        cmocka_unit_test(test_input_shares),
        cmocka_unit_test(test_verifier_share_and_message),
        cmocka_unit_test(test_out_and_agg_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
