/*
 * Tests of engine/store: migrations, reopening, version checks, transactions,
 * savepoints, read-only opening, and the functions of each table.  On SQLite,
 * or on PostgreSQL when PA_TEST_PG_URL is set (each test on a fresh schema:
 * tests/support/test_store.h); the few checks of one backend's own files or
 * dialect say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/retention.h"
#include "privagg/store.h"
#include "store/internal.h"
#include "store/migrations.h"
#include "store/pg_migrations.h"
#include "support/test_store.h"

static char g_path[640];

static int setup(void **state)
{
    (void)state;
    snprintf(g_path, sizeof g_path, "/tmp/pa_store_test_%ld.db", (long)getpid());
    unlink(g_path);
    if (test_store_pg()) {
        const char *z = test_store_path(NULL);
        assert_non_null(z);
        snprintf(g_path, sizeof g_path, "%s", z);
    }
    return 0;
}

/* A new empty store's path: ":memory:" or a fresh PostgreSQL schema. */
static const char *fresh(void)
{
    const char *z = test_store_path(":memory:");
    assert_non_null(z);
    return z;
}

#define VERSION_SQL (test_store_pg() ? "SELECT max(version) FROM pa_schema_version" : "PRAGMA user_version")

static int teardown(void **state)
{
    char z[700];
    (void)state;
    if (test_store_pg())
        return 0; /* the schema is dropped at exit */
    unlink(g_path);
    snprintf(z, sizeof z, "%s-wal", g_path);
    unlink(z);
    snprintf(z, sizeof z, "%s-shm", g_path);
    unlink(z);
    return 0;
}

static int count_rows(pa_store *pStore, const char *zSql)
{
    int64_t n = -1;
    assert_int_equal(pa_store_query_int(pStore, zSql, &n), PA_OK);
    return (int)n;
}

/* pa_store_job_kept's rows, copied. */
typedef struct {
    size_t nKept;
    int n;
    uint8_t aKept[8];
    char zPartition[PA_STORE_PARTITION_SIZE];
} kept_walk;

static int kept_row(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept)
{
    kept_walk *k = pCtx;
    (void)pReportId;
    assert_true(k->nKept <= sizeof k->aKept);
    memcpy(k->aKept, pKept, k->nKept);
    snprintf(k->zPartition, sizeof k->zPartition, "%s", zPartition);
    k->n++;
    return 0;
}

static void test_open_migrates_to_newest(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, VERSION_SQL), pa_store_schema_version());
    assert_int_equal(count_rows(pStore, test_store_pg()
                                            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema ="
                                              " current_schema() AND table_name IN"
                                              " ('reports','jobs','batches','collections')"
                                            : "SELECT count(*) FROM sqlite_master WHERE name IN "
                                              "('reports','jobs','batches','collections')"),
                     4);
    pa_store_close(pStore);
    /* reopening an up-to-date store changes nothing */
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, VERSION_SQL), pa_store_schema_version());
    pa_store_close(pStore);
}

/* The same on PostgreSQL: its migrations 1 and 2 by hand, then the store's 3
 * and 4 (the physical order of the rows numbers them). */
static void migration_3_pg(void)
{
    PGconn *c = PQconnectdb(g_path);
    pa_store *pStore;
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    for (size_t v = 1; v <= 2; v++) {
        PGresult *r = PQexec(c, pa_pg_migration(v));
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
    }
    PGresult *r = PQexec(c, "CREATE TABLE pa_schema_version (version INTEGER NOT NULL);"
                            "INSERT INTO pa_schema_version VALUES (2);"
                            "INSERT INTO reports(task_id, report_id, agency_id, period, partition, received_at)"
                            " VALUES ('\\x01', '\\x0a', 'MO0010000', '2026-10', '29001', 1),"
                            " ('\\x01', '\\x0b', 'MO0020000', '2026-10', '29003', 2);"
                            "INSERT INTO report_data(task_id, report_id, public_share, helper_enc, helper_ct,"
                            " signature, verify_state, verifier_share) VALUES ('\\x01', '\\x0b', '', '\\xe1',"
                            " '\\xc1', '\\x51', '\\x5e', '\\xf1');");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, VERSION_SQL), pa_store_schema_version());
    assert_int_equal(count_rows(pStore, "SELECT r.id FROM reports r JOIN report_data d ON d.report = r.id"
                                        " WHERE d.verify_state = '\\x5e' AND d.helper_ct = '\\xc1'"),
                     2);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_data"), 1);
    /* the uniqueness of a report id and the indexes survive */
    assert_int_equal(pa_store_exec(pStore, "INSERT INTO reports(task_id, report_id, agency_id, period,"
                                           " partition, received_at) VALUES ('\\x01', '\\x0a', 'x', 'y', 'z', 3)"),
                     PA_ESTORE);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
                                        " AND indexname IN ('reports_by_period','reports_by_agency','reports_by_job')"),
                     3);
    /* a new report gets an id after the old ones (the refused insert above
     * used one: sequences do not roll back) */
    assert_int_equal(pa_store_exec(pStore, "INSERT INTO reports(task_id, report_id, agency_id, period,"
                                           " partition, received_at) VALUES ('\\x01', '\\x0c', 'x', 'y', 'z', 3)"),
                     PA_OK);
    assert_true(count_rows(pStore, "SELECT id FROM reports WHERE report_id = '\\x0c'") > 2);
    pa_store_close(pStore);
}

/* A version-2 store with one pending leader report keeps it through migration 3:
 * the report gets its old rowid as id, and its data row follows it. */
static void test_migration_3_keeps_reports(void **state)
{
    sqlite3 *pDb;
    pa_store *pStore;
    (void)state;
    if (test_store_pg()) {
        migration_3_pg();
        return;
    }
    assert_int_equal(sqlite3_open(g_path, &pDb), SQLITE_OK);
    for (size_t v = 1; v <= 2; v++)
        assert_int_equal(sqlite3_exec(pDb, pa_store_migration(v), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(pDb,
                     "PRAGMA user_version = 2;"
                     "INSERT INTO reports(rowid, task_id, report_id, agency_id, period, partition,"
                     " received_at) VALUES (7, x'01', x'0a', 'MO0010000', '2026-10', '29001', 1),"
                     " (9, x'01', x'0b', 'MO0020000', '2026-10', '29003', 2);"
                     "INSERT INTO report_data(task_id, report_id, public_share, helper_enc, helper_ct,"
                     " signature, verify_state, verifier_share)"
                     " VALUES (x'01', x'0b', x'', x'e1', x'c1', x'51', x'5e', x'f1');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(pDb);

    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, "PRAGMA user_version"), pa_store_schema_version());
    assert_int_equal(count_rows(pStore, "SELECT id FROM reports WHERE report_id = x'0a'"), 7);
    assert_int_equal(count_rows(pStore, "SELECT r.id FROM reports r JOIN report_data d ON d.report = r.id"
                                        " WHERE d.verify_state = x'5e' AND d.helper_ct = x'c1'"),
                     9);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_data"), 1);
    /* the uniqueness of a report id and the indexes survive the rebuild */
    assert_int_equal(pa_store_exec(pStore, "INSERT INTO reports(task_id, report_id, agency_id, period,"
                                           " partition, received_at) VALUES (x'01', x'0a', 'x', 'y', 'z', 3)"),
                     PA_ESTORE);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                                        " ('reports_by_period','reports_by_agency','reports_by_job')"),
                     3);
    pa_store_close(pStore);
}

