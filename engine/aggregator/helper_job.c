/*
 * Helper: the two steps of an aggregation job.
 *
 * init      for each report of the leader's request: the agency, its partition and
 *           its key for the period (from the task or the helper's own copy of the
 *           agency registry: a key revoked or not yet enrolled is refused whatever
 *           the leader accepted), the agency's signature (over the leader's share digest), replay, one
 *           report per agency and batch, the batch not collected, the sealed share
 *           opens, verify_init; then the helper decides itself: it combines the
 *           leader's verifier share (in the request) with its own into the
 *           verifier message, which fails for an invalid report.  Answers its
 *           verifier share (so that the leader decides too) or a reason.  The
 *           verify state and the verifier message it computed are kept in the
 *           store until the continue step; a report it refused has neither.
 * continue  for each report the leader accepted with the message the helper
 *           computed itself: verify_next with that message; accepted output shares
 *           are summed into the batch.  A report counts only if the helper decided
 *           it valid AND the leader accepted it: whatever the leader marks, a
 *           report without a kept state is never summed.  Answers which reports
 *           the helper summed; the leader sums exactly those.
 * Each step runs in one transaction and stores its answer: a retried step gets
 * the same bytes back and counts nothing twice.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "aggregator/job_store.h"
#include "aggregator/parallel.h"
#include "aggregator/share.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/report.h"

/* What the helper keeps for a report between the two steps (secret): its verify
 * state followed by the verifier message it computed from both verifier shares. */
static size_t kept_size(const pa_aggregator *a)
{
    return a->nVerifyState + a->sizes.nVerifierMessage;
}

/* The pa_report view of a job item (for signed bytes and the AAD). */
static void item_report(const pa_aggregator *a, const pa_job_req *m, const pa_job_item *it,
                        pa_report *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->aTaskId, m->aTaskId, 32);
    memcpy(r->aReportId, it->aReportId, 16);
    memcpy(r->zAgencyId, it->zAgencyId, sizeof r->zAgencyId);
    memcpy(r->zPeriod, m->zPeriod, sizeof r->zPeriod);
    memcpy(r->zPartition, it->zPartition, sizeof r->zPartition);
    r->pPublicShare = it->pPublicShare;
    r->nPublicShare = a->sizes.nPublicShare;
    memcpy(r->helper.aEnc, it->aHelperEnc, 32);
    r->helper.pCt = it->pHelperCt;
    r->helper.nCt = a->sizes.nHelperCt;
}

static int seen_report(const pa_aggregator *a, const pa_job_req *m, const pa_job_item *it,
                       int *pbReplay, int *pbDuplicate)
{
    uint64_t nCounting, nPending;
    PA_GUARD(pa_store_report_exists(a->pStore, a->pTask->aTaskId, it->aReportId, pbReplay));
    /* the helper has no pending reports: what counts is aggregating or accepted */
    PA_GUARD(pa_store_reports_of_agency(a->pStore, a->pTask->aTaskId, it->zAgencyId, m->zPeriod,
                                        it->zPartition, &nCounting, &nPending));
    *pbDuplicate = nCounting > nPending;
    return PA_OK;
}

static int insert_report(const pa_aggregator *a, const pa_job_req *m, const pa_job_item *it,
                         const uint8_t *pState, pa_reject_reason eReject)
{
    pa_store_helper_report_row r;
    memset(&r, 0, sizeof r);
    memcpy(r.aReportId, it->aReportId, 16);
    r.zAgencyId = it->zAgencyId;
    r.zPeriod = m->zPeriod;
    r.zPartition = it->zPartition;
    r.tReceived = pa_agg_now(a);
    r.pKept = pState;
    r.nKept = pState ? kept_size(a) : 0;
    r.zRejectReason = eReject == PA_REJECT_NONE ? NULL : pa_reject_reason_name(eReject);
    memcpy(r.aJobId, m->aJobId, 16);
    return pa_store_report_insert_helper(a->pStore, a->pTask->aTaskId, &r);
}

/* Phase 1 (store): the reason a report is refused before any cryptography. */
/* Per job: each partition's "collected" answer, and its noise drawn, once. */
typedef struct {
    size_t n;
    struct {
        char zPartition[65];
        int bCollected;
    } a[PA_MAX_JOB_REPORTS];
} partition_cache;

