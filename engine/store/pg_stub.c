/*
 * Placeholder of the PostgreSQL backend while the seam lands: every pa_pg_*
 * function refuses with PA_ESTORE, so that a "postgresql://" store fails at
 * open with a clear message.  Replaced by pg_store.c and the pg_*.c files.
 */
#include "privagg/common.h"
#include "store/internal.h"

static int not_yet(void)
{
    return pa_fail(PA_ESTORE, "store: the PostgreSQL backend is not built yet; use a file path");
}

int pa_pg_open(pa_store **ppStore, const char *zUrl)
{
    (void)zUrl;
    *ppStore = NULL;
    return not_yet();
}

int pa_pg_open_readonly(pa_store **ppStore, const char *zUrl)
{
    return pa_pg_open(ppStore, zUrl);
}

int pa_pg_open_probe(pa_store **ppStore, const char *zUrl)
{
    return pa_pg_open(ppStore, zUrl);
}

void pa_pg_close(pa_store *pStore)
{
    (void)pStore;
}

int pa_pg_exec(pa_store *pStore, const char *zSql)
{
    (void)pStore;
    (void)zSql;
    return not_yet();
}

int pa_pg_query_int(pa_store *pStore, const char *zSql, int64_t *pn)
{
    (void)pStore;
    (void)zSql;
    *pn = 0;
    return not_yet();
}

int pa_pg_probe_writable(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

int pa_pg_begin(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

int pa_pg_commit(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

void pa_pg_rollback(pa_store *pStore)
{
    (void)pStore;
}

int pa_pg_savepoint(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

int pa_pg_savepoint_release(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

int pa_pg_savepoint_rollback(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

void pa_pg_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx)
{
    (void)pStore;
    (void)xOnWal;
    (void)pCtx;
}

int pa_pg_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied)
{
    (void)pStore;
    (void)pnLog;
    (void)pnCopied;
    return not_yet();
}

int pa_pg_ledger_present(pa_store *pStore, int *pbPresent)
{
    (void)pStore;
    (void)pbPresent;
    return not_yet();
}

int pa_pg_ledger_init(pa_store *pStore)
{
    (void)pStore;
    return not_yet();
}

int pa_pg_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32])
{
    (void)pStore;
    (void)piSeq;
    (void)aHash;
    return not_yet();
}

int pa_pg_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod, int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx)
{
    (void)pStore;
    (void)zTaskId;
    (void)zPeriod;
    (void)xRow;
    (void)pCtx;
    return not_yet();
}

int pa_pg_ledger_append(pa_store *pStore, const pa_store_ledger_row *pRow)
{
    (void)pStore;
    (void)pRow;
    return not_yet();
}

int pa_pg_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow), void *pCtx)
{
    (void)pStore;
    (void)xRow;
    (void)pCtx;
    return not_yet();
}

int pa_pg_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny)
{
    (void)pStore;
    (void)zTaskId;
    (void)pMax;
    (void)pbAny;
    return not_yet();
}

int pa_pg_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, pa_store_collection *pOut, int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pOut;
    (void)pbFound;
    return not_yet();
}

int pa_pg_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t aCollectionId[16], const uint8_t *pResponse, size_t nResponse, int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)aCollectionId;
    (void)pResponse;
    (void)nResponse;
    (void)tNow;
    return not_yet();
}

int pa_pg_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int *pbCollected)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pbCollected;
    return not_yet();
}

int pa_pg_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition, const uint8_t *pRequest, size_t nRequest, int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)aCollectionId;
    (void)zPeriod;
    (void)zPartition;
    (void)pRequest;
    (void)nRequest;
    (void)tNow;
    return not_yet();
}

int pa_pg_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob *pJob, int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)aCollectionId;
    (void)pJob;
    (void)pbFound;
    return not_yet();
}

int pa_pg_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob, int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)tNow;
    (void)pJob;
    (void)pbFound;
    return not_yet();
}

int pa_pg_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt, int64_t tNext, int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)aCollectionId;
    (void)eState;
    (void)iCode;
    (void)zDetail;
    (void)bAttempt;
    (void)tNext;
    (void)tNow;
    return not_yet();
}

int pa_pg_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pAgg;
    (void)nAgg;
    (void)pbFound;
    return not_yet();
}

