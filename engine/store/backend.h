/*
 * The store's two backends behind include/privagg/store.h (engine/store/ only).
 *
 * Every public pa_store_* function is defined once, in backend.c, and hands
 * its arguments to pa_sqlite_<name> (the SQLite files: store.c,
 * report_store.c, ...) or pa_pg_<name> (the PostgreSQL files: pg_*.c), by
 * whether the handle holds a PostgreSQL connection (pStore->pPg).  Both
 * declarations are listed here, side by side, so that a function added to one
 * backend is seen missing from the other.  A function a backend does not have
 * yet may stay a plain pa_store_* definition in its SQLite file: on a
 * PostgreSQL store the SQLite statement helpers then fail with PA_ESTORE
 * naming the statement, never touch a NULL connection (store.c).
 */
#ifndef PA_STORE_BACKEND_H
#define PA_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/retention.h"
#include "privagg/store.h"

/* 1 if zPath names a PostgreSQL database ("postgresql://" or "postgres://"). */
int pa_store_path_is_pg(const char *zPath);

/* ---- SQLite (store.c and the table files) ---- */
int pa_sqlite_open(pa_store **ppStore, const char *zPath);
int pa_sqlite_open_readonly(pa_store **ppStore, const char *zPath);
int pa_sqlite_open_probe(pa_store **ppStore, const char *zPath);
int pa_sqlite_check_private(const char *zPath);
int pa_sqlite_check_writable(const char *zPath);
void pa_sqlite_close(pa_store *pStore);
int pa_sqlite_probe_writable(pa_store *pStore);
int pa_sqlite_begin(pa_store *pStore);
int pa_sqlite_commit(pa_store *pStore);
void pa_sqlite_rollback(pa_store *pStore);
int pa_sqlite_savepoint(pa_store *pStore);
int pa_sqlite_savepoint_release(pa_store *pStore);
int pa_sqlite_savepoint_rollback(pa_store *pStore);
void pa_sqlite_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx);
int pa_sqlite_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied);
int pa_sqlite_analyze(pa_store *pStore, int *pnAnalyzed);
int pa_sqlite_ledger_present(pa_store *pStore, int *pbPresent);
int pa_sqlite_ledger_init(pa_store *pStore);
int pa_sqlite_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32]);
int pa_sqlite_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod, int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx);
int pa_sqlite_ledger_append(pa_store *pStore, const pa_store_ledger_row *pRow);
int pa_sqlite_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow), void *pCtx);
int pa_sqlite_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny);
int pa_sqlite_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, pa_store_collection *pOut, int *pbFound);
int pa_sqlite_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t aCollectionId[16], const uint8_t *pResponse, size_t nResponse, int64_t tNow);
int pa_sqlite_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int *pbCollected);
int pa_sqlite_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition, const uint8_t *pRequest, size_t nRequest, int64_t tNow);
int pa_sqlite_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob *pJob, int *pbFound);
int pa_sqlite_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob, int *pbFound);
int pa_sqlite_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt, int64_t tNext, int64_t tNow);
int pa_sqlite_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound);
int pa_sqlite_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport, uint64_t nRejected);
int pa_sqlite_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const pa_store_batch_row *aRow, size_t n);
int pa_sqlite_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *const *azPartition, size_t n, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx);
int pa_sqlite_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx);
int pa_sqlite_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition);
int pa_sqlite_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn);
int pa_sqlite_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, const uint8_t *pNoise, size_t nNoise);
int pa_sqlite_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int iLevel, int *pbEmpty);
int pa_sqlite_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound);
int pa_sqlite_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn);
int pa_sqlite_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t **ppIds, size_t *pnIds);
int pa_sqlite_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn);
int pa_sqlite_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists);
int pa_sqlite_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending);
int pa_sqlite_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition);
int pa_sqlite_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow, size_t n, uint8_t *aiOutcome);
int pa_sqlite_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n, pa_store_report_seen *aSeen);
int pa_sqlite_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked, char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_sqlite_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, uint64_t nMax);
int pa_sqlite_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx);
int pa_sqlite_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx);
int pa_sqlite_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow, size_t n);
int pa_sqlite_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *aRow, size_t n);
int pa_sqlite_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept, int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept), void *pCtx);
int pa_sqlite_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zRejectReason);
int pa_sqlite_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame, uint8_t **ppResp, size_t *pnResp);
int pa_sqlite_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp, int64_t tNow);
int pa_sqlite_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_sqlite_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_sqlite_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, int64_t tNow);
int pa_sqlite_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_sqlite_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry);
int pa_sqlite_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry, int *pbHeld);
int pa_sqlite_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner);
int pa_sqlite_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, pa_store_cjob *pJob, int *pbFound);
int pa_sqlite_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner, int64_t tExpiry, int *pbHeld);
int pa_sqlite_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner);
int pa_sqlite_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow);
int pa_sqlite_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds, size_t nChunk, pa_retention_result *pOut);
int pa_sqlite_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx);
int pa_sqlite_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *pStats);

