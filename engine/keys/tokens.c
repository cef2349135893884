/*
 * Rotating bearer tokens (include/privagg/keys.h, docs/keys.md "Rotating the
 * tokens"): the leader's peer token (which the helper checks) and the
 * collector's bearer token (which the leader checks) are replaced by a fresh one
 * with the next id, while the party that checks them accepts the old one until
 * it expires, so no request fails in between.  A token travels from the party
 * that made it to the one that checks it in a bundle file (0600), never through
 * another party's key file.
 */
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/keys.h"

#define PA_TOKEN_BUNDLE_FORMAT "privagg-token-1"

static unsigned next_id(const pa_keys *k)
{
    unsigned iId = k->iTokenId ? k->iTokenId : 1;
    for (;;) {
        int bHeld = 0;
        iId = iId >= 65535 ? 1 : iId + 1;
        for (size_t i = 0; i < k->nOldToken; i++)
            bHeld |= k->aOldToken[i].iId == iId;
        if (!bHeld)
            return iId;
    }
}

/* The helper's current token becomes its newest older one (the party that
 * checks a token keeps the old one; the one that presents it does not), after
 * dropping the older tokens that have expired. */
static int keep_current(pa_keys *k, int64_t tOldNotAfter)
{
    int64_t tNow = (int64_t)time(NULL);
    if (k->eRole != PA_ROLE_HELPER)
        return PA_OK;
    for (size_t i = 0; i < k->nOldToken;) {
        if (k->aOldToken[i].tNotAfter != 0 && k->aOldToken[i].tNotAfter <= tNow) {
            sodium_memzero(&k->aOldToken[i], sizeof k->aOldToken[i]);
            memmove(&k->aOldToken[i], &k->aOldToken[i + 1], (k->nOldToken - i - 1) * sizeof k->aOldToken[0]);
            k->nOldToken--;
            sodium_memzero(&k->aOldToken[k->nOldToken], sizeof k->aOldToken[0]);
        } else {
            i++;
        }
    }
    if (k->nOldToken >= PA_KEYS_MAX_OLD)
        return pa_fail(PA_ERANGE, "token: %zu older tokens held already, the most a key file keeps; let "
                       "them expire first", k->nOldToken);
    memmove(&k->aOldToken[1], &k->aOldToken[0], k->nOldToken * sizeof k->aOldToken[0]);
    k->aOldToken[0].iId = k->iTokenId ? k->iTokenId : 1;
    memcpy(k->aOldToken[0].aToken, k->aToken, sizeof k->aToken);
    k->aOldToken[0].tNotAfter = tOldNotAfter;
    k->nOldToken++;
    return PA_OK;
}

int pa_keys_rotate_token(pa_keys *pKeys, int64_t tOldNotAfter)
{
    if (pKeys->eRole != PA_ROLE_LEADER && pKeys->eRole != PA_ROLE_COLLECTOR)
        return pa_fail(PA_EINVAL, "rotate token: keys of role %s; the leader rotates the peer token (the "
                       "helper takes it with --add-token), the collector its bearer token",
                       pa_role_name(pKeys->eRole));
    if (tOldNotAfter < 0)
        return pa_fail(PA_EINVAL, "rotate token: an expiry before 1970");
    unsigned iId = next_id(pKeys);
    PA_GUARD(keep_current(pKeys, tOldNotAfter));
    randombytes_buf(pKeys->aToken, sizeof pKeys->aToken);
    pKeys->iTokenId = iId;
    return PA_OK;
}

