/*
 * A publish case small enough to check by hand: a task of 2 x 2 cells (offense
 * A/B x status citizen/unknown), two partitions ("north" = counties 29001 +
 * 29003, "south" = 29005) and collection results with known noised totals,
 * some negative.  pa_release_load_dir and pa_publish run in-process on files
 * written here (data/ too: three counties' populations for 2023 and 2024 and
 * three dummy shapes), and table.csv must be exactly the one computed by hand
 * below: the WLS consistency step, non-negativity and rounding, the intervals,
 * rates with the partition's population for the period's year (a region = the
 * sum of its counties), shares by status, low-reliability flags and coverage.
 * The intervals' half-widths are checked separately against a brute-force
 * enumeration of the noise's distribution written here (not intervals.c's).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/publish.h"
#include "privagg/registry.h"
#include "privagg/task.h"

static char g_dir[64];
static pa_task *g_pTask;

#include "unit/publish_fixture.h"

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_publish_small_XXXXXX");
    if (mkdtemp(g_dir) == NULL || fixture_dirs(NULL) != 0) {
        fprintf(stderr, "fixture: %s\n", pa_error_detail());
        return -1;
    }
    /* cells: 0 = (A, citizen), 1 = (A, unknown), 2 = (B, citizen), 3 = (B, unknown) */
    static const int64_t aState23[4] = {12, 4, 5, -2}, aNorth[4] = {6, 1, 5, -3}, aSouth[4] = {3, 2, 1, 0},
                         aState24[4] = {-1, 0, 10, 2};
    write_collection("2023-07", "state", 4, 4, aState23);
    write_collection("2023-07", "north", 8, 2, aNorth);
    write_collection("2023-07", "south", 8, 2, aSouth);
    write_collection("2024-01", "state", 4, 5, aState24);
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

