/*
 * Tests of the report codec: round trip, the signed bytes and AAD differ from the
 * wire bytes and bind every field, and the decoder refuses every truncation,
 * trailing byte, wrong size, non-canonical length and bad period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/report.h"

static uint8_t g_pub[40], g_lct[100], g_hct[48];

static pa_report sample(void)
{
    pa_report r;
    memset(&r, 0, sizeof r);
    memset(r.aTaskId, 0x11, sizeof r.aTaskId);
    memset(r.aReportId, 0x22, sizeof r.aReportId);
    strcpy(r.zAgencyId, "MO0010000");
    strcpy(r.zPeriod, "2026-10");
    strcpy(r.zPartition, "29001");
    for (size_t i = 0; i < sizeof g_pub; i++)
        g_pub[i] = (uint8_t)i;
    memset(g_lct, 0x33, sizeof g_lct);
    memset(g_hct, 0x44, sizeof g_hct);
    r.pPublicShare = g_pub;
    r.nPublicShare = sizeof g_pub;
    memset(r.leader.aEnc, 0x55, 32);
    r.leader.pCt = g_lct;
    r.leader.nCt = sizeof g_lct;
    memset(r.helper.aEnc, 0x66, 32);
    r.helper.pCt = g_hct;
    r.helper.nCt = sizeof g_hct;
    memset(r.aSignature, 0x77, sizeof r.aSignature);
    return r;
}

static const pa_report_sizes g_sizes = {sizeof g_pub, sizeof g_lct, sizeof g_hct};

static void test_round_trip(void **state)
{
    pa_report r = sample(), d;
    uint8_t *p;
    size_t n;
    (void)state;
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_OK);
    assert_int_equal(pa_report_decode(&d, p, n, &g_sizes), PA_OK);
    assert_memory_equal(d.aTaskId, r.aTaskId, 32);
    assert_memory_equal(d.aReportId, r.aReportId, 16);
    assert_string_equal(d.zAgencyId, "MO0010000");
    assert_string_equal(d.zPeriod, "2026-10");
    assert_string_equal(d.zPartition, "29001");
    assert_int_equal(d.nPublicShare, sizeof g_pub);
    assert_memory_equal(d.pPublicShare, g_pub, sizeof g_pub);
    assert_memory_equal(d.leader.pCt, g_lct, sizeof g_lct);
    assert_memory_equal(d.helper.aEnc, r.helper.aEnc, 32);
    assert_memory_equal(d.aSignature, r.aSignature, 64);
    /* any size accepted when the caller gives none for the ciphertexts */
    pa_report_sizes loose = {sizeof g_pub, 0, 0};
    assert_int_equal(pa_report_decode(&d, p, n, &loose), PA_OK);
    free(p);
}

static void test_every_truncation_and_trailing_byte_refused(void **state)
{
    pa_report r = sample(), d;
    uint8_t *p, *q;
    size_t n;
    (void)state;
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_OK);
    for (size_t i = 0; i < n; i++) {
        int rc = pa_report_decode(&d, p, i, &g_sizes);
        assert_true(rc == PA_EDECODE || rc == PA_ERANGE);
    }
    q = malloc(n + 1);
    memcpy(q, p, n);
    q[n] = 0;
    assert_int_equal(pa_report_decode(&d, q, n + 1, &g_sizes), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "trailing"));
    free(q);
    free(p);
}

static void test_wrong_sizes_and_fields_refused(void **state)
{
    pa_report r = sample(), d;
    uint8_t *p;
    size_t n;
    (void)state;
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_OK);
    pa_report_sizes s = g_sizes;
    s.nLeaderCt = 99;
    assert_int_equal(pa_report_decode(&d, p, n, &s), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "report.leader_ct: 100 bytes, expected exactly 99"));
    s = g_sizes;
    s.nPublicShare = 0;
    assert_int_equal(pa_report_decode(&d, p, n, &s), PA_ERANGE);
    free(p);

    strcpy(r.zPeriod, "2026-13");
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "period"));
    r = sample();
    r.zAgencyId[0] = '\0';
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_EINVAL);
}

