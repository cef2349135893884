/*
 * The signed HPKE configuration (include/privagg/hpke_config.h): made from a key
 * file with the current key, the new one and the retiring keys not yet expired,
 * each with its state, signed, written
 * as JSON and read back; an agency's verification refuses a changed key, id or
 * expiry, another signer, another task or role, a stale or future document, and
 * a parser refuses what is not the format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/hpke_config.h"

#define NOW 1795000000

static void roundtrip(const pa_hpke_config_doc *pIn, pa_hpke_config_doc *pOut)
{
    json_t *j = pa_hpke_config_to_json(pIn);
    char *z = json_dumps(j, 0);
    json_decref(j);
    j = json_loads(z, 0, NULL);
    free(z);
    assert_int_equal(pa_hpke_config_from_json(pOut, j, "doc"), PA_OK);
    json_decref(j);
}

static void test_make_verify_and_tamper(void **state)
{
    pa_keys k, other;
    pa_hpke_config_doc d, e;
    uint8_t aTask[32], aTask2[32];
    (void)state;
    memset(aTask, 7, 32);
    memset(aTask2, 8, 32);
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_int_equal(pa_keys_generate(&other, PA_ROLE_HELPER, NULL, 2), PA_OK);
    assert_int_equal(pa_keys_rotate(&k), PA_OK);  /* 3 current, 2 older */
    assert_int_equal(pa_keys_rotate(&k), PA_OK);  /* 4 current, 3 and 2 older */
    assert_int_equal(pa_keys_expire(&k, 2, NOW - 1), PA_OK);     /* expired: not offered */
    assert_int_equal(pa_keys_expire(&k, 3, NOW + 86400), PA_OK);
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(pa_hpke_config_current(&d)->iId, 4);
    assert_memory_equal(pa_hpke_config_current(&d)->aPublic, k.aPublic, 32);
    assert_int_equal(d.a[1].iId, 3);
    assert_int_equal(d.a[1].tNotAfter, NOW + 86400);
    roundtrip(&d, &e);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_OK);
    /* another signer (e.g. the leader passing off a key of its own) */
    assert_int_equal(pa_hpke_config_verify(&e, other.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    /* any signed field changed */
    e.a[0].aPublic[0] ^= 1;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    e.a[0].aPublic[0] ^= 1;
    e.a[0].iId ^= 1;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    e.a[0].iId ^= 1;
    e.a[1].tNotAfter++;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    e.a[1].tNotAfter--;
    e.a[0].eState = PA_HPKE_KEY_RETIRING;
    e.a[1].eState = PA_HPKE_KEY_CURRENT;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    e.a[0].eState = PA_HPKE_KEY_CURRENT;
    e.a[1].eState = PA_HPKE_KEY_RETIRING;
    e.tIssued++;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_EVERIFY);
    e.tIssued--;
    /* another task, another role, a stale or a future document */
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask2, PA_ROLE_HELPER, NOW, "doc"), PA_EAUTH);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_LEADER, NOW, "doc"), PA_EAUTH);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER,
                                           NOW + PA_HPKE_CONFIG_MAX_AGE_S + 1, "doc"), PA_EAUTH);
    assert_non_null(strstr(pa_error_detail(), "stale"));
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW - 3600, "doc"), PA_EAUTH);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_HELPER, NOW, "doc"), PA_OK);
    /* a key file without a signing key publishes nothing */
    k.bSign = 0;
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_EINVAL);
    pa_keys_wipe(&k);
    pa_keys_wipe(&other);
}

static void test_parser_refuses(void **state)
{
    pa_keys k;
    pa_hpke_config_doc d, e;
    uint8_t aTask[32] = {0};
    (void)state;
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_OK);
    static const char *const azBad[][2] = {
        {"format", "\"privagg-hpke-config-v0\""}, {"role", "\"collector\""}, {"issued_at", "-1"},
        {"signature", "\"00\""}, {"task_id", "\"zz\""}, {"extra", "1"}, {"configs", "[]"},
    };
    for (size_t i = 0; i < sizeof azBad / sizeof azBad[0]; i++) {
        json_t *j = pa_hpke_config_to_json(&d);
        json_object_set_new(j, azBad[i][0], json_loads(azBad[i][1], JSON_DECODE_ANY, NULL));
        assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
        json_decref(j);
    }
    /* no current entry, two current entries, another AEAD, an id twice */
    json_t *j = pa_hpke_config_to_json(&d);
    json_object_set_new(json_array_get(json_object_get(j, "configs"), 0), "state", json_string("retiring"));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    json_object_set_new(json_array_get(json_object_get(j, "configs"), 0), "state", json_string("current"));
    json_object_set_new(json_array_get(json_object_get(j, "configs"), 0), "aead", json_string("AES-128-GCM"));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    json_object_set_new(json_array_get(json_object_get(j, "configs"), 0), "aead", json_string("ChaCha20Poly1305"));
    json_array_append(json_object_get(j, "configs"), json_array_get(json_object_get(j, "configs"), 0));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    json_decref(j);
    pa_keys_wipe(&k);
}

/* Key states (docs/keys.md, "Key states"): a staged key is published as
 * "new", after the current one; an agency seals to the current key and never
 * to the new one; the state is signed (a leader or a network cannot present
 * the new key as current); the parser refuses what the format does not allow. */
