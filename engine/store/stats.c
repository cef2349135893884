/*
 * Store statistics (include/privagg/retention.h): sizes, rows by state, the
 * oldest batch not yet released, the noise pool and the ledger's count and head
 * — what `privagg store stats` prints and what the /metrics gauges show.  Each
 * figure is one read statement; a table that does not exist counts 0, so the
 * same code reads a store of any schema version.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/retention.h"
#include "store/internal.h"

/* The first column of the first row of zSql as an integer (0 with no row or
 * when a table is missing); other errors are PA_ESTORE. */
static int scalar(sqlite3 *pDb, const char *zSql, int64_t *pn)
{
    sqlite3_stmt *s;
    *pn = 0;
    int rc = sqlite3_prepare_v2(pDb, zSql, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        /* a table of a newer schema than this store's, or no ledger yet */
        if (strstr(sqlite3_errmsg(pDb), "no such table") != NULL)
            return PA_OK;
        return pa_fail(PA_ESTORE, "store stats: %s", sqlite3_errmsg(pDb));
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *pn = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? PA_OK
                                                 : pa_fail(PA_ESTORE, "store stats: %s", sqlite3_errmsg(pDb));
}

static int oldest_unreleased(sqlite3 *pDb, pa_store_stats *st)
{
    sqlite3_stmt *s;
    /* a batch of reports that counts (not replaced) with no release of its own */
    static const char zSql[] =
        "SELECT r.period, r.partition, count(*), min(r.received_at) FROM reports r"
        " WHERE r.state != 'replaced' AND NOT EXISTS (SELECT 1 FROM collections c"
        "   WHERE c.task_id = r.task_id AND c.period = r.period AND c.partition = r.partition)"
        " GROUP BY r.task_id, r.period, r.partition ORDER BY r.period, r.partition";
    if (sqlite3_prepare_v2(pDb, zSql, -1, &s, NULL) != SQLITE_OK)
        return strstr(sqlite3_errmsg(pDb), "no such table") ? PA_OK
                                                            : pa_fail(PA_ESTORE, "store stats: %s", sqlite3_errmsg(pDb));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!st->bHaveOldest) {
            st->bHaveOldest = 1;
            snprintf(st->zOldestPeriod, sizeof st->zOldestPeriod, "%s", (const char *)sqlite3_column_text(s, 0));
            snprintf(st->zOldestPartition, sizeof st->zOldestPartition, "%s",
                     (const char *)sqlite3_column_text(s, 1));
            st->nOldestReports = sqlite3_column_int64(s, 2);
            st->tOldestReceived = sqlite3_column_int64(s, 3);
        }
        st->nUnreleasedBatches++;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? PA_OK : pa_fail(PA_ESTORE, "store stats: %s", sqlite3_errmsg(pDb));
}

static int ledger_head(sqlite3 *pDb, pa_store_stats *st)
{
    sqlite3_stmt *s;
    memset(st->aLedgerHead, 0, sizeof st->aLedgerHead);
    PA_GUARD(scalar(pDb, "SELECT count(*) FROM dp_ledger", &st->nLedger));
    if (st->nLedger == 0)
        return PA_OK;
    if (sqlite3_prepare_v2(pDb, "SELECT hash FROM dp_ledger ORDER BY seq DESC LIMIT 1", -1, &s, NULL) != SQLITE_OK)
        return pa_fail(PA_ESTORE, "store stats: %s", sqlite3_errmsg(pDb));
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
        memcpy(st->aLedgerHead, sqlite3_column_blob(s, 0), 32);
    sqlite3_finalize(s);
    return PA_OK;
}

