/*
 * Two writers of one store at once (issue 16, "past one machine"): the
 * decisions that SQLite's BEGIN IMMEDIATE made safe by running one writer at
 * a time, each raced by two connections (two pa_store handles on one store).
 * The first opens a transaction and makes its half of the decision; a second
 * thread then runs the other connection's whole transaction while the first
 * still holds its own (for RACE_HOLD_MS), and the first commits.  On
 * PostgreSQL (ctest -L pg) writers do not take turns, so what keeps each
 * decision right is its own lock or constraint (engine/store/pg_store.c lists
 * them); each test here fails when that one is removed (scripts/mutants.txt,
 * "pg-race-*").  On SQLite the second transaction waits at BEGIN, and the
 * same outcomes must come out.
 *
 *   the same report stored at once through both: stored once, the second a
 *     replay (PA_EEXISTS); two reports of one agency and batch: one counts
 *   two workers' new jobs: each pending report in exactly one job
 *   two workers claiming jobs and collection jobs: never the same one
 *   two releases of one batch: released once, the ledger charged once, the
 *     second gets the first's answer
 *   two releases racing for one cell's budget (a partition and the
 *     statewide batch): the second is refused (PA_EBUDGET), never both
 *   two jobs adding to one batch's aggregate (row there or not yet): both
 *     counted
 *   the helper's continue step sent twice at once: the second finds the
 *     first's stored answer
 *   a report of a batch being released: refused as collected
 *   two batches taking noise at once: each gets a vector; one batch twice:
 *     one noise
 *   a group's insert (pa_store_report_insert_many) racing a single insert of
 *     one of its agencies' batches and of one of its ids: that row busy, that
 *     one a replay, the group's others stored
 *   a group's lookup (pa_store_reports_seen) while its batch is being
 *     released: sees it collected
 *   two jobs' sums written in bulk into the same batches (rows there or not
 *     yet; one job adding with the single-row calls): every sum counted
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/ledger.h"
#include "privagg/store.h"
#include "store/internal.h"
#include "support/test_store.h"

#define RACE_HOLD_MS 600
#define PERIOD "2026-01"

static const uint8_t g_aTask[32] = {7};
static uint8_t g_aZero[256];

typedef struct {
    pa_store *s1, *s2, *s3; /* two writers, and one to look */
    char zPath[600];
} race;

static int race_setup(void **ppState)
{
    static int iRun;
    race *r = calloc(1, sizeof *r);
    char zFile[80];
    const char *z;

    snprintf(zFile, sizeof zFile, "/tmp/pa_race_%ld_%d.db", (long)getpid(), iRun++);
    unlink(zFile);
    z = test_store_path(zFile);
    assert_non_null(z);
    snprintf(r->zPath, sizeof r->zPath, "%s", z);
    assert_int_equal(pa_store_open(&r->s1, r->zPath), PA_OK);
    assert_int_equal(pa_store_open(&r->s2, r->zPath), PA_OK);
    assert_int_equal(pa_store_open(&r->s3, r->zPath), PA_OK);
    *ppState = r;
    return 0;
}

static int race_teardown(void **ppState)
{
    race *r = *ppState;
    pa_store_close(r->s1);
    pa_store_close(r->s2);
    pa_store_close(r->s3);
    if (!test_store_pg())
        unlink(r->zPath);
    free(r);
    return 0;
}

/* ---- the race ------------------------------------------------------------- */

typedef int (*race_fn)(pa_store *s, void *pCtx);

typedef struct {
    pa_store *s;
    race_fn x;
    void *pCtx;
    int rcBody, rcCommit;
} second;

static void *second_main(void *p)
{
    second *t = p;
    t->rcCommit = pa_store_begin(t->s);
    if (t->rcCommit != PA_OK)
        return NULL;
    t->rcBody = t->x(t->s, t->pCtx);
    if (t->rcBody == PA_OK)
        t->rcCommit = pa_store_commit(t->s);
    else
        pa_store_rollback(t->s);
    if (t->rcBody != PA_OK || t->rcCommit != PA_OK)
        fprintf(stderr, "second connection: %s: %s\n", pa_strerror(t->rcBody != PA_OK ? t->rcBody : t->rcCommit),
                pa_error_detail());
    return NULL;
}

