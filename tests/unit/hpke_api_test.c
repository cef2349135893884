/*
 * HPKE (RFC 9180) API behaviour beyond the vectors: round trips with random keys
 * in all four modes; open rejects a modified ciphertext, aad, enc, a wrong
 * recipient key, wrong psk / psk_id, wrong sender key and a wrong sequence
 * number; the mode / psk / sender-key argument rules of §5.1; small-order enc;
 * state and range errors; the single-shot base-mode API (§6.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "hpke/hpke_internal.h"
#include "privagg/hpke.h"

static const uint8_t g_psk[32] = "0123456789abcdef0123456789abcde";
static const uint8_t g_psk_id[] = "psk id";
static const uint8_t g_info[] = "privagg test info";
static const uint8_t g_aad[] = "aad";
static const uint8_t g_msg[] = "report share: 17 incidents";

struct keys {
    uint8_t skR[32], pkR[32], skS[32], pkS[32];
};

static pa_hpke_params params_for(int mode)
{
    int psk = mode == PA_HPKE_MODE_PSK || mode == PA_HPKE_MODE_AUTH_PSK;
    pa_hpke_params p = {mode,
                        g_info,
                        sizeof g_info,
                        psk ? g_psk : NULL,
                        psk ? sizeof g_psk : 0,
                        psk ? g_psk_id : NULL,
                        psk ? sizeof g_psk_id : 0};
    return p;
}

static int is_auth(int mode)
{
    return mode == PA_HPKE_MODE_AUTH || mode == PA_HPKE_MODE_AUTH_PSK;
}

static void keys_new(struct keys *k)
{
    assert_int_equal(pa_hpke_keygen(k->skR, k->pkR), 0);
    assert_int_equal(pa_hpke_keygen(k->skS, k->pkS), 0);
}

/* Sender set up, one message sealed at seq 0 into ct. */
static void seal_one(const struct keys *k, int mode, pa_hpke_ctx *s, uint8_t enc[32],
                     uint8_t ct[sizeof g_msg + PA_HPKE_NT])
{
    pa_hpke_params p = params_for(mode);
    assert_int_equal(pa_hpke_setup_sender(s, enc, k->pkR, is_auth(mode) ? k->skS : NULL, &p), 0);
    assert_int_equal(pa_hpke_seal(s, ct, g_aad, sizeof g_aad, g_msg, sizeof g_msg), 0);
}

static void test_round_trip_all_modes(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        struct keys k;
        pa_hpke_ctx s, r;
        uint8_t enc[32], ct[sizeof g_msg + PA_HPKE_NT], pt[sizeof g_msg];
        uint8_t ex_s[64], ex_r[64];
        pa_hpke_params p = params_for(mode);

        keys_new(&k);
        seal_one(&k, mode, &s, enc, ct);
        assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, is_auth(mode) ? k.pkS : NULL, &p),
                         0);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), 0);
        assert_memory_equal(pt, g_msg, sizeof g_msg);
        /* several messages in order, in place */
        for (int i = 0; i < 5; i++) {
            uint8_t buf[sizeof g_msg + PA_HPKE_NT];
            memcpy(buf, g_msg, sizeof g_msg);
            assert_int_equal(pa_hpke_seal(&s, buf, NULL, 0, buf, sizeof g_msg), 0);
            assert_int_equal(pa_hpke_open(&r, buf, NULL, 0, buf, sizeof buf), 0);
            assert_memory_equal(buf, g_msg, sizeof g_msg);
        }
        assert_int_equal(pa_hpke_export(&s, ex_s, sizeof ex_s, (const uint8_t *)"ctx", 3), 0);
        assert_int_equal(pa_hpke_export(&r, ex_r, sizeof ex_r, (const uint8_t *)"ctx", 3), 0);
        assert_memory_equal(ex_s, ex_r, sizeof ex_s);
        /* empty plaintext */
        uint8_t tag[PA_HPKE_NT];
        assert_int_equal(pa_hpke_seal(&s, tag, NULL, 0, NULL, 0), 0);
        assert_int_equal(pa_hpke_open(&r, pt, NULL, 0, tag, sizeof tag), 0);
        pa_hpke_ctx_wipe(&s);
        pa_hpke_ctx_wipe(&r);
    }
}

