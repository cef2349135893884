/*
 * FLP circuits (draft-irtf-cfrg-vdaf-20 §7.3, §7.4) on both fields: valid encoded
 * measurements are accepted by prove -> query -> decide (whole and split into
 * shares); invalid encodings written directly into the measurement vector (Count
 * = 2, a Sum "bit" of 2, a histogram with two ones or none, a multihot vector whose
 * weight is above max_weight, ...) make decide() false; encode() rejects out of
 * range measurements with PA_EINVAL; a tampered proof is rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "flp/flp.h"
#include "xof/xof.h"

static uint8_t g_seed[32];
static uint64_t g_counter;

/* Deterministic "random" field elements: XOF over a counter. */
#define DEFINE_RANDVEC(F)                                                                 \
    static void randvec_##F(pa_##F *out, size_t n)                                        \
    {                                                                                     \
        uint8_t binder[8];                                                                \
        for (int i = 0; i < 8; i++)                                                       \
            binder[i] = (uint8_t)(g_counter >> (8 * i));                                  \
        g_counter++;                                                                      \
        pa_xof_expand_into_vec_##F(out, n, g_seed, 32, (const uint8_t *)"test", 4, binder, \
                                   8);                                                    \
    }
DEFINE_RANDVEC(f64)
DEFINE_RANDVEC(f128)

/*
 * 1 if the FLP accepts meas: prove with random prove/joint randomness, then query
 * either the whole measurement (shares = 1) or `shares` additive shares of the
 * measurement and proof, sum the verifiers and decide.
 */
#define DEFINE_ACCEPTS(F)                                                                      \
    static int accepts_##F(const pa_flp *f, const pa_##F *meas, size_t shares, int tamper)     \
    {                                                                                          \
        size_t ml = f->meas_len, pl = f->proof_len, vl = f->verifier_len;                      \
        pa_##F *pr = calloc(f->prove_rand_len, sizeof *pr);                                    \
        pa_##F *jr = calloc(f->joint_rand_len + 1, sizeof *jr);                                \
        pa_##F *qr = calloc(f->query_rand_len, sizeof *qr);                                    \
        pa_##F *proof = calloc(pl, sizeof *proof);                                             \
        pa_##F *mshare = calloc(ml, sizeof *mshare), *pshare = calloc(pl, sizeof *pshare);     \
        pa_##F *mrest = calloc(ml, sizeof *mrest), *prest = calloc(pl, sizeof *prest);         \
        pa_##F *ver = calloc(vl, sizeof *ver), *sum = calloc(vl, sizeof *sum);                 \
        size_t sl = pa_flp_prove_scratch_len(f), ql = pa_flp_query_scratch_len(f);             \
        pa_##F *scratch = calloc(sl > ql ? sl : ql, sizeof *scratch);                          \
        int ok;                                                                                \
        assert_non_null(scratch);                                                              \
        randvec_##F(pr, f->prove_rand_len);                                                    \
        randvec_##F(jr, f->joint_rand_len + 1);                                                \
        randvec_##F(qr, f->query_rand_len);                                                    \
        pa_flp_prove_##F(f, meas, pr, jr, proof, scratch);                                     \
        if (tamper)                                                                            \
            proof[pl - 1] = pa_##F##_add(proof[pl - 1], pa_##F##_one());                       \
        memcpy(mrest, meas, ml * sizeof *mrest);                                               \
        memcpy(prest, proof, pl * sizeof *prest);                                              \
        for (size_t i = 0; i < vl; i++)                                                        \
            sum[i] = pa_##F##_zero();                                                          \
        for (size_t s = 0; s < shares; s++) {                                                  \
            if (s + 1 < shares) {                                                              \
                randvec_##F(mshare, ml);                                                       \
                randvec_##F(pshare, pl);                                                       \
                for (size_t i = 0; i < ml; i++)                                                \
                    mrest[i] = pa_##F##_sub(mrest[i], mshare[i]);                              \
                for (size_t i = 0; i < pl; i++)                                                \
                    prest[i] = pa_##F##_sub(prest[i], pshare[i]);                              \
            } else {                                                                           \
                memcpy(mshare, mrest, ml * sizeof *mshare);                                    \
                memcpy(pshare, prest, pl * sizeof *pshare);                                    \
            }                                                                                  \
            assert_int_equal(                                                                  \
                pa_flp_query_##F(f, mshare, pshare, qr, jr,                                   \
                                 pa_##F##_inv(pa_##F##_from_u64(shares)), ver, scratch, 0),  \
                0);         \
            for (size_t i = 0; i < vl; i++)                                                    \
                sum[i] = pa_##F##_add(sum[i], ver[i]);                                         \
        }                                                                                      \
        ok = pa_flp_decide_##F(f, sum);                                                        \
        free(pr);                                                                              \
        free(jr);                                                                              \
        free(qr);                                                                              \
        free(proof);                                                                           \
        free(mshare);                                                                          \
        free(pshare);                                                                          \
        free(mrest);                                                                           \
        free(prest);                                                                           \
        free(ver);                                                                             \
        free(sum);                                                                             \
        free(scratch);                                                                         \
        return ok;                                                                             \
    }
