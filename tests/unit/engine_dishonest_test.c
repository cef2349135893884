/*
 * The helper driven by a dishonest leader.  The leader is the real one, but its
 * requests pass through a transport that edits them before the helper sees them
 * (decoded, changed, encoded again), or the test sends the helper requests of
 * its own: invalid reports marked accepted, a wrong verifier share or message,
 * forged signatures and shares, mislabeled agencies, partitions and periods,
 * replayed reports and jobs, a second report of an agency, continue steps naming
 * reports the helper never accepted.  Every time the helper refuses on its own,
 * sums only what it decided valid itself, and the two aggregators' batches still
 * cover the same reports.  (Collection refusals are in engine_reject_test.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/hpke.h"
#include "privagg/report.h"
#include "privagg/vdaf.h"
#include "support/flow.h"

#define MAX_SEEN 64

/* The dishonest leader: the flow, and its edits of its own requests. */
typedef struct dl dl;
struct dl {
    flow f;
    void (*xInit)(dl *d, pa_job_req *m);      /* NULL: the request goes as the leader built it */
    void (*xCont)(dl *d, pa_job_step *m);
    void (*xInitResp)(dl *d, pa_job_step *m); /* a dishonest helper's answers (the leader's checks) */
    void (*xFinish)(dl *d, pa_job_step *m);
    int iArg;                                  /* for the edits */
    size_t nSeen;                              /* report ids of the last init request sent */
    uint8_t aSeen[MAX_SEEN][16];
    uint8_t *pInit, *pCont;                    /* the last requests sent, as sent */
    size_t nInit, nCont;
};

static uint64_t g_counts[270];
static uint8_t g_buf[8][4096];                 /* owned bytes for edited fields */

static void no_dp(json_t *pRoot)
{
    json_object_set_new(pRoot, "dp", json_pack("{s:s, s:s}", "mechanism", "none", "privacy_unit",
                                               "incident_record"));
}

static void one_cell(json_t *pRoot, json_t *pVdaf)
{
    no_dp(pRoot);
    json_object_set_new(pRoot, "schema", json_pack("{s:[{s:s, s:[s]}]}", "dimensions", "name",
                                                   "incidents", "categories", "all"));
    json_object_set_new(pRoot, "vdaf", pVdaf);
}

static void count_task(json_t *pRoot)
{
    one_cell(pRoot, json_pack("{s:s}", "type", "Prio3Count"));
}

static void sum_task(json_t *pRoot)
{
    one_cell(pRoot, json_pack("{s:s, s:i}", "type", "Prio3Sum", "max_measurement", 1000));
}

/* The helper's answer to an edited continue step, cut back to the reports the
 * real leader asked about (the dishonest leader's code knows what it added). */
static void keep_asked(const pa_msg_sizes *s, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                       size_t *pnResp)
{
    pa_job_step asked, got, out;
    uint8_t *p;
    size_t n;
    assert_int_equal(pa_job_step_decode(&asked, PA_STEP_CONTINUE, pReq, nReq, s), PA_OK);
    assert_int_equal(pa_job_step_decode(&got, PA_STEP_FINISH, *ppResp, *pnResp, s), PA_OK);
    out = got;
    out.aItem = calloc(asked.nItem + 1, sizeof *out.aItem);
    out.nItem = asked.nItem;
    for (size_t i = 0; i < asked.nItem; i++) {
        size_t k = 0;
        while (k < got.nItem && memcmp(got.aItem[k].aReportId, asked.aItem[i].aReportId, 16) != 0)
            k++;
        assert_true(k < got.nItem);
        out.aItem[i] = got.aItem[k];
    }
    assert_int_equal(pa_job_step_encode(&p, &n, &out, s), PA_OK);
    free(out.aItem);
    pa_job_step_free(&asked);
    pa_job_step_free(&got);
    free(*ppResp);
    *ppResp = p;
    *pnResp = n;
}

