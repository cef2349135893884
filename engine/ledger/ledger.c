/*
 * The privacy ledger (include/privagg/ledger.h): an append-only, hash-chained table
 * in the aggregator's store, charged per lattice cell (period, partition).  This
 * file holds the rules (encoding, hash chain, cells, budget); the rows are moved
 * by the store (pa_store_ledger_*, engine/store/ledger_store.c).
 *
 * Entry hash (v2) = SHA-256 (libsodium crypto_hash_sha256) of the canonical encoding
 *   "privagg-dp-ledger-v2" || u64 seq || str task_id || str batch || str level ||
 *   str period || str partition || str mechanism || str param || str unit ||
 *   f64 charge || f64 total || f64 budget || i64 time || prev_hash[32]
 * with integers big-endian, f64 as the big-endian IEEE-754 bits and str as a u32
 * big-endian length followed by the bytes.  Entries written before the upgrade
 * (no period) keep their v1 encoding ("privagg-dp-ledger-v1", without level,
 * period and partition) and their task-wide running total.  The first entry's
 * prev_hash is 32 zero bytes.
 *
 * Per task and period the ledger keeps S (the statewide charges) and P[x] (the
 * charges of partition x), summed in sequence order by the same function,
 * cell_release, in charge and in verify, so verify recomputes every entry's total
 * bit for bit.  Budget comparisons allow a relative tolerance of
 * PA_DP_LEDGER_TOLERANCE (1e-12) so that e.g. ten charges of 0.1 fit a budget of 1
 * (docs/dp.md explains why doubles and not rationals).
 */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/dp.h"
#include "privagg/ledger.h"
#include "privagg/store.h"
#include "json/json_load.h"

#define LEDGER_TAG_V1 "privagg-dp-ledger-v1"
#define LEDGER_TAG "privagg-dp-ledger-v2"

struct entry {
    int64_t seq;
    const char *zTask, *zBatch, *zMech, *zParam, *zUnit;
    const char *zLevel, *zPeriod, *zPartition;   /* NULL for a v1 entry */
    double charge, total, budget;
    int64_t tUnix;
    uint8_t aPrev[32];
};

int pa_dp_ledger_init(pa_store *pStore)
{
    return pa_store_ledger_init(pStore);
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
    if (e->zPeriod == NULL)
        crypto_hash_sha256_update(&st, (const uint8_t *)LEDGER_TAG_V1, sizeof LEDGER_TAG_V1 - 1);
    else
        crypto_hash_sha256_update(&st, (const uint8_t *)LEDGER_TAG, sizeof LEDGER_TAG - 1);
    put_u64(&st, (uint64_t)e->seq);
    put_str(&st, e->zTask);
    put_str(&st, e->zBatch);
    if (e->zPeriod != NULL) {
        put_str(&st, e->zLevel);
        put_str(&st, e->zPeriod);
        put_str(&st, e->zPartition);
    }
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

/* ---- the lattice: S[p] and P[p][x] per task and period ---------------------- */

typedef struct {
    char *zPartition;
    double rSpent;             /* P[p][x]: the partition's own charges */
} cell;

typedef struct {
    char *zTask, *zPeriod;
    double rState;             /* S[p]: the statewide charges */
    int bState;                /* a statewide release was charged */
    cell *aCell;
    size_t nCell;
} period_cells;

typedef struct {
    period_cells *a;
    size_t n;
} lattice;

static void lattice_free(lattice *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = 0; j < l->a[i].nCell; j++)
            free(l->a[i].aCell[j].zPartition);
        free(l->a[i].aCell);
        free(l->a[i].zTask);
        free(l->a[i].zPeriod);
    }
    free(l->a);
    l->a = NULL;
    l->n = 0;
}

static period_cells *lattice_period(lattice *l, const char *zTask, const char *zPeriod)
{
    period_cells *p;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->a[i].zPeriod, zPeriod) == 0 && strcmp(l->a[i].zTask, zTask) == 0)
            return &l->a[i];
    p = realloc(l->a, (l->n + 1) * sizeof *l->a);
    if (p == NULL)
        return NULL;
    l->a = p;
    p = &l->a[l->n];
    memset(p, 0, sizeof *p);
    p->zTask = strdup(zTask);
    p->zPeriod = strdup(zPeriod);
    if (p->zTask == NULL || p->zPeriod == NULL) {
        free(p->zTask);
        free(p->zPeriod);
        return NULL;
    }
    l->n++;
    return p;
}

static cell *period_cell(period_cells *p, const char *zPartition)
{
    cell *c;
    for (size_t i = 0; i < p->nCell; i++)
        if (strcmp(p->aCell[i].zPartition, zPartition) == 0)
            return &p->aCell[i];
    c = realloc(p->aCell, (p->nCell + 1) * sizeof *p->aCell);
    if (c == NULL)
        return NULL;
    p->aCell = c;
    c = &p->aCell[p->nCell];
    c->rSpent = 0;
    if ((c->zPartition = strdup(zPartition)) == NULL)
        return NULL;
    p->nCell++;
    return c;
}

