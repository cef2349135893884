/*
 * privagg synth — realistic synthetic monthly counts, and incident exports, for
 * demos and tests.
 *
 * Never used on real data.  Each agency of the default schema (offense ×
 * status × role) gets Poisson counts whose mean is a per-offense annual rate per
 * 100,000 residents (rounded national NIBRS orders of magnitude) times the
 * population the agency serves (its county's population split evenly between the
 * county's city and county agencies; a small fixed population for statewide,
 * university and other agencies), split by a status distribution and by role.
 * Deterministic for a given seed, agency id and period.
 */
#ifndef PRIVAGG_SYNTH_H
#define PRIVAGG_SYNTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "privagg/keys.h"
#include "privagg/task.h"

typedef struct pa_synth pa_synth;

/*
 * Prepare the model for a task whose schema is the default one (27 × 5 × 2 cells,
 * or any schema whose first dimension is offense with at most 27 categories and
 * last two are status × role): reads county populations from
 * zDataDir/mo_county_population.csv.  Errors: PA_EIO, PA_EDECODE, PA_EINVAL
 * (schema not of that shape).
 */
int pa_synth_new(pa_synth **ppSynth, const pa_task *pTask, const char *zDataDir, uint64_t iSeed);
/* The same for the agencies azId[nId] instead of the task's list: for a task that
 * names an agency registry (its agencies are the registry's) or lists none.  The
 * ids are copied; a repeated id is PA_EINVAL. */
int pa_synth_new_agencies(pa_synth **ppSynth, const pa_task *pTask, const char *const *azId, size_t nId,
                          const char *zDataDir, uint64_t iSeed);
void pa_synth_free(pa_synth *pSynth);

/* The model's agencies, sorted by id (the task's, or those given): i < count. */
size_t pa_synth_agency_count(const pa_synth *pSynth);
const pa_task_agency *pa_synth_agency_at(const pa_synth *pSynth, size_t i);

/* Counts of one agency for one period into aCount[pTask->nCell], each clamped to
 * the task's max_measurement. */
int pa_synth_counts(const pa_synth *pSynth, const pa_task_agency *pAgency, const char *zPeriod,
                    uint64_t *aCount);

/* Population the model assigns to an agency (for rate denominators in demos). */
double pa_synth_population(const pa_synth *pSynth, const pa_task_agency *pAgency);

typedef struct {
    uint64_t nRow;               /* lines written, the header included */
    uint64_t nIncident;          /* incidents (of the month and late ones of the month before) */
    uint64_t nIncidentInPeriod;
    uint64_t nBrokenRow;         /* rows the submitter must count as bad */
} pa_synth_records_info;

/*
 * One agency's synthetic incident export of zPeriod ("YYYY-MM") to f: CSV in the
 * columns of the submitter's default mapping (ori, incident_id, incident_date,
 * offense_code, role, immigration_status, narrative), one row per person
 * involved in an offense, incidents of the model's rates (Poisson per offense
 * bucket over the agency's population), several offenses and persons per
 * incident, the status shares of the model by role, value spellings of the
 * default mapping, late records of the month before, witnesses, 09C, victims of
 * offenses without person victims, and about one broken row in 150 (never more
 * than 1 % of the rows).  aTruth[pTask->nCell] receives the exact count vector
 * the submitter must compute under the task's bounds (docs/submit.md), derived
 * from the incidents made, not by reading the file back.  Deterministic for a
 * given seed, agency and period; pInfo may be NULL.  Errors: PA_EINVAL (the task
 * does not have the default schema, a bad period), PA_EIO, PA_ENOMEM.
 */
int pa_synth_records(const pa_synth *pSynth, const pa_task_agency *pAgency, const char *zPeriod, FILE *f,
                     uint64_t *aTruth, pa_synth_records_info *pInfo);

/*
 * Every agency of the model (pa_synth_agency_at): zDir/<id>.csv (pa_synth_records) and zDir/truth.json,
 * one JSON object mapping each agency id to its exact count vector (the task's
 * cell order).  zDir is created (mode 0700) if missing.  *pTotal (may be NULL)
 * sums the agencies' figures.
 */
int pa_synth_write_month(const pa_synth *pSynth, const char *zPeriod, const char *zDir,
                         pa_synth_records_info *pTotal);

/* ---- the demo's agencies and task (tools/synth/synth_task.c) ------------- */

/* An agency of the state's shipped list, as the registry enrolls it. */
typedef struct {
    char zId[65];                       /* ORI */
    char zName[PA_TASK_MAX_NAME + 1];
    char zCounty[8];                    /* 5-digit FIPS; "" for none (a statewide agency) */
} pa_synth_agency;

/* The first nMax (0: all) agencies of zDataDir/<st>_le_agencies.csv, in file
 * order (*paAgency malloc'd, free()).  Errors: PA_EIO, PA_EDECODE (a column or
 * field named), PA_ENOMEM. */
int pa_synth_state_agencies(pa_synth_agency **paAgency, size_t *pnAgency, const char *zDataDir,
                            const char *zState, size_t nMax);

/* The default task of the state (privagg/task_build.h: 27 offense buckets x 5
 * statuses x 2 roles, monthly batches, the discrete-Gaussian policy given) whose
 * partitions the agencies aAgency[nAgency] place. */
typedef struct {
    const char *zState, *zDataDir;
    const char *zLeaderEndpoint, *zHelperEndpoint;
    /* public parts used; NULL: placeholders (bytes 01.., 02.., 03..) of which
     * nobody holds a secret, for a task wanted for its schema, bounds and
     * partitions only (privagg synth), never to be served */
    const pa_keys *pLeader, *pHelper, *pCollector;
    const pa_synth_agency *aAgency;
    size_t nAgency;
    /* the form: with aAgencyKeys (one per agency, looked up by id) the task lists
     * the agencies and their keys, and aAgency must be the first nAgency of the
     * state's list; else it names the agency registry (pGenesis, pSigner: its
     * genesis hash and signer; NULL: zeros) */
    const pa_keys *aAgencyKeys;
    const uint8_t *pGenesis, *pSigner;
    size_t nMinAgencies;
    double rBudgetRho, rRhoState, rRhoPartition;
} pa_synth_task_opts;

/* *ppJson: the task (json_decref).  Errors as pa_task_build_default. */
int pa_synth_task(json_t **ppJson, const pa_synth_task_opts *pOpts);

#endif
