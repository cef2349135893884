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

static int store_report(pa_aggregator *a, const pa_upload *r)
{
    pa_store *pStore = a->pStore;
    const uint8_t *aTask = a->pTask->aTaskId;
    pa_store_upload_row row;
    int bCollected, bReplay;
    uint64_t nCounting, nPending;
    char zHex[33];

    PA_GUARD(pa_agg_batch_collected(a, r->zPeriod, r->zPartition, &bCollected));
    if (bCollected)
        return pa_fail(PA_ESTATE, "report.period: batch %s/%s (or its statewide batch) was already "
                                  "collected; late reports are refused", r->zPeriod, r->zPartition);
    PA_GUARD(pa_store_report_exists(pStore, aTask, r->aReportId, &bReplay));
    if (bReplay) {
        sodium_bin2hex(zHex, sizeof zHex, r->aReportId, 16);
        return pa_fail(PA_EEXISTS, "report.report_id: %s was uploaded before (replay)", zHex);
    }
    /* reports of this agency for this batch that still count */
    PA_GUARD(pa_store_reports_of_agency(pStore, aTask, r->zAgencyId, r->zPeriod, r->zPartition, &nCounting,
                                        &nPending));
    if (nCounting > 0 && !a->pTask->bAllowCorrections)
        return pa_fail(PA_EEXISTS, "report: agency %s already reported for %s/%s and the task does "
                                   "not allow corrections", r->zAgencyId, r->zPeriod, r->zPartition);
    if (nCounting > 0 && nPending != nCounting)
        return pa_fail(PA_ESTATE, "report: agency %s's report for %s/%s is already aggregated (a "
                                  "release of the period was asked for) and can no longer be "
                                  "corrected", r->zAgencyId, r->zPeriod, r->zPartition);
    if (nCounting > 0)
        PA_GUARD(pa_store_reports_replace_pending(pStore, aTask, r->zAgencyId, r->zPeriod, r->zPartition));
    memset(&row, 0, sizeof row);
    memcpy(row.aReportId, r->aReportId, 16);
    row.zAgencyId = r->zAgencyId;
    row.zPeriod = r->zPeriod;
    row.zPartition = r->zPartition;
    row.tReceived = pa_agg_now(a);
    row.pLeaderDigest = r->aDigest;
    row.pPublicShare = r->pPublicShare;
    row.nPublicShare = a->sizes.nPublicShare;
    row.pHelperEnc = r->aHelperEnc;
    row.pHelperCt = r->pHelperCt;
    row.nHelperCt = a->sizes.nHelperCt;
    row.pSignature = r->aSignature;
    row.pVerifyState = r->pVerifyState;
    row.nVerifyState = a->nVerifyState;
    row.pVerifierShare = r->pVerifierShare;
    row.nVerifierShare = a->sizes.nVerifierShare;
    return pa_store_report_insert(pStore, aTask, &row);
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
    int rc = pa_store_begin(a->pStore);

    /* one transaction for the group, a savepoint per report: a refused report
     * undoes only its own writes */
    for (size_t i = 0; rc == PA_OK && i < n; i++) {
        pa_upload *u = apUp[i];
        rc = pa_store_savepoint(a->pStore);
        if (rc != PA_OK)
            break;
        u->rc = store_report(a, u);
        if (u->rc != PA_OK) {
            snprintf(u->zDetail, sizeof u->zDetail, "%s", pa_error_detail());
            rc = pa_store_savepoint_rollback(a->pStore);
        } else {
            rc = pa_store_savepoint_release(a->pStore);
        }
    }
    if (rc == PA_OK)
        rc = pa_store_commit(a->pStore);
    else
        pa_store_rollback(a->pStore);
    if (rc != PA_OK) {
        for (size_t i = 0; i < n; i++) {
            apUp[i]->rc = rc;
            snprintf(apUp[i]->zDetail, sizeof apUp[i]->zDetail, "%s", pa_error_detail());
        }
    }
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