/* Connection 1 begins and runs xFirst; connection 2 runs xSecond in a
 * transaction of its own on a thread; after RACE_HOLD_MS connection 1 runs
 * xThen (may be NULL) and commits.  *pSecondRc: xSecond's result (its
 * transaction committed if PA_OK). */
static void run_race(race *r, race_fn xFirst, race_fn xThen, void *pCtx1, race_fn xSecond, void *pCtx2,
                     int *pSecondRc)
{
    second t = {r->s2, xSecond, pCtx2, -1, PA_OK};
    pthread_t th;
    int rc;

    assert_int_equal(pa_store_begin(r->s1), PA_OK);
    rc = xFirst(r->s1, pCtx1);
    if (rc != PA_OK)
        fprintf(stderr, "first connection: %s: %s\n", pa_strerror(rc), pa_error_detail());
    assert_int_equal(rc, PA_OK);
    assert_int_equal(pthread_create(&th, NULL, second_main, &t), 0);
    usleep(RACE_HOLD_MS * 1000);
    if (xThen != NULL)
        assert_int_equal(xThen(r->s1, pCtx1), PA_OK);
    assert_int_equal(pa_store_commit(r->s1), PA_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.rcCommit, PA_OK);
    *pSecondRc = t.rcBody;
}

static int64_t rows(pa_store *s, const char *zSql)
{
    int64_t n = -1;
    assert_int_equal(pa_store_query_int(s, zSql, &n), PA_OK);
    return n;
}

/* ---- reports -------------------------------------------------------------- */

typedef struct {
    uint8_t aReportId[16];
    const char *zAgency, *zPartition;
} report_ctx;

static void upload_row(pa_store_upload_row *u, const report_ctx *c)
{
    memset(u, 0, sizeof *u);
    memcpy(u->aReportId, c->aReportId, 16);
    u->zAgencyId = c->zAgency;
    u->zPeriod = PERIOD;
    u->zPartition = c->zPartition;
    u->tReceived = 1;
    u->pLeaderDigest = g_aZero;
    u->pPublicShare = g_aZero;
    u->nPublicShare = 8;
    u->pHelperEnc = g_aZero;
    u->pHelperCt = g_aZero;
    u->nHelperCt = 8;
    u->pSignature = g_aZero;
    u->pVerifyState = g_aZero;
    u->nVerifyState = 8;
    u->pVerifierShare = g_aZero;
    u->nVerifierShare = 8;
}

static int insert_report(pa_store *s, void *pCtx)
{
    pa_store_upload_row u;
    upload_row(&u, pCtx);
    return pa_store_report_insert(s, g_aTask, &u);
}

/* What upload.c does: the replay check, the agency's batch, the insert. */
static int upload_report(pa_store *s, void *pCtx)
{
    const report_ctx *c = pCtx;
    uint64_t nCounting, nPending;
    int bReplay;
    PA_GUARD(pa_store_report_exists(s, g_aTask, c->aReportId, &bReplay));
    if (bReplay)
        return PA_EEXISTS;
    PA_GUARD(pa_store_reports_of_agency(s, g_aTask, c->zAgency, PERIOD, c->zPartition, &nCounting, &nPending));
    if (nCounting > 0)
        return PA_EEXISTS;
    return insert_report(s, pCtx);
}

static void test_same_report_stored_once(void **ppState)
{
    race *r = *ppState;
    report_ctx c = {{1, 2, 3}, "a1", "p1"};
    int rc;

    run_race(r, insert_report, NULL, &c, upload_report, &c, &rc);
    assert_int_equal(rc, PA_EEXISTS); /* a replay, not a failed store */
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM report_data"), 1);
}

static void test_agency_counts_once(void **ppState)
{
    race *r = *ppState;
    report_ctx c1 = {{1}, "a1", "p1"}, c2 = {{2}, "a1", "p1"};
    int rc;

    run_race(r, insert_report, NULL, &c1, upload_report, &c2, &rc);
    assert_int_not_equal(rc, PA_OK);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports WHERE state IN ('pending','aggregating',"
                                 "'accepted')"),
                     1);
}

