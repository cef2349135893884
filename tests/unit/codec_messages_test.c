/*
 * Tests of the leader/helper/collector message codecs: round trips, and every
 * truncation, trailing byte and hostile item count refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/messages.h"

static const pa_msg_sizes g_s = {20, 48, 33, 17, 64};
static uint8_t g_pub[20], g_hct[48], g_vs[33], g_vm[17], g_agg[64];

static void fill(void)
{
    memset(g_pub, 1, sizeof g_pub);
    memset(g_hct, 2, sizeof g_hct);
    memset(g_vs, 3, sizeof g_vs);
    memset(g_vm, 4, sizeof g_vm);
    memset(g_agg, 5, sizeof g_agg);
}

static void test_job_round_trip_and_truncation(void **state)
{
    pa_job_item items[3];
    pa_job_req m, d;
    uint8_t *p;
    size_t n;
    (void)state;
    fill();
    memset(&m, 0, sizeof m);
    memset(m.aTaskId, 9, 32);
    memset(m.aJobId, 8, 16);
    strcpy(m.zPeriod, "2026-10");
    memset(items, 0, sizeof items);
    for (int i = 0; i < 3; i++) {
        items[i].aReportId[0] = (uint8_t)i;
        strcpy(items[i].zAgencyId, "MO0010000");
        strcpy(items[i].zPartition, i == 2 ? "29003" : "29001");
        items[i].pPublicShare = g_pub;
        items[i].pHelperCt = g_hct;
        items[i].aSignature[63] = 7;
        items[i].pLeaderVerifierShare = g_vs;
    }
    m.nItem = 3;
    m.aItem = items;
    assert_int_equal(pa_job_req_encode(&p, &n, &m, &g_s), PA_OK);
    assert_int_equal(pa_job_req_decode(&d, p, n, &g_s), PA_OK);
    assert_int_equal(d.nItem, 3);
    assert_int_equal(d.aItem[2].aReportId[0], 2);
    assert_memory_equal(d.aItem[1].pHelperCt, g_hct, sizeof g_hct);
    assert_string_equal(d.aItem[2].zPartition, "29003");
    assert_memory_equal(d.aItem[2].pLeaderVerifierShare, g_vs, sizeof g_vs);
    pa_job_req_free(&d);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(pa_job_req_decode(&d, p, i, &g_s), PA_OK);
    pa_msg_sizes other = g_s;
    other.nHelperCt = 47;
    assert_int_equal(pa_job_req_decode(&d, p, n, &other), PA_EDECODE);
    /* the leader's verifier share has the task's exact size */
    other = g_s;
    other.nVerifierShare = 32;
    assert_int_equal(pa_job_req_decode(&d, p, n, &other), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "leader_verifier_share"));
    /* a version-1 request (items without the leader's verifier share) is refused */
    assert_int_equal(p[1], PA_MSG_VERSION);
    p[1] = 1;
    assert_int_equal(pa_job_req_decode(&d, p, n, &g_s), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "version"));
    free(p);
}

