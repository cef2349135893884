/*
 * HKDF-SHA256 (RFC 5869 §2.2 Extract, §2.3 Expand), written here on libsodium's
 * HMAC-SHA256 because libsodium 1.0.18 (Debian) has no HKDF.  Every HMAC state and
 * intermediate block is wiped before return.
 */
#include <sodium.h>
#include <string.h>

#include "common/ct.h"
#include "hpke/hkdf_sha256.h"
#include "privagg/common.h"

void pa_hkdf_sha256_extract(uint8_t prk[PA_HKDF_SHA256_HASH_LEN], const uint8_t *salt,
                            size_t salt_len, const pa_bytes *ikm, size_t n_ikm)
{
    static const uint8_t no_salt[1] = {0};
    crypto_auth_hmacsha256_state st;

    /* libsodium declares the key pointer non-null even for a zero-length key */
    crypto_auth_hmacsha256_init(&st, salt_len > 0 ? salt : no_salt, salt_len);
    for (size_t i = 0; i < n_ikm; i++) {
        if (ikm[i].n > 0)
            crypto_auth_hmacsha256_update(&st, ikm[i].p, ikm[i].n);
    }
    crypto_auth_hmacsha256_final(&st, prk);
    pa_wipe(&st, sizeof st);
}

int pa_hkdf_sha256_expand(uint8_t *out, size_t L, const uint8_t *prk, size_t prk_len,
                          const pa_bytes *info, size_t n_info)
{
    crypto_auth_hmacsha256_state st;
    uint8_t t[PA_HKDF_SHA256_HASH_LEN];
    size_t done = 0;

    if (L > PA_HKDF_SHA256_MAX_OUT)
        return pa_fail(PA_ERANGE, "hkdf expand: length %zu above %d", L, PA_HKDF_SHA256_MAX_OUT);
    for (unsigned i = 1; done < L; i++) {
        uint8_t ctr = (uint8_t)i;
        size_t n = L - done < sizeof t ? L - done : sizeof t;

        crypto_auth_hmacsha256_init(&st, prk, prk_len);
        if (i > 1)
            crypto_auth_hmacsha256_update(&st, t, sizeof t);
        for (size_t k = 0; k < n_info; k++) {
            if (info[k].n > 0)
                crypto_auth_hmacsha256_update(&st, info[k].p, info[k].n);
        }
        crypto_auth_hmacsha256_update(&st, &ctr, 1);
        crypto_auth_hmacsha256_final(&st, t);
        memcpy(out + done, t, n);
        done += n;
    }
    pa_wipe(&st, sizeof st);
    pa_wipe(t, sizeof t);
    return 0;
}