static char *slurp(const char *zPath)
{
    FILE *f = fopen(zPath, "r");
    char *z;
    long n;
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    z = calloc((size_t)n + 1, 1);
    assert_non_null(z);
    assert_int_equal(fread(z, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return z;
}

/*
 * The hand computation.
 *
 * Noise: statewide sigma2 = 4 per aggregator (v_s = 2 sigma2 = 8), partitions 8
 * (v_p = 16), n = 2 partitions.  lambda = n v_p / (n v_p + v_s) = 32 / 40 = 0.8,
 * lambda / n = 0.4.
 *
 * 2023-07, all three batches released, so reconciled (cells A/cit, A/unk, B/cit, B/unk):
 *   y_s = 12, 4, 5, -2;  north 6, 1, 5, -3;  south 3, 2, 1, 0;  Y = 9, 3, 6, -3
 *   y_s - Y = 3, 1, -1, 1
 *   S^ = 0.8 y_s + 0.2 Y = 11.4, 3.8, 5.2, -2.2
 *   north^ = y + 0.4 (y_s - Y) = 7.2, 1.4, 4.6, -2.6;  south^ = 4.2, 2.4, 0.6, 0.4
 *   north^ + south^ = 11.4, 3.8, 5.2, -2.2 = S^ (the consistency).
 *   Margins are sums of cell estimates: state A 15.2, B 3.0, citizen 16.6,
 *   unknown 1.6, total 18.2; north A 8.6, B 2.0, cit 11.8, unk -1.2, total 10.6;
 *   south A 6.6, B 1.0, cit 4.8, unk 2.8, total 7.6.
 * Published = max(0, round(estimate)): -2.2 -> 0, 1.6 -> 2, 18.2 -> 18, -1.2 -> 0.
 *
 * Intervals: the smallest w with P(|noise| <= w) >= 0.90, the noise being
 *   state:      0.8 (own 2m draws of sigma2 4) + 0.2 (2 m n partition draws of 8)
 *   partition:  0.6 (own 2m draws of 8) + 0.4 (2m statewide draws of 4 and 2m of 8)
 *   unreconciled (2024-01): the own 2m draws of 4
 * for m cells.  By enumerating every (own, rest) pair of the exact pmfs
 * (independently of intervals.c, see g_aWant below):
 *   m = 1: state 4.2, partition 5.0, unreconciled 5;  m = 2: 5.8, 7.2, 7;
 *   m = 4: 8.4, 10.2, 9  (at 95 %, m = 2: 7.0, 8.6, 8).
 * Interval = [max(0, ceil(est - w)), max(0, floor(est + w))]:
 *   state A/cit 11.4 +- 4.2 -> [8, 15];  A/unk 3.8 -> [0, 8];  B/unk -2.2 -> [0, 2]
 *   state margin A 15.2 +- 5.8 -> [10, 21]; total 18.2 +- 8.4 -> [10, 26]
 *   north A/cit 7.2 +- 5.0 -> [3, 12]; north total 10.6 +- 10.2 -> [1, 20]
 *   2024-01 (not reconciled: only the statewide batch), cells -1, 0, 10, 2:
 *   A/cit -1 +- 5 -> [0, 4]; B/cit 10 +- 5 -> [5, 15]; total 11 +- 9 -> [2, 20].
 * noise_sd = sqrt(sum coef^2 draws sigma2): state cell sqrt(0.64 * 8 + 0.04 * 32) = 2.530,
 *   partition cell sqrt(0.36 * 16 + 0.16 * (8 + 16)) = 3.098, unreconciled 2.828.
 * Low reliability when high - low > published: state A/cit 7 > 11 no; A/unk 8 > 4 yes;
 *   state A margin 11 > 15 no, total 16 > 18 no, citizen 11 > 17 no; 2024 B/cit
 *   10 > 10 no (equal is not wider), B margin 12 +- 7 -> [5, 19]: 14 > 12 yes.
 *
 * Rates (rows whose status is "(all)" only: residents by status are unknown) per
 * 100,000 per month, the population of the period's year: 2023 north = 29001 +
 * 29003 = 20000 + 30000 = 50000, south 25000, state 75000; 2024 state = 21000 +
 * 30000 + 29000 = 80000.  State 2023 A: 15 / 75000 e5 = 20.000 [13.333, 28.000],
 * x 12 = 240 [160, 336]; north A 9 / 50000 e5 = 18.000 [4, 30]; south total
 * 8 / 25000 e5 = 32.000 [0, 68]; 2024 B 12 / 80000 e5 = 15.000 [6.250, 23.750].
 *
 * Shares (status margins): published / (published + the rest's published);
 * interval [lo_s / (lo_s + hi_r), hi_s / (hi_s + lo_r)] from 95 % intervals.
 *   state 2023 citizen: 17 / (17 + 2) = 0.8947; 95 %: citizen 16.6 +- 7.0 ->
 *   [10, 23], unknown 1.6 +- 7.0 -> [0, 8]: [10 / 18, 23 / 23] = [0.5556, 1.0000].
 *   north citizen 12 / (12 + 0) = 1; 95 %: cit 11.8 +- 8.6 -> [4, 20], unk -1.2
 *   -> [0, 7]: [4 / 11, 1] = [0.3636, 1].  south citizen 5 / 8 = 0.6250.
 *   2024 citizen 9 / 11 = 0.8182; 95 % (w 8): cit 9 -> [1, 17], unk 2 -> [0, 10]:
 *   [1 / 11, 17 / 17] = [0.0909, 1]; unknown 2 / 11 = 0.1818, [0, 10 / 11 = 0.9091].
 *
 * Coverage: reported (the collection's agencies) / listed (the task's): state
 * 2023 4 / 5, north 2 / 3, south 2 / 2, state 2024 5 / 5.  Population share
 * served (table.json): south 25000 / 75000 = 0.3333 (all its agencies reported),
 * north unknown (null), state 2023 the fully reported partitions = 0.3333 (a
 * lower bound), state 2024 (every agency reported) 80000 / 80000 = 1.
 */
#define NOTE                                                                                                 \
    "no rate: residents by immigration status are not counted (the denominator is unknown); see the share " \
    "of the total instead"
static const char *const g_azWant[] = {
    "2023-07,state,cell,A,citizen,12,11.400,11,8,15,exact,yes,2.530,,75000,2023,,,,,,," NOTE ",,,,4,5,0.3333,",
    "2023-07,state,cell,A,unknown,4,3.800,4,0,8,exact,yes,2.530,low reliability,75000,2023,,,,,,," NOTE ",,,,4,5,0.3333,",
    "2023-07,state,cell,B,citizen,5,5.200,5,1,9,exact,yes,2.530,low reliability,75000,2023,,,,,,," NOTE ",,,,4,5,0.3333,",
    "2023-07,state,cell,B,unknown,-2,-2.200,0,0,2,exact,yes,2.530,low reliability,75000,2023,,,,,,," NOTE ",,,,4,5,0.3333,",
    "2023-07,state,margin,A,(all),16,15.200,15,10,21,exact,yes,3.578,,75000,2023,20.000,13.333,28.000,240.000,160.000,336.000,,,,,4,5,0.3333,",
    "2023-07,state,margin,B,(all),3,3.000,3,0,8,exact,yes,3.578,low reliability,75000,2023,4.000,0.000,10.667,48.000,0.000,128.000,,,,,4,5,0.3333,",
    "2023-07,state,margin,(all),citizen,17,16.600,17,11,22,exact,yes,3.578,,75000,2023,,,,,,," NOTE ",0.8947,0.5556,1.0000,4,5,0.3333,",
    "2023-07,state,margin,(all),unknown,2,1.600,2,0,7,exact,yes,3.578,low reliability,75000,2023,,,,,,," NOTE ",0.1053,0.0000,0.4444,4,5,0.3333,",
    "2023-07,state,total,(all),(all),19,18.200,18,10,26,exact,yes,5.060,,75000,2023,24.000,13.333,34.667,288.000,160.000,416.000,,,,,4,5,0.3333,",
    "2023-07,north,cell,A,citizen,6,7.200,7,3,12,exact,yes,3.098,low reliability,50000,2023,,,,,,," NOTE ",,,,2,3,,",
    "2023-07,north,cell,A,unknown,1,1.400,1,0,6,exact,yes,3.098,low reliability,50000,2023,,,,,,," NOTE ",,,,2,3,,",
    "2023-07,north,cell,B,citizen,5,4.600,5,0,9,exact,yes,3.098,low reliability,50000,2023,,,,,,," NOTE ",,,,2,3,,",
    "2023-07,north,cell,B,unknown,-3,-2.600,0,0,2,exact,yes,3.098,low reliability,50000,2023,,,,,,," NOTE ",,,,2,3,,",
    "2023-07,north,margin,A,(all),7,8.600,9,2,15,exact,yes,4.382,low reliability,50000,2023,18.000,4.000,30.000,216.000,48.000,360.000,,,,,2,3,,",
    "2023-07,north,margin,B,(all),2,2.000,2,0,9,exact,yes,4.382,low reliability,50000,2023,4.000,0.000,18.000,48.000,0.000,216.000,,,,,2,3,,",
    "2023-07,north,margin,(all),citizen,11,11.800,12,5,19,exact,yes,4.382,low reliability,50000,2023,,,,,,," NOTE ",1.0000,0.3636,1.0000,2,3,,",
    "2023-07,north,margin,(all),unknown,-2,-1.200,0,0,6,exact,yes,4.382,low reliability,50000,2023,,,,,,," NOTE ",0.0000,0.0000,0.6364,2,3,,",
    "2023-07,north,total,(all),(all),9,10.600,11,1,20,exact,yes,6.197,low reliability,50000,2023,22.000,2.000,40.000,264.000,24.000,480.000,,,,,2,3,,",
    "2023-07,south,cell,A,citizen,3,4.200,4,0,9,exact,yes,3.098,low reliability,25000,2023,,,,,,," NOTE ",,,,2,2,1.0000,1.0000",
    "2023-07,south,cell,A,unknown,2,2.400,2,0,7,exact,yes,3.098,low reliability,25000,2023,,,,,,," NOTE ",,,,2,2,1.0000,1.0000",
    "2023-07,south,cell,B,citizen,1,0.600,1,0,5,exact,yes,3.098,low reliability,25000,2023,,,,,,," NOTE ",,,,2,2,1.0000,1.0000",
    "2023-07,south,cell,B,unknown,0,0.400,0,0,5,exact,yes,3.098,low reliability,25000,2023,,,,,,," NOTE ",,,,2,2,1.0000,1.0000",
    "2023-07,south,margin,A,(all),5,6.600,7,0,13,exact,yes,4.382,low reliability,25000,2023,28.000,0.000,52.000,336.000,0.000,624.000,,,,,2,2,1.0000,1.0000",
    "2023-07,south,margin,B,(all),1,1.000,1,0,8,exact,yes,4.382,low reliability,25000,2023,4.000,0.000,32.000,48.000,0.000,384.000,,,,,2,2,1.0000,1.0000",
    "2023-07,south,margin,(all),citizen,4,4.800,5,0,12,exact,yes,4.382,low reliability,25000,2023,,,,,,," NOTE ",0.6250,0.0000,1.0000,2,2,1.0000,1.0000",
    "2023-07,south,margin,(all),unknown,2,2.800,3,0,10,exact,yes,4.382,low reliability,25000,2023,,,,,,," NOTE ",0.3750,0.0000,1.0000,2,2,1.0000,1.0000",
    "2023-07,south,total,(all),(all),6,7.600,8,0,17,exact,yes,6.197,low reliability,25000,2023,32.000,0.000,68.000,384.000,0.000,816.000,,,,,2,2,1.0000,1.0000",
    "2024-01,state,cell,A,citizen,-1,-1.000,0,0,4,exact,no,2.828,low reliability,80000,2024,,,,,,," NOTE ",,,,5,5,1.0000,1.0000",
    "2024-01,state,cell,A,unknown,0,0.000,0,0,5,exact,no,2.828,low reliability,80000,2024,,,,,,," NOTE ",,,,5,5,1.0000,1.0000",
    "2024-01,state,cell,B,citizen,10,10.000,10,5,15,exact,no,2.828,,80000,2024,,,,,,," NOTE ",,,,5,5,1.0000,1.0000",
    "2024-01,state,cell,B,unknown,2,2.000,2,0,7,exact,no,2.828,low reliability,80000,2024,,,,,,," NOTE ",,,,5,5,1.0000,1.0000",
    "2024-01,state,margin,A,(all),-1,-1.000,0,0,6,exact,no,4.000,low reliability,80000,2024,0.000,0.000,7.500,0.000,0.000,90.000,,,,,5,5,1.0000,1.0000",
    "2024-01,state,margin,B,(all),12,12.000,12,5,19,exact,no,4.000,low reliability,80000,2024,15.000,6.250,23.750,180.000,75.000,285.000,,,,,5,5,1.0000,1.0000",
    "2024-01,state,margin,(all),citizen,9,9.000,9,2,16,exact,no,4.000,low reliability,80000,2024,,,,,,," NOTE ",0.8182,0.0909,1.0000,5,5,1.0000,1.0000",
    "2024-01,state,margin,(all),unknown,2,2.000,2,0,9,exact,no,4.000,low reliability,80000,2024,,,,,,," NOTE ",0.1818,0.0000,0.9091,5,5,1.0000,1.0000",
    "2024-01,state,total,(all),(all),11,11.000,11,2,20,exact,no,5.657,low reliability,80000,2024,13.750,2.500,25.000,165.000,30.000,300.000,,,,,5,5,1.0000,1.0000",
};

static const struct pa_registry *g_pReg; /* publish --registry (NULL: none) */

static void run_publish(void)
{
    pa_release *aRel = NULL;
    size_t nRel = 0;
    char zIn[128], zOut[128], zData[128];
    pa_publish_opts o;
    pa_publish_summary sum;
    snprintf(zIn, sizeof zIn, "%s/in", g_dir);
    snprintf(zOut, sizeof zOut, "%s/out", g_dir);
    snprintf(zData, sizeof zData, "%s/data", g_dir);
    assert_int_equal(pa_release_load_dir(g_pTask, zIn, &aRel, &nRel), PA_OK);
    assert_int_equal(nRel, 4);
    memset(&o, 0, sizeof o);
    o.zDataDir = zData;
    o.zOutDir = zOut;
    o.zVersion = "test";
    o.pRegistry = g_pReg;
    if (pa_publish(g_pTask, aRel, nRel, &o, &sum) != PA_OK)
        fail_msg("publish: %s", pa_error_detail());
    assert_int_equal(sum.nRelease, 4);
    assert_int_equal(sum.nPeriod, 2);
    assert_int_equal(sum.nRow, 4 * 9);
    assert_int_equal(sum.nReconciled, 1);
    pa_release_free_all(aRel, nRel);
}

static void test_table_csv(void **state)
{
    char zPath[160], *z, *zLine, *zSave = NULL;
    size_t i = 0, nBad = 0;
    (void)state;
    run_publish();
    snprintf(zPath, sizeof zPath, "%s/out/table.csv", g_dir);
    z = slurp(zPath);
    zLine = strtok_r(z, "\n", &zSave);
    assert_non_null(zLine);
    assert_string_equal(zLine, "period,partition,kind,offense,status,noised,estimate,published,ci90_low,ci90_high,"
                               "interval,reconciled,noise_sd,low_reliability,population,population_year,"
                               "rate_per_100k_month,rate_month_low,rate_month_high,rate_per_100k_year,"
                               "rate_year_low,rate_year_high,rate_note,share_of_total,share_low,share_high,"
                               "agencies_reported,agencies_listed,population_share_served_low,"
                               "population_share_served_high");
    while ((zLine = strtok_r(NULL, "\n", &zSave)) != NULL) {
        if (i >= sizeof g_azWant / sizeof g_azWant[0])
            fail_msg("table.csv: more rows than the %zu expected: %s", i, zLine);
        if (strcmp(zLine, g_azWant[i]) != 0) {
            print_message("table.csv row %zu:\n  got  %s\n  want %s\n", i + 1, zLine, g_azWant[i]);
            nBad++;
        }
        i++;
    }
    assert_int_equal(i, sizeof g_azWant / sizeof g_azWant[0]);
    if (nBad > 0)
        fail_msg("table.csv: %zu rows differ from the hand computation", nBad);
    free(z);
}

/* table.json: coverage (the share of the population served) and reconciled flags */
static void test_table_json(void **state)
{
    static const struct {
        const char *zPeriod, *zPart;
        int bReconciled;
        double rShare;                 /* < 0: null (unknown) */
        int nPop, iYear;
    } aWant[] = {{"2023-07", "state", 1, 25000.0 / 75000.0, 75000, 2023},
                 {"2023-07", "north", 1, -1, 50000, 2023},
                 {"2023-07", "south", 1, 1.0, 25000, 2023}, /* its own residents, all reported */
                 {"2024-01", "state", 0, 1.0, 80000, 2024}};
    char zPath[160];
    json_t *pRoot, *pTables;
    (void)state;
    run_publish();
    snprintf(zPath, sizeof zPath, "%s/out/table.json", g_dir);
    pRoot = json_load_file(zPath, 0, NULL);
    assert_non_null(pRoot);
    pTables = json_object_get(pRoot, "tables");
    assert_int_equal(json_array_size(pTables), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *t = json_array_get(pTables, i), *c = json_object_get(t, "coverage");
        json_t *s = json_object_get(c, "population_share_served");
        assert_string_equal(json_string_value(json_object_get(t, "period")), aWant[i].zPeriod);
        assert_string_equal(json_string_value(json_object_get(t, "partition")), aWant[i].zPart);
        assert_int_equal(json_is_true(json_object_get(t, "reconciled")), aWant[i].bReconciled);
        assert_int_equal(json_integer_value(json_object_get(t, "population")), aWant[i].nPop);
        assert_int_equal(json_integer_value(json_object_get(t, "population_year")), aWant[i].iYear);
        if (aWant[i].rShare < 0)
            assert_true(json_is_null(s));
        else if (!(fabs(json_number_value(s) - aWant[i].rShare) < 1e-9))
            fail_msg("%s/%s: population share served %g, want %g", aWant[i].zPeriod, aWant[i].zPart,
                     json_number_value(s), aWant[i].rShare);
    }
    json_decref(pRoot);
}

/* the half-widths above, from pa_publish_noise_halfwidth, against the enumeration of
 * every (own, rest) pair of the exact pmfs (python, independently of intervals.c) */
static void test_halfwidths(void **state)
{
    static const struct {
        int bPart;                     /* 0: statewide, 1: partition, 2: unreconciled */
        uint64_t m;
        double level, w;
    } aWant[] = {{0, 1, 0.90, 4.2}, {0, 2, 0.90, 5.8}, {0, 4, 0.90, 8.4}, {0, 2, 0.95, 7.0},
                 {1, 1, 0.90, 5.0}, {1, 2, 0.90, 7.2}, {1, 4, 0.90, 10.2}, {1, 2, 0.95, 8.6},
                 {2, 1, 0.90, 5}, {2, 2, 0.90, 7}, {2, 4, 0.90, 9}, {2, 2, 0.95, 8}};
    (void)state;
    for (size_t i = 0; i < sizeof aWant / sizeof aWant[0]; i++) {
        pa_publish_noise n;
        double w;
        int bExact;
        memset(&n, 0, sizeof n);
        if (aWant[i].bPart == 0) {
            n = (pa_publish_noise){0.8, 4, 2 * aWant[i].m, 0.2, {0, 8}, {0, 4 * aWant[i].m}};
        } else if (aWant[i].bPart == 1) {
            n = (pa_publish_noise){0.6, 8, 2 * aWant[i].m, 0.4, {4, 8}, {2 * aWant[i].m, 2 * aWant[i].m}};
        } else {
            n = (pa_publish_noise){1, 4, 2 * aWant[i].m, 0, {0, 0}, {0, 0}};
        }
        assert_int_equal(pa_publish_noise_halfwidth(&n, aWant[i].level, &w, &bExact), PA_OK);
        assert_int_equal(bExact, 1);
        /* at or just above the lattice point where the mass reaches the level */
        if (!(w >= aWant[i].w - 1e-12 && w < aWant[i].w + 1e-6))
            fail_msg("case %zu: half-width %.12g, want %g", i, w, aWant[i].w);
    }
}

/*
 * schema.structural_zeros: cell 3 (B, unknown) can never be non-zero.  The
 * collector marks it "structural_zero": true; publish leaves it out of the rows,
 * the margins and the total (its noised value, -2 statewide, is noise only), and a
 * collection whose marks disagree with the task is refused.  By hand (2023-07, the
 * other cells' estimates unchanged, WLS being per cell): state B margin = B/cit =
 * 5.2 -> 5, unknown margin = A/unk = 3.8 -> 4, total 11.4 + 3.8 + 5.2 = 20.4 -> 20,
 * noised 12 + 4 + 5 = 21; 3 cells + 4 margins + total = 8 rows per table.
 */
static void test_structural_zeros(void **state)
{
    char zSaveDir[64], zIn[128], zOut[128], zData[128], zPath[160], *zTask, *z;
    pa_task *pSave = g_pTask;
    pa_release *aRel = NULL;
    size_t nRel = 0;
    pa_publish_opts o;
    pa_publish_summary sum;
    static const int64_t aState[4] = {12, 4, 5, -2}, aNorth[4] = {6, 1, 5, -3}, aSouth[4] = {3, 2, 1, 0};
    const char *zFrom = "\"categories\": [\"citizen\", \"unknown\"]}]},";
    const char *zAt = strstr(g_task, zFrom);
    (void)state;
    assert_non_null(zAt);
    zTask = calloc(strlen(g_task) + 200, 1);
    assert_non_null(zTask);
    memcpy(zTask, g_task, (size_t)(zAt - g_task));
    strcat(zTask, "\"categories\": [\"citizen\", \"unknown\"]}],"
                  " \"structural_zeros\": [{\"offense\": \"B\", \"status\": \"unknown\"}]},");
    strcat(zTask, zAt + strlen(zFrom));
    memcpy(zSaveDir, g_dir, sizeof g_dir);
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_publish_sz_XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    if (fixture_dirs(zTask) != 0)
        fail_msg("task with structural zeros: %s", pa_error_detail());
    assert_int_equal(g_pTask->nStructuralZero, 1);
    assert_true(pa_task_structural_zero(g_pTask, 3));
    snprintf(zIn, sizeof zIn, "%s/in", g_dir);
    snprintf(zOut, sizeof zOut, "%s/out", g_dir);
    snprintf(zData, sizeof zData, "%s/data", g_dir);

    /* a collection that does not mark the structural zero: refused */
    g_iStructuralCell = -1;
    write_collection("2023-07", "state", 4, 4, aState);
    assert_int_equal(pa_release_load_dir(g_pTask, zIn, &aRel, &nRel), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "cells[3]: not marked a structural zero"));
    /* one that marks another cell: refused */
    g_iStructuralCell = 2;
    write_collection("2023-07", "state", 4, 4, aState);
    assert_int_equal(pa_release_load_dir(g_pTask, zIn, &aRel, &nRel), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "cells[2]: marked a structural zero"));

    g_iStructuralCell = 3;
    write_collection("2023-07", "state", 4, 4, aState);
    write_collection("2023-07", "north", 8, 2, aNorth);
    write_collection("2023-07", "south", 8, 2, aSouth);
    if (pa_release_load_dir(g_pTask, zIn, &aRel, &nRel) != PA_OK)
        fail_msg("load: %s", pa_error_detail());
    memset(&o, 0, sizeof o);
    o.zDataDir = zData;
    o.zOutDir = zOut;
    o.zVersion = "test";
    if (pa_publish(g_pTask, aRel, nRel, &o, &sum) != PA_OK)
        fail_msg("publish: %s", pa_error_detail());
    assert_int_equal(sum.nRow, 3 * 8);
    pa_release_free_all(aRel, nRel);
    snprintf(zPath, sizeof zPath, "%s/table.csv", zOut);
    z = slurp(zPath);
    assert_null(strstr(z, ",cell,B,unknown,"));
    assert_non_null(strstr(z, "\n2023-07,state,margin,B,(all),5,5.200,5,"));
    assert_non_null(strstr(z, "\n2023-07,state,margin,(all),unknown,4,3.800,4,"));
    assert_non_null(strstr(z, "\n2023-07,state,total,(all),(all),21,20.400,20,"));
    assert_non_null(strstr(z, "\n2023-07,north,total,(all),(all),12,13.200,13,"));
    free(z);
    snprintf(zPath, sizeof zPath, "%s/report.html", zOut);
    z = slurp(zPath);
    assert_non_null(strstr(z, "Cells that cannot occur</b> (1 of 4"));
    free(z);
    snprintf(zPath, sizeof zPath, "%s/table.json", zOut);
    json_t *pRoot = json_load_file(zPath, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(pRoot, "structural_zeros_left_out")), 1);
    json_decref(pRoot);

    g_iStructuralCell = -1;
    pa_task_free(g_pTask);
    snprintf(zPath, sizeof zPath, "rm -rf %s", g_dir);
    assert_int_equal(system(zPath), 0);
    memcpy(g_dir, zSaveDir, sizeof g_dir);
    g_pTask = pSave;
    free(zTask);
}

