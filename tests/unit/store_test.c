/*
 * Tests of engine/store: migrations, reopening, version checks, transactions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/store.h"

static char g_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_path, sizeof g_path, "/tmp/pa_store_test_%ld.db", (long)getpid());
    unlink(g_path);
    return 0;
}

static int teardown(void **state)
{
    char z[80];
    (void)state;
    unlink(g_path);
    snprintf(z, sizeof z, "%s-wal", g_path);
    unlink(z);
    snprintf(z, sizeof z, "%s-shm", g_path);
    unlink(z);
    return 0;
}

static int count_rows(pa_store *pStore, const char *zSql)
{
    sqlite3_stmt *pStmt;
    int n = -1;
    assert_int_equal(sqlite3_prepare_v2(pa_store_db(pStore), zSql, -1, &pStmt, NULL), SQLITE_OK);
    if (sqlite3_step(pStmt) == SQLITE_ROW)
        n = sqlite3_column_int(pStmt, 0);
    sqlite3_finalize(pStmt);
    return n;
}

static void test_open_migrates_to_newest(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, "PRAGMA user_version"), pa_store_schema_version());
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                        "('reports','jobs','batches','collections')"),
                     4);
    pa_store_close(pStore);
    /* reopening an up-to-date store changes nothing */
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, "PRAGMA user_version"), pa_store_schema_version());
    pa_store_close(pStore);
}

static void test_newer_schema_refused(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_exec(pStore, "PRAGMA user_version = 999"), PA_OK);
    pa_store_close(pStore);
    assert_int_equal(pa_store_open(&pStore, g_path), PA_ERANGE);
    assert_null(pStore);
}

static void test_rollback_writes_nothing(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_ESTATE);
    assert_int_equal(pa_store_exec(pStore,
                                   "INSERT INTO collections(task_id, collection_id, period, partition,"
                                   " response, created_at) VALUES (x'01', x'02', '2026-10', 'state', x'', 0)"),
                     PA_OK);
    pa_store_rollback(pStore);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM collections"), 0);
    assert_int_equal(pa_store_commit(pStore), PA_ESTATE);
    pa_store_close(pStore);
}

static void test_bad_sql_names_the_error(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    assert_int_equal(pa_store_exec(pStore, "SELECT * FROM no_such_table"), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "no_such_table"));
    pa_store_close(pStore);
}

static void test_unopenable_path(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, "/nonexistent-dir/x/y.db"), PA_ESTORE);
    assert_null(pStore);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_to_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test(test_rollback_writes_nothing),
        cmocka_unit_test(test_bad_sql_names_the_error),
        cmocka_unit_test(test_unopenable_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
