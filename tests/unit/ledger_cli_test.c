/*
 * privagg ledger (engine/cli/ledger.c), run in-process on a temporary store:
 * verify passes on an intact ledger and exits 1 after a raw-SQL edit or when the
 * anchor (head, count) no longer matches; export prints the JSON document; bad
 * usage exits 2.  The store is a SQLite file, or a fresh PostgreSQL schema (its
 * URL given to --db) when PA_TEST_PG_URL is set (ctest -L pg;
 * tests/support/test_store.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/ledger.c"
#include "cli/opts.c" /* the shared option parser */
#include "store/internal.h"
#include "support/test_store.h"

void pa_cli_report(const char *what, int code)
{
    fprintf(stderr, "privagg: %s: %s: %s\n", what, pa_strerror(code), pa_error_detail());
}

static char g_file[64], g_out[1 << 14];
static const char *g_path; /* g_file, or a PostgreSQL URL */

static int run(const char *zFirst, ...)
{
    char *argv[16];
    int argc = 0, rc, saveOut;
    FILE *fo = tmpfile();
    size_t n;
    va_list ap;

    argv[argc++] = (char *)"ledger";
    va_start(ap, zFirst);
    for (const char *z = zFirst; z != NULL && argc < 15; z = va_arg(ap, const char *))
        argv[argc++] = (char *)z;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    saveOut = dup(1);
    dup2(fileno(fo), 1);
    rc = pa_cli_ledger(argc, argv);
    fflush(stdout);
    dup2(saveOut, 1);
    close(saveOut);
    rewind(fo);
    n = fread(g_out, 1, sizeof g_out - 1, fo);
    g_out[n] = '\0';
    fclose(fo);
    return rc;
}

static int setup(void **state)
{
    pa_store *pStore;
    (void)state;
    snprintf(g_file, sizeof g_file, "/tmp/pa_dp_ledger_cli_%ld.db", (long)getpid());
    unlink(g_file);
    assert_non_null(g_path = test_store_path(g_file));
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    for (int i = 0; i < 3; i++) {
        pa_dp_ledger_release r = {"task-a", i == 0 ? "2026-01" : i == 1 ? "2026-02" : "2026-03",
                                  "state", PA_DP_GAUSSIAN, {10, 1}, {1, 1}, 1700000000 + i};
        pa_dp_budget b = {PA_DP_UNIT_RHO, 0.5};
        assert_int_equal(pa_dp_ledger_charge(pStore, &r, &b, NULL, NULL), PA_OK);
    }
    pa_store_close(pStore);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_file);
    return 0;
}

/* raw SQL under the interface (a tamperer with access to the database) */
static void raw_sql(const char *zSql)
{
    pa_store *pStore;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_exec(pStore, zSql), PA_OK);
    pa_store_close(pStore);
}

static void test_verify_and_export(void **state)
{
    char zHead[65];
    (void)state;
    assert_int_equal(run("verify", "--db", g_path, "--json", NULL), 0);
    assert_non_null(strstr(g_out, "\"ok\":true,\"count\":3"));
    memcpy(zHead, strstr(g_out, "\"head\":\"") + 8, 64);
    zHead[64] = '\0';
    assert_int_equal(run("verify", "--db", g_path, "--head", zHead, "--count", "3", NULL), 0);
    assert_int_equal(run("export", "--db", g_path, NULL), 0);
    assert_non_null(strstr(g_out, "\"format\": \"privagg-dp-ledger-v2\""));
    assert_non_null(strstr(g_out, zHead));
    /* removing the last entry: caught by the anchor only */
    raw_sql("DELETE FROM dp_ledger WHERE seq = 3");
    assert_int_equal(run("verify", "--db", g_path, NULL), 0);
    assert_int_equal(run("verify", "--db", g_path, "--head", zHead, "--count", "3", NULL), 1);
    /* modified */
    raw_sql("UPDATE dp_ledger SET charge = 0.001 WHERE seq = 1");
    assert_int_equal(run("verify", "--db", g_path, "--json", NULL), 1);
    assert_non_null(strstr(g_out, "\"ok\":false"));
    assert_int_equal(run("export", "--db", g_path, NULL), 1);
}

static void test_usage(void **state)
{
    (void)state;
    assert_int_equal(run(NULL), 2);
    assert_int_equal(run("--help", NULL), 0);
    assert_non_null(strstr(g_out, "example"));
    assert_int_equal(run("verify", NULL), 2);
    assert_int_equal(run("verify", "--db", g_path, "--head", "zz", NULL), 2);
    assert_int_equal(run("verify", "--db", g_path, "--count", "-1", NULL), 2);
    assert_int_equal(run("export", "--db", g_path, "--head", "00", NULL), 2);
    assert_int_equal(run("audit", NULL), 2);
    assert_int_equal(run("verify", "--db", "/nonexistent/dir/x.db", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_and_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
