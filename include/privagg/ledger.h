/*
 * privagg ledger — the append-only privacy ledger of one aggregator, kept in its
 * SQLite store (table dp_ledger).  Every release is charged here before its noise
 * is added: the budget check and the append are one transaction, and each entry
 * carries the SHA-256 of the previous entry, so that a modified, removed or
 * reordered entry is detected by pa_dp_ledger_verify.  See docs/dp.md.
 */
#ifndef PRIVAGG_LEDGER_H
#define PRIVAGG_LEDGER_H

#include <sqlite3.h>
#include <stdint.h>

#include "privagg/dp.h"

/* The unit a task's total budget is stated in. */
enum pa_dp_budget_unit {
    PA_DP_UNIT_RHO = 1, /* zCDP rho; Laplace releases are charged eps^2/2 (Bun-Steinke Prop. 1.4) */
    PA_DP_UNIT_EPS = 2  /* pure eps; only Laplace releases can be charged */
};

/* One release to charge. */
typedef struct {
    const char *zTaskId;          /* MUST be non-empty */
    const char *zBatch;           /* batch identifier (e.g. its interval), non-empty */
    int mechanism;                /* PA_DP_GAUSSIAN or PA_DP_LAPLACE */
    pa_dp_rational param;         /* sigma2 or scale */
    pa_dp_sensitivity sensitivity;/* from the task's contribution bounds */
    int64_t tUnix;                /* time of the release (seconds; injected clock) */
} pa_dp_ledger_release;

/* A total budget and the unit it is stated in. */
typedef struct {
    int unit;                     /* enum pa_dp_budget_unit */
    double total;                 /* > 0 */
} pa_dp_budget;

/* Relative tolerance of the budget comparison (docs/dp.md, "Ledger"). */
#define PA_DP_LEDGER_TOLERANCE 1e-12

/* Create the table if it is missing.  pDb is the caller's open connection. */
int pa_dp_ledger_init(sqlite3 *pDb);

/*
 * Charge one release against the task's total budget: in one transaction (BEGIN
 * IMMEDIATE, or a SAVEPOINT if the caller already holds a transaction), read what the
 * task has spent, refuse with PA_EBUDGET if spent + charge would exceed the budget
 * (the message names the budget, the amount spent and the amount asked; nothing is
 * written), otherwise append the entry.  On success *pCharge and *pTotal (either may
 * be NULL) receive the amount charged and the task's new running total.
 */
int pa_dp_ledger_charge(sqlite3 *pDb, const pa_dp_ledger_release *pRel, const pa_dp_budget *pBudget,
                        double *pCharge, double *pTotal);

/* What the task has spent so far (0 if it has no entry). */
int pa_dp_ledger_spent(sqlite3 *pDb, const char *zTaskId, double *pSpent);

/*
 * Walk the whole ledger: contiguous sequence numbers from 1, each hash recomputed
 * from the entry's canonical encoding, each prev_hash equal to the previous hash,
 * running totals consistent and within their budgets.  PA_ETAMPER names the first
 * entry that fails.  Removing the LAST entries leaves a valid shorter chain: pass
 * the head hash and count published earlier (e.g. in a release manifest) as
 * pExpectHead / nExpect to detect that (NULL / -1 to skip).  aHeadOut (may be NULL)
 * receives the head hash (zeros for an empty ledger), *pnCount the entry count.
 */
int pa_dp_ledger_verify(sqlite3 *pDb, const uint8_t *pExpectHead, int64_t nExpect,
                        uint8_t aHeadOut[32], int64_t *pnCount);

/* The ledger as JSON (format "privagg-dp-ledger-v1"); *pzJson is freed with free(). */
int pa_dp_ledger_export_json(sqlite3 *pDb, char **pzJson);

#endif
