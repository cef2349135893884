/*
 * Reports and aggregation jobs in the PostgreSQL store (the SQLite backend's
 * report_store.c and job_store.c; see include/privagg/store.h).  Every call
 * is one statement, one round trip: the calls for many rows (a group commit's
 * uploads, a job's reports) pass each column as an array and unnest it, and
 * write the reports rows and their report_data or report_kept rows through
 * data-modifying WITHs.  Writers do not take turns on this backend
 * (pg_store.c): the upload's checks (replay, one report per agency and batch)
 * are backed by unique indexes the insert meets, row by row, and a job takes
 * its pending reports FOR UPDATE SKIP LOCKED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "store/pg_internal.h"

static int is_state(const char *zPartition)
{
    return strcmp(zPartition, "state") == 0;
}

/* One count over a batch: $1 task, $2 period, $3 whole period?, $4 partition. */
static int count_of(pa_store *pStore, const char *zSql, const uint8_t aTaskId[32], const char *zPeriod,
                    const char *zPartition, uint64_t *pn)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    *pn = 0;
    PA_GUARD(pa_pg_run(pStore, zSql, &p, &r, "reports"));
    *pn = PQntuples(r) == 1 ? (uint64_t)pa_pg_col_int(r, 0, 0) : 0;
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                           const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(DISTINCT agency_id) FROM reports WHERE task_id = $1"
                    " AND period = $2 AND ($3::boolean OR partition = $4) AND state = 'accepted'",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_pg_reports_agency_ids(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint8_t **ppIds, size_t *pnIds)
{
    pa_pg_params p = {0};
    PGresult *r;
    size_t nIds = 0;
    uint8_t *pIds = NULL;

    *ppIds = NULL;
    *pnIds = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, is_state(zPartition));
    pa_pg_p_text(&p, zPartition);
    /* COLLATE "C" orders as memcmp: the canonical order of the list, whatever
     * the database's default collation */
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT DISTINCT agency_id COLLATE \"C\" AS a FROM reports WHERE task_id = $1"
                       " AND period = $2 AND ($3::boolean OR partition = $4) AND state = 'accepted'"
                       " ORDER BY a",
                       &p, &r, "reports (agency ids)"));
    for (int i = 0; i < PQntuples(r); i++)
        nIds += (size_t)PQgetlength(r, i, 0) + 1;
    if (nIds > 0 && (pIds = malloc(nIds)) == NULL) {
        PQclear(r);
        return pa_fail(PA_ENOMEM, "reports: agency ids (%zu bytes)", nIds);
    }
    nIds = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        size_t nLen = (size_t)PQgetlength(r, i, 0);
        memcpy(pIds + nIds, PQgetvalue(r, i, 0), nLen);
        pIds[nIds + nLen] = 0;
        nIds += nLen + 1;
    }
    PQclear(r);
    *ppIds = pIds;
    *pnIds = nIds;
    return PA_OK;
}

int pa_pg_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                             const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(*) FROM reports WHERE task_id = $1 AND period = $2"
                    " AND ($3::boolean OR partition = $4) AND state IN ('pending','aggregating')",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_pg_report_exists(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aReportId[16], int *pbExists)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aReportId, 16);
    *pbExists = 0;
    PA_GUARD(pa_pg_run(pStore, "SELECT 1 FROM reports WHERE task_id = $1 AND report_id = $2", &p, &r, "reports"));
    *pbExists = PQntuples(r) > 0;
    PQclear(r);
    return PA_OK;
}

static void agency_batch(pa_pg_params *p, const uint8_t aTaskId[32], const char *zAgencyId, const char *zPeriod,
                         const char *zPartition)
{
    pa_pg_p_blob(p, aTaskId, 32);
    pa_pg_p_text(p, zAgencyId);
    pa_pg_p_text(p, zPeriod);
    pa_pg_p_text(p, zPartition);
}

