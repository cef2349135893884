/*
 * Reports in the SQLite store (include/privagg/store.h): the counts over a
 * batch that collection checks (agencies, unfinished reports).
 */
#include <string.h>

#include "common/guard.h"
#include "store/internal.h"

static int count_of(pa_store *pStore, const char *zSql, const uint8_t aTaskId[32], const char *zPeriod,
                    const char *zPartition, uint64_t *pn)
{
    sqlite3_stmt *s;
    int src;
    PA_GUARD(pa_store_stmt(pStore, &s, zSql));
    PA_BIND_BLOB(s, 1, aTaskId, 32);
    PA_BIND_TEXT(s, 2, zPeriod);
    sqlite3_bind_int(s, 3, strcmp(zPartition, "state") == 0);
    PA_BIND_TEXT(s, 4, zPartition);
    src = sqlite3_step(s);
    *pn = src == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
    src = src == SQLITE_ROW ? PA_OK : pa_store_fail(pStore, "reports");
    pa_store_stmt_put(pStore, s);
    return src;
}

int pa_store_reports_agencies(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                              const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(DISTINCT agency_id) FROM reports WHERE task_id = ?1"
                    " AND period = ?2 AND (?3 OR partition = ?4) AND state = 'accepted'",
                    aTaskId, zPeriod, zPartition, pn);
}

int pa_store_reports_unfinished(pa_store *pStore, const uint8_t aTaskId[32], const char *zPeriod,
                                const char *zPartition, uint64_t *pn)
{
    return count_of(pStore,
                    "SELECT count(*) FROM reports WHERE task_id = ?1 AND period = ?2"
                    " AND (?3 OR partition = ?4) AND state IN ('pending','aggregating')",
                    aTaskId, zPeriod, zPartition, pn);
}