int pa_keys_add_token(pa_keys *pKeys, unsigned iId, const uint8_t aToken[32], int64_t tOldNotAfter)
{
    if (pKeys->eRole != PA_ROLE_HELPER)
        return pa_fail(PA_EINVAL, "add token: keys of role %s; the helper takes the leader's new peer token",
                       pa_role_name(pKeys->eRole));
    if (iId == 0 || iId > 65535 || tOldNotAfter < 0)
        return pa_fail(PA_EINVAL, "add token: id %u outside 1..65535, or an expiry before 1970", iId);
    if (iId == pKeys->iTokenId || sodium_memcmp(aToken, pKeys->aToken, 32) == 0)
        return pa_fail(PA_EEXISTS, "add token: token id %u is already the current one", iId);
    for (size_t i = 0; i < pKeys->nOldToken; i++)
        if (pKeys->aOldToken[i].iId == iId)
            return pa_fail(PA_EEXISTS, "add token: token id %u is already held (an older one)", iId);
    PA_GUARD(keep_current(pKeys, tOldNotAfter));
    memcpy(pKeys->aToken, aToken, sizeof pKeys->aToken);
    pKeys->iTokenId = iId;
    return PA_OK;
}

int pa_token_bundle_write(const char *zPath, pa_role eFrom, unsigned iId, const uint8_t aToken[32])
{
    char zHex[65];
    sodium_bin2hex(zHex, sizeof zHex, aToken, 32);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "format", PA_TOKEN_BUNDLE_FORMAT, "role", pa_role_name(eFrom),
                          "token_id", (int)iId, "token", zHex);
    sodium_memzero(zHex, sizeof zHex);
    int rc = pa_keys_write_json(zPath, o, 0600);
    pa_keys_json_wipe(o);
    json_decref(o);
    return rc;
}

int pa_token_bundle_read(const char *zPath, pa_role *peFrom, unsigned *piId, uint8_t aToken[32])
{
    static const char *const azKeys[] = {"format", "role", "token_id", "token", NULL};
    struct stat st;
    json_t *o, *v;
    const char *zKey;
    size_t nBin = 0;
    int rc;

    PA_GUARD(pa_keys_load_json(&o, &st, zPath));
    rc = pa_keys_check_private(&st, zPath, "a bearer token");
    if (rc == PA_OK && (!json_is_object(o) || !json_is_string(v = json_object_get(o, "format")) ||
                        strcmp(json_string_value(v), PA_TOKEN_BUNDLE_FORMAT) != 0))
        rc = pa_fail(PA_EDECODE, "%s: not a token bundle (format \"%s\"; keygen --rotate-token --token-out "
                     "writes one)", zPath, PA_TOKEN_BUNDLE_FORMAT);
    if (rc == PA_OK)
        json_object_foreach(o, zKey, v) {
            size_t i;
            for (i = 0; azKeys[i] != NULL && strcmp(azKeys[i], zKey) != 0; i++)
                ;
            if (azKeys[i] == NULL) {
                rc = pa_fail(PA_EDECODE, "%s: unknown field \"%s\"", zPath, zKey);
                break;
            }
        }
    if (rc == PA_OK && (!json_is_string(v = json_object_get(o, "role")) ||
                        pa_role_parse(peFrom, json_string_value(v)) != PA_OK ||
                        (*peFrom != PA_ROLE_LEADER && *peFrom != PA_ROLE_COLLECTOR)))
        rc = pa_fail(PA_EDECODE, "%s: role: expected leader or collector", zPath);
    if (rc == PA_OK && (!json_is_integer(v = json_object_get(o, "token_id")) || json_integer_value(v) < 1 ||
                        json_integer_value(v) > 65535))
        rc = pa_fail(PA_EDECODE, "%s: token_id: expected 1..65535", zPath);
    if (rc == PA_OK)
        *piId = (unsigned)json_integer_value(v);
    if (rc == PA_OK && (!json_is_string(v = json_object_get(o, "token")) || json_string_length(v) != 64 ||
                        sodium_hex2bin(aToken, 32, json_string_value(v), 64, NULL, &nBin, NULL) != 0 ||
                        nBin != 32))
        rc = pa_fail(PA_EDECODE, "%s: token: expected 64 hex digits", zPath);
    pa_keys_json_wipe(o);
    json_decref(o);
    return rc;
}
