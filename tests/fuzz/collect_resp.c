/*
 * Fuzz target: the collection answer the collector decodes
 * (pa_collect_resp_decode), and one aggregator's sealed share
 * (pa_sealed_agg_decode) when the first byte is odd.  Accepted bytes MUST
 * re-encode to themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/messages.h"

static const pa_msg_sizes g_s = {64, 96, 40, 32, 80};

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    uint8_t *e = NULL;
    size_t ne = 0;
    if (n < 1)
        return 0;
    if (p[0] & 1) {
        pa_sealed_agg a;
        uint8_t aTask[32], aColl[16];
        if (pa_sealed_agg_decode(&a, aTask, aColl, p + 1, n - 1, &g_s) != PA_OK)
            return 0;
        pa_fuzz_check(pa_sealed_agg_encode(&e, &ne, aTask, aColl, &a, &g_s) == PA_OK,
                      "sealed_agg: accepted but cannot re-encode");
    } else {
        pa_collect_resp d;
        if (pa_collect_resp_decode(&d, p + 1, n - 1, &g_s) != PA_OK)
            return 0;
        pa_fuzz_check(pa_collect_resp_encode(&e, &ne, &d, &g_s) == PA_OK,
                      "collect_resp: accepted but cannot re-encode");
    }
    pa_fuzz_check(ne == n - 1 && memcmp(e, p + 1, n - 1) == 0, "collect_resp: accepted a non-canonical encoding");
    free(e);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static uint8_t aCt[80];
    pa_collect_resp m;
    uint8_t *p, buf[4096];
    size_t n;
    memset(&m, 0, sizeof m);
    memset(m.aTaskId, 7, 32);
    memset(m.aCollectionId, 9, 16);
    strcpy(m.zPeriod, "2026-10");
    strcpy(m.zPartition, "state");
    m.leader.nAgency = m.helper.nAgency = 3;
    m.leader.nReport = m.helper.nReport = 12;
    m.leader.pCt = m.helper.pCt = aCt;
    m.pAgencyIds = (const uint8_t *)"MO0010000\0MO0010100\0MO0950000";
    m.nAgencyIds = 30;
    pa_agency_ids_hash(m.pAgencyIds, m.nAgencyIds, m.leader.aAgencyHash);
    memcpy(m.helper.aAgencyHash, m.leader.aAgencyHash, 32);
    if (pa_collect_resp_encode(&p, &n, &m, &g_s) == PA_OK && n < sizeof buf) {
        buf[0] = 0;
        memcpy(buf + 1, p, n);
        pa_fuzz_put(zDir, "resp", buf, n + 1);
        free(p);
    }
    if (pa_sealed_agg_encode(&p, &n, m.aTaskId, m.aCollectionId, &m.leader, &g_s) == PA_OK && n < sizeof buf) {
        buf[0] = 1;
        memcpy(buf + 1, p, n);
        pa_fuzz_put(zDir, "sealed", buf, n + 1);
        free(p);
    }
}
