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
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/demo.h"
#include "privagg/submit.h"
#include "privagg/synth.h"

#define MONTHS 12 /* 2025-11 .. 2026-10: 7,752 uploads; then a year of releases */
#define QUICK_REPORTS 200 /* --quick: a smoke run of the whole path */
#define CLIENTS 16
#define MAX_CLIENTS 64

typedef struct {
    const pa_task *t;
    const char *zCa;
    uint8_t **apMsg;
    size_t *anMsg, n;
    atomic_size_t next, failed, missing; /* failed uploads; reports that could not be made */
} upload_work;

static void *uploader(void *p)
{
    upload_work *w = p;
    pa_http_client *c = NULL;
    pa_http_client_opts o = {0};
    o.ca_file = w->zCa;
    if (pa_http_client_new(&c, &o) != PA_OK)
        c = NULL; /* every upload this client would have made fails */
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n)
            break;
        if (c == NULL || w->apMsg[i] == NULL || pa_client_upload(c, w->t, w->apMsg[i], w->anMsg[i]) != PA_OK)
            atomic_fetch_add(&w->failed, 1);
    }
    pa_http_client_free(&c);
    return NULL;
}

/* The reports of every agency and month, made beforehand on two threads. */
typedef struct {
    const pa_task *t;
    const pa_synth *s;
    const char *zDir;
    upload_work *w;
    size_t iFirst, nStep;
} make_work;

static void *make_reports(void *p)
{
    make_work *m = p;
    const pa_task *t = m->t;
    for (size_t k = m->iFirst; k < m->w->n; k += m->nStep) {
        size_t iMonth = k / t->nAgency, i = k % t->nAgency;
        char zPeriod[8], zPath[PATH_MAX + 64];
        uint64_t a[270];
        pa_keys key;
        pa_bench_period(zPeriod, iMonth);
        snprintf(zPath, sizeof zPath, "%s/keys/agencies/%s.key", m->zDir, t->aAgency[i].zId);
        if (pa_keys_read_private(&key, zPath) != PA_OK) {
            atomic_fetch_add(&m->w->missing, 1);
            continue;
        }
        pa_synth_counts(m->s, &t->aAgency[i], zPeriod, a);
        if (pa_submit_report(t, &key, zPeriod, a, 270, &m->w->apMsg[k], &m->w->anMsg[k]) != PA_OK)
            atomic_fetch_add(&m->w->missing, 1);
        pa_keys_wipe(&key);
    }
    return NULL;
}

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

/* The leader's count of aggregated reports. */
static long aggregated(pa_http_client *c, const char *zLeader)
{
    return pa_bench_leader_counter(c, zLeader, "privagg_reports_total{outcome=\"accepted\"}");
}

