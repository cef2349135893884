/*
 * Report codec: encode with msgpack-c's packer, decode with the bounded strict
 * reader (see include/privagg/report.h for the layout).
 */
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mp_read.h"
#include "codec/mp_write.h"
#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/report.h"

/* Upper bounds when the caller gives no exact size. */
#define MAX_SHARE_BYTES ((size_t)64 << 20)

int pa_period_valid(const char *z)
{
    if (strlen(z) != 7 || z[4] != '-')
        return 0;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (z[i] < '0' || z[i] > '9'))
            return 0;
    int year = (z[0] - '0') * 1000 + (z[1] - '0') * 100 + (z[2] - '0') * 10 + (z[3] - '0');
    int month = (z[5] - '0') * 10 + (z[6] - '0');
    return year >= PA_PERIOD_MIN_YEAR && month >= 1 && month <= 12;
}

static int check_fields(const pa_report *r)
{
    size_t n = strlen(r->zAgencyId);
    if (n == 0 || n > PA_REPORT_MAX_AGENCY_ID)
        return pa_fail(PA_EINVAL, "agency_id: length %zu is outside 1..%d", n, PA_REPORT_MAX_AGENCY_ID);
    n = strlen(r->zPartition);
    if (n == 0 || n > PA_REPORT_MAX_PARTITION)
        return pa_fail(PA_EINVAL, "partition: length %zu is outside 1..%d", n, PA_REPORT_MAX_PARTITION);
    if (!pa_period_valid(r->zPeriod))
        return pa_fail(PA_EINVAL, "period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", r->zPeriod);
    return PA_OK;
}

/* The first seven elements shared by the wire form and the signed bytes. */
static void put_head(pa_mp_writer *w, const pa_report *r, size_t nElem, unsigned iVersion)
{
    pa_mp_put_array(w, nElem);
    pa_mp_put_uint(w, iVersion);
    pa_mp_put_bin(w, r->aTaskId, sizeof r->aTaskId);
    pa_mp_put_bin(w, r->aReportId, sizeof r->aReportId);
    pa_mp_put_str(w, r->zAgencyId);
    pa_mp_put_str(w, r->zPeriod);
    pa_mp_put_str(w, r->zPartition);
    pa_mp_put_bin(w, r->pPublicShare, r->nPublicShare);
}

void pa_report_leader_digest(uint8_t aDigest[32], const pa_report *r)
{
    /* the encapsulation and the AEAD tag only (include/privagg/report.h says why) */
    size_t nTag = r->leader.nCt < PA_REPORT_AEAD_TAG_SIZE ? r->leader.nCt : PA_REPORT_AEAD_TAG_SIZE;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, r->leader.aEnc, sizeof r->leader.aEnc);
    if (nTag > 0)
        crypto_generichash_update(&st, r->leader.pCt + r->leader.nCt - nTag, nTag);
    crypto_generichash_final(&st, aDigest, 32);
}

int pa_report_encode(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport)
{
    pa_mp_writer w;
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    int iVersion = pReport->iVersion == 0 ? PA_REPORT_VERSION : pReport->iVersion;
    if (iVersion < PA_REPORT_VERSION_MIN || iVersion > PA_REPORT_VERSION)
        return pa_fail(PA_EINVAL, "report.version: %d, this build writes %d..%d", iVersion,
                       PA_REPORT_VERSION_MIN, PA_REPORT_VERSION);
    pa_mp_writer_init(&w);
    put_head(&w, pReport, iVersion >= 3 ? 14 : 12, (unsigned)iVersion);
    if (iVersion >= 3)
        pa_mp_put_uint(&w, pReport->leader.iConfigId);
    pa_mp_put_bin(&w, pReport->leader.aEnc, sizeof pReport->leader.aEnc);
    pa_mp_put_bin(&w, pReport->leader.pCt, pReport->leader.nCt);
    if (iVersion >= 3)
        pa_mp_put_uint(&w, pReport->helper.iConfigId);
    pa_mp_put_bin(&w, pReport->helper.aEnc, sizeof pReport->helper.aEnc);
    pa_mp_put_bin(&w, pReport->helper.pCt, pReport->helper.nCt);
    pa_mp_put_bin(&w, pReport->aSignature, sizeof pReport->aSignature);
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

int pa_report_signed_bytes(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport,
                           const uint8_t *pLeaderDigest)
{
    pa_mp_writer w;
    uint8_t aDigest[32];
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    if (pLeaderDigest == NULL) {
        pa_report_leader_digest(aDigest, pReport);
        pLeaderDigest = aDigest;
    }
    pa_mp_writer_init(&w);
    put_head(&w, pReport, 10, PA_REPORT_SIGNED_VERSION);
    pa_mp_put_bin(&w, pLeaderDigest, 32);
    pa_mp_put_bin(&w, pReport->helper.aEnc, sizeof pReport->helper.aEnc);
    pa_mp_put_bin(&w, pReport->helper.pCt, pReport->helper.nCt);
    return pa_mp_writer_finish(&w, PA_REPORT_SIGN_LABEL, ppOut, pnOut);
}

void pa_report_hpke_info(uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE], unsigned iAggId)
{
    memcpy(aInfo, PA_REPORT_HPKE_INFO, sizeof PA_REPORT_HPKE_INFO - 1);
    aInfo[sizeof PA_REPORT_HPKE_INFO - 1] = (uint8_t)iAggId;
}

