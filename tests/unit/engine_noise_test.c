/*
 * Each aggregator's release noise, tested on its own against figures this test
 * computes itself.  Ten agencies report three months; every month the
 * statewide batch and every partition are released.  Before each release the
 * test reads both aggregators' exact aggregate shares from their stores; it
 * then opens the leader's and the helper's sealed noised shares separately with
 * the collector's key, so each aggregator's noise is (opened share - exact
 * share), cell by cell.
 *
 * The expected noise comes from the task's policy as written here, never from
 * the code under test: contribution bounds c = 2 per cell, k = 3 cells per
 * record, so Delta_2^2 = k c^2 = 12, and sigma^2 = Delta_2^2 / (2 rho) per
 * aggregator: 40 for a statewide release (rho 0.15), 15 for a partition (rho
 * 0.4).  The discrete Gaussian's exact pmf, variance and central intervals (of
 * one aggregator's noise and of the sum of both) are computed here by summing
 * exp(-x^2 / (2 sigma^2)).  Checked, per level and per aggregator:
 *  - the empirical variance lies within Chernoff bounds of the chi-square law
 *    of n samples (false alarm <= 1e-9 per side and check);
 *  - the number of cells inside the exact 50 % interval lies within Hoeffding
 *    bounds on both sides (<= 1e-9 per side), so too little noise fails from
 *    above and too much from below; the same for the summed noise of both
 *    aggregators at 50 % and 95 %;
 *  - the two aggregators' noise vectors differ.
 * About 30 checks at <= 2e-9 each: a false alarm below 1e-7 per run.  "The
 * helper adds no noise", "the leader adds no noise", "sensitivity quartered"
 * and "sigma^2 four times too large" each fail several checks.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "field/field128.h"
#include "privagg/hpke.h"
#include "privagg/messages.h"
#include "privagg/vdaf.h"
#include "support/flow.h"

#define N_AGENCY 10
#define N_CELL 270
#define C_PER_CELL 2     /* dp.max_per_cell */
#define K_CELLS 3        /* dp.max_cells_per_record */
#define RHO_STATE 0.15
#define RHO_PARTITION 0.4
#define ALPHA 1e-9       /* false alarm per side of each check */
#define MAX_SAMPLES (3 * 12 * N_CELL)

static const char *g_azPeriod[] = {"2026-08", "2026-09", "2026-10"};

static void policy(json_t *pRoot)
{
    json_t *dp = json_object_get(pRoot, "dp");
    json_object_set_new(dp, "max_per_cell", json_integer(C_PER_CELL));
    json_object_set_new(dp, "max_cells_per_record", json_integer(K_CELLS));
    json_object_set_new(dp, "budget_per_record", json_pack("{s:f}", "rho", 1.0));
    json_object_set_new(dp, "per_release", json_pack("{s:{s:f}, s:{s:f}}", "state", "rho", RHO_STATE,
                                                     "partition", "rho", RHO_PARTITION));
}

/* sigma^2 of one aggregator's noise at a level, from the policy above. */
static double sigma2_of(int bState)
{
    double l2sq = (double)K_CELLS * C_PER_CELL * C_PER_CELL;
    return l2sq / (2.0 * (bState ? RHO_STATE : RHO_PARTITION));
}

/* ------------------------------------------------ the exact law, computed here */

#define HALF 2000 /* support [-HALF, HALF]: far beyond 40 sigma for sigma^2 <= 40 */
#define SPAN (2 * HALF + 1)

static void dgauss_pmf(double sigma2, double *p)
{
    double z = 0;
    for (int x = -HALF; x <= HALF; x++)
        z += p[x + HALF] = exp(-(double)x * x / (2 * sigma2));
    for (int i = 0; i < SPAN; i++)
        p[i] /= z;
}

/* pmf of the sum of two independent draws of p (support [-2 HALF, 2 HALF]). */
static void convolve(const double *p, double *q)
{
    memset(q, 0, sizeof(double) * (2 * SPAN - 1));
    for (int i = 0; i < SPAN; i++)
        if (p[i] > 1e-300)
            for (int j = 0; j < SPAN; j++)
                q[i + j] += p[i] * p[j];
}

static double variance(const double *p, int nHalf)
{
    double v = 0;
    for (int x = -nHalf; x <= nHalf; x++)
        v += (double)x * x * p[x + nHalf];
    return v;
}

/* The smallest w with P(|X| <= w) >= level, and that probability. */
static void interval(const double *p, int nHalf, double level, int *pW, double *pCover)
{
    double c = p[nHalf];
    int w = 0;
    while (c < level) {
        w++;
        c += p[nHalf + w] + p[nHalf - w];
    }
    *pW = w;
    *pCover = c;
}