/* The partition with the largest own charges (first in sequence order on ties), or NULL. */
static const cell *most_charged(const period_cells *p)
{
    const cell *pMost = NULL;
    for (size_t i = 0; i < p->nCell; i++)
        if (pMost == NULL || p->aCell[i].rSpent > pMost->rSpent)
            pMost = &p->aCell[i];
    return pMost;
}

/*
 * Apply one release of rCharge to its period: the one arithmetic of charge and
 * verify.  *pBefore: what the most-charged touched cell had spent; *pTotal: its new
 * spend; *pzCell: that cell's partition (NULL: a statewide release with no
 * partition charged yet).  A partition release's cell is S + (P[x] + c); a
 * statewide release's most-charged cell is (S + c) + max_x P[x].
 */
static int cell_release(period_cells *p, const char *zPartition, double rCharge, double *pBefore,
                        double *pTotal, const char **pzCell)
{
    if (strcmp(zPartition, PA_DP_LEDGER_STATE) == 0) {
        const cell *pMost = most_charged(p);
        double rMax = pMost ? pMost->rSpent : 0;
        *pBefore = p->rState + rMax;
        p->rState = p->rState + rCharge;
        p->bState = 1;
        *pTotal = p->rState + rMax;
        *pzCell = pMost ? pMost->zPartition : NULL;
        return PA_OK;
    }
    cell *c = period_cell(p, zPartition);
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "ledger: cells of period %s", p->zPeriod);
    *pBefore = p->rState + c->rSpent;
    c->rSpent = c->rSpent + rCharge;
    *pTotal = p->rState + c->rSpent;
    *pzCell = c->zPartition;
    return PA_OK;
}

/* "1.0", "0.5", "0.05": %.10g with a ".0" where it would print an integer */
static void fmt_amount(char *z, size_t n, double r)
{
    int k = snprintf(z, n, "%.10g", r);
    if (k > 0 && strpbrk(z, ".eni") == NULL && (size_t)k + 3 <= n)
        snprintf(z + k, n - (size_t)k, ".0");
}

/* S and P of one task and period from its entries, in sequence order */
static int period_row(void *pCtx, const char *zPartition, double rCharge)
{
    double rBefore, rTotal;
    const char *zCell;
    return cell_release(pCtx, zPartition, rCharge, &rBefore, &rTotal, &zCell);
}

static int insert_entry(pa_store *pStore, const struct entry *e, const uint8_t aHash[32])
{
    pa_store_ledger_row r;
    memset(&r, 0, sizeof r);
    r.iSeq = e->seq;
    r.zTaskId = e->zTask;
    r.zBatch = e->zBatch;
    r.zMechanism = e->zMech;
    r.zParam = e->zParam;
    r.zUnit = e->zUnit;
    r.zLevel = e->zLevel;
    r.zPeriod = e->zPeriod;
    r.zPartition = e->zPartition;
    r.rCharge = e->charge;
    r.rTotal = e->total;
    r.rBudget = e->budget;
    r.tCreated = e->tUnix;
    r.pPrevHash = e->aPrev;
    r.nPrevHash = 32;
    r.pHash = aHash;
    r.nHash = 32;
    return pa_store_ledger_append(pStore, &r);
}

/* the refusal: which cell, what it has spent, the budget, the ask */
static int refuse(const pa_dp_ledger_release *r, const pa_dp_budget *b, const char *zCell,
                  double rBefore, double rCharge)
{
    char zSpent[32], zBudget[32], zAsk[32];
    const char *zUnit = b->unit == PA_DP_UNIT_RHO ? "rho" : "epsilon";
    fmt_amount(zSpent, sizeof zSpent, rBefore);
    fmt_amount(zBudget, sizeof zBudget, b->total);
    fmt_amount(zAsk, sizeof zAsk, rCharge);
    if (zCell == NULL)
        return pa_fail(PA_EBUDGET, "privacy budget: statewide batch, period %s has spent %s of %s %s; "
                                   "this release asks %s", r->zPeriod, zSpent, zBudget, zUnit, zAsk);
    return pa_fail(PA_EBUDGET, "privacy budget: partition %s, period %s has spent %s of %s %s; this "
                               "release asks %s", zCell, r->zPeriod, zSpent, zBudget, zUnit, zAsk);
}

