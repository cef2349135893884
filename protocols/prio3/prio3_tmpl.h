/*
 * The field-specific half of Prio3 (draft-irtf-cfrg-vdaf-20 §7.2), written once:
 * prio3_f64.c / prio3_f128.c define FLD and include this file.
 *
 *   shard        §7.2.1 (shard_without_joint_rand / shard_with_joint_rand)
 *   verify_init  §7.2.2 (prep_init, with expand_input_share, joint_rand_part, ...)
 *   shares_to_message  §7.2.2 (prep_shares_to_prep)
 *
 * Streaming: helper shares are squeezed from the XOF in blocks of PA_PRIO3_BLOCK
 * elements, subtracted from the leader's share and absorbed into the joint
 * randomness part in the same pass, so no binder is ever concatenated and no
 * helper share is materialised while sharding.  Every buffer that held secret data
 * is wiped.
 */
#if !defined(FLD) || !defined(FLD_ENC)
#error "define FLD (f64 or f128) and FLD_ENC (its encoded size) before including prio3/prio3_tmpl.h"
#endif

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "common/ct.h"
#include "flp/flp.h"
#include "prio3/prio3_internal.h"
#include "privagg/common.h"
#include "xof/xof.h"

#define PA_P3_CAT2_(a, b) a##b
#define PA_P3_CAT2(a, b) PA_P3_CAT2_(a, b)
#define PA_P3_CAT3_(a, b, c) a##b##c
#define PA_P3_CAT3(a, b, c) PA_P3_CAT3_(a, b, c)
#define FE PA_P3_CAT2(pa_, FLD)
#define FOP(op) PA_P3_CAT3(pa_, FLD, _##op)
#define FLPFN(op) PA_P3_CAT3(pa_flp_, op, PA_P3_CAT2(_, FLD))
#define P3FN(op) PA_P3_CAT3(pa_prio3_, op, PA_P3_CAT2(_, FLD))
#define XOF_NEXT_VEC PA_P3_CAT2(pa_xof_next_vec_, FLD)
#define ENC (v->es) /* encoded size of one element (== FLD_ENC) */

#ifndef PA_PRIO3_BLOCK
#define PA_PRIO3_BLOCK 128
#endif

/* XOF(seed, dst(usage), binder) ready to squeeze; binder given as up to two parts. */
static void P3FN(xof_start)(pa_xof *x, pa_prio3_dst *d, uint16_t usage, const uint8_t *seed,
                            const uint8_t *b1, size_t n1, const uint8_t *b2, size_t n2)
{
    pa_xof_init(x, seed, PA_XOF_SEED_SIZE, pa_prio3_dst_usage(d, usage), d->len);
    if (n1)
        pa_xof_update(x, b1, n1);
    if (n2)
        pa_xof_update(x, b2, n2);
}

/* 1 if the ENC-byte little-endian integer at b is below the modulus (constant
 * time; the caller declassifies it: a rejection is public). */
static inline uint64_t P3FN(canonical)(const uint8_t *b)
{
    return FOP(canonical)(b);
}

/* acc <- acc - h mod p on canonical little-endian encodings (constant time: the
 * borrow is a mask from common/ct.h, never a comparison the compiler may branch on). */
static inline void P3FN(sub_canonical)(uint8_t *acc, const uint8_t *h)
{
    uint64_t a0, h0;
    memcpy(&a0, acc, 8);
    memcpy(&h0, h, 8);
    a0 = le64toh(a0);
    h0 = le64toh(h0);
#if FLD_ENC == 8
    uint64_t d;
    uint64_t m = pa_ct_sub_mask(a0, h0, &d);
    d = htole64(d + (PA_F64_MODULUS & m));
    memcpy(acc, &d, 8);
#else
    uint64_t a1, h1;
    memcpy(&a1, acc + 8, 8);
    memcpy(&h1, h + 8, 8);
    a1 = le64toh(a1);
    h1 = le64toh(h1);
    unsigned __int128 a = ((unsigned __int128)a1 << 64) | a0;
    unsigned __int128 b = ((unsigned __int128)h1 << 64) | h0;
    unsigned __int128 d;
    uint64_t m = pa_f128_sub_mask(a, b, &d);
    d += (((unsigned __int128)(PA_F128_P1 & m)) << 64) | (PA_F128_P0 & m);
    uint64_t lo = htole64((uint64_t)d), hi = htole64((uint64_t)(d >> 64));
    memcpy(acc, &lo, 8);
    memcpy(acc + 8, &hi, 8);
#endif
}

