/*
 * Stored answers of job steps and the settling of reports (see job_store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/job_store.h"
#include "common/ct.h"
#include "common/guard.h"

int pa_job_stored_answer(const pa_aggregator *a, const uint8_t aJobId[16], pa_job_phase ePhase,
                         const uint8_t aReqHash[32], int *pbFound, uint8_t **ppResp, size_t *pnResp)
{
    sqlite3_stmt *s;
    int rc = PA_OK;

    *pbFound = 0;
    *ppResp = NULL;
    *pnResp = 0;
    PA_GUARD(pa_agg_prepare(a, &s, ePhase == PA_JOB_STEP_INIT
                                       ? "SELECT init_hash, init_resp FROM jobs WHERE task_id = ?1 AND job_id = ?2"
                                       : "SELECT cont_hash, cont_resp FROM jobs WHERE task_id = ?1 AND job_id = ?2"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, aJobId, 16, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *pbFound = 1;
        if (sqlite3_column_bytes(s, 0) != 32 || memcmp(sqlite3_column_blob(s, 0), aReqHash, 32) != 0) {
            rc = pa_fail(PA_EEXISTS, "job: this job id was used before with other content");
        } else {
            size_t n = (size_t)sqlite3_column_bytes(s, 1);
            *ppResp = malloc(n ? n : 1);
            if (*ppResp == NULL)
                rc = pa_fail(PA_ENOMEM, "job: out of memory");
            else {
                if (n)
                    memcpy(*ppResp, sqlite3_column_blob(s, 1), n);
                *pnResp = n;
            }
        }
    }
    pa_agg_release(a, s);
    return rc;
}

int pa_job_store_answer(const pa_aggregator *a, const uint8_t aJobId[16], const char *zPeriod,
                        pa_job_phase ePhase, const uint8_t aReqHash[32], const uint8_t *pResp, size_t nResp)
{
    sqlite3_stmt *s;
    int64_t now = pa_agg_now(a);

    if (ePhase == PA_JOB_STEP_INIT) {
        PA_GUARD(pa_agg_prepare(a, &s, "INSERT INTO jobs(task_id, job_id, period, state, init_hash,"
                                       " init_resp, created_at, updated_at)"
                                       " VALUES (?1, ?2, ?3, 'started', ?5, ?6, ?7, ?7)"));
        sqlite3_bind_text(s, 3, zPeriod, -1, SQLITE_STATIC);
    } else {
        PA_GUARD(pa_agg_prepare(a, &s, "UPDATE jobs SET state = 'finished', cont_hash = ?5,"
                                       " cont_resp = ?6, updated_at = ?7 WHERE task_id = ?1 AND job_id = ?2"));
    }
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, aJobId, 16, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, aReqHash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 6, pResp, (int)nResp, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, now);
    return pa_agg_step_done(a, s, "jobs");
}

static pa_job_sum *sum_for(const pa_aggregator *a, pa_job_sums *p, const char *zPartition)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->a[i].zPartition, zPartition) == 0)
            return &p->a[i];
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        pa_job_sum *aNew = realloc(p->a, cap * sizeof *aNew);
        if (aNew == NULL)
            return NULL;
        p->a = aNew;
        p->cap = cap;
    }
    pa_job_sum *s = &p->a[p->n];
    memset(s, 0, sizeof *s);
    snprintf(s->zPartition, sizeof s->zPartition, "%s", zPartition);
    s->pAgg = malloc(a->nAggShare);
    if (s->pAgg == NULL)
        return NULL;
    pa_prio3_agg_init(a->pVdaf, s->pAgg);
    p->n++;
    return s;
}

int pa_job_sums_add(const pa_aggregator *a, pa_job_sums *pSums, const char *zPartition,
                    pa_reject_reason eReject, const uint8_t *pOutShare)
{
    if (eReject == PA_REJECT_REPLAY)
        return PA_OK;
    pa_job_sum *s = sum_for(a, pSums, zPartition);
    if (s == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    if (eReject != PA_REJECT_NONE) {
        s->nRejected++;
        return PA_OK;
    }
    s->nAccepted++;
    return pa_prio3_agg_update(a->pVdaf, s->pAgg, pOutShare, a->nOutShare);
}

int pa_job_sums_commit(const pa_aggregator *a, const pa_job_sums *pSums, const char *zPeriod)
{
    for (size_t i = 0; i < pSums->n; i++) {
        const pa_job_sum *s = &pSums->a[i];
        PA_GUARD(pa_agg_batch_merge(a, zPeriod, s->zPartition, s->pAgg, s->nAccepted, s->nRejected));
    }
    return PA_OK;
}

void pa_job_sums_free(const pa_aggregator *a, pa_job_sums *pSums)
{
    for (size_t i = 0; i < pSums->n; i++) {
        if (pSums->a[i].pAgg)
            pa_wipe(pSums->a[i].pAgg, a->nAggShare);
        free(pSums->a[i].pAgg);
    }
    free(pSums->a);
    memset(pSums, 0, sizeof *pSums);
}

int pa_job_settle_report(const pa_aggregator *a, pa_job_sums *pSums, const uint8_t aReportId[16],
                         const char *zPartition, pa_reject_reason eReject, const uint8_t *pOutShare)
{
    sqlite3_stmt *s;

    PA_GUARD(pa_job_sums_add(a, pSums, zPartition, eReject, pOutShare));
    PA_GUARD(pa_agg_prepare(a, &s, "DELETE FROM report_data WHERE report ="
                                   " (SELECT id FROM reports WHERE task_id = ?1 AND report_id = ?2)"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, aReportId, 16, SQLITE_STATIC);
    PA_GUARD(pa_agg_step_done(a, s, "report_data (settle)"));
    PA_GUARD(pa_agg_prepare(a, &s, "UPDATE reports SET state = ?3, reject_reason = ?4,"
                                   " verify_state = NULL WHERE task_id = ?1 AND report_id = ?2"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, aReportId, 16, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, eReject == PA_REJECT_NONE ? "accepted" : "rejected", -1, SQLITE_STATIC);
    if (eReject == PA_REJECT_NONE)
        sqlite3_bind_null(s, 4);
    else
        sqlite3_bind_text(s, 4, pa_reject_reason_name(eReject), -1, SQLITE_STATIC);
    return pa_agg_step_done(a, s, "reports (settle)");
}
