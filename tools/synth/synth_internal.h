/*
 * Internal to tools/synth: the model both generators share (the counts of
 * synth.c and the incident exports of synth_records.c): county populations, the
 * agencies' counties, the NIBRS code table and the annual rates per bucket.
 */
#ifndef PA_SYNTH_INTERNAL_H
#define PA_SYNTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/synth.h"

#define PA_SYNTH_BUCKETS 27
#define PA_SYNTH_MAX_CODES 128
#define PA_SYNTH_MAX_COUNTIES 512

typedef struct {
    char zCode[8];        /* "13A" */
    int iBucket;          /* 0 = excluded (09C), else 1..27 */
    int bNoVictim;        /* group B or a crime against society: no person victim */
} pa_synth_code;

struct pa_synth {
    const pa_task *pTask;
    uint64_t iSeed;
    /* the agencies the model serves, sorted by id: the task's (borrowed) or, for a
     * task that names an agency registry, a list of the synth's own (bOwn) */
    size_t nAgency;
    pa_task_agency *aAgency;
    int bOwn;
    size_t nOffense;
    size_t nCounty;
    char azFips[PA_SYNTH_MAX_COUNTIES][8];
    double aPopulation[PA_SYNTH_MAX_COUNTIES];
    size_t aAgencies[PA_SYNTH_MAX_COUNTIES]; /* agencies of the model in each county */
    int *aiCounty;                  /* county of each of aAgency (-1: none), from the
                                     * agency file: a partition may be a region */
    size_t nCode;
    pa_synth_code aCode[PA_SYNTH_MAX_CODES];
    int bDefaultSchema;             /* offense (27 buckets) x 5 statuses x 2 roles, in order */
};

/* Annual incidents per 100,000 residents, buckets 1..27 (index 0 = bucket 1). */
extern const double pa_synth_annual_rate[PA_SYNTH_BUCKETS];

#endif
