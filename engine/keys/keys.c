/*
 * Key files (see include/privagg/keys.h): generation with libsodium, JSON
 * encoding with jansson, private files created 0600 with O_EXCL and refused on
 * read when group/other can access them.
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

#include "privagg/common.h"
#include "privagg/keys.h"

static const char *const g_roles[] = {NULL, "agency", "leader", "helper", "collector"};

const char *pa_role_name(pa_role e)
{
    return (e >= PA_ROLE_AGENCY && e <= PA_ROLE_COLLECTOR) ? g_roles[e] : "unknown";
}

int pa_role_parse(pa_role *pRole, const char *zName)
{
    for (int i = PA_ROLE_AGENCY; i <= PA_ROLE_COLLECTOR; i++) {
        if (strcmp(zName, g_roles[i]) == 0) {
            *pRole = (pa_role)i;
            return PA_OK;
        }
    }
    return pa_fail(PA_EINVAL, "role: \"%s\" is not one of agency, leader, helper, collector", zName);
}

static int is_aggregator(pa_role e)
{
    return e == PA_ROLE_LEADER || e == PA_ROLE_HELPER;
}

int pa_keys_generate(pa_keys *pKeys, pa_role eRole, const char *zId, uint8_t iConfigId)
{
    memset(pKeys, 0, sizeof *pKeys);
    if (eRole < PA_ROLE_AGENCY || eRole > PA_ROLE_COLLECTOR)
        return pa_fail(PA_EINVAL, "role: %d is not a role", (int)eRole);
    pKeys->eRole = eRole;
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
    return PA_OK;
}

void pa_keys_share_aggregator_secrets(pa_keys *pHelper, const pa_keys *pLeader)
{
    memcpy(pHelper->aVerifyKey, pLeader->aVerifyKey, sizeof pHelper->aVerifyKey);
    memcpy(pHelper->aToken, pLeader->aToken, sizeof pHelper->aToken);
}

void pa_keys_wipe(pa_keys *pKeys)
{
    sodium_memzero(pKeys->aSecret, sizeof pKeys->aSecret);
    sodium_memzero(pKeys->aVerifyKey, sizeof pKeys->aVerifyKey);
    sodium_memzero(pKeys->aToken, sizeof pKeys->aToken);
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
    if (k->eRole == PA_ROLE_AGENCY) {
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
            json_object_set_new(o, "verify_key", hex_value(k->aVerifyKey, PA_VERIFY_KEY_SIZE));
            json_object_set_new(o, "peer_token", hex_value(k->aToken, PA_TOKEN_SIZE));
        } else {
            json_object_set_new(o, "bearer_token", hex_value(k->aToken, PA_TOKEN_SIZE));
        }
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
    char *z = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc;
    if (z == NULL)
        return pa_fail(PA_ENOMEM, "%s: cannot encode", zPath);
    size_t n = strlen(z);
    char *zNl = malloc(n + 2);
    if (zNl == NULL) {
        sodium_memzero(z, n);
        free(z);
        return pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    }
    memcpy(zNl, z, n);
    zNl[n] = '\n';
    zNl[n + 1] = '\0';
    rc = write_new_file(zPath, zNl, (mode_t)mode);
    sodium_memzero(z, n);
    sodium_memzero(zNl, n + 1);
    free(z);
    free(zNl);
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
    json_decref(o); /* jansson frees strings without wiping: the hex secrets were
                       wiped in hex_value's buffer; the json copy is short-lived */
    if (rc != PA_OK)
        return rc;
    snprintf(zPath, sizeof zPath, "%s.pub", zPrefix);
    o = to_json(pKeys, 0);
    rc = pa_keys_write_json(zPath, o, 0644);
    json_decref(o);
    return rc;
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

static int read_file(pa_keys *k, const char *zPath, int bPrivate)
{
    json_error_t err;
    json_t *o, *v;
    int rc = PA_OK;

    memset(k, 0, sizeof *k);
    if (bPrivate) {
        struct stat st;
        if (stat(zPath, &st) != 0)
            return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
        if ((st.st_mode & 077) != 0)
            return pa_fail(PA_EAUTH, "%s: mode %03o lets others read a private key; expected 0600",
                           zPath, (unsigned)(st.st_mode & 0777));
    }
    o = json_load_file(zPath, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL)
        return pa_fail(PA_EDECODE, "%s: line %d: %s", zPath, err.line, err.text);
    v = json_object_get(o, "role");
    if (!json_is_string(v) || pa_role_parse(&k->eRole, json_string_value(v)) != PA_OK) {
        json_decref(o);
        return pa_fail(PA_EDECODE, "%s: role: missing or not a role", zPath);
    }
    if (k->eRole == PA_ROLE_AGENCY) {
        v = json_object_get(o, "id");
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= sizeof k->zId)
            rc = pa_fail(PA_EDECODE, "%s: id: missing or longer than %zu", zPath, sizeof k->zId - 1);
        else
            memcpy(k->zId, json_string_value(v), json_string_length(v) + 1);
        if (rc == PA_OK)
            rc = read_hex(o, zPath, "public_key", k->aPublic, 32);
        if (rc == PA_OK && bPrivate)
            rc = read_hex(o, zPath, "secret_key", k->aSecret, 64);
    } else {
        v = json_object_get(o, "hpke_config_id");
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
            rc = pa_fail(PA_EDECODE, "%s: hpke_config_id: missing or outside 0..255", zPath);
        else
            k->iConfigId = (uint8_t)json_integer_value(v);
        if (rc == PA_OK)
            rc = read_hex(o, zPath, "hpke_public_key", k->aPublic, 32);
        if (rc == PA_OK && bPrivate)
            rc = read_hex(o, zPath, "hpke_secret_key", k->aSecret, 32);
        if (rc == PA_OK && bPrivate && is_aggregator(k->eRole))
            rc = read_hex(o, zPath, "verify_key", k->aVerifyKey, PA_VERIFY_KEY_SIZE);
        if (rc == PA_OK && bPrivate && is_aggregator(k->eRole))
            rc = read_hex(o, zPath, "peer_token", k->aToken, PA_TOKEN_SIZE);
        if (rc == PA_OK && bPrivate && k->eRole == PA_ROLE_COLLECTOR)
            rc = read_hex(o, zPath, "bearer_token", k->aToken, PA_TOKEN_SIZE);
    }
    json_decref(o);
    if (rc == PA_OK && bPrivate) {
        uint8_t aDerived[32];
        if (k->eRole == PA_ROLE_AGENCY)
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
