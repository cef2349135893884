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

/* The helper's row of a report of the job: its kept state if it decided it
 * valid, else its reason (a replay is not stored: its id is taken). */
static void helper_row(const pa_aggregator *a, const pa_job_req *m, const pa_job_item *it, const uint8_t *pState,
                       pa_reject_reason eReject, pa_store_helper_report_row *r)
{
    memset(r, 0, sizeof *r);
    memcpy(r->aReportId, it->aReportId, 16);
    r->zAgencyId = it->zAgencyId;
    r->zPeriod = m->zPeriod;
    r->zPartition = it->zPartition;
    r->tReceived = pa_agg_now(a);
    r->pKept = pState;
    r->nKept = pState ? kept_size(a) : 0;
    r->zRejectReason = eReject == PA_REJECT_NONE ? NULL : pa_reject_reason_name(eReject);
    memcpy(r->aJobId, m->aJobId, 16);
}

/* Phase 1 (store): the reason a report is refused before any cryptography. */
/* Per job: each partition's "collected" answer, and its noise drawn, once. */
typedef struct {
    size_t n;
    int bStateNoise;           /* the statewide batch's noise taken */
    struct {
        char zPartition[65];
        int bCollected;
    } a[PA_MAX_JOB_REPORTS];
} partition_cache;

/* bCollected: the store's answer (pa_store_reports_seen) for this partition. */
static int partition_collected(pa_aggregator *a, partition_cache *pc, const char *zPeriod,
                               const char *zPartition, int bCollected, int *pbCollected)
{
    for (size_t i = 0; i < pc->n; i++) {
        if (strcmp(pc->a[i].zPartition, zPartition) == 0) {
            *pbCollected = pc->a[i].bCollected;
            return PA_OK;
        }
    }
    *pbCollected = bCollected;
    /* the release noise of this batch (and once, before it, of the statewide
     * batch: lock order) is taken now, off the request path */
    if (!*pbCollected && !pc->bStateNoise)
        PA_GUARD(pa_agg_ensure_noise(a, zPeriod, "state"));
    pc->bStateNoise |= !*pbCollected;
    if (!*pbCollected)
        PA_GUARD(pa_agg_ensure_noise(a, zPeriod, zPartition));
    if (pc->n < PA_MAX_JOB_REPORTS) {
        snprintf(pc->a[pc->n].zPartition, sizeof pc->a[pc->n].zPartition, "%s", zPartition);
        pc->a[pc->n++].bCollected = *pbCollected;
    }
    return PA_OK;
}

typedef struct {
    const char *zPartition;
    size_t iItem;
} item_partition;

static int by_partition(const void *pA, const void *pB)
{
    return strcmp(((const item_partition *)pA)->zPartition, ((const item_partition *)pB)->zPartition);
}

/* partition_collected for each distinct partition of the job, in byte order
 * (aSeen: the store's answers, one per item): every job takes the batches'
 * noise rows in one order (pg_store.c, lock order). */
static int partitions_in_order(pa_aggregator *a, partition_cache *pc, const pa_job_req *m,
                               const pa_store_report_seen *aSeen)
{
    item_partition *ap = malloc((m->nItem + 1) * sizeof *ap);
    int rc = PA_OK, bCollected;

    if (ap == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; i < m->nItem; i++) {
        ap[i].zPartition = m->aItem[i].zPartition;
        ap[i].iItem = i;
    }
    qsort(ap, m->nItem, sizeof *ap, by_partition);
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++)
        if (i == 0 || strcmp(ap[i].zPartition, ap[i - 1].zPartition) != 0)
            rc = partition_collected(a, pc, m->zPeriod, ap[i].zPartition, aSeen[ap[i].iItem].bCollected,
                                     &bCollected);
    free(ap);
    return rc;
}

/* pSeen: what the store held before the job (replay; the helper has no
 * pending reports, so an agency's report that counts is aggregating or
 * accepted: a duplicate). */
