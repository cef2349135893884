/*
 * The process-wide metrics registry behind GET /metrics: counters, gauges (a
 * value set, not added) and fixed-bucket histograms keyed by (name, labels),
 * guarded by one mutex, rendered in the Prometheus text exposition format 0.0.4
 * (families grouped, one # TYPE line each; histograms as _bucket{le=...}
 * cumulative, _sum and _count).
 * The number of series is bounded so that label values cannot grow it forever.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/http.h"

#define MAX_SERIES 2048
#define MAX_HELP 64
#define MAX_NAME 96
#define MAX_LABELS 256

static const double g_aBucket[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
#define N_BUCKET (sizeof g_aBucket / sizeof g_aBucket[0])

typedef struct series {
    char zName[MAX_NAME];
    char zLabels[MAX_LABELS];
    int iKind;            /* KIND_*: counter, histogram or gauge */
    uint64_t nCount;           /* counter value, or histogram count */
    double rValue;             /* gauge value */
    double rSum;
    uint64_t anBucket[N_BUCKET]; /* non-cumulative; cumulated when rendered */
} series;

typedef struct help {
    char zName[MAX_NAME];
    char *zHelp;
} help;

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static series *g_aSeries; /* grown on demand up to MAX_SERIES */
static size_t g_nSeries, g_nAlloc;
static help g_aHelp[MAX_HELP];
static size_t g_nHelp;

