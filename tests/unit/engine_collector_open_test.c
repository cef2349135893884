/*
 * The collector opens an aggregator's sealed aggregate share only with the
 * fields it was sealed with (finding 4 of issue 17).  The leader forwards the
 * helper's sealed share, so every field of the collection answer the collector
 * relies on must be bound by the HPKE AAD (or the HPKE info): task id,
 * collection id, period, partition, agency, report and rejected counts, the
 * hash of the agencies counted, the ledger entry hash and which aggregator
 * sealed it.  One test per field: a real
 * collection answer, the field changed (and, where the collector compares it
 * with what it asked or across the two shares, changed consistently so that only
 * the AAD can notice), and the open fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/hpke.h"
#include "support/flow.h"

static flow g_f;
static uint8_t g_aId[16], *g_pResp;
static size_t g_nResp;
static pa_msg_sizes g_sizes;
static uint8_t g_aIdsWant[6 * 66]; /* the 6 agencies' ids, NUL-terminated, ascending */
static size_t g_nIdsWant;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One real collection answer for (2026-10, state), shared by the tests (the
 * default task: noise, and a ledger entry on each side). */
static int setup(void **state)
{
    uint64_t aCounts[270];
    pa_job_stats st;
    uint8_t *pReq;
    size_t nReq;
    (void)state;
    if (flow_new(&g_f, 6, 5, NULL) != PA_OK)
        return -1;
    for (size_t c = 0; c < 270; c++)
        aCounts[c] = c % 4;
    for (size_t k = 0; k < 6; k++)
        if (flow_submit(&g_f, k, "2026-10", aCounts) != PA_OK)
            return -1;
    if (pa_leader_run_jobs(g_f.pLeader, flow_transport, &g_f, 100, &st) != PA_OK)
        return -1;
    const char *azId[6];
    for (size_t k = 0; k < 6; k++)
        azId[k] = g_f.m.aAgency[k].zId;
    qsort(azId, 6, sizeof *azId, cmp_str);
    for (size_t k = 0; k < 6; k++) {
        memcpy(g_aIdsWant + g_nIdsWant, azId[k], strlen(azId[k]) + 1);
        g_nIdsWant += strlen(azId[k]) + 1;
    }
    if (pa_collector_request(g_f.m.pTask, "2026-10", "state", g_aId, &pReq, &nReq) != PA_OK)
        return -1;
    int rc = pa_leader_collect(g_f.pLeader, pReq, nReq, flow_transport, &g_f, &g_pResp, &g_nResp);
    free(pReq);
    g_sizes = *pa_aggregator_sizes(g_f.pLeader);
    return rc == PA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(g_pResp);
    flow_free(&g_f);
    return 0;
}

static int open_as(const pa_task *t, const uint8_t aId[16], const char *zPeriod, const char *zPartition,
                   const pa_collect_resp *m)
{
    uint8_t *p;
    size_t n;
    pa_collection coll;
    assert_int_equal(pa_collect_resp_encode(&p, &n, m, &g_sizes), PA_OK);
    int rc = pa_collector_open(t, &g_f.m.collector, aId, zPeriod, zPartition, p, n, &coll);
    if (rc == PA_OK)
        pa_collection_free(&coll);
    free(p);
    return rc;
}

static void decoded(pa_collect_resp *m)
{
    assert_int_equal(pa_collect_resp_decode(m, g_pResp, g_nResp, &g_sizes), PA_OK);
}

static void expect_refused(int rc, const char *zWho)
{
    if (rc == PA_OK)
        fail_msg("the share opened, expected the %s's share not to open", zWho);
    if (rc != PA_EVERIFY || strstr(pa_error_detail(), "does not open") == NULL ||
        strstr(pa_error_detail(), zWho) == NULL)
        fail_msg("got %d (%s), expected the %s's share not to open", rc, pa_error_detail(), zWho);
}

static void test_unchanged_opens(void **state)
{
    pa_collect_resp m;
    pa_collection coll;
    (void)state;
    decoded(&m);
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_OK);
    assert_int_equal(pa_collector_open(g_f.m.pTask, &g_f.m.collector, g_aId, "2026-10", "state", g_pResp,
                                       g_nResp, &coll), PA_OK);
    assert_int_equal(coll.nAgency, 6);
    assert_int_equal(coll.nReport, 6);
    pa_collection_free(&coll);
    /* the ledger hashes are real entries (here the same: two fresh ledgers that
     * charged the same release) */
    uint8_t aZero[32] = {0};
    assert_memory_not_equal(m.leader.aLedgerHash, aZero, 32);
    assert_memory_not_equal(m.helper.aLedgerHash, aZero, 32);
}

static void test_task_id_bound(void **state)
{
    pa_collect_resp m;
    pa_task t = *g_f.m.pTask; /* the same task under another id (shallow copy, not freed) */
    (void)state;
    decoded(&m);
    m.aTaskId[0] ^= 1;
    t.aTaskId[0] ^= 1;
    expect_refused(open_as(&t, g_aId, "2026-10", "state", &m), "leader");
}

