/*
 * Aggregation-job bookkeeping shared by the leader's and the helper's sides
 * (internal to engine/aggregator): the stored answer of a job step, so that a
 * retried step returns the same bytes and changes nothing.
 */
#ifndef PA_AGGREGATOR_JOB_STORE_H
#define PA_AGGREGATOR_JOB_STORE_H

#include "aggregator/internal.h"

typedef enum { PA_JOB_STEP_INIT = PA_STORE_JOB_INIT, PA_JOB_STEP_CONTINUE = PA_STORE_JOB_CONTINUE } pa_job_phase;

/*
 * Look up the stored answer of a job step.  *pbFound = 0: no such job (INIT) or
 * step not answered yet (CONTINUE).  If found with the same request hash, *ppResp
 * is a malloc'ed copy of the answer; with another hash, PA_EEXISTS.
 */
int pa_job_stored_answer(const pa_aggregator *a, const uint8_t aJobId[16], pa_job_phase ePhase,
                         const uint8_t aReqHash[32], int *pbFound, uint8_t **ppResp, size_t *pnResp);

/* Record a step's answer (INIT inserts the job row; CONTINUE finishes it). */
int pa_job_store_answer(const pa_aggregator *a, const uint8_t aJobId[16], const char *zPeriod,
                        pa_job_phase ePhase, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp);

/* A job's running sums, one per partition it touches: output shares of accepted
 * reports and the counts. */
typedef struct {
    char zPartition[65];
    uint8_t *pAgg;             /* aggregate share (secret) */
    uint64_t nAccepted, nRejected;
} pa_job_sum;

typedef struct {
    size_t n, cap;
    pa_job_sum *a;
} pa_job_sums;

/* Count a report into its partition's sum: accepted (pOutShare added) or
 * rejected (replays are not counted). */
int pa_job_sums_add(const pa_aggregator *a, pa_job_sums *pSums, const char *zPartition,
                    pa_reject_reason eReject, const uint8_t *pOutShare);
/* Add every sum into its batch, creating it: one read of the job's batches,
 * which locks them in partition order (the sums are sorted), and one write. */
int pa_job_sums_commit(const pa_aggregator *a, pa_job_sums *pSums, const char *zPeriod);
void pa_job_sums_free(const pa_aggregator *a, pa_job_sums *pSums);

#endif