static int name_ok(const char *z)
{
    size_t n = z ? strlen(z) : 0;
    if (n == 0 || n >= MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

int pa_metrics_label_ok(const char *z)
{
    return z != NULL && strlen(z) < MAX_LABELS && strpbrk(z, "\"\\\n") == NULL;
}

/* labels: NULL/"" or k="v"(,k="v")* with safe values; checked loosely but enough
 * that rendering can never produce a broken line. */
static int labels_ok(const char *z)
{
    if (z == NULL || z[0] == '\0')
        return 1;
    if (strlen(z) >= MAX_LABELS || strchr(z, '\n') || strchr(z, '\\') || strchr(z, '{') ||
        strchr(z, '}'))
        return 0;
    size_t nQuote = 0;
    for (const char *p = z; *p; p++)
        nQuote += *p == '"';
    return nQuote % 2 == 0 && nQuote > 0;
}

#define KIND_COUNTER 0
#define KIND_HISTOGRAM 1
#define KIND_GAUGE 2

/* Find or create; call with the mutex held.  NULL when full or on a kind clash. */
static series *lookup(const char *name, const char *labels, int iKind)
{
    const char *zL = labels ? labels : "";
    for (size_t i = 0; i < g_nSeries; i++) {
        series *s = &g_aSeries[i];
        if (strcmp(s->zName, name) == 0 && strcmp(s->zLabels, zL) == 0)
            return s->iKind == iKind ? s : NULL;
    }
    if (g_nSeries == MAX_SERIES)
        return NULL;
    if (g_nSeries == g_nAlloc) {
        size_t nNew = g_nAlloc ? g_nAlloc * 2 : 64;
        series *a = realloc(g_aSeries, nNew * sizeof *a);
        if (a == NULL)
            return NULL;
        g_aSeries = a;
        g_nAlloc = nNew;
    }
    series *s = &g_aSeries[g_nSeries++];
    memset(s, 0, sizeof *s);
    snprintf(s->zName, sizeof s->zName, "%s", name);
    snprintf(s->zLabels, sizeof s->zLabels, "%s", zL);
    s->iKind = iKind;
    return s;
}

int pa_metrics_inc(const char *name, const char *labels, uint64_t n)
{
    if (!name_ok(name) || !labels_ok(labels))
        return pa_fail(PA_EINVAL, "metric %s{%s}: bad name or labels", name ? name : "(null)",
                       labels ? labels : "");
    pthread_mutex_lock(&g_mutex);
    series *s = lookup(name, labels, KIND_COUNTER);
    if (s)
        s->nCount += n;
    pthread_mutex_unlock(&g_mutex);
    return s ? PA_OK
             : pa_fail(PA_ERANGE, "metric %s: registry full (%d series) or kind clash", name,
                       MAX_SERIES);
}

int pa_metrics_observe(const char *name, const char *labels, double seconds)
{
    if (!name_ok(name) || !labels_ok(labels))
        return pa_fail(PA_EINVAL, "metric %s{%s}: bad name or labels", name ? name : "(null)",
                       labels ? labels : "");
    if (!(seconds >= 0)) /* also rejects NaN */
        seconds = 0;
    pthread_mutex_lock(&g_mutex);
    series *s = lookup(name, labels, KIND_HISTOGRAM);
    if (s) {
        s->nCount++;
        s->rSum += seconds;
        for (size_t i = 0; i < N_BUCKET; i++) {
            if (seconds <= g_aBucket[i]) {
                s->anBucket[i]++;
                break;
            }
        }
    }
    pthread_mutex_unlock(&g_mutex);
    return s ? PA_OK
             : pa_fail(PA_ERANGE, "metric %s: registry full (%d series) or kind clash", name,
                       MAX_SERIES);
}

int pa_metrics_set(const char *name, const char *labels, double value)
{
    if (!name_ok(name) || !labels_ok(labels))
        return pa_fail(PA_EINVAL, "metric %s{%s}: bad name or labels", name ? name : "(null)",
                       labels ? labels : "");
    if (value != value) /* NaN */
        value = 0;
    pthread_mutex_lock(&g_mutex);
    series *s = lookup(name, labels, KIND_GAUGE);
    if (s)
        s->rValue = value;
    pthread_mutex_unlock(&g_mutex);
    return s ? PA_OK
             : pa_fail(PA_ERANGE, "metric %s: registry full (%d series) or kind clash", name,
                       MAX_SERIES);
}

double pa_metrics_gauge_value(const char *name, const char *labels)
{
    double v = 0;
    const char *zL = labels ? labels : "";
    pthread_mutex_lock(&g_mutex);
    for (size_t i = 0; i < g_nSeries; i++) {
        if (g_aSeries[i].iKind == KIND_GAUGE && strcmp(g_aSeries[i].zName, name) == 0 &&
            strcmp(g_aSeries[i].zLabels, zL) == 0)
            v = g_aSeries[i].rValue;
    }
    pthread_mutex_unlock(&g_mutex);
    return v;
}

int pa_metrics_help(const char *name, const char *zHelp)
{
    if (!name_ok(name) || zHelp == NULL || strchr(zHelp, '\n') || strchr(zHelp, '\\'))
        return pa_fail(PA_EINVAL, "metric help for %s: bad name or text", name ? name : "(null)");
    int rc = PA_OK;
    pthread_mutex_lock(&g_mutex);
    size_t i = 0;
    while (i < g_nHelp && strcmp(g_aHelp[i].zName, name) != 0)
        i++;
    if (i == MAX_HELP) {
        rc = pa_fail(PA_ERANGE, "metric help: more than %d families", MAX_HELP);
    } else {
        char *z = strdup(zHelp);
        if (z == NULL) {
            rc = pa_fail(PA_ENOMEM, "metric help for %s", name);
        } else {
            if (i == g_nHelp) {
                snprintf(g_aHelp[i].zName, MAX_NAME, "%s", name);
                g_nHelp++;
            }
            free(g_aHelp[i].zHelp);
            g_aHelp[i].zHelp = z;
        }
    }
    pthread_mutex_unlock(&g_mutex);
    return rc;
}

uint64_t pa_metrics_counter_value(const char *name, const char *labels)
{
    uint64_t v = 0;
    const char *zL = labels ? labels : "";
    pthread_mutex_lock(&g_mutex);
    for (size_t i = 0; i < g_nSeries; i++) {
        if (strcmp(g_aSeries[i].zName, name) == 0 && strcmp(g_aSeries[i].zLabels, zL) == 0)
            v = g_aSeries[i].nCount;
    }
    pthread_mutex_unlock(&g_mutex);
    return v;
}

void pa_metrics_reset(void)
{
    pthread_mutex_lock(&g_mutex);
    free(g_aSeries);
    g_aSeries = NULL;
    g_nSeries = g_nAlloc = 0;
    for (size_t i = 0; i < g_nHelp; i++)
        free(g_aHelp[i].zHelp);
    g_nHelp = 0;
    pthread_mutex_unlock(&g_mutex);
}

/* A growable output buffer; on allocation failure it stays failed. */
typedef struct buf {
    char *z;
    size_t n, nAlloc;
    int bFail;
} buf;

static void put(buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(buf *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !b->bFail; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->z + b->n, b->nAlloc - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->bFail = 1;
            return;
        }
        if ((size_t)k < b->nAlloc - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nNew = (b->nAlloc + (size_t)k + 1) * 2;
        char *z = realloc(b->z, nNew);
        if (z == NULL) {
            b->bFail = 1;
            return;
        }
        b->z = z;
        b->nAlloc = nNew;
    }
}

static const char *help_of(const char *name)
{
    for (size_t i = 0; i < g_nHelp; i++)
        if (strcmp(g_aHelp[i].zName, name) == 0)
            return g_aHelp[i].zHelp;
    return NULL;
}

static void render_series(buf *b, const series *s)
{
    const char *zSep = s->zLabels[0] ? "," : "";
    if (s->iKind == KIND_GAUGE) {
        if (s->zLabels[0])
            put(b, "%s{%s} %.17g\n", s->zName, s->zLabels, s->rValue);
        else
            put(b, "%s %.17g\n", s->zName, s->rValue);
        return;
    }
    if (s->iKind == KIND_COUNTER) {
        if (s->zLabels[0])
            put(b, "%s{%s} %llu\n", s->zName, s->zLabels, (unsigned long long)s->nCount);
        else
            put(b, "%s %llu\n", s->zName, (unsigned long long)s->nCount);
        return;
    }
    uint64_t nCum = 0;
    for (size_t i = 0; i < N_BUCKET; i++) {
        nCum += s->anBucket[i];
        put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->zName, s->zLabels, zSep, g_aBucket[i],
            (unsigned long long)nCum);
    }
    put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", s->zName, s->zLabels, zSep,
        (unsigned long long)s->nCount);
    if (s->zLabels[0]) {
        put(b, "%s_sum{%s} %.9g\n", s->zName, s->zLabels, s->rSum);
        put(b, "%s_count{%s} %llu\n", s->zName, s->zLabels, (unsigned long long)s->nCount);
    } else {
        put(b, "%s_sum %.9g\n", s->zName, s->rSum);
        put(b, "%s_count %llu\n", s->zName, (unsigned long long)s->nCount);
    }
}

