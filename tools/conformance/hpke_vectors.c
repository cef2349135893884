/*
 * Replays RFC 9180 test vectors (Appendix A.2, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, ChaCha20Poly1305; all four modes) through the hpke module and
 * checks every intermediate value byte for byte: the key pairs from
 * DeriveKeyPair (§7.1.3), enc and shared_secret from Encap/AuthEncap and
 * Decap/AuthDecap (§4.1), key_schedule_context and secret (§5.1), key,
 * base_nonce and exporter_secret on both sides, each encryption's nonce and
 * ciphertext (§5.2) and its decryption, and each export (§5.3).
 * A mismatch is reported as "<what>, entry <i>: expected <hex> got <hex>".
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "conformance/hpke_vectors.h"
#include "hpke/hpke_internal.h"
#include "privagg/common.h"
#include "privagg/hpke.h"

#define GUARD(x)                                                                                   \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != PA_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

/* Bytes shown per value in a mismatch message (the detail buffer is bounded). */
#define HEX_SHOW 72

typedef struct {
    uint8_t *p;
    size_t n;
} hbuf;

/* Hex of at most HEX_SHOW bytes of p, "..." if longer; z needs 2 * HEX_SHOW + 4 bytes. */
static const char *hex_of(char *z, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t m = n < HEX_SHOW ? n : HEX_SHOW, k = 0;

    for (size_t i = 0; i < m; i++) {
        z[k++] = digits[p[i] >> 4];
        z[k++] = digits[p[i] & 15];
    }
    if (m < n) {
        memcpy(z + k, "...", 3);
        k += 3;
    }
    z[k] = '\0';
    return z;
}

static int mismatch(const char *zWhat, size_t iEntry, const uint8_t *want, size_t nWant,
                    const uint8_t *got, size_t nGot)
{
    char zWant[2 * HEX_SHOW + 4], zGot[2 * HEX_SHOW + 4];
    return pa_fail(PA_EVERIFY, "%s, entry %zu: expected %s got %s", zWhat, iEntry,
                   hex_of(zWant, want, nWant), hex_of(zGot, got, nGot));
}

static int check(const char *zWhat, size_t iEntry, const uint8_t *want, size_t nWant,
                 const uint8_t *got, size_t nGot)
{
    if (nWant != nGot || (nWant > 0 && memcmp(want, got, nWant) != 0))
        return mismatch(zWhat, iEntry, want, nWant, got, nGot);
    return 0;
}

/* Decode field zName of object o (entry iEntry) into a fresh buffer the caller frees. */
static int get_hex(json_t *o, size_t iEntry, const char *zName, hbuf *out)
{
    json_t *v = json_object_get(o, zName);
    const char *z;
    size_t len;

    out->p = NULL;
    out->n = 0;
    if (!json_is_string(v))
        return pa_fail(PA_EDECODE, "%s, entry %zu: missing or not a string", zName, iEntry);
    z = json_string_value(v);
    len = json_string_length(v);
    if (len % 2 != 0)
        return pa_fail(PA_EDECODE, "%s, entry %zu: odd hex length %zu", zName, iEntry, len);
    out->p = malloc(len / 2 + 1);
    if (out->p == NULL)
        return pa_fail(PA_ENOMEM, "%s, entry %zu: %zu bytes", zName, iEntry, len / 2);
    if (sodium_hex2bin(out->p, len / 2, z, len, NULL, &out->n, NULL) != 0 || out->n != len / 2) {
        free(out->p);
        out->p = NULL;
        out->n = 0;
        return pa_fail(PA_EDECODE, "%s, entry %zu: not hex", zName, iEntry);
    }
    return 0;
}

/* Decode a fixed-size field into out. */
static int get_hex_fixed(json_t *o, size_t iEntry, const char *zName, uint8_t *out, size_t n)
{
    hbuf b;

    GUARD(get_hex(o, iEntry, zName, &b));
    if (b.n != n) {
        free(b.p);
        return pa_fail(PA_EDECODE, "%s, entry %zu: length %zu, expected %zu", zName, iEntry, b.n,
                       n);
    }
    memcpy(out, b.p, n);
    pa_wipe(b.p, b.n);
    free(b.p);
    return 0;
}

