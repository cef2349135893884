/*
 * Key files and the pairing bundle (see include/privagg/keys.h): generation with
 * libsodium, JSON encoding with jansson, private files created 0600 with O_EXCL;
 * on read opened once with O_NOFOLLOW, checked on the descriptor (regular, ours,
 * no group/other access), the text and the secret strings wiped after decoding.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "json/json_load.h"

static const char *const g_roles[] = {NULL, "agency", "leader", "helper", "collector", "registry"};

const char *pa_role_name(pa_role e)
{
    return (e >= PA_ROLE_AGENCY && e <= PA_ROLE_REGISTRY) ? g_roles[e] : "unknown";
}

int pa_role_parse(pa_role *pRole, const char *zName)
{
    for (int i = PA_ROLE_AGENCY; i <= PA_ROLE_REGISTRY; i++) {
        if (strcmp(zName, g_roles[i]) == 0) {
            *pRole = (pa_role)i;
            return PA_OK;
        }
    }
    return pa_fail(PA_EINVAL, "role: \"%s\" is not one of agency, leader, helper, collector, registry", zName);
}

static int is_aggregator(pa_role e)
{
    return e == PA_ROLE_LEADER || e == PA_ROLE_HELPER;
}

int pa_keys_generate(pa_keys *pKeys, pa_role eRole, const char *zId, uint8_t iConfigId)
{
    memset(pKeys, 0, sizeof *pKeys);
    if (eRole < PA_ROLE_AGENCY || eRole > PA_ROLE_REGISTRY)
        return pa_fail(PA_EINVAL, "role: %d is not a role", (int)eRole);
    pKeys->eRole = eRole;
    if (eRole == PA_ROLE_REGISTRY) { /* Ed25519, no id */
        crypto_sign_keypair(pKeys->aPublic, pKeys->aSecret);
        return PA_OK;
    }
    if (eRole == PA_ROLE_AGENCY) {
        size_t n = zId ? strlen(zId) : 0;
        if (n == 0 || n >= sizeof pKeys->zId)
            return pa_fail(PA_EINVAL, "agency id: length %zu is outside 1..%zu", n,
                           sizeof pKeys->zId - 1);
        memcpy(pKeys->zId, zId, n + 1);
        crypto_sign_keypair(pKeys->aPublic, pKeys->aSecret);
        return PA_OK;
    }
    pKeys->iConfigId = iConfigId;
    crypto_box_keypair(pKeys->aPublic, pKeys->aSecret); /* X25519 */
    if (is_aggregator(eRole))
        randombytes_buf(pKeys->aVerifyKey, sizeof pKeys->aVerifyKey);
    randombytes_buf(pKeys->aToken, sizeof pKeys->aToken);
    pKeys->iTokenId = 1;
    /* the collector signs release manifests, the aggregators their HPKE configuration */
    crypto_sign_keypair(pKeys->aSignPublic, pKeys->aSignSecret);
    pKeys->bSign = 1;
    return PA_OK;
}

int pa_pairing_from_leader(pa_pairing *pPair, const pa_keys *pLeader)
{
    memset(pPair, 0, sizeof *pPair);
    if (pLeader->eRole != PA_ROLE_LEADER)
        return pa_fail(PA_EINVAL, "pairing: keys of role %s; only the leader's keys make a bundle",
                       pa_role_name(pLeader->eRole));
    memcpy(pPair->aVerifyKey, pLeader->aVerifyKey, sizeof pPair->aVerifyKey);
    memcpy(pPair->aToken, pLeader->aToken, sizeof pPair->aToken);
    return PA_OK;
}

int pa_pairing_apply(pa_keys *pHelper, const pa_pairing *pPair)
{
    if (pHelper->eRole != PA_ROLE_HELPER)
        return pa_fail(PA_EINVAL, "pairing: keys of role %s; a bundle is applied to the helper's keys",
                       pa_role_name(pHelper->eRole));
    memcpy(pHelper->aVerifyKey, pPair->aVerifyKey, sizeof pHelper->aVerifyKey);
    memcpy(pHelper->aToken, pPair->aToken, sizeof pHelper->aToken);
    return PA_OK;
}

void pa_pairing_wipe(pa_pairing *pPair)
{
    sodium_memzero(pPair, sizeof *pPair);
}

void pa_keys_wipe(pa_keys *pKeys)
{
    sodium_memzero(pKeys->aSecret, sizeof pKeys->aSecret);
    sodium_memzero(pKeys->aVerifyKey, sizeof pKeys->aVerifyKey);
    sodium_memzero(pKeys->aToken, sizeof pKeys->aToken);
    sodium_memzero(pKeys->aSignSecret, sizeof pKeys->aSignSecret);
    sodium_memzero(pKeys->aOld, sizeof pKeys->aOld);
    sodium_memzero(&pKeys->sNew, sizeof pKeys->sNew);
    sodium_memzero(pKeys->aOldToken, sizeof pKeys->aOldToken);
}

const char *pa_hpke_key_state_name(pa_hpke_key_state e)
{
    switch (e) {
    case PA_HPKE_KEY_CURRENT: return "current";
    case PA_HPKE_KEY_NEW: return "new";
    case PA_HPKE_KEY_RETIRING: return "retiring";
    }
    return "unknown";
}

