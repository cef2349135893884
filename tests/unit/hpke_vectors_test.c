/*
 * RFC 9180 vectors (tests/vectors/hpke/x25519-hkdfsha256-chacha20poly1305.json,
 * Appendix A.2, all four modes) through the hpke library API: DeriveKeyPair,
 * setup sender (derandomised) and receiver, seal/open at the listed sequence
 * numbers, export.  The conformance runner (privagg conformance hpke) also checks
 * the intermediate values; this test keeps the library honest on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hpke/hpke_internal.h"
#include "privagg/hpke.h"

static json_t *g_root;

/* Hex field as a fresh buffer (freed by the caller); *n its length. */
static uint8_t *hex(json_t *o, const char *name, size_t *n)
{
    json_t *v = json_object_get(o, name);
    const char *z;
    size_t len;
    uint8_t *p;

    if (!json_is_string(v))
        fail_msg("%s: missing", name);
    z = json_string_value(v);
    len = strlen(z);
    assert_int_equal(len % 2, 0);
    p = malloc(len / 2 + 1);
    assert_non_null(p);
    for (size_t i = 0; i < len / 2; i++) {
        unsigned b;
        assert_int_equal(sscanf(z + 2 * i, "%2x", &b), 1);
        p[i] = (uint8_t)b;
    }
    *n = len / 2;
    return p;
}

static void hex_fixed(json_t *o, const char *name, uint8_t *out, size_t n)
{
    size_t got;
    uint8_t *p = hex(o, name, &got);
    assert_int_equal(got, n);
    memcpy(out, p, n);
    free(p);
}

static int setup(void **state)
{
    json_error_t err;
    (void)state;
    g_root = json_load_file(PA_VECTORS_DIR "/hpke/x25519-hkdfsha256-chacha20poly1305.json", 0,
                            &err);
    if (g_root == NULL) {
        fprintf(stderr, "hpke vectors: %s\n", err.text);
        return -1;
    }
    return json_is_array(g_root) && json_array_size(g_root) == 4 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_root);
    return 0;
}

static void test_vectors(void **state)
{
    size_t i;
    json_t *e;
    int seen_modes = 0;
    (void)state;

    json_array_foreach(g_root, i, e) {
        int mode = (int)json_integer_value(json_object_get(e, "mode"));
        int auth = mode == PA_HPKE_MODE_AUTH || mode == PA_HPKE_MODE_AUTH_PSK;
        int psk = mode == PA_HPKE_MODE_PSK || mode == PA_HPKE_MODE_AUTH_PSK;
        uint8_t skR[32], pkR[32], skS[32], pkS[32], want[32], enc[32], enc_want[32];
        size_t n_info, n_ikmE, n_ikmR, n_ikmS = 0, n_psk = 0, n_psk_id = 0;
        uint8_t *info = hex(e, "info", &n_info), *ikmE = hex(e, "ikmE", &n_ikmE);
        uint8_t *ikmR = hex(e, "ikmR", &n_ikmR), *ikmS = NULL, *p = NULL, *pid = NULL;
        pa_hpke_ctx s, r;

        seen_modes |= 1 << mode;
        assert_int_equal(json_integer_value(json_object_get(e, "kem_id")), PA_HPKE_KEM_ID);
        assert_int_equal(json_integer_value(json_object_get(e, "kdf_id")), PA_HPKE_KDF_ID);
        assert_int_equal(json_integer_value(json_object_get(e, "aead_id")), PA_HPKE_AEAD_ID);
        assert_int_equal(pa_hpke_derive_keypair(skR, pkR, ikmR, n_ikmR), 0);
        hex_fixed(e, "skRm", want, 32);
        assert_memory_equal(skR, want, 32);
        hex_fixed(e, "pkRm", want, 32);
        assert_memory_equal(pkR, want, 32);
        if (auth) {
            ikmS = hex(e, "ikmS", &n_ikmS);
            assert_int_equal(pa_hpke_derive_keypair(skS, pkS, ikmS, n_ikmS), 0);
            hex_fixed(e, "pkSm", want, 32);
            assert_memory_equal(pkS, want, 32);
        }
        if (psk) {
            p = hex(e, "psk", &n_psk);
            pid = hex(e, "psk_id", &n_psk_id);
        }
        pa_hpke_params prm = {mode, info, n_info, p, n_psk, pid, n_psk_id};
        assert_int_equal(
            pa_hpke_setup_sender_derand(&s, enc, pkR, auth ? skS : NULL, &prm, ikmE, n_ikmE), 0);
        hex_fixed(e, "enc", enc_want, 32);
        assert_memory_equal(enc, enc_want, 32);
        assert_int_equal(pa_hpke_setup_receiver(&r, enc, skR, auth ? pkS : NULL, &prm), 0);

        size_t k;
        json_t *x;
        json_array_foreach(json_object_get(e, "encryptions"), k, x) {
            size_t n_pt, n_aad, n_ct;
            uint8_t *pt = hex(x, "pt", &n_pt), *aad = hex(x, "aad", &n_aad);
            uint8_t *ct = hex(x, "ct", &n_ct);
            uint8_t *got = malloc(n_pt + PA_HPKE_NT), *back = malloc(n_pt + 1);
            uint64_t seq = (uint64_t)json_integer_value(json_object_get(x, "seq"));

            assert_non_null(got);
            assert_non_null(back);
            assert_int_equal(n_ct, n_pt + PA_HPKE_NT);
            pa_hpke_ctx_set_seq(&s, seq);
            pa_hpke_ctx_set_seq(&r, seq);
            assert_int_equal(pa_hpke_seal(&s, got, aad, n_aad, pt, n_pt), 0);
            assert_memory_equal(got, ct, n_ct);
            assert_int_equal(pa_hpke_open(&r, back, aad, n_aad, ct, n_ct), 0);
            assert_memory_equal(back, pt, n_pt);
            assert_int_equal(s.seq, seq + 1);
            assert_int_equal(r.seq, seq + 1);
            free(pt);
            free(aad);
            free(ct);
            free(got);
            free(back);
        }
        json_array_foreach(json_object_get(e, "exports"), k, x) {
            size_t n_ctx, n_val;
            uint8_t *ctx = hex(x, "exporter_context", &n_ctx), *val = hex(x, "exported_value", &n_val);
            uint8_t out[PA_HPKE_EXPORT_MAX];
            size_t L = (size_t)json_integer_value(json_object_get(x, "L"));

            assert_int_equal(L, n_val);
            assert_int_equal(pa_hpke_export(&s, out, L, ctx, n_ctx), 0);
            assert_memory_equal(out, val, L);
            assert_int_equal(pa_hpke_export(&r, out, L, ctx, n_ctx), 0);
            assert_memory_equal(out, val, L);
            free(ctx);
            free(val);
        }
        pa_hpke_ctx_wipe(&s);
        pa_hpke_ctx_wipe(&r);
        free(info);
        free(ikmE);
        free(ikmR);
        free(ikmS);
        free(p);
        free(pid);
    }
    assert_int_equal(seen_modes, 0xF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