static int dl_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                        size_t *pnResp)
{
    dl *d = pCtx;
    const pa_msg_sizes *s = pa_aggregator_sizes(d->f.pHelper);
    uint8_t *pSent = NULL;
    size_t nSent = 0;

    if (strcmp(zRoute, "job/init") == 0) {
        pa_job_req m;
        assert_int_equal(pa_job_req_decode(&m, pReq, nReq, s), PA_OK);
        if (d->xInit)
            d->xInit(d, &m);
        d->nSeen = 0;
        for (size_t i = 0; i < m.nItem && i < MAX_SEEN; i++)
            memcpy(d->aSeen[d->nSeen++], m.aItem[i].aReportId, 16);
        assert_int_equal(pa_job_req_encode(&pSent, &nSent, &m, s), PA_OK);
        pa_job_req_free(&m);
        free(d->pInit);
        d->pInit = malloc(nSent);
        memcpy(d->pInit, pSent, nSent);
        d->nInit = nSent;
    } else if (strcmp(zRoute, "job/continue") == 0) {
        pa_job_step m;
        assert_int_equal(pa_job_step_decode(&m, PA_STEP_CONTINUE, pReq, nReq, s), PA_OK);
        if (d->xCont)
            d->xCont(d, &m);
        assert_int_equal(pa_job_step_encode(&pSent, &nSent, &m, s), PA_OK);
        pa_job_step_free(&m);
        free(d->pCont);
        d->pCont = malloc(nSent);
        memcpy(d->pCont, pSent, nSent);
        d->nCont = nSent;
    }
    int rc = flow_transport(&d->f, zRoute, pSent ? pSent : pReq, pSent ? nSent : nReq, ppResp, pnResp);
    free(pSent);
    if (rc == PA_OK && d->xCont && strcmp(zRoute, "job/continue") == 0)
        keep_asked(s, pReq, nReq, ppResp, pnResp);
    int bInit = strcmp(zRoute, "job/init") == 0;
    void (*xAnswer)(dl *, pa_job_step *) = bInit ? d->xInitResp : d->xFinish;
    if (rc == PA_OK && xAnswer) {
        pa_job_step m;
        assert_int_equal(pa_job_step_decode(&m, bInit ? PA_STEP_INIT_RESP : PA_STEP_FINISH, *ppResp, *pnResp, s),
                         PA_OK);
        uint8_t *pOld = *ppResp; /* m borrows from it */
        xAnswer(d, &m);
        assert_int_equal(pa_job_step_encode(ppResp, pnResp, &m, s), PA_OK);
        pa_job_step_free(&m);
        free(pOld);
    }
    return rc;
}

static void dl_new(dl *d, size_t nAgencies, void (*xEdit)(json_t *))
{
    memset(d, 0, sizeof *d);
    assert_int_equal(flow_new(&d->f, nAgencies, 2, xEdit), PA_OK);
}

static void dl_free(dl *d)
{
    free(d->pInit);
    free(d->pCont);
    flow_free(&d->f);
}

static int run_jobs(dl *d, pa_job_stats *pSt)
{
    return pa_leader_run_jobs(d->f.pLeader, dl_transport, d, 100, pSt);
}

static int helper_n(dl *d, const char *zWhere)
{
    char z[256];
    snprintf(z, sizeof z, "SELECT count(*) FROM reports WHERE %s", zWhere);
    return flow_count(d->f.pHelperStore, z);
}

/* Reports summed into the batches of each aggregator. */
static int summed(pa_store *pStore)
{
    return flow_count(pStore, "SELECT coalesce(sum(report_count), 0) FROM batches");
}

static void submit_n(dl *d, size_t n, const char *zPeriod, uint64_t nCount)
{
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = nCount;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(flow_submit(&d->f, k, zPeriod, g_counts), PA_OK);
}

/* A malicious agency: a valid signature over a leader share it tampered with
 * (the first measurement element +1, or -2 if its low byte is 0xff: with a
 * measurement whose first element is 1 the report is invalid either way). */
