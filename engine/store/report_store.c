/*
 * Reports in the SQLite store (include/privagg/store.h): the leader's upload
 * (replay, one report per agency and batch, corrections), the reports a job
 * takes and their stored parts, settling, the helper's kept verify states, and
 * the counts over a batch that collection checks.  report_data holds the
 * leader's parts of a report until it is settled, and report_kept the helper's
 * kept state between the two steps of a job, each in a table of its own keyed
 * by the report's integer id, so that state changes never rewrite them and a
 * settled report's row stays small (an 8 KiB page per report otherwise).  The
 * calls for many rows loop here: an in-process statement costs no round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

static int count_of(pa_store *pStore, const char *zSql, const uint8_t aTaskId[32], const char *zPeriod,
                    const char *zPartition, uint64_t *pn)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, zSql));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    sqlite3_bind_int(s, 3, strcmp(zPartition, "state") == 0);
    PA_BIND_TEXT(s, 4, zPartition);
    src = sqlite3_step(s);
    *pn = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    src = src == SQLITE_ROW ? PA_OK : pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                              const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(DISTINCT agency_id) FROM reports WHERE task_id = ?1"
                    " AND period = ?2 AND (?3 OR partition = ?4) AND state = 'accepted'",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_sqlite_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                 const char *zPartition, uint8_t **ppIds, size_t *pnIds)
{
    sqlite3_stmt *s;
    uint8_t *pIds = NULL;
    size_t nIds = 0, nCap = 0;
    int src, rc = PA_OK;

    *ppIds = NULL;
    *pnIds = 0;
    /* the binary collation orders as memcmp: the canonical order of the list */
    PA_GUARD(pa_store_stmt(pStore, &s,
                           "SELECT DISTINCT agency_id FROM reports WHERE task_id = ?1 AND period = ?2"
                           " AND (?3 OR partition = ?4) AND state = 'accepted'"
                           " ORDER BY agency_id COLLATE BINARY"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    sqlite3_bind_int(s, 3, strcmp(zPartition, "state") == 0);
    PA_BIND_TEXT(s, 4, zPartition);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *z = sqlite3_column_text(s, 0);
        size_t nLen = (size_t)sqlite3_column_bytes(s, 0);
        if (z == NULL)
            rc = pa_fail(PA_ENOMEM, "reports: agency ids");
        else if (nIds + nLen + 1 > nCap) {
            size_t nNew = nCap ? 2 * nCap : 4096;
            uint8_t *pNew;
            while (nNew < nIds + nLen + 1)
                nNew *= 2;
            if ((pNew = realloc(pIds, nNew)) == NULL)
                rc = pa_fail(PA_ENOMEM, "reports: agency ids");
            else {
                pIds = pNew;
                nCap = nNew;
            }
        }
        if (rc == PA_OK) {
            memcpy(pIds + nIds, z, nLen);
            pIds[nIds + nLen] = 0;
            nIds += nLen + 1;
        }
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    if (rc != PA_OK) {
        free(pIds);
        return rc;
    }
    *ppIds = pIds;
    *pnIds = nIds;
    return PA_OK;
}

int pa_sqlite_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(*) FROM reports WHERE task_id = ?1 AND period = ?2"
                    " AND (?3 OR partition = ?4) AND state IN ('pending','aggregating')",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_sqlite_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16],
                           int *pbExists)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT 1 FROM reports WHERE task_id = ?1 AND report_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aReportId, 16);
    src = sqlite3_step(s);
    *pbExists = src == SQLITE_ROW;
    src = src == SQLITE_ROW || src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return src;
}

/* ?1 the task, ?2 ?3 ?4 an agency's batch: agency id, period, partition. */
static void bind_agency_batch(sqlite3_stmt *s, const uint8_t aTaskId[32], const char *zAgencyId,
                              const char *zPeriod, const char *zPartition)
{
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zAgencyId);
    PA_BIND_TEXT(s, 3, zPeriod);
    PA_BIND_TEXT(s, 4, zPartition);
}

