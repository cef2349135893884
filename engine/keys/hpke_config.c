/*
 * An aggregator's signed HPKE configuration (include/privagg/hpke_config.h):
 * made from its key file, signed with its Ed25519 configuration-signing key,
 * written and parsed as JSON, verified by an agency against the task's key.
 * The signature covers a fixed binary encoding, not the JSON text, so the
 * document may be re-indented or its members reordered on the way.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/hpke_config.h"

static const char *const g_azKem[3] = {"X25519-HKDF-SHA256", "HKDF-SHA256", "ChaCha20Poly1305"};

static void put_u64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)((uint64_t)v & 0xff);
        v = (int64_t)((uint64_t)v >> 8);
    }
}

/* The signed state byte; the names in the JSON form. */
static uint8_t state_byte(pa_hpke_key_state e)
{
    return e == PA_HPKE_KEY_CURRENT ? 1 : e == PA_HPKE_KEY_NEW ? 2 : 0;
}

int pa_hpke_config_signed_bytes(uint8_t **ppOut, size_t *pnOut, const pa_hpke_config_doc *d)
{
    size_t nLabel = sizeof PA_HPKE_CONFIG_SIGN_LABEL; /* with its NUL: a separator */
    size_t n = nLabel + 32 + 1 + 8 + 1 + d->n * (1 + 32 + 8 + 1);
    uint8_t *p = malloc(n), *q;
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "hpke config: out of memory");
    q = p;
    memcpy(q, PA_HPKE_CONFIG_SIGN_LABEL, nLabel);
    q += nLabel;
    memcpy(q, d->aTaskId, 32);
    q += 32;
    *q++ = d->eRole == PA_ROLE_LEADER ? 0 : 1;
    put_u64(q, d->tIssued);
    q += 8;
    *q++ = (uint8_t)d->n;
    for (size_t i = 0; i < d->n; i++) {
        *q++ = d->a[i].iId;
        memcpy(q, d->a[i].aPublic, 32);
        q += 32;
        put_u64(q, d->a[i].tNotAfter);
        q += 8;
        *q++ = state_byte(d->a[i].eState);
    }
    *ppOut = p;
    *pnOut = n;
    return PA_OK;
}

int pa_hpke_config_make(pa_hpke_config_doc *d, const pa_keys *k, const uint8_t aTaskId[32], int64_t tNow)
{
    uint8_t *pMsg;
    size_t nMsg;

    memset(d, 0, sizeof *d);
    if ((k->eRole != PA_ROLE_LEADER && k->eRole != PA_ROLE_HELPER) || !k->bSign)
        return pa_fail(PA_EINVAL, "hpke config: the %s's key file has no configuration-signing key "
                       "(signing_secret_key): made before signed configurations existed; make new keys "
                       "and a new task to publish one", pa_role_name(k->eRole));
    memcpy(d->aTaskId, aTaskId, 32);
    d->eRole = k->eRole;
    d->tIssued = tNow;
    pa_hpke_key_ref aKey[PA_KEYS_MAX_HPKE];
    size_t nKey = pa_keys_hpke_list(k, aKey);
    for (size_t i = 0; i < nKey; i++) {
        if (aKey[i].tNotAfter != 0 && aKey[i].tNotAfter <= tNow)
            continue; /* expired: no longer offered */
        d->a[d->n].iId = aKey[i].iConfigId;
        memcpy(d->a[d->n].aPublic, aKey[i].pPublic, 32);
        d->a[d->n].tNotAfter = aKey[i].tNotAfter;
        d->a[d->n].eState = aKey[i].eState;
        d->n++;
    }
    PA_GUARD(pa_hpke_config_signed_bytes(&pMsg, &nMsg, d));
    crypto_sign_detached(d->aSignature, NULL, pMsg, nMsg, k->aSignSecret);
    free(pMsg);
    return PA_OK;
}

static json_t *hex(const uint8_t *p, size_t n)
{
    char z[129];
    sodium_bin2hex(z, sizeof z, p, n);
    return json_string(z);
}

