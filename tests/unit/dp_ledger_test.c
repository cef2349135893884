/*
 * Privacy ledger (engine/dp/ledger.c): charging, the budget refusal (nothing
 * written, message naming budget, spent and asked), savepoints inside a caller's
 * transaction, JSON export, and detection of entries modified, removed or reordered
 * by raw SQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"

static int setup(void **state)
{
    sqlite3 *pDb;
    assert_int_equal(sqlite3_open(":memory:", &pDb), SQLITE_OK);
    assert_int_equal(pa_dp_ledger_init(pDb), PA_OK);
    *state = pDb;
    return 0;
}

static int teardown(void **state)
{
    sqlite3_close(*state);
    return 0;
}

static int count_rows(sqlite3 *pDb)
{
    sqlite3_stmt *p;
    int n = -1;
    assert_int_equal(sqlite3_prepare_v2(pDb, "SELECT count(*) FROM dp_ledger", -1, &p, NULL), SQLITE_OK);
    if (sqlite3_step(p) == SQLITE_ROW)
        n = sqlite3_column_int(p, 0);
    sqlite3_finalize(p);
    return n;
}

/* rho = 1 / (2 * 10) = 0.05 per release at sensitivity 1, sigma2 = 10 */
static int charge(sqlite3 *pDb, const char *zTask, const char *zBatch, double budget, double *pTotal)
{
    pa_dp_ledger_release r = {0};
    pa_dp_budget b = {PA_DP_UNIT_RHO, budget};
    r.zTaskId = zTask;
    r.zBatch = zBatch;
    r.mechanism = PA_DP_GAUSSIAN;
    r.param = pa_dp_rational_make(10, 1);
    r.sensitivity.l1 = 1;
    r.sensitivity.l2sq = 1;
    r.tUnix = 1700000000;
    return pa_dp_ledger_charge(pDb, &r, &b, NULL, pTotal);
}

static void fill(sqlite3 *pDb)
{
    double total;
    assert_int_equal(charge(pDb, "task-a", "2026-01", 0.2, &total), PA_OK);
    assert_true(fabs(total - 0.05) < 1e-15);
    assert_int_equal(charge(pDb, "task-b", "2026-01", 1, &total), PA_OK);
    assert_int_equal(charge(pDb, "task-a", "2026-02", 0.2, &total), PA_OK);
    assert_int_equal(charge(pDb, "task-a", "2026-03", 0.2, &total), PA_OK);
    assert_true(fabs(total - 0.15) < 1e-15);
    assert_int_equal(count_rows(pDb), 4);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_OK);
}

static void test_charge_and_budget(void **state)
{
    sqlite3 *pDb = *state;
    double total, spent;
    fill(pDb);
    assert_int_equal(charge(pDb, "task-a", "2026-04", 0.2, &total), PA_OK); /* exactly at 0.2 */
    assert_int_equal(charge(pDb, "task-a", "2026-05", 0.2, &total), PA_EBUDGET);
    assert_non_null(strstr(pa_error_detail(), "budget rho = 0.2"));
    assert_non_null(strstr(pa_error_detail(), "spent 0.2"));
    assert_non_null(strstr(pa_error_detail(), "asks 0.05"));
    assert_int_equal(count_rows(pDb), 5);
    assert_int_equal(pa_dp_ledger_spent(pDb, "task-a", &spent), PA_OK);
    assert_true(fabs(spent - 0.2) < 1e-15);
    assert_int_equal(pa_dp_ledger_spent(pDb, "task-z", &spent), PA_OK);
    assert_true(spent == 0);
    /* ten charges of 0.1 fit a budget of 1 (tolerance) */
    for (int i = 0; i < 10; i++) {
        pa_dp_ledger_release r = {"task-c", "b", PA_DP_GAUSSIAN, {5, 1}, {1, 1}, 1};
        pa_dp_budget b = {PA_DP_UNIT_RHO, 1.0};
        assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_OK);
    }
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_OK);
}

static void test_laplace_units(void **state)
{
    sqlite3 *pDb = *state;
    pa_dp_ledger_release r = {"task-l", "b", PA_DP_LAPLACE, {4, 1}, {2, 4}, 1};
    pa_dp_budget eps = {PA_DP_UNIT_EPS, 1.0}, rho = {PA_DP_UNIT_RHO, 1.0};
    double c;
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &eps, &c, NULL), PA_OK);
    assert_true(c == 0.5); /* eps = 2 / 4 */
    r.zTaskId = "task-l2";
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &rho, &c, NULL), PA_OK);
    assert_true(c == 0.125); /* rho = eps^2 / 2 */
    r.mechanism = PA_DP_GAUSSIAN;
    r.zTaskId = "task-l3";
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &eps, &c, NULL), PA_EUNSUPPORTED);
    assert_int_equal(count_rows(pDb), 2);
}