/* A group commit (upload.c): one lookup for the group, then one insert of the
 * reports it let through: a report of another agency, one of the agency the
 * first connection is storing a report of, one with the id of that report,
 * one more of another agency.  A report the lookup refused is not sent
 * (GROUP_REFUSED). */
#define GROUP_REFUSED 7
typedef struct {
    uint8_t aiOutcome[4];
} group_ctx;

static int upload_group(pa_store *s, void *pCtx)
{
    group_ctx *g = pCtx;
    static const report_ctx ac[4] = {{{3}, "a2", "p1"}, {{2}, "a1", "p1"}, {{1}, "a9", "p1"}, {{4}, "a3", "p1"}};
    pa_store_report_key ak[4];
    pa_store_report_seen as[4];
    pa_store_upload_row au[4];
    uint8_t aiSent[4];
    size_t aiRow[4], n = 0;

    for (size_t i = 0; i < 4; i++) {
        ak[i].pReportId = ac[i].aReportId;
        ak[i].zAgencyId = ac[i].zAgency;
        ak[i].zPeriod = PERIOD;
        ak[i].zPartition = ac[i].zPartition;
    }
    PA_GUARD(pa_store_reports_seen(s, g_aTask, ak, 4, as));
    for (size_t i = 0; i < 4; i++) {
        g->aiOutcome[i] = GROUP_REFUSED;
        if (as[i].bExists || as[i].nCounting > 0)
            continue;
        upload_row(&au[n], &ac[i]);
        aiRow[n++] = i;
    }
    PA_GUARD(pa_store_report_insert_many(s, g_aTask, au, n, aiSent));
    for (size_t k = 0; k < n; k++)
        g->aiOutcome[aiRow[k]] = aiSent[k];
    return PA_OK;
}

static void test_group_insert_row_by_row(void **ppState)
{
    race *r = *ppState;
    report_ctx c1 = {{1}, "a1", "p1"};
    group_ctx g;
    int rc;

    run_race(r, insert_report, NULL, &c1, upload_group, &g, &rc);
    assert_int_equal(rc, PA_OK); /* one row's conflict fails nothing else */
    assert_int_equal(g.aiOutcome[0], PA_STORE_ROW_STORED);
    assert_int_equal(g.aiOutcome[3], PA_STORE_ROW_STORED);
    if (test_store_pg()) {
        /* the lookup did not see the first's report; the insert met it at
         * those two rows (after waiting for its commit) and said why */
        assert_int_equal(g.aiOutcome[1], PA_STORE_ROW_BUSY);
        assert_int_equal(g.aiOutcome[2], PA_STORE_ROW_REPLAY);
    } else {
        /* the group waited at BEGIN: its lookup refused them */
        assert_int_equal(g.aiOutcome[1], GROUP_REFUSED);
        assert_int_equal(g.aiOutcome[2], GROUP_REFUSED);
    }
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports"), 3);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports WHERE agency_id = 'a1'"), 1);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports WHERE agency_id = 'a9'"), 0);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM report_data"), 3);
}

/* ---- jobs: new jobs, claims ----------------------------------------------- */

typedef struct {
    uint8_t aJobId[16];
    char zOwner[8];
    int bFound;
    uint8_t aGot[16];
} job_ctx;

static int new_job(pa_store *s, void *pCtx)
{
    job_ctx *c = pCtx;
    PA_GUARD(pa_store_job_new(s, g_aTask, c->aJobId, PERIOD, 1));
    return pa_store_reports_assign(s, g_aTask, c->aJobId, PERIOD, 10);
}

static int count_row(void *pCtx, const pa_store_job_report_row *pRow)
{
    (void)pRow;
    (*(int *)pCtx)++;
    return PA_OK;
}

static int job_size(pa_store *s, const uint8_t aJobId[16])
{
    int n = 0;
    assert_int_equal(pa_store_job_reports(s, g_aTask, aJobId, count_row, &n), PA_OK);
    return n;
}

