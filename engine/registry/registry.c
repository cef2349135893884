/*
 * The agency registry (include/privagg/registry.h, docs/registry.md): reading a
 * registry file and verifying its whole chain (seq, prev, the signer's Ed25519
 * signature on each entry's canonical encoding, and the rules of enroll, revoke
 * and rekey), answering which key an agency holds in a period, appending signed
 * entries, and a holder that server threads read under a lock while SIGHUP
 * replaces its registry.  Every agency's history is kept as a list of changes
 * in append order whose periods never go back, so a lookup is one pass over the
 * agency's changes.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "task/task_json.h"

#define ENTRY_DOMAIN "privagg-registry-entry-1"

typedef struct {
    char zFrom[8];
    int bRevoked;
    uint8_t aKey[32];
} reg_change;

typedef struct {
    const char *zId;           /* borrowed from its enroll entry */
    size_t iEnroll;            /* index of the enroll entry */
    size_t nChange, nAlloc;
    reg_change *aChange;
} reg_agency;

struct pa_registry {
    size_t nEntry, nEntryAlloc;
    pa_reg_entry *aEntry;
    size_t nAgency, nAgencyAlloc;
    reg_agency *aAgency;       /* in enrollment order */
    size_t *aiSorted;          /* indices into aAgency sorted by id (rebuilt on enroll) */
};

static const char *const g_ops[] = {"genesis", "enroll", "revoke", "rekey"};

const char *pa_reg_op_name(pa_reg_op e)
{
    return (unsigned)e <= PA_REG_REKEY ? g_ops[e] : "unknown";
}

/* ------------------------------------------------------------ encoding */

static void put_str(uint8_t *p, size_t *pn, const char *z)
{
    size_t n = strlen(z);
    p[(*pn)++] = (uint8_t)(n >> 8);
    p[(*pn)++] = (uint8_t)n;
    memcpy(p + *pn, z, n);
    *pn += n;
}

int pa_reg_entry_encode(const pa_reg_entry *e, uint8_t **ppOut, size_t *pnOut)
{
    size_t nMax = sizeof ENTRY_DOMAIN - 1 + 4 + 32 + 1 + 7 + 3 * 2 + strlen(e->zAgency) +
                  strlen(e->zName) + strlen(e->zCounty) + 32;
    uint8_t *p = malloc(nMax);
    size_t n = 0;

    if (p == NULL)
        return pa_fail(PA_ENOMEM, "registry: out of memory");
    memcpy(p, ENTRY_DOMAIN, sizeof ENTRY_DOMAIN - 1);
    n = sizeof ENTRY_DOMAIN - 1;
    p[n++] = (uint8_t)(e->iSeq >> 24);
    p[n++] = (uint8_t)(e->iSeq >> 16);
    p[n++] = (uint8_t)(e->iSeq >> 8);
    p[n++] = (uint8_t)e->iSeq;
    memcpy(p + n, e->aPrev, 32);
    n += 32;
    p[n++] = (uint8_t)e->eOp;
    memcpy(p + n, e->zFrom, 7);
    n += 7;
    put_str(p, &n, e->zAgency);
    put_str(p, &n, e->zName);
    put_str(p, &n, e->zCounty);
    memcpy(p + n, e->aKey, 32);
    n += 32;
    *ppOut = p;
    *pnOut = n;
    return PA_OK;
}

int pa_reg_entry_hash(const pa_reg_entry *e, uint8_t aHash[32])
{
    uint8_t *p;
    size_t n;
    PA_GUARD(pa_reg_entry_encode(e, &p, &n));
    crypto_hash_sha256(aHash, p, n);
    free(p);
    return PA_OK;
}

static int entry_sign(pa_reg_entry *e, const uint8_t aSecret[64])
{
    uint8_t *p;
    size_t n;
    PA_GUARD(pa_reg_entry_encode(e, &p, &n));
    crypto_sign_detached(e->aSignature, NULL, p, n, aSecret);
    crypto_hash_sha256(e->aHash, p, n);
    free(p);
    return PA_OK;
}

/* 1 if the signature verifies with aSigner; the hash is computed either way. */
static int entry_verify(pa_reg_entry *e, const uint8_t aSigner[32], int *pbOk)
{
    uint8_t *p;
    size_t n;
    PA_GUARD(pa_reg_entry_encode(e, &p, &n));
    *pbOk = crypto_sign_verify_detached(e->aSignature, p, n, aSigner) == 0;
    crypto_hash_sha256(e->aHash, p, n);
    free(p);
    return PA_OK;
}