static void test_job_steps_round_trip(void **state)
{
    pa_job_step_item items[2];
    pa_job_step m, d;
    uint8_t *p;
    size_t n;
    (void)state;
    fill();
    memset(&m, 0, sizeof m);
    memset(items, 0, sizeof items);
    items[0].eReject = PA_REJECT_NONE;
    items[0].pPayload = g_vm;
    items[1].eReject = PA_REJECT_PROOF;
    m.eStep = PA_STEP_CONTINUE;
    m.nItem = 2;
    m.aItem = items;
    assert_int_equal(pa_job_step_encode(&p, &n, &m, &g_s), PA_OK);
    assert_int_equal(pa_job_step_decode(&d, PA_STEP_CONTINUE, p, n, &g_s), PA_OK);
    assert_int_equal(d.aItem[1].eReject, PA_REJECT_PROOF);
    assert_memory_equal(d.aItem[0].pPayload, g_vm, sizeof g_vm);
    pa_job_step_free(&d);
    /* the receiver insists on the step it expects */
    assert_int_equal(pa_job_step_decode(&d, PA_STEP_FINISH, p, n, &g_s), PA_EDECODE);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(pa_job_step_decode(&d, PA_STEP_CONTINUE, p, i, &g_s), PA_OK);
    free(p);
    /* init response carries verifier shares */
    items[0].pPayload = g_vs;
    m.eStep = PA_STEP_INIT_RESP;
    assert_int_equal(pa_job_step_encode(&p, &n, &m, &g_s), PA_OK);
    assert_int_equal(pa_job_step_decode(&d, PA_STEP_INIT_RESP, p, n, &g_s), PA_OK);
    assert_memory_equal(d.aItem[0].pPayload, g_vs, sizeof g_vs);
    pa_job_step_free(&d);
    free(p);
    assert_string_equal(pa_reject_reason_name(PA_REJECT_PROOF), "proof");
}

static void test_collect_round_trip(void **state)
{
    pa_collect_req r = {{0}, {0}, "2026-10", "state"}, rd;
    pa_collect_resp c, cd;
    uint8_t *p;
    size_t n;
    (void)state;
    fill();
    assert_int_equal(pa_collect_req_encode(&p, &n, &r), PA_OK);
    assert_int_equal(pa_collect_req_decode(&rd, p, n), PA_OK);
    assert_string_equal(rd.zPeriod, "2026-10");
    free(p);
    memset(&c, 0, sizeof c);
    strcpy(c.zPeriod, "2026-10");
    strcpy(c.zPartition, "29001");
    c.leader.nAgency = 3;
    c.leader.pCt = g_agg;
    c.helper.nRejected = 3;
    c.helper.pCt = g_agg;
    c.pAgencyIds = (const uint8_t *)"MO0010000\0MO0010100\0MO0950000";
    c.nAgencyIds = 30;
    pa_agency_ids_hash(c.pAgencyIds, c.nAgencyIds, c.leader.aAgencyHash);
    assert_int_equal(pa_collect_resp_encode(&p, &n, &c, &g_s), PA_OK);
    assert_int_equal(pa_collect_resp_decode(&cd, p, n, &g_s), PA_OK);
    assert_int_equal(cd.leader.nAgency, 3);
    assert_int_equal(cd.nAgencyIds, 30);
    assert_memory_equal(cd.pAgencyIds, c.pAgencyIds, 30);
    assert_int_equal(cd.helper.nRejected, 3);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(pa_collect_resp_decode(&cd, p, i, &g_s), PA_OK);
    free(p);
    strcpy(r.zPeriod, "2026-1");
    assert_int_equal(pa_collect_req_encode(&p, &n, &r), PA_EINVAL);
}

