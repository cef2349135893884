/*
 * engine/publish internals: the estimated tables that publish.c computes and
 * report.c and manifest.c print.  One pa_pub_table per released batch (period,
 * partition); its rows are the cells, one margin per category of each dimension,
 * and the total.
 */
#ifndef PA_PUBLISH_INTERNAL_H
#define PA_PUBLISH_INTERNAL_H

#include <stdio.h>

#include "privagg/publish.h"

#define PA_PUB_LEVEL 0.90          /* the published intervals */
#define PA_PUB_ALL (-1)            /* a dimension summed over */

typedef enum { PA_PUB_CELL = 0, PA_PUB_MARGIN = 1, PA_PUB_TOTAL = 2 } pa_pub_kind;

typedef struct {
    pa_pub_kind eKind;
    int aCat[PA_TASK_MAX_DIMENSIONS]; /* category index, or PA_PUB_ALL */
    size_t nSet;                   /* cells summed */
    int64_t nNoised;               /* sum of the released noised totals */
    double rEstimate;              /* after consistency, before rounding */
    double rSd;                    /* sd of the estimate's noise (sigma2-based upper bound) */
    double rHalf;                  /* 90 % half-width of the estimate's noise */
    int bExact;                    /* 1: exact interval, 0: conservative */
    int64_t nPub, nLo, nHi;        /* published: non-negative, rounded; interval */
    int bRate;                     /* a rate is given (else zRateNote says why) */
    double rRate, rRateLo, rRateHi;/* per 100,000 residents per month */
    const char *zRateNote;
    int bShare;                    /* status margins: share of the total */
    double rShare, rShareLo, rShareHi;
    int bLow;                      /* "low reliability": interval wider than the estimate */
} pa_pub_row;

/* An agency listed for a batch, placed for the residents it serves. */
typedef struct {
    const char *zId;
    size_t iPart;                  /* its partition's index in the task */
    int bCounty;                   /* zCounty is one of its partition's counties; else it is
                                    * attributed to every county of its partition */
    char zCounty[8];
} pa_pub_agency;

/* The agencies listed in a month: a task's own list (every month alike), or those
 * an agency registry has enrolled, not revoked, for the month (pa_pub_load_listed). */
typedef struct {
    char zPeriod[8];               /* "" for a task that lists its agencies */
    size_t n;
    pa_pub_agency *a;
} pa_pub_listed;

typedef struct {
    const pa_release *pRel;
    const pa_pub_listed *pListed;  /* the agencies listed in its month */
    int bState;                    /* the statewide batch */
    const pa_task_partition *pPart;/* NULL for the statewide batch */
    double *aEst;                  /* per cell, after consistency */
    double rOwn;                   /* coefficient of the batch's own noise in its estimate */
    double rRest;                  /* coefficient of the other batches' noise (0: none) */
    double aSigma2Rest[2];         /* per cell, the other batches' draws: anRest[k] of */
    uint64_t anRest[2];            /* N_Z(0, aSigma2Rest[k]) (statewide, partitions) */
    int bReconciled;
    double rPop;                   /* residents (0: unknown, e.g. no-county) */
    int iPopYear;                  /* the population's year */
    size_t nListed;                /* agencies listed for the batch (its partition's; statewide: all) */
    int bFullCoverage;             /* every listed agency reported */
    /* residents served, as a share of the batch's own residents (statewide: the
     * state's): lower bound, the counties all of whose agencies reported; upper,
     * the counties where one did (equal when every listed agency reported); < 0:
     * unknown (no residents, or the result does not say which agencies reported
     * and some did not) */
    double rServedLo, rServedHi;
    pa_pub_row *aRow;
    size_t nRow;
} pa_pub_table;

typedef struct {
    const pa_task *pTask;
    const struct pa_registry *pReg; /* a task naming an agency registry (publish --registry) */
    const pa_release *aRel;
    size_t nRel;
    pa_pub_table *aTable;          /* one per release, same order */
    size_t nTable;
    char **azPeriod;               /* distinct periods, sorted */
    size_t nPeriod;
    int iStatusDim;                /* the dimension named "status" (-1: none) */
    double rStatePop;              /* the state's residents (latest period's year) */
    int iStatePopYear;
    /* county shapes for the map: FIPS, name, SVG path, viewBox height */
    size_t nCounty;
    char **azFips, **azCountyName, **azPath;
    double rMapHeight;
    /* county populations by year (data/<st>_county_population_2020_2024.csv) */
    size_t nPop;
    struct pa_pub_pop { char zFips[8]; int iYear; double rPop; } *aPop;
    int iPopMin, iPopMax;
    /* the agencies listed, per month of aRel (one view for a task's own list) */
    pa_pub_listed *aListed;
    size_t nListed;
} pa_pub;

/* pa_pub.aListed.  A task's own agencies: each one's partition, and its county
 * from data/<st>_le_agencies.csv (columns ori, county_fips) where it lists the
 * agency (a missing file leaves every county unknown).  A registry task
 * (p->pReg): for each month of aRel, the agencies enrolled and not revoked then,
 * each with the county of its enrollment, which places it in its partition (an
 * agency whose county lies in no partition is left out: its reports are refused).
 * Either way a county that is not one of the agency's partition's is unknown. */
int pa_pub_load_listed(pa_pub *p, const char *zDataDir, const char *zState);
/* The view of zPeriod (a task's own list: the one view). */
const pa_pub_listed *pa_pub_listed_of(const pa_pub *p, const char *zPeriod);

/* population of a county (FIPS) for a year, clamped to the years in data/; 0 if unknown */
/* The year of a "YYYY-MM" period or "YYYY-MM-DD" date: its four leading digits,
 * or 0 when they are not four digits (callers treat 0 as unknown). */
int pa_pub_year(const char *z);

double pa_pub_county_pop(const pa_pub *p, const char *zFips, int iYear, int *piYearUsed);

const pa_pub_table *pa_pub_find(const pa_pub *p, const char *zPeriod, const char *zPartition);
/* "Homicide", or "(all)" for PA_PUB_ALL */
const char *pa_pub_cat(const pa_pub *p, size_t iDim, int iCat);

/* estimate and half-width at `level` of the cells in aCat (PA_PUB_ALL = any), or,
 * with bComplementOfStatus, of the cells whose status differs from aCat's */
int pa_pub_set_estimate(const pa_pub *p, const pa_pub_table *tb, const int *aCat, int bComplementOfStatus,
                        double level, double *pEst, double *pHalf, int *pbExact, size_t *pnSet, int64_t *pnNoised);
/* published value (clipped at 0, rounded) and the interval rounded outward */
void pa_pub_interval(double est, double half, int64_t *pPub, int64_t *pLo, int64_t *pHi);

int pa_pub_write_report(const pa_pub *p, FILE *f);
int pa_pub_write_manifest(const pa_pub *p, const pa_publish_opts *o, const char *zPath);

#endif
