/*
 * Prio3 (draft-irtf-cfrg-vdaf-20 §7): the six instantiations (§7.4 and the
 * test-only Prio3SumVecWithMultiproof), message sizes (§7.2.7), argument checks,
 * the field-independent steps (verify_next, aggregation plumbing, unshard) and the
 * dispatch to the Field64 / Field128 halves built from prio3_tmpl.h.
 */
#include <endian.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "prio3/prio3_internal.h"
#include "privagg/prio3.h"
#include "xof/xof.h"

/* ---- helpers shared with the template ---- */

int pa_prio3_dst_init(pa_prio3_dst *d, const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len)
{
    if (ctx_len > PA_PRIO3_MAX_CTX)
        return pa_fail(PA_EINVAL, "ctx: %zu bytes, limit %d", ctx_len, PA_PRIO3_MAX_CTX);
    d->len = 8 + ctx_len;
    if (d->len <= sizeof d->inline_buf) {
        d->buf = d->inline_buf;
    } else {
        d->buf = malloc(d->len);
        if (d->buf == NULL)
            return pa_fail(PA_ENOMEM, "ctx: %zu bytes", ctx_len);
    }
    /* format_dst(algo_class 0, ID, usage) || ctx (§6.2.3 / §7.2.6) */
    d->buf[0] = PA_PRIO3_DST_VERSION;
    d->buf[1] = 0;
    d->buf[2] = (uint8_t)(v->id >> 24);
    d->buf[3] = (uint8_t)(v->id >> 16);
    d->buf[4] = (uint8_t)(v->id >> 8);
    d->buf[5] = (uint8_t)v->id;
    d->buf[6] = 0;
    d->buf[7] = 0;
    if (ctx_len)
        memcpy(d->buf + 8, ctx, ctx_len);
    return 0;
}

const uint8_t *pa_prio3_dst_usage(pa_prio3_dst *d, uint16_t usage)
{
    d->buf[6] = (uint8_t)(usage >> 8);
    d->buf[7] = (uint8_t)usage;
    return d->buf;
}

void pa_prio3_dst_free(pa_prio3_dst *d)
{
    if (d->buf != d->inline_buf)
        free(d->buf);
    d->buf = NULL;
}

void *pa_prio3_arena_get(pa_prio3_arena *a, size_t bytes)
{
    a->bytes = bytes;
    a->heap = NULL;
    if (bytes <= sizeof a->stack)
        return a->stack;
    a->heap = malloc(bytes);
    return a->heap;
}

void pa_prio3_arena_release(pa_prio3_arena *a)
{
    if (a->heap) {
        pa_wipe(a->heap, a->bytes);
        free(a->heap);
        a->heap = NULL;
    } else {
        pa_wipe(a->stack, a->bytes < sizeof a->stack ? a->bytes : sizeof a->stack);
    }
}

int pa_prio3_fail_prefixed(int code, const char *prefix)
{
    char prev[512];
    snprintf(prev, sizeof prev, "%s", pa_error_detail());
    return pa_fail(code, "%s: %s", prefix, prev);
}

int pa_prio3_ct_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint64_t)(a[i] ^ b[i]);
    return (int)pa_ct_eq(diff, 0);
}

/* ---- aggregation on canonical encodings ----
 *
 * Output and aggregate shares are added directly on their little-endian canonical
 * encodings with integer arithmetic (no conversion to the field's internal form):
 * x + y mod p with a masked final subtraction.  Inputs are checked to be below p
 * first, so a rejected share leaves the accumulator untouched.
 */

typedef unsigned __int128 u128;

static inline uint64_t load64(const uint8_t *in)
{
    uint64_t v;
    memcpy(&v, in, 8);
    return le64toh(v);
}

static inline void store64(uint8_t *out, uint64_t v)
{
    v = htole64(v);
    memcpy(out, &v, 8);
}

static inline u128 load_le(const uint8_t *in, size_t es)
{
    u128 v = load64(in);
    if (es == 16)
        v |= (u128)load64(in + 8) << 64;
    return v;
}

static inline void store_le(uint8_t *out, u128 v, size_t es)
{
    store64(out, (uint64_t)v);
    if (es == 16)
        store64(out + 8, (uint64_t)(v >> 64));
}

