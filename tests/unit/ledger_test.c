/*
 * Privacy ledger (engine/ledger/ledger.c): charging by lattice cell (period,
 * partition) with parallel composition across periods and partitions and
 * sequential composition of a period's statewide and partition releases, the
 * budget refusal (nothing written, the exact message), savepoints inside a
 * caller's transaction (pa_store_begin), JSON export, detection of entries modified, removed or
 * reordered by raw SQL and of a per-cell total rewritten together with its hash,
 * and v1 entries (before the upgrade) still verifying.  On SQLite in memory, or
 * on a fresh PostgreSQL schema per test when PA_TEST_PG_URL is set (ctest -L
 * pg; tests/support/test_store.h): the rows are tampered with by SQL both
 * backends take.  The v1 upgrade is SQLite's only (a PostgreSQL ledger never
 * was v1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"
#include "store/internal.h"
#include "support/test_store.h"

static int setup(void **state)
{
    pa_store *pStore;
    assert_int_equal(pa_store_open(&pStore, test_store_path(":memory:")), PA_OK);
    assert_int_equal(pa_dp_ledger_init(pStore), PA_OK);
    *state = pStore;
    return 0;
}

static int teardown(void **state)
{
    pa_store_close(*state);
    return 0;
}

static int count_rows(pa_store *pStore)
{
    int64_t n = -1;
    assert_int_equal(pa_store_query_int(pStore, "SELECT count(*) FROM dp_ledger", &n), PA_OK);
    return (int)n;
}

/* raw SQL under the interface (a tamperer with access to the database) */
static void sql(pa_store *pStore, const char *zSql)
{
    assert_int_equal(pa_store_exec(pStore, zSql), PA_OK);
}

/* a byte-string literal: X'..' on SQLite, '\x..'::bytea on PostgreSQL */
static void blob_literal(char *zOut, size_t nOut, const uint8_t *p, size_t n)
{
    char zHex[2 * 64 + 1];
    assert_true(n <= 64);
    sodium_bin2hex(zHex, sizeof zHex, p, n);
    snprintf(zOut, nOut, test_store_pg() ? "'\\x%s'::bytea" : "X'%s'", zHex);
}

/* rho = l2sq / (2 sigma2) per release of (zPeriod, zPartition) */
static int charge_at(pa_store *pStore, const char *zTask, const char *zPeriod, const char *zPartition,
                     uint64_t sigma2, uint64_t l2sq, double budget, double *pTotal)
{
    pa_dp_ledger_release r = {0};
    pa_dp_budget b = {PA_DP_UNIT_RHO, budget};
    r.zTaskId = zTask;
    r.zPeriod = zPeriod;
    r.zPartition = zPartition;
    r.mechanism = PA_DP_GAUSSIAN;
    r.param = pa_dp_rational_make(sigma2, 1);
    r.sensitivity.l1 = l2sq;
    r.sensitivity.l2sq = l2sq;
    r.tUnix = 1700000000;
    return pa_dp_ledger_charge(pStore, &r, &b, NULL, pTotal);
}

/* rho = 1 / (2 * 10) = 0.05 per statewide release at sensitivity 1, sigma2 = 10; every
 * release of a test task lies in period 2026-01, so they compose sequentially */
static int charge(pa_store *pStore, const char *zTask, const char *zBatch, double budget, double *pTotal)
{
    pa_dp_ledger_release r = {0};
    pa_dp_budget b = {PA_DP_UNIT_RHO, budget};
    (void)zBatch;
    r.zTaskId = zTask;
    r.zPeriod = "2026-01";
    r.zPartition = "state";
    r.mechanism = PA_DP_GAUSSIAN;
    r.param = pa_dp_rational_make(10, 1);
    r.sensitivity.l1 = 1;
    r.sensitivity.l2sq = 1;
    r.tUnix = 1700000000;
    return pa_dp_ledger_charge(pStore, &r, &b, NULL, pTotal);
}

static void fill(pa_store *pStore)
{
    double total;
    assert_int_equal(charge(pStore, "task-a", "2026-01", 0.2, &total), PA_OK);
    assert_true(fabs(total - 0.05) < 1e-15);
    assert_int_equal(charge(pStore, "task-b", "2026-01", 1, &total), PA_OK);
    assert_int_equal(charge(pStore, "task-a", "2026-02", 0.2, &total), PA_OK);
    assert_int_equal(charge(pStore, "task-a", "2026-03", 0.2, &total), PA_OK);
    assert_true(fabs(total - 0.15) < 1e-15);
    assert_int_equal(count_rows(pStore), 4);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
}