static void test_inside_caller_transaction(void **state)
{
    sqlite3 *pDb = *state;
    double total;
    assert_int_equal(sqlite3_exec(pDb, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(charge(pDb, "task-t", "1", 0.07, &total), PA_OK);
    assert_int_equal(charge(pDb, "task-t", "2", 0.07, &total), PA_EBUDGET);
    assert_int_equal(sqlite3_exec(pDb, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(count_rows(pDb), 1);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_OK);
}

static void test_export(void **state)
{
    sqlite3 *pDb = *state;
    char *z;
    json_t *pDoc;
    json_error_t err;
    uint8_t head[32];
    int64_t n;
    fill(pDb);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, head, &n), PA_OK);
    assert_int_equal(n, 4);
    assert_int_equal(pa_dp_ledger_export_json(pDb, &z), PA_OK);
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

static void expect_tamper(sqlite3 *pDb, const char *zSql)
{
    fill(pDb);
    assert_int_equal(sqlite3_exec(pDb, zSql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_ETAMPER);
    printf("  %s\n    -> %s\n", zSql, pa_error_detail());
    assert_int_equal(sqlite3_exec(pDb, "DELETE FROM dp_ledger", NULL, NULL, NULL), SQLITE_OK);
}

static void test_tamper_detected(void **state)
{
    sqlite3 *pDb = *state;
    /* modified */
    expect_tamper(pDb, "UPDATE dp_ledger SET charge = 0.01 WHERE seq = 2");
    expect_tamper(pDb, "UPDATE dp_ledger SET param = '20' WHERE seq = 1");
    expect_tamper(pDb, "UPDATE dp_ledger SET batch = 'x' WHERE seq = 4");
    /* modified consistently (charge and total) without recomputing the hashes */
    expect_tamper(pDb, "UPDATE dp_ledger SET charge = 0.01, total = 0.01 WHERE seq = 1");
    /* removed */
    expect_tamper(pDb, "DELETE FROM dp_ledger WHERE seq = 2");
    expect_tamper(pDb, "DELETE FROM dp_ledger WHERE seq = 1");
    /* removed and renumbered */
    expect_tamper(pDb, "DELETE FROM dp_ledger WHERE seq = 2; UPDATE dp_ledger SET seq = seq - 1 WHERE seq > 2");
    /* reordered */
    expect_tamper(pDb, "UPDATE dp_ledger SET seq = -1 WHERE seq = 2; UPDATE dp_ledger SET seq = 2 WHERE seq = 3;"
                       " UPDATE dp_ledger SET seq = 3 WHERE seq = -1");
}

static void test_tail_removal_needs_anchor(void **state)
{
    sqlite3 *pDb = *state;
    uint8_t head[32];
    int64_t n;
    fill(pDb);
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, head, &n), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pDb, head, n, NULL, NULL), PA_OK);
    assert_int_equal(sqlite3_exec(pDb, "DELETE FROM dp_ledger WHERE seq = 4", NULL, NULL, NULL), SQLITE_OK);
    /* a shorter chain is internally consistent; the anchor catches it */
    assert_int_equal(pa_dp_ledger_verify(pDb, NULL, -1, NULL, NULL), PA_OK);
    assert_int_equal(pa_dp_ledger_verify(pDb, head, n, NULL, NULL), PA_ETAMPER);
    assert_int_equal(pa_dp_ledger_verify(pDb, head, -1, NULL, NULL), PA_ETAMPER);
}

static void test_bad_arguments(void **state)
{
    sqlite3 *pDb = *state;
    pa_dp_ledger_release r = {"", "b", PA_DP_GAUSSIAN, {5, 1}, {1, 1}, 1};
    pa_dp_budget b = {PA_DP_UNIT_RHO, 1.0};
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_EINVAL);
    r.zTaskId = "t";
    b.total = 0;
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_EINVAL);
    b.total = 1;
    b.unit = 7;
    assert_int_equal(pa_dp_ledger_charge(pDb, &r, &b, NULL, NULL), PA_EINVAL);
    assert_int_equal(count_rows(pDb), 0);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