static u128 modulus(size_t es)
{
    return es == PA_F64_ENCODED_SIZE ? (u128)PA_F64_MODULUS
                                     : ((u128)PA_F128_P1 << 64) | (u128)PA_F128_P0;
}

/* 1 if the element at e (es bytes) is below p; constant time. */
static inline uint64_t element_canonical(const uint8_t *e, size_t es)
{
    return es == PA_F64_ENCODED_SIZE ? pa_f64_canonical(e) : pa_f128_canonical(e);
}

/* 0 if every one of the n elements of in is below p, else PA_EDECODE naming it.
 * The elements may be secret (output and aggregate shares): the flags are
 * combined without a branch and only the verdict, which the status reveals, is
 * declassified (then, for a bad vector, the flags up to the first bad one). */
static int check_canonical(const uint8_t *in, size_t n, size_t es, const char *what)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= 1 ^ element_canonical(in + i * es, es);
    if (pa_ct_public(bad) == 0)
        return 0;
    size_t i = 0;
    while (i + 1 < n && pa_ct_public(element_canonical(in + i * es, es)))
        i++;
    return pa_fail(PA_EDECODE, "%s: element %zu is not below the field modulus", what, i);
}

/* acc += in, element-wise mod p; both canonical (in is checked). */
static int add_canonical(uint8_t *acc, const uint8_t *in, size_t n, size_t es, const char *what)
{
    u128 p = modulus(es);
    int rc = check_canonical(in, n, es, what);
    if (rc)
        return rc;
    if ((rc = check_canonical(acc, n, es, "agg_share")) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        u128 a = load_le(acc + i * es, es), b = load_le(in + i * es, es);
        u128 s, t; /* s = a + b < 2p; for Field128 it may wrap past 2^128 */
        uint64_t carry = pa_f128_add_mask(a, b, &s);
        uint64_t borrow = pa_f128_sub_mask(s, p, &t);
        /* keep t when the sum carried out or is >= p (masks from the flags,
         * common/ct.h: no comparison the compiler could branch on) */
        u128 m = (u128)(carry | ~borrow);
        m |= m << 64;
        store_le(acc + i * es, (t & m) | (s & ~m), es);
    }
    return 0;
}

/* ---- constructors ---- */

static int make(pa_prio3 **out, size_t num_shares, uint32_t id, size_t proofs, const pa_flp *f)
{
    *out = NULL;
    if (num_shares < 2 || num_shares > 255)
        return pa_fail(PA_EINVAL, "num_shares: %zu, expected 2..255", num_shares);
    if (proofs < 1 || proofs > 255)
        return pa_fail(PA_EINVAL, "proofs: %zu, expected 1..255", proofs);
    pa_prio3 *v = calloc(1, sizeof *v);
    if (v == NULL)
        return pa_fail(PA_ENOMEM, "prio3 parameters");
    v->id = id;
    v->shares = num_shares;
    v->proofs = proofs;
    v->flp = *f;
    v->es = f->field == PA_FLP_FIELD64 ? PA_F64_ENCODED_SIZE : PA_F128_ENCODED_SIZE;
    v->jr = f->joint_rand_len > 0;
    v->shares_inv_f64 = pa_f64_inv(pa_f64_from_u64((uint64_t)num_shares));
    v->shares_inv_f128 = pa_f128_inv(pa_f128_from_u64((uint64_t)num_shares));
    *out = v;
    return 0;
}

int pa_prio3_count_new(pa_prio3 **out, size_t num_shares)
{
    pa_flp f;
    int rc = pa_flp_init_count(&f, PA_FLP_FIELD64);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_COUNT, 1, &f);
}

int pa_prio3_sum_new(pa_prio3 **out, size_t num_shares, uint64_t max_measurement)
{
    pa_flp f;
    int rc = pa_flp_init_sum(&f, PA_FLP_FIELD64, max_measurement);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_SUM, 1, &f);
}

int pa_prio3_sumvec_new(pa_prio3 **out, size_t num_shares, size_t length,
                        uint64_t max_measurement, size_t chunk_length)
{
    pa_flp f;
    int rc = pa_flp_init_sumvec(&f, PA_FLP_FIELD128, length, max_measurement, chunk_length);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_SUMVEC, 1, &f);
}

int pa_prio3_histogram_new(pa_prio3 **out, size_t num_shares, size_t length,
                           size_t chunk_length)
{
    pa_flp f;
    int rc = pa_flp_init_histogram(&f, PA_FLP_FIELD128, length, chunk_length);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_HISTOGRAM, 1, &f);
}

