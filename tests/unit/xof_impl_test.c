/*
 * The TurboSHAKE128 permutation backends (portable, BMI2, AVX-512VL; see
 * protocols/xof/keccak_impl.h) against each other: every backend this CPU has
 * must give the portable backend's bytes for random inputs of 0..2000 bytes
 * absorbed in random pieces and squeezed in random pieces, for a 69 KB input
 * (the size of a leader's measurement share), for the bare permutation on
 * random states, and for absorb2.  pa_turboshake128_set_impl must refuse
 * unknown numbers.  The RFC 9861 answers per backend are in
 * xof_turboshake_test.c.
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
#include "xof/turboshake128.h"

#define MAX_MSG 2000
#define SHARE_LEN (69u * 1024u)
#define OUT_LEN 600 /* spans three squeeze blocks */

static const int g_fast[] = {PA_TURBOSHAKE128_IMPL_BMI2, PA_TURBOSHAKE128_IMPL_AVX512VL,
                             PA_TURBOSHAKE128_IMPL_AUTO};
#define N_FAST (sizeof g_fast / sizeof g_fast[0])

/* Deterministic pseudo-random stream for lengths and split points. */
struct rng {
    uint8_t buf[4096];
    size_t pos;
};

static void rng_init(struct rng *r, uint8_t tag)
{
    uint8_t seed[randombytes_SEEDBYTES] = {tag, 0x5A};
    randombytes_buf_deterministic(r->buf, sizeof r->buf, seed);
    r->pos = 0;
}

static size_t rng_below(struct rng *r, size_t bound)
{
    uint32_t v;
    if (r->pos + 4 > sizeof r->buf) {
        uint8_t seed[randombytes_SEEDBYTES];
        memcpy(seed, r->buf, sizeof seed);
        randombytes_buf_deterministic(r->buf, sizeof r->buf, seed);
        r->pos = 0;
    }
    memcpy(&v, r->buf + r->pos, 4);
    r->pos += 4;
    return (size_t)v % bound;
}

/* Absorb msg in pieces of random length, squeeze out in pieces of random length. */
static void hash_pieces(struct rng *r, uint8_t *out, size_t out_len, const uint8_t *msg,
                        size_t len)
{
    pa_turboshake128 st;
    size_t off = 0;

    pa_turboshake128_init(&st, 0x01);
    while (off < len) {
        size_t n = 1 + rng_below(r, len - off < 400 ? len - off : 400);
        pa_turboshake128_absorb(&st, msg + off, n);
        off += n;
    }
    for (off = 0; off < out_len;) {
        size_t n = 1 + rng_below(r, out_len - off);
        pa_turboshake128_squeeze(&st, out + off, n);
        off += n;
    }
    pa_turboshake128_wipe(&st);
}

static int select_impl(int impl)
{
    return pa_turboshake128_set_impl(impl) == 0;
}

static void test_random_lengths(void **state)
{
    static uint8_t msg[MAX_MSG];
    const uint8_t seed[randombytes_SEEDBYTES] = {7};
    uint8_t want[OUT_LEN], got[OUT_LEN];
    (void)state;

    randombytes_buf_deterministic(msg, sizeof msg, seed);
    for (size_t trial = 0; trial < 300; trial++) {
        struct rng r;
        size_t len;

        rng_init(&r, (uint8_t)trial);
        len = trial < 4 ? trial * 168 : rng_below(&r, MAX_MSG + 1); /* 0, 168, 336, 504 too */
        assert_true(select_impl(PA_TURBOSHAKE128_IMPL_PORTABLE));
        pa_turboshake128_oneshot(want, sizeof want, msg, len, 0x01);
        for (size_t i = 0; i < N_FAST; i++) {
            if (!select_impl(g_fast[i]))
                continue;
            rng_init(&r, (uint8_t)(trial + 1)); /* other split points than the length draw */
            hash_pieces(&r, got, sizeof got, msg, len);
            if (memcmp(got, want, sizeof want) != 0)
                fail_msg("impl %d, length %zu: output differs from portable", g_fast[i], len);
        }
    }
    assert_true(select_impl(PA_TURBOSHAKE128_IMPL_AUTO));
}

static void test_share_69k(void **state)
{
    uint8_t *msg = malloc(SHARE_LEN);
    const uint8_t seed[randombytes_SEEDBYTES] = {69};
    uint8_t want[OUT_LEN], got[OUT_LEN];
    (void)state;

    assert_non_null(msg);
    randombytes_buf_deterministic(msg, SHARE_LEN, seed);
    assert_true(select_impl(PA_TURBOSHAKE128_IMPL_PORTABLE));
    pa_turboshake128_oneshot(want, sizeof want, msg, SHARE_LEN, 0x01);
    for (size_t i = 0; i < N_FAST; i++) {
        struct rng r;
        if (!select_impl(g_fast[i]))
            continue;
        pa_turboshake128_oneshot(got, sizeof got, msg, SHARE_LEN, 0x01);
        assert_memory_equal(got, want, sizeof want);
        rng_init(&r, (uint8_t)i);
        hash_pieces(&r, got, sizeof got, msg, SHARE_LEN);
        assert_memory_equal(got, want, sizeof want);
    }
    assert_true(select_impl(PA_TURBOSHAKE128_IMPL_AUTO));
    free(msg);
}

