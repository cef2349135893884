/*
 * Leader/helper/collector message codecs (see include/privagg/messages.h).
 * Encoding with msgpack-c (mp_write), strict bounded decoding (mp_read).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "codec/mp_read.h"
#include "codec/mp_write.h"
#include "common/guard.h"
#include "privagg/messages.h"
#include "privagg/report.h"

static const char *const g_reasons[] = {
    "none", "decrypt", "decode", "proof", "replay", "signature", "agency", "collected", "duplicate",
};

const char *pa_reject_reason_name(pa_reject_reason e)
{
    return (unsigned)e <= PA_REJECT_MAX ? g_reasons[e] : "unknown";
}

/* ---------------------------------------------------------------- readers */

/* A byte string of exactly n bytes (n may be 0: an empty bin). */
static int read_exact(pa_mp_cursor *c, const char *zField, size_t n, const uint8_t **pp)
{
    size_t got;
    return pa_mp_read_bin(c, zField, n, n, pp, &got);
}

static int read_header(pa_mp_cursor *c, const char *zMsg, size_t nWant, uint8_t aTaskId[32])
{
    size_t nElem;
    uint64_t v;
    PA_GUARD(pa_mp_read_array(c, zMsg, &nElem));
    if (nElem != nWant)
        return pa_fail(PA_EDECODE, "%s: %zu elements, expected %zu", zMsg, nElem, nWant);
    PA_GUARD(pa_mp_read_uint(c, zMsg, &v));
    if (v != PA_MSG_VERSION)
        return pa_fail(PA_EDECODE, "%s.version: %llu, this build reads %d", zMsg,
                       (unsigned long long)v, PA_MSG_VERSION);
    return pa_mp_read_fixed(c, zMsg, aTaskId, 32);
}

