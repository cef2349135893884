/*
 * Internals of the PostgreSQL backend of the store (engine/store/pg_*.c).
 *
 * One pa_store is one libpq connection, used by one thread at a time (the
 * server opens one store per thread, as with SQLite).  Every statement runs
 * through pa_pg_run: prepared once per connection (PQprepare; the cache is
 * keyed by the SQL literal's address, like the SQLite backend's) and executed
 * with out-of-line parameters (PQexecPrepared): values never enter SQL text.
 * Parameters: byte strings in binary format, text as text, integers and
 * doubles as decimal text (exact: %.17g).  Results come back in binary format
 * (bytea without hex decoding): read them with the pa_pg_col_* helpers.  A
 * result is wholly in memory, so a callback may call back into the store.
 * Many rows go in one statement as arrays (pa_pg_array: one parameter per
 * column, unnest($n::bytea[], ...) in the SQL), so that a group of uploads or
 * the reports of a job cost one round trip, not one per row.
 */
#ifndef PA_STORE_PG_INTERNAL_H
#define PA_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "store/internal.h"

#define PA_PG_STMT_MAX 128
#define PA_PG_PARAM_MAX 16

struct pa_pg {
    PGconn *pConn;
    char zWhere[200];           /* user@host:port/db, for messages (never the password) */
    struct {
        const char *zSql;
        char zName[16];
    } aStmt[PA_PG_STMT_MAX];
    int nStmt;
    int bLedgerKnown;           /* dp_ledger was seen to exist (it is never dropped) */
    /* the period lock this transaction holds (pa_pg_lock_period), so that a
     * group of uploads of one period asks for it once */
    int iPeriodLock;            /* 0 none, 1 shared, 2 exclusive */
    uint8_t aPeriodLockTask[32];
    char zPeriodLock[8];
};

typedef struct {
    int n;
    const char *ap[PA_PG_PARAM_MAX];
    int an[PA_PG_PARAM_MAX];
    int af[PA_PG_PARAM_MAX];
    char az[PA_PG_PARAM_MAX][32];  /* numbers as decimal text */
} pa_pg_params;

/* Parameters in order ($1, $2, ...).  A NULL byte string of length 0 is the
 * empty byte string; a NULL text is SQL NULL. */
void pa_pg_p_blob(pa_pg_params *p, const void *pData, size_t n);
void pa_pg_p_text(pa_pg_params *p, const char *z);
void pa_pg_p_int(pa_pg_params *p, int64_t v);
void pa_pg_p_double(pa_pg_params *p, double r);
void pa_pg_p_null(pa_pg_params *p);

/* A one-dimensional array parameter in PostgreSQL's binary array format,
 * built element by element (oid: the element type, PA_PG_OID_*).  A failed
 * allocation is remembered and reported by pa_pg_p_array (PA_ENOMEM).  The
 * buffer may hold secrets (verify states): pa_pg_array_free wipes it. */
#define PA_PG_OID_BYTEA 17u
#define PA_PG_OID_INT8 20u
#define PA_PG_OID_TEXT 25u
typedef struct {
    uint8_t *p;
    size_t n, nCap;
    uint32_t nElem, iOid;
    int bNoMem;
} pa_pg_array;
void pa_pg_array_init(pa_pg_array *a, uint32_t iOid);
void pa_pg_array_add(pa_pg_array *a, const void *pData, size_t n); /* bytea; text without its NUL */
void pa_pg_array_add_text(pa_pg_array *a, const char *z);          /* NULL: SQL NULL */
void pa_pg_array_add_int(pa_pg_array *a, int64_t v);               /* int8 */
/* Finish the array and add it as the next parameter (it MUST outlive the
 * statement).  PA_ENOMEM if an element could not be added. */
int pa_pg_p_array(pa_pg_params *p, pa_pg_array *a);
void pa_pg_array_free(pa_pg_array *a);

/* Run zSql (a string literal) with the parameters (NULL: none).  On success
 * *ppRes (if not NULL) holds the result, which the caller frees with PQclear;
 * on failure PA_ESTORE naming zWhat and PostgreSQL's message, nothing to
 * free. */
int pa_pg_run(pa_store *pStore, const char *zSql, const pa_pg_params *p, PGresult **ppRes, const char *zWhat);

/* pa_pg_run for a statement with no result rows; *pnChanged (may be NULL)
 * the rows it changed. */
int pa_pg_do(pa_store *pStore, const char *zSql, const pa_pg_params *p, const char *zWhat, uint64_t *pnChanged);

/* PA_ESTORE naming the store, zWhat and the result's (or connection's) message. */
int pa_pg_fail(pa_store *pStore, const PGresult *pRes, const char *zWhat);

/*
 * Locks of the transaction (PostgreSQL READ COMMITTED; there is no store-wide
 * writers' lock: engine/store/pg_store.c has the list of what each decision
 * relies on).  Each is a transaction-scoped advisory lock, released at commit
 * or rollback, taken in a statement of its own so that the statements after
 * it see what the previous holder committed.
 *
 * pa_pg_lock_period: the releases of a period's batches (exclusive) against
 * the writers of its reports (shared: an upload, the helper's job init), so
 * that a batch's "collected?" and "nothing unfinished?" checks cannot both
 * pass for a report and a release at once.  Taken once per transaction and
 * period (the shared lock is not taken again under the exclusive one).
 * pa_pg_lock_key: one named lock (the ledger's chain head, a batch row not
 * created yet, the schema's creation), exclusive.
 */
int pa_pg_lock_period(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod, int bExclusive);
int pa_pg_lock_key(pa_store *pStore, const char *zKind, const uint8_t *pTaskId, const char *zPeriod,
                   const char *zPartition);
/* The schema's lock (migrations, tables created on first use). */
#define PA_PG_SCHEMA_LOCK "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '')))"

/* Columns of a binary-format result. */
int pa_pg_col_null(const PGresult *r, int iRow, int iCol);
const uint8_t *pa_pg_col_blob(const PGresult *r, int iRow, int iCol, size_t *pn);
const char *pa_pg_col_text(const PGresult *r, int iRow, int iCol);  /* "" when NULL */
const char *pa_pg_col_text_or_null(const PGresult *r, int iRow, int iCol);
int64_t pa_pg_col_int(const PGresult *r, int iRow, int iCol);        /* int2/4/8, bool; 0 when NULL */
double pa_pg_col_double(const PGresult *r, int iRow, int iCol);      /* float8 */

/* A malloc'ed copy of a byte-string column (at least one byte allocated). */
int pa_pg_col_copy(const PGresult *r, int iRow, int iCol, uint8_t **pp, size_t *pn);

#endif
