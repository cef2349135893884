/*
 * Reports and aggregation jobs in the PostgreSQL store (the SQLite backend's
 * report_store.c and job_store.c, statement for statement; see
 * include/privagg/store.h).  A leader's upload is one statement (the reports
 * row and its report_data row through a data-modifying WITH), one round trip.
 * Writers do not take turns on this backend (pg_store.c): the upload's checks
 * (replay, one report per agency and batch) are backed by unique indexes the
 * insert meets, and a job takes its pending reports FOR UPDATE SKIP LOCKED.
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

/* One count over a batch: $1 task, $2 period, $3 whole period?, $4 partition. */
static int count_of(pa_store *pStore, const char *zSql, const uint8_t aTaskId[32], const char *zPeriod,
                    const char *zPartition, uint64_t *pn)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    *pn = 0;
    PA_GUARD(pa_pg_run(pStore, zSql, &p, &r, "reports"));
    *pn = PQntuples(r) == 1 ? (uint64_t)pa_pg_col_int(r, 0, 0) : 0;
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                           const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(DISTINCT agency_id) FROM reports WHERE task_id = $1"
                    " AND period = $2 AND ($3::boolean OR partition = $4) AND state = 'accepted'",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_pg_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint8_t **ppIds, size_t *pnIds)
{
    pa_pg_params p = {0};
    PGresult *r;
    size_t nIds = 0;
    uint8_t *pIds = NULL;

    *ppIds = NULL;
    *pnIds = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    /* COLLATE "C" orders as memcmp: the canonical order of the list, whatever
     * the database's default collation */
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT DISTINCT agency_id COLLATE \"C\" AS a FROM reports WHERE task_id = $1"
                       " AND period = $2 AND ($3::boolean OR partition = $4) AND state = 'accepted'"
                       " ORDER BY a",
                       &p, &r, "reports (agency ids)"));
    for (int i = 0; i < PQntuples(r); i++)
        nIds += (size_t)PQgetlength(r, i, 0) + 1;
    if (nIds > 0 && (pIds = malloc(nIds)) == NULL) {
        PQclear(r);
        return pa_fail(PA_ENOMEM, "reports: agency ids (%zu bytes)", nIds);
    }
    nIds = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        size_t nLen = (size_t)PQgetlength(r, i, 0);
        memcpy(pIds + nIds, PQgetvalue(r, i, 0), nLen);
        pIds[nIds + nLen] = 0;
        nIds += nLen + 1;
    }
    PQclear(r);
    *ppIds = pIds;
    *pnIds = nIds;
    return PA_OK;
}

int pa_pg_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(*) FROM reports WHERE task_id = $1 AND period = $2"
                    " AND ($3::boolean OR partition = $4) AND state IN ('pending','aggregating')",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_pg_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aReportId, 16);
    *pbExists = 0;
    PA_GUARD(pa_pg_run(pStore, "SELECT 1 FROM reports WHERE task_id = $1 AND report_id = $2", &p, &r, "reports"));
    *pbExists = PQntuples(r) > 0;
    PQclear(r);
    return PA_OK;
}

static void agency_batch(pa_pg_params *p, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod,
                         const char *zPartition)
{
    pa_pg_p_blob(p, aTaskId, 32);
    pa_pg_p_text(p, zAgencyId);
    pa_pg_p_text(p, zPeriod);
    pa_pg_p_text(p, zPartition);
}

int pa_pg_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                            const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending)
{
    pa_pg_params p = {0};
    PGresult *r;
    agency_batch(&p, aTaskId, zAgencyId, zPeriod, zPartition);
    *pnCounting = *pnPending = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM reports"
                       " WHERE task_id = $1 AND agency_id = $2 AND period = $3 AND partition = $4"
                       " AND state IN ('pending','aggregating','accepted')",
                       &p, &r, "reports"));
    if (PQntuples(r) == 1) {
        *pnCounting = (uint64_t)pa_pg_col_int(r, 0, 0);
        *pnPending = (uint64_t)pa_pg_col_int(r, 0, 1);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                                  const char *zPeriod, const char *zPartition)
{
    pa_pg_params p = {0};
    agency_batch(&p, aTaskId, zAgencyId, zPeriod, zPartition);
    return pa_pg_do(pStore,
                    "WITH old AS (UPDATE reports SET state = 'replaced' WHERE task_id = $1 AND agency_id = $2"
                    "   AND period = $3 AND partition = $4 AND state = 'pending' RETURNING id)"
                    " DELETE FROM report_data WHERE report IN (SELECT id FROM old)",
                    &p, "reports (replace)", NULL);
}