static void test_new_key_is_published_not_sealed_to(void **state)
{
    pa_keys k;
    pa_hpke_config_doc d, e;
    uint8_t aTask[32];
    (void)state;
    memset(aTask, 5, 32);
    assert_int_equal(pa_keys_generate(&k, PA_ROLE_LEADER, NULL, 1), PA_OK);
    assert_int_equal(pa_keys_rotate(&k), PA_OK);                 /* 2 current, 1 retiring */
    assert_int_equal(pa_keys_expire(&k, 1, NOW + 86400), PA_OK);
    assert_int_equal(pa_keys_stage(&k), PA_OK);                  /* 3 new */
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_OK);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.a[0].iId, 2);
    assert_int_equal(d.a[0].eState, PA_HPKE_KEY_CURRENT);
    assert_int_equal(d.a[1].iId, 3);
    assert_int_equal(d.a[1].eState, PA_HPKE_KEY_NEW);
    assert_memory_equal(d.a[1].aPublic, k.sNew.aPublic, 32);
    assert_int_equal(d.a[1].tNotAfter, 0);
    assert_int_equal(d.a[2].iId, 1);
    assert_int_equal(d.a[2].eState, PA_HPKE_KEY_RETIRING);
    roundtrip(&d, &e);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_LEADER, NOW, "doc"), PA_OK);
    /* what an agency seals to: the current key, never the new one */
    assert_int_equal(pa_hpke_config_current(&e)->iId, 2);
    assert_memory_equal(pa_hpke_config_current(&e)->aPublic, k.aPublic, 32);
    /* the state is signed: the new key passed off as current does not verify */
    e.a[0].eState = PA_HPKE_KEY_NEW;
    e.a[1].eState = PA_HPKE_KEY_CURRENT;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_LEADER, NOW, "doc"), PA_EVERIFY);
    e.a[0].eState = PA_HPKE_KEY_CURRENT;
    e.a[1].eState = PA_HPKE_KEY_RETIRING;
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_LEADER, NOW, "doc"), PA_EVERIFY);
    /* a document listing the new key first, signed as the aggregator would:
     * the agency still takes the current one, whatever the order */
    pa_hpke_config_entry tmp = d.a[0];
    d.a[0] = d.a[1];
    d.a[1] = tmp;
    uint8_t *pMsg;
    size_t nMsg;
    assert_int_equal(pa_hpke_config_signed_bytes(&pMsg, &nMsg, &d), PA_OK);
    crypto_sign_detached(d.aSignature, NULL, pMsg, nMsg, k.aSignSecret);
    free(pMsg);
    roundtrip(&d, &e);
    assert_int_equal(pa_hpke_config_verify(&e, k.aSignPublic, aTask, PA_ROLE_LEADER, NOW, "doc"), PA_OK);
    assert_int_equal(e.a[0].eState, PA_HPKE_KEY_NEW);
    assert_int_equal(pa_hpke_config_current(&e)->iId, 2);
    /* promoted: the document names it current, the old one retiring */
    assert_int_equal(pa_keys_promote(&k, 3, NOW + 3600), PA_OK);
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_OK);
    assert_int_equal(pa_hpke_config_current(&d)->iId, 3);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.a[1].iId, 2);
    assert_int_equal(d.a[1].eState, PA_HPKE_KEY_RETIRING);
    assert_int_equal(d.a[1].tNotAfter, NOW + 3600);

    /* the parser: a state it does not know, two new keys, an expiry on a new or
     * the current key, the v1 field "current", the v1 format by name */
    assert_int_equal(pa_keys_stage(&k), PA_OK);
    assert_int_equal(pa_hpke_config_make(&d, &k, aTask, NOW), PA_OK);
    json_t *j = pa_hpke_config_to_json(&d), *c = json_object_get(j, "configs");
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_OK);
    size_t iNew = 1;
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, iNew), "state")), "new");
    json_object_set_new(json_array_get(c, iNew), "state", json_string("next"));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "state: expected"));
    json_object_set_new(json_array_get(c, iNew), "state", json_string("new"));
    json_object_set_new(json_array_get(c, 2), "state", json_string("new"));
    json_object_del(json_array_get(c, 2), "not_after");
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "2 in state new"));
    json_object_set_new(json_array_get(c, 2), "state", json_string("retiring"));
    json_object_set_new(json_array_get(c, iNew), "not_after", json_integer(NOW + 10));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "only a retiring key expires"));
    json_object_del(json_array_get(c, iNew), "not_after");
    json_object_set_new(json_array_get(c, 0), "not_after", json_integer(NOW + 10));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    json_object_del(json_array_get(c, 0), "not_after");
    json_object_set_new(json_array_get(c, 0), "current", json_true());
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    json_object_del(json_array_get(c, 0), "current");
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_OK);
    json_object_set_new(j, "format", json_string("privagg-hpke-config-v1"));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "an older aggregator's"));
    json_object_set_new(j, "format", json_string("privagg-hpke-config-v3"));
    assert_int_equal(pa_hpke_config_from_json(&e, j, "doc"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "upgrade privagg"));
    json_decref(j);
    pa_keys_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_verify_and_tamper),
        cmocka_unit_test(test_parser_refuses),
        cmocka_unit_test(test_new_key_is_published_not_sealed_to),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
