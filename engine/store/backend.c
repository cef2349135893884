/*
 * The store's backend seam: every public pa_store_* function, dispatched to
 * the SQLite backend (the default: a file path) or the PostgreSQL backend (a
 * "postgresql://" URL), declared side by side in store/backend.h.
 *
 * Why branches in one file rather than a table of function pointers or a test
 * in each SQLite function: there are exactly two backends, both always linked,
 * so a call is a plain direct call (the compiler checks both signatures
 * against the public header through this one definition); the SQLite files
 * stay SQLite only (their functions are renamed pa_sqlite_*, nothing else in
 * them changed); and adding a function to the store is one public
 * declaration, one wrapper here and one function per backend, all found by
 * grepping its name.  The choice is made once, at open (the path names the
 * backend); every later call follows pStore->pPg.
 */
#include <stdio.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "store/backend.h"
#include "store/internal.h"

int pa_store_path_is_pg(const char *zPath)
{
    return zPath != NULL &&
           (strncmp(zPath, "postgresql://", 13) == 0 || strncmp(zPath, "postgres://", 11) == 0);
}

int pa_store_is_postgres(const char *zPath)
{
    return pa_store_path_is_pg(zPath);
}

void pa_store_display_name(const char *zPath, char *zOut, size_t nOut)
{
    const char *zAuth = pa_store_path_is_pg(zPath) ? strstr(zPath, "://") : NULL;
    const char *zAt, *zColon;

    if (nOut == 0)
        return;
    if (zAuth != NULL) {
        zAuth += 3;
        zAt = strchr(zAuth, '@');
        zColon = zAt ? memchr(zAuth, ':', (size_t)(zAt - zAuth)) : NULL;
        if (zColon != NULL) { /* user:password@host... */
            snprintf(zOut, nOut, "%.*s:***%s", (int)(zColon - zPath), zPath, zAt);
            return;
        }
    }
    snprintf(zOut, nOut, "%s", zPath);
}

int pa_store_open(pa_store **ppStore, const char *zPath)
{
    return pa_store_path_is_pg(zPath) ? pa_pg_open(ppStore, zPath) : pa_sqlite_open(ppStore, zPath);
}

int pa_store_open_readonly(pa_store **ppStore, const char *zPath)
{
    return pa_store_path_is_pg(zPath) ? pa_pg_open_readonly(ppStore, zPath)
                                      : pa_sqlite_open_readonly(ppStore, zPath);
}

int pa_store_open_probe(pa_store **ppStore, const char *zPath)
{
    return pa_store_path_is_pg(zPath) ? pa_pg_open_probe(ppStore, zPath) : pa_sqlite_open_probe(ppStore, zPath);
}

/* A database server's access control is its own (pg_hba.conf, roles): there
 * is no file here to check. */
int pa_store_check_private(const char *zPath)
{
    return pa_store_path_is_pg(zPath) ? PA_OK : pa_sqlite_check_private(zPath);
}

/* Writable is the server's to say: pa_store_open fails on a read-only
 * server, and /health/ready probes it (pa_store_probe_writable). */
int pa_store_check_writable(const char *zPath)
{
    return pa_store_path_is_pg(zPath) ? PA_OK : pa_sqlite_check_writable(zPath);
}

void pa_store_close(pa_store *pStore)
{
    if (pStore == NULL)
        return;
    if (pStore->pPg)
        pa_pg_close(pStore);
    else
        pa_sqlite_close(pStore);
}

int pa_store_query_int(pa_store *pStore, const char *zSql, int64_t *pn)
{
    return pStore->pPg ? pa_pg_query_int(pStore, zSql, pn) : pa_sqlite_query_int(pStore, zSql, pn);
}

int pa_store_probe_writable(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_probe_writable(pStore) : pa_sqlite_probe_writable(pStore);
}

int pa_store_begin(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_begin(pStore) : pa_sqlite_begin(pStore);
}

int pa_store_commit(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_commit(pStore) : pa_sqlite_commit(pStore);
}

void pa_store_rollback(pa_store *pStore)
{
    if (pStore->pPg)
        pa_pg_rollback(pStore);
    else
        pa_sqlite_rollback(pStore);
}

int pa_store_savepoint(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_savepoint(pStore) : pa_sqlite_savepoint(pStore);
}

int pa_store_savepoint_release(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_savepoint_release(pStore) : pa_sqlite_savepoint_release(pStore);
}

int pa_store_savepoint_rollback(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_savepoint_rollback(pStore) : pa_sqlite_savepoint_rollback(pStore);
}

