/*
 * privagg — Prio3 VDAFs of draft-irtf-cfrg-vdaf-20 §7 over byte buffers.
 *
 * A pa_prio3 is an immutable parameter set (VDAF, its circuit parameters and the
 * number of aggregators).  Every message goes in and out as its draft encoding
 * (§7.2.7 "Message Serialization"); outputs are caller-allocated and sized by the
 * accessors below.  Flow per report:
 *
 *   client:      pa_prio3_shard            -> public share, one input share per aggregator
 *   aggregator:  pa_prio3_verify_init      -> verify state (secret, keep), verifier share (send)
 *   any one:     pa_prio3_verifier_shares_to_message -> verifier message (broadcast)
 *   aggregator:  pa_prio3_verify_next      -> output share (secret)
 *                pa_prio3_agg_init / pa_prio3_agg_update / pa_prio3_merge -> aggregate share
 *   collector:   pa_prio3_unshard          -> aggregate result
 *
 * Contracts common to every function:
 *  - v MUST come from one of the constructors; pointer arguments MUST be valid for
 *    the stated sizes; output buffers MUST NOT overlap inputs (agg_update's
 *    agg_share is in/out by design).
 *  - Incoming encodings are decoded strictly: a wrong length, trailing bytes or a
 *    non-canonical field element returns PA_EDECODE and pa_error_detail() names the
 *    message and field.  On failure shard, verify_init, verifier_shares_to_message,
 *    verify_next and agg_update leave their outputs unwritten (or zeroed); merge and
 *    unshard leave theirs unspecified.
 *  - Secrets (measurement, rand, input shares, verify state, output shares) are
 *    the caller's to wipe; every internal copy is wiped before return.
 *  - Thread safety: a pa_prio3 may be shared by threads; calls keep no global state.
 */
#ifndef PRIVAGG_PRIO3_H
#define PRIVAGG_PRIO3_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/common.h"

#define PA_PRIO3_NONCE_SIZE 16
#define PA_PRIO3_SEED_SIZE 32
#define PA_PRIO3_VERIFY_KEY_SIZE 32
#define PA_PRIO3_MAX_CTX 65000 /* the XOF's dst (8 bytes + ctx) must fit 16 bits */

/* Algorithm IDs (draft-irtf-cfrg-vdaf-20 §10 / test-only multiproof). */
#define PA_PRIO3_ID_COUNT 0x00000001u
#define PA_PRIO3_ID_SUM 0x00000002u
#define PA_PRIO3_ID_SUMVEC 0x00000003u
#define PA_PRIO3_ID_HISTOGRAM 0x00000004u
#define PA_PRIO3_ID_MULTIHOT 0x00000005u
#define PA_PRIO3_ID_SUMVEC_MULTIPROOF 0xFFFFFFFFu

/* Field selector for pa_prio3_sumvec_multiproof_new. */
#define PA_PRIO3_FIELD64 1
#define PA_PRIO3_FIELD128 2

typedef struct pa_prio3 pa_prio3;

/*
 * Constructors.  num_shares MUST be in 2..255.  On success *out owns a new
 * parameter set (free with pa_prio3_free); PA_EINVAL names a bad parameter;
 * PA_ENOMEM.
 *   count:      Prio3Count (Field64), measurement 0 or 1.
 *   sum:        Prio3Sum (Field64), measurement in [0, max_measurement], max >= 1, < 2^63.
 *   sumvec:     Prio3SumVec (Field128), length values each in [0, max_measurement].
 *   histogram:  Prio3Histogram (Field128), measurement a bucket index < length.
 *   multihot:   Prio3MultihotCountVec (Field128), length bits with at most
 *               max_weight ones (1 <= max_weight <= length).
 *   sumvec_multiproof: Prio3SumVecWithMultiproof (ID 0xFFFFFFFF, test only), field
 *               PA_PRIO3_FIELD64 or PA_PRIO3_FIELD128, proofs in 1..255.
 * chunk_length >= 1 for the vector circuits (usually about sqrt of the encoded length).
 */