static int get_uint(json_t *o, size_t iEntry, const char *zName, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, zName);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return pa_fail(PA_EDECODE, "%s, entry %zu: missing, not an integer or outside 0..%llu",
                       zName, iEntry, (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Everything one entry owns, released by entry_free(). */
typedef struct {
    int mode;
    hbuf info, psk, psk_id, ikmE, ikmR, ikmS;
    uint8_t pkEm[32], skEm[32], pkRm[32], skRm[32], pkSm[32], skSm[32];
    uint8_t enc[32], shared_secret[32], ksc[PA_HPKE_KS_CONTEXT_LEN], secret[32], key[32];
    uint8_t base_nonce[12], exporter_secret[32];
    pa_hpke_ctx sender, receiver;
} entry;

static void hbuf_free(hbuf *b)
{
    if (b->p != NULL) {
        pa_wipe(b->p, b->n);
        free(b->p);
    }
    b->p = NULL;
    b->n = 0;
}

static void entry_free(entry *e)
{
    hbuf_free(&e->info);
    hbuf_free(&e->psk);
    hbuf_free(&e->psk_id);
    hbuf_free(&e->ikmE);
    hbuf_free(&e->ikmR);
    hbuf_free(&e->ikmS);
    pa_wipe(e, sizeof *e);
}

static int is_auth(int mode)
{
    return mode == PA_HPKE_MODE_AUTH || mode == PA_HPKE_MODE_AUTH_PSK;
}

static int has_psk(int mode)
{
    return mode == PA_HPKE_MODE_PSK || mode == PA_HPKE_MODE_AUTH_PSK;
}

static int read_entry(json_t *o, size_t i, entry *e)
{
    uint64_t v;

    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "entry %zu: not an object", i);
    GUARD(get_uint(o, i, "mode", 3, &v));
    e->mode = (int)v;
    GUARD(get_uint(o, i, "kem_id", 0xFFFF, &v));
    if (v != PA_HPKE_KEM_ID)
        return pa_fail(PA_EUNSUPPORTED, "kem_id, entry %zu: 0x%04llx, only 0x0020 supported", i,
                       (unsigned long long)v);
    GUARD(get_uint(o, i, "kdf_id", 0xFFFF, &v));
    if (v != PA_HPKE_KDF_ID)
        return pa_fail(PA_EUNSUPPORTED, "kdf_id, entry %zu: 0x%04llx, only 0x0001 supported", i,
                       (unsigned long long)v);
    GUARD(get_uint(o, i, "aead_id", 0xFFFF, &v));
    if (v != PA_HPKE_AEAD_ID)
        return pa_fail(PA_EUNSUPPORTED, "aead_id, entry %zu: 0x%04llx, only 0x0003 supported", i,
                       (unsigned long long)v);
    GUARD(get_hex(o, i, "info", &e->info));
    GUARD(get_hex(o, i, "ikmE", &e->ikmE));
    GUARD(get_hex(o, i, "ikmR", &e->ikmR));
    GUARD(get_hex_fixed(o, i, "pkEm", e->pkEm, 32));
    GUARD(get_hex_fixed(o, i, "skEm", e->skEm, 32));
    GUARD(get_hex_fixed(o, i, "pkRm", e->pkRm, 32));
    GUARD(get_hex_fixed(o, i, "skRm", e->skRm, 32));
    if (is_auth(e->mode)) {
        GUARD(get_hex(o, i, "ikmS", &e->ikmS));
        GUARD(get_hex_fixed(o, i, "pkSm", e->pkSm, 32));
        GUARD(get_hex_fixed(o, i, "skSm", e->skSm, 32));
    }
    if (has_psk(e->mode)) {
        GUARD(get_hex(o, i, "psk", &e->psk));
        GUARD(get_hex(o, i, "psk_id", &e->psk_id));
    }
    GUARD(get_hex_fixed(o, i, "enc", e->enc, 32));
    GUARD(get_hex_fixed(o, i, "shared_secret", e->shared_secret, 32));
    GUARD(get_hex_fixed(o, i, "key_schedule_context", e->ksc, sizeof e->ksc));
    GUARD(get_hex_fixed(o, i, "secret", e->secret, 32));
    GUARD(get_hex_fixed(o, i, "key", e->key, 32));
    GUARD(get_hex_fixed(o, i, "base_nonce", e->base_nonce, 12));
    GUARD(get_hex_fixed(o, i, "exporter_secret", e->exporter_secret, 32));
    return 0;
}

/* A key pair derived from ikm must equal the vector's. */
static int check_keypair(size_t i, const char *zSk, const char *zPk, const hbuf *ikm,
                         const uint8_t *skWant, const uint8_t *pkWant)
{
    uint8_t sk[32], pk[32];
    int rc = pa_hpke_derive_keypair(sk, pk, ikm->p, ikm->n);

    if (rc == 0)
        rc = check(zSk, i, skWant, 32, sk, 32);
    if (rc == 0)
        rc = check(zPk, i, pkWant, 32, pk, 32);
    pa_wipe(sk, sizeof sk);
    return rc;
}

static int check_context(const char *zSide, size_t i, const entry *e, const pa_hpke_ctx *c)
{
    char zWhat[64];
    size_t nSide = strlen(zSide);

    if (nSide > 32)
        nSide = 32;
    memcpy(zWhat, zSide, nSide);
    memcpy(zWhat + nSide, " key", 5);
    GUARD(check(zWhat, i, e->key, 32, c->key, 32));
    memcpy(zWhat + nSide, " base_nonce", 12);
    GUARD(check(zWhat, i, e->base_nonce, 12, c->base_nonce, 12));
    memcpy(zWhat + nSide, " exporter_secret", 17);
    GUARD(check(zWhat, i, e->exporter_secret, 32, c->exporter_secret, 32));
    return 0;
}

/* KEM and key schedule, with every intermediate value. */
static int replay_setup(size_t i, entry *e)
{
    const pa_hpke_params params = {e->mode,     e->info.p,   e->info.n, e->psk.p,
                                   e->psk.n,    e->psk_id.p, e->psk_id.n};
    const uint8_t *skS = is_auth(e->mode) ? e->skSm : NULL;
    const uint8_t *pkS = is_auth(e->mode) ? e->pkSm : NULL;
    uint8_t ss[32], enc[32];
    pa_hpke_ks_trace trace;
    pa_hpke_ctx ks;
    int rc;

    GUARD(check_keypair(i, "skEm", "pkEm", &e->ikmE, e->skEm, e->pkEm));
    GUARD(check_keypair(i, "skRm", "pkRm", &e->ikmR, e->skRm, e->pkRm));
    if (is_auth(e->mode))
        GUARD(check_keypair(i, "skSm", "pkSm", &e->ikmS, e->skSm, e->pkSm));

    rc = pa_hpke_kem_encap(ss, enc, e->pkRm, skS, e->ikmE.p, e->ikmE.n);
    if (rc == 0)
        rc = check("enc", i, e->enc, 32, enc, 32);
    if (rc == 0)
        rc = check("shared_secret (encap)", i, e->shared_secret, 32, ss, 32);
    if (rc == 0)
        rc = pa_hpke_kem_decap(ss, e->enc, e->skRm, NULL, pkS);
    if (rc == 0)
        rc = check("shared_secret (decap)", i, e->shared_secret, 32, ss, 32);
    if (rc == 0)
        rc = pa_hpke_key_schedule(&ks, 1, ss, &params, &trace);
    if (rc == 0)
        rc = check("key_schedule_context", i, e->ksc, sizeof e->ksc, trace.key_schedule_context,
                   sizeof trace.key_schedule_context);
    if (rc == 0)
        rc = check("secret", i, e->secret, 32, trace.secret, 32);
    if (rc == 0)
        rc = check_context("key schedule", i, e, &ks);
    pa_wipe(ss, sizeof ss);
    pa_wipe(&trace, sizeof trace);
    pa_hpke_ctx_wipe(&ks);
    GUARD(rc);

    /* the public setup functions, both sides */
    GUARD(pa_hpke_setup_sender_derand(&e->sender, enc, e->pkRm, skS, &params, e->ikmE.p,
                                      e->ikmE.n));
    GUARD(check("enc (setup sender)", i, e->enc, 32, enc, 32));
    GUARD(check_context("sender", i, e, &e->sender));
    GUARD(pa_hpke_setup_receiver(&e->receiver, e->enc, e->skRm, pkS, &params));
    GUARD(check_context("receiver", i, e, &e->receiver));
    return 0;
}

static int replay_encryption(size_t i, size_t k, json_t *o, entry *e)
{
    hbuf pt, aad, nonce, ct;
    uint8_t *got = NULL, *back = NULL, n[PA_HPKE_NN];
    uint64_t seq;
    char zWhat[48];
    int rc;

    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "encryptions[%zu], entry %zu: not an object", k, i);
    GUARD(get_uint(o, i, "seq", UINT32_MAX, &seq));
    pt.p = aad.p = nonce.p = ct.p = NULL;
    rc = get_hex(o, i, "pt", &pt);
    if (rc == 0)
        rc = get_hex(o, i, "aad", &aad);
    if (rc == 0)
        rc = get_hex(o, i, "nonce", &nonce);
    if (rc == 0)
        rc = get_hex(o, i, "ct", &ct);
    if (rc == 0 && (got = malloc(pt.n + PA_HPKE_NT)) == NULL)
        rc = pa_fail(PA_ENOMEM, "encryptions[%zu], entry %zu: ct buffer", k, i);
    if (rc == 0 && (back = malloc(pt.n + 1)) == NULL)
        rc = pa_fail(PA_ENOMEM, "encryptions[%zu], entry %zu: pt buffer", k, i);
    if (rc == 0) {
        pa_hpke_ctx_set_seq(&e->sender, seq);
        pa_hpke_compute_nonce(n, &e->sender);
        snprintf(zWhat, sizeof zWhat, "encryptions[%zu].nonce", k);
        rc = check(zWhat, i, nonce.p, nonce.n, n, sizeof n);
    }
    if (rc == 0)
        rc = pa_hpke_seal(&e->sender, got, aad.p, aad.n, pt.p, pt.n);
    if (rc == 0) {
        snprintf(zWhat, sizeof zWhat, "encryptions[%zu].ct", k);
        rc = check(zWhat, i, ct.p, ct.n, got, pt.n + PA_HPKE_NT);
    }
    if (rc == 0) {
        pa_hpke_ctx_set_seq(&e->receiver, seq);
        rc = pa_hpke_open(&e->receiver, back, aad.p, aad.n, ct.p, ct.n);
        if (rc != 0)
            rc = pa_fail(PA_EVERIFY, "encryptions[%zu].ct, entry %zu: open rejected it (%s)", k,
                         i, pa_strerror(rc));
    }
    if (rc == 0) {
        snprintf(zWhat, sizeof zWhat, "encryptions[%zu].pt (open)", k);
        rc = check(zWhat, i, pt.p, pt.n, back, ct.n - PA_HPKE_NT);
    }
    free(got);
    free(back);
    hbuf_free(&pt);
    hbuf_free(&aad);
    hbuf_free(&nonce);
    hbuf_free(&ct);
    return rc;
}

