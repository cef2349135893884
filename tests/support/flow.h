/*
 * Test fixture for in-process flows: a leader and a helper aggregator on their
 * own in-memory stores (or fresh PostgreSQL schemas when PA_TEST_PG_URL is
 * set: tests/support/test_store.h), an in-process transport (that can be made to fail, as if
 * the helper were down), a fixed clock, and helpers to submit, aggregate and
 * collect.  Header-only, tests only.
 */
#ifndef PA_TEST_FLOW_H
#define PA_TEST_FLOW_H

#include <stdlib.h>
#include <string.h>

#include "privagg/aggregator.h"
#include "store/internal.h"
#include "privagg/collector.h"
#include "privagg/submit.h"
#include "privagg/synth.h"
#include "support/mo_task.h"
#include "support/test_store.h"

typedef struct {
    mo_task m;
    pa_store *pLeaderStore, *pHelperStore;
    pa_aggregator *pLeader, *pHelper;
    pa_dp_rng *pRng;
    int64_t now;
    int nFailCalls;            /* the next n transport calls fail (helper down) */
    const char *zFailRoute;    /* only calls to this route fail (NULL: any) */
    size_t nCalls;
} flow;

static inline int64_t flow_clock(void *p)
{
    return ((flow *)p)->now;
}

static inline int flow_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq,
                                 uint8_t **ppResp, size_t *pnResp)
{
    flow *f = pCtx;
    f->nCalls++;
    if (f->nFailCalls > 0 && (f->zFailRoute == NULL || strcmp(zRoute, f->zFailRoute) == 0)) {
        f->nFailCalls--;
        return pa_fail(PA_EIO, "helper unreachable (test)");
    }
    if (strcmp(zRoute, "job/init") == 0)
        return pa_helper_job_init(f->pHelper, pReq, nReq, ppResp, pnResp);
    if (strcmp(zRoute, "job/continue") == 0)
        return pa_helper_job_continue(f->pHelper, pReq, nReq, ppResp, pnResp);
    if (strcmp(zRoute, "collect") == 0)
        return pa_helper_collect(f->pHelper, pReq, nReq, ppResp, pnResp);
    return pa_fail(PA_ENOTFOUND, "route %s", zRoute);
}

/* The config of an aggregator of the flow's task, clock and RNG, with these
 * keys and this store. */
static inline void flow_config(flow *f, const pa_keys *pKeys, pa_store *pStore, pa_aggregator_config *c)
{
    memset(c, 0, sizeof *c);
    c->pTask = f->m.pTask;
    c->xNow = flow_clock;
    c->pClockCtx = f;
    c->pRng = f->pRng;
    c->pKeys = pKeys;
    c->pStore = pStore;
}

/* nAgencies (0 = 646), the minimum per batch, and an optional task edit. */
static inline int flow_new(flow *f, size_t nAgencies, size_t nMin, void (*xEdit)(json_t *))
{
    pa_aggregator_config c;
    int rc;

    memset(f, 0, sizeof *f);
    f->now = 1795000000; /* 2026-11-18 */
    rc = mo_task_new(&f->m, nAgencies, nMin, xEdit);
    if (rc == PA_OK)
        rc = pa_store_open(&f->pLeaderStore, test_store_path(":memory:"));
    if (rc == PA_OK)
        rc = pa_store_open(&f->pHelperStore, test_store_path(":memory:"));
    if (rc == PA_OK)
        rc = pa_dp_rng_new_seeded_for_tests(&f->pRng, (const uint8_t *)"flow", 4);
    flow_config(f, &f->m.leader, f->pLeaderStore, &c);
    if (rc == PA_OK)
        rc = pa_aggregator_new(&f->pLeader, &c);
    flow_config(f, &f->m.helper, f->pHelperStore, &c);
    if (rc == PA_OK)
        rc = pa_aggregator_new(&f->pHelper, &c);
    /* release noise drawn ahead, as the servers' noise threads do */
    if (rc == PA_OK)
        rc = pa_aggregator_fill_noise_pool(f->pLeader, NULL);
    if (rc == PA_OK)
        rc = pa_aggregator_fill_noise_pool(f->pHelper, NULL);
    return rc;
}

static inline void flow_free(flow *f)
{
    pa_aggregator_free(f->pLeader);
    pa_aggregator_free(f->pHelper);
    pa_store_close(f->pLeaderStore);
    pa_store_close(f->pHelperStore);
    pa_dp_rng_free(f->pRng);
    mo_task_free(&f->m);
}

/* Submit one report of agency i and upload it to the leader. */
static inline int flow_submit(flow *f, size_t i, const char *zPeriod, const uint64_t *aCounts)
{
    uint8_t *p;
    size_t n;
    int rc = pa_submit_report(f->m.pTask, &f->m.aAgency[i], zPeriod, aCounts, f->m.pTask->nCell, &p, &n);
    if (rc == PA_OK)
        rc = pa_leader_upload(f->pLeader, p, n);
    free(p);
    return rc;
}

/* Collect (period, partition) into *pColl. */
static inline int flow_collect(flow *f, const char *zPeriod, const char *zPartition, pa_collection *pColl)
{
    uint8_t aId[16], *pReq, *pResp = NULL;
    size_t nReq, nResp;
    int rc = pa_collector_request(f->m.pTask, zPeriod, zPartition, aId, &pReq, &nReq);
    if (rc == PA_OK)
        rc = pa_leader_collect(f->pLeader, pReq, nReq, flow_transport, f, &pResp, &nResp);
    if (rc == PA_OK)
        rc = pa_collector_open(f->m.pTask, &f->m.collector, aId, zPeriod, zPartition, pResp, nResp, pColl);
    free(pReq);
    free(pResp);
    return rc;
}

static inline int flow_count(pa_store *pStore, const char *zSql)
{
    int64_t n = -1;
    if (pa_store_query_int(pStore, zSql, &n) != PA_OK)
        return -2;
    return (int)n;
}

#endif