int pa_dp_ledger_charge(pa_store *pStore, const pa_dp_ledger_release *pRel, const pa_dp_budget *pBudget,
                        double *pCharge, double *pTotal)
{
    struct entry e;
    char zParam[64], zBatch[160];
    uint8_t aHash[32];
    double charge, rBefore = 0, rTotal = 0;
    const char *zCell = NULL;
    period_cells pc;
    int bSavepoint, rc;

    if (pStore == NULL || pRel == NULL || pBudget == NULL)
        return pa_fail(PA_EINVAL, "ledger charge: NULL argument");
    if (pRel->zTaskId == NULL || pRel->zTaskId[0] == '\0' || pRel->zPeriod == NULL ||
        pRel->zPeriod[0] == '\0' || pRel->zPartition == NULL || pRel->zPartition[0] == '\0')
        return pa_fail(PA_EINVAL, "ledger charge: task id, period and partition must be non-empty");
    if (strlen(pRel->zPeriod) + strlen(pRel->zPartition) + 2 > sizeof zBatch)
        return pa_fail(PA_EINVAL, "ledger charge: period and partition longer than %zu bytes",
                       sizeof zBatch - 2);
    if (pBudget->unit != PA_DP_UNIT_RHO && pBudget->unit != PA_DP_UNIT_EPS)
        return pa_fail(PA_EINVAL, "ledger charge: budget unit %d", pBudget->unit);
    if (!(pBudget->total > 0) || !isfinite(pBudget->total))
        return pa_fail(PA_EINVAL, "ledger charge: budget per record %g must be finite and > 0",
                       pBudget->total);
    if ((rc = release_charge(pRel, pBudget->unit, &charge)) != PA_OK)
        return rc;
    if (!(charge > 0) || !isfinite(charge))
        return pa_fail(PA_EINVAL, "ledger charge: charge %g must be finite and > 0", charge);
    if ((rc = pa_dp_rational_format(pRel->param, zParam, sizeof zParam)) != PA_OK)
        return rc;
    if ((rc = pa_dp_ledger_init(pStore)) != PA_OK)
        return rc;
    snprintf(zBatch, sizeof zBatch, "%s/%s", pRel->zPeriod, pRel->zPartition);

    bSavepoint = pa_store_in_txn(pStore);
    if ((rc = bSavepoint ? pa_store_savepoint(pStore) : pa_store_begin(pStore)) != PA_OK)
        return rc;
    memset(&e, 0, sizeof e);
    memset(&pc, 0, sizeof pc);
    pc.zPeriod = (char *)pRel->zPeriod;
    rc = pa_store_ledger_head(pStore, &e.seq, e.aPrev);
    if (rc == PA_OK)
        rc = pa_store_ledger_period(pStore, pRel->zTaskId, pRel->zPeriod, period_row, &pc);
    if (rc == PA_OK)
        rc = cell_release(&pc, pRel->zPartition, charge, &rBefore, &rTotal, &zCell);
    if (rc == PA_OK && !within_budget(rTotal, pBudget->total))
        rc = refuse(pRel, pBudget, zCell, rBefore, charge);
    if (rc == PA_OK) {
        e.seq += 1;
        e.zTask = pRel->zTaskId;
        e.zBatch = zBatch;
        e.zLevel = strcmp(pRel->zPartition, PA_DP_LEDGER_STATE) == 0 ? "state" : "partition";
        e.zPeriod = pRel->zPeriod;
        e.zPartition = pRel->zPartition;
        e.zMech = pRel->mechanism == PA_DP_GAUSSIAN ? "discrete_gaussian" : "discrete_laplace";
        e.zParam = zParam;
        e.zUnit = pBudget->unit == PA_DP_UNIT_RHO ? "rho" : "eps";
        e.charge = charge;
        e.total = rTotal;
        e.budget = pBudget->total;
        e.tUnix = pRel->tUnix;
        entry_hash(&e, aHash);
        rc = insert_entry(pStore, &e, aHash);
    }
    for (size_t i = 0; i < pc.nCell; i++)
        free(pc.aCell[i].zPartition);
    free(pc.aCell);
    if (rc == PA_OK)
        rc = bSavepoint ? pa_store_savepoint_release(pStore) : pa_store_commit(pStore);
    if (rc != PA_OK) {
        /* keep the failure message: rollback errors are secondary */
        if (bSavepoint)
            (void)pa_store_savepoint_rollback(pStore);
        else
            pa_store_rollback(pStore);
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

typedef int (*entry_visitor)(const struct entry *e, const uint8_t aHash[32], void *ctx);

/* v1 entry: the task-wide running total */
static int check_v1(const struct entry *e, struct task_total **paTot, size_t *pnTot)
{
    size_t iTot;
    for (iTot = 0; iTot < *pnTot; iTot++)
        if (strcmp((*paTot)[iTot].zTask, e->zTask) == 0)
            break;
    if (iTot == *pnTot) {
        struct task_total *p = realloc(*paTot, (*pnTot + 1) * sizeof **paTot);
        if (p == NULL)
            return pa_fail(PA_ENOMEM, "ledger verify: %zu tasks", *pnTot + 1);
        *paTot = p;
        if ((p[*pnTot].zTask = strdup(e->zTask)) == NULL)
            return pa_fail(PA_ENOMEM, "ledger verify: %zu tasks", *pnTot + 1);
        p[(*pnTot)++].total = 0;
    }
    double prevTotal = (*paTot)[iTot].total;
    if (e->total != prevTotal + e->charge || !within_budget(e->total, e->budget))
        return pa_fail(PA_ETAMPER, "ledger entry %lld: running total %.17g is not %.17g + %.17g "
                                   "within budget %.17g", (long long)e->seq, e->total, prevTotal,
                       e->charge, e->budget);
    (*paTot)[iTot].total = e->total;
    return PA_OK;
}

/* v2 entry: the per-cell totals of its period */
static int check_v2(const struct entry *e, lattice *l)
{
    period_cells *p;
    double rBefore, rTotal;
    const char *zCell;
    int bState = strcmp(e->zPartition, PA_DP_LEDGER_STATE) == 0;

    if (e->zLevel == NULL || e->zPartition == NULL || e->zPeriod[0] == '\0' || e->zPartition[0] == '\0' ||
        strcmp(e->zLevel, bState ? "state" : "partition") != 0)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: level \"%s\" does not match partition \"%s\"",
                       (long long)e->seq, e->zLevel ? e->zLevel : "", e->zPartition ? e->zPartition : "");
    if (!(e->charge > 0))
        return pa_fail(PA_ETAMPER, "ledger entry %lld: charge %.17g is not positive", (long long)e->seq,
                       e->charge);
    if ((p = lattice_period(l, e->zTask, e->zPeriod)) == NULL)
        return pa_fail(PA_ENOMEM, "ledger verify: periods");
    PA_GUARD(cell_release(p, e->zPartition, e->charge, &rBefore, &rTotal, &zCell));
    if (e->total != rTotal || !within_budget(e->total, e->budget))
        return pa_fail(PA_ETAMPER, "ledger entry %lld: cell total %.17g of period %s (%s %s) is not "
                                   "the recomputed %.17g within budget %.17g", (long long)e->seq,
                       e->total, e->zPeriod, zCell ? "partition" : "statewide",
                       zCell ? zCell : "batch", rTotal, e->budget);
    return PA_OK;
}

/* The state of a walk over the ledger. */
typedef struct {
    entry_visitor visit;
    void *ctx;
    struct task_total *aTot;
    size_t nTot;
    lattice lat;
    uint8_t aPrev[32];
    int64_t n;
} walker;

static int walk_row(void *pCtx, const pa_store_ledger_row *r)
{
    walker *w = pCtx;
    struct entry e;
    uint8_t aWant[32];
    int64_t n = ++w->n;

    memset(&e, 0, sizeof e);
    e.seq = r->iSeq;
    e.zTask = r->zTaskId;
    e.zBatch = r->zBatch;
    e.zMech = r->zMechanism;
    e.zParam = r->zParam;
    e.zUnit = r->zUnit;
    e.charge = r->rCharge;
    e.total = r->rTotal;
    e.budget = r->rBudget;
    e.tUnix = r->tCreated;
    e.zLevel = r->zLevel;
    e.zPeriod = r->zPeriod;
    e.zPartition = r->zPartition;
    if (e.seq != n)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: expected sequence number %lld (an entry "
                                   "was removed or reordered)", (long long)e.seq, (long long)n);
    if (r->nPrevHash != 32 || r->nHash != 32)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: hash fields are not 32 bytes", (long long)n);
    memcpy(e.aPrev, r->pPrevHash, 32);
    if (sodium_memcmp(e.aPrev, w->aPrev, 32) != 0)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: prev_hash does not match entry %lld "
                                   "(removed or reordered)", (long long)n, (long long)(n - 1));
    if (e.zPeriod == NULL && (e.zLevel != NULL || e.zPartition != NULL))
        return pa_fail(PA_ETAMPER, "ledger entry %lld: level or partition without a period",
                       (long long)n);
    entry_hash(&e, aWant);
    if (sodium_memcmp(aWant, r->pHash, 32) != 0)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: hash does not match its contents (modified)",
                       (long long)n);
    PA_GUARD(e.zPeriod == NULL ? check_v1(&e, &w->aTot, &w->nTot) : check_v2(&e, &w->lat));
    memcpy(w->aPrev, aWant, 32);
    return w->visit != NULL ? w->visit(&e, aWant, w->ctx) : PA_OK;
}

