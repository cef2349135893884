/*
 * Benchmark of the agency submitter on a large export (issue 12): 10^6 and 10^7
 * person-rows → sealed report, as `privagg submit --records FILE --dry-run
 * --json` runs it in a child process (read, map, bound, tally, shard, seal, sign;
 * nothing sent), timed by the child's CPU time (user + system: the submitter is
 * single threaded, so this is one core's time) and its peak resident memory
 * (getrusage ru_maxrss).  Targets: ≤ 1.5 s and ≤ 50 MB for 10^6 rows; memory
 * must not grow with the file.
 *
 * The export is realistic: the whole Missouri month of `privagg synth` (84,000
 * rows of 646 agencies: multi-offense incidents, late records, 09C, witnesses,
 * broken rows) repeated, each incident id prefixed by the copy and the agency so
 * that ids stay unique, until the file has the rows asked for.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/common.h"
#include "privagg/demo.h"
#include "privagg/synth.h"
#include "privagg/task.h"

#define PERIOD "2026-10"

/* The month of every agency of t, header-less, in one buffer. */
static int month_rows(const pa_task *t, char **pz, size_t *pn, uint64_t *pnRow)
{
    pa_synth *s = NULL;
    uint64_t *a = calloc(t->nCell, sizeof *a);
    FILE *f = open_memstream(pz, pn);
    int rc = a && f ? pa_synth_new(&s, t, PA_SOURCE_DIR "/data", 12) : -1;
    *pnRow = 0;
    for (size_t i = 0; rc == 0 && i < t->nAgency; i++) {
        char *z = NULL;
        size_t n = 0;
        pa_synth_records_info info;
        FILE *g = open_memstream(&z, &n);
        rc = g ? pa_synth_records(s, &t->aAgency[i], PERIOD, g, a, &info) : -1;
        if (g)
            fclose(g);
        if (rc == 0) {
            char *zBody = strchr(z, '\n'); /* drop the header */
            fputs(zBody ? zBody + 1 : "", f);
            *pnRow += info.nRow - 1;
        }
        free(z);
    }
    if (f)
        fclose(f);
    pa_synth_free(s);
    free(a);
    return rc;
}

/* zPath: the header, then copies of the month with "<copy>.<ori>." before each
 * incident id, until nWant rows. */
static int write_export(const char *zPath, const char *zRows, size_t nRows, uint64_t nWant, uint64_t *pnBytes)
{
    FILE *f = fopen(zPath, "wb");
    uint64_t nRow = 0;
    if (f == NULL)
        return -1;
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    fputs("ori,incident_id,incident_date,offense_code,role,immigration_status,narrative\r\n", f);
    for (unsigned iCopy = 0; nRow < nWant; iCopy++) {
        const char *z = zRows, *zEnd = zRows + nRows;
        while (z < zEnd && nRow < nWant) {
            const char *zNl = memchr(z, '\n', (size_t)(zEnd - z)), *zComma = memchr(z, ',', (size_t)(zEnd - z));
            size_t n = zNl ? (size_t)(zNl - z) + 1 : (size_t)(zEnd - z);
            if (zComma == NULL || zComma > z + n)
                break;
            /* a quoted narrative may hold a line break: none in synth's rows */
            fwrite(z, 1, (size_t)(zComma - z) + 1, f);
            fprintf(f, "%u.%.*s.", iCopy, (int)(zComma - z), z); /* unique across agencies and copies */
            fwrite(zComma + 1, 1, n - (size_t)(zComma - z) - 1, f);
            z += n;
            nRow++;
        }
    }
    *pnBytes = (uint64_t)ftell(f);
    return fclose(f) == 0 ? 0 : -1;
}

/* Run `privagg submit --records zCsv --dry-run --json`; CPU seconds and peak RSS (MB). */
static int run_child(const char *zExe, const char *zDir, const char *zId, const char *zCsv, double *pCpu,
                     double *pWall, double *pMb)
{
    char zTask[PATH_MAX + 32], zKey[PATH_MAX + 64];
    struct rusage ru;
    int status;
    double t0 = pa_bench_now_s();

    snprintf(zTask, sizeof zTask, "%s/task.json", zDir);
    snprintf(zKey, sizeof zKey, "%s/keys/agencies/%s.key", zDir, zId);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (getenv("PA_BENCH_SHOW") == NULL && freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execl(zExe, zExe, "submit", "--task", zTask, "--key", zKey, "--records", zCsv, "--period", PERIOD,
              "--dry-run", "--json", "--no-progress", "--data", PA_SOURCE_DIR "/data", (char *)NULL);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *pWall = pa_bench_now_s() - t0;
    *pCpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
            (double)ru.ru_stime.tv_usec * 1e-6;
    *pMb = (double)ru.ru_maxrss / 1024.0;
    return 0;
}

void pa_bench_submit(pa_bench *b)
{
    char zCsv[PATH_MAX + 64];
    pa_bench_nodes n;
    char *zRows = NULL;
    size_t nRows = 0;
    uint64_t nMonthRows = 0;
    uint64_t aWant[2] = {1000000, 10000000};
    size_t nSizes = 2;

    if (pa_bench_quick(b)) {
        aWant[0] = 100000;
        nSizes = 1;
    }
    if (pa_bench_nodes_init(&n, b, "submit", "submitbench") != PA_OK)
        goto out;
    n.so.nAgencies = 0; /* all 646: the month's rows come from every agency */
    if (pa_bench_nodes_deploy(&n) != PA_OK || pa_bench_nodes_load(&n) != PA_OK)
        goto out;
    if (month_rows(n.t, &zRows, &nRows, &nMonthRows) != 0) {
        pa_bench_fail(b, "submit", "set-up failed");
        goto out;
    }
    snprintf(zCsv, sizeof zCsv, "%s/export.csv", n.zDir);
    for (size_t i = 0; i < nSizes; i++) {
        uint64_t nBytes = 0;
        double cpu = 0, wall = 0, mb = 0;
        char zParams[160], zName[64];
        if (write_export(zCsv, zRows, nRows, aWant[i], &nBytes) != 0) {
            pa_bench_fail(b, "submit", "cannot write %s: %s", zCsv, strerror(errno));
            break;
        }
        if (run_child(n.zExe, n.zDir, n.t->aAgency[0].zId, zCsv, &cpu, &wall, &mb) != 0) {
            pa_bench_fail(b, "submit", "privagg submit --records --dry-run on %llu rows failed",
                          (unsigned long long)aWant[i]);
            break;
        }
        snprintf(zName, sizeof zName, "records -> sealed report (%s rows)", aWant[i] >= 10000000 ? "10^7"
                                                                         : aWant[i] >= 1000000 ? "10^6" : "10^5");
        snprintf(zParams, sizeof zParams, "%.0f MB CSV, dry run child, CPU of one core (wall %.2f s)",
                 (double)nBytes / 1e6, wall);
        pa_bench_add(b, "submit", zName, zParams, cpu, "s", aWant[i] == 1000000 ? "<= 1.5 s" : NULL);
        snprintf(zName, sizeof zName, "records peak memory (%s rows)", aWant[i] >= 10000000 ? "10^7"
                                                                     : aWant[i] >= 1000000 ? "10^6" : "10^5");
        pa_bench_add(b, "submit", zName, "ru_maxrss of the child", mb, "MB", "<= 50 MB");
        unlink(zCsv);
    }
out:
    free(zRows);
    pa_bench_nodes_free(&n);
}
