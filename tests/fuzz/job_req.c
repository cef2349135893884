/*
 * Fuzz target: the leader's aggregation-job request as the helper decodes it
 * (pa_job_req_decode).  Accepted bytes MUST re-encode to themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/messages.h"

static const pa_msg_sizes g_s = {64, 96, 40, 32, 80};

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_job_req d;
    uint8_t *e = NULL;
    size_t ne = 0;
    if (pa_job_req_decode(&d, p, n, &g_s) != PA_OK)
        return 0;
    pa_fuzz_check(pa_job_req_encode(&e, &ne, &d, &g_s) == PA_OK, "job_req: accepted but cannot re-encode");
    pa_fuzz_check(ne == n && memcmp(e, p, n) == 0, "job_req: accepted a non-canonical encoding");
    free(e);
    pa_job_req_free(&d);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static uint8_t aPub[64], aHct[96], aVs[40];
    pa_job_item items[3];
    pa_job_req m;
    uint8_t *p;
    size_t n;
    memset(&m, 0, sizeof m);
    memset(items, 0, sizeof items);
    strcpy(m.zPeriod, "2026-10");
    for (int i = 0; i < 3; i++) {
        items[i].aReportId[0] = (uint8_t)i;
        strcpy(items[i].zAgencyId, "MO0010000");
        strcpy(items[i].zPartition, "29001");
        items[i].pPublicShare = aPub;
        items[i].pHelperCt = aHct;
        items[i].pLeaderVerifierShare = aVs;
    }
    for (size_t k = 0; k <= 3; k += 3) {
        m.nItem = k;
        m.aItem = items;
        if (pa_job_req_encode(&p, &n, &m, &g_s) == PA_OK) {
            pa_fuzz_put(zDir, k ? "three" : "empty", p, n);
            free(p);
        }
    }
}
