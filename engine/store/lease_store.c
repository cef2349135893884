/*
 * Leases on work rows in the SQLite store (include/privagg/store.h, "leases"):
 * any number of `privagg serve` processes of one role share the store, and an
 * aggregation job (table jobs) or a collection job (table collection_jobs) is
 * worked on by the one worker whose id is in its lease_owner column.  A claim
 * takes a row whose lease is free (no owner, or lease_expiry reached) and
 * writes the worker's id and expiry; it runs inside the caller's transaction,
 * which on SQLite holds the write lock (BEGIN IMMEDIATE), so two claimers are
 * serialised and never take the same row.  (The PostgreSQL twin,
 * pg_lease_store.c, takes the row with SELECT ... FOR UPDATE SKIP LOCKED.)
 *
 * Holding is decided by the owner column alone, not by the clock: a worker
 * whose lease expired still holds it until another worker has claimed the
 * row, and after that claim its renewal finds another owner and it writes
 * nothing.  So the clocks of the workers only decide how soon a dead worker's
 * job is taken over, never whether an effect is applied twice (the argument:
 * docs/operations.md, "Running several workers").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/backend.h"
#include "store/internal.h"

/* A worker id fits the column and the logs. */
static int check_owner(const char *zOwner)
{
    size_t n = zOwner ? strlen(zOwner) : 0;
    if (n == 0 || n >= PA_STORE_WORKER_ID_SIZE)
        return pa_fail(PA_EINVAL, "lease: worker id of %zu characters, expected 1..%d", n,
                       PA_STORE_WORKER_ID_SIZE - 1);
    return PA_OK;
}

/* Run an UPDATE of one row and tell whether it changed it. */
static int update_one(pa_store *pStore, sqlite3_stmt *s, const char *zWhat, int *pbChanged)
{
    int src = sqlite3_step(s);
    int rc = src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, zWhat);
    if (pbChanged)
        *pbChanged = rc == PA_OK && sqlite3_changes(pa_store_sqlite(pStore)) == 1;
    pa_store_stmt_put(pStore, s);
    return rc;
}

/* Take, renew or release the lease of one row (?1 task, ?2 the row's id, ?3 the
 * worker, ?4 the new expiry when zSql names it): *pbChanged (may be NULL) says
 * whether the row was changed, which for a renewal is whether it is still held. */
static int lease_update(pa_store *pStore, const char *zSql, const char *zWhat, const uint8_t aTaskId[32],
                        const uint8_t aId[16], const char *zOwner, int64_t tExpiry, int *pbChanged)
{
    sqlite3_stmt *s;

    if (pbChanged)
        *pbChanged = 0;
    PA_GUARD(check_owner(zOwner));
    PA_GUARD(pa_store_stmt(pStore, &s, zSql));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aId, 16);
    PA_BIND_TEXT(s, 3, zOwner);
    if (sqlite3_bind_parameter_count(s) >= 4)
        sqlite3_bind_int64(s, 4, tExpiry);
    return update_one(pStore, s, zWhat, pbChanged);
}

/* ---- aggregation jobs -------------------------------------------------- */

int pa_sqlite_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow,
                       int64_t tExpiry, uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    sqlite3_stmt *s;
    int src, rc = PA_OK;

    *pbFound = 0;
    PA_GUARD(check_owner(zOwner));
    /* the oldest open job whose lease is free (or already ours) */
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT job_id, period FROM jobs WHERE task_id = ?1"
                                       " AND state != 'finished' AND (lease_owner IS NULL"
                                       " OR lease_expiry <= ?2 OR lease_owner = ?3)"
                                       " ORDER BY created_at LIMIT 1"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int64(s, 2, tNow);
    PA_BIND_TEXT(s, 3, zOwner);
    src = sqlite3_step(s);
    if (src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 16) {
        *pbFound = 1;
        memcpy(aJobId, sqlite3_column_blob(s, 0), 16);
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_store_col_text(s, 1));
    } else if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = pa_store_fail(pStore, "jobs (claim)");
    }
    pa_store_stmt_put(pStore, s);
    if (rc != PA_OK || !*pbFound)
        return rc;
    return pa_sqlite_job_lease_take(pStore, aTaskId, aJobId, zOwner, tExpiry);
}

