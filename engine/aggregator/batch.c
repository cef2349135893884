/*
 * Batches: the aggregate share of each (period, partition), the statewide batch
 * as the sum of a period's partitions, release noise drawn off the request path
 * and stored until the batch is collected, and the collected-batch checks.
 * Callers hold a store transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "common/ct.h"
#include "common/guard.h"

#define STATE_PARTITION "state"

int pa_agg_batch_collected(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                           int *pbCollected)
{
    return pa_store_collected(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, pbCollected);
}

/* The release level of a partition: 0 the statewide batch, 1 a partition. */
static int level_of(const char *zPartition)
{
    return strcmp(zPartition, STATE_PARTITION) == 0 ? 0 : 1;
}

/* Vectors kept drawn ahead per level: the first job of a period takes one for
 * every partition at once (and one statewide), and a backlog of several
 * periods aggregated in a row must not find the pool empty. */
static int64_t pool_target(const pa_aggregator *a, int iLevel)
{
    if (iLevel == 0)
        return 8;
    return 2 * (int64_t)a->nPartition + 8;
}

static int pool_count(const pa_aggregator *a, int iLevel, int64_t *pn)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT count(*) FROM noise_pool WHERE task_id = ?1 AND level = ?2"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_int(s, 2, iLevel);
    int rc = sqlite3_step(s);
    *pn = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    pa_agg_release(a, s);
    return rc == SQLITE_ROW ? PA_OK : pa_fail(PA_ESTORE, "store: noise_pool: %s", sqlite3_errmsg(a->pDb));
}

#define POOL_CHUNK 16 /* vectors drawn, then stored in one transaction (one fsync) */

/* Up to POOL_CHUNK vectors drawn (with no transaction open: a draw takes a
 * variable time) and then stored in the pool in one transaction.  The noise is
 * kept as a field vector (the draws added onto a zero aggregate share), so that
 * applying it at release is one constant-time vector addition (pa_prio3_merge).
 * A sampler failure (PA_ESAMPLE, below 2^-79 per vector) discards the draw:
 * nothing is stored and nothing was released (docs/dp.md). */
static int pool_draw_chunk(pa_aggregator *a, int iLevel, size_t nWant, size_t *pnDrawn)
{
    sqlite3_stmt *s;
    size_t nCells = pa_prio3_output_len(a->pVdaf), nVec = 0;
    uint8_t *pVec = malloc(POOL_CHUNK * a->nAggShare);
    int rc = PA_OK;

    *pnDrawn = 0;
    if (pVec == NULL)
        return pa_fail(PA_ENOMEM, "noise: out of memory");
    if (nWant > POOL_CHUNK)
        nWant = POOL_CHUNK;
    for (; nVec < nWant && rc == PA_OK; nVec++) {
        pa_dp_noise *pNoise = NULL;
        uint8_t *p = pVec + nVec * a->nAggShare;
        pa_prio3_agg_init(a->pVdaf, p);
        rc = pa_dp_noise_draw_vartime(a->pRng, &a->aMech[iLevel], nCells, &pNoise);
        if (rc == PA_OK)
            rc = a->bField128 ? pa_dp_noise_add_f128(pNoise, p, nCells) : pa_dp_noise_add_f64(pNoise, p, nCells);
        pa_dp_noise_free(pNoise);
    }
    if (rc == PA_OK)
        rc = pa_store_begin(a->pStore);
    if (rc == PA_OK) {
        for (size_t i = 0; i < nVec && rc == PA_OK; i++) {
            rc = pa_agg_prepare(a, &s, "INSERT INTO noise_pool(task_id, level, noise) VALUES (?1, ?2, ?3)");
            if (rc == PA_OK) {
                pa_agg_bind_task(a, s, 1);
                sqlite3_bind_int(s, 2, iLevel);
                sqlite3_bind_blob(s, 3, pVec + i * a->nAggShare, (int)a->nAggShare, SQLITE_STATIC);
                rc = pa_agg_step_done(a, s, "noise_pool");
            }
        }
        rc = pa_agg_end_txn(a, rc, NULL);
    }
    if (rc == PA_OK)
        *pnDrawn = nVec;
    pa_wipe(pVec, POOL_CHUNK * a->nAggShare);
    free(pVec);
    return rc;
}

int pa_aggregator_fill_noise_pool(pa_aggregator *a, size_t *pnDrawn)
{
    size_t nDrawn = 0;
    int rc = PA_OK;

    if (pnDrawn)
        *pnDrawn = 0;
    if (!a->bNoise)
        return PA_OK;
    for (int iLevel = 0; iLevel < 2 && rc == PA_OK; iLevel++) {
        int64_t n = 0;
        rc = pool_count(a, iLevel, &n);
        while (rc == PA_OK && n < pool_target(a, iLevel)) {
            size_t nChunk = 0;
            rc = pool_draw_chunk(a, iLevel, (size_t)(pool_target(a, iLevel) - n), &nChunk);
            n += (int64_t)nChunk;
            nDrawn += nChunk;
        }
    }
    if (pnDrawn)
        *pnDrawn = nDrawn;
    return rc;
}