/* The four results of a coverage case (2023-07 state, north, south; 2024-01
 * state): how many agencies each summed, and which. */
typedef struct {
    int anAgency[4];
    const char *azReported[4];
} coverage_results;

/* 2023-07: MO005 did not report; 2024-01: all did */
static const coverage_results g_covDefault = {
    {4, 2, 2, 5},
    {"[\"MO001\", \"MO002\", \"MO003\", \"MO004\"]", "[\"MO001\", \"MO002\"]", "[\"MO003\", \"MO004\"]",
     "[\"MO001\", \"MO002\", \"MO003\", \"MO004\", \"MO005\"]"}};
static const coverage_results *g_pCov = &g_covDefault;

static void write_coverage(const coverage_results *c)
{
    static const int64_t aT[4] = {5, 1, 2, 0};
    static const char *const azPeriod[4] = {"2023-07", "2023-07", "2023-07", "2024-01"},
                             *const azPart[4] = {"state", "north", "south", "state"};
    for (int i = 0; i < 4; i++)
        write_collection_ids(azPeriod[i], azPart[i], i == 1 || i == 2 ? 8 : 4, c->anAgency[i], c->azReported[i], aT);
}

/* One coverage case: results naming the agencies that reported, with or without
 * data/mo_le_agencies.csv placing them in counties; zTask NULL: the fixture's
 * task (listing its agencies), else a task naming the registry g_pReg; the
 * results g_pCov. */
