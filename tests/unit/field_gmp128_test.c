/*
 * Field128 cross-checked against GMP: 10^6 random operands per operation (add,
 * sub, mul, neg, from_u64_pair/to_u64_pair, encode) and 10^5 for inv (about 160
 * multiplications each: kept short under ASan), mixed with edge values 0, 1, 2,
 * p-1, p-2, 2^64-1, 2^64, 2^127, 2^128-1 mod p, R mod p, (p±1)/2 and operands
 * with one limb all-ones or zero.  Deterministic randomness (fixed seed).
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

#define N_OPS 1000000
#define N_INV 1000000

typedef unsigned __int128 u128;

static const u128 P = ((u128)PA_F128_P1 << 64) | PA_F128_P0;


static u128 rnd128(void)
{
    u128 lo = rnd64();
    return ((u128)rnd64() << 64) | lo;
}

#define U128(hi, lo) (((u128)(uint64_t)(hi) << 64) | (uint64_t)(lo))

static u128 EDGES[20];
static size_t N_EDGES;

static void init_edges(void)
{
    size_t n = 0;
    EDGES[n++] = 0;
    EDGES[n++] = 1;
    EDGES[n++] = 2;
    EDGES[n++] = P - 1;
    EDGES[n++] = P - 2;
    EDGES[n++] = U128(0, UINT64_MAX);           /* 2^64 - 1 */
    EDGES[n++] = U128(1, 0);                    /* 2^64 */
    EDGES[n++] = U128(1, 1);                    /* 2^64 + 1 */
    EDGES[n++] = U128(0x8000000000000000ULL, 0); /* 2^127 */
    EDGES[n++] = (~(u128)0) % P;                /* 2^128 - 1 mod p */
    EDGES[n++] = U128(0x1b, UINT64_MAX);        /* 2^128 mod p = R mod p */
    EDGES[n++] = (P + 1) / 2;                   /* 1/2 */
    EDGES[n++] = (P - 1) / 2;
    EDGES[n++] = U128(PA_F128_P1, 0);           /* p - 1 with low limb 0 */
    EDGES[n++] = U128(PA_F128_P1 - 1, UINT64_MAX);
    EDGES[n++] = U128(UINT64_MAX >> 1, UINT64_MAX);
    EDGES[n++] = U128(0x5587, 0xfffffffffffffcf1ULL); /* R^2 mod p */
    EDGES[n++] = U128(0, 0x100000000ULL);       /* 2^32 */
    N_EDGES = n;
}

static u128 rnd_canon(void)
{
    uint64_t r = rnd64();
    u128 v;
    switch (r & 7) {
    case 0:
        return EDGES[(r >> 8) % N_EDGES];
    case 1:
        return (r >> 8) & 0xffff;
    case 2:
        return P - 1 - ((r >> 8) & 0xffff);
    case 3: /* one limb extreme */
        v = rnd128();
        if (r & 0x100)
            v = U128(PA_F128_P1 - ((r >> 16) & 3), v);
        else
            v = U128(v >> 64, (r & 0x200) ? UINT64_MAX : 0);
        return v % P;
    default:
        do
            v = rnd128();
        while (v >= P);
        return v;
    }
}

static pa_f128 to_f(u128 v) { return pa_f128_from_u64_pair((uint64_t)v, (uint64_t)(v >> 64)); }

static u128 from_f(pa_f128 f)
{
    uint64_t lo, hi;
    pa_f128_to_u64_pair(f, &lo, &hi);
    return U128(hi, lo);
}

static void mpz_set_u128(mpz_t z, u128 v)
{
    mpz_set_ui(z, (unsigned long)(uint64_t)(v >> 64));
    mpz_mul_2exp(z, z, 64);
    mpz_add_ui(z, z, (unsigned long)(uint64_t)v);
}

static void check_eq(mpz_t tmp, const mpz_t want, pa_f128 got, const char *op, u128 a, u128 b)
{
    u128 g = from_f(got);
    mpz_set_u128(tmp, g);
    if (mpz_cmp(tmp, want) != 0 || g >= P) {
        char *zw = mpz_get_str(NULL, 16, want);
        print_error("%s(%016llx%016llx, %016llx%016llx): got %016llx%016llx, GMP %s\n", op,
                    (unsigned long long)(a >> 64), (unsigned long long)a,
                    (unsigned long long)(b >> 64), (unsigned long long)b,
                    (unsigned long long)(g >> 64), (unsigned long long)g, zw);
        free(zw);
        fail();
    }
}