static void test_charge_and_budget(void **state)
{
    pa_store *pStore = *state;
    double total, spent;
    fill(pStore);
    assert_int_equal(charge(pStore, "task-a", "2026-04", 0.2, &total), PA_OK); /* exactly at 0.2 */
    assert_int_equal(charge(pStore, "task-a", "2026-05", 0.2, &total), PA_EBUDGET);
    assert_string_equal(pa_error_detail(), "privacy budget: statewide batch, period 2026-01 has spent "
                                           "0.2 of 0.2 rho; this release asks 0.05");
    assert_int_equal(count_rows(pStore), 5);
    assert_int_equal(pa_dp_ledger_max_spent(pStore, "task-a", &spent), PA_OK);
    assert_true(fabs(spent - 0.2) < 1e-15);
    assert_int_equal(pa_dp_ledger_max_spent(pStore, "task-z", &spent), PA_OK);
    assert_true(spent == 0);
    /* ten charges of 0.1 fit a budget of 1 (tolerance) */
    for (int i = 0; i < 10; i++) {
        pa_dp_ledger_release r = {"task-c", "2026-01", "29001", PA_DP_GAUSSIAN, {5, 1}, {1, 1}, 1};
        pa_dp_budget b = {PA_DP_UNIT_RHO, 1.0};
        assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_OK);
    }
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
}

static void test_laplace_units(void **state)
{
    pa_store *pStore = *state;
    pa_dp_ledger_release r = {"task-l", "2026-01", "state", PA_DP_LAPLACE, {4, 1}, {2, 4}, 1};
    pa_dp_budget eps = {PA_DP_UNIT_EPS, 1.0}, rho = {PA_DP_UNIT_RHO, 1.0};
    double c;
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &eps, &c, NULL), PA_OK);
    assert_true(c == 0.5); /* eps = 2 / 4 */
    r.zTaskId = "task-l2";
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &rho, &c, NULL), PA_OK);
    assert_true(c == 0.125); /* rho = eps^2 / 2 */
    r.mechanism = PA_DP_GAUSSIAN;
    r.zTaskId = "task-l3";
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &eps, &c, NULL), PA_EUNSUPPORTED);
    assert_int_equal(count_rows(pStore), 2);
}

static void test_inside_caller_transaction(void **state)
{
    pa_store *pStore = *state;
    double total;
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(charge(pStore, "task-t", "1", 0.07, &total), PA_OK);
    assert_int_equal(charge(pStore, "task-t", "2", 0.07, &total), PA_EBUDGET);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    assert_int_equal(count_rows(pStore), 1);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
}

static void test_export(void **state)
{
    pa_store *pStore = *state;
    char *z;
    json_t *pDoc;
    json_error_t err;
    uint8_t head[32];
    int64_t n;
    fill(pStore);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, head, &n), PA_OK);
    assert_int_equal(n, 4);
    assert_int_equal(pa_dp_ledger_export_json(pStore, &z), PA_OK);
    pDoc = json_loads(z, 0, &err);
    assert_non_null(pDoc);
    assert_int_equal(json_integer_value(json_object_get(pDoc, "count")), 4);
    assert_int_equal(json_array_size(json_object_get(pDoc, "entries")), 4);
    json_t *e2 = json_array_get(json_object_get(pDoc, "entries"), 1);
    assert_string_equal(json_string_value(json_object_get(e2, "task_id")), "task-b");
    assert_string_equal(json_string_value(json_object_get(e2, "mechanism")), "discrete_gaussian");
    assert_string_equal(json_string_value(json_object_get(e2, "param")), "10");
    assert_true(json_real_value(json_object_get(e2, "charge")) == 0.05);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(pDoc, "entries"), 2), "prev_hash")),
                        json_string_value(json_object_get(e2, "hash")));
    json_decref(pDoc);
    free(z);
}

static void expect_tamper(pa_store *pStore, const char *zSql)
{
    fill(pStore);
    sql(pStore, zSql);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_ETAMPER);
    printf("  %s\n    -> %s\n", zSql, pa_error_detail());
    sql(pStore, "DELETE FROM dp_ledger");
}