/* A version-6 store in the middle of a helper's job, with a settled report and
 * a leader's pending one, keeps all of them through migration 7: the
 * aggregating report's kept state moves to report_kept (the continue step
 * finds it), reports loses verify_state, reports_by_period leads with the state. */
#define TASK7 "0700000000000000000000000000000000000000000000000000000000000000"
static void test_migration_7_moves_kept_states(void **state)
{
    static const uint8_t aTask[32] = {7}, aJob[16] = {9};
    int bPg = test_store_pg();
    char zSql[2000];
    pa_store *pStore;
    (void)state;
    /* task 07.., job 09..: report 0a aggregating (kept ab), 0b accepted, 0c the leader's pending */
    snprintf(zSql, sizeof zSql,
             "INSERT INTO reports(id, task_id, report_id, agency_id, period, partition, received_at, verify_state,"
             " state, job_id) VALUES (1, %s, %s, 'ag1', '2026-10', 'a', 1, %s, 'aggregating', %s),"
             " (2, %s, %s, 'ag2', '2026-10', 'a', 1, NULL, 'accepted', %s),"
             " (3, %s, %s, 'ag3', '2026-10', 'a', 1, NULL, 'pending', NULL);"
             "INSERT INTO report_data(report, public_share, helper_enc, helper_ct, signature, verify_state,"
             " verifier_share) VALUES (3, %s, %s, %s, %s, %s, %s);",
             bPg ? "'\\x" TASK7 "'" : "x'" TASK7 "'", bPg ? "'\\x0a000000000000000000000000000000'" : "x'0a000000000000000000000000000000'", bPg ? "'\\xabab'" : "x'abab'",
             bPg ? "'\\x09000000000000000000000000000000'" : "x'09000000000000000000000000000000'",
             bPg ? "'\\x" TASK7 "'" : "x'" TASK7 "'", bPg ? "'\\x0b000000000000000000000000000000'" : "x'0b000000000000000000000000000000'",
             bPg ? "'\\x09000000000000000000000000000000'" : "x'09000000000000000000000000000000'",
             bPg ? "'\\x" TASK7 "'" : "x'" TASK7 "'", bPg ? "'\\x0c000000000000000000000000000000'" : "x'0c000000000000000000000000000000'", bPg ? "''" : "x''",
             bPg ? "'\\xe1'" : "x'e1'", bPg ? "'\\xc1'" : "x'c1'", bPg ? "'\\x51'" : "x'51'",
             bPg ? "'\\x5e'" : "x'5e'", bPg ? "'\\xf1'" : "x'f1'");
    if (bPg) {
        PGconn *c = PQconnectdb(g_path);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        for (size_t v = 1; v <= 6; v++) {
            PGresult *r = PQexec(c, pa_pg_migration(v));
            assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
            PQclear(r);
        }
        PGresult *r = PQexec(c, "CREATE TABLE pa_schema_version (version INTEGER NOT NULL);"
                                "INSERT INTO pa_schema_version VALUES (6);");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        r = PQexec(c, zSql);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *pDb;
        assert_int_equal(sqlite3_open(g_path, &pDb), SQLITE_OK);
        for (size_t v = 1; v <= 6; v++)
            assert_int_equal(sqlite3_exec(pDb, pa_store_migration(v), NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(pDb, "PRAGMA user_version = 6", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(pDb, zSql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(pDb);
    }

    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(count_rows(pStore, VERSION_SQL), pa_store_schema_version());
    assert_int_equal(pa_store_schema_version(), 7);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports"), 3);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 1);
    assert_int_equal(count_rows(pStore, "SELECT report FROM report_kept"), 1);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_data WHERE report = 3"), 1);
    /* (PostgreSQL: the catalog rows of this schema's own relations only; the
     * information_schema views read every relation, which other tests' schemas
     * may be dropping at that moment) */
    assert_int_equal(count_rows(pStore, bPg ? "SELECT count(*) FROM pg_attribute WHERE attrelid = 'reports'::regclass"
                                              " AND attname = 'verify_state' AND NOT attisdropped"
                                            : "SELECT count(*) FROM pragma_table_info('reports') WHERE name = 'verify_state'"),
                     0);
    assert_int_equal(count_rows(pStore, bPg ? "SELECT count(*) FROM pg_index WHERE indexrelid = 'reports_by_period'::regclass"
                                              " AND pg_get_indexdef(indexrelid) LIKE '%(task_id, state, period)'"
                                            : "SELECT count(*) FROM pragma_index_info('reports_by_period')"
                                              " WHERE seqno = 1 AND name = 'state'"),
                     1);
    /* migration 6's index (one counting report per agency and batch) stays */
    assert_int_equal(count_rows(pStore, bPg ? "SELECT count(*) FROM pg_class WHERE relname = 'reports_one_per_agency'"
                                              " AND relnamespace = current_schema()::regnamespace"
                                            : "SELECT count(*) FROM sqlite_master WHERE name = 'reports_one_per_agency'"),
                     1);
    /* the continue step finds the kept state; settling deletes it */
    kept_walk k = {2, 0, {0}, {0}};
    assert_int_equal(pa_store_job_kept(pStore, aTask, aJob, 2, kept_row, &k), PA_OK);
    assert_int_equal(k.n, 1);
    assert_memory_equal(k.aKept, "\xab\xab", 2);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_reports_reject_unsettled(pStore, aTask, aJob, "decode"), PA_OK);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 0);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports WHERE state = 'rejected'"), 1);
    pa_store_close(pStore);
}

static void test_newer_schema_refused(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_exec(pStore, test_store_pg() ? "UPDATE pa_schema_version SET version = 999"
                                                           : "PRAGMA user_version = 999"),
                     PA_OK);
    pa_store_close(pStore);
    assert_int_equal(pa_store_open(&pStore, g_path), PA_ERANGE);
    assert_null(pStore);
}

static void test_rollback_writes_nothing(void **state)
{
    pa_store *pStore;
    (void)state;
    static const uint8_t aTask[32] = {1}, aId[16] = {2};
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_ESTATE);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-10", "state", aId, (const uint8_t *)"r", 1, 0),
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
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_exec(pStore, "SELECT * FROM no_such_table"), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "no_such_table"));
    pa_store_close(pStore);
}