DEFINE_ACCEPTS(f64)
DEFINE_ACCEPTS(f128)

/* Encoded measurement as small integers, converted to the circuit's field. */
static int accepts_ints(const pa_flp *f, const uint64_t *vals, size_t shares, int tamper)
{
    int ok;
    if (f->field == PA_FLP_FIELD64) {
        pa_f64 *m = calloc(f->meas_len, sizeof *m);
        for (size_t i = 0; i < f->meas_len; i++)
            m[i] = pa_f64_from_u64(vals[i]);
        ok = accepts_f64(f, m, shares, tamper);
        free(m);
    } else {
        pa_f128 *m = calloc(f->meas_len, sizeof *m);
        for (size_t i = 0; i < f->meas_len; i++)
            m[i] = pa_f128_from_u64(vals[i]);
        ok = accepts_f128(f, m, shares, tamper);
        free(m);
    }
    return ok;
}

/* encode() then accepts; checks encode's status. */
static int encode_accepts(const pa_flp *f, const uint64_t *meas, size_t n, size_t shares)
{
    int ok;
    if (f->field == PA_FLP_FIELD64) {
        pa_f64 *m = calloc(f->meas_len, sizeof *m);
        assert_int_equal(pa_flp_encode_f64(f, meas, n, m), 0);
        ok = accepts_f64(f, m, shares, 0);
        free(m);
    } else {
        pa_f128 *m = calloc(f->meas_len, sizeof *m);
        assert_int_equal(pa_flp_encode_f128(f, meas, n, m), 0);
        ok = accepts_f128(f, m, shares, 0);
        free(m);
    }
    return ok;
}

static int encode_status(const pa_flp *f, const uint64_t *meas, size_t n)
{
    int rc;
    if (f->field == PA_FLP_FIELD64) {
        pa_f64 *m = calloc(f->meas_len, sizeof *m);
        rc = pa_flp_encode_f64(f, meas, n, m);
        free(m);
    } else {
        pa_f128 *m = calloc(f->meas_len, sizeof *m);
        rc = pa_flp_encode_f128(f, meas, n, m);
        free(m);
    }
    return rc;
}

static const pa_flp_field fields[2] = {PA_FLP_FIELD64, PA_FLP_FIELD128};

static void test_count(void **state)
{
    (void)state;
    for (int fi = 0; fi < 2; fi++) {
        pa_flp f;
        assert_int_equal(pa_flp_init_count(&f, fields[fi]), 0);
        for (uint64_t m = 0; m <= 1; m++) {
            assert_true(encode_accepts(&f, &m, 1, 1));
            assert_true(encode_accepts(&f, &m, 1, 2));
            assert_true(encode_accepts(&f, &m, 1, 3));
            assert_false(accepts_ints(&f, &m, 2, 1)); /* tampered proof */
        }
        uint64_t bad[] = {2, 3, 1000};
        for (size_t i = 0; i < 3; i++) {
            assert_false(accepts_ints(&f, &bad[i], 1, 0));
            assert_false(accepts_ints(&f, &bad[i], 2, 0));
            assert_int_equal(encode_status(&f, &bad[i], 1), PA_EINVAL);
        }
    }
}