/* ------------------------------------------------------------ agencies */

static reg_agency *find_agency(const pa_registry *r, const char *zId)
{
    size_t lo = 0, hi = r->nAgency;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->aAgency[r->aiSorted[mid]].zId, zId);
        if (c == 0)
            return &r->aAgency[r->aiSorted[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int add_change(reg_agency *a, const char *zFrom, int bRevoked, const uint8_t aKey[32])
{
    if (a->nChange == a->nAlloc) {
        size_t nNew = a->nAlloc ? 2 * a->nAlloc : 2;
        reg_change *p = realloc(a->aChange, nNew * sizeof *p);
        if (p == NULL)
            return pa_fail(PA_ENOMEM, "registry: out of memory");
        a->aChange = p;
        a->nAlloc = nNew;
    }
    reg_change *c = &a->aChange[a->nChange++];
    memcpy(c->zFrom, zFrom, 8);
    c->bRevoked = bRevoked;
    memcpy(c->aKey, aKey, 32);
    return PA_OK;
}

/* Insert a new agency (its id borrowed from entry iEntry) keeping aiSorted sorted. */
static int add_agency(pa_registry *r, size_t iEntry)
{
    const char *zId = r->aEntry[iEntry].zAgency;
    if (r->nAgency == r->nAgencyAlloc) {
        size_t nNew = r->nAgencyAlloc ? 2 * r->nAgencyAlloc : 64;
        reg_agency *p = realloc(r->aAgency, nNew * sizeof *p);
        size_t *pi = p ? realloc(r->aiSorted, nNew * sizeof *pi) : NULL;
        if (p != NULL)
            r->aAgency = p;
        if (pi == NULL)
            return pa_fail(PA_ENOMEM, "registry: out of memory");
        r->aiSorted = pi;
        r->nAgencyAlloc = nNew;
    }
    size_t lo = 0, hi = r->nAgency;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->aAgency[r->aiSorted[mid]].zId, zId) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(r->aiSorted + lo + 1, r->aiSorted + lo, (r->nAgency - lo) * sizeof *r->aiSorted);
    r->aiSorted[lo] = r->nAgency;
    reg_agency *a = &r->aAgency[r->nAgency++];
    memset(a, 0, sizeof *a);
    a->iEnroll = iEntry;
    return PA_OK;
}

/* The entry's ids point into aEntry, which may move on realloc: re-point them. */
static void repoint(pa_registry *r)
{
    for (size_t i = 0; i < r->nAgency; i++)
        r->aAgency[i].zId = r->aEntry[r->aAgency[i].iEnroll].zAgency;
}

static int id_ok(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (z[i] <= ' ' || z[i] > '~' || z[i] == '"' || z[i] == '\\')
            return 0;
    return 1;
}

static int county_ok(const char *z)
{
    if (z[0] == '\0')
        return 1;
    for (int i = 0; i < 5; i++)
        if (z[i] < '0' || z[i] > '9')
            return 0;
    return z[5] == '\0';
}

/* Apply entry iEntry (already chained and signed) to the agencies: the rules of
 * each operation.  PA_EINVAL naming the entry and the rule. */
static int apply(pa_registry *r, size_t iEntry)
{
    const pa_reg_entry *e = &r->aEntry[iEntry];
    reg_agency *a;
    char zWhere[96];

    snprintf(zWhere, sizeof zWhere, "registry entry %zu (%s %s)", iEntry, pa_reg_op_name(e->eOp), e->zAgency);
    if (!pa_period_valid(e->zFrom))
        return pa_fail(PA_EINVAL, "%s: from: \"%s\" is not a month YYYY-MM from %s on", zWhere, e->zFrom,
                       PA_PERIOD_FIRST);
    if (e->eOp == PA_REG_GENESIS)
        return iEntry == 0 ? PA_OK : pa_fail(PA_EINVAL, "%s: a genesis entry after entry 0", zWhere);
    if (iEntry == 0)
        return pa_fail(PA_EINVAL, "%s: entry 0 must be the genesis", zWhere);
    if (!id_ok(e->zAgency))
        return pa_fail(PA_EINVAL, "%s: agency: \"%s\" is not 1..64 printable characters without "
                                  "spaces or quotes", zWhere, e->zAgency);
    a = find_agency(r, e->zAgency);
    if (e->eOp == PA_REG_ENROLL) {
        if (a != NULL)
            return pa_fail(PA_EINVAL, "%s: agency %s is enrolled already (entry %zu); a new key is a "
                                      "rekey", zWhere, e->zAgency, a->iEnroll);
        if (e->zName[0] == '\0')
            return pa_fail(PA_EINVAL, "%s: name: empty", zWhere);
        if (!county_ok(e->zCounty))
            return pa_fail(PA_EINVAL, "%s: county: \"%s\" is not a 5-digit FIPS code (or \"\" for none)",
                           zWhere, e->zCounty);
        PA_GUARD(add_agency(r, iEntry));
        repoint(r);
        return add_change(&r->aAgency[r->nAgency - 1], e->zFrom, 0, e->aKey);
    }
    if (a == NULL)
        return pa_fail(PA_EINVAL, "%s: agency %s is not enrolled (a %s must follow its enroll)", zWhere,
                       e->zAgency, pa_reg_op_name(e->eOp));
    const reg_change *pLast = &a->aChange[a->nChange - 1];
    if (pLast->bRevoked)
        return pa_fail(PA_EINVAL, "%s: agency %s was revoked from %s; a revocation is final", zWhere,
                       e->zAgency, pLast->zFrom);
    if (strcmp(e->zFrom, pLast->zFrom) < 0)
        return pa_fail(PA_EINVAL, "%s: from %s is before %s, the period of the agency's previous "
                                  "entry; an agency's periods never go back", zWhere, e->zFrom, pLast->zFrom);
    if (e->eOp == PA_REG_REVOKE) /* the key stays with the change: only bRevoked refuses it */
        return add_change(a, e->zFrom, 1, pLast->aKey);
    if (e->eOp != PA_REG_REKEY)
        return pa_fail(PA_EINVAL, "%s: op %d is not an operation", zWhere, (int)e->eOp);
    for (size_t i = 0; i < a->nChange; i++)
        if (sodium_memcmp(a->aChange[i].aKey, e->aKey, 32) == 0)
            return pa_fail(PA_EINVAL, "%s: the new key is one the agency held before; a rekey needs a "
                                      "fresh key (privagg keygen --role agency at the agency)", zWhere);
    return add_change(a, e->zFrom, 0, e->aKey);
}

/* Chain entry i onto the registry: seq, prev, signature (with the genesis's key,
 * which is entry 0's own key). */
static int chain(pa_registry *r, size_t i)
{
    pa_reg_entry *e = &r->aEntry[i];
    const uint8_t *aSigner = i == 0 ? e->aKey : r->aEntry[0].aKey;
    static const uint8_t aZero[32];
    int bOk;

    if (e->iSeq != i)
        return pa_fail(PA_ETAMPER, "registry entry %zu: seq is %u, expected %zu (an entry is missing, "
                                   "repeated or moved)", i, (unsigned)e->iSeq, i);
    if (sodium_memcmp(e->aPrev, i == 0 ? aZero : r->aEntry[i - 1].aHash, 32) != 0)
        return pa_fail(PA_ETAMPER, "registry entry %zu: prev is not the hash of entry %zu (an entry "
                                   "before it was changed, removed or moved)", i, i ? i - 1 : 0);
    PA_GUARD(entry_verify(e, aSigner, &bOk));
    if (!bOk)
        return pa_fail(PA_ETAMPER, "registry entry %zu (%s %s): the signature does not verify with the "
                                   "registry's key (altered, or signed by another key)", i,
                       pa_reg_op_name(e->eOp), e->zAgency);
    return apply(r, i);
}

/* ------------------------------------------------------------ reading */

static int get_text(const json_t *o, const char *zPath, const char *zKey, char *z, size_t nZ, int bEmpty)
{
    json_t *v = json_object_get(o, zKey);
    if (!json_is_string(v) || json_string_length(v) >= nZ || (!bEmpty && json_string_length(v) == 0) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return pa_fail(PA_EDECODE, "%s.%s: missing, or not a string of %s..%zu bytes", zPath, zKey,
                       bEmpty ? "0" : "1", nZ - 1);
    memcpy(z, json_string_value(v), json_string_length(v) + 1);
    return PA_OK;
}

static int parse_entry(pa_reg_entry *e, const json_t *o, size_t i)
{
    static const char *const azGenesis[] = {"seq", "prev", "op", "from", "name", "public_key", "signature", NULL};
    static const char *const azEnroll[] = {"seq", "prev", "op", "from", "agency", "name", "county",
                                           "public_key", "signature", NULL};
    static const char *const azRevoke[] = {"seq", "prev", "op", "from", "agency", "signature", NULL};
    static const char *const azRekey[] = {"seq", "prev", "op", "from", "agency", "public_key", "signature", NULL};
    static const char *const *const aaz[] = {azGenesis, azEnroll, azRevoke, azRekey};
    char zPath[48], zOp[16];
    uint64_t seq;
    int iOp = -1;

    memset(e, 0, sizeof *e);
    snprintf(zPath, sizeof zPath, "entries[%zu]", i);
    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "%s: must be an object", zPath);
    PA_GUARD(get_text(o, zPath, "op", zOp, sizeof zOp, 0));
    for (int k = 0; k <= PA_REG_REKEY; k++)
        if (strcmp(zOp, g_ops[k]) == 0)
            iOp = k;
    if (iOp < 0)
        return pa_fail(PA_EDECODE, "%s.op: \"%s\" is not genesis, enroll, revoke or rekey", zPath, zOp);
    e->eOp = (pa_reg_op)iOp;
    PA_GUARD(pa_json_only_keys(o, zPath, aaz[iOp]));
    PA_GUARD(pa_json_uint(o, zPath, "seq", 0, PA_REGISTRY_MAX_ENTRIES, 0, 0, &seq));
    e->iSeq = (uint32_t)seq;
    PA_GUARD(pa_json_hex(o, zPath, "prev", e->aPrev, 32));
    PA_GUARD(get_text(o, zPath, "from", e->zFrom, sizeof e->zFrom, 0));
    if (strlen(e->zFrom) != 7)
        return pa_fail(PA_EDECODE, "%s.from: \"%s\" is not YYYY-MM", zPath, e->zFrom);
    if (e->eOp != PA_REG_GENESIS)
        PA_GUARD(get_text(o, zPath, "agency", e->zAgency, sizeof e->zAgency, 0));
    if (e->eOp == PA_REG_GENESIS || e->eOp == PA_REG_ENROLL)
        PA_GUARD(get_text(o, zPath, "name", e->zName, sizeof e->zName, 0));
    if (e->eOp == PA_REG_ENROLL)
        PA_GUARD(get_text(o, zPath, "county", e->zCounty, sizeof e->zCounty, 1));
    if (e->eOp != PA_REG_REVOKE)
        PA_GUARD(pa_json_hex(o, zPath, "public_key", e->aKey, 32));
    PA_GUARD(pa_json_hex(o, zPath, "signature", e->aSignature, 64));
    return PA_OK;
}

static int grow_entries(pa_registry *r, size_t nWant)
{
    if (nWant <= r->nEntryAlloc)
        return PA_OK;
    size_t nNew = r->nEntryAlloc ? r->nEntryAlloc : 16;
    while (nNew < nWant)
        nNew *= 2;
    pa_reg_entry *p = realloc(r->aEntry, nNew * sizeof *p);
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "registry: out of memory");
    r->aEntry = p;
    r->nEntryAlloc = nNew;
    repoint(r);
    return PA_OK;
}

