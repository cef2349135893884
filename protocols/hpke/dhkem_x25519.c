/*
 * DHKEM(X25519, HKDF-SHA256), RFC 9180 §4.1 (Encap, Decap, AuthEncap, AuthDecap,
 * ExtractAndExpand) and §7.1.3 (DeriveKeyPair for X25519), plus the labeled KDF
 * of §4 (LabeledExtract / LabeledExpand) that the whole module shares.
 * DH is libsodium's crypto_scalarmult, whose all-zero output (a small-order peer
 * key) is rejected as §7.1.4 requires.  Every DH output, private key and
 * extracted key is wiped before return.
 */
#include <sodium.h>
#include <string.h>

#include "common/ct.h"
#include "hpke/hkdf_sha256.h"
#include "hpke/hpke_internal.h"

static const uint8_t g_version[] = {'H', 'P', 'K', 'E', '-', 'v', '1'};

const uint8_t pa_hpke_suite_kem[PA_HPKE_SUITE_KEM_LEN] = {'K', 'E', 'M', 0x00, 0x20};
const uint8_t pa_hpke_suite_hpke[PA_HPKE_SUITE_HPKE_LEN] = {'H', 'P', 'K', 'E', 0x00, 0x20,
                                                            0x00, 0x01, 0x00, 0x03};

void pa_hpke_labeled_extract(uint8_t prk[PA_HPKE_NH], const uint8_t *suite_id, size_t suite_len,
                             const uint8_t *salt, size_t salt_len, const char *label,
                             const uint8_t *ikm, size_t ikm_len)
{
    const pa_bytes parts[] = {
        {g_version, sizeof g_version},
        {suite_id, suite_len},
        {(const uint8_t *)label, strlen(label)},
        {ikm, ikm_len},
    };
    pa_hkdf_sha256_extract(prk, salt, salt_len, parts, sizeof parts / sizeof parts[0]);
}

int pa_hpke_labeled_expand(uint8_t *out, size_t L, const uint8_t *suite_id, size_t suite_len,
                           const uint8_t prk[PA_HPKE_NH], const char *label, const uint8_t *info,
                           size_t info_len)
{
    uint8_t len2[2];

    if (L > PA_HPKE_EXPORT_MAX)
        return pa_fail(PA_ERANGE, "LabeledExpand: length %zu above %d", L, PA_HPKE_EXPORT_MAX);
    len2[0] = (uint8_t)(L >> 8);
    len2[1] = (uint8_t)L;
    const pa_bytes parts[] = {
        {len2, sizeof len2},
        {g_version, sizeof g_version},
        {suite_id, suite_len},
        {(const uint8_t *)label, strlen(label)},
        {info, info_len},
    };
    return pa_hkdf_sha256_expand(out, L, prk, PA_HPKE_NH, parts, sizeof parts / sizeof parts[0]);
}

/* §7.1.3 DeriveKeyPair for X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32). */
int pa_hpke_derive_keypair(uint8_t sk[PA_HPKE_NSK], uint8_t pk[PA_HPKE_NPK], const uint8_t *ikm,
                           size_t ikm_len)
{
    uint8_t prk[PA_HPKE_NH];
    int rc;

    if (ikm == NULL || ikm_len < PA_HPKE_NSK)
        return pa_fail(PA_EINVAL, "DeriveKeyPair: ikm length %zu below %d", ikm_len, PA_HPKE_NSK);
    pa_hpke_labeled_extract(prk, pa_hpke_suite_kem, sizeof pa_hpke_suite_kem, NULL, 0, "dkp_prk",
                            ikm, ikm_len);
    rc = pa_hpke_labeled_expand(sk, PA_HPKE_NSK, pa_hpke_suite_kem, sizeof pa_hpke_suite_kem, prk,
                                "sk", NULL, 0);
    pa_wipe(prk, sizeof prk);
    if (rc == 0)
        rc = pa_hpke_public_key(pk, sk);
    if (rc != 0)
        pa_wipe(sk, PA_HPKE_NSK);
    return rc;
}

int pa_hpke_public_key(uint8_t pk[PA_HPKE_NPK], const uint8_t sk[PA_HPKE_NSK])
{
    if (crypto_scalarmult_base(pk, sk) != 0)
        return pa_fail(PA_EINTERNAL, "X25519 base-point multiplication failed");
    return 0;
}

int pa_hpke_keygen(uint8_t sk[PA_HPKE_NSK], uint8_t pk[PA_HPKE_NPK])
{
    uint8_t ikm[PA_HPKE_NSK];
    int rc;

    if (sodium_init() < 0)
        return pa_fail(PA_EINTERNAL, "hpke keygen: sodium_init failed");
    randombytes_buf(ikm, sizeof ikm);
    rc = pa_hpke_derive_keypair(sk, pk, ikm, sizeof ikm);
    pa_wipe(ikm, sizeof ikm);
    return rc;
}

