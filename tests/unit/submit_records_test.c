/*
 * Tests of the records reader (engine/submit/records.c, mapping.c): hand-made
 * exports with exact expected count vectors for the mapping, each contribution
 * bound (once per cell, at most k cells, the per-cell clip, one incident counted
 * once and in one month), the NIBRS rules (09C excluded, no person victims for
 * Group B and crimes against society), and bad CSV (missing columns, bad
 * encoding, open quotes, CRLF, BOM, empty file, a 1 GB line) with the line named.
 *
 * Cells of the default task: ((offense * 5) + status) * 2 + role, offense in
 * bucket order (0 Homicide ... 4 Aggravated assault, 5 Simple assault, 8
 * Robbery, 20 Drug/narcotic, 26 Group B), status 0 citizen .. 4 unknown, role 0
 * offender/arrestee, 1 victim.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/submit.h"
#include "privagg/task_build.h"
#include "support/mo_task.h"

#define OFFENSES PA_SOURCE_DIR "/data/nibrs_offense_buckets.csv"
#define HEADER "incident_id,offense_code,role,immigration_status,incident_date\n"
#define CELL(o, s, r) ((size_t)(((o) * 5 + (s)) * 2 + (r)))

static mo_task g_m;
static uint64_t g_nMax = 65535, g_k = 4;

static void edit(json_t *p)
{
    json_object_set_new(json_object_get(p, "vdaf"), "max_measurement", json_integer((json_int_t)g_nMax));
    json_object_set_new(json_object_get(p, "dp"), "max_cells_per_record", json_integer((json_int_t)g_k));
}

static void task_with(uint64_t nMax, uint64_t k)
{
    mo_task_free(&g_m);
    g_nMax = nMax;
    g_k = k;
    assert_int_equal(mo_task_new(&g_m, 3, 1, edit), PA_OK);
}

static int setup(void **state)
{
    (void)state;
    return mo_task_new(&g_m, 3, 1, edit);
}

static int teardown(void **state)
{
    (void)state;
    mo_task_free(&g_m);
    return 0;
}

/* Tally zText with the mapping zMap (NULL: default); returns the status. */
static int tally_map(const char *zMap, const char *zText, size_t nText, const char *zPeriod, uint64_t *a,
                     pa_records_summary *s)
{
    pa_records_mapping *m = NULL;
    int rc = pa_records_mapping_parse(&m, g_m.pTask, zMap, zMap ? strlen(zMap) : 0, OFFENSES);
    assert_int_equal(rc, PA_OK);
    FILE *f = fmemopen((void *)zText, nText, "rb");
    if (nText == 0)
        f = fopen("/dev/null", "rb");
    assert_non_null(f);
    rc = pa_records_tally(m, g_m.pTask, f, "t.csv", zPeriod, a, s, NULL, NULL);
    fclose(f);
    pa_records_mapping_free(m);
    return rc;
}

static int tally(const char *zText, uint64_t *a, pa_records_summary *s)
{
    return tally_map(NULL, zText, strlen(zText), "2026-11", a, s);
}

/* a equals the listed (cell, value) pairs and is zero elsewhere. */
static void expect(const uint64_t *a, size_t n, ...)
{
    uint64_t aWant[270] = {0};
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        size_t iCell = va_arg(ap, size_t);
        aWant[iCell] = va_arg(ap, uint64_t);
    }
    va_end(ap);
    for (size_t i = 0; i < 270; i++) {
        if (a[i] != aWant[i])
            fail_msg("cell %zu: %llu, expected %llu", i, (unsigned long long)a[i], (unsigned long long)aWant[i]);
    }
}

static void test_mapping_exact_vector(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(tally(HEADER "I1,13A,victim,citizen,2026-11-03\n"
                                  "I1,13A,OFFENDER,Undocumented,2026-11-03\n"
                                  "I2,120, Victim ,lpr,2026-11-30T23:59\n"
                                  "I3,09A,arrestee,,2026-11-01\n"
                                  "I4,23c,suspect,visa holder,2026-11-15\n",
                           a, &s),
                     PA_OK);
    expect(a, 5, CELL(4, 0, 1), (uint64_t)1, CELL(4, 3, 0), (uint64_t)1, CELL(8, 1, 1), (uint64_t)1,
           CELL(0, 4, 0), (uint64_t)1, CELL(10, 2, 0), (uint64_t)1);
    assert_int_equal(s.nRow, 5);
    assert_int_equal(s.nRecord, 4);
    assert_int_equal(s.nRecordCounted, 4);
    assert_int_equal(s.nBad, 0);
}

