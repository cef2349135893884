/*
 * The privacy ledger's rows (table dp_ledger) in the SQLite store: create and
 * upgrade the table, read the head and a period's charges, append, walk.  The
 * rules (hash chain, lattice cells, budget) are engine/ledger/ledger.c's; this file
 * only moves rows (include/privagg/store.h).
 */
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

static const char *k_schema =
    "CREATE TABLE IF NOT EXISTS dp_ledger ("
    " seq INTEGER PRIMARY KEY,"
    " task_id TEXT NOT NULL, batch TEXT NOT NULL, mechanism TEXT NOT NULL,"
    " param TEXT NOT NULL, unit TEXT NOT NULL,"
    " charge REAL NOT NULL, total REAL NOT NULL, budget REAL NOT NULL,"
    " created_at INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
    " level TEXT, period TEXT, partition TEXT);"
    "CREATE INDEX IF NOT EXISTS dp_ledger_task ON dp_ledger(task_id, seq);";

static const char *k_upgrade =
    "ALTER TABLE dp_ledger ADD COLUMN level TEXT;"
    "ALTER TABLE dp_ledger ADD COLUMN period TEXT;"
    "ALTER TABLE dp_ledger ADD COLUMN partition TEXT;";

static const char *k_index =
    "CREATE INDEX IF NOT EXISTS dp_ledger_cell ON dp_ledger(task_id, period, seq);";

/* 1 if dp_ledger has the v2 columns (level, period, partition).  Not cached:
 * the answer changes when a v1 table is upgraded. */
static int has_cell_columns(pa_store *pStore)
{
    sqlite3_stmt *pStmt = NULL;
    int bHave = 0;
    if (sqlite3_prepare_v2(pStore->pDb, "SELECT 1 FROM pragma_table_info('dp_ledger') WHERE name = 'period'",
                           -1, &pStmt, NULL) != SQLITE_OK)
        return 0;
    bHave = sqlite3_step(pStmt) == SQLITE_ROW;
    sqlite3_finalize(pStmt);
    return bHave;
}

int pa_sqlite_ledger_present(pa_store *pStore, int *pbPresent)
{
    sqlite3_stmt *s;
    int src;
    *pbPresent = 0;
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dp_ledger'"));
    src = sqlite3_step(s);
    *pbPresent = src == SQLITE_ROW;
    src = src == SQLITE_ROW || src == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "ledger");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_sqlite_ledger_init(pa_store *pStore)
{
    if (pStore == NULL)
        return pa_fail(PA_EINVAL, "ledger: no store");
    if (pStore->bReadOnly || sqlite3_db_readonly(pStore->pDb, "main") == 1)
        return PA_OK; /* read-only (ledger verify/export): read what is there */
    if (sqlite3_exec(pStore->pDb, k_schema, NULL, NULL, NULL) != SQLITE_OK)
        return pa_store_fail(pStore, "ledger: create table");
    if (!has_cell_columns(pStore) && sqlite3_exec(pStore->pDb, k_upgrade, NULL, NULL, NULL) != SQLITE_OK)
        return pa_store_fail(pStore, "ledger: upgrade to v2 (level, period, partition)");
    if (sqlite3_exec(pStore->pDb, k_index, NULL, NULL, NULL) != SQLITE_OK)
        return pa_store_fail(pStore, "ledger: create index");
    return PA_OK;
}