static int init_checks(pa_aggregator *a, partition_cache *pc, const pa_job_req *m, const pa_job_item *it,
                       const pa_store_report_seen *pSeen, uint8_t aKey[32], pa_reject_reason *peReject)
{
    char zPartition[65];
    int bKnown = pa_registry_ref_key(a->pRegistry, a->pTask, it->zAgencyId, m->zPeriod, aKey,
                                     zPartition) == PA_OK;
    int bReplay = pSeen->bExists, bDuplicate = pSeen->nCounting > pSeen->nPending, bCollected;

    PA_GUARD(partition_collected(a, pc, m->zPeriod, it->zPartition, pSeen->bCollected, &bCollected));
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
    pa_store_report_key *aKey = calloc(m->nItem + 1, sizeof *aKey);
    pa_store_report_seen *aSeen = calloc(m->nItem + 1, sizeof *aSeen);
    pa_store_helper_report_row *aRow = calloc(m->nItem + 1, sizeof *aRow);
    size_t nRow = 0;
    memset(&resp, 0, sizeof resp);
    memset(&sums, 0, sizeof sums);
    memset(&c, 0, sizeof c);
    c.a = a;
    c.m = m;
    c.pShares = malloc(m->nItem * nVs + 1);
    c.pKept = malloc(m->nItem * kept_size(a) + 1);
    c.pAgencyKeys = calloc(m->nItem + 1, 32);
    resp.aItem = c.aOut = calloc(m->nItem + 1, sizeof *resp.aItem);
    if (c.pShares == NULL || c.pKept == NULL || c.pAgencyKeys == NULL || resp.aItem == NULL || pc == NULL ||
        aKey == NULL || aSeen == NULL || aRow == NULL)
        rc = pa_fail(PA_ENOMEM, "job: out of memory");
    /* what the store holds about every report of the job: one query (the
     * period locked shared first, pg_store.c) */
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        aKey[i].pReportId = m->aItem[i].aReportId;
        aKey[i].zAgencyId = m->aItem[i].zAgencyId;
        aKey[i].zPeriod = m->zPeriod;
        aKey[i].zPartition = m->aItem[i].zPartition;
    }
    if (rc == PA_OK)
        rc = pa_store_reports_seen(a->pStore, a->pTask->aTaskId, aKey, m->nItem, aSeen);
    /* then each partition's noise, in sorted order */
    if (rc == PA_OK)
        rc = partitions_in_order(a, pc, m, aSeen);
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        memcpy(resp.aItem[i].aReportId, m->aItem[i].aReportId, 16);
        resp.aItem[i].pPayload = c.pShares + i * nVs;
        rc = init_checks(a, pc, m, &m->aItem[i], &aSeen[i], c.pAgencyKeys + 32 * i, &resp.aItem[i].eReject);
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
        /* two reports of one agency in this job: the later one is a duplicate
         * (the earlier one, decided valid, counts from now on) */
        for (size_t k = 0; e == PA_REJECT_NONE && k < i; k++)
            if (resp.aItem[k].eReject == PA_REJECT_NONE && strcmp(m->aItem[k].zAgencyId, m->aItem[i].zAgencyId) == 0 &&
                strcmp(m->aItem[k].zPartition, m->aItem[i].zPartition) == 0)
                e = resp.aItem[i].eReject = PA_REJECT_DUPLICATE;
        if (e != PA_REJECT_REPLAY)
            helper_row(a, m, &m->aItem[i], e == PA_REJECT_NONE ? c.pKept + i * kept_size(a) : NULL, e, &aRow[nRow++]);
        if (e != PA_REJECT_NONE) /* count the refusals in their batches */
            rc = pa_job_sums_add(a, &sums, m->aItem[i].zPartition, e, NULL);
    }
    if (rc == PA_OK) /* the job's reports: one insert */
        rc = pa_store_report_insert_helper_many(a->pStore, a->pTask->aTaskId, aRow, nRow);
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
    free(aKey);
    free(aSeen);
    free(aRow);
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

/* The continue step's items by report id (then position), to find the item
 * of each kept state the store returns. */
typedef struct {
    const uint8_t *pId;
    size_t i;
} item_ref;

static int cmp_ref(const void *x, const void *y)
{
    const item_ref *a = x, *b = y;
    int c = memcmp(a->pId, b->pId, 16);
    return c != 0 ? c : (a->i > b->i) - (a->i < b->i);
}