/* Bound 1: an incident adds at most 1 to a cell, however many rows name it. */
static void test_once_per_cell(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(tally(HEADER "I1,13A,victim,citizen,2026-11-03\n"
                                  "I1,13A,victim,citizen,2026-11-03\n"
                                  "I1,13A,victim,C,2026-11-03\n"
                                  "I2,13A,victim,citizen,2026-11-04\n",
                           a, &s),
                     PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)2);
    assert_int_equal(s.aIssue[PA_REC_REPEAT].nRow, 2);
    assert_int_equal(s.aIssue[PA_REC_REPEAT].aLine[0], 3);
}

/* Bound 2: at most k cells per incident, the lowest cell indexes kept. */
static void test_cells_per_record(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    /* six distinct cells in one incident, listed out of order; k = 4 */
    assert_int_equal(tally(HEADER "I1,23H,victim,citizen,2026-11-03\n"
                                  "I1,13B,victim,citizen,2026-11-03\n"
                                  "I1,09A,victim,citizen,2026-11-03\n"
                                  "I1,120,offender,unknown,2026-11-03\n"
                                  "I1,13A,offender,citizen,2026-11-03\n"
                                  "I1,35A,offender,citizen,2026-11-03\n",
                           a, &s),
                     PA_OK);
    expect(a, 4, CELL(0, 0, 1), (uint64_t)1, CELL(4, 0, 0), (uint64_t)1, CELL(5, 0, 1), (uint64_t)1,
           CELL(8, 4, 0), (uint64_t)1);
    assert_int_equal(s.nRecordCapped, 1);
    assert_int_equal(s.nCellDropped, 2);
    assert_int_equal(s.aIssue[PA_REC_DROPPED].nRow, 2);
    /* the dropped rows are larceny (line 2) and drugs (line 7) */
    assert_true((s.aIssue[PA_REC_DROPPED].aLine[0] == 2 && s.aIssue[PA_REC_DROPPED].aLine[1] == 7) ||
                (s.aIssue[PA_REC_DROPPED].aLine[0] == 7 && s.aIssue[PA_REC_DROPPED].aLine[1] == 2));
    /* with k = 1 only the homicide cell stays */
    task_with(65535, 1);
    assert_int_equal(tally(HEADER "I1,23H,victim,citizen,2026-11-03\n"
                                  "I1,09A,victim,citizen,2026-11-03\n",
                           a, &s),
                     PA_OK);
    expect(a, 1, CELL(0, 0, 1), (uint64_t)1);
    task_with(65535, 4);
}

/* Bound 3: every cell total clipped to max_measurement, and counted. */
static void test_clip(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    task_with(2, 4);
    assert_int_equal(tally(HEADER "I1,13A,victim,citizen,2026-11-03\n"
                                  "I2,13A,victim,citizen,2026-11-03\n"
                                  "I3,13A,victim,citizen,2026-11-03\n"
                                  "I4,13A,victim,citizen,2026-11-03\n"
                                  "I5,13A,victim,citizen,2026-11-03\n"
                                  "I6,13B,victim,citizen,2026-11-03\n",
                           a, &s),
                     PA_OK);
    expect(a, 2, CELL(4, 0, 1), (uint64_t)2, CELL(5, 0, 1), (uint64_t)1);
    assert_int_equal(s.nCellClipped, 1);
    assert_int_equal(s.nClippedAmount, 3);
    task_with(65535, 4);
}

/* An incident counts in the month of its incident date only, and only once:
 * its id coming back after another incident is refused. */
static void test_period_and_split(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(tally(HEADER "I1,13A,victim,citizen,2026-10-31\n"
                                  "I2,13A,victim,citizen,2026-11-01\n"
                                  "I3,13A,victim,citizen,2026-12-01\n"
                                  "I4,13A,victim,citizen,2026-11-30\n"
                                  "I2,13A,victim,citizen,2026-11-01\n"
                                  "I2,13B,victim,citizen,2026-11-01\n",
                           a, &s),
                     PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)2);
    assert_int_equal(s.nRecordEarlier, 1);
    assert_int_equal(s.nRecordLater, 1);
    assert_int_equal(s.aIssue[PA_REC_EARLIER].aLine[0], 2);
    assert_int_equal(s.aIssue[PA_REC_LATER].aLine[0], 4);
    assert_string_equal(s.zEarliestOther, "2026-10");
    assert_string_equal(s.zLatestOther, "2026-12");
    assert_int_equal(s.aIssue[PA_REC_SPLIT].nRow, 2);
    assert_int_equal(s.aIssue[PA_REC_SPLIT].aLine[0], 6);
    assert_int_equal(s.nBad, 2);
    /* the same file for October and December */
    const char *z = HEADER "I1,13A,victim,citizen,2026-10-31\nI3,13A,victim,citizen,2026-12-01\n";
    assert_int_equal(tally_map(NULL, z, strlen(z), "2026-10", a, &s), PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)1);
    assert_int_equal(tally_map(NULL, z, strlen(z), "2026-12", a, &s), PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)1);
    /* a row dated differently from its incident's first row is bad, not counted */
    assert_int_equal(tally(HEADER "I1,13A,victim,citizen,2026-11-03\nI1,13B,victim,citizen,2026-12-03\n", a, &s),
                     PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)1);
    assert_int_equal(s.aIssue[PA_REC_DATE_DIFFERS].nRow, 1);
    assert_int_equal(s.aIssue[PA_REC_DATE_DIFFERS].aLine[0], 3);
}