void pa_store_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx)
{
    if (pStore->pPg)
        pa_pg_on_wal_commit(pStore, xOnWal, pCtx);
    else
        pa_sqlite_on_wal_commit(pStore, xOnWal, pCtx);
}

int pa_store_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied)
{
    return pStore->pPg ? pa_pg_checkpoint(pStore, pnLog, pnCopied) : pa_sqlite_checkpoint(pStore, pnLog, pnCopied);
}

int pa_store_analyze(pa_store *pStore, int *pnAnalyzed)
{
    return pStore->pPg ? pa_pg_analyze(pStore, pnAnalyzed) : pa_sqlite_analyze(pStore, pnAnalyzed);
}

int pa_store_ledger_present(pa_store *pStore, int *pbPresent)
{
    return pStore->pPg ? pa_pg_ledger_present(pStore, pbPresent) : pa_sqlite_ledger_present(pStore, pbPresent);
}

int pa_store_ledger_init(pa_store *pStore)
{
    return pStore->pPg ? pa_pg_ledger_init(pStore) : pa_sqlite_ledger_init(pStore);
}

int pa_store_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32])
{
    return pStore->pPg ? pa_pg_ledger_head(pStore, piSeq, aHash) : pa_sqlite_ledger_head(pStore, piSeq, aHash);
}

int pa_store_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod, int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx)
{
    return pStore->pPg ? pa_pg_ledger_period(pStore, zTaskId, zPeriod, xRow, pCtx) : pa_sqlite_ledger_period(pStore, zTaskId, zPeriod, xRow, pCtx);
}

int pa_store_ledger_append(pa_store *pStore, const pa_store_ledger_row *pRow)
{
    return pStore->pPg ? pa_pg_ledger_append(pStore, pRow) : pa_sqlite_ledger_append(pStore, pRow);
}

int pa_store_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow), void *pCtx)
{
    return pStore->pPg ? pa_pg_ledger_each(pStore, xRow, pCtx) : pa_sqlite_ledger_each(pStore, xRow, pCtx);
}

int pa_store_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny)
{
    return pStore->pPg ? pa_pg_ledger_v1_max(pStore, zTaskId, pMax, pbAny) : pa_sqlite_ledger_v1_max(pStore, zTaskId, pMax, pbAny);
}

int pa_store_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, pa_store_collection *pOut, int *pbFound)
{
    return pStore->pPg ? pa_pg_collection_get(pStore, aTaskId, zPeriod, zPartition, pOut, pbFound) : pa_sqlite_collection_get(pStore, aTaskId, zPeriod, zPartition, pOut, pbFound);
}

int pa_store_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t aCollectionId[16], const uint8_t *pResponse, size_t nResponse, int64_t tNow)
{
    return pStore->pPg ? pa_pg_collection_put(pStore, aTaskId, zPeriod, zPartition, aCollectionId, pResponse, nResponse, tNow) : pa_sqlite_collection_put(pStore, aTaskId, zPeriod, zPartition, aCollectionId, pResponse, nResponse, tNow);
}

int pa_store_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int *pbCollected)
{
    return pStore->pPg ? pa_pg_collected(pStore, aTaskId, zPeriod, zPartition, pbCollected) : pa_sqlite_collected(pStore, aTaskId, zPeriod, zPartition, pbCollected);
}

int pa_store_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition, const uint8_t *pRequest, size_t nRequest, int64_t tNow)
{
    return pStore->pPg ? pa_pg_cjob_create(pStore, aTaskId, aCollectionId, zPeriod, zPartition, pRequest, nRequest, tNow) : pa_sqlite_cjob_create(pStore, aTaskId, aCollectionId, zPeriod, zPartition, pRequest, nRequest, tNow);
}

int pa_store_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob *pJob, int *pbFound)
{
    return pStore->pPg ? pa_pg_cjob_get(pStore, aTaskId, aCollectionId, pJob, pbFound) : pa_sqlite_cjob_get(pStore, aTaskId, aCollectionId, pJob, pbFound);
}

int pa_store_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob, int *pbFound)
{
    return pStore->pPg ? pa_pg_cjob_due(pStore, aTaskId, tNow, pJob, pbFound) : pa_sqlite_cjob_due(pStore, aTaskId, tNow, pJob, pbFound);
}

int pa_store_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt, int64_t tNext, int64_t tNow)
{
    return pStore->pPg ? pa_pg_cjob_update(pStore, aTaskId, aCollectionId, eState, iCode, zDetail, bAttempt, tNext, tNow) : pa_sqlite_cjob_update(pStore, aTaskId, aCollectionId, eState, iCode, zDetail, bAttempt, tNext, tNow);
}

