/*
 * HPKE (RFC 9180) for one ciphersuite: DHKEM(X25519, HKDF-SHA256) (KEM 0x0020),
 * HKDF-SHA256 (KDF 0x0001), ChaCha20Poly1305 (AEAD 0x0003), in all four modes
 * (base, psk, auth, auth_psk).  privagg seals each Prio3 input share to its
 * aggregator and each aggregate share to the collector with it.
 *
 * Ownership: every buffer belongs to the caller; nothing is allocated.  A
 * pa_hpke_ctx holds the key schedule (key, base_nonce, exporter_secret): it is
 * secret, lives where the caller puts it, and MUST be erased with
 * pa_hpke_ctx_wipe() when done (the library wipes it itself when a setup fails).
 * Private keys (sk*) and PSKs are secret inputs the library only reads.
 *
 * Errors (negative PA_E*, message in pa_error_detail()):
 *   PA_EINVAL       a mode out of 0..3, a PSK / sender-key argument the mode forbids or
 *                   lacks (RFC 9180 §5.1 VerifyPSKInputs, §5.1.3 auth), ikm shorter than 32
 *   PA_EDECODE      enc or a public key that gives an all-zero X25519 output (§7.1.4),
 *                   a ciphertext shorter than the 16-byte tag
 *   PA_EVERIFY      open: the tag does not verify (wrong key, ct, aad, enc, psk or seq)
 *   PA_ERANGE       export length above 255 * 32, sequence numbers exhausted, message too long
 *   PA_ESTATE       seal on a receiver context, open on a sender context, or a context not set up
 *   PA_EINTERNAL    libsodium failed to initialise or a primitive failed unexpectedly
 */
#ifndef PRIVAGG_HPKE_H
#define PRIVAGG_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/common.h"

#define PA_HPKE_KEM_ID  0x0020 /* DHKEM(X25519, HKDF-SHA256) */
#define PA_HPKE_KDF_ID  0x0001 /* HKDF-SHA256 */
#define PA_HPKE_AEAD_ID 0x0003 /* ChaCha20Poly1305 */

#define PA_HPKE_NSECRET 32 /* KEM shared secret */
#define PA_HPKE_NENC    32 /* encapsulated key */
#define PA_HPKE_NPK     32 /* serialized public key */
#define PA_HPKE_NSK     32 /* serialized private key */
#define PA_HPKE_NK      32 /* AEAD key */
#define PA_HPKE_NN      12 /* AEAD nonce */
#define PA_HPKE_NT      16 /* AEAD tag: ciphertext = plaintext + 16 bytes */
#define PA_HPKE_NH      32 /* KDF output */
#define PA_HPKE_EXPORT_MAX (255 * PA_HPKE_NH)

enum {
    PA_HPKE_MODE_BASE = 0,
    PA_HPKE_MODE_PSK = 1,
    PA_HPKE_MODE_AUTH = 2,
    PA_HPKE_MODE_AUTH_PSK = 3
};

/*
 * Mode-dependent inputs of the key schedule (RFC 9180 §5.1).  info may be empty
 * (NULL, 0).  psk and psk_id MUST both be given (non-empty) in the psk and auth_psk
 * modes and MUST both be empty (NULL, 0) in base and auth; psk MUST be at least 32
 * bytes (§5.1.2: at least 32 bytes of entropy).
 */
typedef struct {
    int mode;
    const uint8_t *info;
    size_t info_len;
    const uint8_t *psk;
    size_t psk_len;
    const uint8_t *psk_id;
    size_t psk_id_len;
} pa_hpke_params;

/* Context after setup (RFC 9180 §5.2).  Opaque to callers; secret; wipe with pa_hpke_ctx_wipe(). */
typedef struct {
    uint8_t key[PA_HPKE_NK];
    uint8_t base_nonce[PA_HPKE_NN];
    uint8_t exporter_secret[PA_HPKE_NH];
    uint64_t seq;
    int role; /* 0 not set up, 1 sender, 2 receiver */
} pa_hpke_ctx;

/* static accessors for the size constants (libsodium style) */
size_t pa_hpke_enc_size(void);
size_t pa_hpke_tag_size(void);

/* New key pair from the system RNG (libsodium randombytes_buf, 32 bytes of ikm). */
int pa_hpke_keygen(uint8_t sk[PA_HPKE_NSK], uint8_t pk[PA_HPKE_NPK]);

/* DeriveKeyPair (RFC 9180 §7.1.3, X25519): deterministic.  ikm_len MUST be >= 32. */
int pa_hpke_derive_keypair(uint8_t sk[PA_HPKE_NSK], uint8_t pk[PA_HPKE_NPK], const uint8_t *ikm,
                           size_t ikm_len);