int pa_registry_parse(pa_registry **ppReg, const char *zJson, size_t nJson)
{
    static const char *const azKeys[] = {"format", "entries", NULL};
    json_error_t err;
    json_t *root, *pArr, *v;
    pa_registry *r;
    int rc;

    *ppReg = NULL;
    root = json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return pa_fail(PA_EDECODE, "registry: not JSON (line %d: %s)", err.line, err.text);
    if ((r = calloc(1, sizeof *r)) == NULL) {
        json_decref(root);
        return pa_fail(PA_ENOMEM, "registry: out of memory");
    }
    rc = json_is_object(root) ? pa_json_only_keys(root, "registry", azKeys)
                              : pa_fail(PA_EDECODE, "registry: must be a JSON object");
    v = json_object_get(root, "format");
    if (rc == PA_OK && (!json_is_string(v) || strcmp(json_string_value(v), PA_REGISTRY_FORMAT) != 0))
        rc = pa_fail(PA_EDECODE, "registry.format: must be \"%s\"", PA_REGISTRY_FORMAT);
    if (rc == PA_OK)
        rc = pa_json_array(root, "registry", "entries", &pArr);
    if (rc == PA_OK && (json_array_size(pArr) < 1 || json_array_size(pArr) > PA_REGISTRY_MAX_ENTRIES))
        rc = pa_fail(PA_EDECODE, "registry.entries: %zu entries, expected 1..%d", json_array_size(pArr),
                     PA_REGISTRY_MAX_ENTRIES);
    if (rc == PA_OK)
        rc = grow_entries(r, json_array_size(pArr));
    for (size_t i = 0; rc == PA_OK && i < json_array_size(pArr); i++) {
        rc = parse_entry(&r->aEntry[i], json_array_get(pArr, i), i);
        if (rc == PA_OK) {
            r->nEntry = i + 1;
            rc = chain(r, i);
        }
    }
    json_decref(root);
    if (rc != PA_OK) {
        pa_registry_free(r);
        return rc;
    }
    *ppReg = r;
    return PA_OK;
}

