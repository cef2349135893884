/*
 * An aggregator as an HTTPS server (see include/privagg/node.h).  Handlers are
 * thin: decode nothing themselves, call the engine, and return its status, which
 * the server answers from the one status table (pa_status_lookup).  The leader's
 * worker thread drives aggregation jobs and the collection jobs kept in the
 * store, with backoff while the helper is unreachable, and never holds a lock
 * across a call to the helper.  Each aggregator keeps a pool of release noise
 * drawn ahead by a thread of its own, so no request waits on (or can time) a
 * variable-time draw.
 */
#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/guard.h"
#include "node/checkpointer.h"
#include "node/group_commit.h"
#include "node/node_config.h"
#include "privagg/aggregator.h"
#include "privagg/hpke_config.h"
#include "privagg/http.h"
#include "privagg/messages.h"
#include "privagg/node.h"
#include "privagg/registry.h"
#include "privagg/retention.h"
#include "privagg/status.h"

#define JOB_SIZE 256
#define NOISE_REFILL_MS 1000   /* the noise thread's tick when nothing wakes it */
#define RETENTION_EVERY_S 600  /* retention passes, on the noise thread (at start, then) */
#define GAUGES_EVERY_S 15      /* the store's gauges in /metrics, on the noise thread */
#define ANALYZE_EVERY_S 5      /* the planner's statistics looked at (pa_store_analyze), same thread */

struct pa_node {
    pa_node_config cfg;
    pa_task *pTask;
    pa_registry_ref *pRegistry; /* the agency registry the task names (NULL: inline agencies) */
    pa_keys keys;
    pa_store *pStore;          /* handlers' connection */
    pa_aggregator *pAgg;       /* handlers' aggregator: uploads (group commit) or helper steps */
    pa_store *pWorkerStore;    /* leader: the worker's own connection */
    pa_aggregator *pWorkerAgg;
    pa_group_commit gc;        /* the leader's uploads */
    pa_checkpointer *pCkpt;    /* WAL checkpoints off the request path */
    pthread_mutex_t lock;      /* helper: its aggregator; leader: the worker's wake-up */
    pthread_cond_t wake;
    /* leader: the collector's routes on a connection of their own */
    pa_store *pCollStore;
    pa_aggregator *pCollAgg;
    pthread_mutex_t collLock;
    /* both: the noise pool's thread (its own connection) */
    pa_store *pNoiseStore;
    pa_aggregator *pNoiseAgg;
    pthread_t noiser;
    int bNoiser;
    pthread_mutex_t noiseLock;
    pthread_cond_t noiseWake;
    int bNoPrivacyAllowed;     /* --insecure-no-privacy */
    pa_http_server *pServer;
    pa_http_route aRoute[8];
    size_t nRoute;
    char zReportsPath[128], zCollectionsPath[128], zCollectionPrefix[128];
    /* leader */
    pa_http_client *pClient;
    char zHelperUrl[512];
    pthread_t worker;
    int bWorker;
    atomic_int bStop;
    atomic_int bWakePending;   /* an upload arrived since the worker last looked */
    atomic_int bBackingOff;    /* the helper failed: uploads do not cut the wait short */
    /* GET /health/ready: its own connection to the store, the helper probe cached */
    pthread_mutex_t readyLock;
    pa_store *pReadyStore;      /* a connection of its own for /health/ready */
    double tPeerChecked;
    int rcPeer;
    /* leader: the helper's signed HPKE configuration as last fetched and verified
     * (JSON text; NULL until then), served inside GET /hpke_config */
    pthread_mutex_t configLock;
    char *zHelperConfig;
    time_t tHelperConfig;
    int bHelperConfigWarned;    /* the failure was logged (noise thread only) */
    /* the bearer tokens accepted while they rotate: the collector's (leader),
     * the leader's peer tokens (helper) */
    pa_http_token aCollTokens[PA_HTTP_MAX_TOKENS], aPeerTokens[PA_HTTP_MAX_TOKENS];
    size_t nCollTokens, nPeerTokens;
};

#define NO_PRIVACY_WARNING "no privacy protection: dp.mechanism is none; exact totals are released"

static int reply_bytes(pa_http_response *resp, int status, uint8_t *p, size_t nBytes)
{
    int rc = pa_http_response_set(resp, status, "application/octet-stream", p, nBytes);
    free(p);
    return rc;
}

/* ------------------------------------------------------------ leader routes */

static int on_upload(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_node *n = pCtx;
    size_t nBody;
    const uint8_t *pBody = pa_http_req_body(req, &nBody);
    pa_upload up;
    int rc;

    rc = pa_leader_check_report(n->pAgg, pBody, nBody, &up);
    if (rc == PA_OK) {
        pa_group_commit_store(&n->gc, &up);
        pa_upload_free(n->pAgg, &up);
        rc = up.rc == PA_OK ? PA_OK : pa_fail(up.rc, "%s", up.zDetail);
    }
    if (rc != PA_OK) {
        char zLabel[64];
        snprintf(zLabel, sizeof zLabel, "outcome=\"%s\"", pa_status_lookup(rc)->zType);
        pa_metrics_inc("privagg_uploads_total", zLabel, 1);
        return rc;
    }
    /* wake the worker once per batch of uploads, and not while it backs off */
    if (!atomic_load(&n->bBackingOff) && !atomic_exchange(&n->bWakePending, 1)) {
        pthread_mutex_lock(&n->lock);
        pthread_cond_signal(&n->wake);
        pthread_mutex_unlock(&n->lock);
    }
    pa_metrics_inc("privagg_uploads_total", "outcome=\"stored\"", 1);
    return pa_http_response_set(resp, 201, "application/json", "{\"status\":\"stored\"}", 19);
}

static int on_collection_create(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_node *n = pCtx;
    size_t nBody;
    const uint8_t *pBody = pa_http_req_body(req, &nBody);
    uint8_t aId[16];
    char zLoc[200], zId[33];
    int rc;

    pthread_mutex_lock(&n->collLock);
    rc = pa_leader_collection_create(n->pCollAgg, pBody, nBody, aId);
    pthread_mutex_unlock(&n->collLock);
    if (rc != PA_OK)
        return rc;
    pthread_mutex_lock(&n->lock);
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    sodium_bin2hex(zId, sizeof zId, aId, 16);
    snprintf(zLoc, sizeof zLoc, "%s%s", n->zCollectionPrefix, zId);
    pa_http_response_header(resp, "Location", zLoc);
    return pa_http_response_set(resp, 201, "application/json", "{\"status\":\"created\"}", 20);
}

