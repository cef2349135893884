/*
 * Retention and statistics of the PostgreSQL store (the SQLite backend's
 * retention.c and stats.c; include/privagg/retention.h).  Retention deletes
 * the rows of retired batches in small transactions, each one statement
 * (the ids chosen once, both deletes take exactly those).  Statistics read
 * the same counts; the sizes are the tables' on the server (with their
 * indexes and TOAST), in the server's block size.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "store/pg_internal.h"

/* One transaction: up to nChunk reports of retired batches, with their data. */
static int retire_reports(pa_store *pStore, const uint8_t aTaskId[32], int64_t tCutoff, size_t nChunk,
                          pa_retention_result *pRes, int *pbMore)
{
    pa_pg_params p = {0};
    PGresult *r = NULL;
    uint64_t nRep = 0, nData = 0;
    int rc;

    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, tCutoff);
    pa_pg_p_int(&p, (int64_t)nChunk);
    PA_GUARD(pa_pg_begin(pStore));
    rc = pa_pg_run(pStore,
                   "WITH ids AS (SELECT r.id FROM collections c"
                   "   JOIN collections s ON s.task_id = c.task_id AND s.period = c.period AND s.partition = 'state'"
                   "   JOIN reports r ON r.task_id = c.task_id AND r.period = c.period"
                   "     AND r.state IN ('accepted','rejected','replaced') AND r.partition = c.partition"
                   "   WHERE c.task_id = $1 AND c.partition != 'state'"
                   "     AND c.created_at <= $2 AND s.created_at <= $2 LIMIT $3),"
                   " d AS (DELETE FROM report_data WHERE report IN (SELECT id FROM ids) RETURNING 1),"
                   " x AS (DELETE FROM reports WHERE id IN (SELECT id FROM ids) RETURNING 1)"
                   " SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM d)",
                   &p, &r, "retention");
    if (rc == PA_OK) {
        nRep = (uint64_t)pa_pg_col_int(r, 0, 0);
        nData = (uint64_t)pa_pg_col_int(r, 0, 1);
        PQclear(r);
    }
    if (rc != PA_OK) {
        pa_pg_rollback(pStore);
        return rc;
    }
    PA_GUARD(pa_pg_commit(pStore));
    pRes->nReports += nRep;
    pRes->nReportData += nData;
    pRes->nTxn++;
    *pbMore = nRep == (uint64_t)nChunk;
    return PA_OK;
}

/* One transaction: up to nChunk finished jobs of periods whose statewide
 * release is old enough and to which no report refers any more. */
static int retire_jobs(pa_store *pStore, const uint8_t aTaskId[32], int64_t tCutoff, size_t nChunk,
                       pa_retention_result *pRes, int *pbMore)
{
    pa_pg_params p = {0};
    uint64_t n = 0;
    int rc;

    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, tCutoff);
    pa_pg_p_int(&p, (int64_t)nChunk);
    PA_GUARD(pa_pg_begin(pStore));
    rc = pa_pg_do(pStore,
                  "DELETE FROM jobs WHERE (task_id, job_id) IN (SELECT j.task_id, j.job_id FROM jobs j"
                  " JOIN collections s ON s.task_id = j.task_id AND s.period = j.period AND s.partition = 'state'"
                  " WHERE j.task_id = $1 AND j.state = 'finished' AND s.created_at <= $2"
                  "   AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.task_id = j.task_id AND r.job_id = j.job_id)"
                  " LIMIT $3)",
                  &p, "retention", &n);
    if (rc != PA_OK) {
        pa_pg_rollback(pStore);
        return rc;
    }
    PA_GUARD(pa_pg_commit(pStore));
    pRes->nJobs += n;
    pRes->nTxn++;
    *pbMore = n == (uint64_t)nChunk;
    return PA_OK;
}

int pa_pg_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds, size_t nChunk,
                 pa_retention_result *pOut)
{
    pa_retention_result res;
    int bMore = 1, rc = PA_OK;

    memset(&res, 0, sizeof res);
    if (pOut)
        *pOut = res;
    if (nAgeSeconds < 0)
        return pa_fail(PA_EINVAL, "retention: age %lld s is negative", (long long)nAgeSeconds);
    if (nChunk == 0)
        nChunk = PA_RETENTION_CHUNK;
    int64_t tCutoff = tNow - nAgeSeconds;
    while (rc == PA_OK && bMore)
        rc = retire_reports(pStore, aTaskId, tCutoff, nChunk, &res, &bMore);
    bMore = 1;
    while (rc == PA_OK && bMore)
        rc = retire_jobs(pStore, aTaskId, tCutoff, nChunk, &res, &bMore);
    if (pOut)
        *pOut = res;
    return rc;
}

