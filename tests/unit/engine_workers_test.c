/*
 * Several leader workers on one store (issue 16, horizontal workers), in one
 * process with an injected clock: two leader aggregators, each on its own
 * connection to one store file, with worker ids "A" and "B".  Worker A claims
 * an aggregation job and stalls in the middle of it (inside its call to the
 * helper); B cannot take the job while A's lease runs, takes it once the clock
 * has passed the expiry, and finishes it; A's late commit then has no effect:
 * every report is summed once and the exact totals come out (DP none).  The
 * same for a collection job with noise: B releases, A's late release writes
 * nothing, and each ledger holds one entry for the release.  With
 * PA_TEST_PG_URL the stores are PostgreSQL schemas (ctest -L pg).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/flow.h"
#include "support/test_store.h"

#define LEASE_S 30

typedef struct {
    flow f;                     /* the task, the helper, the clock */
    char zPath[600];            /* the shared store: a file, or a PostgreSQL schema's URL */
    pa_store *pStoreA, *pStoreB;
    pa_aggregator *pA, *pB;
    const char *zStallRoute;    /* A's call to this route runs the takeover first */
    int bTakenOver;
    pa_job_stats stB;           /* what B did meanwhile */
    pa_collection_outcome outB;
    int bBeforeExpiryIdle;      /* B found nothing to do while A's lease ran */
    int bClaimOnly;             /* B only claims A's job (it is still working on it) */
} workers;

static void no_dp(json_t *pRoot)
{
    json_object_set_new(pRoot, "dp", json_pack("{s:s, s:s}", "mechanism", "none", "privacy_unit",
                                               "incident_record"));
}

static void worker_new(workers *w, const char *zId, pa_store **ppStore, pa_aggregator **ppAgg)
{
    pa_aggregator_config c;
    assert_int_equal(pa_store_open(ppStore, w->zPath), PA_OK);
    flow_config(&w->f, &w->f.m.leader, *ppStore, &c);
    c.zWorkerId = zId;
    c.nLeaseSeconds = LEASE_S;
    assert_int_equal(pa_aggregator_new(ppAgg, &c), PA_OK);
    assert_string_equal(pa_aggregator_worker_id(*ppAgg), zId);
    assert_int_equal(pa_aggregator_lease_seconds(*ppAgg), LEASE_S);
}

/* The flow's helper, and two leader workers on one store file. */
static void workers_new(workers *w, size_t nAgencies, void (*xEdit)(json_t *))
{
    memset(w, 0, sizeof *w);
    assert_int_equal(flow_new(&w->f, nAgencies, 3, xEdit), PA_OK);
    char zFile[64];
    snprintf(zFile, sizeof zFile, "/tmp/pa_workers_%ld.db", (long)getpid());
    unlink(zFile);
    const char *zStore = test_store_path(zFile);
    assert_non_null(zStore);
    snprintf(w->zPath, sizeof w->zPath, "%s", zStore);
    worker_new(w, "A", &w->pStoreA, &w->pA);
    worker_new(w, "B", &w->pStoreB, &w->pB);
    assert_int_equal(pa_aggregator_fill_noise_pool(w->pA, NULL), PA_OK);
}

static void workers_free(workers *w)
{
    char z[sizeof w->zPath + 8];
    pa_aggregator_free(w->pA);
    pa_aggregator_free(w->pB);
    pa_store_close(w->pStoreA);
    pa_store_close(w->pStoreB);
    flow_free(&w->f);
    if (test_store_pg())
        return;
    unlink(w->zPath);
    snprintf(z, sizeof z, "%s-wal", w->zPath);
    unlink(z);
    snprintf(z, sizeof z, "%s-shm", w->zPath);
    unlink(z);
}

/* B's turn, run from inside A's call to the helper: first while A's lease
 * runs (B must find nothing it may take), then past its expiry. */
