/*
 * Benchmark harness (internal): each benchmarks/bench_<area>.c defines one
 * pa_bench_<area>(pa_bench *) that times its operations with pa_bench_time_ns()
 * and records each figure with pa_bench_add().  bench_main.c prints the table and
 * writes the JSON file; any pa_bench_fail() makes the run exit 1.  Figures are per call on one core (the runner is single
 * threaded unless a benchmark says otherwise in its params column).
 */
#ifndef PA_BENCH_H
#define PA_BENCH_H

#include <stddef.h>

typedef struct pa_bench pa_bench;

/*
 * Call fn(ctx) in batches until at least min_seconds have passed; return the
 * best (lowest) per-call time in nanoseconds over the batches.  Quick mode
 * (--quick) divides min_seconds by 10.
 */
double pa_bench_time_ns(pa_bench *b, void (*fn)(void *ctx), void *ctx, double min_seconds);

/* Record one figure.  target may be NULL; it is printed beside the value ("<= 2.0 us"). */
void pa_bench_add(pa_bench *b, const char *group, const char *name, const char *params,
                  double value, const char *unit, const char *target);

/* Wall-clock seconds (monotonic), and the CPU seconds this process has used
 * (all threads, user + system): for benchmarks that time whole flows. */
double pa_bench_now_s(void);
double pa_bench_cpu_s(void);

/* 1 if the user asked for this group (--filter substring match on group). */
int pa_bench_wanted(const pa_bench *b, const char *group);

/* 1 under --quick: a smoke run (small counts, a few seconds in all) that checks
 * every benchmark still works; its figures are not measurements. */
int pa_bench_quick(const pa_bench *b);
/* --store-url: a PostgreSQL URL for the engine group's stores, or NULL (SQLite). */
const char *pa_bench_store_url(const pa_bench *b);

/* A set-up or an operation failed: print why (group, then printf-style) and make
 * the run exit 1.  A figure counts only successful operations: a benchmark whose
 * operation failed records no figure for it. */
void pa_bench_fail(pa_bench *b, const char *group, const char *fmt, ...);

void pa_bench_xof(pa_bench *b);
void pa_bench_prio3(pa_bench *b);
void pa_bench_hpke(pa_bench *b);
void pa_bench_dp(pa_bench *b);
void pa_bench_http(pa_bench *b);
void pa_bench_field(pa_bench *b);
void pa_bench_engine(pa_bench *b);
void pa_bench_network(pa_bench *b);
void pa_bench_workers(pa_bench *b);
void pa_bench_submit(pa_bench *b);

/* bench_collect.c: the period of month iMonth of the benchmark year (2025-11 ..
 * 2026-10); pa_bench_collect_year (declared below pa_bench_nodes): a year of
 * releases on bench_network's deployment (every partition, or the statewide
 * batches only). */
#include "privagg/task.h"
void pa_bench_period(char zOut[8], size_t iMonth);

/* bench_loader.c: many concurrent agencies posting sealed reports over HTTPS
 * (pa_client_upload, keep-alive, one connection per agency thread).  Report i is
 * apMsg[i], anMsg[i] bytes, sealed beforehand.  A transport failure is tried
 * again (PA_BENCH_UPLOAD_TRIES in all, nRetried counts the extra tries), as an
 * agency's spool does; a retry refused as a replay was stored by an earlier try
 * whose answer was lost (nStoredEarlier) and counts as acknowledged.  Out: aLatency[i] (s, first try to acknowledgement) and
 * abAcked[i] = 1 for each upload the leader acknowledged (2xx); nFailed the others. */
