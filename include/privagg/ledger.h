/*
 * privagg ledger — the append-only privacy ledger of one aggregator, kept in its
 * store (table dp_ledger, reached through pa_store_ledger_*).  Every release is charged here before its noise
 * is added: the budget check and the append are one transaction, and each entry
 * carries the SHA-256 of the previous entry, so that a modified, removed or
 * reordered entry is detected by pa_dp_ledger_verify.  See docs/dp.md.
 */
#ifndef PRIVAGG_LEDGER_H
#define PRIVAGG_LEDGER_H

#include <stdint.h>

#include "privagg/dp.h"
#include "privagg/store.h"

/* The unit a task's total budget is stated in. */
enum pa_dp_budget_unit {
    PA_DP_UNIT_RHO = 1, /* zCDP rho; Laplace releases are charged eps^2/2 (Bun-Steinke Prop. 1.4) */
    PA_DP_UNIT_EPS = 2  /* pure eps; only Laplace releases can be charged */
};

/* The partition name of a statewide release (it charges every partition's cell). */
#define PA_DP_LEDGER_STATE "state"

/*
 * One release to charge: the batch (zPeriod, zPartition) of a task.  The privacy
 * unit is one record, which lies in exactly one period and one partition, so the
 * budget is kept per lattice cell (period, partition): a partition release charges
 * its own cell, a statewide release (zPartition "state") every partition's cell
 * of its period (docs/dp.md, "Accounting by partition").
 */
typedef struct {
    const char *zTaskId;          /* MUST be non-empty */
    const char *zPeriod;          /* MUST be non-empty, e.g. "2026-10" */
    const char *zPartition;       /* MUST be non-empty: "state" or a partition name */
    int mechanism;                /* PA_DP_GAUSSIAN or PA_DP_LAPLACE */
    pa_dp_rational param;         /* sigma2 or scale */
    pa_dp_sensitivity sensitivity;/* from the task's contribution bounds */
    int64_t tUnix;                /* time of the release (seconds; injected clock) */
} pa_dp_ledger_release;

/* The budget per record (= per lattice cell) and the unit it is stated in. */
typedef struct {
    int unit;                     /* enum pa_dp_budget_unit */
    double total;                 /* > 0: the budget of each lattice cell */
} pa_dp_budget;

/* Relative tolerance of the budget comparison (docs/dp.md, "Ledger"). */
#define PA_DP_LEDGER_TOLERANCE 1e-12

/*
 * Create the table if it is missing, and upgrade a table of ledger format v1 (no
 * level, period, partition columns) by ALTER TABLE ADD COLUMN; v1 entries keep
 * verifying as v1.  pStore is the caller's open store (nothing is done on a
 * read-only one).
 */
int pa_dp_ledger_init(pa_store *pStore);

/*
 * Charge one release against the task's budget per record, in one transaction
 * (pa_store_begin, or a savepoint if the caller already holds a transaction).
 * With S = the period's statewide charges and P[x] = partition x's charges (summed
 * in sequence order), a partition release of c is allowed iff S + P[x] + c <= B,
 * a statewide release iff S + c + max_x P[x] <= B (relative tolerance
 * PA_DP_LEDGER_TOLERANCE).  Otherwise PA_EBUDGET, nothing written, with the
 * message "privacy budget: partition 29095, period 2026-10 has spent 1.0 of 1.0
 * rho; this release asks 0.5" (a statewide release names the most-spent
 * partition, or "statewide batch, period ..." when no partition was charged).
 * On success *pCharge and *pTotal (either may be NULL) receive the amount charged
 * and the new spend of the most-charged cell the release touched.
 */
int pa_dp_ledger_charge(pa_store *pStore, const pa_dp_ledger_release *pRel, const pa_dp_budget *pBudget,
                        double *pCharge, double *pTotal);

/*
 * The task's spend per lattice cell, from its v2 entries: for each period, one
 * call per partition released on its own (spent = S[p] + P[p][x]) and, when the
 * period had a statewide release, one call with zPartition "state" and spent =
 * S[p] (the spend of every partition of the period not released on its own).
 * Periods and partitions in sorted order.  A non-zero return of xCell stops the
 * walk and is returned.
 */
typedef int (*pa_dp_ledger_cell_fn)(void *pCtx, const char *zPeriod, const char *zPartition,
                                    double rSpent);
int pa_dp_ledger_cells(pa_store *pStore, const char *zTaskId, pa_dp_ledger_cell_fn xCell, void *pCtx);

/*
 * The most any record of the task has lost: the maximum spend over the lattice
 * cells (0 for a task without entries; for v1 entries, the task's running total).
 */
int pa_dp_ledger_max_spent(pa_store *pStore, const char *zTaskId, double *pMax);

/*
 * Walk the whole ledger: contiguous sequence numbers from 1, each hash recomputed
 * from the entry's canonical encoding (v1 or v2), each prev_hash equal to the
 * previous hash, the per-cell totals of v2 entries (and the running totals of v1
 * entries) recomputed bit for bit and within their budgets.  PA_ETAMPER names the first
 * entry that fails.  Removing the LAST entries leaves a valid shorter chain: pass
 * an anchor published earlier (a release manifest, the other aggregator, the
 * auditor) to detect that: pAnchorHash is the hash of entry nAnchorIndex (1-based;
 * an earlier entry is fine, later entries may have been appended since), or of
 * any entry when nAnchorIndex < 0; nAnchorIndex alone (pAnchorHash NULL) only
 * requires at least that many entries.  NULL / -1 skip the anchor.  Index 0 is the
 * empty ledger (its hash is 32 zero bytes).  aHeadOut (may be NULL) receives the
 * head hash (zeros for an empty ledger), *pnCount the entry count.
 */
int pa_dp_ledger_verify(pa_store *pStore, const uint8_t *pAnchorHash, int64_t nAnchorIndex,
                        uint8_t aHeadOut[32], int64_t *pnCount);

/*
 * An exported ledger (pa_dp_ledger_export_json's format) loaded into a new
 * in-memory store (*ppStore, closed with pa_store_close) and verified as
 * pa_dp_ledger_verify does, with the anchor as there; the export's count, head
 * and cells must equal the ones recomputed from its entries.  So an auditor
 * verifies a ledger without the aggregator's store, which also holds shares.
 * Errors: PA_EDECODE (not the format, a field missing or of the wrong type,
 * naming it), PA_ETAMPER (as pa_dp_ledger_verify, or count/head/cells that do not
 * match the entries), PA_ENOMEM, PA_ESTORE.
 */
int pa_dp_ledger_open_json(pa_store **ppStore, const char *zJson, size_t nJson,
                           const uint8_t *pAnchorHash, int64_t nAnchorIndex,
                           uint8_t aHeadOut[32], int64_t *pnCount);

/* The ledger as JSON (format "privagg-dp-ledger-v2": entries and the per-cell
 * totals); *pzJson is freed with free(). */
int pa_dp_ledger_export_json(pa_store *pStore, char **pzJson);

#endif