static void coverage_case(const char *zTask, int bCounties, const double aWantLo[4], const double aWantHi[4],
                          const char *const azMissing[4])
{
    char zSaveDir[sizeof g_dir], zPath[192], zWant[64], *z;
    pa_task *pSave = g_pTask;
    json_t *pRoot, *pTables;

    memcpy(zSaveDir, g_dir, sizeof g_dir);
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_publish_cov_XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    assert_int_equal(fixture_dirs(zTask), 0);
    /* north: MO001 in Adair (29001), MO002 and MO005 in Andrew (29003); south:
     * MO003 and MO004 in Atchison (29005).  MO009 is not the task's. */
    if (bCounties)
        write_file("data/mo_le_agencies.csv", "ori,name,county_fips\nMO001,A PD,29001\nMO002,B PD,29003\n"
                                              "MO005,E PD,29003\nMO003,C PD,29005\nMO004,D PD,29005\n"
                                              "MO009,X PD,29001\n");
    write_coverage(g_pCov);
    run_publish();
    snprintf(zPath, sizeof zPath, "%s/out/table.json", g_dir);
    pRoot = json_load_file(zPath, 0, NULL);
    assert_non_null(pRoot);
    pTables = json_object_get(pRoot, "tables");
    for (size_t i = 0; i < 4; i++) {
        json_t *c = json_object_get(json_array_get(pTables, i), "coverage");
        double lo = json_number_value(json_object_get(c, "population_share_served"));
        double hi = json_number_value(json_object_get(c, "population_share_served_upper"));
        json_t *miss = json_object_get(c, "agencies_not_reported");
        if (!(fabs(lo - aWantLo[i]) < 1e-9 && fabs(hi - aWantHi[i]) < 1e-9))
            fail_msg("table %zu: residents served %g..%g, want %g..%g", i, lo, hi, aWantLo[i], aWantHi[i]);
        if (azMissing[i] == NULL)
            assert_int_equal(json_array_size(miss), 0);
        else {
            assert_int_equal(json_array_size(miss), 1);
            assert_string_equal(json_string_value(json_array_get(miss, 0)), azMissing[i]);
        }
    }
    json_decref(pRoot);
    /* table.csv's last two columns: the range (of the default results' counts) */
    snprintf(zPath, sizeof zPath, "%s/out/table.csv", g_dir);
    z = slurp(zPath);
    if (g_pCov == &g_covDefault) {
        snprintf(zWant, sizeof zWant, ",4,5,%.4f,%.4f\n", aWantLo[0], aWantHi[0]);
        assert_non_null(strstr(z, zWant));
        /* 2024-01: 5 reported of 5 listed (of 6 when the registry enrolled MO006 then) */
        snprintf(zWant, sizeof zWant, ",5,%d,%.4f,%.4f\n", azMissing[3] ? 6 : 5, aWantLo[3], aWantHi[3]);
        assert_non_null(strstr(z, zWant));
    }
    free(z);
    pa_task_free(g_pTask);
    snprintf(zPath, sizeof zPath, "rm -rf %s", g_dir);
    assert_int_equal(system(zPath), 0);
    memcpy(g_dir, zSaveDir, sizeof g_dir);
    g_pTask = pSave;
}

