/*
 * The store's schema as an ordered list of migrations.  Migration i (1-based)
 * moves a database from user_version i-1 to i.  Never edit a migration that has
 * shipped: append a new one.
 *
 * Version 1: reports, aggregation jobs, batch aggregates and their noise,
 * collections.  (The privacy ledger creates its own table through
 * engine/ledger/ledger.c on the same connection.)
 * Version 2: the reports of a period indexed without their partition.
 * Version 3: reports get a stable integer id, and report_data is keyed by it.
 * Version 4: durable collection jobs, and the pool of noise vectors drawn ahead.
 * Version 5: leases on aggregation and collection jobs (several workers).
 * Version 6: one counting report per agency and batch, as a unique index.
 * Version 7: the helper's kept verify state in a table of its own; the
 * reports of a batch indexed by state first.
 */
#include "store/migrations.h"

static const char *const g_migrations[] = {
    /* 1 */
    /* Reports this aggregator has seen: the metadata (replay and one report per
     * agency and batch) and, on the helper between the two steps of a job, its
     * verify state.  The leader opens its share and runs verify_init at upload:
     * report_data keeps, until aggregation, its verify state and verifier share
     * and the helper's parts (~6.5 KB, never the 75 KB share), in a separate table
     * so that the state changes of a report never rewrite them. */
    "CREATE TABLE reports ("
    "  task_id        BLOB NOT NULL,"
    "  report_id      BLOB NOT NULL,"
    "  agency_id      TEXT NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  received_at    INTEGER NOT NULL,"
    "  leader_digest  BLOB,"            /* leader: digest of its sealed share (signed) */
    "  verify_state   BLOB,"
    "  state          TEXT NOT NULL DEFAULT 'pending'"
    "                 CHECK (state IN ('pending','aggregating','accepted','rejected','replaced')),"
    "  reject_reason  TEXT,"
    "  job_id         BLOB,"
    "  PRIMARY KEY (task_id, report_id)"
    ");"
    "CREATE INDEX reports_by_batch ON reports(task_id, period, partition, state);"
    "CREATE INDEX reports_by_agency ON reports(task_id, agency_id, period, partition, state);"
    "CREATE INDEX reports_by_job ON reports(task_id, job_id);"
    "CREATE TABLE report_data ("
    "  task_id        BLOB NOT NULL,"
    "  report_id      BLOB NOT NULL,"
    "  public_share   BLOB NOT NULL,"
    "  helper_enc     BLOB NOT NULL,"
    "  helper_ct      BLOB NOT NULL,"
    "  signature      BLOB NOT NULL,"
    "  verify_state   BLOB NOT NULL,"   /* the leader's (secret: a share of the counts) */
    "  verifier_share BLOB NOT NULL,"
    "  PRIMARY KEY (task_id, report_id)"
    ");"
    /* Aggregation jobs: the leader's progress, the helper's stored answers (a
     * retried step gets the same bytes back and changes nothing). */
    "CREATE TABLE jobs ("
    "  task_id     BLOB NOT NULL,"
    "  job_id      BLOB NOT NULL,"
    "  period      TEXT NOT NULL,"          /* a job spans the partitions of one period */
    "  state       TEXT NOT NULL CHECK (state IN ('started','continued','finished')),"
    "  init_hash   BLOB,"
    "  init_resp   BLOB,"
    "  cont_hash   BLOB,"
    "  cont_resp   BLOB,"
    "  attempts    INTEGER NOT NULL DEFAULT 0,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL,"
    "  PRIMARY KEY (task_id, job_id)"
    ");"
    /* One aggregate share per batch (period, partition), and the noise drawn for
     * its release off the request path when its first job starts. */
    "CREATE TABLE batches ("
    "  task_id        BLOB NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  aggregate      BLOB NOT NULL,"
    "  report_count   INTEGER NOT NULL DEFAULT 0,"
    "  rejected_count INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (task_id, period, partition)"
    ");"
    "CREATE TABLE batch_noise ("
    "  task_id    BLOB NOT NULL,"
    "  period     TEXT NOT NULL,"
    "  partition  TEXT NOT NULL,"
    "  noise      BLOB NOT NULL,"     /* int64 little-endian per cell; secret */
    "  PRIMARY KEY (task_id, period, partition)"
    ");"
    /* Releases: one per batch, never two. */
    "CREATE TABLE collections ("
    "  task_id       BLOB NOT NULL,"
    "  period        TEXT NOT NULL,"
    "  partition     TEXT NOT NULL,"
    "  collection_id BLOB NOT NULL,"
    "  response      BLOB NOT NULL,"  /* the sealed share returned (idempotent retry) */
    "  created_at    INTEGER NOT NULL,"
    "  PRIMARY KEY (task_id, period, partition)"
    ");",
    /* 2 */
    /* Uploads of a period arrive in random partition order, so an index keyed by
     * partition takes each new report at a random page: every group commit
     * rewrote one page of it per report.  Keyed by (period, state), new reports
     * append (equal keys are in rowid order); every query of a batch's reports
     * names the period and state, and filters the partition from there. */
    "DROP INDEX reports_by_batch;"
    "CREATE INDEX reports_by_period ON reports(task_id, period, state);",
    /* 3 */
    /* report_data was keyed by (task_id, report_id): random report ids put each
     * new row's key in a random page of its own index, one more 4 KiB page per
     * report in every group commit.  Keyed by its report's integer id, rows
     * append and the table needs no index.  That id must never change, so
     * reports declares it (INTEGER PRIMARY KEY, kept by VACUUM) instead of
     * leaning on the implicit rowid; the old rowids carry over as the ids.
     * The two tables are rebuilt, which keeps every existing row. */
    "CREATE TABLE reports_v3 ("
    "  id             INTEGER PRIMARY KEY,"
    "  task_id        BLOB NOT NULL,"
    "  report_id      BLOB NOT NULL,"
    "  agency_id      TEXT NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  received_at    INTEGER NOT NULL,"
    "  leader_digest  BLOB,"
    "  verify_state   BLOB,"
    "  state          TEXT NOT NULL DEFAULT 'pending'"
    "                 CHECK (state IN ('pending','aggregating','accepted','rejected','replaced')),"
    "  reject_reason  TEXT,"
    "  job_id         BLOB,"
    "  UNIQUE (task_id, report_id)"
    ");"
    "INSERT INTO reports_v3(id, task_id, report_id, agency_id, period, partition, received_at,"
    "  leader_digest, verify_state, state, reject_reason, job_id)"
    "  SELECT rowid, task_id, report_id, agency_id, period, partition, received_at,"
    "  leader_digest, verify_state, state, reject_reason, job_id FROM reports;"
    "CREATE TABLE report_data_v3 ("
    "  report         INTEGER PRIMARY KEY," /* reports.id */
    "  public_share   BLOB NOT NULL,"
    "  helper_enc     BLOB NOT NULL,"
    "  helper_ct      BLOB NOT NULL,"
    "  signature      BLOB NOT NULL,"
    "  verify_state   BLOB NOT NULL,"       /* the leader's (secret: a share of the counts) */
    "  verifier_share BLOB NOT NULL"
    ");"
    "INSERT INTO report_data_v3(report, public_share, helper_enc, helper_ct, signature,"
    "  verify_state, verifier_share)"
    "  SELECT r.id, d.public_share, d.helper_enc, d.helper_ct, d.signature, d.verify_state,"
    "  d.verifier_share FROM report_data d JOIN reports_v3 r"
    "  ON r.task_id = d.task_id AND r.report_id = d.report_id;"
    "DROP TABLE report_data;"
    "DROP TABLE reports;"
    "ALTER TABLE reports_v3 RENAME TO reports;"
    "ALTER TABLE report_data_v3 RENAME TO report_data;"
    "CREATE INDEX reports_by_period ON reports(task_id, period, state);"
    "CREATE INDEX reports_by_agency ON reports(task_id, agency_id, period, partition, state);"
    "CREATE INDEX reports_by_job ON reports(task_id, job_id);",
    /* 4 */
    /* Collection jobs live in the store, not in memory: created by the
     * collector's request (leader) and stepped by the leader's worker, they
     * survive a restart and need no fixed table.  A job is 'pending' until its
     * release commits ('released': the answer is the collections row of its
     * batch) or it fails for a permanent reason ('failed': the code and message
     * the collector is shown; asking again re-opens it).  next_at spaces the
     * retries of transient failures. */
    "CREATE TABLE collection_jobs ("
    "  task_id        BLOB NOT NULL,"
    "  collection_id  BLOB NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  request        BLOB NOT NULL,"
    "  state          TEXT NOT NULL CHECK (state IN ('pending','released','failed')),"
    "  error_code     INTEGER,"
    "  error_detail   TEXT,"
    "  attempts       INTEGER NOT NULL DEFAULT 0,"
    "  next_at        INTEGER NOT NULL,"
    "  created_at     INTEGER NOT NULL,"
    "  updated_at     INTEGER NOT NULL,"
    "  PRIMARY KEY (task_id, collection_id)"
    ");"
    "CREATE INDEX collection_jobs_due ON collection_jobs(task_id, state, next_at);"
    /* Noise drawn ahead, per release level (0 statewide, 1 partition): a batch
     * seen for the first time takes a vector from here, so no peer's request
     * ever waits on (or can time) a variable-time draw.  Secret. */
    "CREATE TABLE noise_pool ("
    "  id        INTEGER PRIMARY KEY,"
    "  task_id   BLOB NOT NULL,"
    "  level     INTEGER NOT NULL,"
    "  noise     BLOB NOT NULL"
    ");"
    "CREATE INDEX noise_pool_by_level ON noise_pool(task_id, level);",
    /* 5 */
    /* Several `privagg serve` processes of one role share the store: a worker
     * works on a job only while the row names it (lease_owner, its worker id)
     * and another may claim the row once lease_expiry (seconds) has passed
     * (engine/store/lease_store.c).  Rows of older versions are unowned.  The
     * index finds the open jobs to claim without reading the finished ones. */
    "ALTER TABLE jobs ADD COLUMN lease_owner TEXT;"
    "ALTER TABLE jobs ADD COLUMN lease_expiry INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE collection_jobs ADD COLUMN lease_owner TEXT;"
    "ALTER TABLE collection_jobs ADD COLUMN lease_expiry INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX jobs_by_state ON jobs(task_id, state, created_at);",
    /* 6 */
    /* An agency has at most one report that counts (pending, aggregating or
     * accepted) per batch: upload.c and the helper's job init check it before
     * they insert.  Here writers take turns, so the check suffices; the index
     * states the rule in the schema, as on PostgreSQL, where writers do not
     * take turns and the index is what stops a second report stored at the
     * same moment (engine/store/pg_store.c). */
    "CREATE UNIQUE INDEX reports_one_per_agency ON reports(task_id, agency_id, period, partition)"
    " WHERE state IN ('pending','aggregating','accepted');",
    /* 7 */
    /* The helper kept its verify state (and verifier message, ~7 KB) in the
     * reports row between the two steps of a job: SQLite gave each report an
     * 8 KiB page, and clearing the state at settling left it nearly empty
     * (UPDATE never merges pages): ~8 KB wasted per report, for good.  The
     * state moves to report_kept, keyed by the report's id like report_data
     * and deleted when the report is settled, so its pages are reused.
     * reports_by_period leads with the state: a lookup of one agency's
     * reports (which names the period but not the state) then has
     * reports_by_agency as its only good index, on PostgreSQL too before
     * the table has statistics (store/pg_migrations.c, migration 7). */
    "CREATE TABLE report_kept ("
    "  report  INTEGER PRIMARY KEY,"     /* reports.id */
    "  kept    BLOB NOT NULL"            /* the helper's verify state and message (secret) */
    ");"
    "INSERT INTO report_kept(report, kept) SELECT id, verify_state FROM reports"
    "  WHERE verify_state IS NOT NULL AND state = 'aggregating';"
    "ALTER TABLE reports DROP COLUMN verify_state;"
    "DROP INDEX reports_by_period;"
    "CREATE INDEX reports_by_period ON reports(task_id, state, period);",
};

size_t pa_store_migration_count(void)
{
    return sizeof g_migrations / sizeof g_migrations[0];
}

const char *pa_store_migration(size_t iVersion)
{
    if (iVersion < 1 || iVersion > pa_store_migration_count())
        return NULL;
    return g_migrations[iVersion - 1];
}