static int on_collection_poll(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_node *n = pCtx;
    const char *zTail = pa_http_req_path_tail(req);
    uint8_t aId[16], *pResp = NULL;
    size_t nBin = 0, nResp = 0;
    int rc, bPending = 0;

    if (zTail == NULL || strlen(zTail) != 32 ||
        sodium_hex2bin(aId, 16, zTail, 32, NULL, &nBin, NULL) != 0 || nBin != 16)
        return pa_fail(PA_EDECODE, "collection id: expected 32 hex digits");
    pthread_mutex_lock(&n->collLock);
    rc = pa_leader_collection_poll(n->pCollAgg, aId, &bPending, &pResp, &nResp);
    pthread_mutex_unlock(&n->collLock);
    if (rc != PA_OK)
        return rc;
    if (bPending) {
        pa_http_response_header(resp, "Retry-After", "1");
            return pa_http_response_set(resp, 202, "application/json", "{\"status\":\"pending\"}", 20);
    }
    return reply_bytes(resp, 200, pResp, nResp);
}

/* ------------------------------------------------------------ helper routes */

typedef int (*helper_fn)(pa_aggregator *, const uint8_t *, size_t, uint8_t **, size_t *);

static int helper_call(pa_node *n, helper_fn fn, const pa_http_req *req, pa_http_response *resp)
{
    size_t nBody, nOut = 0;
    const uint8_t *pBody = pa_http_req_body(req, &nBody);
    uint8_t *pOut = NULL;
    int rc;

    pthread_mutex_lock(&n->lock);
    rc = fn(n->pAgg, pBody, nBody, &pOut, &nOut);
    pthread_mutex_unlock(&n->lock);
    /* a job may have taken vectors from the noise pool: top it up */
    pthread_mutex_lock(&n->noiseLock);
    pthread_cond_signal(&n->noiseWake);
    pthread_mutex_unlock(&n->noiseLock);
    if (rc != PA_OK)
        return rc;
    return reply_bytes(resp, 200, pOut, nOut);
}

/* ------------------------------------------------------------ both: GET /hpke_config */

/* This aggregator's signed HPKE configuration, made per request from its key
 * file (keys not yet expired), and on the leader the helper's as the helper
 * signed it (include/privagg/hpke_config.h). */
static int on_hpke_config(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_node *n = pCtx;
    pa_hpke_config_doc doc;
    json_t *pOut, *pHelper = NULL;
    (void)req;

    if (pa_hpke_config_make(&doc, &n->keys, n->pTask->aTaskId, (int64_t)time(NULL)) != PA_OK)
        return pa_http_problem(resp, 404, "not-found", "%s", pa_error_detail());
    pOut = json_object();
    json_object_set_new(pOut, pa_role_name(n->cfg.eRole), pa_hpke_config_to_json(&doc));
    if (n->cfg.eRole == PA_ROLE_LEADER) {
        pthread_mutex_lock(&n->configLock);
        /* a document agencies would refuse as stale is not served: without one they
         * seal to the task's helper key (the helper unreachable for days) */
        if (n->zHelperConfig != NULL && time(NULL) - n->tHelperConfig < PA_HPKE_CONFIG_MAX_AGE_S / 2)
            pHelper = json_loads(n->zHelperConfig, 0, NULL);
        pthread_mutex_unlock(&n->configLock);
        json_object_set_new(pOut, "helper", pHelper != NULL ? pHelper : json_null());
    }
    char *z = json_dumps(pOut, JSON_COMPACT);
    json_decref(pOut);
    if (z == NULL)
        return PA_ENOMEM;
    int rc = pa_http_response_set(resp, 200, "application/json", z, strlen(z));
    free(z);
    return rc;
}

/* The leader fetches the helper's signed configuration (on the noise thread,
 * with the status gauges) and keeps it if it verifies under the task's helper
 * key: agencies verify it again themselves, this only keeps garbage out. */
static void fetch_helper_config(pa_node *n)
{
    pa_http_client_opts o;
    char zUrl[600];
    long nStatus = 0;
    uint8_t *pBody = NULL;
    size_t nBody = 0;
    char *zType = NULL;
    json_t *pRoot = NULL;
    pa_hpke_config_doc doc;

    if (n->cfg.eRole != PA_ROLE_LEADER || !n->pTask->helper.bSigningKey)
        return;
    memset(&o, 0, sizeof o);
    o.ca_file = n->cfg.zPeerCa[0] ? n->cfg.zPeerCa : NULL;
    o.connect_timeout_ms = 2000;
    o.timeout_ms = 3000;
    o.max_response_bytes = 64 << 10;
    snprintf(zUrl, sizeof zUrl, "%s/hpke_config", n->zHelperUrl);
    int rc = pa_http_request(&o, "GET", zUrl, NULL, NULL, 0, &nStatus, &pBody, &nBody, &zType);
    if (rc == PA_OK && nStatus == 200)
        pRoot = json_loadb((const char *)pBody, nBody, 0, NULL);
    const json_t *pDoc = pRoot ? json_object_get(pRoot, "helper") : NULL;
    if (pDoc != NULL && pa_hpke_config_from_json(&doc, pDoc, "the helper's configuration") == PA_OK &&
        pa_hpke_config_verify(&doc, n->pTask->helper.aSigningKey, n->pTask->aTaskId, PA_ROLE_HELPER,
                              (int64_t)time(NULL), "the helper's configuration") == PA_OK) {
        char *z = json_dumps(pDoc, JSON_COMPACT);
        if (z != NULL) {
            pthread_mutex_lock(&n->configLock);
            free(n->zHelperConfig);
            n->zHelperConfig = z;
            n->tHelperConfig = time(NULL);
            pthread_mutex_unlock(&n->configLock);
        }
        n->bHelperConfigWarned = 0;
    } else if (rc == PA_OK && !n->bHelperConfigWarned) {
        /* said once until it works again: the fetch repeats every 15 s */
        fprintf(stderr, "privagg leader: the helper's HPKE configuration: %s (the last one that verified "
                        "is served meanwhile, for 3.5 days)\n",
                nStatus != 200 ? "not served (an older helper, or its key file has no signing key)"
                               : pa_error_detail());
        n->bHelperConfigWarned = 1;
    }
    json_decref(pRoot);
    free(pBody);
    free(zType);
}

