/*
 * The records path of `privagg submit --records` as one call for every caller
 * (the command and the demo's agencies): open the export ("-" = standard
 * input), tally it under the task's bounds, and refuse it when too many rows are
 * bad — so the demo submits exactly as an agency does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/submit.h"

int pa_records_tally_file(const pa_records_mapping *pMap, const pa_task *pTask, const char *zPath,
                          const char *zPeriod, uint64_t *aCounts, pa_records_summary *pSummary,
                          pa_records_progress xProgress, void *pCtx)
{
    FILE *f = strcmp(zPath, "-") == 0 ? stdin : fopen(zPath, "rb");
    int rc;

    if (f == NULL) {
        memset(pSummary, 0, sizeof *pSummary);
        memset(aCounts, 0, pTask->nCell * sizeof *aCounts);
        return pa_fail(PA_EIO, "--records: cannot open %s: %s", zPath, strerror(errno));
    }
    rc = pa_records_tally(pMap, pTask, f, zPath, zPeriod, aCounts, pSummary, xProgress, pCtx);
    if (f != stdin)
        fclose(f);
    return rc;
}

int pa_records_check_bad_share(const pa_records_summary *s, double rMaxBadShare)
{
    if (s->nRow > 0 && (double)s->nBad > rMaxBadShare * (double)s->nRow)
        return pa_fail(PA_ERANGE, "%llu of %llu rows are bad (%.2f %%), above --max-bad-share %.2f %%; "
                                  "nothing was sent: fix the rows listed above, or raise the limit",
                       (unsigned long long)s->nBad, (unsigned long long)s->nRow,
                       100.0 * (double)s->nBad / (double)s->nRow, 100.0 * rMaxBadShare);
    return PA_OK;
}
