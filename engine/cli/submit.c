/*
 * privagg submit — an agency sends one month of counts (thin over engine/submit
 * and engine/client).  From an incident export (--records, with the contribution
 * bounds of the task) or from counts the agency tallied itself (--counts); the
 * sealed report goes to the local spool first, then to the leader with retry;
 * --retry sends what is still spooled, --status lists it, --dry-run shows the
 * count vector and sends nothing.  Only the Prio3 shares, sealed to each
 * aggregator, leave.  The exit codes let cron tell "try later" from "give up"
 * (docs/submit.md).
 */
#include <jansson.h>
#include <fcntl.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "privagg/submit.h"

/* Exit codes (sysexits.h values where one fits; docs/submit.md). */
#define EXIT_DONE 0      /* acknowledged, nothing left to send, or a dry run */
#define EXIT_FAILED 1    /* a local failure: out of memory, the spool cannot be written */
#define EXIT_USAGE 2     /* bad options */
#define EXIT_REFUSED 65  /* EX_DATAERR: fix the input (or the leader refused the report) */
#define EXIT_LATER 75    /* EX_TEMPFAIL: spooled, run --retry later */
#define EXIT_CONFIG 78   /* EX_CONFIG: task, key, mapping or leader configuration */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg submit --task FILE --key AGENCY.key (--records FILE.csv | --counts FILE.csv)\n"
            "                      [--period YYYY-MM] [--dry-run] [--json] [--correct] [--ca CERT.pem]\n"
            "                      [--mapping FILE.json] [--offenses FILE.csv | --data DIR]\n"
            "                      [--max-bad-share R] [--allow-empty] [--allow-open-period]\n"
            "                      [--summary FILE.json] [--spool FILE] [--attempts N] [--backoff-ms MS]\n"
            "                      [--no-progress] [--leader-pub FILE] [--helper-pub FILE] [--offline-keys]\n"
            "                      [--registry FILE]\n"
            "       privagg submit --retry --task FILE (--key AGENCY.key | --spool FILE) [--ca CERT.pem] [--json]\n"
            "       privagg submit --status (--key AGENCY.key | --spool FILE) [--json]\n"
            "       privagg submit --print-mapping\n"
            "\n"
            "Reads one month of incident records (one row per person involved in an\n"
            "offense: incident id, NIBRS offense code, role, immigration status, incident\n"
            "date), maps them to the task's cells, applies the task's bounds per incident\n"
            "(once per cell, at most max_cells_per_record cells, each cell clipped to\n"
            "max_measurement), prints what it left out, and sends only a Prio3 report\n"
            "sealed to the two aggregators.  The report is written to the spool first:\n"
            "a leader that is down loses nothing (--retry sends it later), and a re-run\n"
            "with the same counts sends the same report, never a second one.\n"
            "\n"
            "  --records FILE    incident export, CSV, UTF-8, rows of one incident together\n"
            "                    (\"-\" = standard input); the rules are in docs/submit.md\n"
            "  --counts FILE     counts tallied by the agency: offense,status,role,count or\n"
            "                    cell,count; unlisted cells are 0\n"
            "  --period YYYY-MM  the month (default: the last complete month); an incident\n"
            "                    counts in the month of its incident date only\n"
            "  --mapping FILE    columns and value names of the export (default: see\n"
            "                    --print-mapping); values match case-insensitively\n"
            "  --offenses FILE   NIBRS code table (default DIR/nibrs_offense_buckets.csv)\n"
            "  --data DIR        shipped data folder (default: the installed one, see privagg task --help)\n"
            "  --dry-run         print the count vector and the report size; send and store\n"
            "                    nothing\n"
            "  --json            one JSON object on standard output (dry run: with \"counts\")\n"
            "  --correct         replace the report of this period by one with new counts\n"
            "                    (the task must allow corrections and the batch be unreleased)\n"
            "  --max-bad-share R refuse when more than this share of rows is bad (default 0.02)\n"
            "  --allow-empty     send an all-zero report when no incident counts (a month with\n"
            "                    no incidents); refused otherwise\n"
            "  --allow-open-period  submit the current, unfinished month\n"
            "  --summary FILE    also write the summary and the counts to FILE (mode 0600);\n"
            "                    the only place plain counts are written\n"
            "  --spool FILE      the spool (default: the key file's path + .spool)\n"
            "  --attempts N      uploads tried in this run (default 4), waiting --backoff-ms\n"
            "                    (default 1000), doubled each time\n"
            "  --ca CERT.pem     trust anchor for the leader's certificate (default: system)\n"
            "  --leader-pub FILE, --helper-pub FILE  seal to this aggregator's current HPKE\n"
            "                    key (its PREFIX.pub, handed out after keygen --rotate)\n"
            "                    instead of the task's; the task and its id stay\n"
            "  --offline-keys    seal to the task's keys without asking the leader.  By\n"
            "                    default submit GETs the leader's /hpke_config, verifies\n"
            "                    each aggregator's document with its signing key from the\n"
            "                    task and seals to its current key, never to one marked\n"
            "                    new (after a key rotation the task still names the old\n"
            "                    one); a document that does not verify, or of a format\n"
            "                    this build does not read, stops it (exit 78); a leader\n"
            "                    that cannot be reached or serves none: the task's keys\n"
            "  --registry FILE   the agency registry, for a task that names one (task show\n"
            "                    says so): the key must be the one it holds for the period,\n"
            "                    the partition is the one of the agency's county\n"
            "  --no-progress     no progress bar (there is none when stderr is not a terminal)\n"
            "\n"
            "exit status:\n"
            "  0   done (acknowledged, nothing left to send, or a dry run)\n"
            "  1   other local failure\n"
            "  2   bad options\n"
            "  65  refused: fix the input (bad rows, empty file, open or future period,\n"
            "      counts that differ from a sent report without --correct, the leader\n"
            "      refused it)\n"
            "  75  try again later: the report is spooled, run --retry\n"
            "  78  configuration error (task, key, mapping, file not found, leader does\n"
            "      not know the task or key)\n"
            "\n"
            "examples:\n"
            "  privagg submit --print-mapping > mapping.json\n"
            "  privagg submit --task task.json --key keys/MO0010000.key --records nov.csv \\\n"
            "                 --mapping mapping.json --period 2026-11 --dry-run\n"
            "  privagg submit --task task.json --key keys/MO0010000.key --records nov.csv \\\n"
            "                 --mapping mapping.json --period 2026-11 --ca tls/cert.pem\n"
            "  privagg submit --task task.json --key keys/MO0010000.key --counts nov-counts.csv \\\n"
            "                 --period 2026-11 --ca tls/cert.pem\n"
            "  privagg submit --task task.json --key keys/MO0010000.key --records nov-fixed.csv \\\n"
            "                 --period 2026-11 --correct --ca tls/cert.pem\n"
            "  privagg submit --retry --task task.json --key keys/MO0010000.key --ca tls/cert.pem\n"
            "  privagg submit --status --key keys/MO0010000.key\n"
            "  cron: 15 6 2 * *  privagg submit --task ... --key ... --records /exports/last-month.csv\n"
            "       0 * * * *    privagg submit --retry --task ... --key ...\n");
}