int pa_pg_reports_of_agency(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                            const char *zPeriod, const char *zPartition, uint64_t *pnCounting, uint64_t *pnPending)
{
    pa_pg_params p = {0};
    PGresult *r;
    agency_batch(&p, aTaskId, zAgencyId, zPeriod, zPartition);
    *pnCounting = *pnPending = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM reports"
                       " WHERE task_id = $1 AND agency_id = $2 AND period = $3 AND partition = $4"
                       " AND state IN ('pending','aggregating','accepted')",
                       &p, &r, "reports"));
    if (PQntuples(r) == 1) {
        *pnCounting = (uint64_t)pa_pg_col_int(r, 0, 0);
        *pnPending = (uint64_t)pa_pg_col_int(r, 0, 1);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_replace_pending(pa_store *pStore, const uint8_t aTaskId[32], const char *zAgencyId,
                                  const char *zPeriod, const char *zPartition)
{
    pa_pg_params p = {0};
    agency_batch(&p, aTaskId, zAgencyId, zPeriod, zPartition);
    return pa_pg_do(pStore,
                    "WITH old AS (UPDATE reports SET state = 'replaced' WHERE task_id = $1 AND agency_id = $2"
                    "   AND period = $3 AND partition = $4 AND state = 'pending' RETURNING id)"
                    " DELETE FROM report_data WHERE report IN (SELECT id FROM old)",
                    &p, "reports (replace)", NULL);
}

/* The arrays of a call, freed (and wiped: verify states are secret) together. */
#define MANY_COLS 13
typedef struct {
    pa_pg_array a[MANY_COLS];
    size_t n;
} many_cols;

/* nCols empty arrays, of the types aiOid names ($2, $3, ... in that order). */
static void many_init(many_cols *m, const uint32_t *aiOid, size_t nCols)
{
    m->n = nCols;
    for (size_t c = 0; c < nCols; c++)
        pa_pg_array_init(&m->a[c], aiOid[c]);
}

static void many_free(many_cols *m)
{
    for (size_t i = 0; i < m->n; i++)
        pa_pg_array_free(&m->a[i]);
}

/* The arrays as parameters $2, $3, ... (after the task id, $1). */
static int many_params(pa_pg_params *p, many_cols *m)
{
    for (size_t i = 0; i < m->n; i++)
        PA_GUARD(pa_pg_p_array(p, &m->a[i]));
    return PA_OK;
}

/* The reports of aRow not stored (aiOutcome[i] still 0) whose report id the
 * task has now: replays; the others met another counting report of their
 * agency and batch (busy).  A statement of its own: its snapshot sees what
 * the writers the insert waited for committed. */
static int classify_unstored(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow, size_t n,
                             uint8_t *aiOutcome)
{
    pa_pg_params p = {0};
    pa_pg_array a;
    PGresult *r = NULL;
    int rc;

    pa_pg_array_init(&a, PA_PG_OID_BYTEA);
    for (size_t i = 0; i < n; i++)
        if (aiOutcome[i] != PA_STORE_ROW_STORED)
            pa_pg_array_add(&a, aRow[i].aReportId, 16);
    pa_pg_p_blob(&p, aTaskId, 32);
    rc = pa_pg_p_array(&p, &a);
    if (rc == PA_OK)
        rc = pa_pg_run(pStore,
                       "SELECT q.rid FROM unnest($2::bytea[]) AS q(rid)"
                       " WHERE EXISTS (SELECT 1 FROM reports x WHERE x.task_id = $1 AND x.report_id = q.rid)",
                       &p, &r, "reports (insert)");
    pa_pg_array_free(&a);
    if (rc != PA_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (aiOutcome[i] != PA_STORE_ROW_STORED)
            aiOutcome[i] = PA_STORE_ROW_BUSY;
    for (int k = 0; k < PQntuples(r); k++) {
        size_t nId;
        const uint8_t *pId = pa_pg_col_blob(r, k, 0, &nId);
        for (size_t i = 0; nId == 16 && i < n; i++)
            if (aiOutcome[i] == PA_STORE_ROW_BUSY && memcmp(aRow[i].aReportId, pId, 16) == 0)
                aiOutcome[i] = PA_STORE_ROW_REPLAY;
    }
    PQclear(r);
    return PA_OK;
}

/* The caller decided each report from pa_store_reports_seen (upload.c); a
 * transaction that stored the same report, or another counting report of the
 * same agency and batch, after that read is met here by the unique indexes,
 * row by row: ON CONFLICT DO NOTHING with no target covers both (the
 * reports_one_per_agency index of migration 6 too), so the row is skipped,
 * after waiting for that transaction to end, and the other rows are stored. */
int pa_pg_report_insert_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_upload_row *aRow, size_t n,
                             uint8_t *aiOutcome)
{
    static const uint32_t aiOid[] = {PA_PG_OID_BYTEA, PA_PG_OID_TEXT,  PA_PG_OID_TEXT,  PA_PG_OID_TEXT,
                                     PA_PG_OID_INT8,  PA_PG_OID_BYTEA, PA_PG_OID_BYTEA, PA_PG_OID_BYTEA,
                                     PA_PG_OID_BYTEA, PA_PG_OID_BYTEA, PA_PG_OID_BYTEA, PA_PG_OID_BYTEA};
    pa_pg_params p = {0};
    many_cols m;
    PGresult *r = NULL;
    int rc;

    if (n == 0)
        return PA_OK;
    memset(aiOutcome, 0, n);
    many_init(&m, aiOid, sizeof aiOid / sizeof aiOid[0]);
    for (size_t i = 0; i < n; i++) {
        const pa_store_upload_row *u = &aRow[i];
        pa_pg_array_add(&m.a[0], u->aReportId, 16);
        pa_pg_array_add_text(&m.a[1], u->zAgencyId);
        pa_pg_array_add_text(&m.a[2], u->zPeriod);
        pa_pg_array_add_text(&m.a[3], u->zPartition);
        pa_pg_array_add_int(&m.a[4], u->tReceived);
        pa_pg_array_add(&m.a[5], u->pLeaderDigest, 32);
        pa_pg_array_add(&m.a[6], u->pPublicShare, u->nPublicShare);
        pa_pg_array_add(&m.a[7], u->pHelperEnc, 32);
        pa_pg_array_add(&m.a[8], u->pHelperCt, u->nHelperCt);
        pa_pg_array_add(&m.a[9], u->pSignature, 64);
        pa_pg_array_add(&m.a[10], u->pVerifyState, u->nVerifyState);
        pa_pg_array_add(&m.a[11], u->pVerifierShare, u->nVerifierShare);
    }
    pa_pg_p_blob(&p, aTaskId, 32);
    rc = many_params(&p, &m);
    /* q: the rows, the first of each report id (a later one is skipped as the
     * single-row path refuses it); r: the reports rows, in the order given,
     * none for an id stored before or an agency's batch that has a counting
     * report; d: their parts.  The answer: the ordinal (1-based) of each row
     * stored. */
    if (rc == PA_OK)
        rc = pa_pg_run(pStore,
                       "WITH q AS (SELECT DISTINCT ON (rid) * FROM unnest($2::bytea[], $3::text[], $4::text[],"
                       "   $5::text[], $6::int8[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[],"
                       "   $11::bytea[], $12::bytea[], $13::bytea[]) WITH ORDINALITY"
                       "   AS q(rid, agency, period, part, received, digest, pub, henc, hct, sig, vstate, vshare, i)"
                       "   ORDER BY rid, i),"
                       " r AS (INSERT INTO reports(task_id, report_id, agency_id, period, partition, received_at,"
                       "   leader_digest) SELECT $1, rid, agency, period, part, received, digest FROM q ORDER BY i"
                       "   ON CONFLICT DO NOTHING RETURNING id, report_id),"
                       " d AS (INSERT INTO report_data(report, public_share, helper_enc, helper_ct, signature,"
                       "   verify_state, verifier_share) SELECT r.id, q.pub, q.henc, q.hct, q.sig, q.vstate, q.vshare"
                       "   FROM r JOIN q ON q.rid = r.report_id)"
                       " SELECT q.i FROM r JOIN q ON q.rid = r.report_id",
                       &p, &r, "reports (insert)");
    many_free(&m);
    if (rc != PA_OK)
        return rc;
    size_t nStored = 0;
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t i = pa_pg_col_int(r, k, 0);
        if (i >= 1 && (uint64_t)i <= n && aiOutcome[i - 1] != PA_STORE_ROW_STORED) {
            aiOutcome[i - 1] = PA_STORE_ROW_STORED;
            nStored++;
        }
    }
    PQclear(r);
    /* only when a row was skipped: one more statement says why */
    return nStored == n ? PA_OK : classify_unstored(pStore, aTaskId, aRow, n, aiOutcome);
}

