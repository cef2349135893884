/*
 * Opening this aggregator's HPKE-sealed input share of a report (base mode,
 * info = PA_REPORT_HPKE_INFO || aggregator byte, AAD = the report's metadata).
 *
 * Key rotation: the aggregator may hold several HPKE keys (the current one, which
 * the task names, and older ones not yet retired, include/privagg/keys.h).  The
 * report does not carry a config id (its wire form, signature and stored columns
 * stay as they are), so the share is opened with the current key first, then with
 * each older key, newest first.  The key is still bound: the HPKE key schedule
 * takes the recipient's public key into the KEM context (RFC 9180 §4.1,
 * kem_context = enc || pkR), so a share sealed to one key fails its AEAD tag under
 * every other; which key opens it is its config id.  A share that opens with none
 * (sealed to a retired or unknown key, or altered) is refused with the config ids
 * held.  What is not secret: which key opened a share (the timing tells it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/share.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/hpke.h"

static int open_with(const uint8_t aSecret[32], const uint8_t aPublic[32], const uint8_t aEnc[32],
                     const pa_hpke_params *pParams, const uint8_t *pAad, size_t nAad,
                     const uint8_t *pCt, size_t nCt, uint8_t *pOut)
{
    pa_hpke_ctx ctx;
    int rc = pa_hpke_setup_receiver_keypair(&ctx, aEnc, aSecret, aPublic, NULL, pParams);
    if (rc == PA_OK)
        rc = pa_hpke_open(&ctx, pOut, pAad, nAad, pCt, nCt);
    pa_hpke_ctx_wipe(&ctx);
    return rc;
}

int pa_agg_open_share(const pa_aggregator *a, const pa_report *r, const uint8_t aEnc[32],
                      const uint8_t *pCt, size_t nCt, uint8_t *pOut)
{
    uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE], *pAad;
    size_t nAad;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    const pa_keys *k = a->pKeys;
    int rc;

    if (nCt != a->nOwnInputShare + PA_HPKE_NT)
        return pa_fail(PA_EDECODE, "input share: %zu bytes sealed, expected %zu", nCt,
                       a->nOwnInputShare + PA_HPKE_NT);
    pa_report_hpke_info(aInfo, a->iAggId);
    PA_GUARD(pa_report_aad(&pAad, &nAad, r));
    rc = open_with(k->aSecret, k->aPublic, aEnc, &params, pAad, nAad, pCt, nCt, pOut);
    for (size_t i = 0; rc != PA_OK && i < k->nOld; i++)
        rc = open_with(k->aOld[i].aSecret, k->aOld[i].aPublic, aEnc, &params, pAad, nAad, pCt, nCt,
                       pOut);
    free(pAad);
    if (rc != PA_OK) {
        char zIds[8 * (PA_KEYS_MAX_OLD + 1)];
        int n = snprintf(zIds, sizeof zIds, "%u", (unsigned)k->iConfigId);
        for (size_t i = 0; i < k->nOld && n > 0 && (size_t)n < sizeof zIds; i++)
            n += snprintf(zIds + n, sizeof zIds - (size_t)n, ", %u", (unsigned)k->aOld[i].iConfigId);
        return pa_fail(PA_EAUTH, "input share: opens with none of this aggregator's HPKE keys (config "
                       "ids %s): sealed to a retired or unknown key, or altered", zIds);
    }
    return PA_OK;
}