static void takeover(workers *w)
{
    int bDone = 0;
    w->bTakenOver = 1;
    if (w->bClaimOnly) {
        uint8_t aJob[16];
        char zPeriod[PA_STORE_PERIOD_SIZE];
        int bFound;
        w->f.now += LEASE_S + 1;
        assert_int_equal(pa_store_begin(w->pStoreB), PA_OK);
        assert_int_equal(pa_store_job_claim(w->pStoreB, w->f.m.pTask->aTaskId, "B", w->f.now, w->f.now + LEASE_S,
                                            aJob, zPeriod, &bFound), PA_OK);
        assert_int_equal(pa_store_commit(w->pStoreB), PA_OK);
        assert_true(bFound);
    } else if (strcmp(w->zStallRoute, "job/continue") == 0) {
        memset(&w->stB, 0, sizeof w->stB);
        assert_int_equal(pa_leader_run_one_job(w->pB, flow_transport, &w->f, 1000, &w->stB, &bDone), PA_OK);
        w->bBeforeExpiryIdle = bDone && w->stB.nJobs == 0;
        w->f.now += LEASE_S + 1;
        memset(&w->stB, 0, sizeof w->stB);
        assert_int_equal(pa_leader_run_one_job(w->pB, flow_transport, &w->f, 1000, &w->stB, &bDone), PA_OK);
    } else {
        assert_int_equal(pa_leader_collection_step(w->pB, flow_transport, &w->f, &w->outB), PA_OK);
        w->bBeforeExpiryIdle = !w->outB.bStepped;
        w->f.now += LEASE_S + 1;
        assert_int_equal(pa_leader_collection_step(w->pB, flow_transport, &w->f, &w->outB), PA_OK);
    }
}

/* Worker A's transport: its call to zStallRoute stalls while B takes over. */
static int stalling_transport(void *pCtx, const char *zRoute, const uint8_t *pReq, size_t nReq,
                              uint8_t **ppResp, size_t *pnResp)
{
    workers *w = pCtx;
    if (!w->bTakenOver && strcmp(zRoute, w->zStallRoute) == 0)
        takeover(w);
    return flow_transport(&w->f, zRoute, pReq, nReq, ppResp, pnResp);
}

static int count(pa_store *pStore, const char *zSql)
{
    return flow_count(pStore, zSql);
}

/* Submit agencies [0, n) with counts (cell + agency) % 4 (the task's structural
 * zeros 0); true sums out. */
static void submit(workers *w, size_t n, const char *zPeriod, uint64_t *aTrue)
{
    uint64_t a[270];
    for (size_t k = 0; k < n; k++) {
        for (size_t c = 0; c < 270; c++) {
            const unsigned char *abZero = w->f.m.pTask->abStructuralZero;
            a[c] = abZero != NULL && abZero[c] ? 0 : (c + k) % 4;
            aTrue[c] += a[c];
        }
        uint8_t *p;
        size_t nMsg;
        assert_int_equal(pa_submit_report(w->f.m.pTask, &w->f.m.aAgency[k], zPeriod, a, w->f.m.pTask->nCell, &p,
                                          &nMsg), PA_OK);
        /* half the uploads reach each worker's process */
        int rc = pa_leader_upload(k % 2 ? w->pB : w->pA, p, nMsg);
        free(p);
        if (rc != PA_OK)
            fail_msg("upload %zu: %s: %s", k, pa_strerror(rc), pa_error_detail());
    }
}

