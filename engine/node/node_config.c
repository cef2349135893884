/*
 * Parsing a node's private config file (see privagg/node.h for the format): read
 * as a private file (engine/keys: one O_NOFOLLOW open, checked on the descriptor,
 * the text and the token's string wiped); plain HTTP only on a loopback address.
 */
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/guard.h"
#include "privagg/node.h"
#include "node/node_config.h"
#include "privagg/aggregator.h"
#include "privagg/http.h"
#include "privagg/store.h"
#include "task/loopback.h"
#include "task/task_json.h"

/* A path from the config, relative to the config file's folder. */
static int read_path(const json_t *o, const char *zPath, const char *zKey, const char *zDir, char *zOut,
                     size_t nOut, int bOptional)
{
    char *z = NULL;
    int rc;

    if (bOptional && json_object_get(o, zKey) == NULL) {
        zOut[0] = '\0';
        return PA_OK;
    }
    PA_GUARD(pa_json_string(o, zPath, zKey, 4000, &z));
    /* "store": a PostgreSQL URL is taken as it is, never as a file name */
    if (z[0] == '/' || (strcmp(zKey, "store") == 0 && pa_store_is_postgres(z)))
        rc = snprintf(zOut, nOut, "%s", z) < (int)nOut ? PA_OK : PA_ERANGE;
    else
        rc = snprintf(zOut, nOut, "%s/%s", zDir, z) < (int)nOut ? PA_OK : PA_ERANGE;
    free(z);
    return rc == PA_OK ? PA_OK : pa_fail(PA_ERANGE, "%s.%s: path longer than %zu", zPath, zKey, nOut);
}

/* "collector_tokens" (optional): the collector's tokens while they rotate, each
 * with its id and, for an old one, its expiry. */
static int collector_tokens(pa_node_config *c, const json_t *root, const char *zFile)
{
    static const char *const azKeys[] = {"id", "token", "not_after", NULL};
    const json_t *a = json_object_get(root, "collector_tokens"), *e;
    size_t i;
    char zAt[64];
    uint64_t v;

    if (a == NULL)
        return PA_OK;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > PA_KEYS_MAX_OLD)
        return pa_fail(PA_EDECODE, "%s: collector_tokens: expected 1 to %d tokens", zFile, PA_KEYS_MAX_OLD);
    json_array_foreach(a, i, e) {
        pa_old_token *p = &c->aCollectorTokens[i];
        const json_t *t;
        snprintf(zAt, sizeof zAt, "collector_tokens[%zu]", i);
        if (!json_is_object(e))
            return pa_fail(PA_EDECODE, "%s: %s: not an object", zFile, zAt);
        PA_GUARD(pa_json_only_keys(e, zAt, azKeys));
        PA_GUARD(pa_json_uint(e, zAt, "id", 1, 65535, 0, 0, &v));
        p->iId = (unsigned)v;
        PA_GUARD(pa_json_uint(e, zAt, "not_after", 0, (uint64_t)1 << 40, 1, 0, &v));
        p->tNotAfter = (int64_t)v;
        t = json_object_get(e, "token");
        if (!json_is_string(t) || json_string_length(t) != 64 ||
            pa_http_token_from_hex(p->aToken, json_string_value(t)) != PA_OK)
            return pa_fail(PA_EDECODE, "%s: %s.token: expected 64 hex digits", zFile, zAt);
        c->nCollectorTokens = i + 1;
    }
    return PA_OK;
}

