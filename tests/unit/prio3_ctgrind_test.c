/*
 * Constant-time check of the Prio3 paths on the compiled library (ctgrind, as in
 * Monocypher's tests).  The binary is linked to the library as the build compiled
 * it (scripts/build.sh plain: Release, -O2, with every field operation inlined
 * into the FLP and Prio3 code), re-runs itself under valgrind memcheck with
 * --ctgrind, and there drives one report per configuration through the whole
 * flow with every secret marked undefined: a conditional jump or a memory index
 * that depends on a secret is a memcheck error, and any error fails the test.
 *
 * Secrets: the measurement and the sharding randomness (shard); the verify key
 * and every input share (verify_init); the verifier shares (the combination and
 * decide); the verify states (verify_next); the output and aggregate shares
 * (agg_init, agg_update, merge, unshard).  Public: ctx, nonce, the parameters,
 * and the public share once shard returns it.  What the protocol reveals on
 * purpose (a measurement's or an encoding's validity, the count of rejected
 * XOF candidates, the decision, the joint randomness check, the aggregate
 * result) is made public inside the library by pa_ct_declassify()
 * (protocols/common/ct.h), a no-op in production that this test overrides with
 * VALGRIND_MAKE_MEM_DEFINED: those are the only places where a secret-derived
 * value may be branched on, and they are listed in docs/constant-time.md.
 *
 * Every VDAF: Count, Sum (max 1337 and 1), SumVec (the task's 270 x 65535 with
 * chunk 66, and max 1), Histogram, MultihotCountVec, SumVecWithMultiproof over
 * Field64 and Field128; two aggregators, and three for one joint-randomness
 * circuit (its leader joint-randomness part takes another path).  Each report
 * is verified twice: valid (it is accepted and the aggregate equals the
 * measurement) and with a tampered leader share (it is rejected).  The memcheck
 * error count of each step is printed, so a failure names the step and the
 * VDAF.  The valgrind run is the CTest entry prio3_ctgrind_test_ctgrind (label
 * ctgrind), skipped (exit 77) under ASan or TSan or without valgrind; the plain
 * entry runs the same flow natively.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <valgrind/memcheck.h>

#include "support/ctgrind.h"

#include "common/ct.h"
#include "privagg/prio3.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

/* The library's declassification hook (weak no-op there): what it is handed is
 * public from here on. */
void pa_ct_declassify(void *p, size_t n)
{
    PUBLIC(p, n);
}

enum {
    K_COUNT, K_SUM, K_SUM1, K_SUMVEC, K_SUMVEC1, K_HIST, K_MULTI, K_MP64, K_MP128, K_N
};

static const char *const NAMES[K_N] = {
    "Count", "Sum(1337)", "Sum(1)", "SumVec(270,65535,66)", "SumVec(7,1,3)",
    "Histogram(11,3)", "MultihotCountVec(10,4,3)", "SumVecMultiproof(F64,3)",
    "SumVecMultiproof(F128,2)",
};

static pa_prio3 *make(int kind, size_t shares)
{
    pa_prio3 *v = NULL;
    int rc = -1;
    switch (kind) {
    case K_COUNT: rc = pa_prio3_count_new(&v, shares); break;
    case K_SUM: rc = pa_prio3_sum_new(&v, shares, 1337); break;
    case K_SUM1: rc = pa_prio3_sum_new(&v, shares, 1); break;
    case K_SUMVEC: rc = pa_prio3_sumvec_new(&v, shares, 270, 65535, 66); break;
    case K_SUMVEC1: rc = pa_prio3_sumvec_new(&v, shares, 7, 1, 3); break;
    case K_HIST: rc = pa_prio3_histogram_new(&v, shares, 11, 3); break;
    case K_MULTI: rc = pa_prio3_multihot_new(&v, shares, 10, 4, 3); break;
    case K_MP64:
        rc = pa_prio3_sumvec_multiproof_new(&v, shares, PA_PRIO3_FIELD64, 3, 6, 100, 4);
        break;
    case K_MP128:
        rc = pa_prio3_sumvec_multiproof_new(&v, shares, PA_PRIO3_FIELD128, 2, 4, 31, 3);
        break;
    }
    return rc == 0 ? v : NULL;
}