/* The caller checked the report id and the agency's batch (upload.c); a
 * transaction that stored the same report, or another report of the same
 * agency and batch, after those checks read is met here by the unique
 * indexes: the insert does nothing (ON CONFLICT, waiting for that transaction
 * to end) and says which it was. */
int pa_pg_report_insert(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *u)
{
    pa_pg_params p = {0};
    uint64_t nInserted = 0;
    int bReplay = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, u->aReportId, 16);
    pa_pg_p_text(&p, u->zAgencyId);
    pa_pg_p_text(&p, u->zPeriod);
    pa_pg_p_text(&p, u->zPartition);
    pa_pg_p_int(&p, u->tReceived);
    pa_pg_p_blob(&p, u->pLeaderDigest, 32);
    pa_pg_p_blob(&p, u->pPublicShare, u->nPublicShare);
    pa_pg_p_blob(&p, u->pHelperEnc, 32);
    pa_pg_p_blob(&p, u->pHelperCt, u->nHelperCt);
    pa_pg_p_blob(&p, u->pSignature, 64);
    pa_pg_p_blob(&p, u->pVerifyState, u->nVerifyState);
    pa_pg_p_blob(&p, u->pVerifierShare, u->nVerifierShare);
    PA_GUARD(pa_pg_do(pStore,
                      "WITH r AS (INSERT INTO reports(task_id, report_id, agency_id, period, partition,"
                      "   received_at, leader_digest) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                      "   ON CONFLICT DO NOTHING RETURNING id)"
                      " INSERT INTO report_data(report, public_share, helper_enc, helper_ct, signature,"
                      "   verify_state, verifier_share)"
                      " SELECT id, $8::bytea, $9::bytea, $10::bytea, $11::bytea, $12::bytea, $13::bytea FROM r",
                      &p, "reports (insert)", &nInserted));
    if (nInserted == 1)
        return PA_OK;
    PA_GUARD(pa_pg_report_exists(pStore, aTaskId, u->aReportId, &bReplay));
    if (bReplay)
        return pa_fail(PA_EEXISTS, "report.report_id: uploaded before (replay; another upload of it was "
                                   "stored at the same moment)");
    return pa_fail(PA_EBUSY, "report: agency %s's report for %s/%s: another report of the agency for this "
                             "batch was stored at the same moment; retry (it is then refused, or corrects "
                             "the other if the task allows corrections)",
                   u->zAgencyId, u->zPeriod, u->zPartition);
}

int pa_pg_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked,
                                 char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, bOnlyAsked != 0);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT period FROM reports r WHERE task_id = $1 AND state = 'pending'"
                       " AND (NOT $2::boolean OR EXISTS (SELECT 1 FROM collection_jobs c"
                       "   WHERE c.task_id = r.task_id AND c.period = r.period AND c.state = 'pending'))"
                       " ORDER BY period COLLATE \"C\" LIMIT 1",
                       &p, &r, "reports"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound)
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod,
                         uint64_t nMax)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, (int64_t)nMax);
    /* another worker's job being made at the same moment holds its reports:
     * skipped, and a report taken (or replaced) since the snapshot is
     * re-checked, so a report is in one job */
    /* (MATERIALIZED: picked once; a subquery the plan scanned again would
     * skip the rows this statement has just taken and pick more) */
    return pa_pg_do(pStore,
                    "WITH pick AS MATERIALIZED (SELECT id FROM reports WHERE task_id = $1 AND state = 'pending'"
                    "   AND period = $3 ORDER BY report_id LIMIT $4 FOR UPDATE SKIP LOCKED)"
                    " UPDATE reports SET state = 'aggregating', job_id = $2 FROM pick"
                    " WHERE reports.id = pick.id AND reports.state = 'pending'",
                    &p, "reports (to job)", NULL);
}

