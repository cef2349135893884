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
 *
 * Several leader processes may share the store.  A worker works on a job only
 * while it holds the job's lease (engine/store/lease_store.c): a new job is
 * leased to its creator in the transaction that creates it, an open job is
 * claimed once its lease is free (its worker died or gave it back), the lease
 * is renewed before each call to the helper, and step 3 checks it in its own
 * transaction: a worker whose job was taken over (it was too slow or its clock
 * ran behind) commits nothing, so every report is summed once
 * (docs/operations.md, "Running several workers").
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
static uint8_t *blob(const uint8_t *pIn, size_t nIn, size_t n, job_report *p)
{
    uint8_t *q;
    if (nIn != n) {
        p->eReject = PA_REJECT_DECODE;
        return NULL;
    }
    q = malloc(n + 1);
    if (q != NULL && n > 0)
        memcpy(q, pIn, n);
    return q;
}

static void fixed(const uint8_t *pIn, size_t nIn, uint8_t *pOut, size_t n, job_report *p)
{
    if (nIn != n)
        p->eReject = PA_REJECT_DECODE;
    else
        memcpy(pOut, pIn, n);
}

typedef struct {
    const pa_aggregator *a;
    job *j;
    size_t cap;
} job_loader;

static int load_row(void *pCtx, const pa_store_job_report_row *r)
{
    job_loader *l = pCtx;
    const pa_aggregator *a = l->a;
    job *j = l->j;

    if (j->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        job_report *q = realloc(j->aRep, cap * sizeof *q);
        if (q == NULL)
            return pa_fail(PA_ENOMEM, "job: out of memory");
        j->aRep = q;
        l->cap = cap;
    }
    job_report *p = &j->aRep[j->n++];
    memset(p, 0, sizeof *p);
    if (r->nReportId == 16)
        memcpy(p->aReportId, r->pReportId, 16);
    snprintf(p->zAgencyId, sizeof p->zAgencyId, "%s", r->zAgencyId);
    snprintf(p->zPartition, sizeof p->zPartition, "%s", r->zPartition);
    fixed(r->pLeaderDigest, r->nLeaderDigest, p->aLeaderDigest, 32, p);
    p->pPublicShare = blob(r->pPublicShare, r->nPublicShare, a->sizes.nPublicShare, p);
    fixed(r->pHelperEnc, r->nHelperEnc, p->aHelperEnc, 32, p);
    p->pHelperCt = blob(r->pHelperCt, r->nHelperCt, a->sizes.nHelperCt, p);
    fixed(r->pSignature, r->nSignature, p->aSignature, 64, p);
    p->pState = blob(r->pVerifyState, r->nVerifyState, a->nVerifyState, p);
    p->pVerifierShare = blob(r->pVerifierShare, r->nVerifierShare, a->sizes.nVerifierShare, p);
    p->pOutShare = malloc(a->nOutShare + 1);
    if (p->pOutShare == NULL || (p->eReject == PA_REJECT_NONE &&
                                 (!p->pPublicShare || !p->pHelperCt || !p->pState || !p->pVerifierShare)))
        return pa_fail(PA_ENOMEM, "job: out of memory");
    return PA_OK;
}