static void ledger_row(pa_store_ledger_row *r, int64_t iSeq, const uint8_t aHash[32])
{
    static const uint8_t aZero[32];
    memset(r, 0, sizeof *r);
    r->iSeq = iSeq;
    r->zTaskId = "t";
    r->zBatch = "2026-01/state";
    r->zMechanism = "discrete_gaussian";
    r->zParam = "10";
    r->zUnit = "rho";
    r->zLevel = "state";
    r->zPeriod = "2026-01";
    r->zPartition = "state";
    r->rCharge = r->rTotal = 0.05;
    r->rBudget = 1;
    r->pPrevHash = aZero;
    r->nPrevHash = 32;
    r->pHash = aHash;
    r->nHash = 32;
}

static int ledger_count(void *pCtx, const pa_store_ledger_row *r)
{
    (void)r;
    ++*(int *)pCtx;
    return 0;
}

/* Savepoints undo only their own writes, nest, and need a transaction. */
static void test_savepoints(void **state)
{
    pa_store *pStore;
    pa_store_ledger_row r;
    uint8_t aHash[32] = {1}, aHead[32];
    int64_t iSeq;
    int n = 0;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_ledger_init(pStore), PA_OK);
    assert_int_equal(pa_store_savepoint(pStore), PA_ESTATE);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    ledger_row(&r, 1, aHash);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_OK);
    assert_int_equal(pa_store_savepoint(pStore), PA_OK);
    ledger_row(&r, 2, aHash);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_OK);
    assert_int_equal(pa_store_savepoint(pStore), PA_OK);
    ledger_row(&r, 3, aHash);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_OK);
    assert_int_equal(pa_store_savepoint_rollback(pStore), PA_OK); /* undoes seq 3 only */
    assert_int_equal(pa_store_commit(pStore), PA_ESTATE); /* one still open */
    assert_int_equal(pa_store_savepoint_release(pStore), PA_OK);
    assert_int_equal(pa_store_savepoint_release(pStore), PA_ESTATE);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    assert_int_equal(pa_store_ledger_head(pStore, &iSeq, aHead), PA_OK);
    assert_int_equal(iSeq, 2);
    assert_memory_equal(aHead, aHash, 32);
    assert_int_equal(pa_store_ledger_each(pStore, ledger_count, &n), PA_OK);
    assert_int_equal(n, 2);
    /* a duplicate sequence number is the store's error, not a crash */
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_OK);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_ESTORE);
    pa_store_close(pStore);
}

/* A read-only store reads the ledger and writes nothing. */
static void test_readonly(void **state)
{
    pa_store *pStore;
    pa_store_ledger_row r;
    uint8_t aHash[32] = {2}, aHead[32];
    int64_t iSeq;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_ledger_init(pStore), PA_OK);
    ledger_row(&r, 1, aHash);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_OK);
    pa_store_close(pStore);
    assert_int_equal(pa_store_open_readonly(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_ledger_init(pStore), PA_OK);
    assert_int_equal(pa_store_ledger_head(pStore, &iSeq, aHead), PA_OK);
    assert_int_equal(iSeq, 1);
    ledger_row(&r, 2, aHash);
    assert_int_equal(pa_store_ledger_append(pStore, &r), PA_ESTORE);
    pa_store_close(pStore);
    assert_int_equal(pa_store_open_readonly(&pStore, test_store_path("/nonexistent-dir/y.db")), PA_ESTORE);
    assert_null(pStore);
}

/* Collections: one release per batch, a statewide release covers its period's
 * partitions; collection jobs: due order, a failed job asked again is pending. */
