/*
 * Batches, the noise pool and each batch's release noise in the SQLite store
 * (include/privagg/store.h).  The arithmetic on shares (merging, adding the
 * noise) is the aggregator's; this file only moves the bytes.
 */
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

static int is_state(const char *zPartition)
{
    return strcmp(zPartition, "state") == 0;
}

/* A blob column of exactly n bytes into pOut. */
static int fixed_blob(pa_store *pStore, sqlite3_stmt *s, int iCol, uint8_t *pOut, size_t n,
                      const char *zWhat)
{
    (void)pStore;
    if ((size_t)sqlite3_column_bytes(s, iCol) != n)
        return pa_fail(PA_ESTORE, "store: %s: stored value has %d bytes, expected %zu", zWhat,
                       sqlite3_column_bytes(s, iCol), n);
    memcpy(pOut, sqlite3_column_blob(s, iCol), n);
    return PA_OK;
}

/* The one blob of batch (period, partition) that zSql (a literal: the statement
 * cache is keyed by its address) selects from zTable, exactly n bytes. */
static int batch_blob_get(pa_store *pStore, const char *zSql, const char *zTable, const uint8_t aTaskId[32],
                          const char *zPeriod, const char *zPartition, uint8_t *pOut, size_t n, int *pbFound)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src;

    PA_GUARD(pa_store_stmt(pStore, &s, zSql));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    src = sqlite3_step(s);
    *pbFound = src == SQLITE_ROW;
    if (src == SQLITE_ROW)
        rc = fixed_blob(pStore, s, 0, pOut, n, zTable);
    else if (src != SQLITE_DONE)
        rc = pa_store_fail(pStore, zTable);
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound)
{
    return batch_blob_get(pStore, "SELECT aggregate FROM batches WHERE task_id = ?1 AND period = ?2"
                                  " AND partition = ?3", "batches", aTaskId, zPeriod, zPartition, pAgg, nAgg,
                          pbFound);
}

int pa_sqlite_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport,
                       uint64_t nRejected)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s,
                           "INSERT INTO batches(task_id, period, partition, aggregate, report_count,"
                           " rejected_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                           " ON CONFLICT(task_id, period, partition) DO UPDATE SET"
                           " aggregate = excluded.aggregate,"
                           " report_count = report_count + excluded.report_count,"
                           " rejected_count = rejected_count + excluded.rejected_count"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    PA_BIND_BLOB(s, 4, pAgg, nAgg);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)nReport);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)nRejected);
    return pa_store_stmt_done(pStore, s, "batches");
}

int pa_sqlite_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const pa_store_batch_row *aRow, size_t n)
{
    for (size_t i = 0; i < n; i++)
        PA_GUARD(pa_sqlite_batch_put(pStore, aTaskId, zPeriod, aRow[i].zPartition, aRow[i].pAggregate,
                                     aRow[i].nAggregate, aRow[i].nReport, aRow[i].nRejected));
    return PA_OK;
}

int pa_sqlite_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                        const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow),
                        void *pCtx)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT aggregate, report_count, rejected_count, partition FROM batches"
                                       " WHERE task_id = ?1 AND period = ?2 AND (?3 OR partition = ?4)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    sqlite3_bind_int(s, 3, is_state(zPartition));
    PA_BIND_TEXT(s, 4, zPartition);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        pa_store_batch_row r;
        r.pAggregate = sqlite3_column_blob(s, 0);
        r.nAggregate = (size_t)sqlite3_column_bytes(s, 0);
        r.nReport = (uint64_t)sqlite3_column_int64(s, 1);
        r.nRejected = (uint64_t)sqlite3_column_int64(s, 2);
        r.zPartition = pa_store_col_text(s, 3);
        rc = xRow(pCtx, &r);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "batches");
    pa_store_stmt_put(pStore, s);
    return rc;
}

/* Writers take turns (BEGIN IMMEDIATE): a plain read of each partition. */
int pa_sqlite_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *const *azPartition, size_t n,
                             int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    for (size_t i = 0; i < n; i++)
        PA_GUARD(pa_sqlite_batch_each(pStore, aTaskId, zPeriod, azPartition[i], xRow, pCtx));
    return PA_OK;
}

int pa_sqlite_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                          const char *zPartition)
{
    sqlite3_stmt *s;

    /* the released batch's noise: its sealed answer holds the noised share */
    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                       " AND partition = ?3"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    PA_GUARD(pa_store_stmt_done(pStore, s, "batch_noise"));
    /* a partition's exact sum is still needed by its statewide batch until that
     * is released too: delete each partition's sum once both are released */
    PA_GUARD(pa_store_stmt(pStore, &s,
                           "DELETE FROM batches WHERE task_id = ?1 AND period = ?2"
                           " AND (?3 OR partition = ?4)"
                           " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = ?1"
                           "   AND c.period = ?2 AND c.partition = 'state')"
                           " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = ?1"
                           "   AND c.period = ?2 AND c.partition = batches.partition)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    sqlite3_bind_int(s, 3, is_state(zPartition));
    PA_BIND_TEXT(s, 4, zPartition);
    return pa_store_stmt_done(pStore, s, "batches");
}

/* ---- noise ---------------------------------------------------------------- */

int pa_sqlite_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT count(*) FROM noise_pool WHERE task_id = ?1 AND level = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int(s, 2, iLevel);
    src = sqlite3_step(s);
    *pn = src == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    src = src == SQLITE_ROW ? PA_OK : pa_store_fail(pStore, "noise_pool");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel,
                            const uint8_t *pNoise, size_t nNoise)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO noise_pool(task_id, level, noise) VALUES (?1, ?2, ?3)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int(s, 2, iLevel);
    PA_BIND_BLOB(s, 3, pNoise, nNoise);
    return pa_store_stmt_done(pStore, s, "noise_pool");
}

int pa_sqlite_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                              const char *zPartition, int iLevel, int *pbEmpty)
{
    sqlite3_stmt *s;
    int bHave;
    int64_t id = 0;

    *pbEmpty = 0;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT 1 FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                       " AND partition = ?3"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    bHave = sqlite3_step(s) == SQLITE_ROW;
    pa_store_stmt_put(pStore, s);
    if (bHave)
        return PA_OK;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT id FROM noise_pool WHERE task_id = ?1 AND level = ?2"
                                       " ORDER BY id LIMIT 1"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int(s, 2, iLevel);
    bHave = sqlite3_step(s) == SQLITE_ROW;
    if (bHave)
        id = sqlite3_column_int64(s, 0);
    pa_store_stmt_put(pStore, s);
    if (!bHave) {
        *pbEmpty = 1;
        return PA_OK;
    }
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO batch_noise(task_id, period, partition, noise)"
                                       " SELECT task_id, ?2, ?3, noise FROM noise_pool WHERE id = ?4"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    sqlite3_bind_int64(s, 4, id);
    PA_GUARD(pa_store_stmt_done(pStore, s, "batch_noise"));
    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM noise_pool WHERE id = ?1"));
    sqlite3_bind_int64(s, 1, id);
    return pa_store_stmt_done(pStore, s, "noise_pool");
}

int pa_sqlite_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound)
{
    return batch_blob_get(pStore, "SELECT noise FROM batch_noise WHERE task_id = ?1 AND period = ?2"
                                  " AND partition = ?3", "batch_noise", aTaskId, zPeriod, zPartition, pNoise,
                          nNoise, pbFound);
}