static int replay_export(size_t i, size_t k, json_t *o, const entry *e)
{
    hbuf ctx, want;
    uint64_t L;
    uint8_t *got = NULL;
    char zWhat[64];
    int rc;

    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "exports[%zu], entry %zu: not an object", k, i);
    GUARD(get_uint(o, i, "L", PA_HPKE_EXPORT_MAX, &L));
    ctx.p = want.p = NULL;
    rc = get_hex(o, i, "exporter_context", &ctx);
    if (rc == 0)
        rc = get_hex(o, i, "exported_value", &want);
    if (rc == 0 && (got = malloc((size_t)L + 1)) == NULL)
        rc = pa_fail(PA_ENOMEM, "exports[%zu], entry %zu: %llu bytes", k, i,
                     (unsigned long long)L);
    for (int side = 0; rc == 0 && side < 2; side++) {
        rc = pa_hpke_export(side == 0 ? &e->sender : &e->receiver, got, (size_t)L, ctx.p, ctx.n);
        if (rc == 0) {
            snprintf(zWhat, sizeof zWhat, "exports[%zu].exported_value (%s)", k,
                     side == 0 ? "sender" : "receiver");
            rc = check(zWhat, i, want.p, want.n, got, (size_t)L);
        }
    }
    free(got);
    hbuf_free(&ctx);
    hbuf_free(&want);
    return rc;
}

