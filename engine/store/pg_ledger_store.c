/*
 * The privacy ledger's rows (table dp_ledger) in the PostgreSQL store (the
 * SQLite backend's ledger_store.c; the rules are engine/dp/ledger.c's).  A
 * PostgreSQL ledger never was of format v1, so the table is created with the
 * v2 columns; charges are DOUBLE PRECISION, sent as %.17g and read in binary,
 * so the hash chain sees exactly the doubles that were appended.
 *
 * The chain has one head for the whole store: an append reads it, checks the
 * budget against the period's earlier charges and writes head + 1.  Writers
 * do not take turns on this backend, so the head is read under the ledger's
 * lock (pa_pg_lock_key "privagg-ledger", held until the transaction ends):
 * appends take turns, a budget check reads every charge committed before it,
 * and two releases cannot both pass a check that only one of them fits.  (The
 * primary key on seq would refuse a second append of the same number anyway.)
 * Appends are one per release, rare next to reports.
 */
#include <string.h>

#include "common/guard.h"
#include "store/pg_internal.h"

int pa_pg_ledger_present(pa_store *pStore, int *pbPresent)
{
    PGresult *r;
    *pbPresent = 0;
    PA_GUARD(pa_pg_run(pStore, "SELECT to_regclass('dp_ledger') IS NOT NULL", NULL, &r, "ledger"));
    *pbPresent = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) != 0;
    PQclear(r);
    return PA_OK;
}

int pa_pg_ledger_init(pa_store *pStore)
{
    int bPresent = 0;

    if (pStore->bReadOnly || pStore->pPg->bLedgerKnown)
        return PA_OK; /* ledger verify/export: read what is there */
    PA_GUARD(pa_pg_ledger_present(pStore, &bPresent));
    if (bPresent) {
        pStore->pPg->bLedgerKnown = 1;
        return PA_OK;
    }
    /* the first use: two workers creating the table at once would collide in
     * the catalog, so the creation takes the schema's lock (one transaction
     * when outside one: a multi-statement string is) */
    return pa_pg_exec(pStore,
                      PA_PG_SCHEMA_LOCK ";"
                      "CREATE TABLE IF NOT EXISTS dp_ledger ("
                      " seq BIGINT PRIMARY KEY,"
                      " task_id TEXT NOT NULL, batch TEXT NOT NULL, mechanism TEXT NOT NULL,"
                      " param TEXT NOT NULL, unit TEXT NOT NULL,"
                      " charge DOUBLE PRECISION NOT NULL, total DOUBLE PRECISION NOT NULL,"
                      " budget DOUBLE PRECISION NOT NULL,"
                      " created_at BIGINT NOT NULL, prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL,"
                      " level TEXT, period TEXT, partition TEXT);"
                      "CREATE INDEX IF NOT EXISTS dp_ledger_task ON dp_ledger(task_id, seq);"
                      "CREATE INDEX IF NOT EXISTS dp_ledger_cell ON dp_ledger(task_id, period, seq);");
}