static void test_collections_and_jobs(void **state)
{
    static const uint8_t aTask[32] = {7}, aId[16] = {1}, aId2[16] = {2};
    pa_store *pStore;
    pa_store_collection c;
    pa_store_cjob j;
    int bFound, bColl;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_collected(pStore, aTask, "2026-01", "29001", &bColl), PA_OK);
    assert_false(bColl);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-01", "state", aId, (const uint8_t *)"abc", 3, 5),
                     PA_OK);
    /* a failure inside a transaction: undone by its savepoint (PostgreSQL
     * refuses every statement after a failed one until then) */
    assert_int_equal(pa_store_savepoint(pStore), PA_OK);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-01", "state", aId, (const uint8_t *)"x", 1, 6),
                     PA_ESTORE);
    assert_int_equal(pa_store_savepoint_rollback(pStore), PA_OK);
    assert_int_equal(pa_store_collected(pStore, aTask, "2026-01", "29001", &bColl), PA_OK);
    assert_true(bColl);
    assert_int_equal(pa_store_collected(pStore, aTask, "2026-02", "29001", &bColl), PA_OK);
    assert_false(bColl);
    assert_int_equal(pa_store_collection_get(pStore, aTask, "2026-01", "state", &c, &bFound), PA_OK);
    assert_true(bFound);
    assert_memory_equal(c.aCollectionId, aId, 16);
    assert_int_equal(c.nResponse, 3);
    assert_memory_equal(c.pResponse, "abc", 3);
    free(c.pResponse);
    assert_int_equal(pa_store_collection_get(pStore, aTask, "2026-01", "29001", &c, &bFound), PA_OK);
    assert_false(bFound);

    assert_int_equal(pa_store_cjob_create(pStore, aTask, aId, "2026-01", "state", (const uint8_t *)"rq", 2, 10),
                     PA_OK);
    assert_int_equal(pa_store_cjob_create(pStore, aTask, aId2, "2026-01", "29001", (const uint8_t *)"r2", 2, 11),
                     PA_OK);
    assert_int_equal(pa_store_cjob_due(pStore, aTask, 9, &j, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_cjob_due(pStore, aTask, 20, &j, &bFound), PA_OK);
    assert_true(bFound);
    assert_memory_equal(j.aCollectionId, aId, 16);
    assert_int_equal(j.nRequest, 2);
    assert_memory_equal(j.pRequest, "rq", 2);
    free(j.pRequest);
    assert_int_equal(pa_store_cjob_update(pStore, aTask, aId, PA_STORE_CJOB_FAILED, PA_EBUDGET, "no budget", 1,
                                          20, 20), PA_OK);
    assert_int_equal(pa_store_cjob_get(pStore, aTask, aId, &j, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(j.eState, PA_STORE_CJOB_FAILED);
    assert_int_equal(j.iErrorCode, PA_EBUDGET);
    assert_string_equal(j.zErrorDetail, "no budget");
    assert_int_equal(j.nAttempts, 1);
    assert_string_equal(j.zPartition, "state");
    /* the next due is the other one; asked again, the failed one is pending */
    assert_int_equal(pa_store_cjob_due(pStore, aTask, 20, &j, &bFound), PA_OK);
    assert_memory_equal(j.aCollectionId, aId2, 16);
    free(j.pRequest);
    assert_int_equal(pa_store_cjob_update(pStore, aTask, aId2, PA_STORE_CJOB_RELEASED, 0, NULL, 1, 20, 20),
                     PA_OK);
    assert_int_equal(pa_store_cjob_create(pStore, aTask, aId2, "2026-01", "29001", (const uint8_t *)"r2", 2, 30),
                     PA_OK);
    assert_int_equal(pa_store_cjob_get(pStore, aTask, aId2, &j, &bFound), PA_OK);
    assert_int_equal(j.eState, PA_STORE_CJOB_RELEASED); /* released stays released */
    assert_int_equal(pa_store_cjob_create(pStore, aTask, aId, "2026-01", "state", (const uint8_t *)"rq", 2, 30),
                     PA_OK);
    assert_int_equal(pa_store_cjob_get(pStore, aTask, aId, &j, &bFound), PA_OK);
    assert_int_equal(j.eState, PA_STORE_CJOB_PENDING);
    assert_int_equal(j.iErrorCode, 0);
    assert_int_equal(j.nAttempts, 0);
    assert_int_equal(pa_store_cjob_get(pStore, aTask, (const uint8_t *)"0123456789abcdef", &j, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    pa_store_close(pStore);
}

static int batch_sum(void *pCtx, const pa_store_batch_row *r)
{
    uint64_t *a = pCtx;
    a[0] += r->nReport;
    a[1] += r->nRejected;
    a[2] += r->pAggregate[0];
    return 0;
}

static int walk_batch(void *pCtx, const pa_store_batch_info *b)
{
    char *z = pCtx;
    size_t n = strlen(z);
    snprintf(z + n, 200 - n, "%s/%s:%d;", b->zPeriod, b->zPartition, (int)b->eState);
    return 0;
}

/* Batches: a put replaces the share and adds the counts, "state" reads the
 * whole period, forget keeps a partition's sum until both releases exist;
 * noise: the pool's oldest vector moves to a batch once, an empty pool says so. */
static void test_batches_and_noise(void **state)
{
    static const uint8_t aTask[32] = {7}, aId[16] = {1};
    pa_store *pStore;
    uint8_t aAgg[4] = {1, 0, 0, 0}, aOut[4], aBig[5];
    uint64_t aSum[3] = {0};
    int64_t n;
    int bFound, bEmpty;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "a", aOut, 4, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_batch_put(pStore, aTask, "2026-01", "a", aAgg, 4, 3, 1), PA_OK);
    aAgg[0] = 2;
    assert_int_equal(pa_store_batch_put(pStore, aTask, "2026-01", "a", aAgg, 4, 2, 0), PA_OK);
    assert_int_equal(pa_store_batch_put(pStore, aTask, "2026-01", "b", aAgg, 4, 1, 1), PA_OK);
    assert_int_equal(pa_store_batch_put(pStore, aTask, "2026-02", "a", aAgg, 4, 9, 9), PA_OK);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "a", aOut, 4, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(aOut[0], 2);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "a", aBig, 5, &bFound), PA_ESTORE);
    assert_int_equal(pa_store_batch_each(pStore, aTask, "2026-01", "state", batch_sum, aSum), PA_OK);
    assert_int_equal(aSum[0], 6);
    assert_int_equal(aSum[1], 2);
    assert_int_equal(aSum[2], 4);
    memset(aSum, 0, sizeof aSum);
    assert_int_equal(pa_store_batch_each(pStore, aTask, "2026-01", "a", batch_sum, aSum), PA_OK);
    assert_int_equal(aSum[0], 5);
    /* partition a released, then the statewide batch: only then a's sum goes */
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-01", "a", aId, aAgg, 1, 1), PA_OK);
    assert_int_equal(pa_store_batch_forget(pStore, aTask, "2026-01", "a"), PA_OK);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "a", aOut, 4, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-01", "state", aId, aAgg, 1, 1), PA_OK);
    assert_int_equal(pa_store_batch_forget(pStore, aTask, "2026-01", "state"), PA_OK);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "a", aOut, 4, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_batch_get(pStore, aTask, "2026-01", "b", aOut, 4, &bFound), PA_OK);
    assert_true(bFound); /* b was never released on its own */

    assert_int_equal(pa_store_batch_noise_take(pStore, aTask, "2026-03", "a", 1, &bEmpty), PA_OK);
    assert_true(bEmpty);
    for (uint8_t i = 1; i <= 2; i++) {
        uint8_t aNoise[4] = {i, i, i, i};
        assert_int_equal(pa_store_noise_pool_add(pStore, aTask, 1, aNoise, 4), PA_OK);
    }
    assert_int_equal(pa_store_noise_pool_count(pStore, aTask, 1, &n), PA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pa_store_noise_pool_count(pStore, aTask, 0, &n), PA_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pa_store_batch_noise_take(pStore, aTask, "2026-03", "a", 1, &bEmpty), PA_OK);
    assert_false(bEmpty);
    assert_int_equal(pa_store_batch_noise_take(pStore, aTask, "2026-03", "a", 1, &bEmpty), PA_OK);
    assert_int_equal(pa_store_noise_pool_count(pStore, aTask, 1, &n), PA_OK);
    assert_int_equal(n, 1); /* taken once */
    assert_int_equal(pa_store_batch_noise_get(pStore, aTask, "2026-03", "a", aOut, 4, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(aOut[0], 1); /* the oldest */
    assert_int_equal(pa_store_batch_forget(pStore, aTask, "2026-03", "a"), PA_OK);
    assert_int_equal(pa_store_batch_noise_get(pStore, aTask, "2026-03", "a", aOut, 4, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    /* every batch with its state, in (period, partition) byte order */
    char zWalk[200] = "";
    assert_int_equal(pa_store_batches_walk(pStore, aTask, walk_batch, zWalk), PA_OK);
    assert_string_equal(zWalk, "2026-01/a:2;2026-01/b:1;2026-01/state:2;2026-02/a:1;");
    pa_store_close(pStore);
}

static void upload_row(pa_store_upload_row *r, uint8_t iId, const char *zAgency, const uint8_t *pBytes)
{
    memset(r, 0, sizeof *r);
    r->aReportId[0] = iId;
    r->zAgencyId = zAgency;
    r->zPeriod = "2026-01";
    r->zPartition = "a";
    r->tReceived = 1;
    r->pLeaderDigest = r->pHelperEnc = r->pSignature = pBytes;
    r->pPublicShare = r->pHelperCt = r->pVerifyState = r->pVerifierShare = pBytes;
    r->nPublicShare = r->nHelperCt = r->nVerifyState = r->nVerifierShare = 8;
}

static int job_row_count(void *pCtx, const pa_store_job_report_row *r)
{
    assert_int_equal(r->nVerifyState, 8);
    assert_int_equal(r->nLeaderDigest, 32);
    ++*(int *)pCtx;
    return 0;
}

static int part_count(void *pCtx, const char *zPartition)
{
    assert_string_equal(zPartition, "a");
    ++*(int *)pCtx;
    return 0;
}

/* Reports and jobs: replay, an agency's counting and pending reports, a
 * correction, a job takes pending reports in id order, settling, the helper's
 * kept state, and stored step answers matched by request hash. */
static void test_reports_and_jobs(void **state)
{
    static const uint8_t aTask[32] = {7}, aJob[16] = {9}, aHash[32] = {3}, aOther[32] = {4};
    uint8_t aBytes[64] = {5}, *pResp, aOpen[16];
    char zPeriod[PA_STORE_PERIOD_SIZE];
    pa_store *pStore;
    pa_store_upload_row r;
    pa_store_helper_report_row h;
    uint64_t nCounting, nPending, n;
    size_t nResp;
    int bFound, bSame, nRows = 0, nParts = 0;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    upload_row(&r, 1, "ag1", aBytes);
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    assert_int_equal(pa_store_savepoint(pStore), PA_OK);
    /* same id: PostgreSQL says it is a replay (another writer may have stored
     * it after the caller's check); on SQLite the check cannot race */
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), test_store_pg() ? PA_EEXISTS : PA_ESTORE);
    assert_int_equal(pa_store_savepoint_rollback(pStore), PA_OK);
    assert_int_equal(pa_store_report_exists(pStore, aTask, r.aReportId, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(pa_store_reports_of_agency(pStore, aTask, "ag1", "2026-01", "a", &nCounting, &nPending),
                     PA_OK);
    assert_int_equal(nCounting, 1);
    assert_int_equal(nPending, 1);
    /* a correction: the old one is replaced, the new one counts */
    assert_int_equal(pa_store_reports_replace_pending(pStore, aTask, "ag1", "2026-01", "a"), PA_OK);
    upload_row(&r, 2, "ag1", aBytes);
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    upload_row(&r, 3, "ag2", aBytes);
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    assert_int_equal(pa_store_reports_of_agency(pStore, aTask, "ag1", "2026-01", "a", &nCounting, &nPending),
                     PA_OK);
    assert_int_equal(nCounting, 1);
    assert_int_equal(pa_store_reports_unfinished(pStore, aTask, "2026-01", "state", &n), PA_OK);
    assert_int_equal(n, 2);
    /* only a period with a pending collection job, when asked so */
    assert_int_equal(pa_store_reports_pending_period(pStore, aTask, 1, zPeriod, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_reports_pending_period(pStore, aTask, 0, zPeriod, &bFound), PA_OK);
    assert_true(bFound);
    assert_string_equal(zPeriod, "2026-01");
    assert_int_equal(pa_store_job_new(pStore, aTask, aJob, zPeriod, 10), PA_OK);
    assert_int_equal(pa_store_reports_assign(pStore, aTask, aJob, zPeriod, 1), PA_OK); /* report 2 only */
    assert_int_equal(pa_store_job_reports(pStore, aTask, aJob, job_row_count, &nRows), PA_OK);
    assert_int_equal(nRows, 1);
    assert_int_equal(pa_store_job_partitions(pStore, aTask, aJob, part_count, &nParts), PA_OK);
    assert_int_equal(nParts, 1);
    assert_int_equal(pa_store_job_open(pStore, aTask, aOpen, zPeriod, &bFound), PA_OK);
    assert_true(bFound);
    assert_memory_equal(aOpen, aJob, 16);
    uint8_t aId2[16] = {2};
    assert_int_equal(pa_store_report_settle(pStore, aTask, aId2, NULL), PA_OK);
    assert_int_equal(pa_store_job_finish(pStore, aTask, aJob, 11), PA_OK);
    assert_int_equal(pa_store_job_open(pStore, aTask, aOpen, zPeriod, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_reports_agencies(pStore, aTask, "2026-01", "a", &n), PA_OK);
    assert_int_equal(n, 1);
    nRows = 0;
    assert_int_equal(pa_store_job_reports(pStore, aTask, aJob, job_row_count, &nRows), PA_OK);
    assert_int_equal(nRows, 0);
    assert_int_equal(pa_store_reports_unfinished(pStore, aTask, "2026-01", "a", &n), PA_OK);
    assert_int_equal(n, 1); /* report 3 still pending */

    /* the helper: a kept state until continue, then rejected if not continued */
    static const uint8_t aTask2[32] = {8};
    memset(&h, 0, sizeof h);
    h.aReportId[0] = 1;
    h.zAgencyId = "ag1";
    h.zPeriod = "2026-01";
    h.zPartition = "a";
    h.pKept = aBytes;
    h.nKept = 8;
    memcpy(h.aJobId, aJob, 16);
    assert_int_equal(pa_store_report_insert_helper(pStore, aTask2, &h), PA_OK);
    kept_walk k = {8, 0, {0}, {0}};
    assert_int_equal(pa_store_job_kept(pStore, aTask2, aJob, 8, kept_row, &k), PA_OK);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.zPartition, "a");
    assert_memory_equal(k.aKept, aBytes, 8);
    k.n = 0;
    k.nKept = 7;
    assert_int_equal(pa_store_job_kept(pStore, aTask2, aJob, 7, kept_row, &k), PA_OK);
    assert_int_equal(k.n, 0); /* another size */
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 1);
    assert_int_equal(pa_store_reports_reject_unsettled(pStore, aTask2, aJob, "decode"), PA_OK);
    k.nKept = 8;
    assert_int_equal(pa_store_job_kept(pStore, aTask2, aJob, 8, kept_row, &k), PA_OK);
    assert_int_equal(k.n, 0);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 0); /* deleted with the state */

    /* step answers */
    assert_int_equal(pa_store_job_answer_get(pStore, aTask2, aJob, PA_STORE_JOB_INIT, aHash, &bFound, &bSame,
                                             &pResp, &nResp), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_job_answer_put(pStore, aTask2, aJob, "2026-01", PA_STORE_JOB_INIT, aHash,
                                             (const uint8_t *)"ans", 3, 12), PA_OK);
    assert_int_equal(pa_store_job_answer_get(pStore, aTask2, aJob, PA_STORE_JOB_INIT, aHash, &bFound, &bSame,
                                             &pResp, &nResp), PA_OK);
    assert_true(bFound && bSame);
    assert_int_equal(nResp, 3);
    assert_memory_equal(pResp, "ans", 3);
    free(pResp);
    assert_int_equal(pa_store_job_answer_get(pStore, aTask2, aJob, PA_STORE_JOB_INIT, aOther, &bFound, &bSame,
                                             &pResp, &nResp), PA_OK);
    assert_true(bFound);
    assert_false(bSame);
    assert_null(pResp);
    assert_int_equal(pa_store_job_answer_get(pStore, aTask2, aJob, PA_STORE_JOB_CONTINUE, aHash, &bFound,
                                             &bSame, &pResp, &nResp), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_job_period(pStore, aTask2, aJob, zPeriod, &bFound), PA_OK);
    assert_true(bFound);
    assert_string_equal(zPeriod, "2026-01");
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    pa_store_close(pStore);
}

/* The calls for many rows answer and write as the single-row calls do: a
 * batch insert with a stored id and an id twice inside stores the others and
 * skips exactly those (the single-row insert refuses them), the bulk lookup
 * answers each report as the three single lookups, settling many sets each
 * report's state and reason and deletes its parts and kept state, and a
 * helper's batch with an id twice is refused. */
static void test_reports_in_bulk(void **state)
{
    static const uint8_t aTask[32] = {7}, aJob[16] = {9};
    uint8_t aBytes[64] = {5}, abStored[5];
    pa_store *pStore;
    pa_store_upload_row aRow[5], r;
    pa_store_report_key aKey[4];
    pa_store_report_seen aSeen[4];
    pa_store_helper_report_row aHelper[3];
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    upload_row(&r, 1, "ag1", aBytes);
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    assert_int_equal(pa_store_report_insert_many(pStore, aTask, aRow, 0, abStored), PA_OK);
    /* 2, 1 (stored before), 3, 2 again, 4 */
    static const uint8_t aId[5] = {2, 1, 3, 2, 4};
    static const char *const azAgency[5] = {"ag2", "ag1", "ag3", "agX", "ag4"};
    for (size_t i = 0; i < 5; i++)
        upload_row(&aRow[i], aId[i], azAgency[i], aBytes);
    memset(abStored, 7, sizeof abStored);
    assert_int_equal(pa_store_report_insert_many(pStore, aTask, aRow, 5, abStored), PA_OK);
    assert_memory_equal(abStored, "\1\0\1\0\1", 5);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports"), 4);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_data"), 4);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports WHERE agency_id = 'agX'"), 0);
    /* as the single row (PostgreSQL: a replay, as in test_reports_and_jobs) */
    assert_int_equal(pa_store_report_insert(pStore, aTask, &aRow[3]), test_store_pg() ? PA_EEXISTS : PA_ESTORE);
    pa_store_rollback(pStore);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    assert_int_equal(pa_store_report_insert_many(pStore, aTask, aRow, 5, abStored), PA_OK);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-02", "state", aJob, aBytes, 4, 1), PA_OK);

    /* the bulk lookup: stored id of ag1, a new id of ag2 (one pending), ag9, a collected batch */
    static const uint8_t aKeyId[4][16] = {{1}, {9}, {10}, {11}};
    static const char *const azKeyAgency[4] = {"ag1", "ag2", "ag9", "ag3"};
    static const char *const azKeyPeriod[4] = {"2026-01", "2026-01", "2026-01", "2026-02"};
    for (size_t i = 0; i < 4; i++) {
        aKey[i].pReportId = aKeyId[i];
        aKey[i].zAgencyId = azKeyAgency[i];
        aKey[i].zPeriod = azKeyPeriod[i];
        aKey[i].zPartition = "a";
    }
    assert_int_equal(pa_store_reports_settle(pStore, aTask, NULL, 0), PA_OK);
    pa_store_settle_row aSettle[2] = {{aRow[0].aReportId, NULL}, {aRow[2].aReportId, "proof"}};
    assert_int_equal(pa_store_reports_settle(pStore, aTask, aSettle, 2), PA_OK); /* 2 accepted, 3 rejected */
    assert_int_equal(pa_store_reports_seen(pStore, aTask, aKey, 4, aSeen), PA_OK);
    for (size_t i = 0; i < 4; i++) {
        int bExists, bCollected;
        uint64_t nCounting, nPending;
        assert_int_equal(pa_store_report_exists(pStore, aTask, aKey[i].pReportId, &bExists), PA_OK);
        assert_int_equal(pa_store_reports_of_agency(pStore, aTask, aKey[i].zAgencyId, aKey[i].zPeriod, "a",
                                                    &nCounting, &nPending),
                         PA_OK);
        assert_int_equal(pa_store_collected(pStore, aTask, aKey[i].zPeriod, "a", &bCollected), PA_OK);
        assert_int_equal(aSeen[i].bExists, bExists);
        assert_int_equal(aSeen[i].nCounting, nCounting);
        assert_int_equal(aSeen[i].nPending, nPending);
        assert_int_equal(aSeen[i].bCollected, bCollected);
    }
    assert_true(aSeen[0].bExists && aSeen[0].nCounting == 1 && aSeen[0].nPending == 1);
    assert_true(!aSeen[1].bExists && aSeen[1].nCounting == 1 && aSeen[1].nPending == 0); /* ag2's was accepted */
    assert_true(!aSeen[2].bExists && aSeen[2].nCounting == 0 && !aSeen[2].bCollected);
    assert_true(aSeen[3].bCollected);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports WHERE state = 'accepted'"
                                        " AND reject_reason IS NULL"), 1);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports WHERE state = 'rejected'"
                                        " AND reject_reason = 'proof'"), 1);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_data"), 2); /* 1 and 4 still pending */

    /* the helper: a job's rows in one call, kept states in report_kept; an id twice is refused */
    static const uint8_t aTask2[32] = {8};
    memset(aHelper, 0, sizeof aHelper);
    for (size_t i = 0; i < 3; i++) {
        aHelper[i].aReportId[0] = (uint8_t)(i + 1);
        aHelper[i].zAgencyId = azAgency[i];
        aHelper[i].zPeriod = "2026-01";
        aHelper[i].zPartition = "a";
        aHelper[i].pKept = i == 1 ? NULL : aBytes;
        aHelper[i].nKept = i == 1 ? 0 : 8;
        aHelper[i].zRejectReason = i == 1 ? "signature" : NULL;
        memcpy(aHelper[i].aJobId, aJob, 16);
    }
    assert_int_equal(pa_store_report_insert_helper_many(pStore, aTask2, aHelper, 3), PA_OK);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 2);
    kept_walk k = {8, 0, {0}, {0}};
    assert_int_equal(pa_store_job_kept(pStore, aTask2, aJob, 8, kept_row, &k), PA_OK);
    assert_int_equal(k.n, 2);
    pa_store_settle_row aHelperSettle[2] = {{aHelper[0].aReportId, NULL}, {aHelper[2].aReportId, "proof"}};
    assert_int_equal(pa_store_reports_settle(pStore, aTask2, aHelperSettle, 2), PA_OK);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 0);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    aHelper[1].aReportId[0] = 9;
    aHelper[2].aReportId[0] = 9;
    assert_int_equal(pa_store_report_insert_helper_many(pStore, aTask2, aHelper + 1, 2), PA_ESTORE);
    pa_store_rollback(pStore);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM reports"), 4 + 3); /* nothing of id 9 */
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM report_kept"), 0);
    pa_store_close(pStore);
}

