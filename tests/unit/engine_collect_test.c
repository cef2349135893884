/*
 * Collection jobs and release noise, in one process (tests/support/flow.h):
 *
 *   - noise is drawn ahead into each aggregator's pool; a job consumes no
 *     randomness (so its running time cannot depend on a draw), takes one
 *     vector per new batch, and is refused with PA_EBUSY (nothing stored) when
 *     the pool is empty instead of drawing inline;
 *   - collection jobs live in the leader's store: created, stepped and polled
 *     from there, they survive a restart (a store closed and opened again),
 *     asking again returns the same released bytes, a transient helper failure
 *     is retried and a permanent refusal ends the job with its message;
 *   - a release deletes its noise, and each partition's exact sum once the
 *     partition and the statewide batch are both released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/flow.h"

static uint64_t g_counts[270];

static int count(pa_store *pStore, const char *zSql)
{
    return flow_count(pStore, zSql);
}

/* Submit and aggregate one period for agencies [0, n). */
static void month(flow *f, const char *zPeriod, size_t n)
{
    pa_job_stats st;
    for (size_t k = 0; k < n; k++)
        assert_int_equal(flow_submit(f, k, zPeriod, g_counts), PA_OK);
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_jobs(f->pLeader, flow_transport, f, 256, &st), PA_OK);
}

static void test_jobs_draw_no_noise(void **state)
{
    flow f;
    (void)state;
    for (size_t c = 0; c < 270; c++)
        g_counts[c] = c % 3;
    assert_int_equal(flow_new(&f, 20, 2, NULL), PA_OK);
    int nPool = count(f.pHelperStore, "SELECT count(*) FROM noise_pool");
    assert_true(nPool > 4);
    /* filling a full pool draws nothing */
    size_t nDrawn = 99;
    assert_int_equal(pa_aggregator_fill_noise_pool(f.pHelper, &nDrawn), PA_OK);
    assert_int_equal(nDrawn, 0);

    uint64_t nWords = pa_dp_rng_words_drawn(f.pRng);
    month(&f, "2026-10", 20);
    /* both aggregators' jobs (upload, job/init, job/continue) drew nothing */
    assert_true(pa_dp_rng_words_drawn(f.pRng) == nWords);
    int nBatches = count(f.pHelperStore, "SELECT count(*) FROM batch_noise");
    assert_true(nBatches >= 2); /* the statewide batch and at least one partition */
    assert_int_equal(count(f.pHelperStore, "SELECT count(*) FROM noise_pool"), nPool - nBatches);
    assert_int_equal(count(f.pLeaderStore, "SELECT count(*) FROM batch_noise"), nBatches);

    /* topping up draws exactly what the jobs took */
    assert_int_equal(pa_aggregator_fill_noise_pool(f.pHelper, &nDrawn), PA_OK);
    assert_int_equal(nDrawn, (size_t)nBatches);
    assert_true(pa_dp_rng_words_drawn(f.pRng) > nWords);
    flow_free(&f);
}

static void test_empty_pool_refuses(void **state)
{
    flow f;
    pa_job_stats st;
    (void)state;
    assert_int_equal(flow_new(&f, 6, 2, NULL), PA_OK);
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(flow_submit(&f, k, "2026-10", g_counts), PA_OK);
    pa_store_exec(f.pHelperStore, "DELETE FROM noise_pool");
    uint64_t nWords = pa_dp_rng_words_drawn(f.pRng);
    memset(&st, 0, sizeof st);
    int rc = pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st);
    assert_int_equal(rc, PA_EBUSY);
    assert_non_null(strstr(pa_error_detail(), "pool"));
    /* nothing drawn inline, nothing stored by the helper */
    assert_true(pa_dp_rng_words_drawn(f.pRng) == nWords);
    assert_int_equal(count(f.pHelperStore, "SELECT count(*) FROM batch_noise"), 0);
    assert_int_equal(count(f.pHelperStore, "SELECT count(*) FROM reports"), 0);
    /* the pool refilled (the noise thread's job), the same job goes through */
    assert_int_equal(pa_aggregator_fill_noise_pool(f.pHelper, NULL), PA_OK);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 6);
    flow_free(&f);
}

/* The collector's request for a batch, as `privagg collect` makes it. */
static void request(flow *f, const char *zPeriod, const char *zPartition, uint8_t aId[16], uint8_t **ppReq,
                    size_t *pnReq)
{
    assert_int_equal(pa_collector_request(f->m.pTask, zPeriod, zPartition, aId, ppReq, pnReq), PA_OK);
}

static pa_collection_outcome step(flow *f)
{
    pa_collection_outcome out;
    assert_int_equal(pa_leader_collection_step(f->pLeader, flow_transport, f, &out), PA_OK);
    return out;
}

