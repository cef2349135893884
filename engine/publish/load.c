/*
 * Reading what publish works from: the collection results of a folder
 * (privagg-collection-v1, written by privagg collect and the demo), the county
 * populations by year and the county shapes shipped in data/.  Everything read
 * is checked against the task: the task id, the cell count, the partition names;
 * a batch present twice is refused (it would be counted twice).
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/guard.h"
#include "privagg/csv.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "publish/internal.h"
#include "json/json_load.h"
#include <sodium.h>

static int cmp_release(const void *a, const void *b)
{
    const pa_release *x = a, *y = b;
    int c = strcmp(x->zPeriod, y->zPeriod);
    if (c)
        return c;
    c = (strcmp(y->zPartition, "state") == 0) - (strcmp(x->zPartition, "state") == 0);
    return c ? c : strcmp(x->zPartition, y->zPartition);
}

static int copy_str(char *z, size_t n, const json_t *o, const char *zKey, const char *zFile)
{
    const char *v = json_string_value(json_object_get(o, zKey));
    if (v == NULL || strlen(v) == 0 || strlen(v) >= n)
        return pa_fail(PA_EDECODE, "%s: %s: missing, empty or longer than %zu", zFile, zKey, n - 1);
    memcpy(z, v, strlen(v) + 1);
    return PA_OK;
}

static void free_release(pa_release *r)
{
    for (size_t i = 0; r->azReported && r->azReported[i]; i++)
        free(r->azReported[i]);
    free(r->azReported);
    free(r->aTotal);
}

static int read_release(const pa_task *t, const char *zFile, pa_release *r)
{
    json_error_t err;
    json_t *o = pa_json_load_file(zFile, JSON_REJECT_DUPLICATES, &err), *v, *cells, *noise;
    char zTask[65], zWant[65];
    int rc = PA_OK;

    memset(r, 0, sizeof *r);
    if (o == NULL)
        return pa_fail(pa_json_load_status(&err),
                       "%s: line %d: %s", zFile, err.line, err.text);
    v = json_object_get(o, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), "privagg-collection-v1") != 0)
        rc = pa_fail(PA_EDECODE, "%s: format is not privagg-collection-v1", zFile);
    if (rc == PA_OK)
        rc = copy_str(zTask, sizeof zTask, o, "task_id", zFile);
    sodium_bin2hex(zWant, sizeof zWant, t->aTaskId, 32);
    if (rc == PA_OK && strcmp(zTask, zWant) != 0)
        rc = pa_fail(PA_EINVAL, "%s: task_id %.16s... is not the task's %.16s...", zFile, zTask, zWant);
    if (rc == PA_OK)
        rc = copy_str(r->zPeriod, sizeof r->zPeriod, o, "period", zFile);
    if (rc == PA_OK)
        rc = copy_str(r->zPartition, sizeof r->zPartition, o, "partition", zFile);
    if (rc == PA_OK)
        rc = copy_str(r->zCollectionId, sizeof r->zCollectionId, o, "collection_id", zFile);
    if (rc == PA_OK && !pa_period_valid(r->zPeriod))
        rc = pa_fail(PA_EDECODE, "%s: period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zFile,
                     r->zPeriod);
    if (rc == PA_OK && (strlen(r->zCollectionId) != 32 || strspn(r->zCollectionId, "0123456789abcdef") != 32))
        rc = pa_fail(PA_EDECODE, "%s: collection_id: \"%s\" is not 32 lowercase hex digits", zFile,
                     r->zCollectionId);
    if (rc == PA_OK && strcmp(r->zPartition, "state") != 0 && pa_task_find_partition(t, r->zPartition) == NULL)
        rc = pa_fail(PA_EINVAL, "%s: partition \"%s\" is not one of the task's", zFile, r->zPartition);
    if (rc == PA_OK) {
        json_t *l = json_object_get(o, "ledger_entries");
        rc = copy_str(r->azLedger[0], sizeof r->azLedger[0], l, "leader", zFile);
        if (rc == PA_OK)
            rc = copy_str(r->azLedger[1], sizeof r->azLedger[1], l, "helper", zFile);
    }
    if (rc == PA_OK && (!json_is_integer(json_object_get(o, "agencies")) ||
                        !json_is_integer(json_object_get(o, "reports"))))
        rc = pa_fail(PA_EDECODE, "%s: agencies, reports: missing or not integers", zFile);
    if (rc == PA_OK && (json_integer_value(json_object_get(o, "agencies")) < 0 ||
                        json_integer_value(json_object_get(o, "reports")) < 0))
        rc = pa_fail(PA_EDECODE, "%s: agencies %lld, reports %lld: a count below 0 (a damaged file: collect again)",
                     zFile, (long long)json_integer_value(json_object_get(o, "agencies")),
                     (long long)json_integer_value(json_object_get(o, "reports")));
    if (rc == PA_OK) {
        r->nAgency = (uint64_t)json_integer_value(json_object_get(o, "agencies"));
        r->nReport = (uint64_t)json_integer_value(json_object_get(o, "reports"));
        noise = json_object_get(o, "noise");
        v = json_object_get(noise, "sigma2_per_aggregator");
        if (t->eMechanism == PA_TASK_DP_GAUSSIAN && !(json_is_number(v) && json_number_value(v) > 0))
            rc = pa_fail(PA_EDECODE, "%s: noise.sigma2_per_aggregator: missing or not positive", zFile);
        else if (t->eMechanism == PA_TASK_DP_LAPLACE)
            rc = pa_fail(PA_EUNSUPPORTED, "%s: publish supports discrete_gaussian and none", zFile);
        else if (v != NULL)
            r->rSigma2 = json_number_value(v);
    }
    /* which agencies reported (collections from before it was carried lack it:
     * the population they serve is then known only for a fully reported batch) */
    v = json_object_get(o, "agencies_reported");
    if (rc == PA_OK && v != NULL) {
        if (!json_is_array(v) || json_array_size(v) != r->nAgency)
            rc = pa_fail(PA_EDECODE, "%s: agencies_reported: not a list of the %llu agencies the result counts",
                         zFile, (unsigned long long)r->nAgency);
        else if ((r->azReported = calloc(r->nAgency + 1, sizeof *r->azReported)) == NULL)
            rc = pa_fail(PA_ENOMEM, "%s", zFile);
        for (size_t i = 0; rc == PA_OK && i < r->nAgency; i++) {
            const char *z = json_string_value(json_array_get(v, i));
            if (z == NULL || z[0] == '\0' || strlen(z) > 64 || (i > 0 && strcmp(r->azReported[i - 1], z) >= 0))
                rc = pa_fail(PA_EDECODE, "%s: agencies_reported[%zu]: not an agency id (1 to 64 characters) after "
                                         "the one before it (the list is sorted, each id once)", zFile, i);
            else if ((r->azReported[i] = strdup(z)) == NULL)
                rc = pa_fail(PA_ENOMEM, "%s", zFile);
        }
        r->bReported = rc == PA_OK;
    }
    cells = json_object_get(o, "cells");
    if (rc == PA_OK && (!json_is_array(cells) || json_array_size(cells) != t->nCell))
        rc = pa_fail(PA_EINVAL, "%s: cells: %zu, the task has %zu", zFile, json_array_size(cells), t->nCell);
    if (rc == PA_OK && (r->aTotal = calloc(t->nCell, sizeof *r->aTotal)) == NULL)
        rc = pa_fail(PA_ENOMEM, "%s", zFile);
    for (size_t i = 0; rc == PA_OK && i < t->nCell; i++) {
        json_t *c = json_array_get(cells, i);
        if (!json_is_integer(json_object_get(c, "cell")) || json_integer_value(json_object_get(c, "cell")) != (json_int_t)i ||
            !json_is_integer(json_object_get(c, "total")))
            rc = pa_fail(PA_EDECODE, "%s: cells[%zu]: cell or total missing or out of order", zFile, i);
        else
            r->aTotal[i] = (int64_t)json_integer_value(json_object_get(c, "total"));
        /* a structural zero is marked by the collector as the task declares it */
        json_t *z = json_object_get(c, "structural_zero");
        if (rc == PA_OK && z != NULL && !json_is_boolean(z))
            rc = pa_fail(PA_EDECODE, "%s: cells[%zu].structural_zero: not true or false", zFile, i);
        else if (rc == PA_OK && json_is_true(z) != pa_task_structural_zero(t, i))
            rc = pa_fail(PA_EINVAL, "%s: cells[%zu]: %s structural zero, the task's schema.structural_zeros says "
                                    "it is %s (a collection of another task version?)",
                         zFile, i, json_is_true(z) ? "marked a" : "not marked a", json_is_true(z) ? "not" : "one");
    }
    r->nCell = t->nCell;
    json_decref(o);
    if (rc != PA_OK) {
        free_release(r);
        memset(r, 0, sizeof *r);
    }
    return rc;
}

