/*
 * Synthetic monthly counts (see include/privagg/synth.h).  Floating point and
 * GSL's Poisson sampler are fine here: this is test data, not DP noise.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/synth.h"
#include "privagg/task_build.h"
#include "synth/synth_internal.h"

/* Annual incidents per 100,000 residents, offense buckets 1..27 (rounded orders
 * of magnitude of national NIBRS figures; synthetic, not a statistic). */
const double pa_synth_annual_rate[PA_SYNTH_BUCKETS] = {
    7,    15,  60,  3,   300, 900, 250, 2,   70,  300, 1600, 250, 12, 600,
    400,  40,  15,  10,  50,  0.5, 450, 120, 20,  10,  1,    10,  1200,
};
/* Share of people by status: citizen, LPR, other lawful, no lawful, unknown. */
static const double g_status_share[5] = {0.84, 0.04, 0.02, 0.03, 0.07};
/* People per incident by role: offenders/arrestees, victims. */
static const double g_role_per_incident[2] = {0.8, 1.0};

#define OTHER_AGENCY_POPULATION 5000.0

static int county_index(const pa_synth *s, const char *zFips)
{
    for (size_t i = 0; i < s->nCounty; i++)
        if (strcmp(s->azFips[i], zFips) == 0)
            return (int)i;
    return -1;
}

/*
 * The NIBRS code table: each code's bucket and whether it can have a person
 * victim; and whether the task's schema is the default one (offense categories
 * = the table's buckets in order, the default statuses and roles), which the
 * records generator needs to compute the true cells.
 */
static int load_codes(pa_synth *s, const char *zDataDir)
{
    char zPath[4096];
    pa_csv *c;
    const char *azBucket[PA_SYNTH_BUCKETS + 1] = {0};
    int rc, iCode, iId, iName, iGroup, iAgainst;

    snprintf(zPath, sizeof zPath, "%s/nibrs_offense_buckets.csv", zDataDir);
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK)
        return rc;
    iCode = pa_csv_column(c, "nibrs_code");
    iId = pa_csv_column(c, "bucket_id");
    iName = pa_csv_column(c, "bucket");
    iGroup = pa_csv_column(c, "group");
    iAgainst = pa_csv_column(c, "crime_against");
    if (iCode < 0 || iId < 0 || iName < 0 || iGroup < 0 || iAgainst < 0 ||
        pa_csv_row_count(c) > PA_SYNTH_MAX_CODES) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: needs columns nibrs_code, bucket_id, bucket, group and "
                                   "crime_against, at most %d rows", zPath, PA_SYNTH_MAX_CODES);
    }
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        pa_synth_code *k = &s->aCode[s->nCode];
        long id = strtol(pa_csv_get(c, r, iId), NULL, 10);
        if (id < 0 || id > PA_SYNTH_BUCKETS || strlen(pa_csv_get(c, r, iCode)) >= sizeof k->zCode) {
            pa_csv_free(c);
            return pa_fail(PA_EDECODE, "%s: row %zu: bucket_id or code out of range", zPath, r + 1);
        }
        snprintf(k->zCode, sizeof k->zCode, "%s", pa_csv_get(c, r, iCode));
        k->iBucket = (int)id;
        k->bNoVictim = strcmp(pa_csv_get(c, r, iGroup), "B") == 0 ||
                       strcmp(pa_csv_get(c, r, iAgainst), "Society") == 0;
        if (id > 0 && azBucket[id] == NULL)
            azBucket[id] = pa_csv_get(c, r, iName);
        s->nCode++;
    }
    /* the default schema? */
    const pa_task *t = s->pTask;
    s->bDefaultSchema = t->nDimension == 3 && strcmp(t->aDimension[0].zName, "offense") == 0 &&
                        strcmp(t->aDimension[1].zName, "status") == 0 &&
                        strcmp(t->aDimension[2].zName, "role") == 0 &&
                        t->aDimension[0].nCategory == PA_SYNTH_BUCKETS;
    for (size_t i = 0; s->bDefaultSchema && i < PA_SYNTH_BUCKETS; i++)
        s->bDefaultSchema = azBucket[i + 1] != NULL && strcmp(azBucket[i + 1], t->aDimension[0].azCategory[i]) == 0;
    for (size_t i = 0; s->bDefaultSchema && i < 5; i++)
        s->bDefaultSchema = strcmp(pa_default_status[i], t->aDimension[1].azCategory[i]) == 0;
    for (size_t i = 0; s->bDefaultSchema && i < 2; i++)
        s->bDefaultSchema = strcmp(pa_default_roles[i], t->aDimension[2].azCategory[i]) == 0;
    pa_csv_free(c);
    return PA_OK;
}