static int parse(pa_node_config *c, const json_t *root, const char *zFile, const char *zDir)
{
    static const char *const azKeys[] = {"role", "task", "private_key", "store", "listen", "tls",
                                         "insecure_http", "peer_ca", "collector_token", "collector_tokens", "log_file",
                                         "retention", "metrics_token", "limits", "registry", "lease_seconds", NULL};
    static const char *const azRetention[] = {"reports_days", NULL};
    static const char *const azLimits[] = {"max_connections", "max_per_address", "header_timeout_s", NULL};
    static const char *const azListen[] = {"address", "port", "reuse_port", NULL};
    static const char *const azTls[] = {"cert", "key", NULL};
    json_t *pListen, *pTls, *pRetention, *pLimits;
    char *z = NULL;
    uint64_t port;
    int bInsecure, bReuse, rc;

    if (!json_is_object(root))
        return pa_fail(PA_EDECODE, "%s: must be a JSON object", zFile);
    PA_GUARD(pa_json_only_keys(root, "", azKeys));
    PA_GUARD(pa_json_string(root, "", "role", 16, &z));
    rc = pa_role_parse(&c->eRole, z);
    free(z);
    if (rc != PA_OK || (c->eRole != PA_ROLE_LEADER && c->eRole != PA_ROLE_HELPER))
        return pa_fail(PA_EINVAL, "%s: role: must be leader or helper", zFile);
    PA_GUARD(read_path(root, "", "task", zDir, c->zTask, sizeof c->zTask, 0));
    PA_GUARD(read_path(root, "", "private_key", zDir, c->zKey, sizeof c->zKey, 0));
    PA_GUARD(read_path(root, "", "store", zDir, c->zStore, sizeof c->zStore, 0));
    PA_GUARD(pa_json_object(root, "", "listen", &pListen));
    PA_GUARD(pa_json_only_keys(pListen, "listen", azListen));
    PA_GUARD(pa_json_string(pListen, "listen", "address", sizeof c->zAddress - 1, &z));
    memcpy(c->zAddress, z, strlen(z) + 1);
    free(z);
    PA_GUARD(pa_json_uint(pListen, "listen", "port", 0, 65535, 0, 0, &port));
    c->nPort = (uint16_t)port;
    /* several `privagg serve` processes of one role on one machine share the port */
    PA_GUARD(pa_json_bool(pListen, "listen", "reuse_port", 0, &bReuse));
    c->bReusePort = bReuse;
    if (c->bReusePort && c->nPort == 0)
        return pa_fail(PA_EINVAL, "%s: listen.reuse_port: needs a fixed listen.port (0 picks a "
                       "different free port for each process)", zFile);
    PA_GUARD(pa_json_bool(root, "", "insecure_http", 0, &bInsecure));
    c->bInsecureHttp = bInsecure;
    if (json_object_get(root, "tls") != NULL) {
        PA_GUARD(pa_json_object(root, "", "tls", &pTls));
        PA_GUARD(pa_json_only_keys(pTls, "tls", azTls));
        PA_GUARD(read_path(pTls, "tls", "cert", zDir, c->zTlsCert, sizeof c->zTlsCert, 0));
        PA_GUARD(read_path(pTls, "tls", "key", zDir, c->zTlsKey, sizeof c->zTlsKey, 0));
    }
    if (!c->bInsecureHttp && c->zTlsCert[0] == '\0')
        return pa_fail(PA_EINVAL, "%s: tls: required (or \"insecure_http\": true for loopback tests)", zFile);
    PA_GUARD(pa_node_config_check_transport(c, zFile));
    PA_GUARD(read_path(root, "", "peer_ca", zDir, c->zPeerCa, sizeof c->zPeerCa, 1));
    PA_GUARD(read_path(root, "", "log_file", zDir, c->zLogFile, sizeof c->zLogFile, 1));
    PA_GUARD(read_path(root, "", "registry", zDir, c->zRegistry, sizeof c->zRegistry, 1));
    c->nRetentionDays = -1;
    if (json_object_get(root, "retention") != NULL) {
        uint64_t nDays;
        PA_GUARD(pa_json_object(root, "", "retention", &pRetention));
        PA_GUARD(pa_json_only_keys(pRetention, "retention", azRetention));
        PA_GUARD(pa_json_uint(pRetention, "retention", "reports_days", 0, 36500, 0, 0, &nDays));
        c->nRetentionDays = (int64_t)nDays;
    }
    if (json_object_get(root, "limits") != NULL) {
        uint64_t v;
        PA_GUARD(pa_json_object(root, "", "limits", &pLimits));
        PA_GUARD(pa_json_only_keys(pLimits, "limits", azLimits));
        PA_GUARD(pa_json_uint(pLimits, "limits", "max_connections", 16, 16384, 1, 0, &v));
        c->nMaxConnections = (unsigned)v;
        PA_GUARD(pa_json_uint(pLimits, "limits", "max_per_address", 1, 16384, 1, 0, &v));
        c->nMaxPerAddress = (unsigned)v;
        PA_GUARD(pa_json_uint(pLimits, "limits", "header_timeout_s", 1, 600, 1, 0, &v));
        c->nHeaderTimeoutS = (unsigned)v;
    }
    {
        /* a worker's lease on a job; another process takes the job over this
         * long after the worker stopped renewing it (it died) */
        uint64_t nLease;
        PA_GUARD(pa_json_uint(root, "", "lease_seconds", 1, PA_LEASE_SECONDS_MAX, 1, PA_LEASE_SECONDS_DEFAULT,
                              &nLease));
        c->nLeaseSeconds = (int64_t)nLease;
    }
    if (json_object_get(root, "metrics_token") != NULL) {
        PA_GUARD(pa_json_string(root, "", "metrics_token", 64, &z));
        rc = strlen(z) == 64 ? pa_http_token_from_hex(c->aMetricsToken, z) : PA_EDECODE;
        sodium_memzero(z, strlen(z));
        free(z);
        if (rc != PA_OK)
            return pa_fail(PA_EDECODE, "%s: metrics_token: expected 64 hex digits", zFile);
        c->bMetricsToken = true;
    }
    if (c->eRole == PA_ROLE_LEADER) {
        PA_GUARD(collector_tokens(c, root, zFile));
        if (json_object_get(root, "collector_token") == NULL && c->nCollectorTokens > 0)
            return PA_OK;
        PA_GUARD(pa_json_string(root, "", "collector_token", 64, &z));
        rc = strlen(z) == 64 ? pa_http_token_from_hex(c->aCollectorToken, z) : PA_EDECODE;
        sodium_memzero(z, strlen(z));
        free(z);
        if (rc != PA_OK)
            return pa_fail(PA_EDECODE, "%s: collector_token: expected 64 hex digits", zFile);
        c->bCollectorToken = true;
    }
    return PA_OK;
}