int pa_pg_ledger_head(pa_store *pStore, int64_t *piSeq, uint8_t aHash[32])
{
    PGresult *r;
    *piSeq = 0;
    memset(aHash, 0, 32);
    /* in a transaction, an append follows: see the top of the file */
    PA_GUARD(pa_pg_lock_key(pStore, "privagg-ledger", NULL, NULL, NULL));
    PA_GUARD(pa_pg_run(pStore, "SELECT seq, hash FROM dp_ledger ORDER BY seq DESC LIMIT 1", NULL, &r,
                       "ledger: read head"));
    if (PQntuples(r) == 1) {
        size_t n;
        const uint8_t *p = pa_pg_col_blob(r, 0, 1, &n);
        *piSeq = pa_pg_col_int(r, 0, 0);
        if (n == 32)
            memcpy(aHash, p, 32);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_ledger_period(pa_store *pStore, const char *zTaskId, const char *zPeriod,
                        int (*xRow)(void *pCtx, const char *zPartition, double rCharge), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_text(&p, zTaskId);
    pa_pg_p_text(&p, zPeriod);
    PA_GUARD(pa_pg_run(pStore, "SELECT partition, charge FROM dp_ledger WHERE task_id = $1 AND period = $2"
                               " ORDER BY seq",
                       &p, &r, "ledger: read cells"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++)
        rc = xRow(pCtx, pa_pg_col_text(r, i, 0), pa_pg_col_double(r, i, 1));
    PQclear(r);
    return rc;
}

int pa_pg_ledger_append(pa_store *pStore, const pa_store_ledger_row *e)
{
    pa_pg_params p = {0};
    pa_pg_p_int(&p, e->iSeq);
    pa_pg_p_text(&p, e->zTaskId);
    pa_pg_p_text(&p, e->zBatch);
    pa_pg_p_text(&p, e->zMechanism);
    pa_pg_p_text(&p, e->zParam);
    pa_pg_p_text(&p, e->zUnit);
    pa_pg_p_double(&p, e->rCharge);
    pa_pg_p_double(&p, e->rTotal);
    pa_pg_p_double(&p, e->rBudget);
    pa_pg_p_int(&p, e->tCreated);
    pa_pg_p_blob(&p, e->pPrevHash, e->nPrevHash);
    pa_pg_p_blob(&p, e->pHash, e->nHash);
    pa_pg_p_text(&p, e->zLevel);
    pa_pg_p_text(&p, e->zPeriod);
    pa_pg_p_text(&p, e->zPartition);
    return pa_pg_do(pStore,
                    "INSERT INTO dp_ledger(seq, task_id, batch, mechanism, param, unit, charge, total, budget,"
                    " created_at, prev_hash, hash, level, period, partition)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    &p, "ledger: insert", NULL);
}

int pa_pg_ledger_each(pa_store *pStore, int (*xRow)(void *pCtx, const pa_store_ledger_row *pRow), void *pCtx)
{
    PGresult *r;
    int rc = PA_OK;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT seq, task_id, batch, mechanism, param, unit, charge, total, budget,"
                       " created_at, prev_hash, hash, level, period, partition FROM dp_ledger ORDER BY seq",
                       NULL, &r, "ledger: read"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++) {
        pa_store_ledger_row e;
        memset(&e, 0, sizeof e);
        e.iSeq = pa_pg_col_int(r, i, 0);
        e.zTaskId = pa_pg_col_text(r, i, 1);
        e.zBatch = pa_pg_col_text(r, i, 2);
        e.zMechanism = pa_pg_col_text(r, i, 3);
        e.zParam = pa_pg_col_text(r, i, 4);
        e.zUnit = pa_pg_col_text(r, i, 5);
        e.rCharge = pa_pg_col_double(r, i, 6);
        e.rTotal = pa_pg_col_double(r, i, 7);
        e.rBudget = pa_pg_col_double(r, i, 8);
        e.tCreated = pa_pg_col_int(r, i, 9);
        e.pPrevHash = pa_pg_col_blob(r, i, 10, &e.nPrevHash);
        e.pHash = pa_pg_col_blob(r, i, 11, &e.nHash);
        e.zLevel = pa_pg_col_text_or_null(r, i, 12);
        e.zPeriod = pa_pg_col_text_or_null(r, i, 13);
        e.zPartition = pa_pg_col_text_or_null(r, i, 14);
        rc = xRow(pCtx, &e);
    }
    PQclear(r);
    return rc;
}

int pa_pg_ledger_v1_max(pa_store *pStore, const char *zTaskId, double *pMax, int *pbAny)
{
    pa_pg_params p = {0};
    PGresult *r;
    *pMax = 0;
    *pbAny = 0;
    pa_pg_p_text(&p, zTaskId);
    PA_GUARD(pa_pg_run(pStore, "SELECT max(total) FROM dp_ledger WHERE task_id = $1 AND period IS NULL", &p, &r,
                       "ledger"));
    if (PQntuples(r) == 1 && !pa_pg_col_null(r, 0, 0)) {
        *pMax = pa_pg_col_double(r, 0, 0);
        *pbAny = 1;
    }
    PQclear(r);
    return PA_OK;
}
