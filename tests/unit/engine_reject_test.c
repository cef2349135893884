/*
 * The engine's refusals, each a named error with nothing stored: bad signature,
 * wrong task id, replay, unknown agency, wrong partition, malformed bytes, a
 * second report of an agency, a period in the future, a tampered share (the
 * proof fails: rejected, never summed), too few agencies in a batch, a second
 * collection, a release over the budget, a late report after collection.
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

static void no_dp(json_t *pRoot)
{
    json_object_set_new(pRoot, "dp", json_pack("{s:s, s:s}", "mechanism", "none", "privacy_unit",
                                               "incident_record"));
}

static void small_budget(json_t *pRoot)
{
    json_t *dp = json_object_get(pRoot, "dp");
    json_object_set_new(dp, "budget_per_record", json_pack("{s:f}", "rho", 0.6));
}

static uint64_t g_counts[270];

static int reports(flow *f)
{
    return flow_count(f->pLeaderStore, "SELECT count(*) FROM reports");
}

static void expect(int rc, int want, const char *zNeedle)
{
    if (rc != want || strstr(pa_error_detail(), zNeedle) == NULL)
        fail_msg("got %d (%s), expected %d mentioning \"%s\"", rc, pa_error_detail(), want, zNeedle);
}

/* A valid report, decoded for editing; *ppMsg owns the bytes r points into. */
static void make_report(flow *f, size_t iAgency, const char *zPeriod, uint8_t **ppMsg, size_t *pn,
                        pa_report *r)
{
    pa_report_sizes sz = {0, 0, 0};
    const pa_msg_sizes *ms = pa_aggregator_sizes(f->pLeader);
    assert_int_equal(pa_submit_report(f->m.pTask, &f->m.aAgency[iAgency], zPeriod, g_counts, 270, ppMsg, pn),
                     PA_OK);
    sz.nPublicShare = ms->nPublicShare;
    assert_int_equal(pa_report_decode(r, *ppMsg, *pn, &sz), PA_OK);
}

/* Re-sign r with agency k's key (or a foreign key) and upload it. */
static int resign_upload(flow *f, pa_report *r, const uint8_t *pSk)
{
    uint8_t *pSigned, *pMsg;
    size_t nSigned, nMsg;
    assert_int_equal(pa_report_signed_bytes(&pSigned, &nSigned, r, NULL), PA_OK);
    crypto_sign_detached(r->aSignature, NULL, pSigned, nSigned, pSk);
    free(pSigned);
    assert_int_equal(pa_report_encode(&pMsg, &nMsg, r), PA_OK);
    int rc = pa_leader_upload(f->pLeader, pMsg, nMsg);
    free(pMsg);
    return rc;
}

