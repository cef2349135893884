/*
 * Field128 lazy-reduction sums (pa_f128_wide_zero / _mac / _reduce, field128.h)
 * cross-checked against GMP:
 *  - the accumulator is the exact integer sum of the limb products (320 bits),
 *    and its reduction is sum·2^-128 mod p, which is also the field sum of the
 *    pa_f128_mul products, for 10^6 random operands in sums of 1..80 terms
 *    (edge values 0, 1, p-1, ... mixed in);
 *  - every pair of edge values as a one-term sum, and the empty sum;
 *  - PA_F128_WIDE_MAX_TERMS (the documented limit) products of the largest limbs
 *    (p-1)·(p-1), checked at every power of two and at the limit, and the same
 *    count of products with the all-ones high limb pattern of p-1;
 *  - the reduction alone on 10^6 random and edge-limbed 320-bit accumulators
 *    with w[4] below the limit (and up to 2^32 - 1, the fold's own bound);
 *  - pa_f128_sum_pow2 (range decoding) for every length up to its limit.
 * field_wide_noasm_test.c includes this file with PA_F128_NO_ASM defined, so
 * the portable code is checked the same way.  Deterministic randomness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "support/det_rng.h"
#include <gmp.h>
#include <sodium.h>

#include "field/field128.h"

#define N_TERMS 1000000

typedef unsigned __int128 u128;

static const u128 P = ((u128)PA_F128_P1 << 64) | PA_F128_P0;

#define U128(hi, lo) (((u128)(uint64_t)(hi) << 64) | (uint64_t)(lo))

static const uint64_t EDGE_LIMBS[] = {
    0, 1, 2, 27, 28, 29, UINT64_C(0x8000000000000000), UINT64_C(0xfffffffffffffffe),
    UINT64_C(0xffffffffffffffff), PA_F128_P1, PA_F128_P1 - 1, PA_F128_P1 + 1,
};
#define N_EDGE_LIMBS (sizeof EDGE_LIMBS / sizeof EDGE_LIMBS[0])

static u128 rnd128(void)
{
    u128 lo = rnd64();
    return ((u128)rnd64() << 64) | lo;
}

/* Element limbs (any value below p): edges 0, 1, p-1, R mod p, ... or random. */
static u128 rnd_limbs(void)
{
    uint64_t r = rnd64();
    u128 v;
    switch (r & 7) {
    case 0: {
        static const u128 edges[] = {0, 1, 2, P - 1, P - 2, U128(0x1b, UINT64_MAX),
                                     U128(PA_F128_P1, 0), U128(PA_F128_P1 - 1, UINT64_MAX),
                                     U128(0, UINT64_MAX), U128(1, 0), (P - 1) / 2};
        return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
    }
    case 1:
        return P - 1 - ((r >> 8) & 0xffff);
    case 2:
        return U128(EDGE_LIMBS[(r >> 8) % N_EDGE_LIMBS] % (PA_F128_P1 - 1),
                    EDGE_LIMBS[(r >> 16) % N_EDGE_LIMBS]);
    default:
        do
            v = rnd128();
        while (v >= P);
        return v;
    }
}

static pa_f128 limbs(u128 v) { return pa_f128_make((uint64_t)v, (uint64_t)(v >> 64)); }

static void mpz_set_u128(mpz_t z, u128 v)
{
    mpz_set_ui(z, (unsigned long)(uint64_t)(v >> 64));
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, (unsigned long)(uint64_t)v);
}

static void mpz_set_wide(mpz_t z, const pa_f128_wide *a)
{
    mpz_set_ui(z, 0);
    for (size_t i = 5; i-- > 0;) {
        mpz_mul_2exp(z, z, 64);
        mpz_add_ui(z, z, (unsigned long)a->w[i]);
    }
}

static struct {
    mpz_t p, rinv, sum, want, tmp;
} G;