int pa_registry_load(pa_registry **ppReg, const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    char *z = NULL;
    size_t n = 0, nAlloc = 0;
    int rc;

    *ppReg = NULL;
    if (f == NULL)
        return pa_fail(PA_EIO, "%s: %s", zPath, strerror(errno));
    for (;;) {
        if (n + 65536 > nAlloc) {
            char *p = realloc(z, nAlloc + 65536 + n);
            if (p == NULL) {
                free(z);
                fclose(f);
                return pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
            }
            z = p;
            nAlloc = nAlloc + 65536 + n;
        }
        size_t k = fread(z + n, 1, nAlloc - n, f);
        n += k;
        if (k == 0)
            break;
        if (n > (size_t)512 << 20) {
            free(z);
            fclose(f);
            return pa_fail(PA_ERANGE, "%s: larger than 512 MiB", zPath);
        }
    }
    rc = ferror(f) ? pa_fail(PA_EIO, "%s: read error", zPath) : PA_OK;
    fclose(f);
    if (rc == PA_OK) {
        rc = pa_registry_parse(ppReg, z, n);
        if (rc != PA_OK) {
            char zDetail[400];
            snprintf(zDetail, sizeof zDetail, "%s", pa_error_detail());
            rc = pa_fail(rc, "%s: %s", zPath, zDetail);
        }
    }
    free(z);
    return rc;
}

