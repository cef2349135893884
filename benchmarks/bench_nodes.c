/*
 * The deployment that every benchmark running real servers shares (network,
 * workers, load, national; submit uses only the folder and the task), in one
 * place so that they set up, start, wait and tear down the same way and differ
 * only in what they measure:
 *   - a temporary folder and the `privagg` executable beside privagg_bench
 *     (pa_bench_nodes_init), the demo's deployment in it with the benchmarks'
 *     usual options (pa_bench_nodes_deploy: keys of every party, the Missouri
 *     task, a self-signed certificate, leader.json and helper.json), the task
 *     and the synthetic counts loaded (pa_bench_nodes_load), the agency keys
 *     read (pa_bench_nodes_keys);
 *   - reports sealed beforehand on two threads (pa_bench_nodes_seal): sharding
 *     is each agency's work on its own machine, never the leader's, so it is
 *     never inside a timed window;
 *   - `privagg serve` processes, any number per role (pa_bench_nodes_start),
 *     their CPU time, peak memory and liveness, and a graceful stop;
 *   - the wait for the leader to aggregate a number of reports, read from its
 *     /metrics, or with several leader processes from its store (each process
 *     counts only its own) (pa_bench_agg_watch, a thread or a plain call);
 *   - the tear-down (pa_bench_nodes_free): servers stopped, secrets wiped, the
 *     folder removed (kept with PA_BENCH_KEEP=1).
 * Each step that fails says so with pa_bench_fail under the benchmark's group,
 * so a caller only has to stop.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/common.h"
#include "privagg/store.h"
#include "privagg/submit.h"
#include "store/internal.h" /* pa_store_query_int */

int pa_bench_nodes_init(pa_bench_nodes *n, pa_bench *b, const char *zGroup, const char *zName)
{
    memset(n, 0, sizeof *n);
    n->b = b;
    n->zGroup = zGroup;
    snprintf(n->zDir, sizeof n->zDir, "/tmp/privagg_%s_XXXXXX", zName);
    ssize_t k = readlink("/proc/self/exe", n->zExe, sizeof n->zExe - 1);
    if (k <= 0 || mkdtemp(n->zDir) == NULL) {
        n->zDir[0] = '\0';
        pa_bench_fail(b, zGroup, "set-up: no executable path or temporary folder");
        return PA_EIO;
    }
    n->zExe[k] = '\0';
    *strrchr(n->zExe, '/') = '\0';
    snprintf(n->zExeDir, sizeof n->zExeDir, "%s", n->zExe);
    snprintf(n->zExe + strlen(n->zExe), sizeof n->zExe - strlen(n->zExe), "/privagg");
    snprintf(n->zTask, sizeof n->zTask, "%s/task.json", n->zDir);
    snprintf(n->zCa, sizeof n->zCa, "%s/tls/cert.pem", n->zDir);
    n->so.bAgenciesInTask = 1; /* t->aAgency, keys/agencies/ (pa_bench_nodes_keys) */
    n->so.zDir = n->zDir;
    n->so.zDataDir = PA_SOURCE_DIR "/data";
    n->so.nMinAgencies = 10;
    n->so.rBudgetRho = 1.0;
    n->so.rRhoState = 0.5;
    n->so.rRhoPartition = 0.5;
    n->so.nLeaderPort = pa_demo_free_port();
    n->so.nHelperPort = pa_demo_free_port();
    return PA_OK;
}

int pa_bench_nodes_deploy(pa_bench_nodes *n)
{
    if (pa_demo_setup(&n->so) == PA_OK)
        return PA_OK;
    pa_bench_fail(n->b, n->zGroup, "set-up failed: %s", pa_error_detail());
    return PA_EIO;
}

int pa_bench_nodes_load(pa_bench_nodes *n)
{
    if (pa_task_load(&n->t, n->zTask) == PA_OK && pa_synth_new(&n->s, n->t, PA_SOURCE_DIR "/data", 9) == PA_OK)
        return PA_OK;
    pa_bench_fail(n->b, n->zGroup, "set-up failed: %s", pa_error_detail());
    return PA_EIO;
}