static void test_aggregation_job_taken_over_counts_once(void **state)
{
    workers w;
    uint64_t aTrue[270] = {0};
    pa_job_stats stA;
    pa_collection coll;
    int bDone = 0;
    (void)state;

    workers_new(&w, 40, no_dp);
    submit(&w, 40, "2026-10", aTrue);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM reports WHERE state = 'pending'"), 40);

    /* A claims a job of every report, B takes it over while A stalls in its
     * continue step */
    w.zStallRoute = "job/continue";
    memset(&stA, 0, sizeof stA);
    assert_int_equal(pa_leader_run_one_job(w.pA, stalling_transport, &w, 1000, &stA, &bDone), PA_OK);
    assert_true(w.bTakenOver);
    assert_true(w.bBeforeExpiryIdle);   /* A's live lease kept B off the job */
    assert_int_equal(w.stB.nJobs, 1);   /* past the expiry B claimed and finished it */
    assert_int_equal(w.stB.nAccepted, 40);
    assert_int_equal(w.stB.nLeaseLost, 0);

    /* every report summed once, on both sides (A's late commit would have
     * added its sums a second time) */
    assert_int_equal(count(w.pStoreA, "SELECT sum(report_count) FROM batches"), 40);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM reports WHERE state = 'accepted'"), 40);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM jobs WHERE state = 'finished'"
                                      " AND lease_owner IS NULL"), 1);
    assert_int_equal(count(w.f.pHelperStore, "SELECT count(*) FROM reports WHERE state = 'accepted'"), 40);
    assert_int_equal(count(w.f.pHelperStore, "SELECT sum(report_count) FROM batches"), 40);
    /* A's late settle found its lease lost and wrote nothing */
    assert_int_equal(stA.nLeaseLost, 1);
    assert_int_equal(stA.nJobs, 0);
    assert_int_equal(stA.nAccepted, 0);
    /* nothing left to do for either worker */
    assert_int_equal(pa_leader_run_one_job(w.pA, flow_transport, &w.f, 1000, &stA, &bDone), PA_OK);
    assert_true(bDone);

    /* the exact totals: no report lost, none counted twice */
    uint8_t aId[16], *pReq, *pResp = NULL;
    size_t nReq, nResp;
    assert_int_equal(pa_collector_request(w.f.m.pTask, "2026-10", "state", aId, &pReq, &nReq), PA_OK);
    int rc = pa_leader_collect(w.pB, pReq, nReq, flow_transport, &w.f, &pResp, &nResp);
    if (rc != PA_OK)
        fail_msg("collect: %s: %s", pa_strerror(rc), pa_error_detail());
    assert_int_equal(pa_collector_open(w.f.m.pTask, &w.f.m.collector, aId, "2026-10", "state", pResp, nResp,
                                       &coll), PA_OK);
    assert_int_equal(coll.nReport, 40);
    assert_int_equal(coll.nAgency, 40);
    for (size_t c = 0; c < 270; c++)
        assert_int_equal(coll.aTotal[c], (int64_t)aTrue[c]);
    pa_collection_free(&coll);
    free(pReq);
    free(pResp);
    workers_free(&w);
}

static void test_late_commit_while_new_owner_works(void **state)
{
    workers w;
    uint64_t aTrue[270] = {0};
    pa_job_stats stA, stB;
    int bDone = 0;
    (void)state;

    workers_new(&w, 10, no_dp);
    submit(&w, 10, "2026-10", aTrue);
    /* A stalls; meanwhile its lease expires and B claims the job (and is
     * still working on it when A's settle comes): A writes nothing */
    w.zStallRoute = "job/init";
    w.bClaimOnly = 1;
    memset(&stA, 0, sizeof stA);
    assert_int_equal(pa_leader_run_one_job(w.pA, stalling_transport, &w, 1000, &stA, &bDone), PA_OK);
    assert_true(w.bTakenOver);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM batches"), 0);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM reports WHERE state = 'aggregating'"), 10);
    assert_int_equal(stA.nLeaseLost, 1);
    assert_int_equal(stA.nJobs, 0);
    /* B finishes its job: every report once */
    memset(&stB, 0, sizeof stB);
    assert_int_equal(pa_leader_run_one_job(w.pB, flow_transport, &w.f, 1000, &stB, &bDone), PA_OK);
    assert_int_equal(stB.nJobs, 1);
    assert_int_equal(stB.nAccepted, 10);
    assert_int_equal(count(w.pStoreA, "SELECT sum(report_count) FROM batches"), 10);
    assert_int_equal(count(w.f.pHelperStore, "SELECT sum(report_count) FROM batches"), 10);
    workers_free(&w);
}

static void test_failed_job_given_back_at_once(void **state)
{
    workers w;
    uint64_t aTrue[270] = {0};
    pa_job_stats st;
    int bDone = 0;
    (void)state;

    workers_new(&w, 10, no_dp);
    submit(&w, 10, "2026-10", aTrue);
    /* A's helper call fails: A gives the job back, B resumes it at once (no
     * wait for the expiry) and nothing is counted twice */
    w.f.nFailCalls = 1;
    w.f.zFailRoute = "job/continue";
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_one_job(w.pA, flow_transport, &w.f, 1000, &st, &bDone), PA_EIO);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM jobs WHERE lease_owner IS NULL"), 1);
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_one_job(w.pB, flow_transport, &w.f, 1000, &st, &bDone), PA_OK);
    assert_int_equal(st.nJobs, 1);
    assert_int_equal(st.nAccepted, 10);
    assert_int_equal(count(w.pStoreA, "SELECT sum(report_count) FROM batches"), 10);
    assert_int_equal(count(w.f.pHelperStore, "SELECT sum(report_count) FROM batches"), 10);
    workers_free(&w);
}

