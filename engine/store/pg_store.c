/*
 * PostgreSQL store: connect, set the session up, migrate, transactions and
 * savepoints, the transaction's locks, the prepared-statement runner and the
 * binary column readers (see include/privagg/store.h and store/pg_internal.h).
 *
 * The same contract as the SQLite backend, in PostgreSQL's terms.  A commit
 * is acknowledged only when the server answered COMMIT (synchronous_commit
 * is forced on for the session: the commit is on the server's disk; a
 * transaction that failed earlier answers ROLLBACK to COMMIT, which is an
 * error here, never a success).  Transactions are READ COMMITTED (forced for
 * the session) and writers do not take turns: SQLite's BEGIN IMMEDIATE makes
 * every read-check-write of the store safe by running one writer at a time;
 * here each such decision has its own protection, so that the workers of a
 * role (several `privagg serve` processes on one database) write at once:
 *
 *   a report stored twice (replay)    UNIQUE (task_id, report_id): the insert
 *                                     is ON CONFLICT DO NOTHING and a conflict
 *                                     is the replay (pg_report_store.c); the
 *                                     group's insert (report_insert_many) does
 *                                     it row by row: a row skipped whose id
 *                                     the task now has is a replay, the
 *                                     others are stored
 *   two counting reports of one       a partial unique index (migration 6):
 *     agency and batch                the second insert conflicts and is
 *                                     refused as busy (retry); in the group's
 *                                     insert the same ON CONFLICT DO NOTHING
 *                                     (no target: both indexes) skips that row
 *                                     only, refused as busy
 *   the helper's job init (a job's    report_insert_helper_many is a plain
 *     reports)                        INSERT: a row that meets either index
 *                                     fails the step, which the leader sends
 *                                     again; its lookup then decides the row
 *   a late report against a release   the period lock: shared by an upload and
 *                                     the helper's job init (pa_store_collected
 *                                     or pa_store_reports_seen in a
 *                                     transaction, which locks the group's or
 *                                     job's periods, sorted, before its
 *                                     lookup), exclusive by a release
 *                                     (pa_store_collection_get in one)
 *   a pending report in two jobs      reports_assign picks FOR UPDATE SKIP
 *                                     LOCKED and re-checks 'pending'
 *   a job or collection job claimed   FOR UPDATE SKIP LOCKED (pg_lease_store.c);
 *     twice; a job's effects          the lease check's UPDATE locks the job's
 *                                     row until the effect commits
 *   a batch's aggregate (read, add,   SELECT ... FOR UPDATE on the batches row,
 *     write back)                     or the batch's named lock while the row
 *                                     does not exist yet (batch_get); a job's
 *                                     sums (batch_get_many, then put_many):
 *                                     the named lock of every batch it adds
 *                                     to, then their rows FOR UPDATE, both in
 *                                     partition order, before the one read
 *   a helper's job step run twice     the jobs row: INSERT (primary key) at
 *                                     init, SELECT ... FOR UPDATE at continue,
 *                                     before it reads its kept states
 *                                     (job_kept) and settles its reports
 *   a job's reports settled           the job's own rows: the leader's lease
 *     (reports_settle)                check locks the jobs row first, the
 *                                     helper's continue reads it FOR UPDATE
 *   a batch's noise                   batch_noise's primary key with ON
 *                                     CONFLICT DO NOTHING; the pool vector is
 *                                     picked FOR UPDATE SKIP LOCKED
 *   a batch released twice            the period lock, then the collections
 *                                     row (primary key)
 *   the ledger: chain and budget      the ledger's lock, taken by
 *                                     pa_store_ledger_head in a transaction:
 *                                     appends (one per release) take turns,
 *                                     so every budget check reads every
 *                                     earlier charge; seq is the primary key
 *
 * Locks are taken in one order (period, then noise rows with the statewide
 * batch first and partitions sorted, then batches sorted by partition, their
 * named locks before their rows, then the ledger), so workers do not
 * deadlock; PostgreSQL would break a deadlock by failing one transaction,
 * which the callers retry.  The
 * schema's advisory lock is only for migrations and the ledger's table,
 * created on first use.  lock_timeout 5 s plays SQLite's busy timeout.  A
 * connection lost between transactions is re-opened once by the next
 * statement (its prepared statements with it).  Messages name the store as
 * user@host:port/db: the password never appears in one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "common/guard.h"
#include "privagg/common.h"
#include "store/pg_internal.h"
#include "store/pg_migrations.h"

/* ---- parameters and columns ----------------------------------------------- */