int pa_metrics_render(char **pz, size_t *pn)
{
    buf b = {malloc(4096), 0, 4096, 0};
    if (b.z == NULL)
        return pa_fail(PA_ENOMEM, "metrics: 4096 bytes");
    b.z[0] = '\0';
    pthread_mutex_lock(&g_mutex);
    /* Families in order of first appearance; all series of a family together. */
    for (size_t i = 0; i < g_nSeries; i++) {
        int bFirst = 1;
        for (size_t j = 0; j < i && bFirst; j++)
            bFirst = strcmp(g_aSeries[j].zName, g_aSeries[i].zName) != 0;
        if (!bFirst)
            continue;
        const char *zHelp = help_of(g_aSeries[i].zName);
        if (zHelp)
            put(&b, "# HELP %s %s\n", g_aSeries[i].zName, zHelp);
        put(&b, "# TYPE %s %s\n", g_aSeries[i].zName,
            g_aSeries[i].iKind == KIND_GAUGE       ? "gauge"
            : g_aSeries[i].iKind == KIND_HISTOGRAM ? "histogram"
                                                        : "counter");
        for (size_t j = i; j < g_nSeries; j++)
            if (strcmp(g_aSeries[j].zName, g_aSeries[i].zName) == 0)
                render_series(&b, &g_aSeries[j]);
    }
    pthread_mutex_unlock(&g_mutex);
    if (b.bFail) {
        free(b.z);
        return pa_fail(PA_ENOMEM, "metrics: rendering %zu bytes", b.n);
    }
    *pz = b.z;
    *pn = b.n;
    return PA_OK;
}
