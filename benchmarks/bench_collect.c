/*
 * A year of releases over HTTPS (issue: a whole year of releases), run by
 * bench_network.c on its deployment once the year's reports are aggregated:
 * every month, the statewide batch and every partition of the default Missouri
 * task (12 x (1 + 47) releases), asked by 4 concurrent collectors as `privagg
 * collect` asks (create, then poll).  Figures: the wall time of the whole year
 * of collection, and the create -> result latency of one release (p50, p99).
 * Every release must succeed: one refusal fails the run.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "privagg/client.h"
#include "privagg/common.h"

#define COLLECTORS 4

void pa_bench_period(char zOut[8], size_t iMonth)
{
    /* 2025-11 .. 2026-10 for iMonth 0 .. 11 */
    size_t m = 10 + iMonth;
    snprintf(zOut, 8, "%04u-%02u", (unsigned)(2025 + m / 12) % 10000, (unsigned)(m % 12 + 1));
}

typedef struct {
    const pa_task *t;
    const pa_keys *pCollector;
    const char *zCa;
    size_t nMonths, nPerMonth;  /* releases per month: statewide first, then partitions */
    double *aLatency;
    atomic_size_t next, failed;
    pthread_mutex_t lock;
    char zError[512];
} year_work;

static void *collector(void *p)
{
    year_work *w = p;
    pa_http_client *c = NULL;
    pa_http_client_opts o = {0};

    o.ca_file = w->zCa;
    if (pa_http_client_new(&c, &o) != PA_OK)
        c = NULL;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1), j;
        if (i >= w->nMonths * w->nPerMonth)
            break;
        char zPeriod[8];
        pa_collection coll;
        pa_bench_period(zPeriod, i / w->nPerMonth);
        j = i % w->nPerMonth;
        const char *zPartition = j == 0 ? "state" : w->t->aPartition[j - 1].zName;
        double t0 = pa_bench_now_s();
        int rc = c ? pa_client_collect(c, w->t, w->pCollector, zPeriod, zPartition, 120, &coll) : PA_EIO;
        w->aLatency[i] = pa_bench_now_s() - t0;
        if (rc == PA_OK) {
            pa_collection_free(&coll);
        } else {
            atomic_fetch_add(&w->failed, 1);
            pthread_mutex_lock(&w->lock);
            snprintf(w->zError, sizeof w->zError, "%s/%s: %s", zPeriod, zPartition, pa_error_detail());
            pthread_mutex_unlock(&w->lock);
        }
    }
    pa_http_client_free(&c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void pa_bench_collect_year(pa_bench *b, const pa_task *t, const char *zDir, const char *zCa, size_t nMonths,
                           int bStateOnly)
{
    char zKey[4096], zParams[128];
    pa_keys k;
    year_work w;
    pthread_t aThread[COLLECTORS];

    snprintf(zKey, sizeof zKey, "%s/keys/collector.key", zDir);
    if (pa_keys_read_private(&k, zKey) != PA_OK) {
        pa_bench_fail(b, "network", "collector key: %s", pa_error_detail());
        return;
    }
    memset(&w, 0, sizeof w);
    w.t = t;
    w.pCollector = &k;
    w.zCa = zCa;
    w.nMonths = nMonths;
    w.nPerMonth = bStateOnly ? 1 : 1 + t->nPartition;
    w.aLatency = calloc(nMonths * w.nPerMonth, sizeof *w.aLatency);
    pthread_mutex_init(&w.lock, NULL);
    double t0 = pa_bench_now_s();
    for (int i = 0; w.aLatency && i < COLLECTORS; i++)
        pthread_create(&aThread[i], NULL, collector, &w);
    for (int i = 0; w.aLatency && i < COLLECTORS; i++)
        pthread_join(aThread[i], NULL);
    double tYear = pa_bench_now_s() - t0;
    size_t n = nMonths * w.nPerMonth;
    if (w.aLatency == NULL)
        pa_bench_fail(b, "network", "collection: out of memory");
    else if (atomic_load(&w.failed) > 0)
        pa_bench_fail(b, "network", "%zu of %zu releases failed, e.g. %s", atomic_load(&w.failed), n, w.zError);
    else {
        qsort(w.aLatency, n, sizeof *w.aLatency, cmp_double);
        snprintf(zParams, sizeof zParams, "%zu months x (statewide + %zu partitions), %d collectors", nMonths,
                 w.nPerMonth - 1, COLLECTORS);
        pa_bench_add(b, "network", "collection: a year of releases", zParams, tYear, "s", "<= 60");
        pa_bench_add(b, "network", "collection: create -> result, p50", "one release, HTTPS", 1e3 * w.aLatency[n / 2],
                     "ms", NULL);
        pa_bench_add(b, "network", "collection: create -> result, p99", "one release, HTTPS",
                     1e3 * w.aLatency[(n * 99) / 100], "ms", NULL);
    }
    pthread_mutex_destroy(&w.lock);
    free(w.aLatency);
    pa_keys_wipe(&k);
}