/* DH(sk, pk) with the all-zero output rejected (RFC 9180 §7.1.4); what names the key. */
static int dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32], const char *what)
{
    /* Both checks always run and their verdict is declared public before the one
     * branch: an all-zero output comes of a small-order pk, whatever sk is
     * (tests/unit/hpke_ctgrind_test.c). */
    uint64_t bad = (uint64_t)(crypto_scalarmult(out, sk, pk) != 0) | (uint64_t)sodium_is_zero(out, 32);
    if (pa_ct_public(bad)) {
        pa_wipe(out, 32);
        return pa_fail(PA_EDECODE, "%s: X25519 output is all zero (small-order public key)",
                       what);
    }
    return 0;
}

/* ExtractAndExpand(dh, kem_context) (§4.1). */
static int extract_and_expand(uint8_t ss[PA_HPKE_NSECRET], const uint8_t *dhv, size_t dh_len,
                              const uint8_t *kem_context, size_t kc_len)
{
    uint8_t prk[PA_HPKE_NH];
    int rc;

    pa_hpke_labeled_extract(prk, pa_hpke_suite_kem, sizeof pa_hpke_suite_kem, NULL, 0, "eae_prk",
                            dhv, dh_len);
    rc = pa_hpke_labeled_expand(ss, PA_HPKE_NSECRET, pa_hpke_suite_kem, sizeof pa_hpke_suite_kem,
                                prk, "shared_secret", kem_context, kc_len);
    pa_wipe(prk, sizeof prk);
    return rc;
}

int pa_hpke_kem_encap(uint8_t ss[PA_HPKE_NSECRET], uint8_t enc[PA_HPKE_NENC],
                      const uint8_t pkR[PA_HPKE_NPK], const uint8_t *skS, const uint8_t *ikmE,
                      size_t ikmE_len)
{
    uint8_t skE[PA_HPKE_NSK], pkE[PA_HPKE_NPK], dhv[64], kem_context[3 * PA_HPKE_NPK];
    size_t dh_len = 32, kc_len = 2 * PA_HPKE_NPK;
    int rc;

    rc = pa_hpke_derive_keypair(skE, pkE, ikmE, ikmE_len);
    if (rc != 0)
        return rc;
    rc = dh(dhv, skE, pkR, "pkR");
    if (rc == 0 && skS != NULL) {
        rc = dh(dhv + 32, skS, pkR, "pkR");
        dh_len = 64;
    }
    memcpy(kem_context, pkE, PA_HPKE_NPK);
    memcpy(kem_context + PA_HPKE_NPK, pkR, PA_HPKE_NPK);
    if (rc == 0 && skS != NULL) {
        rc = pa_hpke_public_key(kem_context + 2 * PA_HPKE_NPK, skS);
        kc_len = 3 * PA_HPKE_NPK;
    }
    if (rc == 0)
        rc = extract_and_expand(ss, dhv, dh_len, kem_context, kc_len);
    if (rc == 0)
        memcpy(enc, pkE, PA_HPKE_NENC);
    pa_wipe(skE, sizeof skE);
    pa_wipe(dhv, sizeof dhv);
    return rc;
}

int pa_hpke_kem_decap(uint8_t ss[PA_HPKE_NSECRET], const uint8_t enc[PA_HPKE_NENC],
                      const uint8_t skR[PA_HPKE_NSK], const uint8_t *pkR, const uint8_t *pkS)
{
    uint8_t dhv[64], kem_context[3 * PA_HPKE_NPK];
    size_t dh_len = 32, kc_len = 2 * PA_HPKE_NPK;
    int rc;

    rc = dh(dhv, skR, enc, "enc");
    if (rc == 0 && pkS != NULL) {
        rc = dh(dhv + 32, skR, pkS, "pkS");
        dh_len = 64;
    }
    memcpy(kem_context, enc, PA_HPKE_NENC);
    if (rc == 0 && pkR != NULL)
        memcpy(kem_context + PA_HPKE_NENC, pkR, PA_HPKE_NPK);
    else if (rc == 0)
        rc = pa_hpke_public_key(kem_context + PA_HPKE_NENC, skR);
    if (rc == 0 && pkS != NULL) {
        memcpy(kem_context + 2 * PA_HPKE_NPK, pkS, PA_HPKE_NPK);
        kc_len = 3 * PA_HPKE_NPK;
    }
    if (rc == 0)
        rc = extract_and_expand(ss, dhv, dh_len, kem_context, kc_len);
    pa_wipe(dhv, sizeof dhv);
    return rc;
}