void pa_registry_free(pa_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nAgency; i++)
        free(r->aAgency[i].aChange);
    free(r->aAgency);
    free(r->aiSorted);
    free(r->aEntry);
    free(r);
}

int pa_registry_check_task(const pa_registry *r, const pa_task *t)
{
    char zWant[65], zHave[65];
    if (!t->bRegistry)
        return pa_fail(PA_EINVAL, "registry: the task lists its agencies (parties.agencies) and names no "
                                  "registry");
    if (sodium_memcmp(r->aEntry[0].aHash, t->aRegistryGenesis, 32) != 0) {
        sodium_bin2hex(zWant, sizeof zWant, t->aRegistryGenesis, 32);
        sodium_bin2hex(zHave, sizeof zHave, r->aEntry[0].aHash, 32);
        return pa_fail(PA_ETAMPER, "registry: genesis %s is not the task's parties.registry.genesis %s "
                                   "(another registry)", zHave, zWant);
    }
    if (sodium_memcmp(r->aEntry[0].aKey, t->aRegistrySigner, 32) != 0)
        return pa_fail(PA_ETAMPER, "registry: signed by another key than the task's "
                                   "parties.registry.signing_public_key");
    return PA_OK;
}

size_t pa_registry_count(const pa_registry *r) { return r->nEntry; }
const pa_reg_entry *pa_registry_entry(const pa_registry *r, size_t i) { return i < r->nEntry ? &r->aEntry[i] : NULL; }
const uint8_t *pa_registry_genesis(const pa_registry *r) { return r->aEntry[0].aHash; }
const uint8_t *pa_registry_head(const pa_registry *r) { return r->aEntry[r->nEntry - 1].aHash; }
const uint8_t *pa_registry_signer(const pa_registry *r) { return r->aEntry[0].aKey; }
size_t pa_registry_agency_count(const pa_registry *r) { return r->nAgency; }
const char *pa_registry_agency_id(const pa_registry *r, size_t i) { return i < r->nAgency ? r->aAgency[i].zId : NULL; }

