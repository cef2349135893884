/*
 * The incident export to a bounded count vector (see pa_records_tally in
 * include/privagg/submit.h; the rules and why they bound the sensitivity are in
 * docs/submit.md).
 *
 * Streaming: a 1 MiB read buffer, one record line of at most 1 MiB, one incident's
 * cell list (at most the task's cells) and a fixed 32 MiB Bloom filter of the
 * incident ids seen (blocked: one cache line per id, 12 bits), allocated zero and
 * touched only as ids arrive.  Memory does not grow with the file.
 *
 * The CSV dialect is RFC 4180 as spreadsheets and RMS exports write it: a header
 * row, comma separators, fields quoted with "" escapes (a quoted field may span
 * lines), LF or CRLF line ends, an optional UTF-8 byte-order mark, blank lines
 * skipped.  Structural faults (invalid UTF-8, a NUL byte, a quote left open or
 * misplaced, a line over 1 MiB, over 256 columns) stop the read with the line
 * number: past such a fault the rows can no longer be told apart.  Faults of one
 * row (wrong field count, a value that does not parse or map) are counted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/guard.h"
#include "privagg/common.h"
#include "privagg/report.h"
#include "submit/records_internal.h"

#define READ_BUF ((size_t)1 << 20)
#define MAX_LINE ((size_t)1 << 20)
#define MAX_FIELDS 256
#define BLOOM_BYTES ((size_t)32 << 20)
#define BLOOM_BLOCKS (BLOOM_BYTES / 64)
#define BLOOM_BITS 12
#define PROGRESS_ROWS 65536

/* --------------------------------------------------------------- CSV input */

typedef struct {
    FILE *f;
    const char *zName;
    unsigned char *aBuf;
    size_t nBuf, iBuf;
    int bEof;
    uint64_t nConsumed;       /* bytes consumed before aBuf */
    uint64_t iLine;           /* physical line of the next byte, 1-based */
    char *aRec;               /* the record's fields, unescaped, each NUL-terminated */
    size_t nRec;
    size_t aField[MAX_FIELDS];
    size_t nField;
    uint64_t iRecLine;        /* the line the record starts on */
    int bStarted;
} csv_in;

static int fill(csv_in *c)
{
    if (c->bEof)
        return 0;
    c->nConsumed += c->nBuf;
    c->nBuf = fread(c->aBuf, 1, READ_BUF, c->f);
    c->iBuf = 0;
    if (c->nBuf == 0) {
        if (ferror(c->f))
            return pa_fail(PA_EIO, "%s: line %llu: read error", c->zName, (unsigned long long)c->iLine);
        c->bEof = 1;
        return 0;
    }
    return 1;
}

static int put(csv_in *c, unsigned char ch)
{
    if (c->nRec + 1 >= MAX_LINE)
        return pa_fail(PA_EDECODE, "%s: line %llu: longer than %zu bytes; is this an incident export?",
                       c->zName, (unsigned long long)c->iRecLine, MAX_LINE);
    c->aRec[c->nRec++] = (char)ch;
    return PA_OK;
}

static int end_field(csv_in *c)
{
    if (c->nField >= MAX_FIELDS)
        return pa_fail(PA_EDECODE, "%s: line %llu: more than %d fields", c->zName,
                       (unsigned long long)c->iRecLine, MAX_FIELDS);
    PA_GUARD(put(c, '\0'));
    return PA_OK;
}

/* A comma: the field ends and the next one starts, which must still have a slot
 * in aField (a 257th field used to be written past its end: found by the
 * records fuzz target, tests/fuzz/corpus/records/fields-257). */
static int next_field(csv_in *c)
{
    PA_GUARD(end_field(c));
    if (c->nField + 1 >= MAX_FIELDS)
        return pa_fail(PA_EDECODE, "%s: line %llu: more than %d fields; is this an incident export?", c->zName,
                       (unsigned long long)c->iRecLine, MAX_FIELDS);
    c->aField[++c->nField] = c->nRec;
    return PA_OK;
}