int pa_pg_reports_seen(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_report_key *aKey, size_t n,
                       pa_store_report_seen *aSeen)
{
    pa_pg_params p = {0};
    many_cols m;
    PGresult *r = NULL;
    int rc;

    if (n == 0)
        return PA_OK;
    /* in a transaction (a group of uploads, the helper's job init): each
     * period of the reports locked shared first, as pa_pg_collected does, so
     * that the "collected?" answers hold until the reports are stored (a
     * release of the period waits, then sees them unfinished); statements of
     * their own, before the lookup reads, the periods in sorted order (lock
     * order) */
    for (const char *zLast = NULL;;) {
        const char *zNext = NULL;
        for (size_t i = 0; i < n; i++)
            if ((zLast == NULL || strcmp(aKey[i].zPeriod, zLast) > 0) &&
                (zNext == NULL || strcmp(aKey[i].zPeriod, zNext) < 0))
                zNext = aKey[i].zPeriod;
        if (zNext == NULL)
            break;
        PA_GUARD(pa_pg_lock_period(pStore, aTaskId, zNext, 0));
        zLast = zNext;
    }
    memset(aSeen, 0, n * sizeof *aSeen);
    static const uint32_t aiOid[] = {PA_PG_OID_BYTEA, PA_PG_OID_TEXT, PA_PG_OID_TEXT, PA_PG_OID_TEXT};
    many_init(&m, aiOid, sizeof aiOid / sizeof aiOid[0]);
    for (size_t i = 0; i < n; i++) {
        pa_pg_array_add(&m.a[0], aKey[i].pReportId, 16);
        pa_pg_array_add_text(&m.a[1], aKey[i].zAgencyId);
        pa_pg_array_add_text(&m.a[2], aKey[i].zPeriod);
        pa_pg_array_add_text(&m.a[3], aKey[i].zPartition);
    }
    pa_pg_p_blob(&p, aTaskId, 32);
    rc = many_params(&p, &m);
    /* Each lookup is a LATERAL subquery that aggregates, which the planner
     * cannot flatten: an index lookup per row, never a hash of the task's
     * reports (an EXISTS became one: the whole month read per call).  The
     * agency's reports are read whatever their state and counted by it: with
     * no condition on the state, reports_by_agency is the only index that
     * narrows the lookup past the task (migration 7). */
    if (rc == PA_OK)
        rc = pa_pg_run(pStore,
                       "SELECT q.i, x.n, a.counting, a.pending, c.n"
                       " FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY"
                       "   AS q(rid, agency, period, part, i)"
                       " CROSS JOIN LATERAL (SELECT count(*) AS n FROM reports x"
                       "   WHERE x.task_id = $1 AND x.report_id = q.rid) x"
                       " CROSS JOIN LATERAL (SELECT"
                       "   count(*) FILTER (WHERE y.state IN ('pending','aggregating','accepted')) AS counting,"
                       "   count(*) FILTER (WHERE y.state = 'pending') AS pending"
                       "   FROM reports y WHERE y.task_id = $1 AND y.agency_id = q.agency AND y.period = q.period"
                       "   AND y.partition = q.part) a"
                       " CROSS JOIN LATERAL (SELECT count(*) AS n FROM collections c WHERE c.task_id = $1"
                       "   AND c.period = q.period AND c.partition IN (q.part, 'state')) c",
                       &p, &r, "reports (seen)");
    many_free(&m);
    if (rc != PA_OK)
        return rc;
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t i = pa_pg_col_int(r, k, 0);
        if (i < 1 || (uint64_t)i > n)
            continue;
        pa_store_report_seen *o = &aSeen[i - 1];
        o->bExists = pa_pg_col_int(r, k, 1) != 0;
        o->nCounting = (uint64_t)pa_pg_col_int(r, k, 2);
        o->nPending = (uint64_t)pa_pg_col_int(r, k, 3);
        o->bCollected = pa_pg_col_int(r, k, 4) != 0;
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_pending_period(pa_store *pStore, const uint8_t aTaskId[32], int bOnlyAsked,
                                 char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_int(&p, bOnlyAsked != 0);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT period FROM reports r WHERE task_id = $1 AND state = 'pending'"
                       " AND (NOT $2::boolean OR EXISTS (SELECT 1 FROM collection_jobs c"
                       "   WHERE c.task_id = r.task_id AND c.period = r.period AND c.state = 'pending'))"
                       " ORDER BY period COLLATE \"C\" LIMIT 1",
                       &p, &r, "reports"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound)
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
    PQclear(r);
    return PA_OK;
}