static int partition_collected(pa_aggregator *a, partition_cache *pc, const char *zPeriod,
                               const char *zPartition, int *pbCollected)
{
    for (size_t i = 0; i < pc->n; i++) {
        if (strcmp(pc->a[i].zPartition, zPartition) == 0) {
            *pbCollected = pc->a[i].bCollected;
            return PA_OK;
        }
    }
    PA_GUARD(pa_agg_batch_collected(a, zPeriod, zPartition, pbCollected));
    /* the release noise of this batch is drawn now, off the request path */
    if (!*pbCollected)
        PA_GUARD(pa_agg_ensure_noise(a, zPeriod, zPartition));
    if (pc->n < PA_MAX_JOB_REPORTS) {
        snprintf(pc->a[pc->n].zPartition, sizeof pc->a[pc->n].zPartition, "%s", zPartition);
        pc->a[pc->n++].bCollected = *pbCollected;
    }
    return PA_OK;
}

static int by_name(const void *pA, const void *pB)
{
    return strcmp(*(const char *const *)pA, *(const char *const *)pB);
}

/* partition_collected for each distinct partition of the job, in byte order. */
static int partitions_in_order(pa_aggregator *a, partition_cache *pc, const pa_job_req *m)
{
    const char **az = malloc((m->nItem + 1) * sizeof *az);
    size_t n = 0;
    int rc = PA_OK, bCollected;

    if (az == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; i < m->nItem; i++)
        az[n++] = m->aItem[i].zPartition;
    qsort(az, n, sizeof *az, by_name);
    for (size_t i = 0; rc == PA_OK && i < n; i++)
        if (i == 0 || strcmp(az[i], az[i - 1]) != 0)
            rc = partition_collected(a, pc, m->zPeriod, az[i], &bCollected);
    free(az);
    return rc;
}

static int init_checks(pa_aggregator *a, partition_cache *pc, const pa_job_req *m, const pa_job_item *it,
                       uint8_t aKey[32], pa_reject_reason *peReject)
{
    char zPartition[65];
    int bKnown = pa_registry_ref_key(a->pRegistry, a->pTask, it->zAgencyId, m->zPeriod, aKey,
                                     zPartition) == PA_OK;
    int bReplay, bDuplicate, bCollected;

    PA_GUARD(seen_report(a, m, it, &bReplay, &bDuplicate));
    PA_GUARD(partition_collected(a, pc, m->zPeriod, it->zPartition, &bCollected));
    if (bReplay)
        *peReject = PA_REJECT_REPLAY;
    else if (!bKnown || strcmp(zPartition, it->zPartition) != 0)
        *peReject = PA_REJECT_AGENCY;
    else if (bCollected)
        *peReject = PA_REJECT_COLLECTED;
    else if (bDuplicate)
        *peReject = PA_REJECT_DUPLICATE;
    else
        *peReject = PA_REJECT_NONE;
    return PA_OK;
}

/* Phase 2 (parallel, no store): signature, open the share, verify_init, decide. */
typedef struct {
    const pa_aggregator *a;
    const pa_job_req *m;
    pa_job_step_item *aOut;    /* eReject in/out */
    uint8_t *pKept;            /* nItem kept states (kept_size bytes each) */
    uint8_t *pShares;          /* nItem verifier shares (the payloads) */
    uint8_t *pAgencyKeys;      /* nItem agency keys (32 bytes each) from phase 1 */
    int rc;
} init_ctx;

/* The helper's own decision: the leader's verifier share and its own combined
 * into the verifier message (PA_EVERIFY: the report is invalid). */
static int decide(const pa_aggregator *a, const pa_job_item *it, const uint8_t *pOwnShare,
                  uint8_t *pMessage)
{
    const uint8_t *apShares[2] = {it->pLeaderVerifierShare, pOwnShare};
    size_t anLen[2] = {a->sizes.nVerifierShare, a->sizes.nVerifierShare};
    return pa_prio3_verifier_shares_to_message(a->pVdaf, a->aCtx, a->nCtx, apShares, anLen, pMessage);
}

