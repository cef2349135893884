/*
 * XofTurboShake128 against the official vector file of draft-irtf-cfrg-vdaf-20
 * (tests/vectors/vdaf/XofTurboShake128.json: seed, dst, binder, length,
 * derived_seed, expanded_vec_field128), through the one-shots and through the
 * streaming API (binder and output in odd pieces), plus next_vec_f64 against a
 * straightforward re-implementation of the draft's rejection sampling (§6.2).
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

#include "xof/xof.h"

struct vec {
    uint8_t seed[255], dst[1024], binder[1024], derived_seed[PA_XOF_SEED_SIZE];
    size_t seed_len, dst_len, binder_len, length;
    uint8_t *expanded; /* length * PA_F128_ENCODED_SIZE bytes */
};

static struct vec g_v;

static size_t hex_field(json_t *root, const char *name, uint8_t *out, size_t cap)
{
    json_t *j = json_object_get(root, name);
    const char *hex;
    size_t n;

    if (!json_is_string(j))
        fail_msg("%s: missing or not a string", name);
    hex = json_string_value(j);
    n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        fail_msg("%s: bad hex length %zu (cap %zu bytes)", name, n, cap);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            fail_msg("%s: bad hex at %zu", name, 2 * i);
        out[i] = (uint8_t)b;
    }
    return n / 2;
}

static int setup(void **state)
{
    json_error_t err;
    json_t *root = json_load_file(PA_VECTORS_DIR "/vdaf/XofTurboShake128.json", 0, &err);
    (void)state;

    if (root == NULL) {
        fprintf(stderr, "XofTurboShake128.json: %s (line %d)\n", err.text, err.line);
        return -1;
    }
    g_v.seed_len = hex_field(root, "seed", g_v.seed, sizeof g_v.seed);
    g_v.dst_len = hex_field(root, "dst", g_v.dst, sizeof g_v.dst);
    g_v.binder_len = hex_field(root, "binder", g_v.binder, sizeof g_v.binder);
    assert_int_equal(hex_field(root, "derived_seed", g_v.derived_seed, sizeof g_v.derived_seed),
                     PA_XOF_SEED_SIZE);
    assert_true(json_is_integer(json_object_get(root, "length")));
    g_v.length = (size_t)json_integer_value(json_object_get(root, "length"));
    assert_true(g_v.length > 0 && g_v.length < 10000);
    g_v.expanded = malloc(g_v.length * PA_F128_ENCODED_SIZE);
    assert_non_null(g_v.expanded);
    assert_int_equal(hex_field(root, "expanded_vec_field128", g_v.expanded,
                               g_v.length * PA_F128_ENCODED_SIZE),
                     g_v.length * PA_F128_ENCODED_SIZE);
    assert_int_equal(g_v.seed_len, PA_XOF_SEED_SIZE);
    json_decref(root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_v.expanded);
    return 0;
}

static void test_derive_seed(void **state)
{
    uint8_t out[PA_XOF_SEED_SIZE];
    (void)state;

    pa_xof_derive_seed(out, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len, g_v.binder,
                       g_v.binder_len);
    assert_memory_equal(out, g_v.derived_seed, sizeof out);
}

static void test_expand_into_vec_f128(void **state)
{
    pa_f128 *vec = calloc(g_v.length, sizeof *vec);
    uint8_t *enc = malloc(g_v.length * PA_F128_ENCODED_SIZE);
    (void)state;

    assert_non_null(vec);
    assert_non_null(enc);
    pa_xof_expand_into_vec_f128(vec, g_v.length, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len,
                                g_v.binder, g_v.binder_len);
    pa_f128_encode_vec(enc, vec, g_v.length);
    assert_memory_equal(enc, g_v.expanded, g_v.length * PA_F128_ENCODED_SIZE);
    free(vec);
    free(enc);
}

/* Binder in pieces, then next_vec in pieces of 1, 2, 3, ... elements. */
static void test_streaming_next_vec(void **state)
{
    pa_f128 *vec = calloc(g_v.length, sizeof *vec);
    uint8_t *enc = malloc(g_v.length * PA_F128_ENCODED_SIZE);
    pa_xof x;
    size_t off = 0, step = 1;
    (void)state;

    assert_non_null(vec);
    assert_non_null(enc);
    pa_xof_init(&x, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len);
    for (size_t i = 0; i < g_v.binder_len; i += 3)
        pa_xof_update(&x, g_v.binder + i, g_v.binder_len - i < 3 ? g_v.binder_len - i : 3);
    pa_xof_update(&x, NULL, 0);
    while (off < g_v.length) {
        size_t n = g_v.length - off < step ? g_v.length - off : step;
        pa_xof_next_vec_f128(&x, vec + off, n);
        off += n;
        step++;
    }
    pa_xof_wipe(&x);
    pa_f128_encode_vec(enc, vec, g_v.length);
    assert_memory_equal(enc, g_v.expanded, g_v.length * PA_F128_ENCODED_SIZE);
    free(vec);
    free(enc);
}

/*
 * next() in odd pieces: the stream starts with derived_seed (derive_seed is next(32))
 * and, as no candidate of this vector is rejected (each is < p, checked below), the
 * raw stream equals the encoded expanded vector.
 */
