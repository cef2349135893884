/*
 * Release manifests: what was released, at which privacy cost, anchored to both
 * aggregators' ledgers, signed by the collector (Ed25519, libsodium).
 *
 * The signature covers canonical bytes (pa_manifest_signed_bytes): a tag, then the
 * manifest without "signature" printed as the task id is (sorted keys, compact,
 * ASCII, 17-digit reals), so whitespace or key order does not matter and any
 * changed value does.  The privacy reviewer checks the signature against
 * parties.collector.signing_public_key of the task (privagg audit).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"
#include "privagg/vdaf.h"
#include "publish/internal.h"
#include "json/json_load.h"

#define MANIFEST_TAG "privagg-release-manifest-v1"

int pa_manifest_signed_bytes(const char *zJson, size_t nJson, char **pzOut, size_t *pnOut)
{
    json_error_t err;
    json_t *o = pa_json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
    char *zBody, *zOut;
    size_t nBody, nTag = strlen(MANIFEST_TAG) + 1;

    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return pa_fail(o == NULL ? pa_json_load_status(&err) : PA_EDECODE,
                       "manifest: line %d: %s", err.line, o ? "not an object" : err.text);
    }
    json_object_del(o, "signature");
    zBody = pa_json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (zBody == NULL)
        return pa_fail(PA_ENOMEM, "manifest: canonical encoding");
    nBody = strlen(zBody);
    if ((zOut = malloc(nTag + nBody)) == NULL) {
        free(zBody);
        return pa_fail(PA_ENOMEM, "manifest: canonical encoding");
    }
    memcpy(zOut, MANIFEST_TAG, nTag);
    memcpy(zOut + nTag, zBody, nBody);
    free(zBody);
    *pzOut = zOut;
    *pnOut = nTag + nBody;
    return PA_OK;
}

int pa_manifest_verify(const char *zJson, size_t nJson, const uint8_t aPublic[32])
{
    json_t *o = pa_json_loadb(zJson, nJson, 0, NULL), *s;
    const char *zAlg, *zSig;
    uint8_t aSig[64];
    char *zBytes = NULL;
    size_t nBytes = 0;
    int rc = PA_OK;

    s = json_object_get(o, "signature");
    zAlg = json_string_value(json_object_get(s, "algorithm"));
    zSig = json_string_value(json_object_get(s, "value"));
    if (zAlg == NULL || strcmp(zAlg, "ed25519") != 0 || zSig == NULL || strlen(zSig) != 128 ||
        sodium_hex2bin(aSig, 64, zSig, 128, NULL, NULL, NULL) != 0)
        rc = pa_fail(PA_EDECODE, "manifest: signature: missing, not ed25519 or not 128 hex digits");
    json_decref(o);
    if (rc == PA_OK)
        rc = pa_manifest_signed_bytes(zJson, nJson, &zBytes, &nBytes);
    if (rc == PA_OK && crypto_sign_verify_detached(aSig, (const unsigned char *)zBytes, nBytes, aPublic) != 0)
        rc = pa_fail(PA_EVERIFY, "manifest: the signature does not verify under the collector's key");
    free(zBytes);
    return rc;
}

/* ---- writing ------------------------------------------------------------------ */

static int read_text(const char *zPath, char **pz, size_t *pn)
{
    FILE *f = fopen(zPath, "rb");
    long n;
    if (f == NULL)
        return pa_fail(PA_EIO, "cannot read %s", zPath);
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (64L << 20) || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return pa_fail(PA_EIO, "%s: unreadable or above 64 MiB", zPath);
    }
    *pz = malloc((size_t)n + 1);
    if (*pz == NULL || fread(*pz, 1, (size_t)n, f) != (size_t)n) {
        free(*pz);
        fclose(f);
        return pa_fail(PA_EIO, "cannot read %s", zPath);
    }
    (*pz)[n] = '\0';
    *pn = (size_t)n;
    fclose(f);
    return PA_OK;
}

/* a ledger head (index, hash): from the exported ledger if given (verified), else
 * the last release's entry (index unknown) */
