/*
 * Benchmarks over HTTPS on loopback (issue: real parties): a leader and a helper
 * as separate `privagg serve` processes on this 2-core machine, the Missouri task
 * with 646 agencies, reports made beforehand (sharding is the agencies' work):
 *   upload       16 concurrent clients POST every report (keep-alive), reports/s,
 *                with the helper stopped so that no aggregation competes for the
 *                two cores (each phase is measured alone)
 *   aggregation  the helper started: from the first report verified to the last,
 *                reports/s (read from the leader's /metrics)
 * and, for the upload, the CPU time per report of the leader process and of the
 * clients (this process), which is what bounds the rate on two shared cores.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "common/guard.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/retention.h"
#include "privagg/store.h"

#define MONTHS 12 /* 2025-11 .. 2026-10: 7,752 uploads; then a year of releases */
#define QUICK_REPORTS 200 /* --quick: a smoke run of the whole path */
#define CLIENTS 16
#define MAX_CLIENTS 64

/* Busy, I/O-wait and total jiffies of the whole machine, from /proc/stat. */
static void machine_jiffies(unsigned long long *pBusy, unsigned long long *pIoWait, unsigned long long *pTotal)
{
    unsigned long long v[10] = {0};
    FILE *f = fopen("/proc/stat", "r");
    *pBusy = *pIoWait = *pTotal = 0;
    if (f == NULL)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
        for (int i = 0; i < 8; i++)
            *pTotal += v[i];
        *pBusy = *pTotal - v[3] - v[4]; /* not idle, not waiting for I/O */
        *pIoWait = v[4];
    }
    fclose(f);
}

/* The deployment with every agency's reports of the first nMonths months sealed
 * (report k: agency k mod 646, month k / 646), --quick: QUICK_REPORTS of them. */
static int network_setup(pa_bench_nodes *n, pa_bench *b, const char *zGroup, const char *zName, size_t nMonths,
                         int bReusePort)
{
    PA_GUARD(pa_bench_nodes_init(n, b, zGroup, zName));
    PA_GUARD(pa_bench_nodes_deploy(n));
    if (bReusePort && (pa_bench_node_config(n->zDir, "leader", NULL, 1, 0) != PA_OK ||
                       pa_bench_node_config(n->zDir, "helper", NULL, 1, 0) != PA_OK)) {
        pa_bench_fail(b, zGroup, "set-up failed: %s", pa_error_detail());
        return PA_EIO;
    }
    PA_GUARD(pa_bench_nodes_load(n));
    PA_GUARD(pa_bench_nodes_keys(n));
    size_t nReports = n->t->nAgency * nMonths;
    if (pa_bench_quick(b) && nReports > QUICK_REPORTS)
        nReports = QUICK_REPORTS;
    return pa_bench_nodes_seal(n, nReports, pa_bench_period);
}

