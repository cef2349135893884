/*
 * privagg submit — what an agency's machine does with one month of incident
 * records: read the export (streaming, bounded memory), map every row to a cell
 * of the task's schema, apply the task's contribution bounds per incident record
 * (the privacy unit), and turn the counts into one report: Prio3 shard (the
 * validity proof goes inside), seal each input share to its aggregator with HPKE,
 * sign with the agency's Ed25519 key, encode.  The sealed report goes to a local
 * SQLite spool before it is uploaded, so an outage loses nothing and a re-run
 * sends the same report.  Nothing but the sealed shares and the public share
 * leaves the agency.  docs/submit.md has the definitions and the sensitivity
 * argument.
 */
#ifndef PRIVAGG_SUBMIT_H
#define PRIVAGG_SUBMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "privagg/http.h"
#include "privagg/keys.h"
#include "privagg/report.h"
#include "privagg/spool.h"
#include "privagg/task.h"

/*
 * One report for pAgency's counts of zPeriod ("YYYY-MM").  aCounts has one value
 * per cell (pTask->nCell; Prio3Count/Sum: 1 value; Histogram: 1 value, the bucket
 * index), each within the task's bounds.  *ppMsg is malloc'ed.
 * Errors: PA_EINVAL naming the cell, value and limit (nothing is produced),
 * PA_EAUTH (the keys are not this agency's in the task), PA_ENOMEM.
 */
int pa_submit_report(const pa_task *pTask, const pa_keys *pAgency, const char *zPeriod,
                     const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg, size_t *pnMsg);

/* pa_submit_report(), also giving the report's (random) id. */
int pa_submit_report_id(const pa_task *pTask, const pa_keys *pAgency, const char *zPeriod,
                        const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg, size_t *pnMsg,
                        uint8_t aReportId[PA_REPORT_ID_SIZE]);

/* The same for a task that names an agency registry (pReg: the registry, verified
 * against the task; NULL for a task listing its agencies): the agency's key must be
 * the one the registry holds for zPeriod, and the report's partition is its
 * county's (PA_EAUTH otherwise, naming why: revoked, not yet enrolled, ...). */
struct pa_registry;
int pa_submit_report_reg(const pa_task *pTask, const struct pa_registry *pReg, const pa_keys *pAgency,
                         const char *zPeriod, const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg,
                         size_t *pnMsg, uint8_t aReportId[PA_REPORT_ID_SIZE]);

/* ------------------------------------------------------------------------ */
/* Mapping: record columns and values to the task's cells.                  */

/*
 * The mapping file (JSON) names the export's columns and which values mean which
 * status and role category; offense codes map to offense categories through the
 * NIBRS code table (data/nibrs_offense_buckets.csv).  The task must have the
 * dimensions "offense", "status" and "role" (any order) and be Prio3SumVec.
 * Values and column names match case-insensitively, after trimming blanks.
 */
typedef struct pa_records_mapping pa_records_mapping;

/* The documented default mapping, JSON text (static). */
const char *pa_records_default_mapping(void);

/*
 * Parse zJson (NULL: the default) against the task and the offense table at
 * zOffenseCsv.  Every problem names the JSON path or the table line, and an
 * unknown category lists the task's.  Errors: PA_EDECODE, PA_EINVAL, PA_EIO,
 * PA_ENOMEM.  Free with pa_records_mapping_free().
 */
int pa_records_mapping_parse(pa_records_mapping **ppMap, const pa_task *pTask, const char *zJson,
                             size_t nJson, const char *zOffenseCsv);
/* The same from a file (zPath NULL: the default mapping). */
int pa_records_mapping_load(pa_records_mapping **ppMap, const pa_task *pTask, const char *zPath,
                            const char *zOffenseCsv);
void pa_records_mapping_free(pa_records_mapping *pMap);

/* ------------------------------------------------------------------------ */
/* Records: the export to a bounded count vector.                           */

/* What happened to rows that did not simply count.  "bad" kinds count towards
 * the bad-row share; the others are rules of the schema or of the bounds. */
typedef enum {
    /* bad rows */
    PA_REC_FIELDS = 0,      /* field count differs from the header's */
    PA_REC_NO_ID,           /* empty incident id */
    PA_REC_DATE,            /* incident date does not parse */
    PA_REC_DATE_DIFFERS,    /* date differs from the incident's first row */
    PA_REC_OFFENSE,         /* offense code not in the NIBRS table */
    PA_REC_STATUS,          /* status value not in the mapping */
    PA_REC_ROLE,            /* role value not in the mapping */
    PA_REC_SPLIT,           /* incident id reappears after another incident */
    PA_REC_BAD_END,         /* end of the bad kinds */
    /* excluded by rule (not bad) */
    PA_REC_EXCLUDED_OFFENSE = PA_REC_BAD_END, /* bucket 0, e.g. 09C justifiable homicide */
    PA_REC_NO_VICTIM,       /* victim of an offense with no person victims (Group B, society) */
    PA_REC_IGNORED_ROLE,    /* role the mapping ignores (e.g. witness) */
    PA_REC_EARLIER,         /* row of an incident of an earlier month (late record) */
    PA_REC_LATER,           /* row of an incident of a later month */
    /* bounds */
    PA_REC_REPEAT,          /* row adds a cell its incident already counts (once per cell) */
    PA_REC_DROPPED,         /* row whose every cell was dropped by the cells-per-record bound */
    PA_REC_KIND_COUNT
} pa_records_kind;

#define PA_RECORDS_FIRST_LINES 5