/* Coverage by county (2023 residents: Adair 20,000, Andrew 30,000, Atchison
 * 25,000).  With counties known: north's Andrew has one agency missing (MO005),
 * so the residents served are Adair's (lower, 20/50) up to Adair's and Andrew's
 * (upper, 50/50); statewide 45/75 to 75/75.  Without the county file every north
 * agency is attributed to both its counties: MO005 missing leaves no north county
 * fully covered (0) while both have an agency that reported (1). */
static void test_coverage_by_agency(void **state)
{
    static const char *const azMiss[4] = {"MO005", "MO005", NULL, NULL};
    static const double aLo[4] = {45000.0 / 75000.0, 20000.0 / 50000.0, 1, 1}, aHi[4] = {1, 1, 1, 1},
                        aLo0[4] = {25000.0 / 75000.0, 0, 1, 1};
    (void)state;
    coverage_case(NULL, 1, aLo, aHi, azMiss);
    coverage_case(NULL, 0, aLo0, aHi, azMiss);
}

/* The same agencies in an agency registry (docs/registry.md), which places each
 * one by the county of its enrollment: the residents served are computed county
 * by county as for a task's own list, from the registry's counties even without
 * data/mo_le_agencies.csv; and "listed" follows the month: MO006, enrolled in
 * Atchison (south) from 2024-01, is not listed in 2023-07 and did not report in
 * 2024-01, so Atchison (29,000 of 80,000 in 2024) leaves the lower figure then. */
