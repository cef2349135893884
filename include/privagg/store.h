/*
 * privagg store — the state of one aggregator behind one interface.
 *
 * The store owns the database and its schema: opening it applies every pending
 * migration inside one transaction, so a database is always at a known schema
 * version.  Every table is reached through the functions below, one group per
 * table (the privacy ledger, collections and collection jobs, batches and their
 * noise, aggregation jobs, reports); no SQL and no database handle leave
 * engine/store/.  Two backends implement it, chosen by the path given to
 * pa_store_open: a file is SQLite (the default: one file per aggregator, WAL
 * mode, statements compiled once per connection), a "postgresql://" URL is
 * PostgreSQL (libpq, one connection per pa_store, statements prepared once
 * per connection; engine/store/backend.c).
 *
 * Common contract.  A pa_store is used by one thread at a time.  Functions that
 * write MUST be called inside pa_store_begin()/pa_store_commit() unless they say
 * otherwise, so that a report is acknowledged only after its transaction commits
 * and a failed step writes nothing (the caller rolls back).  Task ids are the
 * 32-byte task id (aTaskId) except in the ledger, which keeps the hex string it
 * hashes.  Strings are NUL-terminated UTF-8; periods "YYYY-MM"; a partition name
 * or "state" for the statewide batch.  Row structs passed to a callback (x...)
 * point into the store's buffers: valid only during the call.  A callback's
 * non-zero return stops the walk and is returned.  Errors: PA_ESTORE (the
 * database failed: the message names the table), PA_ENOMEM, and what each
 * function lists.  After a function fails inside a transaction the caller
 * MUST roll back (the transaction, or the innermost savepoint) before it
 * uses the store again: PostgreSQL refuses every statement of a transaction
 * after a failed one until then.
 */
#ifndef PRIVAGG_STORE_H
#define PRIVAGG_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pa_store pa_store;

/* Schema version that pa_store_open() migrates to. */
int pa_store_schema_version(void);

/*
 * Open (creating if needed) the store at zPath and migrate it.  zPath is a
 * file (the SQLite backend; ":memory:" for tests) or a libpq URL
 * "postgresql://user@host:port/db" (the database MUST exist; the tables are
 * created in the user's first schema of its search_path; the password, if
 * any, comes from ~/.pgpass or PGPASSWORD, never from a message).  Each
 * pa_store is one connection.  On success *ppStore MUST be closed with
 * pa_store_close().  Errors: PA_ESTORE (cannot open or connect, migration
 * failed: nothing is changed), PA_ERANGE (the schema is newer than this build
 * understands).
 */
int pa_store_open(pa_store **ppStore, const char *zPath);

/* 1 if zPath names a PostgreSQL store ("postgresql://" or "postgres://"),
 * 0 for a file. */
int pa_store_is_postgres(const char *zPath);

/* zPath as it may be printed: a URL's password (user:PASSWORD@) becomes
 * "***"; a file path is copied.  Truncated to nOut (NUL-terminated). */
void pa_store_display_name(const char *zPath, char *zOut, size_t nOut);

/*
 * Check a store that holds shares before a server opens it: zPath and its
 * "-wal" and "-shm" files, where they exist, MUST be regular files (not
 * symbolic links), owned by this user and readable by nobody else (mode
 * 0600 or stricter), as key files are.  A missing file is fine (it will be
 * created under the server's umask 077).  A PostgreSQL URL has no file:
 * PA_OK (the server's roles and pg_hba.conf guard it).  Errors: PA_EAUTH
 * naming the file, its mode or owner and the fix; PA_ESTORE when a file cannot
 * be examined.
 */
int pa_store_check_private(const char *zPath);

/*
 * Check that a server can write the store at zPath before it opens it: the
 * file, its "-wal" and "-shm" where they exist, and its folder (SQLite creates
 * and removes the -wal and -shm files there) MUST be writable by this process.
 * A read-only file, a folder without write permission or a read-only mount is
 * refused here with its path and the fix, instead of SQLite's "unable to open
 * database file" after the start.  Errors: PA_ESTORE naming the path, the
 * reason (read-only file system, permission) and what to do.
 */
int pa_store_check_writable(const char *zPath);

/*
 * Open an existing store to read it (privagg ledger verify/export): no
 * migration, nothing written.  Errors: PA_ESTORE (missing or not a store),
 * PA_ERANGE (a newer schema).
 */
int pa_store_open_readonly(pa_store **ppStore, const char *zPath);