int pa_node_config_check_transport(const pa_node_config *c, const char *zWhere)
{
    if (c->bInsecureHttp && !pa_host_is_loopback(c->zAddress, strlen(c->zAddress)))
        return pa_fail(PA_EINVAL, "%s: listen.address: \"%s\" with insecure_http would serve plain "
                       "HTTP beyond this machine (bearer tokens and report shares in clear); "
                       "listen on 127.0.0.1 or ::1, or configure tls", zWhere, c->zAddress);
    return PA_OK;
}

int pa_node_config_load(pa_node_config *c, const char *zPath)
{
    struct stat st;
    char zCopy[4096];
    json_t *root;
    int rc;

    memset(c, 0, sizeof *c);
    PA_GUARD(pa_keys_load_json(&root, &st, zPath));
    rc = pa_keys_check_private(&st, zPath, "a private config (bearer tokens, key paths)");
    snprintf(zCopy, sizeof zCopy, "%s", zPath);
    if (rc == PA_OK)
        rc = parse(c, root, zPath, dirname(zCopy));
    pa_keys_json_wipe(root);
    json_decref(root);
    if (rc != PA_OK) {
        sodium_memzero(c->aCollectorToken, sizeof c->aCollectorToken);
        sodium_memzero(c->aMetricsToken, sizeof c->aMetricsToken);
    }
    return rc;
}

/* ------------------------------------------- installing a collector token */

/* Drop the token at i of a (shifting the rest down), wiping it. */
static void drop_token(pa_old_token *a, size_t *pn, size_t i)
{
    sodium_memzero(&a[i], sizeof a[i]);
    memmove(&a[i], &a[i + 1], (*pn - i - 1) * sizeof a[0]);
    (*pn)--;
    sodium_memzero(&a[*pn], sizeof a[0]);
}

/* The collector's tokens a parsed leader config accepts: "collector_token"
 * (id 1, no expiry) and "collector_tokens"; the same id twice is refused. */
static int accepted_tokens(const pa_node_config *c, const char *zPath, pa_old_token *a, size_t *pn)
{
    *pn = 0;
    if (c->bCollectorToken) {
        a[0].iId = 1;
        memcpy(a[0].aToken, c->aCollectorToken, 32);
        a[0].tNotAfter = 0;
        *pn = 1;
    }
    for (size_t i = 0; i < c->nCollectorTokens; i++) {
        for (size_t j = 0; j < *pn; j++) {
            if (a[j].iId != c->aCollectorTokens[i].iId)
                continue;
            if (j == 0 && c->bCollectorToken && sodium_memcmp(a[0].aToken, c->aCollectorTokens[i].aToken, 32) == 0) {
                /* collector_token repeated as collector_tokens' id 1: one token */
                drop_token(a, pn, 0);
                break;
            }
            return pa_fail(PA_EINVAL, "%s: collector token id %u is listed twice (collector_token counts as id "
                           "1); remove one of them by hand first", zPath, a[j].iId);
        }
        a[(*pn)++] = c->aCollectorTokens[i];
    }
    return PA_OK;
}