static void add_reports(race *r, int n)
{
    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    for (int i = 0; i < n; i++) {
        char zAgency[16];
        report_ctx c = {{(uint8_t)(i + 1)}, zAgency, "p1"};
        snprintf(zAgency, sizeof zAgency, "a%d", i);
        assert_int_equal(insert_report(r->s3, &c), PA_OK);
    }
    assert_int_equal(pa_store_commit(r->s3), PA_OK);
}

static void test_report_in_one_job(void **ppState)
{
    race *r = *ppState;
    job_ctx j1 = {{1}, "A", 0, {0}}, j2 = {{2}, "B", 0, {0}};
    int rc;

    add_reports(r, 20);
    run_race(r, new_job, NULL, &j1, new_job, &j2, &rc);
    assert_int_equal(rc, PA_OK);
    assert_int_equal(job_size(r->s3, j1.aJobId), 10);
    assert_int_equal(job_size(r->s3, j2.aJobId), 10);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM reports WHERE state = 'pending'"), 0);
}

static int claim_job(pa_store *s, void *pCtx)
{
    job_ctx *c = pCtx;
    char zPeriod[PA_STORE_PERIOD_SIZE];
    return pa_store_job_claim(s, g_aTask, c->zOwner, 100, 200, c->aGot, zPeriod, &c->bFound);
}

static int claim_cjob(pa_store *s, void *pCtx)
{
    job_ctx *c = pCtx;
    pa_store_cjob job;
    int rc = pa_store_cjob_claim(s, g_aTask, c->zOwner, 100, 200, &job, &c->bFound);
    if (rc == PA_OK && c->bFound)
        memcpy(c->aGot, job.aCollectionId, 16);
    free(job.pRequest);
    return rc;
}

static void test_claims_differ(void **ppState)
{
    race *r = *ppState;
    job_ctx a = {{0}, "A", 0, {0}}, b = {{0}, "B", 0, {0}};
    uint8_t aId1[16] = {1}, aId2[16] = {2};
    int rc;

    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    assert_int_equal(pa_store_job_new(r->s3, g_aTask, aId1, PERIOD, 1), PA_OK);
    assert_int_equal(pa_store_job_new(r->s3, g_aTask, aId2, PERIOD, 2), PA_OK);
    assert_int_equal(pa_store_cjob_create(r->s3, g_aTask, aId1, PERIOD, "p1", g_aZero, 4, 1), PA_OK);
    assert_int_equal(pa_store_cjob_create(r->s3, g_aTask, aId2, PERIOD, "p2", g_aZero, 4, 2), PA_OK);
    assert_int_equal(pa_store_commit(r->s3), PA_OK);

    run_race(r, claim_job, NULL, &a, claim_job, &b, &rc);
    assert_int_equal(rc, PA_OK);
    assert_true(a.bFound && b.bFound);
    assert_memory_not_equal(a.aGot, b.aGot, 16);

    memset(&a.aGot, 0, 16);
    memset(&b.aGot, 0, 16);
    run_race(r, claim_cjob, NULL, &a, claim_cjob, &b, &rc);
    assert_int_equal(rc, PA_OK);
    assert_true(a.bFound && b.bFound);
    assert_memory_not_equal(a.aGot, b.aGot, 16);
}

/* ---- releases and the ledger ---------------------------------------------- */

#define TASK_HEX "0700000000000000000000000000000000000000000000000000000000000000"

/* rho = 1 / (2 * 10) = 0.05 per release; the budget of a cell fits one */
static int charge(pa_store *s, const char *zPartition)
{
    pa_dp_ledger_release rel = {TASK_HEX, PERIOD, zPartition, PA_DP_GAUSSIAN, {10, 1}, {1, 1}, 1};
    pa_dp_budget budget = {PA_DP_UNIT_RHO, 0.075};
    return pa_dp_ledger_charge(s, &rel, &budget, NULL, NULL);
}

typedef struct {
    const char *zPartition;
    int bFound;
} release_ctx;

/* What a release does in its transaction (collect.c): the stored answer, or
 * the charge and the record.  Split in two for the first connection. */