int pa_prio3_multihot_new(pa_prio3 **out, size_t num_shares, size_t length, size_t max_weight,
                          size_t chunk_length)
{
    pa_flp f;
    int rc = pa_flp_init_multihot(&f, PA_FLP_FIELD128, length, max_weight, chunk_length);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_MULTIHOT, 1, &f);
}

int pa_prio3_sumvec_multiproof_new(pa_prio3 **out, size_t num_shares, int field, size_t proofs,
                                   size_t length, uint64_t max_measurement, size_t chunk_length)
{
    pa_flp f;
    int rc;
    if (field != PA_PRIO3_FIELD64 && field != PA_PRIO3_FIELD128)
        return pa_fail(PA_EINVAL, "field: %d, expected Field64 (1) or Field128 (2)", field);
    rc = pa_flp_init_sumvec(&f, field == PA_PRIO3_FIELD64 ? PA_FLP_FIELD64 : PA_FLP_FIELD128,
                            length, max_measurement, chunk_length);
    return rc ? rc : make(out, num_shares, PA_PRIO3_ID_SUMVEC_MULTIPROOF, proofs, &f);
}

void pa_prio3_free(pa_prio3 *v)
{
    free(v);
}

/* ---- parameters and sizes (§7.2.7) ---- */

uint32_t pa_prio3_id(const pa_prio3 *v) { return v->id; }
size_t pa_prio3_num_shares(const pa_prio3 *v) { return v->shares; }
size_t pa_prio3_num_proofs(const pa_prio3 *v) { return v->proofs; }

size_t pa_prio3_measurement_len(const pa_prio3 *v)
{
    return (v->flp.kind == PA_FLP_SUMVEC || v->flp.kind == PA_FLP_MULTIHOT) ? v->flp.length : 1;
}

size_t pa_prio3_output_len(const pa_prio3 *v) { return v->flp.output_len; }

size_t pa_prio3_rand_size(const pa_prio3 *v)
{
    return v->shares * PA_XOF_SEED_SIZE * (v->jr ? 2 : 1);
}

size_t pa_prio3_public_share_size(const pa_prio3 *v)
{
    return v->jr ? v->shares * PA_XOF_SEED_SIZE : 0;
}

size_t pa_prio3_input_share_size(const pa_prio3 *v, size_t agg_id)
{
    size_t blind = v->jr ? PA_XOF_SEED_SIZE : 0;
    if (agg_id == 0)
        return (v->flp.meas_len + v->flp.proof_len * v->proofs) * v->es + blind;
    return PA_XOF_SEED_SIZE + blind;
}

size_t pa_prio3_verify_state_size(const pa_prio3 *v)
{
    return v->flp.output_len * v->es + PA_XOF_SEED_SIZE;
}

size_t pa_prio3_verifier_share_size(const pa_prio3 *v)
{
    return v->flp.verifier_len * v->proofs * v->es + (v->jr ? PA_XOF_SEED_SIZE : 0);
}

size_t pa_prio3_verifier_message_size(const pa_prio3 *v)
{
    return v->jr ? PA_XOF_SEED_SIZE : 0;
}

size_t pa_prio3_out_share_size(const pa_prio3 *v) { return v->flp.output_len * v->es; }
size_t pa_prio3_agg_share_size(const pa_prio3 *v) { return v->flp.output_len * v->es; }

/* ---- operations ---- */