/* Every tampering makes open (or setup) fail; the context does not advance. */
static void test_open_rejects(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        struct keys k, other;
        pa_hpke_ctx s, r;
        uint8_t enc[32], ct[sizeof g_msg + PA_HPKE_NT], pt[sizeof g_msg], bad[sizeof ct];
        pa_hpke_params p = params_for(mode);
        const uint8_t *pkS = is_auth(mode) ? k.pkS : NULL;

        keys_new(&k);
        keys_new(&other);
        seal_one(&k, mode, &s, enc, ct);
        assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, pkS, &p), 0);

        /* modified ciphertext: every byte position, including the tag */
        for (size_t i = 0; i < sizeof ct; i++) {
            memcpy(bad, ct, sizeof ct);
            bad[i] ^= 0x01;
            assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, bad, sizeof bad),
                             PA_EVERIFY);
        }
        /* truncated ciphertext */
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct - 1), PA_EVERIFY);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, PA_HPKE_NT - 1),
                         PA_EDECODE);
        /* modified aad */
        assert_int_equal(pa_hpke_open(&r, pt, (const uint8_t *)"aae", 4, ct, sizeof ct),
                         PA_EVERIFY);
        assert_int_equal(pa_hpke_open(&r, pt, NULL, 0, ct, sizeof ct), PA_EVERIFY);
        /* wrong sequence number */
        pa_hpke_ctx_set_seq(&r, 1);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_EVERIFY);
        assert_int_equal(r.seq, 1);
        pa_hpke_ctx_set_seq(&r, 0);
        /* the right one still opens afterwards, then a replay at the next seq fails */
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), 0);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_EVERIFY);
        pa_hpke_ctx_wipe(&r);

        /* modified enc */
        uint8_t enc2[32];
        memcpy(enc2, enc, 32);
        enc2[5] ^= 0x40;
        if (pa_hpke_setup_receiver(&r, enc2, k.skR, pkS, &p) == 0)
            assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct),
                             PA_EVERIFY);
        pa_hpke_ctx_wipe(&r);
        /* wrong recipient key */
        assert_int_equal(pa_hpke_setup_receiver(&r, enc, other.skR, pkS, &p), 0);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_EVERIFY);
        pa_hpke_ctx_wipe(&r);
        /* wrong sender key (auth modes) */
        if (is_auth(mode)) {
            assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, other.pkS, &p), 0);
            assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct),
                             PA_EVERIFY);
            pa_hpke_ctx_wipe(&r);
        }
        /* wrong psk, wrong psk_id, wrong info */
        if (p.psk != NULL) {
            uint8_t psk2[32];
            pa_hpke_params q = p;
            memcpy(psk2, g_psk, 32);
            psk2[31] ^= 1;
            q.psk = psk2;
            assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, pkS, &q), 0);
            assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct),
                             PA_EVERIFY);
            pa_hpke_ctx_wipe(&r);
            q = p;
            q.psk_id = (const uint8_t *)"other id";
            q.psk_id_len = 8;
            assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, pkS, &q), 0);
            assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct),
                             PA_EVERIFY);
            pa_hpke_ctx_wipe(&r);
        }
        pa_hpke_params q = p;
        q.info_len--;
        assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, pkS, &q), 0);
        assert_int_equal(pa_hpke_open(&r, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_EVERIFY);
        pa_hpke_ctx_wipe(&r);
        pa_hpke_ctx_wipe(&s);
    }
}

/* Receiver set-up with the public key given: the same context in every mode; a
 * public key that is not the receiver's makes the open fail. */