/*
 * The draft's next_vec (§6.2) on raw bytes: squeeze candidates, keep those below p,
 * until n are kept, requesting exactly the missing count each time (so the stream
 * position is the draft's).  raw (n·ENC bytes) receives the
 * canonical encodings of the elements, which are exactly the kept candidates: no
 * re-encoding needed.  Constant time but for the rejections, which are public
 * (xof.h): the candidates' flags are AND-ed without a branch and only the
 * verdict "all kept" (nearly always) is declassified; otherwise each flag is.
 */
static void P3FN(next_raw)(pa_xof *x, uint8_t *raw, size_t n)
{
    size_t have = 0;
    while (have < n) {
        size_t want = n - have, kept = have;
        uint64_t all = 1;
        pa_xof_next(x, raw + have * FLD_ENC, want * FLD_ENC);
        for (size_t i = have; i < have + want; i++)
            all &= P3FN(canonical)(raw + i * FLD_ENC);
        if (pa_ct_public(all))
            return;
        for (size_t i = have; i < have + want; i++) {
            if (pa_ct_public(P3FN(canonical)(raw + i * FLD_ENC))) {
                if (kept != i)
                    memmove(raw + kept * FLD_ENC, raw + i * FLD_ENC, FLD_ENC);
                kept++;
            }
        }
        have = kept;
    }
}

/*
 * Stream the next n elements of x (a helper's share) block by block:
 *   acc[i] -= element i   (if acc)      out[i] = element i   (if out)
 *   absorb the encoding into jrx (if jrx: the helper's joint randomness part)
 *   copy the encodings of elements [0, enc_n) to enc_out (if enc_out)
 *   acc_enc[i] -= element i on canonical encodings (if acc_enc)
 *   absorb the finished acc_enc block into ljrx (if ljrx: the leader's joint
 *   randomness part, two shares only), side by side with jrx (MUST be set then)
 */
static void P3FN(stream_share)(pa_xof *x, FE *acc, FE *out, size_t n, pa_xof *jrx,
                               uint8_t *enc_out, size_t enc_n, uint8_t *acc_enc, pa_xof *ljrx)
{
    FE blk[PA_PRIO3_BLOCK];
    uint8_t raw[PA_PRIO3_BLOCK * FLD_ENC];
    for (size_t off = 0; off < n; off += PA_PRIO3_BLOCK) {
        size_t c = n - off < PA_PRIO3_BLOCK ? n - off : PA_PRIO3_BLOCK;
        P3FN(next_raw)(x, raw, c);
        if (acc || out) {
            FOP(decode_vec)(blk, raw, c); /* canonical by construction */
            if (acc)
                for (size_t i = 0; i < c; i++)
                    acc[off + i] = FOP(sub)(acc[off + i], blk[i]);
            if (out)
                memcpy(out + off, blk, c * sizeof(FE));
        }
        if (acc_enc)
            for (size_t i = 0; i < c; i++)
                P3FN(sub_canonical)(acc_enc + (off + i) * FLD_ENC, raw + i * FLD_ENC);
        if (ljrx)
            pa_xof_update2(jrx, raw, ljrx, acc_enc + off * FLD_ENC, c * FLD_ENC);
        else if (jrx)
            pa_xof_update(jrx, raw, c * FLD_ENC);
        if (enc_out && off < enc_n)
            memcpy(enc_out + off * FLD_ENC, raw, (enc_n - off < c ? enc_n - off : c) * FLD_ENC);
    }
    pa_wipe(blk, sizeof blk);
    pa_wipe(raw, sizeof raw);
}