/* Chernoff bounds of chi-square_n / n: P(S/n >= t) and P(S/n <= t) are at most
 * exp(-n/2 (t - 1 - ln t)); the t on each side where that equals ALPHA. */
static void chi2_bounds(size_t n, double *pLo, double *pHi)
{
    double target = 2.0 * log(1.0 / ALPHA) / (double)n, lo, hi;
    lo = 1.0, hi = 100.0;
    for (int i = 0; i < 200; i++) {
        double m = (lo + hi) / 2;
        (m - 1 - log(m) < target ? (lo = m) : (hi = m));
    }
    *pHi = hi;
    lo = 1e-9, hi = 1.0;
    for (int i = 0; i < 200; i++) {
        double m = (lo + hi) / 2;
        (m - 1 - log(m) < target ? (hi = m) : (lo = m));
    }
    *pLo = lo;
}

/* Hoeffding: |count - n p| <= sqrt(n ln(1/ALPHA) / 2) but with probability <= ALPHA per side. */
static void check_coverage(const char *zWhat, const int64_t *a, size_t n, const double *p, int nHalf,
                           double level)
{
    int w;
    double cover;
    size_t nIn = 0;
    interval(p, nHalf, level, &w, &cover);
    for (size_t i = 0; i < n; i++)
        nIn += a[i] >= -w && a[i] <= w;
    double mean = (double)n * cover, t = sqrt((double)n * log(1.0 / ALPHA) / 2.0);
    print_message("%s: %zu of %zu inside the exact %.0f %% interval +-%d (expected %.1f, bounds %.1f..%.1f)\n",
                  zWhat, nIn, n, level * 100, w, mean, mean - t, mean + t);
    if ((double)nIn < mean - t || (double)nIn > mean + t)
        fail_msg("%s: %zu of %zu inside +-%d, outside %.1f..%.1f (too %s noise)", zWhat, nIn, n, w,
                 mean - t, mean + t, (double)nIn < mean - t ? "much" : "little");
}

static void check_variance(const char *zWhat, const int64_t *a, size_t n, double v)
{
    double s = 0, lo, hi;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)a[i];
    s /= (double)n;
    chi2_bounds(n, &lo, &hi);
    print_message("%s: empirical variance %.2f over %zu cells, exact %.2f, bounds %.2f..%.2f\n", zWhat,
                  s, n, v, v * lo, v * hi);
    if (s < v * lo || s > v * hi)
        fail_msg("%s: empirical variance %.3f over %zu cells outside %.3f..%.3f (sigma^2 %.3f from "
                 "the task's rho and contribution bounds)", zWhat, s, n, v * lo, v * hi, v);
}

/* ------------------------------------------------ the flow */

typedef struct {
    int64_t *aNoise[2][2]; /* [level: 0 state, 1 partition][aggregator] */
    int64_t *aSum[2];      /* [level]: the total's error (both noises) */
    size_t an[2];
} samples;

/* Exact aggregate share of (period, partition) of one aggregator, from its store. */
typedef struct {
    const pa_prio3 *v;
    uint8_t *pOut, *pTmp;
    size_t nAgg;
    int nRow;
} share_sum;

static int add_batch(void *pCtx, const pa_store_batch_row *r)
{
    share_sum *a = pCtx;
    const uint8_t *apIn[2] = {a->pOut, r->pAggregate};
    size_t anLen[2] = {a->nAgg, r->nAggregate};
    assert_int_equal(pa_prio3_merge(a->v, apIn, anLen, 2, a->pTmp), PA_OK);
    memcpy(a->pOut, a->pTmp, a->nAgg);
    a->nRow++;
    return 0;
}

static void exact_share(flow *f, pa_store *pStore, const pa_prio3 *v, const char *zPeriod,
                        const char *zPartition, uint8_t *pOut, size_t nAgg)
{
    share_sum a = {v, pOut, malloc(nAgg), nAgg, 0};
    pa_prio3_agg_init(v, pOut);
    assert_int_equal(pa_store_batch_each(pStore, f->m.pTask->aTaskId, zPeriod, zPartition, add_batch, &a), PA_OK);
    assert_true(a.nRow > 0);
    free(a.pTmp);
}

