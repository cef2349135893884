/*
 * privagg audit (include/privagg/audit.h).  Every check records a line
 * {check, ok, detail}; a failed check also adds its reason to "failures", so the
 * reviewer sees every reason at once, not the first.  The composition is
 * recomputed from the task and the noise parameters alone (sigma2 of each ledger
 * entry and manifest release), never from the charges the aggregators wrote:
 *   rho(release) = Delta2^2 / (2 sigma2)             (zCDP of the discrete Gaussian)
 *   cell (p, x) = sum of statewide releases of p + sum of releases of partition x of p
 * because a record of partition x in month p is in exactly those batches
 * (sequential composition over them; parallel over disjoint batches: other
 * partitions, other months).  docs/audit.md states each rule and its source.
 */
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/audit.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"
#include "privagg/publish.h"
#include "privagg/vdaf.h"
#include "json/json_load.h"

typedef struct {
    json_t *pChecks, *pFail;
} audit_log;

static void check(audit_log *l, int bOk, const char *zCheck, const char *zFmt, ...)
{
    char z[1024];
    va_list ap;
    va_start(ap, zFmt);
    vsnprintf(z, sizeof z, zFmt, ap);
    va_end(ap);
    json_array_append_new(l->pChecks, json_pack("{s:s, s:b, s:s}", "check", zCheck, "ok", bOk, "detail", z));
    if (!bOk) {
        char zFail[1200];
        snprintf(zFail, sizeof zFail, "%s: %s", zCheck, z);
        json_array_append_new(l->pFail, json_string(zFail));
    }
}

static const char *str(const json_t *o, const char *zKey)
{
    const char *z = json_string_value(json_object_get(o, zKey));
    return z ? z : "";
}

/* the task's entries of one verified ledger, or NULL when it did not verify */
typedef struct {
    json_t *pDoc;                  /* parsed export */
    json_t *pTask;                 /* its entries of this task, in order */
    int bOk;
    int64_t nCount;
} ledger_view;

static void load_ledger(audit_log *l, const char *zWho, const pa_audit_input *in, const char *zTaskHex,
                        ledger_view *v)
{
    uint8_t aHead[32];
    char zHead[65];
    pa_store *pStore = NULL;
    int rc;
    memset(v, 0, sizeof *v);
    v->pTask = json_array();
    rc = pa_dp_ledger_open_json(&pStore, in->zText, in->nText, NULL, -1, aHead, &v->nCount);
    pa_store_close(pStore);
    if (rc != PA_OK) {
        check(l, 0, "ledger chain", "%s ledger (%s): %s", zWho, in->zName, pa_error_detail());
        return;
    }
    sodium_bin2hex(zHead, sizeof zHead, aHead, 32);
    v->pDoc = pa_json_loadb(in->zText, in->nText, 0, NULL);
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(v->pDoc, "entries"), i, e)
        if (strcmp(str(e, "task_id"), zTaskHex) == 0)
            json_array_append(v->pTask, e);
    v->bOk = 1;
    check(l, 1, "ledger chain", "%s ledger (%s): %lld entries (%zu of this task), hash chain, sequence numbers, "
                                "per-cell totals and budgets verified; head %.16s...",
          zWho, in->zName, (long long)v->nCount, json_array_size(v->pTask), zHead);
}

/* what makes two aggregators' entries the same release (not the time or chain) */
static int same_release(const json_t *a, const json_t *b)
{
    static const char *const az[] = {"period", "partition", "level", "mechanism", "param", "unit"};
    for (size_t k = 0; k < 6; k++)
        if (strcmp(str(a, az[k]), str(b, az[k])) != 0)
            return 0;
    return json_number_value(json_object_get(a, "charge")) == json_number_value(json_object_get(b, "charge"));
}

static const json_t *find_entry(const ledger_view *v, const char *zHash)
{
    json_t *e;
    size_t i;
    json_array_foreach(v->pTask, i, e)
        if (strcmp(str(e, "hash"), zHash) == 0)
            return e;
    return NULL;
}

/* lattice: per period S and P[x] recomputed from sigma2 */
typedef struct {
    char zPeriod[16];
    double rState;
    size_t nPart;
    struct { char zName[65]; double r; } *a;
} lat_period;

static double rho_of(const pa_task *t, const char *zParam, int *pbOk)
{
    pa_dp_rational r;
    pa_dp_sensitivity s;
    double rho = 0;
    *pbOk = pa_dp_rational_parse(zParam, &r) == PA_OK &&
            pa_dp_sensitivity_from_bounds(t->nMaxPerCell, t->nMaxCellsPerRecord, &s) == PA_OK &&
            pa_dp_rho_gaussian(s.l2sq, r, &rho) == PA_OK;
    return rho;
}