static json_t *ledger_head(const pa_pub *p, const char *zLedger, int iAgg, int *pRc)
{
    uint8_t aHead[32];
    char zHex[65];
    int64_t n = 0;
    if (zLedger != NULL) {
        char *zText = NULL;
        size_t nText = 0;
        pa_store *pStore = NULL;
        int rc = read_text(zLedger, &zText, &nText);
        if (rc == PA_OK)
            rc = pa_dp_ledger_open_json(&pStore, zText, nText, NULL, -1, aHead, &n);
        pa_store_close(pStore);
        /* every release's entry of this aggregator is in its ledger: else the two
         * files are swapped, or older than the collections */
        json_t *pDoc = rc == PA_OK ? json_loadb(zText, nText, 0, NULL) : NULL;
        for (size_t i = 0; rc == PA_OK && i < p->nRel; i++) {
            json_t *e;
            size_t k;
            int bFound = 0;
            json_array_foreach(json_object_get(pDoc, "entries"), k, e) {
                const char *zHash = json_string_value(json_object_get(e, "hash"));
                bFound |= zHash != NULL && strcmp(zHash, p->aRel[i].azLedger[iAgg]) == 0;
            }
            if (!bFound)
                rc = pa_fail(PA_EINVAL, "--ledgers: %s (the %s's) holds no entry %.16s... of release %s/%s; "
                             "give the leader's ledger first, then the helper's, exported after the collections",
                             zLedger, iAgg == 0 ? "leader" : "helper", p->aRel[i].azLedger[iAgg], p->aRel[i].zPeriod,
                             p->aRel[i].zPartition);
        }
        json_decref(pDoc);
        free(zText);
        if (rc != PA_OK) {
            *pRc = rc;
            return json_null();
        }
        sodium_bin2hex(zHex, sizeof zHex, aHead, 32);
        return json_pack("{s:I, s:s}", "index", (json_int_t)n, "hash", zHex);
    }
    return json_pack("{s:n, s:s}", "index", "hash", p->aRel[p->nRel - 1].azLedger[iAgg]);
}

typedef struct {
    char zPeriod[8];
    double rState;
    size_t nPart;
    struct { const char *zName; double rSpent; } a[1024];
} period_spend;