static void test_tamper_detected(void **state)
{
    pa_store *pStore = *state;
    /* modified */
    expect_tamper(pStore, "UPDATE dp_ledger SET charge = 0.01 WHERE seq = 2");
    expect_tamper(pStore, "UPDATE dp_ledger SET param = '20' WHERE seq = 1");
    expect_tamper(pStore, "UPDATE dp_ledger SET batch = 'x' WHERE seq = 4");
    expect_tamper(pStore, "UPDATE dp_ledger SET period = '2026-02' WHERE seq = 4");
    expect_tamper(pStore, "UPDATE dp_ledger SET partition = '29001' WHERE seq = 4");
    expect_tamper(pStore, "UPDATE dp_ledger SET level = 'partition' WHERE seq = 4");
    /* modified consistently (charge and total) without recomputing the hashes */
    expect_tamper(pStore, "UPDATE dp_ledger SET charge = 0.01, total = 0.01 WHERE seq = 1");
    /* removed */
    expect_tamper(pStore, "DELETE FROM dp_ledger WHERE seq = 2");
    expect_tamper(pStore, "DELETE FROM dp_ledger WHERE seq = 1");
    /* removed and renumbered */
    expect_tamper(pStore, "DELETE FROM dp_ledger WHERE seq = 2; UPDATE dp_ledger SET seq = seq - 1 WHERE seq > 2");
    /* reordered */
    expect_tamper(pStore, "UPDATE dp_ledger SET seq = -1 WHERE seq = 2; UPDATE dp_ledger SET seq = 2 WHERE seq = 3;"
                       " UPDATE dp_ledger SET seq = 3 WHERE seq = -1");
}

static void test_tail_removal_needs_anchor(void **state)
{
    pa_store *pStore = *state;
    uint8_t head[32];
    int64_t n;
    fill(pStore);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, head, &n), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pStore, head, n, NULL, NULL), PA_OK);
    sql(pStore, "DELETE FROM dp_ledger WHERE seq = 4");
    /* a shorter chain is internally consistent; the anchor catches it */
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pStore, head, n, NULL, NULL), PA_ETAMPER);
    assert_int_equal(pa_dp_ledger_verify(pStore, head, -1, NULL, NULL), PA_ETAMPER);
}

static void test_bad_arguments(void **state)
{
    pa_store *pStore = *state;
    pa_dp_ledger_release r = {"", "2026-01", "state", PA_DP_GAUSSIAN, {5, 1}, {1, 1}, 1};
    pa_dp_budget b = {PA_DP_UNIT_RHO, 1.0};
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_EINVAL);
    r.zTaskId = "t";
    r.zPeriod = "";
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_EINVAL);
    r.zPeriod = "2026-01";
    r.zPartition = NULL;
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_EINVAL);
    r.zPartition = "state";
    b.total = 0;
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_EINVAL);
    b.total = 1;
    b.unit = 7;
    assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_EINVAL);
    assert_int_equal(count_rows(pStore), 0);
}

/* ---- lattice cells ------------------------------------------------------- */

static int g_nCell;
static double g_rMaxCell;

static int count_cell(void *pCtx, const char *zPeriod, const char *zPartition, double rSpent)
{
    (void)pCtx;
    (void)zPeriod;
    (void)zPartition;
    g_nCell++;
    if (rSpent > g_rMaxCell)
        g_rMaxCell = rSpent;
    return 0;
}

/* A year of releases: each month the statewide batch and three partitions, each
 * rho 0.5 (sigma2 4, l2sq 4), fits a budget of 1 per record; one more release of a
 * spent cell does not. */