int pa_sqlite_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zOwner, int64_t tExpiry)
{
    int bChanged;
    PA_GUARD(lease_update(pStore, "UPDATE jobs SET lease_owner = ?3, lease_expiry = ?4"
                                  " WHERE task_id = ?1 AND job_id = ?2 AND state != 'finished'",
                          "jobs (lease)", aTaskId, aJobId, zOwner, tExpiry, &bChanged));
    return bChanged ? PA_OK : pa_fail(PA_ENOTFOUND, "lease: no open job to lease");
}

int pa_sqlite_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                             const char *zOwner, int64_t tExpiry, int *pbHeld)
{
    return lease_update(pStore, "UPDATE jobs SET lease_expiry = ?4 WHERE task_id = ?1"
                                " AND job_id = ?2 AND lease_owner = ?3 AND state != 'finished'",
                        "jobs (lease renewal)", aTaskId, aJobId, zOwner, tExpiry, pbHeld);
}

int pa_sqlite_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                               const char *zOwner)
{
    return lease_update(pStore, "UPDATE jobs SET lease_owner = NULL, lease_expiry = 0"
                                " WHERE task_id = ?1 AND job_id = ?2 AND lease_owner = ?3",
                        "jobs (lease release)", aTaskId, aJobId, zOwner, 0, NULL);
}

/* ---- collection jobs --------------------------------------------------- */

int pa_sqlite_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow,
                        int64_t tExpiry, pa_store_cjob *pJob, int *pbFound)
{
    sqlite3_stmt *s;
    int src, rc = PA_OK, bChanged = 0;

    memset(pJob, 0, sizeof *pJob);
    *pbFound = 0;
    PA_GUARD(check_owner(zOwner));
    /* the pending job due first whose lease is free (or already ours) */
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT collection_id, request, attempts, period, partition"
                                       " FROM collection_jobs WHERE task_id = ?1 AND state = 'pending'"
                                       " AND next_at <= ?2 AND (lease_owner IS NULL OR lease_expiry <= ?2"
                                       " OR lease_owner = ?3) ORDER BY next_at, created_at LIMIT 1"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int64(s, 2, tNow);
    PA_BIND_TEXT(s, 3, zOwner);
    src = sqlite3_step(s);
    if (src == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 16) {
        size_t n = (size_t)sqlite3_column_bytes(s, 1);
        *pbFound = 1;
        memcpy(pJob->aCollectionId, sqlite3_column_blob(s, 0), 16);
        pJob->eState = PA_STORE_CJOB_PENDING;
        pJob->nAttempts = sqlite3_column_int(s, 2);
        snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_store_col_text(s, 3));
        snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_store_col_text(s, 4));
        pJob->pRequest = malloc(n ? n : 1);
        if (pJob->pRequest == NULL) {
            rc = pa_fail(PA_ENOMEM, "store: out of memory (%zu bytes)", n);
        } else {
            if (n)
                memcpy(pJob->pRequest, sqlite3_column_blob(s, 1), n);
            pJob->nRequest = n;
        }
    } else if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = pa_store_fail(pStore, "collection_jobs (claim)");
    }
    pa_store_stmt_put(pStore, s);
    if (rc == PA_OK && *pbFound) {
        rc = lease_update(pStore, "UPDATE collection_jobs SET lease_owner = ?3, lease_expiry = ?4"
                                  " WHERE task_id = ?1 AND collection_id = ?2",
                          "collection_jobs (lease)", aTaskId, pJob->aCollectionId, zOwner, tExpiry, &bChanged);
        if (rc == PA_OK && !bChanged)
            rc = pa_fail(PA_ESTORE, "collection_jobs (lease): the claimed row is gone");
    }
    if (rc != PA_OK) {
        free(pJob->pRequest);
        memset(pJob, 0, sizeof *pJob);
        *pbFound = 0;
    }
    return rc;
}

int pa_sqlite_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                              const char *zOwner, int64_t tExpiry, int *pbHeld)
{
    return lease_update(pStore, "UPDATE collection_jobs SET lease_expiry = ?4 WHERE task_id = ?1"
                                " AND collection_id = ?2 AND lease_owner = ?3 AND state = 'pending'",
                        "collection_jobs (lease renewal)", aTaskId, aCollectionId, zOwner, tExpiry, pbHeld);
}

int pa_sqlite_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                                const char *zOwner)
{
    return lease_update(pStore, "UPDATE collection_jobs SET lease_owner = NULL, lease_expiry = 0"
                                " WHERE task_id = ?1 AND collection_id = ?2 AND lease_owner = ?3",
                        "collection_jobs (lease release)", aTaskId, aCollectionId, zOwner, 0, NULL);
}
