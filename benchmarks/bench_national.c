/*
 * The national benchmark (issue 16): one month of a national program on this
 * machine.  Every US county of data/us_county_population.csv (50 states and DC,
 * data/us_state_population.csv) gets agencies: 18,000 in all, one per county and
 * the rest in proportion to the county's population (largest remainders, ties by
 * FIPS), so the list is the same on every run.  The task is the default schema
 * (270 cells, Prio3SumVec) with one partition per state, named by its FIPS code
 * and holding that state's counties; the statewide batch ("state") is then the
 * national batch.  This synthetic agency list exists only here: there is no
 * national agency file to build a real task from, so `privagg task init` keeps
 * building state tasks.
 *
 * Flow, timed as a whole (end to end): a leader and a helper as separate
 * `privagg serve` processes (SQLite, one process per role) over HTTPS on
 * 127.0.0.1; 16 concurrent agencies post every report (sealed beforehand by
 * this process: sharding is each agency's own work on its own machine; the
 * upload path measured is pa_client_upload, what `privagg submit` sends);
 * aggregation runs while the upload goes on, as in service; once the last
 * report is aggregated, 4 concurrent collectors release the national batch and
 * every state.  Every release must count exactly the agencies and reports that
 * were acknowledged.  Figures: upload and aggregation reports/s, p50/p99 upload
 * latency, CPU per report and peak resident memory of each server, store size
 * per 1,000 reports, collection time, end-to-end time.  --quick: 3,300 agencies
 * (still every county).  PA_BENCH_AGENCIES overrides the count.
 */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "common/guard.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/csv.h"
#include "privagg/demo.h"
#include "privagg/keys.h"
#include "privagg/store.h"
#include "privagg/submit.h"
#include "privagg/synth.h"

#define NATIONAL_AGENCIES 18000
#define QUICK_AGENCIES 3300
#define CLIENTS 16
#define COLLECTORS 4
#define PERIOD_MONTH 11 /* pa_bench_period: 2026-10 */

typedef struct {
    char zFips[6];
    char zState[3];
    const char *zName;  /* "Autauga County" (borrowed from the CSV) */
    double rPop;
    size_t nAgency;
    double rFrac;
} county;

static int cmp_frac(const void *a, const void *b)
{
    const county *x = *(county *const *)a, *y = *(county *const *)b;
    if (x->rFrac != y->rFrac)
        return x->rFrac > y->rFrac ? -1 : 1;
    return strcmp(x->zFips, y->zFips);
}

/*
 * The synthetic agencies and the 51 partitions as task JSON.  nTotal agencies:
 * one per county, the rest by population (largest remainder).  aKeys gets one
 * fresh agency key per agency, in the order of the agencies array.
 */