typedef struct {
    const char *zId, *zCounty, *zFrom;
    char c;
} enroll_row;

/* A registry enrolling aRow[nRow] (keys: 32 bytes of c) and the fixture's task
 * naming it instead of listing agencies (*pzTask: free()). */
static pa_registry *make_registry(const enroll_row *aRow, size_t nRow, char **pzTask)
{
    uint8_t aPk[32], aSk[64];
    char zGenesis[65], zSigner[65];
    const char *zAt;
    size_t nTask = strlen(g_task) + 256;
    pa_registry *r = NULL;

    crypto_sign_keypair(aPk, aSk);
    assert_int_equal(pa_registry_new(&r, "test agencies", "2023-01", aSk), PA_OK);
    for (size_t i = 0; i < nRow; i++) {
        pa_reg_entry e;
        memset(&e, 0, sizeof e);
        e.eOp = PA_REG_ENROLL;
        memcpy(e.zFrom, aRow[i].zFrom, 8);
        snprintf(e.zAgency, sizeof e.zAgency, "%s", aRow[i].zId);
        snprintf(e.zName, sizeof e.zName, "%s PD", aRow[i].zId);
        snprintf(e.zCounty, sizeof e.zCounty, "%s", aRow[i].zCounty);
        memset(e.aKey, aRow[i].c, sizeof e.aKey);
        assert_int_equal(pa_registry_append(r, &e, aSk), PA_OK);
    }
    sodium_memzero(aSk, sizeof aSk);
    sodium_bin2hex(zGenesis, sizeof zGenesis, pa_registry_genesis(r), 32);
    sodium_bin2hex(zSigner, sizeof zSigner, aPk, 32);
    *pzTask = malloc(nTask);
    assert_non_null(*pzTask);
    zAt = strstr(g_task, "\"agencies\": [");
    assert_non_null(zAt);
    snprintf(*pzTask, nTask, "%.*s\"registry\": {\"genesis\": \"%s\", \"signing_public_key\": \"%s\"}}, %s",
             (int)(zAt - g_task), g_task, zGenesis, zSigner, strstr(zAt, "\"partitions\""));
    return r;
}

