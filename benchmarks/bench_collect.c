/*
 * A year of releases over HTTPS (issue: a whole year of releases), run by
 * bench_network.c on its deployment once the year's reports are aggregated:
 * every month, the statewide batch and every partition of the default Missouri
 * task (12 x (1 + 47) releases), asked by 4 concurrent collectors as `privagg
 * collect` asks (create, then poll).  Figures: the wall time of the whole year
 * of collection, and the create -> result latency of one release (p50, p99).
 * Every release must succeed: one refusal fails the run.
 */
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void pa_bench_collect_year(pa_bench *b, pa_bench_nodes *pNodes, size_t nMonths, int bStateOnly)
{
    const pa_task *t = pNodes->t;
    char zParams[128], (*azPeriod)[8] = calloc(nMonths ? nMonths : 1, sizeof *azPeriod);
    size_t nPerMonth = bStateOnly ? 1 : 1 + t->nPartition, n = nMonths * nPerMonth;
    pa_client_batch *aBatch = calloc(n ? n : 1, sizeof *aBatch);
    double *aLatency = calloc(n ? n : 1, sizeof *aLatency);
    pa_http_client_opts co = {0};
    pa_keys k;

    if (azPeriod == NULL || aBatch == NULL || aLatency == NULL || pa_bench_nodes_collector(pNodes, &k) != PA_OK) {
        pa_bench_fail(b, "network", "collection set-up: %s", pa_error_detail());
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = i % nPerMonth;
        pa_bench_period(azPeriod[i / nPerMonth], i / nPerMonth);
        aBatch[i].zPeriod = azPeriod[i / nPerMonth];
        aBatch[i].zPartition = j == 0 ? "state" : t->aPartition[j - 1].zName;
    }
    co.ca_file = pNodes->zCa;
    double t0 = pa_bench_now_s();
    int rc = pa_client_collect_many(&co, t, &k, aBatch, n, COLLECTORS, 120, NULL, NULL, aLatency);
    double tYear = pa_bench_now_s() - t0;
    pa_keys_wipe(&k);
    if (rc != PA_OK) {
        pa_bench_fail(b, "network", "%s", pa_error_detail());
        goto done;
    }
    qsort(aLatency, n, sizeof *aLatency, cmp_double);
    snprintf(zParams, sizeof zParams, "%zu months x (statewide + %zu partitions), %d collectors", nMonths,
             nPerMonth - 1, COLLECTORS);
    pa_bench_add(b, "network", "collection: a year of releases", zParams, tYear, "s", "<= 60");
    pa_bench_add(b, "network", "collection: create -> result, p50", "one release, HTTPS", 1e3 * aLatency[n / 2],
                 "ms", NULL);
    pa_bench_add(b, "network", "collection: create -> result, p99", "one release, HTTPS",
                 1e3 * aLatency[(n * 99) / 100], "ms", NULL);
done:
    free(azPeriod);
    free(aBatch);
    free(aLatency);
}
