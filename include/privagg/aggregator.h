/*
 * privagg aggregator — the leader's and the helper's logic as plain C functions
 * over a store and the protocol layer; the HTTP servers are thin shells around
 * these, and tests run both parties in one process.
 *
 *   leader:  pa_leader_upload      an agency's report: checked, stored, acknowledged
 *                                  only after its transaction commits
 *            pa_leader_run_jobs    aggregation jobs over stored reports, driving
 *                                  the helper through a transport (two steps)
 *            pa_leader_collect     a collector's request: the leader's and the
 *                                  helper's noised aggregate shares, sealed
 *   helper:  pa_helper_job_init, pa_helper_job_continue, pa_helper_collect
 *
 * Every step is idempotent: a retried job step or collection returns the stored
 * answer and changes nothing, so no report is ever counted twice.  Each
 * aggregator checks the minimum number of agencies, that a batch is collected at
 * most once, and its own privacy budget, and adds its own noise.
 *
 * Errors: PA_EDECODE (malformed message), PA_ENOTFOUND (another task, unknown
 * job), PA_EAUTH (unknown agency, wrong partition, bad signature), PA_EEXISTS
 * (replayed report, a second report of an agency for a batch, a batch collected
 * before under another collection id), PA_ESTATE (period in the future or already
 * collected, reports still being aggregated), PA_ERANGE (too few agencies),
 * PA_EBUDGET (privacy budget), PA_ESTORE, PA_ENOMEM; the transport's own error.
 */
#ifndef PRIVAGG_AGGREGATOR_H
#define PRIVAGG_AGGREGATOR_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/dp.h"
#include "privagg/keys.h"
#include "privagg/messages.h"
#include "privagg/store.h"
#include "privagg/task.h"

typedef struct pa_aggregator pa_aggregator;

/* Seconds since the epoch; the seam tests use to move time. */
typedef int64_t (*pa_clock_fn)(void *pCtx);

typedef struct {
    const pa_task *pTask;      /* borrowed, outlives the aggregator */
    const pa_keys *pKeys;      /* this aggregator's private keys (leader or helper) */
    pa_store *pStore;          /* borrowed */
    pa_clock_fn xNow;          /* NULL: the wall clock */
    void *pClockCtx;
    pa_dp_rng *pRng;           /* NULL: the production RNG (tests inject a seeded one) */
    /* the agency registry the task names (borrowed, outlives the aggregator);
     * NULL when the task lists its agencies (parties.agencies) */
    struct pa_registry_ref *pRegistry;
    /* Several workers (server processes) may share one store: a worker claims
     * an aggregation or collection job with a lease of nLeaseSeconds, renewed
     * while it works, and another worker takes the job over once the lease has
     * expired (docs/operations.md, "Running several workers"). */
    const char *zWorkerId;     /* NULL: "host:pid:random", made up here */
    int64_t nLeaseSeconds;     /* 0: PA_LEASE_SECONDS_DEFAULT */
} pa_aggregator_config;

#define PA_LEASE_SECONDS_DEFAULT 30
#define PA_LEASE_SECONDS_MAX 3600

int pa_aggregator_new(pa_aggregator **ppAgg, const pa_aggregator_config *pConfig);
void pa_aggregator_free(pa_aggregator *pAgg);

/* This aggregator's worker id (the lease owner it writes) and lease length. */
const char *pa_aggregator_worker_id(const pa_aggregator *pAgg);
int64_t pa_aggregator_lease_seconds(const pa_aggregator *pAgg);

/* Exact message sizes for this task (for codecs and transports). */
const pa_msg_sizes *pa_aggregator_sizes(const pa_aggregator *pAgg);

/*
 * Draw release noise ahead: top up this aggregator's pool of noise vectors (per
 * release level) in its store, one short transaction per vector.  Variable time:
 * call it from a background thread, never while a peer's request waits.  A batch
 * seen for the first time takes its vector from the pool (PA_EBUSY, retried by
 * the peer, if the pool is empty).  *pnDrawn (may be NULL): vectors drawn.
 */
int pa_aggregator_fill_noise_pool(pa_aggregator *pAgg, size_t *pnDrawn);

/* The noise variance each aggregator adds per cell (0 with mechanism none). */
double pa_aggregator_sigma2(const pa_aggregator *pAgg);

/*
 * Carries a request to the helper and its answer back.  zRoute is "job/init",
 * "job/continue" or "collect".  On success *ppResp is malloc'ed (the caller frees
 * it).  An in-process transport calls the pa_helper_* functions; the HTTPS one
 * POSTs to the helper.
 */
typedef int (*pa_helper_transport)(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq,
                                   uint8_t **ppResp, size_t *pnResp);

/* Leader: accept one uploaded report (pa_leader_check_report + pa_leader_store_reports). */
int pa_leader_upload(pa_aggregator *pAgg, const uint8_t *pMsg, size_t nMsg);

/* An upload between its checks and its storage.  Borrowed pointers point into
 * the uploaded bytes; pVerifyState and pVerifierShare are owned (pa_upload_free). */
