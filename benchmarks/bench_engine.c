/*
 * Benchmarks of the engine in one process (issue: aggregation engine): the
 * Missouri schema (270 cells, Prio3SumVec 16 bits, chunk 66) with all 646
 * agencies and one month, the leader and the helper each on its own SQLite store
 * (files in /tmp, WAL) sharing this machine, or each in a fresh schema of a
 * PostgreSQL database (--store-url):
 *   submit       the agencies' side: shard, seal, sign (not the servers' cost)
 *   upload       the leader's checks and commit, per report
 *   aggregate    both aggregators' verification and summing, reports/s
 *   collect      one statewide release with noise, both aggregators + collector
 *   total        upload + aggregate + collect (target <= 2 s)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/synth.h"
#include "support/flow.h"

static int open_file_stores(flow *f, char *zDir, int bPg)
{
    char zPath[1024];
    pa_aggregator_config c;
    pa_aggregator_free(f->pLeader);
    pa_aggregator_free(f->pHelper);
    pa_store_close(f->pLeaderStore);
    pa_store_close(f->pHelperStore);
    f->pLeader = f->pHelper = NULL;
    snprintf(zPath, sizeof zPath, "%s/leader.db", zDir);
    if (pa_store_open(&f->pLeaderStore, bPg ? test_store_path(NULL) : zPath) != PA_OK)
        return -1;
    snprintf(zPath, sizeof zPath, "%s/helper.db", zDir);
    if (pa_store_open(&f->pHelperStore, bPg ? test_store_path(NULL) : zPath) != PA_OK)
        return -1;
    memset(&c, 0, sizeof c);
    c.pTask = f->m.pTask;
    c.xNow = flow_clock;
    c.pClockCtx = f;
    c.pKeys = &f->m.leader;
    c.pStore = f->pLeaderStore;
    if (pa_aggregator_new(&f->pLeader, &c) != PA_OK)
        return -1;
    c.pKeys = &f->m.helper;
    c.pStore = f->pHelperStore;
    if (pa_aggregator_new(&f->pHelper, &c) != PA_OK)
        return -1;
    if (pa_aggregator_fill_noise_pool(f->pLeader, NULL) != PA_OK)
        return -1;
    return pa_aggregator_fill_noise_pool(f->pHelper, NULL);
}

void pa_bench_engine(pa_bench *b)
{
    flow f;
    pa_synth *s = NULL;
    pa_job_stats st;
    pa_collection coll;
    char zDir[] = "/tmp/privagg_bench_XXXXXX", zCmd[64];
    uint64_t a[270];
    size_t n;
    uint8_t **apMsg;
    size_t *anMsg;

    const char *zUrl = pa_bench_store_url(b);
    /* the flow's in-memory stores are replaced by files, or by fresh schemas */
    if (zUrl != NULL && setenv("PA_TEST_PG_URL", zUrl, 1) != 0)
        zUrl = NULL;
    if (zUrl == NULL)
        unsetenv("PA_TEST_PG_URL");
    if (mkdtemp(zDir) == NULL || flow_new(&f, pa_bench_quick(b) ? 40 : 0, 10, NULL) != PA_OK ||
        ((getenv("PA_BENCH_MEMORY_STORES") == NULL || zUrl != NULL) && open_file_stores(&f, zDir, zUrl != NULL) != 0) ||
        pa_synth_new(&s, f.m.pTask, PA_SOURCE_DIR "/data", 1) != PA_OK) {
        pa_bench_fail(b, "engine", "set-up failed: %s", pa_error_detail());
        return;
    }
    n = f.m.nAgency;
    apMsg = calloc(n, sizeof *apMsg);
    anMsg = calloc(n, sizeof *anMsg);

    double t0 = pa_bench_now_s();
    for (size_t i = 0; i < n; i++) {
        const pa_task_agency *e = pa_task_find_agency(f.m.pTask, f.m.aAgency[i].zId);
        pa_synth_counts(s, e, "2026-10", a);
        pa_submit_report(f.m.pTask, &f.m.aAgency[i], "2026-10", a, 270, &apMsg[i], &anMsg[i]);
    }
    double tSubmit = pa_bench_now_s() - t0;
    size_t nFailed = 0;
    for (size_t i = 0; i < n; i++)
        nFailed += apMsg[i] == NULL;
    if (nFailed)
        pa_bench_fail(b, "engine", "submit: %zu of %zu reports failed", nFailed, n);
    nFailed = 0;
    t0 = pa_bench_now_s();
    for (size_t i = 0; i < n; i++)
        if (pa_leader_upload(f.pLeader, apMsg[i], anMsg[i]) != PA_OK && nFailed++ == 0)
            pa_bench_fail(b, "engine", "upload %zu: %s", i, pa_error_detail());
    double tUpload = pa_bench_now_s() - t0;
    if (nFailed)
        pa_bench_fail(b, "engine", "upload: %zu of %zu failed", nFailed, n);
    /* the leader's checks alone (decode, signature, HPKE open, verify_init), no store */
    t0 = pa_bench_now_s();
    for (size_t i = 0; i < n; i++) {
        pa_upload up;
        if (pa_leader_check_report(f.pLeader, apMsg[i], anMsg[i], &up) == PA_OK)
            pa_upload_free(f.pLeader, &up);
        else if (nFailed++ == 0)
            pa_bench_fail(b, "engine", "check %zu: %s", i, pa_error_detail());
    }
    double tCheck = pa_bench_now_s() - t0;
    t0 = pa_bench_now_s();
    double c0 = pa_bench_cpu_s();
    memset(&st, 0, sizeof st);
    if (pa_leader_run_jobs(f.pLeader, flow_transport, &f, 256, &st) != PA_OK)
        pa_bench_fail(b, "engine", "jobs: %s", pa_error_detail());
    else if (st.nAccepted != n)
        pa_bench_fail(b, "engine", "aggregation: %zu of %zu reports accepted", (size_t)st.nAccepted, n);
    double tAggregate = pa_bench_now_s() - t0, cAggregate = pa_bench_cpu_s() - c0;
    t0 = pa_bench_now_s();
    memset(&coll, 0, sizeof coll);
    int bCollected = flow_collect(&f, "2026-10", "state", &coll) == PA_OK;
    if (!bCollected)
        pa_bench_fail(b, "engine", "collect: %s", pa_error_detail());
    double tCollect = pa_bench_now_s() - t0;
    pa_collection_free(&coll);
    if (nFailed || st.nAccepted != n || !bCollected)
        goto done; /* no figure over failed operations */

    char zParams[64];
    snprintf(zParams, sizeof zParams, "%zu agencies, 270 cells, %s", n, zUrl ? "PostgreSQL" : "SQLite files");
    pa_bench_add(b, "engine", "submit (agency side), per report", zParams, tSubmit / (double)n * 1e3, "ms", NULL);
    pa_bench_add(b, "engine", "upload, per report", zParams, tUpload / (double)n * 1e3, "ms", NULL);
    pa_bench_add(b, "engine", "upload checks alone, per report", "decode, signature, HPKE open, verify_init",
                 tCheck / (double)n * 1e3, "ms", NULL);
    pa_bench_add(b, "engine", "aggregation throughput", "leader+helper in one process", (double)st.nAccepted / tAggregate,
                 "reports/s", ">= 1500");
    pa_bench_add(b, "engine", "aggregation CPU, per report", "leader + helper, all threads",
                 cAggregate / (double)n * 1e3, "ms", NULL);
    pa_bench_add(b, "engine", "collect (statewide, noised)", zParams, tCollect * 1e3, "ms", NULL);
    pa_bench_add(b, "engine", "upload + aggregate + collect", zParams, tUpload + tAggregate + tCollect, "s", "<= 2");

done:
    for (size_t i = 0; i < n; i++)
        free(apMsg[i]);
    free(apMsg);
    free(anMsg);
    pa_synth_free(s);
    flow_free(&f);
    snprintf(zCmd, sizeof zCmd, "rm -rf %s", zDir);
    if (system(zCmd) != 0)
        fprintf(stderr, "bench engine: could not remove %s\n", zDir);
}
