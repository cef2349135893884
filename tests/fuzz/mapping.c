/*
 * Fuzz target: the records mapping file (pa_records_mapping_parse: the JSON of
 * `privagg submit --mapping`, which names the export's columns and the values of
 * each category) against the Missouri task of the corpus and the shipped NIBRS
 * offense table.  Seeds: the documented default mapping and a renamed variant.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/submit.h"
#include "privagg/task.h"

static pa_task *g_pTask;

static void load_task(void)
{
    if (g_pTask == NULL)
        pa_fuzz_check(pa_task_load(&g_pTask, PA_FUZZ_TASK) == PA_OK, "mapping: cannot load " PA_FUZZ_TASK);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_records_mapping *pMap = NULL;
    load_task();
    if (n == 0 || n > (1u << 20))
        return 0; /* n == 0 would ask for the default mapping */
    int rc = pa_records_mapping_parse(&pMap, g_pTask, (const char *)p, n, PA_FUZZ_DATA "/nibrs_offense_buckets.csv");
    pa_fuzz_check(rc == PA_OK || rc < 0, "mapping: status");
    pa_fuzz_check((rc == PA_OK) == (pMap != NULL), "mapping: a result without success or the reverse");
    pa_records_mapping_free(pMap);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    const char *z = pa_records_default_mapping();
    static const char zRenamed[] =
        "{\"format\": 1, \"columns\": {\"incident_id\": \"INC\", \"offense_code\": \"UCR\", "
        "\"role\": \"Type\", \"status\": \"Imm\", \"incident_date\": \"When\"}}";
    pa_fuzz_put(zDir, "default", z, strlen(z));
    pa_fuzz_put(zDir, "renamed", zRenamed, sizeof zRenamed - 1);
}