/* Public key of a private key (X25519 base-point multiplication). */
int pa_hpke_public_key(uint8_t pk[PA_HPKE_NPK], const uint8_t sk[PA_HPKE_NSK]);

/*
 * Sender setup (RFC 9180 §5.1.1-§5.1.4): encapsulates to pkR, writes enc (send it
 * with the ciphertexts) and sets ctx up for pa_hpke_seal / pa_hpke_export.
 * skS: the sender's private key in the auth modes (MUST be non-NULL there), NULL otherwise.
 * The ephemeral key comes from randombytes_buf.
 */
int pa_hpke_setup_sender(pa_hpke_ctx *ctx, uint8_t enc[PA_HPKE_NENC],
                         const uint8_t pkR[PA_HPKE_NPK], const uint8_t *skS,
                         const pa_hpke_params *params);

/* Same with the ephemeral key derived from ikmE (>= 32 bytes): for test vectors only. */
int pa_hpke_setup_sender_derand(pa_hpke_ctx *ctx, uint8_t enc[PA_HPKE_NENC],
                                const uint8_t pkR[PA_HPKE_NPK], const uint8_t *skS,
                                const pa_hpke_params *params, const uint8_t *ikmE,
                                size_t ikmE_len);

/*
 * Receiver setup: decapsulates enc (untrusted) with skR and sets ctx up for
 * pa_hpke_open / pa_hpke_export.  pkS: the sender's public key in the auth modes
 * (MUST be non-NULL there), NULL otherwise.
 */
int pa_hpke_setup_receiver(pa_hpke_ctx *ctx, const uint8_t enc[PA_HPKE_NENC],
                           const uint8_t skR[PA_HPKE_NSK], const uint8_t *pkS,
                           const pa_hpke_params *params);

/*
 * The same with the receiver's public key given (pkR MUST be skR's, as a key file
 * checked at load guarantees), which saves the X25519 base-point multiplication
 * that Decap's kem_context needs (~28 us of the ~110 us of opening a 75 KB share).
 * A pkR that is not skR's makes every open fail; it never weakens one.
 */
int pa_hpke_setup_receiver_keypair(pa_hpke_ctx *ctx, const uint8_t enc[PA_HPKE_NENC],
                                   const uint8_t skR[PA_HPKE_NSK], const uint8_t *pkR,
                                   const uint8_t *pkS, const pa_hpke_params *params);

/*
 * Seal (§5.2): ct (pt_len + PA_HPKE_NT bytes) = AEAD(key, base_nonce XOR seq, aad, pt),
 * then seq += 1.  ct may equal pt (in place) but must not otherwise overlap it.
 */
int pa_hpke_seal(pa_hpke_ctx *ctx, uint8_t *ct, const uint8_t *aad, size_t aad_len,
                 const uint8_t *pt, size_t pt_len);

/*
 * Open (§5.2): pt (ct_len - PA_HPKE_NT bytes) from an untrusted ct; seq += 1 only on
 * success.  On failure pt is zeroed and PA_EVERIFY / PA_EDECODE returned.  pt may
 * equal ct (in place) but must not otherwise overlap it.
 */
int pa_hpke_open(pa_hpke_ctx *ctx, uint8_t *pt, const uint8_t *aad, size_t aad_len,
                 const uint8_t *ct, size_t ct_len);

/* Secret export (§5.3): out (L bytes, L <= PA_HPKE_EXPORT_MAX) from the exporter secret. */
int pa_hpke_export(const pa_hpke_ctx *ctx, uint8_t *out, size_t L,
                   const uint8_t *exporter_context, size_t exporter_context_len);

/*
 * Single-shot base mode (§6.1 SealBase / OpenBase): one setup and one message at
 * seq 0.  seal writes enc and ct (pt_len + PA_HPKE_NT bytes); open reads them
 * (untrusted) and writes pt (ct_len - PA_HPKE_NT bytes).  Errors as above.
 */
int pa_hpke_seal_base(uint8_t enc[PA_HPKE_NENC], uint8_t *ct, const uint8_t pkR[PA_HPKE_NPK],
                      const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
                      const uint8_t *pt, size_t pt_len);
int pa_hpke_open_base(uint8_t *pt, const uint8_t enc[PA_HPKE_NENC],
                      const uint8_t skR[PA_HPKE_NSK], const uint8_t *info, size_t info_len,
                      const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len);

/* Erase a context. */
void pa_hpke_ctx_wipe(pa_hpke_ctx *ctx);

#endif