static void test_parallel_composition(void **state)
{
    pa_store *pStore = *state;
    static const char *const azPart[] = {"29001", "29003", "region-01"};
    char zPeriod[16];
    double total, rMax;
    for (int m = 1; m <= 12; m++) {
        snprintf(zPeriod, sizeof zPeriod, "2026-%02u", (unsigned)m % 100u);
        assert_int_equal(charge_at(pStore, "task-y", zPeriod, "state", 4, 4, 1.0, &total), PA_OK);
        assert_true(total == 0.5);
        for (int x = 0; x < 3; x++) {
            assert_int_equal(charge_at(pStore, "task-y", zPeriod, azPart[x], 4, 4, 1.0, &total), PA_OK);
            assert_true(total == 1.0);
        }
    }
    assert_int_equal(count_rows(pStore), 48);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    g_nCell = 0;
    g_rMaxCell = 0;
    assert_int_equal(pa_dp_ledger_cells(pStore, "task-y", count_cell, NULL), PA_OK);
    assert_int_equal(g_nCell, 48); /* 12 x (3 partitions + the statewide-only cell) */
    assert_true(g_rMaxCell == 1.0);
    assert_int_equal(pa_dp_ledger_max_spent(pStore, "task-y", &rMax), PA_OK);
    assert_true(rMax == 1.0);
    /* a spent cell: a second partition release, or a second statewide release */
    assert_int_equal(charge_at(pStore, "task-y", "2026-01", "29001", 4, 4, 1.0, &total), PA_EBUDGET);
    assert_string_equal(pa_error_detail(), "privacy budget: partition 29001, period 2026-01 has spent "
                                           "1.0 of 1.0 rho; this release asks 0.5");
    assert_int_equal(charge_at(pStore, "task-y", "2026-05", "state", 4, 4, 1.0, &total), PA_EBUDGET);
    assert_string_equal(pa_error_detail(), "privacy budget: partition 29001, period 2026-05 has spent "
                                           "1.0 of 1.0 rho; this release asks 0.5");
    assert_int_equal(count_rows(pStore), 48);
    /* another period, another partition, another task: untouched cells */
    assert_int_equal(charge_at(pStore, "task-y", "2027-01", "29001", 4, 4, 1.0, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-y", "2026-01", "29005", 4, 4, 1.0, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-w", "2026-01", "29001", 4, 4, 1.0, &total), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
}

/* The statewide batch and a partition share records: they compose sequentially,
 * in either order, and the refusal writes nothing. */
static void test_sequential_state_and_partition(void **state)
{
    pa_store *pStore = *state;
    double total;
    assert_int_equal(charge_at(pStore, "task-s", "2026-10", "state", 4, 4, 0.8, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-s", "2026-10", "29095", 4, 4, 0.8, &total), PA_EBUDGET);
    assert_string_equal(pa_error_detail(), "privacy budget: partition 29095, period 2026-10 has spent "
                                           "0.5 of 0.8 rho; this release asks 0.5");
    assert_int_equal(count_rows(pStore), 1);
    /* the other order: a partition first, then the statewide batch */
    assert_int_equal(charge_at(pStore, "task-s", "2026-11", "29095", 4, 4, 0.8, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-s", "2026-11", "29189", 8, 4, 0.8, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-s", "2026-11", "state", 4, 4, 0.8, &total), PA_EBUDGET);
    assert_string_equal(pa_error_detail(), "privacy budget: partition 29095, period 2026-11 has spent "
                                           "0.5 of 0.8 rho; this release asks 0.5");
    assert_int_equal(count_rows(pStore), 3);
    /* a smaller statewide release still fits: 0.25 + 0.5 <= 0.8 */
    assert_int_equal(charge_at(pStore, "task-s", "2026-11", "state", 8, 4, 0.8, &total), PA_OK);
    assert_true(total == 0.75);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
}

/* The documented canonical encoding (docs/dp.md), recomputed here independently. */
static void h_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void h_str4(crypto_hash_sha256_state *st, const char *z)
{
    size_t n = strlen(z);
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    crypto_hash_sha256_update(st, b, 4);
    crypto_hash_sha256_update(st, (const uint8_t *)z, n);
}

static void h_f64(crypto_hash_sha256_state *st, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    h_u64(st, bits);
}

typedef struct {
    int64_t iSeq;
    uint8_t aHash[32];
    int bFound;
} rehash_ctx;

/* the documented hash of the row (v2 if it has a period, else v1) */
static int rehash_row(void *pCtx, const pa_store_ledger_row *r)
{
    rehash_ctx *x = pCtx;
    crypto_hash_sha256_state st;
    int bV2 = r->zPeriod != NULL;
    if (r->iSeq != x->iSeq)
        return 0;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)(bV2 ? "privagg-dp-ledger-v2" : "privagg-dp-ledger-v1"), 20);
    h_u64(&st, (uint64_t)r->iSeq);
    h_str4(&st, r->zTaskId);
    h_str4(&st, r->zBatch);
    if (bV2) {
        h_str4(&st, r->zLevel);
        h_str4(&st, r->zPeriod);
        h_str4(&st, r->zPartition);
    }
    h_str4(&st, r->zMechanism);
    h_str4(&st, r->zParam);
    h_str4(&st, r->zUnit);
    h_f64(&st, r->rCharge);
    h_f64(&st, r->rTotal);
    h_f64(&st, r->rBudget);
    h_u64(&st, (uint64_t)r->tCreated);
    assert_int_equal(r->nPrevHash, 32);
    crypto_hash_sha256_update(&st, r->pPrevHash, 32);
    crypto_hash_sha256_final(&st, x->aHash);
    x->bFound = 1;
    return 0;
}

/* Rewrite row seq's hash from its columns, read through the store interface. */
static void rehash(pa_store *pStore, int64_t seq)
{
    rehash_ctx x = {seq, {0}, 0};
    char zLit[160], zSql[256];
    assert_int_equal(pa_store_ledger_each(pStore, rehash_row, &x), PA_OK);
    assert_true(x.bFound);
    blob_literal(zLit, sizeof zLit, x.aHash, 32);
    snprintf(zSql, sizeof zSql, "UPDATE dp_ledger SET hash = %s WHERE seq = %lld", zLit, (long long)seq);
    sql(pStore, zSql);
}

/* Someone who rewrites the last entry's cell total and recomputes its hash (the
 * chain has no successor to break) is caught by the recomputed per-cell totals. */
static void test_tampered_cell_total(void **state)
{
    pa_store *pStore = *state;
    double total;
    assert_int_equal(charge_at(pStore, "task-t", "2026-01", "state", 4, 4, 1.0, &total), PA_OK);
    assert_int_equal(charge_at(pStore, "task-t", "2026-01", "29001", 4, 4, 1.0, &total), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    /* rehash alone changes nothing: the helper computes the documented encoding */
    rehash(pStore, 2);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    /* the cell total as if the statewide release had not been charged */
    sql(pStore, "UPDATE dp_ledger SET total = 0.5 WHERE seq = 2");
    rehash(pStore, 2);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_ETAMPER);
    assert_non_null(strstr(pa_error_detail(), "ledger entry 2: cell total 0.5"));
    /* the level must match the partition */
    sql(pStore, "UPDATE dp_ledger SET level = 'state' WHERE seq = 2");
    rehash(pStore, 2);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_ETAMPER);
    assert_non_null(strstr(pa_error_detail(), "level \"state\" does not match partition \"29001\""));
}