static void init_crypto_one(void *pCtx, size_t i)
{
    init_ctx *c = pCtx;
    const pa_aggregator *a = c->a;
    const pa_job_item *it = &c->m->aItem[i];
    pa_job_step_item *o = &c->aOut[i];
    const uint8_t *pAgencyKey = c->pAgencyKeys + 32 * i;
    uint8_t *pSigned = NULL, *pShare;
    size_t nSigned;
    pa_report r;
    int rc;

    if (o->eReject != PA_REJECT_NONE)
        return;
    item_report(a, c->m, it, &r);
    if (pa_report_signed_bytes(&pSigned, &nSigned, &r, it->aLeaderDigest) != PA_OK) {
        c->rc = PA_ENOMEM;
        return;
    }
    rc = crypto_sign_verify_detached(it->aSignature, pSigned, nSigned, pAgencyKey);
    free(pSigned);
    if (rc != 0) {
        o->eReject = PA_REJECT_SIGNATURE;
        return;
    }
    pShare = malloc(a->nOwnInputShare + 1);
    if (pShare == NULL) {
        c->rc = PA_ENOMEM;
        return;
    }
    rc = pa_agg_open_share(a, &r, -1, it->aHelperEnc, it->pHelperCt, a->sizes.nHelperCt, pShare);
    if (rc == PA_ENOMEM) {
        c->rc = rc; /* memory, not the report: rejecting it would lose it for good */
    } else if (rc != PA_OK) {
        o->eReject = PA_REJECT_DECRYPT;
    } else {
        uint8_t *pKept = c->pKept + i * kept_size(a);
        const uint8_t *pOwn = c->pShares + i * a->sizes.nVerifierShare;
        rc = pa_prio3_verify_init(a->pVdaf, a->pKeys->aVerifyKey, a->aCtx, a->nCtx, 1, it->aReportId,
                                  it->pPublicShare, a->sizes.nPublicShare, pShare, a->nOwnInputShare,
                                  pKept, c->pShares + i * a->sizes.nVerifierShare);
        if (rc == PA_OK)
            rc = decide(a, it, pOwn, pKept + a->nVerifyState);
        if (rc == PA_EDECODE)
            o->eReject = PA_REJECT_DECODE;
        else if (rc == PA_EVERIFY)
            o->eReject = PA_REJECT_PROOF;
        else if (rc != PA_OK)
            c->rc = rc;
    }
    pa_wipe(pShare, a->nOwnInputShare);
    free(pShare);
}

static int init_step(pa_aggregator *a, const pa_job_req *m, const uint8_t aHash[32], uint8_t **ppResp,
                     size_t *pnResp)
{
    pa_job_step resp;
    pa_job_sums sums;
    int rc = PA_OK;
    size_t nVs = a->sizes.nVerifierShare;
    init_ctx c;

    partition_cache *pc = calloc(1, sizeof *pc);
    memset(&resp, 0, sizeof resp);
    memset(&sums, 0, sizeof sums);
    memset(&c, 0, sizeof c);
    c.a = a;
    c.m = m;
    c.pShares = malloc(m->nItem * nVs + 1);
    c.pKept = malloc(m->nItem * kept_size(a) + 1);
    c.pAgencyKeys = calloc(m->nItem + 1, 32);
    resp.aItem = c.aOut = calloc(m->nItem + 1, sizeof *resp.aItem);
    if (c.pShares == NULL || c.pKept == NULL || c.pAgencyKeys == NULL || resp.aItem == NULL || pc == NULL)
        rc = pa_fail(PA_ENOMEM, "job: out of memory");
    /* each partition's "collected" answer and noise first, in sorted order:
     * every job takes the batches' noise rows in one order (pg_store.c) */
    if (rc == PA_OK)
        rc = partitions_in_order(a, pc, m);
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        memcpy(resp.aItem[i].aReportId, m->aItem[i].aReportId, 16);
        resp.aItem[i].pPayload = c.pShares + i * nVs;
        rc = init_checks(a, pc, m, &m->aItem[i], c.pAgencyKeys + 32 * i, &resp.aItem[i].eReject);
        /* a report id twice in one job: the second is a replay */
        for (size_t k = 0; rc == PA_OK && k < i && resp.aItem[i].eReject == PA_REJECT_NONE; k++)
            if (memcmp(m->aItem[k].aReportId, m->aItem[i].aReportId, 16) == 0)
                resp.aItem[i].eReject = PA_REJECT_REPLAY;
    }
    if (rc == PA_OK) {
        pa_parallel_for(m->nItem, init_crypto_one, &c);
        if (c.rc != PA_OK)
            rc = pa_fail(c.rc, "job/init: %s", pa_strerror(c.rc));
    }
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        pa_reject_reason e = resp.aItem[i].eReject;
        if (e == PA_REJECT_NONE) {
            /* two reports of one agency in this job: the later one is a duplicate */
            int bDup;
            rc = seen_report(a, m, &m->aItem[i], &(int){0}, &bDup);
            if (rc == PA_OK && bDup)
                e = resp.aItem[i].eReject = PA_REJECT_DUPLICATE;
        }
        if (rc == PA_OK && e != PA_REJECT_REPLAY)
            rc = insert_report(a, m, &m->aItem[i], e == PA_REJECT_NONE ? c.pKept + i * kept_size(a) : NULL, e);
        if (rc == PA_OK && e != PA_REJECT_NONE) /* count the refusals in their batches */
            rc = pa_job_sums_add(a, &sums, m->aItem[i].zPartition, e, NULL);
    }
    if (rc == PA_OK)
        rc = pa_job_sums_commit(a, &sums, m->zPeriod);
    pa_job_sums_free(a, &sums);
    if (rc == PA_OK) {
        memcpy(resp.aTaskId, m->aTaskId, 32);
        memcpy(resp.aJobId, m->aJobId, 16);
        resp.eStep = PA_STEP_INIT_RESP;
        resp.nItem = m->nItem;
        rc = pa_job_step_encode(ppResp, pnResp, &resp, &a->sizes);
    }
    if (rc == PA_OK) {
        rc = pa_job_store_answer(a, m->aJobId, m->zPeriod, PA_JOB_STEP_INIT, aHash, *ppResp, *pnResp);
        if (rc != PA_OK) {
            free(*ppResp);
            *ppResp = NULL;
        }
    }
    if (c.pKept)
        pa_wipe(c.pKept, m->nItem * kept_size(a));
    free(pc);
    free(c.pKept);
    free(c.pShares);
    free(c.pAgencyKeys);
    free(resp.aItem);
    return rc;
}