static const char *const k_zEmpty = "";

void pa_pg_p_blob(pa_pg_params *p, const void *pData, size_t n)
{
    if (p->n >= PA_PG_PARAM_MAX)
        return;
    p->ap[p->n] = pData != NULL ? (const char *)pData : k_zEmpty; /* "" is the empty byte string */
    p->an[p->n] = (int)n;
    p->af[p->n] = 1;
    p->n++;
}

void pa_pg_p_text(pa_pg_params *p, const char *z)
{
    if (p->n >= PA_PG_PARAM_MAX)
        return;
    p->ap[p->n] = z; /* NULL is SQL NULL */
    p->an[p->n] = 0;
    p->af[p->n] = 0;
    p->n++;
}

void pa_pg_p_int(pa_pg_params *p, int64_t v)
{
    if (p->n >= PA_PG_PARAM_MAX)
        return;
    snprintf(p->az[p->n], sizeof p->az[p->n], "%lld", (long long)v);
    pa_pg_p_text(p, p->az[p->n]);
}

void pa_pg_p_double(pa_pg_params *p, double r)
{
    if (p->n >= PA_PG_PARAM_MAX)
        return;
    snprintf(p->az[p->n], sizeof p->az[p->n], "%.17g", r); /* round-trips exactly */
    pa_pg_p_text(p, p->az[p->n]);
}

void pa_pg_p_null(pa_pg_params *p)
{
    pa_pg_p_text(p, NULL);
}

/* ---- array parameters (binary format: ndim, has-null flag, element type,
 * then per dimension its length and lower bound, then each element as a
 * length, -1 for NULL, and its bytes; all integers big-endian) ---------- */

#define ARRAY_HEADER 20

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void pa_pg_array_init(pa_pg_array *a, uint32_t iOid)
{
    memset(a, 0, sizeof *a);
    a->iOid = iOid;
    a->n = ARRAY_HEADER; /* written by pa_pg_p_array */
}

/* Room for n more bytes (the old buffer wiped: it may hold secrets). */
static int array_room(pa_pg_array *a, size_t n)
{
    size_t nCap = a->nCap ? a->nCap : 4096;
    uint8_t *q;
    if (a->bNoMem)
        return 0;
    if (a->n + n <= a->nCap)
        return 1;
    while (nCap < a->n + n)
        nCap *= 2;
    if ((q = malloc(nCap)) == NULL) {
        a->bNoMem = 1;
        return 0;
    }
    if (a->p) {
        memcpy(q, a->p, a->n);
        pa_wipe(a->p, a->nCap);
        free(a->p);
    }
    a->p = q;
    a->nCap = nCap;
    return 1;
}

static void array_elem(pa_pg_array *a, const void *pData, size_t n, int bNull)
{
    if (n > INT32_MAX || !array_room(a, 4 + (bNull ? 0 : n))) {
        a->bNoMem = 1;
        return;
    }
    put_be32(a->p + a->n, bNull ? UINT32_MAX : (uint32_t)n);
    a->n += 4;
    if (!bNull && n > 0)
        memcpy(a->p + a->n, pData, n);
    if (!bNull)
        a->n += n;
    a->nElem++;
}

void pa_pg_array_add(pa_pg_array *a, const void *pData, size_t n)
{
    array_elem(a, pData, n, 0);
}

void pa_pg_array_add_text(pa_pg_array *a, const char *z)
{
    array_elem(a, z, z ? strlen(z) : 0, z == NULL);
}