int pa_pg_reports_assign(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod,
                         uint64_t nMax)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, (int64_t)nMax);
    /* another worker's job being made at the same moment holds its reports:
     * skipped, and a report taken (or replaced) since the snapshot is
     * re-checked, so a report is in one job */
    /* (MATERIALIZED: picked once; a subquery the plan scanned again would
     * skip the rows this statement has just taken and pick more) */
    return pa_pg_do(pStore,
                    "WITH pick AS MATERIALIZED (SELECT id FROM reports WHERE task_id = $1 AND state = 'pending'"
                    "   AND period = $3 ORDER BY report_id LIMIT $4 FOR UPDATE SKIP LOCKED)"
                    " UPDATE reports SET state = 'aggregating', job_id = $2 FROM pick"
                    " WHERE reports.id = pick.id AND reports.state = 'pending'",
                    &p, "reports (to job)", NULL);
}

int pa_pg_job_partitions(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         int (*xPartition)(void *pCtx, const char *zPartition), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    /* in one order for every worker: the noise rows of the batches are taken
     * in it (pg_store.c, lock order) */
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT DISTINCT partition COLLATE \"C\" AS p FROM reports WHERE task_id = $1"
                       " AND job_id = $2 ORDER BY p",
                       &p, &r, "reports"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++)
        rc = xPartition(pCtx, pa_pg_col_text(r, i, 0));
    PQclear(r);
    return rc;
}