/* Close the store (rolling back an open transaction); NULL is allowed. */
void pa_store_close(pa_store *pStore);

/*
 * Readiness (GET /health/ready).  pa_store_open_probe opens a connection of
 * its own to an existing store (nothing created, no migration; waits up to
 * 1 s for a lock); pa_store_probe_writable takes the write lock and gives it
 * back at once: PA_OK if it could be taken or another writer holds it,
 * PA_ESTORE with the reason (read-only file, disk full, ...) otherwise.
 * Nothing is written.
 */
int pa_store_open_probe(pa_store **ppStore, const char *zPath);
int pa_store_probe_writable(pa_store *pStore);

/*
 * Transactions.  A read-check-write inside one transaction cannot race another
 * writer: SQLite's pa_store_begin() takes the write lock at once (BEGIN
 * IMMEDIATE: writers take turns); PostgreSQL's is a plain READ COMMITTED
 * BEGIN, writers do not take turns, and each decision has its own lock or
 * constraint (engine/store/pg_store.c lists them): some reads below lock what
 * they read when called inside a transaction (they say so), and an insert a
 * concurrent writer made impossible is refused with a named error.  Readers
 * outside a transaction never wait.  Transactions do not nest: beginning
 * twice is PA_ESTATE.  pa_store_rollback() is safe to call when no
 * transaction is open.
 */
int pa_store_begin(pa_store *pStore);
int pa_store_commit(pa_store *pStore);
void pa_store_rollback(pa_store *pStore);
/* 1 between pa_store_begin() and its commit or rollback. */
int pa_store_in_txn(const pa_store *pStore);

/*
 * Savepoints: a unit inside the open transaction that can be undone alone (a
 * ledger charge inside a collection).  They nest up
 * to 4 deep; release and rollback act on the innermost.  pa_store_savepoint
 * without an open transaction, or a commit with a savepoint open, is PA_ESTATE.
 * pa_store_savepoint_rollback undoes what was written since the savepoint and
 * ends it, keeping the caller's error message; if that fails (PA_ESTORE) the
 * caller MUST roll the whole transaction back.
 */
int pa_store_savepoint(pa_store *pStore);
int pa_store_savepoint_release(pa_store *pStore);
int pa_store_savepoint_rollback(pa_store *pStore);

/*
 * Checkpoints.  By default a connection copies the WAL into the database itself
 * after a commit that leaves the WAL over PA_STORE_CHECKPOINT_PAGES pages,
 * and the committing caller waits for it (and every writer behind it).  A server
 * moves that work to a thread of its own: pa_store_on_wal_commit turns the
 * automatic checkpoint off on a writing connection and calls xOnWal(pCtx, frames
 * in the WAL) after each of its commits instead (NULL restores the default);
 * the thread calls pa_store_checkpoint on its own connection, a PASSIVE
 * checkpoint that never blocks writers (*pnLog frames in the WAL, *pnCopied
 * copied; either pointer may be NULL).  These two are the SQLite backend's
 * write-ahead log; a backend without one makes them do nothing.
 */
#define PA_STORE_CHECKPOINT_PAGES 1000 /* SQLite's default auto-checkpoint threshold */
void pa_store_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx);
int pa_store_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied);

/*
 * Planner statistics.  A store that fills fast (a month's first uploads into a
 * new store) outruns PostgreSQL's autovacuum, which looks once a minute and
 * analyzes a table once a tenth of it has changed: until then the planner
 * reads the statistics of the empty tables the migrations made, and a lookup
 * by report id may scan every report of the task through another index (each
 * of them leads with task_id).  pa_store_analyze (a server's housekeeping
 * thread, every few seconds, between transactions) runs ANALYZE (SKIP_LOCKED:
 * a table another worker is analyzing is left to it) on each table of the
 * store whose rows changed since its statistics were taken more than the row
 * count those statistics describe, and at least PA_STORE_ANALYZE_ROWS times:
 * the planner never works from statistics off by more than about 2x.
 * *pnAnalyzed (may be NULL): the tables analyzed.  SQLite: nothing to do (its
 * planner, without sqlite_stat1, prefers an index whose every column is
 * matched by an equality, the unique key here).
 */
#define PA_STORE_ANALYZE_ROWS 500
int pa_store_analyze(pa_store *pStore, int *pnAnalyzed);

/* ---- privacy ledger (table dp_ledger; the DP rules are engine/ledger/ledger.c) ---- */

