/*
 * privagg task_build — the default task of a state, built from the shipped data:
 * 27 offense buckets (data/nibrs_offense_buckets.csv) × 5 immigration-status
 * categories × 2 roles = 270 cells, Prio3SumVec (max 65535 per cell, chunk 66),
 * every agency of data/<st>_le_agencies.csv, partitions that each hold at least
 * min_agencies agencies (a county, a region of neighbouring small counties by
 * data/<st>_county_centroids.csv, or "no-county"; docs/task-file.md), monthly
 * batches, and a discrete-Gaussian policy with a budget per incident record.
 * schema.structural_zeros lists the victim cells of the buckets whose offenses
 * have no person victims in NIBRS (Group B, crimes against society).
 */
#ifndef PRIVAGG_TASK_BUILD_H
#define PRIVAGG_TASK_BUILD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "privagg/keys.h"

typedef struct {
    const char *zState;            /* "MO" */
    const char *zDataDir;          /* folder with the CSVs */
    const char *zLeaderEndpoint;
    const char *zHelperEndpoint;
    const pa_keys *pLeader, *pHelper, *pCollector;   /* public parts used */
    /* agency public keys, looked up by id; an agency without a key is an error */
    const pa_keys *aAgencyKeys;
    size_t nAgencyKeys;
    size_t nMaxAgencies;           /* 0 = all agencies in the file; else the first N */
    size_t nMinAgencies;           /* batching.min_agencies */
    double rBudgetRho;             /* rho per record (per lattice cell), e.g. 1.0 */
    double rRhoState;              /* rho per statewide release, e.g. 0.5 */
    double rRhoPartition;          /* rho per partition release, e.g. 0.5 */
    uint64_t nMaxCellsPerRecord;   /* e.g. 4 */
    int bAllowCorrections;         /* batching.allow_corrections (default 0) */
    /* The registry form (docs/registry.md): when pRegistryGenesis is set the task
     * names the agency registry (parties.registry) instead of listing agencies;
     * the partitions are made from the nReg agencies enrolled at init (ids and
     * counties, "" for none; coordinates from the agency file when it has the id),
     * then every county of the state without one joins the partition of its
     * nearest county that has one, and "no-county" (when no partition holds it)
     * joins the partition of the county nearest the state's mean centroid, so
     * that an agency enrolled later always has a partition. */
    const uint8_t *pRegistryGenesis, *pRegistrySigner;
    const char *const *azRegId, *const *azRegCounty;
    size_t nReg;
} pa_task_build_opts;

/* The five status categories and two roles of the default schema. */
extern const char *const pa_default_status[5];
extern const char *const pa_default_roles[2];

/*
 * Build the default task as JSON (*ppJson owned by the caller: json_decref).
 * Errors: PA_EIO/PA_EDECODE for the data files (named), PA_EINVAL for an agency
 * with no key or an unknown state.
 */
int pa_task_build_default(json_t **ppJson, const pa_task_build_opts *pOpts);

/* The path of one of the state's shipped data files into zPath (n bytes):
 * zDataDir/<st>_<zWhat>.csv, <st> the two-letter code zState in lower case
 * (e.g. "le_agencies": mo_le_agencies.csv).  PA_EINVAL when zState is not two
 * letters. */
int pa_task_state_file(char *zPath, size_t n, const char *zDataDir, const char *zState, const char *zWhat);

/* The agency ids of the state's agency file, in file order (for key generation). */
int pa_task_list_agencies(char ***pazId, size_t *pnId, const char *zDataDir, const char *zState);
void pa_task_free_list(char **azId, size_t nId);

#endif
