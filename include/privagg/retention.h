/*
 * privagg retention and store statistics — what an operator needs to keep an
 * aggregator's store small for years, and to see what it holds.
 *
 * Retention deletes the per-report state of batches released long enough ago:
 * the rows of `reports` and `report_data` of a batch (period, partition) once
 * BOTH that partition and the period's statewide batch were released (the
 * statewide release needs every partition's distinct-agency count, which is
 * read from `reports`, and a partition can be released after the statewide
 * batch), and the `jobs` of a period once no report refers to them.  It keeps
 * `batches` (deleted at release), `collections` (the release check and the
 * stored answers), `collection_jobs` and `dp_ledger`.
 *
 * Guarantee (docs/operations.md, "Retention"): a late or replayed report of a
 * released batch is refused whether or not its rows were deleted, because both
 * aggregators refuse any report of a released batch from `collections`
 * (pa_agg_batch_collected), and a report's period and partition are under the
 * agency's signature, so a replay cannot move into another batch.  Replay
 * detection by report id is therefore needed only while a batch is open, and
 * retention never touches an open batch.
 */
#ifndef PRIVAGG_RETENTION_H
#define PRIVAGG_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/store.h"

/* Rows deleted by one call of pa_store_retire (summed over its transactions). */
typedef struct {
    uint64_t nReports;      /* reports rows (report_data rows go with them) */
    uint64_t nReportData;
    uint64_t nJobs;
    uint64_t nTxn;          /* transactions committed */
} pa_retention_result;

#define PA_RETENTION_CHUNK 256 /* reports per transaction by default */

/*
 * Delete the per-report rows of every batch of the task whose own release and
 * whose period's statewide release are both at least nAgeSeconds old at tNow
 * (unix seconds; collections.created_at), and the finished jobs that no report
 * refers to any more of periods whose statewide release is that old.  Reports
 * still pending or being aggregated are never deleted.  Works in transactions
 * of at most nChunk reports (0: PA_RETENTION_CHUNK), so that uploads and jobs
 * on other connections wait at most one chunk; MUST be called with no
 * transaction open on pStore.  pOut (may be NULL) receives the counts.
 * Errors: PA_ESTORE (the chunk in progress is rolled back; earlier chunks stay
 * deleted, and the next call goes on from there), PA_EINVAL (nAgeSeconds < 0).
 */
int pa_store_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds,
                    size_t nChunk, pa_retention_result *pOut);

/* Counts and sizes of one store, for `privagg store stats` and /metrics. */
typedef struct {
    int iSchema;                    /* PRAGMA user_version */
    int64_t nPageSize, nPages, nFreePages;
    int64_t nFileBytes, nWalBytes;  /* the database and its -wal file (0 if absent) */
    /* reports by state */
    int64_t nPending, nAggregating, nAccepted, nRejected, nReplaced;
    int64_t nReportData;
    int64_t nJobsActive, nJobsFinished;   /* jobs: started/continued, finished */
    int64_t nBatches, nBatchNoise, nCollections;
    int64_t nCollJobsPending, nCollJobsReleased, nCollJobsFailed;
    int64_t nNoisePool;
    /* batches with stored reports that have not been released on their own */
    int64_t nUnreleasedBatches;
    int bHaveOldest;                /* the oldest of them: smallest period, then partition */
    char zOldestPeriod[16], zOldestPartition[72];
    int64_t nOldestReports;         /* its reports (not replaced) */
    int64_t tOldestReceived;        /* its oldest report's arrival (unix seconds) */
    int64_t nLedger;                /* dp_ledger entries, and the last one's hash */
    uint8_t aLedgerHead[32];
} pa_store_stats;

/*
 * Read the statistics of the open store pStore (any connection, read-only is
 * enough; no transaction needed: each figure is one statement).  zPath, when
 * not NULL, is the database file's path, for the -wal file's size.  A table
 * that is missing (a store of an older schema, no ledger yet) counts 0.
 * Errors: PA_ESTORE.
 */
int pa_store_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *pStats);

/* A batch (period, partition) of a task and its state, for `privagg status` and
 * the batch gauges of /metrics:
 *   open        reports wait to be aggregated (pending or in a job)
 *   aggregated  every report is aggregated, no release yet
 *   released    released (a collection exists); its reports may since have been
 *               deleted by retention
 * A statewide batch (partition "state") has no reports of its own: it is
 * listed only once released. */
typedef enum { PA_BATCH_OPEN = 0, PA_BATCH_AGGREGATED = 1, PA_BATCH_RELEASED = 2 } pa_batch_state;
typedef struct {
    char zPeriod[16];
    char zPartition[72];
    pa_batch_state eState;
    int64_t nWaiting;               /* reports pending or being aggregated */
    int64_t nAggregated;            /* reports summed into the batch's aggregate */
} pa_store_batch_info;
typedef int (*pa_store_batch_fn)(void *pCtx, const pa_store_batch_info *pBatch);

/*
 * Call xBatch for every batch of the task aTaskId, in (period, partition)
 * order; a non-zero return of xBatch stops the walk and is returned.  Read-only
 * (any connection); a store without the tables walks nothing.  Errors:
 * PA_ESTORE.
 */
int pa_store_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx);

#endif
