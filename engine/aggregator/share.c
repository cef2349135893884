/*
 * Opening this aggregator's HPKE-sealed input share of a report (base mode,
 * info = PA_REPORT_HPKE_INFO || aggregator byte, AAD = the report's metadata).
 *
 * Key rotation: the aggregator may hold several HPKE keys (the current one, a
 * new one staged ahead, and older ones not yet retired, each with an optional
 * expiry; include/privagg/keys.h, "key states").  A version 3 report names the
 * config id its share is sealed to: the share is opened with that key, and
 * refused when it is not held or has expired.  A version 2 report names none,
 * nor does the aggregation job tell the helper (its message and the leader's
 * stored columns stay as they are): the share is then opened with the current
 * key first, then the new one, then each older key, newest first, and the key
 * that opened it is checked for expiry.  The key is bound: the HPKE key schedule
 * takes the recipient's public key into the KEM context (RFC 9180 §4.1,
 * kem_context = enc || pkR), so a share sealed to one key fails its AEAD tag under
 * every other; which key opens it is its config id.  A share that opens with none
 * (sealed to a retired or unknown key, or altered) is refused with the config ids
 * held.  What is not secret: which key opened a share (the timing tells it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* "2026-11-15 00:00:00 UTC" */
static void utc(char *z, size_t n, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(z, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(z, n, "@%lld", (long long)t);
}

/* PA_EAUTH when the key is a retiring one that has expired: the leader at
 * upload from its expiry on, the helper PA_KEYS_HELPER_GRACE_S later.  The
 * current and the new key never expire. */
static int check_expiry(const pa_aggregator *a, const pa_hpke_key_ref *pKey)
{
    char zWhen[48];
    if (pKey->eState != PA_HPKE_KEY_RETIRING || pKey->tNotAfter == 0)
        return PA_OK;
    int64_t tEnd = pKey->tNotAfter + (a->iAggId == 0 ? 0 : PA_KEYS_HELPER_GRACE_S);
    if (pa_agg_now(a) < tEnd)
        return PA_OK;
    utc(zWhen, sizeof zWhen, pKey->tNotAfter);
    return pa_fail(PA_EAUTH, "sealed to the %s's HPKE key of config id %u, which expired at %s%s; "
                   "seal to its current key (config id %u: the signed GET /hpke_config, or its PREFIX.pub)",
                   a->iAggId == 0 ? "leader" : "helper", (unsigned)pKey->iConfigId, zWhen,
                   a->iAggId == 0 ? "" : " (and the helper's grace of 7 days after it)",
                   (unsigned)a->pKeys->iConfigId);
}

static void held_ids(const pa_hpke_key_ref *aKey, size_t nKey, char *zIds, size_t nIds)
{
    int n = 0;
    zIds[0] = '\0';
    for (size_t i = 0; i < nKey && n >= 0 && (size_t)n < nIds; i++)
        n += snprintf(zIds + n, nIds - (size_t)n, "%s%u", i ? ", " : "", (unsigned)aKey[i].iConfigId);
}

int pa_agg_open_share(const pa_aggregator *a, const pa_report *r, int iConfigId, const uint8_t aEnc[32],
                      const uint8_t *pCt, size_t nCt, uint8_t *pOut)
{
    uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE], *pAad;
    size_t nAad;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    pa_hpke_key_ref aKey[PA_KEYS_MAX_HPKE];
    size_t nKey = pa_keys_hpke_list(a->pKeys, aKey), iKey;
    char zIds[8 * PA_KEYS_MAX_HPKE];
    int rc = PA_EVERIFY;

    if (nCt != a->nOwnInputShare + PA_HPKE_NT)
        return pa_fail(PA_EDECODE, "input share: %zu bytes sealed, expected %zu", nCt,
                       a->nOwnInputShare + PA_HPKE_NT);
    if (iConfigId >= 0) {
        /* the report names the key: that one or none, whatever its state (a new
         * key opens too: another process of this role may already have it as
         * its current one, docs/keys.md) */
        for (iKey = 0; iKey < nKey && aKey[iKey].iConfigId != (unsigned)iConfigId; iKey++)
            ;
        if (iKey == nKey) {
            held_ids(aKey, nKey, zIds, sizeof zIds); /* for the message only: not on every share */
            return pa_fail(PA_EAUTH, "sealed to HPKE config id %d, which this %s does not hold (it holds "
                           "%s; the current one is %u): a retired or unknown key",
                           iConfigId, a->iAggId == 0 ? "leader" : "helper", zIds, (unsigned)a->pKeys->iConfigId);
        }
        PA_GUARD(check_expiry(a, &aKey[iKey]));
        pa_report_hpke_info(aInfo, a->iAggId);
        PA_GUARD(pa_report_aad(&pAad, &nAad, r));
        rc = open_with(aKey[iKey].pSecret, aKey[iKey].pPublic, aEnc, &params, pAad, nAad, pCt, nCt, pOut);
        free(pAad);
        if (rc != PA_OK)
            return pa_fail(PA_EVERIFY, "the input share does not open with the %s's HPKE key of config id "
                           "%d: altered, or sealed to another key", a->iAggId == 0 ? "leader" : "helper",
                           iConfigId);
        return PA_OK;
    }
    /* no config id (a version 2 report, or the helper, which is not sent it):
     * try every key held, the current one first, then the new one, then the
     * retiring ones newest first */
    pa_report_hpke_info(aInfo, a->iAggId);
    PA_GUARD(pa_report_aad(&pAad, &nAad, r));
    for (iKey = 0; rc != PA_OK && iKey < nKey; iKey++)
        rc = open_with(aKey[iKey].pSecret, aKey[iKey].pPublic, aEnc, &params, pAad, nAad, pCt, nCt, pOut);
    free(pAad);
    if (rc != PA_OK) {
        held_ids(aKey, nKey, zIds, sizeof zIds);
        return pa_fail(PA_EAUTH, "input share: opens with none of this aggregator's HPKE keys (config "
                       "ids %s): sealed to a retired or unknown key, or altered", zIds);
    }
    rc = check_expiry(a, &aKey[iKey - 1]);
    if (rc != PA_OK)
        pa_wipe(pOut, a->nOwnInputShare);
    return rc;
}
