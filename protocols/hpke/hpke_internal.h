/*
 * HPKE internals (module hpke): the labeled KDF of RFC 9180 §4, DHKEM(X25519,
 * HKDF-SHA256) of §4.1 / §7.1, and the key schedule of §5.1, exposed to the
 * conformance runner and the unit tests so every intermediate value of a test
 * vector can be checked.  Product code uses include/privagg/hpke.h only.
 */
#ifndef PA_HPKE_INTERNAL_H
#define PA_HPKE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/hpke.h"

/* suite_id = "KEM" || I2OSP(kem_id, 2) (§4.1) and "HPKE" || kem_id || kdf_id || aead_id (§5.1) */
#define PA_HPKE_SUITE_KEM_LEN 5
#define PA_HPKE_SUITE_HPKE_LEN 10
extern const uint8_t pa_hpke_suite_kem[PA_HPKE_SUITE_KEM_LEN];
extern const uint8_t pa_hpke_suite_hpke[PA_HPKE_SUITE_HPKE_LEN];

/* mode (1) || psk_id_hash (Nh) || info_hash (Nh) */
#define PA_HPKE_KS_CONTEXT_LEN (1 + 2 * PA_HPKE_NH)

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm) (§4). */
void pa_hpke_labeled_extract(uint8_t prk[PA_HPKE_NH], const uint8_t *suite_id, size_t suite_len,
                             const uint8_t *salt, size_t salt_len, const char *label,
                             const uint8_t *ikm, size_t ikm_len);

/* LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id
 * || label || info, L) (§4).  PA_ERANGE if L > 255 * Nh. */
int pa_hpke_labeled_expand(uint8_t *out, size_t L, const uint8_t *suite_id, size_t suite_len,
                           const uint8_t prk[PA_HPKE_NH], const char *label, const uint8_t *info,
                           size_t info_len);

/*
 * Encap / AuthEncap (§4.1) with the ephemeral key pair DeriveKeyPair(ikmE): writes the
 * shared secret and enc.  skS NULL: Encap; non-NULL: AuthEncap.  ss is secret (wipe it).
 */
int pa_hpke_kem_encap(uint8_t ss[PA_HPKE_NSECRET], uint8_t enc[PA_HPKE_NENC],
                      const uint8_t pkR[PA_HPKE_NPK], const uint8_t *skS, const uint8_t *ikmE,
                      size_t ikmE_len);

/* Decap / AuthDecap (§4.1).  pkS NULL: Decap; non-NULL: AuthDecap.  enc is untrusted.
 * pkR: skR's public key if the caller has it (saves a base-point multiplication),
 * or NULL (computed from skR). */
int pa_hpke_kem_decap(uint8_t ss[PA_HPKE_NSECRET], const uint8_t enc[PA_HPKE_NENC],
                      const uint8_t skR[PA_HPKE_NSK], const uint8_t *pkR, const uint8_t *pkS);

/* Intermediate values of the key schedule, for vector checks (secret: wipe it). */
typedef struct {
    uint8_t key_schedule_context[PA_HPKE_KS_CONTEXT_LEN];
    uint8_t secret[PA_HPKE_NH];
} pa_hpke_ks_trace;

/* VerifyPSKInputs (§5.1): the psk / psk_id rules of params->mode.  0 or PA_EINVAL. */
int pa_hpke_check_params(const pa_hpke_params *params);

/*
 * KeySchedule<ROLE>(mode, shared_secret, info, psk, psk_id) (§5.1); role 1 sender,
 * 2 receiver.  trace may be NULL.  On failure ctx is wiped.
 */
int pa_hpke_key_schedule(pa_hpke_ctx *ctx, int role, const uint8_t ss[PA_HPKE_NSECRET],
                         const pa_hpke_params *params, pa_hpke_ks_trace *trace);

/* Test seam: jump a context to sequence number seq (vectors list seq 0, 1, 2, 4, 255, 256). */
void pa_hpke_ctx_set_seq(pa_hpke_ctx *ctx, uint64_t seq);

/* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) (§5.2) for the context's current seq. */
void pa_hpke_compute_nonce(uint8_t nonce[PA_HPKE_NN], const pa_hpke_ctx *ctx);

#endif
