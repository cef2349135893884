/*
 * The demo's agencies and task (see include/privagg/synth.h): the agencies of the
 * state's shipped list with the name and county a registry enrolls, and the
 * default task for them — naming an agency registry (the demo's deployment, and
 * `privagg synth`, which needs only the schema, bounds and partitions and so
 * makes no key at all), or listing the agencies with their keys (the older
 * form, `privagg demo --agencies-in-task`).  One home for what the demo and the
 * synth command both build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/synth.h"
#include "privagg/task_build.h"

int pa_synth_state_agencies(pa_synth_agency **paAgency, size_t *pnAgency, const char *zDataDir,
                            const char *zState, size_t nMax)
{
    char zPath[4096];
    pa_csv *c;
    pa_synth_agency *a = NULL;
    size_t n;
    int iOri, iName, iFips, rc = PA_OK;

    *paAgency = NULL;
    *pnAgency = 0;
    PA_GUARD(pa_task_state_file(zPath, sizeof zPath, zDataDir, zState, "le_agencies"));
    PA_GUARD(pa_csv_load(&c, zPath));
    iOri = pa_csv_column(c, "ori");
    iName = pa_csv_column(c, "name");
    iFips = pa_csv_column(c, "county_fips");
    n = pa_csv_row_count(c);
    if (nMax != 0 && nMax < n)
        n = nMax;
    if (iOri < 0 || iName < 0 || iFips < 0)
        rc = pa_fail(PA_EDECODE, "%s: the columns ori, name and county_fips are required", zPath);
    else if ((a = calloc(n ? n : 1, sizeof *a)) == NULL)
        rc = pa_fail(PA_ENOMEM, "%s: out of memory", zPath);
    for (size_t r = 0; rc == PA_OK && r < n; r++) {
        const char *zId = pa_csv_get(c, r, iOri), *zFips = pa_csv_get(c, r, iFips);
        if (zId[0] == '\0' || strlen(zId) >= sizeof a[r].zId || strlen(zFips) >= sizeof a[r].zCounty)
            rc = pa_fail(PA_EDECODE, "%s: row %zu: ori \"%s\" (1 to 64 characters) or county_fips \"%s\" "
                                     "(at most 7) out of range", zPath, r + 1, zId, zFips);
        snprintf(a[r].zId, sizeof a[r].zId, "%s", zId);
        snprintf(a[r].zName, sizeof a[r].zName, "%s", pa_csv_get(c, r, iName));
        snprintf(a[r].zCounty, sizeof a[r].zCounty, "%s", zFips);
    }
    pa_csv_free(c);
    if (rc != PA_OK) {
        free(a);
        return rc;
    }
    *paAgency = a;
    *pnAgency = n;
    return PA_OK;
}

int pa_synth_task(json_t **ppJson, const pa_synth_task_opts *o)
{
    static const uint8_t aZero[32];
    pa_keys aNone[3];
    pa_task_build_opts b;
    const char **azId = NULL, **azCounty = NULL;
    int rc = PA_OK;

    *ppJson = NULL;
    /* no keys: placeholders, distinct as the task's checks require (the aggregators
     * must hold independent keys), that nobody holds the secret of */
    memset(aNone, 0, sizeof aNone);
    for (int i = 0; i < 3; i++)
        memset(aNone[i].aPublic, i + 1, sizeof aNone[i].aPublic);
    memset(&b, 0, sizeof b);
    b.zState = o->zState;
    b.zDataDir = o->zDataDir;
    b.zLeaderEndpoint = o->zLeaderEndpoint;
    b.zHelperEndpoint = o->zHelperEndpoint;
    b.pLeader = o->pLeader ? o->pLeader : &aNone[0];
    b.pHelper = o->pHelper ? o->pHelper : &aNone[1];
    b.pCollector = o->pCollector ? o->pCollector : &aNone[2];
    b.nMinAgencies = o->nMinAgencies;
    b.rBudgetRho = o->rBudgetRho;
    b.rRhoState = o->rRhoState;
    b.rRhoPartition = o->rRhoPartition;
    b.nMaxCellsPerRecord = 4;
    if (o->aAgencyKeys != NULL) {
        b.aAgencyKeys = o->aAgencyKeys;
        b.nAgencyKeys = o->nAgency;
        b.nMaxAgencies = o->nAgency;
    } else if ((azId = calloc(o->nAgency + 1, sizeof *azId)) == NULL ||
               (azCounty = calloc(o->nAgency + 1, sizeof *azCounty)) == NULL) {
        rc = pa_fail(PA_ENOMEM, "task: out of memory");
    } else {
        for (size_t i = 0; i < o->nAgency; i++) {
            azId[i] = o->aAgency[i].zId;
            azCounty[i] = o->aAgency[i].zCounty;
        }
        b.pRegistryGenesis = o->pGenesis ? o->pGenesis : aZero;
        b.pRegistrySigner = o->pSigner ? o->pSigner : aZero;
        b.azRegId = azId;
        b.azRegCounty = azCounty;
        b.nReg = o->nAgency;
    }
    if (rc == PA_OK)
        rc = pa_task_build_default(ppJson, &b);
    free(azId);
    free(azCounty);
    return rc;
}