int pa_sqlite_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *st)
{
    sqlite3 *pDb = pa_store_sqlite(pStore);
    static const struct {
        const char *zSql;
        size_t iOff;
    } aCount[] = {
#define COUNT(sql, field) {sql, offsetof(pa_store_stats, field)}
        COUNT("PRAGMA page_size", nPageSize),
        COUNT("PRAGMA page_count", nPages),
        COUNT("PRAGMA freelist_count", nFreePages),
        COUNT("SELECT count(*) FROM reports WHERE state = 'pending'", nPending),
        COUNT("SELECT count(*) FROM reports WHERE state = 'aggregating'", nAggregating),
        COUNT("SELECT count(*) FROM reports WHERE state = 'accepted'", nAccepted),
        COUNT("SELECT count(*) FROM reports WHERE state = 'rejected'", nRejected),
        COUNT("SELECT count(*) FROM reports WHERE state = 'replaced'", nReplaced),
        COUNT("SELECT count(*) FROM report_data", nReportData),
        COUNT("SELECT count(*) FROM jobs WHERE state != 'finished'", nJobsActive),
        COUNT("SELECT count(*) FROM jobs WHERE state = 'finished'", nJobsFinished),
        COUNT("SELECT count(*) FROM batches", nBatches),
        COUNT("SELECT count(*) FROM batch_noise", nBatchNoise),
        COUNT("SELECT count(*) FROM collections", nCollections),
        COUNT("SELECT count(*) FROM collection_jobs WHERE state = 'pending'", nCollJobsPending),
        COUNT("SELECT count(*) FROM collection_jobs WHERE state = 'released'", nCollJobsReleased),
        COUNT("SELECT count(*) FROM collection_jobs WHERE state = 'failed'", nCollJobsFailed),
        COUNT("SELECT count(*) FROM noise_pool", nNoisePool),
#undef COUNT
    };
    struct stat sb;
    char zWal[4200];
    int64_t nVersion = 0;

    memset(st, 0, sizeof *st);
    PA_GUARD(scalar(pDb, "PRAGMA user_version", &nVersion));
    st->iSchema = (int)nVersion;
    for (size_t i = 0; i < sizeof aCount / sizeof aCount[0]; i++)
        PA_GUARD(scalar(pDb, aCount[i].zSql, (int64_t *)((char *)st + aCount[i].iOff)));
    PA_GUARD(oldest_unreleased(pDb, st));
    PA_GUARD(ledger_head(pDb, st));
    if (zPath != NULL && stat(zPath, &sb) == 0)
        st->nFileBytes = (int64_t)sb.st_size;
    if (zPath != NULL && (size_t)snprintf(zWal, sizeof zWal, "%s-wal", zPath) < sizeof zWal &&
        stat(zWal, &sb) == 0)
        st->nWalBytes = (int64_t)sb.st_size;
    return PA_OK;
}

/* Every batch of the task with its state (include/privagg/retention.h): the
 * batches that have reports, an aggregate or a release, a statewide release
 * included ("state").  Reports replaced by a correction do not count. */
int pa_sqlite_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx)
{
    sqlite3 *pDb = pa_store_sqlite(pStore);
    sqlite3_stmt *s;
    static const char zSql[] =
        "WITH b(period, partition) AS ("
        "  SELECT period, partition FROM batches WHERE task_id = ?1"
        "  UNION SELECT period, partition FROM reports WHERE task_id = ?1 AND state != 'replaced'"
        "  UNION SELECT period, partition FROM collections WHERE task_id = ?1)"
        " SELECT b.period, b.partition,"
        "  (SELECT count(*) FROM reports r WHERE r.task_id = ?1 AND r.period = b.period"
        "     AND r.partition = b.partition AND r.state IN ('pending', 'aggregating')),"
        "  EXISTS (SELECT 1 FROM collections c WHERE c.task_id = ?1 AND c.period = b.period"
        "     AND c.partition = b.partition),"
        "  coalesce((SELECT report_count FROM batches a WHERE a.task_id = ?1 AND a.period = b.period"
        "     AND a.partition = b.partition), 0)"
        " FROM b ORDER BY b.period, b.partition";
    int rc;

    if (sqlite3_prepare_v2(pDb, zSql, -1, &s, NULL) != SQLITE_OK)
        return strstr(sqlite3_errmsg(pDb), "no such table") ? PA_OK
                                                            : pa_fail(PA_ESTORE, "store batches: %s", sqlite3_errmsg(pDb));
    sqlite3_bind_blob(s, 1, aTaskId, 32, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        pa_store_batch_info b;
        memset(&b, 0, sizeof b);
        snprintf(b.zPeriod, sizeof b.zPeriod, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(b.zPartition, sizeof b.zPartition, "%s", (const char *)sqlite3_column_text(s, 1));
        b.nWaiting = sqlite3_column_int64(s, 2);
        b.nAggregated = sqlite3_column_int64(s, 4);
        b.eState = sqlite3_column_int(s, 3) ? PA_BATCH_RELEASED
                   : b.nWaiting > 0         ? PA_BATCH_OPEN
                                            : PA_BATCH_AGGREGATED;
        int rcCb = xBatch(pCtx, &b);
        if (rcCb != 0) {
            sqlite3_finalize(s);
            return rcCb;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? PA_OK : pa_fail(PA_ESTORE, "store batches: %s", sqlite3_errmsg(pDb));
}