static void test_collection_id_bound(void **state)
{
    pa_collect_resp m;
    uint8_t aId[16];
    (void)state;
    decoded(&m);
    memcpy(aId, g_aId, 16);
    aId[15] ^= 1;
    memcpy(m.aCollectionId, aId, 16);
    expect_refused(open_as(g_f.m.pTask, aId, "2026-10", "state", &m), "leader");
}

static void test_period_bound(void **state)
{
    pa_collect_resp m;
    (void)state;
    decoded(&m);
    strcpy(m.zPeriod, "2026-09");
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-09", "state", &m), "leader");
}

static void test_partition_bound(void **state)
{
    pa_collect_resp m;
    (void)state;
    decoded(&m);
    strcpy(m.zPartition, "29001");
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "29001", &m), "leader");
}

/* m's agency list with one more id ("~", after every real one), the counts and
 * both hashes changed alike: only the AAD can notice.  *ppList freed by the caller. */
static void one_more_agency(pa_collect_resp *m, uint8_t **ppList)
{
    uint8_t *p = malloc(m->nAgencyIds + 2);
    assert_non_null(p);
    memcpy(p, m->pAgencyIds, m->nAgencyIds);
    p[m->nAgencyIds] = '~';
    p[m->nAgencyIds + 1] = 0;
    m->pAgencyIds = p;
    m->nAgencyIds += 2;
    m->leader.nAgency++;
    m->helper.nAgency++;
    pa_agency_ids_hash(p, m->nAgencyIds, m->leader.aAgencyHash);
    memcpy(m->helper.aAgencyHash, m->leader.aAgencyHash, 32);
    *ppList = p;
}

/* Counts the collector compares across the two shares: both changed alike. */
static void test_agency_count_bound(void **state)
{
    pa_collect_resp m;
    uint8_t *pList;
    (void)state;
    decoded(&m);
    assert_int_equal(m.leader.nAgency, 6);
    one_more_agency(&m, &pList);
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
    free(pList);
    /* the count no longer matching the list is refused by the decoder */
    decoded(&m);
    m.leader.nAgency++;
    m.helper.nAgency++;
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_EDECODE);
    decoded(&m);
    m.helper.nAgency--; /* the disagreement itself */
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_EVERIFY);
    assert_non_null(strstr(pa_error_detail(), "disagree"));
}

/* Which agencies reported (publish's coverage): the leader's list is checked
 * against the helper's hash, which the helper's AAD binds. */
static void test_agency_list_bound(void **state)
{
    pa_collect_resp m;
    pa_collection coll;
    uint8_t *pList;
    (void)state;
    /* the list arrives whole: 6 ids, ascending, as the collector writes them */
    assert_int_equal(pa_collector_open(g_f.m.pTask, &g_f.m.collector, g_aId, "2026-10", "state", g_pResp,
                                       g_nResp, &coll), PA_OK);
    assert_int_equal(coll.nAgencyIds, g_nIdsWant);
    assert_memory_equal(coll.pAgencyIds, g_aIdsWant, g_nIdsWant);
    pa_collection_free(&coll);
    /* the leader names another agency in place of one that reported, with its own
     * hash to match: the helper's hash disagrees */
    decoded(&m);
    pList = malloc(m.nAgencyIds);
    assert_non_null(pList);
    memcpy(pList, m.pAgencyIds, m.nAgencyIds);
    pList[m.nAgencyIds - 2] = '~';     /* the last id's last character */
    m.pAgencyIds = pList;
    pa_agency_ids_hash(pList, m.nAgencyIds, m.leader.aAgencyHash);
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_EVERIFY);
    assert_non_null(strstr(pa_error_detail(), "disagree on which"));
    /* ... and the helper's hash changed to match: its share does not open */
    memcpy(m.helper.aAgencyHash, m.leader.aAgencyHash, 32);
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
    free(pList);
    /* one hash byte of either share */
    decoded(&m);
    m.helper.aAgencyHash[5] ^= 1;
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_EVERIFY);
    decoded(&m);
    one_more_agency(&m, &pList);
    m.leader.nAgency--;
    m.helper.nAgency--;
    assert_int_equal(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), PA_EDECODE);
    free(pList);
}

static void test_report_count_bound(void **state)
{
    pa_collect_resp m;
    (void)state;
    decoded(&m);
    m.leader.nReport--;
    m.helper.nReport--;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
}

static void test_rejected_count_bound(void **state)
{
    pa_collect_resp m;
    (void)state;
    decoded(&m);
    m.leader.nRejected += 3;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
    decoded(&m);
    m.helper.nRejected += 3;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "helper");
}

/* The leader forwards the helper's share: it must not be able to swap the
 * helper's ledger entry (nor its own) for another. */