size_t pa_keys_hpke_list(const pa_keys *pKeys, pa_hpke_key_ref aOut[PA_KEYS_MAX_HPKE])
{
    size_t n = 0;
    aOut[n++] = (pa_hpke_key_ref){pKeys->iConfigId, PA_HPKE_KEY_CURRENT, 0, pKeys->aPublic, pKeys->aSecret};
    if (pKeys->bNew)
        aOut[n++] = (pa_hpke_key_ref){pKeys->sNew.iConfigId, PA_HPKE_KEY_NEW, 0, pKeys->sNew.aPublic,
                                      pKeys->sNew.aSecret};
    for (size_t i = 0; i < pKeys->nOld && i < PA_KEYS_MAX_OLD; i++)
        aOut[n++] = (pa_hpke_key_ref){pKeys->aOld[i].iConfigId, PA_HPKE_KEY_RETIRING, pKeys->aOld[i].tNotAfter,
                                      pKeys->aOld[i].aPublic, pKeys->aOld[i].aSecret};
    return n;
}

int pa_keys_hpke_find(const pa_keys *pKeys, unsigned iId, pa_hpke_key_ref *pOut)
{
    pa_hpke_key_ref a[PA_KEYS_MAX_HPKE];
    size_t n = pa_keys_hpke_list(pKeys, a);
    for (size_t i = 0; i < n; i++)
        if (a[i].iConfigId == iId) {
            *pOut = a[i];
            return 1;
        }
    return 0;
}

static int holds_config_id(const pa_keys *k, unsigned iId)
{
    pa_hpke_key_ref r;
    return pa_keys_hpke_find(k, iId, &r);
}

/* "held: current 2, new 3, retiring 1" */
static void held_list(const pa_keys *k, char *z, size_t nZ)
{
    pa_hpke_key_ref a[PA_KEYS_MAX_HPKE];
    size_t n = pa_keys_hpke_list(k, a);
    int m = snprintf(z, nZ, "held:");
    for (size_t i = 0; i < n && m > 0 && (size_t)m < nZ; i++)
        m += snprintf(z + m, nZ - (size_t)m, "%s %s %u", i ? "," : "", pa_hpke_key_state_name(a[i].eState),
                      (unsigned)a[i].iConfigId);
}

int pa_keys_stage(pa_keys *pKeys)
{
    unsigned iId = pKeys->iConfigId;

    if (!is_aggregator(pKeys->eRole))
        return pa_fail(PA_EINVAL, "stage: keys of role %s; only the leader's and the helper's HPKE "
                       "keys rotate", pa_role_name(pKeys->eRole));
    if (pKeys->bNew)
        return pa_fail(PA_EEXISTS, "stage: config id %u is staged already (state new); promote it (keygen "
                       "--promote %u) or drop it (keygen --retire %u)", (unsigned)pKeys->sNew.iConfigId,
                       (unsigned)pKeys->sNew.iConfigId, (unsigned)pKeys->sNew.iConfigId);
    if (pKeys->nOld >= PA_KEYS_MAX_OLD)
        return pa_fail(PA_ERANGE, "stage: %zu older keys held already, the most a key file keeps (promoting "
                       "a new key adds one); retire one first (keygen --retire ID)", pKeys->nOld);
    do
        iId = (iId + 1) & 0xff;
    while (holds_config_id(pKeys, iId));
    memset(&pKeys->sNew, 0, sizeof pKeys->sNew);
    pKeys->sNew.iConfigId = (uint8_t)iId;
    crypto_box_keypair(pKeys->sNew.aPublic, pKeys->sNew.aSecret); /* X25519 */
    pKeys->bNew = 1;
    return PA_OK;
}

int pa_keys_promote(pa_keys *pKeys, unsigned iId, int64_t tOldNotAfter)
{
    pa_hpke_key_ref r;
    char zHeld[160];

    if (!is_aggregator(pKeys->eRole))
        return pa_fail(PA_EINVAL, "promote: keys of role %s; only the leader's and the helper's HPKE "
                       "keys rotate", pa_role_name(pKeys->eRole));
    if (tOldNotAfter < 0)
        return pa_fail(PA_EINVAL, "promote: an expiry before 1970");
    held_list(pKeys, zHeld, sizeof zHeld);
    if (!pa_keys_hpke_find(pKeys, iId, &r))
        return pa_fail(PA_ENOTFOUND, "promote: no key has config id %u (%s); stage one first (keygen "
                       "--stage)", iId, zHeld);
    if (r.eState != PA_HPKE_KEY_NEW)
        return pa_fail(PA_EINVAL, "promote: config id %u is the %s key, not a new one (%s); only a key "
                       "staged with keygen --stage is promoted", iId, pa_hpke_key_state_name(r.eState), zHeld);
    if (pKeys->nOld >= PA_KEYS_MAX_OLD)
        return pa_fail(PA_ERANGE, "promote: %zu older keys held already, the most a key file keeps; "
                       "retire one first (keygen --retire ID)", pKeys->nOld);
    memmove(&pKeys->aOld[1], &pKeys->aOld[0], pKeys->nOld * sizeof pKeys->aOld[0]);
    pKeys->aOld[0].iConfigId = pKeys->iConfigId;
    memcpy(pKeys->aOld[0].aPublic, pKeys->aPublic, 32);
    memcpy(pKeys->aOld[0].aSecret, pKeys->aSecret, 32);
    pKeys->aOld[0].tNotAfter = tOldNotAfter;
    pKeys->nOld++;
    pKeys->iConfigId = pKeys->sNew.iConfigId;
    memcpy(pKeys->aPublic, pKeys->sNew.aPublic, 32);
    memcpy(pKeys->aSecret, pKeys->sNew.aSecret, 32);
    sodium_memzero(&pKeys->sNew, sizeof pKeys->sNew);
    pKeys->bNew = 0;
    return PA_OK;
}