static int on_job_init(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_metrics_inc("privagg_helper_steps_total", "step=\"init\"", 1);
    return helper_call(pCtx, pa_helper_job_init, req, resp);
}

static int on_job_continue(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    pa_metrics_inc("privagg_helper_steps_total", "step=\"continue\"", 1);
    return helper_call(pCtx, pa_helper_job_continue, req, resp);
}

static int on_collect(void *pCtx, const pa_http_req *req, pa_http_response *resp)
{
    return helper_call(pCtx, pa_helper_collect, req, resp);
}

/* ------------------------------------------------------------ leader worker */

/* The helper over HTTPS, authenticated with the shared peer token. */
static int https_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq,
                           uint8_t **ppResp, size_t *pnResp)
{
    pa_node *n = pCtx;
    char zUrl[600];
    snprintf(zUrl, sizeof zUrl, "%s/internal/%s", n->zHelperUrl, zRoute);
    return pa_http_client_call(n->pClient, "POST", zUrl, n->keys.aToken, "application/octet-stream",
                               pReq, nReq, ppResp, pnResp);
}

/* Step every collection job that is due, outside every lock (each step may
 * call the helper); 1 if one is waiting for aggregation or a retry. */
static int run_collections(pa_node *n)
{
    int bRetry = 0;
    for (int i = 0; i < 10000 && !atomic_load(&n->bStop); i++) {
        pa_collection_outcome out;
        int rc = pa_leader_collection_step(n->pWorkerAgg, https_transport, n, &out);
        if (rc != PA_OK) {
            fprintf(stderr, "privagg leader: collection jobs: %s: %s (retrying)\n", pa_strerror(rc),
                    pa_error_detail());
            return 1;
        }
        if (!out.bStepped)
            break;
        switch (out.eOutcome) {
        case PA_COLLECTION_WAITING:
            bRetry = 1;
            break;
        case PA_COLLECTION_RELEASED:
            pa_metrics_inc("privagg_collections_total", "outcome=\"released\"", 1);
            fprintf(stderr, "privagg leader: collection %s/%s: released\n", out.zPeriod, out.zPartition);
            break;
        case PA_COLLECTION_RETRYING:
            bRetry = 1;
            fprintf(stderr, "privagg leader: collection %s/%s: %s: %s (retrying)\n", out.zPeriod,
                    out.zPartition, pa_strerror(out.rc), out.zDetail);
            break;
        case PA_COLLECTION_LEASE_LOST:
            pa_metrics_inc("privagg_leases_lost_total", "work=\"collection\"", 1);
            fprintf(stderr, "privagg leader: collection %s/%s: another worker took it over (this "
                    "worker's lease expired); nothing written\n", out.zPeriod, out.zPartition);
            break;
        case PA_COLLECTION_REFUSED:
            pa_metrics_inc("privagg_collections_total", "outcome=\"refused\"", 1);
            fprintf(stderr, "privagg leader: collection %s/%s: refused: %s: %s\n", out.zPeriod,
                    out.zPartition, pa_strerror(out.rc), out.zDetail);
            break;
        }
    }
    return bRetry;
}

static void count_jobs(const pa_job_stats *st)
{
    char zLabel[64];
    pa_metrics_inc("privagg_reports_total", "outcome=\"accepted\"", st->nAccepted);
    for (int r = 1; r <= PA_REJECT_MAX; r++) {
        if (st->aRejected[r] == 0)
            continue;
        snprintf(zLabel, sizeof zLabel, "outcome=\"rejected\",reason=\"%s\"",
                 pa_reject_reason_name((pa_reject_reason)r));
        pa_metrics_inc("privagg_reports_total", zLabel, st->aRejected[r]);
    }
    pa_metrics_inc("privagg_jobs_total", "outcome=\"finished\"", st->nJobs);
    if (st->nLeaseLost > 0) {
        pa_metrics_inc("privagg_leases_lost_total", "work=\"aggregation\"", st->nLeaseLost);
        fprintf(stderr, "privagg leader: aggregation: another worker took over %zu job(s) (this "
                "worker's lease expired); their work was dropped\n", st->nLeaseLost);
    }
}

static int helper_alive(pa_node *n)
{
    char zUrl[600];
    uint8_t *pResp = NULL;
    size_t nResp;
    snprintf(zUrl, sizeof zUrl, "%s/health", n->zHelperUrl);
    int rc = pa_http_client_call(n->pClient, "GET", zUrl, NULL, NULL, NULL, 0, &pResp, &nResp);
    free(pResp);
    return rc;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GET /health/ready: the store takes a write lock (it is writable, the disk
 * has room) and, for the leader, the helper answered /health within the last
 * 2 s (probed at most every 2 s, so the route cannot be used to flood it). */
static int node_ready(void *pCtx, char *zWhy, size_t nWhy)
{
    pa_node *n = pCtx;
    int rc = PA_OK;
    struct statvfs vfs;

    pthread_mutex_lock(&n->readyLock);
    if (n->pReadyStore == NULL && pa_store_open_probe(&n->pReadyStore, n->cfg.zStore) != PA_OK) {
        snprintf(zWhy, nWhy, "store: cannot open: %s", pa_error_detail());
        rc = PA_ESTORE;
    }
    if (rc == PA_OK && pa_store_probe_writable(n->pReadyStore) != PA_OK) {
        snprintf(zWhy, nWhy, "store: not writable: %s", pa_error_detail());
        rc = PA_ESTORE;
    }
    if (rc == PA_OK && statvfs(n->cfg.zStore, &vfs) == 0 &&
        (unsigned long long)vfs.f_bavail * vfs.f_frsize < (64ULL << 20)) {
        snprintf(zWhy, nWhy, "store: %llu KiB free on its disk, below 64 MiB",
                 (unsigned long long)vfs.f_bavail * vfs.f_frsize / 1024);
        rc = PA_ESTORE;
    }
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER) {
        if (n->tPeerChecked == 0 || mono_s() - n->tPeerChecked > 2.0) {
            pa_http_client_opts o;
            char zUrl[600];
            long nStatus = 0;
            uint8_t *pBody = NULL;
            size_t nBody = 0;
            char *zType = NULL;
            memset(&o, 0, sizeof o);
            o.ca_file = n->cfg.zPeerCa[0] ? n->cfg.zPeerCa : NULL;
            o.connect_timeout_ms = 1000;
            o.timeout_ms = 2000;
            snprintf(zUrl, sizeof zUrl, "%s/health", n->zHelperUrl);
            n->rcPeer = pa_http_request(&o, "GET", zUrl, NULL, NULL, 0, &nStatus, &pBody, &nBody, &zType);
            if (n->rcPeer == PA_OK && nStatus != 200)
                n->rcPeer = PA_EIO;
            free(pBody);
            free(zType);
            n->tPeerChecked = mono_s();
        }
        if (n->rcPeer != PA_OK) {
            snprintf(zWhy, nWhy, "helper: unreachable at %s", n->zHelperUrl);
            rc = PA_EIO;
        }
    }
    pthread_mutex_unlock(&n->readyLock);
    return rc;
}