json_t *pa_hpke_config_to_json(const pa_hpke_config_doc *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->n; i++) {
        json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:o, s:s}", "id", d->a[i].iId, "kem", g_azKem[0], "kdf",
                              g_azKem[1], "aead", g_azKem[2], "public_key", hex(d->a[i].aPublic, 32), "state",
                              pa_hpke_key_state_name(d->a[i].eState));
        if (d->a[i].tNotAfter != 0)
            json_object_set_new(e, "not_after", json_integer(d->a[i].tNotAfter));
        json_array_append_new(a, e);
    }
    return json_pack("{s:s, s:o, s:s, s:I, s:o, s:o}", "format", PA_HPKE_CONFIG_FORMAT, "task_id",
                     hex(d->aTaskId, 32), "role", pa_role_name(d->eRole), "issued_at", (json_int_t)d->tIssued,
                     "configs", a, "signature", hex(d->aSignature, 64));
}

static int get_hex(const json_t *o, const char *zWhere, const char *zKey, uint8_t *p, size_t n)
{
    const json_t *v = json_object_get(o, zKey);
    const char *z = json_is_string(v) ? json_string_value(v) : NULL;
    if (z == NULL || strlen(z) != 2 * n || sodium_hex2bin(p, n, z, 2 * n, NULL, NULL, NULL) != 0)
        return pa_fail(PA_EDECODE, "%s: %s: expected %zu hex digits", zWhere, zKey, 2 * n);
    return PA_OK;
}

static int only_keys(const json_t *o, const char *zWhere, const char *const *az)
{
    const char *zKey;
    json_t *v;
    json_object_foreach((json_t *)o, zKey, v) {
        size_t i;
        for (i = 0; az[i] != NULL && strcmp(az[i], zKey) != 0; i++)
            ;
        if (az[i] == NULL)
            return pa_fail(PA_EDECODE, "%s: unknown field \"%s\"", zWhere, zKey);
    }
    return PA_OK;
}

int pa_hpke_config_from_json(pa_hpke_config_doc *d, const json_t *o, const char *zWhere)
{
    static const char *const azTop[] = {"format", "task_id", "role", "issued_at", "configs", "signature", NULL};
    static const char *const azEntry[] = {"id", "kem", "kdf", "aead", "public_key", "state", "not_after", NULL};
    const json_t *v, *a, *e;
    size_t i, nCurrent = 0, nNew = 0;
    char zAt[256];

    memset(d, 0, sizeof *d);
    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "%s: not a JSON object", zWhere);
    PA_GUARD(only_keys(o, zWhere, azTop));
    v = json_object_get(o, "format");
    if (json_is_string(v) && strcmp(json_string_value(v), "privagg-hpke-config-v1") == 0)
        return pa_fail(PA_EDECODE, "%s: format: \"privagg-hpke-config-v1\" is an older aggregator's (no key "
                       "states); this build reads \"%s\" only: upgrade that aggregator, or seal to the task's "
                       "keys meanwhile (submit --offline-keys)", zWhere, PA_HPKE_CONFIG_FORMAT);
    if (!json_is_string(v) || strcmp(json_string_value(v), PA_HPKE_CONFIG_FORMAT) != 0)
        return pa_fail(PA_EDECODE, "%s: format: expected \"%s\" (a newer format is not read: a field this "
                       "build does not know could change which key to seal to; upgrade privagg)", zWhere,
                       PA_HPKE_CONFIG_FORMAT);
    PA_GUARD(get_hex(o, zWhere, "task_id", d->aTaskId, 32));
    v = json_object_get(o, "role");
    if (!json_is_string(v) || (strcmp(json_string_value(v), "leader") != 0 && strcmp(json_string_value(v), "helper") != 0))
        return pa_fail(PA_EDECODE, "%s: role: expected \"leader\" or \"helper\"", zWhere);
    d->eRole = strcmp(json_string_value(v), "leader") == 0 ? PA_ROLE_LEADER : PA_ROLE_HELPER;
    v = json_object_get(o, "issued_at");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return pa_fail(PA_EDECODE, "%s: issued_at: expected unix seconds", zWhere);
    d->tIssued = (int64_t)json_integer_value(v);
    PA_GUARD(get_hex(o, zWhere, "signature", d->aSignature, 64));
    a = json_object_get(o, "configs");
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > PA_KEYS_MAX_HPKE)
        return pa_fail(PA_EDECODE, "%s: configs: expected 1 to %d entries", zWhere, PA_KEYS_MAX_HPKE);
    json_array_foreach(a, i, e) {
        pa_hpke_config_entry *p = &d->a[i];
        snprintf(zAt, sizeof zAt, "%s: configs[%zu]", zWhere, i);
        if (!json_is_object(e))
            return pa_fail(PA_EDECODE, "%s: not an object", zAt);
        PA_GUARD(only_keys(e, zAt, azEntry));
        v = json_object_get(e, "id");
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
            return pa_fail(PA_EDECODE, "%s: id: expected 0..255", zAt);
        p->iId = (uint8_t)json_integer_value(v);
        for (size_t j = 0; j < i; j++)
            if (d->a[j].iId == p->iId)
                return pa_fail(PA_EDECODE, "%s: id %u listed twice", zAt, (unsigned)p->iId);
        const char *azName[3] = {"kem", "kdf", "aead"};
        for (int j = 0; j < 3; j++) {
            v = json_object_get(e, azName[j]);
            if (!json_is_string(v) || strcmp(json_string_value(v), g_azKem[j]) != 0)
                return pa_fail(PA_EDECODE, "%s: %s: this build seals with %s only", zAt, azName[j], g_azKem[j]);
        }
        PA_GUARD(get_hex(e, zAt, "public_key", p->aPublic, 32));
        v = json_object_get(e, "state");
        p->eState = 0;
        for (pa_hpke_key_state s = PA_HPKE_KEY_CURRENT; s <= PA_HPKE_KEY_RETIRING; s++)
            if (json_is_string(v) && strcmp(json_string_value(v), pa_hpke_key_state_name(s)) == 0)
                p->eState = s;
        if (p->eState == 0)
            return pa_fail(PA_EDECODE, "%s: state: expected \"current\", \"new\" or \"retiring\"", zAt);
        nCurrent += p->eState == PA_HPKE_KEY_CURRENT;
        nNew += p->eState == PA_HPKE_KEY_NEW;
        v = json_object_get(e, "not_after");
        if (v != NULL && (!json_is_integer(v) || json_integer_value(v) <= 0))
            return pa_fail(PA_EDECODE, "%s: not_after: expected unix seconds", zAt);
        if (v != NULL && p->eState != PA_HPKE_KEY_RETIRING)
            return pa_fail(PA_EDECODE, "%s: not_after: only a retiring key expires, this one is %s", zAt,
                           pa_hpke_key_state_name(p->eState));
        p->tNotAfter = v != NULL ? (int64_t)json_integer_value(v) : 0;
        d->n = i + 1;
    }
    if (nCurrent != 1)
        return pa_fail(PA_EDECODE, "%s: configs: %zu in state current, expected exactly one", zWhere, nCurrent);
    if (nNew > 1)
        return pa_fail(PA_EDECODE, "%s: configs: %zu in state new, expected at most one", zWhere, nNew);
    return PA_OK;
}

