/*
 * The intervals publish prints, checked against the truth.
 *
 * 1. pa_publish_dg_halfwidth (the pmf of summed draws by convolution) agrees with
 *    pa_dp_gaussian_interval (the closed form for one or two draws) at every
 *    sigma2 and level tried, and pa_publish_noise_halfwidth with no other
 *    batches' noise agrees with both.
 * 2. Coverage on simulated noise: 360 months of the small task (unit/publish_fixture.h),
 *    true counts known, every batch noised by two aggregators' draws from the
 *    exact sampler (engine/dp, seeded), published in-process; the fraction of
 *    published 90 % intervals (cells, margins, totals; statewide and partitions,
 *    reconciled and not) that hold the true count is at least 0.90 less three
 *    standard errors (deterministic: the seed is fixed), and so is the share
 *    of status margins whose share interval holds the true share.  Dropping the
 *    other batches' noise from a reconciled interval (a bug that narrows it)
 *    brings the partitions' margins to 0.784 (floor 0.884) and fails this test.
 * 3. Chebyshev's fallback, for pmfs too long to convolve, is wider than the exact
 *    interval and labelled conservative.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/publish.h"
#include "privagg/task.h"

static char g_dir[64];
static pa_task *g_pTask;

#include "unit/publish_fixture.h"

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_publish_cov_XXXXXX");
    if (mkdtemp(g_dir) == NULL || fixture_dirs(NULL) != 0) {
        fprintf(stderr, "fixture: %s\n", pa_error_detail());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    char zCmd[128];
    (void)state;
    pa_task_free(g_pTask);
    snprintf(zCmd, sizeof zCmd, "rm -rf %s", g_dir);
    return system(zCmd) == 0 ? 0 : -1;
}

static void test_agrees_with_closed_form(void **state)
{
    static const double aSigma2[] = {0.25, 1, 2.5, 4, 8, 37.5, 100, 1000};
    static const double aLevel[] = {0.5, 0.8, 0.9, 0.95, 0.99};
    (void)state;
    for (size_t i = 0; i < sizeof aSigma2 / sizeof aSigma2[0]; i++)
        for (size_t j = 0; j < sizeof aLevel / sizeof aLevel[0]; j++)
            for (unsigned nDraws = 1; nDraws <= 2; nDraws++) {
                uint64_t wPub, wDp;
                double h;
                int bExact;
                pa_publish_noise n = {1, aSigma2[i], nDraws, 0, {0, 0}, {0, 0}};
                assert_int_equal(pa_publish_dg_halfwidth(aSigma2[i], nDraws, aLevel[j], &wPub), PA_OK);
                assert_int_equal(pa_dp_gaussian_interval(aSigma2[i], nDraws, aLevel[j], &wDp), PA_OK);
                if (wPub != wDp)
                    fail_msg("sigma2 %g, %u draws, level %g: convolution %llu, closed form %llu", aSigma2[i],
                             nDraws, aLevel[j], (unsigned long long)wPub, (unsigned long long)wDp);
                assert_int_equal(pa_publish_noise_halfwidth(&n, aLevel[j], &h, &bExact), PA_OK);
                assert_true(bExact);
                assert_true(h == (double)wDp);
            }
    /* bad arguments are refused */
    uint64_t w;
    assert_int_equal(pa_publish_dg_halfwidth(0, 2, 0.9, &w), PA_EINVAL);
    assert_int_equal(pa_publish_dg_halfwidth(4, 0, 0.9, &w), PA_EINVAL);
    assert_int_equal(pa_publish_dg_halfwidth(4, 2, 1.0, &w), PA_EINVAL);
}