int pa_prio3_count_new(pa_prio3 **out, size_t num_shares);
int pa_prio3_sum_new(pa_prio3 **out, size_t num_shares, uint64_t max_measurement);
int pa_prio3_sumvec_new(pa_prio3 **out, size_t num_shares, size_t length,
                        uint64_t max_measurement, size_t chunk_length);
int pa_prio3_histogram_new(pa_prio3 **out, size_t num_shares, size_t length,
                           size_t chunk_length);
int pa_prio3_multihot_new(pa_prio3 **out, size_t num_shares, size_t length, size_t max_weight,
                          size_t chunk_length);
int pa_prio3_sumvec_multiproof_new(pa_prio3 **out, size_t num_shares, int field, size_t proofs,
                                   size_t length, uint64_t max_measurement, size_t chunk_length);

/* Release a parameter set (NULL is ignored). */
void pa_prio3_free(pa_prio3 *v);

/* Parameters. */
uint32_t pa_prio3_id(const pa_prio3 *v);
size_t pa_prio3_num_shares(const pa_prio3 *v);
size_t pa_prio3_num_proofs(const pa_prio3 *v);
/* Number of uint64_t values a measurement has: length for SumVec / MultihotCountVec, else 1. */
size_t pa_prio3_measurement_len(const pa_prio3 *v);
/* Number of values of the aggregate result: length for the vector VDAFs, else 1. */
size_t pa_prio3_output_len(const pa_prio3 *v);

/* Sizes in bytes of every encoded message. */
size_t pa_prio3_rand_size(const pa_prio3 *v);
size_t pa_prio3_public_share_size(const pa_prio3 *v);
size_t pa_prio3_input_share_size(const pa_prio3 *v, size_t agg_id); /* 0 = leader */
size_t pa_prio3_verify_state_size(const pa_prio3 *v);
size_t pa_prio3_verifier_share_size(const pa_prio3 *v);
size_t pa_prio3_verifier_message_size(const pa_prio3 *v);
size_t pa_prio3_out_share_size(const pa_prio3 *v);
size_t pa_prio3_agg_share_size(const pa_prio3 *v);

/*
 * shard (§7.2.1).  measurement: pa_prio3_measurement_len(v) values (see the
 * constructors; Multihot entries 0/1).  nonce: PA_PRIO3_NONCE_SIZE bytes.  rand:
 * rand_len == pa_prio3_rand_size(v) uniformly random bytes (secret).  Writes the
 * public share (public_share_size bytes) and input_shares[j] (input_share_size(v, j)
 * bytes) for j = 0..num_shares-1.  PA_EINVAL for an invalid measurement or wrong
 * lengths; PA_ENOMEM.
 */
int pa_prio3_shard(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                   const uint64_t *measurement, size_t measurement_len,
                   const uint8_t nonce[PA_PRIO3_NONCE_SIZE], const uint8_t *rand, size_t rand_len,
                   uint8_t *public_share, uint8_t *const *input_shares);

/* shard with rand drawn from randombytes_buf (and wiped). */
int pa_prio3_shard_random(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                          const uint64_t *measurement, size_t measurement_len,
                          const uint8_t nonce[PA_PRIO3_NONCE_SIZE], uint8_t *public_share,
                          uint8_t *const *input_shares);

/*
 * verify_init (the draft's prep_init, §7.2.2) for aggregator agg_id.  Decodes the
 * public share and this aggregator's input share (strict), queries the proof(s) and
 * writes verify_state (verify_state_size bytes, secret, to keep until verify_next)
 * and verifier_share (verifier_share_size bytes, to send).  PA_EDECODE for bad
 * encodings, PA_EINVAL for a bad agg_id or ctx, PA_EVERIFY if a query point is
 * degenerate, PA_ENOMEM.
 */