static void test_nibrs_rules(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(tally(HEADER "I1,09C,offender,citizen,2026-11-03\n"
                                  "I2,90D,arrestee,citizen,2026-11-03\n"
                                  "I2,90D,victim,citizen,2026-11-03\n"
                                  "I3,35A,victim,citizen,2026-11-03\n"
                                  "I3,35A,offender,citizen,2026-11-03\n"
                                  "I4,13A,witness,citizen,2026-11-03\n",
                           a, &s),
                     PA_OK);
    expect(a, 2, CELL(26, 0, 0), (uint64_t)1, CELL(20, 0, 0), (uint64_t)1);
    assert_int_equal(s.aIssue[PA_REC_EXCLUDED_OFFENSE].nRow, 1);
    assert_int_equal(s.aIssue[PA_REC_EXCLUDED_OFFENSE].aLine[0], 2);
    assert_int_equal(s.aIssue[PA_REC_NO_VICTIM].nRow, 2);
    assert_int_equal(s.aIssue[PA_REC_NO_VICTIM].aLine[0], 4);
    assert_int_equal(s.aIssue[PA_REC_NO_VICTIM].aLine[1], 5);
    assert_int_equal(s.aIssue[PA_REC_IGNORED_ROLE].nRow, 1);
    assert_int_equal(s.nBad, 0);
    /* no Group B or society victim cell can ever be non-zero */
    for (size_t st = 0; st < 5; st++) {
        assert_int_equal(a[CELL(26, st, 1)], 0);
        assert_int_equal(a[CELL(20, st, 1)], 0);
    }
}

static void test_unknown_values_listed(void **state)
{
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(tally(HEADER "I1,13A,victim,martian,2026-11-03\n"
                                  "I2,13A,bystander,citizen,2026-11-03\n"
                                  "I3,99Z,victim,citizen,2026-11-03\n"
                                  "I4,13A,victim,citizen,11/03/2026\n"
                                  "I5,13A,victim\n"
                                  ",13A,victim,citizen,2026-11-03\n"
                                  "I7,13A,victim,citizen,2026-02-30\n",
                           a, &s),
                     PA_OK);
    expect(a, 0);
    assert_int_equal(s.nBad, 7);
    assert_int_equal(s.aIssue[PA_REC_STATUS].aLine[0], 2);
    assert_non_null(strstr(s.aIssue[PA_REC_STATUS].zExample, "\"martian\""));
    assert_non_null(strstr(s.aIssue[PA_REC_STATUS].zExample, "\"U.S. citizen\""));
    assert_non_null(strstr(s.aIssue[PA_REC_STATUS].zExample, "\"undocumented\""));
    assert_non_null(strstr(s.aIssue[PA_REC_ROLE].zExample, "\"victim\""));
    assert_non_null(strstr(s.aIssue[PA_REC_ROLE].zExample, "\"offender/arrestee\""));
    assert_int_equal(s.aIssue[PA_REC_OFFENSE].aLine[0], 4);
    assert_int_equal(s.aIssue[PA_REC_DATE].nRow, 2);
    assert_int_equal(s.aIssue[PA_REC_DATE].aLine[1], 8);
    assert_int_equal(s.aIssue[PA_REC_FIELDS].aLine[0], 6);
    assert_int_equal(s.aIssue[PA_REC_NO_ID].aLine[0], 7);
    /* a custom mapping: other column names, US dates, its own values */
    const char *zMap = "{\"format\": 1, \"columns\": {\"incident_id\": \"INC\", \"offense_code\": \"UCR\","
                       " \"role\": \"Type\", \"status\": \"Imm\", \"incident_date\": \"When\"},"
                       " \"date_format\": \"MM/DD/YYYY\","
                       " \"status\": {\"u.s. citizen\": [\"Y\"], \"UNKNOWN\": [\"?\"]},"
                       " \"role\": {\"victim\": [\"VIC\"], \"offender/arrestee\": [\"SUS\"]}}";
    const char *z = "When,UCR,inc,TYPE,imm,extra\n11/3/2026,13a,A,vic,y,\n11/03/2026,13a,A,sus,?,\n"
                    "11/4/2026,13a,B,victim,no lawful status,\n";
    assert_int_equal(tally_map(zMap, z, strlen(z), "2026-11", a, &s), PA_OK);
    expect(a, 3, CELL(4, 0, 1), (uint64_t)1, CELL(4, 4, 0), (uint64_t)1, CELL(4, 3, 1), (uint64_t)1);
    assert_int_equal(s.nBad, 0);
}

