/*
 * SQLite store: open, configure (WAL, foreign keys, busy timeout), migrate, and
 * the transaction helpers every stateful module uses (see include/privagg/store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privagg/common.h"
#include "common/guard.h"
#include "store/backend.h"
#include "store/internal.h"
#include "store/migrations.h"

int pa_store_schema_version(void)
{
    return (int)pa_store_migration_count();
}

/* A full disk is said as such, with the store's file: the operator's fix is
 * to free space there, and the aggregator resumes by itself (docs/operations.md). */
static int fail_full(pa_store *pStore, const char *zWhat)
{
    const char *zFile = sqlite3_db_filename(pStore->pDb, "main");
    return pa_fail(PA_ESTORE, "disk full, nothing of this write kept (%.24s): free space for the "
                   "store %s, the aggregator resumes by itself", zWhat,
                   zFile && zFile[0] ? zFile : "(in memory)");
}

int pa_store_exec(pa_store *pStore, const char *zSql)
{
    char *zErr = NULL;
    int src;

    if (pStore->pPg)
        return pa_pg_exec(pStore, zSql);
    src = sqlite3_exec(pStore->pDb, zSql, NULL, NULL, &zErr);
    if (src != SQLITE_OK) {
        int rc = (src & 0xff) == SQLITE_FULL
                     ? fail_full(pStore, zSql)
                     : pa_fail(PA_ESTORE, "sql: %s", zErr ? zErr : sqlite3_errmsg(pStore->pDb));
        sqlite3_free(zErr);
        return rc;
    }
    return PA_OK;
}

/* The one ROLLBACK statement, compiled when the store opens (pa_store_rollback). */
static const char k_zRollback[] = "ROLLBACK";

static int warm_rollback(pa_store *pStore)
{
    sqlite3_stmt *s;
    PA_GUARD(pa_store_stmt(pStore, &s, k_zRollback));
    pa_store_stmt_put(pStore, s);
    return PA_OK;
}

/* Compile the ROLLBACK again before each transaction: a change of schema since
 * (a table created) expires it, and stepping an expired statement compiles it
 * anew, which needs memory a rollback may not have. */
static int fresh_rollback(pa_store *pStore)
{
    for (size_t i = 0; i < pStore->nStmt; i++) {
        if (pStore->aStmt[i].zSql == k_zRollback && !pStore->aStmt[i].bBusy) {
            sqlite3_stmt *s;
            if (sqlite3_prepare_v2(pStore->pDb, k_zRollback, -1, &s, NULL) != SQLITE_OK)
                return pa_store_fail(pStore, "begin");
            sqlite3_finalize(pStore->aStmt[i].pStmt);
            pStore->aStmt[i].pStmt = s;
            return PA_OK;
        }
    }
    return PA_OK;
}

static int read_user_version(pa_store *pStore, int *pVersion)
{
    sqlite3_stmt *pStmt = NULL;
    int rc = sqlite3_prepare_v2(pStore->pDb, "PRAGMA user_version", -1, &pStmt, NULL);

    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
        *pVersion = sqlite3_column_int(pStmt, 0);
        sqlite3_finalize(pStmt);
        return PA_OK;
    }
    sqlite3_finalize(pStmt);
    return pa_fail(PA_ESTORE, "user_version: %s", sqlite3_errmsg(pStore->pDb));
}

/* Apply every migration above the file's version in one transaction. */
static int migrate(pa_store *pStore)
{
    int iVersion = 0, nNewest = pa_store_schema_version(), rc;
    char zPragma[64];

    rc = pa_store_begin(pStore);
    if (rc != PA_OK)
        return rc;
    rc = read_user_version(pStore, &iVersion);
    if (rc == PA_OK && iVersion > nNewest)
        rc = pa_fail(PA_ERANGE, "schema version: %d is newer than %d, the newest this build knows",
                     iVersion, nNewest);
    for (int v = iVersion + 1; rc == PA_OK && v <= nNewest; v++)
        rc = pa_store_exec(pStore, pa_store_migration((size_t)v));
    if (rc == PA_OK && iVersion < nNewest) {
        snprintf(zPragma, sizeof zPragma, "PRAGMA user_version = %d", nNewest);
        rc = pa_store_exec(pStore, zPragma);
    }
    if (rc != PA_OK) {
        pa_store_rollback(pStore);
        return rc;
    }
    return pa_store_commit(pStore);
}