/* ---- statistics ----------------------------------------------------------- */

/* The first column of zSql's first row (0 with no row).  A missing table
 * counts 0: the same code reads a store of any version. */
static int scalar(pa_store *pStore, const char *zTable, const char *zSql, int64_t *pn)
{
    pa_pg_params p = {0};
    PGresult *r;
    *pn = 0;
    if (zTable != NULL) {
        pa_pg_p_text(&p, zTable);
        PA_GUARD(pa_pg_run(pStore, "SELECT to_regclass($1) IS NOT NULL", &p, &r, "store stats"));
        int bHave = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) != 0;
        PQclear(r);
        if (!bHave)
            return PA_OK;
    }
    PA_GUARD(pa_pg_run(pStore, zSql, NULL, &r, "store stats"));
    if (PQntuples(r) > 0)
        *pn = pa_pg_col_int(r, 0, 0);
    PQclear(r);
    return PA_OK;
}

static int oldest_unreleased(pa_store *pStore, pa_store_stats *st)
{
    PGresult *r;
    int64_t bHave;
    PA_GUARD(scalar(pStore, NULL, "SELECT to_regclass('reports') IS NOT NULL AND to_regclass('collections') IS NOT NULL",
                    &bHave));
    if (!bHave)
        return PA_OK;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT r.period, r.partition, count(*), min(r.received_at) FROM reports r"
                       " WHERE r.state != 'replaced' AND NOT EXISTS (SELECT 1 FROM collections c"
                       "   WHERE c.task_id = r.task_id AND c.period = r.period AND c.partition = r.partition)"
                       " GROUP BY r.task_id, r.period, r.partition"
                       " ORDER BY r.period COLLATE \"C\", r.partition COLLATE \"C\"",
                       NULL, &r, "store stats"));
    st->nUnreleasedBatches = PQntuples(r);
    if (PQntuples(r) > 0) {
        st->bHaveOldest = 1;
        snprintf(st->zOldestPeriod, sizeof st->zOldestPeriod, "%s", pa_pg_col_text(r, 0, 0));
        snprintf(st->zOldestPartition, sizeof st->zOldestPartition, "%s", pa_pg_col_text(r, 0, 1));
        st->nOldestReports = pa_pg_col_int(r, 0, 2);
        st->tOldestReceived = pa_pg_col_int(r, 0, 3);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *st)
{
    static const struct {
        const char *zTable, *zSql;
        size_t iOff;
    } aCount[] = {
#define COUNT(table, sql, field) {table, sql, offsetof(pa_store_stats, field)}
        COUNT(NULL, "SELECT current_setting('block_size')::bigint", nPageSize),
        COUNT("reports", "SELECT count(*) FROM reports WHERE state = 'pending'", nPending),
        COUNT("reports", "SELECT count(*) FROM reports WHERE state = 'aggregating'", nAggregating),
        COUNT("reports", "SELECT count(*) FROM reports WHERE state = 'accepted'", nAccepted),
        COUNT("reports", "SELECT count(*) FROM reports WHERE state = 'rejected'", nRejected),
        COUNT("reports", "SELECT count(*) FROM reports WHERE state = 'replaced'", nReplaced),
        COUNT("report_data", "SELECT count(*) FROM report_data", nReportData),
        COUNT("jobs", "SELECT count(*) FROM jobs WHERE state != 'finished'", nJobsActive),
        COUNT("jobs", "SELECT count(*) FROM jobs WHERE state = 'finished'", nJobsFinished),
        COUNT("batches", "SELECT count(*) FROM batches", nBatches),
        COUNT("batch_noise", "SELECT count(*) FROM batch_noise", nBatchNoise),
        COUNT("collections", "SELECT count(*) FROM collections", nCollections),
        COUNT("collection_jobs", "SELECT count(*) FROM collection_jobs WHERE state = 'pending'", nCollJobsPending),
        COUNT("collection_jobs", "SELECT count(*) FROM collection_jobs WHERE state = 'released'", nCollJobsReleased),
        COUNT("collection_jobs", "SELECT count(*) FROM collection_jobs WHERE state = 'failed'", nCollJobsFailed),
        COUNT("noise_pool", "SELECT count(*) FROM noise_pool", nNoisePool),
        COUNT("dp_ledger", "SELECT count(*) FROM dp_ledger", nLedger),
        /* every table of the store's schema, with indexes and TOAST */
        COUNT(NULL, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relkind = 'r'", nFileBytes),
#undef COUNT
    };
    PGresult *r;
    int64_t nVersion;

    (void)zPath; /* no file: the sizes are the server's */
    memset(st, 0, sizeof *st);
    PA_GUARD(scalar(pStore, "pa_schema_version", "SELECT max(version) FROM pa_schema_version", &nVersion));
    st->iSchema = (int)nVersion;
    for (size_t i = 0; i < sizeof aCount / sizeof aCount[0]; i++)
        PA_GUARD(scalar(pStore, aCount[i].zTable, aCount[i].zSql, (int64_t *)((char *)st + aCount[i].iOff)));
    st->nPages = st->nPageSize > 0 ? st->nFileBytes / st->nPageSize : 0;
    PA_GUARD(oldest_unreleased(pStore, st));
    if (st->nLedger > 0) {
        PA_GUARD(pa_pg_run(pStore, "SELECT hash FROM dp_ledger ORDER BY seq DESC LIMIT 1", NULL, &r, "store stats"));
        size_t n = 0;
        const uint8_t *p = PQntuples(r) == 1 ? pa_pg_col_blob(r, 0, 0, &n) : NULL;
        if (p != NULL && n == 32)
            memcpy(st->aLedgerHead, p, 32);
        PQclear(r);
    }
    return PA_OK;
}

/* Every batch of the task with its state (the SQLite backend's stats.c: the
 * same query; byte order of period and partition whatever the collation). */
int pa_pg_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int64_t bHave;
    int rc = 0;

    PA_GUARD(scalar(pStore, NULL,
                    "SELECT to_regclass('reports') IS NOT NULL AND to_regclass('batches') IS NOT NULL"
                    " AND to_regclass('collections') IS NOT NULL",
                    &bHave));
    if (!bHave)
        return PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    PA_GUARD(pa_pg_run(pStore,
                       "WITH b(period, partition) AS ("
                       "  SELECT period, partition FROM batches WHERE task_id = $1"
                       "  UNION SELECT period, partition FROM reports WHERE task_id = $1 AND state != 'replaced'"
                       "  UNION SELECT period, partition FROM collections WHERE task_id = $1)"
                       " SELECT b.period, b.partition,"
                       "  (SELECT count(*) FROM reports r WHERE r.task_id = $1 AND r.period = b.period"
                       "     AND r.partition = b.partition AND r.state IN ('pending', 'aggregating')),"
                       "  EXISTS (SELECT 1 FROM collections c WHERE c.task_id = $1 AND c.period = b.period"
                       "     AND c.partition = b.partition),"
                       "  coalesce((SELECT report_count FROM batches a WHERE a.task_id = $1 AND a.period = b.period"
                       "     AND a.partition = b.partition), 0)"
                       " FROM b ORDER BY b.period COLLATE \"C\", b.partition COLLATE \"C\"",
                       &p, &r, "store batches"));
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        pa_store_batch_info b;
        memset(&b, 0, sizeof b);
        snprintf(b.zPeriod, sizeof b.zPeriod, "%s", pa_pg_col_text(r, i, 0));
        snprintf(b.zPartition, sizeof b.zPartition, "%s", pa_pg_col_text(r, i, 1));
        b.nWaiting = pa_pg_col_int(r, i, 2);
        b.nAggregated = pa_pg_col_int(r, i, 4);
        b.eState = pa_pg_col_int(r, i, 3) ? PA_BATCH_RELEASED : b.nWaiting > 0 ? PA_BATCH_OPEN : PA_BATCH_AGGREGATED;
        rc = xBatch(pCtx, &b);
    }
    PQclear(r);
    return rc;
}
