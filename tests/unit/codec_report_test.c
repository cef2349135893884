/*
 * Tests of the report codec: round trip, the signed bytes and AAD differ from the
 * wire bytes and bind every field, and the decoder refuses every truncation,
 * trailing byte, wrong size, non-canonical length and bad period.  A test per
 * signed field: change it and the agency's Ed25519 signature no longer verifies
 * (and, for the AAD's fields, a share sealed to the report no longer opens).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

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

/* Version 3 names each share's HPKE config id; version 2 (an older agency) is
 * still read, without them; the signed bytes are the same for both. */
static void test_config_ids_and_version_2(void **state)
{
    pa_report r = sample(), d;
    uint8_t *p, *p2, *s3, *s2;
    size_t n, n2, ns3, ns2;
    (void)state;
    r.leader.iConfigId = 7;
    r.helper.iConfigId = 200;
    assert_int_equal(pa_report_encode(&p, &n, &r), PA_OK);
    assert_int_equal(p[0], 0x9e); /* 14 elements */
    assert_int_equal(p[1], 3);
    assert_int_equal(pa_report_decode(&d, p, n, &g_sizes), PA_OK);
    assert_int_equal(d.iVersion, 3);
    assert_int_equal(d.leader.iConfigId, 7);
    assert_int_equal(d.helper.iConfigId, 200);
    r.iVersion = 2;
    assert_int_equal(pa_report_encode(&p2, &n2, &r), PA_OK);
    assert_int_equal(n2 + 1 + 2, n); /* no ids: 0x07 and 0xcc 0xc8 */
    assert_int_equal(pa_report_decode(&d, p2, n2, &g_sizes), PA_OK);
    assert_int_equal(d.iVersion, 2);
    assert_int_equal(d.leader.iConfigId, 0);
    /* the signature covers the same bytes whatever the version and the ids */
    assert_int_equal(pa_report_signed_bytes(&s2, &ns2, &r, NULL), PA_OK);
    r.iVersion = 3;
    r.leader.iConfigId = 1;
    assert_int_equal(pa_report_signed_bytes(&s3, &ns3, &r, NULL), PA_OK);
    assert_int_equal(ns2, ns3);
    assert_memory_equal(s2, s3, ns2);
    /* a version that does not match the element count, a config id above 255 */
    p[1] = 2;
    assert_int_equal(pa_report_decode(&d, p, n, &g_sizes), PA_EDECODE);
    p2[1] = 3;
    assert_int_equal(pa_report_decode(&d, p2, n2, &g_sizes), PA_EDECODE);
    free(p2);
    r.iVersion = 4;
    assert_int_equal(pa_report_encode(&p2, &n2, &r) == PA_OK, 0);
    free(p);
    free(s2);
    free(s3);
    uint8_t *q;
    size_t nq;
    r = sample();
    r.leader.iConfigId = 0;
    assert_int_equal(pa_report_encode(&q, &nq, &r), PA_OK);
    /* find the leader's config id (0x00) before leader_enc (0xc4 0x20 0x55...) */
    for (size_t i = 0; i + 3 < nq; i++)
        if (q[i] == 0x00 && q[i + 1] == 0xc4 && q[i + 2] == 0x20 && q[i + 3] == 0x55) {
            uint8_t *big = malloc(nq + 2);
            memcpy(big, q, i);
            big[i] = 0xcd; big[i + 1] = 0x01; big[i + 2] = 0x00; /* 256 as uint16 */
            memcpy(big + i + 3, q + i + 1, nq - i - 1);
            assert_int_equal(pa_report_decode(&d, big, nq + 2, &g_sizes), PA_EDECODE);
            assert_non_null(strstr(pa_error_detail(), "leader_config_id"));
            free(big);
            break;
        }
    free(q);
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

/* A period before PA_PERIOD_FIRST is refused with a message naming the bound. */
static void test_period_bounds(void **state)
{
    (void)state;
    assert_false(pa_period_valid("2000-01"));
    assert_false(pa_period_valid("2019-12"));
    assert_true(pa_period_valid("2020-01"));
    assert_true(pa_period_valid("9999-12"));
    assert_false(pa_period_valid("2026-13"));
    assert_false(pa_period_valid("2026-00"));
    assert_false(pa_period_valid("2026-1"));
    assert_false(pa_period_valid("+026-01"));
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
    /* version 2, truncated */
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

/* One edit of a report: flips a byte or rewrites a string of a signed field. */
typedef struct {
    const char *zField;
    void (*xEdit)(pa_report *r, int bUndo);
    int bInAad;    /* the input shares' HPKE AAD binds it too */
} field_edit;

static uint8_t g_pubSaved[sizeof g_pub];
#define FLIP(name, expr) \
    static void name(pa_report *r, int bUndo) { (void)bUndo; (void)r; (expr) ^= 1; }
FLIP(ed_task_first, r->aTaskId[0])
FLIP(ed_task_last, r->aTaskId[31])
FLIP(ed_report_first, r->aReportId[0])
FLIP(ed_report_last, r->aReportId[15])
FLIP(ed_pub_first, g_pub[0])
FLIP(ed_pub_last, g_pub[sizeof g_pub - 1])
FLIP(ed_lenc_first, r->leader.aEnc[0])
FLIP(ed_lenc_last, r->leader.aEnc[31])
FLIP(ed_ltag_first, g_lct[sizeof g_lct - PA_REPORT_AEAD_TAG_SIZE])
FLIP(ed_ltag_last, g_lct[sizeof g_lct - 1])
FLIP(ed_henc_first, r->helper.aEnc[0])
FLIP(ed_henc_last, r->helper.aEnc[31])
FLIP(ed_hct_first, g_hct[0])
FLIP(ed_hct_last, g_hct[sizeof g_hct - 1])
static void ed_agency(pa_report *r, int bUndo) { strcpy(r->zAgencyId, bUndo ? "MO0010000" : "MO0010001"); }
static void ed_agency_len(pa_report *r, int bUndo) { strcpy(r->zAgencyId, bUndo ? "MO0010000" : "MO001000"); }
static void ed_period(pa_report *r, int bUndo) { strcpy(r->zPeriod, bUndo ? "2026-10" : "2026-09"); }
static void ed_partition(pa_report *r, int bUndo) { strcpy(r->zPartition, bUndo ? "29001" : "29003"); }
static void ed_pub_shorter(pa_report *r, int bUndo) { r->nPublicShare = bUndo ? sizeof g_pub : sizeof g_pub - 1; }

static const field_edit g_edits[] = {
    {"task_id[0]", ed_task_first, 1},       {"task_id[31]", ed_task_last, 1},
    {"report_id[0]", ed_report_first, 1},   {"report_id[15]", ed_report_last, 1},
    {"agency_id", ed_agency, 1},            {"agency_id (length)", ed_agency_len, 1},
    {"period", ed_period, 1},               {"partition", ed_partition, 1},
    {"public_share[0]", ed_pub_first, 1},   {"public_share[last]", ed_pub_last, 1},
    {"public_share (length)", ed_pub_shorter, 1},
    {"leader_enc[0]", ed_lenc_first, 0},    {"leader_enc[31]", ed_lenc_last, 0},
    {"leader_ct tag[0]", ed_ltag_first, 0}, {"leader_ct tag[15]", ed_ltag_last, 0},
    {"helper_enc[0]", ed_henc_first, 0},    {"helper_enc[31]", ed_henc_last, 0},
    {"helper_ct[0]", ed_hct_first, 0},      {"helper_ct[last]", ed_hct_last, 0},
};

/* A test per signed field: an agency signs the report with its Ed25519 key;
 * changing any one signed field (first and last byte of each byte string, each
 * string, each length) makes the signature fail to verify, in the leader's form
 * (digest computed from leader_enc and leader_ct's tag) and in the helper's
 * (the digest the leader forwards).  The fields in the input shares' HPKE AAD
 * change the AAD too, so a share sealed to the report does not open. */
static void test_each_signed_field(void **state)
{
    uint8_t pk[32], sk[64], sig[64], *s, *a0, *a, aDig[32];
    size_t ns, na0, na;
    (void)state;
    crypto_sign_keypair(pk, sk);
    pa_report r = sample();
    memcpy(g_pubSaved, g_pub, sizeof g_pub);
    assert_int_equal(pa_report_signed_bytes(&s, &ns, &r, NULL), PA_OK);
    crypto_sign_detached(sig, NULL, s, ns, sk);
    assert_int_equal(crypto_sign_verify_detached(sig, s, ns, pk), 0);
    free(s);
    assert_int_equal(pa_report_aad(&a0, &na0, &r), PA_OK);

    /* a share sealed with the report's AAD (the AEAD under HPKE: ChaCha20-Poly1305) */
    uint8_t key[32], nonce[12] = {0}, pt[8] = "counts!", ct[8 + 16], out[8];
    unsigned long long nOut;
    crypto_aead_chacha20poly1305_ietf_keygen(key);
    crypto_aead_chacha20poly1305_ietf_encrypt(ct, NULL, pt, sizeof pt, a0, na0, NULL, nonce, key);

    for (size_t i = 0; i < sizeof g_edits / sizeof g_edits[0]; i++) {
        const field_edit *e = &g_edits[i];
        g_edits[i].xEdit(&r, 0);
        assert_int_equal(pa_report_signed_bytes(&s, &ns, &r, NULL), PA_OK);
        if (crypto_sign_verify_detached(sig, s, ns, pk) == 0)
            fail_msg("%s changed: the agency's signature still verifies (leader's form)", e->zField);
        free(s);
        pa_report_leader_digest(aDig, &r);
        pa_report hr = r;
        hr.leader.pCt = NULL;
        hr.leader.nCt = 0;
        assert_int_equal(pa_report_signed_bytes(&s, &ns, &hr, aDig), PA_OK);
        if (crypto_sign_verify_detached(sig, s, ns, pk) == 0)
            fail_msg("%s changed: the agency's signature still verifies (helper's form)", e->zField);
        free(s);
        assert_int_equal(pa_report_aad(&a, &na, &r), PA_OK);
        int bSame = na == na0 && memcmp(a, a0, na) == 0;
        if (e->bInAad) {
            if (bSame)
                fail_msg("%s changed: the input shares' AAD did not change", e->zField);
            if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &nOut, NULL, ct, sizeof ct, a, na, nonce, key) == 0)
                fail_msg("%s changed: the sealed share still opens", e->zField);
        } else {
            assert_true(bSame); /* the ciphertexts are not in their own AAD */
        }
        free(a);
        g_edits[i].xEdit(&r, 1);
        assert_memory_equal(g_pub, g_pubSaved, sizeof g_pub);
    }
    /* everything restored: verifies and opens again */
    assert_int_equal(pa_report_signed_bytes(&s, &ns, &r, NULL), PA_OK);
    assert_int_equal(crypto_sign_verify_detached(sig, s, ns, pk), 0);
    free(s);
    assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(out, &nOut, NULL, ct, sizeof ct, a0, na0, nonce, key), 0);
    assert_memory_equal(out, pt, sizeof pt);
    free(a0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_config_ids_and_version_2),
        cmocka_unit_test(test_period_bounds),
        cmocka_unit_test(test_every_truncation_and_trailing_byte_refused),
        cmocka_unit_test(test_wrong_sizes_and_fields_refused),
        cmocka_unit_test(test_non_canonical_and_wrong_types_refused),
        cmocka_unit_test(test_signed_bytes_and_aad_bind_fields),
        cmocka_unit_test(test_each_signed_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