static int read_batch(pa_mp_cursor *c, const char *zMsg, char *zPeriod, char *zPartition)
{
    PA_GUARD(pa_mp_read_str(c, zMsg, 7, zPeriod));
    if (!pa_period_valid(zPeriod))
        return pa_fail(PA_EDECODE, "%s.period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zMsg, zPeriod);
    return pa_mp_read_str(c, zMsg, 64, zPartition);
}

/* The item count of a list: bounded by the limit and by the bytes left (an item
 * takes at least nMinItemBytes), so a hostile count allocates nothing large. */
static int read_list(pa_mp_cursor *c, const char *zMsg, size_t nMinItemBytes, size_t *pn)
{
    PA_GUARD(pa_mp_read_array(c, zMsg, pn));
    if (*pn > PA_MAX_JOB_REPORTS)
        return pa_fail(PA_ERANGE, "%s: %zu items, above the limit %d", zMsg, *pn, PA_MAX_JOB_REPORTS);
    if (*pn > c->n / nMinItemBytes)
        return pa_fail(PA_EDECODE, "%s: %zu items cannot fit in %zu bytes", zMsg, *pn, c->n);
    return PA_OK;
}

/* ---------------------------------------------------------------- job request */

int pa_job_req_encode(uint8_t **ppOut, size_t *pnOut, const pa_job_req *m, const pa_msg_sizes *s)
{
    pa_mp_writer w;

    if (m->nItem > PA_MAX_JOB_REPORTS)
        return pa_fail(PA_EINVAL, "job: %zu reports, above the limit %d", m->nItem, PA_MAX_JOB_REPORTS);
    if (!pa_period_valid(m->zPeriod))
        return pa_fail(PA_EINVAL, "job.period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", m->zPeriod);
    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 5);
    pa_mp_put_uint(&w, PA_MSG_VERSION);
    pa_mp_put_bin(&w, m->aTaskId, 32);
    pa_mp_put_bin(&w, m->aJobId, PA_JOB_ID_SIZE);
    pa_mp_put_str(&w, m->zPeriod);
    pa_mp_put_array(&w, m->nItem);
    for (size_t i = 0; i < m->nItem; i++) {
        const pa_job_item *it = &m->aItem[i];
        pa_mp_put_array(&w, 9);
        pa_mp_put_bin(&w, it->aReportId, 16);
        pa_mp_put_str(&w, it->zAgencyId);
        pa_mp_put_str(&w, it->zPartition);
        pa_mp_put_bin(&w, it->pPublicShare, s->nPublicShare);
        pa_mp_put_bin(&w, it->aLeaderDigest, 32);
        pa_mp_put_bin(&w, it->aHelperEnc, 32);
        pa_mp_put_bin(&w, it->pHelperCt, s->nHelperCt);
        pa_mp_put_bin(&w, it->aSignature, 64);
        pa_mp_put_bin(&w, it->pLeaderVerifierShare, s->nVerifierShare);
    }
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

static int read_job_item(pa_mp_cursor *c, pa_job_item *it, const pa_msg_sizes *s)
{
    size_t nElem;
    PA_GUARD(pa_mp_read_array(c, "job.report", &nElem));
    if (nElem != 9)
        return pa_fail(PA_EDECODE, "job.report: %zu elements, expected 9", nElem);
    PA_GUARD(pa_mp_read_fixed(c, "job.report.report_id", it->aReportId, 16));
    PA_GUARD(pa_mp_read_str(c, "job.report.agency_id", 64, it->zAgencyId));
    PA_GUARD(pa_mp_read_str(c, "job.report.partition", 64, it->zPartition));
    PA_GUARD(read_exact(c, "job.report.public_share", s->nPublicShare, &it->pPublicShare));
    PA_GUARD(pa_mp_read_fixed(c, "job.report.leader_digest", it->aLeaderDigest, 32));
    PA_GUARD(pa_mp_read_fixed(c, "job.report.helper_enc", it->aHelperEnc, 32));
    PA_GUARD(read_exact(c, "job.report.helper_ct", s->nHelperCt, &it->pHelperCt));
    PA_GUARD(pa_mp_read_fixed(c, "job.report.signature", it->aSignature, 64));
    return read_exact(c, "job.report.leader_verifier_share", s->nVerifierShare, &it->pLeaderVerifierShare);
}

int pa_job_req_decode(pa_job_req *m, const uint8_t *p, size_t n, const pa_msg_sizes *s)
{
    pa_mp_cursor c = {p, n};
    int rc;

    memset(m, 0, sizeof *m);
    PA_GUARD(read_header(&c, "job", 5, m->aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "job.job_id", m->aJobId, PA_JOB_ID_SIZE));
    PA_GUARD(pa_mp_read_str(&c, "job.period", 7, m->zPeriod));
    if (!pa_period_valid(m->zPeriod))
        return pa_fail(PA_EDECODE, "job.period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", m->zPeriod);
    PA_GUARD(read_list(&c, "job.reports", 8, &m->nItem));
    m->aItem = calloc(m->nItem ? m->nItem : 1, sizeof *m->aItem);
    if (m->aItem == NULL)
        return pa_fail(PA_ENOMEM, "job: out of memory");
    for (size_t i = 0; i < m->nItem; i++) {
        rc = read_job_item(&c, &m->aItem[i], s);
        if (rc != PA_OK) {
            pa_job_req_free(m);
            return rc;
        }
    }
    rc = pa_mp_read_end(&c, "job");
    if (rc != PA_OK)
        pa_job_req_free(m);
    return rc;
}

void pa_job_req_free(pa_job_req *m)
{
    free(m->aItem);
    m->aItem = NULL;
    m->nItem = 0;
}

/* ---------------------------------------------------------------- job steps */

size_t pa_job_step_payload_size(pa_job_step_kind eStep, const pa_msg_sizes *s)
{
    switch (eStep) {
    case PA_STEP_INIT_RESP: return s->nVerifierShare;
    case PA_STEP_CONTINUE:  return s->nVerifierMessage;
    default:                return 0;
    }
}

int pa_job_step_encode(uint8_t **ppOut, size_t *pnOut, const pa_job_step *m, const pa_msg_sizes *s)
{
    pa_mp_writer w;
    size_t nPayload = pa_job_step_payload_size(m->eStep, s);

    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 5);
    pa_mp_put_uint(&w, PA_MSG_VERSION);
    pa_mp_put_bin(&w, m->aTaskId, 32);
    pa_mp_put_bin(&w, m->aJobId, PA_JOB_ID_SIZE);
    pa_mp_put_uint(&w, (uint64_t)m->eStep);
    pa_mp_put_array(&w, m->nItem);
    for (size_t i = 0; i < m->nItem; i++) {
        const pa_job_step_item *it = &m->aItem[i];
        pa_mp_put_array(&w, 3);
        pa_mp_put_bin(&w, it->aReportId, 16);
        pa_mp_put_uint(&w, (uint64_t)it->eReject);
        pa_mp_put_bin(&w, it->pPayload, it->eReject == PA_REJECT_NONE ? nPayload : 0);
    }
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

int pa_job_step_decode(pa_job_step *m, pa_job_step_kind eWant, const uint8_t *p, size_t n,
                       const pa_msg_sizes *s)
{
    pa_mp_cursor c = {p, n};
    uint64_t v;
    size_t nPayload = pa_job_step_payload_size(eWant, s);
    int rc = PA_OK;

    memset(m, 0, sizeof *m);
    PA_GUARD(read_header(&c, "job_step", 5, m->aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "job_step.job_id", m->aJobId, PA_JOB_ID_SIZE));
    PA_GUARD(pa_mp_read_uint(&c, "job_step.step", &v));
    if (v != (uint64_t)eWant)
        return pa_fail(PA_EDECODE, "job_step.step: %llu, expected %d", (unsigned long long)v, (int)eWant);
    m->eStep = eWant;
    PA_GUARD(read_list(&c, "job_step.reports", 4, &m->nItem));
    m->aItem = calloc(m->nItem ? m->nItem : 1, sizeof *m->aItem);
    if (m->aItem == NULL)
        return pa_fail(PA_ENOMEM, "job_step: out of memory");
    for (size_t i = 0; rc == PA_OK && i < m->nItem; i++) {
        pa_job_step_item *it = &m->aItem[i];
        size_t nElem;
        rc = pa_mp_read_array(&c, "job_step.report", &nElem);
        if (rc == PA_OK && nElem != 3)
            rc = pa_fail(PA_EDECODE, "job_step.report: %zu elements, expected 3", nElem);
        if (rc == PA_OK)
            rc = pa_mp_read_fixed(&c, "job_step.report.report_id", it->aReportId, 16);
        if (rc == PA_OK)
            rc = pa_mp_read_uint(&c, "job_step.report.reject", &v);
        if (rc == PA_OK && v > PA_REJECT_MAX)
            rc = pa_fail(PA_EDECODE, "job_step.report.reject: %llu is above %d",
                         (unsigned long long)v, PA_REJECT_MAX);
        if (rc == PA_OK) {
            it->eReject = (pa_reject_reason)v;
            rc = read_exact(&c, "job_step.report.payload",
                            it->eReject == PA_REJECT_NONE ? nPayload : 0, &it->pPayload);
        }
    }
    if (rc == PA_OK)
        rc = pa_mp_read_end(&c, "job_step");
    if (rc != PA_OK)
        pa_job_step_free(m);
    return rc;
}

void pa_job_step_free(pa_job_step *m)
{
    free(m->aItem);
    m->aItem = NULL;
    m->nItem = 0;
}

/* ---------------------------------------------------------------- collection */

int pa_collect_req_encode(uint8_t **ppOut, size_t *pnOut, const pa_collect_req *m)
{
    pa_mp_writer w;

    if (!pa_period_valid(m->zPeriod))
        return pa_fail(PA_EINVAL, "collect.period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", m->zPeriod);
    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 5);
    pa_mp_put_uint(&w, PA_MSG_VERSION);
    pa_mp_put_bin(&w, m->aTaskId, 32);
    pa_mp_put_bin(&w, m->aCollectionId, 16);
    pa_mp_put_str(&w, m->zPeriod);
    pa_mp_put_str(&w, m->zPartition);
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

int pa_collect_req_decode(pa_collect_req *m, const uint8_t *p, size_t n)
{
    pa_mp_cursor c = {p, n};

    memset(m, 0, sizeof *m);
    PA_GUARD(read_header(&c, "collect", 5, m->aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "collect.collection_id", m->aCollectionId, 16));
    PA_GUARD(read_batch(&c, "collect", m->zPeriod, m->zPartition));
    return pa_mp_read_end(&c, "collect");
}

static void put_sealed(pa_mp_writer *w, const pa_sealed_agg *m, const pa_msg_sizes *s)
{
    pa_mp_put_array(w, 7);
    pa_mp_put_uint(w, m->nAgency);
    pa_mp_put_uint(w, m->nReport);
    pa_mp_put_uint(w, m->nRejected);
    pa_mp_put_bin(w, m->aEnc, 32);
    pa_mp_put_bin(w, m->pCt, s->nAggCt);
    pa_mp_put_bin(w, m->aLedgerHash, 32);
    pa_mp_put_bin(w, m->aAgencyHash, 32);
}

static int read_sealed(pa_mp_cursor *c, const char *zMsg, pa_sealed_agg *m, const pa_msg_sizes *s)
{
    size_t nElem;
    PA_GUARD(pa_mp_read_array(c, zMsg, &nElem));
    if (nElem != 7)
        return pa_fail(PA_EDECODE, "%s: %zu elements, expected 7", zMsg, nElem);
    PA_GUARD(pa_mp_read_uint(c, zMsg, &m->nAgency));
    PA_GUARD(pa_mp_read_uint(c, zMsg, &m->nReport));
    PA_GUARD(pa_mp_read_uint(c, zMsg, &m->nRejected));
    PA_GUARD(pa_mp_read_fixed(c, zMsg, m->aEnc, 32));
    PA_GUARD(read_exact(c, zMsg, s->nAggCt, &m->pCt));
    PA_GUARD(pa_mp_read_fixed(c, zMsg, m->aLedgerHash, 32));
    return pa_mp_read_fixed(c, zMsg, m->aAgencyHash, 32);
}

int pa_sealed_agg_encode(uint8_t **ppOut, size_t *pnOut, const uint8_t aTaskId[32],
                         const uint8_t aCollectionId[16], const pa_sealed_agg *m,
                         const pa_msg_sizes *s)
{
    pa_mp_writer w;

    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 4);
    pa_mp_put_uint(&w, PA_MSG_VERSION);
    pa_mp_put_bin(&w, aTaskId, 32);
    pa_mp_put_bin(&w, aCollectionId, 16);
    put_sealed(&w, m, s);
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

int pa_sealed_agg_decode(pa_sealed_agg *m, uint8_t aTaskId[32], uint8_t aCollectionId[16],
                         const uint8_t *p, size_t n, const pa_msg_sizes *s)
{
    pa_mp_cursor c = {p, n};

    memset(m, 0, sizeof *m);
    PA_GUARD(read_header(&c, "agg_share", 4, aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "agg_share.collection_id", aCollectionId, 16));
    PA_GUARD(read_sealed(&c, "agg_share", m, s));
    return pa_mp_read_end(&c, "agg_share");
}

int pa_collect_resp_encode(uint8_t **ppOut, size_t *pnOut, const pa_collect_resp *m,
                           const pa_msg_sizes *s)
{
    pa_mp_writer w;

    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 8);
    pa_mp_put_uint(&w, PA_MSG_VERSION);
    pa_mp_put_bin(&w, m->aTaskId, 32);
    pa_mp_put_bin(&w, m->aCollectionId, 16);
    pa_mp_put_str(&w, m->zPeriod);
    pa_mp_put_str(&w, m->zPartition);
    put_sealed(&w, &m->leader, s);
    put_sealed(&w, &m->helper, s);
    pa_mp_put_bin(&w, m->pAgencyIds, m->nAgencyIds);
    return pa_mp_writer_finish(&w, NULL, ppOut, pnOut);
}