int pa_sqlite_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32])
{
    sqlite3_stmt *s;
    int rc;

    *piSeq = 0;
    memset(aHash, 0, 32);
    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT seq, hash FROM dp_ledger ORDER BY seq DESC LIMIT 1"));
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *piSeq = sqlite3_column_int64(s, 0);
        if (sqlite3_column_bytes(s, 1) == 32)
            memcpy(aHash, sqlite3_column_blob(s, 1), 32);
        rc = PA_OK;
    } else {
        rc = rc == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, "ledger: read head");
    }
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod,
                           int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s, "SELECT partition, charge FROM dp_ledger WHERE task_id = ?1 AND"
                                       " period = ?2 ORDER BY seq"));
    PA_BIND_TEXT(s, 1, zTaskId);
    PA_BIND_TEXT(s, 2, zPeriod);
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW)
        rc = xRow(pCtx, pa_store_col_text(s, 0), sqlite3_column_double(s, 1));
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "ledger: read cells");
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_ledger_append(pa_store *pStore, const pa_store_ledger_row *e)
{
    sqlite3_stmt *s;

    PA_GUARD(pa_store_stmt(pStore, &s,
                           "INSERT INTO dp_ledger(seq, task_id, batch, mechanism, param, unit, charge,"
                           " total, budget, created_at, prev_hash, hash, level, period, partition)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
    sqlite3_bind_int64(s, 1, e->iSeq);
    PA_BIND_TEXT(s, 2, e->zTaskId);
    PA_BIND_TEXT(s, 3, e->zBatch);
    PA_BIND_TEXT(s, 4, e->zMechanism);
    PA_BIND_TEXT(s, 5, e->zParam);
    PA_BIND_TEXT(s, 6, e->zUnit);
    sqlite3_bind_double(s, 7, e->rCharge);
    sqlite3_bind_double(s, 8, e->rTotal);
    sqlite3_bind_double(s, 9, e->rBudget);
    sqlite3_bind_int64(s, 10, e->tCreated);
    PA_BIND_BLOB(s, 11, e->pPrevHash, e->nPrevHash);
    PA_BIND_BLOB(s, 12, e->pHash, e->nHash);
    PA_BIND_TEXT(s, 13, e->zLevel);
    PA_BIND_TEXT(s, 14, e->zPeriod);
    PA_BIND_TEXT(s, 15, e->zPartition);
    return pa_store_stmt_done(pStore, s, "ledger: insert");
}

int pa_sqlite_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow),
                         void *pCtx)
{
    sqlite3_stmt *s;
    int rc = PA_OK, src = SQLITE_DONE;

    PA_GUARD(pa_store_stmt(pStore, &s,
                           has_cell_columns(pStore)
                               ? "SELECT seq, task_id, batch, mechanism, param, unit, charge, total, budget,"
                                 " created_at, prev_hash, hash, level, period, partition FROM dp_ledger"
                                 " ORDER BY seq"
                               : "SELECT seq, task_id, batch, mechanism, param, unit, charge, total, budget,"
                                 " created_at, prev_hash, hash, NULL, NULL, NULL FROM dp_ledger"
                                 " ORDER BY seq"));
    while (rc == PA_OK && (src = sqlite3_step(s)) == SQLITE_ROW) {
        pa_store_ledger_row e;
        memset(&e, 0, sizeof e);
        e.iSeq = sqlite3_column_int64(s, 0);
        e.zTaskId = pa_store_col_text(s, 1);
        e.zBatch = pa_store_col_text(s, 2);
        e.zMechanism = pa_store_col_text(s, 3);
        e.zParam = pa_store_col_text(s, 4);
        e.zUnit = pa_store_col_text(s, 5);
        e.rCharge = sqlite3_column_double(s, 6);
        e.rTotal = sqlite3_column_double(s, 7);
        e.rBudget = sqlite3_column_double(s, 8);
        e.tCreated = sqlite3_column_int64(s, 9);
        e.pPrevHash = sqlite3_column_blob(s, 10);
        e.nPrevHash = (size_t)sqlite3_column_bytes(s, 10);
        e.pHash = sqlite3_column_blob(s, 11);
        e.nHash = (size_t)sqlite3_column_bytes(s, 11);
        e.zLevel = (const char *)sqlite3_column_text(s, 12);
        e.zPeriod = (const char *)sqlite3_column_text(s, 13);
        e.zPartition = (const char *)sqlite3_column_text(s, 14);
        rc = xRow(pCtx, &e);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = pa_store_fail(pStore, "ledger: read");
    pa_store_stmt_put(pStore, s);
    return rc;
}

int pa_sqlite_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny)
{
    sqlite3_stmt *s;

    *pMax = 0;
    *pbAny = 0;
    PA_GUARD(pa_store_stmt(pStore, &s,
                           has_cell_columns(pStore)
                               ? "SELECT max(total) FROM dp_ledger WHERE task_id = ?1 AND period IS NULL"
                               : "SELECT max(total) FROM dp_ledger WHERE task_id = ?1"));
    PA_BIND_TEXT(s, 1, zTaskId);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *pMax = sqlite3_column_double(s, 0);
        *pbAny = 1;
    }
    pa_store_stmt_put(pStore, s);
    return PA_OK;
}