int pa_audit_run(const pa_task *t, const pa_audit_input *aMan, size_t nMan, const pa_audit_input aLedger[2],
                 const uint8_t *pKey, json_t **ppReport)
{
    audit_log l = {json_array(), json_array()};
    ledger_view v[2];
    char zTask[65];
    const char *azWho[2] = {"leader", "helper"};
    json_t *rep = json_object(), *rules = json_array();
    lat_period *aLat = NULL;
    size_t nLat = 0;
    double rMax = 0, rEps = 0;
    char zWorstP[16] = "", zWorstX[65] = "";
    int bNoise = 0;

    sodium_bin2hex(zTask, sizeof zTask, t->aTaskId, 32);
    /* 1. the policy */
    check(&l, t->eMechanism != PA_TASK_DP_NONE, "policy",
          t->eMechanism == PA_TASK_DP_NONE ? "dp.mechanism is none: the released totals are exact, there is no "
                                             "privacy protection"
                                           : "dp.mechanism %s, privacy unit incident record, budget per record %g",
          pa_task_mechanism_name(t->eMechanism), t->rBudgetPerRecord);
    if (t->eMechanism == PA_TASK_DP_LAPLACE)
        check(&l, 0, "policy", "discrete_laplace tasks are not audited by this version (Gaussian/zCDP only)");
    /* 2. each ledger's chain, 3. the two ledgers agree */
    for (int a = 0; a < 2; a++)
        load_ledger(&l, azWho[a], &aLedger[a], zTask, &v[a]);
    if (v[0].bOk && v[1].bOk) {
        size_t n0 = json_array_size(v[0].pTask), n1 = json_array_size(v[1].pTask), nDiff = 0;
        char zFirst[300] = "";
        for (size_t i = 0; i < n0; i++) {
            const json_t *e = json_array_get(v[0].pTask, i);
            int bFound = 0;
            for (size_t j = 0; j < n1 && !bFound; j++)
                bFound = same_release(e, json_array_get(v[1].pTask, j));
            if (!bFound && nDiff++ == 0)
                snprintf(zFirst, sizeof zFirst, "; the leader's entry %lld (%s/%s) is not in the helper's",
                         (long long)json_integer_value(json_object_get(e, "seq")), str(e, "period"), str(e, "partition"));
        }
        for (size_t j = 0; j < n1; j++) {
            const json_t *e = json_array_get(v[1].pTask, j);
            int bFound = 0;
            for (size_t i = 0; i < n0 && !bFound; i++)
                bFound = same_release(e, json_array_get(v[0].pTask, i));
            if (!bFound && nDiff++ == 0)
                snprintf(zFirst, sizeof zFirst, "; the helper's entry %lld (%s/%s) is not in the leader's",
                         (long long)json_integer_value(json_object_get(e, "seq")), str(e, "period"), str(e, "partition"));
        }
        check(&l, nDiff == 0 && n0 == n1, "ledgers agree",
              nDiff == 0 && n0 == n1 ? "both ledgers hold the same %zu releases of the task (batch, noise, charge)"
                                     : "the ledgers differ: leader %zu releases, helper %zu, %zu unmatched%s",
              n0, n1, nDiff, zFirst);
    }
    /* 4. each release's rho from the task and its noise alone; 5. no batch twice;
     * 6. the composition per lattice cell */
    for (int a = 0; a < 2; a++) {
        if (!v[a].bOk)
            continue;
        size_t i, nBad = 0, nTwice = 0;
        json_t *e;
        char zBad[300] = "", zTwice[300] = "";
        json_array_foreach(v[a].pTask, i, e) {
            int bOk, bState = strcmp(str(e, "partition"), "state") == 0;
            pa_dp_mechanism mech;
            pa_dp_sensitivity sens;
            double sigma2Task = 0, rho = rho_of(t, str(e, "param"), &bOk);
            double charge = json_number_value(json_object_get(e, "charge"));
            pa_task_noise(t, bState ? PA_TASK_LEVEL_STATE : PA_TASK_LEVEL_PARTITION, &bNoise, &mech, &sens, &sigma2Task);
            if (!bOk || fabs(rho - charge) > 1e-12 * (rho > charge ? rho : charge) ||
                strtod(str(e, "param"), NULL) < sigma2Task * (1 - 1e-9)) {
                if (nBad++ == 0)
                    snprintf(zBad, sizeof zBad, "; entry %lld (%s/%s): sigma2 %s gives rho %.6g, charged %.6g, the "
                                                "task's noise sigma2 %g",
                             (long long)json_integer_value(json_object_get(e, "seq")), str(e, "period"),
                             str(e, "partition"), str(e, "param"), rho, charge, sigma2Task);
            }
            for (size_t j = 0; j < i; j++) {
                const json_t *f = json_array_get(v[a].pTask, j);
                if (strcmp(str(e, "period"), str(f, "period")) == 0 && strcmp(str(e, "partition"), str(f, "partition")) == 0 &&
                    nTwice++ == 0)
                    snprintf(zTwice, sizeof zTwice, ": batch %s/%s (entries %lld and %lld)", str(e, "period"),
                             str(e, "partition"), (long long)json_integer_value(json_object_get(f, "seq")),
                             (long long)json_integer_value(json_object_get(e, "seq")));
            }
            if (a != (v[0].bOk ? 0 : 1))
                continue;
            /* the lattice, from the leader's verified ledger, else the helper's (they must agree, check 3) */
            lat_period *p = NULL;
            for (size_t k = 0; k < nLat; k++)
                if (strcmp(aLat[k].zPeriod, str(e, "period")) == 0)
                    p = &aLat[k];
            if (p == NULL) {
                lat_period *q = realloc(aLat, (nLat + 1) * sizeof *aLat);
                if (q == NULL)
                    return pa_fail(PA_ENOMEM, "audit");
                aLat = q;
                p = &aLat[nLat++];
                memset(p, 0, sizeof *p);
                snprintf(p->zPeriod, sizeof p->zPeriod, "%s", str(e, "period"));
            }
            if (bState) {
                p->rState += rho;
            } else {
                size_t k;
                for (k = 0; k < p->nPart && strcmp(p->a[k].zName, str(e, "partition")) != 0; k++)
                    ;
                if (k == p->nPart) {
                    void *q = realloc(p->a, (p->nPart + 1) * sizeof *p->a);
                    if (q == NULL)
                        return pa_fail(PA_ENOMEM, "audit");
                    p->a = q;
                    snprintf(p->a[k].zName, sizeof p->a[k].zName, "%s", str(e, "partition"));
                    p->a[k].r = 0;
                    p->nPart++;
                }
                p->a[k].r += rho;
            }
        }
        if (nBad == 0)
            check(&l, 1, "release cost", "%s ledger: every release's rho, recomputed from the task's sensitivity "
                  "and its sigma2, matches its charge, and its noise is the task's", azWho[a]);
        else
            check(&l, 0, "release cost", "%s ledger: %zu releases do not match%s", azWho[a], nBad, zBad);
        if (nTwice == 0)
            check(&l, 1, "no batch released twice", "%s ledger: every (period, partition) charged once", azWho[a]);
        else
            check(&l, 0, "no batch released twice", "%s ledger: %zu batches charged more than once%s", azWho[a],
                  nTwice, zTwice);
    }
    for (size_t k = 0; k < nLat; k++) {
        double m = 0;
        const char *zX = "state";
        for (size_t j = 0; j < aLat[k].nPart; j++)
            if (aLat[k].a[j].r > m) {
                m = aLat[k].a[j].r;
                zX = aLat[k].a[j].zName;
            }
        if (aLat[k].rState + m > rMax) {
            rMax = aLat[k].rState + m;
            snprintf(zWorstP, sizeof zWorstP, "%s", aLat[k].zPeriod);
            snprintf(zWorstX, sizeof zWorstX, "%s", zX);
        }
    }
    if (rMax > 0)
        pa_dp_zcdp_eps(rMax, 1e-6, &rEps, NULL);
    if (v[0].bOk || v[1].bOk)
        check(&l, rMax <= t->rBudgetPerRecord * (1 + 1e-12), "lattice cells within budget",
              rMax <= t->rBudgetPerRecord * (1 + 1e-12)
                  ? "%zu months; the most-charged cell (%s, %s) spent rho %.6g of %g"
                  : "%zu months; cell (%s, %s) spent rho %.6g, over the task's budget per record %g",
              nLat, zWorstP, zWorstX, rMax, t->rBudgetPerRecord);
    json_array_append_new(rules, json_string("statewide and partition releases of the same month: sequential "
                                             "composition (rho adds), because the statewide batch holds every "
                                             "record of the month, hence every record of each partition"));
    json_array_append_new(rules, json_string("two partitions of the same month: parallel composition (the maximum), "
                                             "because an agency, hence each of its records, lies in one partition"));
    json_array_append_new(rules, json_string("releases of different months: parallel composition, because a record "
                                             "lies in one month"));
    json_array_append_new(rules, json_string("so a record of partition x in month p loses the sum over the "
                                             "statewide releases of p and the releases of x in p; the worst such "
                                             "cell is the guarantee (rho-zCDP, converted to (epsilon, delta) by "
                                             "Canonne-Kamath-Steinke 2020 Prop. 12)"));
    /* 7. manifests: signature, task, releases in both ledgers, min agencies, anchors */
    uint8_t aKey[32];
    int bKey = pKey != NULL || t->collector.bSigningKey;
    if (bKey)
        memcpy(aKey, pKey ? pKey : t->collector.aSigningKey, 32);
    if (nMan == 0)
        check(&l, 0, "manifests", "no manifest given: nothing published can be checked against the ledgers");
    for (size_t m = 0; m < nMan; m++) {
        const pa_audit_input *in = &aMan[m];
        json_t *o = pa_json_loadb(in->zText, in->nText, 0, NULL), *r;
        size_t i, nRel = 0, nMissing = 0, nLow = 0;
        char zMissing[400] = "", zLow[300] = "";
        if (o == NULL || strcmp(str(o, "format"), "privagg-release-manifest-v1") != 0) {
            check(&l, 0, "manifest", "%s: not a privagg-release-manifest-v1 JSON document", in->zName);
            json_decref(o);
            continue;
        }
        if (!bKey)
            check(&l, 0, "manifest signature", "%s: the task names no collector signing key and none was given "
                                               "(--collector-key)", in->zName);
        else {
            int rc = pa_manifest_verify(in->zText, in->nText, aKey);
            check(&l, rc == PA_OK, "manifest signature", rc == PA_OK ? "%s: Ed25519 signature by the collector's key "
                                                                       "verified"
                                                                     : "%s: %s", in->zName, pa_error_detail());
        }
        check(&l, strcmp(str(o, "task_id"), zTask) == 0, "manifest task",
              strcmp(str(o, "task_id"), zTask) == 0 ? "%s: for this task" : "%s: task_id %.16s... is another task's",
              in->zName, str(o, "task_id"));
        json_array_foreach(json_object_get(o, "releases"), i, r) {
            int bOk;
            size_t nBefore = nMissing;
            nRel++;
            double rho = json_number_value(json_object_get(json_object_get(r, "noise"), "sigma2_per_aggregator"));
            char zParam[64];
            snprintf(zParam, sizeof zParam, "%.17g", rho);
            rho = rho_of(t, zParam, &bOk);
            if (!bOk || fabs(rho - json_number_value(json_object_get(r, "rho"))) > 1e-9 * rho) {
                if (nMissing++ == 0)
                    snprintf(zMissing, sizeof zMissing, "; %s/%s states rho %.6g, its noise gives %.6g", str(r, "period"),
                             str(r, "partition"), json_number_value(json_object_get(r, "rho")), rho);
            }
            if ((uint64_t)json_integer_value(json_object_get(r, "agencies")) < t->nMinAgencies && nLow++ == 0)
                snprintf(zLow, sizeof zLow, ": %s/%s summed %lld agencies, the task's minimum is %zu", str(r, "period"),
                         str(r, "partition"), (long long)json_integer_value(json_object_get(r, "agencies")),
                         t->nMinAgencies);
            for (int a = 0; a < 2; a++) {
                const json_t *e;
                if (!v[a].bOk)
                    continue;
                e = find_entry(&v[a], str(json_object_get(r, "ledger_entries"), azWho[a]));
                if (e == NULL || strcmp(str(e, "period"), str(r, "period")) != 0 ||
                    strcmp(str(e, "partition"), str(r, "partition")) != 0) {
                    if (nMissing++ == 0)
                        snprintf(zMissing, sizeof zMissing, "; release %s/%s is not in the %s's ledger (no entry "
                                                            "%.16s... for that batch)",
                                 str(r, "period"), str(r, "partition"), azWho[a],
                                 str(json_object_get(r, "ledger_entries"), azWho[a]));
                }
            }
            if (nMissing > nBefore)
                nMissing = nBefore + 1;    /* a release counts once, whatever fails */
        }
        if (nMissing == 0)
            check(&l, 1, "manifest releases in both ledgers", "%s: %zu releases, each found in both ledgers with "
                  "the same batch, its rho recomputed from its noise", in->zName, nRel);
        else
            check(&l, 0, "manifest releases in both ledgers", "%s: %zu of %zu releases fail%s", in->zName, nMissing,
                  nRel, zMissing);
        if (nLow == 0)
            check(&l, 1, "minimum agencies per batch", "%s: every release summed at least %zu agencies", in->zName,
                  t->nMinAgencies);
        else
            check(&l, 0, "minimum agencies per batch", "%s: %zu releases below the minimum%s", in->zName, nLow, zLow);
        for (int a = 0; a < 2; a++) {
            json_t *h = json_object_get(json_object_get(o, "ledger_heads"), azWho[a]);
            uint8_t aAnchor[32];
            pa_store *pStore = NULL;
            int rc;
            if (!v[a].bOk || !json_is_integer(json_object_get(h, "index")))
                continue;
            if (sodium_hex2bin(aAnchor, 32, str(h, "hash"), strlen(str(h, "hash")), NULL, NULL, NULL) != 0) {
                check(&l, 0, "ledger anchor", "%s: %s head is not hex", in->zName, azWho[a]);
                continue;
            }
            rc = pa_dp_ledger_open_json(&pStore, aLedger[a].zText, aLedger[a].nText, aAnchor,
                                        json_integer_value(json_object_get(h, "index")), NULL, NULL);
            pa_store_close(pStore);
            check(&l, rc == PA_OK, "ledger anchor", rc == PA_OK ? "%s: the %s's ledger still has entry %lld as "
                                                                   "published"
                                                                 : "%s: the %s's ledger against the manifest's head "
                                                                   "(entry %lld): %s",
                  in->zName, azWho[a], (long long)json_integer_value(json_object_get(h, "index")),
                  rc == PA_OK ? "" : pa_error_detail());
        }
        json_decref(o);
    }
    for (size_t k = 0; k < nLat; k++)
        free(aLat[k].a);
    free(aLat);
    for (int a = 0; a < 2; a++) {
        json_decref(v[a].pDoc);
        json_decref(v[a].pTask);
    }
    {
        char zG[1200];
        snprintf(zG, sizeof zG,
                 "Each incident record (the privacy unit) reported to task \"%s\" has lost at most rho = %.4g "
                 "(zero-concentrated differential privacy) over everything the ledgers released, i.e. "
                 "(epsilon = %.3f, delta = 1e-6)-differential privacy. It holds against the collector and either "
                 "aggregator, even together, as long as one of the two aggregators is honest (each adds noise that "
                 "alone gives the guarantee), and assumes that each record is counted in one month and one agency's "
                 "report, within the task's contribution bounds (%llu cells, %llu per cell).",
                 t->zName, rMax, rEps, (unsigned long long)t->nMaxCellsPerRecord, (unsigned long long)t->nMaxPerCell);
        json_object_set_new(rep, "guarantee", json_string(zG));
    }
    json_object_set_new(rep, "result", json_string(json_array_size(l.pFail) == 0 ? "pass" : "fail"));
    json_object_set_new(rep, "task_id", json_string(zTask));
    json_object_set_new(rep, "rho_max", json_real(rMax));
    json_object_set_new(rep, "epsilon", json_real(rEps));
    json_object_set_new(rep, "delta", json_real(1e-6));
    json_object_set_new(rep, "budget_per_record", json_real(t->rBudgetPerRecord));
    json_object_set_new(rep, "worst_cell", json_pack("{s:s, s:s, s:f}", "period", zWorstP, "partition", zWorstX,
                                                     "rho", rMax));
    json_object_set_new(rep, "composition", rules);
    json_object_set_new(rep, "failures", l.pFail);
    json_object_set_new(rep, "checks", l.pChecks);
    *ppReport = rep;
    return PA_OK;
}

