/*
 * HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256 (crypto_auth_hmacsha256_*):
 * libsodium 1.0.18, the Debian version, has no HKDF.  Inputs come as lists of
 * byte ranges so the HPKE labels (RFC 9180 §4) are fed in without concatenation.
 * Internal to module hpke.
 */
#ifndef PA_HKDF_SHA256_H
#define PA_HKDF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PA_HKDF_SHA256_HASH_LEN 32
#define PA_HKDF_SHA256_MAX_OUT (255 * PA_HKDF_SHA256_HASH_LEN)

typedef struct {
    const uint8_t *p; /* may be NULL if n == 0 */
    size_t n;
} pa_bytes;

/* Extract: prk = HMAC(salt, ikm_0 || ikm_1 || ...).  An empty salt (NULL, 0) is
 * HMAC with a zero-length key, which RFC 5869 §2.2 makes equal to HashLen zeros. */
void pa_hkdf_sha256_extract(uint8_t prk[PA_HKDF_SHA256_HASH_LEN], const uint8_t *salt,
                            size_t salt_len, const pa_bytes *ikm, size_t n_ikm);

/* Expand: out = first L bytes of T(1) || T(2) || ..., T(i) = HMAC(prk, T(i-1) || info || i),
 * info = info_0 || info_1 || ....  PA_ERANGE if L > 255 * 32.  out must not overlap prk. */
int pa_hkdf_sha256_expand(uint8_t *out, size_t L, const uint8_t *prk, size_t prk_len,
                          const pa_bytes *info, size_t n_info);

#endif
