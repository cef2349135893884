/*
 * Mutation test of every wire decoder (report, job request, job steps,
 * collection request and response, sealed aggregate share): 20,000 mutated
 * copies of valid messages each (bit flips, byte changes, truncations,
 * insertions, deletions; fixed seed).  A decoder never crashes or reads out of
 * bounds (ASan in CI), and whatever it accepts re-encodes to exactly the same
 * bytes: one message, one encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/messages.h"
#include "privagg/report.h"

#define ROUNDS 20000

static uint8_t g_seed[randombytes_SEEDBYTES] = {7};
static uint64_t g_ctr;

static uint32_t rnd(uint32_t n)
{
    uint8_t b[4];
    uint8_t seed[randombytes_SEEDBYTES];
    memcpy(seed, g_seed, sizeof seed);
    memcpy(seed, &g_ctr, sizeof g_ctr);
    g_ctr++;
    randombytes_buf_deterministic(b, sizeof b, seed);
    return (((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]) % n;
}

/* A mutated copy of p (n bytes) into q (capacity n + 16); returns its length. */
static size_t mutate(const uint8_t *p, size_t n, uint8_t *q)
{
    size_t m = n, k = 1 + rnd(3);
    memcpy(q, p, n);
    for (size_t t = 0; t < k; t++) {
        size_t i = m ? rnd((uint32_t)m) : 0;
        switch (rnd(5)) {
        case 0: if (m) q[i] ^= (uint8_t)(1u << rnd(8)); break;
        case 1: if (m) q[i] = (uint8_t)rnd(256); break;
        case 2: m = i; break;                                             /* truncate */
        case 3: if (m < n + 16) { memmove(q + i + 1, q + i, m - i); q[i] = (uint8_t)rnd(256); m++; } break;
        default: if (m) { memmove(q + i, q + i + 1, m - i - 1); m--; } break;
        }
    }
    return m;
}

static const pa_msg_sizes g_s = {64, 96, 40, 32, 80};
static uint8_t g_pub[64], g_hct[96], g_ct[80], g_lct[200], g_vs[40], g_vm[32];

static void test_report_decoder(void **state)
{
    pa_report r, d;
    uint8_t *p, *e, q[4096];
    size_t n, ne;
    pa_report_sizes sz = {64, 200, 96};
    (void)state;
    memset(&r, 0, sizeof r);
    memset(r.aTaskId, 1, 32);
    strcpy(r.zAgencyId, "MO0010000");
    strcpy(r.zPeriod, "2026-10");
    strcpy(r.zPartition, "29001");
    r.pPublicShare = g_pub;
    r.nPublicShare = 64;
    r.leader.pCt = g_lct;
    r.leader.nCt = 200;
    r.helper.pCt = g_hct;
    r.helper.nCt = 96;
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_OK);
    size_t nOk = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t m = mutate(p, n, q);
        if (pa_report_decode(&d, q, m, &sz) != PA_OK)
            continue;
        nOk++;
        assert_int_equal(pa_report_encode(&e, &ne, &d), PA_OK);
        assert_int_equal(ne, m);
        assert_memory_equal(e, q, m);
        free(e);
    }
    assert_true(nOk < ROUNDS);  /* most mutations are refused, */
    assert_true(nOk > 100);     /* but payload changes decode: the round trip is exercised */
    free(p);
}

