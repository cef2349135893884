/*
 * TurboSHAKE128 known answers and streaming consistency.
 *
 * The known answers are the TurboSHAKE128 test vectors of RFC 9861 §5
 * ("Test Vectors"), as given in draft-irtf-cfrg-kangarootwelve-17
 * (github.com/cfrg/draft-irtf-cfrg-kangarootwelve, draft-irtf-cfrg-kangarootwelve.xml).
 * ptn(n) is the n-byte repetition of 00 01 .. FA (RFC 9861 §5).
 * Every test runs once per permutation backend this CPU has
 * (pa_turboshake128_set_impl: portable, BMI2, AVX-512VL), then on AUTO.
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

#include "xof/turboshake128.h"

static size_t hex_decode(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    while (*hex != '\0') {
        unsigned v;
        if (*hex == ' ') {
            hex++;
            continue;
        }
        assert_true(n < cap);
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static uint8_t *ptn(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i % 251);
    return p;
}

struct kat {
    size_t ptn_len;      /* message ptn(ptn_len) if msg == NULL */
    const char *msg;     /* or literal hex message */
    uint8_t domain;
    size_t out_len;      /* total output length */
    const char *tail;    /* expected last bytes of the output (hex) */
};

/* RFC 9861 §5, TurboSHAKE128 vectors (all of them). */
static const struct kat g_kats[] = {
    {0, "", 0x1F, 32,
     "1E 41 5F 1C 59 83 AF F2 16 92 17 27 7D 17 BB 53 8C D9 45 A3 97 DD EC 54 1F 1C E4 1A F2 C1 B7 4C"},
    {0, "", 0x1F, 64,
     "1E 41 5F 1C 59 83 AF F2 16 92 17 27 7D 17 BB 53 8C D9 45 A3 97 DD EC 54 1F 1C E4 1A F2 C1 B7 4C"
     "3E 8C CA E2 A4 DA E5 6C 84 A0 4C 23 85 C0 3C 15 E8 19 3B DF 58 73 73 63 32 16 91 C0 54 62 C8 DF"},
    {0, "", 0x1F, 10032,
     "A3 B9 B0 38 59 00 CE 76 1F 22 AE D5 48 E7 54 DA 10 A5 24 2D 62 E8 C6 58 E3 F3 A9 23 A7 55 56 07"},
    {1, NULL, 0x1F, 32,
     "55 CE DD 6F 60 AF 7B B2 9A 40 42 AE 83 2E F3 F5 8D B7 29 9F 89 3E BB 92 47 24 7D 85 69 58 DA A9"},
    {17, NULL, 0x1F, 32,
     "9C 97 D0 36 A3 BA C8 19 DB 70 ED E0 CA 55 4E C6 E4 C2 A1 A4 FF BF D9 EC 26 9C A6 A1 11 16 12 33"},
    {289, NULL, 0x1F, 32,
     "96 C7 7C 27 9E 01 26 F7 FC 07 C9 B0 7F 5C DA E1 E0 BE 60 BD BE 10 62 00 40 E7 5D 72 23 A6 24 D2"},
    {4913, NULL, 0x1F, 32,
     "D4 97 6E B5 6B CF 11 85 20 58 2B 70 9F 73 E1 D6 85 3E 00 1F DA F8 0E 1B 13 E0 D0 59 9D 5F B3 72"},
    {83521, NULL, 0x1F, 32,
     "DA 67 C7 03 9E 98 BF 53 0C F7 A3 78 30 C6 66 4E 14 CB AB 7F 54 0F 58 40 3B 1B 82 95 13 18 EE 5C"},
    {1419857, NULL, 0x1F, 32,
     "B9 7A 90 6F BF 83 EF 7C 81 25 17 AB F3 B2 D0 AE A0 C4 F6 03 18 CE 11 CF 10 39 25 12 7F 59 EE CD"},
    {24137569, NULL, 0x1F, 32,
     "35 CD 49 4A DE DE D2 F2 52 39 AF 09 A7 B8 EF 0C 4D 1C A4 FE 2D 1A C3 70 FA 63 21 6F E7 B4 C2 B1"},
    {0, "FF FF FF", 0x01, 32,
     "BF 32 3F 94 04 94 E8 8E E1 C5 40 FE 66 0B E8 A0 C9 3F 43 D1 5E C0 06 99 84 62 FA 99 4E ED 5D AB"},
    {0, "FF", 0x06, 32,
     "8E C9 C6 64 65 ED 0D 4A 6C 35 D1 35 06 71 8D 68 7A 25 CB 05 C7 4C CA 1E 42 50 1A BD 83 87 4A 67"},
    {0, "FF FF FF", 0x07, 32,
     "B6 58 57 60 01 CA D9 B1 E5 F3 99 A9 F7 77 23 BB A0 54 58 04 2D 68 20 6F 72 52 68 2D BA 36 63 ED"},
    {0, "FF FF FF FF FF FF FF", 0x0B, 32,
     "8D EE AA 1A EC 47 CC EE 56 9F 65 9C 21 DF A8 E1 12 DB 3C EE 37 B1 81 78 B2 AC D8 05 B7 99 CC 37"},
    {0, "FF", 0x30, 32,
     "55 31 22 E2 13 5E 36 3C 32 92 BE D2 C6 42 1F A2 32 BA B0 3D AA 07 C7 D6 63 66 03 28 65 06 32 5B"},
    {0, "FF FF FF", 0x7F, 32,
     "16 27 4C C6 56 D4 4C EF D4 22 39 5D 0F 90 53 BD A6 D2 8E 12 2A BA 15 C7 65 E5 AD 0E 6E AF 26 F9"},
};