/* Index of the byte after a valid UTF-8 sequence at z[i], or 0. */
static size_t utf8_next(const unsigned char *z, size_t i, size_t n)
{
    unsigned char c = z[i];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return i + 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (i + len > n || z[i + 1] < lo || z[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (z[i + k] < 0x80 || z[i + k] > 0xBF)
            return 0;
    return i + len;
}

static int check_encoding(csv_in *c)
{
    const unsigned char *z = (const unsigned char *)c->aRec;
    for (size_t i = 0; i < c->nRec;) {
        size_t j = utf8_next(z, i, c->nRec);
        if (j == 0)
            return pa_fail(PA_EDECODE, "%s: line %llu: not UTF-8 (byte 0x%02X); export the file as UTF-8",
                           c->zName, (unsigned long long)c->iRecLine, z[i]);
        i = j;
    }
    return PA_OK;
}

/* The next record: 1, 0 at the end, or an error.  Blank lines are skipped. */
static int next_record(csv_in *c)
{
    enum { START, PLAIN, QUOTED, QUOTE_IN_QUOTED } st = START;
    int bOdd = 0, bAny = 0;

    c->nRec = 0;
    c->nField = 0;
    c->aField[0] = 0;
    c->iRecLine = c->iLine;
    for (;;) {
        if (c->iBuf == c->nBuf) {
            int r = fill(c);
            if (r < 0)
                return r;
            if (r == 0)
                break;
        }
        unsigned char ch = c->aBuf[c->iBuf++];
        if (!c->bStarted) {
            c->bStarted = 1;
            if (ch == 0xEF) { /* a byte-order mark: EF BB BF */
                unsigned char a[2];
                for (int k = 0; k < 2; k++) {
                    if (c->iBuf == c->nBuf && fill(c) <= 0)
                        return pa_fail(PA_EDECODE, "%s: line 1: not UTF-8", c->zName);
                    a[k] = c->aBuf[c->iBuf++];
                }
                if (a[0] != 0xBB || a[1] != 0xBF)
                    return pa_fail(PA_EDECODE, "%s: line 1: not UTF-8 (byte 0xEF); export the file as UTF-8",
                                   c->zName);
                continue;
            }
        }
        if (ch == 0)
            return pa_fail(PA_EDECODE, "%s: line %llu: a NUL byte; is this a text (CSV) file?", c->zName,
                           (unsigned long long)c->iLine);
        bOdd |= ch >= 0x80;
        switch (st) {
        case START:
        case PLAIN:
            if (ch == ',') {
                PA_GUARD(next_field(c));
                st = START;
                bAny = 1;
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r') { /* CRLF, or a lone CR */
                    if (c->iBuf == c->nBuf && fill(c) < 0)
                        return PA_EIO;
                    if (c->iBuf < c->nBuf && c->aBuf[c->iBuf] == '\n')
                        c->iBuf++;
                }
                c->iLine++;
                if (!bAny && st == START) { /* a blank line */
                    c->iRecLine = c->iLine;
                    continue;
                }
                goto done;
            } else if (ch == '"') {
                if (st == PLAIN)
                    return pa_fail(PA_EDECODE, "%s: line %llu: a quote inside an unquoted field (field %zu); "
                                   "quote the whole field and double the quote (\"\")",
                                   c->zName, (unsigned long long)c->iLine, c->nField + 1);
                st = QUOTED;
                bAny = 1;
            } else {
                PA_GUARD(put(c, ch));
                st = PLAIN;
                bAny = 1;
            }
            break;
        case QUOTED:
            if (ch == '"')
                st = QUOTE_IN_QUOTED;
            else {
                if (ch == '\n')
                    c->iLine++;
                PA_GUARD(put(c, ch));
            }
            break;
        case QUOTE_IN_QUOTED:
            if (ch == '"') {
                PA_GUARD(put(c, '"'));
                st = QUOTED;
            } else if (ch == ',') {
                PA_GUARD(next_field(c));
                st = START;
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r') {
                    if (c->iBuf == c->nBuf && fill(c) < 0)
                        return PA_EIO;
                    if (c->iBuf < c->nBuf && c->aBuf[c->iBuf] == '\n')
                        c->iBuf++;
                }
                c->iLine++;
                goto done;
            } else
                return pa_fail(PA_EDECODE, "%s: line %llu: \"%c\" after a closing quote (field %zu); "
                               "a quote inside a quoted field is written \"\"",
                               c->zName, (unsigned long long)c->iLine, ch >= 32 && ch < 127 ? ch : '?',
                               c->nField + 1);
            break;
        }
    }
    /* end of input */
    if (st == QUOTED)
        return pa_fail(PA_EDECODE, "%s: line %llu: a quote opened in this record is never closed",
                       c->zName, (unsigned long long)c->iRecLine);
    if (!bAny)
        return 0;
done:
    PA_GUARD(end_field(c));
    c->nField++;
    if (bOdd)
        PA_GUARD(check_encoding(c));
    return 1;
}