void pa_bench_network(pa_bench *b)
{
    pa_bench_nodes n;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    pa_bench_loader l;
    int nClients = getenv("PA_BENCH_CLIENTS") ? (int)strtol(getenv("PA_BENCH_CLIENTS"), NULL, 10) : CLIENTS;

    memset(&l, 0, sizeof l);
    if (network_setup(&n, b, "network", "netbench", MONTHS, 0) != PA_OK ||
        pa_bench_nodes_start(&n, "leader", 1) != PA_OK)
        goto done;
    co.ca_file = n.zCa;
    pa_http_client_new(&c, &co);

    if (nClients < 1 || nClients > MAX_CLIENTS)
        nClients = CLIENTS;
    pa_bench_nodes_loader(&n, &l, (unsigned)nClients);
    double t0 = pa_bench_now_s();
    double cpuLeader0 = pa_bench_nodes_cpu_s(&n, 0), cpuSelf0 = pa_bench_cpu_s();
    unsigned long long nBusy0, nWait0, nTotal0, nBusy1, nWait1, nTotal1;
    machine_jiffies(&nBusy0, &nWait0, &nTotal0);
    if (pa_bench_loader_run(&l) != PA_OK) {
        pa_bench_fail(b, "network", "uploaders: out of memory or no thread");
        goto done;
    }
    double tUpload = pa_bench_now_s() - t0;
    double cpuLeader = pa_bench_nodes_cpu_s(&n, 0) - cpuLeader0, cpuSelf = pa_bench_cpu_s() - cpuSelf0;
    machine_jiffies(&nBusy1, &nWait1, &nTotal1);
    /* only what succeeded counts; any failure fails the run */
    size_t nOk = atomic_load(&l.nAcked);
    if (atomic_load(&l.nFailed))
        pa_bench_fail(b, "network", "%zu of %zu uploads failed", atomic_load(&l.nFailed), l.n);
    if (nOk == 0) {
        pa_bench_fail(b, "network", "no upload succeeded");
        goto done;
    }
    /* aggregation: the helper comes up; from the first report verified to the last */
    if (pa_bench_nodes_start(&n, "helper", 1) != PA_OK)
        goto done;
    pa_bench_agg_watch w = {c, n.t->leader.zEndpoint, (long)nOk, pa_bench_now_s() + 120, 0, 20, 0, 0, 0, 0, NULL};
    pa_bench_agg_watch_run(&w);
    char zParams[96];
    snprintf(zParams, sizeof zParams, "%zu reports of 75 KB, %d clients, HTTPS", nOk, nClients);
    pa_bench_add(b, "network", "upload", zParams, (double)nOk / tUpload, "reports/s", ">= 2000");
    pa_bench_add(b, "network", "upload: leader CPU per report", "TLS, HTTP, checks, verify_init, store",
                 cpuLeader / (double)nOk * 1e6, "us", NULL);
    pa_bench_add(b, "network", "upload: client CPU per report", "the 16 client threads (curl, TLS)",
                 cpuSelf / (double)nOk * 1e6, "us", NULL);
    if (nTotal1 > nTotal0) {
        pa_bench_add(b, "network", "upload: machine CPU busy", "both cores, all processes",
                     100.0 * (double)(nBusy1 - nBusy0) / (double)(nTotal1 - nTotal0), "%", NULL);
        pa_bench_add(b, "network", "upload: machine CPU idle waiting for I/O", "both cores",
                     100.0 * (double)(nWait1 - nWait0) / (double)(nTotal1 - nTotal0), "%", NULL);
    }
    long nCommits = pa_bench_leader_counter(c, n.t->leader.zEndpoint, "privagg_upload_commits_total");
    if (nCommits > 0)
        pa_bench_add(b, "network", "upload: reports per group commit", "one transaction, one fsync",
                     (double)nOk / (double)nCommits, "reports", NULL);
    if (w.tLast > w.tFirst)
        pa_bench_add(b, "network", "aggregation (leader + helper processes)", "both servers on 2 cores",
                     (double)(w.nDone - w.nFirst) / (w.tLast - w.tFirst), "reports/s", ">= 1000");
    else
        pa_bench_fail(b, "network", "aggregation did not finish (%ld of %zu reports)", w.nDone, nOk);
    /* a year of releases (quick: the statewide batch of the one month uploaded) */
    if (w.tLast > 0)
        pa_bench_collect_year(b, &n, pa_bench_quick(b) ? 1 : MONTHS, pa_bench_quick(b));
done:
    pa_bench_nodes_stop(&n);
    pa_http_client_free(&c);
    pa_bench_loader_free(&l);
    pa_bench_nodes_free(&n);
}

/* ---------------------------------------------------------------- workers */
/*
 * Several workers on one store (issue 16): the same pending reports (uploaded
 * once with the helper down, the leader's store copied) aggregated by 1 leader
 * + 1 helper process, 2 leaders + 1 helper and 2 leaders + 2 helpers, each pair
 * of processes sharing its role's SQLite store and port (listen.reuse_port).
 * Timed from the first report accepted to the last (read from the store); the
 * CPU time of every process over that window, per report, and how busy the
 * machine's two cores were.
 */
#define WORKER_MONTHS 6