static void test_collection_job_lifecycle(void **state)
{
    char zPath[] = "/tmp/privagg-collect-test-XXXXXX";
    flow f;
    uint8_t aId[16], aId2[16], *pReq, *pResp = NULL, *pResp2 = NULL;
    size_t nReq, nResp = 0, nResp2 = 0;
    int bPending = 0;
    pa_collection coll;
    (void)state;

    assert_int_equal(flow_new(&f, 20, 2, NULL), PA_OK);
    /* the leader on a file, so that a restart can be played */
    int fd = mkstemp(zPath);
    assert_true(fd >= 0);
    close(fd);
    pa_aggregator_free(f.pLeader);
    pa_store_close(f.pLeaderStore);
    pa_aggregator_config c;
    assert_int_equal(pa_store_open(&f.pLeaderStore, zPath), PA_OK);
    flow_config(&f, &f.m.leader, f.pLeaderStore, &c);
    assert_int_equal(pa_aggregator_new(&f.pLeader, &c), PA_OK);
    assert_int_equal(pa_aggregator_fill_noise_pool(f.pLeader, NULL), PA_OK);

    for (size_t k = 0; k < 20; k++)
        assert_int_equal(flow_submit(&f, k, "2026-10", g_counts), PA_OK);

    /* created before aggregation: it waits, and says so */
    request(&f, "2026-10", "state", aId, &pReq, &nReq);
    assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId2), PA_OK);
    assert_memory_equal(aId, aId2, 16);
    assert_int_equal(pa_leader_collection_poll(f.pLeader, aId, &bPending, &pResp, &nResp), PA_OK);
    assert_true(bPending);
    assert_int_equal(step(&f).eOutcome, PA_COLLECTION_WAITING);
    assert_false(step(&f).bStepped); /* not due again before a second has passed */

    pa_job_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    f.now += 1;
    /* the helper is down once: retried later, not failed */
    f.nFailCalls = 1;
    f.zFailRoute = "collect";
    pa_collection_outcome out = step(&f);
    assert_int_equal(out.eOutcome, PA_COLLECTION_RETRYING);
    assert_int_equal(out.rc, PA_EIO);
    assert_int_equal(pa_leader_collection_poll(f.pLeader, aId, &bPending, &pResp, &nResp), PA_OK);
    assert_true(bPending);
    f.now += 2;
    assert_int_equal(step(&f).eOutcome, PA_COLLECTION_RELEASED);

    /* a restart: the job and its answer come back from the store */
    pa_aggregator_free(f.pLeader);
    pa_store_close(f.pLeaderStore);
    assert_int_equal(pa_store_open(&f.pLeaderStore, zPath), PA_OK);
    c.pStore = f.pLeaderStore;
    assert_int_equal(pa_aggregator_new(&f.pLeader, &c), PA_OK);
    assert_int_equal(pa_leader_collection_poll(f.pLeader, aId, &bPending, &pResp, &nResp), PA_OK);
    assert_false(bPending);
    assert_int_equal(pa_collector_open(f.m.pTask, &f.m.collector, aId, "2026-10", "state", pResp, nResp,
                                       &coll),
                     PA_OK);
    assert_int_equal(coll.nAgency, 20);
    pa_collection_free(&coll);
    /* the collector lost its file: asking again gives the same bytes */
    assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId2), PA_OK);
    assert_int_equal(pa_leader_collection_poll(f.pLeader, aId, &bPending, &pResp2, &nResp2), PA_OK);
    assert_false(bPending);
    assert_int_equal(nResp2, nResp);
    assert_memory_equal(pResp2, pResp, nResp);
    free(pResp);
    free(pResp2);
    free(pReq);
    /* the statewide release deleted its noise; each partition keeps its exact
     * sum (and noise) until it is released too */
    assert_int_equal(count(f.pLeaderStore, "SELECT count(*) FROM batch_noise WHERE partition = 'state'"), 0);
    assert_int_equal(count(f.pHelperStore, "SELECT count(*) FROM batch_noise WHERE partition = 'state'"), 0);
    int nPartitions = count(f.pLeaderStore, "SELECT count(*) FROM batches");
    assert_true(nPartitions >= 1);
    const char *zPart = f.m.pTask->aAgency[0].zPartition;
    for (size_t k = 0; k < f.m.nAgency; k++)
        if (strcmp(f.m.aAgency[k].zId, "MO0010000") == 0)
            zPart = pa_task_find_agency(f.m.pTask, f.m.aAgency[k].zId)->zPartition;
    request(&f, "2026-10", zPart, aId, &pReq, &nReq);
    assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId2), PA_OK);
    out = step(&f);
    if (out.eOutcome != PA_COLLECTION_RELEASED)
        fail_msg("partition %s: outcome %d: %s", zPart, out.eOutcome, out.zDetail);
    free(pReq);
    /* the released partition's exact sum and noise are gone in both stores */
    char zSql[200];
    snprintf(zSql, sizeof zSql, "SELECT count(*) FROM batches WHERE partition = '%s'", zPart);
    assert_int_equal(count(f.pLeaderStore, zSql), 0);
    assert_int_equal(count(f.pHelperStore, zSql), 0);
    snprintf(zSql, sizeof zSql, "SELECT count(*) FROM batch_noise WHERE partition = '%s'", zPart);
    assert_int_equal(count(f.pLeaderStore, zSql), 0);
    assert_int_equal(count(f.pHelperStore, zSql), 0);
    assert_int_equal(count(f.pLeaderStore, "SELECT count(*) FROM batches"), nPartitions - 1);

    /* a refusal for good ends the job with its message */
    request(&f, "2026-11", "state", aId, &pReq, &nReq);
    assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId2), PA_OK);
    out = step(&f);
    assert_int_equal(out.eOutcome, PA_COLLECTION_REFUSED);
    assert_int_equal(out.rc, PA_ERANGE);
    assert_int_equal(pa_leader_collection_poll(f.pLeader, aId, &bPending, &pResp, &nResp), PA_ERANGE);
    assert_non_null(strstr(pa_error_detail(), "0 agencies, the task requires at least 2"));
    free(pReq);
    /* an unknown partition is refused when the job is created */
    request(&f, "2026-10", "29999", aId, &pReq, &nReq);
    assert_int_equal(pa_leader_collection_create(f.pLeader, pReq, nReq, aId2), PA_ENOTFOUND);
    free(pReq);
    flow_free(&f);
    unlink(zPath);
    char zSide[64];
    snprintf(zSide, sizeof zSide, "%s-wal", zPath);
    unlink(zSide);
    snprintf(zSide, sizeof zSide, "%s-shm", zPath);
    unlink(zSide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_draw_no_noise),
        cmocka_unit_test(test_empty_pool_refuses),
        cmocka_unit_test(test_collection_job_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
