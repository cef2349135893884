/*
 * `privagg demo`: start the two servers as separate processes; every month, write
 * every agency's synthetic incident export and the true counts (`privagg synth`:
 * DIR/exports-<period>/<ORI>.csv and truth.json), have every agency submit its
 * export as `privagg submit --records` does (the same mapping, reader, bounds and
 * bad-row check, in-process), signed with the agency's own key from its folder
 * and checked against the registry, over HTTPS from concurrent clients, release the
 * statewide batches, and print the noised table next to the true totals of
 * truth.json.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/guard.h"
#include "privagg/client.h"
#include "privagg/ledger.h"
#include "privagg/audit.h"
#include "privagg/publish.h"
#include "privagg/registry.h"
#include "privagg/store.h"
#include "privagg/demo.h"
#include "privagg/submit.h"
#include "privagg/synth.h"
#include "privagg/vdaf.h"

typedef struct {
    pid_t pid;
    char zName[16];
} server;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Start `exe serve --config DIR/NAME.json`, wait for its "listening" line. */
static int start_server(server *s, const char *zExe, const char *zDir, const char *zName)
{
    char zConfig[4096], zLog[4096], zLine[256];
    int aPipe[2];
    size_t n = 0;

    snprintf(zConfig, sizeof zConfig, "%s/%s.json", zDir, zName);
    snprintf(zLog, sizeof zLog, "%s/%s.log", zDir, zName);
    snprintf(s->zName, sizeof s->zName, "%s", zName);
    if (pipe(aPipe) != 0)
        return pa_fail(PA_EIO, "demo: pipe: %s", strerror(errno));
    s->pid = fork();
    if (s->pid < 0)
        return pa_fail(PA_EIO, "demo: fork: %s", strerror(errno));
    if (s->pid == 0) {
        int fd = open(zLog, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(aPipe[1], 1);
        if (fd >= 0)
            dup2(fd, 2);
        close(aPipe[0]);
        execl(zExe, zExe, "serve", "--config", zConfig, (char *)NULL);
        _exit(127);
    }
    close(aPipe[1]);
    /* the first line says the server is ready */
    struct pollfd p = {aPipe[0], POLLIN, 0};
    double tEnd = now_s() + 30;
    while (n < sizeof zLine - 1 && now_s() < tEnd) {
        if (poll(&p, 1, 200) <= 0)
            continue;
        ssize_t k = read(aPipe[0], zLine + n, 1);
        if (k <= 0)
            break;
        if (zLine[n++] == '\n')
            break;
    }
    zLine[n] = '\0';
    close(aPipe[0]);
    if (strncmp(zLine, "listening", 9) != 0)
        return pa_fail(PA_EIO, "demo: the %s did not start (see %s)", zName, zLog);
    return PA_OK;
}

int pa_demo_start_role(pa_demo_servers *p, const char *zExe, const char *zDir, const char *zRole)
{
    server sv = {0, ""};
    int rc = start_server(&sv, zExe, zDir, zRole);
    if (strcmp(zRole, "leader") == 0)
        p->iLeaderPid = (int)sv.pid;
    else
        p->iHelperPid = (int)sv.pid;
    return rc;
}

void pa_demo_stop_role(pa_demo_servers *p, const char *zRole)
{
    int *pPid = strcmp(zRole, "leader") == 0 ? &p->iLeaderPid : &p->iHelperPid, status;
    if (*pPid > 0) {
        kill(*pPid, SIGTERM);
        waitpid(*pPid, &status, 0);
    }
    *pPid = 0;
}

int pa_demo_start(pa_demo_servers *p, const char *zExe, const char *zDir)
{
    int rc = pa_demo_start_role(p, zExe, zDir, "helper");
    if (rc == PA_OK)
        rc = pa_demo_start_role(p, zExe, zDir, "leader");
    if (rc != PA_OK)
        pa_demo_stop(p);
    return rc;
}

void pa_demo_stop(pa_demo_servers *p)
{
    pa_demo_stop_role(p, "leader");
    pa_demo_stop_role(p, "helper");
}

static void stop_server(server *s)
{
    int status;
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
}

typedef struct {
    const pa_task *t;
    const pa_registry *pReg;   /* the task's agency registry (NULL: the task lists its agencies) */
    const pa_synth *s;         /* its agencies are the ones that submit */
    const pa_demo_setup_opts *pSetup;
    const char *zCa, *zPeriod, *zExports;
    const pa_records_mapping *pMap;
    uint64_t *aCounted;        /* nCell sums of what the agencies tallied, under lock */
    pa_records_summary sum;    /* summed over the agencies, under lock */
    pthread_mutex_t lock;
    atomic_size_t next, done, failed;
    size_t n;
    char zError[256];
} submit_work;

static void add_summary(pa_records_summary *pTo, const pa_records_summary *s)
{
    pTo->nRow += s->nRow;
    pTo->nRecord += s->nRecord;
    pTo->nRecordCounted += s->nRecordCounted;
    pTo->nRecordEarlier += s->nRecordEarlier;
    pTo->nRecordCapped += s->nRecordCapped;
    pTo->nCellDropped += s->nCellDropped;
    pTo->nBad += s->nBad;
    for (int e = 0; e < PA_REC_KIND_COUNT; e++)
        pTo->aIssue[e].nRow += s->aIssue[e].nRow;
}

/* One agency's month, as `privagg submit --records FILE --allow-empty` does it
 * (without the spool): read and bound the export, refuse too many bad rows,
 * shard, seal, sign, upload. */
static void *submit_worker(void *p)
{
    submit_work *w = p;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    uint64_t *a = calloc(w->t->nCell, sizeof *a);
    pa_records_summary *pSum = malloc(sizeof *pSum);

    co.ca_file = w->zCa;
    if (a == NULL || pSum == NULL || pa_http_client_new(&c, &co) != PA_OK) {
        free(a);
        free(pSum);
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n)
            break;
        const pa_task_agency *e = pa_synth_agency_at(w->s, i);
        char zKey[4096], zCsv[4200];
        uint8_t aReportId[PA_REPORT_ID_SIZE];
        pa_keys k;
        uint8_t *pMsg = NULL;
        size_t nMsg = 0;
        /* the agency's own key, from its own folder */
        pa_demo_agency_key_path(w->pSetup, e->zId, zKey, sizeof zKey);
        snprintf(zCsv, sizeof zCsv, "%s/%s.csv", w->zExports, e->zId);
        int rc = pa_keys_read_private(&k, zKey);
        if (rc == PA_OK)
            rc = pa_records_tally_file(w->pMap, w->t, zCsv, w->zPeriod, a, pSum, NULL, NULL);
        if (rc == PA_OK)
            rc = pa_records_check_bad_share(pSum, 0.02);
        if (rc == PA_OK)
            rc = pa_submit_report_reg(w->t, w->pReg, &k, w->zPeriod, a, w->t->nCell, &pMsg, &nMsg, aReportId);
        if (rc == PA_OK)
            rc = pa_client_upload(c, w->t, pMsg, nMsg);
        pa_keys_wipe(&k);
        free(pMsg);
        pthread_mutex_lock(&w->lock);
        if (rc == PA_OK) {
            for (size_t j = 0; j < w->t->nCell; j++)
                w->aCounted[j] += a[j];
            add_summary(&w->sum, pSum);
        } else {
            atomic_fetch_add(&w->failed, 1);
            snprintf(w->zError, sizeof w->zError, "%s: %s", e->zId, pa_error_detail());
        }
        pthread_mutex_unlock(&w->lock);
        atomic_fetch_add(&w->done, 1);
    }
    pa_http_client_free(&c);
    free(a);
    free(pSum);
    return NULL;
}