#define DISPATCH(v, op, ...)                                                                   \
    ((v)->flp.field == PA_FLP_FIELD64 ? pa_prio3_##op##_f64(__VA_ARGS__)                        \
                                      : pa_prio3_##op##_f128(__VA_ARGS__))

static int check_len(const char *what, size_t got, size_t want)
{
    if (got != want)
        return pa_fail(PA_EDECODE, "%s: length %zu, expected %zu", what, got, want);
    return 0;
}

int pa_prio3_shard(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                   const uint64_t *measurement, size_t measurement_len,
                   const uint8_t nonce[PA_PRIO3_NONCE_SIZE], const uint8_t *rand, size_t rand_len,
                   uint8_t *public_share, uint8_t *const *input_shares)
{
    if (rand_len != pa_prio3_rand_size(v))
        return pa_fail(PA_EINVAL, "rand: %zu bytes, expected %zu", rand_len,
                       pa_prio3_rand_size(v));
    return DISPATCH(v, shard, v, ctx, ctx_len, measurement, measurement_len, nonce, rand,
                    public_share, input_shares);
}

int pa_prio3_shard_random(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                          const uint64_t *measurement, size_t measurement_len,
                          const uint8_t nonce[PA_PRIO3_NONCE_SIZE], uint8_t *public_share,
                          uint8_t *const *input_shares)
{
    uint8_t rand[255 * 2 * PA_XOF_SEED_SIZE];
    size_t n = pa_prio3_rand_size(v);
    randombytes_buf(rand, n);
    int rc = pa_prio3_shard(v, ctx, ctx_len, measurement, measurement_len, nonce, rand, n,
                            public_share, input_shares);
    pa_wipe(rand, n);
    return rc;
}

int pa_prio3_verify_init(const pa_prio3 *v, const uint8_t verify_key[PA_PRIO3_VERIFY_KEY_SIZE],
                         const uint8_t *ctx, size_t ctx_len, size_t agg_id,
                         const uint8_t nonce[PA_PRIO3_NONCE_SIZE], const uint8_t *public_share,
                         size_t public_share_len, const uint8_t *input_share,
                         size_t input_share_len, uint8_t *verify_state, uint8_t *verifier_share)
{
    int rc;
    if (agg_id >= v->shares)
        return pa_fail(PA_EINVAL, "agg_id: %zu, expected below %zu", agg_id, v->shares);
    if ((rc = check_len("public_share", public_share_len, pa_prio3_public_share_size(v))) != 0)
        return rc;
    if ((rc = check_len("input_share", input_share_len, pa_prio3_input_share_size(v, agg_id))) !=
        0)
        return rc;
    return DISPATCH(v, verify_init, v, verify_key, ctx, ctx_len, agg_id, nonce, public_share,
                    input_share, verify_state, verifier_share);
}

int pa_prio3_verifier_shares_to_message(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                                        const uint8_t *const *shares, const size_t *lens,
                                        uint8_t *message)
{
    size_t want = pa_prio3_verifier_share_size(v);
    for (size_t j = 0; j < v->shares; j++)
        if (lens[j] != want)
            return pa_fail(PA_EDECODE, "verifier_share[%zu]: length %zu, expected %zu", j,
                           lens[j], want);
    return DISPATCH(v, shares_to_message, v, ctx, ctx_len, shares, message);
}

int pa_prio3_verify_next(const pa_prio3 *v, const uint8_t *verify_state,
                         size_t verify_state_len, const uint8_t *message, size_t message_len,
                         uint8_t *out_share)
{
    int rc;
    size_t n = pa_prio3_out_share_size(v);
    if ((rc = check_len("verify_state", verify_state_len, pa_prio3_verify_state_size(v))) != 0)
        return rc;
    if ((rc = check_len("verifier_message", message_len, pa_prio3_verifier_message_size(v))) !=
        0)
        return rc;
    /* the joint randomness check's verdict is public (the report fails) */
    if (v->jr && !pa_ct_public((uint64_t)pa_prio3_ct_memeq(verify_state + n, message,
                                                             PA_XOF_SEED_SIZE)))
        return pa_fail(PA_EVERIFY, "verify_next: joint randomness check failed");
    memcpy(out_share, verify_state, n);
    return 0;
}

void pa_prio3_agg_init(const pa_prio3 *v, uint8_t *agg_share)
{
    memset(agg_share, 0, pa_prio3_agg_share_size(v)); /* zero encodes as all-zero bytes */
}

int pa_prio3_agg_update(const pa_prio3 *v, uint8_t *agg_share, const uint8_t *out_share,
                        size_t out_share_len)
{
    int rc = check_len("out_share", out_share_len, pa_prio3_out_share_size(v));
    if (rc)
        return rc;
    return add_canonical(agg_share, out_share, v->flp.output_len, v->es, "out_share");
}

int pa_prio3_merge(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                   size_t n, uint8_t *out)
{
    int rc;
    pa_prio3_agg_init(v, out);
    for (size_t i = 0; i < n; i++) {
        if ((rc = check_len("agg_share", lens[i], pa_prio3_agg_share_size(v))) != 0)
            return rc;
        if ((rc = add_canonical(out, agg_shares[i], v->flp.output_len, v->es, "agg_share")) != 0)
            return rc;
    }
    return 0;
}

int pa_prio3_unshard(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                     size_t n, uint64_t num_measurements, uint64_t *result)
{
    int rc;
    size_t sz = pa_prio3_agg_share_size(v);
    if (num_measurements == 0)
        return pa_fail(PA_EINVAL, "num_measurements: 0, expected >= 1");
    uint8_t *agg = malloc(sz);
    if (agg == NULL)
        return pa_fail(PA_ENOMEM, "unshard: %zu bytes", sz);
    rc = pa_prio3_merge(v, agg_shares, lens, n, agg);
    pa_ct_declassify(agg, sz); /* the aggregate result: the collector's output */
    for (size_t i = 0; rc == 0 && i < v->flp.output_len; i++) {
        u128 x = load_le(agg + i * v->es, v->es);
        if (x >> 64)
            rc = pa_fail(PA_ERANGE, "aggregate result[%zu]: above 2^64 - 1", i);
        else
            result[i] = (uint64_t)x;
    }
    free(agg);
    return rc;
}

int pa_prio3_unshard_signed(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                            size_t n, int64_t *result)
{
    int rc;
    size_t sz = pa_prio3_agg_share_size(v);
    u128 p = modulus(v->es), half = p >> 1;
    uint8_t *agg = malloc(sz);
    if (agg == NULL)
        return pa_fail(PA_ENOMEM, "unshard: %zu bytes", sz);
    rc = pa_prio3_merge(v, agg_shares, lens, n, agg);
    pa_ct_declassify(agg, sz); /* the aggregate result: the collector's output */
    for (size_t i = 0; rc == 0 && i < v->flp.output_len; i++) {
        u128 x = load_le(agg + i * v->es, v->es);
        int bNeg = x > half;               /* above p/2: x - p, a negative total */
        u128 mag = bNeg ? p - x : x;
        if (mag > (u128)INT64_MAX)
            rc = pa_fail(PA_ERANGE, "aggregate result[%zu]: magnitude above 2^63 - 1", i);
        else
            result[i] = bNeg ? -(int64_t)mag : (int64_t)mag;
    }
    free(agg);
    return rc;
}

/* ---- stand-alone decoders ---- */

int pa_prio3_check_public_share(const pa_prio3 *v, const uint8_t *in, size_t len)
{
    (void)in;
    return check_len("public_share", len, pa_prio3_public_share_size(v));
}

int pa_prio3_check_input_share(const pa_prio3 *v, size_t agg_id, const uint8_t *in, size_t len)
{
    int rc;
    if (agg_id >= v->shares)
        return pa_fail(PA_EINVAL, "agg_id: %zu, expected below %zu", agg_id, v->shares);
    if ((rc = check_len("input_share", len, pa_prio3_input_share_size(v, agg_id))) != 0)
        return rc;
    if (agg_id != 0)
        return 0; /* seeds and blinds: any bytes */
    if ((rc = check_canonical(in, v->flp.meas_len, v->es, "input_share: measurement share")) != 0)
        return rc;
    return check_canonical(in + v->flp.meas_len * v->es, v->flp.proof_len * v->proofs, v->es,
                           "input_share: proof share");
}

int pa_prio3_check_verifier_share(const pa_prio3 *v, const uint8_t *in, size_t len)
{
    int rc = check_len("verifier_share", len, pa_prio3_verifier_share_size(v));
    if (rc)
        return rc;
    return check_canonical(in, v->flp.verifier_len * v->proofs, v->es, "verifier_share");
}

int pa_prio3_check_verifier_message(const pa_prio3 *v, const uint8_t *in, size_t len)
{
    (void)in;
    return check_len("verifier_message", len, pa_prio3_verifier_message_size(v));
}

int pa_prio3_check_out_share(const pa_prio3 *v, const uint8_t *in, size_t len)
{
    int rc = check_len("out_share", len, pa_prio3_out_share_size(v));
    return rc ? rc : check_canonical(in, v->flp.output_len, v->es, "out_share");
}

int pa_prio3_check_agg_share(const pa_prio3 *v, const uint8_t *in, size_t len)
{
    int rc = check_len("agg_share", len, pa_prio3_agg_share_size(v));
    return rc ? rc : check_canonical(in, v->flp.output_len, v->es, "agg_share");
}