int pa_report_aad(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport)
{
    pa_mp_writer w;
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 6);
    pa_mp_put_bin(&w, pReport->aTaskId, sizeof pReport->aTaskId);
    pa_mp_put_bin(&w, pReport->aReportId, sizeof pReport->aReportId);
    pa_mp_put_str(&w, pReport->zAgencyId);
    pa_mp_put_str(&w, pReport->zPeriod);
    pa_mp_put_str(&w, pReport->zPartition);
    pa_mp_put_bin(&w, pReport->pPublicShare, pReport->nPublicShare);
    return pa_mp_writer_finish(&w, PA_REPORT_AAD_LABEL, ppOut, pnOut);
}

static int read_config_id(pa_mp_cursor *c, const char *zField, uint8_t *pOut)
{
    uint64_t v;
    PA_GUARD(pa_mp_read_uint(c, zField, &v));
    if (v > 255)
        return pa_fail(PA_EDECODE, "%s: %llu is above 255", zField, (unsigned long long)v);
    *pOut = (uint8_t)v;
    return PA_OK;
}

int pa_report_decode(pa_report *pReport, const uint8_t *pIn, size_t nIn,
                     const pa_report_sizes *pSizes)
{
    pa_mp_cursor c = {pIn, nIn};
    size_t nElem;
    uint64_t version;

    memset(pReport, 0, sizeof *pReport);
    PA_GUARD(pa_mp_read_array(&c, "report", &nElem));
    if (nElem != 12 && nElem != 14)
        return pa_fail(PA_EDECODE, "report: %zu elements, expected 14 (version 3) or 12 (version 2)", nElem);
    PA_GUARD(pa_mp_read_uint(&c, "report.version", &version));
    if (version != (nElem == 14 ? 3u : 2u))
        return pa_fail(PA_EDECODE, "report.version: %llu in an array of %zu elements; this build reads "
                       "version 3 (14 elements) and version 2 (12)", (unsigned long long)version, nElem);
    pReport->iVersion = (int)version;
    PA_GUARD(pa_mp_read_fixed(&c, "report.task_id", pReport->aTaskId, sizeof pReport->aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "report.report_id", pReport->aReportId, sizeof pReport->aReportId));
    PA_GUARD(pa_mp_read_str(&c, "report.agency_id", PA_REPORT_MAX_AGENCY_ID, pReport->zAgencyId));
    PA_GUARD(pa_mp_read_str(&c, "report.period", 7, pReport->zPeriod));
    if (!pa_period_valid(pReport->zPeriod))
        return pa_fail(PA_EDECODE, "report.period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", pReport->zPeriod);
    PA_GUARD(pa_mp_read_str(&c, "report.partition", PA_REPORT_MAX_PARTITION, pReport->zPartition));
    /* exact size: 0 means the VDAF's public share is empty */
    PA_GUARD(pa_mp_read_bin(&c, "report.public_share", pSizes->nPublicShare, 0, &pReport->pPublicShare,
                         &pReport->nPublicShare));
    if (pReport->iVersion >= 3)
        PA_GUARD(read_config_id(&c, "report.leader_config_id", &pReport->leader.iConfigId));
    PA_GUARD(pa_mp_read_fixed(&c, "report.leader_enc", pReport->leader.aEnc, 32));
    PA_GUARD(pa_mp_read_bin(&c, "report.leader_ct", pSizes->nLeaderCt, MAX_SHARE_BYTES,
                         &pReport->leader.pCt, &pReport->leader.nCt));
    if (pReport->iVersion >= 3)
        PA_GUARD(read_config_id(&c, "report.helper_config_id", &pReport->helper.iConfigId));
    PA_GUARD(pa_mp_read_fixed(&c, "report.helper_enc", pReport->helper.aEnc, 32));
    PA_GUARD(pa_mp_read_bin(&c, "report.helper_ct", pSizes->nHelperCt, MAX_SHARE_BYTES,
                         &pReport->helper.pCt, &pReport->helper.nCt));
    PA_GUARD(pa_mp_read_fixed(&c, "report.signature", pReport->aSignature, sizeof pReport->aSignature));
    return pa_mp_read_end(&c, "report");
}