/* Start the joint randomness part XOF (§7.2.1 joint_rand_part): binder agg_id || nonce || meas. */
static void P3FN(jr_part_start)(pa_xof *jrx, pa_prio3_dst *d, const uint8_t *blind,
                                size_t agg_id, const uint8_t *nonce)
{
    uint8_t id = (uint8_t)agg_id;
    P3FN(xof_start)(jrx, d, PA_PRIO3_USAGE_JOINT_RAND_PART, blind, &id, 1, nonce,
                    PA_PRIO3_NONCE_SIZE);
}

/* joint_rands (§7.2.1) from the joint randomness seed: JOINT_RAND_LEN·PROOFS elements. */
static void P3FN(joint_rands)(const pa_prio3 *v, pa_prio3_dst *d, const uint8_t *seed, FE *out)
{
    pa_xof x;
    uint8_t r = (uint8_t)v->proofs;
    P3FN(xof_start)(&x, d, PA_PRIO3_USAGE_JOINT_RANDOMNESS, seed, &r, 1, NULL, 0);
    XOF_NEXT_VEC(&x, out, v->flp.joint_rand_len * v->proofs);
    pa_xof_wipe(&x);
}

/* joint_rand_seed (§7.2.1): derive_seed(zeros, dst(6), parts), parts given in three pieces. */
static void P3FN(jr_seed)(pa_prio3_dst *d, const uint8_t *a, size_t na, const uint8_t *b,
                          size_t nb, const uint8_t *c, size_t nc, uint8_t *seed)
{
    static const uint8_t zeros[PA_XOF_SEED_SIZE];
    pa_xof x;
    P3FN(xof_start)(&x, d, PA_PRIO3_USAGE_JOINT_RAND_SEED, zeros, a, na, b, nb);
    if (nc)
        pa_xof_update(&x, c, nc);
    pa_xof_next(&x, seed, PA_XOF_SEED_SIZE);
    pa_xof_wipe(&x);
}