static void test_receiver_with_public_key(void **state)
{
    (void)state;
    for (int mode = PA_HPKE_MODE_BASE; mode <= PA_HPKE_MODE_AUTH_PSK; mode++) {
        struct keys k, other;
        pa_hpke_ctx s, r1, r2;
        uint8_t enc[32], ct[sizeof g_msg + PA_HPKE_NT], pt[sizeof g_msg];
        pa_hpke_params p = params_for(mode);
        const uint8_t *pkS = is_auth(mode) ? k.pkS : NULL;

        keys_new(&k);
        keys_new(&other);
        seal_one(&k, mode, &s, enc, ct);
        assert_int_equal(pa_hpke_setup_receiver(&r1, enc, k.skR, pkS, &p), 0);
        assert_int_equal(pa_hpke_setup_receiver_keypair(&r2, enc, k.skR, k.pkR, pkS, &p), 0);
        assert_memory_equal(&r1, &r2, sizeof r1);
        assert_int_equal(pa_hpke_open(&r2, pt, g_aad, sizeof g_aad, ct, sizeof ct), 0);
        assert_memory_equal(pt, g_msg, sizeof g_msg);
        assert_int_equal(pa_hpke_setup_receiver_keypair(&r2, enc, k.skR, other.pkR, pkS, &p), 0);
        assert_int_equal(pa_hpke_open(&r2, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_EVERIFY);
        pa_hpke_ctx_wipe(&s);
        pa_hpke_ctx_wipe(&r1);
        pa_hpke_ctx_wipe(&r2);
    }
}

/* §5.1 VerifyPSKInputs and the auth-key rules. */
static void test_argument_rules(void **state)
{
    struct keys k;
    pa_hpke_ctx c;
    uint8_t enc[32];
    pa_hpke_params p;
    (void)state;

    keys_new(&k);
    /* mode out of range */
    p = params_for(PA_HPKE_MODE_BASE);
    p.mode = 4;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    p.mode = -1;
    assert_int_equal(pa_hpke_setup_receiver(&c, k.pkS, k.skR, NULL, &p), PA_EINVAL);
    assert_int_equal(c.role, 0);
    /* psk given in base / auth */
    p = params_for(PA_HPKE_MODE_PSK);
    p.mode = PA_HPKE_MODE_BASE;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    p.mode = PA_HPKE_MODE_AUTH;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, k.skS, &p), PA_EINVAL);
    /* psk missing in psk / auth_psk */
    p = params_for(PA_HPKE_MODE_BASE);
    p.mode = PA_HPKE_MODE_PSK;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    p.mode = PA_HPKE_MODE_AUTH_PSK;
    assert_int_equal(pa_hpke_setup_receiver(&c, k.pkS, k.skR, k.pkS, &p), PA_EINVAL);
    /* psk without psk_id and the reverse */
    p = params_for(PA_HPKE_MODE_PSK);
    p.psk_id = NULL;
    p.psk_id_len = 0;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    p = params_for(PA_HPKE_MODE_PSK);
    p.psk = NULL;
    p.psk_len = 0;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    /* psk too short */
    p = params_for(PA_HPKE_MODE_PSK);
    p.psk_len = 31;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    /* NULL with a length */
    p = params_for(PA_HPKE_MODE_BASE);
    p.info = NULL;
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, NULL), PA_EINVAL);
    /* sender key: required in auth modes, refused in the others */
    p = params_for(PA_HPKE_MODE_AUTH);
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, NULL, &p), PA_EINVAL);
    assert_int_equal(pa_hpke_setup_receiver(&c, k.pkS, k.skR, NULL, &p), PA_EINVAL);
    p = params_for(PA_HPKE_MODE_BASE);
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, k.skS, &p), PA_EINVAL);
    assert_int_equal(pa_hpke_setup_receiver(&c, k.pkS, k.skR, k.pkS, &p), PA_EINVAL);
    /* ikm too short for DeriveKeyPair */
    uint8_t sk[32], pk[32];
    assert_int_equal(pa_hpke_derive_keypair(sk, pk, g_psk, 31), PA_EINVAL);
    assert_int_equal(pa_hpke_setup_sender_derand(&c, enc, k.pkR, NULL, &p, g_psk, 16), PA_EINVAL);
}

/* Small-order public keys give an all-zero X25519 output: rejected (§7.1.4). */
static void test_small_order(void **state)
{
    struct keys k;
    pa_hpke_ctx c;
    uint8_t zero[32] = {0}, one[32] = {1}, enc[32];
    pa_hpke_params p = params_for(PA_HPKE_MODE_BASE);
    (void)state;

    keys_new(&k);
    assert_int_equal(pa_hpke_setup_receiver(&c, zero, k.skR, NULL, &p), PA_EDECODE);
    assert_int_equal(pa_hpke_setup_receiver(&c, one, k.skR, NULL, &p), PA_EDECODE);
    assert_int_equal(pa_hpke_setup_sender(&c, enc, zero, NULL, &p), PA_EDECODE);
    p = params_for(PA_HPKE_MODE_AUTH);
    assert_int_equal(pa_hpke_setup_sender(&c, enc, k.pkR, k.skS, &p), 0);
    assert_int_equal(pa_hpke_setup_receiver(&c, enc, k.skR, zero, &p), PA_EDECODE);
    assert_int_equal(c.role, 0);
}

