/*
 * Fuzz target: a collection result (privagg-collection-v1, the collector's
 * JSON as `privagg publish` reads it: pa_release_load_dir on a folder holding
 * the bytes as collection-fuzz.json), against the task of tests/fuzz/fixtures/
 * (a demo deployment's).  An accepted file gives exactly one release with the
 * task's cell count, a valid period and non-negative counts.  Seed: the demo's
 * statewide collection of that task.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/publish.h"
#include "privagg/report.h"
#include "privagg/task.h"

static pa_task *g_pTask;

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_release *a = NULL;
    size_t nRel = 0;
    if (g_pTask == NULL)
        pa_fuzz_check(pa_task_load(&g_pTask, PA_FUZZ_FIXTURES "/task.json") == PA_OK, "collection: fixture task");
    if (n > (1u << 22))
        return 0;
    (void)pa_fuzz_file("collection-fuzz.json", p, n);
    int rc = pa_release_load_dir(g_pTask, pa_fuzz_dir(), &a, &nRel);
    pa_fuzz_check(rc == PA_OK || rc < 0, "collection: status");
    if (rc == PA_OK) {
        pa_fuzz_check(nRel == 1 && a[0].nCell == g_pTask->nCell, "collection: release count or cells");
        pa_fuzz_check(pa_period_valid(a[0].zPeriod), "collection: accepted an invalid period");
    }
    pa_release_free_all(a, nRel);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    (void)zDir; /* the seed is a demo's collection file, committed as "state" */
}
