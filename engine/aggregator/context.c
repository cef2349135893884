/*
 * The aggregator context: Prio3 parameters and message sizes from the task, the
 * noise mechanism calibrated from its DP policy (each aggregator's noise alone
 * gives the per-release rho), the clock and the RNG.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "aggregator/internal.h"
#include "common/guard.h"
#include "privagg/hpke.h"
#include "privagg/ledger.h"
#include "privagg/vdaf.h"

int pa_aggregator_new(pa_aggregator **ppAgg, const pa_aggregator_config *c)
{
    pa_aggregator *a;
    int rc;

    *ppAgg = NULL;
    if (c->pKeys->eRole != PA_ROLE_LEADER && c->pKeys->eRole != PA_ROLE_HELPER)
        return pa_fail(PA_EINVAL, "aggregator: keys of role %s, expected leader or helper",
                       pa_role_name(c->pKeys->eRole));
    a = calloc(1, sizeof *a);
    if (a == NULL)
        return pa_fail(PA_ENOMEM, "aggregator: out of memory");
    a->pTask = c->pTask;
    a->pKeys = c->pKeys;
    a->pRegistry = c->pRegistry;
    if (c->pTask->bRegistry && c->pRegistry == NULL) {
        free(a);
        return pa_fail(PA_EINVAL, "aggregator: the task names an agency registry (parties.registry); "
                                  "give its file (config key \"registry\")");
    }
    a->pStore = c->pStore;
    a->iAggId = c->pKeys->eRole == PA_ROLE_LEADER ? 0 : 1;
    a->xNow = c->xNow;
    a->pClockCtx = c->pClockCtx;
    a->nLease = c->nLeaseSeconds ? c->nLeaseSeconds : PA_LEASE_SECONDS_DEFAULT;
    if (a->nLease < 1 || a->nLease > PA_LEASE_SECONDS_MAX) {
        free(a);
        return pa_fail(PA_EINVAL, "lease_seconds: %lld, expected 1..%d", (long long)c->nLeaseSeconds,
                       PA_LEASE_SECONDS_MAX);
    }
    if (c->zWorkerId != NULL) {
        size_t n = strlen(c->zWorkerId);
        if (n == 0 || n >= sizeof a->zWorker) {
            free(a);
            return pa_fail(PA_EINVAL, "worker id: %zu characters, expected 1..%zu", n, sizeof a->zWorker - 1);
        }
        memcpy(a->zWorker, c->zWorkerId, n + 1);
    } else {
        /* host:pid:random — unique across the processes sharing a store, and
         * across the aggregators of one process */
        char zHost[64] = "host", zRand[17];
        uint8_t aRand[8];
        if (gethostname(zHost, sizeof zHost) != 0)
            snprintf(zHost, sizeof zHost, "host");
        zHost[sizeof zHost - 1] = '\0';
        randombytes_buf(aRand, sizeof aRand);
        sodium_bin2hex(zRand, sizeof zRand, aRand, sizeof aRand);
        snprintf(a->zWorker, sizeof a->zWorker, "%s:%ld:%s", zHost, (long)getpid(), zRand);
    }
    pa_vdaf_ctx(a->aCtx, c->pTask);
    a->nPartition = c->pTask->nPartition;
    a->nCtx = sizeof a->aCtx;

    rc = pa_vdaf_from_task(&a->pVdaf, c->pTask, &a->bField128);
    if (rc == PA_OK)
        rc = pa_task_noise(c->pTask, PA_TASK_LEVEL_STATE, &a->bNoise, &a->aMech[0], &a->sens,
                           &a->aSigma2[0]);
    if (rc == PA_OK)
        rc = pa_task_noise(c->pTask, PA_TASK_LEVEL_PARTITION, &a->bNoise, &a->aMech[1], &a->sens,
                           &a->aSigma2[1]);
    if (rc == PA_OK && c->pRng == NULL && a->bNoise) {
        rc = pa_dp_rng_new(&a->pRng);
        a->bOwnRng = 1;
    } else {
        a->pRng = c->pRng;
    }
    if (rc == PA_OK)
        rc = pa_dp_ledger_init(a->pStore);
    if (rc != PA_OK) {
        pa_aggregator_free(a);
        return rc;
    }
    a->sizes.nPublicShare = pa_prio3_public_share_size(a->pVdaf);
    a->sizes.nHelperCt = pa_prio3_input_share_size(a->pVdaf, 1) + PA_HPKE_NT;
    a->sizes.nVerifierShare = pa_prio3_verifier_share_size(a->pVdaf);
    a->sizes.nVerifierMessage = pa_prio3_verifier_message_size(a->pVdaf);
    a->sizes.nAggCt = pa_prio3_agg_share_size(a->pVdaf) + PA_HPKE_NT;
    a->nLeaderCt = pa_prio3_input_share_size(a->pVdaf, 0) + PA_HPKE_NT;
    a->nOwnInputShare = pa_prio3_input_share_size(a->pVdaf, a->iAggId);
    a->nVerifyState = pa_prio3_verify_state_size(a->pVdaf);
    a->nOutShare = pa_prio3_out_share_size(a->pVdaf);
    a->nAggShare = pa_prio3_agg_share_size(a->pVdaf);
    *ppAgg = a;
    return PA_OK;
}

void pa_aggregator_free(pa_aggregator *a)
{
    if (a == NULL)
        return;
    pa_prio3_free(a->pVdaf);
    if (a->bOwnRng)
        pa_dp_rng_free(a->pRng);
    free(a);
}

const char *pa_aggregator_worker_id(const pa_aggregator *a)
{
    return a->zWorker;
}

int64_t pa_aggregator_lease_seconds(const pa_aggregator *a)
{
    return a->nLease;
}

const pa_msg_sizes *pa_aggregator_sizes(const pa_aggregator *a)
{
    return &a->sizes;
}

double pa_aggregator_sigma2(const pa_aggregator *a)
{
    return a->bNoise ? a->aSigma2[PA_TASK_LEVEL_STATE] : 0.0;
}

int64_t pa_agg_now(const pa_aggregator *a)
{
    return a->xNow ? a->xNow(a->pClockCtx) : (int64_t)time(NULL);
}

int pa_agg_period_valid(const char *z)
{
    for (int i = 0; i < 7; i++)
        if (i == 4 ? z[i] != '-' : (z[i] < '0' || z[i] > '9'))
            return 0;
    int iMonth = (z[5] - '0') * 10 + (z[6] - '0');
    return z[7] == '\0' && iMonth >= 1 && iMonth <= 12;
}

void pa_agg_current_period(const pa_aggregator *a, char zOut[8])
{
    time_t t = (time_t)pa_agg_now(a);
    struct tm tm;
    gmtime_r(&t, &tm);
    unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u, mo = (unsigned)tm.tm_mon % 12u + 1u;
    zOut[0] = (char)('0' + y / 1000);
    zOut[1] = (char)('0' + y / 100 % 10);
    zOut[2] = (char)('0' + y / 10 % 10);
    zOut[3] = (char)('0' + y % 10);
    zOut[4] = '-';
    zOut[5] = (char)('0' + mo / 10);
    zOut[6] = (char)('0' + mo % 10);
    zOut[7] = '\0';
}

int pa_agg_end_txn(pa_aggregator *a, int rc, uint8_t **ppResp)
{
    if (rc == PA_OK)
        rc = pa_store_commit(a->pStore);
    if (rc != PA_OK) {
        pa_store_rollback(a->pStore); /* safe when the failed commit ended it */
        if (ppResp != NULL) {
            free(*ppResp);
            *ppResp = NULL;
        }
    }
    return rc;
}