int pa_bench_nodes_keys(pa_bench_nodes *n)
{
    char zPath[PATH_MAX + 64];
    if ((n->aKeys = calloc(n->t->nAgency ? n->t->nAgency : 1, sizeof *n->aKeys)) == NULL) {
        pa_bench_fail(n->b, n->zGroup, "out of memory");
        return PA_ENOMEM;
    }
    for (; n->nKeys < n->t->nAgency; n->nKeys++) {
        snprintf(zPath, sizeof zPath, "%s/keys/agencies/%s.key", n->zDir, n->t->aAgency[n->nKeys].zId);
        if (pa_keys_read_private(&n->aKeys[n->nKeys], zPath) != PA_OK) {
            pa_bench_fail(n->b, n->zGroup, "agency key: %s", pa_error_detail());
            return PA_EIO;
        }
    }
    return PA_OK;
}

int pa_bench_nodes_collector(pa_bench_nodes *n, pa_keys *pKey)
{
    char zPath[PATH_MAX + 64];
    snprintf(zPath, sizeof zPath, "%s/keys/collector.key", n->zDir);
    return pa_keys_read_private(pKey, zPath);
}

typedef struct {
    const pa_bench_nodes *n;
    void (*period)(char zOut[8], size_t iMonth);
    size_t iFirst;
    atomic_size_t *pMissing;
} seal_work;

static void *seal_reports(void *p)
{
    seal_work *w = p;
    const pa_bench_nodes *n = w->n;
    uint64_t a[270];
    char zPeriod[8];
    for (size_t k = w->iFirst; k < n->nMsg; k += 2) {
        const pa_keys *pKey = &n->aKeys[k % n->nKeys];
        const pa_task_agency *pA = pa_task_find_agency(n->t, pKey->zId);
        w->period(zPeriod, k / n->nKeys);
        if (pA == NULL || n->t->nCell != 270 || pa_synth_counts(n->s, pA, zPeriod, a) != PA_OK ||
            pa_submit_report(n->t, pKey, zPeriod, a, 270, &n->apMsg[k], &n->anMsg[k]) != PA_OK)
            atomic_fetch_add(w->pMissing, 1);
    }
    return NULL;
}

int pa_bench_nodes_seal(pa_bench_nodes *n, size_t nReports, void (*period)(char zOut[8], size_t iMonth))
{
    atomic_size_t nMissing = 0;
    pthread_t aThread[2];
    int nStarted = 0;

    n->nMsg = nReports;
    n->apMsg = calloc(nReports ? nReports : 1, sizeof *n->apMsg);
    n->anMsg = calloc(nReports ? nReports : 1, sizeof *n->anMsg);
    if (n->apMsg == NULL || n->anMsg == NULL || n->nKeys == 0) {
        pa_bench_fail(n->b, n->zGroup, "out of memory, or no agency keys");
        return PA_ENOMEM;
    }
    seal_work aWork[2] = {{n, period, 0, &nMissing}, {n, period, 1, &nMissing}};
    for (int i = 0; i < 2; i++)
        if (pthread_create(&aThread[nStarted], NULL, seal_reports, &aWork[i]) == 0)
            nStarted++;
    for (int i = 0; i < nStarted; i++)
        pthread_join(aThread[i], NULL);
    if (nStarted < 2)
        atomic_store(&nMissing, nReports);
    if (atomic_load(&nMissing) == 0)
        return PA_OK;
    pa_bench_fail(n->b, n->zGroup, "%zu of %zu reports could not be made: %s", atomic_load(&nMissing), nReports,
                  pa_error_detail());
    return PA_EIO;
}

void pa_bench_nodes_loader(const pa_bench_nodes *n, pa_bench_loader *l, unsigned nClients)
{
    l->t = n->t;
    l->zCa = n->zCa;
    l->n = n->nMsg;
    l->apMsg = n->apMsg;
    l->anMsg = n->anMsg;
    l->nClients = nClients;
}