static void upload_tampered(flow *f, size_t k, const char *zPeriod)
{
    pa_prio3 *v;
    int b128;
    uint8_t aCtx[PA_VDAF_CTX_SIZE], *apShare[2], *pPub, *pAad, *pSigned, *pMsg, aInfo[PA_REPORT_HPKE_INFO_SIZE];
    size_t anShare[2], nAad, nSigned, nMsg;
    pa_report r;
    const pa_task_agency *e = pa_task_find_agency(f->m.pTask, f->m.aAgency[k].zId);

    assert_int_equal(pa_vdaf_from_task(&v, f->m.pTask, &b128), PA_OK);
    for (int j = 0; j < 2; j++) {
        anShare[j] = pa_prio3_input_share_size(v, (size_t)j);
        apShare[j] = malloc(anShare[j] + PA_HPKE_NT);
    }
    pPub = malloc(pa_prio3_public_share_size(v) + 1);
    memset(&r, 0, sizeof r);
    memcpy(r.aTaskId, f->m.pTask->aTaskId, 32);
    randombytes_buf(r.aReportId, 16);
    strcpy(r.zAgencyId, e->zId);
    strcpy(r.zPeriod, zPeriod);
    strcpy(r.zPartition, e->zPartition);
    pa_vdaf_ctx(aCtx, f->m.pTask);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 1;
    assert_int_equal(pa_prio3_shard_random(v, aCtx, sizeof aCtx, g_counts, f->m.pTask->nCell, r.aReportId,
                                           pPub, apShare), PA_OK);
    apShare[0][0] = (uint8_t)(apShare[0][0] == 0xff ? 0xfd : apShare[0][0] + 1);
    r.pPublicShare = pPub;
    r.nPublicShare = pa_prio3_public_share_size(v);
    assert_int_equal(pa_report_aad(&pAad, &nAad, &r), PA_OK);
    for (int j = 0; j < 2; j++) {
        pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
        pa_hpke_ctx ctx;
        uint8_t *pEnc = j == 0 ? r.leader.aEnc : r.helper.aEnc;
        pa_report_hpke_info(aInfo, (unsigned)j);
        assert_int_equal(pa_hpke_setup_sender(&ctx, pEnc, j == 0 ? f->m.pTask->leader.aHpkePublicKey
                                                                  : f->m.pTask->helper.aHpkePublicKey,
                                              NULL, &params), PA_OK);
        assert_int_equal(pa_hpke_seal(&ctx, apShare[j], pAad, nAad, apShare[j], anShare[j]), PA_OK);
    }
    r.leader.iConfigId = f->m.pTask->leader.iHpkeConfigId;
    r.helper.iConfigId = f->m.pTask->helper.iHpkeConfigId;
    r.leader.pCt = apShare[0];
    r.leader.nCt = anShare[0] + PA_HPKE_NT;
    r.helper.pCt = apShare[1];
    r.helper.nCt = anShare[1] + PA_HPKE_NT;
    assert_int_equal(pa_report_signed_bytes(&pSigned, &nSigned, &r, NULL), PA_OK);
    crypto_sign_detached(r.aSignature, NULL, pSigned, nSigned, f->m.aAgency[k].aSecret);
    assert_int_equal(pa_report_encode(&pMsg, &nMsg, &r), PA_OK);
    assert_int_equal(pa_leader_upload(f->pLeader, pMsg, nMsg), PA_OK); /* looks fine from outside */
    free(pMsg);
    free(pSigned);
    free(pAad);
    free(pPub);
    free(apShare[0]);
    free(apShare[1]);
    pa_prio3_free(v);
}

/* The dishonest leader's continue step: every report of its init request marked
 * accepted, those the helper refused at init and those the leader itself found
 * invalid too (the message: the leader's where it has one, else zeros; a Count
 * or Sum message is empty, so this is exactly what an honest message looks like). */
static void accept_all(dl *d, pa_job_step *m)
{
    const pa_msg_sizes *s = pa_aggregator_sizes(d->f.pHelper);
    pa_job_step_item *a = calloc(d->nSeen + 1, sizeof *a);
    static uint8_t aZero[4096];
    assert_true(s->nVerifierMessage <= sizeof aZero);
    for (size_t i = 0; i < d->nSeen; i++) {
        memcpy(a[i].aReportId, d->aSeen[i], 16);
        a[i].eReject = PA_REJECT_NONE;
        a[i].pPayload = aZero;
        for (size_t k = 0; k < m->nItem; k++)
            if (memcmp(m->aItem[k].aReportId, d->aSeen[i], 16) == 0 && m->aItem[k].eReject == PA_REJECT_NONE)
                a[i].pPayload = m->aItem[k].pPayload;
    }
    free(m->aItem);
    m->aItem = a;
    m->nItem = d->nSeen;
}

/* Finding 3 of issue 17: for Count and Sum the verifier message is empty, so a
 * helper that let the leader decide summed whatever the leader marked accepted. */