/* A valid measurement with edge values (0, the maximum, the last bucket). */
static void measurement(int kind, const pa_prio3 *v, uint64_t *m)
{
    size_t n = pa_prio3_measurement_len(v);
    switch (kind) {
    case K_COUNT: m[0] = 1; break;
    case K_SUM: m[0] = 1337; break;
    case K_SUM1: m[0] = 1; break;
    case K_HIST: m[0] = 10; break;
    case K_MULTI:
        for (size_t i = 0; i < n; i++)
            m[i] = (i % 3 == 0); /* 4 of 10 */
        break;
    default: {
        uint64_t max = kind == K_SUMVEC ? 65535 : kind == K_SUMVEC1 ? 1 : kind == K_MP64 ? 100 : 31;
        for (size_t i = 0; i < n; i++)
            m[i] = (i * 7919u) % (max + 1);
        m[0] = max;
        m[n - 1] = 0;
        break;
    }
    }
}

/* The aggregate a single measurement gives. */
static void expected(int kind, const pa_prio3 *v, const uint64_t *m, uint64_t *out)
{
    size_t n = pa_prio3_output_len(v);
    if (kind == K_HIST) {
        for (size_t i = 0; i < n; i++)
            out[i] = i == m[0];
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = m[i];
    }
}

static unsigned g_nLast;

/* Errors since the previous call, printed when there are any. */
static unsigned step(const char *zVdaf, size_t nShares, const char *zStep)
{
    unsigned n = (unsigned)VALGRIND_COUNT_ERRORS, d = n - g_nLast;
    g_nLast = n;
    if (d)
        fprintf(stderr, "ctgrind: %s, %zu aggregators, %s: %u report(s)\n", zVdaf, nShares,
                zStep, d);
    return d;
}

/*
 * One report through the flow.  tamper: change the leader's proof share (a valid
 * encoding of a wrong share), which must make the report fail verification.  Returns 0 or a nonzero failure code (not a
 * memcheck count: those are read by the caller).
 */
