/*
 * Replays a Prio3 vector file of draft-irtf-cfrg-vdaf-20 (schema in
 * tests/vectors/vdaf/README.md) through include/privagg/prio3.h.
 *
 * Parameters come from the file (shares, ctx, verify_key, length, max_measurement,
 * chunk_length, max_weight; multiproof files may carry field and proofs, default
 * Field64 and 3).  operations[] is replayed in order: each step takes its inputs
 * from the file (so it is tested on its own), except verify_next, which needs the
 * verify state this run produced, and aggregate / unshard, which use this run's
 * output / aggregate shares when it produced them.  Outputs are compared byte for
 * byte; a step marked success: false must fail, a step marked true must succeed.
 * agg_shares and agg_result are checked after the operations if no aggregate /
 * unshard step covered them.
 */
#include <stdlib.h>
#include <string.h>

#include "conformance/vdaf_conformance.h"
#include "privagg/common.h"
#include "privagg/prio3.h"

typedef struct {
    uint8_t **state;      /* [shares] verify states from verify_init, or NULL */
    uint8_t **out_share;  /* [shares] output shares from verify_next, or NULL */
} report_run;

typedef struct {
    const pa_prio3 *v;
    json_t *root, *reports;
    size_t shares, nreports;
    uint8_t *ctx, *vk;
    size_t ctx_len;
    report_run *runs;
    uint8_t **agg;   /* [shares] aggregate shares computed by `aggregate`, or NULL */
    int did_aggregate, did_unshard;
    pa_vdaf_result *r;
} replay;

static int get_size(json_t *root, const char *key, size_t *out, pa_vdaf_result *r)
{
    json_t *j = json_object_get(root, key);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return pa_vdaf_failf(r, "field '%s' missing or not a non-negative integer", key);
    *out = (size_t)json_integer_value(j);
    return 0;
}

/* Build the parameter set named by the file. */
static int make_vdaf(const char *name, json_t *root, size_t shares, pa_prio3 **v,
                     pa_vdaf_result *r)
{
    size_t length = 0, maxm = 0, chunk = 0, maxw = 0, proofs = 3;
    int rc, field = PA_PRIO3_FIELD64;

    if (strcmp(name, "Prio3Count") == 0) {
        rc = pa_prio3_count_new(v, shares);
    } else if (strcmp(name, "Prio3Sum") == 0) {
        if (get_size(root, "max_measurement", &maxm, r))
            return PA_VDAF_FAIL;
        rc = pa_prio3_sum_new(v, shares, maxm);
    } else if (strcmp(name, "Prio3SumVec") == 0) {
        if (get_size(root, "length", &length, r) || get_size(root, "max_measurement", &maxm, r) ||
            get_size(root, "chunk_length", &chunk, r))
            return PA_VDAF_FAIL;
        rc = pa_prio3_sumvec_new(v, shares, length, maxm, chunk);
    } else if (strcmp(name, "Prio3Histogram") == 0) {
        if (get_size(root, "length", &length, r) || get_size(root, "chunk_length", &chunk, r))
            return PA_VDAF_FAIL;
        rc = pa_prio3_histogram_new(v, shares, length, chunk);
    } else if (strcmp(name, "Prio3MultihotCountVec") == 0) {
        if (get_size(root, "length", &length, r) || get_size(root, "max_weight", &maxw, r) ||
            get_size(root, "chunk_length", &chunk, r))
            return PA_VDAF_FAIL;
        rc = pa_prio3_multihot_new(v, shares, length, maxw, chunk);
    } else if (strcmp(name, "Prio3SumVecWithMultiproof") == 0) {
        if (get_size(root, "length", &length, r) || get_size(root, "max_measurement", &maxm, r) ||
            get_size(root, "chunk_length", &chunk, r))
            return PA_VDAF_FAIL;
        json_t *jf = json_object_get(root, "field");
        if (jf != NULL) {
            const char *s = json_string_value(jf);
            if (s && strcmp(s, "Field64") == 0)
                field = PA_PRIO3_FIELD64;
            else if (s && strcmp(s, "Field128") == 0)
                field = PA_PRIO3_FIELD128;
            else
                return pa_vdaf_failf(r, "field 'field': expected \"Field64\" or \"Field128\"");
        }
        if (json_object_get(root, "proofs") != NULL && get_size(root, "proofs", &proofs, r))
            return PA_VDAF_FAIL;
        rc = pa_prio3_sumvec_multiproof_new(v, shares, field, proofs, length, maxm, chunk);
    } else {
        return pa_vdaf_failf(r, "unknown VDAF '%s'", name);
    }
    if (rc)
        return pa_vdaf_failf(r, "parameters rejected: %s: %s", pa_strerror(rc),
                             pa_error_detail());
    return PA_VDAF_PASS;
}

