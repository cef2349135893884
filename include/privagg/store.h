/*
 * privagg store — one SQLite database per aggregator (WAL mode).
 *
 * The store owns the database file and its schema: opening it applies every
 * pending migration inside one transaction, so a database is always at a known
 * schema version (PRAGMA user_version).  Modules that keep state (reports,
 * aggregation jobs, batches, collections, the privacy ledger) run their SQL on
 * the handle returned by pa_store_db() inside pa_store_begin()/pa_store_commit(),
 * so that a report is acknowledged only after its transaction commits and a
 * failed step writes nothing.
 */
#ifndef PRIVAGG_STORE_H
#define PRIVAGG_STORE_H

#include <sqlite3.h>

typedef struct pa_store pa_store;

/* Schema version that pa_store_open() migrates to. */
int pa_store_schema_version(void);

/*
 * Open (creating if needed) the store at zPath and migrate it.  zPath may be
 * ":memory:" for tests.  On success *ppStore MUST be closed with pa_store_close().
 * Errors: PA_ESTORE (cannot open, migration failed: nothing is changed),
 * PA_ERANGE (the file's schema is newer than this build understands).
 */
int pa_store_open(pa_store **ppStore, const char *zPath);

/*
 * Check a store that holds shares before a server opens it: zPath and its
 * "-wal" and "-shm" files, where they exist, MUST be regular files (not
 * symbolic links), owned by this user and readable by nobody else (mode
 * 0600 or stricter), as key files are.  A missing file is fine (it will be
 * created under the server's umask 077).  Errors: PA_EAUTH naming the file,
 * its mode or owner and the fix; PA_ESTORE when a file cannot be examined.
 */
int pa_store_check_private(const char *zPath);

/* Close the store; NULL is allowed. */
void pa_store_close(pa_store *pStore);

/* The underlying connection; owned by the store, valid until pa_store_close(). */
sqlite3 *pa_store_db(pa_store *pStore);

/*
 * Transactions.  pa_store_begin() takes the write lock at once (BEGIN IMMEDIATE)
 * so that a read-check-write sequence cannot race another writer.  Transactions
 * do not nest: beginning twice is PA_ESTATE.  pa_store_rollback() is safe to call
 * when no transaction is open.
 */
int pa_store_begin(pa_store *pStore);
int pa_store_commit(pa_store *pStore);
void pa_store_rollback(pa_store *pStore);

/*
 * Run one or more SQL statements with no result rows (e.g. DDL).  Errors:
 * PA_ESTORE with SQLite's message.
 */
int pa_store_exec(pa_store *pStore, const char *zSql);

/*
 * Checkpoints.  By default a connection copies the WAL into the database itself
 * after a commit that leaves the WAL over PA_STORE_CHECKPOINT_PAGES pages,
 * and the committing caller waits for it (and every writer behind it).  A server
 * moves that work to a thread of its own: pa_store_on_wal_commit turns the
 * automatic checkpoint off on a writing connection and calls xOnWal(pCtx, frames
 * in the WAL) after each of its commits instead (NULL restores the default);
 * the thread calls pa_store_checkpoint on its own connection, a PASSIVE
 * checkpoint that never blocks writers (*pnLog frames in the WAL, *pnCopied
 * copied; either pointer may be NULL).
 */
#define PA_STORE_CHECKPOINT_PAGES 1000 /* SQLite's default auto-checkpoint threshold */
void pa_store_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx);
int pa_store_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied);

#endif
