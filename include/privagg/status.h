/*
 * privagg status — an operator's view of one aggregator (`privagg status` and
 * the /metrics gauges of the same figures): the task's batches by state, the
 * pending collections, the privacy budget spent and left on every lattice cell
 * (period x partition), the store's size.  Everything is read through the
 * store's interface (pa_store_stats_read, pa_store_batches_walk,
 * pa_dp_ledger_cells); the peer's reachability is the caller's (it needs the
 * network: pa_status_probe).
 */
#ifndef PRIVAGG_STATUS_H
#define PRIVAGG_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/retention.h"
#include "privagg/store.h"
#include "privagg/task.h"

/* One lattice cell: what a record of (zPeriod, zPartition) has lost so far. */
typedef struct {
    char zPeriod[16];
    char zPartition[72];
    double rSpent;                  /* rho (Gaussian) or eps (Laplace) */
    double rLeft;                   /* budget - spent, never below 0 */
} pa_status_cell;

typedef struct {
    pa_store_stats store;
    /* batches of partitions, and the periods' statewide batches, by
     * pa_batch_state (a statewide batch is open while a partition batch of its
     * period is, released once collected, else aggregated) */
    int64_t anPartition[3];
    int64_t anStatewide[3];
    size_t nBatch;                  /* every batch, statewide ones included */
    pa_store_batch_info *aBatch;
    /* the lattice: every partition of the task for each period that has a batch
     * or a ledger entry, in (period, partition) order */
    double rBudget;                 /* the task's budget per record (per cell); 0: no DP */
    const char *zUnit;              /* "rho" or "eps" */
    double rPartitionRelease;       /* what one more partition release would charge */
    size_t nCell;
    pa_status_cell *aCell;
    double rSpentTotal;             /* the sum over the cells */
    double rSpentMax, rLeftMin;     /* the most-charged cell (0 and the budget with no cell) */
    size_t nSpent;                  /* cells with something spent */
    size_t nExhausted;              /* cells where another partition release does not fit */
} pa_status;

/*
 * Read the status of task pTask from pStore (read-only is enough); zStorePath
 * (may be NULL) is the database's path, for the file sizes.  pOut is freed with
 * pa_status_free.  Errors: PA_ESTORE, PA_ENOMEM.
 */
int pa_status_read(pa_store *pStore, const pa_task *pTask, const char *zStorePath, pa_status *pOut);
void pa_status_free(pa_status *p);

/* Indices of the n most-charged cells, most first (ties: earlier cell first),
 * into aiOut (room for n); returns how many were written (at most nCell). */
size_t pa_status_worst(const pa_status *p, size_t *aiOut, size_t n);

/* Name of a batch state: "open", "aggregated", "released". */
const char *pa_batch_state_name(pa_batch_state e);

/* What status reads from a node's config file (`privagg serve --config`):
 * its role, task, store, key file and the trust anchor for its peer (the
 * config's peer_ca, "" for the system's).  The file is read as the node reads it (a
 * private file: owned by this user, mode 0600; its tokens are wiped at once).
 * Errors as pa_node_open's, naming the file and the field. */
typedef struct {
    int bLeader;
    char zTask[4096], zStore[4096], zKey[4096], zPeerCa[4096];
} pa_status_target;
int pa_status_target_load(pa_status_target *pOut, const char *zConfigPath);

/*
 * Is the peer up: GET zBaseUrl/health with short timeouts (connect 2 s, whole
 * request 3 s), zCaFile the trust anchor (NULL: the system's).  0 when it answers
 * 200; PA_EIO and a message otherwise (pa_error_detail).  *pnMs receives the
 * time taken.
 */
int pa_status_probe(const char *zBaseUrl, const char *zCaFile, int64_t *pnMs);

#endif