int pa_keys_rotate(pa_keys *pKeys)
{
    if (pKeys->bNew && is_aggregator(pKeys->eRole))
        return pa_fail(PA_EEXISTS, "rotate: config id %u is staged (state new); promote it (keygen --promote "
                       "%u) or drop it (keygen --retire %u)", (unsigned)pKeys->sNew.iConfigId,
                       (unsigned)pKeys->sNew.iConfigId, (unsigned)pKeys->sNew.iConfigId);
    PA_GUARD(pa_keys_stage(pKeys));
    return pa_keys_promote(pKeys, pKeys->sNew.iConfigId, 0);
}

int pa_keys_retire(pa_keys *pKeys, unsigned iId)
{
    if (iId == pKeys->iConfigId)
        return pa_fail(PA_EINVAL, "retire: config id %u is the current key (the one agencies seal to); "
                       "rotate first (keygen --stage, then --promote)", iId);
    if (pKeys->bNew && pKeys->sNew.iConfigId == iId) {
        sodium_memzero(&pKeys->sNew, sizeof pKeys->sNew);
        pKeys->bNew = 0;
        return PA_OK;
    }
    for (size_t i = 0; i < pKeys->nOld; i++) {
        if (pKeys->aOld[i].iConfigId != iId)
            continue;
        sodium_memzero(&pKeys->aOld[i], sizeof pKeys->aOld[i]);
        memmove(&pKeys->aOld[i], &pKeys->aOld[i + 1], (pKeys->nOld - i - 1) * sizeof pKeys->aOld[0]);
        pKeys->nOld--;
        sodium_memzero(&pKeys->aOld[pKeys->nOld], sizeof pKeys->aOld[0]);
        return PA_OK;
    }
    char zHeld[160];
    held_list(pKeys, zHeld, sizeof zHeld);
    return pa_fail(PA_ENOTFOUND, "retire: no key has config id %u (%s)", iId, zHeld);
}

int pa_keys_expire(pa_keys *pKeys, unsigned iId, int64_t tNotAfter)
{
    if (tNotAfter < 0)
        return pa_fail(PA_EINVAL, "expire: a time before 1970");
    if (iId == pKeys->iConfigId)
        return pa_fail(PA_EINVAL, "expire: config id %u is the current key; rotate first (keygen --stage, "
                       "then --promote ID --old-expires WHEN)", iId);
    if (pKeys->bNew && pKeys->sNew.iConfigId == iId)
        return pa_fail(PA_EINVAL, "expire: config id %u is the new (staged) key, which does not expire; "
                       "promote it (keygen --promote %u) or drop it (keygen --retire %u)", iId, iId, iId);
    for (size_t i = 0; i < pKeys->nOld; i++)
        if (pKeys->aOld[i].iConfigId == iId) {
            pKeys->aOld[i].tNotAfter = tNotAfter;
            return PA_OK;
        }
    char zHeld[160];
    held_list(pKeys, zHeld, sizeof zHeld);
    return pa_fail(PA_ENOTFOUND, "expire: no key has config id %u (%s)", iId, zHeld);
}

static json_t *hex_value(const uint8_t *p, size_t n)
{
    char z[2 * 64 + 1];
    sodium_bin2hex(z, sizeof z, p, n);
    json_t *v = json_string(z);
    sodium_memzero(z, sizeof z);
    return v;
}

static json_t *to_json(const pa_keys *k, int bPrivate)
{
    json_t *o = json_object();
    json_object_set_new(o, "role", json_string(pa_role_name(k->eRole)));
    if (k->eRole == PA_ROLE_AGENCY || k->eRole == PA_ROLE_REGISTRY) {
        if (k->eRole == PA_ROLE_AGENCY)
            json_object_set_new(o, "id", json_string(k->zId));
        json_object_set_new(o, "public_key", hex_value(k->aPublic, 32));
        if (bPrivate)
            json_object_set_new(o, "secret_key", hex_value(k->aSecret, 64));
        return o;
    }
    json_object_set_new(o, "hpke_config_id", json_integer(k->iConfigId));
    json_object_set_new(o, "hpke_public_key", hex_value(k->aPublic, 32));
    if (bPrivate) {
        json_object_set_new(o, "hpke_secret_key", hex_value(k->aSecret, 32));
        if (is_aggregator(k->eRole)) {
            if (k->nOld > 0) {
                json_t *a = json_array();
                for (size_t i = 0; i < k->nOld; i++) {
                    json_t *e = json_object();
                    json_object_set_new(e, "hpke_config_id", json_integer(k->aOld[i].iConfigId));
                    json_object_set_new(e, "hpke_public_key", hex_value(k->aOld[i].aPublic, 32));
                    json_object_set_new(e, "hpke_secret_key", hex_value(k->aOld[i].aSecret, 32));
                    if (k->aOld[i].tNotAfter > 0)
                        json_object_set_new(e, "not_after", json_integer(k->aOld[i].tNotAfter));
                    json_array_append_new(a, e);
                }
                json_object_set_new(o, "previous_hpke_keys", a);
            }
            if (k->bNew)
                json_object_set_new(o, "new_hpke_key",
                                    json_pack("{s:i, s:o, s:o}", "hpke_config_id", (int)k->sNew.iConfigId,
                                              "hpke_public_key", hex_value(k->sNew.aPublic, 32),
                                              "hpke_secret_key", hex_value(k->sNew.aSecret, 32)));
            json_object_set_new(o, "verify_key", hex_value(k->aVerifyKey, PA_VERIFY_KEY_SIZE));
            json_object_set_new(o, "peer_token", hex_value(k->aToken, PA_TOKEN_SIZE));
            json_object_set_new(o, "peer_token_id", json_integer(k->iTokenId ? k->iTokenId : 1));
            if (k->nOldToken > 0) {
                json_t *a = json_array();
                for (size_t i = 0; i < k->nOldToken; i++) {
                    json_t *e = json_pack("{s:i, s:o}", "id", (int)k->aOldToken[i].iId, "token",
                                          hex_value(k->aOldToken[i].aToken, PA_TOKEN_SIZE));
                    if (k->aOldToken[i].tNotAfter > 0)
                        json_object_set_new(e, "not_after", json_integer(k->aOldToken[i].tNotAfter));
                    json_array_append_new(a, e);
                }
                json_object_set_new(o, "previous_peer_tokens", a);
            }
        } else {
            json_object_set_new(o, "bearer_token", hex_value(k->aToken, PA_TOKEN_SIZE));
            json_object_set_new(o, "bearer_token_id", json_integer(k->iTokenId ? k->iTokenId : 1));
        }
    }
    if (k->eRole != PA_ROLE_AGENCY && k->bSign) {
        json_object_set_new(o, "signing_public_key", hex_value(k->aSignPublic, 32));
        if (bPrivate)
            json_object_set_new(o, "signing_secret_key", hex_value(k->aSignSecret, 64));
    }
    return o;
}