/* One ledger entry as stored.  zLevel, zPeriod and zPartition are NULL in an
 * entry of ledger format v1; pPrevHash/pHash have nPrevHash/nHash bytes (32
 * unless the row was tampered with). */
typedef struct {
    int64_t iSeq;
    const char *zTaskId, *zBatch, *zMechanism, *zParam, *zUnit;
    const char *zLevel, *zPeriod, *zPartition;
    double rCharge, rTotal, rBudget;
    int64_t tCreated;
    const uint8_t *pPrevHash, *pHash;
    size_t nPrevHash, nHash;
} pa_store_ledger_row;

/* *pbPresent = 1 if the store has a ledger table (a read-only store of
 * another program has none).  Outside or inside a transaction. */
int pa_store_ledger_present(pa_store *pStore, int *pbPresent);

/* Create the ledger table if missing and upgrade a v1 table (adds level,
 * period, partition); nothing on a read-only store.  Outside or inside a
 * transaction. */
int pa_store_ledger_init(pa_store *pStore);

/* The last entry's sequence number and hash (0 and zeros when empty).  Inside
 * a transaction on PostgreSQL, the ledger's lock is held from here to the end
 * of the transaction: appends (and the budget checks before them) take turns. */
int pa_store_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32]);

/* The charges of one task and period in sequence order: xRow(pCtx, partition
 * ("" when NULL), charge) per entry. */
int pa_store_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod,
                           int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx);

/* Append an entry (iSeq MUST be head + 1; hashes 32 bytes).  Errors: PA_ESTORE
 * (e.g. the sequence number exists). */
int pa_store_ledger_append(pa_store *pStore, const pa_store_ledger_row *pRow);

/* Every entry of every task in sequence order (v1 entries with NULL cells). */
int pa_store_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow),
                         void *pCtx);

/* The largest running total among the task's v1 entries (*pbAny 0 when none). */
int pa_store_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny);

/* ---- collections (table collections: the released answer of each batch) ---- */

/* Sizes of the fixed strings of the rows below (with the NUL). */
#define PA_STORE_PERIOD_SIZE 8
#define PA_STORE_PARTITION_SIZE 65
#define PA_STORE_DETAIL_SIZE 400

/* A batch's release as stored: the collection id it was released under and the
 * answer's bytes (malloc'ed: the caller frees pResponse). */
typedef struct {
    uint8_t aCollectionId[16];
    uint8_t *pResponse;
    size_t nResponse;
} pa_store_collection;

/* The release of (period, partition), if any (*pbFound 0 otherwise, nothing
 * allocated).  Inside a transaction (a release's first read) on PostgreSQL,
 * the period is locked against its reports' writers and other releases until
 * the transaction ends (see pa_store_collected). */
int pa_store_collection_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const char *zPartition, pa_store_collection *pOut, int *pbFound);

/* Record the release of (period, partition) at tNow.  A batch is released once:
 * a second record is PA_ESTORE. */
int pa_store_collection_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const char *zPartition, const uint8_t aCollectionId[16],
                            const uint8_t *pResponse, size_t nResponse, int64_t tNow);

/* *pbCollected = 1 if (period, partition) or the period's statewide batch has
 * been released (a late report of it is refused).  Inside a transaction (an
 * upload, the helper's job init) on PostgreSQL, the period is locked shared
 * until the transaction ends, so the answer holds until the report is stored:
 * a release of the period waits, then sees the report unfinished. */
int pa_store_collected(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, int *pbCollected);

/* ---- collection jobs (table collection_jobs: the leader's durable queue) ---- */

typedef enum {
    PA_STORE_CJOB_PENDING = 0,  /* to be stepped at or after its next time */
    PA_STORE_CJOB_RELEASED = 1, /* its answer is the batch's collections row */
    PA_STORE_CJOB_FAILED = 2    /* refused for good: error code and detail */
} pa_store_cjob_state;

typedef struct {
    uint8_t aCollectionId[16];
    char zPeriod[PA_STORE_PERIOD_SIZE];
    char zPartition[PA_STORE_PARTITION_SIZE];
    pa_store_cjob_state eState;
    int iErrorCode;             /* 0 or a PA_E* code */
    char zErrorDetail[PA_STORE_DETAIL_SIZE];
    int nAttempts;
    uint8_t *pRequest;          /* the collector's request, malloc'ed (pa_store_cjob_due only) */
    size_t nRequest;
} pa_store_cjob;