/* Walk the ledger in seq order, checking every link and total; call visit on each
 * entry; *pLattice (may be NULL) receives the per-cell totals of the v2 entries. */
static int walk(pa_store *pStore, entry_visitor visit, void *ctx, uint8_t aHead[32], int64_t *pnCount,
                lattice *pLattice)
{
    walker w;
    int rc;

    if ((rc = pa_dp_ledger_init(pStore)) != PA_OK)
        return rc;
    memset(&w, 0, sizeof w);
    w.visit = visit;
    w.ctx = ctx;
    rc = pa_store_ledger_each(pStore, walk_row, &w);
    for (size_t i = 0; i < w.nTot; i++)
        free(w.aTot[i].zTask);
    free(w.aTot);
    if (rc == PA_OK) {
        if (aHead)
            memcpy(aHead, w.aPrev, 32);
        if (pnCount)
            *pnCount = w.n;
    }
    if (rc == PA_OK && pLattice != NULL)
        *pLattice = w.lat;
    else
        lattice_free(&w.lat);
    return rc;
}

/* The anchor an earlier reader recorded: the entry at index nIndex (when >= 1)
 * or any entry (nIndex < 0) must carry this hash. */
typedef struct {
    const uint8_t *pHash;
    int64_t nIndex;
    int bFound;
} anchor_check;