/* Write text to zPath with mode, refusing to replace an existing file. */
static int write_new_file(const char *zPath, const char *zText, mode_t mode)
{
    int fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL, mode);
    size_t n = strlen(zText), done = 0;

    if (fd < 0)
        return pa_fail(errno == EEXIST ? PA_EEXISTS : PA_EIO, "%s: %s", zPath, strerror(errno));
    while (done < n) {
        ssize_t w = write(fd, zText + done, n - done);
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(zPath);
            return pa_fail(PA_EIO, "%s: %s", zPath, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(zPath);
        return pa_fail(PA_EIO, "%s: cannot flush", zPath);
    }
    return PA_OK;
}

int pa_keys_write_json(const char *zPath, const json_t *o, unsigned mode)
{
    /* json_dumpb into a buffer of ours: json_dumps grows its own buffer and frees
     * the outgrown copies without wiping them */
    size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS, n = json_dumpb(o, NULL, 0, flags);
    char *z;
    int rc;

    if (n == 0)
        return pa_fail(PA_ENOMEM, "%s: cannot encode", zPath);
    z = malloc(n + 2);
    if (z == NULL)
        return pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    if (json_dumpb(o, z, n, flags) != n) {
        sodium_memzero(z, n + 2);
        free(z);
        return pa_fail(PA_EINTERNAL, "%s: the encoding changed size", zPath);
    }
    z[n] = '\n';
    z[n + 1] = '\0';
    rc = write_new_file(zPath, z, (mode_t)mode);
    sodium_memzero(z, n + 2);
    free(z);
    return rc;
}

int pa_keys_write(const pa_keys *pKeys, const char *zPrefix)
{
    char zPath[4096];
    json_t *o;
    int rc;

    if (snprintf(zPath, sizeof zPath, "%s.key", zPrefix) >= (int)sizeof zPath)
        return pa_fail(PA_ERANGE, "key path: longer than %zu bytes", sizeof zPath);
    o = to_json(pKeys, 1);
    rc = pa_keys_write_json(zPath, o, 0600);
    pa_keys_json_wipe(o); /* jansson frees its strings without wiping them */
    json_decref(o);
    if (rc != PA_OK)
        return rc;
    snprintf(zPath, sizeof zPath, "%s.pub", zPrefix);
    o = to_json(pKeys, 0);
    rc = pa_keys_write_json(zPath, o, 0644);
    json_decref(o);
    return rc;
}