typedef struct {
    uint8_t aDigest[32];       /* of the leader's sealed share */
    char zAgencyId[65], zPeriod[8], zPartition[65];
    uint8_t aReportId[16];
    const uint8_t *pPublicShare;
    uint8_t aHelperEnc[32];
    const uint8_t *pHelperCt;
    uint8_t aSignature[64];
    uint8_t *pVerifyState;     /* the leader's verify_init, done at upload (secret) */
    uint8_t *pVerifierShare;
    int rc;                    /* the outcome after pa_leader_store_reports */
    char zDetail[256];         /* its message when rc != PA_OK */
} pa_upload;

/* Wipe and free what pa_leader_check_report allocated (NULL-safe, idempotent). */
void pa_upload_free(const pa_aggregator *pAgg, pa_upload *pUp);

/*
 * Leader: every check of an upload that needs no store (strict decoding, task,
 * agency, partition, signature, period not in the future), then the leader's own
 * part of verification: open its share and run verify_init, so that only the
 * verify state and the verifier share are stored (~6.5 KB, not the 75 KB share).
 * Thread-safe: many uploads are checked in parallel.  A share that does not open
 * or decode is PA_EDECODE.  On success free with pa_upload_free.
 */
int pa_leader_check_report(const pa_aggregator *pAgg, const uint8_t *pMsg, size_t nMsg, pa_upload *pUp);

/*
 * Leader: store checked uploads in ONE transaction (group commit: one fsync for
 * many reports); each gets its own outcome in apUp[i]->rc (replay, duplicate,
 * collected batch...), and a refused one leaves nothing.  Returns PA_OK if the
 * transaction committed (then every rc is final), else the store's error (then
 * nothing was stored and every rc is that error).
 */
int pa_leader_store_reports(pa_aggregator *pAgg, pa_upload *const *apUp, size_t n);

typedef struct {
    size_t nJobs;
    size_t nAccepted;
    size_t nRejected;
    size_t aRejected[PA_REJECT_MAX + 1];   /* by reason */
    size_t nLeaseLost;         /* jobs another worker took over: their work was dropped */
} pa_job_stats;

/*
 * Leader: aggregate every stored report (first finishing jobs a failed attempt
 * left open), at most nJobSize reports per job.  On a transport failure the job
 * stays open and the call returns the error; a later call resumes it.
 */
int pa_leader_run_jobs(pa_aggregator *pAgg, pa_helper_transport xCall, void *pCtx, size_t nJobSize,
                       pa_job_stats *pStats);

/* One job only (an open one whose lease is free first, else a new one, leased
 * to this worker); *pbDone = 1 when there was nothing to do.  pStats is added
 * to.  A job whose lease another worker claimed meanwhile (this worker was too
 * slow, its lease expired) writes nothing and counts in pStats->nLeaseLost. */
int pa_leader_run_one_job(pa_aggregator *pAgg, pa_helper_transport xCall, void *pCtx, size_t nJobSize,
                          pa_job_stats *pStats, int *pbDone);

/* Helper: the two steps of an aggregation job.  *ppResp malloc'ed. */
int pa_helper_job_init(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                       size_t *pnResp);
int pa_helper_job_continue(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                           size_t *pnResp);

/* Leader: answer a collector's pa_collect_req with a pa_collect_resp. */
int pa_leader_collect(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, pa_helper_transport xCall,
                      void *pCtx, uint8_t **ppResp, size_t *pnResp);
/* Leader: *pbReady = 0 while reports of the requested batch are still pending or
 * being aggregated (collect later), 1 otherwise.  PA_EDECODE / PA_ENOTFOUND for a
 * bad request. */
int pa_leader_collect_ready(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, int *pbReady);

/*
 * Leader: durable collection jobs (engine/aggregator/collect_job.c), kept in the
 * store.  pa_leader_collection_create checks a collector's request (task, period,
 * a known partition, the batch's derived collection id: PA_EINVAL/PA_ENOTFOUND/
 * PA_EDECODE at once) and records the job (idempotent; a failed job asked for
 * again is re-opened).  pa_leader_collection_poll: *pbPending = 1 while it runs;
 * the stored refusal (its code and message) if it failed; else the released
 * answer in *ppResp (malloc'ed).  pa_leader_collection_step runs the next due
 * job once (outside any lock: it calls the helper) and says what happened in
 * *pOut (bStepped = 0 when no job was due).
 */
typedef enum {
    PA_COLLECTION_WAITING = 1,  /* its batch still has reports being aggregated */
    PA_COLLECTION_RELEASED,
    PA_COLLECTION_RETRYING,     /* a transient failure: retried with backoff */
    PA_COLLECTION_REFUSED,      /* a permanent failure: the job failed */
    PA_COLLECTION_LEASE_LOST,   /* another worker took the job over: nothing written */
} pa_collection_outcome_kind;

typedef struct {
    int bStepped;
    pa_collection_outcome_kind eOutcome;
    int rc;
    char zPeriod[8], zPartition[65];
    char zDetail[400];
} pa_collection_outcome;

int pa_leader_collection_create(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, uint8_t aId[16]);
int pa_leader_collection_poll(pa_aggregator *pAgg, const uint8_t aId[16], int *pbPending,
                              uint8_t **ppResp, size_t *pnResp);
int pa_leader_collection_step(pa_aggregator *pAgg, pa_helper_transport xCall, void *pCtx,
                              pa_collection_outcome *pOut);

/* Helper: answer the leader's pa_collect_req with its pa_sealed_agg. */
int pa_helper_collect(pa_aggregator *pAgg, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                      size_t *pnResp);

#endif
