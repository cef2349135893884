/*
 * privagg publish — the state statistician's tables from the released batches:
 * every collection result of a task (months x (statewide + partitions)) becomes
 * table.csv, table.json, a self-contained report.html and a signed manifest.json
 * (docs/publish.md).
 *
 * Everything here is post-processing of released noised totals and the public
 * noise parameters: it reads no record and no share, so it costs no privacy
 * (docs/dp.md).  Steps, per period and cell:
 *   1. consistency: when the statewide batch and every partition of the period
 *      were released, the statewide and partition values are estimated together
 *      by weighted least squares with the exact noise variances, so that the
 *      partitions add up to the state (closed form, docs/publish.md);
 *   2. intervals at 90 %: exact (the distribution of the estimate's noise, a
 *      linear combination of discrete Gaussian draws, from their pmfs by
 *      convolution), or conservative (Chebyshev) where the pmfs would be too long
 *      to convolve, labelled which;
 *   3. non-negativity and rounding of each published number (the interval is
 *      clipped at 0 and rounded outward: it still holds the true count whenever
 *      the unrounded one did).
 */
#ifndef PRIVAGG_PUBLISH_H
#define PRIVAGG_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "privagg/keys.h"
#include "privagg/task.h"

/* One released batch, read from a collection result (privagg-collection-v1). */
typedef struct {
    char zPeriod[8];
    char zPartition[65];
    char zCollectionId[33];        /* hex */
    char azLedger[2][65];          /* hex: the leader's and the helper's entry */
    uint64_t nAgency, nReport;
    double rSigma2;                /* per aggregator (0: mechanism none) */
    size_t nCell;
    int64_t *aTotal;               /* noised totals (may be negative) */
    int bReported;                 /* the result names the agencies that reported */
    char **azReported;             /* their ids, ascending (strcmp), nAgency of them */
} pa_release;

/* Read every collection-*.json of zDir that belongs to the task (another task id
 * is refused, naming the file).  *paRel sorted by period, then "state" first,
 * then partition name; freed with pa_release_free_all.  A batch present twice is
 * refused (PA_EEXISTS).  Errors: PA_EIO, PA_EDECODE (naming file and field),
 * PA_EINVAL (another task, a wrong cell count, an unknown partition). */
int pa_release_load_dir(const pa_task *pTask, const char *zDir, pa_release **paRel, size_t *pnRel);
void pa_release_free_all(pa_release *aRel, size_t nRel);

typedef struct {
    const char *zDataDir;          /* data/ (populations, county shapes) */
    const char *zOutDir;           /* created if missing; files are replaced */
    const pa_keys *pCollector;     /* with a signing key: manifest.json is written; NULL: none */
    const char *azLedgerJson[2];   /* optional exported ledgers (leader, helper) for the
                                    * manifest's ledger heads; NULL: the heads are the
                                    * last release's entries, without index */
    const char *zVersion;          /* software version in the manifest */
    /* a task that names an agency registry (docs/registry.md): the agencies
     * listed for a batch are those enrolled, not revoked, for its month whose
     * county lies in its partition; required for such a task */
    const struct pa_registry *pRegistry;
} pa_publish_opts;

typedef struct {
    size_t nRelease, nPeriod, nRow;
    size_t nReconciled;            /* periods estimated across levels */
    size_t nLowReliability;        /* rows flagged */
} pa_publish_summary;

/* Write table.csv, table.json, report.html and (with a signing key)
 * manifest.json into zOutDir.  Errors: PA_EIO, PA_ENOMEM, PA_EINVAL. */
int pa_publish(const pa_task *pTask, const pa_release *aRel, size_t nRel, const pa_publish_opts *pOpts,
               pa_publish_summary *pSummary);

/* ---- manifests (engine/publish/manifest.c) ---------------------------------- */

/* The canonical bytes a manifest signature covers: the tag
 * "privagg-release-manifest-v1" and a NUL, then the manifest without its
 * "signature" member, printed with sorted keys, no whitespace, ASCII escapes and
 * 17-digit reals (as the task id).  *pzOut freed with free(). */
int pa_manifest_signed_bytes(const char *zJson, size_t nJson, char **pzOut, size_t *pnOut);

/* Verify a manifest's Ed25519 signature under aPublic.  PA_EVERIFY if it does not
 * verify, PA_EDECODE if the signature member is missing or malformed. */
int pa_manifest_verify(const char *zJson, size_t nJson, const uint8_t aPublic[32]);

/* ---- intervals of the noise of published numbers (intervals.c) -------------- */

/* The noise of a published number: rOwn times the sum of nOwn independent
 * N_Z(0, rSigma2Own) draws (the batch's own) plus rRest times the sum of
 * anRest[k] draws of N_Z(0, aSigma2Rest[k]) (the other batches' draws, after the
 * consistency step; rRest 0 or no draws: none).  All draws independent. */
typedef struct {
    double rOwn, rSigma2Own;
    uint64_t nOwn;
    double rRest, aSigma2Rest[2];
    uint64_t anRest[2];
} pa_publish_noise;

/* *pHalf: a half-width w with P(|noise| <= w) >= level.  *pbExact = 1 when w is
 * the smallest such (the exact distribution, from the pmfs by convolution),
 * 0 when conservative (the pmfs would be too long to convolve: Chebyshev with
 * Var N_Z(0, s) <= s, docs/publish.md).  Draws 1 .. 1e8, level in (0, 1). */
int pa_publish_noise_halfwidth(const pa_publish_noise *pNoise, double level, double *pHalf, int *pbExact);


/* The smallest integer w with P(|Z| <= w) >= level, Z the sum of nDraws
 * independent N_Z(0, sigma2) (numerical convolution of the exact pmf, tails
 * below 1e-40 dropped).  nDraws 1 .. 10^6. */
int pa_publish_dg_halfwidth(double sigma2, uint64_t nDraws, double level, uint64_t *pW);

#endif