int P3FN(shard)(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                const uint64_t *measurement, size_t measurement_len, const uint8_t *nonce,
                const uint8_t *rand, uint8_t *public_share, uint8_t *const *input_shares)
{
    const pa_flp *f = &v->flp;
    size_t S = v->shares, R = v->proofs, ML = f->meas_len, PL = f->proof_len;
    size_t PRL = f->prove_rand_len, JRL = f->joint_rand_len;
    size_t LML = f->encoding_is_bits ? 0 : ML; /* leader share as elements: only if not bits */
    size_t n_elems = ML + LML + PL * R + PRL * R + JRL * R + pa_flp_prove_scratch_len(f);
    const size_t L = PA_XOF_SEED_SIZE;
    pa_prio3_arena arena;
    pa_prio3_dst dst;
    pa_xof x, jrx;
    uint8_t seed[PA_XOF_SEED_SIZE];
    uint8_t binder[2];
    int rc;

    if ((rc = pa_prio3_dst_init(&dst, v, ctx, ctx_len)) != 0)
        return rc;
    FE *meas = pa_prio3_arena_get(&arena, n_elems * sizeof(FE));
    if (meas == NULL) {
        pa_prio3_dst_free(&dst);
        return pa_fail(PA_ENOMEM, "shard: %zu bytes of scratch", n_elems * sizeof(FE));
    }
    FE *lmeas = meas + ML, *proofs = lmeas + LML, *prove_rands = proofs + PL * R;
    FE *jrands = prove_rands + PRL * R, *scratch = jrands + JRL * R;

    if ((rc = FLPFN(encode)(f, measurement, measurement_len, meas)) != 0)
        goto out;

    /* Seeds (§7.2.1): helpers' (share[, blind]) pairs, then [leader blind,] prove seed. */
    size_t per = v->jr ? 2 : 1;
    const uint8_t *prove_seed = rand + ((S - 1) * per + (v->jr ? 1 : 0)) * L;
    const uint8_t *leader_blind = v->jr ? rand + (S - 1) * per * L : NULL;

    /*
     * Leader measurement share = meas - sum of helper shares (+ joint rand parts).
     * Every circuit here encodes its measurement as 0/1 values, so the leader's
     * share is computed directly on canonical encodings in its output buffer: the
     * helpers' raw XOF bytes are subtracted there, with no conversion to and from
     * the field's internal form.
     */
    uint8_t *out0 = input_shares[0];
    /*
     * With two shares the leader's share is final block by block as the helper's
     * is subtracted, so the leader's joint randomness part absorbs it right there,
     * side by side with the helper's part (two independent sponges, one pass).
     */
    int pair_jr = v->jr && S == 2 && f->encoding_is_bits;
    pa_xof ljrx;
    if (pair_jr)
        P3FN(jr_part_start)(&ljrx, &dst, leader_blind, 0, nonce);
    if (f->encoding_is_bits) {
        memset(out0, 0, ML * ENC);
        for (size_t i = 0; i < ML; i++)
            out0[i * ENC] = (uint8_t)(1 - FOP(is_zero)(meas[i]));
    } else {
        memcpy(lmeas, meas, ML * sizeof(FE));
    }
    for (size_t j = 1; j < S; j++) {
        const uint8_t *hseed = rand + (j - 1) * per * L;
        binder[0] = (uint8_t)j;
        P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_MEAS_SHARE, hseed, binder, 1, NULL, 0);
        if (v->jr)
            P3FN(jr_part_start)(&jrx, &dst, hseed + L, j, nonce);
        P3FN(stream_share)(&x, f->encoding_is_bits ? NULL : lmeas, NULL, ML,
                           v->jr ? &jrx : NULL, NULL, 0, f->encoding_is_bits ? out0 : NULL,
                           pair_jr ? &ljrx : NULL);
        if (v->jr) {
            pa_xof_next(&jrx, public_share + j * L, L);
            pa_xof_wipe(&jrx);
        }
        pa_xof_wipe(&x);
    }
    if (!f->encoding_is_bits)
        FOP(encode_vec)(out0, lmeas, ML);

    if (v->jr) {
        if (pair_jr) {
            pa_xof_next(&ljrx, public_share, L);
            pa_xof_wipe(&ljrx);
        } else {
            P3FN(jr_part_start)(&jrx, &dst, leader_blind, 0, nonce);
            pa_xof_update(&jrx, out0, ML * ENC);
            pa_xof_next(&jrx, public_share, L);
            pa_xof_wipe(&jrx);
        }
        P3FN(jr_seed)(&dst, public_share, S * L, NULL, 0, NULL, 0, seed);
        P3FN(joint_rands)(v, &dst, seed, jrands);
    }

    /* Proofs (§7.2.1): prove_rands from the prove seed, one proof per PROOFS. */
    binder[0] = (uint8_t)R;
    P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_PROVE_RANDOMNESS, prove_seed, binder, 1, NULL, 0);
    XOF_NEXT_VEC(&x, prove_rands, PRL * R);
    pa_xof_wipe(&x);
    for (size_t i = 0; i < R; i++)
        FLPFN(prove)(f, meas, prove_rands + i * PRL, jrands + i * JRL, proofs + i * PL, scratch);
    for (size_t j = 1; j < S; j++) {
        binder[0] = (uint8_t)R;
        binder[1] = (uint8_t)j;
        P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_PROOF_SHARE, rand + (j - 1) * per * L, binder,
                        2, NULL, 0);
        P3FN(stream_share)(&x, proofs, NULL, PL * R, NULL, NULL, 0, NULL, NULL);
        pa_xof_wipe(&x);
    }

    /* Encodings (§7.2.7). */
    FOP(encode_vec)(out0 + ML * ENC, proofs, PL * R);
    if (v->jr)
        memcpy(out0 + (ML + PL * R) * ENC, leader_blind, L);
    for (size_t j = 1; j < S; j++) {
        memcpy(input_shares[j], rand + (j - 1) * per * L, L);
        if (v->jr)
            memcpy(input_shares[j] + L, rand + ((j - 1) * per + 1) * L, L);
    }
    rc = 0;
out:
    pa_wipe(seed, sizeof seed);
    pa_prio3_arena_release(&arena);
    pa_prio3_dst_free(&dst);
    return rc;
}

