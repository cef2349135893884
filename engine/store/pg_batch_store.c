/*
 * Batches, release noise, collections and collection jobs in the PostgreSQL
 * store (the SQLite backend's batch_store.c and collection_store.c, statement
 * for statement; see include/privagg/store.h).  Only bytes move here: the
 * arithmetic on shares and noise is the aggregator's.  Writers do not take
 * turns on this backend (pg_store.c): a batch's aggregate is read FOR UPDATE
 * before it is added to, a batch takes its noise once by batch_noise's
 * primary key, and a release locks its period against the batch's writers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/pg_internal.h"

static int is_state(const char *zPartition)
{
    return strcmp(zPartition, "state") == 0;
}

static void batch_key(pa_pg_params *p, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition)
{
    pa_pg_p_blob(p, aTaskId, 32);
    pa_pg_p_text(p, zPeriod);
    pa_pg_p_text(p, zPartition);
}

/* The one blob of batch (period, partition) that zSql selects, exactly n bytes. */
static int batch_blob_get(pa_store *pStore, const char *zSql, const char *zTable, const uint8_t aTaskId[32],
                          const char *zPeriod, const char *zPartition, uint8_t *pOut, size_t n, int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;

    batch_key(&p, aTaskId, zPeriod, zPartition);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore, zSql, &p, &r, zTable));
    if (PQntuples(r) == 1) {
        size_t nHave;
        const uint8_t *pData = pa_pg_col_blob(r, 0, 0, &nHave);
        *pbFound = 1;
        if (nHave != n)
            rc = pa_fail(PA_ESTORE, "store: %s: stored value has %zu bytes, expected %zu", zTable, nHave, n);
        else
            memcpy(pOut, pData, n);
    }
    PQclear(r);
    return rc;
}

/* In a transaction the aggregate is read to be added to and written back
 * (pa_store_batch_put follows): the row is locked until the transaction ends, so two
 * jobs settling into one batch add one after the other.  A row that does not
 * exist yet cannot be locked: the batch's named lock stands for it until the
 * first writer's row is committed, and the row is then read again. */
int pa_pg_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                    uint8_t *pAgg, size_t nAgg, int *pbFound)
{
    static const char k_zRead[] = "SELECT aggregate FROM batches WHERE task_id = $1 AND period = $2"
                                  " AND partition = $3";
    static const char k_zLock[] = "SELECT aggregate FROM batches WHERE task_id = $1 AND period = $2"
                                  " AND partition = $3 FOR UPDATE";
    if (!pStore->bInTxn || pStore->bReadOnly)
        return batch_blob_get(pStore, k_zRead, "batches", aTaskId, zPeriod, zPartition, pAgg, nAgg, pbFound);
    PA_GUARD(batch_blob_get(pStore, k_zLock, "batches", aTaskId, zPeriod, zPartition, pAgg, nAgg, pbFound));
    if (*pbFound)
        return PA_OK;
    PA_GUARD(pa_pg_lock_key(pStore, "privagg-batch", aTaskId, zPeriod, zPartition));
    return batch_blob_get(pStore, k_zLock, "batches", aTaskId, zPeriod, zPartition, pAgg, nAgg, pbFound);
}

int pa_pg_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                    const uint8_t *pAgg, size_t nAgg, uint64_t nReport, uint64_t nRejected)
{
    pa_pg_params p = {0};
    batch_key(&p, aTaskId, zPeriod, zPartition);
    pa_pg_p_blob(&p, pAgg, nAgg);
    pa_pg_p_int(&p, (int64_t)nReport);
    pa_pg_p_int(&p, (int64_t)nRejected);
    return pa_pg_do(pStore,
                    "INSERT INTO batches(task_id, period, partition, aggregate, report_count, rejected_count)"
                    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (task_id, period, partition) DO UPDATE SET"
                    " aggregate = excluded.aggregate,"
                    " report_count = batches.report_count + excluded.report_count,"
                    " rejected_count = batches.rejected_count + excluded.rejected_count",
                    &p, "batches", NULL);
}