/* The sum over the agencies of truth.json's vectors into aTrue[nCell]. */
static int read_truth(const pa_task *t, const pa_synth *s, const char *zExports, uint64_t *aTrue)
{
    char zPath[4200];
    json_error_t err;
    json_t *p;
    int rc = PA_OK;

    snprintf(zPath, sizeof zPath, "%s/truth.json", zExports);
    if ((p = json_load_file(zPath, 0, &err)) == NULL)
        return pa_fail(PA_EDECODE, "%s: line %d: %s", zPath, err.line, err.text);
    memset(aTrue, 0, t->nCell * sizeof *aTrue);
    for (size_t i = 0; rc == PA_OK && i < pa_synth_agency_count(s); i++) {
        const char *zId = pa_synth_agency_at(s, i)->zId;
        json_t *v = json_object_get(p, zId);
        if (!json_is_array(v) || json_array_size(v) != t->nCell) {
            rc = pa_fail(PA_EDECODE, "%s: no vector of %zu counts for %s", zPath, t->nCell, zId);
            break;
        }
        for (size_t j = 0; j < t->nCell; j++)
            aTrue[j] += (uint64_t)json_integer_value(json_array_get(v, j));
    }
    json_decref(p);
    return rc;
}

/* Submit one month from every agency; *pSeconds the wall time of the uploads. */
static int submit_month(const pa_demo_opts *o, const pa_demo_setup_opts *pSetup, const pa_task *t,
                        const pa_registry *pReg, const pa_synth *s, const pa_records_mapping *pMap,
                        const char *zCa, const char *zPeriod, uint64_t *aTrue, double *pSeconds)
{
    submit_work w;
    pthread_t aThread[64];
    unsigned nThread = o->nClients ? o->nClients : 16;
    char zExports[4096];
    pa_synth_records_info info;
    double t0 = now_s();
    int rc;

    if (nThread > 64)
        nThread = 64;
    snprintf(zExports, sizeof zExports, "%s/exports-%s", o->setup.zDir, zPeriod);
    rc = pa_synth_write_month(s, zPeriod, zExports, &info);
    if (rc == PA_OK)
        rc = read_truth(t, s, zExports, aTrue);
    if (rc != PA_OK)
        return rc;
    fprintf(stderr, "  synth: %zu exports, %llu rows, %llu incidents, %llu broken rows in %.2f s (%s)\n",
            pa_synth_agency_count(s), (unsigned long long)info.nRow, (unsigned long long)info.nIncident,
            (unsigned long long)info.nBrokenRow, now_s() - t0, zExports);
    t0 = now_s();
    memset(&w, 0, sizeof w);
    w.t = t;
    w.pReg = pReg;
    w.s = s;
    w.pSetup = pSetup;
    w.zCa = zCa;
    w.zPeriod = zPeriod;
    w.zExports = zExports;
    w.pMap = pMap;
    w.n = pa_synth_agency_count(s);
    if ((w.aCounted = calloc(t->nCell, sizeof *w.aCounted)) == NULL)
        return pa_fail(PA_ENOMEM, "demo: out of memory");
    pthread_mutex_init(&w.lock, NULL);
    for (unsigned i = 0; i < nThread; i++)
        pthread_create(&aThread[i], NULL, submit_worker, &w);
    while (atomic_load(&w.done) < w.n) {
        fprintf(stderr, "\r  submitting %s: %zu/%zu agencies", zPeriod, atomic_load(&w.done), w.n);
        usleep(100000);
    }
    for (unsigned i = 0; i < nThread; i++)
        pthread_join(aThread[i], NULL);
    *pSeconds = now_s() - t0;
    fprintf(stderr, "\r  submitting %s: %zu/%zu agencies read, bounded, sealed and uploaded in %.2f s (%.0f "
                    "reports/s)\n", zPeriod, w.n, w.n, *pSeconds, (double)w.n / *pSeconds);
    fprintf(stderr, "  records: %llu rows, %llu incidents counted (%llu of the month before left out, %llu "
                    "capped at %llu cells), %llu bad rows\n",
            (unsigned long long)w.sum.nRow, (unsigned long long)w.sum.nRecordCounted,
            (unsigned long long)w.sum.nRecordEarlier, (unsigned long long)w.sum.nRecordCapped,
            (unsigned long long)t->nMaxCellsPerRecord, (unsigned long long)w.sum.nBad);
    pthread_mutex_destroy(&w.lock);
    if (atomic_load(&w.failed) > 0)
        rc = pa_fail(PA_EIO, "demo: %zu submissions failed, e.g. %s", atomic_load(&w.failed), w.zError);
    /* what the agencies counted is what synth says is true */
    for (size_t j = 0; rc == PA_OK && j < t->nCell; j++)
        if (w.aCounted[j] != aTrue[j])
            rc = pa_fail(PA_ETAMPER, "demo: cell %zu: the agencies counted %llu, truth.json says %llu", j,
                         (unsigned long long)w.aCounted[j], (unsigned long long)aTrue[j]);
    free(w.aCounted);
    return rc;
}