/* ---- PostgreSQL (pg_store.c and the pg_*.c table files) ---- */
int pa_pg_open(pa_store **ppStore, const char *zUrl);
int pa_pg_open_readonly(pa_store **ppStore, const char *zUrl);
int pa_pg_open_probe(pa_store **ppStore, const char *zUrl);
void pa_pg_close(pa_store *pStore);
int pa_pg_probe_writable(pa_store *pStore);
int pa_pg_begin(pa_store *pStore);
int pa_pg_commit(pa_store *pStore);
void pa_pg_rollback(pa_store *pStore);
int pa_pg_savepoint(pa_store *pStore);
int pa_pg_savepoint_release(pa_store *pStore);
int pa_pg_savepoint_rollback(pa_store *pStore);
void pa_pg_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx);
int pa_pg_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied);
int pa_pg_analyze(pa_store *pStore, int *pnAnalyzed);
int pa_pg_ledger_present(pa_store *pStore, int *pbPresent);
int pa_pg_ledger_init(pa_store *pStore);
int pa_pg_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32]);
int pa_pg_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod, int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx);
int pa_pg_ledger_append(pa_store *pStore, const pa_store_ledger_row *pRow);
int pa_pg_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow), void *pCtx);
int pa_pg_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny);
int pa_pg_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, pa_store_collection *pOut, int *pbFound);
int pa_pg_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t aCollectionId[16], const uint8_t *pResponse, size_t nResponse, int64_t tNow);
int pa_pg_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int *pbCollected);
int pa_pg_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition, const uint8_t *pRequest, size_t nRequest, int64_t tNow);
int pa_pg_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob *pJob, int *pbFound);
int pa_pg_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob, int *pbFound);
int pa_pg_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt, int64_t tNext, int64_t tNow);
int pa_pg_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound);
int pa_pg_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport, uint64_t nRejected);
int pa_pg_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const pa_store_batch_row *aRow, size_t n);
int pa_pg_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *const *azPartition, size_t n, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx);
int pa_pg_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx);
int pa_pg_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition);
int pa_pg_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn);
int pa_pg_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, const uint8_t *pNoise, size_t nNoise);
int pa_pg_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, int iLevel, int *pbEmpty);
int pa_pg_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound);
int pa_pg_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn);
int pa_pg_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint8_t **ppIds, size_t *pnIds);
int pa_pg_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, const char *zPartition, uint64_t *pn);
int pa_pg_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists);
int pa_pg_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending);
int pa_pg_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod, const char *zPartition);
int pa_pg_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow, size_t n, uint8_t *aiOutcome);
int pa_pg_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n, pa_store_report_seen *aSeen);
int pa_pg_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked, char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_pg_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, uint64_t nMax);
int pa_pg_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx);
int pa_pg_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx);
int pa_pg_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow, size_t n);
int pa_pg_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *aRow, size_t n);
int pa_pg_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept, int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept), void *pCtx);
int pa_pg_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zRejectReason);
int pa_pg_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame, uint8_t **ppResp, size_t *pnResp);
int pa_pg_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp, int64_t tNow);
int pa_pg_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_pg_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_pg_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod, int64_t tNow);
int pa_pg_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);
int pa_pg_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry);
int pa_pg_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner, int64_t tExpiry, int *pbHeld);
int pa_pg_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zOwner);
int pa_pg_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow, int64_t tExpiry, pa_store_cjob *pJob, int *pbFound);
int pa_pg_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner, int64_t tExpiry, int *pbHeld);
int pa_pg_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16], const char *zOwner);
int pa_pg_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow);
int pa_pg_retire(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, int64_t nAgeSeconds, size_t nChunk, pa_retention_result *pOut);
int pa_pg_batches_walk(pa_store *pStore, const uint8_t aTaskId[32], pa_store_batch_fn xBatch, void *pCtx);
int pa_pg_stats_read(pa_store *pStore, const char *zPath, pa_store_stats *pStats);

/* Run SQL with no result rows and no parameters (DDL, tests). */
int pa_pg_exec(pa_store *pStore, const char *zSql);
/* The first column of the first row of zSql as an integer (tests). */
int pa_pg_query_int(pa_store *pStore, const char *zSql, int64_t *pn);
int pa_sqlite_query_int(pa_store *pStore, const char *zSql, int64_t *pn);

#endif