int pa_pg_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                         const pa_store_batch_row *aRow, size_t n)
{
    pa_pg_params p = {0};
    pa_pg_array a[4];
    int rc = PA_OK;

    if (n == 0)
        return PA_OK;
    pa_pg_array_init(&a[0], PA_PG_OID_TEXT);
    pa_pg_array_init(&a[1], PA_PG_OID_BYTEA);
    pa_pg_array_init(&a[2], PA_PG_OID_INT8);
    pa_pg_array_init(&a[3], PA_PG_OID_INT8);
    for (size_t i = 0; i < n; i++) {
        pa_pg_array_add_text(&a[0], aRow[i].zPartition);
        pa_pg_array_add(&a[1], aRow[i].pAggregate, aRow[i].nAggregate);
        pa_pg_array_add_int(&a[2], (int64_t)aRow[i].nReport);
        pa_pg_array_add_int(&a[3], (int64_t)aRow[i].nRejected);
    }
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    for (int i = 0; rc == PA_OK && i < 4; i++)
        rc = pa_pg_p_array(&p, &a[i]);
    if (rc == PA_OK)
        rc = pa_pg_do(pStore,
                      "INSERT INTO batches(task_id, period, partition, aggregate, report_count, rejected_count)"
                      " SELECT $1, $2, q.part, q.agg, q.nrep, q.nrej"
                      " FROM unnest($3::text[], $4::bytea[], $5::int8[], $6::int8[]) AS q(part, agg, nrep, nrej)"
                      " ON CONFLICT (task_id, period, partition) DO UPDATE SET"
                      " aggregate = excluded.aggregate,"
                      " report_count = batches.report_count + excluded.report_count,"
                      " rejected_count = batches.rejected_count + excluded.rejected_count",
                      &p, "batches", NULL);
    for (int i = 0; i < 4; i++)
        pa_pg_array_free(&a[i]); /* aggregate shares: wiped */
    return rc;
}

/* Each row of a result of (aggregate, report_count, rejected_count,
 * partition) to xRow, until it fails. */
static int batch_rows(PGresult *r, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    int rc = PA_OK;
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++) {
        pa_store_batch_row b;
        b.pAggregate = pa_pg_col_blob(r, i, 0, &b.nAggregate);
        b.nReport = (uint64_t)pa_pg_col_int(r, i, 1);
        b.nRejected = (uint64_t)pa_pg_col_int(r, i, 2);
        b.zPartition = pa_pg_col_text(r, i, 3);
        rc = xRow(pCtx, &b);
    }
    return rc;
}

/* The rows come back in the array's order (byte order, the caller's), and
 * each is locked in that order: first every partition's named lock (the one
 * pa_pg_batch_get takes for a row not created yet; held, it keeps any other
 * job of these batches out, row or no row), one statement; then the rows FOR
 * UPDATE, a statement of its own so that it reads what the previous holders
 * committed, rows created since included.  A job that locks only the rows it
 * found and the named locks of the others could wait in a circle with one
 * that found a row the first did not (created in between). */