#define PA_BENCH_UPLOAD_TRIES 3
#include <stdatomic.h>
#include <stdint.h>
#include "privagg/http.h"
typedef struct {
    const pa_task *t;
    const char *zCa;
    size_t n;
    uint8_t **apMsg;
    size_t *anMsg;
    unsigned nClients;
    double *aLatency;
    unsigned char *abAcked;
    atomic_size_t iNext, nAcked, nFailed, nLogged, nRetried, nStoredEarlier;
} pa_bench_loader;
int pa_bench_loader_run(pa_bench_loader *l);
void pa_bench_loader_free(pa_bench_loader *l);
/* The rQuantile (0.5, 0.99) upload latency of the acknowledged uploads, seconds. */
double pa_bench_loader_latency(const pa_bench_loader *l, double rQuantile);
/* A process's CPU seconds (user + system), peak and current resident memory (MB,
 * VmHWM / VmRSS), from /proc; 0 when it cannot be read. */
double pa_bench_process_cpu_s(int iPid);
double pa_bench_peak_rss_mb(int iPid);
/* RssAnon: the process's own memory (heap, SQLite page caches, stacks), without
 * the file pages of the memory-mapped store, which the kernel may drop. */
double pa_bench_anon_mb(int iPid);
/* A thread sampling the RssAnon of up to 8 processes every 100 ms: the peaks. */
#include <pthread.h>
#define PA_BENCH_WATCH_MAX 8
typedef struct {
    int aiPid[PA_BENCH_WATCH_MAX];
    double arPeakAnon[PA_BENCH_WATCH_MAX];
    atomic_int bStop;
    int bRunning;
    pthread_t thread;
} pa_bench_rss_watch;
int pa_bench_rss_watch_start(pa_bench_rss_watch *w, const int *aiPid, int nPid);
void pa_bench_rss_watch_stop(pa_bench_rss_watch *w);
/* 1 while child iPid runs (a child that exited is reaped). */
int pa_bench_child_alive(int iPid);
/* Edit zDir/<zRole>.json (a deployment of pa_demo_setup): the store (NULL: kept),
 * listen.reuse_port (several workers on one port), limits.max_per_address (0: kept). */
int pa_bench_node_config(const char *zDir, const char *zRole, const char *zStore, int bReusePort,
                         unsigned nMaxPerAddress);
/* A counter of the leader's /metrics (zSeries with its labels), 0 if absent, -1 on error. */
long pa_bench_leader_counter(pa_http_client *c, const char *zLeader, const char *zSeries);

/* bench_nodes.c: the deployment of real `privagg serve` processes that the
 * network, workers, load and national benchmarks share (and submit's folder).
 * Every function that can fail says why with pa_bench_fail(b, zGroup, ...) and
 * returns non-zero, so a caller only stops (goto its tear-down). */
#include <limits.h>
#include "privagg/demo.h"
#include "privagg/keys.h"
#include "privagg/synth.h"
#define PA_BENCH_MAX_WORKERS 4 /* processes per role */
typedef struct {
    pa_bench *b;
    const char *zGroup;        /* the group failures are reported under */
    char zDir[64];             /* the deployment: /tmp/privagg_<name>_XXXXXX */
    char zExe[PATH_MAX];       /* the privagg executable beside privagg_bench */
    char zExeDir[PATH_MAX];    /* and its folder (pa_slow_clients is there too) */
    char zTask[PATH_MAX + 64]; /* zDir/task.json */
    char zCa[PATH_MAX + 64];   /* zDir/tls/cert.pem, the servers' self-signed certificate */
    pa_demo_setup_opts so;     /* set by init (ports free now); edit before deploy */
    pa_task *t;                /* after load */
    pa_synth *s;
    pa_keys *aKeys;            /* agency keys: pa_bench_nodes_keys, or the caller's (calloc'd; freed) */
    size_t nKeys;
    uint8_t **apMsg;           /* sealed reports (pa_bench_nodes_seal) */
    size_t *anMsg, nMsg;
    int anWorkers[2];          /* processes running: [0] leaders, [1] helpers */
    int aiPid[2][PA_BENCH_MAX_WORKERS];
} pa_bench_nodes;
/* The folder and executable path; so gets the benchmarks' options (agencies
 * listed in the task with their keys in keys/agencies/, 10 agencies per batch at
 * least, rho 1 per record, 0.5 per release, free ports).  zName
 * names the folder.  On failure nothing is left to free but free is harmless. */