/* the true count of a row: its categories ("(all)" = any) over the cells */
static int64_t row_truth(const json_t *pRow, const int64_t aTrue[4], int bComplementOfStatus)
{
    static const char *const azOff[] = {"A", "A", "B", "B"}, *const azSt[] = {"citizen", "unknown", "citizen", "unknown"};
    const json_t *c = json_object_get(pRow, "categories");
    const char *zOff = json_string_value(json_object_get(c, "offense"));
    const char *zSt = json_string_value(json_object_get(c, "status"));
    int64_t s = 0;
    for (int i = 0; i < 4; i++) {
        int bSt = strcmp(zSt, "(all)") == 0 || strcmp(zSt, azSt[i]) == 0;
        if (bComplementOfStatus ? strcmp(zSt, azSt[i]) != 0
                                : ((strcmp(zOff, "(all)") == 0 || strcmp(zOff, azOff[i]) == 0) && bSt))
            s += aTrue[i];
    }
    return s;
}

#define N_MONTH 360

static void test_coverage(void **state)
{
    static const uint8_t aSeed[32] = "publish coverage test seed 0001";
    pa_dp_rng *pRng = NULL;
    pa_dp_mechanism mS, mP;
    /* per month: north, south truths (state = their sum) */
    static int64_t aTruth[N_MONTH][3][4];
    size_t nIn[2][2] = {{0}}, nAll[2][2] = {{0}}, nShareIn = 0, nShare = 0; /* [partition?][cell?] */
    char zIn[128], zOut[128], zData[128], zPath[160];
    pa_release *aRel = NULL;
    size_t nRel = 0;
    pa_publish_opts o;
    (void)state;

    snprintf(zIn, sizeof zIn, "%s/in", g_dir);
    assert_int_equal(pa_dp_rng_new_seeded_for_tests(&pRng, aSeed, sizeof aSeed), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&mS, pa_dp_rational_make(4, 1)), PA_OK);
    assert_int_equal(pa_dp_mechanism_gaussian(&mP, pa_dp_rational_make(8, 1)), PA_OK);
    for (unsigned k = 0; k < N_MONTH; k++) {
        char zPeriod[16];
        int bStateOnly = k % 6 == 5;   /* one month in six: only the statewide batch (not reconciled) */
        snprintf(zPeriod, sizeof zPeriod, "%04u-%02u", 2020 + k / 12, k % 12 + 1);
        for (int c = 0; c < 4; c++) {
            aTruth[k][1][c] = (k * 7 + c * 3) % 11;          /* north */
            aTruth[k][2][c] = (k * 5 + c * 13) % 4;          /* south: small, often 0 */
            aTruth[k][0][c] = aTruth[k][1][c] + aTruth[k][2][c];
        }
        for (int b = 0; b < 3; b++) {
            int64_t aNoised[4], aDraw[2];
            if (b > 0 && bStateOnly)
                continue;
            for (int c = 0; c < 4; c++) {
                assert_int_equal(pa_dp_sample_many_vartime(pRng, b == 0 ? &mS : &mP, aDraw, 2), PA_OK);
                aNoised[c] = aTruth[k][b][c] + aDraw[0] + aDraw[1];
            }
            write_collection(zPeriod, b == 0 ? "state" : b == 1 ? "north" : "south", b == 0 ? 4 : 8, b == 1 ? 3 : 2,
                             aNoised);
        }
    }
    pa_dp_rng_free(pRng);

    assert_int_equal(pa_release_load_dir(g_pTask, zIn, &aRel, &nRel), PA_OK);
    snprintf(zOut, sizeof zOut, "%s/out", g_dir);
    snprintf(zData, sizeof zData, "%s/data", g_dir);
    memset(&o, 0, sizeof o);
    o.zDataDir = zData;
    o.zOutDir = zOut;
    o.zVersion = "test";
    if (pa_publish(g_pTask, aRel, nRel, &o, NULL) != PA_OK)
        fail_msg("publish: %s", pa_error_detail());
    pa_release_free_all(aRel, nRel);

    snprintf(zPath, sizeof zPath, "%s/out/table.json", g_dir);
    json_t *pRoot = json_load_file(zPath, 0, NULL), *t;
    size_t i;
    assert_non_null(pRoot);
    json_array_foreach(json_object_get(pRoot, "tables"), i, t) {
        const char *zPeriod = json_string_value(json_object_get(t, "period"));
        const char *zPart = json_string_value(json_object_get(t, "partition"));
        int k = (atoi(zPeriod) - 2020) * 12 + atoi(zPeriod + 5) - 1;
        int b = strcmp(zPart, "state") == 0 ? 0 : strcmp(zPart, "north") == 0 ? 1 : 2;
        json_t *r;
        size_t j;
        assert_true(k >= 0 && k < N_MONTH);
        json_array_foreach(json_object_get(t, "rows"), j, r) {
            int64_t truth = row_truth(r, aTruth[k][b], 0);
            json_t *ci = json_object_get(r, "ci90"), *sh = json_object_get(r, "share_of_total");
            int bCell = strcmp(json_string_value(json_object_get(r, "kind")), "cell") == 0;
            nAll[b > 0][bCell]++;
            nIn[b > 0][bCell] += json_integer_value(json_array_get(ci, 0)) <= truth &&
                                  truth <= json_integer_value(json_array_get(ci, 1));
            if (sh != NULL) {
                int64_t rest = row_truth(r, aTruth[k][b], 1);
                if (truth + rest > 0) {
                    double s = (double)truth / (double)(truth + rest);
                    json_t *sci = json_object_get(sh, "ci90");
                    nShare++;
                    nShareIn += json_number_value(json_array_get(sci, 0)) <= s + 1e-4 &&
                                s - 1e-4 <= json_number_value(json_array_get(sci, 1));
                }
            }
        }
    }
    json_decref(pRoot);
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 2; c++) {
            double cov = (double)nIn[p][c] / (double)nAll[p][c];
            double floor_ = 0.90 - 3 * sqrt(0.09 / (double)nAll[p][c]);
            print_message("coverage of 90 %% intervals, %s %s: %zu of %zu = %.4f (at least %.4f)\n",
                          p ? "partition" : "statewide", c ? "cells" : "margins and totals", nIn[p][c], nAll[p][c],
                          cov, floor_);
            if (cov < floor_)
                fail_msg("coverage %.4f below %.4f", cov, floor_);
        }
    print_message("coverage of status shares' 90 %% intervals: %zu of %zu = %.4f\n", nShareIn, nShare,
                  (double)nShareIn / (double)nShare);
    if ((double)nShareIn / (double)nShare < 0.90 - 3 * sqrt(0.09 / (double)nShare))
        fail_msg("share coverage below the level");
}