static int anchor_visit(const struct entry *e, const uint8_t aHash[32], void *ctx)
{
    anchor_check *a = ctx;
    if (a->pHash == NULL || a->bFound)
        return PA_OK;
    if (a->nIndex >= 1 && e->seq != a->nIndex)
        return PA_OK;
    if (sodium_memcmp(aHash, a->pHash, 32) == 0)
        a->bFound = 1;
    else if (a->nIndex >= 1)
        return pa_fail(PA_ETAMPER, "ledger entry %lld: its hash differs from the anchor (the entry or "
                                   "one before it was modified or removed)", (long long)e->seq);
    return PA_OK;
}

int pa_dp_ledger_verify(pa_store *pStore, const uint8_t *pAnchorHash, int64_t nAnchorIndex,
                        uint8_t aHeadOut[32], int64_t *pnCount)
{
    static const uint8_t aZero[32] = {0};
    anchor_check a = {pAnchorHash, nAnchorIndex, 0};
    uint8_t aHead[32];
    int64_t n;
    int rc;
    if (pStore == NULL)
        return pa_fail(PA_EINVAL, "ledger verify: no store");
    if (nAnchorIndex == 0 && pAnchorHash != NULL && sodium_memcmp(pAnchorHash, aZero, 32) != 0)
        return pa_fail(PA_EINVAL, "ledger verify: an anchor at index 0 (the empty ledger) has the zero hash");
    if ((rc = walk(pStore, anchor_visit, &a, aHead, &n, NULL)) != PA_OK)
        return rc;
    if (nAnchorIndex >= 0 && n < nAnchorIndex)
        return pa_fail(PA_ETAMPER, "ledger: %lld entries, but the anchor names entry %lld (entries were "
                                   "removed)", (long long)n, (long long)nAnchorIndex);
    if (pAnchorHash != NULL && nAnchorIndex != 0 && !a.bFound)
        return pa_fail(PA_ETAMPER, "ledger: no entry has the anchor's hash (the anchored entry was "
                                   "modified or removed)");
    if (aHeadOut)
        memcpy(aHeadOut, aHead, 32);
    if (pnCount)
        *pnCount = n;
    return PA_OK;
}

static int cmp_period(const void *a, const void *b)
{
    const period_cells *x = a, *y = b;
    int c = strcmp(x->zTask, y->zTask);
    return c ? c : strcmp(x->zPeriod, y->zPeriod);
}

static int cmp_cell(const void *a, const void *b)
{
    return strcmp(((const cell *)a)->zPartition, ((const cell *)b)->zPartition);
}

/* the verified lattice, sorted by task, period and partition */
static int sorted_lattice(pa_store *pStore, lattice *l)
{
    PA_GUARD(walk(pStore, NULL, NULL, NULL, NULL, l));
    if (l->n > 1)
        qsort(l->a, l->n, sizeof *l->a, cmp_period);
    for (size_t i = 0; i < l->n; i++)
        if (l->a[i].nCell > 1)
            qsort(l->a[i].aCell, l->a[i].nCell, sizeof *l->a[i].aCell, cmp_cell);
    return PA_OK;
}

/* the cells of one period: (partition, S + P[x]) for each partition, then ("state", S) */
static int period_visit(const period_cells *p, pa_dp_ledger_cell_fn xCell, void *pCtx)
{
    int rc;
    for (size_t j = 0; j < p->nCell; j++)
        if ((rc = xCell(pCtx, p->zPeriod, p->aCell[j].zPartition, p->rState + p->aCell[j].rSpent)) != 0)
            return rc;
    return p->bState ? xCell(pCtx, p->zPeriod, PA_DP_LEDGER_STATE, p->rState) : 0;
}

