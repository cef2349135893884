/*
 * Opening this aggregator's HPKE-sealed input share of a report (base mode,
 * info = PA_REPORT_HPKE_INFO || aggregator byte, AAD = the report's metadata).
 */
#include <stdlib.h>
#include <string.h>

#include "aggregator/share.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/hpke.h"

int pa_agg_open_share(const pa_aggregator *a, const pa_report *r, const uint8_t aEnc[32],
                      const uint8_t *pCt, size_t nCt, uint8_t *pOut)
{
    uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE], *pAad;
    size_t nAad;
    pa_hpke_ctx ctx;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    int rc;

    if (nCt != a->nOwnInputShare + PA_HPKE_NT)
        return pa_fail(PA_EDECODE, "input share: %zu bytes sealed, expected %zu", nCt,
                       a->nOwnInputShare + PA_HPKE_NT);
    pa_report_hpke_info(aInfo, a->iAggId);
    PA_GUARD(pa_report_aad(&pAad, &nAad, r));
    rc = pa_hpke_setup_receiver_keypair(&ctx, aEnc, a->pKeys->aSecret, a->pKeys->aPublic, NULL,
                                        &params);
    if (rc == PA_OK)
        rc = pa_hpke_open(&ctx, pOut, pAad, nAad, pCt, nCt);
    pa_hpke_ctx_wipe(&ctx);
    free(pAad);
    return rc;
}