static int copy_file(const char *zFrom, const char *zTo)
{
    char zBuf[1 << 16];
    size_t n;
    int rc = PA_OK;
    FILE *a = fopen(zFrom, "rb"), *o = a ? fopen(zTo, "wb") : NULL;
    while (o && (n = fread(zBuf, 1, sizeof zBuf, a)) > 0)
        if (fwrite(zBuf, 1, n, o) != n)
            rc = PA_EIO;
    if (a == NULL || o == NULL || ferror(a))
        rc = PA_EIO;
    if (a)
        fclose(a);
    if (o && fclose(o) != 0)
        rc = PA_EIO;
    if (rc == PA_OK)
        chmod(zTo, 0600);
    return rc == PA_OK ? PA_OK : pa_fail(PA_EIO, "copy %s to %s failed", zFrom, zTo);
}

static void remove_store(const char *zDir, const char *zName)
{
    char zPath[PATH_MAX + 64];
    static const char *const azSuffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(zPath, sizeof zPath, "%s/%s%s", zDir, zName, azSuffix[i]);
        unlink(zPath);
    }
}

/* Reports accepted in the leader's store (-1 on error). */
static int64_t accepted_in(const char *zDb)
{
    pa_store *p;
    pa_store_stats st;
    int64_t n = -1;
    if (pa_store_open_readonly(&p, zDb) != PA_OK)
        return -1;
    if (pa_store_stats_read(p, NULL, &st) == PA_OK)
        n = st.nAccepted + st.nRejected;
    pa_store_close(p);
    return n;
}

/* One run: nLeader leader and nHelper helper processes aggregate the snapshot. */
static void workers_run(pa_bench *b, pa_bench_nodes *pNodes, int nLeader, int nHelper, int64_t nWant,
                        double *pRate)
{
    const char *zDir = pNodes->zDir;
    char zDb[PATH_MAX + 64], zSnap[PATH_MAX + 64], zParams[96], zName[96];
    double aCpu0[2][PA_BENCH_MAX_WORKERS] = {{0}}, aCpu[2][PA_BENCH_MAX_WORKERS] = {{0}}, tFirst = 0, tLast = 0;
    unsigned long long nBusy0 = 0, nWait0 = 0, nTotal0 = 0, nBusy1, nWait1, nTotal1;
    int64_t nFirst = 0, nDone = 0;

    *pRate = 0;
    snprintf(zDb, sizeof zDb, "%s/leader.db", zDir);
    snprintf(zSnap, sizeof zSnap, "%s/leader.snapshot", zDir);
    remove_store(zDir, "leader.db");
    remove_store(zDir, "helper.db");
    if (copy_file(zSnap, zDb) != PA_OK) {
        pa_bench_fail(b, "workers", "%s", pa_error_detail());
        return;
    }
    if (pa_bench_nodes_start(pNodes, "helper", nHelper) != PA_OK ||
        pa_bench_nodes_start(pNodes, "leader", nLeader) != PA_OK)
        nWant = -1;
    double tEnd = pa_bench_now_s() + 180;
    while (nWant > 0 && pa_bench_now_s() < tEnd) {
        int64_t v = accepted_in(zDb);
        if (v > 0 && tFirst == 0) {
            tFirst = pa_bench_now_s();
            nFirst = v;
            for (int r = 0; r < 2; r++)
                for (int i = 0; i < pNodes->anWorkers[r]; i++)
                    aCpu0[r][i] = pa_bench_process_cpu_s(pNodes->aiPid[r][i]);
            machine_jiffies(&nBusy0, &nWait0, &nTotal0);
        }
        if (v >= nWant) {
            tLast = pa_bench_now_s();
            nDone = v;
            for (int r = 0; r < 2; r++)
                for (int i = 0; i < pNodes->anWorkers[r]; i++)
                    aCpu[r][i] = pa_bench_process_cpu_s(pNodes->aiPid[r][i]) - aCpu0[r][i];
            break;
        }
        usleep(20000);
    }
    machine_jiffies(&nBusy1, &nWait1, &nTotal1);
    pa_bench_nodes_stop(pNodes);
    if (nWant < 0)
        return;
    if (nDone < nWant || tLast <= tFirst) {
        pa_bench_fail(b, "workers", "%d leader(s), %d helper(s): aggregation did not finish (%lld of %lld)",
                      nLeader, nHelper, (long long)nDone, (long long)nWant);
        return;
    }
    int64_t nTimed = nDone - nFirst;
    double cpuLeader = 0, cpuHelper = 0;
    for (int i = 0; i < PA_BENCH_MAX_WORKERS; i++) {
        cpuLeader += aCpu[0][i];
        cpuHelper += aCpu[1][i];
    }
    *pRate = (double)nTimed / (tLast - tFirst);
    snprintf(zName, sizeof zName, "aggregation, %d leader + %d helper processes", nLeader, nHelper);
    snprintf(zParams, sizeof zParams, "%lld reports, shared SQLite stores", (long long)nTimed);
    pa_bench_add(b, "workers", zName, zParams, *pRate, "reports/s", NULL);
    snprintf(zName, sizeof zName, "  leader CPU per report (%d process%s)", nLeader, nLeader > 1 ? "es" : "");
    pa_bench_add(b, "workers", zName, "all leader processes", cpuLeader / (double)nTimed * 1e3, "ms", NULL);
    for (int i = 0; nLeader > 1 && i < nLeader; i++) {
        snprintf(zName, sizeof zName, "  leader %d CPU per report", i + 1);
        pa_bench_add(b, "workers", zName, "its share of every report", aCpu[0][i] / (double)nTimed * 1e3, "ms",
                     NULL);
    }
    snprintf(zName, sizeof zName, "  helper CPU per report (%d process%s)", nHelper, nHelper > 1 ? "es" : "");
    pa_bench_add(b, "workers", zName, "all helper processes", cpuHelper / (double)nTimed * 1e3, "ms", NULL);
    if (nTotal1 > nTotal0)
        pa_bench_add(b, "workers", "  machine CPU busy", "both cores, all processes",
                     100.0 * (double)(nBusy1 - nBusy0) / (double)(nTotal1 - nTotal0), "%", NULL);
}