int pa_pg_job_reports(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                      int (*xRow)(void *pCtx, const pa_store_job_report_row *pRow), void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT r.report_id, r.agency_id, r.partition, r.leader_digest,"
                       " d.public_share, d.helper_enc, d.helper_ct, d.signature,"
                       " d.verify_state, d.verifier_share"
                       " FROM reports r JOIN report_data d ON d.report = r.id"
                       " WHERE r.task_id = $1 AND r.job_id = $2 AND r.state = 'aggregating'"
                       " ORDER BY r.report_id",
                       &p, &r, "reports (job)"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++) {
        pa_store_job_report_row j;
        j.pReportId = pa_pg_col_blob(r, i, 0, &j.nReportId);
        j.zAgencyId = pa_pg_col_text(r, i, 1);
        j.zPartition = pa_pg_col_text(r, i, 2);
        j.pLeaderDigest = pa_pg_col_blob(r, i, 3, &j.nLeaderDigest);
        j.pPublicShare = pa_pg_col_blob(r, i, 4, &j.nPublicShare);
        j.pHelperEnc = pa_pg_col_blob(r, i, 5, &j.nHelperEnc);
        j.pHelperCt = pa_pg_col_blob(r, i, 6, &j.nHelperCt);
        j.pSignature = pa_pg_col_blob(r, i, 7, &j.nSignature);
        j.pVerifyState = pa_pg_col_blob(r, i, 8, &j.nVerifyState);
        j.pVerifierShare = pa_pg_col_blob(r, i, 9, &j.nVerifierShare);
        rc = xRow(pCtx, &j);
    }
    PQclear(r); /* held the verify states (secret): libpq frees the result's memory */
    return rc;
}