static int run_report(int kind, size_t S, int tamper)
{
    const char *zName = NAMES[kind];
    pa_prio3 *v = make(kind, S);
    uint8_t vk[PA_PRIO3_VERIFY_KEY_SIZE], nonce[PA_PRIO3_NONCE_SIZE];
    static const uint8_t ctx[] = "privagg ctgrind";
    uint8_t *is[3] = {0}, *st[3] = {0}, *vs[3] = {0}, *out[3] = {0}, *agg[3] = {0};
    size_t vs_len[3], agg_len[3];
    uint8_t msg[PA_PRIO3_SEED_SIZE];
    int rc = 0, fail = 0;

    if (v == NULL)
        return 1;
    size_t ML = pa_prio3_measurement_len(v), OL = pa_prio3_output_len(v);
    size_t RL = pa_prio3_rand_size(v), PSL = pa_prio3_public_share_size(v);
    size_t SL = pa_prio3_verify_state_size(v), VSL = pa_prio3_verifier_share_size(v);
    size_t OSL = pa_prio3_out_share_size(v), ASL = pa_prio3_agg_share_size(v);
    uint64_t *m = calloc(ML, sizeof *m), *want = calloc(OL, sizeof *want);
    uint64_t *res = calloc(OL, sizeof *res);
    uint8_t *rand = malloc(RL), *ps = malloc(PSL + 1);
    for (size_t j = 0; j < S; j++) {
        is[j] = malloc(pa_prio3_input_share_size(v, j));
        st[j] = malloc(SL);
        vs[j] = malloc(VSL);
        out[j] = malloc(OSL);
        agg[j] = malloc(ASL);
        vs_len[j] = VSL;
        agg_len[j] = ASL;
    }
    for (size_t i = 0; i < RL; i++)
        rand[i] = (uint8_t)(i * 131 + 7);
    for (size_t i = 0; i < sizeof vk; i++)
        vk[i] = (uint8_t)(i * 29 + 3);
    for (size_t i = 0; i < sizeof nonce; i++)
        nonce[i] = (uint8_t)(i * 17 + 1);
    measurement(kind, v, m);
    expected(kind, v, m, want);
    step(zName, S, "setup");

    /* shard: the measurement and the randomness are the client's secrets */
    SECRET(m, ML * sizeof *m);
    SECRET(rand, RL);
    rc = pa_prio3_shard(v, ctx, sizeof ctx, m, ML, nonce, rand, RL, ps, is);
    PUBLIC(&rc, sizeof rc);
    fail |= rc != 0;
    step(zName, S, "shard");
    PUBLIC(ps, PSL); /* the public share is sent in clear */
    if (tamper) {
        /* a wrong leader proof share: the last element (a gadget-polynomial value)
         * flipped in its lowest bit, still canonical but for a 2^-60 chance */
        size_t es = OSL / OL, blind = PSL ? PA_PRIO3_SEED_SIZE : 0;
        size_t at = pa_prio3_input_share_size(v, 0) - blind - es;
        PUBLIC(is[0] + at, 1);
        is[0][at] ^= 1;
        SECRET(is[0] + at, 1);
    }

    /* verify_init: the verify key and every input share are secret */
    SECRET(vk, sizeof vk);
    for (size_t j = 0; j < S && !fail; j++) {
        rc = pa_prio3_verify_init(v, vk, ctx, sizeof ctx, j, nonce, ps, PSL, is[j],
                                  pa_prio3_input_share_size(v, j), st[j], vs[j]);
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 2 : 0;
    }
    step(zName, S, "verify_init");

    /* the verifier combination and decide: the shares stay secret, only the
     * decision (and the joint randomness seed it returns) is public */
    if (!fail) {
        rc = pa_prio3_verifier_shares_to_message(v, ctx, sizeof ctx,
                                                 (const uint8_t *const *)vs, vs_len, msg);
        PUBLIC(&rc, sizeof rc);
        step(zName, S, "verifier_shares_to_message");
        if (tamper) {
            fail |= rc != PA_EVERIFY ? 4 : 0;
            goto done;
        }
        fail |= rc != 0 ? 4 : 0;
    }

    /* verify_next: the verify state is secret, the message public */
    PUBLIC(msg, sizeof msg);
    for (size_t j = 0; j < S && !fail; j++) {
        rc = pa_prio3_verify_next(v, st[j], SL, msg, pa_prio3_verifier_message_size(v), out[j]);
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 8 : 0;
    }
    step(zName, S, "verify_next");

    /* aggregation: output and aggregate shares are secret */
    for (size_t j = 0; j < S && !fail; j++) {
        pa_prio3_agg_init(v, agg[j]);
        rc = pa_prio3_agg_update(v, agg[j], out[j], OSL);
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 16 : 0;
        rc = pa_prio3_agg_update(v, agg[j], out[j], OSL); /* a second report */
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 16 : 0;
    }
    step(zName, S, "agg_init/agg_update");
    if (!fail) {
        uint8_t *merged = malloc(ASL);
        rc = pa_prio3_merge(v, (const uint8_t *const *)agg, agg_len, S, merged);
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 32 : 0;
        free(merged);
        step(zName, S, "merge");
    }
    /* unshard: the aggregate result is the collector's output (public) */
    if (!fail) {
        rc = pa_prio3_unshard(v, (const uint8_t *const *)agg, agg_len, S, 2, res);
        PUBLIC(&rc, sizeof rc);
        fail |= rc != 0 ? 64 : 0;
        step(zName, S, "unshard");
        PUBLIC(res, OL * sizeof *res);
        for (size_t i = 0; i < OL && !fail; i++)
            fail |= res[i] != 2 * want[i] ? 128 : 0;
    }
done:
    for (size_t j = 0; j < S; j++) {
        free(is[j]);
        free(st[j]);
        free(vs[j]);
        free(out[j]);
        free(agg[j]);
    }
    free(m);
    free(want);
    free(res);
    free(rand);
    free(ps);
    pa_prio3_free(v);
    if (fail)
        fprintf(stderr, "ctgrind: %s, %zu aggregators%s: flow failed (code %d)\n", zName, S,
                tamper ? ", tampered" : "", fail);
    return fail;
}

static int ctgrind_body(void)
{
    int fail = 0;
    for (int k = 0; k < K_N; k++) {
        fail |= run_report(k, 2, 0);
        fail |= run_report(k, 2, 1);
    }
    fail |= run_report(K_HIST, 3, 0);
    fail |= run_report(K_SUM, 3, 0);
    unsigned n = (unsigned)VALGRIND_COUNT_ERRORS;
    fprintf(stderr, "ctgrind: Prio3 paths: %u report(s)\n", n);
    return fail ? 2 : n == 0 ? 0 : 99;
}

int main(int argc, char **argv)
{
    int rc = ctgrind_dispatch(argc, argv, ctgrind_body);
    if (rc >= 0)
        return rc; /* the valgrind re-run: CTest entry prio3_ctgrind_test_ctgrind */
    /* without valgrind the body runs natively (under ASan in that build): the
     * flow must complete; whether it is constant time is the _ctgrind entry's question */
    return ctgrind_body() == 0 ? 0 : 1;
}