typedef struct {
    pa_cli_opt *o;
    size_t n;
    int bJson;
    json_t *pOut;            /* the --json object */
    const char *zOutcome;
} run;

static const char *val(const run *r, const char *z)
{
    return pa_cli_value(r->o, r->n, z);
}

static int seen(const run *r, const char *z)
{
    return pa_cli_seen(r->o, r->n, z);
}

/* Report a failure (human or JSON) and return the exit code. */
static int fail(run *r, int iExit, const char *zWhat, int code)
{
    const char *zOutcome = iExit == EXIT_REFUSED ? "refused"
                           : iExit == EXIT_LATER ? "later"
                           : iExit == EXIT_CONFIG ? "configuration" : "failed";
    r->zOutcome = zOutcome;
    if (r->bJson) {
        json_object_set_new(r->pOut, "error", json_string(pa_error_detail()));
    } else {
        pa_cli_report(zWhat, code);
    }
    return iExit;
}

static void iso_time(char z[32], int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(z, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void month_of(char z[8], int iDelta)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    unsigned iYm = (unsigned)((tm.tm_year + 1900) * 12 + tm.tm_mon + iDelta);
    snprintf(z, 8, "%04u-%02u", iYm / 12 % 10000, iYm % 12 + 1);
}

/* ------------------------------------------------------------- progress bar */

typedef struct {
    uint64_t nTotal;
    const char *zName;
    struct timespec tLast;
    int bShown;
} progress;

static void on_progress(void *pCtx, uint64_t nBytes, uint64_t nRow)
{
    progress *p = pCtx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (p->bShown && (now.tv_sec - p->tLast.tv_sec) * 1000 + (now.tv_nsec - p->tLast.tv_nsec) / 1000000 < 200)
        return;
    p->tLast = now;
    p->bShown = 1;
    if (p->nTotal > 0) {
        unsigned pct = (unsigned)(nBytes * 100 / p->nTotal);
        char zBar[41];
        memset(zBar, '#', pct * 40 / 100);
        memset(zBar + pct * 40 / 100, '.', 40 - pct * 40 / 100);
        zBar[40] = '\0';
        fprintf(stderr, "\r%.40s [%s] %3u %% %llu rows", p->zName, zBar, pct > 100 ? 100 : pct,
                (unsigned long long)nRow);
    } else {
        fprintf(stderr, "\r%.40s: %llu rows", p->zName, (unsigned long long)nRow);
    }
    fflush(stderr);
}

/* ------------------------------------------------------------- summary */

static json_t *summary_json(const pa_records_summary *s, double rMaxBad)
{
    json_t *o = json_object(), *pIssues = json_object();
    json_object_set_new(o, "rows", json_integer((json_int_t)s->nRow));
    json_object_set_new(o, "incidents", json_integer((json_int_t)s->nRecord));
    json_object_set_new(o, "incidents_counted", json_integer((json_int_t)s->nRecordCounted));
    json_object_set_new(o, "incidents_earlier", json_integer((json_int_t)s->nRecordEarlier));
    json_object_set_new(o, "incidents_later", json_integer((json_int_t)s->nRecordLater));
    json_object_set_new(o, "incidents_capped", json_integer((json_int_t)s->nRecordCapped));
    json_object_set_new(o, "cells_dropped", json_integer((json_int_t)s->nCellDropped));
    json_object_set_new(o, "cells_clipped", json_integer((json_int_t)s->nCellClipped));
    json_object_set_new(o, "clipped_amount", json_integer((json_int_t)s->nClippedAmount));
    json_object_set_new(o, "bad_rows", json_integer((json_int_t)s->nBad));
    json_object_set_new(o, "bad_share", json_real(s->nRow ? (double)s->nBad / (double)s->nRow : 0));
    json_object_set_new(o, "max_bad_share", json_real(rMaxBad));
    for (int e = 0; e < PA_REC_KIND_COUNT; e++) {
        const pa_records_issue *p = &s->aIssue[e];
        if (p->nRow == 0)
            continue;
        json_t *pI = json_object(), *pLines = json_array();
        for (size_t i = 0; i < p->nLine; i++)
            json_array_append_new(pLines, json_integer((json_int_t)p->aLine[i]));
        json_object_set_new(pI, "rows", json_integer((json_int_t)p->nRow));
        json_object_set_new(pI, "bad", json_boolean(pa_records_kind_bad((pa_records_kind)e)));
        json_object_set_new(pI, "first_lines", pLines);
        json_object_set_new(pI, "example", json_string(p->zExample));
        json_object_set_new(pIssues, pa_records_kind_name((pa_records_kind)e), pI);
    }
    json_object_set_new(o, "issues", pIssues);
    return o;
}

static void summary_print(FILE *f, const pa_records_summary *s, const char *zPeriod, double rMaxBad, uint64_t k)
{
    fprintf(f, "records: %llu rows, %llu incidents; %llu incidents of %s counted", (unsigned long long)s->nRow,
            (unsigned long long)s->nRecord, (unsigned long long)s->nRecordCounted, zPeriod);
    if (s->nRecordEarlier || s->nRecordLater)
        fprintf(f, " (%llu of earlier and %llu of later months left out, %s..%s)",
                (unsigned long long)s->nRecordEarlier, (unsigned long long)s->nRecordLater, s->zEarliestOther,
                s->zLatestOther);
    fprintf(f, "\n");
    if (s->nRecordCapped)
        fprintf(f, "bounds: %llu incidents touched more than %llu cells: %llu cell contributions dropped\n",
                (unsigned long long)s->nRecordCapped, (unsigned long long)k, (unsigned long long)s->nCellDropped);
    if (s->nCellClipped)
        fprintf(f, "bounds: %llu cells reached the task's maximum: %llu contributions clipped\n",
                (unsigned long long)s->nCellClipped, (unsigned long long)s->nClippedAmount);
    fprintf(f, "bad rows: %llu of %llu (%.2f %%, the limit is %.2f %%)\n", (unsigned long long)s->nBad,
            (unsigned long long)s->nRow, s->nRow ? 100.0 * (double)s->nBad / (double)s->nRow : 0.0, 100.0 * rMaxBad);
    for (int e = 0; e < PA_REC_KIND_COUNT; e++) {
        const pa_records_issue *p = &s->aIssue[e];
        if (p->nRow == 0)
            continue;
        fprintf(f, "  %-22s %8llu  %s; lines", pa_records_kind_name((pa_records_kind)e),
                (unsigned long long)p->nRow, pa_records_kind_bad((pa_records_kind)e) ? "bad" : "left out");
        for (size_t i = 0; i < p->nLine; i++)
            fprintf(f, "%s %llu", i ? "," : "", (unsigned long long)p->aLine[i]);
        fprintf(f, "%s\n      %s\n", p->nRow > p->nLine ? ", ..." : "", p->zExample);
    }
}

static json_t *counts_json(const uint64_t *a, size_t n)
{
    json_t *p = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(p, json_integer((json_int_t)a[i]));
    return p;
}

static int write_private_json(const char *zPath, json_t *p)
{
    int fd = open(zPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f;
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        if (fd >= 0)
            close(fd);
        return pa_fail(PA_EIO, "--summary: cannot create %s", zPath);
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return pa_fail(PA_EIO, "--summary: cannot write %s", zPath);
    }
    int bOk = json_dumpf(p, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF;
    bOk &= fclose(f) == 0;
    return bOk ? PA_OK : pa_fail(PA_EIO, "--summary: cannot write %s", zPath);
}

/* ------------------------------------------------------------- sending */

static void receipt(run *r, const pa_spool_entry *e, const pa_task *t, const char *zNote)
{
    char zId[2 * PA_REPORT_ID_SIZE + 1], zAt[32] = "";
    sodium_bin2hex(zId, sizeof zId, e->aReportId, PA_REPORT_ID_SIZE);
    if (e->tAcked)
        iso_time(zAt, e->tAcked);
    if (r->bJson) {
        json_t *p = json_object();
        json_object_set_new(p, "report_id", json_string(zId));
        json_object_set_new(p, "agency", json_string(e->zAgency));
        json_object_set_new(p, "period", json_string(e->zPeriod));
        json_object_set_new(p, "state", json_string(pa_spool_state_name(e->eState)));
        json_object_set_new(p, "acknowledged_at", e->tAcked ? json_string(zAt) : json_null());
        json_object_set_new(p, "attempts", json_integer(e->nAttempt));
        json_object_set_new(p, "correction", json_boolean(e->bCorrection));
        json_object_set_new(p, "leader", json_string(t ? t->leader.zEndpoint : ""));
        json_object_set_new(p, "message", json_string(zNote ? zNote : e->zLastError));
        json_t *pArr = json_object_get(r->pOut, "receipts");
        if (pArr == NULL) {
            pArr = json_array();
            json_object_set_new(r->pOut, "receipts", pArr);
        }
        json_array_append_new(pArr, p);
        return;
    }
    if (e->eState == PA_SPOOL_ACKNOWLEDGED)
        printf("acknowledged: report %s, agency %s, period %s, by the leader at %s%s%s%s\n", zId, e->zAgency,
               e->zPeriod, zAt, e->bCorrection ? " (a correction)" : "", zNote ? "; " : "", zNote ? zNote : "");
    else
        fprintf(stderr, "privagg submit: %s: report %s, agency %s, period %s, %u attempt(s): %s\n",
                pa_spool_state_name(e->eState), zId, e->zAgency, e->zPeriod, e->nAttempt,
                zNote ? zNote : e->zLastError);
}

static int send_entry(run *r, pa_spool *pSpool, const pa_task *t, pa_spool_entry *e)
{
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    pa_send_opts so = {4, 1000, NULL};
    pa_send_outcome eOut;
    unsigned long long v;
    int rc;

    if (val(r, "--attempts") && pa_cli_uint("submit", "--attempts", val(r, "--attempts"), 1, 100, &v) == 0)
        so.nAttempt = (unsigned)v;
    if (val(r, "--backoff-ms") && pa_cli_uint("submit", "--backoff-ms", val(r, "--backoff-ms"), 1, 600000, &v) == 0)
        so.nBackoffMs = (unsigned)v;
    co.ca_file = val(r, "--ca");
    rc = pa_http_client_new(&c, &co);
    if (rc != PA_OK)
        return fail(r, EXIT_CONFIG, "submit", rc);
    rc = pa_send_spooled(pSpool, c, t, e, &so, &eOut);
    pa_http_client_free(&c);
    if (rc != PA_OK)
        return fail(r, EXIT_FAILED, "submit", rc);
    switch (eOut) {
    case PA_SEND_ACKNOWLEDGED:
        receipt(r, e, t, e->zLastError[0] ? e->zLastError : NULL);
        return EXIT_DONE;
    case PA_SEND_LATER:
        receipt(r, e, t, NULL);
        if (!r->bJson)
            fprintf(stderr, "privagg submit: the report is spooled; `privagg submit --retry` sends it "
                            "(exit %d: try again later)\n", EXIT_LATER);
        r->zOutcome = "later";
        return EXIT_LATER;
    case PA_SEND_CONFIG:
        receipt(r, e, t, NULL);
        r->zOutcome = "configuration";
        return EXIT_CONFIG;
    default:
        receipt(r, e, t, NULL);
        r->zOutcome = "refused";
        return EXIT_REFUSED;
    }
}

static const char *spool_path(const run *r, char *zBuf, size_t nBuf)
{
    if (val(r, "--spool"))
        return val(r, "--spool");
    if (!val(r, "--key"))
        return NULL;
    snprintf(zBuf, nBuf, "%s.spool", val(r, "--key"));
    return zBuf;
}

/* ------------------------------------------------------------- modes */

static int do_status(run *r)
{
    char zBuf[4096];
    const char *zSpool = spool_path(r, zBuf, sizeof zBuf);
    pa_spool *p;
    pa_spool_entry *a;
    size_t n;
    int rc;

    if (zSpool == NULL) {
        fprintf(stderr, "privagg submit: --status needs --key or --spool\n");
        return EXIT_USAGE;
    }
    if (access(zSpool, F_OK) != 0) {
        if (!r->bJson)
            printf("spool %s: no reports yet\n", zSpool);
        return EXIT_DONE;
    }
    rc = pa_spool_open(&p, zSpool);
    if (rc == PA_OK)
        rc = pa_spool_list(p, NULL, 0, &a, &n);
    if (rc != PA_OK) {
        pa_spool_close(p);
        return fail(r, EXIT_CONFIG, "submit --status", rc);
    }
    if (!r->bJson)
        printf("%-9s %-7s %-12s %-32s %-8s %-20s %s\n", "agency", "period", "state", "report id", "attempts",
               "acknowledged", "last answer");
    json_t *pArr = json_array();
    for (size_t i = 0; i < n; i++) {
        char zId[33], zAt[32] = "", zTask[65];
        sodium_bin2hex(zId, sizeof zId, a[i].aReportId, 16);
        sodium_bin2hex(zTask, sizeof zTask, a[i].aTaskId, 32);
        if (a[i].tAcked)
            iso_time(zAt, a[i].tAcked);
        if (r->bJson) {
            json_t *o = json_object();
            json_object_set_new(o, "task_id", json_string(zTask));
            json_object_set_new(o, "agency", json_string(a[i].zAgency));
            json_object_set_new(o, "period", json_string(a[i].zPeriod));
            json_object_set_new(o, "state", json_string(pa_spool_state_name(a[i].eState)));
            json_object_set_new(o, "report_id", json_string(zId));
            json_object_set_new(o, "attempts", json_integer(a[i].nAttempt));
            json_object_set_new(o, "acknowledged_at", a[i].tAcked ? json_string(zAt) : json_null());
            json_object_set_new(o, "correction", json_boolean(a[i].bCorrection));
            json_object_set_new(o, "last_answer", json_string(a[i].zLastError));
            json_array_append_new(pArr, o);
        } else {
            printf("%-9s %-7s %-12s %-32s %8u %-20s %s%s\n", a[i].zAgency, a[i].zPeriod,
                   pa_spool_state_name(a[i].eState), zId, a[i].nAttempt, zAt[0] ? zAt : "-",
                   a[i].bCorrection ? "(correction) " : "", a[i].zLastError);
        }
    }
    json_object_set_new(r->pOut, "spool", pArr);
    pa_spool_entries_free(a, n);
    pa_spool_close(p);
    return EXIT_DONE;
}

static int worse(int a, int b)
{
    static const int aRank[] = {EXIT_DONE, EXIT_LATER, EXIT_REFUSED, EXIT_CONFIG, EXIT_FAILED};
    int ia = 0, ib = 0;
    for (int i = 0; i < 5; i++) {
        if (aRank[i] == a)
            ia = i;
        if (aRank[i] == b)
            ib = i;
    }
    return ia >= ib ? a : b;
}

/* --leader-pub / --helper-pub: seal to the aggregator's current key from its
 * PREFIX.pub (after a key rotation, docs/keys.md) instead of the task's.  The
 * task id stays: it is computed when the task is read. */
static int seal_to_pub(pa_task_party *pParty, pa_role eRole, const char *zFile)
{
    pa_keys k;
    int rc = pa_keys_read_public(&k, zFile);
    if (rc != PA_OK)
        return rc;
    if (k.eRole != eRole)
        return pa_fail(PA_EINVAL, "%s: the public key of the %s, not of the %s", zFile,
                       pa_role_name(k.eRole), pa_role_name(eRole));
    memcpy(pParty->aHpkePublicKey, k.aPublic, 32);
    pParty->iHpkeConfigId = k.iConfigId;
    return PA_OK;
}

static int do_retry(run *r)
{
    char zBuf[4096];
    const char *zSpool = spool_path(r, zBuf, sizeof zBuf);
    pa_task *t = NULL;
    pa_spool *p = NULL;
    pa_spool_entry *a = NULL;
    size_t n = 0;
    int rc, iExit = EXIT_DONE;

    if (zSpool == NULL || !val(r, "--task")) {
        fprintf(stderr, "privagg submit: --retry needs --task, and --key or --spool\n");
        return EXIT_USAGE;
    }
    rc = pa_task_load(&t, val(r, "--task"));
    if (rc != PA_OK)
        return fail(r, EXIT_CONFIG, "submit --retry", rc);
    if (access(zSpool, F_OK) != 0) {
        if (!r->bJson)
            printf("spool %s: nothing to send\n", zSpool);
        pa_task_free(t);
        return EXIT_DONE;
    }
    rc = pa_spool_open(&p, zSpool);
    if (rc == PA_OK)
        rc = pa_spool_list(p, t->aTaskId, 1, &a, &n);
    if (rc != PA_OK) {
        pa_spool_close(p);
        pa_task_free(t);
        return fail(r, EXIT_CONFIG, "submit --retry", rc);
    }
    if (n == 0 && !r->bJson)
        printf("spool %s: nothing to send for this task\n", zSpool);
    for (size_t i = 0; i < n; i++)
        iExit = worse(iExit, send_entry(r, p, t, &a[i]));
    pa_spool_entries_free(a, n);
    pa_spool_close(p);
    pa_task_free(t);
    return iExit;
}

/* The counts of the period, from records or a counts file; EXIT_DONE or an exit code. */
static int tally(run *r, const pa_task *t, const char *zPeriod, uint64_t *aCounts, pa_records_summary *pSum,
                 int *pbRecords, double rMaxBad)
{
    char zOffenses[4096];
    pa_records_mapping *m = NULL;
    int rc;

    memset(pSum, 0, sizeof *pSum);
    *pbRecords = val(r, "--records") != NULL;
    if (!*pbRecords) {
        rc = pa_counts_load_csv(t, val(r, "--counts"), aCounts);
        if (rc == PA_EIO)
            return fail(r, EXIT_CONFIG, "submit", rc);
        return rc == PA_OK ? EXIT_DONE : fail(r, EXIT_REFUSED, "submit", rc);
    }
    if (val(r, "--offenses"))
        snprintf(zOffenses, sizeof zOffenses, "%s", val(r, "--offenses"));
    else {
        /* the shipped table, found as every other command finds data/ (an
         * installed submit run from any folder used to look in ./data) */
        char zData[4096];
        snprintf(zOffenses, sizeof zOffenses, "%s/nibrs_offense_buckets.csv",
                 pa_cli_data_dir(val(r, "--data"), zData, sizeof zData));
    }
    rc = pa_records_mapping_load(&m, t, val(r, "--mapping"), zOffenses);
    if (rc != PA_OK)
        return fail(r, EXIT_CONFIG, "submit", rc);
    const char *zFile = val(r, "--records");
    if (strcmp(zFile, "-") != 0 && access(zFile, R_OK) != 0) {
        pa_records_mapping_free(m);
        return fail(r, EXIT_CONFIG, "submit", pa_fail(PA_EIO, "--records: cannot open %s: %s", zFile, strerror(errno)));
    }
    struct stat stRec;
    if (strcmp(zFile, "-") != 0 && stat(zFile, &stRec) == 0 && S_ISDIR(stRec.st_mode)) {
        pa_records_mapping_free(m);
        return fail(r, EXIT_CONFIG, "submit",
                    pa_fail(PA_EIO, "--records: %s is a folder; give the export file (CSV) in it", zFile));
    }
    progress pr = {0, zFile, {0, 0}, 0};
    struct stat st;
    int bBar = !r->bJson && !seen(r, "--no-progress") && isatty(2);
    if (bBar && strcmp(zFile, "-") != 0 && stat(zFile, &st) == 0 && S_ISREG(st.st_mode))
        pr.nTotal = (uint64_t)st.st_size;
    rc = pa_records_tally_file(m, t, zFile, zPeriod, aCounts, pSum, bBar ? on_progress : NULL, &pr);
    if (pr.bShown)
        fprintf(stderr, "\r\033[K");
    pa_records_mapping_free(m);
    if (rc != PA_OK)
        return fail(r, EXIT_REFUSED, "submit", rc);
    if (r->bJson)
        json_object_set_new(r->pOut, "summary", summary_json(pSum, rMaxBad));
    else
        summary_print(stdout, pSum, zPeriod, rMaxBad, t->nMaxCellsPerRecord);
    rc = pa_records_check_bad_share(pSum, rMaxBad);
    if (rc != PA_OK)
        return fail(r, EXIT_REFUSED, "submit", rc);
    return EXIT_DONE;
}

static int do_submit(run *r)
{
    char zPeriod[8], zNow[8], zBuf[4096], zId[33];
    pa_task *t = NULL;
    pa_keys k;
    uint64_t *aCounts = NULL;
    uint8_t *pMsg = NULL, aMac[32];
    size_t nMsg = 0, nCounts;
    pa_records_summary sum;
    pa_spool *pSpool = NULL;
    pa_spool_entry cur, e;
    int rc, iExit = EXIT_DONE, bRecords, bHave = 0;
    double rMaxBad = 0.02;
    pa_registry *pReg = NULL;
    uint8_t aKey[32];
    char zPart[65];

    memset(&k, 0, sizeof k);
    memset(&cur, 0, sizeof cur);
    memset(&e, 0, sizeof e);
    if (!val(r, "--task") || !val(r, "--key") || (!val(r, "--records") == !val(r, "--counts"))) {
        fprintf(stderr, "privagg submit: --task, --key and one of --records or --counts are required "
                        "(see --help)\n");
        return EXIT_USAGE;
    }
    if (val(r, "--max-bad-share") && pa_cli_real("submit", "--max-bad-share", val(r, "--max-bad-share"), 0, 1, &rMaxBad))
        return EXIT_USAGE;
    if (val(r, "--period")) {
        if (!pa_period_valid(val(r, "--period"))) {
            fprintf(stderr, "privagg submit: --period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on (e.g. 2026-01)\n", val(r, "--period"));
            return EXIT_USAGE;
        }
        snprintf(zPeriod, sizeof zPeriod, "%s", val(r, "--period"));
    } else {
        month_of(zPeriod, -1);
    }
    json_object_set_new(r->pOut, "period", json_string(zPeriod));
    json_object_set_new(r->pOut, "dry_run", json_boolean(seen(r, "--dry-run")));

    /* configuration */
    rc = pa_task_load(&t, val(r, "--task"));
    if (rc == PA_OK)
        rc = pa_keys_read_private(&k, val(r, "--key"));
    if (rc == PA_OK && k.eRole != PA_ROLE_AGENCY)
        rc = pa_fail(PA_EINVAL, "--key: role %s, expected agency", pa_role_name(k.eRole));
    if (rc == PA_OK && t->bRegistry != (val(r, "--registry") != NULL))
        rc = pa_fail(PA_EINVAL, "--registry: %s", t->bRegistry ? "required: the task names an agency registry"
                                                                : "the task lists its agencies, it names no registry");
    if (rc == PA_OK && val(r, "--registry") != NULL)
        rc = pa_registry_load(&pReg, val(r, "--registry"));
    if (rc == PA_OK && pReg != NULL)
        rc = pa_registry_check_task(pReg, t);
    if (rc == PA_OK && !t->bRegistry && pa_task_find_agency(t, k.zId) == NULL)
        rc = pa_fail(PA_EAUTH, "--key: agency \"%s\" is not in the task", k.zId);
    if (rc == PA_OK && pa_agency_key(t, pReg, k.zId, zPeriod, aKey, zPart) != PA_OK)
        rc = pa_fail(PA_EAUTH, "--key: %s", pa_error_detail());
    if (rc == PA_OK && sodium_memcmp(aKey, k.aPublic, 32) != 0)
        rc = pa_fail(PA_EAUTH, "--key: agency %s's key is not the one in the %s", k.zId,
                     t->bRegistry ? "agency registry for the period" : "task");
    if (rc == PA_OK && val(r, "--leader-pub"))
        rc = seal_to_pub(&t->leader, PA_ROLE_LEADER, val(r, "--leader-pub"));
    if (rc == PA_OK && val(r, "--helper-pub"))
        rc = seal_to_pub(&t->helper, PA_ROLE_HELPER, val(r, "--helper-pub"));
    if (rc != PA_OK) {
        iExit = fail(r, EXIT_CONFIG, "submit", rc);
        goto out;
    }
    json_object_set_new(r->pOut, "agency", json_string(k.zId));

    /* the period must be over */
    month_of(zNow, 0);
    if (strcmp(zPeriod, zNow) > 0 || (strcmp(zPeriod, zNow) == 0 && !seen(r, "--allow-open-period"))) {
        iExit = fail(r, EXIT_REFUSED, "submit",
                     pa_fail(PA_ESTATE, "period %s is %s (now %s); incidents may still be added, so it is "
                             "refused%s", zPeriod, strcmp(zPeriod, zNow) > 0 ? "in the future" : "not over yet",
                             zNow, strcmp(zPeriod, zNow) == 0 ? " unless --allow-open-period says it is meant" : ""));
        goto out;
    }

    /* the counts */
    aCounts = calloc(t->nCell, sizeof *aCounts);
    if (aCounts == NULL) {
        iExit = fail(r, EXIT_FAILED, "submit", pa_fail(PA_ENOMEM, "counts: out of memory"));
        goto out;
    }
    iExit = tally(r, t, zPeriod, aCounts, &sum, &bRecords, rMaxBad);
    if (iExit != EXIT_DONE)
        goto out;
    nCounts = t->eVdaf == PA_VDAF_SUMVEC || t->eVdaf == PA_VDAF_MULTIHOT ? t->nCell : 1;
    int bAllZero = 1;
    for (size_t i = 0; i < nCounts; i++)
        bAllZero &= aCounts[i] == 0;
    if (bAllZero && !seen(r, "--allow-empty") && (t->eVdaf == PA_VDAF_SUMVEC || t->eVdaf == PA_VDAF_MULTIHOT)) {
        iExit = fail(r, EXIT_REFUSED, "submit",
                     pa_fail(PA_EINVAL, "%s: no incident of %s counts (%s); an all-zero report is sent only "
                             "with --allow-empty (a month without incidents)",
                             bRecords ? val(r, "--records") : val(r, "--counts"), zPeriod,
                             bRecords ? (sum.nRow == 0 ? "no data rows" : "every row is of another month or "
                                                                          "left out")
                                      : "every count is 0"));
        goto out;
    }
    if (seen(r, "--summary")) {
        json_t *p = json_object();
        json_object_set_new(p, "agency", json_string(k.zId));
        json_object_set_new(p, "period", json_string(zPeriod));
        json_object_set_new(p, "counts", counts_json(aCounts, nCounts));
        if (bRecords)
            json_object_set_new(p, "summary", summary_json(&sum, rMaxBad));
        rc = write_private_json(val(r, "--summary"), p);
        json_decref(p);
        if (rc != PA_OK) {
            iExit = fail(r, EXIT_CONFIG, "submit", rc);
            goto out;
        }
    }
    pa_spool_counts_mac(aMac, &k, t->aTaskId, zPeriod, aCounts, nCounts);

    if (seen(r, "--dry-run")) {
        uint8_t aId[16];
        rc = pa_submit_report_reg(t, pReg, &k, zPeriod, aCounts, nCounts, &pMsg, &nMsg, aId);
        if (rc != PA_OK) {
            iExit = fail(r, EXIT_REFUSED, "submit", rc);
            goto out;
        }
        if (r->bJson) {
            json_object_set_new(r->pOut, "counts", counts_json(aCounts, nCounts));
            json_object_set_new(r->pOut, "report_bytes", json_integer((json_int_t)nMsg));
        } else {
            printf("dry run: agency %s, period %s, %zu cells; nothing sent, nothing stored\n", k.zId, zPeriod,
                   nCounts);
            printf("cell,");
            for (size_t d = 0; d < t->nDimension; d++)
                printf("%s,", t->aDimension[d].zName);
            printf("count\n");
            for (size_t i = 0; i < nCounts; i++) {
                size_t rest = i, aIdx[PA_TASK_MAX_DIMENSIONS];
                for (size_t d = t->nDimension; d-- > 0;) {
                    aIdx[d] = rest % t->aDimension[d].nCategory;
                    rest /= t->aDimension[d].nCategory;
                }
                if (nCounts != t->nCell) {
                    printf("%zu,%llu\n", i, (unsigned long long)aCounts[i]);
                    continue;
                }
                printf("%zu,", i);
                for (size_t d = 0; d < t->nDimension; d++)
                    printf("\"%s\",", t->aDimension[d].azCategory[aIdx[d]]);
                printf("%llu\n", (unsigned long long)aCounts[i]);
            }
            printf("encrypted report: %zu bytes (what would be sent to the leader %s)\n", nMsg,
                   t->leader.zEndpoint);
        }
        goto out;
    }

    /* the keys to seal to: the aggregators' current keys from the leader's signed
     * configuration, unless given (--leader-pub/--helper-pub) or --offline-keys */
    const char *zKeysFrom = val(r, "--leader-pub") || val(r, "--helper-pub") ? "--leader-pub/--helper-pub" : "task";
    if (!seen(r, "--offline-keys") && !val(r, "--leader-pub") && !val(r, "--helper-pub")) {
        pa_http_client *c = NULL;
        pa_http_client_opts co = {0};
        int bLeader = 0, bHelper = 0;
        co.ca_file = val(r, "--ca");
        co.connect_timeout_ms = 3000;
        co.timeout_ms = 10000;
        rc = pa_http_client_new(&c, &co);
        if (rc == PA_OK)
            rc = pa_client_hpke_configs(c, t, (int64_t)time(NULL), &bLeader, &bHelper);
        pa_http_client_free(&c);
        if (rc == PA_EVERIFY || rc == PA_EAUTH || rc == PA_EDECODE) {
            iExit = fail(r, EXIT_CONFIG, "submit", rc);
            goto out;
        }
        if (rc != PA_OK)
            fprintf(stderr, "submit: the leader's HPKE configuration: %s: %s; sealing to the task's keys\n",
                    pa_strerror(rc), pa_error_detail());
        else if ((t->leader.bSigningKey && !bLeader) || (t->helper.bSigningKey && !bHelper))
            fprintf(stderr, "submit: the leader's HPKE configuration has no %s document yet; sealing to the "
                            "task's key for it\n", !bLeader ? "leader" : "helper");
        zKeysFrom = bLeader || bHelper ? "signed configuration" : "task";
    }
    json_object_set_new(r->pOut, "hpke_config_ids",
                        json_pack("{s:i, s:i, s:s}", "leader", t->leader.iHpkeConfigId, "helper",
                                  t->helper.iHpkeConfigId, "from", zKeysFrom));

    /* spool: the same counts give the same report; other counts need --correct */
    const char *zSpool = spool_path(r, zBuf, sizeof zBuf);
    rc = pa_spool_open(&pSpool, zSpool);
    if (rc != PA_OK) {
        iExit = fail(r, EXIT_FAILED, "submit", rc);
        goto out;
    }
    rc = pa_spool_current(pSpool, t->aTaskId, k.zId, zPeriod, &cur);
    if (rc != PA_OK && rc != PA_ENOTFOUND) {
        iExit = fail(r, EXIT_FAILED, "submit", rc);
        goto out;
    }
    bHave = rc == PA_OK;
    if (bHave && sodium_memcmp(cur.aCountsMac, aMac, 32) == 0) {
        if (cur.eState == PA_SPOOL_ACKNOWLEDGED) {
            receipt(r, &cur, t, "already acknowledged earlier with these counts: nothing sent");
            goto out;
        }
        iExit = send_entry(r, pSpool, t, &cur); /* the same report, the same id */
        goto out;
    }
    if (bHave && !seen(r, "--correct")) {
        char zAt[32] = "";
        sodium_bin2hex(zId, sizeof zId, cur.aReportId, 16);
        iso_time(zAt, cur.tAcked ? cur.tAcked : cur.tCreated);
        iExit = fail(r, EXIT_REFUSED, "submit",
                     pa_fail(PA_EEXISTS, "%s already has report %s (%s, %s) with other counts; nothing sent. "
                             "To replace it run again with --correct%s", zPeriod, zId,
                             pa_spool_state_name(cur.eState), zAt,
                             t->bAllowCorrections ? "" : " (this task does not allow corrections: its owner "
                                                         "must create it with allow_corrections)"));
        goto out;
    }
    if (seen(r, "--correct") && !t->bAllowCorrections) {
        iExit = fail(r, EXIT_REFUSED, "submit",
                     pa_fail(PA_ESTATE, "--correct: the task does not allow corrections (batching."
                             "allow_corrections is false; the task owner creates it with --allow-corrections)"));
        goto out;
    }
    memcpy(e.aTaskId, t->aTaskId, 32);
    snprintf(e.zAgency, sizeof e.zAgency, "%s", k.zId);
    memcpy(e.zPeriod, zPeriod, 8);
    memcpy(e.aCountsMac, aMac, 32);
    if (bHave) {
        e.bCorrection = 1;
        memcpy(e.aCorrects, cur.aReportId, PA_REPORT_ID_SIZE);
    }
    rc = pa_submit_report_reg(t, pReg, &k, zPeriod, aCounts, nCounts, &e.pReport, &e.nReport, e.aReportId);
    if (rc == PA_OK)
        rc = pa_spool_add(pSpool, &e);
    if (rc != PA_OK) {
        iExit = fail(r, rc == PA_ESTORE ? EXIT_FAILED : EXIT_REFUSED, "submit", rc);
        goto out;
    }
    iExit = send_entry(r, pSpool, t, &e);
out:
    pa_spool_entry_free(&cur);
    pa_spool_entry_free(&e);
    pa_spool_close(pSpool);
    pa_keys_wipe(&k);
    free(pMsg);
    if (aCounts != NULL) {
        sodium_memzero(aCounts, t->nCell * sizeof *aCounts);
        free(aCounts);
    }
    pa_task_free(t);
    pa_registry_free(pReg);
    return iExit;
}

int pa_cli_submit(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0, NULL},         {"--key", 0, NULL, 0, NULL},
                      {"--period", 0, NULL, 0, NULL},       {"--counts", 0, NULL, 0, NULL},
                      {"--records", 0, NULL, 0, NULL},      {"--mapping", 0, NULL, 0, NULL},
                      {"--offenses", 0, NULL, 0, NULL},     {"--data", 0, NULL, 0, NULL},
                      {"--print-mapping", 1, NULL, 0, NULL}, {"--dry-run", 1, NULL, 0, NULL},
                      {"--json", 1, NULL, 0, NULL},         {"--correct", 1, NULL, 0, NULL},
                      {"--allow-empty", 1, NULL, 0, NULL},  {"--allow-open-period", 1, NULL, 0, NULL},
                      {"--max-bad-share", 0, NULL, 0, NULL}, {"--summary", 0, NULL, 0, NULL},
                      {"--spool", 0, NULL, 0, NULL},        {"--retry", 1, NULL, 0, NULL},
                      {"--status", 1, NULL, 0, NULL},       {"--attempts", 0, NULL, 0, NULL},
                      {"--backoff-ms", 0, NULL, 0, NULL},   {"--no-progress", 1, NULL, 0, NULL},
                      {"--ca", 0, NULL, 0, NULL},           {"--help", 1, NULL, 0, NULL},
                      {"--leader-pub", 0, NULL, 0, NULL},   {"--helper-pub", 0, NULL, 0, NULL},
                      {"--offline-keys", 1, NULL, 0, NULL},
                      {"--registry", 0, NULL, 0, NULL}};
    run r;
    int iExit;
    unsigned long long v;

    memset(&r, 0, sizeof r);
    r.o = o;
    r.n = sizeof o / sizeof o[0];
    if ((iExit = pa_cli_begin(argc, argv, o, r.n, usage)) >= 0)
        return iExit;
    if (seen(&r, "--print-mapping")) {
        fputs(pa_records_default_mapping(), stdout);
        return EXIT_DONE;
    }
    if ((val(&r, "--attempts") && pa_cli_uint("submit", "--attempts", val(&r, "--attempts"), 1, 100, &v)) ||
        (val(&r, "--backoff-ms") && pa_cli_uint("submit", "--backoff-ms", val(&r, "--backoff-ms"), 1, 600000, &v)))
        return EXIT_USAGE;
    if (seen(&r, "--retry") + seen(&r, "--status") > 1) {
        fprintf(stderr, "privagg submit: --retry and --status are separate modes\n");
        return EXIT_USAGE;
    }
    r.bJson = seen(&r, "--json");
    r.pOut = json_object();
    r.zOutcome = "done";
    if (seen(&r, "--status"))
        iExit = do_status(&r);
    else if (seen(&r, "--retry"))
        iExit = do_retry(&r);
    else
        iExit = do_submit(&r);
    if (r.bJson && iExit != EXIT_USAGE) {
        json_object_set_new(r.pOut, "outcome", json_string(iExit == EXIT_DONE ? "done" : r.zOutcome));
        json_object_set_new(r.pOut, "exit_code", json_integer(iExit));
        json_dumpf(r.pOut, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(r.pOut);
    return iExit;
}