static void test_sum(void **state)
{
    (void)state;
    uint64_t maxes[] = {1, 5, 255, 1337, 65535};
    for (int fi = 0; fi < 2; fi++) {
        for (size_t mi = 0; mi < 5; mi++) {
            pa_flp f;
            uint64_t max = maxes[mi];
            assert_int_equal(pa_flp_init_sum(&f, fields[fi], max), 0);
            uint64_t vals[] = {0, 1, max / 2, max - 1, max};
            for (size_t i = 0; i < 5; i++)
                assert_true(encode_accepts(&f, &vals[i], 1, 2));
            uint64_t over = max + 1;
            assert_int_equal(encode_status(&f, &over, 1), PA_EINVAL);
            /* a "bit" that is 2 */
            uint64_t *bits = calloc(f.meas_len, sizeof *bits);
            bits[f.meas_len - 1] = 2;
            assert_false(accepts_ints(&f, bits, 1, 0));
            assert_false(accepts_ints(&f, bits, 2, 0));
            bits[f.meas_len - 1] = 1;
            assert_true(accepts_ints(&f, bits, 2, 0));
            assert_false(accepts_ints(&f, bits, 2, 1));
            free(bits);
        }
    }
}

static void test_sumvec(void **state)
{
    (void)state;
    for (int fi = 0; fi < 2; fi++) {
        pa_flp f;
        assert_int_equal(pa_flp_init_sumvec(&f, fields[fi], 5, 7, 3), 0);
        uint64_t good[5] = {0, 7, 3, 1, 6};
        assert_true(encode_accepts(&f, good, 5, 1));
        assert_true(encode_accepts(&f, good, 5, 3));
        uint64_t over[5] = {0, 8, 3, 1, 6};
        assert_int_equal(encode_status(&f, over, 5), PA_EINVAL);
        assert_int_equal(encode_status(&f, good, 4), PA_EINVAL);
        uint64_t *bits = calloc(f.meas_len, sizeof *bits);
        bits[4] = 2;
        assert_false(accepts_ints(&f, bits, 1, 0));
        assert_false(accepts_ints(&f, bits, 2, 0));
        bits[4] = 1;
        assert_true(accepts_ints(&f, bits, 2, 0));
        assert_false(accepts_ints(&f, bits, 2, 1));
        free(bits);
    }
}

static void test_histogram(void **state)
{
    (void)state;
    for (int fi = 0; fi < 2; fi++) {
        pa_flp f;
        assert_int_equal(pa_flp_init_histogram(&f, fields[fi], 7, 3), 0);
        for (uint64_t b = 0; b < 7; b++)
            assert_true(encode_accepts(&f, &b, 1, 2));
        uint64_t out = 7;
        assert_int_equal(encode_status(&f, &out, 1), PA_EINVAL);
        uint64_t two[7] = {0, 1, 0, 0, 1, 0, 0}, none[7] = {0}, big[7] = {0, 0, 2, 0, 0, 0, 0};
        uint64_t neg[7] = {0, 1, 1, 0, 0, 0, 0};
        neg[2] = 1;
        assert_false(accepts_ints(&f, two, 1, 0));
        assert_false(accepts_ints(&f, two, 2, 0));
        assert_false(accepts_ints(&f, none, 2, 0));
        assert_false(accepts_ints(&f, big, 2, 0));
        assert_false(accepts_ints(&f, neg, 3, 0));
        uint64_t one[7] = {0, 0, 0, 0, 0, 0, 1};
        assert_true(accepts_ints(&f, one, 3, 0));
        assert_false(accepts_ints(&f, one, 3, 1));
    }
}

/* Large wire polynomials (P = 512 and 1024): decide() only accepts if the
 * gadget polynomial's coset values are right. */