int pa_pg_reports_settle(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_settle_row *aRow, size_t n)
{
    pa_pg_params p = {0};
    many_cols m;
    int rc;

    if (n == 0)
        return PA_OK;
    /* every report; the rejected ones; their reasons */
    static const uint32_t aiOid[] = {PA_PG_OID_BYTEA, PA_PG_OID_BYTEA, PA_PG_OID_TEXT};
    many_init(&m, aiOid, sizeof aiOid / sizeof aiOid[0]);
    for (size_t i = 0; i < n; i++) {
        pa_pg_array_add(&m.a[0], aRow[i].pReportId, 16);
        if (aRow[i].zRejectReason != NULL) {
            pa_pg_array_add(&m.a[1], aRow[i].pReportId, 16);
            pa_pg_array_add_text(&m.a[2], aRow[i].zRejectReason);
        }
    }
    pa_pg_p_blob(&p, aTaskId, 32);
    rc = many_params(&p, &m);
    /* The rows by the unique index (report_id = ANY: one lookup per id, never a
     * scan of the task's reports), each rejected one's reason by its position
     * among the rejected (few: no join of the job with itself). */
    if (rc == PA_OK)
        rc = pa_pg_do(pStore,
                      "WITH s AS (UPDATE reports r"
                      "   SET state = CASE WHEN r.report_id = ANY ($3::bytea[]) THEN 'rejected' ELSE 'accepted' END,"
                      "   reject_reason = ($4::text[])[array_position($3::bytea[], r.report_id)]"
                      "   WHERE r.task_id = $1 AND r.report_id = ANY ($2::bytea[]) RETURNING r.id),"
                      " k AS (DELETE FROM report_kept WHERE report IN (SELECT id FROM s))"
                      " DELETE FROM report_data WHERE report IN (SELECT id FROM s)",
                      &p, "reports (settle)", NULL);
    many_free(&m);
    return rc;
}

