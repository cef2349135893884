/*
 * Upload of a spooled report with retry and exponential backoff (see
 * pa_send_spooled in include/privagg/submit.h).  Every attempt's outcome is
 * written to the spool before the next one, so a crash at any point leaves a
 * report that --retry sends again; the leader refuses a second copy of the same
 * report id as a replay, which this side reads as "acknowledged earlier": a
 * report is never counted twice and never lost.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/submit.h"

#define MAX_BACKOFF_MS 60000u

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What one answer means. */
static pa_send_outcome classify(long status, const char *zBody, const uint8_t aReportId[PA_REPORT_ID_SIZE])
{
    char zHex[2 * PA_REPORT_ID_SIZE + 1];

    if (status >= 200 && status <= 299)
        return PA_SEND_ACKNOWLEDGED;
    if (status == 409) {
        /* the leader already holds this very report (an earlier attempt whose answer was lost) */
        sodium_bin2hex(zHex, sizeof zHex, aReportId, PA_REPORT_ID_SIZE);
        if (zBody != NULL && strstr(zBody, zHex) != NULL && strstr(zBody, "replay") != NULL)
            return PA_SEND_ACKNOWLEDGED;
        return PA_SEND_REFUSED;
    }
    if (status == 401 || status == 403 || status == 404)
        return PA_SEND_CONFIG;
    if (status == 408 || status == 429 || status >= 500)
        return PA_SEND_LATER;
    return PA_SEND_REFUSED;
}

int pa_send_spooled(pa_spool *pSpool, pa_http_client *c, const pa_task *t, pa_spool_entry *e,
                    const pa_send_opts *o, pa_send_outcome *peOutcome)
{
    char zUrl[700], zTask[65], zMsg[400];
    unsigned nAttempt = o && o->nAttempt ? o->nAttempt : 1, nWait = o && o->nBackoffMs ? o->nBackoffMs : 1000;
    void (*xSleep)(unsigned) = o && o->xSleepMs ? o->xSleepMs : sleep_ms;

    *peOutcome = PA_SEND_LATER;
    if (e->pReport == NULL || e->nReport == 0)
        return pa_fail(PA_ESTATE, "spool: report %s/%s has no stored bytes", e->zAgency, e->zPeriod);
    if (sodium_memcmp(e->aTaskId, t->aTaskId, 32) != 0)
        return pa_fail(PA_EINVAL, "spool: report %s/%s belongs to another task", e->zAgency, e->zPeriod);
    sodium_bin2hex(zTask, sizeof zTask, t->aTaskId, 32);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/reports", t->leader.zEndpoint, zTask);
    for (unsigned i = 0; i < nAttempt; i++) {
        pa_http_reply r;
        pa_spool_state eState;
        int rc = pa_http_client_request(c, "POST", zUrl, NULL, "application/octet-stream", e->pReport,
                                        e->nReport, &r);
        if (rc != PA_OK) {
            snprintf(zMsg, sizeof zMsg, "%s", pa_error_detail());
            *peOutcome = PA_SEND_LATER;
        } else {
            *peOutcome = classify(r.status, (const char *)r.body, e->aReportId);
            if (*peOutcome == PA_SEND_ACKNOWLEDGED)
                snprintf(zMsg, sizeof zMsg, "%s", r.status == 409 ? "the leader already held this report" : "");
            else if (pa_http_problem_message(r.content_type, r.body, r.body_len, zMsg, sizeof zMsg) != PA_OK ||
                     zMsg[0] == '\0')
                snprintf(zMsg, sizeof zMsg, "HTTP %ld", r.status);
            else {
                char zTmp[400];
                snprintf(zTmp, sizeof zTmp, "HTTP %ld: %.370s", r.status, zMsg);
                memcpy(zMsg, zTmp, sizeof zMsg);
            }
            pa_http_reply_free(&r);
        }
        eState = *peOutcome == PA_SEND_ACKNOWLEDGED ? PA_SPOOL_ACKNOWLEDGED
                 : *peOutcome == PA_SEND_REFUSED    ? PA_SPOOL_REFUSED
                                                    : PA_SPOOL_SENT;
        PA_GUARD(pa_spool_mark(pSpool, e, eState, zMsg));
        if (*peOutcome != PA_SEND_LATER)
            break;
        if (i + 1 < nAttempt) {
            xSleep(nWait);
            nWait = nWait >= MAX_BACKOFF_MS / 2 ? MAX_BACKOFF_MS : 2 * nWait;
        }
    }
    return PA_OK;
}