static void test_large(void **state)
{
    (void)state;
    for (int fi = 0; fi < 2; fi++) {
        pa_flp f;
        uint64_t b = 777;
        assert_int_equal(pa_flp_init_histogram(&f, fields[fi], 1000, 3), 0);
        assert_int_equal(f.p, 512);
        assert_true(encode_accepts(&f, &b, 1, 2));
        assert_int_equal(pa_flp_init_histogram(&f, fields[fi], 2000, 2), 0);
        assert_int_equal(f.p, 1024);
        assert_true(encode_accepts(&f, &b, 1, 3));
        uint64_t *two = calloc(f.meas_len, sizeof *two);
        two[5] = two[1999] = 1;
        assert_false(accepts_ints(&f, two, 2, 0));
        free(two);
    }
}

static void test_multihot(void **state)
{
    (void)state;
    for (int fi = 0; fi < 2; fi++) {
        pa_flp f;
        /* length 6, max_weight 3 (2 weight bits: weights 1, 2), chunk 2 */
        assert_int_equal(pa_flp_init_multihot(&f, fields[fi], 6, 3, 2), 0);
        uint64_t good[6] = {1, 0, 1, 0, 1, 0}, zero[6] = {0};
        assert_true(encode_accepts(&f, good, 6, 2));
        assert_true(encode_accepts(&f, zero, 6, 3));
        uint64_t heavy[6] = {1, 1, 1, 1, 0, 0}, two[6] = {2, 0, 0, 0, 0, 0};
        assert_int_equal(encode_status(&f, heavy, 6), PA_EINVAL);
        assert_int_equal(encode_status(&f, two, 6), PA_EINVAL);
        /* weight 4 > max_weight with every weight-bit pattern */
        uint64_t enc[8] = {1, 1, 1, 1, 0, 0, 0, 0};
        for (int wb = 0; wb < 4; wb++) {
            enc[6] = (uint64_t)(wb & 1);
            enc[7] = (uint64_t)(wb >> 1);
            assert_false(accepts_ints(&f, enc, 2, 0));
        }
        /* a claimed weight that is not the real one */
        uint64_t lie[8] = {1, 0, 0, 0, 0, 0, 0, 1}; /* weight 1, claims 2 */
        assert_false(accepts_ints(&f, lie, 1, 0));
        /* a non-bit entry with the right sum */
        uint64_t nb[8] = {2, 0, 0, 0, 0, 0, 0, 1};
        assert_false(accepts_ints(&f, nb, 2, 0));
        uint64_t ok[8] = {1, 1, 0, 0, 0, 0, 0, 1};
        assert_true(accepts_ints(&f, ok, 2, 0));
    }
}

static void test_params(void **state)
{
    (void)state;
    pa_flp f;
    assert_int_equal(pa_flp_init_sum(&f, PA_FLP_FIELD64, 0), PA_EINVAL);
    assert_int_equal(pa_flp_init_sum(&f, PA_FLP_FIELD64, UINT64_MAX), PA_EINVAL);
    assert_int_equal(pa_flp_init_sum(&f, PA_FLP_FIELD128, UINT64_MAX), 0);
    assert_int_equal(pa_flp_init_sumvec(&f, PA_FLP_FIELD128, 0, 1, 1), PA_EINVAL);
    assert_int_equal(pa_flp_init_sumvec(&f, PA_FLP_FIELD128, 3, 1, 0), PA_EINVAL);
    assert_int_equal(pa_flp_init_histogram(&f, PA_FLP_FIELD128, 0, 1), PA_EINVAL);
    assert_int_equal(pa_flp_init_multihot(&f, PA_FLP_FIELD128, 4, 5, 1), PA_EINVAL);
    assert_int_equal(pa_flp_init_multihot(&f, PA_FLP_FIELD128, 4, 0, 1), PA_EINVAL);
    /* draft lengths: Prio3Count proof 2 seeds + 2·(2-1)+1... */
    assert_int_equal(pa_flp_init_count(&f, PA_FLP_FIELD64), 0);
    assert_int_equal(f.proof_len, 5);
    assert_int_equal(f.verifier_len, 4);
    assert_int_equal(pa_flp_init_histogram(&f, PA_FLP_FIELD128, 100000, 316), 0);
    assert_int_equal(f.calls, 317);
    assert_int_equal(f.p, 512);
}