static void invalid_marked_accepted(void (*xTask)(json_t *))
{
    dl d;
    pa_job_stats st;
    pa_collection coll;
    dl_new(&d, 12, xTask);
    submit_n(&d, 11, "2026-10", 1);
    upload_tampered(&d.f, 11, "2026-10");
    d.xCont = accept_all;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    /* the leader found it invalid and did not sum it */
    assert_int_equal(st.nAccepted, 11);
    assert_int_equal(st.aRejected[PA_REJECT_PROOF], 1);
    /* the helper decided it invalid itself and summed none of it */
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 11);
    assert_int_equal(helper_n(&d, "reject_reason = 'proof'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 11);
    assert_int_equal(summed(d.f.pLeaderStore), 11);
    /* both aggregate shares cover the same 11 reports */
    assert_int_equal(flow_collect(&d.f, "2026-10", "state", &coll), PA_OK);
    assert_int_equal(coll.nReport, 11);
    assert_int_equal(coll.aTotal[0], 11);
    pa_collection_free(&coll);
    dl_free(&d);
}

static void test_count_invalid_marked_accepted(void **state)
{
    (void)state;
    invalid_marked_accepted(count_task);
}

static void test_sum_invalid_marked_accepted(void **state)
{
    (void)state;
    invalid_marked_accepted(sum_task);
}

/* The same with the Missouri task (SumVec, 270 cells), where the leader must
 * name the joint randomness: the helper's own decision refuses it at init. */
static void test_sumvec_invalid_marked_accepted(void **state)
{
    dl d;
    pa_job_stats st;
    (void)state;
    dl_new(&d, 4, no_dp);
    submit_n(&d, 3, "2026-10", 2);
    upload_tampered(&d.f, 3, "2026-10");
    d.xCont = accept_all;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 3);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 3);
    assert_int_equal(helper_n(&d, "reject_reason = 'proof'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 3);
    dl_free(&d);
}

/* Edits of one item of the init request (d->iArg: which). */
static uint8_t *own_copy(int iBuf, const uint8_t *p, size_t n)
{
    assert_true(n <= sizeof g_buf[0]);
    memcpy(g_buf[iBuf], p, n);
    return g_buf[iBuf];
}

static void wrong_verifier_share(dl *d, pa_job_req *m)
{
    size_t n = pa_aggregator_sizes(d->f.pHelper)->nVerifierShare;
    uint8_t *p = own_copy(0, m->aItem[d->iArg].pLeaderVerifierShare, n);
    p[1] ^= 0x10; /* a field element changed, still in range */
    m->aItem[d->iArg].pLeaderVerifierShare = p;
}

/* A valid report with a wrong leader verifier share: the helper's decision
 * fails, it refuses the report, and the leader (whose own decision passed)
 * does not sum it either. */
static void wrong_share(void (*xTask)(json_t *))
{
    dl d;
    pa_job_stats st;
    dl_new(&d, 4, xTask);
    submit_n(&d, 4, "2026-10", 1);
    d.xInit = wrong_verifier_share;
    d.iArg = 2;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 3);
    assert_int_equal(st.aRejected[PA_REJECT_PROOF], 1);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 3);
    assert_int_equal(helper_n(&d, "reject_reason = 'proof'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 3);
    assert_int_equal(summed(d.f.pLeaderStore), 3);
    dl_free(&d);
}

static void test_wrong_leader_verifier_share(void **state)
{
    (void)state;
    wrong_share(count_task);
    wrong_share(no_dp);
}

/* The helper's check that the leader's verifier message is the one it computed. */
static void wrong_message(dl *d, pa_job_step *m)
{
    size_t n = pa_aggregator_sizes(d->f.pHelper)->nVerifierMessage;
    uint8_t *p = own_copy(1, m->aItem[d->iArg].pPayload, n);
    p[0] ^= 1;
    m->aItem[d->iArg].pPayload = p;
}

static void test_wrong_verifier_message(void **state)
{
    dl d;
    pa_job_stats st;
    (void)state;
    dl_new(&d, 4, no_dp); /* SumVec: the message is the joint randomness seed */
    submit_n(&d, 4, "2026-10", 1);
    d.xCont = wrong_message;
    d.iArg = 1;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 3);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 3);
    assert_int_equal(helper_n(&d, "reject_reason = 'proof'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 3);
    assert_int_equal(summed(d.f.pLeaderStore), 3);
    dl_free(&d);
}

/* Forged items: signature, the leader share's digest, the public share, the
 * helper's sealed share. */
static void forge(dl *d, pa_job_req *m)
{
    const pa_msg_sizes *s = pa_aggregator_sizes(d->f.pHelper);
    (void)d;
    assert_int_equal(m->nItem, 6);
    m->aItem[0].aSignature[5] ^= 1;
    m->aItem[1].aLeaderDigest[0] ^= 1;
    uint8_t *p = own_copy(2, m->aItem[2].pPublicShare, s->nPublicShare);
    p[0] ^= 1;
    m->aItem[2].pPublicShare = p;
    p = own_copy(3, m->aItem[3].pHelperCt, s->nHelperCt);
    p[s->nHelperCt - 1] ^= 1; /* the AEAD tag */
    m->aItem[3].pHelperCt = p;
    m->aItem[4].aHelperEnc[0] ^= 1;
}

static void test_forged_items(void **state)
{
    dl d;
    pa_job_stats st;
    (void)state;
    dl_new(&d, 6, no_dp);
    submit_n(&d, 6, "2026-10", 1);
    d.xInit = forge;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 1);
    /* signature, digest and public share are signed; the helper share's tag and
     * encapsulation are signed too (helper_enc, helper_ct): each a bad signature */
    assert_int_equal(helper_n(&d, "reject_reason = 'signature'"), 5);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 1);
    assert_int_equal(summed(d.f.pLeaderStore), 1);
    dl_free(&d);
}

/* Another agency of the task under zPartition (or, bSame = 0, under another
 * partition) than agency zId; NULL if none. */
static const pa_task_agency *other_agency(dl *d, const char *zId, const char *zPartition, int bSame)
{
    for (size_t k = 0; k < d->f.m.nAgency; k++) {
        const pa_task_agency *e = pa_task_find_agency(d->f.m.pTask, d->f.m.aAgency[k].zId);
        if (strcmp(e->zId, zId) != 0 && (strcmp(e->zPartition, zPartition) == 0) == bSame)
            return e;
    }
    return NULL;
}

