/*
 * Agency and collector clients over HTTPS (see include/privagg/client.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "common/guard.h"
#include "privagg/client.h"

static void task_hex(char z[65], const pa_task *t)
{
    sodium_bin2hex(z, 65, t->aTaskId, 32);
}

int pa_client_upload(pa_http_client *c, const pa_task *t, const uint8_t *pMsg, size_t nMsg)
{
    char zUrl[700], zTask[65];
    uint8_t *pResp = NULL;
    size_t nResp = 0;
    int rc;

    task_hex(zTask, t);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/reports", t->leader.zEndpoint, zTask);
    rc = pa_http_client_call(c, "POST", zUrl, NULL, "application/octet-stream", pMsg, nMsg, &pResp, &nResp);
    free(pResp);
    return rc;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int pa_client_collect(pa_http_client *c, const pa_task *t, const pa_keys *k, const char *zPeriod,
                      const char *zPartition, unsigned nTimeoutS, pa_collection *pOut)
{
    char zUrl[700], zPoll[800], zTask[65], zId[33];
    uint8_t aId[16], *pReq = NULL;
    size_t nReq = 0;
    time_t tStart = time(NULL), tEnd = tStart + (time_t)nTimeoutS, tSaid = tStart;
    int rc, bCreate = 1, bPending = 0, bRecreated = 0;
    unsigned nWaitMs = 10;

    PA_GUARD(pa_collector_request(t, zPeriod, zPartition, aId, &pReq, &nReq));
    task_hex(zTask, t);
    sodium_bin2hex(zId, sizeof zId, aId, 16);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections", t->leader.zEndpoint, zTask);
    snprintf(zPoll, sizeof zPoll, "%s/%s", zUrl, zId);
    for (;;) {
        pa_http_reply r;
        if (bCreate) {
            uint8_t *pResp = NULL;
            size_t nResp;
            rc = pa_http_client_call(c, "POST", zUrl, k->aToken, "application/octet-stream", pReq, nReq,
                                     &pResp, &nResp);
            free(pResp);
            if (rc == PA_OK)
                bCreate = 0;
            else if (!pa_status_is_transient(rc))
                break; /* refused at once: unknown partition, bad period, ... */
        } else {
            rc = pa_http_client_request(c, "GET", zPoll, k->aToken, NULL, NULL, 0, &r);
            if (rc == PA_OK && r.status == 200) {
                rc = pa_collector_open(t, k, aId, zPeriod, zPartition, r.body, r.body_len, pOut);
                pa_http_reply_free(&r);
                break;
            }
            if (rc == PA_OK && r.status == 202) {
                bPending = 1;
            } else if (rc == PA_OK) {
                char zMsg[512], zType[160];
                pa_http_problem_message(r.content_type, r.body, r.body_len, zMsg, sizeof zMsg);
                pa_http_problem_type(r.content_type, r.body, r.body_len, zType, sizeof zType);
                rc = pa_fail(pa_status_from_http(r.status, zType), "collection %s/%s: %s", zPeriod,
                             zPartition, zMsg);
                if (r.status == 404)
                    bCreate = 1; /* a job the leader does not know: create it again */
            }
            pa_http_reply_free(&r); /* zeroed when the request itself failed */
        }
        /* a refusal ends here; a pending job or a transient failure waits */
        if (rc != PA_OK && !pa_status_is_transient(rc) && !(rc == PA_ENOTFOUND && bCreate && !bRecreated))
            break;
        bRecreated |= rc == PA_ENOTFOUND;
        if (time(NULL) >= tEnd) {
            if (rc == PA_OK)
                rc = pa_fail(PA_EBUSY, "collection %s/%s: still pending after %u s (reports being "
                                       "aggregated, or the helper retried): run collect again later",
                             zPeriod, zPartition, nTimeoutS);
            break;
        }
        if (time(NULL) - tSaid >= 10) {
            tSaid = time(NULL);
            fprintf(stderr, "collect: %s/%s %s after %lld s\n", zPeriod, zPartition,
                    rc != PA_OK ? "retrying" : bPending ? "still pending" : "waiting",
                    (long long)(tSaid - tStart));
        }
        /* a release takes tens of milliseconds once its batch is aggregated:
         * look again soon, then less and less often */
        nWaitMs = rc != PA_OK ? 1000 : nWaitMs < 200 ? nWaitMs * 2 : 200;
        sleep_ms(nWaitMs);
    }
    free(pReq);
    return rc;
}

typedef struct {
    const pa_http_client_opts *pOpts;
    const pa_task *t;
    const pa_keys *k;
    const pa_client_batch *aBatch;
    size_t nBatch;
    unsigned nTimeoutS;
    pa_client_result_fn xOnResult;
    void *pCtx;
    double *aLatency;
    atomic_size_t next;
    size_t nFailed;
    pthread_mutex_t lock;
    char zError[512];
} many_work;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *collect_worker(void *p)
{
    many_work *w = p;
    pa_http_client *c = NULL;
    int rcClient = pa_http_client_new(&c, w->pOpts);

    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->nBatch)
            break;
        const pa_client_batch *b = &w->aBatch[i];
        pa_collection coll;
        double t0 = mono_s();
        memset(&coll, 0, sizeof coll);
        int rc = rcClient == PA_OK
                     ? pa_client_collect(c, w->t, w->k, b->zPeriod, b->zPartition, w->nTimeoutS, &coll)
                     : rcClient;
        if (w->aLatency != NULL)
            w->aLatency[i] = mono_s() - t0;
        pthread_mutex_lock(&w->lock);
        if (rc == PA_OK && w->xOnResult != NULL)
            rc = w->xOnResult(w->pCtx, i, &coll);
        if (rc != PA_OK && w->nFailed++ == 0)
            snprintf(w->zError, sizeof w->zError, "%s/%s: %s", b->zPeriod, b->zPartition, pa_error_detail());
        pthread_mutex_unlock(&w->lock);
        pa_collection_free(&coll);
    }
    pa_http_client_free(&c);
    return NULL;
}

int pa_client_collect_many(const pa_http_client_opts *pOpts, const pa_task *t, const pa_keys *k,
                           const pa_client_batch *aBatch, size_t nBatch, unsigned nThreads,
                           unsigned nTimeoutS, pa_client_result_fn xOnResult, void *pCtx,
                           double *aLatency)
{
    pthread_t aThread[16];
    many_work w;
    unsigned nStarted = 0;

    memset(&w, 0, sizeof w);
    w.pOpts = pOpts;
    w.t = t;
    w.k = k;
    w.aBatch = aBatch;
    w.nBatch = nBatch;
    w.nTimeoutS = nTimeoutS;
    w.xOnResult = xOnResult;
    w.pCtx = pCtx;
    w.aLatency = aLatency;
    pthread_mutex_init(&w.lock, NULL);
    if (nThreads < 1)
        nThreads = 1;
    if (nThreads > 16)
        nThreads = 16;
    while (nStarted < nThreads && pthread_create(&aThread[nStarted], NULL, collect_worker, &w) == 0)
        nStarted++;
    if (nStarted == 0)
        collect_worker(&w); /* no thread could start: this one does the work */
    for (unsigned i = 0; i < nStarted; i++)
        pthread_join(aThread[i], NULL);
    pthread_mutex_destroy(&w.lock);
    if (w.nFailed > 0)
        return pa_fail(PA_EIO, "%zu of %zu releases failed, e.g. %s", w.nFailed, nBatch, w.zError);
    return PA_OK;
}
