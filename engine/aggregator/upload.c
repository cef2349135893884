/*
 * Leader: accept one report from an agency.  Checks (each a named error, and
 * nothing stored on failure): strict decoding with the task's exact sizes, the
 * task id, the agency, its partition and its key for the report's period (the
 * task's list or the agency registry), the agency's Ed25519 signature, the
 * period (not in the future, not collected), replay, and one report per agency
 * and batch (or replacement of a not-yet-aggregated one when the task allows
 * corrections).  The report is acknowledged only after its transaction commits.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "aggregator/share.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/report.h"

static int check_signature(const uint8_t aKey[32], const pa_report *r, const uint8_t aDigest[32])
{
    uint8_t *pSigned;
    size_t nSigned;
    int ok;

    PA_GUARD(pa_report_signed_bytes(&pSigned, &nSigned, r, aDigest));
    ok = crypto_sign_verify_detached(r->aSignature, pSigned, nSigned, aKey) == 0;
    free(pSigned);
    return ok ? PA_OK
              : pa_fail(PA_EAUTH, "report.signature: does not verify with agency %s's key",
                        r->zAgencyId);
}

static int refuse_replay(const pa_upload *r)
{
    char zHex[33];
    sodium_bin2hex(zHex, sizeof zHex, r->aReportId, 16);
    return pa_fail(PA_EEXISTS, "report.report_id: %s was uploaded before (replay)", zHex);
}

/* Whether a report may be stored, from what the store holds (*s, as adjusted
 * for the reports of the group before it); *pbReplace = 1 if it replaces its
 * agency's pending reports of the batch (a correction). */
static int decide(const pa_aggregator *a, const pa_upload *r, const pa_store_report_seen *s, int *pbReplace)
{
    *pbReplace = 0;
    if (s->bCollected)
        return pa_fail(PA_ESTATE, "report.period: batch %s/%s (or its statewide batch) was already "
                                  "collected; late reports are refused", r->zPeriod, r->zPartition);
    if (s->bExists)
        return refuse_replay(r);
    /* reports of this agency for this batch that still count */
    if (s->nCounting > 0 && !a->pTask->bAllowCorrections)
        return pa_fail(PA_EEXISTS, "report: agency %s already reported for %s/%s and the task does "
                                   "not allow corrections", r->zAgencyId, r->zPeriod, r->zPartition);
    if (s->nCounting > 0 && s->nPending != s->nCounting)
        return pa_fail(PA_ESTATE, "report: agency %s's report for %s/%s is already aggregated (a "
                                  "release of the period was asked for) and can no longer be "
                                  "corrected", r->zAgencyId, r->zPeriod, r->zPartition);
    *pbReplace = s->nCounting > 0;
    return PA_OK;
}

static void upload_row(const pa_aggregator *a, const pa_upload *r, pa_store_upload_row *row)
{
    memset(row, 0, sizeof *row);
    memcpy(row->aReportId, r->aReportId, 16);
    row->zAgencyId = r->zAgencyId;
    row->zPeriod = r->zPeriod;
    row->zPartition = r->zPartition;
    row->tReceived = pa_agg_now(a);
    row->pLeaderDigest = r->aDigest;
    row->pPublicShare = r->pPublicShare;
    row->nPublicShare = a->sizes.nPublicShare;
    row->pHelperEnc = r->aHelperEnc;
    row->pHelperCt = r->pHelperCt;
    row->nHelperCt = a->sizes.nHelperCt;
    row->pSignature = r->aSignature;
    row->pVerifyState = r->pVerifyState;
    row->nVerifyState = a->nVerifyState;
    row->pVerifierShare = r->pVerifierShare;
    row->nVerifierShare = a->sizes.nVerifierShare;
}

static int same_batch(const pa_upload *x, const pa_upload *y)
{
    return strcmp(x->zAgencyId, y->zAgencyId) == 0 && strcmp(x->zPeriod, y->zPeriod) == 0 &&
           strcmp(x->zPartition, y->zPartition) == 0;
}

/* A group's accepted reports waiting for one insert. */
typedef struct {
    pa_store_upload_row *aRow;
    size_t *aiUp;              /* the upload of each row */
    uint8_t *aiOutcome;        /* PA_STORE_ROW_* of each row */
    size_t n;
} pending_rows;

/* Insert the waiting rows; a report whose id another writer stored meanwhile
 * is refused as the replay it is, one that met another writer's report of its
 * agency and batch (PostgreSQL) as busy: retried, the checks then decide. */