static int release_begin(pa_store *s, void *pCtx)
{
    release_ctx *c = pCtx;
    pa_store_collection coll;
    PA_GUARD(pa_store_collection_get(s, g_aTask, PERIOD, c->zPartition, &coll, &c->bFound));
    free(coll.pResponse);
    if (c->bFound)
        return PA_OK;
    return charge(s, c->zPartition);
}

static int release_end(pa_store *s, void *pCtx)
{
    release_ctx *c = pCtx;
    uint8_t aId[16] = {9};
    if (c->bFound)
        return PA_OK;
    return pa_store_collection_put(s, g_aTask, PERIOD, c->zPartition, aId, (const uint8_t *)"answer", 6, 1);
}

static int release_whole(pa_store *s, void *pCtx)
{
    PA_GUARD(release_begin(s, pCtx));
    return release_end(s, pCtx);
}

static void test_release_once(void **ppState)
{
    race *r = *ppState;
    release_ctx a = {"p1", 0}, b = {"p1", 0};
    int rc;

    assert_int_equal(pa_dp_ledger_init(r->s3), PA_OK);
    run_race(r, release_begin, release_end, &a, release_whole, &b, &rc);
    assert_int_equal(rc, PA_OK); /* the second got the first's answer */
    assert_false(a.bFound);
    assert_true(b.bFound);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM collections"), 1);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM dp_ledger"), 1);
}

static int charge_partition(pa_store *s, void *pCtx)
{
    (void)pCtx;
    return charge(s, "p1");
}

static int charge_state(pa_store *s, void *pCtx)
{
    (void)pCtx;
    return charge(s, "state");
}

static void test_budget_not_exceeded(void **ppState)
{
    race *r = *ppState;
    int rc;

    assert_int_equal(pa_dp_ledger_init(r->s3), PA_OK);
    run_race(r, charge_partition, NULL, NULL, charge_state, NULL, &rc);
    assert_int_equal(rc, PA_EBUDGET); /* refused by the budget, not by a collision */
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM dp_ledger"), 1);
    assert_int_equal(pa_dp_ledger_verify(r->s3, NULL, -1, NULL, NULL), PA_OK);
}

static int upload_late(pa_store *s, void *pCtx)
{
    int *pbCollected = pCtx;
    return pa_store_collected(s, g_aTask, PERIOD, "p1", pbCollected);
}

/* A group commit's lookup (upload.c) of one report of the batch. */
static int upload_group_late(pa_store *s, void *pCtx)
{
    int *pbCollected = pCtx;
    static const uint8_t aId[16] = {8};
    pa_store_report_key k = {aId, "a1", PERIOD, "p1"};
    pa_store_report_seen seen;
    PA_GUARD(pa_store_reports_seen(s, g_aTask, &k, 1, &seen));
    *pbCollected = seen.bCollected;
    return PA_OK;
}

static void test_late_group_refused(void **ppState)
{
    race *r = *ppState;
    release_ctx a = {"p1", 0};
    int rc, bCollected = -1;

    assert_int_equal(pa_dp_ledger_init(r->s3), PA_OK);
    run_race(r, release_begin, release_end, &a, upload_group_late, &bCollected, &rc);
    assert_int_equal(rc, PA_OK);
    assert_int_equal(bCollected, 1);
}

static void test_late_report_refused(void **ppState)
{
    race *r = *ppState;
    release_ctx a = {"p1", 0};
    int rc, bCollected = -1;

    assert_int_equal(pa_dp_ledger_init(r->s3), PA_OK);
    run_race(r, release_begin, release_end, &a, upload_late, &bCollected, &rc);
    assert_int_equal(rc, PA_OK);
    assert_int_equal(bCollected, 1);
}

/* ---- batches: aggregates and noise ----------------------------------------- */

/* One batch added to with the single-row calls: read the aggregate (an 8-byte counter
 * here), add one, write it back. */
static int merge_one(pa_store *s, void *pCtx)
{
    uint8_t aAgg[8] = {0};
    int bFound;
    (void)pCtx;
    PA_GUARD(pa_store_batch_get(s, g_aTask, PERIOD, "p1", aAgg, sizeof aAgg, &bFound));
    if (!bFound)
        memset(aAgg, 0, sizeof aAgg);
    aAgg[0]++;
    return pa_store_batch_put(s, g_aTask, PERIOD, "p1", aAgg, sizeof aAgg, 1, 0);
}

