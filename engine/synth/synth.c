/*
 * Synthetic monthly counts (see include/privagg/synth.h).  Floating point and
 * GSL's Poisson sampler are fine here: this is test data, not DP noise.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/synth.h"

/* Annual incidents per 100,000 residents, offense buckets 1..27 (rounded orders
 * of magnitude of national NIBRS figures; synthetic, not a statistic). */
static const double g_annual_rate[27] = {
    7,    15,  60,  3,   300, 900, 250, 2,   70,  300, 1600, 250, 12, 600,
    400,  40,  15,  10,  50,  0.5, 450, 120, 20,  10,  1,    10,  1200,
};
/* Share of people by status: citizen, LPR, other lawful, no lawful, unknown. */
static const double g_status_share[5] = {0.84, 0.04, 0.02, 0.03, 0.07};
/* People per incident by role: offenders/arrestees, victims. */
static const double g_role_per_incident[2] = {0.8, 1.0};

#define OTHER_AGENCY_POPULATION 5000.0
#define MAX_COUNTIES 512

struct pa_synth {
    const pa_task *pTask;
    uint64_t iSeed;
    size_t nOffense;
    size_t nCounty;
    char azFips[MAX_COUNTIES][8];
    double aPopulation[MAX_COUNTIES];
    size_t aAgencies[MAX_COUNTIES]; /* agencies of the task in each county */
    int *aiCounty;                  /* county of each task agency (-1: none), from the
                                     * agency file: a partition may be a region */
};

static int county_index(const pa_synth *s, const char *zFips)
{
    for (size_t i = 0; i < s->nCounty; i++)
        if (strcmp(s->azFips[i], zFips) == 0)
            return (int)i;
    return -1;
}

int pa_synth_new(pa_synth **ppSynth, const pa_task *pTask, const char *zDataDir, uint64_t iSeed)
{
    char zPath[4096];
    pa_csv *c;
    pa_synth *s;
    int rc, iFips, iPop;

    *ppSynth = NULL;
    if (pTask->nDimension != 3 || pTask->aDimension[0].nCategory > 27 ||
        pTask->aDimension[1].nCategory != 5 || pTask->aDimension[2].nCategory != 2)
        return pa_fail(PA_EINVAL, "synth: the schema must be offense (<= 27) x status (5) x role (2)");
    snprintf(zPath, sizeof zPath, "%s/mo_county_population.csv", zDataDir);
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK)
        return rc;
    iFips = pa_csv_column(c, "fips");
    iPop = pa_csv_column(c, "population");
    if (iFips < 0 || iPop < 0 || pa_csv_row_count(c) > MAX_COUNTIES) {
        pa_csv_free(c);
        return pa_fail(PA_EDECODE, "%s: needs columns fips and population, at most %d rows", zPath,
                       MAX_COUNTIES);
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        pa_csv_free(c);
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    }
    s->pTask = pTask;
    s->iSeed = iSeed;
    s->nOffense = pTask->aDimension[0].nCategory;
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        snprintf(s->azFips[r], sizeof s->azFips[r], "%s", pa_csv_get(c, r, iFips));
        s->aPopulation[r] = strtod(pa_csv_get(c, r, iPop), NULL);
    }
    s->nCounty = pa_csv_row_count(c);
    pa_csv_free(c);
    s->aiCounty = malloc((pTask->nAgency ? pTask->nAgency : 1) * sizeof *s->aiCounty);
    if (s->aiCounty == NULL) {
        free(s);
        return pa_fail(PA_ENOMEM, "synth: out of memory");
    }
    for (size_t i = 0; i < pTask->nAgency; i++)
        s->aiCounty[i] = -1;
    snprintf(zPath, sizeof zPath, "%s/mo_le_agencies.csv", zDataDir);
    rc = pa_csv_load(&c, zPath);
    if (rc != PA_OK) {
        pa_synth_free(s);
        return rc;
    }
    int iOri = pa_csv_column(c, "ori");
    iFips = pa_csv_column(c, "county_fips");
    if (iOri < 0 || iFips < 0) {
        pa_csv_free(c);
        pa_synth_free(s);
        return pa_fail(PA_EDECODE, "%s: needs columns ori and county_fips", zPath);
    }
    for (size_t r = 0; r < pa_csv_row_count(c); r++) {
        const pa_task_agency *a = pa_task_find_agency(pTask, pa_csv_get(c, r, iOri));
        if (a != NULL)
            s->aiCounty[a - pTask->aAgency] = county_index(s, pa_csv_get(c, r, iFips));
    }
    pa_csv_free(c);
    for (size_t i = 0; i < pTask->nAgency; i++)
        if (s->aiCounty[i] >= 0)
            s->aAgencies[s->aiCounty[i]]++;
    *ppSynth = s;
    return PA_OK;
}

void pa_synth_free(pa_synth *pSynth)
{
    if (pSynth != NULL)
        free(pSynth->aiCounty);
    free(pSynth);
}

double pa_synth_population(const pa_synth *s, const pa_task_agency *a)
{
    const pa_task_agency *pIn = pa_task_find_agency(s->pTask, a->zId);
    int k = pIn ? s->aiCounty[pIn - s->pTask->aAgency] : -1;
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
        double incidents = g_annual_rate[o] / 12.0 * pop / 100000.0;
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