static void test_mapping_errors(void **state)
{
    pa_records_mapping *m = NULL;
    (void)state;
    const char *z = "{\"format\": 1, \"columns\": {\"incident_id\": \"a\", \"offense_code\": \"b\","
                    " \"role\": \"c\", \"status\": \"d\", \"incident_date\": \"e\"},"
                    " \"status\": {\"citizen\": [\"x\"]}, \"role\": {}}";
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, z, strlen(z), OFFENSES), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "\"citizen\" is not a status category"));
    assert_non_null(strstr(pa_error_detail(), "\"U.S. citizen\", \"lawful permanent resident\""));
    z = "{\"format\": 1, \"columns\": {\"incident_id\": \"a\", \"offense_code\": \"b\","
        " \"role\": \"c\", \"status\": \"d\", \"incident_date\": \"e\"},"
        " \"status\": {\"unknown\": [\"X\"], \"U.S. citizen\": [\"x\"]}, \"role\": {}}";
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, z, strlen(z), OFFENSES), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "already mapped"));
    z = "{\"format\": 1, \"colums\": {}}";
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, z, strlen(z), OFFENSES), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "mapping.colums: unknown key"));
    z = "{\"format\": 1, \"columns\": {\"incident_id\": \"a\"}, \"status\": {}, \"role\": {}}";
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, z, strlen(z), OFFENSES), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "columns.offense_code: missing"));
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, NULL, 0, "/nonexistent.csv"), PA_EIO);
    assert_null(m);
}

/* The default mapping names exactly the default task's categories. */
static void test_default_mapping(void **state)
{
    pa_records_mapping *m = NULL;
    json_error_t err;
    (void)state;
    json_t *p = json_loads(pa_records_default_mapping(), 0, &err);
    assert_non_null(p);
    json_t *pS = json_object_get(p, "status"), *pR = json_object_get(p, "role");
    assert_int_equal(json_object_size(pS), 5);
    for (size_t i = 0; i < 5; i++)
        assert_non_null(json_object_get(pS, pa_default_status[i]));
    assert_int_equal(json_object_size(pR), 2);
    for (size_t i = 0; i < 2; i++)
        assert_non_null(json_object_get(pR, pa_default_roles[i]));
    json_decref(p);
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, NULL, 0, OFFENSES), PA_OK);
    pa_records_mapping_free(m);
}