static int replay_entry(size_t i, json_t *o)
{
    entry e;
    json_t *a, *x;
    size_t k;
    int rc;

    memset(&e, 0, sizeof e);
    rc = read_entry(o, i, &e);
    if (rc == 0)
        rc = replay_setup(i, &e);
    a = json_object_get(o, "encryptions");
    if (rc == 0 && !json_is_array(a))
        rc = pa_fail(PA_EDECODE, "encryptions, entry %zu: missing or not an array", i);
    json_array_foreach(a, k, x) {
        if (rc != 0)
            break;
        rc = replay_encryption(i, k, x, &e);
    }
    a = json_object_get(o, "exports");
    if (rc == 0 && !json_is_array(a))
        rc = pa_fail(PA_EDECODE, "exports, entry %zu: missing or not an array", i);
    json_array_foreach(a, k, x) {
        if (rc != 0)
            break;
        rc = replay_export(i, k, x, &e);
    }
    entry_free(&e);
    return rc;
}

int pa_conformance_hpke_file(const char *zPath, size_t *pnEntries)
{
    json_error_t err;
    json_t *root, *o;
    size_t i;
    int rc = 0;
    FILE *f;

    if (pnEntries != NULL)
        *pnEntries = 0;
    f = fopen(zPath, "rb");
    if (f == NULL)
        return pa_fail(PA_EIO, "cannot open %s: %s", zPath, strerror(errno));
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (root == NULL)
        return pa_fail(PA_EDECODE, "not valid JSON: %s (line %d, column %d)", err.text, err.line,
                       err.column);
    if (!json_is_array(root) || json_array_size(root) == 0) {
        json_decref(root);
        return pa_fail(PA_EDECODE, "top level: expected a non-empty array of entries");
    }
    json_array_foreach(root, i, o) {
        rc = replay_entry(i, o);
        if (rc != 0)
            break;
        if (pnEntries != NULL)
            (*pnEntries)++;
    }
    json_decref(root);
    return rc;
}
