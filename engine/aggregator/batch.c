/*
 * Batches: the aggregate share of each (period, partition), the statewide batch
 * as the sum of a period's partitions, release noise drawn off the request path
 * and stored until the batch is collected, and the collected-batch checks:
 * the arithmetic on shares here, their rows in the store (pa_store_batch_*,
 * pa_store_noise_*).  Callers hold a store transaction.
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
    return pa_store_noise_pool_count(a->pStore, a->pTask->aTaskId, iLevel, pn);
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
        for (size_t i = 0; i < nVec && rc == PA_OK; i++)
            rc = pa_store_noise_pool_add(a->pStore, a->pTask->aTaskId, iLevel, pVec + i * a->nAggShare,
                                         a->nAggShare);
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
    int iLevel = level_of(zPartition), bEmpty;

    PA_GUARD(pa_store_batch_noise_take(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, iLevel, &bEmpty));
    if (bEmpty)
        return pa_fail(PA_EBUSY, "noise: the pool of %s noise is empty while batch %s/%s starts; "
                                 "it is refilled in the background: retry",
                       iLevel == 0 ? "statewide" : "partition", zPeriod, zPartition);
    return PA_OK;
}

/* A job takes the statewide batch's noise first, then its partitions' in
 * sorted order: every worker takes the batches' noise rows in one order
 * (engine/store/pg_store.c, lock order). */
int pa_agg_ensure_noise(pa_aggregator *a, const char *zPeriod, const char *zPartition)
{
    if (!a->bNoise)
        return PA_OK;
    return noise_one(a, zPeriod, zPartition);
}

int pa_agg_apply_noise(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                       uint8_t *pAggShare)
{
    uint8_t *pNoise, *pSum;
    int rc, bFound = 0;

    if (!a->bNoise)
        return PA_OK;
    pNoise = malloc(a->nAggShare);
    pSum = malloc(a->nAggShare);
    if (pNoise == NULL || pSum == NULL) {
        free(pNoise);
        free(pSum);
        return pa_fail(PA_ENOMEM, "noise: out of memory");
    }
    rc = pa_store_batch_noise_get(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, pNoise, a->nAggShare,
                                  &bFound);
    if (rc == PA_OK && !bFound)
        rc = pa_fail(PA_ESTATE, "batch %s/%s: no noise was drawn (no report was aggregated)", zPeriod,
                     zPartition);
    if (rc == PA_OK) {
        const uint8_t *apIn[2] = {pAggShare, pNoise};
        size_t anLen[2] = {a->nAggShare, a->nAggShare};
        rc = pa_prio3_merge(a->pVdaf, apIn, anLen, 2, pSum);
    }
    if (rc == PA_OK)
        memcpy(pAggShare, pSum, a->nAggShare);
    pa_wipe(pNoise, a->nAggShare);
    pa_wipe(pSum, a->nAggShare);
    free(pNoise);
    free(pSum);
    return rc;
}

/* Sum the stored partition batches into an aggregate share. */
typedef struct {
    const pa_aggregator *a;
    uint8_t *pOut, *pTmp;
    uint64_t nReport, nRejected;
} batch_sum;

static int sum_row(void *pCtx, const pa_store_batch_row *r)
{
    batch_sum *b = pCtx;
    const uint8_t *apIn[2] = {b->pOut, r->pAggregate};
    size_t anLen[2] = {b->a->nAggShare, r->nAggregate};
    PA_GUARD(pa_prio3_merge(b->a->pVdaf, apIn, anLen, 2, b->pTmp));
    memcpy(b->pOut, b->pTmp, b->a->nAggShare);
    b->nReport += r->nReport;
    b->nRejected += r->nRejected;
    return PA_OK;
}

int pa_agg_batch_read(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                      uint8_t *pOut, uint64_t *pnReport, uint64_t *pnRejected, uint64_t *pnAgency)
{
    batch_sum b = {a, pOut, malloc(a->nAggShare), 0, 0};
    int rc;

    if (b.pTmp == NULL)
        return pa_fail(PA_ENOMEM, "batch: out of memory");
    *pnReport = *pnRejected = *pnAgency = 0;
    pa_prio3_agg_init(a->pVdaf, pOut);
    rc = pa_store_batch_each(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, sum_row, &b);
    pa_wipe(b.pTmp, a->nAggShare);
    free(b.pTmp);
    *pnReport = b.nReport;
    *pnRejected = b.nRejected;
    if (rc != PA_OK)
        return rc;
    return pa_store_reports_agencies(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, pnAgency);
}

int pa_agg_batch_forget(const pa_aggregator *a, const char *zPeriod, const char *zPartition)
{
    return pa_store_batch_forget(a->pStore, a->pTask->aTaskId, zPeriod, zPartition);
}

int pa_agg_batch_unfinished(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                            uint64_t *pn)
{
    return pa_store_reports_unfinished(a->pStore, a->pTask->aTaskId, zPeriod, zPartition, pn);
}