static void *worker(void *p)
{
    pa_node *n = p;
    unsigned nBackoffMs = 0;

    while (!atomic_load(&n->bStop)) {
        pa_job_stats st;
        int bDone = 0, rc = PA_OK;
        atomic_store(&n->bWakePending, 0);
        /* after a failure, a cheap probe first: no job (and its verify_init work)
         * is started while the helper is down */
        if (nBackoffMs > 0)
            rc = helper_alive(n);
        /* the leader's own release noise, drawn here (this thread answers no
         * request) before a job of a new period needs it */
        if (rc == PA_OK)
            rc = pa_aggregator_fill_noise_pool(n->pWorkerAgg, NULL);
        /* the worker has its own store connection: uploads go on meanwhile */
        while (rc == PA_OK && !bDone && !atomic_load(&n->bStop)) {
            memset(&st, 0, sizeof st);
            rc = pa_leader_run_one_job(n->pWorkerAgg, https_transport, n, JOB_SIZE, &st, &bDone);
            if (rc == PA_OK)
                count_jobs(&st);
        }
        int bRetry = run_collections(n);
        pthread_mutex_lock(&n->lock);
        if (rc != PA_OK) {
            pa_metrics_inc("privagg_jobs_total", "outcome=\"failed\"", 1);
            fprintf(stderr, "privagg leader: aggregation: %s: %s (retrying)\n", pa_strerror(rc),
                    pa_error_detail());
        }
        /* back off exponentially while the helper fails; a pool being refilled
         * (PA_EBUSY) or a collection waiting for its batch is looked at again
         * soon; else wait for work (or a tick) */
        unsigned ms;
        if (rc == PA_OK || rc == PA_EBUSY) {
            nBackoffMs = 0;
            ms = rc == PA_EBUSY ? 100 : bRetry ? 250 : 500;
        } else {
            nBackoffMs = nBackoffMs ? nBackoffMs * 2 : 250;
            if (nBackoffMs > 30000)
                nBackoffMs = 30000;
            ms = nBackoffMs;
        }
        atomic_store(&n->bBackingOff, nBackoffMs > 0);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!atomic_load(&n->bStop))
            pthread_cond_timedwait(&n->wake, &n->lock, &until);
        pthread_mutex_unlock(&n->lock);
    }
    return NULL;
}

/* ------------------------------------------------------------ noise pool */

/* 1 (and *ptLast = tNow) if a pass of the noise thread that runs at most every
 * nEvery seconds is due: at the first tick, then every nEvery. */
static int due(time_t *ptLast, time_t tNow, time_t nEvery)
{
    if (*ptLast != 0 && tNow - *ptLast < nEvery)
        return 0;
    *ptLast = tNow;
    return 1;
}

/* Retention (retention.reports_days): the per-report rows of batches released
 * that many days ago, in transactions of PA_RETENTION_CHUNK reports on the
 * noise thread's own connection, so uploads and jobs wait one chunk at most. */
static void retention_pass(pa_node *n, time_t *ptLast)
{
    pa_retention_result r;
    time_t tNow = time(NULL);

    if (n->cfg.nRetentionDays < 0 || !due(ptLast, tNow, RETENTION_EVERY_S))
        return;
    int rc = pa_store_retire(n->pNoiseStore, n->pTask->aTaskId, (int64_t)tNow, n->cfg.nRetentionDays * 86400,
                             0, &r);
    pa_metrics_inc("privagg_retention_deleted_total", "table=\"reports\"", r.nReports);
    pa_metrics_inc("privagg_retention_deleted_total", "table=\"jobs\"", r.nJobs);
    if (r.nReports > 0 || r.nJobs > 0)
        fprintf(stderr, "privagg %s: retention: deleted %llu reports and %llu jobs of batches released "
                        "more than %lld days ago\n", pa_role_name(n->cfg.eRole), (unsigned long long)r.nReports,
                (unsigned long long)r.nJobs, (long long)n->cfg.nRetentionDays);
    if (rc != PA_OK)
        fprintf(stderr, "privagg %s: retention: %s: %s (retrying in %d s)\n", pa_role_name(n->cfg.eRole),
                pa_strerror(rc), pa_error_detail(), RETENTION_EVERY_S);
}

/* What `privagg status` prints, as gauges (docs/http.md, "Metrics"): batches by
 * level and state, the budget's lattice cells, the peer's /health.  The peer
 * probe (2 s connect, 3 s in all) runs on this thread, which only refills the
 * noise pool: a slow peer delays a refill, never a request. */