int pa_store_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound)
{
    return pStore->pPg ? pa_pg_batch_get(pStore, aTaskId, zPeriod, zPartition, pAgg, nAgg, pbFound) : pa_sqlite_batch_get(pStore, aTaskId, zPeriod, zPartition, pAgg, nAgg, pbFound);
}

int pa_store_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport, uint64_t nRejected)
{
    return pStore->pPg ? pa_pg_batch_put(pStore, aTaskId, zPeriod, zPartition, pAgg, nAgg, nReport, nRejected) : pa_sqlite_batch_put(pStore, aTaskId, zPeriod, zPartition, pAgg, nAgg, nReport, nRejected);
}

int pa_store_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const pa_store_batch_row *aRow, size_t n)
{
    return pStore->pPg ? pa_pg_batch_put_many(pStore, aTaskId, zPeriod, aRow, n) : pa_sqlite_batch_put_many(pStore, aTaskId, zPeriod, aRow, n);
}

int pa_store_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *const *azPartition, size_t n, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    return pStore->pPg ? pa_pg_batch_get_many(pStore, aTaskId, zPeriod, azPartition, n, xRow, pCtx) : pa_sqlite_batch_get_many(pStore, aTaskId, zPeriod, azPartition, n, xRow, pCtx);
}

int pa_store_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    return pStore->pPg ? pa_pg_batch_each(pStore, aTaskId, zPeriod, zPartition, xRow, pCtx) : pa_sqlite_batch_each(pStore, aTaskId, zPeriod, zPartition, xRow, pCtx);
}

int pa_store_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition)
{
    return pStore->pPg ? pa_pg_batch_forget(pStore, aTaskId, zPeriod, zPartition) : pa_sqlite_batch_forget(pStore, aTaskId, zPeriod, zPartition);
}

int pa_store_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn)
{
    return pStore->pPg ? pa_pg_noise_pool_count(pStore, aTaskId, iLevel, pn) : pa_sqlite_noise_pool_count(pStore, aTaskId, iLevel, pn);
}

int pa_store_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, const uint8_t *pNoise, size_t nNoise)
{
    return pStore->pPg ? pa_pg_noise_pool_add(pStore, aTaskId, iLevel, pNoise, nNoise) : pa_sqlite_noise_pool_add(pStore, aTaskId, iLevel, pNoise, nNoise);
}

int pa_store_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int iLevel, int *pbEmpty)
{
    return pStore->pPg ? pa_pg_batch_noise_take(pStore, aTaskId, zPeriod, zPartition, iLevel, pbEmpty) : pa_sqlite_batch_noise_take(pStore, aTaskId, zPeriod, zPartition, iLevel, pbEmpty);
}

int pa_store_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound)
{
    return pStore->pPg ? pa_pg_batch_noise_get(pStore, aTaskId, zPeriod, zPartition, pNoise, nNoise, pbFound) : pa_sqlite_batch_noise_get(pStore, aTaskId, zPeriod, zPartition, pNoise, nNoise, pbFound);
}

int pa_store_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn)
{
    return pStore->pPg ? pa_pg_reports_agencies(pStore, aTaskId, zPeriod, zPartition, pn) : pa_sqlite_reports_agencies(pStore, aTaskId, zPeriod, zPartition, pn);
}

int pa_store_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                const char *zPartition, uint8_t **ppIds, size_t *pnIds)
{
    return pStore->pPg ? pa_pg_reports_agency_ids(pStore, aTaskId, zPeriod, zPartition, ppIds, pnIds)
                       : pa_sqlite_reports_agency_ids(pStore, aTaskId, zPeriod, zPartition, ppIds, pnIds);
}

int pa_store_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn)
{
    return pStore->pPg ? pa_pg_reports_unfinished(pStore, aTaskId, zPeriod, zPartition, pn) : pa_sqlite_reports_unfinished(pStore, aTaskId, zPeriod, zPartition, pn);
}

int pa_store_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists)
{
    return pStore->pPg ? pa_pg_report_exists(pStore, aTaskId, aReportId, pbExists) : pa_sqlite_report_exists(pStore, aTaskId, aReportId, pbExists);
}

int pa_store_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending)
{
    return pStore->pPg ? pa_pg_reports_of_agency(pStore, aTaskId, zAgencyId, zPeriod, zPartition, pnCounting, pnPending) : pa_sqlite_reports_of_agency(pStore, aTaskId, zAgencyId, zPeriod, zPartition, pnCounting, pnPending);
}

