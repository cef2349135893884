/*
 * The leader's collection jobs, kept in its store (table collection_jobs): the
 * collector's request creates one, the leader's worker steps it, the collector
 * polls it.  Nothing is held in memory, so a job survives a restart, there is no
 * limit on how many a process has seen, and no lock is held across the call to
 * the helper.  A job ends 'released' (its answer is the collections row of its
 * batch, kept for ever: a re-run of `privagg collect`, whose collection id is
 * derived from the batch, gets the same bytes) or 'failed' with the permanent
 * refusal the collector is shown (budget, too few agencies, ...).  Transient
 * failures (helper down, store busy) are retried with backoff.  With several
 * leader processes on one store, a worker steps a job only under its lease:
 * claimed with the job, checked in the release's transaction and in the one
 * that writes the outcome, so a worker whose job was taken over writes
 * nothing (engine/store/lease_store.c).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "common/guard.h"

#define RETRY_MAX_S 30

int pa_leader_collection_create(pa_aggregator *a, const uint8_t *pReq, size_t nReq, uint8_t aId[16])
{
    pa_collect_req m;
    int rc;

    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "collection: this is the leader's route");
    PA_GUARD(pa_agg_decode_collect_req(a, pReq, nReq, &m));
    memcpy(aId, m.aCollectionId, 16);
    PA_GUARD(pa_store_begin(a->pStore));
    /* a new job, or a failed one asked for again (e.g. after more reports came) */
    rc = pa_store_cjob_create(a->pStore, a->pTask->aTaskId, m.aCollectionId, m.zPeriod, m.zPartition,
                              pReq, nReq, pa_agg_now(a));
    return pa_agg_end_txn(a, rc, NULL);
}

int pa_leader_collection_poll(pa_aggregator *a, const uint8_t aId[16], int *pbPending, uint8_t **ppResp,
                              size_t *pnResp)
{
    pa_store_cjob job;
    pa_store_collection c;
    int bFound;

    *pbPending = 0;
    *ppResp = NULL;
    *pnResp = 0;
    PA_GUARD(pa_store_cjob_get(a->pStore, a->pTask->aTaskId, aId, &job, &bFound));
    if (!bFound)
        return pa_fail(PA_ENOTFOUND, "collection: no such job (create it with POST .../collections)");
    if (job.eState == PA_STORE_CJOB_PENDING) {
        *pbPending = 1;
        return PA_OK;
    }
    if (job.eState == PA_STORE_CJOB_FAILED)
        return pa_fail(job.iErrorCode < 0 ? job.iErrorCode : PA_EINTERNAL, "%s", job.zErrorDetail);
    /* released: the answer is the collections row of its batch */
    PA_GUARD(pa_store_collection_get(a->pStore, a->pTask->aTaskId, job.zPeriod, job.zPartition, &c, &bFound));
    if (bFound && memcmp(c.aCollectionId, aId, 16) != 0) {
        free(c.pResponse);
        bFound = 0;
    }
    if (!bFound)
        return pa_fail(PA_ESTORE, "collection %s/%s: released, but its answer is missing", job.zPeriod,
                       job.zPartition);
    *ppResp = c.pResponse;
    *pnResp = c.nResponse;
    return PA_OK;
}

/* Write a job's outcome and give its lease back, if this worker still holds
 * it (else nothing, and the outcome says the lease was lost). */
static int job_update(pa_aggregator *a, const uint8_t aId[16], pa_store_cjob_state eState, int iCode,
                      const char *zDetail, int bAttempt, int64_t tNext, pa_collection_outcome *pOut)
{
    int rc, bHeld = 0;

    PA_GUARD(pa_store_begin(a->pStore));
    rc = pa_store_cjob_lease_renew(a->pStore, a->pTask->aTaskId, aId, a->zWorker, pa_agg_now(a) + a->nLease,
                                   &bHeld);
    if (rc == PA_OK && !bHeld) {
        pa_store_rollback(a->pStore);
        pOut->eOutcome = PA_COLLECTION_LEASE_LOST;
        return PA_OK;
    }
    if (rc == PA_OK)
        rc = pa_store_cjob_update(a->pStore, a->pTask->aTaskId, aId, eState, iCode, zDetail, bAttempt, tNext,
                                  pa_agg_now(a));
    if (rc == PA_OK)
        rc = pa_store_cjob_lease_release(a->pStore, a->pTask->aTaskId, aId, a->zWorker);
    return pa_agg_end_txn(a, rc, NULL);
}

int pa_leader_collection_step(pa_aggregator *a, pa_helper_transport xCall, void *pCtx,
                              pa_collection_outcome *pOut)
{
    pa_store_cjob job;
    uint8_t *pResp = NULL;
    size_t nResp = 0;
    int64_t tNow = pa_agg_now(a);
    int rc, bReady = 0, bFound, bLost = 0;

    memset(pOut, 0, sizeof *pOut);
    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "collection: this is the leader's worker");
    /* the job due first whose lease is free, leased to this worker */
    PA_GUARD(pa_store_begin(a->pStore));
    PA_GUARD(pa_agg_end_txn(a, pa_store_cjob_claim(a->pStore, a->pTask->aTaskId, a->zWorker, tNow,
                                                   tNow + a->nLease, &job, &bFound), NULL));
    if (!bFound)
        return PA_OK; /* nothing due */
    snprintf(pOut->zPeriod, sizeof pOut->zPeriod, "%s", job.zPeriod);
    snprintf(pOut->zPartition, sizeof pOut->zPartition, "%s", job.zPartition);
    pOut->bStepped = 1;

    rc = pa_leader_collect_ready(a, job.pRequest, job.nRequest, &bReady);
    if (rc == PA_OK && !bReady) {
        /* reports of the batch are still being aggregated: look again soon */
        free(job.pRequest);
        pOut->eOutcome = PA_COLLECTION_WAITING;
        return job_update(a, job.aCollectionId, PA_STORE_CJOB_PENDING, 0, NULL, 0, tNow + 1, pOut);
    }
    if (rc == PA_OK)
        rc = pa_agg_leader_collect_leased(a, job.pRequest, job.nRequest, xCall, pCtx, job.aCollectionId, &bLost,
                                          &pResp, &nResp);
    free(job.pRequest);
    free(pResp); /* the answer is the collections row, read back when polled */
    if (rc == PA_OK && bLost) {
        pOut->eOutcome = PA_COLLECTION_LEASE_LOST;
        return PA_OK;
    }
    pOut->rc = rc;
    snprintf(pOut->zDetail, sizeof pOut->zDetail, "%s", rc == PA_OK ? "" : pa_error_detail());
    if (rc == PA_OK) {
        pOut->eOutcome = PA_COLLECTION_RELEASED;
        return job_update(a, job.aCollectionId, PA_STORE_CJOB_RELEASED, 0, NULL, 1, tNow, pOut);
    }
    if (pa_status_is_transient(rc)) {
        int64_t nWait = (int64_t)1 << (job.nAttempts < 5 ? job.nAttempts : 5);
        pOut->eOutcome = PA_COLLECTION_RETRYING;
        return job_update(a, job.aCollectionId, PA_STORE_CJOB_PENDING, rc, pOut->zDetail, 1,
                          tNow + (nWait < RETRY_MAX_S ? nWait : RETRY_MAX_S), pOut);
    }
    pOut->eOutcome = PA_COLLECTION_REFUSED;
    return job_update(a, job.aCollectionId, PA_STORE_CJOB_FAILED, rc, pOut->zDetail, 1, tNow, pOut);
}
