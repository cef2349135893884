/*
 * Fuzz target: the task file parser (pa_task_parse), the one file every party
 * reads.  Seeds: the demo's Missouri task (written by `privagg demo
 * --setup-only`, copied into the corpus) and small variants.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_task *t = NULL;
    if (pa_task_parse(&t, (const char *)p, n) == PA_OK)
        pa_task_free(t);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char z1[] = "{}";
    static const char z2[] = "{\"format\": 2, \"schema\": {\"dimensions\": []}}";
    pa_fuzz_put(zDir, "empty-object", z1, sizeof z1 - 1);
    pa_fuzz_put(zDir, "no-dimensions", z2, sizeof z2 - 1);
}