static void status_gauges(pa_node *n)
{
    static const char *const azLevel[] = {"partition", "statewide"};
    pa_status s;
    char zLabel[64];
    int64_t nMs = 0;

    if (pa_status_read(n->pNoiseStore, n->pTask, n->cfg.zStore, &s) != PA_OK) {
        fprintf(stderr, "privagg %s: status gauges: %s\n", pa_role_name(n->cfg.eRole), pa_error_detail());
        return;
    }
    for (int iLevel = 0; iLevel < 2; iLevel++)
        for (int e = PA_BATCH_OPEN; e <= PA_BATCH_RELEASED; e++) {
            snprintf(zLabel, sizeof zLabel, "level=\"%s\",state=\"%s\"", azLevel[iLevel],
                     pa_batch_state_name((pa_batch_state)e));
            pa_metrics_set("privagg_batches", zLabel, (double)(iLevel ? s.anStatewide[e] : s.anPartition[e]));
        }
    pa_metrics_set("privagg_budget_per_cell", NULL, s.rBudget);
    pa_metrics_set("privagg_budget_cells", NULL, (double)s.nCell);
    pa_metrics_set("privagg_budget_cells_spent", NULL, (double)s.nSpent);
    pa_metrics_set("privagg_budget_cells_exhausted", NULL, (double)s.nExhausted);
    pa_metrics_set("privagg_budget_spent_max", NULL, s.rSpentMax);
    pa_metrics_set("privagg_budget_left_min", NULL, s.rLeftMin);
    pa_metrics_set("privagg_budget_spent_total", NULL, s.rSpentTotal);
    pa_status_free(&s);
    /* the HPKE keys held, by state (docs/keys.md, "Key states"), and each
     * retiring key's expiry: what the signed configuration publishes */
    pa_hpke_key_ref aKey[PA_KEYS_MAX_HPKE];
    size_t nKey = pa_keys_hpke_list(&n->keys, aKey);
    for (size_t i = 0; i < nKey; i++) {
        snprintf(zLabel, sizeof zLabel, "config_id=\"%u\",state=\"%s\"", (unsigned)aKey[i].iConfigId,
                 pa_hpke_key_state_name(aKey[i].eState));
        pa_metrics_set("privagg_hpke_key", zLabel, 1.0);
        if (aKey[i].tNotAfter != 0) {
            snprintf(zLabel, sizeof zLabel, "config_id=\"%u\"", (unsigned)aKey[i].iConfigId);
            pa_metrics_set("privagg_hpke_key_expires_seconds", zLabel, (double)aKey[i].tNotAfter);
        }
    }
    fetch_helper_config(n);
    int rc = pa_status_probe(n->cfg.eRole == PA_ROLE_LEADER ? n->pTask->helper.zEndpoint : n->pTask->leader.zEndpoint,
                             n->cfg.zPeerCa[0] ? n->cfg.zPeerCa : NULL, &nMs);
    pa_metrics_set("privagg_peer_up", NULL, rc == PA_OK ? 1.0 : 0.0);
    pa_metrics_set("privagg_peer_probe_seconds", NULL, (double)nMs / 1000.0);
}

/* The store's gauges (docs/operations.md, "Monitoring"): read with
 * pa_store_stats_read on the noise thread's connection, at most every
 * GAUGES_EVERY_S (the counts scan the reports table, which retention bounds). */
static void gauges_update(pa_node *n, time_t *ptLast)
{
    static const char *const azState[] = {"pending", "aggregating", "accepted", "rejected", "replaced"};
    pa_store_stats st;
    char zLabel[48];
    time_t tNow = time(NULL);

    if (!due(ptLast, tNow, GAUGES_EVERY_S))
        return;
    if (pa_store_stats_read(n->pNoiseStore, n->cfg.zStore, &st) != PA_OK) {
        fprintf(stderr, "privagg %s: store gauges: %s\n", pa_role_name(n->cfg.eRole), pa_error_detail());
        return;
    }
    const int64_t anState[] = {st.nPending, st.nAggregating, st.nAccepted, st.nRejected, st.nReplaced};
    for (size_t i = 0; i < sizeof anState / sizeof anState[0]; i++) {
        snprintf(zLabel, sizeof zLabel, "state=\"%s\"", azState[i]);
        pa_metrics_set("privagg_store_reports", zLabel, (double)anState[i]);
    }
    pa_metrics_set("privagg_noise_pool_vectors", NULL, (double)st.nNoisePool);
    pa_metrics_set("privagg_collection_jobs_pending", NULL, (double)st.nCollJobsPending);
    pa_metrics_set("privagg_unreleased_batches", NULL, (double)st.nUnreleasedBatches);
    pa_metrics_set("privagg_oldest_unreleased_batch_age_seconds", NULL,
                   st.bHaveOldest && tNow > st.tOldestReceived ? (double)(tNow - st.tOldestReceived) : 0.0);
    pa_metrics_set("privagg_ledger_entries", NULL, (double)st.nLedger);
    pa_metrics_set("privagg_store_bytes", NULL, (double)(st.nPages * st.nPageSize));
    pa_metrics_set("privagg_store_wal_bytes", NULL, (double)st.nWalBytes);
    pa_metrics_set("privagg_store_gauges_timestamp_seconds", NULL, (double)tNow);
    status_gauges(n);
}

/* The planner's statistics of a store that fills faster than autovacuum looks
 * (pa_store_analyze; nothing on SQLite), at most every ANALYZE_EVERY_S. */
static void analyze_pass(pa_node *n, time_t *ptLast)
{
    if (!due(ptLast, time(NULL), ANALYZE_EVERY_S))
        return;
    if (pa_store_analyze(n->pNoiseStore, NULL) != PA_OK)
        fprintf(stderr, "privagg %s: store statistics: %s\n", pa_role_name(n->cfg.eRole), pa_error_detail());
}

/* Keeps the release noise drawn ahead: after a job took vectors, and on a tick;
 * runs retention, updates the store's gauges and the planner's statistics. */