/* The bare permutation (squeeze, partial blocks) on random states, iterated. */
static void test_permutation(void **state)
{
    uint64_t want[25], got[25];
    const uint8_t seed[randombytes_SEEDBYTES] = {25};
    (void)state;

    randombytes_buf_deterministic(want, sizeof want, seed);
    memcpy(got, want, sizeof got);
    for (size_t i = 0; i < N_FAST; i++) {
        if (!select_impl(g_fast[i]))
            continue;
        for (int k = 0; k < 50; k++) {
            assert_true(select_impl(PA_TURBOSHAKE128_IMPL_PORTABLE));
            pa_keccak_p1600_12(want);
            assert_true(select_impl(g_fast[i]));
            pa_keccak_p1600_12(got);
            assert_memory_equal(got, want, sizeof want);
        }
    }
    assert_true(select_impl(PA_TURBOSHAKE128_IMPL_AUTO));
}

/* absorb2 on each backend equals two portable absorbs (aligned and not). */
static void test_absorb2(void **state)
{
    static const size_t pres[][2] = {{0, 0}, {5, 5}, {167, 167}, {3, 100}};
    const size_t len = 168 * 9 + 31;
    static uint8_t in1[200 + 168 * 10], in2[200 + 168 * 10];
    const uint8_t seed[randombytes_SEEDBYTES] = {2};
    (void)state;

    randombytes_buf_deterministic(in1, sizeof in1, seed);
    for (size_t i = 0; i < sizeof in2; i++)
        in2[i] = (uint8_t)(in1[i] ^ 0xA5);
    for (size_t p = 0; p < sizeof pres / sizeof pres[0]; p++) {
        uint8_t want1[64], want2[64], got1[64], got2[64];
        pa_turboshake128 a, b;

        assert_true(select_impl(PA_TURBOSHAKE128_IMPL_PORTABLE));
        pa_turboshake128_init(&a, 0x02);
        pa_turboshake128_absorb(&a, in2, pres[p][0]);
        pa_turboshake128_absorb(&a, in1 + 200, len);
        pa_turboshake128_squeeze(&a, want1, sizeof want1);
        pa_turboshake128_init(&b, 0x02);
        pa_turboshake128_absorb(&b, in1, pres[p][1]);
        pa_turboshake128_absorb(&b, in2 + 200, len);
        pa_turboshake128_squeeze(&b, want2, sizeof want2);
        for (size_t i = 0; i < N_FAST; i++) {
            if (!select_impl(g_fast[i]))
                continue;
            pa_turboshake128_init(&a, 0x02);
            pa_turboshake128_init(&b, 0x02);
            pa_turboshake128_absorb(&a, in2, pres[p][0]);
            pa_turboshake128_absorb(&b, in1, pres[p][1]);
            pa_turboshake128_absorb2(&a, in1 + 200, &b, in2 + 200, 100);
            pa_turboshake128_absorb2(&a, in1 + 300, &b, in2 + 300, len - 100);
            pa_turboshake128_squeeze(&a, got1, sizeof got1);
            pa_turboshake128_squeeze(&b, got2, sizeof got2);
            assert_memory_equal(got1, want1, sizeof want1);
            assert_memory_equal(got2, want2, sizeof want2);
        }
    }
    assert_true(select_impl(PA_TURBOSHAKE128_IMPL_AUTO));
}

static void test_set_impl(void **state)
{
    (void)state;
    assert_int_equal(pa_turboshake128_set_impl(PA_TURBOSHAKE128_IMPL_PORTABLE), 0);
    assert_int_equal(pa_turboshake128_impl(), PA_TURBOSHAKE128_IMPL_PORTABLE);
    assert_int_equal(pa_turboshake128_set_impl(-1), PA_EUNSUPPORTED);
    assert_int_equal(pa_turboshake128_set_impl(4), PA_EUNSUPPORTED);
    assert_int_equal(pa_turboshake128_impl(), PA_TURBOSHAKE128_IMPL_PORTABLE);
    assert_int_equal(pa_turboshake128_set_impl(PA_TURBOSHAKE128_IMPL_AUTO), 0);
    assert_int_not_equal(pa_turboshake128_impl(), PA_TURBOSHAKE128_IMPL_AUTO);
    print_message("turboshake128 backend on this CPU: %d (1 portable, 2 bmi2, 3 avx512vl)\n",
                  pa_turboshake128_impl());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_lengths),
        cmocka_unit_test(test_share_69k),
        cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_absorb2),
        cmocka_unit_test(test_set_impl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