/* Create a pending job due at tNow, or make a failed one pending again (e.g.
 * after more reports came); a pending or released job is left as it is. */
int pa_store_cjob_create(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                         const char *zPeriod, const char *zPartition, const uint8_t *pRequest,
                         size_t nRequest, int64_t tNow);

/* A job by id (pRequest left NULL); *pbFound 0 if there is none. */
int pa_store_cjob_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                      pa_store_cjob *pJob, int *pbFound);

/* The pending job due first (next time at or before tNow, then the oldest),
 * with its request (the caller frees pJob->pRequest); *pbFound 0 if none is
 * due.  Outside or inside a transaction. */
int pa_store_cjob_due(pa_store *pStore, const uint8_t aTaskId[32], int64_t tNow, pa_store_cjob *pJob,
                      int *pbFound);

/* Write a job's outcome: its state, error (iCode 0 and zDetail NULL for none),
 * one more attempt if bAttempt, the next time it is due, updated at tNow. */
int pa_store_cjob_update(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                         pa_store_cjob_state eState, int iCode, const char *zDetail, int bAttempt,
                         int64_t tNext, int64_t tNow);

/* ---- batches (table batches: the exact aggregate share of each batch) ------ */
/* zPartition "state" in a read means every partition of the period (the
 * statewide batch is their sum and has no row of its own).  Aggregate shares
 * and noise are secret: callers wipe the buffers they receive. */

typedef struct {
    const char *zPartition;
    const uint8_t *pAggregate;  /* nAggregate bytes */
    size_t nAggregate;
    uint64_t nReport, nRejected;
} pa_store_batch_row;

/* The aggregate share of one partition's batch into pAgg (nAgg bytes);
 * *pbFound 0 if the batch has no row yet.  A stored share of another size is
 * PA_ESTORE.  Inside a transaction on PostgreSQL the batch is locked until the
 * transaction ends (it is read to be added to: pa_store_batch_put follows). */
int pa_store_batch_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, uint8_t *pAgg, size_t nAgg, int *pbFound);

/* Write a partition's aggregate share (replacing it) and add nReport/nRejected
 * to its counts, creating the row. */
int pa_store_batch_put(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                       const char *zPartition, const uint8_t *pAgg, size_t nAgg, uint64_t nReport,
                       uint64_t nRejected);

/* pa_store_batch_put for n partitions of one period (a job's sums: aRow's
 * zPartition, pAggregate, nAggregate, nReport, nRejected), in one statement
 * on PostgreSQL.  Each partition MUST appear once.  n may be 0. */
int pa_store_batch_put_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const pa_store_batch_row *aRow, size_t n);

/* The stored batches of n partitions of a period, to be added to and written
 * back with pa_store_batch_put_many (a job's sums): xRow for each partition
 * that has a row.  azPartition MUST be in byte order (strcmp), each partition
 * once, and none "state".  Inside a transaction on PostgreSQL each batch is
 * locked until the transaction ends, in that order: the batch's named lock
 * for every partition (it stands for a row not created yet, as in
 * pa_store_batch_get), then the rows read FOR UPDATE (pg_store.c, lock order).
 * Three statements on PostgreSQL whatever n (two outside a transaction: no
 * lock).  n may be 0. */
int pa_store_batch_get_many(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                            const char *const *azPartition, size_t n,
                            int (*xRow)(void *pCtx, const pa_store_batch_row *pRow), void *pCtx);

/* Each stored partition batch of (period, partition), or of the whole period
 * when zPartition is "state". */
int pa_store_batch_each(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                        const char *zPartition, int (*xRow)(void *pCtx, const pa_store_batch_row *pRow),
                        void *pCtx);

/* After the release of (period, partition) was recorded (same transaction):
 * delete its noise, and the exact sums of the period's partitions whose own
 * release and the statewide release both exist (the collections rows). */
int pa_store_batch_forget(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                          const char *zPartition);

/* ---- release noise (tables noise_pool and batch_noise) ---------------------- */
/* Vectors drawn ahead per level (0 statewide, 1 partition) wait in the pool; a
 * batch takes one when its first job starts and keeps it until released. */

/* Vectors in the pool at iLevel.  Outside or inside a transaction. */
int pa_store_noise_pool_count(pa_store *pStore, const uint8_t aTaskId[32], int iLevel, int64_t *pn);

