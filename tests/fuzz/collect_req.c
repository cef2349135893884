/*
 * Fuzz target: the collection request the helper decodes (pa_collect_req_decode).
 * Accepted bytes MUST re-encode to themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_collect_req d;
    uint8_t *e = NULL;
    size_t ne = 0;
    if (pa_collect_req_decode(&d, p, n) != PA_OK)
        return 0;
    pa_fuzz_check(pa_collect_req_encode(&e, &ne, &d) == PA_OK, "collect_req: accepted but cannot re-encode");
    pa_fuzz_check(ne == n && memcmp(e, p, n) == 0, "collect_req: accepted a non-canonical encoding");
    free(e);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    pa_collect_req m;
    uint8_t *p;
    size_t n;
    memset(&m, 0, sizeof m);
    memset(m.aTaskId, 7, 32);
    memset(m.aCollectionId, 9, 16);
    strcpy(m.zPeriod, "2026-10");
    strcpy(m.zPartition, "state");
    if (pa_collect_req_encode(&p, &n, &m) == PA_OK) {
        pa_fuzz_put(zDir, "state", p, n);
        free(p);
    }
    strcpy(m.zPartition, "29001");
    if (pa_collect_req_encode(&p, &n, &m) == PA_OK) {
        pa_fuzz_put(zDir, "partition", p, n);
        free(p);
    }
}