static void test_collection_job_taken_over_releases_once(void **state)
{
    workers w;
    uint64_t aTrue[270] = {0};
    pa_job_stats st;
    pa_collection_outcome outA;
    uint8_t aId[16], aGot[16], *pReq, *pResp = NULL;
    size_t nReq, nResp;
    int bPending = 1;
    pa_collection coll;
    (void)state;

    workers_new(&w, 12, NULL); /* the task's discrete Gaussian: a ledger entry per release */
    submit(&w, 12, "2026-10", aTrue);
    assert_int_equal(pa_leader_run_jobs(w.pA, flow_transport, &w.f, 1000, &st), PA_OK);
    assert_int_equal(st.nAccepted, 12);
    assert_int_equal(pa_collector_request(w.f.m.pTask, "2026-10", "state", aId, &pReq, &nReq), PA_OK);
    assert_int_equal(pa_leader_collection_create(w.pA, pReq, nReq, aGot), PA_OK);

    /* A claims the job and stalls in its call to the helper; B takes over */
    w.zStallRoute = "collect";
    assert_int_equal(pa_leader_collection_step(w.pA, stalling_transport, &w, &outA), PA_OK);
    assert_true(w.bTakenOver);
    assert_true(w.bBeforeExpiryIdle);
    assert_true(w.outB.bStepped);
    assert_int_equal(w.outB.eOutcome, PA_COLLECTION_RELEASED);
    assert_true(outA.bStepped);
    assert_int_equal(outA.eOutcome, PA_COLLECTION_LEASE_LOST);

    /* one release, one charge in each ledger, the job released */
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM collections"), 1);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM dp_ledger"), 1);
    assert_int_equal(count(w.f.pHelperStore, "SELECT count(*) FROM collections"), 1);
    assert_int_equal(count(w.f.pHelperStore, "SELECT count(*) FROM dp_ledger"), 1);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM collection_jobs WHERE state = 'released'"
                                      " AND lease_owner IS NULL"), 1);
    assert_int_equal(pa_leader_collection_poll(w.pA, aId, &bPending, &pResp, &nResp), PA_OK);
    assert_false(bPending);
    assert_int_equal(pa_collector_open(w.f.m.pTask, &w.f.m.collector, aId, "2026-10", "state", pResp, nResp,
                                       &coll), PA_OK);
    assert_int_equal(coll.nReport, 12);
    pa_collection_free(&coll);
    /* nothing is due any more */
    assert_int_equal(pa_leader_collection_step(w.pA, flow_transport, &w.f, &outA), PA_OK);
    assert_false(outA.bStepped);
    free(pReq);
    free(pResp);
    workers_free(&w);
}

typedef struct {
    pa_aggregator *a;
    const uint8_t *p;
    size_t n;
    pthread_barrier_t *pBarrier;
    int rc;
} racer;

static void *race_upload(void *pArg)
{
    racer *r = pArg;
    pthread_barrier_wait(r->pBarrier);
    r->rc = pa_leader_upload(r->a, r->p, r->n);
    return NULL;
}

static void test_upload_race_stores_once(void **state)
{
    workers w;
    uint64_t a[270] = {0};
    uint8_t *p;
    size_t n;
    (void)state;

    workers_new(&w, 4, no_dp);
    for (int iRound = 0; iRound < 20; iRound++) {
        pthread_barrier_t barrier;
        pthread_t t[2];
        racer r[2];
        char zPeriod[32];
        /* one report (one id) uploaded through both processes at once */
        snprintf(zPeriod, sizeof zPeriod, "20%02d-%02d", 25 + iRound / 12, iRound % 12 + 1);
        assert_int_equal(pa_submit_report(w.f.m.pTask, &w.f.m.aAgency[0], zPeriod, a, w.f.m.pTask->nCell, &p, &n),
                         PA_OK);
        pthread_barrier_init(&barrier, NULL, 2);
        r[0] = (racer){w.pA, p, n, &barrier, -1};
        r[1] = (racer){w.pB, p, n, &barrier, -1};
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, race_upload, &r[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&barrier);
        free(p);
        /* one stored, the other told it is a replay (409: acknowledged) */
        assert_true((r[0].rc == PA_OK && r[1].rc == PA_EEXISTS) || (r[0].rc == PA_EEXISTS && r[1].rc == PA_OK));
    }
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM reports"), 20);
    assert_int_equal(count(w.pStoreA, "SELECT count(*) FROM report_data"), 20);
    workers_free(&w);
}

