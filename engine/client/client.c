/*
 * Agency and collector clients over HTTPS (see include/privagg/client.h).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/guard.h"
#include "privagg/client.h"

static void task_hex(char z[65], const pa_task *t)
{
    sodium_bin2hex(z, 65, t->aTaskId, 32);
}

int pa_client_upload(pa_http_client *c, const pa_task *t, const uint8_t *pMsg, size_t nMsg)
{
    char zUrl[700], zTask[65];
    uint8_t *pResp = NULL;
    size_t nResp = 0;
    int rc;

    task_hex(zTask, t);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/reports", t->leader.zEndpoint, zTask);
    rc = pa_http_client_call(c, "POST", zUrl, NULL, "application/octet-stream", pMsg, nMsg, &pResp, &nResp);
    free(pResp);
    return rc;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int pa_client_collect(pa_http_client *c, const pa_task *t, const pa_keys *k, const char *zPeriod,
                      const char *zPartition, unsigned nTimeoutS, pa_collection *pOut)
{
    char zUrl[700], zPoll[800], zTask[65], zId[33];
    uint8_t aId[16], *pReq = NULL;
    size_t nReq = 0;
    time_t tEnd = time(NULL) + (time_t)nTimeoutS;
    int rc, bCreate = 1;

    PA_GUARD(pa_collector_request(t, zPeriod, zPartition, aId, &pReq, &nReq));
    task_hex(zTask, t);
    sodium_bin2hex(zId, sizeof zId, aId, 16);
    snprintf(zUrl, sizeof zUrl, "%s/tasks/%s/collections", t->leader.zEndpoint, zTask);
    snprintf(zPoll, sizeof zPoll, "%s/%s", zUrl, zId);
    for (;;) {
        pa_http_reply r;
        if (bCreate) {
            uint8_t *pResp = NULL;
            size_t nResp;
            rc = pa_http_client_call(c, "POST", zUrl, k->aToken, "application/octet-stream", pReq, nReq,
                                     &pResp, &nResp);
            free(pResp);
            if (rc != PA_OK)
                break;
            bCreate = 0;
        }
        rc = pa_http_client_request(c, "GET", zPoll, k->aToken, NULL, NULL, 0, &r);
        if (rc != PA_OK)
            break;
        if (r.status == 200) {
            rc = pa_collector_open(t, k, aId, zPeriod, zPartition, r.body, r.body_len, pOut);
            pa_http_reply_free(&r);
            break;
        }
        if (r.status == 404) {
            bCreate = 1; /* the leader restarted and forgot the job: ask again */
        } else if (r.status != 202) {
            char zMsg[512];
            pa_http_problem_message(r.content_type, r.body, r.body_len, zMsg, sizeof zMsg);
            rc = pa_fail(r.status == 422 ? PA_ERANGE : r.status == 409 ? PA_EEXISTS : PA_EIO,
                         "collection refused (HTTP %ld): %s", r.status, zMsg);
            pa_http_reply_free(&r);
            break;
        }
        pa_http_reply_free(&r);
        if (time(NULL) >= tEnd) {
            rc = pa_fail(PA_EIO, "collection: not ready after %u s", nTimeoutS);
            break;
        }
        sleep_ms(200);
    }
    free(pReq);
    return rc;
}