void pa_pg_array_add_int(pa_pg_array *a, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    array_elem(a, b, 8, 0);
}

int pa_pg_p_array(pa_pg_params *p, pa_pg_array *a)
{
    if (!array_room(a, 0)) /* allocates the header's room when no element came */
        return pa_fail(PA_ENOMEM, "store: out of memory (an array of %u rows)", a->nElem);
    put_be32(a->p, a->nElem ? 1 : 0); /* one dimension; none when empty */
    put_be32(a->p + 4, 1);             /* may hold NULLs (the server checks each element) */
    put_be32(a->p + 8, a->iOid);
    put_be32(a->p + 12, a->nElem);
    put_be32(a->p + 16, 1);            /* lower bound */
    pa_pg_p_blob(p, a->p, a->nElem ? a->n : 12);
    return PA_OK;
}

void pa_pg_array_free(pa_pg_array *a)
{
    if (a->p) {
        pa_wipe(a->p, a->nCap);
        free(a->p);
    }
    memset(a, 0, sizeof *a);
}

int pa_pg_col_null(const PGresult *r, int iRow, int iCol)
{
    return PQgetisnull(r, iRow, iCol);
}

const uint8_t *pa_pg_col_blob(const PGresult *r, int iRow, int iCol, size_t *pn)
{
    *pn = PQgetisnull(r, iRow, iCol) ? 0 : (size_t)PQgetlength(r, iRow, iCol);
    return (const uint8_t *)PQgetvalue(r, iRow, iCol);
}

const char *pa_pg_col_text(const PGresult *r, int iRow, int iCol)
{
    return PQgetisnull(r, iRow, iCol) ? "" : PQgetvalue(r, iRow, iCol); /* NUL-terminated by libpq */
}

const char *pa_pg_col_text_or_null(const PGresult *r, int iRow, int iCol)
{
    return PQgetisnull(r, iRow, iCol) ? NULL : PQgetvalue(r, iRow, iCol);
}

static uint64_t be_u64(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int64_t pa_pg_col_int(const PGresult *r, int iRow, int iCol)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, iRow, iCol);
    int n = PQgetlength(r, iRow, iCol);

    if (PQgetisnull(r, iRow, iCol))
        return 0;
    switch (n) { /* binary int8, int4, int2 (big-endian, two's complement), bool */
    case 8: return (int64_t)be_u64(p, 8);
    case 4: return (int32_t)(uint32_t)be_u64(p, 4);
    case 2: return (int16_t)(uint16_t)be_u64(p, 2);
    case 1: return p[0];
    default: return 0;
    }
}

double pa_pg_col_double(const PGresult *r, int iRow, int iCol)
{
    uint64_t u;
    double d = 0;

    if (PQgetisnull(r, iRow, iCol) || PQgetlength(r, iRow, iCol) != 8)
        return 0;
    u = be_u64((const uint8_t *)PQgetvalue(r, iRow, iCol), 8);
    memcpy(&d, &u, sizeof d);
    return d;
}

int pa_pg_col_copy(const PGresult *r, int iRow, int iCol, uint8_t **pp, size_t *pn)
{
    size_t n;
    const uint8_t *p = pa_pg_col_blob(r, iRow, iCol, &n);

    *pp = malloc(n ? n : 1);
    if (*pp == NULL)
        return pa_fail(PA_ENOMEM, "store: out of memory (%zu bytes)", n);
    if (n)
        memcpy(*pp, p, n);
    *pn = n;
    return PA_OK;
}

/* ---- errors and statements ------------------------------------------------ */