int pa_pg_report_insert_helper_many(pa_store *pStore, const uint8_t aTaskId[32], const pa_store_helper_report_row *aRow,
                                    size_t n)
{
    static const uint32_t aiOid[] = {PA_PG_OID_BYTEA, PA_PG_OID_TEXT, PA_PG_OID_TEXT,  PA_PG_OID_TEXT,
                                     PA_PG_OID_INT8,  PA_PG_OID_TEXT, PA_PG_OID_BYTEA, PA_PG_OID_BYTEA};
    pa_pg_params p = {0};
    many_cols m;
    int rc;

    if (n == 0)
        return PA_OK;
    many_init(&m, aiOid, sizeof aiOid / sizeof aiOid[0]);
    for (size_t i = 0; i < n; i++) {
        const pa_store_helper_report_row *h = &aRow[i];
        pa_pg_array_add(&m.a[0], h->aReportId, 16);
        pa_pg_array_add_text(&m.a[1], h->zAgencyId);
        pa_pg_array_add_text(&m.a[2], h->zPeriod);
        pa_pg_array_add_text(&m.a[3], h->zPartition);
        pa_pg_array_add_int(&m.a[4], h->tReceived);
        pa_pg_array_add_text(&m.a[5], h->zRejectReason);
        pa_pg_array_add(&m.a[6], h->aJobId, 16);
        if (h->pKept)
            pa_pg_array_add(&m.a[7], h->pKept, h->nKept);
        else
            pa_pg_array_add_text(&m.a[7], NULL); /* SQL NULL: no kept state */
    }
    pa_pg_p_blob(&p, aTaskId, 32);
    rc = many_params(&p, &m);
    if (rc == PA_OK)
        rc = pa_pg_do(pStore,
                      "WITH q AS (SELECT * FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[],"
                      "   $6::int8[], $7::text[], $8::bytea[], $9::bytea[]) WITH ORDINALITY"
                      "   AS q(rid, agency, period, part, received, reason, job, kept, i)),"
                      " r AS (INSERT INTO reports(task_id, report_id, agency_id, period, partition, received_at,"
                      "   state, reject_reason, job_id) SELECT $1, rid, agency, period, part, received,"
                      "   CASE WHEN reason IS NULL THEN 'aggregating' ELSE 'rejected' END, reason, job"
                      "   FROM q ORDER BY i RETURNING id, report_id)"
                      " INSERT INTO report_kept(report, kept)"
                      " SELECT r.id, q.kept FROM r JOIN q ON q.rid = r.report_id WHERE q.kept IS NOT NULL",
                      &p, "reports (helper)", NULL);
    many_free(&m);
    return rc;
}

int pa_pg_job_kept(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], size_t nKept,
                   int (*xRow)(void *pCtx, const uint8_t *pReportId, const char *zPartition, const uint8_t *pKept),
                   void *pCtx)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT r.report_id, r.partition, k.kept FROM reports r JOIN report_kept k ON k.report = r.id"
                       " WHERE r.task_id = $1 AND r.job_id = $2 AND r.state = 'aggregating' ORDER BY r.report_id",
                       &p, &r, "report_kept"));
    for (int i = 0; rc == PA_OK && i < PQntuples(r); i++) {
        size_t nId, n;
        const uint8_t *pId = pa_pg_col_blob(r, i, 0, &nId), *pKept = pa_pg_col_blob(r, i, 2, &n);
        if (nId == 16 && n == nKept)
            rc = xRow(pCtx, pId, pa_pg_col_text(r, i, 1), pKept);
    }
    PQclear(r); /* held the kept states (secret): libpq frees the result's memory */
    return rc;
}

int pa_pg_reports_reject_unsettled(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                                   const char *zRejectReason)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zRejectReason);
    return pa_pg_do(pStore,
                    "WITH s AS (UPDATE reports SET state = 'rejected', reject_reason = $3"
                    "   WHERE task_id = $1 AND job_id = $2 AND state = 'aggregating' RETURNING id)"
                    " DELETE FROM report_kept WHERE report IN (SELECT id FROM s)",
                    &p, "reports (not continued)", NULL);
}

/* ---- aggregation jobs ----------------------------------------------------- */

int pa_pg_job_answer_get(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         pa_store_job_step eStep, const uint8_t aReqHash[32], int *pbFound, int *pbSame,
                         uint8_t **ppResp, size_t *pnResp)
{
    pa_pg_params p = {0};
    PGresult *r;
    int rc = PA_OK;

    *pbFound = *pbSame = 0;
    *ppResp = NULL;
    *pnResp = 0;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    PA_GUARD(pa_pg_run(pStore,
                       eStep == PA_STORE_JOB_INIT
                           ? "SELECT init_hash, init_resp FROM jobs WHERE task_id = $1 AND job_id = $2"
                           : "SELECT cont_hash, cont_resp FROM jobs WHERE task_id = $1 AND job_id = $2",
                       &p, &r, "jobs"));
    if (PQntuples(r) == 1 && !pa_pg_col_null(r, 0, 0)) {
        size_t n;
        const uint8_t *pHash = pa_pg_col_blob(r, 0, 0, &n);
        *pbFound = 1;
        *pbSame = n == 32 && memcmp(pHash, aReqHash, 32) == 0;
        if (*pbSame)
            rc = pa_pg_col_copy(r, 0, 1, ppResp, pnResp);
    }
    PQclear(r);
    return rc;
}

