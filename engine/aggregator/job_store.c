/*
 * Stored answers of job steps, a job's running sums and the settling of
 * reports (see job_store.h); the rows are the store's (pa_store_job_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/job_store.h"
#include "common/ct.h"
#include "common/guard.h"

int pa_job_stored_answer(const pa_aggregator *a, const uint8_t aJobId[16], pa_job_phase ePhase,
                         const uint8_t aReqHash[32], int *pbFound, uint8_t **ppResp, size_t *pnResp)
{
    int bSame;
    PA_GUARD(pa_store_job_answer_get(a->pStore, a->pTask->aTaskId, aJobId, (pa_store_job_step)ePhase, aReqHash,
                                     pbFound, &bSame, ppResp, pnResp));
    if (*pbFound && !bSame)
        return pa_fail(PA_EEXISTS, "job: this job id was used before with other content");
    return PA_OK;
}

int pa_job_store_answer(const pa_aggregator *a, const uint8_t aJobId[16], const char *zPeriod,
                        pa_job_phase ePhase, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp)
{
    return pa_store_job_answer_put(a->pStore, a->pTask->aTaskId, aJobId, zPeriod, (pa_store_job_step)ePhase,
                                   aReqHash, pResp, nResp, pa_agg_now(a));
}

static pa_job_sum *sum_for(const pa_aggregator *a, pa_job_sums *p, const char *zPartition)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->a[i].zPartition, zPartition) == 0)
            return &p->a[i];
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        pa_job_sum *aNew = realloc(p->a, cap * sizeof *aNew);
        if (aNew == NULL)
            return NULL;
        p->a = aNew;
        p->cap = cap;
    }
    pa_job_sum *s = &p->a[p->n];
    memset(s, 0, sizeof *s);
    snprintf(s->zPartition, sizeof s->zPartition, "%s", zPartition);
    s->pAgg = malloc(a->nAggShare);
    if (s->pAgg == NULL)
        return NULL;
    pa_prio3_agg_init(a->pVdaf, s->pAgg);
    p->n++;
    return s;
}

int pa_job_sums_add(const pa_aggregator *a, pa_job_sums *pSums, const char *zPartition,
                    pa_reject_reason eReject, const uint8_t *pOutShare)
{
    if (eReject == PA_REJECT_REPLAY)
        return PA_OK;
    pa_job_sum *s = sum_for(a, pSums, zPartition);
    if (s == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    if (eReject != PA_REJECT_NONE) {
        s->nRejected++;
        return PA_OK;
    }
    s->nAccepted++;
    return pa_prio3_agg_update(a->pVdaf, s->pAgg, pOutShare, a->nOutShare);
}

static int by_partition(const void *pA, const void *pB)
{
    return strcmp(((const pa_job_sum *)pA)->zPartition, ((const pa_job_sum *)pB)->zPartition);
}

/* The stored aggregate of each partition of a job's sums, from one locking
 * read of their batches. */
typedef struct {
    const pa_aggregator *a;
    const pa_job_sums *pSums;
    uint8_t *pStored;          /* pSums->n aggregate shares (secret) */
    uint8_t *abHave;
} stored_sums;

static int stored_row(void *pCtx, const pa_store_batch_row *r)
{
    stored_sums *c = pCtx;
    size_t nAgg = c->a->nAggShare;
    for (size_t i = 0; i < c->pSums->n; i++) {
        if (strcmp(c->pSums->a[i].zPartition, r->zPartition) != 0)
            continue;
        if (r->nAggregate != nAgg)
            return pa_fail(PA_ESTORE, "batches: the aggregate of %s has %zu bytes, not %zu", r->zPartition,
                           r->nAggregate, nAgg);
        memcpy(c->pStored + i * nAgg, r->pAggregate, nAgg);
        c->abHave[i] = 1;
    }
    return PA_OK;
}

/* Each batch the job touches += its sum: one read of the job's batches (which
 * locks them, in partition order: pa_store_batch_get_many) and one write, not
 * two statements per partition.  The sums are sorted by partition (byte
 * order) for that read. */
int pa_job_sums_commit(const pa_aggregator *a, pa_job_sums *pSums, const char *zPeriod)
{
    size_t n = pSums->n, nAgg = a->nAggShare;
    if (n == 0)
        return PA_OK;
    if (n > 1)
        qsort(pSums->a, n, sizeof *pSums->a, by_partition);
    const char **azPartition = calloc(n, sizeof *azPartition);
    stored_sums c = {a, pSums, malloc(n * nAgg), calloc(n, 1)};
    uint8_t *pSum = malloc(n * nAgg);
    pa_store_batch_row *aRow = calloc(n, sizeof *aRow);
    int rc = PA_OK;

    if (c.pStored == NULL || c.abHave == NULL || pSum == NULL || aRow == NULL || azPartition == NULL)
        rc = pa_fail(PA_ENOMEM, "batch: out of memory");
    for (size_t i = 0; rc == PA_OK && i < n; i++)
        azPartition[i] = pSums->a[i].zPartition;
    if (rc == PA_OK)
        rc = pa_store_batch_get_many(a->pStore, a->pTask->aTaskId, zPeriod, azPartition, n, stored_row, &c);
    for (size_t i = 0; rc == PA_OK && i < n; i++) {
        const pa_job_sum *s = &pSums->a[i];
        if (!c.abHave[i])
            pa_prio3_agg_init(a->pVdaf, c.pStored + i * nAgg);
        const uint8_t *apIn[2] = {c.pStored + i * nAgg, s->pAgg};
        size_t anLen[2] = {nAgg, nAgg};
        rc = pa_prio3_merge(a->pVdaf, apIn, anLen, 2, pSum + i * nAgg);
        aRow[i].zPartition = s->zPartition;
        aRow[i].pAggregate = pSum + i * nAgg;
        aRow[i].nAggregate = nAgg;
        aRow[i].nReport = s->nAccepted;
        aRow[i].nRejected = s->nRejected;
    }
    if (rc == PA_OK)
        rc = pa_store_batch_put_many(a->pStore, a->pTask->aTaskId, zPeriod, aRow, n);
    if (c.pStored)
        pa_wipe(c.pStored, n * nAgg);
    if (pSum)
        pa_wipe(pSum, n * nAgg);
    free(c.pStored);
    free(c.abHave);
    free(pSum);
    free(aRow);
    free(azPartition);
    return rc;
}

void pa_job_sums_free(const pa_aggregator *a, pa_job_sums *pSums)
{
    for (size_t i = 0; i < pSums->n; i++) {
        if (pSums->a[i].pAgg)
            pa_wipe(pSums->a[i].pAgg, a->nAggShare);
        free(pSums->a[i].pAgg);
    }
    free(pSums->a);
    memset(pSums, 0, sizeof *pSums);
}