static int write_collection(const pa_demo_opts *o, const pa_task *t, const pa_collection *c)
{
    char zPath[4096];
    int bNoise, rc;
    pa_dp_mechanism mech;
    pa_dp_sensitivity sens;
    double sigma2 = 0;

    snprintf(zPath, sizeof zPath, "%s/collection-%s-%s.json", o->setup.zDir, c->zPeriod, c->zPartition);
    FILE *f = fopen(zPath, "w");
    if (f == NULL)
        return pa_fail(PA_EIO, "%s: cannot create", zPath);
    rc = pa_task_noise(t, pa_task_level_of(c->zPartition), &bNoise, &mech, &sens, &sigma2);
    if (rc == PA_OK)
        rc = pa_collection_write_json(t, c, bNoise ? sigma2 : 0, f);
    fclose(f);
    return rc;
}

typedef struct {
    const pa_demo_opts *o;
    const pa_task *t;
} release_ctx;

/* Each result written next to the others, as `privagg collect --out` would. */
static int on_release(void *pCtx, size_t iBatch, const pa_collection *pColl)
{
    const release_ctx *r = pCtx;
    (void)iBatch;
    return write_collection(r->o, r->t, pColl);
}

/* Every partition of one period, released by 4 concurrent collectors. */
static int release_partitions(const pa_demo_opts *o, const pa_task *t, const pa_keys *pCollector,
                              const char *zCa, const char *zPeriod, double *aLatency)
{
    pa_http_client_opts co = {0};
    pa_client_batch *aBatch = calloc(t->nPartition ? t->nPartition : 1, sizeof *aBatch);
    release_ctx r = {o, t};
    int rc;

    if (aBatch == NULL)
        return pa_fail(PA_ENOMEM, "demo: out of memory");
    for (size_t i = 0; i < t->nPartition; i++) {
        aBatch[i].zPeriod = zPeriod;
        aBatch[i].zPartition = t->aPartition[i].zName;
    }
    co.ca_file = zCa;
    rc = pa_client_collect_many(&co, t, pCollector, aBatch, t->nPartition, 4, 600, on_release, &r,
                                aLatency);
    free(aBatch);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The period m months before the last full month ("YYYY-MM"). */
static void period_back(char z[8], size_t m)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    unsigned months = (unsigned)((tm.tm_year + 1900) * 12 + tm.tm_mon - 1) - (unsigned)m;
    unsigned y = (months / 12) % 10000, mo = months % 12 + 1;
    char zBuf[16];
    snprintf(zBuf, sizeof zBuf, "%04u-%02u", y, mo);
    memcpy(z, zBuf, 8);
    z[7] = '\0';
}

