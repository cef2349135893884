/*
 * privagg_bench — runs every benchmark group, prints a table and writes JSON.
 *   privagg_bench [--json FILE] [--filter GROUP] [--quick] [--store-url URL]
 * --store-url puts the engine group's stores in PostgreSQL (fresh schemas of
 * that database, dropped at exit) instead of SQLite files.  Exits 1 when any set-up or operation failed (pa_bench_fail), so that a figure
 * is never printed over failures; --quick is the smoke run scripts/test.sh makes.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

struct pa_bench {
    json_t *pRows;
    const char *zFilter;
    int bQuick;
    int nFail;
    const char *zStoreUrl;
};

const char *pa_bench_store_url(const pa_bench *b)
{
    return b->zStoreUrl;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double pa_bench_now_s(void)
{
    return now_ns() * 1e-9;
}

double pa_bench_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double pa_bench_time_ns(pa_bench *b, void (*fn)(void *ctx), void *ctx, double min_seconds)
{
    double budget = (b->bQuick ? min_seconds / 10 : min_seconds) * 1e9;
    double best = -1, start = now_ns();
    size_t n = 1;

    fn(ctx); /* warm up */
    while (now_ns() - start < budget || best < 0) {
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            fn(ctx);
        double per = (now_ns() - t0) / (double)n;
        if (best < 0 || per < best)
            best = per;
        if ((now_ns() - t0) < budget / 20 && n < ((size_t)1 << 30))
            n *= 2;
    }
    return best;
}

void pa_bench_add(pa_bench *b, const char *group, const char *name, const char *params,
                  double value, const char *unit, const char *target)
{
    json_t *row = json_pack("{s:s, s:s, s:s, s:f, s:s, s:s?}", "group", group, "name", name,
                            "params", params ? params : "", "value", value, "unit", unit,
                            "target", target);
    json_array_append_new(b->pRows, row);
    printf("%-8s %-34s %-42s %14.3f %-8s %s\n", group, name, params ? params : "", value, unit,
           target ? target : "");
    fflush(stdout);
}

int pa_bench_wanted(const pa_bench *b, const char *group)
{
    return b->zFilter == NULL || strstr(group, b->zFilter) != NULL;
}

int pa_bench_quick(const pa_bench *b)
{
    return b->bQuick;
}

void pa_bench_fail(pa_bench *b, const char *group, const char *fmt, ...)
{
    va_list ap;
    b->nFail++;
    fprintf(stderr, "FAILED bench %s: ", group);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    const char *zJson = "bench-results.json";
    pa_bench b = {json_array(), NULL, 0, 0, NULL};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            zJson = argv[++i];
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            b.zFilter = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            b.bQuick = 1;
        } else if (strcmp(argv[i], "--store-url") == 0 && i + 1 < argc) {
            b.zStoreUrl = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: privagg_bench [--json FILE] [--filter GROUP] [--quick] [--store-url URL]\n"
                    "  --store-url postgresql://user@host:port/db  the engine group's stores in fresh\n"
                    "               schemas of that PostgreSQL database (default: SQLite files)\n"
                    "example: privagg_bench --filter prio3 --json prio3.json\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    printf("%-8s %-34s %-42s %14s %-8s %s\n", "group", "operation", "parameters", "value", "unit",
           "target");
    if (pa_bench_wanted(&b, "field"))
        pa_bench_field(&b);
    if (pa_bench_wanted(&b, "xof"))
        pa_bench_xof(&b);
    if (pa_bench_wanted(&b, "prio3"))
        pa_bench_prio3(&b);
    if (pa_bench_wanted(&b, "hpke"))
        pa_bench_hpke(&b);
    if (pa_bench_wanted(&b, "dp"))
        pa_bench_dp(&b);
    if (pa_bench_wanted(&b, "http"))
        pa_bench_http(&b);
    if (pa_bench_wanted(&b, "engine"))
        pa_bench_engine(&b);
    if (pa_bench_wanted(&b, "network"))
        pa_bench_network(&b);
    if (pa_bench_wanted(&b, "workers"))
        pa_bench_workers(&b);
    if (pa_bench_wanted(&b, "submit"))
        pa_bench_submit(&b);
    if (pa_bench_wanted(&b, "load"))
        pa_bench_load(&b);
    if (pa_bench_wanted(&b, "national"))
        pa_bench_national(&b);

    if (json_dump_file(b.pRows, zJson, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "privagg_bench: cannot write %s\n", zJson);
        json_decref(b.pRows);
        return 1;
    }
    printf("wrote %s\n", zJson);
    json_decref(b.pRows);
    if (b.nFail) {
        fprintf(stderr, "privagg_bench: %d failure(s); the figures above count only what succeeded\n",
                b.nFail);
        return 1;
    }
    return 0;
}