static int flush(pa_aggregator *a, pa_upload *const *apUp, pending_rows *w)
{
    PA_GUARD(pa_store_report_insert_many(a->pStore, a->pTask->aTaskId, w->aRow, w->n, w->aiOutcome));
    for (size_t j = 0; j < w->n; j++) {
        pa_upload *u = apUp[w->aiUp[j]];
        if (w->aiOutcome[j] == PA_STORE_ROW_STORED)
            continue;
        if (w->aiOutcome[j] == PA_STORE_ROW_BUSY)
            u->rc = pa_fail(PA_EBUSY, "report: agency %s's report for %s/%s: another report of the agency for "
                                      "this batch was stored at the same moment; retry (it is then refused, or "
                                      "corrects the other if the task allows corrections)",
                            u->zAgencyId, u->zPeriod, u->zPartition);
        else
            u->rc = refuse_replay(u);
        snprintf(u->zDetail, sizeof u->zDetail, "%s", pa_error_detail());
    }
    w->n = 0;
    return PA_OK;
}

/* Decide each report in order and store the accepted ones: one query for what
 * the store holds about the whole group, one insert for its reports (a
 * correction first writes those before it, then replaces).  Each decision is
 * the one storing the reports one by one would make: what a report stored
 * counts for the later ones of the group (its id, its agency's batch). */
static int store_group(pa_aggregator *a, pa_upload *const *apUp, size_t n, pa_store_report_key *aKey,
                       pa_store_report_seen *aSeen, pending_rows *w)
{
    const uint8_t *aTask = a->pTask->aTaskId;

    for (size_t i = 0; i < n; i++) {
        aKey[i].pReportId = apUp[i]->aReportId;
        aKey[i].zAgencyId = apUp[i]->zAgencyId;
        aKey[i].zPeriod = apUp[i]->zPeriod;
        aKey[i].zPartition = apUp[i]->zPartition;
    }
    PA_GUARD(pa_store_reports_seen(a->pStore, aTask, aKey, n, aSeen));
    for (size_t i = 0; i < n; i++) {
        pa_upload *u = apUp[i];
        int bReplace;
        u->rc = decide(a, u, &aSeen[i], &bReplace);
        if (u->rc != PA_OK) {
            snprintf(u->zDetail, sizeof u->zDetail, "%s", pa_error_detail());
            continue;
        }
        if (bReplace) { /* the group's earlier reports of the agency are replaced too */
            PA_GUARD(flush(a, apUp, w));
            PA_GUARD(pa_store_reports_replace_pending(a->pStore, aTask, u->zAgencyId, u->zPeriod, u->zPartition));
        }
        upload_row(a, u, &w->aRow[w->n]);
        w->aiUp[w->n++] = i;
        for (size_t k = i + 1; k < n; k++) {
            pa_store_report_seen *s = &aSeen[k];
            if (memcmp(apUp[k]->aReportId, u->aReportId, 16) == 0)
                s->bExists = 1;
            if (!same_batch(apUp[k], u))
                continue;
            if (bReplace) {
                s->nCounting -= s->nPending;
                s->nPending = 0;
            }
            s->nCounting++;
            s->nPending++;
        }
    }
    return flush(a, apUp, w);
}

void pa_upload_free(const pa_aggregator *a, pa_upload *pUp)
{
    if (pUp->pVerifyState)
        pa_wipe(pUp->pVerifyState, a->nVerifyState);
    free(pUp->pVerifyState);
    free(pUp->pVerifierShare);
    pUp->pVerifyState = pUp->pVerifierShare = NULL;
}

/* The leader's part of verification, done once at upload. */
static int leader_verify_init(const pa_aggregator *a, const pa_report *r, pa_upload *pUp)
{
    uint8_t *pShare = malloc(a->nOwnInputShare + 1);
    int rc;

    pUp->pVerifyState = malloc(a->nVerifyState + 1);
    pUp->pVerifierShare = malloc(a->sizes.nVerifierShare + 1);
    if (pShare == NULL || pUp->pVerifyState == NULL || pUp->pVerifierShare == NULL)
        rc = pa_fail(PA_ENOMEM, "upload: out of memory");
    /* PA_ENOMEM opening the share is memory, not the report: passed on (retryable) */
    else if ((rc = pa_agg_open_share(a, r, r->iVersion >= 3 ? r->leader.iConfigId : -1, r->leader.aEnc,
                                     r->leader.pCt, r->leader.nCt, pShare)) != PA_OK && rc != PA_ENOMEM)
        rc = pa_fail(rc == PA_EAUTH ? PA_EAUTH : PA_EDECODE, "report.leader_ct: %s", pa_error_detail());
    else if (rc == PA_OK)
        rc = pa_prio3_verify_init(a->pVdaf, a->pKeys->aVerifyKey, a->aCtx, a->nCtx, 0, r->aReportId,
                                  r->pPublicShare, r->nPublicShare, pShare, a->nOwnInputShare,
                                  pUp->pVerifyState, pUp->pVerifierShare);
    if (pShare)
        pa_wipe(pShare, a->nOwnInputShare);
    free(pShare);
    if (rc != PA_OK)
        pa_upload_free(a, pUp);
    return rc;
}

