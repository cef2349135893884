/*
 * The privacy ledger (include/privagg/ledger.h): an append-only, hash-chained table
 * in the aggregator's SQLite store.
 *
 * Entry hash = SHA-256 (libsodium crypto_hash_sha256) of the canonical encoding
 *   "privagg-dp-ledger-v1" || u64 seq || str task_id || str batch || str mechanism ||
 *   str param || str unit || f64 charge || f64 total || f64 budget || i64 time ||
 *   prev_hash[32]
 * with integers big-endian, f64 as the big-endian IEEE-754 bits and str as a u32
 * big-endian length followed by the bytes.  The first entry's prev_hash is 32 zero
 * bytes.  Running totals are doubles; the budget comparison allows a relative
 * tolerance of PA_DP_LEDGER_TOLERANCE (1e-12) so that e.g. ten charges of 0.1 fit a
 * budget of 1 (docs/dp.md explains why doubles and not rationals).
 */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"

#define LEDGER_TAG "privagg-dp-ledger-v1"

struct entry {
    int64_t seq;
    const char *zTask, *zBatch, *zMech, *zParam, *zUnit;
    double charge, total, budget;
    int64_t tUnix;
    uint8_t aPrev[32];
};

static const char *k_schema =
    "CREATE TABLE IF NOT EXISTS dp_ledger ("
    " seq INTEGER PRIMARY KEY,"
    " task_id TEXT NOT NULL, batch TEXT NOT NULL, mechanism TEXT NOT NULL,"
    " param TEXT NOT NULL, unit TEXT NOT NULL,"
    " charge REAL NOT NULL, total REAL NOT NULL, budget REAL NOT NULL,"
    " created_at INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS dp_ledger_task ON dp_ledger(task_id, seq);";

static int db_fail(sqlite3 *pDb, const char *zWhat)
{
    return pa_fail(PA_ESTORE, "ledger %s: %s", zWhat, sqlite3_errmsg(pDb));
}

int pa_dp_ledger_init(sqlite3 *pDb)
{
    if (pDb == NULL)
        return pa_fail(PA_EINVAL, "ledger: no database");
    if (sqlite3_exec(pDb, k_schema, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(pDb, "create table");
    return PA_OK;
}

static void put_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void put_str(crypto_hash_sha256_state *st, const char *z)
{
    size_t n = strlen(z);
    uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    crypto_hash_sha256_update(st, b, 4);
    crypto_hash_sha256_update(st, (const uint8_t *)z, n);
}

static void put_f64(crypto_hash_sha256_state *st, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    put_u64(st, bits);
}

static void entry_hash(const struct entry *e, uint8_t aOut[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)LEDGER_TAG, sizeof LEDGER_TAG - 1);
    put_u64(&st, (uint64_t)e->seq);
    put_str(&st, e->zTask);
    put_str(&st, e->zBatch);
    put_str(&st, e->zMech);
    put_str(&st, e->zParam);
    put_str(&st, e->zUnit);
    put_f64(&st, e->charge);
    put_f64(&st, e->total);
    put_f64(&st, e->budget);
    put_u64(&st, (uint64_t)e->tUnix);
    crypto_hash_sha256_update(&st, e->aPrev, 32);
    crypto_hash_sha256_final(&st, aOut);
}

static int within_budget(double total, double budget)
{
    return total <= budget * (1 + PA_DP_LEDGER_TOLERANCE);
}

/* the charge of one release in the budget's unit */
static int release_charge(const pa_dp_ledger_release *r, int unit, double *pCharge)
{
    double eps;
    int rc;
    if (r->mechanism == PA_DP_GAUSSIAN) {
        if (unit != PA_DP_UNIT_RHO)
            return pa_fail(PA_EUNSUPPORTED, "ledger: a discrete Gaussian release cannot be "
                                            "charged to a pure-eps budget");
        return pa_dp_rho_gaussian(r->sensitivity.l2sq, r->param, pCharge);
    }
    if (r->mechanism == PA_DP_LAPLACE) {
        if ((rc = pa_dp_eps_laplace(r->sensitivity.l1, r->param, &eps)) != PA_OK)
            return rc;
        *pCharge = unit == PA_DP_UNIT_RHO ? eps * eps / 2 : eps;
        return PA_OK;
    }
    return pa_fail(PA_EINVAL, "ledger: mechanism %d", r->mechanism);
}

/* last hash and seq of the whole ledger, last total of the task */
static int read_tail(sqlite3 *pDb, const char *zTask, int64_t *pSeq, uint8_t aHash[32], double *pSpent)
{
    sqlite3_stmt *pStmt = NULL;
    int rc;
    *pSeq = 0;
    memset(aHash, 0, 32);
    *pSpent = 0;
    if (sqlite3_prepare_v2(pDb, "SELECT seq, hash FROM dp_ledger ORDER BY seq DESC LIMIT 1", -1,
                           &pStmt, NULL) != SQLITE_OK)
        return db_fail(pDb, "read head");
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_ROW) {
        *pSeq = sqlite3_column_int64(pStmt, 0);
        if (sqlite3_column_bytes(pStmt, 1) == 32)
            memcpy(aHash, sqlite3_column_blob(pStmt, 1), 32);
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(pStmt);
        return db_fail(pDb, "read head");
    }
    sqlite3_finalize(pStmt);
    if (zTask == NULL)
        return PA_OK;
    if (sqlite3_prepare_v2(pDb, "SELECT total FROM dp_ledger WHERE task_id = ?1 ORDER BY seq DESC LIMIT 1",
                           -1, &pStmt, NULL) != SQLITE_OK)
        return db_fail(pDb, "read total");
    sqlite3_bind_text(pStmt, 1, zTask, -1, SQLITE_STATIC);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_ROW)
        *pSpent = sqlite3_column_double(pStmt, 0);
    sqlite3_finalize(pStmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(pDb, "read total");
    return PA_OK;
}