void pa_audit_print(const json_t *r, FILE *f)
{
    json_t *c;
    size_t i;
    int bPass = strcmp(str(r, "result"), "pass") == 0;
    fprintf(f, "privagg audit: %s\n\n", bPass ? "PASS" : "FAIL");
    fprintf(f, "What is guaranteed, to whom, under which assumptions:\n  %s\n\n", str(r, "guarantee"));
    fputs("How releases compose:\n", f);
    json_array_foreach(json_object_get(r, "composition"), i, c)
        fprintf(f, "  - %s\n", json_string_value(c));
    fprintf(f, "  worst cell: %s, partition %s: rho %.6g of %g per record\n\n",
            str(json_object_get(r, "worst_cell"), "period"), str(json_object_get(r, "worst_cell"), "partition"),
            json_number_value(json_object_get(r, "rho_max")), json_number_value(json_object_get(r, "budget_per_record")));
    fputs("Checks:\n", f);
    json_array_foreach(json_object_get(r, "checks"), i, c)
        fprintf(f, "  [%s] %s: %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL", str(c, "check"),
                str(c, "detail"));
    if (!bPass) {
        fputs("\nFailed, for these reasons:\n", f);
        json_array_foreach(json_object_get(r, "failures"), i, c)
            fprintf(f, "  - %s\n", json_string_value(c));
    }
}