int P3FN(verify_init)(const pa_prio3 *v, const uint8_t *verify_key, const uint8_t *ctx,
                      size_t ctx_len, size_t agg_id, const uint8_t *nonce,
                      const uint8_t *public_share, const uint8_t *input_share,
                      uint8_t *verify_state, uint8_t *verifier_share)
{
    const pa_flp *f = &v->flp;
    size_t R = v->proofs, ML = f->meas_len, PL = f->proof_len, S = v->shares;
    size_t QL = f->query_rand_len, JRL = f->joint_rand_len, VL = f->verifier_len;
    size_t OL = f->output_len;
    size_t n_elems = ML + PL * R + QL * R + JRL * R + VL * R + OL + pa_flp_query_scratch_len(f);
    const size_t L = PA_XOF_SEED_SIZE;
    pa_prio3_arena arena;
    pa_prio3_dst dst;
    pa_xof x, jrx;
    uint8_t part[PA_XOF_SEED_SIZE], seed[PA_XOF_SEED_SIZE];
    uint8_t binder[1 + PA_PRIO3_NONCE_SIZE];
    const uint8_t *blind = NULL;
    int rc;

    if ((rc = pa_prio3_dst_init(&dst, v, ctx, ctx_len)) != 0)
        return rc;
    FE *meas = pa_prio3_arena_get(&arena, n_elems * sizeof(FE));
    if (meas == NULL) {
        pa_prio3_dst_free(&dst);
        return pa_fail(PA_ENOMEM, "verify_init: %zu bytes of scratch", n_elems * sizeof(FE));
    }
    FE *proofs = meas + ML, *qrands = proofs + PL * R, *jrands = qrands + QL * R;
    FE *ver = jrands + JRL * R, *outs = ver + VL * R, *scratch = outs + OL;
    memset(part, 0, sizeof part);
    memset(seed, 0, sizeof seed);
    /* Count, Histogram, Multihot (and Sum / SumVec with max_measurement 1, one bit of
     * weight 1 per value): the output share is a prefix of the measurement share, so
     * its encoding is copied rather than re-encoded */
    int prefix_out = f->kind == PA_FLP_COUNT || f->kind == PA_FLP_HISTOGRAM ||
                     f->kind == PA_FLP_MULTIHOT ||
                     ((f->kind == PA_FLP_SUM || f->kind == PA_FLP_SUMVEC) && f->max_measurement == 1);

    /* The leader's SumVec measurement share is only added and scaled (query,
     * truncate): it stays raw, which saves converting each element (field128.h). */
    int raw = agg_id == 0 && f->kind == PA_FLP_SUMVEC && !prefix_out;

    /* expand_input_share (§7.2.2) and this aggregator's joint randomness part. */
    if (agg_id == 0) {
        if ((rc = (raw ? FOP(decode_vec_raw) : FOP(decode_vec))(meas, input_share, ML)) != 0) {
            rc = pa_prio3_fail_prefixed(PA_EDECODE, "input_share: measurement share");
            goto out;
        }
        if ((rc = FOP(decode_vec)(proofs, input_share + ML * ENC, PL * R)) != 0) {
            rc = pa_prio3_fail_prefixed(PA_EDECODE, "input_share: proof share");
            goto out;
        }
        if (v->jr) {
            blind = input_share + (ML + PL * R) * ENC;
            P3FN(jr_part_start)(&jrx, &dst, blind, 0, nonce);
            pa_xof_update(&jrx, input_share, ML * ENC);
        }
    } else {
        if (v->jr) {
            blind = input_share + L;
            P3FN(jr_part_start)(&jrx, &dst, blind, agg_id, nonce);
        }
        binder[0] = (uint8_t)agg_id;
        P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_MEAS_SHARE, input_share, binder, 1, NULL, 0);
        P3FN(stream_share)(&x, NULL, meas, ML, v->jr ? &jrx : NULL,
                           prefix_out ? verify_state : NULL, OL, NULL, NULL);
        pa_xof_wipe(&x);
        uint8_t b2[2] = {(uint8_t)R, (uint8_t)agg_id};
        P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_PROOF_SHARE, input_share, b2, 2, NULL, 0);
        XOF_NEXT_VEC(&x, proofs, PL * R);
        pa_xof_wipe(&x);
    }
    if (v->jr) {
        pa_xof_next(&jrx, part, L);
        pa_xof_wipe(&jrx);
        /* corrected seed: the public parts with our own part put in place */
        P3FN(jr_seed)(&dst, public_share, agg_id * L, part, L, public_share + (agg_id + 1) * L,
                      (S - agg_id - 1) * L, seed);
        P3FN(joint_rands)(v, &dst, seed, jrands);
    }

    /* query_rands (§7.2.2): XOF(verify_key, dst(5), PROOFS || nonce). */
    binder[0] = (uint8_t)R;
    memcpy(binder + 1, nonce, PA_PRIO3_NONCE_SIZE);
    P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_QUERY_RANDOMNESS, verify_key, binder,
                    sizeof binder, NULL, 0);
    XOF_NEXT_VEC(&x, qrands, QL * R);
    pa_xof_wipe(&x);

    for (size_t i = 0; i < R; i++) {
        rc = FLPFN(query)(f, meas, proofs + i * PL, qrands + i * QL, jrands + i * JRL,
                          v->PA_P3_CAT2(shares_inv_, FLD), ver + i * VL, scratch, raw);
        if (rc)
            goto out;
    }

    if (!prefix_out) {
        FLPFN(truncate)(f, meas, outs);
        (raw ? FOP(encode_vec_raw) : FOP(encode_vec))(verify_state, outs, OL);
    } else if (agg_id == 0) {
        memcpy(verify_state, input_share, OL * ENC);
    }
    memcpy(verify_state + OL * ENC, seed, L);
    FOP(encode_vec)(verifier_share, ver, VL * R);
    if (v->jr)
        memcpy(verifier_share + VL * R * ENC, part, L);
    rc = 0;
