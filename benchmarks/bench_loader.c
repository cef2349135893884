/*
 * The benchmarks' agency side at scale (bench_load.c, bench_national.c): many
 * concurrent agencies, each a thread with its own HTTPS connection (keep-alive),
 * posting sealed reports to the leader the way `privagg submit` does
 * (pa_client_upload: the real upload path), with the latency of every upload;
 * and the figures of a server process read from /proc (CPU time, peak resident
 * memory) and from the leader's /metrics.  Spawning one `privagg submit` per
 * report would measure process start-up, not the service.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/client.h"
#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/keys.h"

static void *loader_thread(void *p)
{
    pa_bench_loader *l = p;
    pa_http_client *c = NULL;
    pa_http_client_opts o = {0};
    o.ca_file = l->zCa;
    for (;;) {
        size_t i = atomic_fetch_add(&l->iNext, 1);
        if (i >= l->n)
            break;
        const uint8_t *pMsg = l->apMsg[i];
        size_t nMsg = l->anMsg[i];
        /* a transport failure (timeout, connection dropped) is tried again with the
         * same sealed report, as `privagg submit` does from its spool; the latency is
         * what the agency waited, from the first try to the acknowledgement */
        double t0 = pa_bench_now_s();
        int rc = PA_EIO;
        for (unsigned iTry = 0; iTry < PA_BENCH_UPLOAD_TRIES && rc == PA_EIO; iTry++) {
            if (iTry > 0) {
                atomic_fetch_add(&l->nRetried, 1);
                pa_http_client_free(&c);
                usleep(200000);
            }
            if (c == NULL && pa_http_client_new(&c, &o) != PA_OK)
                c = NULL;
            rc = (c == NULL || pMsg == NULL) ? PA_EIO : pa_client_upload(c, l->t, pMsg, nMsg);
            if (rc == PA_EEXISTS && iTry > 0 && strstr(pa_error_detail(), "(replay)") != NULL) {
                /* an earlier try was stored and only its answer was lost: acknowledged now */
                atomic_fetch_add(&l->nStoredEarlier, 1);
                rc = PA_OK;
            }
            if (rc == PA_EIO && atomic_fetch_add(&l->nLogged, 1) < 5)
                fprintf(stderr, "bench: upload %zu, try %u: %s\n", i, iTry + 1, pa_error_detail());
        }
        double dt = pa_bench_now_s() - t0;
        if (rc == PA_OK) {
            l->aLatency[i] = dt;
            l->abAcked[i] = 1;
            atomic_fetch_add(&l->nAcked, 1);
        } else {
            l->aLatency[i] = -1;
            atomic_fetch_add(&l->nFailed, 1);
            if (rc != PA_EIO)
                fprintf(stderr, "bench: upload %zu refused: %s\n", i, pa_error_detail());
        }
    }
    pa_http_client_free(&c);
    return NULL;
}

int pa_bench_loader_run(pa_bench_loader *l)
{
    pthread_t *aThread = calloc(l->nClients ? l->nClients : 1, sizeof *aThread);
    unsigned nStarted = 0;

    atomic_store(&l->iNext, 0);
    atomic_store(&l->nAcked, 0);
    atomic_store(&l->nFailed, 0);
    atomic_store(&l->nLogged, 0);
    atomic_store(&l->nRetried, 0);
    atomic_store(&l->nStoredEarlier, 0);
    l->aLatency = calloc(l->n ? l->n : 1, sizeof *l->aLatency);
    l->abAcked = calloc(l->n ? l->n : 1, 1);
    if (aThread == NULL || l->aLatency == NULL || l->abAcked == NULL) {
        free(aThread);
        return PA_ENOMEM;
    }
    for (unsigned i = 0; i < l->nClients; i++)
        if (pthread_create(&aThread[i], NULL, loader_thread, l) == 0)
            nStarted++;
    for (unsigned i = 0; i < nStarted; i++)
        pthread_join(aThread[i], NULL);
    free(aThread);
    return nStarted ? PA_OK : PA_EIO;
}

void pa_bench_loader_free(pa_bench_loader *l)
{
    free(l->aLatency);
    free(l->abAcked);
    l->aLatency = NULL;
    l->abAcked = NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double pa_bench_loader_latency(const pa_bench_loader *l, double rQuantile)
{
    double *a = malloc((l->n ? l->n : 1) * sizeof *a), r = 0;
    size_t n = 0;
    if (a == NULL)
        return 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->abAcked[i])
            a[n++] = l->aLatency[i];
    if (n > 0) {
        qsort(a, n, sizeof *a, cmp_double);
        size_t k = (size_t)(rQuantile * (double)n);
        r = a[k < n ? k : n - 1];
    }
    free(a);
    return r;
}