static void test_ledger_hash_bound(void **state)
{
    pa_collect_resp m;
    (void)state;
    decoded(&m);
    m.helper.aLedgerHash[31] ^= 1;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "helper");
    decoded(&m);
    memset(m.helper.aLedgerHash, 0x55, 32); /* another entry */
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "helper");
    decoded(&m);
    m.leader.aLedgerHash[0] ^= 0x80;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
}

/* Which aggregator sealed it: the two sealed shares swapped. */
static void test_aggregator_bound(void **state)
{
    pa_collect_resp m;
    pa_sealed_agg t;
    (void)state;
    decoded(&m);
    t = m.leader;
    m.leader = m.helper;
    m.helper = t;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
    /* the helper's share in both places */
    decoded(&m);
    m.leader = m.helper;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "leader");
}

/* The sealed bytes themselves: encapsulation and ciphertext. */
static void test_sealed_bytes_bound(void **state)
{
    pa_collect_resp m;
    uint8_t *pCt = malloc(g_sizes.nAggCt);
    (void)state;
    decoded(&m);
    m.helper.aEnc[0] ^= 1;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "helper");
    decoded(&m);
    memcpy(pCt, m.helper.pCt, g_sizes.nAggCt);
    pCt[7] ^= 1;
    m.helper.pCt = pCt;
    expect_refused(open_as(g_f.m.pTask, g_aId, "2026-10", "state", &m), "helper");
    free(pCt);
}

/* The collector asked for one collection and handed the (intact) answer of
 * another: refused before any share is opened. */
static void test_answer_for_another_collection_refused(void **state)
{
    pa_collection coll;
    uint8_t aId[16];
    (void)state;
    memcpy(aId, g_aId, 16);
    aId[0] ^= 1;
    int rc = pa_collector_open(g_f.m.pTask, &g_f.m.collector, aId, "2026-10", "state", g_pResp, g_nResp, &coll);
    if (rc != PA_EDECODE || strstr(pa_error_detail(), "another task, collection or batch") == NULL)
        fail_msg("got %d (%s), expected the answer refused as another collection's", rc, pa_error_detail());
}

/* A dishonest helper answering the leader with its share of another collection
 * (here: the same share relabeled): the leader refuses it and releases nothing. */
static int relabel_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq,
                             uint8_t **ppResp, size_t *pnResp)
{
    flow *f = pCtx;
    int rc = flow_transport(pCtx, zRoute, pReq, nReq, ppResp, pnResp);
    if (rc == PA_OK && strcmp(zRoute, "collect") == 0) {
        pa_sealed_agg m;
        uint8_t aTask[32], aColl[16], *p;
        size_t n;
        const pa_msg_sizes *sz = pa_aggregator_sizes(f->pLeader);
        assert_int_equal(pa_sealed_agg_decode(&m, aTask, aColl, *ppResp, *pnResp, sz), PA_OK);
        aColl[0] ^= 1;
        assert_int_equal(pa_sealed_agg_encode(&p, &n, aTask, aColl, &m, sz), PA_OK);
        free(*ppResp);
        *ppResp = p;
        *pnResp = n;
    }
    return rc;
}

static void test_leader_refuses_helper_share_of_another_collection(void **state)
{
    flow f;
    uint64_t aCounts[270] = {0};
    pa_job_stats st;
    uint8_t aId[16], *pReq, *pResp = NULL;
    size_t nReq, nResp;
    (void)state;
    assert_int_equal(flow_new(&f, 6, 5, NULL), PA_OK);
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(flow_submit(&f, k, "2026-09", aCounts), PA_OK);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 100, &st), PA_OK);
    assert_int_equal(pa_collector_request(f.m.pTask, "2026-09", "state", aId, &pReq, &nReq), PA_OK);
    int rc = pa_leader_collect(f.pLeader, pReq, nReq, relabel_transport, &f, &pResp, &nResp);
    if (rc != PA_EDECODE || strstr(pa_error_detail(), "for another task or collection") == NULL)
        fail_msg("got %d (%s), expected the helper's share refused", rc, pa_error_detail());
    assert_null(pResp);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM collections"), 0);
    free(pReq);
    flow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unchanged_opens),
        cmocka_unit_test(test_task_id_bound),
        cmocka_unit_test(test_collection_id_bound),
        cmocka_unit_test(test_answer_for_another_collection_refused),
        cmocka_unit_test(test_leader_refuses_helper_share_of_another_collection),
        cmocka_unit_test(test_period_bound),
        cmocka_unit_test(test_partition_bound),
        cmocka_unit_test(test_agency_count_bound),
        cmocka_unit_test(test_agency_list_bound),
        cmocka_unit_test(test_report_count_bound),
        cmocka_unit_test(test_rejected_count_bound),
        cmocka_unit_test(test_ledger_hash_bound),
        cmocka_unit_test(test_aggregator_bound),
        cmocka_unit_test(test_sealed_bytes_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
