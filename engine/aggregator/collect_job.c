/*
 * The leader's collection jobs, kept in its store (table collection_jobs): the
 * collector's request creates one, the leader's worker steps it, the collector
 * polls it.  Nothing is held in memory, so a job survives a restart, there is no
 * limit on how many a process has seen, and no lock is held across the call to
 * the helper.  A job ends 'released' (its answer is the collections row of its
 * batch, kept for ever: a re-run of `privagg collect`, whose collection id is
 * derived from the batch, gets the same bytes) or 'failed' with the permanent
 * refusal the collector is shown (budget, too few agencies, ...).  Transient
 * failures (helper down, store busy) are retried with backoff.
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
    sqlite3_stmt *s;
    int64_t tNow = pa_agg_now(a);
    int rc;

    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "collection: this is the leader's route");
    PA_GUARD(pa_agg_decode_collect_req(a, pReq, nReq, &m));
    memcpy(aId, m.aCollectionId, 16);
    PA_GUARD(pa_store_begin(a->pStore));
    /* a new job, or a failed one asked for again (e.g. after more reports came) */
    rc = pa_agg_prepare(a, &s, "INSERT INTO collection_jobs(task_id, collection_id, period, partition,"
                               " request, state, next_at, created_at, updated_at)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6)"
                               " ON CONFLICT(task_id, collection_id) DO UPDATE SET"
                               " state = 'pending', error_code = NULL, error_detail = NULL,"
                               " attempts = 0, next_at = excluded.next_at, updated_at = excluded.updated_at"
                               " WHERE state = 'failed'");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_blob(s, 2, m.aCollectionId, 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, m.zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, m.zPartition, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, pReq, (int)nReq, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, tNow);
        rc = pa_agg_step_done(a, s, "collection_jobs");
    }
    return pa_agg_end_txn(a, rc, NULL);
}

/* The released answer of a job's batch. */
static int released_answer(const pa_aggregator *a, const uint8_t aId[16], const char *zPeriod,
                           const char *zPartition, uint8_t **ppResp, size_t *pnResp)
{
    sqlite3_stmt *s;
    int rc;

    PA_GUARD(pa_agg_prepare(a, &s, "SELECT response FROM collections WHERE task_id = ?1 AND period = ?2"
                                   " AND partition = ?3 AND collection_id = ?4"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 4, aId, 16, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        pa_agg_release(a, s);
        return pa_fail(PA_ESTORE, "collection %s/%s: released, but its answer is missing", zPeriod,
                       zPartition);
    }
    size_t n = (size_t)sqlite3_column_bytes(s, 0);
    *ppResp = malloc(n ? n : 1);
    rc = *ppResp ? PA_OK : pa_fail(PA_ENOMEM, "collection: out of memory");
    if (rc == PA_OK) {
        memcpy(*ppResp, sqlite3_column_blob(s, 0), n);
        *pnResp = n;
    }
    pa_agg_release(a, s);
    return rc;
}

int pa_leader_collection_poll(pa_aggregator *a, const uint8_t aId[16], int *pbPending, uint8_t **ppResp,
                              size_t *pnResp)
{
    sqlite3_stmt *s;
    char zPeriod[8], zPartition[65], zState[16], zDetail[400];
    int iCode = 0, rc;

    *pbPending = 0;
    *ppResp = NULL;
    *pnResp = 0;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT state, period, partition, error_code, error_detail"
                                   " FROM collection_jobs WHERE task_id = ?1 AND collection_id = ?2"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, aId, 16, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        pa_agg_release(a, s);
        return pa_fail(PA_ENOTFOUND, "collection: no such job (create it with POST .../collections)");
    }
    snprintf(zState, sizeof zState, "%s", (const char *)sqlite3_column_text(s, 0));
    snprintf(zPeriod, sizeof zPeriod, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(zPartition, sizeof zPartition, "%s", (const char *)sqlite3_column_text(s, 2));
    iCode = sqlite3_column_int(s, 3);
    snprintf(zDetail, sizeof zDetail, "%s",
             sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4) : "");
    pa_agg_release(a, s);
    if (strcmp(zState, "pending") == 0) {
        *pbPending = 1;
        return PA_OK;
    }
    if (strcmp(zState, "failed") == 0)
        return pa_fail(iCode < 0 ? iCode : PA_EINTERNAL, "%s", zDetail);
    rc = released_answer(a, aId, zPeriod, zPartition, ppResp, pnResp);
    return rc;
}

