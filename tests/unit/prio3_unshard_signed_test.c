/*
 * pa_prio3_unshard_signed: the collector's signed reading of an aggregate result
 * (noise is added modulo p, so a total above p/2 is negative).  For Field128
 * (SumVec) and Field64 (Sum): the sum of the shares is taken mod p, elements up
 * to (p - 1)/2 are positive and above it x - p, magnitudes above 2^63 - 1 are
 * PA_ERANGE, a non-canonical share is PA_EDECODE and a wrong length PA_EDECODE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/prio3.h"

typedef unsigned __int128 u128;

static const u128 P128 = ((u128)UINT64_C(0xffffffffffffffe4) << 64) | 1;
static const u128 P64 = UINT64_C(0xffffffff00000001);

static void put(uint8_t *p, u128 x, size_t es)
{
    for (size_t i = 0; i < es; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

/* unshard_signed of two one-element-per-cell shares a[] and b[] (n cells) */
static int run(pa_prio3 *v, size_t es, const u128 *a, const u128 *b, size_t n, int64_t *out)
{
    uint8_t s0[64], s1[64];
    const uint8_t *ap[2] = {s0, s1};
    size_t an[2] = {n * es, n * es};
    for (size_t i = 0; i < n; i++) {
        put(s0 + i * es, a[i], es);
        put(s1 + i * es, b[i], es);
    }
    return pa_prio3_unshard_signed(v, ap, an, 2, out);
}

static void test_field128(void **state)
{
    pa_prio3 *v;
    int64_t out[3];
    (void)state;
    assert_int_equal(pa_prio3_sumvec_new(&v, 2, 3, 65535, 2), PA_OK);
    assert_int_equal(pa_prio3_output_len(v), 3);
    {
        const u128 a[3] = {5, 0, P128 - 1}, b[3] = {7, P128 - 3, P128 - 1};
        assert_int_equal(run(v, 16, a, b, 3, out), PA_OK);
        assert_int_equal(out[0], 12);
        assert_int_equal(out[1], -3);
        assert_int_equal(out[2], -2);
    }
    {
        const u128 a[3] = {INT64_MAX, P128 - INT64_MAX, 0}, b[3] = {0, 0, 0};
        assert_int_equal(run(v, 16, a, b, 3, out), PA_OK);
        assert_int_equal(out[0], INT64_MAX);
        assert_int_equal(out[1], -INT64_MAX);
        assert_int_equal(out[2], 0);
    }
    {
        /* 2^63 and p - 2^63: magnitudes an int64 cannot hold; (p - 1)/2 as well */
        const u128 a[3] = {(u128)1 << 63, 0, 0}, b[3] = {0, 0, 0};
        const u128 c[3] = {0, P128 - ((u128)1 << 63), 0}, d[3] = {0, (P128 - 1) / 2, 0};
        assert_int_equal(run(v, 16, a, b, 3, out), PA_ERANGE);
        assert_int_equal(run(v, 16, c, b, 3, out), PA_ERANGE);
        assert_int_equal(run(v, 16, d, b, 3, out), PA_ERANGE);
    }
    {
        const u128 a[3] = {P128, 0, 0}, b[3] = {0, 0, 0}; /* not canonical */
        assert_int_equal(run(v, 16, a, b, 3, out), PA_EDECODE);
    }
    {
        uint8_t s[48] = {0};
        const uint8_t *ap[2] = {s, s};
        size_t an[2] = {48, 47};
        assert_int_equal(pa_prio3_unshard_signed(v, ap, an, 2, out), PA_EDECODE);
    }
    pa_prio3_free(v);
}

static void test_field64(void **state)
{
    pa_prio3 *v;
    int64_t out[1];
    (void)state;
    assert_int_equal(pa_prio3_sum_new(&v, 2, 100), PA_OK);
    assert_int_equal(pa_prio3_output_len(v), 1);
    {
        const u128 a[1] = {40}, b[1] = {2};
        assert_int_equal(run(v, 8, a, b, 1, out), PA_OK);
        assert_int_equal(out[0], 42);
    }
    {
        const u128 a[1] = {3}, b[1] = {P64 - 10};
        assert_int_equal(run(v, 8, a, b, 1, out), PA_OK);
        assert_int_equal(out[0], -7);
    }
    {
        /* the largest positive and the smallest negative of Field64 both fit */
        const u128 a[1] = {(P64 - 1) / 2}, b[1] = {0}, c[1] = {(P64 + 1) / 2};
        assert_int_equal(run(v, 8, a, b, 1, out), PA_OK);
        assert_int_equal(out[0], (int64_t)((P64 - 1) / 2));
        assert_int_equal(run(v, 8, c, b, 1, out), PA_OK);
        assert_int_equal(out[0], -(int64_t)((P64 - 1) / 2));
    }
    {
        const u128 a[1] = {P64}, b[1] = {0};
        assert_int_equal(run(v, 8, a, b, 1, out), PA_EDECODE);
    }
    pa_prio3_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field128),
        cmocka_unit_test(test_field64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