static const char *field(const csv_in *c, int i)
{
    return c->aRec + c->aField[i];
}

/* --------------------------------------------------------------- summary */

static const struct {
    const char *zName, *zText;
} g_kind[PA_REC_KIND_COUNT] = {
    [PA_REC_FIELDS] = {"wrong_field_count", "rows whose field count differs from the header's"},
    [PA_REC_NO_ID] = {"no_incident_id", "rows without an incident id"},
    [PA_REC_DATE] = {"bad_date", "rows whose incident date does not parse"},
    [PA_REC_DATE_DIFFERS] = {"date_differs", "rows whose date differs from their incident's first row"},
    [PA_REC_OFFENSE] = {"unknown_offense", "rows with an offense code not in the NIBRS table"},
    [PA_REC_STATUS] = {"unknown_status", "rows with a status value not in the mapping"},
    [PA_REC_ROLE] = {"unknown_role", "rows with a role value not in the mapping"},
    [PA_REC_SPLIT] = {"split_incident", "rows of an incident id that came back after another incident "
                                        "(rows of one incident must be consecutive)"},
    [PA_REC_EXCLUDED_OFFENSE] = {"excluded_offense", "rows of an excluded offense (bucket 0, e.g. 09C "
                                                     "justifiable homicide: not a crime)"},
    [PA_REC_NO_VICTIM] = {"no_person_victim", "victim rows of an offense that has no person victims in "
                                              "NIBRS (Group B: arrest only; crimes against society)"},
    [PA_REC_IGNORED_ROLE] = {"ignored_role", "rows of a role the mapping leaves out"},
    [PA_REC_EARLIER] = {"earlier_period", "rows of incidents of an earlier month (late records: correct "
                                          "that month with --period and --correct)"},
    [PA_REC_LATER] = {"later_period", "rows of incidents of a later month"},
    [PA_REC_REPEAT] = {"repeat_in_incident", "rows naming a cell their incident already counts (an "
                                             "incident counts at most once per cell)"},
    [PA_REC_DROPPED] = {"dropped_by_cell_bound", "rows whose cell was dropped because their incident "
                                                 "touches more cells than max_cells_per_record"},
};

int pa_records_kind_bad(pa_records_kind e)
{
    return e < PA_REC_BAD_END;
}

const char *pa_records_kind_name(pa_records_kind e)
{
    return e < PA_REC_KIND_COUNT ? g_kind[e].zName : "?";
}

const char *pa_records_kind_text(pa_records_kind e)
{
    return e < PA_REC_KIND_COUNT ? g_kind[e].zText : "?";
}

static void note(pa_records_summary *s, pa_records_kind e, uint64_t iLine, const char *zFmt, const char *zA,
                 const char *zB)
{
    pa_records_issue *p = &s->aIssue[e];
    if (p->nLine < PA_RECORDS_FIRST_LINES)
        p->aLine[p->nLine++] = iLine;
    if (p->nRow == 0 && zFmt != NULL)
        snprintf(p->zExample, sizeof p->zExample, zFmt, (unsigned long long)iLine, zA ? zA : "", zB ? zB : "");
    p->nRow++;
    if (pa_records_kind_bad(e))
        s->nBad++;
}

/* --------------------------------------------------------------- dates */

static int digits(const char *z, int n, int *pOut)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (z[i] < '0' || z[i] > '9')
            return -1;
        v = v * 10 + (z[i] - '0');
    }
    *pOut = v;
    return 0;
}

