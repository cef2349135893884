/*
 * pa_turboshake128_absorb2 / pa_xof_update2 (two sponges side by side) against two
 * ordinary absorbs: same squeezed output for aligned and misaligned block offsets,
 * lengths around the 168-byte rate, many blocks, and the degenerate len == 0.
 * On a CPU with AVX-512VL this runs the two-lane permutation; elsewhere the
 * fallback, which must agree as well.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "xof/turboshake128.h"
#include "xof/xof.h"

#define BIG (168 * 40 + 400) /* largest prefix + length */

static void check(size_t pre1, size_t pre2, size_t len, size_t split)
{
    static uint8_t in1[BIG], in2[BIG];
    uint8_t ref1[64], ref2[64], got1[64], got2[64];
    pa_turboshake128 r1, r2, t1, t2;
    const unsigned char key[32] = "xof_absorb2_test_seed_0000000001";

    randombytes_buf_deterministic(in1, sizeof in1, key);
    for (size_t i = 0; i < sizeof in2; i++)
        in2[i] = (uint8_t)(in1[i] * 7 + 3);

    pa_turboshake128_init(&r1, 0x01);
    pa_turboshake128_init(&r2, 0x01);
    pa_turboshake128_absorb(&r1, in2, pre1);
    pa_turboshake128_absorb(&r2, in1, pre2);
    pa_turboshake128_absorb(&r1, in1 + pre1, len);
    pa_turboshake128_absorb(&r2, in2 + pre2, len);
    pa_turboshake128_squeeze(&r1, ref1, sizeof ref1);
    pa_turboshake128_squeeze(&r2, ref2, sizeof ref2);

    pa_turboshake128_init(&t1, 0x01);
    pa_turboshake128_init(&t2, 0x01);
    pa_turboshake128_absorb(&t1, in2, pre1);
    pa_turboshake128_absorb(&t2, in1, pre2);
    pa_turboshake128_absorb2(&t1, in1 + pre1, &t2, in2 + pre2, split);
    pa_turboshake128_absorb2(&t1, in1 + pre1 + split, &t2, in2 + pre2 + split, len - split);
    pa_turboshake128_squeeze(&t1, got1, sizeof got1);
    pa_turboshake128_squeeze(&t2, got2, sizeof got2);

    assert_memory_equal(ref1, got1, sizeof ref1);
    assert_memory_equal(ref2, got2, sizeof ref2);
}

static void test_aligned(void **state)
{
    static const size_t pres[] = {0, 1, 17, 100, 167, 168, 169, 300};
    static const size_t lens[] = {0, 1, 67, 68, 167, 168, 169, 336, 1000, 168 * 40};
    (void)state;
    for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++)
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            check(pres[i], pres[i], lens[j], 0);
            check(pres[i], pres[i], lens[j], lens[j] / 2);
            check(pres[i], pres[i], lens[j], lens[j]);
        }
}

static void test_misaligned(void **state)
{
    (void)state;
    check(0, 1, 1000, 500);
    check(17, 3, 168 * 5, 168);
    check(168, 0, 168 * 3, 7); /* same offset 0, different block counts so far */
}

static void test_xof_update2(void **state)
{
    uint8_t seed[32] = {1}, dst[5] = "dst!!", a[3000], b[3000], o1[32], o2[32], p1[32], p2[32];
    pa_xof x1, x2, y1, y2;
    (void)state;
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)i;
        b[i] = (uint8_t)(i * 13);
    }
    pa_xof_init(&x1, seed, sizeof seed, dst, sizeof dst);
    pa_xof_init(&x2, seed, sizeof seed, dst, sizeof dst);
    pa_xof_update2(&x1, a, &x2, b, sizeof a);
    pa_xof_next(&x1, o1, sizeof o1);
    pa_xof_next(&x2, o2, sizeof o2);
    pa_xof_init(&y1, seed, sizeof seed, dst, sizeof dst);
    pa_xof_init(&y2, seed, sizeof seed, dst, sizeof dst);
    pa_xof_update(&y1, a, sizeof a);
    pa_xof_update(&y2, b, sizeof b);
    pa_xof_next(&y1, p1, sizeof p1);
    pa_xof_next(&y2, p2, sizeof p2);
    assert_memory_equal(o1, p1, sizeof o1);
    assert_memory_equal(o2, p2, sizeof o2);
    pa_xof_wipe(&x1);
    pa_xof_wipe(&x2);
    pa_xof_wipe(&y1);
    pa_xof_wipe(&y2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aligned),
        cmocka_unit_test(test_misaligned),
        cmocka_unit_test(test_xof_update2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