out:
    pa_wipe(part, sizeof part);
    pa_wipe(seed, sizeof seed);
    pa_prio3_arena_release(&arena);
    pa_prio3_dst_free(&dst);
    return rc;
}

int P3FN(shares_to_message)(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                            const uint8_t *const *shares, uint8_t *message)
{
    const pa_flp *f = &v->flp;
    size_t S = v->shares, R = v->proofs, VL = f->verifier_len, n = VL * R;
    const size_t L = PA_XOF_SEED_SIZE;
    pa_prio3_arena arena;
    pa_prio3_dst dst;
    int rc = 0, ok = 1;

    if ((rc = pa_prio3_dst_init(&dst, v, ctx, ctx_len)) != 0)
        return rc;
    FE *sum = pa_prio3_arena_get(&arena, 2 * n * sizeof(FE));
    if (sum == NULL) {
        pa_prio3_dst_free(&dst);
        return pa_fail(PA_ENOMEM, "verifier_shares_to_message: %zu bytes", 2 * n * sizeof(FE));
    }
    FE *tmp = sum + n;
    for (size_t i = 0; i < n; i++)
        sum[i] = FOP(zero)();
    for (size_t j = 0; j < S; j++) {
        if (FOP(decode_vec)(tmp, shares[j], n) != 0) {
            char what[48];
            snprintf(what, sizeof what, "verifier_share[%zu]", j);
            rc = pa_prio3_fail_prefixed(PA_EDECODE, what);
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            sum[i] = FOP(add)(sum[i], tmp[i]);
    }
    for (size_t i = 0; i < R; i++)
        ok &= FLPFN(decide)(f, sum + i * VL);
    /* the decision is the one public outcome of the combined verifier */
    if (!pa_ct_public((uint64_t)ok)) {
        rc = pa_fail(PA_EVERIFY, "verifier_shares_to_message: proof verifier check failed");
        goto out;
    }
    if (v->jr) {
        /* joint_rand_seed over the parts, which follow the verifiers in each share */
        pa_xof x;
        static const uint8_t zeros[PA_XOF_SEED_SIZE];
        P3FN(xof_start)(&x, &dst, PA_PRIO3_USAGE_JOINT_RAND_SEED, zeros, NULL, 0, NULL, 0);
        for (size_t j = 0; j < S; j++)
            pa_xof_update(&x, shares[j] + n * ENC, L);
        pa_xof_next(&x, message, L);
        pa_xof_wipe(&x);
    }
out:
    pa_prio3_arena_release(&arena);
    pa_prio3_dst_free(&dst);
    return rc;
}

#undef FE
#undef FOP
#undef FLPFN
#undef P3FN
#undef XOF_NEXT_VEC
#undef ENC
#undef FLD_ENC