int pa_pg_fail(pa_store *pStore, const PGresult *pRes, const char *zWhat)
{
    char zMsg[400];
    const char *z = pRes ? PQresultErrorField(pRes, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    size_t n;

    /* the primary message only: DETAIL lines may quote row values */
    snprintf(zMsg, sizeof zMsg, "%s", z ? z : PQerrorMessage(pStore->pPg->pConn));
    for (n = strlen(zMsg); n > 0 && (zMsg[n - 1] == '\n' || zMsg[n - 1] == ' '); n--)
        zMsg[n - 1] = '\0';
    /* one line: libpq's "...refused\n\tIs the server running..." */
    char *pOut = zMsg;
    for (const char *c = zMsg; *c; c++) {
        char ch = *c == '\n' || *c == '\t' ? ' ' : *c;
        if (ch == ' ' && (pOut == zMsg || pOut[-1] == ' '))
            continue;
        *pOut++ = ch;
    }
    *pOut = '\0';
    return pa_fail(PA_ESTORE, "store %s: %s: %s", pStore->pPg->zWhere, zWhat, zMsg[0] ? zMsg : "failed");
}

static void quiet_notice(void *pArg, const char *zMessage)
{
    (void)pArg;
    (void)zMessage; /* "relation already exists, skipping" and the like */
}

/* The session's settings: see the file's top paragraph. */
static const char k_zSession[] = "SET synchronous_commit = on;"
                                 "SET default_transaction_isolation = 'read committed';"
                                 "SET client_min_messages = warning;"
                                 "SET lock_timeout = '5s';";

static int session_setup(pa_store *pStore)
{
    PGresult *r = PQexec(pStore->pPg->pConn, k_zSession);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? PA_OK : pa_pg_fail(pStore, r, "session settings");
    PQclear(r);
    if (rc == PA_OK && pStore->bReadOnly) {
        r = PQexec(pStore->pPg->pConn, "SET default_transaction_read_only = on");
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? PA_OK : pa_pg_fail(pStore, r, "read-only session");
        PQclear(r);
    }
    return rc;
}

/* A connection lost between transactions: reconnect once (its prepared
 * statements are gone with the old session). */
static void revive(pa_store *pStore)
{
    struct pa_pg *g = pStore->pPg;
    if (PQstatus(g->pConn) == CONNECTION_OK || pStore->bInTxn)
        return;
    PQreset(g->pConn);
    g->nStmt = 0;
    if (PQstatus(g->pConn) == CONNECTION_OK)
        session_setup(pStore);
}

int pa_pg_run(pa_store *pStore, const char *zSql, const pa_pg_params *p, PGresult **ppRes, const char *zWhat)
{
    struct pa_pg *g = pStore->pPg;
    int n = p ? p->n : 0, i, rc;
    const char *const *ap = p ? p->ap : NULL;
    const int *an = p ? p->an : NULL, *af = p ? p->af : NULL;
    PGresult *r;
    ExecStatusType st;

    if (ppRes)
        *ppRes = NULL;
    if (p && p->n >= PA_PG_PARAM_MAX)
        return pa_fail(PA_EINVAL, "store: %s: more than %d parameters", zWhat, PA_PG_PARAM_MAX - 1);
    revive(pStore);
    for (i = 0; i < g->nStmt && g->aStmt[i].zSql != zSql; i++)
        ;
    if (i == g->nStmt && g->nStmt < PA_PG_STMT_MAX) { /* first use on this connection: prepare */
        snprintf(g->aStmt[i].zName, sizeof g->aStmt[i].zName, "pa%d", i);
        r = PQprepare(g->pConn, g->aStmt[i].zName, zSql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pa_pg_fail(pStore, r, zWhat);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        g->aStmt[i].zSql = zSql;
        g->nStmt++;
    }
    if (i < g->nStmt)
        r = PQexecPrepared(g->pConn, g->aStmt[i].zName, n, ap, an, af, 1);
    else /* the cache is full: unprepared, still with out-of-line parameters */
        r = PQexecParams(g->pConn, zSql, n, NULL, ap, an, af, 1);
    st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = pa_pg_fail(pStore, r, zWhat);
        PQclear(r);
        return rc;
    }
    if (ppRes)
        *ppRes = r;
    else
        PQclear(r);
    return PA_OK;
}

int pa_pg_do(pa_store *pStore, const char *zSql, const pa_pg_params *p, const char *zWhat, uint64_t *pnChanged)
{
    PGresult *r;
    PA_GUARD(pa_pg_run(pStore, zSql, p, &r, zWhat));
    if (pnChanged) {
        const char *z = PQcmdTuples(r);
        *pnChanged = z[0] ? strtoull(z, NULL, 10) : 0;
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_exec(pa_store *pStore, const char *zSql)
{
    PGresult *r;
    ExecStatusType st;
    int rc = PA_OK;

    revive(pStore);
    r = PQexec(pStore->pPg->pConn, zSql); /* no parameters: DDL and tests only */
    st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pa_pg_fail(pStore, r, "sql");
    PQclear(r);
    return rc;
}

int pa_pg_query_int(pa_store *pStore, const char *zSql, int64_t *pn)
{
    PGresult *r;
    int rc = PA_OK;

    *pn = 0;
    /* text results: any integer type (a sum() is numeric), or a boolean */
    r = PQexecParams(pStore->pPg->pConn, zSql, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = pa_pg_fail(pStore, r, "query");
    } else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        const char *z = PQgetvalue(r, 0, 0);
        *pn = strcmp(z, "t") == 0 ? 1 : strcmp(z, "f") == 0 ? 0 : strtoll(z, NULL, 10);
    }
    PQclear(r);
    return rc;
}

/* ---- open, migrate, close ------------------------------------------------- */

/* Connect (the URL's own connect_timeout wins over zTimeout) and set the
 * session up. */
static int connect_to(pa_store **ppStore, const char *zUrl, const char *zTimeout, int bReadOnly)
{
    static const char *const azKey[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *azVal[] = {zTimeout, "privagg", zUrl, NULL};
    pa_store *pStore;
    struct pa_pg *g;
    int rc;

    *ppStore = NULL;
    pStore = calloc(1, sizeof *pStore);
    g = calloc(1, sizeof *g);
    if (pStore == NULL || g == NULL) {
        free(pStore);
        free(g);
        return pa_fail(PA_ENOMEM, "store: allocating the handle");
    }
    pStore->pPg = g;
    pStore->bReadOnly = bReadOnly;
    g->pConn = PQconnectdbParams(azKey, azVal, 1);
    if (g->pConn == NULL) {
        free(g);
        free(pStore);
        return pa_fail(PA_ENOMEM, "store: libpq could not allocate a connection");
    }
    snprintf(g->zWhere, sizeof g->zWhere, "postgresql://%s@%s:%s/%s", PQuser(g->pConn) ? PQuser(g->pConn) : "",
             PQhost(g->pConn) ? PQhost(g->pConn) : "", PQport(g->pConn) ? PQport(g->pConn) : "",
             PQdb(g->pConn) ? PQdb(g->pConn) : "");
    if (PQstatus(g->pConn) != CONNECTION_OK) {
        rc = pa_pg_fail(pStore, NULL, "connect (check the URL, that the server runs and pg_hba.conf)");
        pa_pg_close(pStore);
        return rc;
    }
    PQsetNoticeProcessor(g->pConn, quiet_notice, NULL);
    rc = session_setup(pStore);
    if (rc != PA_OK) {
        pa_pg_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

/* The schema version, or -1 when the store has no version table. */
static int read_version(pa_store *pStore, int *piVersion)
{
    PGresult *r;
    *piVersion = -1;
    PA_GUARD(pa_pg_run(pStore, "SELECT to_regclass('pa_schema_version') IS NOT NULL", NULL, &r, "schema version"));
    int bHave = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) != 0;
    PQclear(r);
    if (!bHave)
        return PA_OK;
    PA_GUARD(pa_pg_run(pStore, "SELECT max(version) FROM pa_schema_version", NULL, &r, "schema version"));
    *piVersion = PQntuples(r) == 1 ? (int)pa_pg_col_int(r, 0, 0) : 0;
    PQclear(r);
    return PA_OK;
}

/* Every migration above the store's version, in one transaction under the
 * schema's lock (two processes opening a new store at once: one migrates,
 * the other then finds it done). */
static int migrate(pa_store *pStore)
{
    int iVersion = 0, nNewest = (int)pa_pg_migration_count(), rc;
    pa_pg_params p = {0};

    rc = pa_pg_begin(pStore);
    if (rc == PA_OK)
        rc = pa_pg_exec(pStore, PA_PG_SCHEMA_LOCK);
    if (rc == PA_OK)
        rc = pa_pg_exec(pStore, "CREATE TABLE IF NOT EXISTS pa_schema_version (version INTEGER NOT NULL)");
    if (rc == PA_OK)
        rc = read_version(pStore, &iVersion);
    if (rc == PA_OK && iVersion > nNewest)
        rc = pa_fail(PA_ERANGE, "schema version: %d is newer than %d, the newest this build knows", iVersion,
                     nNewest);
    for (int v = iVersion + 1; rc == PA_OK && v <= nNewest; v++)
        rc = pa_pg_exec(pStore, pa_pg_migration((size_t)v));
    if (rc == PA_OK && iVersion < nNewest) {
        pa_pg_p_int(&p, nNewest);
        rc = pa_pg_do(pStore, "DELETE FROM pa_schema_version", NULL, "schema version", NULL);
        if (rc == PA_OK)
            rc = pa_pg_do(pStore, "INSERT INTO pa_schema_version(version) VALUES ($1)", &p, "schema version",
                          NULL);
    }
    if (rc != PA_OK) {
        pa_pg_rollback(pStore);
        return rc;
    }
    return pa_pg_commit(pStore);
}

int pa_pg_open(pa_store **ppStore, const char *zUrl)
{
    pa_store *pStore;
    int rc;

    *ppStore = NULL;
    PA_GUARD(connect_to(&pStore, zUrl, "10", 0));
    rc = migrate(pStore);
    if (rc != PA_OK) {
        pa_pg_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

int pa_pg_open_readonly(pa_store **ppStore, const char *zUrl)
{
    pa_store *pStore;
    int rc, iVersion;

    *ppStore = NULL;
    PA_GUARD(connect_to(&pStore, zUrl, "10", 1));
    rc = read_version(pStore, &iVersion);
    if (rc == PA_OK && iVersion < 0)
        rc = pa_fail(PA_ESTORE, "store %s: not a privagg store (no pa_schema_version table)", pStore->pPg->zWhere);
    if (rc == PA_OK && iVersion > (int)pa_pg_migration_count())
        rc = pa_fail(PA_ERANGE, "schema version: %d is newer than %d, the newest this build knows", iVersion,
                     (int)pa_pg_migration_count());
    if (rc != PA_OK) {
        pa_pg_close(pStore);
        return rc;
    }
    *ppStore = pStore;
    return PA_OK;
}

int pa_pg_open_probe(pa_store **ppStore, const char *zUrl)
{
    return connect_to(ppStore, zUrl, "1", 0);
}

void pa_pg_close(pa_store *pStore)
{
    if (pStore == NULL)
        return;
    if (pStore->pPg) {
        if (pStore->pPg->pConn)
            PQfinish(pStore->pPg->pConn); /* an open transaction is rolled back by the server */
        free(pStore->pPg);
    }
    free(pStore);
}

int pa_pg_probe_writable(pa_store *pStore)
{
    PGresult *r;
    int rc;
    PA_GUARD(pa_pg_run(pStore, "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
                       NULL, &r, "probe"));
    rc = PQntuples(r) == 1 && pa_pg_col_int(r, 0, 0) == 0
             ? PA_OK
             : pa_fail(PA_ESTORE, "store %s: the server is read-only (a standby?)", pStore->pPg->zWhere);
    PQclear(r);
    return rc;
}

/* ---- transactions --------------------------------------------------------- */

int pa_pg_begin(pa_store *pStore)
{
    int rc;
    if (pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: a transaction is already open");
    pStore->pPg->iPeriodLock = 0;
    rc = pa_pg_exec(pStore, "BEGIN");
    if (rc != PA_OK) {
        PGresult *r = PQexec(pStore->pPg->pConn, "ROLLBACK");
        PQclear(r);
        return rc;
    }
    pStore->bInTxn = 1;
    return PA_OK;
}

int pa_pg_commit(pa_store *pStore)
{
    PGresult *r;
    int rc = PA_OK;

    if (!pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: commit without a transaction");
    if (pStore->nSavepoint != 0)
        return pa_fail(PA_ESTATE, "store: commit with %d savepoint(s) open", pStore->nSavepoint);
    r = PQexec(pStore->pPg->pConn, "COMMIT");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pa_pg_fail(pStore, r, "commit");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) /* "ROLLBACK": a statement had failed */
        rc = pa_fail(PA_ESTORE, "store %s: commit: the transaction had failed and was rolled back",
                     pStore->pPg->zWhere);
    PQclear(r);
    if (rc != PA_OK)
        pa_pg_rollback(pStore);
    pStore->bInTxn = 0;
    pStore->nSavepoint = 0;
    pStore->pPg->iPeriodLock = 0;
    return rc;
}

void pa_pg_rollback(pa_store *pStore)
{
    if (!pStore->bInTxn && PQtransactionStatus(pStore->pPg->pConn) == PQTRANS_IDLE)
        return;
    PQclear(PQexec(pStore->pPg->pConn, "ROLLBACK"));
    pStore->bInTxn = 0;
    pStore->nSavepoint = 0;
    pStore->pPg->iPeriodLock = 0;
}

static const char *const k_aSpBegin[PA_STORE_SAVEPOINT_MAX] = {"SAVEPOINT pa_sp0", "SAVEPOINT pa_sp1",
                                                               "SAVEPOINT pa_sp2", "SAVEPOINT pa_sp3"};
static const char *const k_aSpUndo[PA_STORE_SAVEPOINT_MAX] = {
    "ROLLBACK TO pa_sp0; RELEASE pa_sp0", "ROLLBACK TO pa_sp1; RELEASE pa_sp1",
    "ROLLBACK TO pa_sp2; RELEASE pa_sp2", "ROLLBACK TO pa_sp3; RELEASE pa_sp3"};
static const char *const k_aSpEnd[PA_STORE_SAVEPOINT_MAX] = {"RELEASE pa_sp0", "RELEASE pa_sp1", "RELEASE pa_sp2",
                                                             "RELEASE pa_sp3"};

int pa_pg_savepoint(pa_store *pStore)
{
    if (!pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: a savepoint needs an open transaction (pa_store_begin)");
    if (pStore->nSavepoint == PA_STORE_SAVEPOINT_MAX)
        return pa_fail(PA_ESTATE, "store: savepoints nest %d deep at most", PA_STORE_SAVEPOINT_MAX);
    PA_GUARD(pa_pg_exec(pStore, k_aSpBegin[pStore->nSavepoint]));
    pStore->nSavepoint++;
    return PA_OK;
}

int pa_pg_savepoint_release(pa_store *pStore)
{
    if (pStore->nSavepoint == 0)
        return pa_fail(PA_ESTATE, "store: no savepoint to release");
    PA_GUARD(pa_pg_exec(pStore, k_aSpEnd[pStore->nSavepoint - 1]));
    pStore->nSavepoint--;
    return PA_OK;
}

int pa_pg_savepoint_rollback(pa_store *pStore)
{
    PGresult *r;
    int rc = PA_OK;

    if (pStore->nSavepoint == 0)
        return PA_OK;
    pStore->nSavepoint--;
    /* locks taken since the savepoint are given back with it: ask again */
    pStore->pPg->iPeriodLock = 0;
    /* no pa_fail on success: the caller's failure message stays */
    r = PQexec(pStore->pPg->pConn, k_aSpUndo[pStore->nSavepoint]);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pa_pg_fail(pStore, r, "savepoint rollback");
    PQclear(r);
    return rc;
}

/* ---- the transaction's locks ---------------------------------------------- */

/* The keys are 64-bit hashes of a name that says what is locked, in the
 * store's schema (two stores in one database do not wait for each other). */
int pa_pg_lock_period(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, int bExclusive)
{
    struct pa_pg *g = pStore->pPg;
    pa_pg_params p = {0};
    int iWant = bExclusive ? 2 : 1;

    if (!pStore->bInTxn || pStore->bReadOnly)
        return PA_OK; /* a reader outside a transaction never waits */
    if (g->iPeriodLock >= iWant && memcmp(g->aPeriodLockTask, aTaskId, 32) == 0 &&
        strcmp(g->zPeriodLock, zPeriod) == 0)
        return PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    PA_GUARD(pa_pg_do(pStore,
                      bExclusive ? "SELECT pg_advisory_xact_lock(hashtextextended(concat_ws('/', 'privagg-period',"
                                   " current_schema(), encode($1::bytea, 'hex'), $2::text), 0))"
                                 : "SELECT pg_advisory_xact_lock_shared(hashtextextended(concat_ws('/',"
                                   " 'privagg-period', current_schema(), encode($1::bytea, 'hex'), $2::text), 0))",
                      &p, "lock (period)", NULL));
    g->iPeriodLock = iWant;
    memcpy(g->aPeriodLockTask, aTaskId, 32);
    snprintf(g->zPeriodLock, sizeof g->zPeriodLock, "%s", zPeriod);
    return PA_OK;
}

int pa_pg_lock_key(pa_store *pStore, const char *zKind, const uint8_t *pTaskId, const char *zPeriod,
                   const char *zPartition)
{
    pa_pg_params p = {0};

    if (!pStore->bInTxn || pStore->bReadOnly)
        return PA_OK;
    pa_pg_p_text(&p, zKind);
    if (pTaskId)
        pa_pg_p_blob(&p, pTaskId, 32);
    else
        pa_pg_p_null(&p);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_text(&p, zPartition);
    return pa_pg_do(pStore,
                    "SELECT pg_advisory_xact_lock(hashtextextended(concat_ws('/', $1::text, current_schema(),"
                    " encode($2::bytea, 'hex'), $3::text, $4::text), 0))",
                    &p, zKind, NULL);
}

/* No write-ahead log of our own to checkpoint: the server checkpoints. */
void pa_pg_on_wal_commit(pa_store *pStore, void (*xOnWal)(void *pCtx, int nFrames), void *pCtx)
{
    (void)pStore;
    (void)xOnWal;
    (void)pCtx;
}

int pa_pg_checkpoint(pa_store *pStore, int *pnLog, int *pnCopied)
{
    (void)pStore;
    if (pnLog)
        *pnLog = 0;
    if (pnCopied)
        *pnCopied = 0;
    return PA_OK;
}

/* The tables whose statistics are off by more than their own row count
 * (reltuples is -1 until a table is first analyzed), each as the ANALYZE
 * statement that refreshes it; then each is run, outside a transaction. */
int pa_pg_analyze(pa_store *pStore, int *pnAnalyzed)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK, i, n;

    if (pnAnalyzed)
        *pnAnalyzed = 0;
    if (pStore->bInTxn)
        return pa_fail(PA_ESTATE, "store: analyze: inside a transaction; call it between transactions");
    pa_pg_p_int(&p, PA_STORE_ANALYZE_ROWS);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT format('ANALYZE (SKIP_LOCKED) %I.%I', s.schemaname, s.relname)"
                       " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
                       " WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze >= $1"
                       " AND s.n_mod_since_analyze > c.reltuples ORDER BY s.relname",
                       &p, &r, "analyze: stale statistics"));
    n = PQntuples(r);
    for (i = 0; i < n && rc == PA_OK; i++) {
        rc = pa_pg_exec(pStore, PQgetvalue(r, i, 0));
        if (rc == PA_OK && pnAnalyzed)
            (*pnAnalyzed)++;
    }
    PQclear(r);
    return rc;
}