/* Load the job's reports (ordered by report id, so requests are reproducible). */
static int job_load(const pa_aggregator *a, job *j)
{
    job_loader l = {a, j, 0};
    return pa_store_job_reports(a->pStore, a->pTask->aTaskId, j->aJobId, load_row, &l);
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

/* The lease check, in the caller's transaction: *pbHeld = 1 if this worker
 * still holds the job (its lease then runs nLease seconds from now). */
static int lease_held(pa_aggregator *a, const job *j, int *pbHeld)
{
    return pa_store_job_lease_renew(a->pStore, a->pTask->aTaskId, j->aJobId, a->zWorker,
                                     pa_agg_now(a) + a->nLease, pbHeld);
}

/* Renew the lease before a call to the helper, in a transaction of its own. */
static int lease_renew(pa_aggregator *a, const job *j, int *pbHeld)
{
    PA_GUARD(pa_store_begin(a->pStore));
    return pa_agg_end_txn(a, lease_held(a, j, pbHeld), NULL);
}

/* Step 3: settle every report in one transaction, with the lease check: a
 * worker that lost the job's lease writes nothing (*pbLost = 1). */
static int settle(pa_aggregator *a, job *j, const pa_job_step *pFinish, pa_job_stats *pStats, int *pbLost)
{
    pa_job_sums sums;
    pa_job_stats st;
    pa_store_settle_row *aSettle = calloc(j->n + 1, sizeof *aSettle);
    int bHeld = 0, rc = aSettle ? pa_store_begin(a->pStore) : pa_fail(PA_ENOMEM, "job: out of memory");

    memset(&sums, 0, sizeof sums);
    memset(&st, 0, sizeof st);
    *pbLost = 0;
    if (rc == PA_OK)
        rc = lease_held(a, j, &bHeld);
    if (rc == PA_OK && !bHeld) {
        pa_store_rollback(a->pStore);
        free(aSettle);
        *pbLost = 1;
        return PA_OK;
    }
    for (size_t i = 0; rc == PA_OK && i < j->n; i++) {
        job_report *p = &j->aRep[i];
        /* summed only if both accepted: the helper's answer decides the rest */
        if (p->iCont && p->eReject == PA_REJECT_NONE)
            p->eReject = pFinish->aItem[p->iCont - 1].eReject;
        rc = pa_job_sums_add(a, &sums, p->zPartition, p->eReject, p->pOutShare);
        aSettle[i].pReportId = p->aReportId;
        aSettle[i].zRejectReason = p->eReject == PA_REJECT_NONE ? NULL : pa_reject_reason_name(p->eReject);
        if (p->eReject == PA_REJECT_NONE)
            st.nAccepted++;
        else {
            st.nRejected++;
            st.aRejected[p->eReject]++;
        }
    }
    if (rc == PA_OK) /* every report of the job: one statement */
        rc = pa_store_reports_settle(a->pStore, a->pTask->aTaskId, aSettle, j->n);
    free(aSettle);
    if (rc == PA_OK)
        rc = pa_job_sums_commit(a, &sums, j->zPeriod);
    pa_job_sums_free(a, &sums);
    if (rc == PA_OK)
        rc = pa_store_job_finish(a->pStore, a->pTask->aTaskId, j->aJobId, pa_agg_now(a));
    if (rc == PA_OK)
        rc = pa_store_job_lease_release(a->pStore, a->pTask->aTaskId, j->aJobId, a->zWorker);
    if (rc == PA_OK)
        rc = pa_store_commit(a->pStore);
    if (rc != PA_OK) {
        pa_store_rollback(a->pStore);
        return rc;
    }
    /* counted once committed */
    pStats->nAccepted += st.nAccepted;
    pStats->nRejected += st.nRejected;
    for (size_t r = 0; r <= PA_REJECT_MAX; r++)
        pStats->aRejected[r] += st.aRejected[r];
    return PA_OK;
}

static int run_job(pa_aggregator *a, job *j, pa_helper_transport xCall, void *pCtx, pa_job_stats *pStats)
{
    uint8_t *pInitResp = NULL, *pFinishResp = NULL;
    size_t nInitResp = 0, nFinishResp = 0;
    pa_job_step init, finish;
    int rc, bHeld = 1, bLost = 0;

    memset(&init, 0, sizeof init);
    memset(&finish, 0, sizeof finish);
    rc = job_load(a, j);
    if (rc == PA_OK)
        rc = lease_renew(a, j, &bHeld);
    if (rc == PA_OK && bHeld)
        rc = init_exchange(a, j, xCall, pCtx, &pInitResp, &nInitResp, &init);
    if (rc == PA_OK && bHeld)
        rc = lease_renew(a, j, &bHeld);
    if (rc == PA_OK && bHeld)
        rc = continue_exchange(a, j, &init, xCall, pCtx, &pFinishResp, &nFinishResp, &finish);
    if (rc == PA_OK && bHeld)
        rc = settle(a, j, &finish, pStats, &bLost);
    if (rc == PA_OK && (!bHeld || bLost))
        pStats->nLeaseLost++;
    else if (rc == PA_OK)
        pStats->nJobs++;
    /* a failed attempt gives the job back: any worker may resume it at once */
    if (rc != PA_OK && pa_store_begin(a->pStore) == PA_OK)
        pa_agg_end_txn(a, pa_store_job_lease_release(a->pStore, a->pTask->aTaskId, j->aJobId, a->zWorker),
                       NULL);
    pa_job_step_free(&init);
    pa_job_step_free(&finish);
    free(pInitResp);
    free(pFinishResp);
    job_free(a, j);
    return rc;
}

/* Claim the oldest open job whose lease is free (a failed attempt or a dead
 * worker left it), if any. */
static int open_job(pa_aggregator *a, job *j, int *pbFound)
{
    int64_t tNow = pa_agg_now(a);
    PA_GUARD(pa_store_begin(a->pStore));
    return pa_agg_end_txn(a, pa_store_job_claim(a->pStore, a->pTask->aTaskId, a->zWorker, tNow, tNow + a->nLease,
                                                j->aJobId, j->zPeriod, pbFound), NULL);
}

typedef struct {
    pa_aggregator *a;
    const job *j;
    size_t nPartition;
} job_noise_ctx;

/* The statewide batch's noise once, before the first partition's (lock
 * order: the statewide batch first, then the partitions in byte order, as
 * pa_store_job_partitions gives them). */
static int partition_noise(void *pCtx, const char *zPartition)
{
    job_noise_ctx *c = pCtx;
    if (c->nPartition++ == 0)
        PA_GUARD(pa_agg_ensure_noise(c->a, c->j->zPeriod, "state"));
    return pa_agg_ensure_noise(c->a, c->j->zPeriod, zPartition);
}

/* Draw the release noise of every batch the job touches (off the request
 * path); *pnPartition: how many partitions its reports are of (0: it got no
 * report). */
static int job_noise(pa_aggregator *a, const job *j, size_t *pnPartition)
{
    job_noise_ctx c = {a, j, 0};
    int rc = pa_store_job_partitions(a->pStore, a->pTask->aTaskId, j->aJobId, partition_noise, &c);
    *pnPartition = c.nPartition;
    return rc;
}

/* Start a job over up to nJobSize pending reports of the oldest pending period. */
static int new_job(pa_aggregator *a, job *j, size_t nJobSize, int *pbFound)
{
    size_t nPartition = 0;
    int rc;

    PA_GUARD(pa_store_begin(a->pStore));
    /* With corrections allowed, a period's reports wait (and a newer report of
     * an agency replaces its older one) until a release of the period is asked
     * for; otherwise they are aggregated as they come. */
    rc = pa_store_reports_pending_period(a->pStore, a->pTask->aTaskId, a->pTask->bAllowCorrections,
                                         j->zPeriod, pbFound);
    if (rc == PA_OK && *pbFound) {
        randombytes_buf(j->aJobId, sizeof j->aJobId);
        rc = pa_store_job_new(a->pStore, a->pTask->aTaskId, j->aJobId, j->zPeriod, pa_agg_now(a));
        if (rc == PA_OK)
            rc = pa_store_job_lease_take(a->pStore, a->pTask->aTaskId, j->aJobId, a->zWorker,
                                         pa_agg_now(a) + a->nLease);
    }
    if (rc == PA_OK && *pbFound)
        rc = pa_store_reports_assign(a->pStore, a->pTask->aTaskId, j->aJobId, j->zPeriod, nJobSize);
    if (rc == PA_OK && *pbFound)
        rc = job_noise(a, j, &nPartition);
    /* another worker's job took the period's pending reports meanwhile (a
     * store whose writers do not take turns): no job; nothing is due here */
    if (rc == PA_OK && *pbFound && nPartition == 0)
        *pbFound = 0;
    if (rc != PA_OK || !*pbFound) {
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