/* y, m, d from a trimmed field; 0 or -1. */
static int parse_date(const char *z, int eFormat, int *py, int *pm, int *pd)
{
    size_t n;
    while (*z == ' ' || *z == '\t')
        z++;
    n = strlen(z);
    while (n > 0 && (z[n - 1] == ' ' || z[n - 1] == '\t'))
        n--;
    switch (eFormat) {
    case PA_DATE_ISO: /* YYYY-MM-DD, optionally followed by T or a blank and a time */
        if (n < 10 || z[4] != '-' || z[7] != '-' || (n > 10 && z[10] != 'T' && z[10] != ' '))
            return -1;
        if (digits(z, 4, py) || digits(z + 5, 2, pm) || digits(z + 8, 2, pd))
            return -1;
        break;
    case PA_DATE_US: { /* M/D/YYYY or MM/DD/YYYY, optionally followed by a blank and a time */
        const char *a = strchr(z, '/'), *b = a ? strchr(a + 1, '/') : NULL;
        if (a == NULL || b == NULL || a - z < 1 || a - z > 2 || b - a - 1 < 1 || b - a - 1 > 2 ||
            (size_t)(b + 5 - z) > n || (n > (size_t)(b + 5 - z) && b[5] != ' '))
            return -1;
        if (digits(z, (int)(a - z), pm) || digits(a + 1, (int)(b - a - 1), pd) || digits(b + 1, 4, py))
            return -1;
        break;
    }
    default: /* YYYYMMDD */
        if (n != 8 || digits(z, 4, py) || digits(z + 4, 2, pm) || digits(z + 6, 2, pd))
            return -1;
        break;
    }
    static const int aDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int bLeap = (*py % 4 == 0 && *py % 100 != 0) || *py % 400 == 0;
    if (*py < 1900 || *pm < 1 || *pm > 12 || *pd < 1 || *pd > aDays[*pm - 1] ||
        (*pm == 2 && *pd == 29 && !bLeap))
        return -1;
    return 0;
}

/* --------------------------------------------------------------- incidents */

typedef struct {
    const pa_records_mapping *m;
    const pa_task *t;
    uint64_t *aCounts;
    pa_records_summary *s;
    int iPeriod;                /* y*12 + m-1 of the period asked for */
    /* the open incident */
    int bOpen, bRejected, bDated;
    char *zId;                  /* MAX_LINE bytes */
    size_t nId;
    int iYm, iY, iM, iD;
    uint64_t iDateLine;
    uint64_t *aCellLine;        /* per cell: line of the row that first named it, 0 = none */
    size_t *aTouched;
    size_t nTouched;
    unsigned char *abClipped;
    uint64_t *aBloom;           /* BLOOM_BYTES */
} tally;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The 12 bit positions (9 bits each) of an id inside its 512-bit block, from
 * 108 independent hash bits (double hashing would leave only 18 bits of entropy
 * and about one false "seen" per 10^5 ids). */
static void bloom_bits(unsigned aBit[BLOOM_BITS], uint64_t h2, uint64_t h3)
{
    for (unsigned k = 0; k < 7; k++)
        aBit[k] = (unsigned)((h2 >> (9 * k)) & 511);
    for (unsigned k = 7; k < BLOOM_BITS; k++)
        aBit[k] = (unsigned)((h3 >> (9 * (k - 7))) & 511);
}

/* 1 if the id may have been seen before (then it is not added), else adds it. */
static int bloom_seen(uint64_t *aBloom, const char *z, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    unsigned aBit[BLOOM_BITS];
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)z[i]) * 1099511628211ULL;
    uint64_t h1 = mix64(h), h2 = mix64(h1 ^ 0x9e3779b97f4a7c15ULL), h3 = mix64(h2 ^ 0x632be59bd9b4e019ULL);
    uint64_t *pBlock = aBloom + (size_t)(h1 % BLOOM_BLOCKS) * 8;
    int bAll = 1;
    bloom_bits(aBit, h2, h3);
    for (unsigned k = 0; k < BLOOM_BITS; k++)
        bAll &= (int)((pBlock[aBit[k] >> 6] >> (aBit[k] & 63)) & 1);
    if (bAll)
        return 1;
    for (unsigned k = 0; k < BLOOM_BITS; k++)
        pBlock[aBit[k] >> 6] |= (uint64_t)1 << (aBit[k] & 63);
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Close the open incident: the bounds are applied here. */
static void close_incident(tally *T)
{
    pa_records_summary *s = T->s;
    uint64_t k = T->t->nMaxCellsPerRecord, nMax = T->t->nMaxMeasurement;

    if (!T->bOpen)
        return;
    T->bOpen = 0;
    if (T->bRejected || !T->bDated)
        goto reset;
    s->nRecord++;
    if (T->iYm < T->iPeriod)
        s->nRecordEarlier++;
    else if (T->iYm > T->iPeriod)
        s->nRecordLater++;
    if (T->iYm != T->iPeriod || T->nTouched == 0)
        goto reset;
    s->nRecordCounted++;
    /* bound 2: at most k cells; keep the lowest cell indexes (most serious offense first) */
    if (T->nTouched > k) {
        qsort(T->aTouched, T->nTouched, sizeof *T->aTouched, cmp_size);
        s->nRecordCapped++;
        for (size_t i = (size_t)k; i < T->nTouched; i++) {
            s->nCellDropped++;
            note(s, PA_REC_DROPPED, T->aCellLine[T->aTouched[i]],
                 "line %llu: its incident touches more than max_cells_per_record cells; this row's cell "
                 "has a higher index (a less serious offense) and is dropped%s%s", NULL, NULL);
        }
    }
    /* bound 1 holds by construction (each cell is in the list once); bound 3: clip */
    for (size_t i = 0; i < T->nTouched && i < k; i++) {
        size_t iCell = T->aTouched[i];
        if (T->aCounts[iCell] >= nMax) {
            s->nClippedAmount++;
            if (!T->abClipped[iCell]) {
                T->abClipped[iCell] = 1;
                s->nCellClipped++;
            }
        } else {
            T->aCounts[iCell]++;
        }
    }
reset:
    for (size_t i = 0; i < T->nTouched; i++)
        T->aCellLine[T->aTouched[i]] = 0;
    T->nTouched = 0;
}