void pa_release_free_all(pa_release *aRel, size_t nRel)
{
    for (size_t i = 0; aRel && i < nRel; i++)
        free_release(&aRel[i]);
    free(aRel);
}

int pa_release_load_dir(const pa_task *t, const char *zDir, pa_release **paRel, size_t *pnRel)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    pa_release *a = NULL;
    size_t n = 0;
    int rc = PA_OK;

    *paRel = NULL;
    *pnRel = 0;
    if (d == NULL)
        return pa_fail(PA_EIO, "collections: cannot open folder %s", zDir);
    while (rc == PA_OK && (e = readdir(d)) != NULL) {
        size_t nName = strlen(e->d_name);
        char zPath[4096];
        if (strncmp(e->d_name, "collection-", 11) != 0 || nName < 16 || strcmp(e->d_name + nName - 5, ".json") != 0)
            continue;
        pa_release *p = realloc(a, (n + 1) * sizeof *a);
        if (p == NULL) {
            rc = pa_fail(PA_ENOMEM, "collections");
            break;
        }
        a = p;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
        rc = read_release(t, zPath, &a[n]);
        if (rc == PA_OK)
            n++;
    }
    closedir(d);
    if (rc == PA_OK && n == 0)
        rc = pa_fail(PA_EINVAL, "collections: no collection-*.json in %s", zDir);
    if (rc == PA_OK)
        qsort(a, n, sizeof *a, cmp_release);
    for (size_t i = 1; rc == PA_OK && i < n; i++)
        if (cmp_release(&a[i - 1], &a[i]) == 0)
            rc = pa_fail(PA_EEXISTS, "collections: batch %s/%s is there twice", a[i].zPeriod, a[i].zPartition);
    if (rc != PA_OK) {
        pa_release_free_all(a, n);
        return rc;
    }
    *paRel = a;
    *pnRel = n;
    return PA_OK;
}