/* Mislabeled items: an unknown agency, an agency under another partition (a
 * real one), another agency's id under its own partition (whose key does not
 * verify the signature). */
static void mislabel(dl *d, pa_job_req *m)
{
    assert_int_equal(m->nItem, 4);
    strcpy(m->aItem[0].zAgencyId, "MO9999999");
    const pa_task_agency *e = other_agency(d, m->aItem[1].zAgencyId, m->aItem[1].zPartition, 0);
    strcpy(m->aItem[1].zPartition, e->zPartition);
    e = other_agency(d, m->aItem[2].zAgencyId, m->aItem[2].zPartition, 1);
    assert_non_null(e);
    strcpy(m->aItem[2].zAgencyId, e->zId);
}

static void other_period(dl *d, pa_job_req *m)
{
    (void)d;
    strcpy(m->zPeriod, "2026-09");
}

static void test_mislabeled_items(void **state)
{
    dl d;
    pa_job_stats st;
    size_t n = 0;
    (void)state;
    dl_new(&d, 40, no_dp);
    /* four agencies, each sharing its partition with another agency of the task */
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 1;
    for (size_t k = 0; k < d.f.m.nAgency && n < 4; k++) {
        const pa_task_agency *e = pa_task_find_agency(d.f.m.pTask, d.f.m.aAgency[k].zId);
        if (other_agency(&d, e->zId, e->zPartition, 1) != NULL) {
            assert_int_equal(flow_submit(&d.f, k, "2026-10", g_counts), PA_OK);
            n++;
        }
    }
    assert_int_equal(n, 4);
    d.xInit = mislabel;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 1);
    assert_int_equal(helper_n(&d, "reject_reason = 'agency'"), 2);
    assert_int_equal(helper_n(&d, "reject_reason = 'signature'"), 1);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 1);
    assert_int_equal(summed(d.f.pHelperStore), 1);
    dl_free(&d);

    /* the whole job labelled with another period: the agencies signed 2026-10 */
    dl_new(&d, 4, no_dp);
    submit_n(&d, 4, "2026-10", 1);
    d.xInit = other_period;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 0);
    assert_int_equal(helper_n(&d, "reject_reason = 'signature'"), 4);
    assert_int_equal(summed(d.f.pHelperStore), 0);
    dl_free(&d);
}

/* ---------------------------------------------------------------- the helper driven directly */

typedef struct {
    uint8_t *p;
    size_t n;
} captured;

/* A transport that keeps the init request and fails (the helper is "down"):
 * the leader's job stays open, and the test holds a request for reports the
 * helper has never seen. */
static int capture_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                             size_t *pnResp)
{
    captured *c = pCtx;
    (void)ppResp;
    (void)pnResp;
    assert_string_equal(zRoute, "job/init");
    free(c->p);
    c->p = malloc(nReq);
    memcpy(c->p, pReq, nReq);
    c->n = nReq;
    return pa_fail(PA_EIO, "helper unreachable (test)");
}

static void capture_init(pa_aggregator *pLeader, captured *c)
{
    pa_job_stats st;
    int bDone;
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_one_job(pLeader, capture_transport, c, 100, &st, &bDone), PA_EIO);
}

static int helper_init(dl *d, const pa_job_req *m, uint8_t **ppResp, size_t *pnResp)
{
    uint8_t *p;
    size_t n;
    assert_int_equal(pa_job_req_encode(&p, &n, m, pa_aggregator_sizes(d->f.pHelper)), PA_OK);
    int rc = pa_helper_job_init(d->f.pHelper, p, n, ppResp, pnResp);
    free(p);
    return rc;
}

static int helper_continue(dl *d, const pa_job_step *m, uint8_t **ppResp, size_t *pnResp)
{
    uint8_t *p;
    size_t n;
    assert_int_equal(pa_job_step_encode(&p, &n, m, pa_aggregator_sizes(d->f.pHelper)), PA_OK);
    int rc = pa_helper_job_continue(d->f.pHelper, p, n, ppResp, pnResp);
    free(p);
    return rc;
}

/* The honest verifier message of item it, from the helper's init answer item h. */
static void honest_message(dl *d, const pa_job_item *it, const pa_job_step_item *h, uint8_t *pMsg)
{
    pa_prio3 *v;
    int b128;
    uint8_t aCtx[PA_VDAF_CTX_SIZE];
    const pa_msg_sizes *s = pa_aggregator_sizes(d->f.pHelper);
    const uint8_t *ap[2] = {it->pLeaderVerifierShare, h->pPayload};
    size_t an[2] = {s->nVerifierShare, s->nVerifierShare};
    assert_int_equal(h->eReject, PA_REJECT_NONE);
    assert_int_equal(pa_vdaf_from_task(&v, d->f.m.pTask, &b128), PA_OK);
    pa_vdaf_ctx(aCtx, d->f.m.pTask);
    assert_int_equal(pa_prio3_verifier_shares_to_message(v, aCtx, sizeof aCtx, ap, an, pMsg), PA_OK);
    pa_prio3_free(v);
}

