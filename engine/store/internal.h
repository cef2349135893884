/*
 * Internals of the store (engine/store/ only, and tests that reach under the
 * interface to tamper with rows): the handle both backends share, and the
 * SQLite backend's statement cache.
 *
 * Every table file (ledger_store.c, collection_store.c, ...) runs its SQL on
 * statements compiled once per connection: pa_store_stmt returns the cached
 * statement of zSql (a string literal: the cache is keyed by its address), or a
 * fresh one if that statement is in use (a caller stepping it called back into
 * the store); every statement MUST be given back with pa_store_stmt_put (or
 * pa_store_stmt_done), never sqlite3_finalize.  A store is used by one thread at
 * a time.
 */
#ifndef PA_STORE_INTERNAL_H
#define PA_STORE_INTERNAL_H

#include <sqlite3.h>

#include "privagg/store.h"
#include "store/backend.h"

#define PA_STORE_STMT_CACHE 96
#define PA_STORE_SAVEPOINT_MAX 4

struct pa_pg;

struct pa_store {
    struct pa_pg *pPg;          /* the PostgreSQL backend's connection; NULL: SQLite */
    sqlite3 *pDb;               /* NULL on a PostgreSQL store */
    int bInTxn;
    int nSavepoint;             /* open savepoints inside the transaction */
    int bReadOnly;
    void (*xOnWal)(void *, int);
    void *pOnWalCtx;
    struct {
        const char *zSql;
        sqlite3_stmt *pStmt;
        int bBusy;
    } aStmt[PA_STORE_STMT_CACHE];
    size_t nStmt;
};

int pa_store_stmt(pa_store *pStore, sqlite3_stmt **ppStmt, const char *zSql);
void pa_store_stmt_put(pa_store *pStore, sqlite3_stmt *pStmt);
/* Step a statement that returns no row, give it back; PA_ESTORE naming zWhat. */
int pa_store_stmt_done(pa_store *pStore, sqlite3_stmt *pStmt, const char *zWhat);
/* PA_ESTORE with SQLite's last message, naming zWhat. */
int pa_store_fail(pa_store *pStore, const char *zWhat);

/* Bind helpers: a blob or text that lives until the statement is given back. */
#define PA_BIND_BLOB(s, i, p, n) sqlite3_bind_blob((s), (i), (p), (int)(n), SQLITE_STATIC)
#define PA_BIND_TEXT(s, i, z) sqlite3_bind_text((s), (i), (z), -1, SQLITE_STATIC)

/* A column's text, "" when NULL. */
const char *pa_store_col_text(sqlite3_stmt *pStmt, int iCol);

/* Run SQL with no result rows (DDL, tests), on either backend.  Errors: PA_ESTORE. */
int pa_store_exec(pa_store *pStore, const char *zSql);

/* The first column of the first row of zSql as an integer, on either
 * backend (tests that look under the interface).  Errors: PA_ESTORE. */
int pa_store_query_int(pa_store *pStore, const char *zSql, int64_t *pn);

/* The connection, for tests that tamper with rows under the interface. */
sqlite3 *pa_store_sqlite(pa_store *pStore);

#endif
