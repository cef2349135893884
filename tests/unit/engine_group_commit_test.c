/*
 * The leader's group commit (engine/node/group_commit.c) under concurrency:
 * many threads check and store uploads through the committer thread at once;
 * every upload gets its own outcome (stored, or a replay refused), nothing is
 * stored twice or lost, and stopping the committer is safe with or without work;
 * and a group is decided report by report exactly as storing them one at a time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A second leader with the flow's task and keys on a store of its own. */
static void second_leader(flow *f, pa_store **ppStore, pa_aggregator **ppLeader)
{
    pa_aggregator_config c;
    assert_int_equal(pa_store_open(ppStore, test_store_path(":memory:")), PA_OK);
    flow_config(f, &f->m.leader, *ppStore, &c);
    assert_int_equal(pa_aggregator_new(ppLeader, &c), PA_OK);
}

static void allow_corrections(json_t *pRoot)
{
    json_object_set_new(json_object_get(pRoot, "batching"), "allow_corrections", json_true());
}

#define GROUP 7

/* One group commit decides every upload as storing them one by one does: the
 * same outcome and message for each, the same rows.  The group (agency index
 * of each report, -1-k: the bytes of report k again) holds a replay of a
 * report of the same group, a second report of an agency (refused, or a
 * correction that replaces the first, itself replaced by a third), and a
 * replay of a replaced report.  The store answers for the whole group from one
 * query and inserts it in one statement (pa_store_reports_seen,
 * pa_store_report_insert_many): what a report of the group stored counts for
 * the later ones. */
static void group_as_one_by_one(int bCorrections, const int aiAgency[GROUP], const int aExpect[GROUP])
{
    flow f;
    pa_store *pStore2;
    pa_aggregator *pLeader2;
    uint8_t *apMsg[GROUP];
    size_t anMsg[GROUP];
    pa_upload aGroup[GROUP], aOne[GROUP], *apGroup[GROUP];
    static const char *const azState[] = {"pending", "replaced"};

    assert_int_equal(flow_new(&f, 4, 1, bCorrections ? allow_corrections : NULL), PA_OK);
    second_leader(&f, &pStore2, &pLeader2);
    for (size_t i = 0; i < GROUP; i++) {
        if (aiAgency[i] < 0) {
            size_t k = (size_t)(-1 - aiAgency[i]);
            anMsg[i] = anMsg[k];
            apMsg[i] = malloc(anMsg[i]);
            assert_non_null(apMsg[i]);
            memcpy(apMsg[i], apMsg[k], anMsg[i]);
        } else {
            g_counts[0] = i + 1;
            assert_int_equal(pa_submit_report(f.m.pTask, &f.m.aAgency[aiAgency[i]], "2026-10", g_counts, 270,
                                              &apMsg[i], &anMsg[i]),
                             PA_OK);
        }
        assert_int_equal(pa_leader_check_report(f.pLeader, apMsg[i], anMsg[i], &aGroup[i]), PA_OK);
        assert_int_equal(pa_leader_check_report(pLeader2, apMsg[i], anMsg[i], &aOne[i]), PA_OK);
        apGroup[i] = &aGroup[i];
    }
    assert_int_equal(pa_leader_store_reports(f.pLeader, apGroup, GROUP), PA_OK);
    for (size_t i = 0; i < GROUP; i++) {
        pa_upload *p = &aOne[i];
        assert_int_equal(pa_leader_store_reports(pLeader2, &p, 1), PA_OK);
    }
    for (size_t i = 0; i < GROUP; i++) {
        assert_int_equal(aGroup[i].rc, aExpect[i]);
        assert_int_equal(aOne[i].rc, aExpect[i]);
        if (aExpect[i] != PA_OK)
            assert_string_equal(aGroup[i].zDetail, aOne[i].zDetail);
        pa_upload_free(f.pLeader, &aGroup[i]);
        pa_upload_free(pLeader2, &aOne[i]);
        free(apMsg[i]);
    }
    for (size_t s = 0; s < 2; s++) {
        char z[160];
        snprintf(z, sizeof z, "SELECT count(*) FROM reports WHERE state = '%s'", azState[s]);
        assert_int_equal(flow_count(f.pLeaderStore, z), flow_count(pStore2, z));
    }
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM report_data"),
                     flow_count(pStore2, "SELECT count(*) FROM report_data"));
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM report_data"),
                     flow_count(f.pLeaderStore, "SELECT count(*) FROM reports WHERE state = 'pending'"));
    pa_aggregator_free(pLeader2);
    pa_store_close(pStore2);
    flow_free(&f);
}

static void test_group_decides_as_one_by_one(void **state)
{
    /* 0, 0 again (replay), agency 0's second report (refused), 1, 2, 1's second, 3 */
    static const int aiAgency[GROUP] = {0, -1, 0, 1, 2, 1, 3};
    static const int aExpect[GROUP] = {PA_OK, PA_EEXISTS, PA_EEXISTS, PA_OK, PA_OK, PA_EEXISTS, PA_OK};
    (void)state;
    group_as_one_by_one(0, aiAgency, aExpect);
}

static void test_group_corrections_as_one_by_one(void **state)
{
    /* 0, its correction, 1, a second correction of 0, the first correction
     * again (a replay of a replaced report), 1's correction, 1 again */
    static const int aiAgency[GROUP] = {0, 0, 1, 0, -2, 1, -6};
    static const int aExpect[GROUP] = {PA_OK, PA_OK, PA_OK, PA_OK, PA_EEXISTS, PA_OK, PA_EEXISTS};
    (void)state;
    group_as_one_by_one(1, aiAgency, aExpect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_uploads_each_get_their_outcome),
        cmocka_unit_test(test_group_decides_as_one_by_one),
        cmocka_unit_test(test_group_corrections_as_one_by_one),
        cmocka_unit_test(test_start_and_stop_without_uploads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