/* Add one vector (nNoise bytes) to the pool at iLevel. */
int pa_store_noise_pool_add(pa_store *pStore, const uint8_t aTaskId[32], int iLevel,
                            const uint8_t *pNoise, size_t nNoise);

/* Give (period, partition) its noise if it has none: the oldest pool vector at
 * iLevel moves to the batch.  The same sequence of operations whatever the
 * noise holds.  *pbEmpty = 1 (nothing written) if the batch needed one and the
 * pool at iLevel is empty.  A batch has one noise: on PostgreSQL, a batch given
 * noise by another writer at the same moment keeps that one (the vector this
 * call picked is discarded). */
int pa_store_batch_noise_take(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                              const char *zPartition, int iLevel, int *pbEmpty);

/* The noise of (period, partition) into pNoise (nNoise bytes); *pbFound 0 if
 * none was taken.  A stored vector of another size is PA_ESTORE. */
int pa_store_batch_noise_get(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint8_t *pNoise, size_t nNoise, int *pbFound);

/* ---- reports: counts over a batch (table reports) ------------------------- */

/* Distinct agencies with an accepted report in (period, partition) ("state":
 * the whole period). */
int pa_store_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                              const char *zPartition, uint64_t *pn);

/* The same agencies' ids, each followed by one NUL byte, in ascending byte order
 * (memcmp): the canonical list of include/privagg/messages.h.  *ppIds is
 * malloc'ed (NULL when there is none; the caller frees). */
int pa_store_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                const char *zPartition, uint8_t **ppIds, size_t *pnIds);

/* Reports of (period, partition) ("state": the whole period) still pending or
 * being aggregated. */
int pa_store_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                const char *zPartition, uint64_t *pn);

/* ---- reports (tables reports and report_data) ----------------------------- */
/* A report's states: pending (leader: stored at upload), aggregating (in a
 * job), accepted or rejected (settled; rejected with a reason name), replaced
 * (leader: a correction took its place). */

/* *pbExists = 1 if the task has a report with this id, whatever its state. */
int pa_store_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16],
                           int *pbExists);

/* An agency's reports of one batch that still count (pending, aggregating or
 * accepted) into *pnCounting, of which pending into *pnPending. */
int pa_store_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                               const char *zPeriod, const char *zPartition, uint64_t *pnCounting,
                               uint64_t *pnPending);

/* A correction: the agency's pending reports of the batch become 'replaced'
 * and their stored parts are deleted. */
int pa_store_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                                     const char *zPeriod, const char *zPartition);

/* What the leader stores at upload: the metadata, and the parts the job needs
 * (its verify state is secret).  Blobs of the sizes given. */
typedef struct {
    uint8_t aReportId[16];
    const char *zAgencyId, *zPeriod, *zPartition;
    int64_t tReceived;
    const uint8_t *pLeaderDigest;                         /* 32 bytes */
    const uint8_t *pPublicShare; size_t nPublicShare;
    const uint8_t *pHelperEnc;                            /* 32 bytes */
    const uint8_t *pHelperCt; size_t nHelperCt;
    const uint8_t *pSignature;                            /* 64 bytes */
    const uint8_t *pVerifyState; size_t nVerifyState;
    const uint8_t *pVerifierShare; size_t nVerifierShare;
} pa_store_upload_row;

/* Insert a pending report with its parts.  Callers check the report id
 * (pa_store_report_exists) and the agency's batch (pa_store_reports_of_agency)
 * first.  On PostgreSQL another writer may store one of them after those
 * checks: the report id is then PA_EEXISTS (a replay), another counting report
 * of the agency and batch PA_EBUSY (retry: the checks then decide), nothing
 * written.  On SQLite the checks cannot race; a report id stored before is
 * PA_ESTORE. */
int pa_store_report_insert(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *pRow);

/* What pa_store_report_insert_many did with each row. */
enum {
    PA_STORE_ROW_REPLAY = 0, /* not stored: the task has its report id (before, another writer's, earlier in aRow) */
    PA_STORE_ROW_STORED = 1,
    PA_STORE_ROW_BUSY = 2    /* not stored (PostgreSQL): another writer stored a counting report of its
                              * agency and batch after the caller's checks; retry */
};

/* Insert n pending reports with their parts, in one statement on PostgreSQL
 * (a group commit's reports, decided from pa_store_reports_seen), row by row:
 * aiOutcome[i] says what became of aRow[i], and a row not stored writes
 * nothing and leaves the others' outcomes alone (PostgreSQL: one more
 * statement when a row was not stored, to say why).  Each agency and batch
 * MUST appear once among the rows that count (a correction is stored by a
 * later call, after pa_store_reports_replace_pending).  n may be 0. */