int pa_pg_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                         const char *const *azPartition, size_t n,
                         int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    int bLock = pStore->bInTxn && !pStore->bReadOnly;
    pa_pg_params p = {0};
    pa_pg_array a;
    PGresult *r = NULL;
    int rc;

    if (n == 0)
        return PA_OK;
    pa_pg_array_init(&a, PA_PG_OID_TEXT);
    for (size_t i = 0; i < n; i++)
        pa_pg_array_add_text(&a, azPartition[i]);
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    rc = pa_pg_p_array(&p, &a);
    /* (a function scan yields the array's elements in order, and the
     * aggregate takes each lock as its row comes) */
    if (rc == PA_OK && bLock)
        rc = pa_pg_do(pStore,
                      "SELECT count(pg_advisory_xact_lock(hashtextextended(concat_ws('/', 'privagg-batch',"
                      " current_schema(), encode($1::bytea, 'hex'), $2::text, q.part), 0)))"
                      " FROM unnest($3::text[]) WITH ORDINALITY AS q(part, i)",
                      &p, "lock (batches)", NULL);
    if (rc == PA_OK)
        rc = pa_pg_run(pStore,
                       bLock ? "SELECT b.aggregate, b.report_count, b.rejected_count, b.partition FROM batches b"
                               " JOIN unnest($3::text[]) WITH ORDINALITY AS q(part, i) ON b.partition = q.part"
                               " WHERE b.task_id = $1 AND b.period = $2 ORDER BY q.i FOR UPDATE OF b"
                             : "SELECT b.aggregate, b.report_count, b.rejected_count, b.partition FROM batches b"
                               " JOIN unnest($3::text[]) WITH ORDINALITY AS q(part, i) ON b.partition = q.part"
                               " WHERE b.task_id = $1 AND b.period = $2 ORDER BY q.i",
                       &p, &r, "batches");
    pa_pg_array_free(&a);
    if (rc == PA_OK)
        rc = batch_rows(r, xRow, pCtx);
    if (r)
        PQclear(r); /* held aggregate shares: libpq frees the result's memory */
    return rc;
}

int pa_pg_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                     int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc;

    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT aggregate, report_count, rejected_count, partition FROM batches"
                       " WHERE task_id = $1 AND period = $2 AND ($3::boolean OR partition = $4)",
                       &p, &r, "batches"));
    rc = batch_rows(r, xRow, pCtx);
    PQclear(r);
    return rc;
}

int pa_pg_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition)
{
    pa_pg_params p = {0};

    batch_key(&p, aTaskId, zPeriod, zPartition);
    PA_GUARD(pa_pg_do(pStore, "DELETE FROM batch_noise WHERE task_id = $1 AND period = $2 AND partition = $3", &p,
                      "batch_noise", NULL));
    memset(&p, 0, sizeof p);
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    return pa_pg_do(pStore,
                    "DELETE FROM batches WHERE task_id = $1 AND period = $2"
                    " AND ($3::boolean OR partition = $4)"
                    " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = $1"
                    "   AND c.period = $2 AND c.partition = 'state')"
                    " AND EXISTS (SELECT 1 FROM collections c WHERE c.task_id = $1"
                    "   AND c.period = $2 AND c.partition = batches.partition)",
                    &p, "batches", NULL);
}

/* ---- noise ---------------------------------------------------------------- */

int pa_pg_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, iLevel);
    *pn = 0;
    PA_GUARD(pa_pg_run(pStore, "SELECT count(*) FROM noise_pool WHERE task_id = $1 AND level = $2", &p, &r,
                       "noise_pool"));
    *pn = PQntuples(r) == 1 ? pa_pg_col_int(r, 0, 0) : 0;
    PQclear(r);
    return PA_OK;
}

int pa_pg_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, const uint8_t *pNoise,
                         size_t nNoise)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, iLevel);
    pa_pg_p_blob(&p, pNoise, nNoise);
    return pa_pg_do(pStore, "INSERT INTO noise_pool(task_id, level, noise) VALUES ($1, $2, $3)", &p, "noise_pool",
                    NULL);
}

/* One statement whatever the noise holds: the batch without noise takes the
 * oldest vector of the level (moved, never copied); *pbEmpty when it needed
 * one and the pool had none.  Two transactions taking at once pick different
 * vectors (SKIP LOCKED); two for one batch: the second waits for the first's
 * batch_noise row, and once that is committed inserts nothing (the vector it
 * picked is discarded unused: the batch has one noise). */