static void month_text(char z[8], int iYm)
{
    unsigned u = (unsigned)iYm;
    snprintf(z, 8, "%04u-%02u", u / 12 % 10000, u % 12 + 1);
}

static void row(tally *T, const csv_in *c, const int aiCol[PA_COL_COUNT], size_t nCol)
{
    const pa_records_mapping *m = T->m;
    pa_records_summary *s = T->s;
    uint64_t iLine = c->iRecLine;
    char zKey[PA_MAP_KEY_MAX];
    const char *zId, *zRaw;
    const pa_map_slot *pOff, *pRole, *pStatus;
    size_t nId;
    int y, mo, d, iYm;

    s->nRow++;
    if (c->nField != nCol) {
        char zN[24], zH[24];
        snprintf(zN, sizeof zN, "%zu", c->nField);
        snprintf(zH, sizeof zH, "%zu", nCol);
        note(s, PA_REC_FIELDS, iLine, "line %llu: %s fields, the header has %s", zN, zH);
        return;
    }
    zId = field(c, aiCol[PA_COL_ID]);
    while (*zId == ' ' || *zId == '\t')
        zId++;
    nId = strlen(zId);
    while (nId > 0 && (zId[nId - 1] == ' ' || zId[nId - 1] == '\t'))
        nId--;
    if (nId == 0) {
        note(s, PA_REC_NO_ID, iLine, "line %llu: the incident id (column \"%s\") is empty%s",
             m->azColumn[PA_COL_ID], NULL);
        return;
    }
    if (!T->bOpen || nId != T->nId || memcmp(zId, T->zId, nId) != 0) {
        close_incident(T);
        T->bOpen = 1;
        T->bDated = 0;
        memcpy(T->zId, zId, nId);
        T->nId = nId;
        T->bRejected = bloom_seen(T->aBloom, zId, nId);
    }
    if (T->bRejected) {
        char zShown[64];
        snprintf(zShown, sizeof zShown, "%.*s", (int)(nId < 60 ? nId : 60), zId);
        note(s, PA_REC_SPLIT, iLine, "line %llu: incident \"%s\" came back after another incident; sort "
             "the export by incident id%s", zShown, NULL);
        return;
    }
    zRaw = field(c, aiCol[PA_COL_DATE]);
    if (parse_date(zRaw, m->eDateFormat, &y, &mo, &d) != 0) {
        note(s, PA_REC_DATE, iLine, "line %llu: incident date \"%.40s\" is not a date of the form %s", zRaw,
             m->eDateFormat == PA_DATE_ISO ? "YYYY-MM-DD" : m->eDateFormat == PA_DATE_US ? "MM/DD/YYYY" : "YYYYMMDD");
        return;
    }
    iYm = y * 12 + (mo - 1);
    if (!T->bDated) {
        T->bDated = 1;
        T->iYm = iYm;
        T->iY = y, T->iM = mo, T->iD = d;
        T->iDateLine = iLine;
    } else if (y != T->iY || mo != T->iM || d != T->iD) {
        char zFirst[24];
        snprintf(zFirst, sizeof zFirst, "%llu", (unsigned long long)T->iDateLine);
        note(s, PA_REC_DATE_DIFFERS, iLine, "line %llu: date \"%.40s\" differs from the date on line %s of "
             "the same incident", zRaw, zFirst);
        return;
    }
    zRaw = field(c, aiCol[PA_COL_OFFENSE]);
    pOff = pa_map_key(zKey, zRaw, strlen(zRaw), 1) == 0 ? pa_map_find(&m->offense, zKey) : NULL;
    if (pOff == NULL) {
        note(s, PA_REC_OFFENSE, iLine, "line %llu: offense code \"%.40s\" is not in the NIBRS table (%s)", zRaw,
             m->zOffenseTable);
        return;
    }
    if (pOff->iValue < 0) {
        note(s, PA_REC_EXCLUDED_OFFENSE, iLine, "line %llu: offense code %s is excluded (bucket 0)%s",
             pOff->zKey, NULL);
        return;
    }
    zRaw = field(c, aiCol[PA_COL_ROLE]);
    pRole = pa_map_key(zKey, zRaw, strlen(zRaw), 0) == 0 ? pa_map_find(&m->role, zKey) : NULL;
    if (pRole == NULL) {
        note(s, PA_REC_ROLE, iLine, "line %llu: role \"%.40s\" is not in the mapping; valid values: %s", zRaw,
             m->role.zValid);
        return;
    }
    if (pRole->iValue == PA_MAP_IGNORE) {
        note(s, PA_REC_IGNORED_ROLE, iLine, "line %llu: role \"%.40s\" is left out by the mapping%s", zRaw, NULL);
        return;
    }
    zRaw = field(c, aiCol[PA_COL_STATUS]);
    pStatus = pa_map_key(zKey, zRaw, strlen(zRaw), 0) == 0 ? pa_map_find(&m->status, zKey) : NULL;
    if (pStatus == NULL) {
        note(s, PA_REC_STATUS, iLine, "line %llu: status \"%.40s\" is not in the mapping; valid values: %s", zRaw,
             m->status.zValid);
        return;
    }
    if (pOff->bNoVictim && pRole->iValue == m->iVictimRole) {
        note(s, PA_REC_NO_VICTIM, iLine, "line %llu: a victim of offense %s, which has no person victims in "
             "NIBRS%s", pOff->zKey, NULL);
        return;
    }
    if (iYm != T->iPeriod) {
        char zMonth[8];
        month_text(zMonth, iYm);
        if (iYm < T->iPeriod) {
            note(s, PA_REC_EARLIER, iLine, "line %llu: incident of %s, before the period%s", zMonth, NULL);
        } else {
            note(s, PA_REC_LATER, iLine, "line %llu: incident of %s, after the period%s", zMonth, NULL);
        }
        if (s->zEarliestOther[0] == '\0' || strcmp(zMonth, s->zEarliestOther) < 0)
            memcpy(s->zEarliestOther, zMonth, 8);
        if (strcmp(zMonth, s->zLatestOther) > 0)
            memcpy(s->zLatestOther, zMonth, 8);
        return;
    }
    size_t iCell = (size_t)pOff->iValue * m->nStrideOffense + (size_t)pStatus->iValue * m->nStrideStatus +
                   (size_t)pRole->iValue * m->nStrideRole;
    if (T->aCellLine[iCell] != 0) {
        char zFirst[24];
        snprintf(zFirst, sizeof zFirst, "%llu", (unsigned long long)T->aCellLine[iCell]);
        note(s, PA_REC_REPEAT, iLine, "line %llu: names the same cell as line %s of the same incident%s", zFirst,
             NULL);
        return;
    }
    T->aCellLine[iCell] = iLine;
    T->aTouched[T->nTouched++] = iCell;
}

