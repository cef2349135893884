/*
 * privagg client — the agency's and the collector's side of the HTTPS API
 * (engine/node is the servers' side):
 *   pa_client_upload   POST a report to the leader
 *   pa_client_collect  create a collection job at the leader, poll until the
 *                      batch is released, open it (pa_collector_open)
 */
#ifndef PRIVAGG_CLIENT_H
#define PRIVAGG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/collector.h"
#include "privagg/http.h"
#include "privagg/keys.h"
#include "privagg/task.h"

/* Errors: the leader's refusal mapped back to PA_E* (pa_error_detail() carries its
 * problem document), or a transport error. */
int pa_client_upload(pa_http_client *pClient, const pa_task *pTask, const uint8_t *pMsg, size_t nMsg);

/* Creates the job (its id derived from the batch), then polls it (every 20 ms at
 * first, then every 200 ms) for at most nTimeoutS seconds.  A refusal for good
 * (PA_EBUDGET, PA_ERANGE, PA_ENOTFOUND, ...) returns at once with the leader's
 * message; a transient failure is retried until the timeout; still pending then
 * is PA_EBUSY.  Running it again for a released batch returns the same answer. */
int pa_client_collect(pa_http_client *pClient, const pa_task *pTask, const pa_keys *pCollector,
                      const char *zPeriod, const char *zPartition, unsigned nTimeoutS,
                      pa_collection *pOut);

/*
 * Many releases from nThreads concurrent collectors (each its own connection):
 * aBatch[i] is collected with pa_client_collect, xOnResult(pCtx, i, &collection)
 * is called for each success (one call at a time, under a lock; its non-zero
 * return counts as a failure), and aLatency[i] (may be NULL) receives the
 * seconds from create to result.  Returns PA_OK if every batch was released, else
 * PA_EIO naming how many failed and the first failure.
 */
typedef struct {
    const char *zPeriod;
    const char *zPartition;
} pa_client_batch;
typedef int (*pa_client_result_fn)(void *pCtx, size_t iBatch, const pa_collection *pColl);
int pa_client_collect_many(const pa_http_client_opts *pOpts, const pa_task *pTask, const pa_keys *pCollector,
                           const pa_client_batch *aBatch, size_t nBatch, unsigned nThreads,
                           unsigned nTimeoutS, pa_client_result_fn xOnResult, void *pCtx,
                           double *aLatency);

/*
 * Counts for one report from a CSV file: a header naming each schema dimension
 * plus "count" (e.g. offense,status,role,count) with category names, or the
 * columns cell,count with 0-based cell indexes.  Cells not listed are 0; a cell
 * listed twice, an unknown category, a count that is not a whole number, or a
 * non-zero count in a structural zero of the task (schema.structural_zeros) is
 * an error naming the line (PA_EINVAL).
 */
int pa_counts_load_csv(const pa_task *pTask, const char *zPath, uint64_t *aCounts);

/*
 * The agency's step before sealing (docs/keys.md, "The signed configuration"):
 * GET the leader's /hpke_config and, for each aggregator whose
 * signing_public_key the task names, verify its document
 * (pa_hpke_config_verify at tNow) and set pTask's party to its current key and
 * config id.  *pbLeader / *pbHelper say which were set; an aggregator whose
 * document is absent (the task names no signing key, or the leader has not
 * fetched the helper's yet) keeps the task's key.  Errors: PA_ENOTFOUND (the
 * leader serves no /hpke_config: an older leader), PA_EIO (transport),
 * PA_EDECODE, PA_EVERIFY, PA_EAUTH (a document that does not verify: never
 * sealed to).
 */
int pa_client_hpke_configs(pa_http_client *pClient, pa_task *pTask, int64_t tNow, int *pbLeader, int *pbHelper);

#endif