int pa_store_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition)
{
    return pStore->pPg ? pa_pg_reports_replace_pending(pStore, aTaskId, zAgencyId, zPeriod, zPartition) : pa_sqlite_reports_replace_pending(pStore, aTaskId, zAgencyId, zPeriod, zPartition);
}

int pa_store_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow, size_t n, uint8_t *aiOutcome)
{
    return pStore->pPg ? pa_pg_report_insert_many(pStore, aTaskId, aRow, n, aiOutcome) : pa_sqlite_report_insert_many(pStore, aTaskId, aRow, n, aiOutcome);
}

/* One row of the batch call: a replay is refused as it always was (PostgreSQL:
 * PA_EEXISTS, another writer may have stored it after the caller's check). */
int pa_store_report_insert(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *pRow)
{
    uint8_t iOutcome = PA_STORE_ROW_REPLAY;
    PA_GUARD(pa_store_report_insert_many(pStore, aTaskId, pRow, 1, &iOutcome));
    if (iOutcome == PA_STORE_ROW_STORED)
        return PA_OK;
    if (iOutcome == PA_STORE_ROW_BUSY)
        return pa_fail(PA_EBUSY, "report: agency %s's report for %s/%s: another report of the agency for this "
                                 "batch was stored at the same moment; retry (it is then refused, or corrects "
                                 "the other if the task allows corrections)",
                       pRow->zAgencyId, pRow->zPeriod, pRow->zPartition);
    if (pStore->pPg)
        return pa_fail(PA_EEXISTS, "report.report_id: uploaded before (replay; another upload of it was "
                                   "stored at the same moment)");
    return pa_fail(PA_ESTORE, "reports (insert): this report id is stored already");
}

int pa_store_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n, pa_store_report_seen *aSeen)
{
    return pStore->pPg ? pa_pg_reports_seen(pStore, aTaskId, aKey, n, aSeen) : pa_sqlite_reports_seen(pStore, aTaskId, aKey, n, aSeen);
}

int pa_store_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked, char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return pStore->pPg ? pa_pg_reports_pending_period(pStore, aTaskId, bOnlyAsked, zPeriod, pbFound) : pa_sqlite_reports_pending_period(pStore, aTaskId, bOnlyAsked, zPeriod, pbFound);
}

int pa_store_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, uint64_t nMax)
{
    return pStore->pPg ? pa_pg_reports_assign(pStore, aTaskId, aJobId, zPeriod, nMax) : pa_sqlite_reports_assign(pStore, aTaskId, aJobId, zPeriod, nMax);
}

int pa_store_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx)
{
    return pStore->pPg ? pa_pg_job_partitions(pStore, aTaskId, aJobId, xPartition, pCtx) : pa_sqlite_job_partitions(pStore, aTaskId, aJobId, xPartition, pCtx);
}

int pa_store_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx)
{
    return pStore->pPg ? pa_pg_job_reports(pStore, aTaskId, aJobId, xRow, pCtx) : pa_sqlite_job_reports(pStore, aTaskId, aJobId, xRow, pCtx);
}

int pa_store_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow, size_t n)
{
    return pStore->pPg ? pa_pg_reports_settle(pStore, aTaskId, aRow, n) : pa_sqlite_reports_settle(pStore, aTaskId, aRow, n);
}

int pa_store_report_settle(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], const char *zRejectReason)
{
    pa_store_settle_row r = {aReportId, zRejectReason};
    return pa_store_reports_settle(pStore, aTaskId, &r, 1);
}

int pa_store_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *aRow, size_t n)
{
    return pStore->pPg ? pa_pg_report_insert_helper_many(pStore, aTaskId, aRow, n) : pa_sqlite_report_insert_helper_many(pStore, aTaskId, aRow, n);
}

int pa_store_report_insert_helper(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *pRow)
{
    return pa_store_report_insert_helper_many(pStore, aTaskId, pRow, 1);
}

int pa_store_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept, int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept), void *pCtx)
{
    return pStore->pPg ? pa_pg_job_kept(pStore, aTaskId, aJobId, nKept, xRow, pCtx) : pa_sqlite_job_kept(pStore, aTaskId, aJobId, nKept, xRow, pCtx);
}

int pa_store_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zRejectReason)
{
    return pStore->pPg ? pa_pg_reports_reject_unsettled(pStore, aTaskId, aJobId, zRejectReason) : pa_sqlite_reports_reject_unsettled(pStore, aTaskId, aJobId, zRejectReason);
}