int pa_dp_ledger_cells(pa_store *pStore, const char *zTaskId, pa_dp_ledger_cell_fn xCell, void *pCtx)
{
    lattice l = {NULL, 0};
    int rc;
    if (pStore == NULL || zTaskId == NULL || xCell == NULL)
        return pa_fail(PA_EINVAL, "ledger cells: NULL argument");
    if ((rc = sorted_lattice(pStore, &l)) != PA_OK)
        return rc;
    for (size_t i = 0; i < l.n && rc == PA_OK; i++)
        if (strcmp(l.a[i].zTask, zTaskId) == 0)
            rc = period_visit(&l.a[i], xCell, pCtx);
    lattice_free(&l);
    return rc;
}

static int max_visit(void *pCtx, const char *zPeriod, const char *zPartition, double rSpent)
{
    (void)zPeriod;
    (void)zPartition;
    if (rSpent > *(double *)pCtx)
        *(double *)pCtx = rSpent;
    return 0;
}

int pa_dp_ledger_max_spent(pa_store *pStore, const char *zTaskId, double *pMax)
{
    double rV1;
    int rc, bAny;
    if (pStore == NULL || zTaskId == NULL || pMax == NULL)
        return pa_fail(PA_EINVAL, "ledger max spent: NULL argument");
    *pMax = 0;
    if ((rc = pa_dp_ledger_cells(pStore, zTaskId, max_visit, pMax)) != PA_OK)
        return rc;
    /* v1 entries of the task: their (verified) running total */
    PA_GUARD(pa_store_ledger_v1_max(pStore, zTaskId, &rV1, &bAny));
    if (bAny && rV1 > *pMax)
        *pMax = rV1;
    return PA_OK;
}

static json_t *hex_json(const uint8_t *p)
{
    char z[65];
    sodium_bin2hex(z, sizeof z, p, 32);
    return json_string(z);
}

static json_t *str_or_null(const char *z)
{
    return z ? json_string(z) : json_null();
}

static int export_visit(const struct entry *e, const uint8_t aHash[32], void *ctx)
{
    json_t *pRow = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:o, s:o}",
                             "seq", (json_int_t)e->seq, "task_id", e->zTask, "batch", e->zBatch,
                             "level", str_or_null(e->zLevel), "period", str_or_null(e->zPeriod),
                             "partition", str_or_null(e->zPartition), "mechanism", e->zMech, "param",
                             e->zParam, "unit", e->zUnit, "charge", e->charge, "total", e->total,
                             "budget", e->budget, "time", (json_int_t)e->tUnix, "prev_hash",
                             hex_json(e->aPrev), "hash", hex_json(aHash));
    if (pRow == NULL || json_array_append_new((json_t *)ctx, pRow) != 0)
        return pa_fail(PA_ENOMEM, "ledger export: entry %lld", (long long)e->seq);
    return PA_OK;
}

typedef struct {
    json_t *pArr;
    const char *zTask;
} cell_export;

static int export_cell(void *pCtx, const char *zPeriod, const char *zPartition, double rSpent)
{
    cell_export *x = pCtx;
    json_t *p = json_pack("{s:s, s:s, s:s, s:f}", "task_id", x->zTask, "period", zPeriod, "partition",
                          zPartition, "spent", rSpent);
    return p == NULL || json_array_append_new(x->pArr, p) != 0 ? PA_ENOMEM : 0;
}

int pa_dp_ledger_export_json(pa_store *pStore, char **pzJson)
{
    json_t *pArr, *pCells, *pDoc;
    lattice l = {NULL, 0};
    uint8_t aHead[32];
    int64_t n;
    int rc = PA_OK;
    if (pStore == NULL || pzJson == NULL)
        return pa_fail(PA_EINVAL, "ledger export: NULL argument");
    *pzJson = NULL;
    pArr = json_array();
    pCells = json_array();
    if (pArr == NULL || pCells == NULL) {
        json_decref(pArr);
        json_decref(pCells);
        return pa_fail(PA_ENOMEM, "ledger export");
    }
    if ((rc = walk(pStore, export_visit, pArr, aHead, &n, &l)) != PA_OK) {
        json_decref(pArr);
        json_decref(pCells);
        return rc;
    }
    if (l.n > 1)
        qsort(l.a, l.n, sizeof *l.a, cmp_period);
    for (size_t i = 0; i < l.n && rc == PA_OK; i++) {
        cell_export x = {pCells, l.a[i].zTask};
        if (l.a[i].nCell > 1)
            qsort(l.a[i].aCell, l.a[i].nCell, sizeof *l.a[i].aCell, cmp_cell);
        if (period_visit(&l.a[i], export_cell, &x) != 0)
            rc = pa_fail(PA_ENOMEM, "ledger export: cells");
    }
    lattice_free(&l);
    if (rc != PA_OK) {
        json_decref(pArr);
        json_decref(pCells);
        return rc;
    }
    pDoc = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "format", LEDGER_TAG, "hash",
                     "sha256 of the canonical encoding, see docs/dp.md", "count", (json_int_t)n,
                     "head", hex_json(aHead), "entries", pArr, "cells", pCells);
    if (pDoc == NULL)
        return pa_fail(PA_ENOMEM, "ledger export");
    *pzJson = pa_json_dumps(pDoc, JSON_REAL_PRECISION(17) | JSON_INDENT(2));
    json_decref(pDoc);
    return *pzJson ? PA_OK : pa_fail(PA_ENOMEM, "ledger export: dump");
}