void pa_registry_lookup(const pa_registry *r, const char *zAgency, const char *zPeriod, pa_reg_agency *pOut)
{
    const reg_agency *a = find_agency(r, zAgency);
    const reg_change *pNow = NULL;

    memset(pOut, 0, sizeof *pOut);
    if (a == NULL) {
        pOut->eStatus = PA_REG_UNKNOWN;
        return;
    }
    const pa_reg_entry *e = &r->aEntry[a->iEnroll];
    memcpy(pOut->zCounty, e->zCounty, sizeof pOut->zCounty);
    memcpy(pOut->zName, e->zName, sizeof pOut->zName);
    /* changes in append order, periods never going back: the last one from on or
     * before zPeriod is in force (a later entry of the same period wins) */
    for (size_t i = 0; i < a->nChange && strcmp(a->aChange[i].zFrom, zPeriod) <= 0; i++)
        pNow = &a->aChange[i];
    if (pNow == NULL) {
        pOut->eStatus = PA_REG_NOT_YET;
        memcpy(pOut->zSince, a->aChange[0].zFrom, 8);
    } else if (pNow->bRevoked) {
        pOut->eStatus = PA_REG_REVOKED;
        memcpy(pOut->zSince, pNow->zFrom, 8);
    } else {
        pOut->eStatus = PA_REG_ACTIVE;
        memcpy(pOut->zSince, pNow->zFrom, 8);
        memcpy(pOut->aKey, pNow->aKey, 32);
    }
}

size_t pa_registry_active(const pa_registry *r, const char *zPeriod)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nAgency; i++) {
        pa_reg_agency x;
        pa_registry_lookup(r, r->aAgency[i].zId, zPeriod, &x);
        n += x.eStatus == PA_REG_ACTIVE;
    }
    return n;
}

/* ------------------------------------------------------------ appending */

int pa_registry_new(pa_registry **ppReg, const char *zName, const char *zFrom, const uint8_t aSecret[64])
{
    pa_registry *r = calloc(1, sizeof *r);
    pa_reg_entry *e;
    int rc;

    *ppReg = NULL;
    if (r == NULL || grow_entries(r, 1) != PA_OK) {
        pa_registry_free(r);
        return pa_fail(PA_ENOMEM, "registry: out of memory");
    }
    e = &r->aEntry[0];
    memset(e, 0, sizeof *e);
    e->eOp = PA_REG_GENESIS;
    if (strlen(zName) == 0 || strlen(zName) > PA_TASK_MAX_NAME || strlen(zFrom) != 7) {
        pa_registry_free(r);
        return pa_fail(PA_EINVAL, "registry: name of 1..%d bytes and from YYYY-MM are required",
                       PA_TASK_MAX_NAME);
    }
    memcpy(e->zName, zName, strlen(zName) + 1);
    memcpy(e->zFrom, zFrom, 8);
    crypto_sign_ed25519_sk_to_pk(e->aKey, aSecret);
    rc = entry_sign(e, aSecret);
    if (rc == PA_OK) {
        r->nEntry = 1;
        rc = apply(r, 0);
    }
    if (rc != PA_OK) {
        pa_registry_free(r);
        return rc;
    }
    *ppReg = r;
    return PA_OK;
}

int pa_registry_append(pa_registry *r, const pa_reg_entry *pEntry, const uint8_t aSecret[64])
{
    uint8_t aPub[32];
    pa_reg_entry *e;

    crypto_sign_ed25519_sk_to_pk(aPub, aSecret);
    if (sodium_memcmp(aPub, r->aEntry[0].aKey, 32) != 0)
        return pa_fail(PA_EAUTH, "registry: the key given is not the registry's signer (entry 0's "
                                 "public_key)");
    if (r->nEntry >= PA_REGISTRY_MAX_ENTRIES)
        return pa_fail(PA_ERANGE, "registry: %d entries is the limit", PA_REGISTRY_MAX_ENTRIES);
    PA_GUARD(grow_entries(r, r->nEntry + 1));
    e = &r->aEntry[r->nEntry];
    *e = *pEntry;
    e->iSeq = (uint32_t)r->nEntry;
    memcpy(e->aPrev, r->aEntry[r->nEntry - 1].aHash, 32);
    if (e->eOp == PA_REG_REVOKE)
        memset(e->aKey, 0, 32);
    if (e->eOp != PA_REG_ENROLL)
        e->zCounty[0] = '\0';
    if (e->eOp == PA_REG_REVOKE || e->eOp == PA_REG_REKEY)
        e->zName[0] = '\0';
    PA_GUARD(entry_sign(e, aSecret));
    r->nEntry++;
    int rc = apply(r, r->nEntry - 1);
    if (rc != PA_OK)
        r->nEntry--; /* apply changed nothing when it failed */
    return rc;
}

