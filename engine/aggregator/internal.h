/*
 * Internals shared by the aggregator's files (engine/aggregator/).
 *
 * struct pa_aggregator holds what every step needs: the task, this party's keys,
 * the store, the Prio3 parameters built from the task, the exact message sizes,
 * the noise mechanism calibrated from the task's DP policy, and the clock/RNG
 * seams.  The files here read as protocol steps: every row they read or write
 * goes through the store's interface (include/privagg/store.h), never SQL.
 * batch.c keeps the arithmetic on batch aggregates and noise; every function
 * here that writes MUST be called inside a store transaction (pa_store_begin).
 */
#ifndef PA_AGGREGATOR_INTERNAL_H
#define PA_AGGREGATOR_INTERNAL_H

#include "privagg/aggregator.h"
#include "privagg/registry.h"
#include "privagg/prio3.h"
#include "privagg/vdaf.h"

struct pa_aggregator {
    const pa_task *pTask;
    const pa_keys *pKeys;
    pa_store *pStore;
    pa_registry_ref *pRegistry; /* NULL: the task lists its agencies */
    unsigned iAggId;            /* 0 leader, 1 helper */
    pa_prio3 *pVdaf;
    uint8_t aCtx[PA_VDAF_CTX_SIZE];  /* Prio3 application context */
    size_t nCtx;
    int bField128;
    pa_msg_sizes sizes;
    size_t nLeaderCt;           /* leader input share + tag */
    size_t nOwnInputShare;
    size_t nVerifyState, nOutShare, nAggShare;
    size_t nPartition;          /* distinct partitions of the task's agencies */
    int bNoise;                 /* 0 with mechanism none */
    pa_dp_mechanism aMech[2];   /* per pa_task_level */
    pa_dp_sensitivity sens;     /* the same at both levels */
    double aSigma2[2];
    pa_dp_rng *pRng;
    int bOwnRng;
    pa_clock_fn xNow;
    void *pClockCtx;
    char zWorker[PA_STORE_WORKER_ID_SIZE]; /* lease owner id */
    int64_t nLease;             /* seconds */
};

int64_t pa_agg_now(const pa_aggregator *a);

/* pa_leader_collect for a collection job's worker: with pLeaseJob (a
 * collection id) the release's transaction first checks that this worker
 * holds that job's lease, and if another worker claimed it, writes nothing and
 * sets *pbLost (PA_OK, *ppResp NULL).  pLeaseJob NULL: pa_leader_collect. */
int pa_agg_leader_collect_leased(pa_aggregator *a, const uint8_t *pReq, size_t nReq, pa_helper_transport xCall,
                                 void *pCtx, const uint8_t *pLeaseJob, int *pbLost, uint8_t **ppResp,
                                 size_t *pnResp);

/* 1 if (period, partition) or (period, "state") has been collected. */
int pa_agg_batch_collected(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                           int *pbCollected);

/* Give (period, partition) its release noise ("state": the statewide batch's)
 * if it has none, from the pool drawn ahead (off the request path: called
 * when a job starts; a job takes its partitions' and then the statewide
 * batch's once). */
int pa_agg_ensure_noise(pa_aggregator *a, const char *zPeriod, const char *zPartition);

/* The aggregate share of a batch ("state": every partition of the period) into
 * pOut (nAggShare bytes), with its report/rejected counts and distinct agencies. */
int pa_agg_batch_read(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                      uint8_t *pOut, uint64_t *pnReport, uint64_t *pnRejected, uint64_t *pnAgency);

/* After a release has been recorded (same transaction): delete the batch's
 * noise, and the exact sums of the period's partitions whose own release and
 * statewide release both exist.  The sealed answers stay (SECURITY.md). */
int pa_agg_batch_forget(const pa_aggregator *a, const char *zPeriod, const char *zPartition);

/* Reports of the batch still pending or being aggregated. */
int pa_agg_batch_unfinished(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                            uint64_t *pn);

/* Add the batch's stored noise to an aggregate share (constant-time loop). */
int pa_agg_apply_noise(const pa_aggregator *a, const char *zPeriod, const char *zPartition,
                       uint8_t *pAggShare);

/* End a transaction: commit if rc is PA_OK, else (or if the commit fails) roll
 * back; on any failure *ppResp (ppResp may be NULL: a step with no answer) is
 * freed and NULL.  Returns the outcome. */
int pa_agg_end_txn(pa_aggregator *a, int rc, uint8_t **ppResp);

/* 1 if z is a month "YYYY-MM" (digits, month 01..12). */
int pa_agg_period_valid(const char *z);

/* Decode a collection request and check it against the task: task id, period,
 * a known partition (or "state"), and the batch's derived collection id. */
int pa_agg_decode_collect_req(const pa_aggregator *a, const uint8_t *pReq, size_t nReq,
                              pa_collect_req *m);

/* Current UTC month as "YYYY-MM". */
void pa_agg_current_period(const pa_aggregator *a, char zOut[8]);

#endif