int pa_store_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame, uint8_t **ppResp, size_t *pnResp)
{
    return pStore->pPg ? pa_pg_job_answer_get(pStore, aTaskId, aJobId, eStep, aReqHash, pbFound, pbSame, ppResp, pnResp) : pa_sqlite_job_answer_get(pStore, aTaskId, aJobId, eStep, aReqHash, pbFound, pbSame, ppResp, pnResp);
}

int pa_store_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp, int64_t tNow)
{
    return pStore->pPg ? pa_pg_job_answer_put(pStore, aTaskId, aJobId, zPeriod, eStep, aReqHash, pResp, nResp, tNow) : pa_sqlite_job_answer_put(pStore, aTaskId, aJobId, zPeriod, eStep, aReqHash, pResp, nResp, tNow);
}

int pa_store_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return pStore->pPg ? pa_pg_job_period(pStore, aTaskId, aJobId, zPeriod, pbFound) : pa_sqlite_job_period(pStore, aTaskId, aJobId, zPeriod, pbFound);
}

int pa_store_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return pStore->pPg ? pa_pg_job_open(pStore, aTaskId, aJobId, zPeriod, pbFound) : pa_sqlite_job_open(pStore, aTaskId, aJobId, zPeriod, pbFound);
}

int pa_store_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, int64_t tNow)
{
    return pStore->pPg ? pa_pg_job_new(pStore, aTaskId, aJobId, zPeriod, tNow) : pa_sqlite_job_new(pStore, aTaskId, aJobId, zPeriod, tNow);
}

int pa_store_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow)
{
    return pStore->pPg ? pa_pg_job_finish(pStore, aTaskId, aJobId, tNow) : pa_sqlite_job_finish(pStore, aTaskId, aJobId, tNow);
}

int pa_store_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    return pStore->pPg ? pa_pg_job_claim(pStore, aTaskId, zOwner, tNow, tExpiry, aJobId, zPeriod, pbFound) : pa_sqlite_job_claim(pStore, aTaskId, zOwner, tNow, tExpiry, aJobId, zPeriod, pbFound);
}

int pa_store_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry)
{
    return pStore->pPg ? pa_pg_job_lease_take(pStore, aTaskId, aJobId, zOwner, tExpiry) : pa_sqlite_job_lease_take(pStore, aTaskId, aJobId, zOwner, tExpiry);
}

int pa_store_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry, int *pbHeld)
{
    return pStore->pPg ? pa_pg_job_lease_renew(pStore, aTaskId, aJobId, zOwner, tExpiry, pbHeld) : pa_sqlite_job_lease_renew(pStore, aTaskId, aJobId, zOwner, tExpiry, pbHeld);
}

int pa_store_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner)
{
    return pStore->pPg ? pa_pg_job_lease_release(pStore, aTaskId, aJobId, zOwner) : pa_sqlite_job_lease_release(pStore, aTaskId, aJobId, zOwner);
}

int pa_store_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, pa_store_cjob *pJob, int *pbFound)
{
    return pStore->pPg ? pa_pg_cjob_claim(pStore, aTaskId, zOwner, tNow, tExpiry, pJob, pbFound) : pa_sqlite_cjob_claim(pStore, aTaskId, zOwner, tNow, tExpiry, pJob, pbFound);
}

int pa_store_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner, int64_t tExpiry, int *pbHeld)
{
    return pStore->pPg ? pa_pg_cjob_lease_renew(pStore, aTaskId, aCollectionId, zOwner, tExpiry, pbHeld) : pa_sqlite_cjob_lease_renew(pStore, aTaskId, aCollectionId, zOwner, tExpiry, pbHeld);
}

int pa_store_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner)
{
    return pStore->pPg ? pa_pg_cjob_lease_release(pStore, aTaskId, aCollectionId, zOwner) : pa_sqlite_cjob_lease_release(pStore, aTaskId, aCollectionId, zOwner);
}

int pa_store_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds, size_t nChunk, pa_retention_result *pOut)
{
    return pStore->pPg ? pa_pg_retire(pStore, aTaskId, tNow, nAgeSeconds, nChunk, pOut) : pa_sqlite_retire(pStore, aTaskId, tNow, nAgeSeconds, nChunk, pOut);
}

int pa_store_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *pStats)
{
    return pStore->pPg ? pa_pg_stats_read(pStore, zPath, pStats) : pa_sqlite_stats_read(pStore, zPath, pStats);
}

int pa_store_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx)
{
    return pStore->pPg ? pa_pg_batches_walk(pStore, aTaskId, xBatch, pCtx)
                       : pa_sqlite_batches_walk(pStore, aTaskId, xBatch, pCtx);
}