/* The init request of another leader store holding one fresh report of agency
 * iAgency (the real leader would refuse a second report of an agency). */
static void foreign_init(dl *d, size_t iAgency, captured *c)
{
    pa_store *pStore;
    pa_aggregator *pLeader;
    pa_aggregator_config cfg;
    uint8_t *pRep;
    size_t nRep;
    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.pTask = d->f.m.pTask;
    cfg.xNow = flow_clock;
    cfg.pClockCtx = &d->f;
    cfg.pRng = d->f.pRng;
    cfg.pKeys = &d->f.m.leader;
    cfg.pStore = pStore;
    assert_int_equal(pa_aggregator_new(&pLeader, &cfg), PA_OK);
    assert_int_equal(pa_submit_report(d->f.m.pTask, &d->f.m.aAgency[iAgency], "2026-10", g_counts,
                                      d->f.m.pTask->nCell, &pRep, &nRep), PA_OK);
    assert_int_equal(pa_leader_upload(pLeader, pRep, nRep), PA_OK);
    free(pRep);
    capture_init(pLeader, c);
    pa_aggregator_free(pLeader);
    pa_store_close(pStore);
}

static void test_helper_refusals_driven_directly(void **state)
{
    dl d;
    captured c = {NULL, 0};
    pa_job_req m, x;
    pa_job_step ans, cont;
    pa_job_step_item ci[4];
    uint8_t *pResp, *pResp2, *pMsg, aJob[16];
    size_t nResp, nResp2;
    const pa_msg_sizes *s;
    (void)state;
    dl_new(&d, 6, no_dp);
    s = pa_aggregator_sizes(d.f.pHelper);
    pMsg = malloc(s->nVerifierMessage + 1);
    submit_n(&d, 4, "2026-10", 1);
    capture_init(d.f.pLeader, &c);
    assert_int_equal(pa_job_req_decode(&m, c.p, c.n, s), PA_OK);
    assert_int_equal(m.nItem, 4);

    /* refused outright, nothing stored: another task, the leader asked, malformed,
     * continue before init */
    x = m;
    x.aTaskId[0] ^= 1;
    assert_int_equal(helper_init(&d, &x, &pResp, &nResp), PA_ENOTFOUND);
    assert_int_equal(pa_helper_job_init(d.f.pLeader, c.p, c.n, &pResp, &nResp), PA_ESTATE);
    assert_int_equal(pa_helper_job_init(d.f.pHelper, c.p, c.n - 1, &pResp, &nResp), PA_EDECODE);
    memset(&cont, 0, sizeof cont);
    memcpy(cont.aTaskId, m.aTaskId, 32);
    memcpy(cont.aJobId, m.aJobId, 16);
    cont.eStep = PA_STEP_CONTINUE;
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_ENOTFOUND);
    assert_int_equal(flow_count(d.f.pHelperStore, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(flow_count(d.f.pHelperStore, "SELECT count(*) FROM jobs"), 0);

    /* job X: items 0, 1 and item 0 again (the second copy is a replay) */
    pa_job_item aX[3] = {m.aItem[0], m.aItem[1], m.aItem[0]};
    x = m;
    x.aItem = aX;
    x.nItem = 3;
    assert_int_equal(helper_init(&d, &x, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_INIT_RESP, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_NONE);
    assert_int_equal(ans.aItem[1].eReject, PA_REJECT_NONE);
    assert_int_equal(ans.aItem[2].eReject, PA_REJECT_REPLAY);
    /* the same request again: the same answer, nothing new stored */
    assert_int_equal(helper_init(&d, &x, &pResp2, &nResp2), PA_OK);
    assert_int_equal(nResp2, nResp);
    assert_memory_equal(pResp2, pResp, nResp);
    free(pResp2);
    assert_int_equal(flow_count(d.f.pHelperStore, "SELECT count(*) FROM reports"), 2);
    /* the same job id with other bytes */
    aX[1].aSignature[0] ^= 1;
    assert_int_equal(helper_init(&d, &x, &pResp2, &nResp2), PA_EEXISTS);
    aX[1].aSignature[0] ^= 1;

    /* continue X: item 0 accepted with the honest message, item 0 again,
     * item 1 refused by the leader, item 2 (never sent to the helper) accepted */
    honest_message(&d, &aX[0], &ans.aItem[0], pMsg);
    memset(ci, 0, sizeof ci);
    memcpy(ci[0].aReportId, aX[0].aReportId, 16);
    ci[0].pPayload = pMsg;
    ci[1] = ci[0];
    memcpy(ci[2].aReportId, aX[1].aReportId, 16);
    ci[2].eReject = PA_REJECT_PROOF;
    memcpy(ci[3].aReportId, m.aItem[2].aReportId, 16);
    ci[3].pPayload = pMsg;
    memcpy(cont.aJobId, x.aJobId, 16);
    cont.aItem = ci;
    cont.nItem = 4;
    pa_job_step_free(&ans);
    free(pResp);
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_FINISH, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_NONE);
    assert_int_equal(ans.aItem[1].eReject, PA_REJECT_DECODE); /* summed once only */
    assert_int_equal(ans.aItem[2].eReject, PA_REJECT_PROOF);
    assert_int_equal(ans.aItem[3].eReject, PA_REJECT_DECODE);
    pa_job_step_free(&ans);
    assert_int_equal(summed(d.f.pHelperStore), 1);
    /* the continue step again: the same answer, nothing summed twice */
    assert_int_equal(helper_continue(&d, &cont, &pResp2, &nResp2), PA_OK);
    assert_int_equal(nResp2, nResp);
    assert_memory_equal(pResp2, pResp, nResp);
    free(pResp2);
    free(pResp);
    /* the same job id continued with other bytes */
    ci[2].eReject = PA_REJECT_NONE;
    ci[2].pPayload = pMsg;
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_EEXISTS);
    assert_int_equal(summed(d.f.pHelperStore), 1);
    /* a continue step sent as an init answer (another step kind) */
    cont.eStep = PA_STEP_FINISH;
    ci[2].pPayload = NULL;
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_EDECODE);
    cont.eStep = PA_STEP_CONTINUE;

    /* job Y (a new job id): item 0 replayed, item 2 (new) and item 3 (new) */
    randombytes_buf(aJob, 16);
    pa_job_item aY[3] = {m.aItem[0], m.aItem[2], m.aItem[3]};
    x.aItem = aY;
    memcpy(x.aJobId, aJob, 16);
    assert_int_equal(helper_init(&d, &x, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_INIT_RESP, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_REPLAY);
    assert_int_equal(ans.aItem[1].eReject, PA_REJECT_NONE);
    assert_int_equal(ans.aItem[2].eReject, PA_REJECT_NONE);
    /* continue Y: the replayed item 0 marked accepted (the helper holds no state
     * of it in this job), item 2 accepted, item 3 left out (not summed) */
    honest_message(&d, &aY[1], &ans.aItem[1], pMsg);
    pa_job_step_free(&ans);
    free(pResp);
    memset(ci, 0, sizeof ci);
    memcpy(ci[0].aReportId, aY[0].aReportId, 16);
    ci[0].pPayload = pMsg;
    memcpy(ci[1].aReportId, aY[1].aReportId, 16);
    ci[1].pPayload = pMsg;
    memcpy(cont.aJobId, aJob, 16);
    cont.nItem = 2;
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_FINISH, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_DECODE);
    assert_int_equal(ans.aItem[1].eReject, PA_REJECT_NONE);
    pa_job_step_free(&ans);
    free(pResp);
    assert_int_equal(summed(d.f.pHelperStore), 2);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 2);
    assert_int_equal(helper_n(&d, "state = 'aggregating'"), 0);
    assert_int_equal(helper_n(&d, "id IN (SELECT report FROM report_kept)"), 0);
    size_t iAgency = 0;
    while (strcmp(d.f.m.aAgency[iAgency].zId, m.aItem[0].zAgencyId) != 0)
        iAgency++;
    pa_job_req_free(&m);

    /* a second report of the agency of item 0 (summed) for the batch, from another
     * leader store (the real leader refuses it at upload): signed and valid, but a
     * duplicate */
    foreign_init(&d, iAgency, &c);
    assert_int_equal(pa_helper_job_init(d.f.pHelper, c.p, c.n, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_INIT_RESP, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.nItem, 1);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_DUPLICATE);
    pa_job_step_free(&ans);
    free(pResp);
    /* two reports of agency 5 (never seen) in one job: the second is a duplicate */
    captured c2 = {NULL, 0};
    pa_job_req m2;
    foreign_init(&d, 5, &c);
    foreign_init(&d, 5, &c2);
    assert_int_equal(pa_job_req_decode(&m, c.p, c.n, s), PA_OK);
    assert_int_equal(pa_job_req_decode(&m2, c2.p, c2.n, s), PA_OK);
    pa_job_item aZ[2] = {m.aItem[0], m2.aItem[0]};
    x = m;
    x.aItem = aZ;
    x.nItem = 2;
    assert_int_equal(helper_init(&d, &x, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_INIT_RESP, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.aItem[0].eReject, PA_REJECT_NONE);
    assert_int_equal(ans.aItem[1].eReject, PA_REJECT_DUPLICATE);
    pa_job_step_free(&ans);
    free(pResp);
    pa_job_req_free(&m);
    pa_job_req_free(&m2);
    free(c2.p);
    assert_int_equal(summed(d.f.pHelperStore), 2);
    free(c.p);
    free(pMsg);
    dl_free(&d);
}

