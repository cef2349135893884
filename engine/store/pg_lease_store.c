/*
 * Leases on work rows in the PostgreSQL store (include/privagg/store.h,
 * "leases"; the SQLite twin is lease_store.c, whose header has the argument).
 * A claim is one statement: the row is picked with SELECT ... FOR UPDATE SKIP
 * LOCKED, so two claimers never take the same row even where writers are not
 * serialised, and updated with the worker's id and expiry.  Holding is
 * decided by lease_owner alone: the renewal (the lease check) changes one row
 * only while the row still names this worker and the job is open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/backend.h"
#include "store/pg_internal.h"

static int check_owner(const char *zOwner)
{
    size_t n = zOwner ? strlen(zOwner) : 0;
    if (n == 0 || n >= PA_STORE_WORKER_ID_SIZE)
        return pa_fail(PA_EINVAL, "lease: worker id of %zu characters, expected 1..%d", n,
                       PA_STORE_WORKER_ID_SIZE - 1);
    return PA_OK;
}

/* Take, renew or release the lease of one row ($1 task, $2 the row's id, $3 the
 * worker, $4 the new expiry when bExpiry): *pbChanged (may be NULL) says whether
 * the row was changed, which for a renewal is whether it is still held. */
static int lease_update(pa_store *pStore, const char *zSql, const char *zWhat, const uint8_t aTaskId[32],
                        const uint8_t aId[16], const char *zOwner, int bExpiry, int64_t tExpiry, int *pbChanged)
{
    pa_pg_params p = {0};
    uint64_t nChanged = 0;

    if (pbChanged)
        *pbChanged = 0;
    PA_GUARD(check_owner(zOwner));
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aId, 16);
    pa_pg_p_text(&p, zOwner);
    if (bExpiry)
        pa_pg_p_int(&p, tExpiry);
    PA_GUARD(pa_pg_do(pStore, zSql, &p, zWhat, &nChanged));
    if (pbChanged)
        *pbChanged = nChanged == 1;
    return PA_OK;
}

int pa_pg_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry,
                    uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    size_t n;

    *pbFound = 0;
    PA_GUARD(check_owner(zOwner));
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, tNow);
    pa_pg_p_text(&p, zOwner);
    pa_pg_p_int(&p, tExpiry);
    PA_GUARD(pa_pg_run(pStore,
                       "UPDATE jobs SET lease_owner = $3, lease_expiry = $4 WHERE task_id = $1 AND job_id ="
                       " (SELECT job_id FROM jobs WHERE task_id = $1 AND state != 'finished'"
                       " AND (lease_owner IS NULL OR lease_expiry <= $2 OR lease_owner = $3)"
                       " ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
                       " RETURNING job_id, period",
                       &p, &r, "jobs (claim)"));
    if (PQntuples(r) == 1) {
        const uint8_t *pId = pa_pg_col_blob(r, 0, 0, &n);
        if (n == 16) {
            *pbFound = 1;
            memcpy(aJobId, pId, 16);
            snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 1));
        }
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner,
                         int64_t tExpiry)
{
    int bChanged;
    PA_GUARD(lease_update(pStore,
                          "UPDATE jobs SET lease_owner = $3, lease_expiry = $4"
                          " WHERE task_id = $1 AND job_id = $2 AND state != 'finished'",
                          "jobs (lease)", aTaskId, aJobId, zOwner, 1, tExpiry, &bChanged));
    return bChanged ? PA_OK : pa_fail(PA_ENOTFOUND, "lease: no open job to lease");
}

int pa_pg_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner,
                          int64_t tExpiry, int *pbHeld)
{
    return lease_update(pStore,
                        "UPDATE jobs SET lease_expiry = $4 WHERE task_id = $1 AND job_id = $2"
                        " AND lease_owner = $3 AND state != 'finished'",
                        "jobs (lease renewal)", aTaskId, aJobId, zOwner, 1, tExpiry, pbHeld);
}

int pa_pg_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zOwner)
{
    return lease_update(pStore,
                        "UPDATE jobs SET lease_owner = NULL, lease_expiry = 0"
                        " WHERE task_id = $1 AND job_id = $2 AND lease_owner = $3",
                        "jobs (lease release)", aTaskId, aJobId, zOwner, 0, 0, NULL);
}

int pa_pg_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry,
                     pa_store_cjob *pJob, int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    size_t n;
    int rc = PA_OK;

    memset(pJob, 0, sizeof *pJob);
    *pbFound = 0;
    PA_GUARD(check_owner(zOwner));
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, tNow);
    pa_pg_p_text(&p, zOwner);
    pa_pg_p_int(&p, tExpiry);
    PA_GUARD(pa_pg_run(pStore,
                       "UPDATE collection_jobs SET lease_owner = $3, lease_expiry = $4"
                       " WHERE task_id = $1 AND collection_id ="
                       " (SELECT collection_id FROM collection_jobs WHERE task_id = $1 AND state = 'pending'"
                       " AND next_at <= $2 AND (lease_owner IS NULL OR lease_expiry <= $2 OR lease_owner = $3)"
                       " ORDER BY next_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
                       " RETURNING collection_id, request, attempts, period, partition",
                       &p, &r, "collection_jobs (claim)"));
    if (PQntuples(r) == 1) {
        const uint8_t *pId = pa_pg_col_blob(r, 0, 0, &n);
        if (n == 16) {
            *pbFound = 1;
            memcpy(pJob->aCollectionId, pId, 16);
            pJob->eState = PA_STORE_CJOB_PENDING;
            pJob->nAttempts = (int)pa_pg_col_int(r, 0, 2);
            snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_pg_col_text(r, 0, 3));
            snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_pg_col_text(r, 0, 4));
            rc = pa_pg_col_copy(r, 0, 1, &pJob->pRequest, &pJob->nRequest);
            if (rc != PA_OK)
                *pbFound = 0;
        }
    }
    PQclear(r);
    return rc;
}

int pa_pg_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                           const char *zOwner, int64_t tExpiry, int *pbHeld)
{
    return lease_update(pStore,
                        "UPDATE collection_jobs SET lease_expiry = $4 WHERE task_id = $1 AND collection_id = $2"
                        " AND lease_owner = $3 AND state = 'pending'",
                        "collection_jobs (lease renewal)", aTaskId, aCollectionId, zOwner, 1, tExpiry, pbHeld);
}

int pa_pg_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                             const char *zOwner)
{
    return lease_update(pStore,
                        "UPDATE collection_jobs SET lease_owner = NULL, lease_expiry = 0"
                        " WHERE task_id = $1 AND collection_id = $2 AND lease_owner = $3",
                        "collection_jobs (lease release)", aTaskId, aCollectionId, zOwner, 0, 0, NULL);
}