static void test_coverage_registry(void **state)
{
    static const char *const azMiss[4] = {"MO005", "MO005", NULL, "MO006"};
    static const double aLo[4] = {45000.0 / 75000.0, 20000.0 / 50000.0, 1, 51000.0 / 80000.0},
                        aHi[4] = {1, 1, 1, 1};
    static const enroll_row aEnroll[] = {{"MO001", "29001", "2023-01", 'a'}, {"MO002", "29003", "2023-01", 'b'},
                                         {"MO005", "29003", "2023-01", 'e'}, {"MO003", "29005", "2023-01", 'c'},
                                         {"MO004", "29005", "2023-01", 'd'}, {"MO006", "29005", "2024-01", 'f'}};
    char *zTask;
    pa_registry *r = make_registry(aEnroll, sizeof aEnroll / sizeof aEnroll[0], &zTask);
    (void)state;

    g_pReg = r;
    coverage_case(zTask, 0, aLo, aHi, azMiss);
    coverage_case(zTask, 1, aLo, aHi, azMiss);
    g_pReg = NULL;
    free(zTask);
    pa_registry_free(r);
}

/* every enrolled agency reports: MO001 (north), MO003 and MO004 (south) */
static const coverage_results g_covAll = {
    {3, 1, 2, 3},
    {"[\"MO001\", \"MO003\", \"MO004\"]", "[\"MO001\"]", "[\"MO003\", \"MO004\"]",
     "[\"MO001\", \"MO003\", \"MO004\"]"}};