/* The same attack driven directly: the invalid report's init request (captured
 * from the leader) and a continue step that accepts it with an empty message. */
static void test_count_invalid_driven_directly(void **state)
{
    dl d;
    captured c = {NULL, 0};
    pa_job_req m;
    pa_job_step ans, cont;
    pa_job_step_item ci[3];
    uint8_t *pResp;
    size_t nResp, iBad = 3;
    const pa_msg_sizes *s;
    (void)state;
    dl_new(&d, 3, count_task);
    s = pa_aggregator_sizes(d.f.pHelper);
    assert_int_equal(s->nVerifierMessage, 0);
    submit_n(&d, 2, "2026-10", 1);
    upload_tampered(&d.f, 2, "2026-10");
    capture_init(d.f.pLeader, &c);
    assert_int_equal(pa_job_req_decode(&m, c.p, c.n, s), PA_OK);
    assert_int_equal(pa_helper_job_init(d.f.pHelper, c.p, c.n, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_INIT_RESP, pResp, nResp, s), PA_OK);
    assert_int_equal(ans.nItem, 3);
    for (size_t i = 0; i < 3; i++)
        if (ans.aItem[i].eReject == PA_REJECT_PROOF)
            iBad = i;
    assert_true(iBad < 3); /* the helper decided it invalid itself */
    assert_int_equal(helper_n(&d, "reject_reason = 'proof'"), 1);
    memset(ci, 0, sizeof ci);
    for (size_t i = 0; i < 3; i++) {
        memcpy(ci[i].aReportId, m.aItem[i].aReportId, 16);
        ci[i].pPayload = (const uint8_t *)"";
    }
    memset(&cont, 0, sizeof cont);
    memcpy(cont.aTaskId, m.aTaskId, 32);
    memcpy(cont.aJobId, m.aJobId, 16);
    cont.eStep = PA_STEP_CONTINUE;
    cont.aItem = ci;
    cont.nItem = 3;
    pa_job_step_free(&ans);
    free(pResp);
    assert_int_equal(helper_continue(&d, &cont, &pResp, &nResp), PA_OK);
    assert_int_equal(pa_job_step_decode(&ans, PA_STEP_FINISH, pResp, nResp, s), PA_OK);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(ans.aItem[i].eReject, i == iBad ? PA_REJECT_DECODE : PA_REJECT_NONE);
    pa_job_step_free(&ans);
    free(pResp);
    assert_int_equal(helper_n(&d, "state = 'accepted'"), 2);
    assert_int_equal(summed(d.f.pHelperStore), 2);
    pa_job_req_free(&m);
    free(c.p);
    dl_free(&d);
}