int pa_pg_job_answer_put(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                         const char *zPeriod, pa_store_job_step eStep, const uint8_t aReqHash[32],
                         const uint8_t *pResp, size_t nResp, int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_blob(&p, aReqHash, 32);
    pa_pg_p_blob(&p, pResp, nResp);
    pa_pg_p_int(&p, tNow);
    if (eStep == PA_STORE_JOB_INIT) {
        pa_pg_p_text(&p, zPeriod);
        return pa_pg_do(pStore,
                        "INSERT INTO jobs(task_id, job_id, period, state, init_hash, init_resp, created_at,"
                        " updated_at) VALUES ($1, $2, $6, 'started', $3, $4, $5, $5)",
                        &p, "jobs", NULL);
    }
    return pa_pg_do(pStore,
                    "UPDATE jobs SET state = 'finished', cont_hash = $3, cont_resp = $4, updated_at = $5"
                    " WHERE task_id = $1 AND job_id = $2",
                    &p, "jobs", NULL);
}

int pa_pg_job_period(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16],
                     char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    *pbFound = 0;
    /* in a transaction: the helper's continue step, which holds the job's row
     * until it has stored its answer, so a second continue of the job sent at
     * the same moment (a worker that took the job over) waits and then finds
     * that answer instead of settling the reports again */
    PA_GUARD(pa_pg_run(pStore,
                       pStore->bInTxn && !pStore->bReadOnly
                           ? "SELECT period FROM jobs WHERE task_id = $1 AND job_id = $2 FOR UPDATE"
                           : "SELECT period FROM jobs WHERE task_id = $1 AND job_id = $2",
                       &p, &r, "jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound)
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
    PQclear(r);
    return PA_OK;
}

int pa_pg_job_open(pa_store *pStore, const uint8_t aTaskId[32], uint8_t aJobId[16],
                   char zPeriod[PA_STORE_PERIOD_SIZE], int *pbFound)
{
    pa_pg_params p = {0};
    PGresult *r;
    pa_pg_p_blob(&p, aTaskId, 32);
    *pbFound = 0;
    PA_GUARD(pa_pg_run(pStore,
                       "SELECT period, job_id FROM jobs WHERE task_id = $1 AND state != 'finished'"
                       " ORDER BY created_at LIMIT 1",
                       &p, &r, "jobs"));
    *pbFound = PQntuples(r) == 1;
    if (*pbFound) {
        size_t n;
        const uint8_t *pId = pa_pg_col_blob(r, 0, 1, &n);
        snprintf(zPeriod, PA_STORE_PERIOD_SIZE, "%.7s", pa_pg_col_text(r, 0, 0));
        if (n == 16)
            memcpy(aJobId, pId, 16);
        else
            memset(aJobId, 0, 16);
    }
    PQclear(r);
    return PA_OK;
}

int pa_pg_job_new(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], const char *zPeriod,
                  int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_text(&p, zPeriod);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore,
                    "INSERT INTO jobs(task_id, job_id, period, state, created_at, updated_at)"
                    " VALUES ($1, $2, $3, 'started', $4, $4)",
                    &p, "jobs (new)", NULL);
}

int pa_pg_job_finish(pa_store *pStore, const uint8_t aTaskId[32], const uint8_t aJobId[16], int64_t tNow)
{
    pa_pg_params p = {0};
    pa_pg_p_blob(&p, aTaskId, 32);
    pa_pg_p_blob(&p, aJobId, 16);
    pa_pg_p_int(&p, tNow);
    return pa_pg_do(pStore, "UPDATE jobs SET state = 'finished', updated_at = $3 WHERE task_id = $1 AND job_id = $2",
                    &p, "jobs (finish)", NULL);
}