static int header(const pa_records_mapping *m, csv_in *c, int aiCol[PA_COL_COUNT])
{
    for (int k = 0; k < PA_COL_COUNT; k++) {
        char zWant[PA_MAP_KEY_MAX * 2], zHave[PA_MAP_KEY_MAX * 2];
        aiCol[k] = -1;
        snprintf(zWant, sizeof zWant, "%s", m->azColumn[k]);
        for (size_t i = 0; i < c->nField; i++) {
            const char *z = field(c, (int)i);
            while (*z == ' ')
                z++;
            snprintf(zHave, sizeof zHave, "%s", z);
            size_t n = strlen(zHave);
            while (n > 0 && zHave[n - 1] == ' ')
                zHave[--n] = '\0';
            if (strcasecmp(zHave, zWant) == 0) {
                aiCol[k] = (int)i;
                break;
            }
        }
        if (aiCol[k] < 0) {
            static const char *const azKey[PA_COL_COUNT] = {"incident_id", "offense_code", "role", "status",
                                                            "incident_date"};
            char zCols[600];
            size_t n = 0;
            zCols[0] = '\0';
            for (size_t i = 0; i < c->nField && n + 8 < sizeof zCols; i++)
                n += (size_t)snprintf(zCols + n, sizeof zCols - n, "%s\"%.60s\"", i ? ", " : "", field(c, (int)i));
            return pa_fail(PA_EDECODE, "%s: line %llu: no column \"%s\" (the mapping's columns.%s); the header "
                           "has %s; name the columns in a mapping file (--mapping, see --print-mapping)",
                           c->zName, (unsigned long long)c->iRecLine, m->azColumn[k], azKey[k], zCols);
        }
    }
    return PA_OK;
}