/* Flush the folder of zPath, so that a rename into it survives a crash. */
static int sync_folder(const char *zPath)
{
    char zDir[4200];
    const char *zSlash = strrchr(zPath, '/');
    int fd, rc = 0;

    if (zSlash == NULL)
        snprintf(zDir, sizeof zDir, ".");
    else
        snprintf(zDir, sizeof zDir, "%.*s", zSlash == zPath ? 1 : (int)(zSlash - zPath), zPath);
    fd = open(zDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    return rc;
}

int pa_keys_replace_json(const char *zPath, const json_t *o, unsigned mode)
{
    char zTmp[4200];
    unsigned char aRand[6];
    char zRand[13];

    randombytes_buf(aRand, sizeof aRand);
    sodium_bin2hex(zRand, sizeof zRand, aRand, sizeof aRand);
    if (snprintf(zTmp, sizeof zTmp, "%s.tmp-%s", zPath, zRand) >= (int)sizeof zTmp)
        return pa_fail(PA_ERANGE, "key path: longer than %zu bytes", sizeof zTmp - 20);
    PA_GUARD(pa_keys_write_json(zTmp, o, mode));
    if (rename(zTmp, zPath) != 0) {
        int e = errno;
        unlink(zTmp);
        return pa_fail(PA_EIO, "%s: cannot replace it: %s (the old file is unchanged)", zPath, strerror(e));
    }
    if (sync_folder(zPath) != 0)
        return pa_fail(PA_EIO, "%s: replaced, but its folder could not be flushed: %s (a crash now may bring "
                       "back the old file; run the command again if it does)", zPath, strerror(errno));
    return PA_OK;
}

int pa_keys_replace(const pa_keys *pKeys, const char *zPrefix)
{
    char zPath[4096];
    struct stat st;
    json_t *o;
    int rc;

    if (snprintf(zPath, sizeof zPath, "%s.key", zPrefix) >= (int)sizeof zPath)
        return pa_fail(PA_ERANGE, "key path: longer than %zu bytes", sizeof zPath);
    if (lstat(zPath, &st) != 0 || !S_ISREG(st.st_mode))
        return pa_fail(PA_ENOTFOUND, "%s: no such key file to replace", zPath);
    o = to_json(pKeys, 1);
    rc = pa_keys_replace_json(zPath, o, 0600);
    pa_keys_json_wipe(o);
    json_decref(o);
    if (rc != PA_OK)
        return rc;
    snprintf(zPath, sizeof zPath, "%s.pub", zPrefix);
    o = to_json(pKeys, 0);
    rc = pa_keys_replace_json(zPath, o, 0644);
    json_decref(o);
    return rc;
}

void pa_keys_json_wipe(json_t *pJson)
{
    const char *zKey;
    json_t *v;
    size_t i;

    if (json_is_string(pJson)) {
        /* jansson owns a writable copy of every string; overwrite it in place */
        sodium_memzero((char *)json_string_value(pJson), json_string_length(pJson));
    } else if (json_is_object(pJson)) {
        json_object_foreach(pJson, zKey, v)
            pa_keys_json_wipe(v);
    } else if (json_is_array(pJson)) {
        json_array_foreach(pJson, i, v)
            pa_keys_json_wipe(v);
    }
}

#define PA_KEYS_MAX_FILE ((size_t)1 << 20)

int pa_keys_load_json(json_t **ppRoot, struct stat *pSt, const char *zPath)
{
    json_error_t err;
    char *zText;
    size_t nText = 0, nAlloc;
    int fd, e;

    *ppRoot = NULL;
    /* one open: every later check and the read use this descriptor, so the file
     * checked is the file read (no stat-then-open race, no symbolic link) */
    fd = open(zPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        e = errno;
        if (e == ELOOP)
            return pa_fail(PA_EIO, "%s: is a symbolic link; give the path of the file itself", zPath);
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(e));
    }
    if (fstat(fd, pSt) != 0) {
        e = errno;
        close(fd);
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(e));
    }
    if (!S_ISREG(pSt->st_mode)) {
        close(fd);
        return pa_fail(PA_EIO, "%s: not a regular file", zPath);
    }
    if ((size_t)pSt->st_size > PA_KEYS_MAX_FILE) {
        close(fd);
        return pa_fail(PA_ERANGE, "%s: %lld bytes, above the %zu of a key or config file", zPath,
                       (long long)pSt->st_size, PA_KEYS_MAX_FILE);
    }
    nAlloc = (size_t)pSt->st_size + 1; /* one more: a file that grew is noticed */
    zText = sodium_init() < 0 ? NULL : sodium_malloc(nAlloc); /* sodium_free wipes it */
    if (zText == NULL) {
        close(fd);
        return pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    }
    while (nText < nAlloc) {
        ssize_t r = read(fd, zText + nText, nAlloc - nText);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = errno;
            close(fd);
            sodium_free(zText);
            return pa_fail(PA_EIO, "%s: %s", zPath, strerror(e));
        }
        if (r == 0)
            break;
        nText += (size_t)r;
    }
    close(fd);
    if (nText == nAlloc) {
        sodium_free(zText);
        return pa_fail(PA_EIO, "%s: changed while being read; try again", zPath);
    }
    *ppRoot = pa_json_loadb(zText, nText, JSON_REJECT_DUPLICATES, &err);
    sodium_free(zText);
    if (*ppRoot == NULL)
        return pa_fail(pa_json_load_status(&err),
                       "%s: line %d: %s", zPath, err.line, err.text);
    return PA_OK;
}

int pa_keys_check_private(const struct stat *pSt, const char *zPath, const char *zWhat)
{
    if (pSt->st_uid != geteuid())
        return pa_fail(PA_EAUTH, "%s: owned by uid %u, not by this user (uid %u), and holds %s; "
                       "chown it or run as its owner", zPath, (unsigned)pSt->st_uid,
                       (unsigned)geteuid(), zWhat);
    if ((pSt->st_mode & 077) != 0)
        return pa_fail(PA_EAUTH, "%s: mode %03o lets others read %s; expected 0600 (chmod 600)", zPath,
                       (unsigned)(pSt->st_mode & 0777), zWhat);
    return PA_OK;
}

static int read_hex(const json_t *o, const char *zFile, const char *zKey, uint8_t *p, size_t n)
{
    json_t *v = json_object_get(o, zKey);
    size_t nBin = 0;
    if (!json_is_string(v) || json_string_length(v) != 2 * n ||
        sodium_hex2bin(p, n, json_string_value(v), 2 * n, NULL, &nBin, NULL) != 0 || nBin != n)
        return pa_fail(PA_EDECODE, "%s: %s: expected %zu hex digits", zFile, zKey, 2 * n);
    return PA_OK;
}