/* ---- an exported ledger ------------------------------------------------------ */

static int json_hex32(const json_t *o, int64_t seq, const char *zKey, uint8_t a[32])
{
    const char *z = json_string_value(json_object_get(o, zKey));
    if (z == NULL || strlen(z) != 64 || sodium_hex2bin(a, 32, z, 64, NULL, NULL, NULL) != 0)
        return pa_fail(PA_EDECODE, "ledger entries[%lld].%s: not 64 hex digits", (long long)seq, zKey);
    return PA_OK;
}

/* an export holds what export_json writes and nothing else: a member it does
 * not write (not covered by any hash) is refused, not silently ignored */
static const char *const k_azEntryKeys[] = {"seq", "task_id", "batch", "level", "period", "partition",
                                            "mechanism", "param", "unit", "charge", "total", "budget",
                                            "time", "prev_hash", "hash", NULL};
static const char *const k_azDocKeys[] = {"format", "hash", "count", "head", "entries", "cells", NULL};

static int only_members(const json_t *o, const char *const *azKeys, const char *zWhere)
{
    const char *zKey;
    json_t *v;
    json_object_foreach((json_t *)o, zKey, v) {
        size_t k;
        for (k = 0; azKeys[k] != NULL && strcmp(azKeys[k], zKey) != 0; k++)
            ;
        if (azKeys[k] == NULL)
            return pa_fail(PA_EDECODE, "%s: unknown member \"%s\" (an export holds only what privagg "
                                       "ledger export writes)", zWhere, zKey);
    }
    return PA_OK;
}

/* a string field of an exported entry (no NUL inside: the row stores C strings) */
static int json_text(const json_t *o, size_t i, const char *zKey, int bOptional, const char **pz)
{
    json_t *v = json_object_get(o, zKey);
    *pz = NULL;
    if (bOptional && (v == NULL || json_is_null(v)))
        return PA_OK;
    if (!json_is_string(v))
        return pa_fail(PA_EDECODE, "ledger entries[%zu].%s: missing or not a string%s", i, zKey,
                       bOptional ? " or null" : "");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return pa_fail(PA_EDECODE, "ledger entries[%zu].%s: contains a NUL character", i, zKey);
    *pz = json_string_value(v);
    return PA_OK;
}

/* one exported entry into the in-memory store, with its stored hashes (walk checks them) */
static int import_entry(pa_store *pStore, const json_t *o, size_t i)
{
    static const char *const azReal[] = {"charge", "total", "budget"};
    double arReal[3];
    uint8_t aPrev[32], aHash[32];
    pa_store_ledger_row r;
    json_t *v;
    char zWhere[48];
    int rc;

    if (!json_is_object(o))
        return pa_fail(PA_EDECODE, "ledger entries[%zu]: not an object", i);
    snprintf(zWhere, sizeof zWhere, "ledger entries[%zu]", i);
    PA_GUARD(only_members(o, k_azEntryKeys, zWhere));
    memset(&r, 0, sizeof r);
    if (!json_is_integer(v = json_object_get(o, "seq")))
        return pa_fail(PA_EDECODE, "ledger entries[%zu].seq: missing or not an integer", i);
    r.iSeq = json_integer_value(v);
    PA_GUARD(json_text(o, i, "task_id", 0, &r.zTaskId));
    PA_GUARD(json_text(o, i, "batch", 0, &r.zBatch));
    PA_GUARD(json_text(o, i, "mechanism", 0, &r.zMechanism));
    PA_GUARD(json_text(o, i, "param", 0, &r.zParam));
    PA_GUARD(json_text(o, i, "unit", 0, &r.zUnit));
    for (size_t k = 0; k < 3; k++) {
        if (!json_is_number(v = json_object_get(o, azReal[k])))
            return pa_fail(PA_EDECODE, "ledger entries[%zu].%s: missing or not a number", i, azReal[k]);
        arReal[k] = json_number_value(v);
    }
    r.rCharge = arReal[0];
    r.rTotal = arReal[1];
    r.rBudget = arReal[2];
    if (!json_is_integer(v = json_object_get(o, "time")))
        return pa_fail(PA_EDECODE, "ledger entries[%zu].time: missing or not an integer", i);
    r.tCreated = json_integer_value(v);
    PA_GUARD(json_hex32(o, (int64_t)i, "prev_hash", aPrev));
    PA_GUARD(json_hex32(o, (int64_t)i, "hash", aHash));
    r.pPrevHash = aPrev;
    r.nPrevHash = 32;
    r.pHash = aHash;
    r.nHash = 32;
    PA_GUARD(json_text(o, i, "level", 1, &r.zLevel));
    PA_GUARD(json_text(o, i, "period", 1, &r.zPeriod));
    PA_GUARD(json_text(o, i, "partition", 1, &r.zPartition));
    rc = pa_store_ledger_append(pStore, &r);
    if (rc == PA_ESTORE) {
        char zWhy[256];
        snprintf(zWhy, sizeof zWhy, "%s", pa_error_detail()); /* pa_fail rewrites the detail */
        return pa_fail(PA_ETAMPER, "ledger entries[%zu]: sequence number %lld repeated or invalid (%s)", i,
                       (long long)r.iSeq, zWhy);
    }
    return rc;
}