int pa_store_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow,
                                size_t n, uint8_t *aiOutcome);

/* A report about to be stored (a leader's upload, a helper's init step). */
typedef struct {
    const uint8_t *pReportId;                             /* 16 bytes */
    const char *zAgencyId, *zPeriod, *zPartition;
} pa_store_report_key;

/* What the store holds about such a report. */
typedef struct {
    int bExists;                  /* its id is stored (pa_store_report_exists) */
    uint64_t nCounting, nPending; /* its agency's reports of the batch (pa_store_reports_of_agency) */
    int bCollected;               /* its batch or the statewide batch was released (pa_store_collected) */
} pa_store_report_seen;

/* pa_store_report_exists, pa_store_reports_of_agency and pa_store_collected
 * for n reports at once (one statement on PostgreSQL): aSeen[i] answers
 * aKey[i] from the rows stored before the call.  n may be 0. */
int pa_store_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n,
                          pa_store_report_seen *aSeen);

/* The oldest period with pending reports; with bOnlyAsked, only a period with
 * a pending collection job (corrections allowed: reports wait until a release
 * is asked for).  *pbFound 0 if none. */
int pa_store_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked,
                                    char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);

/* Up to nMax pending reports of the period (in report id order) become
 * 'aggregating' in job aJobId.  On PostgreSQL the reports another writer's
 * transaction is assigning (or replacing) at the same moment are skipped: a
 * report is in one job, and the job may get none. */
int pa_store_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zPeriod, uint64_t nMax);

/* The distinct partitions of a job's reports (PostgreSQL: in byte order). */
int pa_store_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx);

/* One report of a leader's job with its stored parts (sizes as stored: the
 * caller checks them). */
typedef struct {
    const uint8_t *pReportId; size_t nReportId;
    const char *zAgencyId, *zPartition;
    const uint8_t *pLeaderDigest; size_t nLeaderDigest;
    const uint8_t *pPublicShare; size_t nPublicShare;
    const uint8_t *pHelperEnc; size_t nHelperEnc;
    const uint8_t *pHelperCt; size_t nHelperCt;
    const uint8_t *pSignature; size_t nSignature;
    const uint8_t *pVerifyState; size_t nVerifyState;
    const uint8_t *pVerifierShare; size_t nVerifierShare;
} pa_store_job_report_row;

/* The reports of a leader's job still aggregating, in report id order. */
int pa_store_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx);

/* Settle one report: accepted (zRejectReason NULL) or rejected with that
 * reason; its stored parts and kept state are deleted. */
int pa_store_report_settle(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16],
                           const char *zRejectReason);

/* pa_store_report_settle for n reports (a job's), in one statement on
 * PostgreSQL.  Each report id MUST appear once.  n may be 0. */
typedef struct {
    const uint8_t *pReportId;     /* 16 bytes */
    const char *zRejectReason;    /* NULL: accepted */
} pa_store_settle_row;
int pa_store_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow,
                            size_t n);

/* What the helper stores at a job's init step: the report's metadata and, for
 * one it did not refuse, the state it keeps until continue (secret; pKept NULL
 * otherwise).  zRejectReason NULL: 'aggregating', else 'rejected'. */
typedef struct {
    uint8_t aReportId[16];
    const char *zAgencyId, *zPeriod, *zPartition;
    int64_t tReceived;
    const uint8_t *pKept; size_t nKept;
    const char *zRejectReason;
    uint8_t aJobId[16];
} pa_store_helper_report_row;

/* The kept state lives in a table of its own (report_kept, store version 7),
 * deleted when the report is settled: the reports row stays small.  A report
 * id stored before is PA_ESTORE (callers check pa_store_reports_seen first). */
int pa_store_report_insert_helper(pa_store *pStore, const uint8_t aTaskId[32],
                                  const pa_store_helper_report_row *pRow);

/* The same for n reports (a job's), in one statement on PostgreSQL; any
 * report id stored before, or twice in aRow, is PA_ESTORE (the caller rolls
 * back), and so is, on PostgreSQL, a second counting report of an agency and
 * batch that another writer stored after the caller's lookup (the leader
 * sends the step again; the lookup then decides).  n may be 0. */