static void test_upload_refusals(void **state)
{
    flow f;
    uint8_t *p;
    size_t n;
    pa_report r;
    (void)state;
    assert_int_equal(flow_new(&f, 30, 10, no_dp), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = c % 3;

    /* bad signature */
    make_report(&f, 0, "2026-10", &p, &n, &r);
    p[n - 1] ^= 1;
    expect(pa_leader_upload(f.pLeader, p, n), PA_EAUTH, "report.signature");
    p[n - 1] ^= 1;
    assert_int_equal(reports(&f), 0);
    /* the leader's sealed share altered in transit: the signature still verifies
     * (it covers the share's encapsulation and AEAD tag), the share does not open */
    uint8_t *pLeaderBody = p + (r.leader.pCt - p) + 100; /* r points into p */
    *pLeaderBody ^= 1;
    expect(pa_leader_upload(f.pLeader, p, n), PA_EDECODE, "report.leader_ct");
    *pLeaderBody ^= 1;
    assert_int_equal(reports(&f), 0);
    /* malformed bytes */
    expect(pa_leader_upload(f.pLeader, p, n - 1), PA_EDECODE, "report");
    assert_int_equal(pa_leader_upload(f.pLeader, p, n), PA_OK);
    /* replay */
    expect(pa_leader_upload(f.pLeader, p, n), PA_EEXISTS, "replay");
    free(p);
    assert_int_equal(reports(&f), 1);

    /* a second report of the same agency for the batch */
    make_report(&f, 0, "2026-10", &p, &n, &r);
    expect(pa_leader_upload(f.pLeader, p, n), PA_EEXISTS, "already reported");
    free(p);
    /* wrong task id */
    make_report(&f, 1, "2026-10", &p, &n, &r);
    r.aTaskId[0] ^= 1;
    expect(resign_upload(&f, &r, f.m.aAgency[1].aSecret), PA_ENOTFOUND, "task_id");
    free(p);
    /* unknown agency (a foreign key) */
    make_report(&f, 1, "2026-10", &p, &n, &r);
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    strcpy(r.zAgencyId, "MO9999999");
    expect(resign_upload(&f, &r, sk), PA_EAUTH, "not an agency of the task");
    free(p);
    /* a partition the agency does not report for */
    make_report(&f, 1, "2026-10", &p, &n, &r);
    strcpy(r.zPartition, "29510");
    expect(resign_upload(&f, &r, f.m.aAgency[1].aSecret), PA_EAUTH, "report.partition");
    free(p);
    /* the future */
    make_report(&f, 1, "2026-12", &p, &n, &r);
    expect(pa_leader_upload(f.pLeader, p, n), PA_ESTATE, "in the future");
    free(p);
    assert_int_equal(reports(&f), 1);
    flow_free(&f);
}

/* A malicious agency: a valid signature over a share it tampered with. */
static void upload_tampered(flow *f, size_t k, const char *zPeriod)
{
    pa_prio3 *v;
    int b128;
    uint8_t aCtx[PA_VDAF_CTX_SIZE], *apShare[2], *pPub, *pAad, *pSigned, *pMsg, aInfo[sizeof PA_REPORT_HPKE_INFO];
    size_t anShare[2], nAad, nSigned, nMsg;
    pa_report r;
    const pa_task_agency *e = pa_task_find_agency(f->m.pTask, f->m.aAgency[k].zId);

    assert_int_equal(pa_vdaf_from_task(&v, f->m.pTask, &b128), PA_OK);
    for (int j = 0; j < 2; j++) {
        anShare[j] = pa_prio3_input_share_size(v, (size_t)j);
        apShare[j] = malloc(anShare[j] + PA_HPKE_NT);
    }
    pPub = malloc(pa_prio3_public_share_size(v));
    memset(&r, 0, sizeof r);
    memcpy(r.aTaskId, f->m.pTask->aTaskId, 32);
    randombytes_buf(r.aReportId, 16);
    strcpy(r.zAgencyId, e->zId);
    strcpy(r.zPeriod, zPeriod);
    strcpy(r.zPartition, e->zPartition);
    pa_vdaf_ctx(aCtx, f->m.pTask);
    assert_int_equal(pa_prio3_shard_random(v, aCtx, sizeof aCtx, g_counts, 270, r.aReportId, pPub, apShare),
                     PA_OK);
    /* the first measurement-share element of the leader: +1 in its low byte */
    apShare[0][0] = (uint8_t)(apShare[0][0] == 0xff ? 0xfe : apShare[0][0] + 1);
    r.pPublicShare = pPub;
    r.nPublicShare = pa_prio3_public_share_size(v);
    assert_int_equal(pa_report_aad(&pAad, &nAad, &r), PA_OK);
    memcpy(aInfo, PA_REPORT_HPKE_INFO, sizeof aInfo - 1);
    for (int j = 0; j < 2; j++) {
        pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
        pa_hpke_ctx ctx;
        uint8_t *pEnc = j == 0 ? r.leader.aEnc : r.helper.aEnc;
        aInfo[sizeof aInfo - 1] = (uint8_t)j;
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

/* The leader's signature check, per signed field: each field of a valid report
 * changed (no new signature) is refused as a bad signature, nothing stored.
 * (The task id and the partition are refused earlier, by their own checks; the
 * codec test changes every field against the signature on its own.) */
static void test_upload_each_signed_field(void **state)
{
    flow f;
    uint8_t *p, *pEnc;
    size_t n, nEnc;
    pa_report r;
    (void)state;
    assert_int_equal(flow_new(&f, 30, 10, no_dp), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = c % 3;
    make_report(&f, 0, "2026-10", &p, &n, &r);
    const pa_task_agency *self = pa_task_find_agency(f.m.pTask, r.zAgencyId), *peer = NULL;
    for (size_t i = 0; i < f.m.pTask->nAgency && peer == NULL; i++)
        if (strcmp(f.m.pTask->aAgency[i].zPartition, self->zPartition) == 0 &&
            strcmp(f.m.pTask->aAgency[i].zId, self->zId) != 0)
            peer = &f.m.pTask->aAgency[i];
    static const char *azField[] = {"report_id", "agency_id", "period", "public_share", "leader_enc",
                                    "leader_ct tag", "helper_enc", "helper_ct"};
    for (int k = 0; k < 8; k++) {
        pa_report e = r;
        uint8_t *pPub = malloc(r.nPublicShare), *pL = malloc(r.leader.nCt), *pH = malloc(r.helper.nCt);
        memcpy(pPub, r.pPublicShare, r.nPublicShare);
        memcpy(pL, r.leader.pCt, r.leader.nCt);
        memcpy(pH, r.helper.pCt, r.helper.nCt);
        e.pPublicShare = pPub;
        e.leader.pCt = pL;
        e.helper.pCt = pH;
        switch (k) {
        case 0: e.aReportId[15] ^= 1; break;
        case 1:
            if (peer == NULL)
                goto next;
            strcpy(e.zAgencyId, peer->zId);
            break;
        case 2: strcpy(e.zPeriod, "2026-09"); break;
        case 3: pPub[r.nPublicShare - 1] ^= 1; break;
        case 4: e.leader.aEnc[31] ^= 1; break;
        case 5: pL[r.leader.nCt - 1] ^= 1; break;
        case 6: e.helper.aEnc[31] ^= 1; break;
        case 7: pH[r.helper.nCt - 1] ^= 1; break;
        }
        assert_int_equal(pa_report_encode(&pEnc, &nEnc, &e), PA_OK);
        int rc = pa_leader_upload(f.pLeader, pEnc, nEnc);
        if (rc != PA_EAUTH || strstr(pa_error_detail(), "report.signature") == NULL)
            fail_msg("%s changed: got %d (%s), expected a bad signature", azField[k], rc, pa_error_detail());
        free(pEnc);
    next:
        free(pPub);
        free(pL);
        free(pH);
    }
    assert_non_null(peer);
    assert_int_equal(reports(&f), 0);
    assert_int_equal(pa_leader_upload(f.pLeader, p, n), PA_OK); /* the original still goes in */
    free(p);
    flow_free(&f);
}

/* The agency's own bound on counts: the task's max_measurement (65535 per cell
 * for Prio3SumVec) is accepted, one more is refused naming the cell. */
static void test_submit_count_bounds(void **state)
{
    flow f;
    uint8_t *p = NULL;
    size_t n;
    (void)state;
    assert_int_equal(flow_new(&f, 12, 10, no_dp), PA_OK);
    memset(g_counts, 0, sizeof g_counts);
    g_counts[269] = f.m.pTask->nMaxMeasurement;
    assert_int_equal(f.m.pTask->nMaxMeasurement, 65535);
    assert_int_equal(pa_submit_report(f.m.pTask, &f.m.aAgency[0], "2026-10", g_counts, 270, &p, &n), PA_OK);
    free(p);
    g_counts[269] = f.m.pTask->nMaxMeasurement + 1;
    expect(pa_submit_report(f.m.pTask, &f.m.aAgency[0], "2026-10", g_counts, 270, &p, &n), PA_EINVAL,
           "counts[269]: 65536 is above the limit 65535");
    g_counts[269] = 0;
    expect(pa_submit_report(f.m.pTask, &f.m.aAgency[0], "2026-10", g_counts, 269, &p, &n), PA_EINVAL,
           "counts: 269 values");
    flow_free(&f);
}

static void test_tampered_share_rejected_not_summed(void **state)
{
    flow f;
    pa_job_stats st;
    pa_collection coll;
    (void)state;
    assert_int_equal(flow_new(&f, 12, 10, no_dp), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 1;
    for (size_t k = 0; k < 11; k++)
        assert_int_equal(flow_submit(&f, k, "2026-10", g_counts), PA_OK);
    upload_tampered(&f, 11, "2026-10");
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 100, &st), PA_OK);
    assert_int_equal(st.nAccepted, 11);
    assert_int_equal(st.nRejected, 1);
    assert_int_equal(st.aRejected[PA_REJECT_PROOF], 1);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports WHERE reject_reason = 'proof'"), 1);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM reports WHERE state = 'accepted'"), 11);
    assert_int_equal(flow_collect(&f, "2026-10", "state", &coll), PA_OK);
    for (size_t c = 0; c < 270; c++)
        assert_int_equal(coll.aTotal[c], 11);
    assert_int_equal(coll.nRejected, 1);
    pa_collection_free(&coll);
    flow_free(&f);
}

static void test_collection_refusals(void **state)
{
    flow f;
    pa_job_stats st;
    pa_collection coll;
    uint8_t *p;
    size_t n;
    pa_report r;
    (void)state;
    assert_int_equal(flow_new(&f, 14, 10, small_budget), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 2;
    /* 2026-09: 5 agencies only; 2026-10 and 2026-08: 12 */
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(flow_submit(&f, k, "2026-09", g_counts), PA_OK);
    for (size_t k = 0; k < 12; k++) {
        assert_int_equal(flow_submit(&f, k, "2026-10", g_counts), PA_OK);
        assert_int_equal(flow_submit(&f, k, "2026-08", g_counts), PA_OK);
    }
    /* reports not yet aggregated: collection must wait */
    expect(flow_collect(&f, "2026-10", "state", &coll), PA_ESTATE, "not yet aggregated");
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 100, &st), PA_OK);

    size_t nCalls = f.nCalls;
    expect(flow_collect(&f, "2026-09", "state", &coll), PA_ERANGE, "5 agencies, the task requires at least 10");
    assert_int_equal(f.nCalls, nCalls); /* the leader refused on its own: the helper was not asked */
    expect(flow_collect(&f, "2026-10", "29999", &coll), PA_ENOTFOUND, "no partition of this task");
    assert_int_equal(flow_collect(&f, "2026-10", "state", &coll), PA_OK);
    /* the same batch asked again (a collector that crashed or lost its file):
     * the same released answer, nothing charged again */
    pa_collection again;
    int nLedger = flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger");
    assert_int_equal(flow_collect(&f, "2026-10", "state", &again), PA_OK);
    assert_int_equal(again.nCell, coll.nCell);
    assert_memory_equal(again.aTotal, coll.aTotal, coll.nCell * sizeof coll.aTotal[0]);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger"), nLedger);
    pa_collection_free(&again);
    pa_collection_free(&coll);
    /* any other collection id for the batch is refused by both aggregators */
    {
        pa_collect_req m;
        uint8_t *pReq, *pResp = NULL;
        size_t nReq, nResp;
        memset(&m, 0, sizeof m);
        memcpy(m.aTaskId, f.m.pTask->aTaskId, 32);
        memset(m.aCollectionId, 0xab, 16);
        memcpy(m.zPeriod, "2026-10", 8);
        memcpy(m.zPartition, "state", 6);
        assert_int_equal(pa_collect_req_encode(&pReq, &nReq, &m), PA_OK);
        expect(pa_leader_collect(f.pLeader, pReq, nReq, flow_transport, &f, &pResp, &nResp), PA_EINVAL,
               "not the id of batch 2026-10/state");
        expect(pa_helper_collect(f.pHelper, pReq, nReq, &pResp, &nResp), PA_EINVAL,
               "not the id of batch 2026-10/state");
        free(pReq);
    }
    /* over budget: the statewide release spent 0.5 of the 0.6 per record of every
     * partition's cell of 2026-10, the partition asks 0.5; nothing released, nothing
     * recorded (2026-08 is another period: its cells are untouched) */
    int nColl = flow_count(f.pLeaderStore, "SELECT count(*) FROM collections");
    expect(flow_collect(&f, "2026-10", "region-01", &coll), PA_EBUDGET,
           "privacy budget: partition region-01, period 2026-10 has spent 0.5 of 0.6 rho; this release asks 0.5");
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM collections"), nColl);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM collections"), nColl);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger"), 1);
    /* a late report for a collected month */
    make_report(&f, 12, "2026-10", &p, &n, &r);
    int nRep = reports(&f);
    expect(pa_leader_upload(f.pLeader, p, n), PA_ESTATE, "already collected");
    assert_int_equal(reports(&f), nRep);
    free(p);
    flow_free(&f);
}

