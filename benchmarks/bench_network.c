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
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/demo.h"
#include "privagg/retention.h"
#include "privagg/store.h"
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
    so.bAgenciesInTask = 1; /* t->aAgency, keys/agencies/ */
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

/* listen.reuse_port in a node config (kept private). */
static int config_reuse_port(const char *zDir, const char *zRole)
{
    char zPath[PATH_MAX + 64];
    json_error_t e;
    snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zRole);
    json_t *pRoot = json_load_file(zPath, 0, &e), *pListen = pRoot ? json_object_get(pRoot, "listen") : NULL;
    int rc = pListen != NULL && json_object_set_new(pListen, "reuse_port", json_true()) == 0 &&
                     json_dump_file(pRoot, zPath, JSON_INDENT(2)) == 0 && chmod(zPath, 0600) == 0
                 ? PA_OK
                 : pa_fail(PA_EIO, "%s: cannot set listen.reuse_port", zPath);
    json_decref(pRoot);
    return rc;
}

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
static void workers_run(pa_bench *b, const char *zExe, const char *zDir, int nLeader, int nHelper, int64_t nWant,
                        double *pRate)
{
    pa_demo_servers aSrv[4];
    char zDb[PATH_MAX + 64], zSnap[PATH_MAX + 64], zParams[96], zName[96];
    int n = 0, rc = PA_OK;
    double aCpu0[4] = {0}, aCpu[4] = {0}, tFirst = 0, tLast = 0;
    unsigned long long nBusy0 = 0, nWait0 = 0, nTotal0 = 0, nBusy1, nWait1, nTotal1;
    int64_t nFirst = 0, nDone = 0;

    *pRate = 0;
    memset(aSrv, 0, sizeof aSrv);
    snprintf(zDb, sizeof zDb, "%s/leader.db", zDir);
    snprintf(zSnap, sizeof zSnap, "%s/leader.snapshot", zDir);
    remove_store(zDir, "leader.db");
    remove_store(zDir, "helper.db");
    if (copy_file(zSnap, zDb) != PA_OK) {
        pa_bench_fail(b, "workers", "%s", pa_error_detail());
        return;
    }
    for (int i = 0; i < nHelper && rc == PA_OK; i++, n++)
        rc = pa_demo_start_role(&aSrv[n], zExe, zDir, "helper");
    for (int i = 0; i < nLeader && rc == PA_OK; i++, n++)
        rc = pa_demo_start_role(&aSrv[n], zExe, zDir, "leader");
    if (rc != PA_OK) {
        pa_bench_fail(b, "workers", "servers: %s", pa_error_detail());
        nWant = -1;
    }
    double tEnd = pa_bench_now_s() + 180;
    while (nWant > 0 && pa_bench_now_s() < tEnd) {
        int64_t v = accepted_in(zDb);
        if (v > 0 && tFirst == 0) {
            tFirst = pa_bench_now_s();
            nFirst = v;
            for (int i = 0; i < n; i++)
                aCpu0[i] = pa_bench_process_cpu_s(aSrv[i].iLeaderPid ? aSrv[i].iLeaderPid : aSrv[i].iHelperPid);
            machine_jiffies(&nBusy0, &nWait0, &nTotal0);
        }
        if (v >= nWant) {
            tLast = pa_bench_now_s();
            nDone = v;
            for (int i = 0; i < n; i++)
                aCpu[i] = pa_bench_process_cpu_s(aSrv[i].iLeaderPid ? aSrv[i].iLeaderPid : aSrv[i].iHelperPid) - aCpu0[i];
            break;
        }
        usleep(20000);
    }
    machine_jiffies(&nBusy1, &nWait1, &nTotal1);
    for (int i = 0; i < n; i++)
        pa_demo_stop(&aSrv[i]);
    if (nWant < 0)
        return;
    if (nDone < nWant || tLast <= tFirst) {
        pa_bench_fail(b, "workers", "%d leader(s), %d helper(s): aggregation did not finish (%lld of %lld)",
                      nLeader, nHelper, (long long)nDone, (long long)nWant);
        return;
    }
    int64_t nTimed = nDone - nFirst;
    double cpuLeader = 0, cpuHelper = 0;
    for (int i = 0; i < n; i++)
        *(aSrv[i].iLeaderPid || i >= nHelper ? &cpuLeader : &cpuHelper) += aCpu[i];
    *pRate = (double)nTimed / (tLast - tFirst);
    snprintf(zName, sizeof zName, "aggregation, %d leader + %d helper processes", nLeader, nHelper);
    snprintf(zParams, sizeof zParams, "%lld reports, shared SQLite stores", (long long)nTimed);
    pa_bench_add(b, "workers", zName, zParams, *pRate, "reports/s", NULL);
    snprintf(zName, sizeof zName, "  leader CPU per report (%d process%s)", nLeader, nLeader > 1 ? "es" : "");
    pa_bench_add(b, "workers", zName, "all leader processes", cpuLeader / (double)nTimed * 1e3, "ms", NULL);
    for (int i = nHelper; nLeader > 1 && i < n; i++) {
        snprintf(zName, sizeof zName, "  leader %d CPU per report", i - nHelper + 1);
        pa_bench_add(b, "workers", zName, "its share of every report", aCpu[i] / (double)nTimed * 1e3, "ms", NULL);
    }
    snprintf(zName, sizeof zName, "  helper CPU per report (%d process%s)", nHelper, nHelper > 1 ? "es" : "");
    pa_bench_add(b, "workers", zName, "all helper processes", cpuHelper / (double)nTimed * 1e3, "ms", NULL);
    if (nTotal1 > nTotal0)
        pa_bench_add(b, "workers", "  machine CPU busy", "both cores, all processes",
                     100.0 * (double)(nBusy1 - nBusy0) / (double)(nTotal1 - nTotal0), "%", NULL);
}