int pa_sqlite_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                               const char *zPeriod, const char *zPartition, uint64_t *pnCounting,
                               uint64_t *pnPending)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s,
                           "SELECT count(*), sum(state = 'pending') FROM reports WHERE task_id = ?1"
                           " AND agency_id = ?2 AND period = ?3 AND partition = ?4"
                           " AND state IN ('pending','aggregating','accepted')"));
    bind_agency_batch(s, aTaskId, zAgencyId, zPeriod, zPartition);
    src = sqlite3_step(s);
    *pnCounting = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    *pnPending = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 1) : 0;
    src = src == SQLITE_ROW ? PA_OK : pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                                     const char *zPeriod, const char *zPartition)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM report_data WHERE report IN"
                                       " (SELECT id FROM reports WHERE task_id = ?1 AND"
                                       " agency_id = ?2 AND period = ?3 AND partition = ?4"
                                       " AND state = 'pending')"));
    bind_agency_batch(s, aTaskId, zAgencyId, zPeriod, zPartition);
    PA_GUARD(pa_store_stmt_done(pStore, s, "report_data (replace)"));
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE reports SET state = 'replaced'"
                                       " WHERE task_id = ?1 AND agency_id = ?2 AND period = ?3"
                                       " AND partition = ?4 AND state = 'pending'"));
    bind_agency_batch(s, aTaskId, zAgencyId, zPeriod, zPartition);
    return pa_store_stmt_done(pStore, s, "reports (replace)");
}

/* One report: its reports row (none if its id is stored: *pbStored = 0), then
 * its report_data row. */
static int insert_one(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *r, uint8_t *pbStored)
{
    sqlite3_stmt *s;
    sqlite3_int64 iReport;

    *pbStored = 0;
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO reports(task_id, report_id, agency_id, period,"
                                       " partition, received_at, leader_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                                       " ON CONFLICT (task_id, report_id) DO NOTHING"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, r->aReportId, 16);
    PA_BIND_TEXT(s, 3, r->zAgencyId);
    PA_BIND_TEXT(s, 4, r->zPeriod);
    PA_BIND_TEXT(s, 5, r->zPartition);
    sqlite3_bind_int64(s, 6, r->tReceived);
    PA_BIND_BLOB(s, 7, r->pLeaderDigest, 32);
    PA_GUARD(pa_store_stmt_done(pStore, s, "reports (insert)"));
    if (sqlite3_changes(pStore->pDb) == 0)
        return PA_OK; /* the id is stored already */
    iReport = sqlite3_last_insert_rowid(pStore->pDb);
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO report_data(report, public_share, helper_enc,"
                                       " helper_ct, signature, verify_state, verifier_share)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    sqlite3_bind_int64(s, 1, iReport);
    /* a zero-length public share is bound as an empty blob, never NULL */
    PA_BIND_BLOB(s, 2, r->pPublicShare ? r->pPublicShare : (const uint8_t *)"", r->nPublicShare);
    PA_BIND_BLOB(s, 3, r->pHelperEnc, 32);
    PA_BIND_BLOB(s, 4, r->pHelperCt, r->nHelperCt);
    PA_BIND_BLOB(s, 5, r->pSignature, 64);
    PA_BIND_BLOB(s, 6, r->pVerifyState, r->nVerifyState);
    PA_BIND_BLOB(s, 7, r->pVerifierShare, r->nVerifierShare);
    PA_GUARD(pa_store_stmt_done(pStore, s, "report_data (insert)"));
    *pbStored = 1;
    return PA_OK;
}

/* In-process statements cost no round trip: one row at a time. */
int pa_sqlite_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow,
                                 size_t n, uint8_t *aiOutcome)
{
    for (size_t i = 0; i < n; i++)
        PA_GUARD(insert_one(pStore, aTaskId, &aRow[i], &aiOutcome[i]));
    return PA_OK;
}

int pa_sqlite_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n,
                           pa_store_report_seen *aSeen)
{
    for (size_t i = 0; i < n; i++) {
        const pa_store_report_key *k = &aKey[i];
        memset(&aSeen[i], 0, sizeof aSeen[i]);
        PA_GUARD(pa_sqlite_report_exists(pStore, aTaskId, k->pReportId, &aSeen[i].bExists));
        PA_GUARD(pa_sqlite_reports_of_agency(pStore, aTaskId, k->zAgencyId, k->zPeriod, k->zPartition,
                                             &aSeen[i].nCounting, &aSeen[i].nPending));
        PA_GUARD(pa_sqlite_collected(pStore, aTaskId, k->zPeriod, k->zPartition, &aSeen[i].bCollected));
    }
    return PA_OK;
}