double pa_bench_process_cpu_s(int iPid)
{
    char zPath[64], zBuf[1024];
    unsigned long long utime = 0, stime = 0;
    snprintf(zPath, sizeof zPath, "/proc/%d/stat", iPid);
    FILE *f = fopen(zPath, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(zBuf, 1, sizeof zBuf - 1, f);
    fclose(f);
    zBuf[n] = '\0';
    const char *z = strrchr(zBuf, ')'); /* fields 14 and 15 follow the command name */
    if (z == NULL || sscanf(z + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                            &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Name:  <n> kB" line of /proc/<pid>/status, in MB; 0 if absent. */
static double status_mb(int iPid, const char *zName)
{
    char zPath[64], zLine[256];
    double r = 0;
    size_t nName = strlen(zName);
    snprintf(zPath, sizeof zPath, "/proc/%d/status", iPid);
    FILE *f = fopen(zPath, "r");
    if (f == NULL)
        return 0;
    while (fgets(zLine, sizeof zLine, f) != NULL)
        if (strncmp(zLine, zName, nName) == 0 && zLine[nName] == ':') {
            r = strtod(zLine + nName + 1, NULL) / 1024.0;
            break;
        }
    fclose(f);
    return r;
}

double pa_bench_peak_rss_mb(int iPid)
{
    return status_mb(iPid, "VmHWM");
}

double pa_bench_anon_mb(int iPid)
{
    return status_mb(iPid, "RssAnon");
}

static void *rss_watch_thread(void *p)
{
    pa_bench_rss_watch *w = p;
    while (!atomic_load(&w->bStop)) {
        for (int i = 0; i < PA_BENCH_WATCH_MAX; i++) {
            double r = w->aiPid[i] > 0 ? pa_bench_anon_mb(w->aiPid[i]) : 0;
            if (r > w->arPeakAnon[i])
                w->arPeakAnon[i] = r;
        }
        usleep(100000);
    }
    return NULL;
}

int pa_bench_rss_watch_start(pa_bench_rss_watch *w, const int *aiPid, int nPid)
{
    memset(w->arPeakAnon, 0, sizeof w->arPeakAnon);
    memset(w->aiPid, 0, sizeof w->aiPid);
    for (int i = 0; i < nPid && i < PA_BENCH_WATCH_MAX; i++)
        w->aiPid[i] = aiPid[i];
    atomic_store(&w->bStop, 0);
    w->bRunning = pthread_create(&w->thread, NULL, rss_watch_thread, w) == 0;
    return w->bRunning ? PA_OK : PA_EIO;
}

void pa_bench_rss_watch_stop(pa_bench_rss_watch *w)
{
    atomic_store(&w->bStop, 1);
    if (w->bRunning)
        pthread_join(w->thread, NULL);
    w->bRunning = 0;
}

int pa_bench_child_alive(int iPid)
{
    int status;
    return iPid > 0 && waitpid(iPid, &status, WNOHANG) == 0;
}

int pa_bench_node_config(const char *zDir, const char *zRole, const char *zStore, int bReusePort,
                         unsigned nMaxPerAddress)
{
    char zPath[4096];
    json_t *pCfg = NULL;
    struct stat st;
    snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zRole);
    PA_GUARD(pa_keys_load_json(&pCfg, &st, zPath));
    if (zStore != NULL)
        json_object_set_new(pCfg, "store", json_string(zStore));
    if (bReusePort)
        json_object_set_new(json_object_get(pCfg, "listen"), "reuse_port", json_true());
    if (nMaxPerAddress)
        json_object_set_new(pCfg, "limits", json_pack("{s:i}", "max_per_address", (int)nMaxPerAddress));
    int rc = unlink(zPath) == 0 ? pa_keys_write_json(zPath, pCfg, 0600) : pa_fail(PA_EIO, "%s: cannot replace", zPath);
    pa_keys_json_wipe(pCfg);
    json_decref(pCfg);
    return rc;
}

long pa_bench_leader_counter(pa_http_client *c, const char *zLeader, const char *zSeries)
{
    char zUrl[600];
    pa_http_reply r;
    long n = 0;
    snprintf(zUrl, sizeof zUrl, "%s/metrics", zLeader);
    if (pa_http_client_request(c, "GET", zUrl, NULL, NULL, NULL, 0, &r) != PA_OK)
        return -1;
    for (const char *z = r.body ? (const char *)r.body : ""; (z = strstr(z, zSeries)) != NULL; z++)
        if ((z == (const char *)r.body || z[-1] == '\n') && z[strlen(zSeries)] == ' ') {
            n = strtol(z + strlen(zSeries), NULL, 10);
            break;
        }
    pa_http_reply_free(&r);
    return n;
}