/* Roles, export range, sequence exhaustion. */
static void test_state_and_range(void **state)
{
    struct keys k;
    pa_hpke_ctx s, r, none;
    uint8_t enc[32], ct[sizeof g_msg + PA_HPKE_NT], pt[sizeof g_msg], out[PA_HPKE_EXPORT_MAX + 1];
    pa_hpke_params p = params_for(PA_HPKE_MODE_BASE);
    (void)state;

    keys_new(&k);
    memset(&none, 0, sizeof none);
    seal_one(&k, PA_HPKE_MODE_BASE, &s, enc, ct);
    assert_int_equal(pa_hpke_setup_receiver(&r, enc, k.skR, NULL, &p), 0);
    assert_int_equal(pa_hpke_open(&s, pt, g_aad, sizeof g_aad, ct, sizeof ct), PA_ESTATE);
    assert_int_equal(pa_hpke_seal(&r, ct, NULL, 0, g_msg, sizeof g_msg), PA_ESTATE);
    assert_int_equal(pa_hpke_seal(&none, ct, NULL, 0, g_msg, sizeof g_msg), PA_ESTATE);
    assert_int_equal(pa_hpke_export(&none, out, 32, NULL, 0), PA_ESTATE);
    assert_int_equal(pa_hpke_export(&s, out, PA_HPKE_EXPORT_MAX, NULL, 0), 0);
    assert_int_equal(pa_hpke_export(&s, out, PA_HPKE_EXPORT_MAX + 1, NULL, 0), PA_ERANGE);
    assert_int_equal(pa_hpke_export(&s, out, 0, NULL, 0), 0);
    pa_hpke_ctx_set_seq(&s, UINT64_MAX - 1);
    assert_int_equal(pa_hpke_seal(&s, ct, NULL, 0, g_msg, sizeof g_msg), 0);
    assert_int_equal(pa_hpke_seal(&s, ct, NULL, 0, g_msg, sizeof g_msg), PA_ERANGE);
    /* the nonce at seq UINT64_MAX - 1 XORs the last 8 bytes of base_nonce */
    uint8_t n[PA_HPKE_NN];
    pa_hpke_ctx_set_seq(&s, 0x0102030405060708ull);
    pa_hpke_compute_nonce(n, &s);
    assert_memory_equal(n, s.base_nonce, 4);
    assert_int_equal(n[4] ^ s.base_nonce[4], 0x01);
    assert_int_equal(n[11] ^ s.base_nonce[11], 0x08);
    pa_hpke_ctx_wipe(&s);
    pa_hpke_ctx_wipe(&r);
    assert_int_equal(s.role, 0);
    assert_true(sodium_is_zero(s.key, sizeof s.key));
}

/* DeriveKeyPair is deterministic and keygen's keys are consistent. */
static void test_keys(void **state)
{
    uint8_t ikm[32] = {7}, sk1[32], pk1[32], sk2[32], pk2[32], pk3[32];
    (void)state;

    assert_int_equal(pa_hpke_derive_keypair(sk1, pk1, ikm, sizeof ikm), 0);
    assert_int_equal(pa_hpke_derive_keypair(sk2, pk2, ikm, sizeof ikm), 0);
    assert_memory_equal(sk1, sk2, 32);
    assert_memory_equal(pk1, pk2, 32);
    assert_int_equal(pa_hpke_public_key(pk3, sk1), 0);
    assert_memory_equal(pk1, pk3, 32);
    assert_int_equal(pa_hpke_keygen(sk2, pk2), 0);
    assert_memory_not_equal(sk1, sk2, 32);
    assert_int_equal(pa_hpke_public_key(pk3, sk2), 0);
    assert_memory_equal(pk2, pk3, 32);
    assert_int_equal(pa_hpke_enc_size(), 32);
    assert_int_equal(pa_hpke_tag_size(), 16);
}

/* Single-shot base mode round trip and rejection. */
static void test_single_shot(void **state)
{
    struct keys k;
    uint8_t enc[32], ct[sizeof g_msg + PA_HPKE_NT], pt[sizeof g_msg];
    (void)state;

    keys_new(&k);
    assert_int_equal(pa_hpke_seal_base(enc, ct, k.pkR, g_info, sizeof g_info, g_aad, sizeof g_aad,
                                       g_msg, sizeof g_msg),
                     0);
    assert_int_equal(pa_hpke_open_base(pt, enc, k.skR, g_info, sizeof g_info, g_aad, sizeof g_aad,
                                       ct, sizeof ct),
                     0);
    assert_memory_equal(pt, g_msg, sizeof g_msg);
    assert_int_equal(pa_hpke_open_base(pt, enc, k.skS, g_info, sizeof g_info, g_aad, sizeof g_aad,
                                       ct, sizeof ct),
                     PA_EVERIFY);
    assert_int_equal(pa_hpke_open_base(pt, enc, k.skR, NULL, 0, g_aad, sizeof g_aad, ct, sizeof ct),
                     PA_EVERIFY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_all_modes),
        cmocka_unit_test(test_open_rejects),
        cmocka_unit_test(test_receiver_with_public_key),
        cmocka_unit_test(test_argument_rules),
        cmocka_unit_test(test_small_order),
        cmocka_unit_test(test_state_and_range),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_single_shot),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
