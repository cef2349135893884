/*
 * Leader: aggregation jobs.  The leader opened its share and ran verify_init
 * when each report was uploaded (engine/aggregator/upload.c), so its store holds
 * per report only its verify state, its verifier share and the helper's parts.
 * A job takes up to nJobSize pending reports of one period (any partitions),
 * marks them 'aggregating' (and draws the release noise of every batch it
 * touches, off the request path), then:
 *   1. init step: sends the reports with its own verifier shares to the helper,
 *      which decides each report itself (both shares combined); gets the
 *      helper's verifier shares of the reports the helper found valid;
 *   2. decides itself: combines both verifier shares into the verifier message
 *      and runs verify_next; continue step: sends the messages (or reasons), and
 *      learns which reports the helper summed;
 *   3. in one transaction, sums exactly those output shares and settles every
 *      report (accepted or rejected with its reason): a report counts only if
 *      both aggregators decided it valid.
 * Every request is rebuilt deterministically from the store, so a job that
 * failed half-way (helper down, leader restarted) is resumed by sending the same
 * bytes again; the helper answers from its stored answers and nothing is summed
 * twice.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "aggregator/job_store.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/report.h"

typedef struct {
    uint8_t aReportId[16];
    char zAgencyId[65];
    char zPartition[65];
    uint8_t aLeaderDigest[32];
    uint8_t aHelperEnc[32];
    uint8_t aSignature[64];
    uint8_t *pPublicShare;     /* owned copies of the stored parts */
    uint8_t *pHelperCt;
    uint8_t *pState;           /* leader verify state (secret) */
    uint8_t *pVerifierShare;
    uint8_t *pOutShare;        /* secret */
    pa_reject_reason eReject;
    size_t iCont;              /* 1 + its index in the continue step, 0 if not continued */
} job_report;

typedef struct {
    uint8_t aJobId[16];
    char zPeriod[8];           /* a job spans the partitions of one period */
    size_t n;
    job_report *aRep;
} job;

static void job_free(const pa_aggregator *a, job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        job_report *p = &j->aRep[i];
        if (p->pState)
            pa_wipe(p->pState, a->nVerifyState);
        if (p->pOutShare)
            pa_wipe(p->pOutShare, a->nOutShare);
        free(p->pPublicShare);
        free(p->pHelperCt);
        free(p->pState);
        free(p->pVerifierShare);
        free(p->pOutShare);
    }
    free(j->aRep);
    j->aRep = NULL;
    j->n = 0;
}

/* A stored blob of exactly n bytes, copied (NULL and a DECODE reason otherwise). */
static uint8_t *blob(sqlite3_stmt *s, int iCol, size_t n, job_report *p)
{
    uint8_t *q;
    if ((size_t)sqlite3_column_bytes(s, iCol) != n) {
        p->eReject = PA_REJECT_DECODE;
        return NULL;
    }
    q = malloc(n + 1);
    if (q != NULL && n > 0)
        memcpy(q, sqlite3_column_blob(s, iCol), n);
    return q;
}

static void fixed(sqlite3_stmt *s, int iCol, uint8_t *pOut, size_t n, job_report *p)
{
    if ((size_t)sqlite3_column_bytes(s, iCol) != n)
        p->eReject = PA_REJECT_DECODE;
    else
        memcpy(pOut, sqlite3_column_blob(s, iCol), n);
}