/* ---- data/ ---------------------------------------------------------------- */

static char *dup_or_fail(const char *z, int *pRc)
{
    char *r = strdup(z ? z : "");
    if (r == NULL && *pRc == PA_OK)
        *pRc = pa_fail(PA_ENOMEM, "data");
    return r;
}

int pa_pub_load_data(pa_pub *p, const char *zDataDir, const char *zState);
int pa_pub_load_data(pa_pub *p, const char *zDataDir, const char *zState)
{
    char zPath[4096], zLower[8];
    pa_csv *c = NULL;
    int rc, iF, iP, iD, iN, iS;
    size_t i;

    for (i = 0; zState[i] && i < sizeof zLower - 1; i++)
        zLower[i] = (char)(zState[i] >= 'A' && zState[i] <= 'Z' ? zState[i] + 32 : zState[i]);
    zLower[i] = '\0';
    snprintf(zPath, sizeof zPath, "%s/%s_county_population_2020_2024.csv", zDataDir, zLower);
    PA_GUARD(pa_csv_load(&c, zPath));
    iF = pa_csv_column(c, "fips");
    iP = pa_csv_column(c, "population");
    iD = pa_csv_column(c, "reference_date");
    rc = iF < 0 || iP < 0 || iD < 0 ? pa_fail(PA_EDECODE, "%s: needs fips, population, reference_date", zPath) : PA_OK;
    if (rc == PA_OK && (p->aPop = calloc(pa_csv_row_count(c), sizeof *p->aPop)) == NULL)
        rc = pa_fail(PA_ENOMEM, "%s", zPath);
    p->iPopMin = 9999;
    p->iPopMax = 0;
    for (i = 0; rc == PA_OK && i < pa_csv_row_count(c); i++) {
        const char *zDate = pa_csv_get(c, i, iD);
        /* July 1 estimates only (the April 2020 base is skipped) */
        if (strlen(zDate) != 10 || strcmp(zDate + 4, "-07-01") != 0)
            continue;
        struct pa_pub_pop *q = &p->aPop[p->nPop++];
        char *zEnd;
        snprintf(q->zFips, sizeof q->zFips, "%s", pa_csv_get(c, i, iF));
        q->iYear = pa_pub_year(zDate);
        q->rPop = strtod(pa_csv_get(c, i, iP), &zEnd);
        if (*zEnd != '\0' || zEnd == pa_csv_get(c, i, iP) || !(q->rPop >= 0) || q->iYear == 0)
            rc = pa_fail(PA_EDECODE, "%s: row %zu: population \"%s\" in %s is not a count of residents",
                         zPath, i + 1, pa_csv_get(c, i, iP), zDate);
        if (q->iYear < p->iPopMin)
            p->iPopMin = q->iYear;
        if (q->iYear > p->iPopMax)
            p->iPopMax = q->iYear;
    }
    pa_csv_free(c);
    if (rc != PA_OK)
        return rc;
    snprintf(zPath, sizeof zPath, "%s/%s_county_shapes.csv", zDataDir, zLower);
    PA_GUARD(pa_csv_load(&c, zPath));
    iF = pa_csv_column(c, "fips");
    iN = pa_csv_column(c, "county");
    iP = pa_csv_column(c, "path");
    iS = pa_csv_column(c, "source");
    rc = iF < 0 || iN < 0 || iP < 0 || iS < 0 ? pa_fail(PA_EDECODE, "%s: needs fips, county, path, source", zPath)
                                               : PA_OK;
    p->nCounty = rc == PA_OK ? pa_csv_row_count(c) : 0;
    p->azFips = calloc(p->nCounty + 1, sizeof *p->azFips);
    p->azCountyName = calloc(p->nCounty + 1, sizeof *p->azCountyName);
    p->azPath = calloc(p->nCounty + 1, sizeof *p->azPath);
    if (!p->azFips || !p->azCountyName || !p->azPath) {
        /* none kept: pub_free walks nCounty entries of all three */
        free(p->azFips);
        free(p->azCountyName);
        free(p->azPath);
        p->azFips = p->azCountyName = p->azPath = NULL;
        p->nCounty = 0;
        if (rc == PA_OK)
            rc = pa_fail(PA_ENOMEM, "%s", zPath);
    }
    for (i = 0; rc == PA_OK && i < p->nCounty; i++) {
        p->azFips[i] = dup_or_fail(pa_csv_get(c, i, iF), &rc);
        p->azCountyName[i] = dup_or_fail(pa_csv_get(c, i, iN), &rc);
        p->azPath[i] = dup_or_fail(pa_csv_get(c, i, iP), &rc);
        const char *zBox = strstr(pa_csv_get(c, i, iS), "viewBox 0 0 1000 ");
        if (zBox) {
            char *zEnd;
            p->rMapHeight = strtod(zBox + 17, &zEnd);
            if (zEnd == zBox + 17)
                p->rMapHeight = 0; /* refused below */
        }
    }
    if (rc == PA_OK && !(p->rMapHeight > 0))
        rc = pa_fail(PA_EDECODE, "%s: source does not name the viewBox", zPath);
    pa_csv_free(c);
    return rc;
}