/* The collector's key opens one aggregator's sealed share on its own. */
static void open_one(flow *f, const pa_collect_resp *m, const pa_sealed_agg *s, unsigned iAgg,
                     uint8_t *pOut, size_t nAgg)
{
    uint8_t aInfo[PA_AGG_SHARE_HPKE_INFO_SIZE], *pAad;
    size_t nAad;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    pa_hpke_ctx ctx;
    pa_agg_share_hpke_info(aInfo, iAgg);
    assert_int_equal(pa_agg_share_aad(&pAad, &nAad, m->aTaskId, m->aCollectionId, m->zPeriod,
                                      m->zPartition, s, iAgg), PA_OK);
    assert_int_equal(pa_hpke_setup_receiver_keypair(&ctx, s->aEnc, f->m.collector.aSecret,
                                                    f->m.collector.aPublic, NULL, &params), PA_OK);
    assert_int_equal(pa_hpke_open(&ctx, pOut, pAad, nAad, s->pCt, nAgg + PA_HPKE_NT), PA_OK);
    pa_hpke_ctx_wipe(&ctx);
    free(pAad);
}

/* (opened - exact) per cell, as signed integers. */
static void difference(const uint8_t *pOpened, const uint8_t *pExact, int64_t *aOut)
{
    for (size_t i = 0; i < N_CELL; i++) {
        pa_f128 a, b;
        uint64_t lo, hi, nlo, nhi;
        assert_int_equal(pa_f128_decode(&a, pOpened + i * PA_F128_ENCODED_SIZE), PA_OK);
        assert_int_equal(pa_f128_decode(&b, pExact + i * PA_F128_ENCODED_SIZE), PA_OK);
        pa_f128 d = pa_f128_sub(a, b);
        pa_f128_to_u64_pair(d, &lo, &hi);
        pa_f128_to_u64_pair(pa_f128_neg(d), &nlo, &nhi);
        if (hi == 0 && lo < 1000000)
            aOut[i] = (int64_t)lo;
        else if (nhi == 0 && nlo < 1000000)
            aOut[i] = -(int64_t)nlo;
        else
            fail_msg("cell %zu: noise beyond +-10^6", i);
    }
}

static void release_one(flow *f, const pa_prio3 *v, const char *zPeriod, const char *zPartition,
                        const uint64_t *aTrue, samples *pS)
{
    size_t nAgg = pa_prio3_agg_share_size(v);
    uint8_t *apExact[2] = {malloc(nAgg), malloc(nAgg)}, *pOpened = malloc(nAgg);
    uint8_t aId[16], *pReq, *pResp = NULL;
    size_t nReq, nResp;
    int iLevel = strcmp(zPartition, "state") == 0 ? 0 : 1;
    pa_collect_resp m;
    pa_msg_sizes sizes;
    pa_collection coll;
    int64_t aNoise[2][N_CELL];

    assert_int_equal(nAgg, (size_t)N_CELL * PA_F128_ENCODED_SIZE);
    exact_share(f, f->pLeaderStore, v, zPeriod, zPartition, apExact[0], nAgg);
    exact_share(f, f->pHelperStore, v, zPeriod, zPartition, apExact[1], nAgg);
    assert_int_equal(pa_collector_request(f->m.pTask, zPeriod, zPartition, aId, &pReq, &nReq), PA_OK);
    int rc = pa_leader_collect(f->pLeader, pReq, nReq, flow_transport, f, &pResp, &nResp);
    if (rc != PA_OK)
        fail_msg("collect %s/%s: %s: %s", zPeriod, zPartition, pa_strerror(rc), pa_error_detail());
    memset(&sizes, 0, sizeof sizes);
    sizes.nAggCt = nAgg + PA_HPKE_NT;
    assert_int_equal(pa_collect_resp_decode(&m, pResp, nResp, &sizes), PA_OK);
    open_one(f, &m, &m.leader, 0, pOpened, nAgg);
    difference(pOpened, apExact[0], aNoise[0]);
    open_one(f, &m, &m.helper, 1, pOpened, nAgg);
    difference(pOpened, apExact[1], aNoise[1]);
    assert_true(memcmp(aNoise[0], aNoise[1], sizeof aNoise[0]) != 0);
    /* the collector's combined totals: the true sums plus both noises */
    assert_int_equal(pa_collector_open(f->m.pTask, &f->m.collector, aId, zPeriod, zPartition, pResp,
                                       nResp, &coll), PA_OK);
    for (size_t c = 0; c < N_CELL; c++) {
        int64_t err = coll.aTotal[c] - (int64_t)aTrue[c];
        assert_int_equal(err, aNoise[0][c] + aNoise[1][c]);
        size_t k = pS->an[iLevel]++;
        assert_true(k < MAX_SAMPLES);
        pS->aNoise[iLevel][0][k] = aNoise[0][c];
        pS->aNoise[iLevel][1][k] = aNoise[1][c];
        pS->aSum[iLevel][k] = err;
    }
    pa_collection_free(&coll);
    free(pReq);
    free(pResp);
    free(apExact[0]);
    free(apExact[1]);
    free(pOpened);
}