/* Load the job's reports (ordered by report id, so requests are reproducible). */
static int job_load(const pa_aggregator *a, job *j)
{
    sqlite3_stmt *s;
    size_t cap = 0;
    int rc = PA_OK;

    PA_GUARD(pa_agg_prepare(a, &s, "SELECT r.report_id, r.agency_id, r.partition, r.leader_digest,"
                                   " d.public_share, d.helper_enc, d.helper_ct, d.signature,"
                                   " d.verify_state, d.verifier_share"
                                   " FROM reports r JOIN report_data d"
                                   " ON d.report = r.id"
                                   " WHERE r.task_id = ?1 AND r.job_id = ?2 AND r.state = 'aggregating'"
                                   " ORDER BY r.report_id"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, j->aJobId, 16, SQLITE_STATIC);
    while (rc == PA_OK && sqlite3_step(s) == SQLITE_ROW) {
        if (j->n == cap) {
            cap = cap ? 2 * cap : 64;
            job_report *q = realloc(j->aRep, cap * sizeof *q);
            if (q == NULL) {
                rc = pa_fail(PA_ENOMEM, "job: out of memory");
                break;
            }
            j->aRep = q;
        }
        job_report *p = &j->aRep[j->n++];
        memset(p, 0, sizeof *p);
        memcpy(p->aReportId, sqlite3_column_blob(s, 0), 16);
        snprintf(p->zAgencyId, sizeof p->zAgencyId, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(p->zPartition, sizeof p->zPartition, "%s", (const char *)sqlite3_column_text(s, 2));
        fixed(s, 3, p->aLeaderDigest, 32, p);
        p->pPublicShare = blob(s, 4, a->sizes.nPublicShare, p);
        fixed(s, 5, p->aHelperEnc, 32, p);
        p->pHelperCt = blob(s, 6, a->sizes.nHelperCt, p);
        fixed(s, 7, p->aSignature, 64, p);
        p->pState = blob(s, 8, a->nVerifyState, p);
        p->pVerifierShare = blob(s, 9, a->sizes.nVerifierShare, p);
        p->pOutShare = malloc(a->nOutShare + 1);
        if (p->pOutShare == NULL || (p->eReject == PA_REJECT_NONE &&
                                     (!p->pPublicShare || !p->pHelperCt || !p->pState || !p->pVerifierShare)))
            rc = pa_fail(PA_ENOMEM, "job: out of memory");
    }
    pa_agg_release(a, s);
    return rc;
}

/* Step 1: the init request (every report whose stored parts are intact) and the
 * helper's answer. */
static int init_exchange(const pa_aggregator *a, job *j, pa_helper_transport xCall, void *pCtx,
                         uint8_t **ppResp, size_t *pnResp, pa_job_step *pResp)
{
    pa_job_req m;
    uint8_t *pReq;
    size_t nReq, k = 0;
    int rc;

    memset(&m, 0, sizeof m);
    memcpy(m.aTaskId, a->pTask->aTaskId, 32);
    memcpy(m.aJobId, j->aJobId, 16);
    memcpy(m.zPeriod, j->zPeriod, sizeof m.zPeriod);
    m.aItem = calloc(j->n + 1, sizeof *m.aItem);
    if (m.aItem == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; i < j->n; i++) {
        const job_report *p = &j->aRep[i];
        if (p->eReject != PA_REJECT_NONE)
            continue;
        pa_job_item *it = &m.aItem[k++];
        memcpy(it->aReportId, p->aReportId, 16);
        memcpy(it->zAgencyId, p->zAgencyId, sizeof it->zAgencyId);
        memcpy(it->zPartition, p->zPartition, sizeof it->zPartition);
        it->pPublicShare = p->pPublicShare;
        memcpy(it->aLeaderDigest, p->aLeaderDigest, 32);
        memcpy(it->aHelperEnc, p->aHelperEnc, 32);
        it->pHelperCt = p->pHelperCt;
        memcpy(it->aSignature, p->aSignature, 64);
        it->pLeaderVerifierShare = p->pVerifierShare; /* the helper decides too */
    }
    m.nItem = k;
    rc = pa_job_req_encode(&pReq, &nReq, &m, &a->sizes);
    free(m.aItem);
    if (rc != PA_OK)
        return rc;
    rc = xCall(pCtx, "job/init", pReq, nReq, ppResp, pnResp);
    free(pReq);
    if (rc != PA_OK)
        return rc;
    rc = pa_job_step_decode(pResp, PA_STEP_INIT_RESP, *ppResp, *pnResp, &a->sizes);
    if (rc == PA_OK && (pResp->nItem != k || memcmp(pResp->aJobId, j->aJobId, 16) != 0))
        rc = pa_fail(PA_EDECODE, "job/init answer: %zu reports for job, expected %zu", pResp->nItem, k);
    for (size_t i = 0, t = 0; rc == PA_OK && i < j->n; i++) {
        if (j->aRep[i].eReject != PA_REJECT_NONE)
            continue;
        if (memcmp(pResp->aItem[t].aReportId, j->aRep[i].aReportId, 16) != 0)
            rc = pa_fail(PA_EDECODE, "job/init answer: report %zu is not the one sent", t);
        t++;
    }
    return rc;
}

/* Step 2: verifier messages, the continue request and the helper's finish answer. */
static int continue_exchange(const pa_aggregator *a, job *j, const pa_job_step *pInit,
                             pa_helper_transport xCall, void *pCtx, uint8_t **ppResp, size_t *pnResp,
                             pa_job_step *pFinish)
{
    pa_job_step m;
    size_t nMsg = a->sizes.nVerifierMessage, k = 0, t = 0;
    uint8_t *pMsgs = malloc(j->n * nMsg + 1), *pReq;
    size_t nReq;
    int rc = PA_OK;

    memset(&m, 0, sizeof m);
    m.aItem = calloc(j->n + 1, sizeof *m.aItem);
    if (pMsgs == NULL || m.aItem == NULL) {
        free(pMsgs);
        free(m.aItem);
        return pa_fail(PA_ENOMEM, "job: out of memory");
    }
    for (size_t i = 0; rc == PA_OK && i < j->n; i++) {
        job_report *p = &j->aRep[i];
        if (p->eReject != PA_REJECT_NONE)
            continue; /* not sent */
        const pa_job_step_item *h = &pInit->aItem[t++];
        if (h->eReject != PA_REJECT_NONE) {
            p->eReject = h->eReject; /* the helper refused it: it is not continued */
            continue;
        }
        const uint8_t *apShares[2] = {p->pVerifierShare, h->pPayload};
        size_t anLen[2] = {a->sizes.nVerifierShare, a->sizes.nVerifierShare};
        pa_job_step_item *o = &m.aItem[k++];
        p->iCont = k;
        memcpy(o->aReportId, p->aReportId, 16);
        o->pPayload = pMsgs + (k - 1) * nMsg;
        int v = pa_prio3_verifier_shares_to_message(a->pVdaf, a->aCtx, a->nCtx, apShares, anLen,
                                                    pMsgs + (k - 1) * nMsg);
        if (v == PA_OK)
            v = pa_prio3_verify_next(a->pVdaf, p->pState, a->nVerifyState, pMsgs + (k - 1) * nMsg,
                                     nMsg, p->pOutShare);
        if (v == PA_EVERIFY || v == PA_EDECODE)
            o->eReject = p->eReject = PA_REJECT_PROOF;
        else if (v != PA_OK)
            rc = v;
    }
    memcpy(m.aTaskId, a->pTask->aTaskId, 32);
    memcpy(m.aJobId, j->aJobId, 16);
    m.eStep = PA_STEP_CONTINUE;
    m.nItem = k;
    if (rc == PA_OK)
        rc = pa_job_step_encode(&pReq, &nReq, &m, &a->sizes);
    free(m.aItem);
    free(pMsgs);
    if (rc != PA_OK)
        return rc;
    rc = xCall(pCtx, "job/continue", pReq, nReq, ppResp, pnResp);
    free(pReq);
    if (rc != PA_OK)
        return rc;
    rc = pa_job_step_decode(pFinish, PA_STEP_FINISH, *ppResp, *pnResp, &a->sizes);
    if (rc == PA_OK && (pFinish->nItem != k || memcmp(pFinish->aJobId, j->aJobId, 16) != 0))
        rc = pa_fail(PA_EDECODE, "job/continue answer: %zu reports, expected %zu", pFinish->nItem, k);
    for (size_t i = 0; rc == PA_OK && i < j->n; i++) {
        const job_report *p = &j->aRep[i];
        if (p->iCont && memcmp(pFinish->aItem[p->iCont - 1].aReportId, p->aReportId, 16) != 0)
            rc = pa_fail(PA_EDECODE, "job/continue answer: report %zu is not the one sent", p->iCont - 1);
    }
    return rc;
}

/* Step 3: settle every report in one transaction. */
static int settle(pa_aggregator *a, job *j, const pa_job_step *pFinish, pa_job_stats *pStats)
{
    sqlite3_stmt *s;
    pa_job_sums sums;
    int rc = pa_store_begin(a->pStore);

    memset(&sums, 0, sizeof sums);
    for (size_t i = 0; rc == PA_OK && i < j->n; i++) {
        job_report *p = &j->aRep[i];
        /* summed only if both accepted: the helper's answer decides the rest */
        if (p->iCont && p->eReject == PA_REJECT_NONE)
            p->eReject = pFinish->aItem[p->iCont - 1].eReject;
        rc = pa_job_settle_report(a, &sums, p->aReportId, p->zPartition, p->eReject, p->pOutShare);
        if (p->eReject == PA_REJECT_NONE)
            pStats->nAccepted++;
        else {
            pStats->nRejected++;
            pStats->aRejected[p->eReject]++;
        }
    }
    if (rc == PA_OK)
        rc = pa_job_sums_commit(a, &sums, j->zPeriod);
    pa_job_sums_free(a, &sums);
    if (rc == PA_OK)
        rc = pa_agg_prepare(a, &s, "UPDATE jobs SET state = 'finished', updated_at = ?3"
                                   " WHERE task_id = ?1 AND job_id = ?2");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_blob(s, 2, j->aJobId, 16, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, pa_agg_now(a));
        rc = pa_agg_step_done(a, s, "jobs (finish)");
    }
    if (rc != PA_OK) {
        pa_store_rollback(a->pStore);
        return rc;
    }
    return pa_store_commit(a->pStore);
}

static int run_job(pa_aggregator *a, job *j, pa_helper_transport xCall, void *pCtx, pa_job_stats *pStats)
{
    uint8_t *pInitResp = NULL, *pFinishResp = NULL;
    size_t nInitResp = 0, nFinishResp = 0;
    pa_job_step init, finish;
    int rc;

    memset(&init, 0, sizeof init);
    memset(&finish, 0, sizeof finish);
    rc = job_load(a, j);
    if (rc == PA_OK)
        rc = init_exchange(a, j, xCall, pCtx, &pInitResp, &nInitResp, &init);
    if (rc == PA_OK)
        rc = continue_exchange(a, j, &init, xCall, pCtx, &pFinishResp, &nFinishResp, &finish);
    if (rc == PA_OK)
        rc = settle(a, j, &finish, pStats);
    if (rc == PA_OK)
        pStats->nJobs++;
    pa_job_step_free(&init);
    pa_job_step_free(&finish);
    free(pInitResp);
    free(pFinishResp);
    job_free(a, j);
    return rc;
}

/* The oldest job a previous call left open, if any. */
static int open_job(const pa_aggregator *a, job *j, int *pbFound)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_agg_prepare(a, &s, "SELECT job_id, period FROM jobs WHERE task_id = ?1"
                                   " AND state != 'finished' ORDER BY created_at LIMIT 1"));
    pa_agg_bind_task(a, s, 1);
    *pbFound = sqlite3_step(s) == SQLITE_ROW;
    if (*pbFound) {
        memcpy(j->aJobId, sqlite3_column_blob(s, 0), 16);
        snprintf(j->zPeriod, sizeof j->zPeriod, "%.7s", (const char *)sqlite3_column_text(s, 1));
    }
    pa_agg_release(a, s);
    return PA_OK;
}