static void test_job_decoders(void **state)
{
    pa_job_item items[2];
    pa_job_req m, d;
    pa_job_step_item si[2];
    pa_job_step st, ds;
    uint8_t *p, *e, q[4096];
    size_t n, ne;
    (void)state;
    memset(&m, 0, sizeof m);
    memset(items, 0, sizeof items);
    strcpy(m.zPeriod, "2026-10");
    for (int i = 0; i < 2; i++) {
        items[i].aReportId[0] = (uint8_t)i;
        strcpy(items[i].zAgencyId, "MO0010000");
        strcpy(items[i].zPartition, "29001");
        items[i].pPublicShare = g_pub;
        items[i].pHelperCt = g_hct;
        items[i].pLeaderVerifierShare = g_vs;
    }
    m.nItem = 2;
    m.aItem = items;
    assert_int_equal(pa_job_req_encode(&p, &n, &m, &g_s), PA_OK);
    size_t nOk = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t k = mutate(p, n, q);
        if (pa_job_req_decode(&d, q, k, &g_s) != PA_OK)
            continue;
        nOk++;
        assert_int_equal(pa_job_req_encode(&e, &ne, &d, &g_s), PA_OK);
        assert_int_equal(ne, k);
        assert_memory_equal(e, q, k);
        free(e);
        pa_job_req_free(&d);
    }
    assert_true(nOk > 100);
    free(p);

    memset(&st, 0, sizeof st);
    memset(si, 0, sizeof si);
    si[0].pPayload = g_vs;
    si[1].eReject = PA_REJECT_PROOF;
    st.eStep = PA_STEP_INIT_RESP;
    st.nItem = 2;
    st.aItem = si;
    assert_int_equal(pa_job_step_encode(&p, &n, &st, &g_s), PA_OK);
    for (int i = 0; i < ROUNDS; i++) {
        size_t k = mutate(p, n, q);
        if (pa_job_step_decode(&ds, PA_STEP_INIT_RESP, q, k, &g_s) != PA_OK)
            continue;
        assert_int_equal(pa_job_step_encode(&e, &ne, &ds, &g_s), PA_OK);
        assert_int_equal(ne, k);
        assert_memory_equal(e, q, k);
        free(e);
        pa_job_step_free(&ds);
    }
    free(p);
    (void)g_vm;
}

static void test_collection_decoders(void **state)
{
    pa_collect_req r = {{0}, {0}, "2026-10", "state"}, rd;
    pa_collect_resp c, cd;
    pa_sealed_agg sa;
    uint8_t *p, *e, q[4096], task[32], coll[16];
    size_t n, ne;
    (void)state;
    assert_int_equal(pa_collect_req_encode(&p, &n, &r), PA_OK);
    for (int i = 0; i < ROUNDS; i++) {
        size_t k = mutate(p, n, q);
        if (pa_collect_req_decode(&rd, q, k) != PA_OK)
            continue;
        assert_int_equal(pa_collect_req_encode(&e, &ne, &rd), PA_OK);
        assert_int_equal(ne, k);
        assert_memory_equal(e, q, k);
        free(e);
    }
    free(p);
    memset(&c, 0, sizeof c);
    strcpy(c.zPeriod, "2026-10");
    strcpy(c.zPartition, "29001");
    c.leader.nAgency = 2;
    c.leader.pCt = g_ct;
    c.helper.pCt = g_ct;
    c.pAgencyIds = (const uint8_t *)"MO0010000\0MO0010100";
    c.nAgencyIds = 20;
    pa_agency_ids_hash(c.pAgencyIds, c.nAgencyIds, c.leader.aAgencyHash);
    assert_int_equal(pa_collect_resp_encode(&p, &n, &c, &g_s), PA_OK);
    for (int i = 0; i < ROUNDS; i++) {
        size_t k = mutate(p, n, q);
        if (pa_collect_resp_decode(&cd, q, k, &g_s) != PA_OK)
            continue;
        assert_int_equal(pa_collect_resp_encode(&e, &ne, &cd, &g_s), PA_OK);
        assert_int_equal(ne, k);
        assert_memory_equal(e, q, k);
        free(e);
    }
    free(p);
    assert_int_equal(pa_sealed_agg_encode(&p, &n, c.aTaskId, c.aCollectionId, &c.leader, &g_s), PA_OK);
    for (int i = 0; i < ROUNDS; i++) {
        size_t k = mutate(p, n, q);
        if (pa_sealed_agg_decode(&sa, task, coll, q, k, &g_s) != PA_OK)
            continue;
        assert_int_equal(pa_sealed_agg_encode(&e, &ne, task, coll, &sa, &g_s), PA_OK);
        assert_int_equal(ne, k);
        assert_memory_equal(e, q, k);
        free(e);
    }
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_decoder),
        cmocka_unit_test(test_job_decoders),
        cmocka_unit_test(test_collection_decoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
