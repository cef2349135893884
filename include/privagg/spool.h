/*
 * The agency's spool: sealed, signed reports kept until the leader acknowledges
 * them, in a small SQLite file of the agency's (0600, synchronous commits).  The
 * storage behind this interface is engine/store/spool_store.c, so that no SQL
 * lives outside engine/store/; the spool is SQLite only (it is the agency's local
 * file, never a shared database).  The submitter's use of it (the counts digest,
 * upload with retry) is in privagg/submit.h.
 */
#ifndef PRIVAGG_SPOOL_H
#define PRIVAGG_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/report.h"

typedef struct pa_spool pa_spool;

typedef enum {
    PA_SPOOL_PENDING = 1,   /* written, not tried yet */
    PA_SPOOL_SENT,          /* tried, no acknowledgement yet (unreachable, 5xx, 401/403/404) */
    PA_SPOOL_ACKNOWLEDGED,  /* the leader stored it */
    PA_SPOOL_REFUSED,       /* the leader refused it (4xx): never retried */
    PA_SPOOL_SUPERSEDED,    /* replaced by an acknowledged correction */
} pa_spool_state;

typedef struct {
    int64_t iRow;
    uint8_t aTaskId[32];
    char zAgency[65];
    char zPeriod[8];
    uint8_t aReportId[PA_REPORT_ID_SIZE];
    uint8_t aCountsMac[32];
    pa_spool_state eState;
    int64_t tCreated, tLastTry, tAcked;   /* Unix seconds, 0 = never */
    unsigned nAttempt;
    int bCorrection;
    uint8_t aCorrects[PA_REPORT_ID_SIZE];
    char zLastError[400];
    uint8_t *pReport;                     /* malloc'ed sealed report, NULL once acknowledged */
    size_t nReport;
} pa_spool_entry;

const char *pa_spool_state_name(pa_spool_state e);

/* Open (create: mode 0600) the spool at zPath.  Errors: PA_ESTORE, PA_EIO. */
int pa_spool_open(pa_spool **ppSpool, const char *zPath);
void pa_spool_close(pa_spool *pSpool);

/* The newest entry of (task, agency, period) that still stands (pending, sent or
 * acknowledged): PA_OK and *pEntry, or PA_ENOTFOUND. */
int pa_spool_current(pa_spool *pSpool, const uint8_t aTaskId[32], const char *zAgency, const char *zPeriod,
                     pa_spool_entry *pEntry);
/* Add a pending entry (committed and synced before this returns). */
int pa_spool_add(pa_spool *pSpool, pa_spool_entry *pEntry);
/* Record an attempt's outcome.  Once acknowledged the report's bytes are dropped
 * and every older entry of the same (task, agency, period) becomes superseded
 * (the leader replaced it), in the same transaction. */
int pa_spool_mark(pa_spool *pSpool, pa_spool_entry *pEntry, pa_spool_state eState, const char *zError);
/* Every entry (oldest first), or those of one task still to send (aTaskId not
 * NULL); *paEntry malloc'ed, free with pa_spool_entries_free. */
int pa_spool_list(pa_spool *pSpool, const uint8_t *aTaskId, int bToSendOnly, pa_spool_entry **paEntry,
                  size_t *pnEntry);
void pa_spool_entry_free(pa_spool_entry *pEntry);
void pa_spool_entries_free(pa_spool_entry *aEntry, size_t nEntry);

#endif