/* Draw the release noise of every batch the job touches (off the request path). */
static int job_noise(pa_aggregator *a, const job *j)
{
    sqlite3_stmt *s;
    char aPart[65];
    int rc;

    PA_GUARD(pa_agg_prepare(a, &s, "SELECT DISTINCT partition FROM reports WHERE task_id = ?1 AND job_id = ?2"));
    pa_agg_bind_task(a, s, 1);
    sqlite3_bind_blob(s, 2, j->aJobId, 16, SQLITE_STATIC);
    rc = PA_OK;
    while (rc == PA_OK && sqlite3_step(s) == SQLITE_ROW) {
        snprintf(aPart, sizeof aPart, "%s", (const char *)sqlite3_column_text(s, 0));
        rc = pa_agg_ensure_noise(a, j->zPeriod, aPart);
    }
    pa_agg_release(a, s);
    return rc;
}

/* Start a job over up to nJobSize pending reports of the oldest pending period. */
static int new_job(pa_aggregator *a, job *j, size_t nJobSize, int *pbFound)
{
    sqlite3_stmt *s;
    int rc;

    PA_GUARD(pa_store_begin(a->pStore));
    /* With corrections allowed, a period's reports wait (and a newer report of
     * an agency replaces its older one) until a release of the period is asked
     * for; otherwise they are aggregated as they come. */
    rc = pa_agg_prepare(a, &s, "SELECT period FROM reports r WHERE task_id = ?1 AND state = 'pending'"
                               " AND (NOT ?2 OR EXISTS (SELECT 1 FROM collection_jobs c"
                               "   WHERE c.task_id = r.task_id AND c.period = r.period"
                               "   AND c.state = 'pending'))"
                               " ORDER BY period LIMIT 1");
    if (rc == PA_OK) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_int(s, 2, a->pTask->bAllowCorrections);
        *pbFound = sqlite3_step(s) == SQLITE_ROW;
        if (*pbFound)
            snprintf(j->zPeriod, sizeof j->zPeriod, "%.7s", (const char *)sqlite3_column_text(s, 0));
        pa_agg_release(a, s);
    }
    if (rc == PA_OK && *pbFound) {
        randombytes_buf(j->aJobId, sizeof j->aJobId);
        rc = pa_agg_prepare(a, &s, "INSERT INTO jobs(task_id, job_id, period, state, created_at, updated_at)"
                                   " VALUES (?1, ?2, ?3, 'started', ?4, ?4)");
        if (rc == PA_OK) {
            pa_agg_bind_task(a, s, 1);
            sqlite3_bind_blob(s, 2, j->aJobId, 16, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, j->zPeriod, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 4, pa_agg_now(a));
            rc = pa_agg_step_done(a, s, "jobs (new)");
        }
    }
    if (rc == PA_OK && *pbFound)
        rc = pa_agg_prepare(a, &s, "UPDATE reports SET state = 'aggregating', job_id = ?2 WHERE rowid IN"
                                   " (SELECT rowid FROM reports WHERE task_id = ?1 AND state = 'pending'"
                                   " AND period = ?3 ORDER BY report_id LIMIT ?4)");
    if (rc == PA_OK && *pbFound) {
        pa_agg_bind_task(a, s, 1);
        sqlite3_bind_blob(s, 2, j->aJobId, 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, j->zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, (sqlite3_int64)nJobSize);
        rc = pa_agg_step_done(a, s, "reports (to job)");
    }
    if (rc == PA_OK && *pbFound)
        rc = job_noise(a, j);
    if (rc != PA_OK) {
        pa_store_rollback(a->pStore);
        return rc;
    }
    return pa_store_commit(a->pStore);
}

