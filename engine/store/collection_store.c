/*
 * Collections and collection jobs in the SQLite store (include/privagg/store.h):
 * the released answer of each batch (kept for ever: a re-run of a collection
 * gets the same bytes) and the leader's durable queue of collection jobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

/* A malloc'ed copy of a blob column (at least one byte allocated). */
static int copy_blob(sqlite3_stmt *s, int iCol, uint8_t **pp, size_t *pn)
{
    size_t n = (size_t)sqlite3_column_bytes(s, iCol);
    *pp = malloc(n ? n : 1);
    if (*pp == NULL)
        return pa_fail(PA_ENOMEM, "store: out of memory (%zu bytes)", n);
    if (n)
        memcpy(*pp, sqlite3_column_blob(s, iCol), n);
    *pn = n;
    return PA_OK;
}

int pa_sqlite_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const char *zPartition, pa_store_collection *pOut, int *pbFound)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src;

    memset(pOut, 0, sizeof *pOut);
    *pbFound = 0;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT collection_id, response FROM collections WHERE"
                                       " task_id = ?1 AND period = ?2 AND partition = ?3"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    src = sqlite3_step(s);
    if (src == SQLITE_ROW) {
        *pbFound = 1;
        if (sqlite3_column_bytes(s, 0) == 16)
            memcpy(pOut->aCollectionId, sqlite3_column_blob(s, 0), 16);
        rc = copy_blob(s, 1, &pOut->pResponse, &pOut->nResponse);
    } else if (src != SQLITE_DONE) {
        rc = pa_store_fail(pStore, "collections");
    }
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const char *zPartition, const uint8_t aCollectionId[16],
                            const uint8_t *pResponse, size_t nResponse, int64_t tNow)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO collections(task_id, period, partition,"
                                       " collection_id, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    PA_BIND_BLOB(s, 4, aCollectionId, 16);
    PA_BIND_BLOB(s, 5, pResponse, nResponse);
    sqlite3_bind_int64(s, 6, tNow);
    return pa_store_stmt_done(pStore, s, "collections");
}

int pa_sqlite_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, int *pbCollected)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s,
                           "SELECT count(*) FROM collections WHERE task_id = ?1 AND period = ?2"
                           " AND partition IN (?3, 'state')"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    PA_BIND_TEXT(s, 3, zPartition);
    src = sqlite3_step(s);
    *pbCollected = src == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
    src = src == SQLITE_ROW ? PA_OK : pa_store_fail(pStore, "collections");
    pa_store_stmt_put(pStore, s);
    return src;
}

/* ---- collection jobs ------------------------------------------------------ */

static const char *const k_azState[] = {"pending", "released", "failed"};

static pa_store_cjob_state state_of(const char *z)
{
    return strcmp(z, "pending") == 0 ? PA_STORE_CJOB_PENDING
           : strcmp(z, "released") == 0 ? PA_STORE_CJOB_RELEASED
                                        : PA_STORE_CJOB_FAILED;
}

int pa_sqlite_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                         const char *zPeriod, const char *zPartition, const uint8_t *pRequest,
                         size_t nRequest, int64_t tNow)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO collection_jobs(task_id, collection_id, period, partition,"
                                       " request, state, next_at, created_at, updated_at)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?6)"
                                       " ON CONFLICT(task_id, collection_id) DO UPDATE SET"
                                       " state = 'pending', error_code = NULL, error_detail = NULL,"
                                       " attempts = 0, next_at = excluded.next_at, updated_at = excluded.updated_at"
                                       " WHERE state = 'failed'"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aCollectionId, 16);
    PA_BIND_TEXT(s, 3, zPeriod);
    PA_BIND_TEXT(s, 4, zPartition);
    PA_BIND_BLOB(s, 5, pRequest, nRequest);
    sqlite3_bind_int64(s, 6, tNow);
    return pa_store_stmt_done(pStore, s, "collection_jobs");
}

int pa_sqlite_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                      pa_store_cjob *pJob, int *pbFound)
{
    sqlite3_stmt *s;
    int src;

    memset(pJob, 0, sizeof *pJob);
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT state, period, partition, error_code, error_detail, attempts"
                                       " FROM collection_jobs WHERE task_id = ?1 AND collection_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aCollectionId, 16);
    src = sqlite3_step(s);
    *pbFound = src == SQLITE_ROW;
    if (*pbFound) {
        memcpy(pJob->aCollectionId, aCollectionId, 16);
        pJob->eState = state_of(pa_store_col_text(s, 0));
        snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_store_col_text(s, 1));
        snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_store_col_text(s, 2));
        pJob->iErrorCode = sqlite3_column_int(s, 3);
        snprintf(pJob->zErrorDetail, sizeof pJob->zErrorDetail, "%s", pa_store_col_text(s, 4));
        pJob->nAttempts = sqlite3_column_int(s, 5);
    }
    src = src == SQLITE_ROW || src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "collection_jobs");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob,
                      int *pbFound)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src;

    memset(pJob, 0, sizeof *pJob);
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT collection_id, request, attempts, period, partition"
                                       " FROM collection_jobs WHERE task_id = ?1 AND state = 'pending'"
                                       " AND next_at <= ?2 ORDER BY next_at, created_at LIMIT 1"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int64(s, 2, tNow);
    src = sqlite3_step(s);
    *pbFound = src == SQLITE_ROW;
    if (*pbFound) {
        if (sqlite3_column_bytes(s, 0) == 16)
            memcpy(pJob->aCollectionId, sqlite3_column_blob(s, 0), 16);
        pJob->eState = PA_STORE_CJOB_PENDING;
        pJob->nAttempts = sqlite3_column_int(s, 2);
        snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_store_col_text(s, 3));
        snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_store_col_text(s, 4));
        rc = copy_blob(s, 1, &pJob->pRequest, &pJob->nRequest);
    } else if (src != SQLITE_DONE) {
        rc = pa_store_fail(pStore, "collection_jobs");
    }
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                         pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt,
                         int64_t tNext, int64_t tNow)
{
    sqlite3_stmt *s;
    if ((unsigned)eState > PA_STORE_CJOB_FAILED)
        return pa_fail(PA_EINVAL, "collection job: state %d", (int)eState);
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE collection_jobs SET state = ?3, error_code = ?4,"
                                       " error_detail = ?5, attempts = attempts + ?6, next_at = ?7,"
                                       " updated_at = ?8 WHERE task_id = ?1 AND collection_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aCollectionId, 16);
    PA_BIND_TEXT(s, 3, k_azState[eState]);
    if (iCode != 0)
        sqlite3_bind_int(s, 4, iCode);
    else
        sqlite3_bind_null(s, 4);
    if (zDetail != NULL)
        sqlite3_bind_text(s, 5, zDetail, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_int(s, 6, bAttempt != 0);
    sqlite3_bind_int64(s, 7, tNext);
    sqlite3_bind_int64(s, 8, tNow);
    return pa_store_stmt_done(pStore, s, "collection_jobs");
}