static void allow_corrections(json_t *pRoot)
{
    no_dp(pRoot);
    json_object_set_new(json_object_get(pRoot, "batching"), "allow_corrections", json_true());
}

static void test_corrections_replace_until_aggregated(void **state)
{
    flow f;
    pa_job_stats st;
    pa_collection coll;
    (void)state;
    assert_int_equal(flow_new(&f, 3, 2, allow_corrections), PA_OK);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 5;
    assert_int_equal(flow_submit(&f, 0, "2026-10", g_counts), PA_OK);
    assert_int_equal(flow_submit(&f, 1, "2026-10", g_counts), PA_OK);
    /* agency 0 corrects its report: the newer one replaces the older */
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 7;
    assert_int_equal(flow_submit(&f, 0, "2026-10", g_counts), PA_OK);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports WHERE state = 'replaced'"), 1);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM report_data"), 2);
    /* with corrections allowed nothing is aggregated before a release is asked
     * for: a correction is still possible after the worker ran */
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 100, &st), PA_OK);
    assert_int_equal(st.nAccepted, 0);
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = 6;
    assert_int_equal(flow_submit(&f, 1, "2026-10", g_counts), PA_OK);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports WHERE state = 'replaced'"), 2);
    /* the release is asked for: the period is aggregated */
    {
        uint8_t aId[16], *pReq;
        size_t nReq;
        assert_int_equal(pa_collector_request(f.m.pTask, "2026-10", "state", aId, &pReq, &nReq), PA_OK);
        assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId), PA_OK);
        free(pReq);
    }
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 100, &st), PA_OK);
    assert_int_equal(st.nAccepted, 2);
    /* once aggregated, a correction is refused */
    expect(flow_submit(&f, 0, "2026-10", g_counts), PA_ESTATE, "can no longer be corrected");
    assert_int_equal(flow_collect(&f, "2026-10", "state", &coll), PA_OK);
    for (size_t c = 0; c < 270; c++)
        assert_int_equal(coll.aTotal[c], 13); /* agency 0's 7 and agency 1's 6 */
    pa_collection_free(&coll);
    flow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_refusals),
        cmocka_unit_test(test_upload_each_signed_field),
        cmocka_unit_test(test_submit_count_bounds),
        cmocka_unit_test(test_tampered_share_rejected_not_summed),
        cmocka_unit_test(test_collection_refusals),
        cmocka_unit_test(test_corrections_replace_until_aggregated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