static void *noiser(void *p)
{
    pa_node *n = p;
    time_t tRetention = 0, tGauges = 0, tAnalyze = 0;

    pthread_mutex_lock(&n->noiseLock);
    while (!atomic_load(&n->bStop)) {
        size_t nDrawn = 0;
        pthread_mutex_unlock(&n->noiseLock);
        int rc = pa_aggregator_fill_noise_pool(n->pNoiseAgg, &nDrawn);
        if (rc != PA_OK)
            fprintf(stderr, "privagg %s: noise pool: %s: %s (retrying)\n", pa_role_name(n->cfg.eRole),
                    pa_strerror(rc), pa_error_detail());
        retention_pass(n, &tRetention);
        gauges_update(n, &tGauges);
        analyze_pass(n, &tAnalyze);
        pthread_mutex_lock(&n->noiseLock);
        if (atomic_load(&n->bStop))
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += NOISE_REFILL_MS / 1000;
        pthread_cond_timedwait(&n->noiseWake, &n->noiseLock, &until);
    }
    pthread_mutex_unlock(&n->noiseLock);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

const char *pa_node_worker_id(const pa_node *n)
{
    const pa_aggregator *a = n->pWorkerAgg ? n->pWorkerAgg : n->pAgg;
    return a ? pa_aggregator_worker_id(a) : "";
}

/* Give the heap freed while opening back to the system.  Parsing a national
 * task (18,000 agencies: 3.5 MB of JSON) takes tens of MB of jansson values
 * that are freed once the task is read, but glibc keeps freed heap below its
 * top as the process's memory: 36 MB of the 45 MB a 36,000-agency leader held
 * at start.  Trimmed, a server's resident memory is what it uses
 * (docs/benchmarks.md, the national benchmark's memory rows). */
static void heap_trim(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

int pa_node_open(pa_node **ppNode, const char *zConfigPath)
{
    pa_node *n = calloc(1, sizeof *n);
    pa_aggregator_config ac;
    int rc;

    *ppNode = NULL;
    if (n == NULL)
        return pa_fail(PA_ENOMEM, "node: out of memory");
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->wake, NULL);
    pthread_mutex_init(&n->collLock, NULL);
    pthread_mutex_init(&n->noiseLock, NULL);
    pthread_cond_init(&n->noiseWake, NULL);
    pthread_mutex_init(&n->readyLock, NULL);
    pthread_mutex_init(&n->configLock, NULL);
    rc = pa_node_config_load(&n->cfg, zConfigPath);
    if (rc == PA_OK)
        rc = pa_task_load(&n->pTask, n->cfg.zTask);
    if (rc == PA_OK)
        rc = pa_keys_read_private(&n->keys, n->cfg.zKey);
    if (rc == PA_OK && n->keys.eRole != n->cfg.eRole)
        rc = pa_fail(PA_EINVAL, "%s: keys of role %s, the config says %s", n->cfg.zKey,
                     pa_role_name(n->keys.eRole), pa_role_name(n->cfg.eRole));
    if (rc == PA_OK) {
        const pa_task_party *pMe = n->cfg.eRole == PA_ROLE_LEADER ? &n->pTask->leader : &n->pTask->helper;
        /* after a rotation the task's key is an older one, or retired (keys.md) */
        pa_hpke_key_ref held;
        const uint8_t *pHeld = pa_keys_hpke_find(&n->keys, pMe->iHpkeConfigId, &held) ? held.pPublic : NULL;
        if (pHeld != NULL && sodium_memcmp(pMe->aHpkePublicKey, pHeld, 32) != 0)
            rc = pa_fail(PA_EINVAL, "%s: this %s key is not the one in the task", n->cfg.zKey,
                         pa_role_name(n->cfg.eRole));
        else if (pHeld == NULL)
            fprintf(stderr, "privagg %s: the task's key (config id %u) is retired from %s: reports "
                    "sealed to it are refused; agencies seal to config id %u (submit --%s-pub)\n",
                    pa_role_name(n->cfg.eRole), (unsigned)pMe->iHpkeConfigId, n->cfg.zKey,
                    (unsigned)n->keys.iConfigId, pa_role_name(n->cfg.eRole));
    }
    /* the agency registry: its whole chain verified, and the task's */
    if (rc == PA_OK && n->pTask->bRegistry != (n->cfg.zRegistry[0] != '\0'))
        rc = pa_fail(PA_EINVAL, "%s: %s", zConfigPath, n->pTask->bRegistry
                     ? "registry: required, the task names an agency registry (parties.registry)"
                     : "registry: the task lists its agencies (parties.agencies) and names no registry");
    if (rc == PA_OK && n->pTask->bRegistry) {
        rc = pa_registry_ref_open(&n->pRegistry, n->cfg.zRegistry, n->pTask);
        if (rc == PA_OK)
            fprintf(stderr, "privagg %s: agency registry %s: %zu entries verified\n",
                    pa_role_name(n->cfg.eRole), n->cfg.zRegistry, pa_registry_ref_count(n->pRegistry));
    }
    /* the store holds shares: refused when others can read it, as key files are */
    if (rc == PA_OK)
        rc = pa_store_check_private(n->cfg.zStore);
    /* a read-only file, folder or mount: refused with the path and the fix */
    if (rc == PA_OK)
        rc = pa_store_check_writable(n->cfg.zStore);
    if (rc == PA_OK)
        rc = pa_store_open(&n->pStore, n->cfg.zStore);
    memset(&ac, 0, sizeof ac);
    ac.pTask = n->pTask;
    ac.pKeys = &n->keys;
    ac.pStore = n->pStore;
    ac.pRegistry = n->pRegistry;
    /* each aggregator makes up its worker id (host:pid:random): the lease
     * owner of the jobs the worker claims in a store shared with other
     * processes */
    ac.nLeaseSeconds = n->cfg.nLeaseSeconds;
    if (rc == PA_OK)
        rc = pa_aggregator_new(&n->pAgg, &ac);
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER)
        rc = pa_group_commit_start(&n->gc, n->pAgg);
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER)
        rc = pa_store_open(&n->pWorkerStore, n->cfg.zStore);
    ac.pStore = n->pWorkerStore;
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER)
        rc = pa_aggregator_new(&n->pWorkerAgg, &ac);
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER)
        rc = pa_store_open(&n->pCollStore, n->cfg.zStore);
    ac.pStore = n->pCollStore;
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER)
        rc = pa_aggregator_new(&n->pCollAgg, &ac);
    if (rc == PA_OK)
        rc = pa_store_open(&n->pNoiseStore, n->cfg.zStore);
    ac.pStore = n->pNoiseStore;
    if (rc == PA_OK)
        rc = pa_aggregator_new(&n->pNoiseAgg, &ac);
    /* the pool full before the first request can arrive */
    if (rc == PA_OK)
        rc = pa_aggregator_fill_noise_pool(n->pNoiseAgg, NULL);
    /* SQLite's WAL is checkpointed on a thread of its own; a PostgreSQL
     * server checkpoints by itself */
    if (rc == PA_OK && !pa_store_is_postgres(n->cfg.zStore))
        rc = pa_checkpointer_start(&n->pCkpt, n->cfg.zStore);
    if (rc == PA_OK && n->pCkpt) {
        pa_checkpointer_attach(n->pCkpt, n->pStore);
        if (n->pWorkerStore)
            pa_checkpointer_attach(n->pCkpt, n->pWorkerStore);
        if (n->pCollStore)
            pa_checkpointer_attach(n->pCkpt, n->pCollStore);
        pa_checkpointer_attach(n->pCkpt, n->pNoiseStore);
    }
    if (rc == PA_OK && n->cfg.eRole == PA_ROLE_LEADER) {
        pa_http_client_opts o;
        memset(&o, 0, sizeof o);
        o.ca_file = n->cfg.zPeerCa[0] ? n->cfg.zPeerCa : NULL;
        o.connect_timeout_ms = 2000;
        o.timeout_ms = 120000;
        o.max_response_bytes = (size_t)256 << 20;
        snprintf(n->zHelperUrl, sizeof n->zHelperUrl, "%s", n->pTask->helper.zEndpoint);
        rc = pa_http_client_new(&n->pClient, &o);
    }
    if (rc != PA_OK) {
        pa_node_close(n);
        return rc;
    }
    heap_trim();
    *ppNode = n;
    return PA_OK;
}