static void expect_merged(race *r, int n)
{
    uint8_t aAgg[8];
    int bFound;
    assert_int_equal(pa_store_batch_get(r->s3, g_aTask, PERIOD, "p1", aAgg, sizeof aAgg, &bFound), PA_OK);
    assert_true(bFound);
    assert_int_equal(aAgg[0], n);
}

static void test_merge_new_batch(void **ppState)
{
    race *r = *ppState;
    int rc;
    run_race(r, merge_one, NULL, NULL, merge_one, NULL, &rc);
    assert_int_equal(rc, PA_OK);
    expect_merged(r, 2);
}

static void test_merge_existing_batch(void **ppState)
{
    race *r = *ppState;
    int rc;
    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    assert_int_equal(merge_one(r->s3, NULL), PA_OK);
    assert_int_equal(pa_store_commit(r->s3), PA_OK);
    run_race(r, merge_one, NULL, NULL, merge_one, NULL, &rc);
    assert_int_equal(rc, PA_OK);
    expect_merged(r, 3);
}

/* A job's sums (job_store.c, pa_job_sums_commit): one locking read of its
 * batches in partition order, one add each, one write. */
static int sums_row(void *pCtx, const pa_store_batch_row *pRow)
{
    uint8_t (*aAgg)[8] = pCtx;
    int i = strcmp(pRow->zPartition, "p1") == 0 ? 0 : 1;
    if (pRow->nAggregate != 8)
        return PA_ESTORE;
    memcpy(aAgg[i], pRow->pAggregate, 8);
    return PA_OK;
}

static int sums_commit(pa_store *s, void *pCtx)
{
    static const char *const azPartition[2] = {"p1", "p2"};
    uint8_t aAgg[2][8] = {{0}};
    pa_store_batch_row ab[2];
    (void)pCtx;
    PA_GUARD(pa_store_batch_get_many(s, g_aTask, PERIOD, azPartition, 2, sums_row, aAgg));
    for (int i = 0; i < 2; i++) {
        aAgg[i][0]++;
        ab[i].zPartition = azPartition[i];
        ab[i].pAggregate = aAgg[i];
        ab[i].nAggregate = 8;
        ab[i].nReport = 1;
        ab[i].nRejected = 0;
    }
    return pa_store_batch_put_many(s, g_aTask, PERIOD, ab, 2);
}

static void expect_sums(race *r, int n)
{
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM batches"), 2);
    expect_merged(r, n);
    assert_int_equal(rows(r->s3, "SELECT report_count FROM batches WHERE partition = 'p1'"), n);
    assert_int_equal(rows(r->s3, "SELECT report_count FROM batches WHERE partition = 'p2'"), n);
}

static void test_sums_new_batches(void **ppState)
{
    race *r = *ppState;
    int rc;
    run_race(r, sums_commit, NULL, NULL, sums_commit, NULL, &rc);
    assert_int_equal(rc, PA_OK);
    expect_sums(r, 2);
}

/* The rows exist; the first job adds to p1 with the single-row calls
 * (pa_store_batch_get locks the row only), the second in bulk. */
static void test_sums_existing_batches(void **ppState)
{
    race *r = *ppState;
    int rc;
    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    assert_int_equal(sums_commit(r->s3, NULL), PA_OK);
    assert_int_equal(pa_store_commit(r->s3), PA_OK);
    run_race(r, merge_one, NULL, NULL, sums_commit, NULL, &rc);
    assert_int_equal(rc, PA_OK);
    expect_merged(r, 3);
    assert_int_equal(rows(r->s3, "SELECT report_count FROM batches WHERE partition = 'p2'"), 2);
    /* and two bulk writers on existing rows */
    run_race(r, sums_commit, NULL, NULL, sums_commit, NULL, &rc);
    assert_int_equal(rc, PA_OK);
    expect_merged(r, 5);
    assert_int_equal(rows(r->s3, "SELECT report_count FROM batches WHERE partition = 'p2'"), 4);
}

