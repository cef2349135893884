/*
 * privagg synth — realistic synthetic monthly counts for demos and tests.
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
void pa_synth_free(pa_synth *pSynth);

/* Counts of one agency for one period into aCount[pTask->nCell], each clamped to
 * the task's max_measurement. */
int pa_synth_counts(const pa_synth *pSynth, const pa_task_agency *pAgency, const char *zPeriod,
                    uint64_t *aCount);

/* Population the model assigns to an agency (for rate denominators in demos). */
double pa_synth_population(const pa_synth *pSynth, const pa_task_agency *pAgency);

#endif