/* The release noise of one batch: a vector taken from the pool (a fixed
 * sequence of store operations whatever the noise holds). */
static int noise_one(pa_aggregator *a, const char *zPeriod, const char *zPartition)
{
    sqlite3_stmt *s;
    int rc, bHave, iLevel = level_of(zPartition);
    int64_t id = 0;

    PA_GUARD(pa_agg_prepare(a, &s, "SELECT 1 FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                   " AND partition = ?3"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
    bHave = sqlite3_step(s) == SQLITE_ROW;
    pa_agg_release(a, s);
    if (bHave)
        return PA_OK;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT id FROM noise_pool WHERE task_id = ?1 AND level = ?2"
                                   " ORDER BY id LIMIT 1"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_int(s, 2, iLevel);
    bHave = sqlite3_step(s) == SQLITE_ROW;
    if (bHave)
        id = sqlite3_column_int64(s, 0);
    pa_agg_release(a, s);
    if (!bHave)
        return pa_fail(PA_EBUSY, "noise: the pool of %s noise is empty while batch %s/%s starts; "
                                 "it is refilled in the background: retry",
                       iLevel == 0 ? "statewide" : "partition", zPeriod, zPartition);
    PA_GUARD(pa_agg_prepare(a, &s, "INSERT INTO batch_noise(task_id, period, partition, noise)"
                                   " SELECT task_id, ?2, ?3, noise FROM noise_pool WHERE id = ?4"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, id);
    PA_GUARD(pa_agg_step_done(a, s, "batch_noise"));
    PA_GUARD(pa_agg_prepare(a, &s, "DELETE FROM noise_pool WHERE id = ?1"));
    sqlite3_bind_int64(s, 1, id);
    rc = pa_agg_step_done(a, s, "noise_pool");
    return rc;
}

int pa_agg_ensure_noise(pa_aggregator *a, const char *zPeriod, const char *zPartition)
{
    if (!a->bNoise)
        return PA_OK;
    PA_GUARD(noise_one(a, zPeriod, zPartition));
    return noise_one(a, zPeriod, STATE_PARTITION);
}

int pa_agg_apply_noise(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                       uint8_t *pAggShare)
{
    sqlite3_stmt *s;
    uint8_t *pSum;
    int rc;

    if (!a->bNoise)
        return PA_OK;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT noise FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                   " AND partition = ?3"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        pa_agg_release(a, s);
        return pa_fail(PA_ESTATE, "batch %s/%s: no noise was drawn (no report was aggregated)",
                       zPeriod, zPartition);
    }
    pSum = malloc(a->nAggShare);
    if (pSum == NULL) {
        pa_agg_release(a, s);
        return pa_fail(PA_ENOMEM, "noise: out of memory");
    }
    const uint8_t *apIn[2] = {pAggShare, sqlite3_column_blob(s, 0)};
    size_t anLen[2] = {a->nAggShare, (size_t)sqlite3_column_bytes(s, 0)};
    rc = pa_prio3_merge(a->pVdaf, apIn, anLen, 2, pSum);
    pa_agg_release(a, s);
    if (rc == PA_OK)
        memcpy(pAggShare, pSum, a->nAggShare);
    pa_wipe(pSum, a->nAggShare);
    free(pSum);
    return rc;
}

int pa_agg_batch_merge(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                       const uint8_t *pDelta, uint64_t nReport, uint64_t nRejected)
{
    sqlite3_stmt *s;
    uint8_t *pAgg = malloc(a->nAggShare), *pSum = malloc(a->nAggShare);
    int rc, bHave;

    if (pAgg == NULL || pSum == NULL) {
        free(pAgg);
        free(pSum);
        return pa_fail(PA_ENOMEM, "batch: out of memory");
    }
    rc = pa_agg_prepare(a, &s, "SELECT aggregate FROM batches WHERE task_id = ?1 AND period = ?2"
                               " AND partition = ?3");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
        bHave = sqlite3_step(s) == SQLITE_ROW;
        if (bHave && (size_t)sqlite3_column_bytes(s, 0) == a->nAggShare)
            memcpy(pAgg, sqlite3_column_blob(s, 0), a->nAggShare);
        else if (bHave)
            rc = pa_fail(PA_ESTORE, "batch %s/%s: stored aggregate has the wrong size", zPeriod, zPartition);
        else
            pa_prio3_agg_init(a->pVdaf, pAgg);
        pa_agg_release(a, s);
    }
    if (rc == PA_OK) {
        const uint8_t *apIn[2] = {pAgg, pDelta};
        size_t anLen[2] = {a->nAggShare, a->nAggShare};
        rc = pa_prio3_merge(a->pVdaf, apIn, anLen, 2, pSum);
    }
    if (rc == PA_OK)
        rc = pa_agg_prepare(a, &s,
                            "INSERT INTO batches(task_id, period, partition, aggregate, report_count,"
                            " rejected_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                            " ON CONFLICT(task_id, period, partition) DO UPDATE SET"
                            " aggregate = excluded.aggregate,"
                            " report_count = report_count + excluded.report_count,"
                            " rejected_count = rejected_count + excluded.rejected_count");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 4, pSum, (int)a->nAggShare, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)nReport);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)nRejected);
        rc = pa_agg_step_done(a, s, "batches");
    }
    pa_wipe(pAgg, a->nAggShare);
    pa_wipe(pSum, a->nAggShare);
    free(pAgg);
    free(pSum);
    return rc;
}

