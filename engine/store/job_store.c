/*
 * Aggregation jobs in the SQLite store (include/privagg/store.h): the
 * leader's progress through its jobs and the helper's stored answer of each
 * step with the hash of its request, so that a retried step gets the same
 * bytes back and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

int pa_sqlite_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame,
                            uint8_t **ppResp, size_t *pnResp)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src;

    *pbFound = *pbSame = 0;
    *ppResp = NULL;
    *pnResp = 0;
    PA_GUARD(pa_store_stmt(pStore, &s, eStep == PA_STORE_JOB_INIT
                                           ? "SELECT init_hash, init_resp FROM jobs WHERE task_id = ?1 AND job_id = ?2"
                                           : "SELECT cont_hash, cont_resp FROM jobs WHERE task_id = ?1 AND job_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    src = sqlite3_step(s);
    if (src == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *pbFound = 1;
        *pbSame = sqlite3_column_bytes(s, 0) == 32 && memcmp(sqlite3_column_blob(s, 0), aReqHash, 32) == 0;
        if (*pbSame) {
            size_t n = (size_t)sqlite3_column_bytes(s, 1);
            *ppResp = malloc(n ? n : 1);
            if (*ppResp == NULL) {
                rc = pa_fail(PA_ENOMEM, "job: out of memory");
            } else {
                if (n)
                    memcpy(*ppResp, sqlite3_column_blob(s, 1), n);
                *pnResp = n;
            }
        }
    } else if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = pa_store_fail(pStore, "jobs");
    }
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32],
                            const uint8_t *pResp, size_t nResp, int64_t tNow)
{
    sqlite3_stmt *s;

    if (eStep == PA_STORE_JOB_INIT) {
        PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO jobs(task_id, job_id, period, state, init_hash,"
                                           " init_resp, created_at, updated_at)"
                                           " VALUES (?1, ?2, ?3, 'started', ?5, ?6, ?7, ?7)"));
        PA_BIND_TEXT(s, 3, zPeriod);
    } else {
        PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE jobs SET state = 'finished', cont_hash = ?5,"
                                           " cont_resp = ?6, updated_at = ?7 WHERE task_id = ?1 AND job_id = ?2"));
    }
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    PA_BIND_BLOB(s, 5, aReqHash, 32);
    PA_BIND_BLOB(s, 6, pResp, nResp);
    sqlite3_bind_int64(s, 7, tNow);
    return pa_store_stmt_done(pStore, s, "jobs");
}

/* A job's id and period from a row (either may be NULL). */
static int job_row(pa_store *pStore, const char *zSql, const uint8_t aTaskId[32], const uint8_t *pJobIdIn,
                   uint8_t *pJobIdOut, char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, zSql));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    if (pJobIdIn)
        PA_BIND_BLOB(s, 2, pJobIdIn, 16);
    src = sqlite3_step(s);
    *pbFound = src == SQLITE_ROW;
    if (*pbFound) {
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_store_col_text(s, 0));
        if (pJobIdOut) {
            if (sqlite3_column_bytes(s, 1) == 16)
                memcpy(pJobIdOut, sqlite3_column_blob(s, 1), 16);
            else
                memset(pJobIdOut, 0, 16);
        }
    }
    src = src == SQLITE_ROW || src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "jobs");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                        char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return job_row(pStore, "SELECT period FROM jobs WHERE task_id = ?1 AND job_id = ?2", aTaskId, aJobId,
                   NULL, zPeriod, pbFound);
}

int pa_sqlite_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16],
                      char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return job_row(pStore, "SELECT period, job_id FROM jobs WHERE task_id = ?1"
                           " AND state != 'finished' ORDER BY created_at LIMIT 1",
                   aTaskId, NULL, aJobId, zPeriod, pbFound);
}

int pa_sqlite_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                     const char *zPeriod, int64_t tNow)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO jobs(task_id, job_id, period, state, created_at, updated_at)"
                                       " VALUES (?1, ?2, ?3, 'started', ?4, ?4)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    PA_BIND_TEXT(s, 3, zPeriod);
    sqlite3_bind_int64(s, 4, tNow);
    return pa_store_stmt_done(pStore, s, "jobs (new)");
}

int pa_sqlite_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE jobs SET state = 'finished', updated_at = ?3"
                                       " WHERE task_id = ?1 AND job_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    sqlite3_bind_int64(s, 3, tNow);
    return pa_store_stmt_done(pStore, s, "jobs (finish)");
}