/* The other side: a helper that answers "summed" for every report does not make
 * the leader sum one it decided invalid. */
static void finish_all(dl *d, pa_job_step *m)
{
    (void)d;
    for (size_t i = 0; i < m->nItem; i++)
        m->aItem[i].eReject = PA_REJECT_NONE;
}

/* ...and an init answer that passes off a refused report as accepted, with some
 * verifier share (zeros, or a share of another report). */
static void init_all(dl *d, pa_job_step *m)
{
    static uint8_t aZero[4096];
    (void)d;
    for (size_t i = 0; i < m->nItem; i++) {
        if (m->aItem[i].eReject != PA_REJECT_NONE) {
            m->aItem[i].eReject = PA_REJECT_NONE;
            m->aItem[i].pPayload = aZero;
        }
    }
}

static void test_leader_decides_too(void **state)
{
    dl d;
    pa_job_stats st;
    (void)state;
    dl_new(&d, 4, count_task);
    submit_n(&d, 3, "2026-10", 1);
    upload_tampered(&d.f, 3, "2026-10");
    d.xInitResp = init_all;
    d.xFinish = finish_all;
    assert_int_equal(run_jobs(&d, &st), PA_OK);
    assert_int_equal(st.nAccepted, 3);
    assert_int_equal(st.aRejected[PA_REJECT_PROOF], 1);
    assert_int_equal(summed(d.f.pLeaderStore), 3);
    dl_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_invalid_marked_accepted),
        cmocka_unit_test(test_sum_invalid_marked_accepted),
        cmocka_unit_test(test_sumvec_invalid_marked_accepted),
        cmocka_unit_test(test_wrong_leader_verifier_share),
        cmocka_unit_test(test_wrong_verifier_message),
        cmocka_unit_test(test_forged_items),
        cmocka_unit_test(test_mislabeled_items),
        cmocka_unit_test(test_helper_refusals_driven_directly),
        cmocka_unit_test(test_count_invalid_driven_directly),
        cmocka_unit_test(test_leader_decides_too),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