int pa_sqlite_open(pa_store **ppStore, const char *zPath)
{
    pa_store *pStore;
    int rc;

    *ppStore = NULL;
    pStore = calloc(1, sizeof *pStore);
    if (pStore == NULL)
        return pa_fail(PA_ENOMEM, "store: allocating the handle");
    if (sqlite3_open_v2(zPath, &pStore->pDb,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = pa_fail(PA_ESTORE, "store %s: %s", zPath,
                     pStore->pDb ? sqlite3_errmsg(pStore->pDb) : "cannot allocate");
        pa_store_close(pStore);
        return rc;
    }
    sqlite3_busy_timeout(pStore->pDb, 5000);
    /* WAL with synchronous FULL: a commit is on disk before it is acknowledged.
     * 8 KiB pages (set before WAL, on a new file): a leader's report_data row
     * (~6.5 KB) fits in one page with no overflow page, and a report costs about
     * two WAL frames (its row, one random page of the report-id index) where
     * 4 KiB pages took three or four: each frame is two write calls and its share
     * of the fsync, so the committer and checkpoint threads used ~17 % less CPU
     * per report (runs alternated); 16 KiB pages wrote ~40 % more bytes than
     * 4 KiB ones.  secure_delete ON: a deleted row is zeroed
     * wherever it was, overflow pages included (a leader's report_data row holds
     * its verify state, a share of one agency's counts, and is deleted once
     * aggregated).  A 64 MiB page cache and memory-mapped reads.  Servers
     * checkpoint on a thread of their own (pa_store_on_wal_commit). */
    rc = pa_store_exec(pStore, "PRAGMA page_size = 8192;"
                               "PRAGMA secure_delete = ON;"
                               "PRAGMA journal_mode = WAL;"
                               "PRAGMA synchronous = FULL;"
                               "PRAGMA foreign_keys = ON;"
                               "PRAGMA cache_size = -65536;"
                               "PRAGMA mmap_size = 268435456;"
                               "PRAGMA temp_store = MEMORY;");
    if (rc == PA_OK)
        rc = migrate(pStore);
    if (rc == PA_OK)
        rc = warm_rollback(pStore);
    if (rc != PA_OK) {
        pa_store_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

int pa_sqlite_check_private(const char *zPath)
{
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    char zFile[4200];
    struct stat st;

    for (size_t i = 0; i < sizeof azSuffix / sizeof azSuffix[0]; i++) {
        if (snprintf(zFile, sizeof zFile, "%s%s", zPath, azSuffix[i]) >= (int)sizeof zFile)
            return pa_fail(PA_ESTORE, "store %s: path too long", zPath);
        if (lstat(zFile, &st) != 0) {
            if (errno == ENOENT)
                continue;
            return pa_fail(PA_ESTORE, "store %s: %s", zFile, strerror(errno));
        }
        if (!S_ISREG(st.st_mode))
            return pa_fail(PA_EAUTH, "store %s: not a regular file (a link or a device); the store "
                           "holds report shares: use a plain file", zFile);
        if (st.st_uid != geteuid())
            return pa_fail(PA_EAUTH, "store %s: owned by uid %u, not by this user (uid %u), and holds "
                           "report shares; chown it or run as its owner", zFile, (unsigned)st.st_uid,
                           (unsigned)geteuid());
        if ((st.st_mode & 077) != 0)
            return pa_fail(PA_EAUTH, "store %s: mode %03o lets others read report shares; expected "
                           "0600 (chmod 600 %s)", zFile, (unsigned)(st.st_mode & 0777), zFile);
    }
    return PA_OK;
}

/* Why this process cannot write zFile (a file or folder): 0 if it can. */
static int write_denied(const char *zFile, int *pErrno)
{
    if (faccessat(AT_FDCWD, zFile, W_OK, AT_EACCESS) == 0)
        return 0;
    *pErrno = errno;
    return 1;
}

int pa_sqlite_check_writable(const char *zPath)
{
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    char zFile[4200], zDir[4200];
    const char *zSlash = strrchr(zPath, '/');
    int e = 0;

    if (zSlash == NULL)
        snprintf(zDir, sizeof zDir, ".");
    else if (zSlash == zPath)
        snprintf(zDir, sizeof zDir, "/");
    else if ((size_t)(zSlash - zPath) < sizeof zDir)
        snprintf(zDir, sizeof zDir, "%.*s", (int)(zSlash - zPath), zPath);
    else
        return pa_fail(PA_ESTORE, "store %s: path too long", zPath);
    for (size_t i = 0; i < sizeof azSuffix / sizeof azSuffix[0]; i++) {
        struct stat st;
        if (snprintf(zFile, sizeof zFile, "%s%s", zPath, azSuffix[i]) >= (int)sizeof zFile)
            return pa_fail(PA_ESTORE, "store %s: path too long", zPath);
        if (stat(zFile, &st) != 0)
            continue; /* created by SQLite: the folder's check below */
        if (write_denied(zFile, &e))
            return pa_fail(PA_ESTORE, "store %s: not writable (%s)%s; the aggregator writes every "
                           "report it acknowledges there: %s, or set \"store\" in the config to a "
                           "writable path", zFile, strerror(e),
                           e == EROFS ? ": its file system is mounted read-only" : "",
                           e == EROFS ? "remount it read-write (and check the disk: a file system "
                                        "turns read-only after errors)"
                                      : "give this user write permission (chmod u+w, chown)");
    }
    if (!write_denied(zDir, &e))
        return PA_OK;
    if (e == ENOENT)
        return pa_fail(PA_ESTORE, "store %s: its folder %s does not exist: create it (mkdir -m 700, "
                       "owned by this user) or set \"store\" in the config to another path", zPath, zDir);
    return pa_fail(PA_ESTORE, "store %s: its folder %s is not writable (%s)%s; SQLite creates "
                   "and removes the store's -wal and -shm files there: %s, or set \"store\" in "
                   "the config to a writable path", zPath, zDir, strerror(e),
                   e == EROFS ? ": the file system is mounted read-only" : "",
                   e == EROFS ? "remount it read-write" : "give this user write permission to the folder");
}

void pa_sqlite_close(pa_store *pStore)
{
    if (pStore == NULL)
        return;
    if (pStore->bInTxn)
        pa_store_rollback(pStore);
    for (size_t i = 0; i < pStore->nStmt; i++)
        sqlite3_finalize(pStore->aStmt[i].pStmt);
    sqlite3_close_v2(pStore->pDb);
    free(pStore);
}

sqlite3 *pa_store_sqlite(pa_store *pStore)
{
    return pStore->pDb;
}

int pa_sqlite_open_readonly(pa_store **ppStore, const char *zPath)
{
    pa_store *pStore;
    int rc, iVersion = 0;

    *ppStore = NULL;
    pStore = calloc(1, sizeof *pStore);
    if (pStore == NULL)
        return pa_fail(PA_ENOMEM, "store: allocating the handle");
    pStore->bReadOnly = 1;
    if (sqlite3_open_v2(zPath, &pStore->pDb, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        rc = pa_fail(PA_ESTORE, "store %s: %s", zPath,
                     pStore->pDb ? sqlite3_errmsg(pStore->pDb) : "cannot allocate");
        pa_store_close(pStore);
        return rc;
    }
    sqlite3_busy_timeout(pStore->pDb, 5000);
    rc = read_user_version(pStore, &iVersion); /* also: is it a database at all */
    if (rc == PA_OK && iVersion > pa_store_schema_version())
        rc = pa_fail(PA_ERANGE, "schema version: %d is newer than %d, the newest this build knows",
                     iVersion, pa_store_schema_version());
    if (rc != PA_OK) {
        pa_store_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

int pa_sqlite_open_probe(pa_store **ppStore, const char *zPath)
{
    pa_store *pStore;
    int rc;

    *ppStore = NULL;
    pStore = calloc(1, sizeof *pStore);
    if (pStore == NULL)
        return pa_fail(PA_ENOMEM, "store: allocating the handle");
    if (sqlite3_open_v2(zPath, &pStore->pDb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        rc = pa_fail(PA_ESTORE, "%s", pStore->pDb ? sqlite3_errmsg(pStore->pDb) : "no memory");
        pa_store_close(pStore);
        return rc;
    }
    sqlite3_busy_timeout(pStore->pDb, 1000);
    *ppStore = pStore;
    return PA_OK;
}

int pa_sqlite_probe_writable(pa_store *pStore)
{
    int e = sqlite3_exec(pStore->pDb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int rc = e == SQLITE_OK || e == SQLITE_BUSY ? PA_OK : pa_fail(PA_ESTORE, "%s", sqlite3_errstr(e));
    sqlite3_exec(pStore->pDb, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int pa_store_in_txn(const pa_store *pStore)
{
    return pStore->bInTxn;
}

int pa_sqlite_begin(pa_store *pStore)
{
    int rc;

    if (pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: a transaction is already open");
    /* a rollback that could not run (memory ran out while every allocation
     * failed) left SQLite's transaction open: end it now */
    if (!sqlite3_get_autocommit(pStore->pDb))
        sqlite3_exec(pStore->pDb, "ROLLBACK", NULL, NULL, NULL);
    PA_GUARD(fresh_rollback(pStore));
    rc = pa_store_exec(pStore, "BEGIN IMMEDIATE");
    if (rc == PA_OK)
        pStore->bInTxn = 1;
    return rc;
}

int pa_sqlite_commit(pa_store *pStore)
{
    int rc;

    if (!pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: commit without a transaction");
    if (pStore->nSavepoint != 0)
        return pa_fail(PA_ESTATE, "store: commit with %d savepoint(s) open", pStore->nSavepoint);
    rc = pa_store_exec(pStore, "COMMIT");
    if (rc != PA_OK) {
        pa_store_rollback(pStore);
        return rc;
    }
    pStore->bInTxn = 0;
    return PA_OK;
}

void pa_sqlite_rollback(pa_store *pStore)
{
    if (!pStore->bInTxn && sqlite3_get_autocommit(pStore->pDb))
        return;
    /* the statement compiled at open: a rollback needs no memory (a ROLLBACK
     * compiled here could fail when memory is short and leave the transaction
     * open under the next begin: found by tests/unit/alloc_torture_test.c) */
    for (size_t i = 0; i < pStore->nStmt; i++) {
        if (pStore->aStmt[i].zSql == k_zRollback && !pStore->aStmt[i].bBusy) {
            sqlite3_step(pStore->aStmt[i].pStmt);
            sqlite3_reset(pStore->aStmt[i].pStmt);
            break;
        }
    }
    if (!sqlite3_get_autocommit(pStore->pDb))
        sqlite3_exec(pStore->pDb, "ROLLBACK", NULL, NULL, NULL);
    pStore->bInTxn = 0;
    pStore->nSavepoint = 0;
}

static int on_wal_commit(void *p, sqlite3 *pDb, const char *zDb, int nFrames)
{
    pa_store *pStore = p;
    (void)pDb;
    (void)zDb;
    pStore->xOnWal(pStore->pOnWalCtx, nFrames);
    return SQLITE_OK;
}

void pa_sqlite_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx)
{
    pStore->xOnWal = xOnWal;
    pStore->pOnWalCtx = pCtx;
    if (xOnWal != NULL)
        sqlite3_wal_hook(pStore->pDb, on_wal_commit, pStore);
    else
        sqlite3_wal_autocheckpoint(pStore->pDb, PA_STORE_CHECKPOINT_PAGES);
}

int pa_sqlite_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied)
{
    int nLog = 0, nCopied = 0;
    int rc = sqlite3_wal_checkpoint_v2(pStore->pDb, NULL, SQLITE_CHECKPOINT_PASSIVE, &nLog, &nCopied);
    if (pnLog)
        *pnLog = nLog;
    if (pnCopied)
        *pnCopied = nCopied;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return pa_fail(PA_ESTORE, "store: checkpoint: %s", sqlite3_errmsg(pStore->pDb));
    return PA_OK;
}

/* SQLite plans these lookups well without statistics (store.h). */
int pa_sqlite_analyze(pa_store *pStore, int *pnAnalyzed)
{
    (void)pStore;
    if (pnAnalyzed)
        *pnAnalyzed = 0;
    return PA_OK;
}

/* ---- savepoints ----------------------------------------------------------- */

/* One name per depth, each a literal so that its statements are cached. */
static const char *const k_aSpBegin[PA_STORE_SAVEPOINT_MAX] = {"SAVEPOINT pa_sp0", "SAVEPOINT pa_sp1",
                                                               "SAVEPOINT pa_sp2", "SAVEPOINT pa_sp3"};
static const char *const k_aSpUndo[PA_STORE_SAVEPOINT_MAX] = {"ROLLBACK TO pa_sp0", "ROLLBACK TO pa_sp1",
                                                              "ROLLBACK TO pa_sp2", "ROLLBACK TO pa_sp3"};
static const char *const k_aSpEnd[PA_STORE_SAVEPOINT_MAX] = {"RELEASE pa_sp0", "RELEASE pa_sp1",
                                                             "RELEASE pa_sp2", "RELEASE pa_sp3"};

static int run_cached(pa_store *pStore, const char *zSql)
{
    sqlite3_stmt *s;
    int rc = pa_store_stmt(pStore, &s, zSql);
    return rc == PA_OK ? pa_store_stmt_done(pStore, s, zSql) : rc;
}

int pa_sqlite_savepoint(pa_store *pStore)
{
    if (!pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: a savepoint needs an open transaction (pa_store_begin)");
    if (pStore->nSavepoint == PA_STORE_SAVEPOINT_MAX)
        return pa_fail(PA_ESTATE, "store: savepoints nest %d deep at most", PA_STORE_SAVEPOINT_MAX);
    PA_GUARD(run_cached(pStore, k_aSpBegin[pStore->nSavepoint]));
    pStore->nSavepoint++;
    return PA_OK;
}

int pa_sqlite_savepoint_release(pa_store *pStore)
{
    if (pStore->nSavepoint == 0)
        return pa_fail(PA_ESTATE, "store: no savepoint to release");
    PA_GUARD(run_cached(pStore, k_aSpEnd[pStore->nSavepoint - 1]));
    pStore->nSavepoint--;
    return PA_OK;
}

int pa_sqlite_savepoint_rollback(pa_store *pStore)
{
    const char *azSql[2];
    if (pStore->nSavepoint == 0)
        return PA_OK;
    azSql[0] = k_aSpUndo[pStore->nSavepoint - 1];
    azSql[1] = k_aSpEnd[pStore->nSavepoint - 1];
    pStore->nSavepoint--;
    /* stepped without pa_fail on success: the caller's failure message stays */
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *s;
        int src;
        PA_GUARD(pa_store_stmt(pStore, &s, azSql[i]));
        src = sqlite3_step(s);
        if (src != SQLITE_DONE) {
            src = pa_store_fail(pStore, azSql[i]);
            pa_store_stmt_put(pStore, s);
            return src;
        }
        pa_store_stmt_put(pStore, s);
    }
    return PA_OK;
}

/* ---- statements ----------------------------------------------------------- */

int pa_store_stmt(pa_store *pStore, sqlite3_stmt **ppStmt, const char *zSql)
{
    size_t i;

    if (pStore->pDb == NULL) /* a PostgreSQL store: a function with no pa_pg_ version */
        return pa_fail(PA_ESTORE, "store: not implemented on PostgreSQL (in: %.60s)", zSql);

    for (i = 0; i < pStore->nStmt; i++) {
        if (pStore->aStmt[i].zSql == zSql && !pStore->aStmt[i].bBusy) {
            pStore->aStmt[i].bBusy = 1;
            *ppStmt = pStore->aStmt[i].pStmt;
            return PA_OK;
        }
    }
    if (sqlite3_prepare_v2(pStore->pDb, zSql, -1, ppStmt, NULL) != SQLITE_OK)
        return pa_fail(PA_ESTORE, "store: %s (in: %.60s)", sqlite3_errmsg(pStore->pDb), zSql);
    for (i = 0; i < pStore->nStmt && pStore->aStmt[i].zSql != zSql; i++)
        ;
    if (i == pStore->nStmt && pStore->nStmt < PA_STORE_STMT_CACHE) { /* first use: keep it */
        pStore->aStmt[i].zSql = zSql;
        pStore->aStmt[i].pStmt = *ppStmt;
        pStore->aStmt[i].bBusy = 1;
        pStore->nStmt++;
    }
    return PA_OK;
}

void pa_store_stmt_put(pa_store *pStore, sqlite3_stmt *pStmt)
{
    for (size_t i = 0; i < pStore->nStmt; i++) {
        if (pStore->aStmt[i].pStmt == pStmt) {
            sqlite3_reset(pStmt);
            sqlite3_clear_bindings(pStmt);
            pStore->aStmt[i].bBusy = 0;
            return;
        }
    }
    sqlite3_finalize(pStmt);
}

int pa_store_stmt_done(pa_store *pStore, sqlite3_stmt *pStmt, const char *zWhat)
{
    int rc = sqlite3_step(pStmt);
    if (rc != SQLITE_DONE) {
        rc = pa_store_fail(pStore, zWhat);
        pa_store_stmt_put(pStore, pStmt);
        return rc;
    }
    pa_store_stmt_put(pStore, pStmt);
    return PA_OK;
}

int pa_store_fail(pa_store *pStore, const char *zWhat)
{
    if ((sqlite3_errcode(pStore->pDb) & 0xff) == SQLITE_FULL)
        return fail_full(pStore, zWhat);
    return pa_fail(PA_ESTORE, "store: %s: %s", zWhat, sqlite3_errmsg(pStore->pDb));
}

int pa_sqlite_query_int(pa_store *pStore, const char *zSql, int64_t *pn)
{
    sqlite3_stmt *s;
    int rc;

    *pn = 0;
    if (sqlite3_prepare_v2(pStore->pDb, zSql, -1, &s, NULL) != SQLITE_OK)
        return pa_store_fail(pStore, zSql);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *pn = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? PA_OK : pa_store_fail(pStore, zSql);
}

const char *pa_store_col_text(sqlite3_stmt *pStmt, int iCol)
{
    const unsigned char *z = sqlite3_column_text(pStmt, iCol);
    return z ? (const char *)z : "";
}
