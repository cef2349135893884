/*
 * The store's schema as an ordered list of migrations.  Migration i (1-based)
 * moves a database from user_version i-1 to i.  Never edit a migration that has
 * shipped: append a new one.
 *
 * Version 1: reports, aggregation jobs and their per-report state, batch
 * aggregates, collections.  (The privacy ledger creates its own table through
 * engine/dp/ledger.c on the same connection.)
 */
#include "store/migrations.h"

static const char *const g_migrations[] = {
    /* 1 */
    "CREATE TABLE reports ("
    "  task_id        BLOB NOT NULL,"
    "  report_id      BLOB NOT NULL,"
    "  agency_id      TEXT NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  received_at    INTEGER NOT NULL,"
    "  public_share   BLOB NOT NULL,"
    "  input_share    BLOB NOT NULL,"   /* this aggregator's HPKE-sealed share */
    "  peer_share     BLOB,"            /* leader only: the helper's sealed share */
    "  signature      BLOB NOT NULL,"
    "  state          TEXT NOT NULL DEFAULT 'pending'"
    "                 CHECK (state IN ('pending','aggregating','accepted','rejected','replaced')),"
    "  reject_reason  TEXT,"
    "  job_id         BLOB,"
    "  PRIMARY KEY (task_id, report_id)"
    ");"
    "CREATE INDEX reports_by_batch ON reports(task_id, period, partition, state);"
    "CREATE INDEX reports_by_agency ON reports(task_id, agency_id, period, partition);"
    "CREATE TABLE aggregation_jobs ("
    "  task_id     BLOB NOT NULL,"
    "  job_id      BLOB NOT NULL,"
    "  period      TEXT NOT NULL,"
    "  partition   TEXT NOT NULL,"
    "  state       TEXT NOT NULL DEFAULT 'open'"
    "              CHECK (state IN ('open','waiting','finished','abandoned')),"
    "  attempts    INTEGER NOT NULL DEFAULT 0,"
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL,"
    "  PRIMARY KEY (task_id, job_id)"
    ");"
    "CREATE TABLE batch_aggregates ("
    "  task_id        BLOB NOT NULL,"
    "  period         TEXT NOT NULL,"
    "  partition      TEXT NOT NULL,"
    "  aggregate      BLOB NOT NULL,"   /* encoded aggregate share */
    "  report_count   INTEGER NOT NULL DEFAULT 0,"
    "  agency_count   INTEGER NOT NULL DEFAULT 0,"
    "  rejected_count INTEGER NOT NULL DEFAULT 0,"
    "  collected      INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (task_id, period, partition)"
    ");"
    "CREATE TABLE collections ("
    "  task_id       BLOB NOT NULL,"
    "  collection_id BLOB NOT NULL,"
    "  period        TEXT NOT NULL,"
    "  partition     TEXT NOT NULL,"
    "  state         TEXT NOT NULL DEFAULT 'pending'"
    "                CHECK (state IN ('pending','ready','failed')),"
    "  result        BLOB,"             /* sealed noised aggregate share */
    "  ledger_hash   BLOB,"
    "  created_at    INTEGER NOT NULL,"
    "  PRIMARY KEY (task_id, collection_id),"
    "  UNIQUE (task_id, period, partition)"
    ");",
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