static json_t *hex(const uint8_t *p, size_t n)
{
    char z[129];
    sodium_bin2hex(z, sizeof z, p, n);
    return json_string(z);
}

int pa_registry_write(const pa_registry *r, const char *zPath, int bNew)
{
    json_t *root = json_object(), *arr = json_array();
    char zTmp[4200];
    unsigned char aRand[6];
    char zRand[13];
    int rc;

    for (size_t i = 0; i < r->nEntry; i++) {
        const pa_reg_entry *e = &r->aEntry[i];
        json_t *o = json_object();
        json_object_set_new(o, "seq", json_integer((json_int_t)e->iSeq));
        json_object_set_new(o, "prev", hex(e->aPrev, 32));
        json_object_set_new(o, "op", json_string(pa_reg_op_name(e->eOp)));
        json_object_set_new(o, "from", json_string(e->zFrom));
        if (e->eOp != PA_REG_GENESIS)
            json_object_set_new(o, "agency", json_string(e->zAgency));
        if (e->eOp == PA_REG_GENESIS || e->eOp == PA_REG_ENROLL)
            json_object_set_new(o, "name", json_string(e->zName));
        if (e->eOp == PA_REG_ENROLL)
            json_object_set_new(o, "county", json_string(e->zCounty));
        if (e->eOp != PA_REG_REVOKE)
            json_object_set_new(o, "public_key", hex(e->aKey, 32));
        json_object_set_new(o, "signature", hex(e->aSignature, 64));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "format", json_string(PA_REGISTRY_FORMAT));
    json_object_set_new(root, "entries", arr);
    if (bNew) {
        rc = pa_keys_write_json(zPath, root, 0644);
        json_decref(root);
        return rc;
    }
    randombytes_buf(aRand, sizeof aRand);
    sodium_bin2hex(zRand, sizeof zRand, aRand, sizeof aRand);
    if (snprintf(zTmp, sizeof zTmp, "%s.tmp-%s", zPath, zRand) >= (int)sizeof zTmp) {
        json_decref(root);
        return pa_fail(PA_ERANGE, "registry path: longer than %zu bytes", sizeof zTmp - 20);
    }
    rc = pa_keys_write_json(zTmp, root, 0644);
    json_decref(root);
    if (rc == PA_OK && rename(zTmp, zPath) != 0) {
        rc = pa_fail(PA_EIO, "%s: cannot replace it: %s (the new file stays as %s)", zPath, strerror(errno),
                     zTmp);
    }
    return rc;
}

/* ------------------------------------------------------------ an agency's key */

int pa_agency_key(const pa_task *t, const pa_registry *r, const char *zAgency, const char *zPeriod,
                  uint8_t aKey[32], char zPartition[65])
{
    pa_reg_agency x;
    const pa_task_partition *p;

    if (!t->bRegistry) {
        const pa_task_agency *a = pa_task_find_agency(t, zAgency);
        if (a == NULL)
            return pa_fail(PA_EAUTH, "report.agency_id: \"%s\" is not an agency of the task", zAgency);
        memcpy(aKey, a->aPublicKey, 32);
        snprintf(zPartition, 65, "%s", a->zPartition);
        return PA_OK;
    }
    if (r == NULL)
        return pa_fail(PA_EINTERNAL, "registry: the task names a registry and none is held");
    pa_registry_lookup(r, zAgency, zPeriod, &x);
    switch (x.eStatus) {
    case PA_REG_UNKNOWN:
        return pa_fail(PA_EAUTH, "report.agency_id: \"%s\" is not enrolled in the agency registry",
                       zAgency);
    case PA_REG_NOT_YET:
        return pa_fail(PA_EAUTH, "report.period: agency %s is enrolled from %s, not for %s", zAgency,
                       x.zSince, zPeriod);
    case PA_REG_REVOKED:
        return pa_fail(PA_EAUTH, "report.period: agency %s's key is revoked from %s (agency registry); "
                                 "its reports for %s are refused", zAgency, x.zSince, zPeriod);
    case PA_REG_ACTIVE:
        break;
    }
    p = pa_task_partition_of_county(t, x.zCounty);
    if (p == NULL)
        return pa_fail(PA_EAUTH, "report.agency_id: agency %s's county \"%s\" is in no partition of the "
                                 "task; its reports are refused (docs/registry.md)", zAgency, x.zCounty);
    memcpy(aKey, x.aKey, 32);
    snprintf(zPartition, 65, "%s", p->zName);
    return PA_OK;
}