int pa_pub_write_manifest(const pa_pub *p, const pa_publish_opts *o, const char *zPath)
{
    const pa_task *t = p->pTask;
    json_t *root = json_object(), *rel = json_array(), *cells = json_array(), *pol;
    char zHex[129], *zBytes = NULL, *zText = NULL;
    size_t nBytes = 0;
    uint8_t aSig[64];
    double rMax = 0, rEps = 0;
    int rc = PA_OK;
    period_spend *ps = calloc(1, sizeof *ps);
    FILE *f;

    if (!o->pCollector->bSign) {
        json_decref(root);
        json_decref(rel);
        json_decref(cells);
        free(ps);
        return pa_fail(PA_EINVAL, "manifest: the collector key file has no signing key (written before "
                                  "manifests were signed): make a new collector key with privagg keygen "
                                  "--role collector and a task that names it");
    }
    if (ps == NULL)
        return pa_fail(PA_ENOMEM, "manifest");
    sodium_bin2hex(zHex, sizeof zHex, t->aTaskId, 32);
    json_object_set_new(root, "format", json_string(MANIFEST_TAG));
    json_object_set_new(root, "task_id", json_string(zHex));
    json_object_set_new(root, "task_name", json_string(t->zName));
    json_object_set_new(root, "software", json_string(o->zVersion ? o->zVersion : "privagg"));
    pol = json_object();
    json_object_set_new(pol, "mechanism", json_string(pa_task_mechanism_name(t->eMechanism)));
    json_object_set_new(pol, "privacy_unit", json_string("incident_record"));
    json_object_set_new(pol, "budget_per_record_rho", json_real(t->rBudgetPerRecord));
    json_object_set_new(pol, "per_release_rho", json_pack("{s:f, s:f}", "state", t->aPerRelease[0], "partition",
                                                          t->aPerRelease[1]));
    json_object_set_new(pol, "min_agencies", json_integer((json_int_t)t->nMinAgencies));
    json_object_set_new(root, "policy", pol);
    for (size_t i = 0; rc == PA_OK && i < p->nRel; i++) {
        const pa_release *r = &p->aRel[i];
        int bNoise = 0, bState = strcmp(r->zPartition, "state") == 0;
        pa_dp_mechanism mech;
        pa_dp_sensitivity sens;
        double sigma2 = 0, rho = 0;
        rc = pa_task_noise(t, bState ? PA_TASK_LEVEL_STATE : PA_TASK_LEVEL_PARTITION, &bNoise, &mech, &sens, &sigma2);
        if (rc == PA_OK && bNoise && r->rSigma2 > 0)
            rho = (double)sens.l2sq / (2 * r->rSigma2);
        json_array_append_new(
            rel, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:{s:s, s:f, s:i}, s:f, s:{s:s, s:s}}", "period", r->zPeriod,
                           "partition", r->zPartition, "level", bState ? "state" : "partition", "collection_id",
                           r->zCollectionId, "agencies", (json_int_t)r->nAgency, "reports", (json_int_t)r->nReport,
                           "noise", "mechanism", pa_task_mechanism_name(t->eMechanism), "sigma2_per_aggregator",
                           r->rSigma2, "aggregators", 2, "rho", rho, "ledger_entries", "leader", r->azLedger[0],
                           "helper", r->azLedger[1]));
        /* running totals per lattice cell, as the ledgers keep them */
        if (strcmp(ps->zPeriod, r->zPeriod) != 0) {
            memset(ps, 0, sizeof *ps);
            snprintf(ps->zPeriod, sizeof ps->zPeriod, "%s", r->zPeriod);
        }
        if (bState)
            ps->rState += rho;
        else if (ps->nPart < 1024) {
            ps->a[ps->nPart].zName = r->zPartition;
            ps->a[ps->nPart++].rSpent = rho;
        }
        if (i + 1 == p->nRel || strcmp(p->aRel[i + 1].zPeriod, r->zPeriod) != 0) {
            for (size_t k = 0; k < ps->nPart; k++) {
                double s = ps->rState + ps->a[k].rSpent;
                json_array_append_new(cells, json_pack("{s:s, s:s, s:f}", "period", ps->zPeriod, "partition",
                                                       ps->a[k].zName, "spent", s));
                rMax = s > rMax ? s : rMax;
            }
            if (ps->rState > 0) {
                json_array_append_new(cells, json_pack("{s:s, s:s, s:f}", "period", ps->zPeriod, "partition",
                                                       "state", "spent", ps->rState));
                rMax = ps->rState > rMax ? ps->rState : rMax;
            }
        }
    }
    free(ps);
    json_object_set_new(root, "releases", rel);
    json_object_set_new(root, "cells", cells);
    if (rMax > 0)
        pa_dp_zcdp_eps(rMax, 1e-6, &rEps, NULL);
    json_object_set_new(root, "max_spent_rho", json_real(rMax));
    json_object_set_new(root, "epsilon_at_delta_1e-6", json_real(rEps));
    json_object_set_new(root, "ledger_heads",
                        json_pack("{s:o, s:o}", "leader", ledger_head(p, o->azLedgerJson[0], 0, &rc), "helper",
                                  ledger_head(p, o->azLedgerJson[1], 1, &rc)));
    if (rc == PA_OK && (zText = pa_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))) == NULL)
        rc = pa_fail(PA_ENOMEM, "manifest");
    if (rc == PA_OK)
        rc = pa_manifest_signed_bytes(zText, strlen(zText), &zBytes, &nBytes);
    if (rc == PA_OK) {
        crypto_sign_detached(aSig, NULL, (const unsigned char *)zBytes, nBytes, o->pCollector->aSignSecret);
        sodium_bin2hex(zHex, sizeof zHex, aSig, 64);
        json_t *sig = json_object();
        char zPub[65];
        sodium_bin2hex(zPub, sizeof zPub, o->pCollector->aSignPublic, 32);
        json_object_set_new(sig, "algorithm", json_string("ed25519"));
        json_object_set_new(sig, "public_key", json_string(zPub));
        json_object_set_new(sig, "value", json_string(zHex));
        json_object_set_new(root, "signature", sig);
        if ((f = fopen(zPath, "w")) == NULL ||
            json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
            rc = pa_fail(PA_EIO, "manifest: cannot write %s", zPath);
        if (f != NULL) {
            fputc('\n', f);
            if (fclose(f) != 0 && rc == PA_OK)
                rc = pa_fail(PA_EIO, "manifest: writing %s", zPath);
        }
    }
    free(zBytes);
    free(zText);
    json_decref(root);
    return rc;
}