int pa_dp_ledger_open_json(pa_store **ppStore, const char *zJson, size_t nJson, const uint8_t *pAnchorHash,
                           int64_t nAnchorIndex, uint8_t aHeadOut[32], int64_t *pnCount)
{
    json_error_t err;
    json_t *pDoc = NULL, *pEntries, *pAgain = NULL;
    pa_store *pStore = NULL;
    char *zAgain = NULL;
    uint8_t aHead[32];
    int64_t n = 0;
    int rc = PA_OK;

    if (ppStore == NULL || zJson == NULL)
        return pa_fail(PA_EINVAL, "ledger: NULL argument");
    *ppStore = NULL;
    pDoc = pa_json_loadb(zJson, nJson, JSON_REJECT_DUPLICATES, &err);
    if (pDoc == NULL)
        return pa_fail(pa_json_load_status(&err),
                       "ledger file: line %d: %s", err.line, err.text);
    if (!json_is_string(json_object_get(pDoc, "format")) ||
        strcmp(json_string_value(json_object_get(pDoc, "format")), LEDGER_TAG) != 0)
        rc = pa_fail(PA_EDECODE, "ledger file: format is not \"%s\" (write it with privagg ledger export)",
                     LEDGER_TAG);
    if (rc == PA_OK)
        rc = only_members(pDoc, k_azDocKeys, "ledger file");
    pEntries = json_object_get(pDoc, "entries");
    if (rc == PA_OK && !json_is_array(pEntries))
        rc = pa_fail(PA_EDECODE, "ledger file: entries: missing or not an array");
    if (rc == PA_OK)
        rc = pa_store_open(&pStore, ":memory:");
    if (rc == PA_OK)
        rc = pa_dp_ledger_init(pStore);
    if (rc == PA_OK)
        rc = pa_store_begin(pStore);
    for (size_t i = 0; rc == PA_OK && i < json_array_size(pEntries); i++)
        rc = import_entry(pStore, json_array_get(pEntries, i), i);
    if (rc == PA_OK)
        rc = pa_store_commit(pStore);
    if (rc == PA_OK)
        rc = pa_dp_ledger_verify(pStore, pAnchorHash, nAnchorIndex, aHead, &n);
    /* what the file states beside its entries must be what they give */
    if (rc == PA_OK)
        rc = pa_dp_ledger_export_json(pStore, &zAgain);
    if (rc == PA_OK && (pAgain = json_loads(zAgain, 0, NULL)) == NULL)
        rc = pa_fail(PA_ENOMEM, "ledger file: re-export");
    if (rc == PA_OK && !json_equal(json_object_get(pDoc, "count"), json_object_get(pAgain, "count")))
        rc = pa_fail(PA_ETAMPER, "ledger file: count differs from its %lld entries", (long long)n);
    if (rc == PA_OK && !json_equal(json_object_get(pDoc, "head"), json_object_get(pAgain, "head")))
        rc = pa_fail(PA_ETAMPER, "ledger file: head differs from the hash of its last entry");
    if (rc == PA_OK && !json_equal(json_object_get(pDoc, "cells"), json_object_get(pAgain, "cells")))
        rc = pa_fail(PA_ETAMPER, "ledger file: cells differ from the spend recomputed from its entries");
    json_decref(pAgain);
    free(zAgain);
    json_decref(pDoc);
    if (rc != PA_OK) {
        pa_store_close(pStore);
        return rc;
    }
    if (aHeadOut)
        memcpy(aHeadOut, aHead, 32);
    if (pnCount)
        *pnCount = n;
    *ppStore = pStore;
    return PA_OK;
}
