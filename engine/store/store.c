/*
 * SQLite store: open, configure (WAL, foreign keys, busy timeout), migrate, and
 * the transaction helpers every stateful module uses (see include/privagg/store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privagg/common.h"
#include "privagg/store.h"
#include "store/migrations.h"

struct pa_store {
    sqlite3 *pDb;
    int bInTxn;
    void (*xOnWal)(void *, int);
    void *pOnWalCtx;
};

int pa_store_schema_version(void)
{
    return (int)pa_store_migration_count();
}

int pa_store_exec(pa_store *pStore, const char *zSql)
{
    char *zErr = NULL;

    if (sqlite3_exec(pStore->pDb, zSql, NULL, NULL, &zErr) != SQLITE_OK) {
        int rc = pa_fail(PA_ESTORE, "sql: %s", zErr ? zErr : sqlite3_errmsg(pStore->pDb));
        sqlite3_free(zErr);
        return rc;
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

int pa_store_open(pa_store **ppStore, const char *zPath)
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
    if (rc != PA_OK) {
        pa_store_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

int pa_store_check_private(const char *zPath)
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

void pa_store_close(pa_store *pStore)
{
    if (pStore == NULL)
        return;
    if (pStore->bInTxn)
        pa_store_rollback(pStore);
    sqlite3_close_v2(pStore->pDb);
    free(pStore);
}

sqlite3 *pa_store_db(pa_store *pStore)
{
    return pStore->pDb;
}

int pa_store_begin(pa_store *pStore)
{
    int rc;

    if (pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: a transaction is already open");
    rc = pa_store_exec(pStore, "BEGIN IMMEDIATE");
    if (rc == PA_OK)
        pStore->bInTxn = 1;
    return rc;
}

int pa_store_commit(pa_store *pStore)
{
    int rc;

    if (!pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: commit without a transaction");
    rc = pa_store_exec(pStore, "COMMIT");
    if (rc != PA_OK) {
        pa_store_rollback(pStore);
        return rc;
    }
    pStore->bInTxn = 0;
    return PA_OK;
}

void pa_store_rollback(pa_store *pStore)
{
    if (!pStore->bInTxn && sqlite3_get_autocommit(pStore->pDb))
        return;
    sqlite3_exec(pStore->pDb, "ROLLBACK", NULL, NULL, NULL);
    pStore->bInTxn = 0;
}

static int on_wal_commit(void *p, sqlite3 *pDb, const char *zDb, int nFrames)
{
    pa_store *pStore = p;
    (void)pDb;
    (void)zDb;
    pStore->xOnWal(pStore->pOnWalCtx, nFrames);
    return SQLITE_OK;
}

void pa_store_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx)
{
    pStore->xOnWal = xOnWal;
    pStore->pOnWalCtx = pCtx;
    if (xOnWal != NULL)
        sqlite3_wal_hook(pStore->pDb, on_wal_commit, pStore);
    else
        sqlite3_wal_autocheckpoint(pStore->pDb, PA_STORE_CHECKPOINT_PAGES);
}

int pa_store_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied)
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
