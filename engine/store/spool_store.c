/*
 * The agency's spool's storage (include/privagg/spool.h), in the store layer so
 * that no SQL lives outside engine/store/: a small SQLite file where
 * every sealed, signed report is committed before it is uploaded, with its state
 * (pending, sent, acknowledged, refused, superseded), its attempts and the
 * leader's last answer.  It never holds plain counts: a re-run recognises the
 * same counts by a digest keyed with a key derived from the agency's signing key.
 * The file is created 0600; commits are synchronous (FULL), so a report the
 * command reports as spooled survives a crash or a power cut.  SQLite only: the
 * spool is the agency's local file, not an aggregator's database (moved here from
 * engine/submit/spool.c unchanged).
 */
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/spool.h"

struct pa_spool {
    sqlite3 *pDb;
    char zPath[1024];
};

static const char g_zSchema[] =
    "CREATE TABLE IF NOT EXISTS spool("
    " id INTEGER PRIMARY KEY,"
    " task_id BLOB NOT NULL,"
    " agency_id TEXT NOT NULL,"
    " period TEXT NOT NULL,"
    " report_id BLOB NOT NULL UNIQUE,"
    " counts_mac BLOB NOT NULL,"
    " state TEXT NOT NULL CHECK(state IN ('pending','sent','acknowledged','refused','superseded')),"
    " corrects BLOB,"
    " created_at INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_try_at INTEGER,"
    " acked_at INTEGER,"
    " last_error TEXT,"
    " report BLOB);"
    "CREATE INDEX IF NOT EXISTS spool_batch ON spool(task_id, agency_id, period);";

const char *pa_spool_state_name(pa_spool_state e)
{
    switch (e) {
    case PA_SPOOL_PENDING: return "pending";
    case PA_SPOOL_SENT: return "sent";
    case PA_SPOOL_ACKNOWLEDGED: return "acknowledged";
    case PA_SPOOL_REFUSED: return "refused";
    case PA_SPOOL_SUPERSEDED: return "superseded";
    }
    return "?";
}

static pa_spool_state state_parse(const char *z)
{
    for (int e = PA_SPOOL_PENDING; e <= PA_SPOOL_SUPERSEDED; e++)
        if (z != NULL && strcmp(z, pa_spool_state_name((pa_spool_state)e)) == 0)
            return (pa_spool_state)e;
    return PA_SPOOL_REFUSED;
}

static int db_fail(pa_spool *p, const char *zWhat)
{
    return pa_fail(PA_ESTORE, "spool %s: %s: %s", p->zPath, zWhat, sqlite3_errmsg(p->pDb));
}