int pa_sqlite_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked,
                                    char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT period FROM reports r WHERE task_id = ?1 AND state = 'pending'"
                                       " AND (NOT ?2 OR EXISTS (SELECT 1 FROM collection_jobs c"
                                       "   WHERE c.task_id = r.task_id AND c.period = r.period"
                                       "   AND c.state = 'pending'))"
                                       " ORDER BY period LIMIT 1"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    sqlite3_bind_int(s, 2, bOnlyAsked != 0);
    src = sqlite3_step(s);
    *pbFound = src == SQLITE_ROW;
    if (*pbFound)
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_store_col_text(s, 0));
    src = src == SQLITE_ROW || src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zPeriod, uint64_t nMax)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE reports SET state = 'aggregating', job_id = ?2 WHERE rowid IN"
                                       " (SELECT rowid FROM reports WHERE task_id = ?1 AND state = 'pending'"
                                       " AND period = ?3 ORDER BY report_id LIMIT ?4)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    PA_BIND_TEXT(s, 3, zPeriod);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)nMax);
    return pa_store_stmt_done(pStore, s, "reports (to job)");
}

int pa_sqlite_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx)
{
    sqlite3_stmt *s;
    char zPartition[PA_STORE_PARTITION_SIZE];
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT DISTINCT partition FROM reports WHERE task_id = ?1 AND job_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        /* a copy: the callback writes to the store while this is stepped */
        snprintf(zPartition, sizeof zPartition, "%s", pa_store_col_text(s, 0));
        rc = xPartition(pCtx, zPartition);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT r.report_id, r.agency_id, r.partition, r.leader_digest,"
                                       " d.public_share, d.helper_enc, d.helper_ct, d.signature,"
                                       " d.verify_state, d.verifier_share"
                                       " FROM reports r JOIN report_data d"
                                       " ON d.report = r.id"
                                       " WHERE r.task_id = ?1 AND r.job_id = ?2 AND r.state = 'aggregating'"
                                       " ORDER BY r.report_id"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        pa_store_job_report_row r;
#define COL_BLOB(p, n, i) ((p) = sqlite3_column_blob(s, (i)), (n) = (size_t)sqlite3_column_bytes(s, (i)))
        COL_BLOB(r.pReportId, r.nReportId, 0);
        r.zAgencyId = pa_store_col_text(s, 1);
        r.zPartition = pa_store_col_text(s, 2);
        COL_BLOB(r.pLeaderDigest, r.nLeaderDigest, 3);
        COL_BLOB(r.pPublicShare, r.nPublicShare, 4);
        COL_BLOB(r.pHelperEnc, r.nHelperEnc, 5);
        COL_BLOB(r.pHelperCt, r.nHelperCt, 6);
        COL_BLOB(r.pSignature, r.nSignature, 7);
        COL_BLOB(r.pVerifyState, r.nVerifyState, 8);
        COL_BLOB(r.pVerifierShare, r.nVerifierShare, 9);
#undef COL_BLOB
        rc = xRow(pCtx, &r);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "reports (job)");
    pa_store_stmt_put(pStore, s);
    return rc;
}