int pa_pg_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    /* in one order for every worker: the noise rows of the batches are taken
     * in it (pg_store.c, lock order) */
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT DISTINCT partition COLLATE \"C\" AS p FROM reports WHERE task_id = $1"
                       " AND job_id = $2 ORDER BY p",
                       &p, &r, "reports"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++)
        rc = xPartition(pCtx, pa_pg_col_text(r, i, 0));
    PQclear(r);
    return rc;
}

int pa_pg_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                      int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT r.report_id, r.agency_id, r.partition, r.leader_digest,"
                       " d.public_share, d.helper_enc, d.helper_ct, d.signature,"
                       " d.verify_state, d.verifier_share"
                       " FROM reports r JOIN report_data d ON d.report = r.id"
                       " WHERE r.task_id = $1 AND r.job_id = $2 AND r.state = 'aggregating'"
                       " ORDER BY r.report_id",
                       &p, &r, "reports (job)"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++) {
        pa_store_job_report_row j;
        j.pReportId = pa_pg_col_blob(r, i, 0, &j.nReportId);
        j.zAgencyId = pa_pg_col_text(r, i, 1);
        j.zPartition = pa_pg_col_text(r, i, 2);
        j.pLeaderDigest = pa_pg_col_blob(r, i, 3, &j.nLeaderDigest);
        j.pPublicShare = pa_pg_col_blob(r, i, 4, &j.nPublicShare);
        j.pHelperEnc = pa_pg_col_blob(r, i, 5, &j.nHelperEnc);
        j.pHelperCt = pa_pg_col_blob(r, i, 6, &j.nHelperCt);
        j.pSignature = pa_pg_col_blob(r, i, 7, &j.nSignature);
        j.pVerifyState = pa_pg_col_blob(r, i, 8, &j.nVerifyState);
        j.pVerifierShare = pa_pg_col_blob(r, i, 9, &j.nVerifierShare);
        rc = xRow(pCtx, &j);
    }
    PQclear(r); /* held the verify states (secret): libpq frees the result's memory */
    return rc;
}

int pa_pg_report_settle(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16],
                        const char *zRejectReason)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aReportId, 16);
    pa_pg_p_text(&p, zRejectReason == NULL ? "accepted" : "rejected");
    pa_pg_p_text(&p, zRejectReason);
    return pa_pg_do(pStore,
                    "WITH s AS (UPDATE reports SET state = $3, reject_reason = $4, verify_state = NULL"
                    "   WHERE task_id = $1 AND report_id = $2 RETURNING id)"
                    " DELETE FROM report_data WHERE report IN (SELECT id FROM s)",
                    &p, "reports (settle)", NULL);
}

int pa_pg_report_insert_helper(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *h)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, h->aReportId, 16);
    pa_pg_p_text(&p, h->zAgencyId);
    pa_pg_p_text(&p, h->zPeriod);
    pa_pg_p_text(&p, h->zPartition);
    pa_pg_p_int(&p, h->tReceived);
    if (h->pKept)
        pa_pg_p_blob(&p, h->pKept, h->nKept);
    else
        pa_pg_p_null(&p);
    pa_pg_p_text(&p, h->zRejectReason == NULL ? "aggregating" : "rejected");
    pa_pg_p_text(&p, h->zRejectReason);
    pa_pg_p_blob(&p, h->aJobId, 16);
    return pa_pg_do(pStore,
                    "INSERT INTO reports(task_id, report_id, agency_id, period, partition, received_at,"
                    " verify_state, state, reject_reason, job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &p, "reports (helper)", NULL);
}

