/*
 * Retention: deleting the per-report state of batches released long ago, in
 * small transactions (include/privagg/retention.h).  A batch (period,
 * partition) is retired once its own release and its period's statewide
 * release are both older than the configured age: nothing can be added to it
 * any more (both aggregators refuse a report of a released batch from the
 * `collections` table, which is kept), and no release still needs its rows
 * (its distinct-agency count matters only until both releases exist).
 */
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/retention.h"
#include "store/internal.h"

/* The reports of retired batches, at most ?3 at a time.  Driven by
 * `collections` (few rows) and the reports_by_period index (task, period, state). */
#define RETIRED_REPORTS                                                                   \
    "SELECT r.id FROM collections c"                                                      \
    " JOIN collections s ON s.task_id = c.task_id AND s.period = c.period"               \
    "   AND s.partition = 'state'"                                                        \
    " JOIN reports r ON r.task_id = c.task_id AND r.period = c.period"                   \
    "   AND r.state IN ('accepted','rejected','replaced') AND r.partition = c.partition" \
    " WHERE c.task_id = ?1 AND c.partition != 'state'"                                    \
    "   AND c.created_at <= ?2 AND s.created_at <= ?2"                                    \
    " LIMIT ?3"

static int prepare(sqlite3 *pDb, const char *zSql, sqlite3_stmt **ppStmt)
{
    if (sqlite3_prepare_v2(pDb, zSql, -1, ppStmt, NULL) != SQLITE_OK)
        return pa_fail(PA_ESTORE, "retention: %s", sqlite3_errmsg(pDb));
    return PA_OK;
}

/* Run one statement with ?1 the task, ?2 the cutoff, ?3 the limit (those of
 * them it uses); *pn rows changed. */
static int run(sqlite3 *pDb, const char *zSql, const uint8_t aTaskId[32], int64_t tCutoff,
               int64_t nLimit, uint64_t *pn)
{
    sqlite3_stmt *s;
    PA_GUARD(prepare(pDb, zSql, &s));
    int nParam = sqlite3_bind_parameter_count(s);
    if (nParam >= 1)
        sqlite3_bind_blob(s, 1, aTaskId, 32, SQLITE_STATIC);
    if (nParam >= 2)
        sqlite3_bind_int64(s, 2, tCutoff);
    if (nParam >= 3)
        sqlite3_bind_int64(s, 3, nLimit);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return pa_fail(PA_ESTORE, "retention: %s", sqlite3_errmsg(pDb));
    *pn = (uint64_t)sqlite3_changes(pDb);
    return PA_OK;
}

/* One transaction: up to nChunk reports of retired batches, with their data. */
static int retire_reports(pa_store *pStore, const uint8_t aTaskId[32], int64_t tCutoff, size_t nChunk,
                          pa_retention_result *pRes, int *pbMore)
{
    sqlite3 *pDb = pa_store_sqlite(pStore);
    uint64_t nData = 0, nRep = 0;
    int rc;

    /* the ids first, in a temporary table: both DELETEs take exactly these */
    PA_GUARD(pa_store_begin(pStore));
    rc = pa_store_exec(pStore, "CREATE TEMP TABLE IF NOT EXISTS retire_ids(id INTEGER PRIMARY KEY);"
                               "DELETE FROM temp.retire_ids;");
    if (rc == PA_OK)
        rc = run(pDb, "INSERT INTO temp.retire_ids(id) " RETIRED_REPORTS, aTaskId, tCutoff,
                          (int64_t)nChunk, &nRep);
    if (rc == PA_OK && nRep > 0)
        rc = run(pDb, "DELETE FROM report_data WHERE report IN (SELECT id FROM temp.retire_ids)",
                          aTaskId, tCutoff, 0, &nData);
    if (rc == PA_OK && nRep > 0)
        rc = run(pDb, "DELETE FROM reports WHERE id IN (SELECT id FROM temp.retire_ids)",
                          aTaskId, tCutoff, 0, &nRep);
    if (rc == PA_OK)
        rc = pa_store_exec(pStore, "DELETE FROM temp.retire_ids;");
    if (rc != PA_OK) {
        pa_store_rollback(pStore);
        return rc;
    }
    PA_GUARD(pa_store_commit(pStore));
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
    uint64_t n = 0;
    int rc;

    PA_GUARD(pa_store_begin(pStore));
    rc = run(pa_store_sqlite(pStore),
                      "DELETE FROM jobs WHERE rowid IN (SELECT j.rowid FROM jobs j"
                      " JOIN collections s ON s.task_id = j.task_id AND s.period = j.period"
                      "   AND s.partition = 'state'"
                      " WHERE j.task_id = ?1 AND j.state = 'finished' AND s.created_at <= ?2"
                      "   AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.task_id = j.task_id"
                      "     AND r.job_id = j.job_id)"
                      " LIMIT ?3)",
                      aTaskId, tCutoff, (int64_t)nChunk, &n);
    if (rc != PA_OK) {
        pa_store_rollback(pStore);
        return rc;
    }
    PA_GUARD(pa_store_commit(pStore));
    pRes->nJobs += n;
    pRes->nTxn++;
    *pbMore = n == (uint64_t)nChunk;
    return PA_OK;
}

int pa_sqlite_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds,
                    size_t nChunk, pa_retention_result *pOut)
{
    pa_retention_result res;
    int bMore = 1;

    memset(&res, 0, sizeof res);
    if (pOut)
        *pOut = res;
    if (nAgeSeconds < 0)
        return pa_fail(PA_EINVAL, "retention: age %lld s is negative", (long long)nAgeSeconds);
    if (nChunk == 0)
        nChunk = PA_RETENTION_CHUNK;
    int64_t tCutoff = tNow - nAgeSeconds;
    int rc = PA_OK;
    while (rc == PA_OK && bMore)
        rc = retire_reports(pStore, aTaskId, tCutoff, nChunk, &res, &bMore);
    bMore = 1;
    while (rc == PA_OK && bMore)
        rc = retire_jobs(pStore, aTaskId, tCutoff, nChunk, &res, &bMore);
    if (pOut)
        *pOut = res; /* what was deleted, also when a later chunk failed */
    return rc;
}