typedef struct {
    const char *zPartition;
    int bEmpty;
} noise_ctx;

static int take_noise(pa_store *s, void *pCtx)
{
    noise_ctx *c = pCtx;
    return pa_store_batch_noise_take(s, g_aTask, PERIOD, c->zPartition, 1, &c->bEmpty);
}

static void test_noise_takes(void **ppState)
{
    race *r = *ppState;
    noise_ctx a = {"p1", -1}, b = {"p2", -1}, c = {"p3", -1}, d = {"p3", -1};
    int rc;

    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    for (int i = 0; i < 6; i++) {
        uint8_t aNoise[8] = {(uint8_t)(i + 1)};
        assert_int_equal(pa_store_noise_pool_add(r->s3, g_aTask, 1, aNoise, sizeof aNoise), PA_OK);
    }
    assert_int_equal(pa_store_commit(r->s3), PA_OK);
    /* two batches at once: each its own vector */
    run_race(r, take_noise, NULL, &a, take_noise, &b, &rc);
    assert_int_equal(rc, PA_OK);
    assert_int_equal(a.bEmpty, 0);
    assert_int_equal(b.bEmpty, 0);
    /* one batch twice at once: one noise, and no failure */
    run_race(r, take_noise, NULL, &c, take_noise, &d, &rc);
    assert_int_equal(rc, PA_OK);
    assert_int_equal(d.bEmpty, 0);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM batch_noise"), 3);
    assert_int_equal(rows(r->s3, "SELECT count(*) FROM batch_noise WHERE partition = 'p3'"), 1);
}

/* ---- the helper's job steps ------------------------------------------------ */

static const uint8_t g_aJob[16] = {5}, g_aHash[32] = {6};

typedef struct {
    int bFound;
} continue_ctx;

/* What the helper's continue does first (helper_job.c): the job's period, its
 * stored answer; then the step's effects and its answer. */
static int continue_begin(pa_store *s, void *pCtx)
{
    continue_ctx *c = pCtx;
    char zPeriod[PA_STORE_PERIOD_SIZE];
    uint8_t *pResp = NULL;
    size_t nResp = 0;
    int bFound, bSame;
    PA_GUARD(pa_store_job_period(s, g_aTask, g_aJob, zPeriod, &bFound));
    if (!bFound)
        return PA_ENOTFOUND;
    PA_GUARD(pa_store_job_answer_get(s, g_aTask, g_aJob, PA_STORE_JOB_CONTINUE, g_aHash, &c->bFound, &bSame,
                                     &pResp, &nResp));
    free(pResp);
    if (c->bFound)
        return PA_OK;
    return pa_store_job_answer_put(s, g_aTask, g_aJob, PERIOD, PA_STORE_JOB_CONTINUE, g_aHash,
                                   (const uint8_t *)"finish", 6, 2);
}

static void test_continue_once(void **ppState)
{
    race *r = *ppState;
    continue_ctx a = {0}, b = {0};
    int rc;

    assert_int_equal(pa_store_begin(r->s3), PA_OK);
    assert_int_equal(pa_store_job_answer_put(r->s3, g_aTask, g_aJob, PERIOD, PA_STORE_JOB_INIT, g_aHash,
                                             (const uint8_t *)"init", 4, 1),
                     PA_OK);
    assert_int_equal(pa_store_commit(r->s3), PA_OK);
    run_race(r, continue_begin, NULL, &a, continue_begin, &b, &rc);
    assert_int_equal(rc, PA_OK);
    assert_false(a.bFound);
    assert_true(b.bFound); /* the second continue answers from the first's answer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_report_stored_once, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_agency_counts_once, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_report_in_one_job, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_claims_differ, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_release_once, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_budget_not_exceeded, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_late_report_refused, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_merge_new_batch, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_merge_existing_batch, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_noise_takes, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_continue_once, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_group_insert_row_by_row, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_late_group_refused, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_sums_new_batches, race_setup, race_teardown),
        cmocka_unit_test_setup_teardown(test_sums_existing_batches, race_setup, race_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