void pa_bench_workers(pa_bench *b)
{
    char zPath[PATH_MAX + 64], zSnap[PATH_MAX + 64];
    pa_bench_nodes n;
    pa_bench_loader l;
    double aRate[3] = {0};

    memset(&l, 0, sizeof l);
    /* the uploads, once, with the helper down: every report stays pending */
    if (network_setup(&n, b, "workers", "workbench", WORKER_MONTHS, 1) != PA_OK ||
        pa_bench_nodes_start(&n, "leader", 1) != PA_OK)
        goto done;
    pa_bench_nodes_loader(&n, &l, CLIENTS);
    int rcUpload = pa_bench_loader_run(&l);
    pa_bench_nodes_stop(&n);
    snprintf(zSnap, sizeof zSnap, "%s/leader.snapshot", n.zDir);
    snprintf(zPath, sizeof zPath, "%s/leader.db", n.zDir);
    if (rcUpload != PA_OK || atomic_load(&l.nFailed) || copy_file(zPath, zSnap) != PA_OK) {
        pa_bench_fail(b, "workers", "%zu uploads failed, or the snapshot: %s", atomic_load(&l.nFailed),
                      pa_error_detail());
        goto done;
    }
    workers_run(b, &n, 1, 1, (int64_t)n.nMsg, &aRate[0]);
    if (!pa_bench_quick(b))
        workers_run(b, &n, 2, 1, (int64_t)n.nMsg, &aRate[1]);
    workers_run(b, &n, 2, 2, (int64_t)n.nMsg, &aRate[2]);
    if (aRate[0] > 0 && aRate[2] > 0)
        pa_bench_add(b, "workers", "2 workers per role / 1", "aggregation reports/s", aRate[2] / aRate[0], "x",
                     NULL);
done:
    pa_bench_loader_free(&l);
    pa_bench_nodes_free(&n);
}