static void expect_error(const char *zText, size_t nText, const char *zWant)
{
    uint64_t a[270];
    pa_records_summary s;
    assert_int_equal(tally_map(NULL, zText, nText, "2026-11", a, &s), PA_EDECODE);
    if (strstr(pa_error_detail(), zWant) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", pa_error_detail(), zWant);
    expect(a, 0);
}

static void test_bad_csv(void **state)
{
    uint64_t a[270], b[270];
    pa_records_summary s;
    (void)state;
    expect_error("incident_id,offense,role,immigration_status,incident_date\n", 59,
                 "line 1: no column \"offense_code\"");
    const char zLatin1[] = HEADER "I1,13A,victim,citizen,2026-11-03\nI2,13A,victim,citoyen fran\xe7" "ais,2026-11-03\n";
    expect_error(zLatin1, sizeof zLatin1 - 1, "line 3: not UTF-8 (byte 0xE7)");
    const char zNul[] = HEADER "I1,13A,victim,citizen,2026-11-03\n\0\n";
    expect_error(zNul, sizeof zNul - 1, "line 3: a NUL byte");
    const char *z = HEADER "I1,13A,victim,citizen,2026-11-03\nI2,13A,\"victim,citizen,2026-11-03\nI3,13A\n";
    expect_error(z, strlen(z), "line 3: a quote opened in this record is never closed");
    z = HEADER "I1,13A,vic\"tim,citizen,2026-11-03\n";
    expect_error(z, strlen(z), "line 2: a quote inside an unquoted field");
    z = HEADER "I1,13A,\"victim\"x,citizen,2026-11-03\n";
    expect_error(z, strlen(z), "line 2: \"x\" after a closing quote");
    /* CRLF, a BOM, quoted fields, blank lines and multi-line fields give the same vector */
    z = HEADER "I1,13A,victim,citizen,2026-11-03\nI2,120,offender,LPR,2026-11-04\n";
    assert_int_equal(tally(z, a, &s), PA_OK);
    z = "\xEF\xBB\xBF" "incident_id,offense_code,role,immigration_status,incident_date\r\n\r\n"
        "\"I1\",13A,\"victim\",\"citizen\",2026-11-03\r\n"
        "I2,\"120\",offender,LPR,2026-11-04\r\n";
    assert_int_equal(tally(z, b, &s), PA_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(s.nRow, 2);
    z = HEADER "\"I\n1\",13A,victim,citizen,2026-11-03\nI2,13A,\"vic\"\"tim\",citizen,2026-11-03\n";
    assert_int_equal(tally(z, b, &s), PA_OK);
    assert_int_equal(s.aIssue[PA_REC_ROLE].aLine[0], 4); /* line numbers count physical lines */
    /* empty files: no header, or a header only */
    assert_int_equal(tally_map(NULL, "", 0, "2026-11", a, &s), PA_OK);
    assert_int_equal(s.nRow, 0);
    assert_int_equal(tally(HEADER, a, &s), PA_OK);
    assert_int_equal(s.nRow, 0);
    expect(a, 0);
}

/* A 1 GB line, produced lazily: refused after the 1 MiB limit, naming the line. */
static ssize_t huge_read(void *pCookie, char *buf, size_t n)
{
    size_t *pLeft = pCookie;
    static const char zHead[] = HEADER "I1,13A,victim,citizen,2026-11-03\n";
    size_t nGiven = 0;
    if (*pLeft == ((size_t)1 << 30)) {
        memcpy(buf, zHead, sizeof zHead - 1);
        nGiven = sizeof zHead - 1;
    }
    size_t k = n - nGiven < *pLeft ? n - nGiven : *pLeft;
    memset(buf + nGiven, 'x', k);
    *pLeft -= k;
    return (ssize_t)(nGiven + k);
}

static void test_gigabyte_line(void **state)
{
    size_t nLeft = (size_t)1 << 30;
    cookie_io_functions_t io = {huge_read, NULL, NULL, NULL};
    pa_records_mapping *m = NULL;
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    assert_int_equal(pa_records_mapping_parse(&m, g_m.pTask, NULL, 0, OFFENSES), PA_OK);
    FILE *f = fopencookie(&nLeft, "r", io);
    assert_non_null(f);
    assert_int_equal(pa_records_tally(m, g_m.pTask, f, "big.csv", "2026-11", a, &s, NULL, NULL), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "big.csv: line 3: longer than 1048576 bytes"));
    assert_true(nLeft > ((size_t)1 << 30) - ((size_t)8 << 20)); /* stopped early */
    fclose(f);
    pa_records_mapping_free(m);
    expect(a, 0);
}

/* Many incidents: the Bloom filter never mistakes a new id for a seen one here. */
static void test_many_incidents(void **state)
{
    size_t n = 200000, nCap = n * 48 + 100, k = 0;
    char *z = malloc(nCap);
    uint64_t a[270];
    pa_records_summary s;
    (void)state;
    k += (size_t)snprintf(z, nCap, HEADER);
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(z + k, nCap - k, "INC-%zu,13A,victim,citizen,2026-11-%02zu\n", i, 1 + i % 28);
    assert_int_equal(tally_map(NULL, z, k, "2026-11", a, &s), PA_OK);
    expect(a, 1, CELL(4, 0, 1), (uint64_t)65535); /* clipped at max_measurement */
    assert_int_equal(s.nClippedAmount, n - 65535);
    assert_int_equal(s.nRecordCounted, n);
    assert_int_equal(s.nBad, 0);
    free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_exact_vector), cmocka_unit_test(test_once_per_cell),
        cmocka_unit_test(test_cells_per_record),     cmocka_unit_test(test_clip),
        cmocka_unit_test(test_period_and_split),     cmocka_unit_test(test_nibrs_rules),
        cmocka_unit_test(test_unknown_values_listed), cmocka_unit_test(test_mapping_errors),
        cmocka_unit_test(test_default_mapping),      cmocka_unit_test(test_bad_csv),
        cmocka_unit_test(test_gigabyte_line),        cmocka_unit_test(test_many_incidents),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
