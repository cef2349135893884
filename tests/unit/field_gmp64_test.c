/*
 * Field64 cross-checked against GMP: 10^6 random operands per operation (add,
 * sub, mul, neg, from_u64, encode) and 10^5 for inv (slow under ASan), mixed with
 * the edge values 0, 1, 2, p-1, p-2, 2^32 and neighbours, 2^63, 2^64-1 mod p.
 * Operands are deterministic (randombytes_buf_deterministic, fixed seed).
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

#include "field/field64.h"

#define N_OPS 1000000
#define N_INV 1000000

static const uint64_t P = PA_F64_MODULUS;


static const uint64_t EDGES[] = {
    0, 1, 2, 3,
    UINT64_C(0xffffffff00000000), /* p-1 */
    UINT64_C(0xfffffffeffffffff), /* p-2 */
    UINT64_C(0x0000000100000000), /* 2^32 */
    UINT64_C(0x00000000ffffffff), /* 2^32-1 = 2^64 mod p */
    UINT64_C(0x0000000100000001), /* 2^32+1 */
    UINT64_C(0x8000000000000000), /* 2^63 */
    UINT64_C(0x00000000fffffffe), /* 2^64-1 mod p */
    UINT64_C(0xfffffffe00000001), /* p - 2^32 */
    UINT64_C(0x7fffffff80000001), /* (p+1)/2 = 1/2 */
    UINT64_C(0x7fffffff80000000), /* (p-1)/2 */
    UINT64_C(0xffffffff00000000) - UINT64_C(0xffffffff), /* p-1-(2^32-1) */
    UINT64_C(0x0000000080000000),
    UINT64_C(0xffffffff7fffffff),
};
#define N_EDGES (sizeof EDGES / sizeof EDGES[0])

/* A canonical value: mostly uniform, often an edge value or close to 0 or p. */
static uint64_t rnd_canon(void)
{
    uint64_t r = rnd64(), v;
    switch (r & 7) {
    case 0:
        return EDGES[(r >> 8) % N_EDGES];
    case 1:
        return (r >> 8) & 0xffff;
    case 2:
        return P - 1 - ((r >> 8) & 0xffff);
    case 3: /* high word all ones, low word random: stresses the 2^32 folding */
        v = UINT64_C(0xfffffffe00000000) | (rnd64() & 0xffffffff);
        return v;
    default:
        do
            v = rnd64();
        while (v >= P);
        return v;
    }
}

static void mpz_set_u64(mpz_t z, uint64_t v) { mpz_set_ui(z, (unsigned long)v); }

static void check_eq(const mpz_t want, pa_f64 got, const char *op, uint64_t a, uint64_t b)
{
    mpz_t g;
    mpz_init(g);
    mpz_set_u64(g, pa_f64_to_u64(got));
    if (mpz_cmp(g, want) != 0 || pa_f64_to_u64(got) >= P) {
        char *zw = mpz_get_str(NULL, 10, want);
        print_error("%s(%llu, %llu): got %llu, GMP %s\n", op, (unsigned long long)a,
                    (unsigned long long)b, (unsigned long long)pa_f64_to_u64(got), zw);
        free(zw);
        mpz_clear(g);
        fail();
    }
    mpz_clear(g);
}

static void test_binary_ops(void **state)
{
    mpz_t p, za, zb, zr;
    (void)state;
    mpz_inits(p, za, zb, zr, NULL);
    mpz_set_u64(p, P);
    rng_reset(1);
    /* every pair of edge values first, then random pairs */
    for (size_t i = 0; i < N_OPS + N_EDGES * N_EDGES; i++) {
        uint64_t a, b;
        if (i < N_EDGES * N_EDGES) {
            a = EDGES[i / N_EDGES];
            b = EDGES[i % N_EDGES];
        } else {
            a = rnd_canon();
            b = rnd_canon();
        }
        pa_f64 fa = pa_f64_from_u64(a), fb = pa_f64_from_u64(b);
        mpz_set_u64(za, a);
        mpz_set_u64(zb, b);

        mpz_add(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(zr, pa_f64_add(fa, fb), "add", a, b);

        mpz_sub(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(zr, pa_f64_sub(fa, fb), "sub", a, b);

        mpz_mul(zr, za, zb);
        mpz_mod(zr, zr, p);
        check_eq(zr, pa_f64_mul(fa, fb), "mul", a, b);

        mpz_neg(zr, za);
        mpz_mod(zr, zr, p);
        check_eq(zr, pa_f64_neg(fa), "neg", a, 0);

        assert_int_equal(pa_f64_eq(fa, fb), a == b);
        assert_int_equal(pa_f64_is_zero(fa), a == 0);
    }
    mpz_clears(p, za, zb, zr, NULL);
}

/* from_u64 on arbitrary 64-bit inputs (including >= p), and encode bytes. */
static void test_from_u64_encode(void **state)
{
    mpz_t p, z;
    uint8_t enc[PA_F64_ENCODED_SIZE];
    (void)state;
    mpz_inits(p, z, NULL);
    mpz_set_u64(p, P);
    rng_reset(2);
    for (size_t i = 0; i < N_OPS; i++) {
        uint64_t v = rnd64();
        if ((i & 3) == 0)
            v = UINT64_MAX - (v & 0x1ffffffffULL); /* the range p .. 2^64-1 and below */
        mpz_set_u64(z, v);
        mpz_mod(z, z, p);
        pa_f64 f = pa_f64_from_u64(v);
        check_eq(z, f, "from_u64", v, 0);
        pa_f64_encode(enc, f);
        uint8_t want[PA_F64_ENCODED_SIZE] = {0};
        size_t cnt = 0;
        mpz_export(want, &cnt, -1, 1, -1, 0, z); /* little-endian bytes */
        assert_memory_equal(enc, want, sizeof enc);
    }
    mpz_clears(p, z, NULL);
}

static void test_inv(void **state)
{
    mpz_t p, za, zr;
    (void)state;
    mpz_inits(p, za, zr, NULL);
    mpz_set_u64(p, P);
    rng_reset(3);
    for (size_t i = 0; i < N_INV + N_EDGES; i++) {
        uint64_t a = i < N_EDGES ? EDGES[i] : rnd_canon();
        pa_f64 fa = pa_f64_from_u64(a);
        mpz_set_u64(za, a);
        if (a == 0)
            mpz_set_ui(zr, 0);
        else
            assert_true(mpz_invert(zr, za, p) != 0);
        check_eq(zr, pa_f64_inv(fa), "inv", a, 0);
    }
    mpz_clears(p, za, zr, NULL);
}

/* pow against mpz_powm for random exponents */
static void test_pow(void **state)
{
    mpz_t p, za, ze, zr;
    (void)state;
    mpz_inits(p, za, ze, zr, NULL);
    mpz_set_u64(p, P);
    rng_reset(4);
    for (size_t i = 0; i < N_OPS; i++) {
        uint64_t a = rnd_canon(), e = rnd64() >> (rnd64() & 63);
        mpz_set_u64(za, a);
        mpz_set_u64(ze, e);
        mpz_powm(zr, za, ze, p);
        check_eq(zr, pa_f64_pow(pa_f64_from_u64(a), e), "pow", a, e);
    }
    mpz_clears(p, za, ze, zr, NULL);
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