/* The backends to try; a test runs its body once for each one this CPU accepts. */
static const int g_impls[] = {PA_TURBOSHAKE128_IMPL_PORTABLE, PA_TURBOSHAKE128_IMPL_BMI2,
                              PA_TURBOSHAKE128_IMPL_AVX512VL, PA_TURBOSHAKE128_IMPL_AUTO};
#define N_IMPLS (sizeof g_impls / sizeof g_impls[0])

static void kats_once(void)
{
    for (size_t k = 0; k < sizeof g_kats / sizeof g_kats[0]; k++) {
        const struct kat *t = &g_kats[k];
        uint8_t want[64], lit[16];
        size_t want_len = hex_decode(want, sizeof want, t->tail);
        const uint8_t *msg;
        uint8_t *owned = NULL;
        size_t msg_len;

        if (t->msg != NULL) {
            msg_len = hex_decode(lit, sizeof lit, t->msg);
            msg = lit;
        } else {
            owned = ptn(t->ptn_len);
            msg = owned;
            msg_len = t->ptn_len;
        }
        uint8_t *out = malloc(t->out_len);
        assert_non_null(out);
        pa_turboshake128_oneshot(out, t->out_len, msg, msg_len, t->domain);
        if (memcmp(out + t->out_len - want_len, want, want_len) != 0)
            fail_msg("KAT %zu (len %zu, D=%02x) mismatch", k, msg_len, t->domain);
        free(out);
        free(owned);
    }
}

static void test_kats(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_IMPLS; i++) {
        if (pa_turboshake128_set_impl(g_impls[i]) != 0)
            continue; /* this CPU lacks it */
        kats_once();
    }
    assert_int_equal(pa_turboshake128_set_impl(PA_TURBOSHAKE128_IMPL_AUTO), 0);
}

/* Absorbing in odd pieces and squeezing in odd pieces equals the one-shot. */
static void streaming_once(void)
{
    static const size_t chunks[] = {1, 3, 7, 13, 167, 168, 169, 335, 500, 1000};
    static const uint8_t seed[randombytes_SEEDBYTES] = {42};
    const size_t msg_len = 5000, out_len = 1200;
    uint8_t *msg = malloc(msg_len), *want = malloc(out_len), *got = malloc(out_len);

    assert_non_null(msg);
    assert_non_null(want);
    assert_non_null(got);
    randombytes_buf_deterministic(msg, msg_len, seed);
    for (size_t m = 0; m <= msg_len; m += 611) {
        pa_turboshake128_oneshot(want, out_len, msg, m, 0x01);
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            pa_turboshake128 st;
            size_t off = 0, step = chunks[c], k = 0;

            pa_turboshake128_init(&st, 0x01);
            while (off < m) {
                size_t n = m - off < step ? m - off : step;
                pa_turboshake128_absorb(&st, msg + off, n);
                off += n;
                step = chunks[(c + ++k) % (sizeof chunks / sizeof chunks[0])];
            }
            pa_turboshake128_absorb(&st, NULL, 0);
            off = 0;
            step = chunks[(c + 3) % (sizeof chunks / sizeof chunks[0])];
            while (off < out_len) {
                size_t n = out_len - off < step ? out_len - off : step;
                pa_turboshake128_squeeze(&st, got + off, n);
                off += n;
                step = chunks[(c + ++k) % (sizeof chunks / sizeof chunks[0])];
            }
            pa_turboshake128_wipe(&st);
            assert_memory_equal(got, want, out_len);
        }
    }
    free(msg);
    free(want);
    free(got);
}

static void test_streaming(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_IMPLS; i++) {
        if (pa_turboshake128_set_impl(g_impls[i]) != 0)
            continue;
        streaming_once();
    }
    assert_int_equal(pa_turboshake128_set_impl(PA_TURBOSHAKE128_IMPL_AUTO), 0);
}

/* The domain byte separates outputs; in == out aliasing of the one-shot works. */
static void test_domain_and_alias(void **state)
{
    uint8_t a[32], b[32], buf[64];
    (void)state;

    pa_turboshake128_oneshot(a, sizeof a, (const uint8_t *)"abc", 3, 0x01);
    pa_turboshake128_oneshot(b, sizeof b, (const uint8_t *)"abc", 3, 0x02);
    assert_memory_not_equal(a, b, sizeof a);
    memset(buf, 7, sizeof buf);
    pa_turboshake128_oneshot(a, sizeof a, buf, sizeof buf, 0x1F);
    pa_turboshake128_oneshot(buf, 32, buf, sizeof buf, 0x1F);
    assert_memory_equal(a, buf, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kats),
        cmocka_unit_test(test_streaming),
        cmocka_unit_test(test_domain_and_alias),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