/* A store written before the upgrade: v1 rows keep verifying, v2 rows follow.
 * SQLite only: the PostgreSQL backend came after v2, its ledger never was v1. */
static void test_v1_rows_still_verify(void **state)
{
    pa_store *pStore;
    double rMax;
    uint8_t zero[32] = {0};
    char zZero[160], zSql[512];
    (void)state;
    if (test_store_pg())
        skip();
    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    sql(pStore, "CREATE TABLE dp_ledger (seq INTEGER PRIMARY KEY,"
                " task_id TEXT NOT NULL, batch TEXT NOT NULL, mechanism TEXT NOT NULL,"
                " param TEXT NOT NULL, unit TEXT NOT NULL,"
                " charge REAL NOT NULL, total REAL NOT NULL, budget REAL NOT NULL,"
                " created_at INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL)");
    blob_literal(zZero, sizeof zZero, zero, 32);
    for (int i = 1; i <= 2; i++) {
        snprintf(zSql, sizeof zSql, "INSERT INTO dp_ledger VALUES (%d, 'old/2025', '%s', 'discrete_gaussian', '10',"
                 " 'rho', 0.05, %.17g, 1.0, 1700000000, %s, %s)", i, i == 1 ? "2025-01/state" : "2025-02/state",
                 0.05 * i, zZero, zZero);
        sql(pStore, zSql);
    }
    /* prev_hash of row 2 = hash of row 1 */
    sql(pStore, "UPDATE dp_ledger SET prev_hash = (SELECT hash FROM dp_ledger WHERE seq = 1) WHERE seq = 2");
    /* upgrade, then hash the v1 rows by the v1 encoding (NULL period) */
    assert_int_equal(pa_dp_ledger_init(pStore), PA_OK);
    rehash(pStore, 1);
    sql(pStore, "UPDATE dp_ledger SET prev_hash = (SELECT hash FROM dp_ledger WHERE seq = 1) WHERE seq = 2");
    rehash(pStore, 2);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    assert_int_equal(pa_dp_ledger_init(pStore), PA_OK); /* idempotent */
    assert_int_equal(charge_at(pStore, "new", "2026-01", "state", 4, 4, 1.0, NULL), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_OK);
    assert_int_equal(count_rows(pStore), 3);
    assert_int_equal(pa_dp_ledger_max_spent(pStore, "old/2025", &rMax), PA_OK);
    assert_true(fabs(rMax - 0.1) < 1e-15);
    /* a v1 running total is still checked */
    sql(pStore, "UPDATE dp_ledger SET total = 0.07 WHERE seq = 2");
    rehash(pStore, 2);
    assert_int_equal(pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL), PA_ETAMPER);
    pa_store_close(pStore);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_charge_and_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_laplace_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inside_caller_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tail_removal_needs_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_composition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential_state_and_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_cell_total, setup, teardown),
        cmocka_unit_test(test_v1_rows_still_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