typedef struct {
    const pa_aggregator *a;
    const pa_job_step *m;
    pa_job_step_item *aOut;
    item_ref *aRef;            /* sorted */
    uint8_t *abFound;          /* item i got its report's kept state */
    pa_store_settle_row *aSettle;
    size_t nSettle;
    pa_job_sums *pSums;
    uint8_t *pOut;             /* an output share (secret) */
} cont_ctx;

/* One report the init step kept (its verify state and the verifier message it
 * computed): the first item that names it decides it; an item naming it again
 * finds nothing, as does one naming a report the job does not hold. */
static int cont_row(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept)
{
    cont_ctx *c = pCtx;
    const pa_aggregator *a = c->a;
    size_t lo = 0, hi = c->m->nItem;

    while (lo < hi) { /* the first item with this id */
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(c->aRef[mid].pId, pReportId, 16) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->m->nItem || memcmp(c->aRef[lo].pId, pReportId, 16) != 0)
        return PA_OK; /* not continued: rejected with the job's others below */
    size_t i = c->aRef[lo].i;
    const pa_job_step_item *it = &c->m->aItem[i];
    pa_job_step_item *o = &c->aOut[i];
    c->abFound[i] = 1;
    o->eReject = it->eReject;
    if (o->eReject == PA_REJECT_NONE) {
        /* the helper's own message, computed at init; the leader's must be the same */
        const uint8_t *pMessage = pKept + a->nVerifyState;
        size_t nMessage = a->sizes.nVerifierMessage;
        int v = nMessage == 0 || sodium_memcmp(it->pPayload, pMessage, nMessage) == 0 ? PA_OK : PA_EVERIFY;
        if (v == PA_OK)
            v = pa_prio3_verify_next(a->pVdaf, pKept, a->nVerifyState, pMessage, nMessage, c->pOut);
        if (v == PA_EVERIFY || v == PA_EDECODE)
            o->eReject = PA_REJECT_PROOF;
        else if (v != PA_OK)
            return v;
    }
    c->aSettle[c->nSettle].pReportId = it->aReportId;
    c->aSettle[c->nSettle++].zRejectReason = o->eReject == PA_REJECT_NONE ? NULL : pa_reject_reason_name(o->eReject);
    return pa_job_sums_add(a, c->pSums, zPartition, o->eReject, c->pOut);
}

static int continue_step(pa_aggregator *a, const pa_job_step *m, const char *zPeriod,
                         const uint8_t aHash[32], uint8_t **ppResp, size_t *pnResp)
{
    pa_job_step resp;
    pa_job_sums sums;
    cont_ctx c;
    int rc = PA_OK;

    memset(&sums, 0, sizeof sums);
    memset(&resp, 0, sizeof resp);
    memset(&c, 0, sizeof c);
    resp.aItem = calloc(m->nItem + 1, sizeof *resp.aItem);
    c.a = a;
    c.m = m;
    c.aOut = resp.aItem;
    c.aRef = calloc(m->nItem + 1, sizeof *c.aRef);
    c.abFound = calloc(m->nItem + 1, 1);
    c.aSettle = calloc(m->nItem + 1, sizeof *c.aSettle);
    c.pSums = &sums;
    c.pOut = malloc(a->nOutShare + 1);
    if (resp.aItem == NULL || c.aRef == NULL || c.abFound == NULL || c.aSettle == NULL || c.pOut == NULL)
        rc = pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        memcpy(resp.aItem[i].aReportId, m->aItem[i].aReportId, 16);
        c.aRef[i].pId = m->aItem[i].aReportId;
        c.aRef[i].i = i;
    }
    if (rc == PA_OK) {
        qsort(c.aRef, m->nItem, sizeof *c.aRef, cmp_ref);
        /* every kept state of the job at once; then every report settled at once */
        rc = pa_store_job_kept(a->pStore, a->pTask->aTaskId, m->aJobId, kept_size(a), cont_row, &c);
    }
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++)
        if (!c.abFound[i])
            resp.aItem[i].eReject = PA_REJECT_DECODE; /* the leader named a report this job does not hold */
    if (rc == PA_OK)
        rc = pa_store_reports_settle(a->pStore, a->pTask->aTaskId, c.aSettle, c.nSettle);
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
    if (c.pOut)
        pa_wipe(c.pOut, a->nOutShare);
    free(c.pOut);
    free(c.aRef);
    free(c.abFound);
    free(c.aSettle);
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