/* Write a job's outcome. */
static int job_update(pa_aggregator *a, const uint8_t aId[16], const char *zState, int iCode,
                      const char *zDetail, int bAttempt, int64_t tNext)
{
    sqlite3_stmt *s;
    int rc;

    PA_GUARD(pa_store_begin(a->pStore));
    rc = pa_agg_prepare(a, &s, "UPDATE collection_jobs SET state = ?3, error_code = ?4,"
                               " error_detail = ?5, attempts = attempts + ?6, next_at = ?7,"
                               " updated_at = ?8 WHERE task_id = ?1 AND collection_id = ?2");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_blob(s, 2, aId, 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, zState, -1, SQLITE_STATIC);
        if (iCode != 0)
            sqlite3_bind_int(s, 4, iCode);
        else
            sqlite3_bind_null(s, 4);
        if (zDetail != NULL)
            sqlite3_bind_text(s, 5, zDetail, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, 5);
        sqlite3_bind_int(s, 6, bAttempt);
        sqlite3_bind_int64(s, 7, tNext);
        sqlite3_bind_int64(s, 8, pa_agg_now(a));
        rc = pa_agg_step_done(a, s, "collection_jobs");
    }
    return pa_agg_end_txn(a, rc, NULL);
}

int pa_leader_collection_step(pa_aggregator *a, pa_helper_transport xCall, void *pCtx,
                              pa_collection_outcome *pOut)
{
    sqlite3_stmt *s;
    uint8_t aId[16], *pReq = NULL, *pResp = NULL;
    size_t nReq = 0, nResp = 0;
    int64_t tNow = pa_agg_now(a);
    int rc, bReady = 0, nAttempts = 0;

    memset(pOut, 0, sizeof *pOut);
    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "collection: this is the leader's worker");
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT collection_id, request, attempts, period, partition"
                                   " FROM collection_jobs WHERE task_id = ?1 AND state = 'pending'"
                                   " AND next_at <= ?2 ORDER BY next_at, created_at LIMIT 1"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_int64(s, 2, tNow);
    if (sqlite3_step(s) != SQLITE_ROW) {
        pa_agg_release(a, s);
        return PA_OK; /* nothing due */
    }
    memcpy(aId, sqlite3_column_blob(s, 0), 16);
    nReq = (size_t)sqlite3_column_bytes(s, 1);
    pReq = malloc(nReq ? nReq : 1);
    if (pReq != NULL)
        memcpy(pReq, sqlite3_column_blob(s, 1), nReq);
    nAttempts = sqlite3_column_int(s, 2);
    snprintf(pOut->zPeriod, sizeof pOut->zPeriod, "%s", (const char *)sqlite3_column_text(s, 3));
    snprintf(pOut->zPartition, sizeof pOut->zPartition, "%s", (const char *)sqlite3_column_text(s, 4));
    pa_agg_release(a, s);
    if (pReq == NULL)
        return pa_fail(PA_ENOMEM, "collection: out of memory");
    pOut->bStepped = 1;

    rc = pa_leader_collect_ready(a, pReq, nReq, &bReady);
    if (rc == PA_OK && !bReady) {
        /* reports of the batch are still being aggregated: look again soon */
        free(pReq);
        pOut->eOutcome = PA_COLLECTION_WAITING;
        return job_update(a, aId, "pending", 0, NULL, 0, tNow + 1);
    }
    if (rc == PA_OK)
        rc = pa_leader_collect(a, pReq, nReq, xCall, pCtx, &pResp, &nResp);
    free(pReq);
    free(pResp); /* the answer is the collections row, read back when polled */
    pOut->rc = rc;
    snprintf(pOut->zDetail, sizeof pOut->zDetail, "%s", rc == PA_OK ? "" : pa_error_detail());
    if (rc == PA_OK) {
        pOut->eOutcome = PA_COLLECTION_RELEASED;
        return job_update(a, aId, "released", 0, NULL, 1, tNow);
    }
    if (pa_status_is_transient(rc)) {
        int64_t nWait = (int64_t)1 << (nAttempts < 5 ? nAttempts : 5);
        pOut->eOutcome = PA_COLLECTION_RETRYING;
        return job_update(a, aId, "pending", rc, pOut->zDetail, 1,
                          tNow + (nWait < RETRY_MAX_S ? nWait : RETRY_MAX_S));
    }
    pOut->eOutcome = PA_COLLECTION_REFUSED;
    return job_update(a, aId, "failed", rc, pOut->zDetail, 1, tNow);
}