typedef struct {
    uint64_t nRow;                               /* rows of this kind */
    uint64_t aLine[PA_RECORDS_FIRST_LINES];      /* the first lines (1 = header) */
    size_t nLine;
    char zExample[640];                          /* the first one, explained */
} pa_records_issue;

typedef struct {
    uint64_t nRow;                 /* data rows read */
    uint64_t nRecord;              /* incident records seen (every period) */
    uint64_t nRecordCounted;       /* records of the period that touch at least one cell */
    uint64_t nRecordEarlier, nRecordLater;  /* records of other months */
    uint64_t nRecordCapped;        /* records that touched more than k cells */
    uint64_t nCellDropped;         /* cell contributions dropped by the k bound */
    uint64_t nCellClipped;         /* cells whose total reached the task's maximum */
    uint64_t nClippedAmount;       /* contributions removed by that clip */
    uint64_t nBad;                 /* rows of the bad kinds */
    char zEarliestOther[8], zLatestOther[8];   /* months of other periods seen, "" if none */
    pa_records_issue aIssue[PA_REC_KIND_COUNT];
} pa_records_summary;

/* 1 if the kind counts towards the bad-row share. */
int pa_records_kind_bad(pa_records_kind e);
/* Short stable name ("unknown_offense", ...) and a sentence for people. */
const char *pa_records_kind_name(pa_records_kind e);
const char *pa_records_kind_text(pa_records_kind e);

/* Called every 64 Ki rows and at the end: bytes read so far. */
typedef void (*pa_records_progress)(void *pCtx, uint64_t nBytes, uint64_t nRow);

/*
 * Read an export from f (zName names it in messages) and fill aCounts[pTask->nCell]
 * with the counts of zPeriod after the bounds (docs/submit.md):
 *   - a record is one incident: consecutive rows with the same incident id;
 *     an id that comes back after another incident is refused (PA_REC_SPLIT);
 *   - it belongs to the month of its incident date, and counts only there;
 *   - it adds at most 1 (max_per_cell) to a cell however many rows name it;
 *   - it touches at most max_cells_per_record cells: the lowest cell indexes
 *     are kept (offense is the first dimension, in bucket order: the most
 *     serious offenses first), the rest are dropped and counted;
 *   - every cell total is clipped to the task's max_measurement.
 * Rows that do not count are counted in *pSummary by kind with their first line
 * numbers.  Memory is independent of the file's size.
 * Errors (nothing is counted; the message names the line): PA_EDECODE for a
 * header without a mapped column, invalid UTF-8, a quote left open, a line
 * longer than 1 MiB, more than 256 columns; PA_EIO.
 */
int pa_records_tally(const pa_records_mapping *pMap, const pa_task *pTask, FILE *f, const char *zName,
                     const char *zPeriod, uint64_t *aCounts, pa_records_summary *pSummary,
                     pa_records_progress xProgress, void *pCtx);

/*
 * pa_records_tally() on the file zPath ("-" = standard input), as `privagg submit
 * --records` reads it.  Errors: as pa_records_tally(); PA_EIO when the file
 * cannot be opened (counts and summary zeroed).
 */
int pa_records_tally_file(const pa_records_mapping *pMap, const pa_task *pTask, const char *zPath,
                          const char *zPeriod, uint64_t *aCounts, pa_records_summary *pSummary,
                          pa_records_progress xProgress, void *pCtx);

/* PA_ERANGE (the message gives both shares) when more than rMaxBadShare of the
 * summary's rows are bad: the submitter then sends nothing.  Else PA_OK. */
int pa_records_check_bad_share(const pa_records_summary *pSummary, double rMaxBadShare);

/* ------------------------------------------------------------------------ */
/* Spool: sealed reports kept until the leader acknowledges them.           */

/* The spool's storage (a SQLite file of the agency's, behind the store layer:
 * engine/store/spool_store.c) is declared in privagg/spool.h. */

/*
 * A keyed digest of a count vector (BLAKE2b-256 keyed by a key derived from the
 * agency's secret signing key, over the task id, period and counts): lets a re-run
 * recognise the same counts without the spool holding them in the clear.
 */
void pa_spool_counts_mac(uint8_t aMac[32], const pa_keys *pAgency, const uint8_t aTaskId[32],
                         const char *zPeriod, const uint64_t *aCounts, size_t nCounts);

/* ------------------------------------------------------------------------ */
/* Upload with retry.                                                       */

typedef enum {
    PA_SEND_ACKNOWLEDGED = 0,  /* the leader stored it (now, or earlier: a replay answer) */
    PA_SEND_LATER,             /* unreachable, timeout, 5xx: still spooled */
    PA_SEND_REFUSED,           /* 4xx: the report is refused for good */
    PA_SEND_CONFIG,            /* 401/403/404: the task or key does not match the leader's */
} pa_send_outcome;

typedef struct {
    unsigned nAttempt;         /* attempts in this run (>= 1) */
    unsigned nBackoffMs;       /* first wait; doubles after each attempt */
    void (*xSleepMs)(unsigned ms);  /* NULL: nanosleep (a seam for tests) */
} pa_send_opts;

/*
 * Upload the entry's report to the task's leader with retry and exponential
 * backoff, recording every outcome in the spool.  *peOutcome says what to do
 * next; the leader's or the transport's message is in pEntry->zLastError.
 * Errors (apart from the outcome): PA_ESTORE when the spool cannot be written.
 */
int pa_send_spooled(pa_spool *pSpool, pa_http_client *pClient, const pa_task *pTask, pa_spool_entry *pEntry,
                    const pa_send_opts *pOpts, pa_send_outcome *peOutcome);

#endif