/* ------------------------------------------------------------ the held registry */

struct pa_registry_ref {
    pthread_rwlock_t lock;
    pa_registry *pReg;
    const pa_task *pTask;
    char zPath[4096];
};

static int load_checked(pa_registry **ppReg, const char *zPath, const pa_task *t)
{
    PA_GUARD(pa_registry_load(ppReg, zPath));
    int rc = pa_registry_check_task(*ppReg, t);
    if (rc != PA_OK) {
        char zDetail[400];
        snprintf(zDetail, sizeof zDetail, "%s", pa_error_detail());
        pa_registry_free(*ppReg);
        *ppReg = NULL;
        return pa_fail(rc, "%s: %s", zPath, zDetail);
    }
    return PA_OK;
}

int pa_registry_ref_open(pa_registry_ref **ppRef, const char *zPath, const pa_task *t)
{
    pa_registry_ref *p;
    *ppRef = NULL;
    if (strlen(zPath) >= sizeof p->zPath)
        return pa_fail(PA_ERANGE, "registry: path longer than %zu bytes", sizeof p->zPath - 1);
    if ((p = calloc(1, sizeof *p)) == NULL)
        return pa_fail(PA_ENOMEM, "registry: out of memory");
    memcpy(p->zPath, zPath, strlen(zPath) + 1);
    p->pTask = t;
    int rc = load_checked(&p->pReg, zPath, t);
    if (rc != PA_OK) {
        free(p);
        return rc;
    }
    pthread_rwlock_init(&p->lock, NULL);
    *ppRef = p;
    return PA_OK;
}

int pa_registry_ref_reload(pa_registry_ref *p)
{
    pa_registry *pNew, *pOld;
    PA_GUARD(load_checked(&pNew, p->zPath, p->pTask));
    /* the new file must extend the held one: an entry held cannot disappear */
    if (pNew->nEntry < p->pReg->nEntry ||
        sodium_memcmp(pNew->aEntry[p->pReg->nEntry - 1].aHash, pa_registry_head(p->pReg), 32) != 0) {
        size_t n = p->pReg->nEntry;
        pa_registry_free(pNew);
        return pa_fail(PA_ETAMPER, "%s: does not extend the registry held (%zu entries): entries are "
                                   "only ever appended", p->zPath, n);
    }
    pthread_rwlock_wrlock(&p->lock);
    pOld = p->pReg;
    p->pReg = pNew;
    pthread_rwlock_unlock(&p->lock);
    pa_registry_free(pOld);
    return PA_OK;
}

void pa_registry_ref_close(pa_registry_ref *p)
{
    if (p == NULL)
        return;
    pthread_rwlock_destroy(&p->lock);
    pa_registry_free(p->pReg);
    free(p);
}

int pa_registry_ref_key(pa_registry_ref *p, const pa_task *t, const char *zAgency, const char *zPeriod,
                        uint8_t aKey[32], char zPartition[65])
{
    if (p == NULL)
        return pa_agency_key(t, NULL, zAgency, zPeriod, aKey, zPartition);
    pthread_rwlock_rdlock(&p->lock);
    int rc = pa_agency_key(t, p->pReg, zAgency, zPeriod, aKey, zPartition);
    pthread_rwlock_unlock(&p->lock);
    return rc;
}

int pa_registry_ref_active(pa_registry_ref *p, const pa_task *t, const char *zAgency, const char *zPeriod)
{
    uint8_t aKey[32];
    char zPartition[65];
    return pa_registry_ref_key(p, t, zAgency, zPeriod, aKey, zPartition) == PA_OK;
}

size_t pa_registry_ref_count(pa_registry_ref *p)
{
    if (p == NULL)
        return 0;
    pthread_rwlock_rdlock(&p->lock);
    size_t n = p->pReg->nEntry;
    pthread_rwlock_unlock(&p->lock);
    return n;
}