int pa_node_override(pa_node *n, const char *zRole, const char *zTlsCert, const char *zTlsKey,
                     int bInsecureHttp)
{
    if (zRole != NULL && strcmp(zRole, pa_role_name(n->cfg.eRole)) != 0)
        return pa_fail(PA_EINVAL, "--role %s: the config is for the %s", zRole, pa_role_name(n->cfg.eRole));
    if ((zTlsCert == NULL) != (zTlsKey == NULL))
        return pa_fail(PA_EINVAL, "--tls-cert and --tls-key go together");
    if (zTlsCert != NULL && bInsecureHttp)
        return pa_fail(PA_EINVAL, "--insecure-http and --tls-cert exclude each other");
    if (zTlsCert != NULL) {
        snprintf(n->cfg.zTlsCert, sizeof n->cfg.zTlsCert, "%s", zTlsCert);
        snprintf(n->cfg.zTlsKey, sizeof n->cfg.zTlsKey, "%s", zTlsKey);
        n->cfg.bInsecureHttp = false;
    }
    if (bInsecureHttp) {
        n->cfg.zTlsCert[0] = n->cfg.zTlsKey[0] = '\0';
        n->cfg.bInsecureHttp = true;
    }
    return pa_node_config_check_transport(&n->cfg, "--insecure-http");
}

static void add_route(pa_node *n, const char *zMethod, const char *zPath, pa_http_handler fn,
                      const pa_http_token *aToken, size_t nToken)
{
    pa_http_route *r = &n->aRoute[n->nRoute++];
    /* every body is a msgpack message: anything else is 415 before it is read */
    r->content_type = strcmp(zMethod, "POST") == 0 ? "application/octet-stream" : NULL;
    r->method = zMethod;
    r->path = zPath;
    r->handler = fn;
    r->requires_bearer_auth = nToken > 0;
    r->bearer_token = NULL;
    r->bearer_tokens = nToken > 0 ? aToken : NULL;
    r->n_bearer_tokens = nToken;
    r->ctx = n;
}

/* The token lists of the routes: the collector's tokens from the config
 * (leader), the current peer token and the older ones not dropped (helper). */
static void token_lists(pa_node *n)
{
    n->nCollTokens = n->nPeerTokens = 0;
    if (n->cfg.bCollectorToken) {
        n->aCollTokens[0].iId = 1;
        memcpy(n->aCollTokens[0].aToken, n->cfg.aCollectorToken, 32);
        n->aCollTokens[0].tNotAfter = 0;
        n->nCollTokens = 1;
    }
    for (size_t i = 0; i < n->cfg.nCollectorTokens && n->nCollTokens < PA_HTTP_MAX_TOKENS; i++) {
        pa_http_token *t = &n->aCollTokens[n->nCollTokens++];
        t->iId = n->cfg.aCollectorTokens[i].iId;
        memcpy(t->aToken, n->cfg.aCollectorTokens[i].aToken, 32);
        t->tNotAfter = n->cfg.aCollectorTokens[i].tNotAfter;
    }
    n->aPeerTokens[0].iId = n->keys.iTokenId;
    memcpy(n->aPeerTokens[0].aToken, n->keys.aToken, 32);
    n->aPeerTokens[0].tNotAfter = 0;
    n->nPeerTokens = 1;
    for (size_t i = 0; i < n->keys.nOldToken && n->nPeerTokens < PA_HTTP_MAX_TOKENS; i++) {
        pa_http_token *t = &n->aPeerTokens[n->nPeerTokens++];
        t->iId = n->keys.aOldToken[i].iId;
        memcpy(t->aToken, n->keys.aOldToken[i].aToken, 32);
        t->tNotAfter = n->keys.aOldToken[i].tNotAfter;
    }
}

void pa_node_allow_no_privacy(pa_node *n)
{
    n->bNoPrivacyAllowed = 1;
}