int pa_collect_resp_decode(pa_collect_resp *m, const uint8_t *p, size_t n, const pa_msg_sizes *s)
{
    pa_mp_cursor c = {p, n};
    uint64_t nIds;
    uint8_t aHash[32];

    memset(m, 0, sizeof *m);
    PA_GUARD(read_header(&c, "collection", 8, m->aTaskId));
    PA_GUARD(pa_mp_read_fixed(&c, "collection.collection_id", m->aCollectionId, 16));
    PA_GUARD(read_batch(&c, "collection", m->zPeriod, m->zPartition));
    PA_GUARD(read_sealed(&c, "collection.leader", &m->leader, s));
    PA_GUARD(read_sealed(&c, "collection.helper", &m->helper, s));
    PA_GUARD(pa_mp_read_bin(&c, "collection.agency_ids", 0, PA_AGENCY_IDS_MAX, &m->pAgencyIds, &m->nAgencyIds));
    PA_GUARD(pa_agency_ids_check(m->pAgencyIds, m->nAgencyIds, "collection.agency_ids", &nIds));
    if (nIds != m->leader.nAgency)
        return pa_fail(PA_EDECODE, "collection.agency_ids: %llu ids, the leader counted %llu agencies",
                       (unsigned long long)nIds, (unsigned long long)m->leader.nAgency);
    pa_agency_ids_hash(m->pAgencyIds, m->nAgencyIds, aHash);
    if (sodium_memcmp(aHash, m->leader.aAgencyHash, 32) != 0)
        return pa_fail(PA_EDECODE, "collection.agency_ids: not the list the leader's hash names");
    return pa_mp_read_end(&c, "collection");
}