/* A token id: optional (1 when absent: files written before ids), 1..65535. */
static int read_token_id(const json_t *o, const char *zFile, const char *zKey, unsigned *piId)
{
    json_t *v = json_object_get(o, zKey);
    if (v == NULL) {
        *piId = 1;
        return PA_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
        return pa_fail(PA_EDECODE, "%s: %s: expected 1..65535", zFile, zKey);
    *piId = (unsigned)json_integer_value(v);
    return PA_OK;
}

/* "previous_peer_tokens": the older peer tokens the helper still accepts. */
static int parse_old_tokens(pa_keys *k, const json_t *o, const char *zPath)
{
    json_t *a = json_object_get(o, "previous_peer_tokens"), *e, *v;
    size_t i;
    char zWhere[4200];

    if (a == NULL)
        return PA_OK;
    if (!json_is_array(a) || json_array_size(a) > PA_KEYS_MAX_OLD)
        return pa_fail(PA_EDECODE, "%s: previous_peer_tokens: expected an array of at most %d tokens", zPath,
                       PA_KEYS_MAX_OLD);
    json_array_foreach(a, i, e) {
        pa_old_token *p = &k->aOldToken[i];
        snprintf(zWhere, sizeof zWhere, "%s: previous_peer_tokens[%zu]", zPath, i);
        if (!json_is_object(e))
            return pa_fail(PA_EDECODE, "%s: not an object", zWhere);
        PA_GUARD(read_token_id(e, zWhere, "id", &p->iId));
        if (json_object_get(e, "id") == NULL || p->iId == k->iTokenId)
            return pa_fail(PA_EDECODE, "%s: id: missing, or the current token's", zWhere);
        PA_GUARD(read_hex(e, zWhere, "token", p->aToken, PA_TOKEN_SIZE));
        v = json_object_get(e, "not_after");
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
            return pa_fail(PA_EDECODE, "%s: not_after: a time in unix seconds", zWhere);
        p->tNotAfter = v != NULL ? (int64_t)json_integer_value(v) : 0;
        k->nOldToken = i + 1;
    }
    return PA_OK;
}

/* zPath with ".pub" replaced by ".key", for the message naming the private file. */
static void private_name(char *z, size_t n, const char *zPath)
{
    size_t nPath = strlen(zPath);
    if (nPath > 4 && strcmp(zPath + nPath - 4, ".pub") == 0)
        snprintf(z, n, "%.*s.key", (int)(nPath - 4), zPath);
    else
        snprintf(z, n, "the PREFIX.key that keygen wrote beside it");
}

/* One HPKE key of an aggregator's private file (an entry of previous_hpke_keys,
 * or new_hpke_key) into p: its config id in 0..255 and held by no key read
 * before it, its public and secret keys, the secret matching the public key.
 * (json_object_get of a non-object is NULL: refused as a missing config id.) */
static int read_held_key(const pa_keys *k, const json_t *e, const char *zWhere, pa_hpke_held_key *p)
{
    const json_t *v = json_object_get(e, "hpke_config_id");
    uint8_t aDerived[32];

    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
        return pa_fail(PA_EDECODE, "%s: hpke_config_id: missing or outside 0..255", zWhere);
    if (holds_config_id(k, (unsigned)json_integer_value(v)))
        return pa_fail(PA_EDECODE, "%s: hpke_config_id %d is held twice", zWhere, (int)json_integer_value(v));
    PA_GUARD(read_hex(e, zWhere, "hpke_public_key", p->aPublic, 32));
    PA_GUARD(read_hex(e, zWhere, "hpke_secret_key", p->aSecret, 32));
    crypto_scalarmult_base(aDerived, p->aSecret);
    if (sodium_memcmp(aDerived, p->aPublic, 32) != 0)
        return pa_fail(PA_EDECODE, "%s: the secret key does not match the public key", zWhere);
    p->iConfigId = (uint8_t)json_integer_value(v);
    return PA_OK;
}

/* "previous_hpke_keys" of an aggregator's private file (optional: files written
 * before rotation existed have none): at most PA_KEYS_MAX_OLD entries, distinct
 * config ids, each secret matching its public key. */
static int parse_old_keys(pa_keys *k, const json_t *o, const char *zPath)
{
    json_t *a = json_object_get(o, "previous_hpke_keys"), *e, *v;
    size_t i;

    if (a == NULL)
        return PA_OK;
    if (!json_is_array(a) || json_array_size(a) > PA_KEYS_MAX_OLD)
        return pa_fail(PA_EDECODE, "%s: previous_hpke_keys: expected an array of at most %d keys", zPath,
                       PA_KEYS_MAX_OLD);
    json_array_foreach(a, i, e) {
        pa_hpke_held_key *p = &k->aOld[i];
        char zWhere[4200];
        snprintf(zWhere, sizeof zWhere, "%s: previous_hpke_keys[%zu]", zPath, i);
        PA_GUARD(read_held_key(k, e, zWhere, p));
        v = json_object_get(e, "not_after");
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
            return pa_fail(PA_EDECODE, "%s: not_after: a time in unix seconds (0 or more)", zWhere);
        p->tNotAfter = v != NULL ? (int64_t)json_integer_value(v) : 0;
        k->nOld = i + 1;
    }
    return PA_OK;
}

/* "new_hpke_key" of an aggregator's private file (optional): the key staged
 * ahead of a rotation (keygen --stage), its config id not held otherwise, its
 * secret matching its public key, and no expiry (a new key does not expire). */
static int parse_new_key(pa_keys *k, const json_t *o, const char *zPath)
{
    static const char *const azKeys[] = {"hpke_config_id", "hpke_public_key", "hpke_secret_key", NULL};
    const json_t *e = json_object_get(o, "new_hpke_key"), *v;
    const char *zKey;
    char zWhere[4200];

    if (e == NULL)
        return PA_OK;
    snprintf(zWhere, sizeof zWhere, "%s: new_hpke_key", zPath);
    if (!json_is_object(e))
        return pa_fail(PA_EDECODE, "%s: not an object", zWhere);
    json_object_foreach((json_t *)e, zKey, v) {
        size_t i = 0;
        while (azKeys[i] != NULL && strcmp(azKeys[i], zKey) != 0)
            i++;
        if (azKeys[i] == NULL)
            return pa_fail(PA_EDECODE, "%s: \"%.64s\": unknown field (a new key has hpke_config_id, "
                           "hpke_public_key and hpke_secret_key only; it does not expire)", zWhere, zKey);
    }
    PA_GUARD(read_held_key(k, e, zWhere, &k->sNew));
    k->bNew = 1;
    return PA_OK;
}

/* Every member a key file may hold (what pa_keys_write writes): any other is a
 * typo or another kind of file, refused with its name. */
static const char *const KEY_FIELDS[] = {
    "role", "id", "public_key", "secret_key", "hpke_config_id", "hpke_public_key", "hpke_secret_key",
    "previous_hpke_keys", "new_hpke_key", "verify_key", "peer_token", "peer_token_id", "previous_peer_tokens",
    "bearer_token", "bearer_token_id", "signing_public_key", "signing_secret_key", NULL};

static int only_key_fields(const json_t *o, const char *zPath)
{
    const char *zKey;
    json_t *v;
    json_object_foreach((json_t *)o, zKey, v) {
        size_t i = 0;
        while (KEY_FIELDS[i] != NULL && strcmp(KEY_FIELDS[i], zKey) != 0)
            i++;
        if (KEY_FIELDS[i] == NULL)
            return pa_fail(PA_EDECODE, "%s: \"%.64s\": unknown field (a key file holds role, id or hpke_*, "
                           "keys and tokens as privagg keygen writes them); remove it or use the file keygen wrote",
                           zPath, zKey);
    }
    return PA_OK;
}

static int parse_keys(pa_keys *k, const json_t *o, const char *zPath, int bPrivate)
{
    json_t *v = json_object_get(o, "role");
    const char *zSecret;
    int rc = PA_OK;

    PA_GUARD(only_key_fields(o, zPath));
    if (!json_is_string(v) || pa_role_parse(&k->eRole, json_string_value(v)) != PA_OK)
        return pa_fail(PA_EDECODE, "%s: role: missing or not a role", zPath);
    zSecret = k->eRole == PA_ROLE_AGENCY || k->eRole == PA_ROLE_REGISTRY ? "secret_key" : "hpke_secret_key";
    if (bPrivate && json_object_get(o, zSecret) == NULL) {
        char zKey[4200];
        private_name(zKey, sizeof zKey, zPath);
        return pa_fail(PA_EDECODE, "%s: a public key file (no %s), not a private one; give the "
                       "private key file, %s", zPath, zSecret, zKey);
    }
    if (k->eRole == PA_ROLE_REGISTRY) {
        PA_GUARD(read_hex(o, zPath, "public_key", k->aPublic, 32));
        if (bPrivate)
            PA_GUARD(read_hex(o, zPath, "secret_key", k->aSecret, 64));
        return PA_OK;
    }
    if (k->eRole == PA_ROLE_AGENCY) {
        v = json_object_get(o, "id");
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= sizeof k->zId)
            return pa_fail(PA_EDECODE, "%s: id: missing or longer than %zu", zPath, sizeof k->zId - 1);
        memcpy(k->zId, json_string_value(v), json_string_length(v) + 1);
        PA_GUARD(read_hex(o, zPath, "public_key", k->aPublic, 32));
        if (bPrivate)
            PA_GUARD(read_hex(o, zPath, "secret_key", k->aSecret, 64));
        return PA_OK;
    }
    v = json_object_get(o, "hpke_config_id");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
        return pa_fail(PA_EDECODE, "%s: hpke_config_id: missing or outside 0..255", zPath);
    k->iConfigId = (uint8_t)json_integer_value(v);
    PA_GUARD(read_hex(o, zPath, "hpke_public_key", k->aPublic, 32));
    if (bPrivate)
        PA_GUARD(read_hex(o, zPath, "hpke_secret_key", k->aSecret, 32));
    if (bPrivate && is_aggregator(k->eRole)) {
        PA_GUARD(parse_old_keys(k, o, zPath));
        PA_GUARD(parse_new_key(k, o, zPath));
    }
    if (bPrivate && is_aggregator(k->eRole)) {
        PA_GUARD(read_hex(o, zPath, "verify_key", k->aVerifyKey, PA_VERIFY_KEY_SIZE));
        PA_GUARD(read_hex(o, zPath, "peer_token", k->aToken, PA_TOKEN_SIZE));
        PA_GUARD(read_token_id(o, zPath, "peer_token_id", &k->iTokenId));
        PA_GUARD(parse_old_tokens(k, o, zPath));
    }
    if (bPrivate && k->eRole == PA_ROLE_COLLECTOR) {
        rc = read_hex(o, zPath, "bearer_token", k->aToken, PA_TOKEN_SIZE);
        if (rc == PA_OK)
            rc = read_token_id(o, zPath, "bearer_token_id", &k->iTokenId);
    }
    /* the manifest signing key came later: optional, both halves or neither */
    if (rc == PA_OK && k->eRole != PA_ROLE_AGENCY && json_object_get(o, "signing_public_key") != NULL) {
        PA_GUARD(read_hex(o, zPath, "signing_public_key", k->aSignPublic, 32));
        if (bPrivate) {
            uint8_t aDerived[32];
            PA_GUARD(read_hex(o, zPath, "signing_secret_key", k->aSignSecret, 64));
            crypto_sign_ed25519_sk_to_pk(aDerived, k->aSignSecret);
            if (sodium_memcmp(aDerived, k->aSignPublic, 32) != 0)
                return pa_fail(PA_EDECODE, "%s: signing_secret_key does not match signing_public_key", zPath);
        }
        k->bSign = 1;
    } else if (rc == PA_OK && json_object_get(o, "signing_secret_key") != NULL) {
        return pa_fail(PA_EDECODE, "%s: signing_secret_key without signing_public_key", zPath);
    }
    return rc;
}