int pa_node_start(pa_node *n)
{
    pa_http_config hc;
    char zTask[65];

    if (n->pTask->eMechanism == PA_TASK_DP_NONE) {
        if (!n->bNoPrivacyAllowed)
            return pa_fail(PA_EINVAL, "%s: dp.mechanism is \"none\": this task releases exact totals "
                                      "with no privacy protection; refusing to serve it (for a test "
                                      "only, start with --insecure-no-privacy)", n->cfg.zTask);
        fprintf(stderr, "privagg %s: WARNING: %s\n", pa_role_name(n->cfg.eRole), NO_PRIVACY_WARNING);
    }

    sodium_bin2hex(zTask, sizeof zTask, n->pTask->aTaskId, 32);
    snprintf(n->zReportsPath, sizeof n->zReportsPath, "/tasks/%s/reports", zTask);
    snprintf(n->zCollectionsPath, sizeof n->zCollectionsPath, "/tasks/%s/collections", zTask);
    snprintf(n->zCollectionPrefix, sizeof n->zCollectionPrefix, "/tasks/%s/collections/", zTask);
    token_lists(n);
    add_route(n, "GET", "/hpke_config", on_hpke_config, NULL, 0);
    if (n->cfg.eRole == PA_ROLE_LEADER) {
        add_route(n, "POST", n->zReportsPath, on_upload, NULL, 0);
        add_route(n, "POST", n->zCollectionsPath, on_collection_create, n->aCollTokens, n->nCollTokens);
        add_route(n, "GET", n->zCollectionPrefix, on_collection_poll, n->aCollTokens, n->nCollTokens);
    } else {
        add_route(n, "POST", "/internal/job/init", on_job_init, n->aPeerTokens, n->nPeerTokens);
        add_route(n, "POST", "/internal/job/continue", on_job_continue, n->aPeerTokens, n->nPeerTokens);
        add_route(n, "POST", "/internal/collect", on_collect, n->aPeerTokens, n->nPeerTokens);
    }
    memset(&hc, 0, sizeof hc);
    hc.bind_address = n->cfg.zAddress;
    hc.port = n->cfg.nPort;
    hc.tls_cert_path = n->cfg.zTlsCert[0] ? n->cfg.zTlsCert : NULL;
    hc.tls_key_path = n->cfg.zTlsKey[0] ? n->cfg.zTlsKey : NULL;
    hc.insecure_http = n->cfg.bInsecureHttp;
    hc.reuse_port = n->cfg.bReusePort;
    hc.max_body_bytes = (size_t)8 << 20;
    /* an upload waits for its group commit: with a thread per connection a
     * waiting upload never holds up another connection (in a pool, the
     * connections that share its thread would wait with it) */
    hc.thread_per_connection = true;
    hc.routes = n->aRoute;
    hc.n_routes = n->nRoute;
    hc.max_connections = n->cfg.nMaxConnections;
    hc.max_per_address = n->cfg.nMaxPerAddress;
    hc.header_timeout_s = n->cfg.nHeaderTimeoutS;
    hc.metrics_token = n->cfg.bMetricsToken ? n->cfg.aMetricsToken : NULL;
    hc.ready = node_ready;
    hc.ready_ctx = n;
    hc.log_errors = true;
    /* a task without noise says so on every answer */
    hc.warning = n->pTask->eMechanism == PA_TASK_DP_NONE ? NO_PRIVACY_WARNING : NULL;
    PA_GUARD(pa_http_server_start(&n->pServer, &hc));
    if (pthread_create(&n->noiser, NULL, noiser, n) != 0)
        return pa_fail(PA_EINTERNAL, "node: cannot start the noise thread");
    n->bNoiser = 1;
    if (n->cfg.eRole == PA_ROLE_LEADER) {
        if (pthread_create(&n->worker, NULL, worker, n) != 0)
            return pa_fail(PA_EINTERNAL, "node: cannot start the worker thread");
        n->bWorker = 1;
    }
    return PA_OK;
}

uint16_t pa_node_port(const pa_node *n)
{
    return n->pServer ? pa_http_server_port(n->pServer) : 0;
}

int pa_node_url(const pa_node *n, char *zOut, size_t nOut)
{
    const char *zAddr = n->cfg.zAddress;
    int bV6 = strchr(zAddr, ':') != NULL;
    int k = snprintf(zOut, nOut, "%s://%s%s%s:%u", n->cfg.bInsecureHttp ? "http" : "https", bV6 ? "[" : "",
                     zAddr, bV6 ? "]" : "", (unsigned)pa_node_port(n));
    return k > 0 && (size_t)k < nOut ? PA_OK : pa_fail(PA_ERANGE, "node url: longer than %zu", nOut);
}

const char *pa_node_log_file(const pa_node *n)
{
    return n->cfg.zLogFile;
}

int pa_node_reload_tls(pa_node *n)
{
    if (n->pServer == NULL || n->cfg.bInsecureHttp)
        return pa_fail(PA_EINVAL, "node: plain HTTP (insecure_http), no TLS certificate to reload");
    return pa_http_server_reload_tls(n->pServer, n->cfg.zTlsCert, n->cfg.zTlsKey);
}

int pa_node_reload_registry(pa_node *n, size_t *pnEntries)
{
    *pnEntries = 0;
    if (n->pRegistry == NULL)
        return pa_fail(PA_ENOTFOUND, "node: the task lists its agencies, no registry to reload");
    PA_GUARD(pa_registry_ref_reload(n->pRegistry));
    *pnEntries = pa_registry_ref_count(n->pRegistry);
    return PA_OK;
}

void pa_node_close(pa_node *n)
{
    if (n == NULL)
        return;
    atomic_store(&n->bStop, 1);
    if (n->pServer)
        pa_http_server_stop(&n->pServer); /* in-flight requests finish first */
    if (n->bWorker) {
        pthread_mutex_lock(&n->lock);
        pthread_cond_signal(&n->wake);
        pthread_mutex_unlock(&n->lock);
        pthread_join(n->worker, NULL);
    }
    if (n->bNoiser) {
        pthread_mutex_lock(&n->noiseLock);
        pthread_cond_signal(&n->noiseWake);
        pthread_mutex_unlock(&n->noiseLock);
        pthread_join(n->noiser, NULL);
    }
    pa_group_commit_stop(&n->gc); /* no upload can arrive any more */
    if (n->pCkpt) { /* nothing commits any more: back to automatic checkpoints */
        pa_store_on_wal_commit(n->pStore, NULL, NULL);
        if (n->pWorkerStore)
            pa_store_on_wal_commit(n->pWorkerStore, NULL, NULL);
        if (n->pCollStore)
            pa_store_on_wal_commit(n->pCollStore, NULL, NULL);
        if (n->pNoiseStore)
            pa_store_on_wal_commit(n->pNoiseStore, NULL, NULL);
        pa_checkpointer_stop(&n->pCkpt);
    }
    pa_http_client_free(&n->pClient);
    pa_aggregator_free(n->pWorkerAgg);
    pa_store_close(n->pWorkerStore);
    pa_aggregator_free(n->pCollAgg);
    pa_store_close(n->pCollStore);
    pa_aggregator_free(n->pNoiseAgg);
    pa_store_close(n->pNoiseStore);
    pa_aggregator_free(n->pAgg);
    pa_store_close(n->pStore);
    pa_registry_ref_close(n->pRegistry);
    pa_task_free(n->pTask);
    pa_keys_wipe(&n->keys);
    sodium_memzero(n->cfg.aCollectorToken, sizeof n->cfg.aCollectorToken);
    sodium_memzero(n->cfg.aCollectorTokens, sizeof n->cfg.aCollectorTokens);
    sodium_memzero(n->aCollTokens, sizeof n->aCollTokens);
    sodium_memzero(n->aPeerTokens, sizeof n->aPeerTokens);
    sodium_memzero(n->cfg.aMetricsToken, sizeof n->cfg.aMetricsToken);
    pa_store_close(n->pReadyStore);
    pthread_mutex_destroy(&n->readyLock);
    pthread_mutex_destroy(&n->configLock);
    free(n->zHelperConfig);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->wake);
    pthread_mutex_destroy(&n->collLock);
    pthread_mutex_destroy(&n->noiseLock);
    pthread_cond_destroy(&n->noiseWake);
    free(n);
}