static int cmp_agency(const void *a, const void *b)
{
    return strcmp(((const pa_task_agency *)a)->zId, ((const pa_task_agency *)b)->zId);
}

/* The model's agency of this id, or NULL (aAgency is sorted by id). */
static const pa_task_agency *find_agency(const pa_synth *s, const char *zId)
{
    pa_task_agency key;
    key.zId = (char *)zId;
    return s->nAgency ? bsearch(&key, s->aAgency, s->nAgency, sizeof key, cmp_agency) : NULL;
}

/* County populations, each agency's county (from the agency file: a partition may
 * be a region), and the code table, for the agencies already in s->aAgency. */
static int load_model(pa_synth *s, const char *zDataDir)
{
    char zPath[4096];
    pa_csv *c;
    int rc, iFips, iPop, iOri;

    snprintf(zPath, sizeof zPath, "%s/mo_county_population.csv", zDataDir);
    PA_GUARD(pa_csv_load(&c, zPath));
    iFips = pa_csv_column(c, "fips");
    iPop = pa_csv_column(c, "population");
    if (iFips < 0 || iPop < 0 || pa_csv_row_count(c) > PA_SYNTH_MAX_COUNTIES) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: needs columns fips and population, at most %d rows", zPath,
                       PA_SYNTH_MAX_COUNTIES);
    }
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        snprintf(s->azFips[r], sizeof s->azFips[r], "%s", pa_csv_get(c, r, iFips));
        s->aPopulation[r] = strtod(pa_csv_get(c, r, iPop), NULL);
    }
    s->nCounty = pa_csv_row_count(c);
    pa_csv_free(c);
    if ((s->aiCounty = malloc((s->nAgency ? s->nAgency : 1) * sizeof *s->aiCounty)) == NULL)
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    for (size_t i = 0; i < s->nAgency; i++)
        s->aiCounty[i] = -1;
    snprintf(zPath, sizeof zPath, "%s/mo_le_agencies.csv", zDataDir);
    PA_GUARD(pa_csv_load(&c, zPath));
    iOri = pa_csv_column(c, "ori");
    iFips = pa_csv_column(c, "county_fips");
    if (iOri < 0 || iFips < 0) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: needs columns ori and county_fips", zPath);
    }
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        const pa_task_agency *a = find_agency(s, pa_csv_get(c, r, iOri));
        if (a != NULL)
            s->aiCounty[a - s->aAgency] = county_index(s, pa_csv_get(c, r, iFips));
    }
    pa_csv_free(c);
    for (size_t i = 0; i < s->nAgency; i++)
        if (s->aiCounty[i] >= 0)
            s->aAgencies[s->aiCounty[i]]++;
    rc = load_codes(s, zDataDir);
    return rc;
}

static int synth_new(pa_synth **ppSynth, const pa_task *pTask, const char *const *azId, size_t nId,
                     const char *zDataDir, uint64_t iSeed)
{
    pa_synth *s;
    int rc = PA_OK;

    *ppSynth = NULL;
    if (pTask->nDimension != 3 || pTask->aDimension[0].nCategory > 27 ||
        pTask->aDimension[1].nCategory != 5 || pTask->aDimension[2].nCategory != 2)
        return pa_fail(PA_EINVAL, "synth: the schema must be offense (<= 27) x status (5) x role (2)");
    if ((s = calloc(1, sizeof *s)) == NULL)
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    s->pTask = pTask;
    s->iSeed = iSeed;
    s->nOffense = pTask->aDimension[0].nCategory;
    if (azId == NULL) {
        s->aAgency = pTask->aAgency; /* sorted by id (task.h) */
        s->nAgency = pTask->nAgency;
    } else if ((s->aAgency = calloc(nId ? nId : 1, sizeof *s->aAgency)) == NULL) {
        rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    } else {
        s->bOwn = 1;
        for (; s->nAgency < nId && rc == PA_OK; s->nAgency++)
            if ((s->aAgency[s->nAgency].zId = strdup(azId[s->nAgency])) == NULL)
                rc = pa_fail(PA_ENOMEM, "synth: out of memory");
        qsort(s->aAgency, s->nAgency, sizeof *s->aAgency, cmp_agency);
        for (size_t i = 1; rc == PA_OK && i < s->nAgency; i++)
            if (strcmp(s->aAgency[i - 1].zId, s->aAgency[i].zId) == 0)
                rc = pa_fail(PA_EINVAL, "synth: agency %s is listed twice", s->aAgency[i].zId);
    }
    if (rc == PA_OK)
        rc = load_model(s, zDataDir);
    if (rc != PA_OK) {
        pa_synth_free(s);
        return rc;
    }
    *ppSynth = s;
    return PA_OK;
}

