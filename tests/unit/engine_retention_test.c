/*
 * Retention and store statistics, in one process (tests/support/flow.h):
 *
 *   - a batch's reports, their data and the period's jobs are deleted only once
 *     the batch AND its period's statewide batch were released, and both
 *     releases are older than the configured age; a partition never released
 *     keeps its reports; batches, collections, collection jobs and the ledger
 *     are kept; the work is done in transactions of the given size;
 *   - after its rows are gone, a replayed report of a retired batch (the same
 *     bytes) and a late report of it (a fresh report id) are still refused by
 *     both aggregators: the release check reads `collections`, not the reports;
 *   - pa_store_stats_read counts rows by state, names the oldest unreleased
 *     batch and the ledger's count and head.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "privagg/retention.h"
#include "support/flow.h"

#define DAY 86400
#define PERIOD "2026-10"

static uint64_t g_counts[270];

static const char *partition_of(flow *f, size_t k)
{
    return pa_task_find_agency(f->m.pTask, f->m.aAgency[k].zId)->zPartition;
}

static int count_where(pa_store *pStore, const char *zTable, const char *zPartition)
{
    char zSql[256];
    snprintf(zSql, sizeof zSql, "SELECT count(*) FROM %s WHERE partition = '%s'", zTable, zPartition);
    return flow_count(pStore, zSql);
}

static void collect_ok(flow *f, const char *zPartition)
{
    pa_collection coll;
    int rc = flow_collect(f, PERIOD, zPartition, &coll);
    if (rc != PA_OK)
        fail_msg("collect %s: %s", zPartition, pa_error_detail());
    pa_collection_free(&coll);
}

static void retire(flow *f, int64_t nAgeDays, size_t nChunk, pa_retention_result *pL, pa_retention_result *pH)
{
    assert_int_equal(pa_store_retire(f->pLeaderStore, f->m.pTask->aTaskId, f->now, nAgeDays * DAY, nChunk, pL),
                     PA_OK);
    assert_int_equal(pa_store_retire(f->pHelperStore, f->m.pTask->aTaskId, f->now, nAgeDays * DAY, nChunk, pH),
                     PA_OK);
}

/* A second leader on a store of its own (same task and keys) that has seen
 * nothing: what reaches the helper when a report it never refused by id (its
 * row deleted) comes back in a job. */
static void via_fresh_leader(flow *f, const uint8_t *pReport, size_t nReport, pa_job_stats *pSt)
{
    pa_store *pStore;
    pa_aggregator *pLeader;
    pa_aggregator_config c;

    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    flow_config(f, &f->m.leader, pStore, &c);
    assert_int_equal(pa_aggregator_new(&pLeader, &c), PA_OK);
    assert_int_equal(pa_aggregator_fill_noise_pool(pLeader, NULL), PA_OK);
    assert_int_equal(pa_leader_upload(pLeader, pReport, nReport), PA_OK);
    memset(pSt, 0, sizeof *pSt);
    assert_int_equal(pa_leader_run_jobs(pLeader, flow_transport, f, 256, pSt), PA_OK);
    pa_aggregator_free(pLeader);
    pa_store_close(pStore);
}