int pa_helper_job_init(pa_aggregator *a, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                       size_t *pnResp)
{
    pa_job_req m;
    uint8_t aHash[32];
    int bFound, rc;

    *ppResp = NULL;
    if (a->iAggId != 1)
        return pa_fail(PA_ESTATE, "job/init: only the helper answers it");
    PA_GUARD(pa_job_req_decode(&m, pReq, nReq, &a->sizes));
    if (sodium_memcmp(m.aTaskId, a->pTask->aTaskId, 32) != 0) {
        pa_job_req_free(&m);
        return pa_fail(PA_ENOTFOUND, "job.task_id: not this task's id");
    }
    crypto_hash_sha256(aHash, pReq, nReq);
    rc = pa_store_begin(a->pStore);
    if (rc == PA_OK)
        rc = pa_job_stored_answer(a, m.aJobId, PA_JOB_STEP_INIT, aHash, &bFound, ppResp, pnResp);
    if (rc == PA_OK && !bFound)
        rc = init_step(a, &m, aHash, ppResp, pnResp);
    pa_job_req_free(&m);
    return pa_agg_end_txn(a, rc, ppResp);
}

/* What the init step kept for a report of this job (verify state and verifier
 * message); *pbFound = 0 if nothing (a report it refused, or not of this job). */
static int load_state(const pa_aggregator *a, const uint8_t aJobId[16], const uint8_t aReportId[16],
                      uint8_t *pKept, char zPartition[65], int *pbFound)
{
    return pa_store_report_kept(a->pStore, a->pTask->aTaskId, aJobId, aReportId, pKept, kept_size(a),
                                zPartition, pbFound);
}