int pa_pg_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                           int iLevel, int *pbEmpty)
{
    pa_pg_params p = {0};
    PGresult *r;

    *pbEmpty = 0;
    batch_key(&p, aTaskId, zPeriod, zPartition);
    pa_pg_p_int(&p, iLevel);
    PA_GUARD(pa_pg_run(pStore,
                       "WITH need AS (SELECT NOT EXISTS (SELECT 1 FROM batch_noise WHERE task_id = $1"
                       "   AND period = $2 AND partition = $3) AS yes),"
                       " pick AS (SELECT id FROM noise_pool WHERE task_id = $1 AND level = $4"
                       "   AND (SELECT yes FROM need) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED),"
                       " moved AS (DELETE FROM noise_pool WHERE id IN (SELECT id FROM pick) RETURNING noise),"
                       " ins AS (INSERT INTO batch_noise(task_id, period, partition, noise)"
                       "   SELECT $1, $2, $3, noise FROM moved ON CONFLICT DO NOTHING RETURNING 1)"
                       " SELECT (SELECT yes FROM need), (SELECT count(*) FROM moved)",
                       &p, &r, "batch_noise"));
    *pbEmpty = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) != 0 && pa_pg_col_int(r, 0, 1) == 0;
    PQclear(r);
    return PA_OK;
}

int pa_pg_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                          uint8_t *pNoise, size_t nNoise, int *pbFound)
{
    return batch_blob_get(pStore,
                          "SELECT noise FROM batch_noise WHERE task_id = $1 AND period = $2 AND partition = $3",
                          "batch_noise", aTaskId, zPeriod, zPartition, pNoise, nNoise, pbFound);
}

/* ---- collections ---------------------------------------------------------- */

int pa_pg_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                         pa_store_collection *pOut, int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;

    memset(pOut, 0, sizeof *pOut);
    *pbFound = 0;
    /* in a transaction: a release's first read (collect.c), which holds the
     * period against its late reports and another release until it ends */
    PA_GUARD(pa_pg_lock_period(pStore, aTaskId, zPeriod, 1));
    batch_key(&p, aTaskId, zPeriod, zPartition);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT collection_id, response FROM collections WHERE task_id = $1 AND period = $2"
                       " AND partition = $3",
                       &p, &r, "collections"));
    if (PQntuples(r) == 1) {
        size_t n;
        const uint8_t *pId = pa_pg_col_blob(r, 0, 0, &n);
        *pbFound = 1;
        if (n == 16)
            memcpy(pOut->aCollectionId, pId, 16);
        rc = pa_pg_col_copy(r, 0, 1, &pOut->pResponse, &pOut->nResponse);
    }
    PQclear(r);
    return rc;
}

int pa_pg_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                         const uint8_t aCollectionId[16], const uint8_t *pResponse, size_t nResponse, int64_t tNow)
{
    pa_pg_params p = {0};
    batch_key(&p, aTaskId, zPeriod, zPartition);
    pa_pg_p_blob(&p, aCollectionId, 16);
    pa_pg_p_blob(&p, pResponse, nResponse);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore,
                    "INSERT INTO collections(task_id, period, partition, collection_id, response, created_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6)",
                    &p, "collections", NULL);
}

int pa_pg_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition,
                    int *pbCollected)
{
    pa_pg_params p = {0};
    PGresult *r;
    *pbCollected = 0;
    /* in a transaction: a writer of the period's reports (an upload, the
     * helper's job init), whose answer holds until it commits */
    PA_GUARD(pa_pg_lock_period(pStore, aTaskId, zPeriod, 0));
    batch_key(&p, aTaskId, zPeriod, zPartition);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT count(*) FROM collections WHERE task_id = $1 AND period = $2"
                       " AND partition IN ($3, 'state')",
                       &p, &r, "collections"));
    *pbCollected = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) > 0;
    PQclear(r);
    return PA_OK;
}

/* ---- collection jobs ------------------------------------------------------ */

static const char *const k_azState[] = {"pending", "released", "failed"};