static int setup(void **state)
{
    (void)state;
    mpz_inits(G.p, G.rinv, G.sum, G.want, G.tmp, NULL);
    mpz_set_u128(G.p, P);
    mpz_set_ui(G.tmp, 1);
    mpz_mul_2exp(G.tmp, G.tmp, 128);
    if (mpz_invert(G.rinv, G.tmp, G.p) == 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mpz_clears(G.p, G.rinv, G.sum, G.want, G.tmp, NULL);
    return 0;
}

/* The accumulator equals G.sum exactly, and its reduction is G.sum·R^-1 mod p. */
static void check_acc(const pa_f128_wide *acc, const char *what, size_t n)
{
    mpz_set_wide(G.tmp, acc);
    if (mpz_cmp(G.tmp, G.sum) != 0) {
        print_error("%s: accumulator after %zu terms differs from the GMP sum\n", what, n);
        fail();
    }
    pa_f128 r = pa_f128_wide_reduce(acc);
    u128 got = U128(r.w[1], r.w[0]);
    mpz_mul(G.want, G.sum, G.rinv);
    mpz_mod(G.want, G.want, G.p);
    mpz_set_u128(G.tmp, got);
    if (got >= P || mpz_cmp(G.tmp, G.want) != 0) {
        print_error("%s: reduce after %zu terms: got %016llx%016llx\n", what, n,
                    (unsigned long long)(got >> 64), (unsigned long long)got);
        fail();
    }
}

static void add_product(pa_f128_wide *acc, u128 a, u128 b, mpz_t za, mpz_t zb)
{
    pa_f128_wide_mac(acc, limbs(a), limbs(b));
    mpz_set_u128(za, a);
    mpz_set_u128(zb, b);
    mpz_addmul(G.sum, za, zb);
}

static void test_random_sums(void **state)
{
    mpz_t za, zb;
    (void)state;
    mpz_inits(za, zb, NULL);
    rng_reset(11);
    size_t done = 0;
    while (done < N_TERMS) {
        size_t n = 1 + (size_t)(rnd64() % 80);
        pa_f128_wide acc = pa_f128_wide_zero();
        pa_f128 field_sum = pa_f128_zero();
        mpz_set_ui(G.sum, 0);
        for (size_t i = 0; i < n; i++) {
            u128 a = rnd_limbs(), b = rnd_limbs();
            add_product(&acc, a, b, za, zb);
            field_sum = pa_f128_add(field_sum, pa_f128_mul(limbs(a), limbs(b)));
        }
        check_acc(&acc, "random", n);
        pa_f128 r = pa_f128_wide_reduce(&acc);
        assert_true(pa_f128_eq(r, field_sum));
        done += n;
    }
    mpz_clears(za, zb, NULL);
}

static void test_edge_pairs(void **state)
{
    static const u128 edges[] = {0, 1, 2, P - 1, P - 2, U128(0x1b, UINT64_MAX),
                                 U128(PA_F128_P1, 0), U128(PA_F128_P1 - 1, UINT64_MAX),
                                 U128(0, UINT64_MAX), U128(1, 0), (P - 1) / 2, (P + 1) / 2};
    const size_t ne = sizeof edges / sizeof edges[0];
    mpz_t za, zb;
    (void)state;
    mpz_inits(za, zb, NULL);
    pa_f128_wide acc = pa_f128_wide_zero();
    mpz_set_ui(G.sum, 0);
    check_acc(&acc, "empty", 0);
    assert_true(pa_f128_is_zero(pa_f128_wide_reduce(&acc)));
    for (size_t i = 0; i < ne * ne; i++) {
        acc = pa_f128_wide_zero();
        mpz_set_ui(G.sum, 0);
        add_product(&acc, edges[i / ne], edges[i % ne], za, zb);
        check_acc(&acc, "edge pair", 1);
        pa_f128 r = pa_f128_wide_reduce(&acc);
        assert_true(pa_f128_eq(r, pa_f128_mul(limbs(edges[i / ne]), limbs(edges[i % ne]))));
    }
    mpz_clears(za, zb, NULL);
}

/* The largest products, as many as allowed: (p-1)·(p-1), then (p-1)·(p-2). */
static void test_max_terms(void **state)
{
    mpz_t za, zb;
    const u128 pairs[2][2] = {{P - 1, P - 1}, {P - 1, P - 2}};
    (void)state;
    mpz_inits(za, zb, NULL);
    for (size_t v = 0; v < 2; v++) {
        pa_f128_wide acc = pa_f128_wide_zero();
        mpz_set_ui(G.sum, 0);
        mpz_set_u128(za, pairs[v][0]);
        mpz_set_u128(zb, pairs[v][1]);
        for (size_t n = 1; n <= PA_F128_WIDE_MAX_TERMS; n++) {
            pa_f128_wide_mac(&acc, limbs(pairs[v][0]), limbs(pairs[v][1]));
            mpz_addmul(G.sum, za, zb);
            if ((n & (n - 1)) == 0 || n == PA_F128_WIDE_MAX_TERMS || n % 4099 == 0)
                check_acc(&acc, "max terms", n);
        }
        assert_true(acc.w[4] < PA_F128_WIDE_MAX_TERMS);
    }
    mpz_clears(za, zb, NULL);
}

/* The reduction on arbitrary 320-bit accumulators with w[4] below 2^32. */
static void test_reduce_any(void **state)
{
    (void)state;
    rng_reset(12);
    for (size_t i = 0; i < N_TERMS; i++) {
        pa_f128_wide acc;
        uint64_t r = rnd64();
        for (size_t l = 0; l < 4; l++)
            acc.w[l] = (r >> (2 * l)) & 1 ? EDGE_LIMBS[rnd64() % N_EDGE_LIMBS] : rnd64();
        switch ((r >> 8) & 3) {
        case 0:
            acc.w[4] = rnd64() % PA_F128_WIDE_MAX_TERMS;
            break;
        case 1:
            acc.w[4] = rnd64() & 0xffffffff;
            break;
        case 2:
            acc.w[4] = (r >> 16) & 3;
            break;
        default:
            acc.w[4] = UINT64_C(0xffffffff) - ((r >> 16) & 3);
            break;
        }
        mpz_set_wide(G.sum, &acc);
        check_acc(&acc, "reduce", (size_t)acc.w[4]);
    }
}

/* pa_f128_sum_pow2 equals sum_l 2^l·v[l] mod p computed with GMP, for every length
 * up to its limit, random and edge limbs, and all p-1 at the limit. */
static void test_sum_pow2(void **state)
{
    pa_f128 v[PA_F128_SUM_POW2_MAX];
    mpz_t want, term, p;
    (void)state;
    mpz_inits(want, term, p, NULL);
    mpz_set_u128(p, P);
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)round % (PA_F128_SUM_POW2_MAX + 1);
        int all_max = round >= 19000 && n == PA_F128_SUM_POW2_MAX;
        mpz_set_ui(want, 0);
        for (size_t l = 0; l < n; l++) {
            u128 x = all_max ? P - 1 : rnd_limbs();
            v[l] = limbs(x);
            mpz_set_u128(term, x);
            mpz_mul_2exp(term, term, (mp_bitcnt_t)l);
            mpz_add(want, want, term);
        }
        mpz_mod(want, want, p);
        pa_f128 got = pa_f128_sum_pow2(v, n);
        mpz_set_u128(term, ((u128)got.w[1] << 64) | got.w[0]);
        if (mpz_cmp(term, want) != 0)
            fail_msg("sum_pow2: n %zu, round %d", n, round);
    }
    mpz_clears(want, term, p, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_pairs),
        cmocka_unit_test(test_random_sums),
        cmocka_unit_test(test_max_terms),
        cmocka_unit_test(test_reduce_any),
        cmocka_unit_test(test_sum_pow2),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