int pa_spool_open(pa_spool **pp, const char *zPath)
{
    pa_spool *p;
    struct stat st;
    int fd;

    *pp = NULL;
    fd = open(zPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return pa_fail(PA_EIO, "spool: cannot open or create %s", zPath);
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return pa_fail(PA_EAUTH, "spool: %s is readable by others (mode %o); chmod 600 it", zPath,
                       (unsigned)(st.st_mode & 0777));
    }
    close(fd);
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "spool: out of memory");
    snprintf(p->zPath, sizeof p->zPath, "%s", zPath);
    if (sqlite3_open_v2(zPath, &p->pDb, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(p->pDb, 10000) != SQLITE_OK ||
        sqlite3_exec(p->pDb, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(p->pDb, g_zSchema, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = db_fail(p, "open");
        pa_spool_close(p);
        return rc;
    }
    *pp = p;
    return PA_OK;
}

void pa_spool_close(pa_spool *p)
{
    if (p == NULL)
        return;
    sqlite3_close(p->pDb);
    free(p);
}

void pa_spool_entry_free(pa_spool_entry *e)
{
    free(e->pReport);
    e->pReport = NULL;
    e->nReport = 0;
}

void pa_spool_entries_free(pa_spool_entry *a, size_t n)
{
    for (size_t i = 0; a != NULL && i < n; i++)
        pa_spool_entry_free(&a[i]);
    free(a);
}

#define COLUMNS                                                                                    \
    "id, task_id, agency_id, period, report_id, counts_mac, state, corrects, created_at,"          \
    " attempts, last_try_at, acked_at, last_error, report"

static void blob(uint8_t *pOut, size_t n, sqlite3_stmt *s, int i)
{
    memset(pOut, 0, n);
    if (sqlite3_column_bytes(s, i) == (int)n)
        memcpy(pOut, sqlite3_column_blob(s, i), n);
}

static int read_row(sqlite3_stmt *s, pa_spool_entry *e)
{
    const unsigned char *z;
    memset(e, 0, sizeof *e);
    e->iRow = sqlite3_column_int64(s, 0);
    blob(e->aTaskId, 32, s, 1);
    z = sqlite3_column_text(s, 2);
    snprintf(e->zAgency, sizeof e->zAgency, "%s", z ? (const char *)z : "");
    z = sqlite3_column_text(s, 3);
    snprintf(e->zPeriod, sizeof e->zPeriod, "%s", z ? (const char *)z : "");
    blob(e->aReportId, PA_REPORT_ID_SIZE, s, 4);
    blob(e->aCountsMac, 32, s, 5);
    e->eState = state_parse((const char *)sqlite3_column_text(s, 6));
    e->bCorrection = sqlite3_column_type(s, 7) == SQLITE_BLOB;
    blob(e->aCorrects, PA_REPORT_ID_SIZE, s, 7);
    e->tCreated = sqlite3_column_int64(s, 8);
    e->nAttempt = (unsigned)sqlite3_column_int(s, 9);
    e->tLastTry = sqlite3_column_int64(s, 10);
    e->tAcked = sqlite3_column_int64(s, 11);
    z = sqlite3_column_text(s, 12);
    snprintf(e->zLastError, sizeof e->zLastError, "%s", z ? (const char *)z : "");
    if (sqlite3_column_type(s, 13) == SQLITE_BLOB && sqlite3_column_bytes(s, 13) > 0) {
        e->nReport = (size_t)sqlite3_column_bytes(s, 13);
        e->pReport = malloc(e->nReport);
        if (e->pReport == NULL)
            return pa_fail(PA_ENOMEM, "spool: out of memory");
        memcpy(e->pReport, sqlite3_column_blob(s, 13), e->nReport);
    }
    return PA_OK;
}

int pa_spool_current(pa_spool *p, const uint8_t aTaskId[32], const char *zAgency, const char *zPeriod,
                     pa_spool_entry *e)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(p->pDb, "SELECT " COLUMNS " FROM spool WHERE task_id = ?1 AND agency_id = ?2"
                                   " AND period = ?3 AND state IN ('pending','sent','acknowledged')"
                                   " ORDER BY id DESC LIMIT 1", -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "select");
    sqlite3_bind_blob(s, 1, aTaskId, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, zAgency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, zPeriod, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        rc = read_row(s, e);
    else if (rc == SQLITE_DONE)
        rc = PA_ENOTFOUND;
    else
        rc = db_fail(p, "select");
    sqlite3_finalize(s);
    return rc;
}

static int exec(pa_spool *p, const char *zSql)
{
    return sqlite3_exec(p->pDb, zSql, NULL, NULL, NULL) == SQLITE_OK ? PA_OK : db_fail(p, zSql);
}

int pa_spool_add(pa_spool *p, pa_spool_entry *e)
{
    sqlite3_stmt *s = NULL;
    int rc = PA_OK;

    e->eState = PA_SPOOL_PENDING;
    e->tCreated = (int64_t)time(NULL);
    if (sqlite3_prepare_v2(p->pDb, "INSERT INTO spool(task_id, agency_id, period, report_id,"
                                   " counts_mac, state, corrects, created_at, report)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8)", -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "insert");
    sqlite3_bind_blob(s, 1, e->aTaskId, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->zAgency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->zPeriod, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, e->aReportId, PA_REPORT_ID_SIZE, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, e->aCountsMac, 32, SQLITE_STATIC);
    if (e->bCorrection)
        sqlite3_bind_blob(s, 6, e->aCorrects, PA_REPORT_ID_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, e->tCreated);
    sqlite3_bind_blob(s, 8, e->pReport, (int)e->nReport, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(p, "insert");
    e->iRow = sqlite3_last_insert_rowid(p->pDb);
    sqlite3_finalize(s);
    return rc;
}

int pa_spool_mark(pa_spool *p, pa_spool_entry *e, pa_spool_state eState, const char *zError)
{
    sqlite3_stmt *s;
    int64_t tNow = (int64_t)time(NULL);
    int rc = PA_OK;

    if (sqlite3_prepare_v2(p->pDb, "UPDATE spool SET state = ?2, attempts = attempts + 1, last_try_at = ?3,"
                                   " acked_at = ?4, last_error = ?5,"
                                   " report = CASE WHEN ?2 = 'acknowledged' THEN NULL ELSE report END"
                                   " WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
        return db_fail(p, "update");
    e->eState = eState;
    e->nAttempt++;
    e->tLastTry = tNow;
    if (eState == PA_SPOOL_ACKNOWLEDGED)
        e->tAcked = tNow;
    snprintf(e->zLastError, sizeof e->zLastError, "%s", zError ? zError : "");
    PA_GUARD(exec(p, "BEGIN IMMEDIATE"));
    sqlite3_bind_int64(s, 1, e->iRow);
    sqlite3_bind_text(s, 2, pa_spool_state_name(eState), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, tNow);
    if (e->tAcked)
        sqlite3_bind_int64(s, 4, e->tAcked);
    if (zError != NULL && zError[0] != '\0')
        sqlite3_bind_text(s, 5, zError, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(p, "update");
    sqlite3_finalize(s);
    s = NULL;
    /* the leader replaced the older report: only now is it superseded here */
    if (rc == PA_OK && eState == PA_SPOOL_ACKNOWLEDGED &&
        sqlite3_prepare_v2(p->pDb, "UPDATE spool SET state = 'superseded', report = NULL"
                                   " WHERE task_id = ?1 AND agency_id = ?2 AND period = ?3 AND id < ?4"
                                   " AND state IN ('pending','sent','acknowledged')", -1, &s, NULL) != SQLITE_OK)
        rc = db_fail(p, "update");
    if (s != NULL) {
        sqlite3_bind_blob(s, 1, e->aTaskId, 32, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, e->zAgency, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, e->zPeriod, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, e->iRow);
        if (sqlite3_step(s) != SQLITE_DONE)
            rc = db_fail(p, "update");
        sqlite3_finalize(s);
    }
    if (rc == PA_OK)
        return exec(p, "COMMIT");
    sqlite3_exec(p->pDb, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int pa_spool_list(pa_spool *p, const uint8_t *aTaskId, int bToSendOnly, pa_spool_entry **pa, size_t *pn)
{
    sqlite3_stmt *s;
    pa_spool_entry *a = NULL;
    size_t n = 0, nCap = 0;
    int rc = PA_OK, r;

    *pa = NULL;
    *pn = 0;
    if (sqlite3_prepare_v2(p->pDb, "SELECT " COLUMNS " FROM spool WHERE (?1 IS NULL OR task_id = ?1)"
                                   " AND (?2 = 0 OR state IN ('pending','sent')) ORDER BY id", -1, &s, NULL)
        != SQLITE_OK)
        return db_fail(p, "select");
    if (aTaskId != NULL)
        sqlite3_bind_blob(s, 1, aTaskId, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, bToSendOnly);
    while (rc == PA_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == nCap) {
            size_t nNew = nCap ? 2 * nCap : 16;
            pa_spool_entry *aNew = realloc(a, nNew * sizeof *a);
            if (aNew == NULL) {
                rc = pa_fail(PA_ENOMEM, "spool: out of memory");
                break;
            }
            a = aNew;
            nCap = nNew;
        }
        rc = read_row(s, &a[n]);
        n++;
    }
    if (rc == PA_OK && r != SQLITE_DONE)
        rc = db_fail(p, "select");
    sqlite3_finalize(s);
    if (rc != PA_OK) {
        pa_spool_entries_free(a, n);
        return rc;
    }
    *pa = a;
    *pn = n;
    return PA_OK;
}
