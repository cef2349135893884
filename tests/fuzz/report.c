/*
 * Fuzz target: the agency report decoder (pa_report_decode), with the exact
 * sizes of a small task.  A report it accepts MUST re-encode to the same bytes
 * (canonical decoding), else the target aborts.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/report.h"

static const pa_report_sizes g_sizes = {64, 200, 96};

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_report r;
    uint8_t *e = NULL;
    size_t ne = 0;
    if (pa_report_decode(&r, p, n, &g_sizes) != PA_OK)
        return 0;
    pa_fuzz_check(pa_report_encode(&e, &ne, &r) == PA_OK, "report: accepted but cannot re-encode");
    pa_fuzz_check(ne == n && memcmp(e, p, n) == 0, "report: accepted a non-canonical encoding");
    free(e);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static uint8_t aPub[64], aLct[200], aHct[96];
    pa_report r;
    uint8_t *p;
    size_t n;
    memset(&r, 0, sizeof r);
    memset(r.aTaskId, 1, 32);
    memset(r.aReportId, 2, 16);
    strcpy(r.zAgencyId, "MO0010000");
    strcpy(r.zPeriod, "2026-10");
    strcpy(r.zPartition, "29001");
    memset(aPub, 3, sizeof aPub);
    r.pPublicShare = aPub;
    r.nPublicShare = 64;
    r.leader.pCt = aLct;
    r.leader.nCt = 200;
    r.helper.pCt = aHct;
    r.helper.nCt = 96;
    r.iVersion = 2; /* an older agency's report, still read */
    if (pa_report_encode(&p, &n, &r) == PA_OK) {
        pa_fuzz_put(zDir, "valid", p, n);
        free(p);
    }
    r.iVersion = 3; /* names the HPKE config ids */
    r.leader.iConfigId = 1;
    r.helper.iConfigId = 200;
    if (pa_report_encode(&p, &n, &r) == PA_OK) {
        pa_fuzz_put(zDir, "valid-v3", p, n);
        free(p);
    }
    strcpy(r.zPeriod, "2020-01");
    strcpy(r.zAgencyId, "A");
    if (pa_report_encode(&p, &n, &r) == PA_OK) {
        pa_fuzz_put(zDir, "first-period", p, n);
        free(p);
    }
}