int pa_hpke_config_verify(const pa_hpke_config_doc *d, const uint8_t aSigningKey[32], const uint8_t aTaskId[32],
                          pa_role eRole, int64_t tNow, const char *zWhere)
{
    uint8_t *pMsg;
    size_t nMsg;
    int rc;

    PA_GUARD(pa_hpke_config_signed_bytes(&pMsg, &nMsg, d));
    rc = crypto_sign_verify_detached(d->aSignature, pMsg, nMsg, aSigningKey);
    free(pMsg);
    if (rc != 0)
        return pa_fail(PA_EVERIFY, "%s: the signature does not verify under the task's %s signing_public_key: "
                       "not published by the %s", zWhere, pa_role_name(eRole), pa_role_name(eRole));
    if (sodium_memcmp(d->aTaskId, aTaskId, 32) != 0)
        return pa_fail(PA_EAUTH, "%s: signed for another task", zWhere);
    if (d->eRole != eRole)
        return pa_fail(PA_EAUTH, "%s: the %s's configuration, not the %s's", zWhere, pa_role_name(d->eRole),
                       pa_role_name(eRole));
    if (d->tIssued > tNow + 300)
        return pa_fail(PA_EAUTH, "%s: issued %lld s in the future (check the clocks)", zWhere,
                       (long long)(d->tIssued - tNow));
    if (d->tIssued < tNow - PA_HPKE_CONFIG_MAX_AGE_S)
        return pa_fail(PA_EAUTH, "%s: issued %lld days ago, more than %d: a stale or replayed configuration",
                       zWhere, (long long)((tNow - d->tIssued) / 86400), PA_HPKE_CONFIG_MAX_AGE_S / 86400);
    return PA_OK;
}

const pa_hpke_config_entry *pa_hpke_config_current(const pa_hpke_config_doc *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->a[i].eState == PA_HPKE_KEY_CURRENT)
            return &d->a[i];
    return NULL;
}