/* The accepted agencies' ids of a batch: distinct, NUL-terminated, in byte
 * order (memcmp: "B" before "a"), whatever the database's collation. */
static void test_agency_ids_in_byte_order(void **state)
{
    static const uint8_t aTask[32] = {7};
    static const char *const azAgency[] = {"b", "a", "B", "a"};
    uint8_t aBytes[64] = {5}, *pIds;
    size_t nIds;
    pa_store *pStore;
    pa_store_upload_row r;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    for (uint8_t i = 0; i < 4; i++) {
        upload_row(&r, (uint8_t)(i + 1), azAgency[i], aBytes);
        if (i == 3) /* "a" again, in another partition of the period (one report per agency and batch) */
            r.zPartition = "b";
        assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
        assert_int_equal(pa_store_report_settle(pStore, aTask, r.aReportId, NULL), PA_OK);
    }
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    assert_int_equal(pa_store_reports_agency_ids(pStore, aTask, "2026-01", "state", &pIds, &nIds), PA_OK);
    assert_int_equal(nIds, 6);
    assert_memory_equal(pIds, "B\0a\0b\0", 6);
    free(pIds);
    assert_int_equal(pa_store_reports_agency_ids(pStore, aTask, "2026-02", "a", &pIds, &nIds), PA_OK);
    assert_null(pIds);
    assert_int_equal(nIds, 0);
    pa_store_close(pStore);
}

