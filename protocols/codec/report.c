/*
 * Report codec: encode with msgpack-c's packer, decode with the bounded strict
 * reader (see include/privagg/report.h for the layout).
 */
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mp_read.h"
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
    return year >= 2000 && month >= 1 && month <= 12;
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
        return pa_fail(PA_EINVAL, "period: \"%s\" is not YYYY-MM", r->zPeriod);
    return PA_OK;
}

static void pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
}

static void pack_str(msgpack_packer *pk, const char *z)
{
    size_t n = strlen(z);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, z, n);
}

/* The first seven elements shared by the wire form and the signed bytes. */
static void pack_head(msgpack_packer *pk, const pa_report *r, size_t nElem)
{
    msgpack_pack_array(pk, nElem);
    msgpack_pack_uint64(pk, PA_REPORT_VERSION);
    pack_bin(pk, r->aTaskId, sizeof r->aTaskId);
    pack_bin(pk, r->aReportId, sizeof r->aReportId);
    pack_str(pk, r->zAgencyId);
    pack_str(pk, r->zPeriod);
    pack_str(pk, r->zPartition);
    pack_bin(pk, r->pPublicShare, r->nPublicShare);
}

void pa_report_leader_digest(uint8_t aDigest[32], const pa_report *r)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, r->leader.aEnc, sizeof r->leader.aEnc);
    crypto_hash_sha256_update(&st, r->leader.pCt, r->leader.nCt);
    crypto_hash_sha256_final(&st, aDigest);
}

/* Move an sbuffer's bytes (after an optional label) into a malloc'ed buffer. */
static int finish(msgpack_sbuffer *sb, const char *zLabel, uint8_t **ppOut, size_t *pnOut)
{
    size_t nLabel = zLabel ? strlen(zLabel) : 0;
    uint8_t *p = malloc(nLabel + sb->size + 1);

    if (p == NULL || sb->data == NULL) {
        free(p);
        msgpack_sbuffer_destroy(sb);
        return pa_fail(PA_ENOMEM, "report: out of memory");
    }
    if (nLabel)
        memcpy(p, zLabel, nLabel);
    memcpy(p + nLabel, sb->data, sb->size);
    *ppOut = p;
    *pnOut = nLabel + sb->size;
    msgpack_sbuffer_destroy(sb);
    return PA_OK;
}

int pa_report_encode(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_head(&pk, pReport, 12);
    pack_bin(&pk, pReport->leader.aEnc, sizeof pReport->leader.aEnc);
    pack_bin(&pk, pReport->leader.pCt, pReport->leader.nCt);
    pack_bin(&pk, pReport->helper.aEnc, sizeof pReport->helper.aEnc);
    pack_bin(&pk, pReport->helper.pCt, pReport->helper.nCt);
    pack_bin(&pk, pReport->aSignature, sizeof pReport->aSignature);
    return finish(&sb, NULL, ppOut, pnOut);
}

int pa_report_signed_bytes(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport,
                           const uint8_t *pLeaderDigest)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t aDigest[32];
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    if (pLeaderDigest == NULL) {
        pa_report_leader_digest(aDigest, pReport);
        pLeaderDigest = aDigest;
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_head(&pk, pReport, 10);
    pack_bin(&pk, pLeaderDigest, 32);
    pack_bin(&pk, pReport->helper.aEnc, sizeof pReport->helper.aEnc);
    pack_bin(&pk, pReport->helper.pCt, pReport->helper.nCt);
    return finish(&sb, PA_REPORT_SIGN_LABEL, ppOut, pnOut);
}

int pa_report_aad(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int rc = check_fields(pReport);

    if (rc != PA_OK)
        return rc;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 6);
    pack_bin(&pk, pReport->aTaskId, sizeof pReport->aTaskId);
    pack_bin(&pk, pReport->aReportId, sizeof pReport->aReportId);
    pack_str(&pk, pReport->zAgencyId);
    pack_str(&pk, pReport->zPeriod);
    pack_str(&pk, pReport->zPartition);
    pack_bin(&pk, pReport->pPublicShare, pReport->nPublicShare);
    return finish(&sb, PA_REPORT_AAD_LABEL, ppOut, pnOut);
}

#define GUARD(x)                                                                                   \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ != PA_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

static int read_fixed(pa_mp_cursor *c, const char *zField, uint8_t *pOut, size_t n)
{
    const uint8_t *p;
    size_t got;
    GUARD(pa_mp_read_bin(c, zField, n, n, &p, &got));
    memcpy(pOut, p, n);
    return PA_OK;
}

int pa_report_decode(pa_report *pReport, const uint8_t *pIn, size_t nIn,
                     const pa_report_sizes *pSizes)
{
    pa_mp_cursor c = {pIn, nIn};
    size_t nElem;
    uint64_t version;

    memset(pReport, 0, sizeof *pReport);
    GUARD(pa_mp_read_array(&c, "report", &nElem));
    if (nElem != 12)
        return pa_fail(PA_EDECODE, "report: %zu elements, expected 12", nElem);
    GUARD(pa_mp_read_uint(&c, "report.version", &version));
    if (version != PA_REPORT_VERSION)
        return pa_fail(PA_EDECODE, "report.version: %llu, this build reads version %d",
                       (unsigned long long)version, PA_REPORT_VERSION);
    GUARD(read_fixed(&c, "report.task_id", pReport->aTaskId, sizeof pReport->aTaskId));
    GUARD(read_fixed(&c, "report.report_id", pReport->aReportId, sizeof pReport->aReportId));
    GUARD(pa_mp_read_str(&c, "report.agency_id", PA_REPORT_MAX_AGENCY_ID, pReport->zAgencyId));
    GUARD(pa_mp_read_str(&c, "report.period", 7, pReport->zPeriod));
    if (!pa_period_valid(pReport->zPeriod))
        return pa_fail(PA_EDECODE, "report.period: \"%s\" is not YYYY-MM", pReport->zPeriod);
    GUARD(pa_mp_read_str(&c, "report.partition", PA_REPORT_MAX_PARTITION, pReport->zPartition));
    /* exact size: 0 means the VDAF's public share is empty */
    GUARD(pa_mp_read_bin(&c, "report.public_share", pSizes->nPublicShare, 0, &pReport->pPublicShare,
                         &pReport->nPublicShare));
    GUARD(read_fixed(&c, "report.leader_enc", pReport->leader.aEnc, 32));
    GUARD(pa_mp_read_bin(&c, "report.leader_ct", pSizes->nLeaderCt, MAX_SHARE_BYTES,
                         &pReport->leader.pCt, &pReport->leader.nCt));
    GUARD(read_fixed(&c, "report.helper_enc", pReport->helper.aEnc, 32));
    GUARD(pa_mp_read_bin(&c, "report.helper_ct", pSizes->nHelperCt, MAX_SHARE_BYTES,
                         &pReport->helper.pCt, &pReport->helper.nCt));
    GUARD(read_fixed(&c, "report.signature", pReport->aSignature, sizeof pReport->aSignature));
    return pa_mp_read_end(&c, "report");
}