static int read_file(pa_keys *k, const char *zPath, int bPrivate)
{
    struct stat st;
    json_t *o;
    int rc;

    memset(k, 0, sizeof *k);
    PA_GUARD(pa_keys_load_json(&o, &st, zPath));
    /* what the file is comes first, so that a public file given for a private one
     * is named as such (not as a private key that others may read) */
    rc = parse_keys(k, o, zPath, bPrivate);
    if (rc == PA_OK && bPrivate)
        rc = pa_keys_check_private(&st, zPath, "a private key");
    pa_keys_json_wipe(o);
    json_decref(o);
    if (rc == PA_OK && bPrivate) {
        uint8_t aDerived[32];
        if (k->eRole == PA_ROLE_AGENCY || k->eRole == PA_ROLE_REGISTRY)
            crypto_sign_ed25519_sk_to_pk(aDerived, k->aSecret);
        else
            crypto_scalarmult_base(aDerived, k->aSecret);
        if (sodium_memcmp(aDerived, k->aPublic, 32) != 0)
            rc = pa_fail(PA_EDECODE, "%s: the secret key does not match the public key", zPath);
    }
    if (rc != PA_OK)
        pa_keys_wipe(k);
    return rc;
}

int pa_keys_read_private(pa_keys *pKeys, const char *zPath)
{
    return read_file(pKeys, zPath, 1);
}