static int settle_one(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *r)
{
    sqlite3_stmt *s;

    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM report_data WHERE report ="
                                       " (SELECT id FROM reports WHERE task_id = ?1 AND report_id = ?2)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, r->pReportId, 16);
    PA_GUARD(pa_store_stmt_done(pStore, s, "report_data (settle)"));
    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM report_kept WHERE report ="
                                       " (SELECT id FROM reports WHERE task_id = ?1 AND report_id = ?2)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, r->pReportId, 16);
    PA_GUARD(pa_store_stmt_done(pStore, s, "report_kept (settle)"));
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE reports SET state = ?3, reject_reason = ?4"
                                       " WHERE task_id = ?1 AND report_id = ?2"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, r->pReportId, 16);
    PA_BIND_TEXT(s, 3, r->zRejectReason == NULL ? "accepted" : "rejected");
    if (r->zRejectReason == NULL)
        sqlite3_bind_null(s, 4);
    else
        PA_BIND_TEXT(s, 4, r->zRejectReason);
    return pa_store_stmt_done(pStore, s, "reports (settle)");
}

int pa_sqlite_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow, size_t n)
{
    for (size_t i = 0; i < n; i++)
        PA_GUARD(settle_one(pStore, aTaskId, &aRow[i]));
    return PA_OK;
}

static int insert_helper_one(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *r)
{
    sqlite3_stmt *s;
    sqlite3_int64 iReport;

    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO reports(task_id, report_id, agency_id, period,"
                                       " partition, received_at, state, reject_reason, job_id)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, r->aReportId, 16);
    PA_BIND_TEXT(s, 3, r->zAgencyId);
    PA_BIND_TEXT(s, 4, r->zPeriod);
    PA_BIND_TEXT(s, 5, r->zPartition);
    sqlite3_bind_int64(s, 6, r->tReceived);
    PA_BIND_TEXT(s, 7, r->zRejectReason == NULL ? "aggregating" : "rejected");
    if (r->zRejectReason == NULL)
        sqlite3_bind_null(s, 8);
    else
        PA_BIND_TEXT(s, 8, r->zRejectReason);
    PA_BIND_BLOB(s, 9, r->aJobId, 16);
    PA_GUARD(pa_store_stmt_done(pStore, s, "reports (helper)"));
    if (r->pKept == NULL)
        return PA_OK;
    iReport = sqlite3_last_insert_rowid(pStore->pDb);
    PA_GUARD(pa_store_stmt(pStore, &s, "INSERT INTO report_kept(report, kept) VALUES (?1, ?2)"));
    sqlite3_bind_int64(s, 1, iReport);
    PA_BIND_BLOB(s, 2, r->pKept, r->nKept);
    return pa_store_stmt_done(pStore, s, "report_kept (helper)");
}

int pa_sqlite_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32],
                                        const pa_store_helper_report_row *aRow, size_t n)
{
    for (size_t i = 0; i < n; i++)
        PA_GUARD(insert_helper_one(pStore, aTaskId, &aRow[i]));
    return PA_OK;
}

int pa_sqlite_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept,
                       int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition,
                                   const uint8_t *pKept),
                       void *pCtx)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT r.report_id, r.partition, k.kept FROM reports r"
                                       " JOIN report_kept k ON k.report = r.id"
                                       " WHERE r.task_id = ?1 AND r.job_id = ?2 AND r.state = 'aggregating'"
                                       " ORDER BY r.report_id"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        const uint8_t *pId = sqlite3_column_blob(s, 0), *pKept = sqlite3_column_blob(s, 2);
        if (sqlite3_column_bytes(s, 0) == 16 && (size_t)sqlite3_column_bytes(s, 2) == nKept && pId != NULL &&
            (pKept != NULL || nKept == 0))
            rc = xRow(pCtx, pId, pa_store_col_text(s, 1), pKept);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "report_kept");
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                                      const char *zRejectReason)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, "DELETE FROM report_kept WHERE report IN (SELECT id FROM reports"
                                       " WHERE task_id = ?1 AND job_id = ?2 AND state = 'aggregating')"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    PA_GUARD(pa_store_stmt_done(pStore, s, "report_kept (not continued)"));
    PA_GUARD(pa_store_stmt(pStore, &s, "UPDATE reports SET state = 'rejected', reject_reason = ?3"
                                       " WHERE task_id = ?1 AND job_id = ?2 AND state = 'aggregating'"));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_BLOB(s, 2, aJobId, 16);
    PA_BIND_TEXT(s, 3, zRejectReason);
    return pa_store_stmt_done(pStore, s, "reports (not continued)");
}