int pa_dp_ledger_spent(sqlite3 *pDb, const char *zTaskId, double *pSpent)
{
    int64_t seq;
    uint8_t h[32];
    int rc;
    if (pDb == NULL || zTaskId == NULL || pSpent == NULL)
        return pa_fail(PA_EINVAL, "ledger spent: NULL argument");
    if ((rc = pa_dp_ledger_init(pDb)) != PA_OK)
        return rc;
    return read_tail(pDb, zTaskId, &seq, h, pSpent);
}

static int insert_entry(sqlite3 *pDb, const struct entry *e, const uint8_t aHash[32])
{
    sqlite3_stmt *pStmt = NULL;
    int rc;
    if (sqlite3_prepare_v2(pDb,
                           "INSERT INTO dp_ledger(seq, task_id, batch, mechanism, param, unit, charge,"
                           " total, budget, created_at, prev_hash, hash)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                           -1, &pStmt, NULL) != SQLITE_OK)
        return db_fail(pDb, "insert");
    sqlite3_bind_int64(pStmt, 1, e->seq);
    sqlite3_bind_text(pStmt, 2, e->zTask, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 3, e->zBatch, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 4, e->zMech, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 5, e->zParam, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 6, e->zUnit, -1, SQLITE_STATIC);
    sqlite3_bind_double(pStmt, 7, e->charge);
    sqlite3_bind_double(pStmt, 8, e->total);
    sqlite3_bind_double(pStmt, 9, e->budget);
    sqlite3_bind_int64(pStmt, 10, e->tUnix);
    sqlite3_bind_blob(pStmt, 11, e->aPrev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(pStmt, 12, aHash, 32, SQLITE_STATIC);
    rc = sqlite3_step(pStmt);
    sqlite3_finalize(pStmt);
    return rc == SQLITE_DONE ? PA_OK : db_fail(pDb, "insert");
}

int pa_dp_ledger_charge(sqlite3 *pDb, const pa_dp_ledger_release *pRel, const pa_dp_budget *pBudget,
                        double *pCharge, double *pTotal)
{
    struct entry e;
    char zParam[64];
    uint8_t aHash[32];
    double charge, spent;
    int bSavepoint, rc;

    if (pDb == NULL || pRel == NULL || pBudget == NULL)
        return pa_fail(PA_EINVAL, "ledger charge: NULL argument");
    if (pRel->zTaskId == NULL || pRel->zTaskId[0] == '\0' || pRel->zBatch == NULL ||
        pRel->zBatch[0] == '\0')
        return pa_fail(PA_EINVAL, "ledger charge: task id and batch must be non-empty");
    if (pBudget->unit != PA_DP_UNIT_RHO && pBudget->unit != PA_DP_UNIT_EPS)
        return pa_fail(PA_EINVAL, "ledger charge: budget unit %d", pBudget->unit);
    if (!(pBudget->total > 0) || !isfinite(pBudget->total))
        return pa_fail(PA_EINVAL, "ledger charge: total budget %g must be finite and > 0",
                       pBudget->total);
    if ((rc = release_charge(pRel, pBudget->unit, &charge)) != PA_OK)
        return rc;
    if (!(charge > 0) || !isfinite(charge))
        return pa_fail(PA_EINVAL, "ledger charge: charge %g must be finite and > 0", charge);
    if ((rc = pa_dp_rational_format(pRel->param, zParam, sizeof zParam)) != PA_OK)
        return rc;
    if ((rc = pa_dp_ledger_init(pDb)) != PA_OK)
        return rc;

    bSavepoint = !sqlite3_get_autocommit(pDb);
    if (sqlite3_exec(pDb, bSavepoint ? "SAVEPOINT pa_dp_ledger" : "BEGIN IMMEDIATE", NULL, NULL,
                     NULL) != SQLITE_OK)
        return db_fail(pDb, "begin");
    memset(&e, 0, sizeof e);
    rc = read_tail(pDb, pRel->zTaskId, &e.seq, e.aPrev, &spent);
    if (rc == PA_OK && !within_budget(spent + charge, pBudget->total))
        rc = pa_fail(PA_EBUDGET,
                     "task '%s': total budget %s = %.10g, spent %.10g, release asks %.10g "
                     "(would total %.10g)",
                     pRel->zTaskId, pBudget->unit == PA_DP_UNIT_RHO ? "rho" : "eps",
                     pBudget->total, spent, charge, spent + charge);
    if (rc == PA_OK) {
        e.seq += 1;
        e.zTask = pRel->zTaskId;
        e.zBatch = pRel->zBatch;
        e.zMech = pRel->mechanism == PA_DP_GAUSSIAN ? "discrete_gaussian" : "discrete_laplace";
        e.zParam = zParam;
        e.zUnit = pBudget->unit == PA_DP_UNIT_RHO ? "rho" : "eps";
        e.charge = charge;
        e.total = spent + charge;
        e.budget = pBudget->total;
        e.tUnix = pRel->tUnix;
        entry_hash(&e, aHash);
        rc = insert_entry(pDb, &e, aHash);
    }
    if (rc == PA_OK) {
        if (sqlite3_exec(pDb, bSavepoint ? "RELEASE pa_dp_ledger" : "COMMIT", NULL, NULL, NULL) !=
            SQLITE_OK)
            rc = db_fail(pDb, "commit");
    }
    if (rc != PA_OK) {
        /* keep the failure message: rollback errors are secondary */
        if (bSavepoint)
            sqlite3_exec(pDb, "ROLLBACK TO pa_dp_ledger; RELEASE pa_dp_ledger", NULL, NULL, NULL);
        else
            sqlite3_exec(pDb, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (pCharge)
        *pCharge = charge;
    if (pTotal)
        *pTotal = e.total;
    return PA_OK;
}

/* ---- verify and export --------------------------------------------------- */

struct task_total {
    char *zTask;
    double total;
};

static const char *col_text(sqlite3_stmt *p, int i)
{
    const unsigned char *z = sqlite3_column_text(p, i);
    return z ? (const char *)z : "";
}

typedef int (*entry_visitor)(const struct entry *e, const uint8_t aHash[32], void *ctx);

/* Walk the ledger in seq order, checking every link; call visit on each entry. */
static int walk(sqlite3 *pDb, entry_visitor visit, void *ctx, uint8_t aHead[32], int64_t *pnCount)
{
    sqlite3_stmt *pStmt = NULL;
    struct task_total *aTot = NULL;
    size_t nTot = 0;
    uint8_t aPrev[32] = {0};
    int64_t n = 0;
    int rc = PA_OK, src;

    if ((rc = pa_dp_ledger_init(pDb)) != PA_OK)
        return rc;
    if (sqlite3_prepare_v2(pDb,
                           "SELECT seq, task_id, batch, mechanism, param, unit, charge, total, budget,"
                           " created_at, prev_hash, hash FROM dp_ledger ORDER BY seq",
                           -1, &pStmt, NULL) != SQLITE_OK)
        return db_fail(pDb, "read");
    while (rc == PA_OK && (src = sqlite3_step(pStmt)) == SQLITE_ROW) {
        struct entry e;
        uint8_t aWant[32];
        double prevTotal = 0;
        size_t iTot;

        memset(&e, 0, sizeof e);
        e.seq = sqlite3_column_int64(pStmt, 0);
        e.zTask = col_text(pStmt, 1);
        e.zBatch = col_text(pStmt, 2);
        e.zMech = col_text(pStmt, 3);
        e.zParam = col_text(pStmt, 4);
        e.zUnit = col_text(pStmt, 5);
        e.charge = sqlite3_column_double(pStmt, 6);
        e.total = sqlite3_column_double(pStmt, 7);
        e.budget = sqlite3_column_double(pStmt, 8);
        e.tUnix = sqlite3_column_int64(pStmt, 9);
        n++;
        if (e.seq != n) {
            rc = pa_fail(PA_ETAMPER, "ledger entry %lld: expected sequence number %lld (an entry "
                                     "was removed or reordered)", (long long)e.seq, (long long)n);
            break;
        }
        if (sqlite3_column_bytes(pStmt, 10) != 32 || sqlite3_column_bytes(pStmt, 11) != 32) {
            rc = pa_fail(PA_ETAMPER, "ledger entry %lld: hash fields are not 32 bytes", (long long)n);
            break;
        }
        memcpy(e.aPrev, sqlite3_column_blob(pStmt, 10), 32);
        if (sodium_memcmp(e.aPrev, aPrev, 32) != 0) {
            rc = pa_fail(PA_ETAMPER, "ledger entry %lld: prev_hash does not match entry %lld "
                                     "(removed or reordered)", (long long)n, (long long)(n - 1));
            break;
        }
        entry_hash(&e, aWant);
        if (sodium_memcmp(aWant, sqlite3_column_blob(pStmt, 11), 32) != 0) {
            rc = pa_fail(PA_ETAMPER, "ledger entry %lld: hash does not match its contents (modified)",
                         (long long)n);
            break;
        }
        /* running total of the task */
        for (iTot = 0; iTot < nTot; iTot++)
            if (strcmp(aTot[iTot].zTask, e.zTask) == 0)
                break;
        if (iTot == nTot) {
            struct task_total *p = realloc(aTot, (nTot + 1) * sizeof *aTot);
            if (p == NULL || (p[nTot].zTask = strdup(e.zTask)) == NULL) {
                if (p)
                    aTot = p;
                rc = pa_fail(PA_ENOMEM, "ledger verify: %zu tasks", nTot + 1);
                break;
            }
            aTot = p;
            aTot[nTot++].total = 0;
        }
        prevTotal = aTot[iTot].total;
        if (e.total != prevTotal + e.charge || !within_budget(e.total, e.budget)) {
            rc = pa_fail(PA_ETAMPER, "ledger entry %lld: running total %.17g is not %.17g + %.17g "
                                     "within budget %.17g", (long long)n, e.total, prevTotal,
                         e.charge, e.budget);
            break;
        }
        aTot[iTot].total = e.total;
        memcpy(aPrev, aWant, 32);
        if (visit != NULL)
            rc = visit(&e, aWant, ctx);
    }
    if (rc == PA_OK && src != SQLITE_DONE)
        rc = db_fail(pDb, "read");
    sqlite3_finalize(pStmt);
    for (size_t i = 0; i < nTot; i++)
        free(aTot[i].zTask);
    free(aTot);
    if (rc == PA_OK) {
        if (aHead)
            memcpy(aHead, aPrev, 32);
        if (pnCount)
            *pnCount = n;
    }
    return rc;
}

int pa_dp_ledger_verify(sqlite3 *pDb, const uint8_t *pExpectHead, int64_t nExpect,
                        uint8_t aHeadOut[32], int64_t *pnCount)
{
    uint8_t aHead[32];
    int64_t n;
    int rc;
    if (pDb == NULL)
        return pa_fail(PA_EINVAL, "ledger verify: no database");
    if ((rc = walk(pDb, NULL, NULL, aHead, &n)) != PA_OK)
        return rc;
    if (nExpect >= 0 && n != nExpect)
        return pa_fail(PA_ETAMPER, "ledger: %lld entries, the anchor says %lld", (long long)n,
                       (long long)nExpect);
    if (pExpectHead != NULL && sodium_memcmp(aHead, pExpectHead, 32) != 0)
        return pa_fail(PA_ETAMPER, "ledger: head hash differs from the anchor");
    if (aHeadOut)
        memcpy(aHeadOut, aHead, 32);
    if (pnCount)
        *pnCount = n;
    return PA_OK;
}

static json_t *hex_json(const uint8_t *p)
{
    char z[65];
    sodium_bin2hex(z, sizeof z, p, 32);
    return json_string(z);
}

static int export_visit(const struct entry *e, const uint8_t aHash[32], void *ctx)
{
    json_t *pRow = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:o, s:o}", "seq",
                             (json_int_t)e->seq, "task_id", e->zTask, "batch", e->zBatch,
                             "mechanism", e->zMech, "param", e->zParam, "unit", e->zUnit, "charge",
                             e->charge, "total", e->total, "budget", e->budget, "time",
                             (json_int_t)e->tUnix, "prev_hash", hex_json(e->aPrev), "hash",
                             hex_json(aHash));
    if (pRow == NULL || json_array_append_new((json_t *)ctx, pRow) != 0)
        return pa_fail(PA_ENOMEM, "ledger export: entry %lld", (long long)e->seq);
    return PA_OK;
}

int pa_dp_ledger_export_json(sqlite3 *pDb, char **pzJson)
{
    json_t *pArr, *pDoc;
    uint8_t aHead[32];
    int64_t n;
    int rc;
    if (pDb == NULL || pzJson == NULL)
        return pa_fail(PA_EINVAL, "ledger export: NULL argument");
    *pzJson = NULL;
    pArr = json_array();
    if (pArr == NULL)
        return pa_fail(PA_ENOMEM, "ledger export");
    if ((rc = walk(pDb, export_visit, pArr, aHead, &n)) != PA_OK) {
        json_decref(pArr);
        return rc;
    }
    pDoc = json_pack("{s:s, s:s, s:I, s:o, s:o}", "format", LEDGER_TAG, "hash",
                     "sha256 of the canonical encoding, see docs/dp.md", "count", (json_int_t)n,
                     "head", hex_json(aHead), "entries", pArr);
    if (pDoc == NULL)
        return pa_fail(PA_ENOMEM, "ledger export");
    *pzJson = json_dumps(pDoc, JSON_REAL_PRECISION(17) | JSON_INDENT(2));
    json_decref(pDoc);
    return *pzJson ? PA_OK : pa_fail(PA_ENOMEM, "ledger export: dump");
}