/* No rate column here: a rate needs the population the reporting agencies serve
 * for the period's year, which publish computes (report/table.csv, report.html). */
static void print_table(const pa_task *t, const pa_collection *c, const uint64_t *aTrue, uint64_t w95)
{
    size_t nIn = 0;
    int64_t maxErr = 0;

    printf("\nStatewide %s: %llu agencies, %llu reports, %llu rejected; noise: discrete Gaussian from each\n"
           "aggregator; 95%% interval of every cell's error: +-%llu.  Rates per 100,000 residents of the\n"
           "reporting partitions, with intervals: report/table.csv and report/report.html.\n\n",
           c->zPeriod, (unsigned long long)c->nAgency, (unsigned long long)c->nReport,
           (unsigned long long)c->nRejected, (unsigned long long)w95);
    printf("%-28s %-26s %-18s %7s %7s %6s %8s\n", "offense", "status", "role", "true", "noised", "error",
           "95% int");
    for (size_t i = 0; i < c->nCell; i++) {
        size_t o = i / 10, st = (i / 2) % 5, r = i % 2;
        if (pa_task_structural_zero(t, i))
            continue; /* a cell that cannot exist (e.g. a Group B victim): never published */
        int64_t err = c->aTotal[i] - (int64_t)aTrue[i];
        nIn += (err <= (int64_t)w95 && err >= -(int64_t)w95);
        if (err > maxErr || -err > maxErr)
            maxErr = err > 0 ? err : -err;
        char zInt[16];
        snprintf(zInt, sizeof zInt, "+-%llu", (unsigned long long)w95);
        printf("%-28.28s %-26.26s %-18.18s %7llu %7lld %+6lld %8s\n", t->aDimension[0].azCategory[o],
               t->aDimension[1].azCategory[st], t->aDimension[2].azCategory[r], (unsigned long long)aTrue[i],
               (long long)c->aTotal[i], (long long)err, zInt);
    }
    printf("\n%zu of %zu cells within the 95%% interval (+-%llu); largest error %lld.\n", nIn,
           c->nCell - t->nStructuralZero, (unsigned long long)w95, (long long)maxErr);
    if (t->nStructuralZero)
        printf("%zu structural zeros left out (victims of offenses that have none in NIBRS: crimes against "
               "society, Group B).\n", t->nStructuralZero);
    fflush(stdout);
}

/* One aggregator's ledger cells, gathered to compare the two ledgers. */
typedef struct {
    char *zText;               /* "period partition spent\n" lines */
    size_t n, nCap, nCells;
    double rMax;
} ledger_view;