void pa_bench_workers(pa_bench *b)
{
    char zDir[] = "/tmp/privagg_workbench_XXXXXX", zExe[PATH_MAX], zPath[PATH_MAX + 64], zCa[PATH_MAX + 64];
    char zSnap[PATH_MAX + 64];
    pa_demo_setup_opts so;
    pa_demo_servers srv = {0, 0};
    pa_task *t = NULL;
    pa_synth *s = NULL;
    upload_work w;
    pthread_t aThread[CLIENTS];
    ssize_t k = readlink("/proc/self/exe", zExe, sizeof zExe - 1);
    double aRate[3] = {0};

    memset(&w, 0, sizeof w);
    if (k <= 0 || mkdtemp(zDir) == NULL) {
        pa_bench_fail(b, "workers", "set-up: no executable path or temporary folder");
        return;
    }
    zExe[k] = '\0';
    snprintf(strrchr(zExe, '/') + 1, sizeof zExe - (size_t)(strrchr(zExe, '/') + 1 - zExe), "privagg");
    memset(&so, 0, sizeof so);
    so.bAgenciesInTask = 1; /* t->aAgency, keys/agencies/ */
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
        pa_synth_new(&s, t, PA_SOURCE_DIR "/data", 9) != PA_OK || config_reuse_port(zDir, "leader") != PA_OK ||
        config_reuse_port(zDir, "helper") != PA_OK) {
        pa_bench_fail(b, "workers", "set-up failed: %s", pa_error_detail());
        goto done;
    }
    w.t = t;
    w.zCa = zCa;
    w.n = t->nAgency * WORKER_MONTHS;
    if (pa_bench_quick(b) && w.n > QUICK_REPORTS)
        w.n = QUICK_REPORTS;
    w.apMsg = calloc(w.n, sizeof *w.apMsg);
    w.anMsg = calloc(w.n, sizeof *w.anMsg);
    make_work aMake[2] = {{t, s, zDir, &w, 0, 2}, {t, s, zDir, &w, 1, 2}};
    for (int i = 0; i < 2; i++)
        pthread_create(&aThread[i], NULL, make_reports, &aMake[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(aThread[i], NULL);
    /* the uploads, once, with the helper down: every report stays pending */
    if (atomic_load(&w.missing) || pa_demo_start_role(&srv, zExe, zDir, "leader") != PA_OK) {
        pa_bench_fail(b, "workers", "reports or leader: %s", pa_error_detail());
        goto done;
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&aThread[i], NULL, uploader, &w);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(aThread[i], NULL);
    pa_demo_stop(&srv);
    snprintf(zSnap, sizeof zSnap, "%s/leader.snapshot", zDir);
    snprintf(zPath, sizeof zPath, "%s/leader.db", zDir);
    if (atomic_load(&w.failed) || copy_file(zPath, zSnap) != PA_OK) {
        pa_bench_fail(b, "workers", "%zu uploads failed, or the snapshot: %s", atomic_load(&w.failed),
                      pa_error_detail());
        goto done;
    }
    workers_run(b, zExe, zDir, 1, 1, (int64_t)w.n, &aRate[0]);
    if (!pa_bench_quick(b))
        workers_run(b, zExe, zDir, 2, 1, (int64_t)w.n, &aRate[1]);
    workers_run(b, zExe, zDir, 2, 2, (int64_t)w.n, &aRate[2]);
    if (aRate[0] > 0 && aRate[2] > 0)
        pa_bench_add(b, "workers", "2 workers per role / 1", "aggregation reports/s", aRate[2] / aRate[0], "x",
                     NULL);
done:
    pa_demo_stop(&srv);
    for (size_t i = 0; w.apMsg && i < w.n; i++)
        free(w.apMsg[i]);
    free(w.apMsg);
    free(w.anMsg);
    pa_synth_free(s);
    pa_task_free(t);
    snprintf(zPath, sizeof zPath, "rm -rf %s", zDir);
    if (system(zPath) != 0)
        fprintf(stderr, "bench workers: could not remove %s\n", zDir);
}
