/*
 * Fuzz target: an agency's incident export (pa_records_tally, what `privagg
 * submit --records` reads: CSV with quotes, BOM, CRLF, incidents over several
 * rows) with the default mapping and the Missouri task of the corpus, period
 * 2026-01.  Whatever the bytes, no cell may exceed the task's maximum.
 * Seeds: a small export with every kind of row.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/submit.h"
#include "privagg/task.h"

static pa_task *g_pTask;
static pa_records_mapping *g_pMap;

static void load(void)
{
    if (g_pTask != NULL)
        return;
    pa_fuzz_check(pa_task_load(&g_pTask, PA_FUZZ_TASK) == PA_OK, "records: cannot load " PA_FUZZ_TASK);
    pa_fuzz_check(pa_records_mapping_parse(&g_pMap, g_pTask, NULL, 0,
                                           PA_FUZZ_DATA "/nibrs_offense_buckets.csv") == PA_OK,
                  "records: default mapping");
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_records_summary sum;
    load();
    if (n == 0 || n > (1u << 20))
        return 0;
    FILE *f = fmemopen((void *)p, n, "r");
    if (f == NULL)
        return 0;
    uint64_t *a = calloc(g_pTask->nCell, sizeof *a);
    int rc = pa_records_tally(g_pMap, g_pTask, f, "fuzz.csv", "2026-01", a, &sum, NULL, NULL);
    fclose(f);
    pa_fuzz_check(rc == PA_OK || rc < 0, "records: status");
    for (size_t i = 0; rc == PA_OK && i < g_pTask->nCell; i++)
        pa_fuzz_check(a[i] <= g_pTask->nMaxMeasurement, "records: a cell above the maximum");
    free(a);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char z[] =
        "\xEF\xBB\xBF" "incident_id,offense_code,role,immigration_status,incident_date\r\n"
        "1,13A,victim,undocumented,2026-01-03\r\n"
        "1,13A,offender,citizen,2026-01-03\r\n"
        "2,\"09A\",victim,\"lawful, permanent\",2026-01-10\r\n"
        "3,999,victim,unknown,2026-01-11\r\n"
        "4,13B,witness,citizen,2025-12-30\r\n"
        "5,23H,victim,citizen,2026-02-01\r\n"
        "1,13A,victim,citizen,2026-01-03\r\n";
    pa_fuzz_put(zDir, "export", z, sizeof z - 1);
}