int pa_synth_new(pa_synth **ppSynth, const pa_task *pTask, const char *zDataDir, uint64_t iSeed)
{
    return synth_new(ppSynth, pTask, NULL, 0, zDataDir, iSeed);
}

int pa_synth_new_agencies(pa_synth **ppSynth, const pa_task *pTask, const char *const *azId, size_t nId,
                          const char *zDataDir, uint64_t iSeed)
{
    return synth_new(ppSynth, pTask, azId, nId, zDataDir, iSeed);
}

size_t pa_synth_agency_count(const pa_synth *s)
{
    return s->nAgency;
}

const pa_task_agency *pa_synth_agency_at(const pa_synth *s, size_t i)
{
    return i < s->nAgency ? &s->aAgency[i] : NULL;
}

void pa_synth_free(pa_synth *pSynth)
{
    if (pSynth == NULL)
        return;
    free(pSynth->aiCounty);
    for (size_t i = 0; pSynth->bOwn && i < pSynth->nAgency; i++)
        free(pSynth->aAgency[i].zId);
    if (pSynth->bOwn)
        free(pSynth->aAgency);
    free(pSynth);
}

double pa_synth_population(const pa_synth *s, const pa_task_agency *a)
{
    const pa_task_agency *pIn = find_agency(s, a->zId);
    int k = pIn ? s->aiCounty[pIn - s->aAgency] : -1;
    if (k < 0 || s->aAgencies[k] == 0)
        return OTHER_AGENCY_POPULATION;
    return s->aPopulation[k] / (double)s->aAgencies[k];
}

int pa_synth_counts(const pa_synth *s, const pa_task_agency *a, const char *zPeriod, uint64_t *aCount)
{
    uint8_t aHash[8];
    crypto_generichash_state st;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double pop = pa_synth_population(s, a);
    uint64_t nMax = s->pTask->nMaxMeasurement, seed = 0;

    if (r == NULL)
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    /* one stream per (seed, agency, period) */
    crypto_generichash_init(&st, NULL, 0, sizeof aHash);
    crypto_generichash_update(&st, (const uint8_t *)&s->iSeed, sizeof s->iSeed);
    crypto_generichash_update(&st, (const uint8_t *)a->zId, strlen(a->zId) + 1);
    crypto_generichash_update(&st, (const uint8_t *)zPeriod, strlen(zPeriod));
    crypto_generichash_final(&st, aHash, sizeof aHash);
    for (int i = 0; i < 8; i++)
        seed = (seed << 8) | aHash[i];
    gsl_rng_set(r, (unsigned long)seed);

    for (size_t o = 0; o < s->nOffense; o++) {
        double incidents = pa_synth_annual_rate[o] / 12.0 * pop / 100000.0;
        for (size_t st_ = 0; st_ < 5; st_++) {
            for (size_t role = 0; role < 2; role++) {
                double mean = incidents * g_status_share[st_] * g_role_per_incident[role];
                uint64_t v = gsl_ran_poisson(r, mean);
                size_t iCell = (o * 5 + st_) * 2 + role;
                aCount[iCell] = pa_task_structural_zero(s->pTask, iCell) ? 0 : v > nMax ? nMax : v;
            }
        }
    }
    gsl_rng_free(r);
    return PA_OK;
}