int pa_agg_share_aad(uint8_t **ppOut, size_t *pnOut, const uint8_t aTaskId[32],
                     const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition,
                     const pa_sealed_agg *m, unsigned iAggregator)
{
    pa_mp_writer w;

    pa_mp_writer_init(&w);
    pa_mp_put_array(&w, 10);
    pa_mp_put_bin(&w, aTaskId, 32);
    pa_mp_put_bin(&w, aCollectionId, 16);
    pa_mp_put_str(&w, zPeriod);
    pa_mp_put_str(&w, zPartition);
    pa_mp_put_uint(&w, m->nAgency);
    pa_mp_put_uint(&w, m->nReport);
    pa_mp_put_uint(&w, m->nRejected);
    pa_mp_put_bin(&w, m->aLedgerHash, 32);
    pa_mp_put_bin(&w, m->aAgencyHash, 32);
    pa_mp_put_uint(&w, iAggregator);
    return pa_mp_writer_finish(&w, PA_AGG_SHARE_LABEL, ppOut, pnOut);
}

int pa_agency_ids_check(const uint8_t *p, size_t n, const char *zWhat, uint64_t *pnCount)
{
    const uint8_t *pPrev = NULL;
    size_t nPrev = 0, i = 0;
    uint64_t nId = 0;

    *pnCount = 0;
    while (i < n) {
        const uint8_t *pEnd = memchr(p + i, 0, n - i);
        size_t nLen = pEnd == NULL ? n - i : (size_t)(pEnd - (p + i));
        if (pEnd == NULL)
            return pa_fail(PA_EDECODE, "%s[%llu]: not NUL-terminated", zWhat, (unsigned long long)nId);
        if (nLen == 0 || nLen > 64)
            return pa_fail(PA_EDECODE, "%s[%llu]: %zu bytes, an agency id has 1 to 64", zWhat,
                           (unsigned long long)nId, nLen);
        if (pPrev != NULL) {
            int c = memcmp(pPrev, p + i, nPrev < nLen ? nPrev : nLen);
            if (c > 0 || (c == 0 && nPrev >= nLen))
                return pa_fail(PA_EDECODE, "%s[%llu]: not after the id before it (the list is sorted, "
                                           "each id once)", zWhat, (unsigned long long)nId);
        }
        pPrev = p + i;
        nPrev = nLen;
        i += nLen + 1;
        nId++;
    }
    *pnCount = nId;
    return PA_OK;
}

void pa_agency_ids_hash(const uint8_t *p, size_t n, uint8_t aOut[32])
{
    static const char zLabel[] = "privagg/agencies/v1";
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)zLabel, sizeof zLabel - 1);
    if (n > 0)
        crypto_hash_sha256_update(&st, p, n);
    crypto_hash_sha256_final(&st, aOut);
}

void pa_agg_share_hpke_info(uint8_t aInfo[PA_AGG_SHARE_HPKE_INFO_SIZE], unsigned iAggregator)
{
    memcpy(aInfo, PA_AGG_SHARE_LABEL, sizeof PA_AGG_SHARE_LABEL - 1);
    aInfo[sizeof PA_AGG_SHARE_LABEL - 1] = (uint8_t)iAggregator;
}