/* The agency's county, kept when it is one of its partition's. */
static void place(pa_pub_agency *a, const pa_task *t, const char *zFips)
{
    const pa_task_partition *pP = &t->aPartition[a->iPart];
    for (size_t k = 0; k < pP->nCounty && !a->bCounty; k++)
        if (strcmp(pP->azCounty[k], zFips) == 0 && strlen(zFips) < sizeof a->zCounty) {
            a->bCounty = 1;
            memcpy(a->zCounty, zFips, strlen(zFips) + 1);
        }
}

/* A task's own agencies: their partitions, and their counties from the data file. */
static int listed_of_task(pa_pub *p, const char *zDataDir, const char *zState)
{
    const pa_task *t = p->pTask;
    pa_pub_listed *L = &p->aListed[0];
    char zPath[4096], zLower[8];
    pa_csv *c = NULL;
    int rc = PA_OK, iOri, iFips;
    size_t i;

    p->nListed = 1;
    if ((L->a = calloc(t->nAgency + 1, sizeof *L->a)) == NULL)
        return pa_fail(PA_ENOMEM, "publish: agencies");
    L->n = t->nAgency;
    for (size_t a = 0; a < t->nAgency; a++) {
        L->a[a].zId = t->aAgency[a].zId;
        for (size_t x = 0; x < t->nPartition; x++)
            if (strcmp(t->aAgency[a].zPartition, t->aPartition[x].zName) == 0)
                L->a[a].iPart = x;
    }
    for (i = 0; zState[i] && i < sizeof zLower - 1; i++)
        zLower[i] = (char)(zState[i] >= 'A' && zState[i] <= 'Z' ? zState[i] + 32 : zState[i]);
    zLower[i] = '\0';
    snprintf(zPath, sizeof zPath, "%s/%s_le_agencies.csv", zDataDir, zLower);
    if (access(zPath, F_OK) != 0)
        return PA_OK;
    PA_GUARD(pa_csv_load(&c, zPath));
    iOri = pa_csv_column(c, "ori");
    iFips = pa_csv_column(c, "county_fips");
    if (iOri < 0 || iFips < 0)
        rc = pa_fail(PA_EDECODE, "%s: needs the columns ori and county_fips", zPath);
    for (i = 0; rc == PA_OK && i < pa_csv_row_count(c); i++) {
        const pa_task_agency *pA = pa_task_find_agency(t, pa_csv_get(c, i, iOri));
        /* a county outside the agency's partition would count it twice: unknown */
        if (pA != NULL)
            place(&L->a[pA - t->aAgency], t, pa_csv_get(c, i, iFips));
    }
    pa_csv_free(c);
    return rc;
}