static void test_each_aggregators_noise(void **state)
{
    flow f;
    pa_job_stats st;
    pa_prio3 *v;
    int b128;
    samples S;
    char azPart[N_AGENCY][65];
    size_t nPart = 0;
    (void)state;

    memset(&S, 0, sizeof S);
    for (int l = 0; l < 2; l++) {
        S.aSum[l] = calloc(MAX_SAMPLES, sizeof(int64_t));
        for (int j = 0; j < 2; j++)
            S.aNoise[l][j] = calloc(MAX_SAMPLES, sizeof(int64_t));
    }
    assert_int_equal(flow_new(&f, N_AGENCY, 1, policy), PA_OK);
    assert_int_equal(f.m.pTask->nMaxPerCell, C_PER_CELL);
    assert_int_equal(f.m.pTask->nMaxCellsPerRecord, K_CELLS);
    assert_int_equal(pa_vdaf_from_task(&v, f.m.pTask, &b128), PA_OK);
    assert_true(b128);
    for (size_t i = 0; i < N_AGENCY; i++) {
        const pa_task_agency *a = pa_task_find_agency(f.m.pTask, f.m.aAgency[i].zId);
        size_t k;
        assert_non_null(a);
        for (k = 0; k < nPart && strcmp(azPart[k], a->zPartition) != 0; k++)
            ;
        if (k == nPart)
            snprintf(azPart[nPart++], sizeof azPart[0], "%s", a->zPartition);
    }
    for (size_t p = 0; p < 3; p++) {
        uint64_t aTrue[N_CELL] = {0}, aPartTrue[N_AGENCY][N_CELL];
        memset(aPartTrue, 0, sizeof aPartTrue);
        for (size_t i = 0; i < N_AGENCY; i++) {
            uint64_t a[N_CELL];
            const pa_task_agency *ag = pa_task_find_agency(f.m.pTask, f.m.aAgency[i].zId);
            size_t k;
            for (k = 0; strcmp(azPart[k], ag->zPartition) != 0; k++)
                ;
            for (size_t c = 0; c < N_CELL; c++)
                a[c] = (c * 7 + i * 3 + p) % 5;
            assert_int_equal(flow_submit(&f, i, g_azPeriod[p], a), PA_OK);
            for (size_t c = 0; c < N_CELL; c++) {
                aTrue[c] += a[c];
                aPartTrue[k][c] += a[c];
            }
        }
        assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
        assert_int_equal(st.nAccepted, N_AGENCY);
        for (size_t k = 0; k < nPart; k++)
            release_one(&f, v, g_azPeriod[p], azPart[k], aPartTrue[k], &S);
        release_one(&f, v, g_azPeriod[p], "state", aTrue, &S);
    }
    print_message("%zu partitions; %zu statewide and %zu partition cells per aggregator\n", nPart,
                  S.an[0], S.an[1]);

    static double p[SPAN], q[2 * SPAN - 1];
    static const char *azAgg[2] = {"leader", "helper"};
    char zWhat[80];
    for (int l = 0; l < 2; l++) {
        double s2 = sigma2_of(l == 0);
        dgauss_pmf(s2, p);
        convolve(p, q);
        for (int j = 0; j < 2; j++) {
            snprintf(zWhat, sizeof zWhat, "%s noise, %s releases", azAgg[j], l ? "partition" : "statewide");
            check_variance(zWhat, S.aNoise[l][j], S.an[l], variance(p, HALF));
            check_coverage(zWhat, S.aNoise[l][j], S.an[l], p, HALF, 0.5);
        }
        snprintf(zWhat, sizeof zWhat, "summed noise, %s releases", l ? "partition" : "statewide");
        check_variance(zWhat, S.aSum[l], S.an[l], variance(q, 2 * HALF));
        check_coverage(zWhat, S.aSum[l], S.an[l], q, 2 * HALF, 0.5);
        check_coverage(zWhat, S.aSum[l], S.an[l], q, 2 * HALF, 0.95);
    }
    for (int l = 0; l < 2; l++) {
        free(S.aSum[l]);
        for (int j = 0; j < 2; j++)
            free(S.aNoise[l][j]);
    }
    pa_prio3_free(v);
    flow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_aggregators_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