int pa_store_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32],
                                       const pa_store_helper_report_row *aRow, size_t n);

/* The state the helper kept for each report of job aJobId still aggregating
 * whose state has nKept bytes (another size is skipped), in report id order:
 * xRow(pCtx, report id (16 bytes), partition, kept state (secret, nKept
 * bytes)).  The callback MUST NOT call into the store. */
int pa_store_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept,
                      int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition,
                                  const uint8_t *pKept),
                      void *pCtx);

/* Every report of the job still aggregating becomes rejected with the reason
 * (and loses its kept state). */
int pa_store_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                                      const char *zRejectReason);

/* ---- aggregation jobs (table jobs) ---------------------------------------- */

typedef enum { PA_STORE_JOB_INIT = 0, PA_STORE_JOB_CONTINUE = 1 } pa_store_job_step;

/* The helper's stored answer of a job step.  *pbFound 0: no such job (INIT) or
 * the step not answered yet (CONTINUE).  Found: *pbSame = 1 if it answered a
 * request of hash aReqHash, and then *ppResp is a malloc'ed copy of the answer
 * (the caller frees it); *pbSame = 0 otherwise, nothing allocated. */
int pa_store_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame,
                            uint8_t **ppResp, size_t *pnResp);

/* Record a step's answer: INIT inserts the job (of zPeriod), CONTINUE finishes it. */
int pa_store_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32],
                            const uint8_t *pResp, size_t nResp, int64_t tNow);

/* The period of a job; *pbFound 0 if there is no such job.  Inside a
 * transaction on PostgreSQL the job's row is locked until it ends (the
 * helper's continue step: a second one of the job waits, then finds the
 * stored answer). */
int pa_store_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                        char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);

/* The leader's oldest job not finished (a previous run left it open). */
int pa_store_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16],
                      char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);

/* A new leader job of zPeriod, started at tNow. */
int pa_store_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                     const char *zPeriod, int64_t tNow);

/* A leader job is finished (every report settled). */
int pa_store_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow);

/* ---- leases (jobs and collection_jobs: several workers share one store) ---- */
/* Any number of server processes of one role may share a store.  A worker
 * works on an aggregation job or a collection job only while it holds the
 * row's lease: its worker id (zOwner, 1..PA_STORE_WORKER_ID_SIZE-1 bytes,
 * e.g. "host:pid:random") in the row, with an expiry (seconds, the caller's
 * clock) after which another worker may claim the row.  A row is held by the
 * worker whose id it names, whatever the clock says: a worker checks that
 * (pa_store_*_lease_renew) in the same transaction as every effect of its
 * work, so a worker whose lease was claimed by another writes nothing.  All
 * of these run inside a transaction (pa_store_begin). */
#define PA_STORE_WORKER_ID_SIZE 128

/* Claim the oldest unfinished aggregation job whose lease is free (no owner,
 * expiry at or before tNow) or already zOwner's: it is zOwner's until
 * tExpiry.  *pbFound 0 if none. */
int pa_store_job_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow,
                       int64_t tExpiry, uint8_t aJobId[16], char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound);

/* Lease a job created in this transaction to zOwner until tExpiry (no check:
 * nobody else can have seen it).  PA_ENOTFOUND if no such unfinished job. */
int pa_store_job_lease_take(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                            const char *zOwner, int64_t tExpiry);

/* The lease check: *pbHeld = 1 if the unfinished job's lease names zOwner, and
 * then its expiry moves to tExpiry; 0 (nothing written) if another worker
 * claimed it or it is finished. */
int pa_store_job_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                             const char *zOwner, int64_t tExpiry, int *pbHeld);

/* Give the lease back (another worker may claim the job at once); nothing if
 * zOwner does not hold it. */
int pa_store_job_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                               const char *zOwner);

/* The same for collection jobs: claim the pending job due first (next time at
 * or before tNow) whose lease is free or zOwner's, with its request (the
 * caller frees pJob->pRequest); renew (held only while pending); release. */
int pa_store_cjob_claim(pa_store *pStore, const uint8_t aTaskId[32], const char *zOwner, int64_t tNow,
                        int64_t tExpiry, pa_store_cjob *pJob, int *pbFound);
int pa_store_cjob_lease_renew(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                              const char *zOwner, int64_t tExpiry, int *pbHeld);
int pa_store_cjob_lease_release(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aCollectionId[16],
                                const char *zOwner);

#endif