int pa_node_config_add_collector_token(const char *zPath, unsigned iId, const uint8_t aToken[32],
                                       int64_t tOldNotAfter, int64_t tNow, pa_collector_token_list *pOut)
{
    pa_node_config c, check;
    pa_old_token a[PA_KEYS_MAX_OLD + 2];
    size_t n = 0;
    struct stat st;
    char zCopy[4096];
    json_t *root = NULL, *pList;
    int rc;

    memset(pOut, 0, sizeof *pOut);
    memset(&c, 0, sizeof c);
    memset(&check, 0, sizeof check);
    if (iId == 0 || iId > 65535 || tOldNotAfter < 0)
        return pa_fail(PA_EINVAL, "collector token: id %u outside 1..65535, or an expiry before 1970", iId);
    PA_GUARD(pa_keys_load_json(&root, &st, zPath));
    snprintf(zCopy, sizeof zCopy, "%s", zPath);
    rc = pa_keys_check_private(&st, zPath, "a private config (bearer tokens, key paths)");
    /* the config as the node reads it: a file it would refuse is not rewritten */
    if (rc == PA_OK)
        rc = parse(&c, root, zPath, dirname(zCopy));
    if (rc == PA_OK && c.eRole != PA_ROLE_LEADER)
        rc = pa_fail(PA_EINVAL, "%s: a %s's config; the collector's token goes into the leader's config "
                     "(the helper takes the leader's peer token: keygen --role helper --out PREFIX --add-token)",
                     zPath, pa_role_name(c.eRole));
    if (rc == PA_OK)
        rc = accepted_tokens(&c, zPath, a, &n);
    for (size_t i = 0; rc == PA_OK && i < n; i++) {
        if (a[i].iId == iId)
            rc = pa_fail(PA_EEXISTS, "%s: collector token id %u is held already; was this bundle installed "
                         "before? (the collector's keygen --rotate-token makes a new one)", zPath, iId);
        else if (sodium_memcmp(a[i].aToken, aToken, 32) == 0)
            rc = pa_fail(PA_EEXISTS, "%s: this token is held already, as id %u", zPath, a[i].iId);
    }
    if (rc == PA_OK) {
        /* every older token stops at tOldNotAfter at the latest; expired ones go */
        for (size_t i = 0; i < n; i++)
            if (tOldNotAfter > 0 && (a[i].tNotAfter == 0 || a[i].tNotAfter > tOldNotAfter))
                a[i].tNotAfter = tOldNotAfter;
        for (size_t i = 0; i < n;) {
            if (a[i].tNotAfter != 0 && a[i].tNotAfter <= tNow) {
                pOut->nDropped++;
                drop_token(a, &n, i);
            } else {
                i++;
            }
        }
        if (n + 1 > PA_KEYS_MAX_OLD)
            rc = pa_fail(PA_ERANGE, "%s: %zu older collector tokens are still accepted, and collector_tokens "
                         "holds at most %d with the new one; give --old-expires WHEN (all older tokens stop "
                         "then; a time past drops them now) or let some expire first", zPath, n,
                         PA_KEYS_MAX_OLD);
    }
    if (rc == PA_OK) {
        /* the new one first, then the older ones as they were */
        memmove(&a[1], &a[0], n * sizeof a[0]);
        a[0].iId = iId;
        memcpy(a[0].aToken, aToken, 32);
        a[0].tNotAfter = 0;
        n++;
        pList = json_array();
        for (size_t i = 0; i < n; i++) {
            char zHex[65];
            sodium_bin2hex(zHex, sizeof zHex, a[i].aToken, 32);
            json_t *e = json_pack("{s:i, s:s}", "id", (int)a[i].iId, "token", zHex);
            sodium_memzero(zHex, sizeof zHex);
            if (a[i].tNotAfter != 0)
                json_object_set_new(e, "not_after", json_integer(a[i].tNotAfter));
            json_array_append_new(pList, e);
        }
        /* the replaced values held tokens: wiped before jansson frees them */
        pa_keys_json_wipe(json_object_get(root, "collector_token"));
        pa_keys_json_wipe(json_object_get(root, "collector_tokens"));
        json_object_del(root, "collector_token");
        json_object_set_new(root, "collector_tokens", pList);
        snprintf(zCopy, sizeof zCopy, "%s", zPath);
        rc = parse(&check, root, zPath, dirname(zCopy));
        /* what will be written is what was meant (a jansson allocation that
         * failed would drop an entry or an expiry, not fail the encoding) */
        int bSame = rc == PA_OK && check.nCollectorTokens == n && !check.bCollectorToken;
        for (size_t i = 0; bSame && i < n; i++)
            bSame = check.aCollectorTokens[i].iId == a[i].iId &&
                    check.aCollectorTokens[i].tNotAfter == a[i].tNotAfter &&
                    sodium_memcmp(check.aCollectorTokens[i].aToken, a[i].aToken, 32) == 0;
        if (rc == PA_OK && !bSame)
            rc = pa_fail(PA_ENOMEM, "%s: the new collector_tokens did not read back (out of memory?); the file "
                         "is unchanged", zPath);
    }
    if (rc == PA_OK)
        rc = pa_keys_replace_json(zPath, root, 0600);
    if (rc == PA_OK) {
        pOut->n = n;
        for (size_t i = 0; i < n; i++) {
            pOut->aId[i] = a[i].iId;
            pOut->aNotAfter[i] = a[i].tNotAfter;
        }
    }
    sodium_memzero(a, sizeof a);
    sodium_memzero(&c, sizeof c);
    sodium_memzero(&check, sizeof check);
    pa_keys_json_wipe(root);
    json_decref(root);
    return rc;
}