/* The measurement of a report as the uint64_t values pa_prio3_shard takes. */
static int get_measurement(replay *p, json_t *m, uint64_t **out, size_t *n)
{
    size_t want = pa_prio3_measurement_len(p->v);
    uint64_t *vals = calloc(want ? want : 1, sizeof *vals);
    *out = NULL;
    if (vals == NULL)
        return pa_vdaf_failf(p->r, "out of memory");
    if (json_is_array(m)) {
        if (json_array_size(m) != want) {
            free(vals);
            return pa_vdaf_failf(p->r, "measurement: %zu values, expected %zu",
                                 json_array_size(m), want);
        }
        for (size_t i = 0; i < want; i++) {
            json_t *e = json_array_get(m, i);
            if (json_is_boolean(e))
                vals[i] = json_is_true(e) ? 1 : 0;
            else if (json_is_integer(e) && json_integer_value(e) >= 0)
                vals[i] = (uint64_t)json_integer_value(e);
            else {
                free(vals);
                return pa_vdaf_failf(p->r, "measurement[%zu]: not a non-negative integer", i);
            }
        }
    } else if (json_is_integer(m) && json_integer_value(m) >= 0 && want == 1) {
        vals[0] = (uint64_t)json_integer_value(m);
    } else if (json_is_boolean(m) && want == 1) {
        vals[0] = json_is_true(m) ? 1 : 0;
    } else {
        free(vals);
        return pa_vdaf_failf(p->r, "measurement: missing or of the wrong type");
    }
    *out = vals;
    *n = want;
    return 0;
}

/* Hex string at index i of array member key of obj. */
static int hex_at(replay *p, json_t *obj, const char *key, size_t i, uint8_t **out, size_t *len)
{
    char what[96];
    json_t *arr = json_object_get(obj, key);
    snprintf(what, sizeof what, "%s[%zu]", key, i);
    if (!json_is_array(arr) || i >= json_array_size(arr)) {
        pa_vdaf_failf(p->r, "field '%s' missing", what);
        return -1;
    }
    return pa_vdaf_hex_value(p->r, json_array_get(arr, i), what, out, len);
}

/* verifier_shares[round][agg] of a report. */
static int verifier_share_at(replay *p, json_t *rep, size_t round, size_t agg, uint8_t **out,
                             size_t *len)
{
    char what[96];
    json_t *arr = json_object_get(rep, "verifier_shares");
    snprintf(what, sizeof what, "verifier_shares[%zu][%zu]", round, agg);
    json_t *row = json_is_array(arr) ? json_array_get(arr, round) : NULL;
    if (!json_is_array(row) || agg >= json_array_size(row)) {
        pa_vdaf_failf(p->r, "field '%s' missing", what);
        return -1;
    }
    return pa_vdaf_hex_value(p->r, json_array_get(row, agg), what, out, len);
}