static pa_store_cjob_state state_of(const char *z)
{
    return strcmp(z, "pending") == 0    ? PA_STORE_CJOB_PENDING
           : strcmp(z, "released") == 0 ? PA_STORE_CJOB_RELEASED
                                        : PA_STORE_CJOB_FAILED;
}

int pa_pg_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                      const char *zPeriod, const char *zPartition, const uint8_t *pRequest, size_t nRequest,
                      int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aCollectionId, 16);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_text(&p, zPartition);
    pa_pg_p_blob(&p, pRequest, nRequest);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore,
                    "INSERT INTO collection_jobs(task_id, collection_id, period, partition, request, state,"
                    " next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $6)"
                    " ON CONFLICT (task_id, collection_id) DO UPDATE SET"
                    " state = 'pending', error_code = NULL, error_detail = NULL, attempts = 0,"
                    " next_at = excluded.next_at, updated_at = excluded.updated_at"
                    " WHERE collection_jobs.state = 'failed'",
                    &p, "collection_jobs", NULL);
}

int pa_pg_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob *pJob,
                   int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;

    memset(pJob, 0, sizeof *pJob);
    *pbFound = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aCollectionId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT state, period, partition, error_code, error_detail, attempts"
                       " FROM collection_jobs WHERE task_id = $1 AND collection_id = $2",
                       &p, &r, "collection_jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound) {
        memcpy(pJob->aCollectionId, aCollectionId, 16);
        pJob->eState = state_of(pa_pg_col_text(r, 0, 0));
        snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_pg_col_text(r, 0, 1));
        snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_pg_col_text(r, 0, 2));
        pJob->iErrorCode = (int)pa_pg_col_int(r, 0, 3);
        snprintf(pJob->zErrorDetail, sizeof pJob->zErrorDetail, "%s", pa_pg_col_text(r, 0, 4));
        pJob->nAttempts = (int)pa_pg_col_int(r, 0, 5);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob, int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;

    memset(pJob, 0, sizeof *pJob);
    *pbFound = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, tNow);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT collection_id, request, attempts, period, partition FROM collection_jobs"
                       " WHERE task_id = $1 AND state = 'pending' AND next_at <= $2"
                       " ORDER BY next_at, created_at LIMIT 1",
                       &p, &r, "collection_jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound) {
        size_t n;
        const uint8_t *pId = pa_pg_col_blob(r, 0, 0, &n);
        if (n == 16)
            memcpy(pJob->aCollectionId, pId, 16);
        pJob->eState = PA_STORE_CJOB_PENDING;
        pJob->nAttempts = (int)pa_pg_col_int(r, 0, 2);
        snprintf(pJob->zPeriod, sizeof pJob->zPeriod, "%s", pa_pg_col_text(r, 0, 3));
        snprintf(pJob->zPartition, sizeof pJob->zPartition, "%s", pa_pg_col_text(r, 0, 4));
        rc = pa_pg_col_copy(r, 0, 1, &pJob->pRequest, &pJob->nRequest);
    }
    PQclear(r);
    return rc;
}

int pa_pg_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                      pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt, int64_t tNext,
                      int64_t tNow)
{
    pa_pg_params p = {0};
    if ((unsigned)eState > PA_STORE_CJOB_FAILED)
        return pa_fail(PA_EINVAL, "collection job: state %d", (int)eState);
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aCollectionId, 16);
    pa_pg_p_text(&p, k_azState[eState]);
    if (iCode != 0)
        pa_pg_p_int(&p, iCode);
    else
        pa_pg_p_null(&p);
    pa_pg_p_text(&p, zDetail);
    pa_pg_p_int(&p, bAttempt != 0);
    pa_pg_p_int(&p, tNext);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore,
                    "UPDATE collection_jobs SET state = $3, error_code = $4, error_detail = $5,"
                    " attempts = attempts + $6, next_at = $7, updated_at = $8"
                    " WHERE task_id = $1 AND collection_id = $2",
                    &p, "collection_jobs", NULL);
}