/* A registry task: the agencies enrolled for each month of the releases. */
static int listed_of_registry(pa_pub *p)
{
    const pa_task *t = p->pTask;
    const pa_registry *r = p->pReg;
    size_t nAll = pa_registry_agency_count(r);

    for (size_t i = 0; i < p->nRel; i++) {
        const char *zPeriod = p->aRel[i].zPeriod;
        if (pa_pub_listed_of(p, zPeriod) != NULL)
            continue;
        pa_pub_listed *L = &p->aListed[p->nListed++];
        snprintf(L->zPeriod, sizeof L->zPeriod, "%s", zPeriod);
        if ((L->a = calloc(nAll + 1, sizeof *L->a)) == NULL)
            return pa_fail(PA_ENOMEM, "publish: agencies");
        for (size_t k = 0; k < nAll; k++) {
            pa_reg_agency x;
            const pa_task_partition *pP;
            pa_registry_lookup(r, pa_registry_agency_id(r, k), zPeriod, &x);
            if (x.eStatus != PA_REG_ACTIVE || (pP = pa_task_partition_of_county(t, x.zCounty)) == NULL)
                continue;
            pa_pub_agency *a = &L->a[L->n++];
            a->zId = pa_registry_agency_id(r, k);
            a->iPart = (size_t)(pP - t->aPartition);
            place(a, t, x.zCounty);
        }
    }
    return PA_OK;
}

int pa_pub_load_listed(pa_pub *p, const char *zDataDir, const char *zState)
{
    if ((p->aListed = calloc(p->nRel + 1, sizeof *p->aListed)) == NULL)
        return pa_fail(PA_ENOMEM, "publish: agencies");
    return p->pTask->bRegistry ? listed_of_registry(p) : listed_of_task(p, zDataDir, zState);
}

const pa_pub_listed *pa_pub_listed_of(const pa_pub *p, const char *zPeriod)
{
    if (!p->pTask->bRegistry)
        return p->nListed ? &p->aListed[0] : NULL;
    for (size_t i = 0; i < p->nListed; i++)
        if (strcmp(p->aListed[i].zPeriod, zPeriod) == 0)
            return &p->aListed[i];
    return NULL;
}

double pa_pub_county_pop(const pa_pub *p, const char *zFips, int iYear, int *piYearUsed)
{
    int y = iYear < p->iPopMin ? p->iPopMin : iYear > p->iPopMax ? p->iPopMax : iYear;
    if (piYearUsed)
        *piYearUsed = y;
    for (size_t i = 0; i < p->nPop; i++)
        if (p->aPop[i].iYear == y && strcmp(p->aPop[i].zFips, zFips) == 0)
            return p->aPop[i].rPop;
    return 0;
}

int pa_pub_year(const char *z)
{
    int iYear = 0;
    for (int i = 0; i < 4; i++) {
        if (z[i] < '0' || z[i] > '9')
            return 0;
        iYear = iYear * 10 + (z[i] - '0');
    }
    return iYear;
}
