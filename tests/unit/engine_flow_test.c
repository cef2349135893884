/*
 * The whole system in one process: 646 Missouri agencies x one month through
 * upload -> two-step aggregation -> collection -> collector.  With DP policy
 * "none" the totals equal the true sums exactly; with the discrete Gaussian
 * every cell's error lies within the exact 99.99 % interval of the summed noise.
 * The helper going down mid-job and coming back neither loses nor double-counts
 * a report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "support/flow.h"

static void no_dp(json_t *pRoot)
{
    json_object_set_new(pRoot, "dp", json_pack("{s:s, s:s}", "mechanism", "none", "privacy_unit",
                                               "incident_record"));
}

/* Submit synthetic counts for agencies [0, n) and keep the true sums. */
static void submit_all(flow *f, size_t n, const char *zPeriod, uint64_t *aTrue)
{
    pa_synth *s;
    uint64_t a[270];
    assert_int_equal(pa_synth_new(&s, f->m.pTask, PA_SOURCE_DIR "/data", 7), PA_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pa_synth_counts(s, &f->m.pTask->aAgency[i], zPeriod, a), PA_OK);
        /* the task's agencies are sorted by id; the keys are in file order */
        size_t k;
        for (k = 0; k < f->m.nAgency; k++)
            if (strcmp(f->m.aAgency[k].zId, f->m.pTask->aAgency[i].zId) == 0)
                break;
        assert_true(k < f->m.nAgency);
        int rc = flow_submit(f, k, zPeriod, a);
        if (rc != PA_OK)
            fail_msg("agency %zu: %s: %s", i, pa_strerror(rc), pa_error_detail());
        for (size_t c = 0; c < 270; c++)
            aTrue[c] += a[c];
    }
    pa_synth_free(s);
}

static void test_exact_totals_without_noise(void **state)
{
    flow f;
    uint64_t aTrue[270] = {0};
    pa_job_stats st;
    pa_collection coll;
    (void)state;
    assert_int_equal(flow_new(&f, 0, 10, no_dp), PA_OK);
    submit_all(&f, f.m.pTask->nAgency, "2026-10", aTrue);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports"), 646);

    /* the helper is down for the first continue step: the job stays open */
    f.nFailCalls = 1;
    f.zFailRoute = "job/continue";
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 200, &st), PA_EIO);
    /* back up: the open job is resumed with the same bytes, nothing counted twice */
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 200, &st), PA_OK);
    assert_int_equal(st.nAccepted, 646);
    assert_int_equal(st.nRejected, 0);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM reports WHERE state = 'accepted'"), 646);

    int rc = flow_collect(&f, "2026-10", "state", &coll);
    if (rc != PA_OK)
        fail_msg("collect: %s: %s", pa_strerror(rc), pa_error_detail());
    assert_int_equal(coll.nAgency, 646);
    assert_int_equal(coll.nReport, 646);
    for (size_t c = 0; c < 270; c++)
        assert_int_equal(coll.aTotal[c], (int64_t)aTrue[c]);
    pa_collection_free(&coll);

    /* a county batch of the same month: exact too */
    rc = flow_collect(&f, "2026-10", "29189", &coll); /* St. Louis County */
    if (rc != PA_OK)
        fail_msg("collect county: %s: %s", pa_strerror(rc), pa_error_detail());
    size_t nCounty = 0;
    for (size_t i = 0; i < f.m.pTask->nAgency; i++)
        nCounty += strcmp(f.m.pTask->aAgency[i].zPartition, "29189") == 0;
    assert_true(nCounty > 60);
    assert_int_equal(coll.nAgency, nCounty);
    pa_collection_free(&coll);
    flow_free(&f);
}

static void test_noised_totals_within_exact_interval(void **state)
{
    flow f;
    uint64_t aTrue[270] = {0}, wAll;
    pa_job_stats st;
    pa_collection coll;
    (void)state;
    assert_int_equal(flow_new(&f, 0, 10, NULL), PA_OK);
    submit_all(&f, f.m.pTask->nAgency, "2026-10", aTrue);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, 646);
    assert_int_equal(flow_collect(&f, "2026-10", "state", &coll), PA_OK);
    double sigma2 = pa_aggregator_sigma2(f.pLeader);
    assert_true(sigma2 > 0);
    /* 270 independent cells: a per-cell level of 1 - 1e-8 keeps a false failure of
     * the whole check near 3e-6 (at 0.9999 per cell it was 1 - 0.9999^270, 2.7 %);
     * the share inside the 95 % interval checks that the noise has the width the
     * interval claims (expected 256.5 of 270, sd 3.6; 230 is over 7 sd below). */
    uint64_t w95;
    assert_int_equal(pa_dp_gaussian_interval(sigma2, 2, 1 - 1e-8, &wAll), PA_OK);
    assert_int_equal(pa_dp_gaussian_interval(sigma2, 2, 0.95, &w95), PA_OK);
    size_t nDiffer = 0, nIn95 = 0;
    for (size_t c = 0; c < 270; c++) {
        int64_t err = coll.aTotal[c] - (int64_t)aTrue[c];
        if (err < -(int64_t)wAll || err > (int64_t)wAll)
            fail_msg("cell %zu: error %lld outside the 1-1e-8 interval +-%llu", c, (long long)err,
                     (unsigned long long)wAll);
        nDiffer += err != 0;
        nIn95 += err >= -(int64_t)w95 && err <= (int64_t)w95;
    }
    assert_true(nDiffer > 200); /* noise was really added */
    assert_true(nIn95 >= 230);  /* and about as much as the 95 % interval says */
    /* both ledgers charged the release */
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM dp_ledger"), 1);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger"), 1);
    pa_collection_free(&coll);
    flow_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_totals_without_noise),
        cmocka_unit_test(test_noised_totals_within_exact_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