int pa_keys_read_public(pa_keys *pKeys, const char *zPath)
{
    return read_file(pKeys, zPath, 0);
}

/* ------------------------------------------------------------ pairing bundle */

#define PA_PAIRING_FORMAT "privagg-pairing-1"

int pa_pairing_write(const pa_pairing *pPair, const char *zPath)
{
    json_t *o = json_object();
    int rc;

    json_object_set_new(o, "format", json_string(PA_PAIRING_FORMAT));
    json_object_set_new(o, "verify_key", hex_value(pPair->aVerifyKey, PA_VERIFY_KEY_SIZE));
    json_object_set_new(o, "peer_token", hex_value(pPair->aToken, PA_TOKEN_SIZE));
    rc = pa_keys_write_json(zPath, o, 0600);
    pa_keys_json_wipe(o);
    json_decref(o);
    return rc;
}

static int parse_pairing(pa_pairing *p, const json_t *o, const char *zPath)
{
    static const char *const azKeys[] = {"format", "verify_key", "peer_token"};
    const char *zKey;
    json_t *v;

    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "%s: a pairing bundle is a JSON object", zPath);
    if (json_object_get(o, "role") != NULL || json_object_get(o, "hpke_secret_key") != NULL ||
        json_object_get(o, "secret_key") != NULL)
        return pa_fail(PA_EINVAL, "%s: a key file, not a pairing bundle; never give another "
                       "party's key file: the leader's keygen --pairing-out wrote the bundle", zPath);
    json_object_foreach((json_t *)o, zKey, v) {
        size_t i = 0;
        while (i < 3 && strcmp(zKey, azKeys[i]) != 0)
            i++;
        if (i == 3)
            return pa_fail(PA_EDECODE, "%s: %s: not a field of a pairing bundle (format, verify_key, "
                           "peer_token only)", zPath, zKey);
    }
    v = json_object_get(o, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), PA_PAIRING_FORMAT) != 0)
        return pa_fail(PA_EDECODE, "%s: format: expected \"%s\"", zPath, PA_PAIRING_FORMAT);
    PA_GUARD(read_hex(o, zPath, "verify_key", p->aVerifyKey, PA_VERIFY_KEY_SIZE));
    return read_hex(o, zPath, "peer_token", p->aToken, PA_TOKEN_SIZE);
}

int pa_pairing_read(pa_pairing *pPair, const char *zPath)
{
    struct stat st;
    json_t *o;
    int rc;

    memset(pPair, 0, sizeof *pPair);
    PA_GUARD(pa_keys_load_json(&o, &st, zPath));
    rc = pa_keys_check_private(&st, zPath, "the aggregators' shared secrets");
    if (rc == PA_OK)
        rc = parse_pairing(pPair, o, zPath);
    pa_keys_json_wipe(o);
    json_decref(o);
    if (rc != PA_OK)
        pa_pairing_wipe(pPair);
    return rc;
}