int pa_leader_check_report(const pa_aggregator *a, const uint8_t *pMsg, size_t nMsg, pa_upload *pUp)
{
    pa_report r;
    pa_report_sizes sizes = {a->sizes.nPublicShare, a->nLeaderCt, a->sizes.nHelperCt};
    uint8_t aKey[32];
    char zNow[8], zPartition[65];

    memset(pUp, 0, sizeof *pUp);
    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "upload: only the leader accepts reports");
    PA_GUARD(pa_report_decode(&r, pMsg, nMsg, &sizes));
    if (sodium_memcmp(r.aTaskId, a->pTask->aTaskId, 32) != 0)
        return pa_fail(PA_ENOTFOUND, "report.task_id: not this task's id");
    /* the key valid for the report's period: the task's, or the registry's (an
     * agency not enrolled for the period, or revoked from it, is refused) */
    PA_GUARD(pa_registry_ref_key(a->pRegistry, a->pTask, r.zAgencyId, r.zPeriod, aKey, zPartition));
    if (strcmp(zPartition, r.zPartition) != 0)
        return pa_fail(PA_EAUTH, "report.partition: \"%s\", but agency %s reports for \"%s\"",
                       r.zPartition, r.zAgencyId, zPartition);
    pa_report_leader_digest(pUp->aDigest, &r);
    PA_GUARD(check_signature(aKey, &r, pUp->aDigest));
    pa_agg_current_period(a, zNow);
    if (strcmp(r.zPeriod, zNow) > 0)
        return pa_fail(PA_ESTATE, "report.period: %s is in the future (now %s)", r.zPeriod, zNow);
    PA_GUARD(leader_verify_init(a, &r, pUp));
    pUp->pPublicShare = r.pPublicShare;
    memcpy(pUp->aHelperEnc, r.helper.aEnc, 32);
    pUp->pHelperCt = r.helper.pCt;
    memcpy(pUp->aSignature, r.aSignature, 64);
    memcpy(pUp->aReportId, r.aReportId, 16);
    memcpy(pUp->zAgencyId, r.zAgencyId, sizeof pUp->zAgencyId);
    memcpy(pUp->zPeriod, r.zPeriod, sizeof pUp->zPeriod);
    memcpy(pUp->zPartition, r.zPartition, sizeof pUp->zPartition);
    return PA_OK;
}

int pa_leader_store_reports(pa_aggregator *a, pa_upload *const *apUp, size_t n)
{
    pa_store_report_key *aKey = calloc(n + 1, sizeof *aKey);
    pa_store_report_seen *aSeen = calloc(n + 1, sizeof *aSeen);
    pending_rows w = {calloc(n + 1, sizeof *w.aRow), calloc(n + 1, sizeof *w.aiUp), calloc(n + 1, 1), 0};
    int rc = PA_OK;

    if (aKey == NULL || aSeen == NULL || w.aRow == NULL || w.aiUp == NULL || w.aiOutcome == NULL)
        rc = pa_fail(PA_ENOMEM, "upload: out of memory (a group of %zu reports)", n);
    /* one transaction for the group: a refused report writes nothing */
    if (rc == PA_OK)
        rc = pa_store_begin(a->pStore);
    if (rc == PA_OK) {
        rc = store_group(a, apUp, n, aKey, aSeen, &w);
        if (rc == PA_OK)
            rc = pa_store_commit(a->pStore);
        else
            pa_store_rollback(a->pStore);
    }
    if (rc != PA_OK) {
        for (size_t i = 0; i < n; i++) {
            apUp[i]->rc = rc;
            snprintf(apUp[i]->zDetail, sizeof apUp[i]->zDetail, "%s", pa_error_detail());
        }
    }
    free(aKey);
    free(aSeen);
    free(w.aRow);
    free(w.aiUp);
    free(w.aiOutcome);
    return rc;
}

int pa_leader_upload(pa_aggregator *a, const uint8_t *pMsg, size_t nMsg)
{
    pa_upload up;
    int rc;
    PA_GUARD(pa_leader_check_report(a, pMsg, nMsg, &up));
    pa_upload *pUp = &up;
    rc = pa_leader_store_reports(a, &pUp, 1);
    pa_upload_free(a, &up);
    PA_GUARD(rc);
    return up.rc == PA_OK ? PA_OK : pa_fail(up.rc, "%s", up.zDetail);
}