int pa_agg_batch_read(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                      uint8_t *pOut, uint64_t *pnReport, uint64_t *pnRejected, uint64_t *pnAgency)
{
    int bState = strcmp(zPartition, STATE_PARTITION) == 0, rc = PA_OK;
    sqlite3_stmt *s;
    uint8_t *pTmp = malloc(a->nAggShare);

    if (pTmp == NULL)
        return pa_fail(PA_ENOMEM, "batch: out of memory");
    *pnReport = *pnRejected = *pnAgency = 0;
    pa_prio3_agg_init(a->pVdaf, pOut);
    rc = pa_agg_prepare(a, &s, "SELECT aggregate, report_count, rejected_count FROM batches"
                               " WHERE task_id = ?1 AND period = ?2 AND (?3 OR partition = ?4)");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, bState);
        sqlite3_bind_text(s, 4, zPartition, -1, SQLITE_STATIC);
        int step;
        while (rc == PA_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
            const uint8_t *apIn[2] = {pOut, sqlite3_column_blob(s, 0)};
            size_t anLen[2] = {a->nAggShare, (size_t)sqlite3_column_bytes(s, 0)};
            rc = pa_prio3_merge(a->pVdaf, apIn, anLen, 2, pTmp);
            if (rc == PA_OK)
                memcpy(pOut, pTmp, a->nAggShare);
            *pnReport += (uint64_t)sqlite3_column_int64(s, 1);
            *pnRejected += (uint64_t)sqlite3_column_int64(s, 2);
        }
        pa_agg_release(a, s);
    }
    pa_wipe(pTmp, a->nAggShare);
    free(pTmp);
    if (rc != PA_OK)
        return rc;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT count(DISTINCT agency_id) FROM reports WHERE task_id = ?1"
                                   " AND period = ?2 AND (?3 OR partition = ?4) AND state = 'accepted'"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, bState);
    sqlite3_bind_text(s, 4, zPartition, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        *pnAgency = (uint64_t)sqlite3_column_int64(s, 0);
    pa_agg_release(a, s);
    return PA_OK;
}

int pa_agg_batch_forget(const pa_aggregator *a, const char *zPeriod, const char *zPartition)
{
    sqlite3_stmt *s;
    int bState = strcmp(zPartition, STATE_PARTITION) == 0;

    /* the released batch's noise: its sealed answer holds the noised share */
    PA_GUARD(pa_agg_prepare(a, &s, "DELETE FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                   " AND partition = ?3"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, zPartition, -1, SQLITE_STATIC);
    PA_GUARD(pa_agg_step_done(a, s, "batch_noise"));
    /* a partition's exact sum is still needed by its statewide batch until that
     * is released too: delete each partition's sum once both are released (the
     * collections row of this release is written in the same transaction) */
    PA_GUARD(pa_agg_prepare(a, &s,
                            "DELETE FROM batches WHERE task_id = ?1 AND period = ?2"
                            " AND (?3 OR partition = ?4)"
                            " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = ?1"
                            "   AND c.period = ?2 AND c.partition = '" STATE_PARTITION "')"
                            " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = ?1"
                            "   AND c.period = ?2 AND c.partition = batches.partition)"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, bState);
    sqlite3_bind_text(s, 4, zPartition, -1, SQLITE_STATIC);
    return pa_agg_step_done(a, s, "batches");
}

int pa_agg_batch_unfinished(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                            uint64_t *pn)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT count(*) FROM reports WHERE task_id = ?1 AND period = ?2"
                                   " AND (?3 OR partition = ?4) AND state IN ('pending','aggregating')"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_text(s, 2, zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, strcmp(zPartition, STATE_PARTITION) == 0);
    sqlite3_bind_text(s, 4, zPartition, -1, SQLITE_STATIC);
    *pn = sqlite3_step(s) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    pa_agg_release(a, s);
    return PA_OK;
}