int pa_bench_nodes_init(pa_bench_nodes *n, pa_bench *b, const char *zGroup, const char *zName);
/* pa_demo_setup(&n->so): keys, task.json, tls/, leader.json, helper.json. */
int pa_bench_nodes_deploy(pa_bench_nodes *n);
/* Load zDir/task.json into t and the synthetic counts (data/) into s. */
int pa_bench_nodes_load(pa_bench_nodes *n);
/* Read every agency's private key of the task (keys/agencies/<id>.key), task order. */
int pa_bench_nodes_keys(pa_bench_nodes *n);
/* The collector's private key (keys/collector.key); no failure reported: PA_* only. */
int pa_bench_nodes_collector(pa_bench_nodes *n, pa_keys *pKey);
/* Seal nReports reports on two threads into apMsg/anMsg: report k is agency
 * aKeys[k % nKeys]'s synthetic counts for period(k / nKeys).  Every report must be made. */
int pa_bench_nodes_seal(pa_bench_nodes *n, size_t nReports, void (*period)(char zOut[8], size_t iMonth));
/* Point loader l at the sealed reports and the servers' certificate, nClients at once. */
void pa_bench_nodes_loader(const pa_bench_nodes *n, pa_bench_loader *l, unsigned nClients);
/* Start nProcesses more `privagg serve` of zRole ("leader", "helper"), each once it
 * listens (logs zDir/<role>.log); several share the port only with listen.reuse_port. */
int pa_bench_nodes_start(pa_bench_nodes *n, const char *zRole, int nProcesses);
/* Stop every server (SIGTERM, graceful: a SQLite store is checkpointed), leaders first. */
void pa_bench_nodes_stop(pa_bench_nodes *n);
/* CPU seconds of a role's processes (0 leaders, 1 helpers), summed; the largest peak RSS. */
double pa_bench_nodes_cpu_s(const pa_bench_nodes *n, int iRole);
double pa_bench_nodes_peak_rss_mb(const pa_bench_nodes *n, int iRole);
/* 1 while every process of iRole (-1: both roles) runs. */
int pa_bench_nodes_alive(const pa_bench_nodes *n, int iRole);
/* Stop the servers, free and wipe everything, remove the folder (PA_BENCH_KEEP=1 keeps it). */
void pa_bench_nodes_free(pa_bench_nodes *n);

/* The leader's count of aggregated reports, polled every nPollMs (0: 20 ms) until
 * it reaches nTarget (0: not known yet; set it from another thread), tDeadline
 * passes or child iAlivePid (0: none) exits.  tFirst/nFirst: the first non-zero
 * count; nDone: the last count read; tLast: when nTarget was reached (0: never).
 * The count is the leader's privagg_reports_total{outcome="accepted"}, or, when
 * pStore is not NULL (several leader processes: each counts only its own reports
 * and the shared port answers from any one), the accepted reports in that store
 * (a read-only connection to the leader's store; polled every 100 ms at least).
 * pa_bench_agg_watch_run is a thread function and may be called directly. */
typedef struct {
    pa_http_client *c;
    const char *zLeader;
    atomic_long nTarget;
    double tDeadline;
    int iAlivePid;
    unsigned nPollMs;
    double tFirst, tLast;
    long nFirst, nDone;
    struct pa_store *pStore;
} pa_bench_agg_watch;
void *pa_bench_agg_watch_run(void *pWatch);

void pa_bench_collect_year(pa_bench *b, pa_bench_nodes *pNodes, size_t nMonths, int bStateOnly);

void pa_bench_load(pa_bench *b);
void pa_bench_national(pa_bench *b);

#endif