static int continue_step(pa_aggregator *a, const pa_job_step *m, const char *zPeriod,
                         const uint8_t aHash[32], uint8_t **ppResp, size_t *pnResp)
{
    pa_job_step resp;
    pa_job_sums sums;
    uint8_t *pState = malloc(kept_size(a) + 1), *pOut = malloc(a->nOutShare + 1);
    char zPartition[65];
    int rc = PA_OK, bFound;

    memset(&sums, 0, sizeof sums);
    memset(&resp, 0, sizeof resp);
    resp.aItem = calloc(m->nItem + 1, sizeof *resp.aItem);
    if (rc == PA_OK && (pState == NULL || pOut == NULL || resp.aItem == NULL))
        rc = pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        const pa_job_step_item *it = &m->aItem[i];
        pa_job_step_item *o = &resp.aItem[i];
        memcpy(o->aReportId, it->aReportId, 16);
        rc = load_state(a, m->aJobId, it->aReportId, pState, zPartition, &bFound);
        if (rc != PA_OK)
            break;
        if (!bFound) {
            o->eReject = PA_REJECT_DECODE; /* the leader named a report this job does not hold */
            continue;
        }
        o->eReject = it->eReject;
        if (o->eReject == PA_REJECT_NONE) {
            /* the helper's own message, computed at init; the leader's must be the same */
            const uint8_t *pMessage = pState + a->nVerifyState;
            size_t nMessage = a->sizes.nVerifierMessage;
            int v = nMessage == 0 || sodium_memcmp(it->pPayload, pMessage, nMessage) == 0 ? PA_OK : PA_EVERIFY;
            if (v == PA_OK)
                v = pa_prio3_verify_next(a->pVdaf, pState, a->nVerifyState, pMessage, nMessage, pOut);
            if (v == PA_EVERIFY || v == PA_EDECODE)
                o->eReject = PA_REJECT_PROOF;
            else if (v != PA_OK)
                rc = v;
        }
        if (rc == PA_OK)
            rc = pa_job_settle_report(a, &sums, it->aReportId, zPartition, o->eReject, pOut);
    }
    if (rc == PA_OK)
        rc = pa_job_sums_commit(a, &sums, zPeriod);
    pa_job_sums_free(a, &sums);
    /* reports of the job the leader did not continue are not summed */
    if (rc == PA_OK)
        rc = pa_store_reports_reject_unsettled(a->pStore, a->pTask->aTaskId, m->aJobId,
                                               pa_reject_reason_name(PA_REJECT_DECODE));
    if (rc == PA_OK) {
        memcpy(resp.aTaskId, m->aTaskId, 32);
        memcpy(resp.aJobId, m->aJobId, 16);
        resp.eStep = PA_STEP_FINISH;
        resp.nItem = m->nItem;
        rc = pa_job_step_encode(ppResp, pnResp, &resp, &a->sizes);
    }
    if (rc == PA_OK) {
        rc = pa_job_store_answer(a, m->aJobId, zPeriod, PA_JOB_STEP_CONTINUE, aHash, *ppResp, *pnResp);
        if (rc != PA_OK) {
            free(*ppResp);
            *ppResp = NULL;
        }
    }
    if (pState)
        pa_wipe(pState, kept_size(a));
    if (pOut)
        pa_wipe(pOut, a->nOutShare);
    free(pState);
    free(pOut);
    free(resp.aItem);
    return rc;
}

static int job_period(const pa_aggregator *a, const uint8_t aJobId[16], char zPeriod[8], int *pbFound)
{
    return pa_store_job_period(a->pStore, a->pTask->aTaskId, aJobId, zPeriod, pbFound);
}

int pa_helper_job_continue(pa_aggregator *a, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                           size_t *pnResp)
{
    pa_job_step m;
    uint8_t aHash[32];
    char zPeriod[8];
    int bFound = 0, rc;

    *ppResp = NULL;
    if (a->iAggId != 1)
        return pa_fail(PA_ESTATE, "job/continue: only the helper answers it");
    PA_GUARD(pa_job_step_decode(&m, PA_STEP_CONTINUE, pReq, nReq, &a->sizes));
    if (sodium_memcmp(m.aTaskId, a->pTask->aTaskId, 32) != 0) {
        pa_job_step_free(&m);
        return pa_fail(PA_ENOTFOUND, "job.task_id: not this task's id");
    }
    crypto_hash_sha256(aHash, pReq, nReq);
    rc = pa_store_begin(a->pStore);
    if (rc == PA_OK)
        rc = job_period(a, m.aJobId, zPeriod, &bFound);
    if (rc == PA_OK && !bFound)
        rc = pa_fail(PA_ENOTFOUND, "job.job_id: no such job (continue before init)");
    if (rc == PA_OK)
        rc = pa_job_stored_answer(a, m.aJobId, PA_JOB_STEP_CONTINUE, aHash, &bFound, ppResp, pnResp);
    if (rc == PA_OK && !bFound)
        rc = continue_step(a, &m, zPeriod, aHash, ppResp, pnResp);
    pa_job_step_free(&m);
    return pa_agg_end_txn(a, rc, ppResp);
}