static void test_unopenable_path(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, "/nonexistent-dir/x/y.db"), PA_ESTORE);
    assert_null(pStore);
}

/* A full disk (SQLite's SQLITE_FULL, here from max_page_count) is said as such,
 * with the store's path, through pa_store_exec and through a statement; the
 * transaction keeps nothing of the failed write. */
static void test_full_disk_says_so(void **state)
{
    static const char *const zInsert = "INSERT INTO t VALUES (zeroblob(60000))";
    pa_store *pStore;
    sqlite3_stmt *s;
    char zSql[64];
    (void)state;
    if (test_store_pg())
        skip(); /* SQLite's own full-disk path (max_page_count) */

    assert_int_equal(pa_store_open(&pStore, g_path), PA_OK);
    assert_int_equal(pa_store_exec(pStore, "CREATE TABLE t(x BLOB)"), PA_OK);
    snprintf(zSql, sizeof zSql, "PRAGMA max_page_count = %d", count_rows(pStore, "PRAGMA page_count") + 2);
    assert_int_equal(pa_store_exec(pStore, zSql), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_exec(pStore, "INSERT INTO t VALUES (zeroblob(100000))"), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "disk full, nothing of this write kept"));
    assert_non_null(strstr(pa_error_detail(), g_path));
    pa_store_rollback(pStore);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_stmt(pStore, &s, zInsert), PA_OK);
    assert_int_equal(pa_store_stmt_done(pStore, s, "t (insert)"), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "disk full, nothing of this write kept (t (insert))"));
    pa_store_rollback(pStore);
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM t"), 0);
    pa_store_close(pStore);
}