int pa_records_tally(const pa_records_mapping *m, const pa_task *t, FILE *f, const char *zName,
                     const char *zPeriod, uint64_t *aCounts, pa_records_summary *s,
                     pa_records_progress xProgress, void *pCtx)
{
    csv_in c;
    tally T;
    int aiCol[PA_COL_COUNT], rc, y, mo;
    size_t nCol = 0;

    memset(s, 0, sizeof *s);
    memset(aCounts, 0, t->nCell * sizeof *aCounts);
    if (zPeriod == NULL || strlen(zPeriod) != 7 || zPeriod[4] != '-' || digits(zPeriod, 4, &y) ||
        digits(zPeriod + 5, 2, &mo) || mo < 1 || mo > 12)
        return pa_fail(PA_EINVAL, "period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zPeriod ? zPeriod : "");
    memset(&c, 0, sizeof c);
    memset(&T, 0, sizeof T);
    c.f = f;
    c.zName = zName;
    c.iLine = 1;
    c.aBuf = malloc(READ_BUF);
    c.aRec = malloc(MAX_LINE);
    T.m = m;
    T.t = t;
    T.aCounts = aCounts;
    T.s = s;
    T.iPeriod = y * 12 + (mo - 1);
    T.zId = malloc(MAX_LINE);
    T.aCellLine = calloc(t->nCell, sizeof *T.aCellLine);
    T.aTouched = malloc(t->nCell * sizeof *T.aTouched);
    T.abClipped = calloc(t->nCell, 1);
    T.aBloom = calloc(BLOOM_BYTES / 8, 8);
    if (c.aBuf == NULL || c.aRec == NULL || T.zId == NULL || T.aCellLine == NULL || T.aTouched == NULL ||
        T.abClipped == NULL || T.aBloom == NULL) {
        rc = pa_fail(PA_ENOMEM, "records: out of memory");
        goto out;
    }
    rc = next_record(&c);
    if (rc == 1) {
        nCol = c.nField;
        rc = header(m, &c, aiCol);
    }
    while (rc == PA_OK) {
        rc = next_record(&c);
        if (rc != 1)
            break;
        rc = PA_OK;
        row(&T, &c, aiCol, nCol);
        if (xProgress != NULL && s->nRow % PROGRESS_ROWS == 0)
            xProgress(pCtx, c.nConsumed + c.iBuf, s->nRow);
    }
    if (rc == 0) {
        rc = PA_OK;
        close_incident(&T);
        if (xProgress != NULL)
            xProgress(pCtx, c.nConsumed + c.iBuf, s->nRow);
    }
out:
    if (rc != PA_OK) {
        int iKeep = rc;
        memset(aCounts, 0, t->nCell * sizeof *aCounts);
        rc = iKeep;
    }
    free(c.aBuf);
    free(c.aRec);
    free(T.zId);
    free(T.aCellLine);
    free(T.aTouched);
    free(T.abClipped);
    free(T.aBloom);
    return rc;
}