int pa_bench_nodes_start(pa_bench_nodes *n, const char *zRole, int nProcesses)
{
    int iRole = strcmp(zRole, "leader") == 0 ? 0 : 1;
    for (int i = 0; i < nProcesses; i++) {
        pa_demo_servers one = {0, 0};
        if (n->anWorkers[iRole] >= PA_BENCH_MAX_WORKERS) {
            pa_bench_fail(n->b, n->zGroup, "servers: more than %d %s processes", PA_BENCH_MAX_WORKERS, zRole);
            return PA_EINVAL;
        }
        int rc = pa_demo_start_role(&one, n->zExe, n->zDir, zRole);
        int iPid = iRole == 0 ? one.iLeaderPid : one.iHelperPid;
        if (iPid > 0)
            n->aiPid[iRole][n->anWorkers[iRole]++] = iPid;
        if (rc != PA_OK) {
            pa_bench_fail(n->b, n->zGroup, "servers: %s", pa_error_detail());
            return rc;
        }
    }
    return PA_OK;
}

void pa_bench_nodes_stop(pa_bench_nodes *n)
{
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < n->anWorkers[r]; i++) {
            pa_demo_servers one = {r == 0 ? n->aiPid[0][i] : 0, r == 1 ? n->aiPid[1][i] : 0};
            pa_demo_stop(&one);
            n->aiPid[r][i] = 0;
        }
        n->anWorkers[r] = 0;
    }
}

double pa_bench_nodes_cpu_s(const pa_bench_nodes *n, int iRole)
{
    double r = 0;
    for (int i = 0; i < n->anWorkers[iRole]; i++)
        r += pa_bench_process_cpu_s(n->aiPid[iRole][i]);
    return r;
}

double pa_bench_nodes_peak_rss_mb(const pa_bench_nodes *n, int iRole)
{
    double r = 0;
    for (int i = 0; i < n->anWorkers[iRole]; i++) {
        double v = pa_bench_peak_rss_mb(n->aiPid[iRole][i]);
        r = v > r ? v : r;
    }
    return r;
}

int pa_bench_nodes_alive(const pa_bench_nodes *n, int iRole)
{
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < n->anWorkers[r]; i++)
            if ((iRole < 0 || iRole == r) && !pa_bench_child_alive(n->aiPid[r][i]))
                return 0;
    return 1;
}

void pa_bench_nodes_free(pa_bench_nodes *n)
{
    char zCmd[128];
    pa_bench_nodes_stop(n);
    for (size_t i = 0; n->apMsg && i < n->nMsg; i++)
        free(n->apMsg[i]);
    free(n->apMsg);
    free(n->anMsg);
    for (size_t i = 0; n->aKeys && i < n->nKeys; i++)
        pa_keys_wipe(&n->aKeys[i]);
    free(n->aKeys);
    pa_synth_free(n->s);
    pa_task_free(n->t);
    if (n->zDir[0] != '\0') {
        snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", n->zDir);
        if (getenv("PA_BENCH_KEEP") != NULL)
            fprintf(stderr, "bench %s: PA_BENCH_KEEP: the deployment stays in %s\n", n->zGroup, n->zDir);
        else if (system(zCmd) != 0)
            fprintf(stderr, "bench %s: could not remove %s\n", n->zGroup, n->zDir);
    }
    memset(n, 0, sizeof *n);
}

static long accepted_in_store(pa_store *pStore)
{
    int64_t n = -1;
    return pa_store_query_int(pStore, "SELECT count(*) FROM reports WHERE state = 'accepted'", &n) == PA_OK ? (long)n
                                                                                                       : -1;
}

void *pa_bench_agg_watch_run(void *p)
{
    pa_bench_agg_watch *w = p;
    while (pa_bench_now_s() < w->tDeadline && (w->iAlivePid == 0 || pa_bench_child_alive(w->iAlivePid))) {
        long v = w->pStore ? accepted_in_store(w->pStore)
                           : pa_bench_leader_counter(w->c, w->zLeader, "privagg_reports_total{outcome=\"accepted\"}");
        long nTarget = atomic_load(&w->nTarget);
        if (v > 0 && w->tFirst == 0) {
            w->tFirst = pa_bench_now_s();
            w->nFirst = v;
        }
        w->nDone = v;
        if (nTarget > 0 && v >= nTarget) {
            w->tLast = pa_bench_now_s();
            break;
        }
        unsigned nMs = w->nPollMs ? w->nPollMs : 20u;
        usleep((w->pStore && nMs < 100u ? 100u : nMs) * 1000u);
    }
    return NULL;
}