int pa_pg_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport, uint64_t nRejected)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pAgg;
    (void)nAgg;
    (void)nReport;
    (void)nRejected;
    return not_yet();
}

int pa_pg_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)xRow;
    (void)pCtx;
    return not_yet();
}

int pa_pg_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    return not_yet();
}

int pa_pg_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn)
{
    (void)pStore;
    (void)aTaskId;
    (void)iLevel;
    (void)pn;
    return not_yet();
}

int pa_pg_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, const uint8_t *pNoise, size_t nNoise)
{
    (void)pStore;
    (void)aTaskId;
    (void)iLevel;
    (void)pNoise;
    (void)nNoise;
    return not_yet();
}

int pa_pg_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int iLevel, int *pbEmpty)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)iLevel;
    (void)pbEmpty;
    return not_yet();
}

int pa_pg_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pNoise;
    (void)nNoise;
    (void)pbFound;
    return not_yet();
}

int pa_pg_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pn;
    return not_yet();
}

int pa_pg_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn)
{
    (void)pStore;
    (void)aTaskId;
    (void)zPeriod;
    (void)zPartition;
    (void)pn;
    return not_yet();
}

int pa_pg_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists)
{
    (void)pStore;
    (void)aTaskId;
    (void)aReportId;
    (void)pbExists;
    return not_yet();
}

int pa_pg_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending)
{
    (void)pStore;
    (void)aTaskId;
    (void)zAgencyId;
    (void)zPeriod;
    (void)zPartition;
    (void)pnCounting;
    (void)pnPending;
    return not_yet();
}

int pa_pg_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition)
{
    (void)pStore;
    (void)aTaskId;
    (void)zAgencyId;
    (void)zPeriod;
    (void)zPartition;
    return not_yet();
}

int pa_pg_report_insert(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *pRow)
{
    (void)pStore;
    (void)aTaskId;
    (void)pRow;
    return not_yet();
}

int pa_pg_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked, char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)bOnlyAsked;
    (void)zPeriod;
    (void)pbFound;
    return not_yet();
}

int pa_pg_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, uint64_t nMax)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zPeriod;
    (void)nMax;
    return not_yet();
}

int pa_pg_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)xPartition;
    (void)pCtx;
    return not_yet();
}

int pa_pg_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)xRow;
    (void)pCtx;
    return not_yet();
}

int pa_pg_report_settle(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], const char *zRejectReason)
{
    (void)pStore;
    (void)aTaskId;
    (void)aReportId;
    (void)zRejectReason;
    return not_yet();
}

int pa_pg_report_insert_helper(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *pRow)
{
    (void)pStore;
    (void)aTaskId;
    (void)pRow;
    return not_yet();
}

int pa_pg_report_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const uint8_t aReportId[16], uint8_t *pKept, size_t nKept, char zPartition[PA_STORE_PARTITION_SIZE], int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)aReportId;
    (void)pKept;
    (void)nKept;
    (void)zPartition;
    (void)pbFound;
    return not_yet();
}

int pa_pg_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zRejectReason)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zRejectReason;
    return not_yet();
}

int pa_pg_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame, uint8_t **ppResp, size_t *pnResp)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)eStep;
    (void)aReqHash;
    (void)pbFound;
    (void)pbSame;
    (void)ppResp;
    (void)pnResp;
    return not_yet();
}

int pa_pg_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp, int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zPeriod;
    (void)eStep;
    (void)aReqHash;
    (void)pResp;
    (void)nResp;
    (void)tNow;
    return not_yet();
}

int pa_pg_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zPeriod;
    (void)pbFound;
    return not_yet();
}

int pa_pg_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zPeriod;
    (void)pbFound;
    return not_yet();
}

int pa_pg_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)zPeriod;
    (void)tNow;
    return not_yet();
}

int pa_pg_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow)
{
    (void)pStore;
    (void)aTaskId;
    (void)aJobId;
    (void)tNow;
    return not_yet();
}

int pa_pg_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds, size_t nChunk, pa_retention_result *pOut)
{
    (void)pStore;
    (void)aTaskId;
    (void)tNow;
    (void)nAgeSeconds;
    (void)nChunk;
    (void)pOut;
    return not_yet();
}

int pa_pg_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *pStats)
{
    (void)pStore;
    (void)zPath;
    (void)pStats;
    return not_yet();
}