static int gather_cell(void *pCtx, const char *zPeriod, const char *zPartition, double rSpent)
{
    ledger_view *v = pCtx;
    char zLine[160];
    int k = snprintf(zLine, sizeof zLine, "%s %s %.17g\n", zPeriod, zPartition, rSpent);
    if (v->n + (size_t)k + 1 > v->nCap) {
        size_t nCap = v->nCap ? 2 * v->nCap : 4096;
        char *z = realloc(v->zText, nCap);
        if (z == NULL)
            return pa_fail(PA_ENOMEM, "demo: out of memory");
        v->zText = z;
        v->nCap = nCap;
    }
    memcpy(v->zText + v->n, zLine, (size_t)k + 1);
    v->n += (size_t)k;
    v->nCells++;
    if (rSpent > v->rMax)
        v->rMax = rSpent;
    return PA_OK;
}

static int read_ledger(const pa_demo_opts *o, const pa_task *t, const char *zRole, ledger_view *v)
{
    char zPath[4096], zTask[65];
    pa_store *pStore = NULL;
    int rc;

    memset(v, 0, sizeof *v);
    pa_demo_store_of(&o->setup, zRole, zPath, sizeof zPath);
    sodium_bin2hex(zTask, sizeof zTask, t->aTaskId, 32);
    rc = pa_store_open(&pStore, zPath);
    if (rc == PA_OK)
        rc = pa_dp_ledger_verify(pStore, NULL, -1, NULL, NULL);
    if (rc == PA_OK)
        rc = pa_dp_ledger_cells(pStore, zTask, gather_cell, v);
    pa_store_close(pStore);
    return rc;
}

/* The year in one screen: releases, collection latency, the privacy spent per
 * record in each aggregator's ledger (the most-charged lattice cell), and the
 * noise per release level. */
int pa_demo_year_summary(const pa_demo_opts *o, const pa_task *t, size_t nReleases, double tRelease,
                         double *aLatency)
{
    ledger_view aView[2];
    const char *azRole[2] = {"leader", "helper"};
    double rEps = 0;
    int rc = PA_OK;

    qsort(aLatency, nReleases, sizeof *aLatency, cmp_double);
    printf("\nYear summary: %zu releases (%zu months x (statewide + %zu partitions)) in %.1f s of "
           "collection;\n  collection create -> result: p50 %.0f ms, p99 %.0f ms, max %.0f ms.\n",
           nReleases, o->nMonths, t->nPartition, tRelease, 1e3 * aLatency[nReleases / 2],
           1e3 * aLatency[(nReleases * 99) / 100], 1e3 * aLatency[nReleases ? nReleases - 1 : 0]);
    for (int i = 0; i < 2 && rc == PA_OK; i++)
        rc = read_ledger(o, t, azRole[i], &aView[i]);
    if (rc == PA_OK) {
        int bAgree = aView[0].n == aView[1].n && memcmp(aView[0].zText, aView[1].zText, aView[0].n) == 0;
        pa_dp_zcdp_eps(aView[0].rMax > aView[1].rMax ? aView[0].rMax : aView[1].rMax, 1e-6, &rEps, NULL);
        printf("Privacy spent per record (the most-charged cell of period x partition), each ledger "
               "verified:\n  leader %.4g of %.4g rho (%zu cells), helper %.4g of %.4g rho (%zu cells);"
               " %s;\n  = epsilon %.3f at delta 1e-6 per incident record.\n",
               aView[0].rMax, t->rBudgetPerRecord, aView[0].nCells, aView[1].rMax, t->rBudgetPerRecord,
               aView[1].nCells, bAgree ? "the two ledgers agree cell by cell" : "THE LEDGERS DIFFER",
               rEps);
        if (!bAgree)
            rc = pa_fail(PA_ETAMPER, "demo: the leader's and the helper's ledgers differ");
    }
    for (int i = 0; i < 2; i++)
        free(aView[i].zText);
    printf("Noise per published cell (both aggregators' draws):");
    for (int iLevel = 0; iLevel < 2 && rc == PA_OK; iLevel++) {
        int bNoise;
        pa_dp_mechanism mech;
        pa_dp_sensitivity sens;
        double sigma2 = 0;
        uint64_t w95 = 0;
        rc = pa_task_noise(t, (pa_task_level)iLevel, &bNoise, &mech, &sens, &sigma2);
        if (rc == PA_OK && bNoise)
            rc = pa_dp_gaussian_interval(sigma2, 2, 0.95, &w95);
        if (rc == PA_OK)
            printf("%s %s sd %.2f (sigma2 %g per aggregator, 95%% +-%llu)", iLevel ? ";" : "",
                   iLevel ? "partition" : "statewide", sqrt(2 * sigma2), sigma2, (unsigned long long)w95);
    }
    printf(".\n");
    fflush(stdout);
    return rc;
}

