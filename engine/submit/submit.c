/*
 * An agency's report from its counts (see include/privagg/submit.h): check the
 * counts against the task's bounds, Prio3-shard them, seal each share to its
 * aggregator, sign, encode.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "common/guard.h"
#include "privagg/hpke.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "privagg/submit.h"
#include "privagg/vdaf.h"

static int check_counts(const pa_task *t, const pa_prio3 *v, const uint64_t *a, size_t n)
{
    size_t nWant = pa_prio3_measurement_len(v);
    uint64_t nMax = t->eVdaf == PA_VDAF_HISTOGRAM ? t->nCell - 1 : t->nMaxMeasurement;

    if (n != nWant)
        return pa_fail(PA_EINVAL, "counts: %zu values, the task's %s takes %zu", n,
                       pa_vdaf_type_name(t->eVdaf), nWant);
    for (size_t i = 0; i < n; i++)
        if (a[i] > nMax)
            return pa_fail(PA_EINVAL, "counts[%zu]: %llu is above the limit %llu", i,
                           (unsigned long long)a[i], (unsigned long long)nMax);
    return PA_OK;
}

static int seal(const uint8_t aPk[32], unsigned iAggId, const uint8_t *pAad, size_t nAad,
                const uint8_t *pShare, size_t nShare, uint8_t aEnc[32], uint8_t *pCt)
{
    uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE];
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    pa_hpke_ctx ctx;
    int rc;

    pa_report_hpke_info(aInfo, iAggId);
    rc = pa_hpke_setup_sender(&ctx, aEnc, aPk, NULL, &params);
    if (rc == PA_OK)
        rc = pa_hpke_seal(&ctx, pCt, pAad, nAad, pShare, nShare);
    pa_hpke_ctx_wipe(&ctx);
    return rc;
}

int pa_submit_report(const pa_task *t, const pa_keys *pAgency, const char *zPeriod,
                     const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg, size_t *pnMsg)
{
    uint8_t aId[PA_REPORT_ID_SIZE];
    return pa_submit_report_id(t, pAgency, zPeriod, aCounts, nCounts, ppMsg, pnMsg, aId);
}

int pa_submit_report_id(const pa_task *t, const pa_keys *pAgency, const char *zPeriod,
                        const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg, size_t *pnMsg,
                        uint8_t aReportId[PA_REPORT_ID_SIZE])
{
    return pa_submit_report_reg(t, NULL, pAgency, zPeriod, aCounts, nCounts, ppMsg, pnMsg, aReportId);
}

int pa_submit_report_reg(const pa_task *t, const pa_registry *pReg, const pa_keys *pAgency,
                         const char *zPeriod, const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg,
                         size_t *pnMsg, uint8_t aReportId[PA_REPORT_ID_SIZE])
{
    uint8_t aKey[32];
    char zPartition[65];
    pa_prio3 *v = NULL;
    pa_report r;
    uint8_t aCtx[PA_VDAF_CTX_SIZE], *apShare[2] = {NULL, NULL}, *pPub = NULL, *pLct = NULL,
                                    *pHct = NULL, *pAad = NULL, *pSigned = NULL;
    size_t anShare[2] = {0, 0}, nAad = 0, nSigned = 0;
    int bField128, rc;

    *ppMsg = NULL;
    if (pAgency->eRole != PA_ROLE_AGENCY)
        return pa_fail(PA_EAUTH, "submit: keys of role %s, expected agency", pa_role_name(pAgency->eRole));
    if (!pa_period_valid(zPeriod))
        return pa_fail(PA_EINVAL, "period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zPeriod);
    if (!t->bRegistry && pa_task_find_agency(t, pAgency->zId) == NULL)
        return pa_fail(PA_EAUTH, "submit: agency \"%s\" is not in the task", pAgency->zId);
    PA_GUARD(pa_agency_key(t, pReg, pAgency->zId, zPeriod, aKey, zPartition));
    if (sodium_memcmp(aKey, pAgency->aPublic, 32) != 0)
        return pa_fail(PA_EAUTH, "submit: agency %s's key is not the one in the %s for %s", pAgency->zId,
                       t->bRegistry ? "agency registry" : "task", zPeriod);
    PA_GUARD(pa_vdaf_from_task(&v, t, &bField128));
    rc = check_counts(t, v, aCounts, nCounts);

    memset(&r, 0, sizeof r);
    if (rc == PA_OK) {
        for (int j = 0; j < 2; j++) {
            anShare[j] = pa_prio3_input_share_size(v, (size_t)j);
            apShare[j] = malloc(anShare[j] + 1);
        }
        pPub = malloc(pa_prio3_public_share_size(v) + 1);
        pLct = malloc(anShare[0] + PA_HPKE_NT);
        pHct = malloc(anShare[1] + PA_HPKE_NT);
        if (apShare[0] == NULL || apShare[1] == NULL || pPub == NULL || pLct == NULL || pHct == NULL)
            rc = pa_fail(PA_ENOMEM, "submit: out of memory");
    }
    if (rc == PA_OK) {
        memcpy(r.aTaskId, t->aTaskId, 32);
        randombytes_buf(r.aReportId, sizeof r.aReportId);
        memcpy(r.zAgencyId, pAgency->zId, strlen(pAgency->zId) + 1);
        memcpy(r.zPeriod, zPeriod, 8);
        memcpy(r.zPartition, zPartition, strlen(zPartition) + 1);
        pa_vdaf_ctx(aCtx, t);
        rc = pa_prio3_shard_random(v, aCtx, sizeof aCtx, aCounts, nCounts, r.aReportId, pPub, apShare);
    }
    if (rc == PA_OK) {
        r.pPublicShare = pPub;
        r.nPublicShare = pa_prio3_public_share_size(v);
        rc = pa_report_aad(&pAad, &nAad, &r);
    }
    if (rc == PA_OK)
        rc = seal(t->leader.aHpkePublicKey, 0, pAad, nAad, apShare[0], anShare[0], r.leader.aEnc, pLct);
    if (rc == PA_OK)
        rc = seal(t->helper.aHpkePublicKey, 1, pAad, nAad, apShare[1], anShare[1], r.helper.aEnc, pHct);
    if (rc == PA_OK) {
        r.leader.iConfigId = t->leader.iHpkeConfigId;   /* version 3: the keys sealed to */
        r.helper.iConfigId = t->helper.iHpkeConfigId;
        r.leader.pCt = pLct;
        r.leader.nCt = anShare[0] + PA_HPKE_NT;
        r.helper.pCt = pHct;
        r.helper.nCt = anShare[1] + PA_HPKE_NT;
        rc = pa_report_signed_bytes(&pSigned, &nSigned, &r, NULL);
    }
    if (rc == PA_OK) {
        crypto_sign_detached(r.aSignature, NULL, pSigned, nSigned, pAgency->aSecret);
        rc = pa_report_encode(ppMsg, pnMsg, &r);
        memcpy(aReportId, r.aReportId, PA_REPORT_ID_SIZE);
    }
    for (int j = 0; j < 2; j++) {
        if (apShare[j])
            pa_wipe(apShare[j], anShare[j]);
        free(apShare[j]);
    }
    free(pPub);
    free(pLct);
    free(pHct);
    free(pAad);
    free(pSigned);
    pa_prio3_free(v);
    return rc;
}