/* serve's start check: a store it cannot write is refused with the path. */
static void test_check_writable(void **state)
{
    char zFile[700];
    FILE *f;
    (void)state;
    if (test_store_pg())
        skip(); /* files only; a URL: see test_pg_unreachable_hides_password */

    assert_int_equal(pa_store_check_writable(g_path), PA_OK); /* new, in a writable folder */
    assert_int_equal(pa_store_check_writable("/nonexistent-pa-dir/leader.db"), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "its folder /nonexistent-pa-dir does not exist"));
    if (geteuid() == 0)
        return; /* root writes whatever the modes say (disk_faults.sh mounts read-only) */
    snprintf(zFile, sizeof zFile, "%s-ro", g_path);
    f = fopen(zFile, "w");
    assert_non_null(f);
    fclose(f);
    chmod(zFile, 0400);
    assert_int_equal(pa_store_check_writable(zFile), PA_ESTORE);
    assert_non_null(strstr(pa_error_detail(), "not writable"));
    assert_non_null(strstr(pa_error_detail(), "chmod u+w"));
    unlink(zFile);
}

/* A PostgreSQL server that does not answer: PA_ESTORE naming the store, and
 * never the password of the URL (needs no server: port 1 refuses). */
static void test_pg_unreachable_hides_password(void **state)
{
    pa_store *pStore;
    (void)state;
    assert_true(pa_store_is_postgres("postgresql://u@h/db"));
    assert_true(pa_store_is_postgres("postgres://u@h/db"));
    assert_false(pa_store_is_postgres("/var/lib/privagg/leader.db"));
    char zShown[200];
    pa_store_display_name("postgresql://agg:s3cr3t-pw@db.example:5432/privagg", zShown, sizeof zShown);
    assert_string_equal(zShown, "postgresql://agg:***@db.example:5432/privagg");
    pa_store_display_name("postgresql://agg@db.example/privagg", zShown, sizeof zShown);
    assert_string_equal(zShown, "postgresql://agg@db.example/privagg");
    pa_store_display_name("/var/lib/a:b@c.db", zShown, sizeof zShown);
    assert_string_equal(zShown, "/var/lib/a:b@c.db");
    assert_int_equal(pa_store_open(&pStore, "postgresql://agg:s3cr3t-pw@127.0.0.1:1/privagg?connect_timeout=2"),
                     PA_ESTORE);
    assert_null(pStore);
    assert_null(strstr(pa_error_detail(), "s3cr3t-pw"));
    assert_non_null(strstr(pa_error_detail(), "agg@127.0.0.1:1/privagg"));
    /* a server-side failure, too: a database that does not exist */
    if (test_store_pg()) {
        char zUrl[700];
        const char *zBase = getenv("PA_TEST_PG_URL");
        const char *zSlash = strrchr(zBase, '/');
        snprintf(zUrl, sizeof zUrl, "%.*s/no_such_db_pa", (int)(zSlash - zBase), zBase);
        assert_int_equal(pa_store_open(&pStore, zUrl), PA_ESTORE);
        assert_non_null(strstr(pa_error_detail(), "no_such_db_pa"));
    }
}

