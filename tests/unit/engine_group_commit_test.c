/*
 * The leader's group commit (engine/node/group_commit.c) under concurrency:
 * many threads check and store uploads through the committer thread at once;
 * every upload gets its own outcome (stored, or a replay refused), nothing is
 * stored twice or lost, and stopping the committer is safe with or without work.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "node/group_commit.h"
#include "support/flow.h"

#define AGENCIES 24
#define THREADS 8
#define UPLOADS (AGENCIES + 4) /* each agency once, then 4 replays */

static uint64_t g_counts[270];

typedef struct {
    flow *f;
    pa_group_commit *g;
    uint8_t *apMsg[UPLOADS];
    size_t anMsg[UPLOADS];
    int aRc[UPLOADS];
    atomic_size_t next;
} work;

static void *uploader(void *p)
{
    work *w = p;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= UPLOADS)
            break;
        pa_upload up;
        int rc = pa_leader_check_report(w->f->pLeader, w->apMsg[i], w->anMsg[i], &up);
        if (rc == PA_OK) {
            pa_group_commit_store(w->g, &up);
            rc = up.rc;
            pa_upload_free(w->f->pLeader, &up);
        }
        w->aRc[i] = rc;
    }
    return NULL;
}

static void test_concurrent_uploads_each_get_their_outcome(void **state)
{
    flow f;
    pa_group_commit g;
    work w;
    pthread_t aThread[THREADS];
    (void)state;

    assert_int_equal(flow_new(&f, AGENCIES, 1, NULL), PA_OK);
    memset(&w, 0, sizeof w);
    w.f = &f;
    w.g = &g;
    for (size_t i = 0; i < AGENCIES; i++) {
        g_counts[i % 270] = i + 1;
        assert_int_equal(pa_submit_report(f.m.pTask, &f.m.aAgency[i], "2026-10", g_counts, 270,
                                          &w.apMsg[i], &w.anMsg[i]),
                         PA_OK);
    }
    for (size_t i = AGENCIES; i < UPLOADS; i++) { /* the same bytes again: replays */
        w.anMsg[i] = w.anMsg[i - AGENCIES];
        w.apMsg[i] = malloc(w.anMsg[i]);
        assert_non_null(w.apMsg[i]);
        memcpy(w.apMsg[i], w.apMsg[i - AGENCIES], w.anMsg[i]);
    }

    assert_int_equal(pa_group_commit_start(&g, f.pLeader), PA_OK);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&aThread[t], NULL, uploader, &w), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(aThread[t], NULL);
    pa_group_commit_stop(&g);
    pa_group_commit_stop(&g); /* a second stop does nothing */

    /* of each pair (original, replay) exactly one was stored, whichever came first */
    size_t nStored = 0;
    for (size_t i = 0; i < UPLOADS; i++) {
        if (w.aRc[i] == PA_OK)
            nStored++;
        else
            assert_int_equal(w.aRc[i], PA_EEXISTS);
    }
    for (size_t i = 0; i < UPLOADS - AGENCIES; i++)
        assert_true((w.aRc[i] == PA_OK) != (w.aRc[i + AGENCIES] == PA_OK));
    assert_int_equal(nStored, AGENCIES);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports"), AGENCIES);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM report_data d JOIN reports r"
                                                " ON d.report = r.id"),
                     AGENCIES);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(DISTINCT agency_id) FROM reports"),
                     AGENCIES);

    /* what was stored aggregates and releases like any upload */
    pa_job_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 1000, &st), PA_OK);
    assert_int_equal(st.nAccepted, AGENCIES);

    for (size_t i = 0; i < UPLOADS; i++)
        free(w.apMsg[i]);
    flow_free(&f);
}

static void test_start_and_stop_without_uploads(void **state)
{
    flow f;
    pa_group_commit g;
    (void)state;
    assert_int_equal(flow_new(&f, 10, 1, NULL), PA_OK);
    assert_int_equal(pa_group_commit_start(&g, f.pLeader), PA_OK);
    pa_group_commit_stop(&g);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports"), 0);
    flow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_uploads_each_get_their_outcome),
        cmocka_unit_test(test_start_and_stop_without_uploads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
