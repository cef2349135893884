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
 * 2026-10), and a year of releases on bench_network's deployment (every
 * partition, or the statewide batches only). */
#include "privagg/task.h"
void pa_bench_period(char zOut[8], size_t iMonth);
void pa_bench_collect_year(pa_bench *b, const pa_task *t, const char *zDir, const char *zCa, size_t nMonths,
                           int bStateOnly);

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

void pa_bench_load(pa_bench *b);
void pa_bench_national(pa_bench *b);

#endif