void pa_bench_network(pa_bench *b)
{
    char zDir[] = "/tmp/privagg_netbench_XXXXXX", zExe[PATH_MAX], zPath[PATH_MAX + 64], zCa[PATH_MAX + 64];
    pa_demo_setup_opts so;
    pa_demo_servers srv = {0, 0};
    pa_task *t = NULL;
    pa_synth *s = NULL;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    upload_work w;
    pthread_t aThread[MAX_CLIENTS];
    int nClients = getenv("PA_BENCH_CLIENTS") ? (int)strtol(getenv("PA_BENCH_CLIENTS"), NULL, 10) : CLIENTS;
    ssize_t k = readlink("/proc/self/exe", zExe, sizeof zExe - 1);

    if (k <= 0 || mkdtemp(zDir) == NULL) {
        pa_bench_fail(b, "network", "set-up: no executable path or temporary folder");
        return;
    }
    zExe[k] = '\0';
    snprintf(strrchr(zExe, '/') + 1, sizeof zExe - (size_t)(strrchr(zExe, '/') + 1 - zExe), "privagg");
    memset(&so, 0, sizeof so);
    so.zDir = zDir;
    so.zDataDir = PA_SOURCE_DIR "/data";
    so.nMinAgencies = 10;
    so.rBudgetRho = 1.0;
    so.rRhoState = 0.5;
    so.rRhoPartition = 0.5;
    so.nLeaderPort = pa_demo_free_port();
    so.nHelperPort = pa_demo_free_port();
    snprintf(zPath, sizeof zPath, "%s/task.json", zDir);
    snprintf(zCa, sizeof zCa, "%s/tls/cert.pem", zDir);
    if (pa_demo_setup(&so) != PA_OK || pa_task_load(&t, zPath) != PA_OK ||
        pa_synth_new(&s, t, PA_SOURCE_DIR "/data", 9) != PA_OK) {
        pa_bench_fail(b, "network", "set-up failed: %s", pa_error_detail());
        goto done;
    }
    memset(&w, 0, sizeof w);
    w.t = t;
    w.zCa = zCa;
    w.n = t->nAgency * MONTHS;
    if (pa_bench_quick(b) && w.n > QUICK_REPORTS)
        w.n = QUICK_REPORTS;
    w.apMsg = calloc(w.n, sizeof *w.apMsg);
    w.anMsg = calloc(w.n, sizeof *w.anMsg);
    make_work aMake[2] = {{t, s, zDir, &w, 0, 2}, {t, s, zDir, &w, 1, 2}};
    for (int i = 0; i < 2; i++)
        pthread_create(&aThread[i], NULL, make_reports, &aMake[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(aThread[i], NULL);
    if (atomic_load(&w.missing))
        pa_bench_fail(b, "network", "%zu of %zu reports could not be made", atomic_load(&w.missing), w.n);
    if (pa_demo_start_role(&srv, zExe, zDir, "leader") != PA_OK) {
        pa_bench_fail(b, "network", "servers: %s", pa_error_detail());
        goto done;
    }
    co.ca_file = zCa;
    pa_http_client_new(&c, &co);

    double t0 = pa_bench_now_s(), tFirst = 0, tLast = 0;
    double cpuLeader0 = pa_bench_process_cpu_s(srv.iLeaderPid), cpuSelf0 = pa_bench_cpu_s();
    unsigned long long nBusy0, nWait0, nTotal0, nBusy1, nWait1, nTotal1;
    machine_jiffies(&nBusy0, &nWait0, &nTotal0);
    if (nClients < 1 || nClients > MAX_CLIENTS)
        nClients = CLIENTS;
    for (int i = 0; i < nClients; i++)
        pthread_create(&aThread[i], NULL, uploader, &w);
    for (int i = 0; i < nClients; i++)
        pthread_join(aThread[i], NULL);
    double tUpload = pa_bench_now_s() - t0;
    double cpuLeader = pa_bench_process_cpu_s(srv.iLeaderPid) - cpuLeader0, cpuSelf = pa_bench_cpu_s() - cpuSelf0;
    machine_jiffies(&nBusy1, &nWait1, &nTotal1);
    /* aggregation: the helper comes up; from the first report verified to the last */
    /* only what succeeded counts; any failure fails the run */
    size_t nOk = w.n - atomic_load(&w.failed);
    long nDone = 0, nWant = (long)nOk;
    if (atomic_load(&w.failed))
        pa_bench_fail(b, "network", "%zu of %zu uploads failed", atomic_load(&w.failed), w.n);
    if (pa_demo_start_role(&srv, zExe, zDir, "helper") != PA_OK) {
        pa_bench_fail(b, "network", "helper: %s", pa_error_detail());
        goto done;
    }
    double tEnd = pa_bench_now_s() + 120;
    long nFirst = 0;
    while (pa_bench_now_s() < tEnd) {
        long v = aggregated(c, t->leader.zEndpoint);
        if (v > 0 && tFirst == 0) {
            tFirst = pa_bench_now_s();
            nFirst = v;
        }
        if (v >= nWant) {
            nDone = v;
            tLast = pa_bench_now_s();
            break;
        }
        usleep(20000);
    }
    char zParams[96];
    snprintf(zParams, sizeof zParams, "%zu reports of 75 KB, %d clients, HTTPS", nOk, nClients);
    if (nOk == 0) {
        pa_bench_fail(b, "network", "no upload succeeded");
        goto done;
    }
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
    long nCommits = pa_bench_leader_counter(c, t->leader.zEndpoint, "privagg_upload_commits_total");
    if (nCommits > 0)
        pa_bench_add(b, "network", "upload: reports per group commit", "one transaction, one fsync",
                     (double)nOk / (double)nCommits, "reports", NULL);
    if (nDone >= nWant && tLast > tFirst)
        pa_bench_add(b, "network", "aggregation (leader + helper processes)", "both servers on 2 cores",
                     (double)(nDone - nFirst) / (tLast - tFirst), "reports/s", ">= 1000");
    else
        pa_bench_fail(b, "network", "aggregation did not finish (%ld of %ld reports)", nDone, nWant);
    /* a year of releases (quick: the statewide batch of the one month uploaded) */
    if (nDone >= nWant)
        pa_bench_collect_year(b, t, zDir, zCa, pa_bench_quick(b) ? 1 : MONTHS, pa_bench_quick(b));
done:
    pa_demo_stop(&srv);
    pa_http_client_free(&c);
    for (size_t i = 0; w.apMsg && i < w.n; i++)
        free(w.apMsg[i]);
    free(w.apMsg);
    free(w.anMsg);
    pa_synth_free(s);
    pa_task_free(t);
    snprintf(zPath, sizeof zPath, "rm -rf %s", zDir);
    if (system(zPath) != 0)
        fprintf(stderr, "bench network: could not remove %s\n", zDir);
}