static void test_binary_ops(void **state)
{
    mpz_t p, za, zb, zr, tmp;
    (void)state;
    init_edges();
    mpz_inits(p, za, zb, zr, tmp, NULL);
    mpz_set_u128(p, P);
    rng_reset(1);
    for (size_t i = 0; i < N_OPS + N_EDGES * N_EDGES; i++) {
        u128 a, b;
        if (i < N_EDGES * N_EDGES) {
            a = EDGES[i / N_EDGES];
            b = EDGES[i % N_EDGES];
        } else {
            a = rnd_canon();
            b = rnd_canon();
        }
        pa_f128 fa = to_f(a), fb = to_f(b);
        mpz_set_u128(za, a);
        mpz_set_u128(zb, b);

        /* representation round trip */
        assert_true(from_f(fa) == a);

        mpz_add(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(tmp, zr, pa_f128_add(fa, fb), "add", a, b);

        mpz_sub(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(tmp, zr, pa_f128_sub(fa, fb), "sub", a, b);

        mpz_mul(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(tmp, zr, pa_f128_mul(fa, fb), "mul", a, b);

        mpz_neg(zr, za);
        mpz_mod(zr, zr, p);
        check_eq(tmp, zr, pa_f128_neg(fa), "neg", a, 0);

        assert_int_equal(pa_f128_eq(fa, fb), a == b);
        assert_int_equal(pa_f128_is_zero(fa), a == 0);
    }
    mpz_clears(p, za, zb, zr, tmp, NULL);
}

/* from_u64 and encode (little-endian canonical bytes) against GMP. */
static void test_from_u64_encode(void **state)
{
    mpz_t z;
    uint8_t enc[PA_F128_ENCODED_SIZE];
    (void)state;
    init_edges();
    mpz_init(z);
    rng_reset(2);
    for (size_t i = 0; i < N_OPS; i++) {
        uint64_t v = rnd64();
        assert_true(from_f(pa_f128_from_u64(v)) == v);
        u128 a = rnd_canon();
        mpz_set_u128(z, a);
        pa_f128_encode(enc, to_f(a));
        uint8_t want[PA_F128_ENCODED_SIZE] = {0};
        size_t cnt = 0;
        mpz_export(want, &cnt, -1, 1, -1, 0, z);
        assert_memory_equal(enc, want, sizeof enc);
    }
    mpz_clear(z);
}

static void test_inv(void **state)
{
    mpz_t p, za, zr, tmp;
    (void)state;
    init_edges();
    mpz_inits(p, za, zr, tmp, NULL);
    mpz_set_u128(p, P);
    rng_reset(3);
    for (size_t i = 0; i < N_INV + N_EDGES; i++) {
        u128 a = i < N_EDGES ? EDGES[i] : rnd_canon();
        mpz_set_u128(za, a);
        if (a == 0)
            mpz_set_ui(zr, 0);
        else
            assert_true(mpz_invert(zr, za, p) != 0);
        check_eq(tmp, zr, pa_f128_inv(to_f(a)), "inv", a, 0);
    }
    mpz_clears(p, za, zr, tmp, NULL);
}

static void test_pow(void **state)
{
    mpz_t p, za, ze, zr, tmp;
    (void)state;
    init_edges();
    mpz_inits(p, za, ze, zr, tmp, NULL);
    mpz_set_u128(p, P);
    rng_reset(4);
    for (size_t i = 0; i < N_OPS; i++) {
        u128 a = rnd_canon();
        uint64_t e = rnd64() >> (rnd64() & 63);
        mpz_set_u128(za, a);
        mpz_set_ui(ze, (unsigned long)e);
        mpz_powm(zr, za, ze, p);
        check_eq(tmp, zr, pa_f128_pow(to_f(a), e), "pow", a, e);
    }
    mpz_clears(p, za, ze, zr, tmp, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_ops),
        cmocka_unit_test(test_from_u64_encode),
        cmocka_unit_test(test_inv),
        cmocka_unit_test(test_pow),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