static int national_parties(const char *zDataDir, size_t nTotal, json_t **ppAgencies, json_t **ppPartitions,
                            pa_keys **paKeys, size_t *pnKeys, size_t *pnCounty, size_t *pnState,
                            size_t *pnMinState)
{
    char zPath[4096], azStateName[100][64];
    pa_csv *cs = NULL, *cc = NULL;
    county *a = NULL, **ap = NULL;
    size_t n = 0, nState = 0;
    double rTotal = 0;
    int rc;

    memset(azStateName, 0, sizeof azStateName);
    snprintf(zPath, sizeof zPath, "%s/us_state_population.csv", zDataDir);
    PA_GUARD(pa_csv_load(&cs, zPath));
    int iSF = pa_csv_column(cs, "fips"), iSN = pa_csv_column(cs, "state");
    for (size_t r = 0; iSF >= 0 && iSN >= 0 && r < pa_csv_row_count(cs); r++) {
        const char *z = pa_csv_get(cs, r, iSF);
        long v = strtol(z, NULL, 10);
        if (strlen(z) == 2 && v > 0 && v < 100) {
            snprintf(azStateName[v], sizeof azStateName[v], "%s", pa_csv_get(cs, r, iSN));
            nState++;
        }
    }
    pa_csv_free(cs);
    snprintf(zPath, sizeof zPath, "%s/us_county_population.csv", zDataDir);
    rc = pa_csv_load(&cc, zPath);
    if (rc != PA_OK)
        return rc;
    int iF = pa_csv_column(cc, "fips"), iN = pa_csv_column(cc, "county"), iP = pa_csv_column(cc, "population");
    size_t nRow = pa_csv_row_count(cc);
    a = calloc(nRow ? nRow : 1, sizeof *a);
    ap = calloc(nRow ? nRow : 1, sizeof *ap);
    if (a == NULL || ap == NULL || iF < 0 || iN < 0 || iP < 0) {
        rc = pa_fail(PA_EDECODE, "%s: columns fips, county, population needed", zPath);
        goto done;
    }
    for (size_t r = 0; r < nRow; r++) {
        const char *z = pa_csv_get(cc, r, iF);
        long s = strtol(z, NULL, 10) / 1000;
        if (strlen(z) != 5 || s <= 0 || s >= 100 || azStateName[s][0] == '\0')
            continue; /* not a county of the 50 states and DC */
        snprintf(a[n].zFips, sizeof a[n].zFips, "%s", z);
        memcpy(a[n].zState, z, 2);
        a[n].zName = pa_csv_get(cc, r, iN);
        a[n].rPop = strtod(pa_csv_get(cc, r, iP), NULL);
        rTotal += a[n].rPop;
        n++;
    }
    if (nTotal < n || rTotal <= 0) {
        rc = pa_fail(PA_EINVAL, "national: %zu agencies for %zu counties; at least one per county", nTotal, n);
        goto done;
    }
    size_t nExtra = nTotal - n, nGiven = 0;
    for (size_t i = 0; i < n; i++) {
        double q = (double)nExtra * a[i].rPop / rTotal;
        a[i].nAgency = 1 + (size_t)q;
        a[i].rFrac = q - (double)(size_t)q;
        nGiven += (size_t)q;
        ap[i] = &a[i];
    }
    qsort(ap, n, sizeof *ap, cmp_frac);
    for (size_t i = 0; nGiven < nExtra && i < n; i++, nGiven++)
        ap[i]->nAgency++;

    *paKeys = calloc(nTotal, sizeof **paKeys);
    *ppAgencies = json_array();
    *ppPartitions = json_array();
    if (*paKeys == NULL || *ppAgencies == NULL || *ppPartitions == NULL) {
        rc = pa_fail(PA_ENOMEM, "national: out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && rc == PA_OK; i++)
        for (size_t j = 0; j < a[i].nAgency && rc == PA_OK; j++, k++) {
            char zId[32], zName[256], zHex[65];
            snprintf(zId, sizeof zId, "US%s%04zu", a[i].zFips, j + 1);
            snprintf(zName, sizeof zName, "%s, %s, agency %zu", a[i].zName,
                     azStateName[strtol(a[i].zState, NULL, 10)], j + 1);
            rc = pa_keys_generate(&(*paKeys)[k], PA_ROLE_AGENCY, zId, 0);
            sodium_bin2hex(zHex, sizeof zHex, (*paKeys)[k].aPublic, 32);
            json_array_append_new(*ppAgencies, json_pack("{s:s, s:s, s:s, s:s}", "id", zId, "name", zName,
                                                         "partition", a[i].zState, "public_key", zHex));
        }
    /* the counties are in FIPS order, so each state's are consecutive */
    for (size_t i = 0; i < n && rc == PA_OK;) {
        json_t *pCounties = json_array();
        size_t j = i, nInState = 0;
        for (; j < n && strcmp(a[j].zState, a[i].zState) == 0; j++) {
            json_array_append_new(pCounties, json_string(a[j].zFips));
            nInState += a[j].nAgency;
        }
        if (nInState < *pnMinState)
            *pnMinState = nInState;
        json_array_append_new(*ppPartitions, json_pack("{s:s, s:o}", "name", a[i].zState, "counties", pCounties));
        i = j;
    }
    *pnKeys = k;
    *pnCounty = n;
    *pnState = json_array_size(*ppPartitions);
    (void)nState;
done:
    free(ap);
    free(a);
    pa_csv_free(cc);
    return rc;
}

/* The demo's deployment folder, its task replaced by the national one; the
 * agency keys go to n->aKeys. */
static int national_task(pa_bench_nodes *n, size_t nAgency, size_t *pnCounty, size_t *pnState)
{
    json_t *pTask = NULL, *pAgencies = NULL, *pPartitions = NULL;
    json_error_t e;

    size_t nMinState = SIZE_MAX;
    PA_GUARD(national_parties(n->so.zDataDir, nAgency, &pAgencies, &pPartitions, &n->aKeys, &n->nKeys, pnCounty,
                              pnState, &nMinState));
    if ((pTask = json_load_file(n->zTask, 0, &e)) == NULL) {
        json_decref(pAgencies);
        json_decref(pPartitions);
        return pa_fail(PA_EDECODE, "%s: %s", n->zTask, e.text);
    }
    json_object_set_new(pTask, "name", json_string("United States monthly incidents by offense, immigration "
                                                   "status and role (synthetic agencies)"));
    json_object_set_new(json_object_get(pTask, "parties"), "agencies", pAgencies);
    json_object_set_new(pTask, "partitions", pPartitions);
    /* 10 as in the default task; fewer only when a state has fewer agencies (--quick: Delaware) */
    json_object_set_new(json_object_get(pTask, "batching"), "min_agencies",
                        json_integer((json_int_t)(nMinState < 10 ? nMinState : 10)));
    int rc = json_dump_file(pTask, n->zTask, JSON_INDENT(1)) == 0 ? PA_OK
                                                                  : pa_fail(PA_EIO, "%s: cannot write", n->zTask);
    json_decref(pTask);
    return rc;
}

/* One month for every agency: pa_bench_period month PERIOD_MONTH. */
static void national_period(char zOut[8], size_t iMonth)
{
    pa_bench_period(zOut, PERIOD_MONTH + iMonth);
}

/* Each release must count exactly the acknowledged agencies and reports of its batch. */
typedef struct {
    const pa_client_batch *aBatch;
    size_t *anWant; /* per batch: acknowledged reports (one per agency) */
    size_t nWrong;
} release_check;

static int check_release(void *pCtx, size_t i, const pa_collection *pColl)
{
    release_check *r = pCtx;
    if (pColl->nAgency != r->anWant[i] || pColl->nReport != r->anWant[i]) {
        if (r->nWrong++ < 5)
            fprintf(stderr, "bench national: %s/%s counts %llu agencies and %llu reports, %zu were acknowledged\n",
                    r->aBatch[i].zPeriod, r->aBatch[i].zPartition, (unsigned long long)pColl->nAgency,
                    (unsigned long long)pColl->nReport, r->anWant[i]);
        return 1;
    }
    return 0;
}

static double file_mb(const char *zDir, const char *zName)
{
    char zPath[PATH_MAX + 64];
    struct stat st;
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zName);
    return stat(zPath, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

void pa_bench_national(pa_bench *b)
{
    char zParams[160], zWhat[64], zPeriod[8];
    pa_bench_nodes n;
    pa_keys collector;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    pa_bench_loader l;
    pa_bench_rss_watch rw;
    pa_client_batch *aBatch = NULL;
    size_t nCounty = 0, nState = 0, *anWant = NULL;
    double *aCollLatency = NULL;
    pthread_t watcher;
    int bWatcher = 0, bCollector = 0;
    pa_store *pCountStore = NULL;
    size_t nAgency = pa_bench_quick(b) ? QUICK_AGENCIES : NATIONAL_AGENCIES;
    const char *zLeaderStore = getenv("PA_BENCH_LEADER_STORE"), *zHelperStore = getenv("PA_BENCH_HELPER_STORE");
    char zBackend[64];
    int nWorkers = getenv("PA_BENCH_WORKERS") ? (int)strtol(getenv("PA_BENCH_WORKERS"), NULL, 10) : 1;

    memset(&l, 0, sizeof l);
    memset(&rw, 0, sizeof rw);
    if (nWorkers < 1 || nWorkers > PA_BENCH_MAX_WORKERS)
        nWorkers = 1;
    snprintf(zBackend, sizeof zBackend, "%s, %d worker%s per role",
             zLeaderStore && strncmp(zLeaderStore, "postgresql://", 13) == 0 ? "PostgreSQL" : "SQLite", nWorkers,
             nWorkers > 1 ? "s" : "");
    if (getenv("PA_BENCH_AGENCIES"))
        nAgency = (size_t)strtoull(getenv("PA_BENCH_AGENCIES"), NULL, 10);
    if (pa_bench_nodes_init(&n, b, "national", "national") != PA_OK)
        goto done;
    n.so.nAgencies = 10;
    pa_bench_period(zPeriod, PERIOD_MONTH);
    double tSetup = pa_bench_now_s();
    if (pa_bench_nodes_deploy(&n) != PA_OK)
        goto done;
    if (national_task(&n, nAgency, &nCounty, &nState) != PA_OK ||
        pa_bench_node_config(n.zDir, "leader", zLeaderStore, nWorkers > 1, 0) != PA_OK ||
        pa_bench_node_config(n.zDir, "helper", zHelperStore, nWorkers > 1, 0) != PA_OK) {
        pa_bench_fail(b, "national", "set-up failed: %s", pa_error_detail());
        goto done;
    }
    if (pa_bench_nodes_load(&n) != PA_OK)
        goto done;
    double tTask = pa_bench_now_s() - tSetup;
    double tSeal = pa_bench_now_s();
    if (pa_bench_nodes_seal(&n, n.nKeys, national_period) != PA_OK)
        goto done;
    tSeal = pa_bench_now_s() - tSeal;
    unsigned nClients = getenv("PA_BENCH_CLIENTS") ? (unsigned)strtoul(getenv("PA_BENCH_CLIENTS"), NULL, 10) : CLIENTS;
    pa_bench_nodes_loader(&n, &l, nClients < 1 || nClients > 256 ? CLIENTS : nClients);
    fprintf(stderr, "bench national: %zu agencies in %zu counties, %zu states; task %.1f s, reports sealed in %.1f s "
                    "(2 threads, not timed below)\n", n.nKeys, nCounty, nState, tTask, tSeal);
    if (pa_bench_nodes_start(&n, "helper", nWorkers) != PA_OK || pa_bench_nodes_start(&n, "leader", nWorkers) != PA_OK)
        goto done;
    co.ca_file = n.zCa;
    if (pa_http_client_new(&c, &co) != PA_OK) {
        pa_bench_fail(b, "national", "client: %s", pa_error_detail());
        goto done;
    }

    /* end to end: upload (aggregation running meanwhile), the rest of the aggregation, collection */
    if (nWorkers > 1) { /* several leader processes: the aggregated reports are counted in their store */
        char zStore[sizeof n.zDir + 16];
        snprintf(zStore, sizeof zStore, "%s/leader.db", n.zDir);
        if (pa_store_open_readonly(&pCountStore, zLeaderStore ? zLeaderStore : zStore) != PA_OK) {
            pa_bench_fail(b, "national", "the leader's store, to count aggregated reports: %s", pa_error_detail());
            goto done;
        }
    }
    double t0 = pa_bench_now_s();
    pa_bench_agg_watch w = {c, n.t->leader.zEndpoint, 0, t0 + 300, 0, 20, 0, 0, 0, 0, pCountStore};
    double cpuL0 = pa_bench_nodes_cpu_s(&n, 0), cpuH0 = pa_bench_nodes_cpu_s(&n, 1);
    pa_bench_rss_watch_start(&rw, &n.aiPid[0][0], 2 * PA_BENCH_MAX_WORKERS);
    bWatcher = pthread_create(&watcher, NULL, pa_bench_agg_watch_run, &w) == 0;
    pa_bench_loader_run(&l);
    double tUpload = pa_bench_now_s() - t0;
    size_t nAcked = atomic_load(&l.nAcked);
    atomic_store(&w.nTarget, (long)nAcked);
    if (bWatcher)
        pthread_join(watcher, NULL);
    bWatcher = 0;
    if (atomic_load(&l.nFailed))
        pa_bench_fail(b, "national", "%zu of %zu uploads failed", atomic_load(&l.nFailed), l.n);
    if (nAcked == 0 || w.tLast == 0) {
        pa_bench_fail(b, "national", "aggregation did not finish (%ld of %zu reports)", w.nDone, nAcked);
        goto done;
    }
    double tAggDone = w.tLast - t0;

    /* collection: the national batch and every state, counted against what was acknowledged */
    aBatch = calloc(1 + n.t->nPartition, sizeof *aBatch);
    anWant = calloc(1 + n.t->nPartition, sizeof *anWant);
    aCollLatency = calloc(1 + n.t->nPartition, sizeof *aCollLatency);
    if (aBatch == NULL || anWant == NULL || aCollLatency == NULL || pa_bench_nodes_collector(&n, &collector) != PA_OK) {
        pa_bench_fail(b, "national", "collection set-up: %s", pa_error_detail());
        goto done;
    }
    bCollector = 1;
    for (size_t i = 0; i <= n.t->nPartition; i++) {
        aBatch[i].zPeriod = zPeriod;
        aBatch[i].zPartition = i == 0 ? "state" : n.t->aPartition[i - 1].zName;
    }
    for (size_t i = 0; i < l.n; i++)
        if (l.abAcked[i]) {
            const pa_task_agency *pA = pa_task_find_agency(n.t, n.aKeys[i].zId);
            anWant[0]++;
            for (size_t j = 0; pA && j < n.t->nPartition; j++)
                if (strcmp(n.t->aPartition[j].zName, pA->zPartition) == 0)
                    anWant[1 + j]++;
        }
    release_check rc = {aBatch, anWant, 0};
    double tColl0 = pa_bench_now_s();
    int rcColl = pa_client_collect_many(&co, n.t, &collector, aBatch, 1 + n.t->nPartition, COLLECTORS, 120,
                                        check_release, &rc, aCollLatency);
    double tEnd = pa_bench_now_s();
    if (rcColl != PA_OK || rc.nWrong) {
        pa_bench_fail(b, "national", "collection: %s (%zu releases with wrong counts)", pa_error_detail(),
                      rc.nWrong);
        goto done;
    }
    double cpuL = pa_bench_nodes_cpu_s(&n, 0) - cpuL0, cpuH = pa_bench_nodes_cpu_s(&n, 1) - cpuH0;
    double rssL = pa_bench_nodes_peak_rss_mb(&n, 0), rssH = pa_bench_nodes_peak_rss_mb(&n, 1);
    pa_bench_rss_watch_stop(&rw);
    int bAlive = pa_bench_nodes_alive(&n, -1);
    pa_bench_nodes_stop(&n); /* a graceful stop checkpoints the WAL: the files hold everything */
    if (!bAlive)
        pa_bench_fail(b, "national", "a server died during the run");
    double mbL = file_mb(n.zDir, "leader.db") + file_mb(n.zDir, "leader.db-wal");
    double mbH = file_mb(n.zDir, "helper.db") + file_mb(n.zDir, "helper.db-wal");

    snprintf(zParams, sizeof zParams, "%zu agencies, %zu counties, %s", nAcked, nCounty, zBackend);
    pa_bench_add(b, "national", "upload", zParams, (double)nAcked / tUpload, "reports/s", NULL);
    pa_bench_add(b, "national", "upload latency p50", "16 agencies at once, HTTPS keep-alive",
                 1e3 * pa_bench_loader_latency(&l, 0.50), "ms", NULL);
    pa_bench_add(b, "national", "upload latency p99", "16 agencies at once, HTTPS keep-alive",
                 1e3 * pa_bench_loader_latency(&l, 0.99), "ms", NULL);
    if (w.tLast > w.tFirst)
        pa_bench_add(b, "national", "aggregation", "first report aggregated to last, during the upload",
                     (double)(w.nDone - w.nFirst) / (w.tLast - w.tFirst), "reports/s", NULL);
    pa_bench_add(b, "national", "aggregation done after", "the upload's start", tAggDone, "s", NULL);
    snprintf(zWhat, sizeof zWhat, "national + %zu states, %d collectors", n.t->nPartition, COLLECTORS);
    pa_bench_add(b, "national", "collection", zWhat, tEnd - tColl0, "s", NULL);
    pa_bench_add(b, "national", "end to end", zParams, tEnd - t0, "s", zLeaderStore ? "<= 45" : "<= 30");
    double anonL = 0, anonH = 0;
    for (int i = 0; i < PA_BENCH_MAX_WORKERS; i++) {
        anonL = rw.arPeakAnon[i] > anonL ? rw.arPeakAnon[i] : anonL;
        anonH = rw.arPeakAnon[PA_BENCH_MAX_WORKERS + i] > anonH ? rw.arPeakAnon[PA_BENCH_MAX_WORKERS + i] : anonH;
    }
    snprintf(zWhat, sizeof zWhat, "upload, aggregation, collection; %d process%s", nWorkers,
             nWorkers > 1 ? "es" : "");
    pa_bench_add(b, "national", "leader CPU per report", zWhat, 1e6 * cpuL / (double)nAcked, "us", NULL);
    snprintf(zWhat, sizeof zWhat, "aggregation, collection; %d process%s", nWorkers, nWorkers > 1 ? "es" : "");
    pa_bench_add(b, "national", "helper CPU per report", zWhat, 1e6 * cpuH / (double)nAcked, "us", NULL);
    snprintf(zWhat, sizeof zWhat, "VmHWM%s", nWorkers > 1 ? ", the largest worker" : "");
    pa_bench_add(b, "national", "leader peak RSS", zWhat, rssL, "MB", NULL);
    pa_bench_add(b, "national", "helper peak RSS", zWhat, rssH, "MB", NULL);
    snprintf(zWhat, sizeof zWhat, "RssAnon (no mapped store pages)%s", nWorkers > 1 ? ", the largest worker" : "");
    pa_bench_add(b, "national", "leader peak anonymous memory", zWhat, anonL, "MB", NULL);
    pa_bench_add(b, "national", "helper peak anonymous memory", zWhat, anonH, "MB", NULL);
    if (zLeaderStore == NULL) { /* SQLite files; a PostgreSQL database is sized by benchmarks/national-pg.sh */
        pa_bench_add(b, "national", "leader store per 1,000 reports", "leader.db + WAL after stop",
                     1e3 * mbL / (double)nAcked, "MB", NULL);
        pa_bench_add(b, "national", "helper store per 1,000 reports", "helper.db + WAL after stop",
                     1e3 * mbH / (double)nAcked, "MB", NULL);
    }
done:
    pa_bench_rss_watch_stop(&rw);
    pa_store_close(pCountStore);
    if (bCollector)
        pa_keys_wipe(&collector);
    pa_bench_nodes_stop(&n);
    pa_http_client_free(&c);
    pa_bench_loader_free(&l);
    free(aBatch);
    free(anWant);
    free(aCollLatency);
    pa_bench_nodes_free(&n);
}