static void test_chebyshev_fallback(void **state)
{
    /* 4 x 10^6 draws of sigma2 1000: too long to convolve, conservative */
    pa_publish_noise big = {0.9, 1000, 4000000, 0.1, {1000, 0}, {1000, 0}};
    pa_publish_noise small = {0.9, 4, 200, 0.1, {4, 0}, {400, 0}};
    double h, hExact;
    int bExact;
    (void)state;
    assert_int_equal(pa_publish_noise_halfwidth(&big, 0.9, &h, &bExact), PA_OK);
    assert_false(bExact);
    /* Chebyshev: sqrt(Var / 0.1), Var = 0.81 * 4e6 * 1000 + 0.01 * 1000 * 1000 */
    assert_true(fabs(h - sqrt((0.81 * 4e9 + 0.01 * 1e6) / 0.1)) < 1e-6 * h);
    /* the exact one is narrower than Chebyshev's at the same variance */
    assert_int_equal(pa_publish_noise_halfwidth(&small, 0.9, &hExact, &bExact), PA_OK);
    assert_true(bExact);
    assert_true(hExact < sqrt((0.81 * 200 * 4 + 0.01 * 400 * 4) / 0.1));
    assert_true(hExact > 1.6 * sqrt(0.81 * 200 * 4 + 0.01 * 400 * 4) * 0.95);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_closed_form),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_chebyshev_fallback),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