/* A registry task's partition also holds counties where no agency is enrolled:
 * north is Adair and Andrew, and only MO001 (Adair) is enrolled.  Every agency
 * reports, yet Andrew's residents are served by none: north 20/50, statewide
 * (20 + 25)/75 in 2023 and (21 + 29)/80 in 2024, not the whole population. */
static void test_coverage_registry_county_without_agency(void **state)
{
    static const char *const azMiss[4] = {NULL, NULL, NULL, NULL};
    static const double aShare[4] = {45000.0 / 75000.0, 20000.0 / 50000.0, 1, 50000.0 / 80000.0};
    static const enroll_row aEnroll[] = {{"MO001", "29001", "2023-01", 'a'}, {"MO003", "29005", "2023-01", 'c'},
                                         {"MO004", "29005", "2023-01", 'd'}};
    char *zTask;
    pa_registry *r = make_registry(aEnroll, sizeof aEnroll / sizeof aEnroll[0], &zTask);
    (void)state;

    g_pReg = r;
    g_pCov = &g_covAll;
    coverage_case(zTask, 0, aShare, aShare, azMiss);
    g_pCov = &g_covDefault;
    g_pReg = NULL;
    free(zTask);
    pa_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_csv),
        cmocka_unit_test(test_table_json),
        cmocka_unit_test(test_coverage_by_agency),
        cmocka_unit_test(test_coverage_registry),
        cmocka_unit_test(test_coverage_registry_county_without_agency),
        cmocka_unit_test(test_halfwidths),
        cmocka_unit_test(test_structural_zeros),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