/* The end of the year: both ledgers exported, the tables, report and signed
 * manifest published, and the audit of it all (docs/publish.md, docs/audit.md). */
static int publish_and_audit(const pa_demo_opts *o, const pa_task *t, const pa_registry *pReg,
                             const pa_keys *pCollector)
{
    char azLedger[2][4096], zOut[4000], zPath[4096];
    const char *azRole[2] = {"leader", "helper"};
    pa_audit_input aLedger[2], man;
    pa_release *aRel = NULL;
    size_t nRel = 0;
    json_t *pRep = NULL;
    int rc = PA_OK;

    memset(aLedger, 0, sizeof aLedger);
    memset(&man, 0, sizeof man);
    for (int i = 0; i < 2 && rc == PA_OK; i++) {
        pa_store *pStore = NULL;
        char *zJson = NULL;
        FILE *f;
        pa_demo_store_of(&o->setup, azRole[i], zPath, sizeof zPath);
        snprintf(azLedger[i], sizeof azLedger[i], "%s/%s-ledger.json", o->setup.zDir, azRole[i]);
        rc = pa_store_open(&pStore, zPath);
        if (rc == PA_OK)
            rc = pa_dp_ledger_export_json(pStore, &zJson);
        pa_store_close(pStore);
        if (rc == PA_OK && ((f = fopen(azLedger[i], "w")) == NULL || fprintf(f, "%s\n", zJson) < 0 || fclose(f) != 0))
            rc = pa_fail(PA_EIO, "demo: cannot write %s", azLedger[i]);
        free(zJson);
    }
    snprintf(zOut, sizeof zOut, "%s/report", o->setup.zDir);
    if (rc == PA_OK)
        rc = pa_release_load_dir(t, o->setup.zDir, &aRel, &nRel);
    if (rc == PA_OK) {
        pa_publish_opts po = {o->setup.zDataDir, zOut, pCollector, {azLedger[0], azLedger[1]}, "privagg 0.1.0", pReg};
        rc = pa_publish(t, aRel, nRel, &po, NULL);
    }
    pa_release_free_all(aRel, nRel);
    for (int i = 0; i < 2 && rc == PA_OK; i++)
        rc = pa_audit_input_read(&aLedger[i], azLedger[i]);
    snprintf(zPath, sizeof zPath, "%s/manifest.json", zOut);
    if (rc == PA_OK)
        rc = pa_audit_input_read(&man, zPath);
    if (rc == PA_OK)
        rc = pa_audit_run(t, &man, 1, aLedger, NULL, &pRep);
    if (rc == PA_OK) {
        char zAudit[4096];
        FILE *f;
        snprintf(zAudit, sizeof zAudit, "%s/audit.txt", o->setup.zDir);
        if ((f = fopen(zAudit, "w")) != NULL) {
            pa_audit_print(pRep, f);
            fclose(f);
        }
        snprintf(zAudit, sizeof zAudit, "%s/audit.json", o->setup.zDir);
        json_dump_file(pRep, zAudit, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("\n");
        pa_audit_print(pRep, stdout);
        if (strcmp(json_string_value(json_object_get(pRep, "result")), "pass") != 0)
            rc = pa_fail(PA_ETAMPER, "demo: the audit failed (see audit.txt)");
    }
    json_decref(pRep);
    pa_audit_input_free(&man);
    for (int i = 0; i < 2; i++)
        pa_audit_input_free(&aLedger[i]);
    return rc;
}

/* The agencies that submit in zPeriod: those the registry holds (enrolled, not
 * revoked) for it — all of them, from PA_PERIOD_FIRST, in a deployment of
 * pa_demo_setup, but a reused deployment may have enrolled or revoked agencies
 * since — or the task's when it lists them.  *ppSynth is replaced. */
static int demo_synth(pa_synth **ppSynth, const pa_task *t, const pa_registry *pReg, const char *zDataDir,
                      const char *zPeriod)
{
    const char **azId;
    size_t n = 0;
    int rc;

    pa_synth_free(*ppSynth);
    *ppSynth = NULL;
    if (pReg == NULL)
        return pa_synth_new(ppSynth, t, zDataDir, 2026);
    if ((azId = calloc(pa_registry_agency_count(pReg) + 1, sizeof *azId)) == NULL)
        return pa_fail(PA_ENOMEM, "demo: out of memory");
    for (size_t i = 0; i < pa_registry_agency_count(pReg); i++) {
        pa_reg_agency x;
        pa_registry_lookup(pReg, pa_registry_agency_id(pReg, i), zPeriod, &x);
        if (x.eStatus == PA_REG_ACTIVE)
            azId[n++] = pa_registry_agency_id(pReg, i);
    }
    rc = pa_synth_new_agencies(ppSynth, t, azId, n, zDataDir, 2026);
    free(azId);
    return rc;
}

int pa_demo_run(const pa_demo_opts *o)
{
    char zPath[4096], zCa[4096];
    server leader = {0, ""}, helper = {0, ""};
    pa_demo_setup_opts setup = o->setup;
    pa_registry *pReg = NULL;
    pa_task *t = NULL;
    pa_keys collector;
    pa_synth *s = NULL;
    pa_records_mapping *pMap = NULL;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    uint64_t *aTrue = NULL;
    double t0 = now_s(), tSubmit, tRelease = 0, *aLatency = NULL;
    size_t nPart = 0, nReleases = 0;
    int rc;

    memset(&collector, 0, sizeof collector);
    snprintf(zPath, sizeof zPath, "%s/task.json", o->setup.zDir);
    if (access(zPath, F_OK) != 0) {
        if (o->setup.bAgenciesInTask)
            fprintf(stderr, "[1/5] keys for %s agencies, the leader, the helper and the collector; the task "
                            "listing the agencies; TLS\n", o->setup.nAgencies ? "the first" : "all");
        else
            fprintf(stderr, "[1/5] keys of the leader, the helper and the collector; each of %s agencies makes its "
                            "own key pair (agencies/<ORI>/), the state enrolls the public keys in its agency "
                            "registry (registry.json); the task naming the registry; TLS\n",
                    o->setup.nAgencies ? "the first" : "all");
        PA_GUARD(pa_demo_setup(&o->setup));
    } else {
        fprintf(stderr, "[1/5] using the deployment in %s\n", o->setup.zDir);
    }
    snprintf(zCa, sizeof zCa, "%s/tls/cert.pem", o->setup.zDir);
    fprintf(stderr, "[2/5] starting the leader and the helper (HTTPS on 127.0.0.1)\n");
    rc = start_server(&helper, o->zExe, o->setup.zDir, "helper");
    if (rc == PA_OK)
        rc = start_server(&leader, o->zExe, o->setup.zDir, "leader");
    if (rc == PA_OK)
        rc = pa_task_load(&t, zPath);
    snprintf(zPath, sizeof zPath, "%s/keys/collector.key", o->setup.zDir);
    if (rc == PA_OK)
        rc = pa_keys_read_private(&collector, zPath);
    snprintf(zPath, sizeof zPath, "%s/registry.json", o->setup.zDir);
    if (rc == PA_OK && t->bRegistry)
        rc = pa_registry_load(&pReg, zPath);
    if (rc == PA_OK && pReg != NULL)
        rc = pa_registry_check_task(pReg, t);
    setup.bAgenciesInTask = t != NULL && !t->bRegistry; /* a deployment made before may be of either form */
    if (rc == PA_OK && pReg == NULL)
        rc = demo_synth(&s, t, NULL, o->setup.zDataDir, NULL);
    if (rc == PA_OK) {
        char zOffenses[4096];
        snprintf(zOffenses, sizeof zOffenses, "%s/nibrs_offense_buckets.csv", o->setup.zDataDir);
        rc = pa_records_mapping_load(&pMap, t, NULL, zOffenses); /* the default mapping */
    }
    co.ca_file = zCa;
    if (rc == PA_OK)
        rc = pa_http_client_new(&c, &co);
    if (rc == PA_OK && (aTrue = calloc(t->nCell, sizeof *aTrue)) == NULL)
        rc = pa_fail(PA_ENOMEM, "demo: out of memory");
    if (rc == PA_OK && o->bReleaseAll)
        nPart = t->nPartition;
    if (rc == PA_OK && (aLatency = calloc(o->nMonths * (nPart + 1), sizeof *aLatency)) == NULL)
        rc = pa_fail(PA_ENOMEM, "demo: out of memory");
    for (size_t m = o->nMonths; rc == PA_OK && m-- > 0;) {
        char zPeriod[8];
        pa_collection coll;
        uint64_t w95 = 0;
        int bNoise;
        pa_dp_mechanism mech;
        pa_dp_sensitivity sens;
        double sigma2 = 0;
        period_back(zPeriod, m);
        memset(aTrue, 0, t->nCell * sizeof *aTrue);
        fprintf(stderr, "[3/5] %s: synthetic incident exports; every agency reads its export (privagg submit "
                        "--records), shards its counts, seals the shares, signs, uploads\n", zPeriod);
        if (pReg != NULL)
            rc = demo_synth(&s, t, pReg, o->setup.zDataDir, zPeriod);
        if (rc == PA_OK)
            rc = submit_month(o, &setup, t, pReg, s, pMap, zCa, zPeriod, aTrue, &tSubmit);
        if (rc != PA_OK)
            break;
        fprintf(stderr, "[4/5] %s: aggregating (leader and helper verify every proof) and releasing "
                        "the statewide batch%s\n", zPeriod, o->bReleaseAll ? " and every partition" : "");
        double tc = now_s();
        rc = pa_client_collect(c, t, &collector, zPeriod, "state", 600, &coll);
        if (rc != PA_OK)
            break;
        aLatency[nReleases++] = now_s() - tc;
        fprintf(stderr, "  released in %.2f s after the last upload\n", now_s() - tc);
        rc = pa_task_noise(t, PA_TASK_LEVEL_STATE, &bNoise, &mech, &sens, &sigma2);
        if (rc == PA_OK && bNoise)
            rc = pa_dp_gaussian_interval(sigma2, 2, 0.95, &w95);
        if (rc == PA_OK)
            rc = write_collection(o, t, &coll);
        if (rc == PA_OK && m == 0)
            print_table(t, &coll, aTrue, w95);
        pa_collection_free(&coll);
        if (rc == PA_OK && o->bReleaseAll) {
            double tp = now_s();
            rc = release_partitions(o, t, &collector, zCa, zPeriod, aLatency + nReleases);
            nReleases += nPart;
            tRelease += now_s() - tp;
            fprintf(stderr, "  %zu partitions released in %.2f s\n", nPart, now_s() - tp);
        }
    }
    if (rc == PA_OK && o->bReleaseAll)
        rc = pa_demo_year_summary(o, t, nReleases, tRelease, aLatency);
    if (rc == PA_OK && collector.bSign)
        rc = publish_and_audit(o, t, pReg, &collector);
    if (!o->bKeep) {
        fprintf(stderr, "[5/5] stopping the servers\n");
        stop_server(&leader);
        stop_server(&helper);
    } else {
        fprintf(stderr, "[5/5] servers left running: leader pid %d, helper pid %d\n", (int)leader.pid,
                (int)helper.pid);
    }
    if (rc == PA_OK) {
        printf("\nDone in %.1f s.  Written in %s:\n"
               "  task.json               the task every party shares (privagg task show --task ...)\n"
               "%s"
               "  keys/                   the aggregators' and the collector's keys%s\n"
               "                          (private *.key files are mode 0600)\n"
               "  tls/                    the self-signed certificate of both servers\n"
               "  leader.json helper.json the aggregators' private configs\n"
               "  leader.db helper.db     their stores (reports, jobs, batches, privacy ledger)\n"
               "  leader.log helper.log   their logs\n"
               "  exports-*/              each month's synthetic incident exports and truth.json\n"
               "  collection-*.json       the released noised tables\n",
               now_s() - t0, o->setup.zDir,
               pReg ? "  registry.json           the agency registry: every agency's public key, enrolled\n"
                      "                          (privagg registry show --registry ...)\n"
                      "  agencies/<ORI>/         each agency's own key pair (only the .pub reached the state)\n"
                    : "",
               pReg ? ", the registry's signing key" : ", every agency's");
        if (collector.bSign)
            printf("  leader-ledger.json helper-ledger.json  both privacy ledgers, exported (privagg ledger export)\n"
                   "  report/report.html      the report: summary, charts, county map, tables (open in a browser)\n"
                   "  report/table.csv report/table.json  every cell and margin of every release\n"
                   "  report/manifest.json    the release manifest, signed by the collector\n"
                   "  audit.txt audit.json    the audit of task + manifest + both ledgers: %s\n",
                   "PASS");
    } else {
        stop_server(&leader);
        stop_server(&helper);
    }
    free(aTrue);
    free(aLatency);
    pa_http_client_free(&c);
    pa_synth_free(s);
    pa_records_mapping_free(pMap);
    pa_keys_wipe(&collector);
    pa_registry_free(pReg);
    pa_task_free(t);
    return rc;
}