static void test_retention(void **state)
{
    flow f;
    pa_job_stats st;
    pa_retention_result rl, rh;
    uint8_t *pReplay = NULL, *pLate = NULL;
    size_t nReplay = 0, nLate = 0, kP = 0, kQ = 0;
    (void)state;

    for (size_t c = 0; c < 270; c++)
        g_counts[c] = c % 4;
    assert_int_equal(flow_new(&f, 24, 2, NULL), PA_OK);
    /* P: the partition of agency 0; Q: another partition, never released */
    const char *zP = partition_of(&f, 0), *zQ = NULL;
    for (size_t k = 1; k < f.m.nAgency && zQ == NULL; k++)
        if (strcmp(partition_of(&f, k), zP) != 0) {
            zQ = partition_of(&f, k);
            kQ = k;
        }
    assert_non_null(zQ);
    for (size_t k = 0; k < f.m.nAgency; k++) {
        if (strcmp(partition_of(&f, k), zP) == 0 && k != 0)
            kP = k; /* a second agency of P */
        uint8_t *p;
        size_t n;
        assert_int_equal(pa_submit_report(f.m.pTask, &f.m.aAgency[k], PERIOD, g_counts, f.m.pTask->nCell, &p, &n),
                         PA_OK);
        assert_int_equal(pa_leader_upload(f.pLeader, p, n), PA_OK);
        if (k == 0) {
            pReplay = p;
            nReplay = n;
        } else {
            free(p);
        }
    }
    assert_true(kP > 0); /* P has >= 2 agencies (min_agencies 2) */
    memset(&st, 0, sizeof st);
    assert_int_equal(pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st), PA_OK);
    assert_int_equal(st.nAccepted, f.m.nAgency);
    int nP = count_where(f.pLeaderStore, "reports", zP), nQ = count_where(f.pLeaderStore, "reports", zQ);
    assert_true(nP >= 2 && nQ >= 1);
    int nJobs = flow_count(f.pLeaderStore, "SELECT count(*) FROM jobs");
    assert_true(nJobs >= 1);

    /* the partition alone released: the statewide batch may still need its
     * agency count, nothing is deleted however old */
    collect_ok(&f, zP);
    f.now += 400 * DAY;
    retire(&f, 30, 0, &rl, &rh);
    assert_int_equal(rl.nReports + rh.nReports, 0);
    assert_int_equal(count_where(f.pLeaderStore, "reports", zP), nP);

    /* the statewide batch released now: too young */
    collect_ok(&f, "state");
    int nLedgerL = flow_count(f.pLeaderStore, "SELECT count(*) FROM dp_ledger");
    int nLedgerH = flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger");
    assert_int_equal(nLedgerL, 2);
    f.now += 29 * DAY;
    retire(&f, 30, 0, &rl, &rh);
    assert_int_equal(rl.nReports + rh.nReports + rl.nJobs + rh.nJobs, 0);

    /* a day later: P's reports and data go, in chunks of 1; Q keeps its own,
     * and so the jobs that hold them stay */
    f.now += 1 * DAY;
    retire(&f, 30, 1, &rl, &rh);
    assert_int_equal(rl.nReports, (uint64_t)nP);
    assert_int_equal(rh.nReports, (uint64_t)nP);
    assert_true(rl.nTxn >= (uint64_t)nP);
    assert_int_equal(count_where(f.pLeaderStore, "reports", zP), 0);
    assert_int_equal(count_where(f.pHelperStore, "reports", zP), 0);
    assert_int_equal(count_where(f.pLeaderStore, "reports", zQ), nQ);
    assert_int_equal(count_where(f.pHelperStore, "reports", zQ), nQ);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM report_data WHERE report NOT IN"
                                                " (SELECT id FROM reports)"),
                     0);
    assert_int_equal(rl.nJobs, 0);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM jobs"), nJobs);
    /* kept: collections, the ledger */
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM collections"), 2);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM collections"), 2);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM dp_ledger"), nLedgerL);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM dp_ledger"), nLedgerH);

    /* a replay of P's report (its id forgotten) and a late report of P are
     * refused by the leader ... */
    assert_int_equal(pa_leader_upload(f.pLeader, pReplay, nReplay), PA_ESTATE);
    assert_non_null(strstr(pa_error_detail(), "already collected"));
    assert_int_equal(pa_submit_report(f.m.pTask, &f.m.aAgency[kP], PERIOD, g_counts, f.m.pTask->nCell, &pLate,
                                      &nLate),
                     PA_OK);
    assert_int_equal(pa_leader_upload(f.pLeader, pLate, nLate), PA_ESTATE);
    assert_int_equal(count_where(f.pLeaderStore, "reports", zP), 0);
    /* ... and by the helper, whatever a leader forwards */
    via_fresh_leader(&f, pReplay, nReplay, &st);
    assert_int_equal(st.nAccepted, 0);
    assert_int_equal(st.aRejected[PA_REJECT_COLLECTED], 1);
    via_fresh_leader(&f, pLate, nLate, &st);
    assert_int_equal(st.nAccepted, 0);
    assert_int_equal(st.aRejected[PA_REJECT_COLLECTED], 1);
    /* the statewide answer is still served from the store */
    collect_ok(&f, "state");
    collect_ok(&f, zP);

    /* statistics: Q is the oldest (only) batch not released on its own */
    pa_store_stats ss;
    assert_int_equal(pa_store_stats_read(f.pLeaderStore, NULL, &ss), PA_OK);
    assert_int_equal(ss.iSchema, pa_store_schema_version());
    assert_true(ss.bHaveOldest);
    assert_string_equal(ss.zOldestPeriod, PERIOD);
    assert_int_equal(ss.nCollections, 2);
    assert_int_equal(ss.nLedger, nLedgerL);
    assert_int_equal(ss.nPending + ss.nAggregating, 0);
    assert_int_equal(ss.nAccepted, (int64_t)f.m.nAgency - nP);
    assert_int_equal(ss.nReportData, 0);   /* the leader drops it once aggregated */
    assert_true(ss.nNoisePool > 0);
    assert_true(ss.nPages > 0 && ss.nPageSize == 8192);

    /* every other partition released: all reports go, and then the jobs */
    /* (the oldest batch not released, until there is none) */
    int nColl0 = flow_count(f.pLeaderStore, "SELECT count(*) FROM collections"), nDone = 0;
    for (int i = 0; i < 64 && ss.bHaveOldest; i++, nDone++) {
        char zPart[72];
        snprintf(zPart, sizeof zPart, "%s", ss.zOldestPartition);
        collect_ok(&f, zPart);
        assert_int_equal(pa_store_stats_read(f.pLeaderStore, NULL, &ss), PA_OK);
    }
    assert_int_equal(pa_store_stats_read(f.pLeaderStore, NULL, &ss), PA_OK);
    assert_false(ss.bHaveOldest);
    assert_int_equal(ss.nUnreleasedBatches, 0);
    retire(&f, 30, 0, &rl, &rh);
    assert_int_equal(rl.nReports, 0); /* these releases are young */
    f.now += 31 * DAY;
    retire(&f, 30, 0, &rl, &rh);
    assert_int_equal(rl.nReports, (uint64_t)f.m.nAgency - (uint64_t)nP);
    assert_int_equal(rl.nJobs, (uint64_t)nJobs);
    assert_true(rh.nJobs >= 1);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(flow_count(f.pHelperStore, "SELECT count(*) FROM reports"), 0); /* the refused replays too */
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM jobs"), 0);
    assert_int_equal(flow_count(f.pLeaderStore, "SELECT count(*) FROM collections"), nColl0 + nDone);
    /* nothing left to do: a second pass deletes nothing */
    retire(&f, 30, 0, &rl, &rh);
    assert_int_equal(rl.nReports + rl.nJobs, 0);
    (void)kQ;
    free(pReplay);
    free(pLate);
    flow_free(&f);
}

static void test_retention_args(void **state)
{
    pa_store *pStore;
    uint8_t aTask[32] = {0};
    pa_retention_result r;
    (void)state;
    assert_int_equal(pa_store_open(&pStore, ":memory:"), PA_OK);
    assert_int_equal(pa_store_retire(pStore, aTask, 1000, -1, 0, &r), PA_EINVAL);
    /* an empty store: nothing to do, one transaction per kind */
    assert_int_equal(pa_store_retire(pStore, aTask, 1000, 0, 0, &r), PA_OK);
    assert_int_equal(r.nReports + r.nJobs, 0);
    pa_store_stats ss;
    assert_int_equal(pa_store_stats_read(pStore, NULL, &ss), PA_OK);
    assert_int_equal(ss.nLedger, 0); /* no ledger table yet: 0, not an error */
    pa_store_close(pStore);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_retention_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