/* Outcome of a step against its expected success flag. */
static int outcome(replay *p, const char *where, int rc, int expect_ok)
{
    if (rc != 0 && expect_ok)
        return pa_vdaf_failf(p->r, "%s: failed: %s: %s", where, pa_strerror(rc),
                             pa_error_detail());
    if (rc == 0 && !expect_ok)
        return pa_vdaf_failf(p->r, "%s: expected failure, but it succeeded", where);
    return PA_VDAF_PASS;
}

static int op_shard(replay *p, size_t ri, int expect_ok)
{
    json_t *rep = json_array_get(p->reports, ri);
    char where[96];
    uint8_t *nonce = NULL, *rand = NULL, *want = NULL, *ps = NULL;
    uint8_t **is = calloc(p->shares, sizeof *is);
    uint64_t *meas = NULL;
    size_t nonce_len, rand_len, want_len, mlen = 0;
    int st = PA_VDAF_FAIL;

    snprintf(where, sizeof where, "shard, report %zu", ri);
    if (is == NULL)
        return pa_vdaf_failf(p->r, "out of memory");
    if (get_measurement(p, json_object_get(rep, "measurement"), &meas, &mlen)) {
        /* a measurement this VDAF cannot even represent is an expected shard failure */
        if (!expect_ok)
            st = PA_VDAF_PASS;
        goto out;
    }
    if (pa_vdaf_hex_member(p->r, rep, "nonce", &nonce, &nonce_len) ||
        pa_vdaf_hex_member(p->r, rep, "rand", &rand, &rand_len))
        goto out;
    if (nonce_len != PA_PRIO3_NONCE_SIZE) {
        pa_vdaf_failf(p->r, "%s: nonce of %zu bytes", where, nonce_len);
        goto out;
    }
    ps = malloc(pa_prio3_public_share_size(p->v) + 1);
    for (size_t j = 0; j < p->shares; j++)
        if ((is[j] = malloc(pa_prio3_input_share_size(p->v, j))) == NULL)
            goto oom;
    if (ps == NULL)
        goto oom;
    int rc = pa_prio3_shard(p->v, p->ctx, p->ctx_len, meas, mlen, nonce, rand, rand_len, ps, is);
    if ((st = outcome(p, where, rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto out;
    st = PA_VDAF_FAIL;
    snprintf(where, sizeof where, "shard, report %zu (public share)", ri);
    if (pa_vdaf_hex_member(p->r, rep, "public_share", &want, &want_len) ||
        pa_vdaf_compare(p->r, where, want, want_len, ps, pa_prio3_public_share_size(p->v)))
        goto out;
    for (size_t j = 0; j < p->shares; j++) {
        free(want);
        want = NULL;
        snprintf(where, sizeof where, "shard, report %zu, aggregator %zu (input share)", ri, j);
        if (hex_at(p, rep, "input_shares", j, &want, &want_len) ||
            pa_vdaf_compare(p->r, where, want, want_len, is[j],
                            pa_prio3_input_share_size(p->v, j)))
            goto out;
    }
    st = PA_VDAF_PASS;
    goto out;
oom:
    pa_vdaf_failf(p->r, "out of memory");
out:
    if (is)
        for (size_t j = 0; j < p->shares; j++)
            free(is[j]);
    free(is);
    free(ps);
    free(meas);
    free(nonce);
    free(rand);
    free(want);
    return st;
}

static int op_verify_init(replay *p, size_t ri, size_t agg, int expect_ok)
{
    json_t *rep = json_array_get(p->reports, ri);
    char where[96];
    uint8_t *nonce = NULL, *ps = NULL, *is = NULL, *want = NULL, *vs = NULL, *state = NULL;
    size_t nonce_len, ps_len, is_len, want_len;
    int st = PA_VDAF_FAIL;

    snprintf(where, sizeof where, "verify_init, report %zu, aggregator %zu", ri, agg);
    if (agg >= p->shares)
        return pa_vdaf_failf(p->r, "%s: aggregator_id out of range", where);
    if (pa_vdaf_hex_member(p->r, rep, "nonce", &nonce, &nonce_len) ||
        pa_vdaf_hex_member(p->r, rep, "public_share", &ps, &ps_len) ||
        hex_at(p, rep, "input_shares", agg, &is, &is_len))
        goto out;
    if (nonce_len != PA_PRIO3_NONCE_SIZE) {
        pa_vdaf_failf(p->r, "%s: nonce of %zu bytes", where, nonce_len);
        goto out;
    }
    state = malloc(pa_prio3_verify_state_size(p->v));
    vs = malloc(pa_prio3_verifier_share_size(p->v) + 1);
    if (state == NULL || vs == NULL) {
        pa_vdaf_failf(p->r, "out of memory");
        goto out;
    }
    int rc = pa_prio3_verify_init(p->v, p->vk, p->ctx, p->ctx_len, agg, nonce, ps, ps_len, is,
                                  is_len, state, vs);
    if ((st = outcome(p, where, rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto out;
    st = PA_VDAF_FAIL;
    if (verifier_share_at(p, rep, 0, agg, &want, &want_len) ||
        pa_vdaf_compare(p->r, where, want, want_len, vs, pa_prio3_verifier_share_size(p->v)))
        goto out;
    free(p->runs[ri].state[agg]);
    p->runs[ri].state[agg] = state;
    state = NULL;
    st = PA_VDAF_PASS;
out:
    free(nonce);
    free(ps);
    free(is);
    free(want);
    free(vs);
    free(state);
    return st;
}

static int op_to_message(replay *p, size_t ri, size_t round, int expect_ok)
{
    json_t *rep = json_array_get(p->reports, ri);
    char where[96];
    uint8_t **sh = calloc(p->shares, sizeof *sh);
    size_t *lens = calloc(p->shares, sizeof *lens);
    uint8_t *msg = malloc(pa_prio3_verifier_message_size(p->v) + 1), *want = NULL;
    size_t want_len;
    int st = PA_VDAF_FAIL;

    snprintf(where, sizeof where, "verifier_shares_to_message, report %zu", ri);
    if (sh == NULL || lens == NULL || msg == NULL) {
        pa_vdaf_failf(p->r, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < p->shares; j++)
        if (verifier_share_at(p, rep, round, j, &sh[j], &lens[j]))
            goto out;
    int rc = pa_prio3_verifier_shares_to_message(p->v, p->ctx, p->ctx_len,
                                                 (const uint8_t *const *)sh, lens, msg);
    if ((st = outcome(p, where, rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto out;
    st = PA_VDAF_FAIL;
    if (hex_at(p, rep, "verifier_messages", round, &want, &want_len) ||
        pa_vdaf_compare(p->r, where, want, want_len, msg, pa_prio3_verifier_message_size(p->v)))
        goto out;
    st = PA_VDAF_PASS;
out:
    if (sh)
        for (size_t j = 0; j < p->shares; j++)
            free(sh[j]);
    free(sh);
    free(lens);
    free(msg);
    free(want);
    return st;
}

static int op_verify_next(replay *p, size_t ri, size_t agg, size_t round, int expect_ok)
{
    json_t *rep = json_array_get(p->reports, ri);
    char where[96];
    uint8_t *msg = NULL, *want = NULL, *out = NULL;
    size_t msg_len, want_len;
    int st = PA_VDAF_FAIL;

    snprintf(where, sizeof where, "verify_next, report %zu, aggregator %zu", ri, agg);
    if (agg >= p->shares)
        return pa_vdaf_failf(p->r, "%s: aggregator_id out of range", where);
    if (round == 0)
        return pa_vdaf_failf(p->r, "%s: round 0 has no verifier message", where);
    if (p->runs[ri].state[agg] == NULL)
        return pa_vdaf_failf(p->r, "%s: no verify state (verify_init did not run)", where);
    if (hex_at(p, rep, "verifier_messages", round - 1, &msg, &msg_len))
        goto done;
    out = malloc(pa_prio3_out_share_size(p->v) + 1);
    if (out == NULL) {
        pa_vdaf_failf(p->r, "out of memory");
        goto done;
    }
    int rc = pa_prio3_verify_next(p->v, p->runs[ri].state[agg],
                                  pa_prio3_verify_state_size(p->v), msg, msg_len, out);
    if ((st = outcome(p, where, rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto done;
    st = PA_VDAF_FAIL;
    if (hex_at(p, rep, "out_shares", agg, &want, &want_len) ||
        pa_vdaf_compare(p->r, where, want, want_len, out, pa_prio3_out_share_size(p->v)))
        goto done;
    free(p->runs[ri].out_share[agg]);
    p->runs[ri].out_share[agg] = out;
    out = NULL;
    st = PA_VDAF_PASS;
done:
    free(msg);
    free(want);
    free(out);
    return st;
}

/* Aggregate share of one aggregator over every report with an output share. */
static int op_aggregate(replay *p, size_t agg, int expect_ok)
{
    char where[96];
    size_t sz = pa_prio3_agg_share_size(p->v);
    uint8_t *acc = malloc(sz + 1), *want = NULL, *file_out = NULL;
    size_t want_len, file_len;
    int rc = 0, st = PA_VDAF_FAIL;

    snprintf(where, sizeof where, "aggregate, aggregator %zu", agg);
    if (agg >= p->shares) {
        free(acc);
        return pa_vdaf_failf(p->r, "%s: aggregator_id out of range", where);
    }
    if (acc == NULL)
        return pa_vdaf_failf(p->r, "out of memory");
    pa_prio3_agg_init(p->v, acc);
    for (size_t ri = 0; ri < p->nreports && rc == 0; ri++) {
        if (p->runs[ri].out_share[agg] != NULL) {
            rc = pa_prio3_agg_update(p->v, acc, p->runs[ri].out_share[agg],
                                     pa_prio3_out_share_size(p->v));
            continue;
        }
        json_t *outs = json_object_get(json_array_get(p->reports, ri), "out_shares");
        if (!json_is_array(outs) || agg >= json_array_size(outs))
            continue; /* a rejected report contributes nothing */
        if (hex_at(p, json_array_get(p->reports, ri), "out_shares", agg, &file_out, &file_len))
            goto out;
        rc = pa_prio3_agg_update(p->v, acc, file_out, file_len);
        free(file_out);
        file_out = NULL;
    }
    if ((st = outcome(p, where, rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto out;
    st = PA_VDAF_FAIL;
    if (hex_at(p, p->root, "agg_shares", agg, &want, &want_len) ||
        pa_vdaf_compare(p->r, where, want, want_len, acc, sz))
        goto out;
    free(p->agg[agg]);
    p->agg[agg] = acc;
    acc = NULL;
    st = PA_VDAF_PASS;
out:
    free(acc);
    free(want);
    free(file_out);
    return st;
}

static int op_unshard(replay *p, int expect_ok)
{
    uint8_t **shares = calloc(p->shares, sizeof *shares);
    size_t *lens = calloc(p->shares, sizeof *lens);
    size_t olen = pa_prio3_output_len(p->v);
    uint64_t *res = calloc(olen, sizeof *res);
    int st = PA_VDAF_FAIL;
    char got[128], exp[128];

    if (shares == NULL || lens == NULL || res == NULL) {
        pa_vdaf_failf(p->r, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < p->shares; j++) {
        if (p->agg[j] != NULL) {
            lens[j] = pa_prio3_agg_share_size(p->v);
            shares[j] = malloc(lens[j]);
            if (shares[j] == NULL) {
                pa_vdaf_failf(p->r, "out of memory");
                goto out;
            }
            memcpy(shares[j], p->agg[j], lens[j]);
        } else if (hex_at(p, p->root, "agg_shares", j, &shares[j], &lens[j])) {
            goto out;
        }
    }
    int rc = pa_prio3_unshard(p->v, (const uint8_t *const *)shares, lens, p->shares,
                              p->nreports ? p->nreports : 1, res);
    if ((st = outcome(p, "unshard", rc, expect_ok)) != PA_VDAF_PASS || rc != 0)
        goto out;
    st = PA_VDAF_FAIL;
    json_t *want = json_object_get(p->root, "agg_result");
    for (size_t i = 0; i < olen; i++) {
        json_t *e = json_is_array(want) ? json_array_get(want, i) : (i == 0 ? want : NULL);
        if (!json_is_integer(e) || json_integer_value(e) < 0 ||
            (uint64_t)json_integer_value(e) != res[i]) {
            snprintf(got, sizeof got, "%llu", (unsigned long long)res[i]);
            if (json_is_integer(e))
                snprintf(exp, sizeof exp, "%lld", (long long)json_integer_value(e));
            else
                snprintf(exp, sizeof exp, "(missing)");
            pa_vdaf_failf(p->r, "unshard: agg_result[%zu]: expected %s got %s", i, exp, got);
            goto out;
        }
    }
    if (json_is_array(want) && json_array_size(want) != olen) {
        pa_vdaf_failf(p->r, "unshard: agg_result has %zu values, expected %zu",
                      json_array_size(want), olen);
        goto out;
    }
    st = PA_VDAF_PASS;
out:
    if (shares)
        for (size_t j = 0; j < p->shares; j++)
            free(shares[j]);
    free(shares);
    free(lens);
    free(res);
    return st;
}

static int run_ops(replay *p)
{
    json_t *ops = json_object_get(p->root, "operations");
    size_t i;
    json_t *op;

    if (!json_is_array(ops))
        return pa_vdaf_failf(p->r, "field 'operations' missing");
    json_array_foreach(ops, i, op) {
        const char *name = json_string_value(json_object_get(op, "operation"));
        json_t *js = json_object_get(op, "success");
        int expect_ok = js == NULL ? 1 : json_is_true(js);
        json_t *jr = json_object_get(op, "report_index"), *ja = json_object_get(op, "aggregator_id");
        json_t *jround = json_object_get(op, "round");
        size_t ri = json_is_integer(jr) ? (size_t)json_integer_value(jr) : 0;
        size_t agg = json_is_integer(ja) ? (size_t)json_integer_value(ja) : 0;
        size_t round = json_is_integer(jround) ? (size_t)json_integer_value(jround) : 0;
        int st;

        if (name == NULL)
            return pa_vdaf_failf(p->r, "operations[%zu]: no operation name", i);
        int needs_report = strcmp(name, "aggregate") != 0 && strcmp(name, "unshard") != 0;
        if (needs_report && (!json_is_integer(jr) || ri >= p->nreports))
            return pa_vdaf_failf(p->r, "operations[%zu] %s: report_index missing or out of range",
                                 i, name);
        if ((strcmp(name, "verify_init") == 0 || strcmp(name, "verify_next") == 0 ||
             strcmp(name, "aggregate") == 0) &&
            (!json_is_integer(ja) || json_integer_value(ja) < 0))
            return pa_vdaf_failf(p->r, "operations[%zu] %s: aggregator_id missing", i, name);

        if (strcmp(name, "shard") == 0)
            st = op_shard(p, ri, expect_ok);
        else if (strcmp(name, "verify_init") == 0)
            st = op_verify_init(p, ri, agg, expect_ok);
        else if (strcmp(name, "verifier_shares_to_message") == 0)
            st = op_to_message(p, ri, round, expect_ok);
        else if (strcmp(name, "verify_next") == 0)
            st = op_verify_next(p, ri, agg, round, expect_ok);
        else if (strcmp(name, "aggregate") == 0) {
            st = op_aggregate(p, agg, expect_ok);
            p->did_aggregate = 1;
        } else if (strcmp(name, "unshard") == 0) {
            st = op_unshard(p, expect_ok);
            p->did_unshard = 1;
        } else
            return pa_vdaf_failf(p->r, "operations[%zu]: unknown operation '%s'", i, name);
        if (st != PA_VDAF_PASS)
            return st;
    }
    return PA_VDAF_PASS;
}

int pa_vdaf_run_prio3(const char *vdaf, json_t *root, pa_vdaf_result *r)
{
    replay p;
    pa_prio3 *v = NULL;
    size_t vk_len, agg_param_len;
    uint8_t *agg_param = NULL;
    int st = PA_VDAF_FAIL;

    memset(&p, 0, sizeof p);
    p.root = root;
    p.r = r;
    if (get_size(root, "shares", &p.shares, r))
        return PA_VDAF_FAIL;
    if (make_vdaf(vdaf, root, p.shares, &v, r) != PA_VDAF_PASS)
        return PA_VDAF_FAIL;
    p.v = v;
    if (pa_vdaf_hex_member(r, root, "ctx", &p.ctx, &p.ctx_len) ||
        pa_vdaf_hex_member(r, root, "verify_key", &p.vk, &vk_len))
        goto out;
    if (vk_len != PA_PRIO3_VERIFY_KEY_SIZE) {
        pa_vdaf_failf(r, "verify_key: %zu bytes, expected %d", vk_len, PA_PRIO3_VERIFY_KEY_SIZE);
        goto out;
    }
    if (json_object_get(root, "agg_param") != NULL) {
        if (pa_vdaf_hex_member(r, root, "agg_param", &agg_param, &agg_param_len))
            goto out;
        if (agg_param_len != 0) {
            pa_vdaf_failf(r, "agg_param: Prio3 takes an empty aggregation parameter, got %zu bytes",
                          agg_param_len);
            goto out;
        }
    }
    p.reports = json_object_get(root, "reports");
    if (!json_is_array(p.reports)) {
        pa_vdaf_failf(r, "field 'reports' missing");
        goto out;
    }
    p.nreports = json_array_size(p.reports);
    p.runs = calloc(p.nreports ? p.nreports : 1, sizeof *p.runs);
    p.agg = calloc(p.shares, sizeof *p.agg);
    if (p.runs == NULL || p.agg == NULL) {
        pa_vdaf_failf(r, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p.nreports; i++) {
        p.runs[i].state = calloc(p.shares, sizeof(uint8_t *));
        p.runs[i].out_share = calloc(p.shares, sizeof(uint8_t *));
        if (p.runs[i].state == NULL || p.runs[i].out_share == NULL) {
            pa_vdaf_failf(r, "out of memory");
            goto out;
        }
    }
    if ((st = run_ops(&p)) != PA_VDAF_PASS)
        goto out;

    /* agg_shares / agg_result not covered by an operation */
    json_t *jas = json_object_get(root, "agg_shares");
    if (!p.did_aggregate && json_is_array(jas) && json_array_size(jas) > 0)
        for (size_t j = 0; j < p.shares && st == PA_VDAF_PASS; j++)
            st = op_aggregate(&p, j, 1);
    json_t *jres = json_object_get(root, "agg_result");
    if (st == PA_VDAF_PASS && !p.did_unshard && jres != NULL && !json_is_null(jres))
        st = op_unshard(&p, 1);
out:
    if (p.runs)
        for (size_t i = 0; i < p.nreports; i++) {
            for (size_t j = 0; j < p.shares; j++) {
                if (p.runs[i].state)
                    free(p.runs[i].state[j]);
                if (p.runs[i].out_share)
                    free(p.runs[i].out_share[j]);
            }
            free(p.runs[i].state);
            free(p.runs[i].out_share);
        }
    if (p.agg)
        for (size_t j = 0; j < p.shares; j++)
            free(p.agg[j]);
    free(p.runs);
    free(p.agg);
    free(p.ctx);
    free(p.vk);
    free(agg_param);
    pa_prio3_free(v);
    return st;
}