static void test_non_canonical_and_wrong_types_refused(void **state)
{
    pa_report d;
    (void)state;
    /* array16 header for 12 elements: not the shortest form */
    uint8_t a16[] = {0xdc, 0x00, 0x0c};
    assert_int_equal(pa_report_decode(&d, a16, sizeof a16, &g_sizes), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "shortest"));
    /* version as uint8 0x01: not canonical */
    uint8_t v8[] = {0x9c, 0xcc, 0x01};
    assert_int_equal(pa_report_decode(&d, v8, sizeof v8, &g_sizes), PA_EDECODE);
    /* version 2 */
    uint8_t v2[] = {0x9c, 0x02};
    assert_int_equal(pa_report_decode(&d, v2, sizeof v2, &g_sizes), PA_EDECODE);
    /* a map instead of an array */
    uint8_t m[] = {0x80};
    assert_int_equal(pa_report_decode(&d, m, sizeof m, &g_sizes), PA_EDECODE);
    /* huge declared array (array32): refused without allocating */
    uint8_t big[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(pa_report_decode(&d, big, sizeof big, &g_sizes), PA_EDECODE);
    /* huge declared bin for the task id */
    uint8_t bigbin[] = {0x9c, 0x01, 0xc6, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(pa_report_decode(&d, bigbin, sizeof bigbin, &g_sizes), PA_EDECODE);
    assert_int_equal(pa_report_decode(&d, NULL, 0, &g_sizes), PA_EDECODE);
}

static void test_signed_bytes_and_aad_bind_fields(void **state)
{
    pa_report r = sample();
    uint8_t *s1, *s2, *a1, *a2, *w;
    size_t ns1, ns2, na1, na2, nw;
    (void)state;
    assert_int_equal(pa_report_signed_bytes(&s1, &ns1, &r, NULL), PA_OK);
    assert_int_equal(pa_report_aad(&a1, &na1, &r), PA_OK);
    assert_int_equal(pa_report_encode(&w, &nw, &r), PA_OK);
    assert_true(ns1 > strlen(PA_REPORT_SIGN_LABEL));
    assert_memory_equal(s1, PA_REPORT_SIGN_LABEL, strlen(PA_REPORT_SIGN_LABEL));
    /* the signature itself is not signed */
    memset(r.aSignature, 0, 64);
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    assert_int_equal(ns1, ns2);
    assert_memory_equal(s1, s2, ns1);
    free(s2);
    /* the helper's form (digest given) is the same bytes */
    uint8_t dig[32];
    pa_report_leader_digest(dig, &r);
    pa_report hr = r;
    hr.leader.pCt = NULL;
    hr.leader.nCt = 0;
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &hr, dig), PA_OK);
    assert_memory_equal(s1, s2, ns1);
    free(s2);
    /* the leader's ciphertext enters by its AEAD tag (its last 16 bytes) ... */
    g_lct[sizeof g_lct - 1] ^= 1;
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    assert_memory_not_equal(s1, s2, ns1);
    g_lct[sizeof g_lct - 1] ^= 1;
    free(s2);
    /* ... and its encapsulated key; the body is bound by the AEAD, not hashed */
    r.leader.aEnc[0] ^= 1;
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    assert_memory_not_equal(s1, s2, ns1);
    r.leader.aEnc[0] ^= 1;
    free(s2);
    g_lct[5] ^= 1;
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    assert_memory_equal(s1, s2, ns1);
    g_lct[5] ^= 1;
    free(s2);
    /* but the partition is, and it is in the AAD */
    strcpy(r.zPartition, "29003");
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    assert_int_equal(pa_report_aad(&a2, &na2, &r), PA_OK);
    assert_true(ns1 != ns2 || memcmp(s1, s2, ns1) != 0);
    assert_true(na1 != na2 || memcmp(a1, a2, na1) != 0);
    free(s1);
    free(s2);
    free(a1);
    free(a2);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_truncation_and_trailing_byte_refused),
        cmocka_unit_test(test_wrong_sizes_and_fields_refused),
        cmocka_unit_test(test_non_canonical_and_wrong_types_refused),
        cmocka_unit_test(test_signed_bytes_and_aad_bind_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