static void test_streaming_next(void **state)
{
    size_t total = g_v.length * PA_F128_ENCODED_SIZE, off = 0, step = 5;
    uint8_t *out = malloc(total);
    pa_xof x;
    (void)state;

    assert_non_null(out);
    pa_xof_init(&x, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len);
    pa_xof_update(&x, g_v.binder, 4);
    pa_xof_update(&x, g_v.binder + 4, g_v.binder_len - 4);
    while (off < total) {
        size_t n = total - off < step ? total - off : step;
        pa_xof_next(&x, out + off, n);
        off += n;
        step = step * 3 % 97 + 1;
    }
    pa_xof_wipe(&x);
    assert_memory_equal(out, g_v.derived_seed, PA_XOF_SEED_SIZE);
    assert_memory_equal(out, g_v.expanded, total);
    free(out);
}

/* next_vec_f64 equals the draft's loop written out on next(8). */
static void test_next_vec_f64(void **state)
{
    enum { N = 300 };
    pa_f64 got[N], want[N];
    uint8_t enc_got[N * PA_F64_ENCODED_SIZE], enc_want[N * PA_F64_ENCODED_SIZE];
    pa_xof a, b;
    size_t have = 0;
    (void)state;

    pa_xof_init(&a, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len);
    pa_xof_update(&a, g_v.binder, g_v.binder_len);
    pa_xof_next_vec_f64(&a, got, 7);
    pa_xof_next_vec_f64(&a, got + 7, N - 7);
    pa_xof_init(&b, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len);
    pa_xof_update(&b, g_v.binder, g_v.binder_len);
    while (have < N) {
        uint8_t cand[PA_F64_ENCODED_SIZE];
        pa_xof_next(&b, cand, sizeof cand);
        if (pa_f64_decode(&want[have], cand) == 0)
            have++;
    }
    pa_f64_encode_vec(enc_got, got, N);
    pa_f64_encode_vec(enc_want, want, N);
    assert_memory_equal(enc_got, enc_want, sizeof enc_got);
    /* both streams are at the same position afterwards */
    uint8_t ta[16], tb[16];
    pa_xof_next(&a, ta, sizeof ta);
    pa_xof_next(&b, tb, sizeof tb);
    assert_memory_equal(ta, tb, sizeof ta);
    pa_xof_wipe(&a);
    pa_xof_wipe(&b);

    pa_f64 one[N];
    uint8_t enc_one[N * PA_F64_ENCODED_SIZE];
    pa_xof_expand_into_vec_f64(one, N, g_v.seed, g_v.seed_len, g_v.dst, g_v.dst_len, g_v.binder,
                               g_v.binder_len);
    pa_f64_encode_vec(enc_one, one, N);
    assert_memory_equal(enc_one, enc_want, sizeof enc_one);
}

/* Rejection: a candidate equal to p (or above) is skipped.  Checked via decode on crafted bytes. */
static void test_rejection_rule(void **state)
{
    static const uint8_t p64[8] = {0x01, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t pm1_64[8] = {0x00, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t p128[16] = {0x01, 0, 0, 0, 0, 0, 0, 0,
                                     0xE4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    pa_f64 a;
    pa_f128 b;
    (void)state;

    assert_int_not_equal(pa_f64_decode(&a, p64), 0);
    assert_int_equal(pa_f64_decode(&a, pm1_64), 0);
    assert_int_not_equal(pa_f128_decode(&b, p128), 0);
}

/* Different dst, seed length or binder split point change the output (framing is length-prefixed). */
static void test_framing(void **state)
{
    uint8_t o1[32], o2[32];
    pa_xof x;
    (void)state;

    /* dst = "ab", seed = "c" vs dst = "a", seed = "bc": must differ */
    pa_xof_init(&x, (const uint8_t *)"c", 1, (const uint8_t *)"ab", 2);
    pa_xof_next(&x, o1, sizeof o1);
    pa_xof_init(&x, (const uint8_t *)"bc", 2, (const uint8_t *)"a", 1);
    pa_xof_next(&x, o2, sizeof o2);
    assert_memory_not_equal(o1, o2, sizeof o1);
    /* the same message framed by hand through TurboSHAKE128 with D = 1 */
    static const uint8_t m[] = {2, 0, 'a', 'b', 1, 'c', 'x', 'y'};
    pa_xof_init(&x, (const uint8_t *)"c", 1, (const uint8_t *)"ab", 2);
    pa_xof_update(&x, (const uint8_t *)"xy", 2);
    pa_xof_next(&x, o1, sizeof o1);
    pa_turboshake128_oneshot(o2, sizeof o2, m, sizeof m, 0x01);
    assert_memory_equal(o1, o2, sizeof o1);
    pa_xof_wipe(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_seed),
        cmocka_unit_test(test_expand_into_vec_f128),
        cmocka_unit_test(test_streaming_next_vec),
        cmocka_unit_test(test_streaming_next),
        cmocka_unit_test(test_next_vec_f64),
        cmocka_unit_test(test_rejection_rule),
        cmocka_unit_test(test_framing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