int pa_prio3_verify_init(const pa_prio3 *v, const uint8_t verify_key[PA_PRIO3_VERIFY_KEY_SIZE],
                         const uint8_t *ctx, size_t ctx_len, size_t agg_id,
                         const uint8_t nonce[PA_PRIO3_NONCE_SIZE], const uint8_t *public_share,
                         size_t public_share_len, const uint8_t *input_share,
                         size_t input_share_len, uint8_t *verify_state, uint8_t *verifier_share);

/*
 * verifier_shares_to_message (prep_shares_to_prep, §7.2.2): combines the
 * num_shares verifier shares (shares[j] of lens[j] bytes) into the verifier message
 * (verifier_message_size bytes, possibly 0).  PA_EVERIFY if a proof does not verify
 * (the report must be rejected); PA_EDECODE for bad encodings.
 */
int pa_prio3_verifier_shares_to_message(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,
                                        const uint8_t *const *shares, const size_t *lens,
                                        uint8_t *message);

/*
 * verify_next (prep_next, §7.2.2): checks the verifier message against the state's
 * joint randomness seed (constant time) and writes the output share
 * (out_share_size bytes).  PA_EVERIFY on mismatch; PA_EDECODE for bad encodings.
 */
int pa_prio3_verify_next(const pa_prio3 *v, const uint8_t *verify_state,
                         size_t verify_state_len, const uint8_t *message, size_t message_len,
                         uint8_t *out_share);

/* agg_init: agg_share (agg_share_size bytes) <- encoding of the zero vector. */
void pa_prio3_agg_init(const pa_prio3 *v, uint8_t *agg_share);

/* agg_update: agg_share += out_share (both decoded strictly).  PA_EDECODE, PA_ENOMEM. */
int pa_prio3_agg_update(const pa_prio3 *v, uint8_t *agg_share, const uint8_t *out_share,
                        size_t out_share_len);

/* merge: out (agg_share_size bytes) <- sum of n aggregate shares.  PA_EDECODE, PA_ENOMEM. */
int pa_prio3_merge(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                   size_t n, uint8_t *out);

/*
 * unshard (§7.2.5): merges n aggregate shares and decodes the aggregate result
 * into result[0..output_len-1].  num_measurements >= 1.  PA_ERANGE if a value does
 * not fit a uint64_t.  PA_EDECODE, PA_EINVAL, PA_ENOMEM.
 */
int pa_prio3_unshard(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                     size_t n, uint64_t num_measurements, uint64_t *result);

/*
 * unshard_signed: merges n aggregate shares and reads each element x of the
 * aggregate result as a signed integer, x - p when x > (p - 1) / 2 (a total made
 * negative by noise added modulo p, docs/ARCHITECTURE.md), into
 * result[0..output_len-1].  For the vector VDAFs (SumVec, Histogram, Multihot)
 * whose aggregate result is the summed vector itself, with no num_measurements
 * scaling.  PA_ERANGE if a magnitude is above 2^63 - 1.  PA_EDECODE (a share not
 * canonical or of the wrong length), PA_ENOMEM.
 */
int pa_prio3_unshard_signed(const pa_prio3 *v, const uint8_t *const *agg_shares, const size_t *lens,
                            size_t n, int64_t *result);

/*
 * Stand-alone strict decoders: 0 if the bytes are a valid encoding of the message
 * for these parameters, else PA_EDECODE naming the field.
 */
int pa_prio3_check_public_share(const pa_prio3 *v, const uint8_t *in, size_t len);
int pa_prio3_check_input_share(const pa_prio3 *v, size_t agg_id, const uint8_t *in, size_t len);
int pa_prio3_check_verifier_share(const pa_prio3 *v, const uint8_t *in, size_t len);
int pa_prio3_check_verifier_message(const pa_prio3 *v, const uint8_t *in, size_t len);
int pa_prio3_check_out_share(const pa_prio3 *v, const uint8_t *in, size_t len);
int pa_prio3_check_agg_share(const pa_prio3 *v, const uint8_t *in, size_t len);

#endif