int pa_pg_report_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                      const uint8_t aReportId[16], uint8_t *pKept, size_t nKept,
                      char zPartition[PA_STORE_PARTITION_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    size_t n = 0;
    const uint8_t *pData = NULL;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aReportId, 16);
    pa_pg_p_blob(&p, aJobId, 16);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT verify_state, partition FROM reports WHERE task_id = $1 AND report_id = $2"
                       " AND job_id = $3 AND state = 'aggregating'",
                       &p, &r, "reports"));
    if (PQntuples(r) == 1)
        pData = pa_pg_col_blob(r, 0, 0, &n);
    *pbFound = pData != NULL && !pa_pg_col_null(r, 0, 0) && n == nKept;
    if (*pbFound) {
        memcpy(pKept, pData, nKept);
        snprintf(zPartition, PA_STORE_PARTITION_SIZE, "%s", pa_pg_col_text(r, 0, 1));
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                                   const char *zRejectReason)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zRejectReason);
    return pa_pg_do(pStore,
                    "UPDATE reports SET state = 'rejected', reject_reason = $3, verify_state = NULL"
                    " WHERE task_id = $1 AND job_id = $2 AND state = 'aggregating'",
                    &p, "reports (not continued)", NULL);
}

/* ---- aggregation jobs ----------------------------------------------------- */

int pa_pg_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame,
                         uint8_t **ppResp, size_t *pnResp)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;

    *pbFound = *pbSame = 0;
    *ppResp = NULL;
    *pnResp = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       eStep == PA_STORE_JOB_INIT
                           ? "SELECT init_hash, init_resp FROM jobs WHERE task_id = $1 AND job_id = $2"
                           : "SELECT cont_hash, cont_resp FROM jobs WHERE task_id = $1 AND job_id = $2",
                       &p, &r, "jobs"));
    if (PQntuples(r) == 1 && !pa_pg_col_null(r, 0, 0)) {
        size_t n;
        const uint8_t *pHash = pa_pg_col_blob(r, 0, 0, &n);
        *pbFound = 1;
        *pbSame = n == 32 && memcmp(pHash, aReqHash, 32) == 0;
        if (*pbSame)
            rc = pa_pg_col_copy(r, 0, 1, ppResp, pnResp);
    }
    PQclear(r);
    return rc;
}

int pa_pg_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32],
                         const uint8_t *pResp, size_t nResp, int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_blob(&p, aReqHash, 32);
    pa_pg_p_blob(&p, pResp, nResp);
    pa_pg_p_int(&p, tNow);
    if (eStep == PA_STORE_JOB_INIT) {
        pa_pg_p_text(&p, zPeriod);
        return pa_pg_do(pStore,
                        "INSERT INTO jobs(task_id, job_id, period, state, init_hash, init_resp, created_at,"
                        " updated_at) VALUES ($1, $2, $6, 'started', $3, $4, $5, $5)",
                        &p, "jobs", NULL);
    }
    return pa_pg_do(pStore,
                    "UPDATE jobs SET state = 'finished', cont_hash = $3, cont_resp = $4, updated_at = $5"
                    " WHERE task_id = $1 AND job_id = $2",
                    &p, "jobs", NULL);
}

int pa_pg_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                     char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    *pbFound = 0;
    /* in a transaction: the helper's continue step, which holds the job's row
     * until it has stored its answer, so a second continue of the job sent at
     * the same moment (a worker that took the job over) waits and then finds
     * that answer instead of settling the reports again */
    PA_GUARD(pa_pg_run(pStore,
                       pStore->bInTxn && !pStore->bReadOnly
                           ? "SELECT period FROM jobs WHERE task_id = $1 AND job_id = $2 FOR UPDATE"
                           : "SELECT period FROM jobs WHERE task_id = $1 AND job_id = $2",
                       &p, &r, "jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound)
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
    PQclear(r);
    return PA_OK;
}

int pa_pg_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16],
                   char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT period, job_id FROM jobs WHERE task_id = $1 AND state != 'finished'"
                       " ORDER BY created_at LIMIT 1",
                       &p, &r, "jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound) {
        size_t n;
        const uint8_t *pId = pa_pg_col_blob(r, 0, 1, &n);
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
        if (n == 16)
            memcpy(aJobId, pId, 16);
        else
            memset(aJobId, 0, 16);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod,
                  int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore,
                    "INSERT INTO jobs(task_id, job_id, period, state, created_at, updated_at)"
                    " VALUES ($1, $2, $3, 'started', $4, $4)",
                    &p, "jobs (new)", NULL);
}

int pa_pg_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore, "UPDATE jobs SET state = 'finished', updated_at = $3 WHERE task_id = $1 AND job_id = $2",
                    &p, "jobs (finish)", NULL);
}