/* The list of agencies that reported: canonical form, count and hash checked. */
static void test_agency_ids(void **state)
{
    static const struct {
        const char *zList;
        size_t n;
        int rc;
        uint64_t nCount;
    } aCase[] = {{"", 0, PA_OK, 0},
                 {"A", 2, PA_OK, 1},
                 {"A\0B\0BA", 7, PA_OK, 3},
                 {"A\0B", 3, PA_EDECODE, 0},          /* the last id not terminated */
                 {"B\0A", 4, PA_EDECODE, 0},          /* descending */
                 {"A\0A", 4, PA_EDECODE, 0},          /* twice */
                 {"AB\0A", 5, PA_EDECODE, 0},         /* a prefix after the longer id */
                 {"\0", 1, PA_EDECODE, 0},            /* an empty id */
                 {"A\0\0", 3, PA_EDECODE, 0}};
    char z65[66];
    uint64_t n;
    (void)state;
    for (size_t i = 0; i < sizeof aCase / sizeof aCase[0]; i++) {
        int rc = pa_agency_ids_check((const uint8_t *)aCase[i].zList, aCase[i].n, "ids", &n);
        if (rc != aCase[i].rc)
            fail_msg("case %zu: %d, expected %d", i, rc, aCase[i].rc);
        if (rc == PA_OK)
            assert_int_equal(n, aCase[i].nCount);
    }
    memset(z65, 'X', 65);
    z65[65] = 0;
    assert_int_equal(pa_agency_ids_check((const uint8_t *)z65, 66, "ids", &n), PA_EDECODE);
    assert_int_equal(pa_agency_ids_check((const uint8_t *)z65 + 1, 65, "ids", &n), PA_OK);

    /* in a collection answer: the leader's count and hash must describe the list */
    pa_collect_resp c, cd;
    uint8_t *p;
    size_t np;
    fill();
    memset(&c, 0, sizeof c);
    strcpy(c.zPeriod, "2026-10");
    strcpy(c.zPartition, "state");
    c.leader.pCt = c.helper.pCt = g_agg;
    c.pAgencyIds = (const uint8_t *)"A\0B";
    c.nAgencyIds = 4;
    c.leader.nAgency = 2;
    pa_agency_ids_hash(c.pAgencyIds, c.nAgencyIds, c.leader.aAgencyHash);
    assert_int_equal(pa_collect_resp_encode(&p, &np, &c, &g_s), PA_OK);
    assert_int_equal(pa_collect_resp_decode(&cd, p, np, &g_s), PA_OK);
    free(p);
    c.leader.nAgency = 3;
    assert_int_equal(pa_collect_resp_encode(&p, &np, &c, &g_s), PA_OK);
    assert_int_equal(pa_collect_resp_decode(&cd, p, np, &g_s), PA_EDECODE);
    free(p);
    c.leader.nAgency = 2;
    c.leader.aAgencyHash[0] ^= 1;
    assert_int_equal(pa_collect_resp_encode(&p, &np, &c, &g_s), PA_OK);
    assert_int_equal(pa_collect_resp_decode(&cd, p, np, &g_s), PA_EDECODE);
    free(p);
    c.leader.aAgencyHash[0] ^= 1;
    c.pAgencyIds = (const uint8_t *)"B\0A";
    pa_agency_ids_hash(c.pAgencyIds, c.nAgencyIds, c.leader.aAgencyHash);
    assert_int_equal(pa_collect_resp_encode(&p, &np, &c, &g_s), PA_OK);
    assert_int_equal(pa_collect_resp_decode(&cd, p, np, &g_s), PA_EDECODE);
    free(p);
}

static void test_hostile_counts(void **state)
{
    pa_job_req d;
    (void)state;
    /* header ok, then a list claiming 9999 items in 3 bytes */
    uint8_t buf[128], *q = buf;
    *q++ = 0x95;
    *q++ = PA_MSG_VERSION;
    *q++ = 0xc4; *q++ = 32; memset(q, 0, 32); q += 32;
    *q++ = 0xc4; *q++ = 16; memset(q, 0, 16); q += 16;
    *q++ = 0xa7; memcpy(q, "2026-10", 7); q += 7;
    *q++ = 0xdc; *q++ = 0x27; *q++ = 0x0f; /* array16 of 9999 */
    *q++ = 0x98; *q++ = 0x00; *q++ = 0x00;
    assert_int_equal(pa_job_req_decode(&d, buf, (size_t)(q - buf), &g_s), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "cannot fit"));
    buf[sizeof buf - 1] = 0;
    q[-5] = 0xdd; /* array32: 0x270f98.. -> above the limit */
    uint8_t big[] = {0x95, PA_MSG_VERSION};
    assert_int_equal(pa_job_req_decode(&d, big, sizeof big, &g_s), PA_EDECODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_round_trip_and_truncation),
        cmocka_unit_test(test_job_steps_round_trip),
        cmocka_unit_test(test_collect_round_trip),
        cmocka_unit_test(test_agency_ids),
        cmocka_unit_test(test_hostile_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