/* PostgreSQL: a commit is acknowledged only if the server committed; a
 * transaction with a failed statement commits nothing and says so. */
static void test_pg_failed_txn_not_acknowledged(void **state)
{
    static const uint8_t aTask[32] = {1}, aId[16] = {2};
    pa_store *pStore;
    (void)state;
    if (!test_store_pg())
        skip();
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-10", "a", aId, NULL, 0, 0), PA_OK);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-10", "a", aId, NULL, 0, 0), PA_ESTORE);
    assert_int_equal(pa_store_commit(pStore), PA_ESTORE);
    assert_false(pa_store_in_txn(pStore));
    assert_int_equal(count_rows(pStore, "SELECT count(*) FROM collections"), 0);
    /* two connections: writers do not take turns (no store-wide lock), but a
     * second write of the same row waits for the first's commit or rollback
     * (lock_timeout: the wait ends in a failure) */
    pa_store *pOther;
    assert_int_equal(pa_store_open(&pOther, g_azTestUrl[g_nTestSchema - 1]), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_collection_put(pStore, aTask, "2026-10", "a", aId, NULL, 0, 0), PA_OK);
    assert_int_equal(pa_store_exec(pOther, "SET lock_timeout = '200ms'"), PA_OK);
    assert_int_equal(pa_store_begin(pOther), PA_OK);
    assert_int_equal(pa_store_collection_put(pOther, aTask, "2026-10", "b", aId, NULL, 0, 0), PA_OK);
    assert_int_equal(pa_store_collection_put(pOther, aTask, "2026-10", "a", aId, NULL, 0, 0), PA_ESTORE);
    pa_store_rollback(pOther);
    pa_store_rollback(pStore);
    assert_int_equal(pa_store_begin(pOther), PA_OK);
    assert_int_equal(pa_store_collection_put(pOther, aTask, "2026-10", "a", aId, NULL, 0, 0), PA_OK);
    assert_int_equal(pa_store_commit(pOther), PA_OK);
    pa_store_close(pOther);
    pa_store_close(pStore);
}

/* The planner's statistics follow a store that fills fast (pa_store_analyze):
 * on PostgreSQL a table with at least PA_STORE_ANALYZE_ROWS changes past the
 * row count its statistics describe is analyzed, once; fewer changes, or a
 * table just analyzed, are left to autovacuum; SQLite has nothing to do. */
static void test_planner_statistics(void **state)
{
    static const uint8_t aTask[32] = {6};
    uint8_t aBytes[64] = {5};
    char zAgency[16];
    pa_store *pStore;
    pa_store_upload_row r;
    int nAnalyzed = -1;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, fresh()), PA_OK);
    assert_int_equal(pa_store_analyze(pStore, &nAnalyzed), PA_OK);
    assert_int_equal(nAnalyzed, 0);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_analyze(pStore, &nAnalyzed), test_store_pg() ? PA_ESTATE : PA_OK);
    for (int i = 0; i < PA_STORE_ANALYZE_ROWS + 100; i++) {
        snprintf(zAgency, sizeof zAgency, "ag%d", i);
        upload_row(&r, 0, zAgency, aBytes);
        r.aReportId[0] = (uint8_t)i;
        r.aReportId[1] = (uint8_t)(i >> 8);
        assert_int_equal(pa_store_report_insert(pStore, aTask, &r), PA_OK);
    }
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    if (!test_store_pg()) {
        assert_int_equal(pa_store_analyze(pStore, &nAnalyzed), PA_OK);
        assert_int_equal(nAnalyzed, 0);
        pa_store_close(pStore);
        return;
    }
    /* this session's counts reach the server's statistics when it is next idle */
    assert_int_equal(pa_store_exec(pStore, "SELECT pg_stat_force_next_flush()"), PA_OK);
    assert_int_equal(count_rows(pStore, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'reports'::regclass"),
                     -1); /* never analyzed: the migrations' empty table */
    assert_int_equal(pa_store_analyze(pStore, &nAnalyzed), PA_OK);
    assert_true(nAnalyzed >= 2); /* reports and report_data; a table with a few rows is not */
    assert_int_equal(count_rows(pStore, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'reports'::regclass"),
                     PA_STORE_ANALYZE_ROWS + 100);
    assert_int_equal(count_rows(pStore, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'pa_schema_version'::regclass"),
                     -1);
    assert_int_equal(pa_store_exec(pStore, "SELECT pg_stat_force_next_flush()"), PA_OK);
    assert_int_equal(pa_store_analyze(pStore, &nAnalyzed), PA_OK);
    assert_int_equal(nAnalyzed, 0);
    pa_store_close(pStore);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_to_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_3_keeps_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_7_moves_kept_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test(test_rollback_writes_nothing),
        cmocka_unit_test(test_bad_sql_names_the_error),
        cmocka_unit_test(test_agency_ids_in_byte_order),
        cmocka_unit_test(test_unopenable_path),
        cmocka_unit_test_setup_teardown(test_full_disk_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_writable, setup, teardown),
        cmocka_unit_test(test_pg_unreachable_hides_password),
        cmocka_unit_test(test_pg_failed_txn_not_acknowledged),
        cmocka_unit_test(test_savepoints),
        cmocka_unit_test(test_collections_and_jobs),
        cmocka_unit_test(test_batches_and_noise),
        cmocka_unit_test(test_reports_and_jobs),
        cmocka_unit_test(test_reports_in_bulk),
        cmocka_unit_test(test_planner_statistics),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
