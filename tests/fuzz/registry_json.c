/*
 * Fuzz target: the agency registry reader (pa_registry_parse), which both
 * aggregators and every submitter run over a file they receive.  Seeds: a
 * registry of a genesis, three enrollments, a revocation and a rekey (made with
 * `privagg registry`, copied into the corpus) and small variants.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_registry *r = NULL;
    if (pa_registry_parse(&r, (const char *)p, n) == PA_OK) {
        pa_reg_agency x;
        pa_registry_lookup(r, "MO0010000", "2026-05", &x);
        pa_registry_free(r);
    }
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char z1[] = "{\"format\": \"privagg-registry-1\", \"entries\": []}";
    static const char z2[] = "{\"format\": \"privagg-registry-1\", \"entries\": [{\"seq\": 0, \"op\": \"revoke\"}]}";
    pa_fuzz_put(zDir, "no-entries", z1, sizeof z1 - 1);
    pa_fuzz_put(zDir, "revoke-first", z2, sizeof z2 - 1);
}