/*
 * A raw measurement share (decoded without conversion, field128.h) gives SumVec's
 * query exactly the verifier of the ordinary share, and truncate its raw output
 * share (encoded back, the same bytes); other circuits refuse a raw share.
 */
#define DEFINE_RAW_QUERY(F, ENC)                                                              \
    static void raw_query_##F(void)                                                          \
    {                                                                                        \
        pa_flp f, h;                                                                         \
        assert_int_equal(pa_flp_init_sumvec(&f, sizeof(pa_##F) == 8 ? PA_FLP_FIELD64         \
                                                                    : PA_FLP_FIELD128,       \
                                            10, 1000, 4),                                    \
                         0);                                                                 \
        size_t ml = f.meas_len, pl = f.proof_len, vl = f.verifier_len, ol = f.output_len;    \
        pa_##F *m = malloc(ml * sizeof *m), *raw = malloc(ml * sizeof *raw);                 \
        pa_##F *pr = malloc(pl * sizeof *pr), *jr = malloc((f.joint_rand_len + 1) * sizeof *jr); \
        assert_int_equal(pa_flp_init_histogram(&h, f.field, 10, 4), 0);                      \
        size_t ql = f.query_rand_len > h.query_rand_len ? f.query_rand_len : h.query_rand_len; \
        pa_##F *qr = malloc(ql * sizeof *qr);                                                \
        pa_##F *v1 = malloc(vl * sizeof *v1), *v2 = malloc(vl * sizeof *v2);                 \
        pa_##F *o1 = malloc(ol * sizeof *o1), *o2 = malloc(ol * sizeof *o2);                 \
        pa_##F *scratch = malloc(pa_flp_query_scratch_len(&f) * sizeof *scratch);            \
        uint8_t *b = malloc(ml * ENC), *e1 = malloc(ol * ENC), *e2 = malloc(ol * ENC);       \
        randvec_##F(m, ml);                                                                  \
        randvec_##F(pr, pl);                                                                 \
        randvec_##F(jr, f.joint_rand_len + 1);                                               \
        randvec_##F(qr, ql);                                                                 \
        pa_##F##_encode_vec(b, m, ml);                                                       \
        assert_int_equal(pa_##F##_decode_vec_raw(raw, b, ml), 0);                            \
        pa_##F inv = pa_##F##_inv(pa_##F##_from_u64(2));                                    \
        assert_int_equal(pa_flp_query_##F(&f, m, pr, qr, jr, inv, v1, scratch, 0), 0);       \
        assert_int_equal(pa_flp_query_##F(&f, raw, pr, qr, jr, inv, v2, scratch, 1), 0);     \
        assert_memory_equal(v1, v2, vl * sizeof *v1);                                        \
        pa_flp_truncate_##F(&f, m, o1);                                                      \
        pa_flp_truncate_##F(&f, raw, o2);                                                    \
        pa_##F##_encode_vec(e1, o1, ol);                                                     \
        pa_##F##_encode_vec_raw(e2, o2, ol);                                                 \
        assert_memory_equal(e1, e2, ol * ENC);                                               \
        assert_int_equal(pa_flp_query_##F(&h, raw, pr, qr, jr, inv, v2, scratch, 1),         \
                         PA_EINTERNAL);                                                      \
        free(m); free(raw); free(pr); free(jr); free(qr); free(v1); free(v2);                \
        free(o1); free(o2); free(scratch); free(b); free(e1); free(e2);                      \
    }
DEFINE_RAW_QUERY(f64, PA_F64_ENCODED_SIZE)
DEFINE_RAW_QUERY(f128, PA_F128_ENCODED_SIZE)

static void test_raw_measurement_share(void **state)
{
    (void)state;
    raw_query_f64();
    raw_query_f128();
}

int main(void)
{
    randombytes_buf_deterministic(g_seed, sizeof g_seed,
                                  (const unsigned char *)"flp_circuits_test_seed_0123456789");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),     cmocka_unit_test(test_sum),
        cmocka_unit_test(test_sumvec),    cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_multihot),  cmocka_unit_test(test_params),
        cmocka_unit_test(test_large),     cmocka_unit_test(test_raw_measurement_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