static void test_lease_store(void **state)
{
    pa_store *pStore;
    uint8_t aTask[32] = {7}, aJob[16] = {1}, aGot[16];
    char zPeriod[PA_STORE_PERIOD_SIZE], zLong[PA_STORE_WORKER_ID_SIZE + 1];
    int bFound, bHeld;
    (void)state;

    assert_int_equal(pa_store_open(&pStore, test_store_path(":memory:")), PA_OK);
    assert_int_equal(pa_store_begin(pStore), PA_OK);
    assert_int_equal(pa_store_job_new(pStore, aTask, aJob, "2026-10", 100), PA_OK);
    assert_int_equal(pa_store_job_lease_take(pStore, aTask, aJob, "A", 130), PA_OK);
    /* B: nothing to claim before the expiry; A renews */
    assert_int_equal(pa_store_job_claim(pStore, aTask, "B", 129, 159, aGot, zPeriod, &bFound), PA_OK);
    assert_false(bFound);
    assert_int_equal(pa_store_job_lease_renew(pStore, aTask, aJob, "A", 160, &bHeld), PA_OK);
    assert_true(bHeld);
    assert_int_equal(pa_store_job_claim(pStore, aTask, "B", 159, 189, aGot, zPeriod, &bFound), PA_OK);
    assert_false(bFound);
    /* expired but not claimed: still A's */
    assert_int_equal(pa_store_job_lease_renew(pStore, aTask, aJob, "A", 200, &bHeld), PA_OK);
    assert_true(bHeld);
    /* past the expiry B claims; A's renewal then fails and writes nothing */
    assert_int_equal(pa_store_job_claim(pStore, aTask, "B", 200, 230, aGot, zPeriod, &bFound), PA_OK);
    assert_true(bFound);
    assert_memory_equal(aGot, aJob, 16);
    assert_string_equal(zPeriod, "2026-10");
    assert_int_equal(pa_store_job_lease_renew(pStore, aTask, aJob, "A", 260, &bHeld), PA_OK);
    assert_false(bHeld);
    assert_int_equal(count(pStore, "SELECT lease_expiry FROM jobs"), 230);
    /* A's release of a lease it lost leaves B's */
    assert_int_equal(pa_store_job_lease_release(pStore, aTask, aJob, "A"), PA_OK);
    assert_int_equal(pa_store_job_lease_renew(pStore, aTask, aJob, "B", 240, &bHeld), PA_OK);
    assert_true(bHeld);
    /* a finished job is nobody's to claim or renew */
    assert_int_equal(pa_store_job_finish(pStore, aTask, aJob, 210), PA_OK);
    assert_int_equal(pa_store_job_lease_renew(pStore, aTask, aJob, "B", 250, &bHeld), PA_OK);
    assert_false(bHeld);
    assert_int_equal(pa_store_job_claim(pStore, aTask, "C", 10000, 10030, aGot, zPeriod, &bFound), PA_OK);
    assert_false(bFound);
    /* worker ids: 1..127 bytes */
    memset(zLong, 'x', sizeof zLong - 1);
    zLong[sizeof zLong - 1] = '\0';
    assert_int_equal(pa_store_job_claim(pStore, aTask, zLong, 1, 2, aGot, zPeriod, &bFound), PA_EINVAL);
    assert_int_equal(pa_store_job_claim(pStore, aTask, "", 1, 2, aGot, zPeriod, &bFound), PA_EINVAL);
    assert_int_equal(pa_store_commit(pStore), PA_OK);
    pa_store_close(pStore);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lease_store),
        cmocka_unit_test(test_upload_race_stores_once),
        cmocka_unit_test(test_aggregation_job_taken_over_counts_once),
        cmocka_unit_test(test_late_commit_while_new_owner_works),
        cmocka_unit_test(test_failed_job_given_back_at_once),
        cmocka_unit_test(test_collection_job_taken_over_releases_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