int pa_leader_run_one_job(pa_aggregator *a, pa_helper_transport xCall, void *pCtx, size_t nJobSize,
                          pa_job_stats *pStats, int *pbDone)
{
    job j;
    int bFound;

    *pbDone = 0;
    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "jobs: only the leader drives aggregation jobs");
    if (nJobSize == 0 || nJobSize > PA_MAX_JOB_REPORTS)
        return pa_fail(PA_EINVAL, "job size: %zu is outside 1..%d", nJobSize, PA_MAX_JOB_REPORTS);
    memset(&j, 0, sizeof j);
    PA_GUARD(open_job(a, &j, &bFound));
    if (!bFound)
        PA_GUARD(new_job(a, &j, nJobSize, &bFound));
    if (!bFound) {
        *pbDone = 1;
        return PA_OK;
    }
    return run_job(a, &j, xCall, pCtx, pStats);
}

int pa_leader_run_jobs(pa_aggregator *a, pa_helper_transport xCall, void *pCtx, size_t nJobSize,
                       pa_job_stats *pStats)
{
    int bDone = 0;
    memset(pStats, 0, sizeof *pStats);
    while (!bDone)
        PA_GUARD(pa_leader_run_one_job(a, xCall, pCtx, nJobSize, pStats, &bDone));
    return PA_OK;
}
