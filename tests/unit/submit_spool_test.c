/*
 * Tests of the agency's spool (engine/submit/spool.c): a report is stored before
 * any upload and found again for a re-run; states and attempts are recorded; the
 * sealed bytes are dropped once acknowledged; a correction supersedes the older
 * entry in one transaction; the file is private (0600, refused when open to
 * others); the counts digest depends on the counts, the period, the task and
 * the agency's key, and the spool never holds the counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/submit.h"
#include "support/mo_task.h"

static mo_task g_m;
static char g_zPath[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_zPath, sizeof g_zPath, "/tmp/pa_spool_%ld.db", (long)getpid());
    unlink(g_zPath);
    return mo_task_new(&g_m, 3, 1, NULL);
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_zPath);
    mo_task_free(&g_m);
    return 0;
}

static void entry(pa_spool_entry *e, const char *zPeriod, uint64_t v)
{
    uint64_t a[270] = {0};
    a[41] = v;
    memset(e, 0, sizeof *e);
    memcpy(e->aTaskId, g_m.pTask->aTaskId, 32);
    snprintf(e->zAgency, sizeof e->zAgency, "%s", g_m.aAgency[0].zId);
    memcpy(e->zPeriod, zPeriod, 8);
    pa_spool_counts_mac(e->aCountsMac, &g_m.aAgency[0], g_m.pTask->aTaskId, zPeriod, a, 270);
    assert_int_equal(pa_submit_report_id(g_m.pTask, &g_m.aAgency[0], zPeriod, a, 270, &e->pReport, &e->nReport,
                                         e->aReportId),
                     PA_OK);
}

static void test_add_find_mark(void **state)
{
    pa_spool *p;
    pa_spool_entry e, cur, *a;
    size_t n;
    struct stat st;
    (void)state;
    assert_int_equal(pa_spool_open(&p, g_zPath), PA_OK);
    assert_int_equal(stat(g_zPath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(pa_spool_current(p, g_m.pTask->aTaskId, g_m.aAgency[0].zId, "2026-10", &cur), PA_ENOTFOUND);
    entry(&e, "2026-10", 5);
    assert_int_equal(pa_spool_add(p, &e), PA_OK);
    pa_spool_close(p);

    /* a new process finds the same report */
    assert_int_equal(pa_spool_open(&p, g_zPath), PA_OK);
    assert_int_equal(pa_spool_current(p, g_m.pTask->aTaskId, g_m.aAgency[0].zId, "2026-10", &cur), PA_OK);
    assert_memory_equal(cur.aReportId, e.aReportId, 16);
    assert_memory_equal(cur.aCountsMac, e.aCountsMac, 32);
    assert_int_equal(cur.nReport, e.nReport);
    assert_memory_equal(cur.pReport, e.pReport, e.nReport);
    assert_int_equal(cur.eState, PA_SPOOL_PENDING);
    assert_int_equal(pa_spool_list(p, g_m.pTask->aTaskId, 1, &a, &n), PA_OK);
    assert_int_equal(n, 1);
    pa_spool_entries_free(a, n);

    assert_int_equal(pa_spool_mark(p, &cur, PA_SPOOL_SENT, "connection refused"), PA_OK);
    assert_int_equal(pa_spool_mark(p, &cur, PA_SPOOL_ACKNOWLEDGED, ""), PA_OK);
    pa_spool_entry_free(&cur);
    assert_int_equal(pa_spool_current(p, g_m.pTask->aTaskId, g_m.aAgency[0].zId, "2026-10", &cur), PA_OK);
    assert_int_equal(cur.eState, PA_SPOOL_ACKNOWLEDGED);
    assert_int_equal(cur.nAttempt, 2);
    assert_true(cur.tAcked > 0);
    assert_null(cur.pReport); /* the sealed bytes are not kept once the leader holds them */
    assert_int_equal(pa_spool_list(p, g_m.pTask->aTaskId, 1, &a, &n), PA_OK);
    assert_int_equal(n, 0);
    pa_spool_entries_free(a, n);

    /* a correction supersedes the acknowledged entry */
    pa_spool_entry c;
    entry(&c, "2026-10", 6);
    c.bCorrection = 1;
    memcpy(c.aCorrects, cur.aReportId, 16);
    assert_int_equal(pa_spool_add(p, &c), PA_OK);
    pa_spool_entry_free(&cur);
    assert_int_equal(pa_spool_list(p, NULL, 0, &a, &n), PA_OK);
    assert_int_equal(a[0].eState, PA_SPOOL_ACKNOWLEDGED); /* until the correction is acknowledged */
    pa_spool_entries_free(a, n);
    assert_int_equal(pa_spool_mark(p, &c, PA_SPOOL_ACKNOWLEDGED, ""), PA_OK);
    assert_int_equal(pa_spool_current(p, g_m.pTask->aTaskId, g_m.aAgency[0].zId, "2026-10", &cur), PA_OK);
    assert_memory_equal(cur.aReportId, c.aReportId, 16);
    assert_true(cur.bCorrection);
    assert_memory_equal(cur.aCorrects, e.aReportId, 16);
    assert_int_equal(pa_spool_list(p, NULL, 0, &a, &n), PA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(a[0].eState, PA_SPOOL_SUPERSEDED);
    assert_int_equal(a[1].eState, PA_SPOOL_ACKNOWLEDGED);
    pa_spool_entries_free(a, n);
    /* another task's entries are not listed for this task */
    uint8_t aOther[32] = {1};
    assert_int_equal(pa_spool_list(p, aOther, 1, &a, &n), PA_OK);
    assert_int_equal(n, 0);
    pa_spool_entries_free(a, n);
    pa_spool_entry_free(&cur);
    pa_spool_entry_free(&c);
    pa_spool_entry_free(&e);
    pa_spool_close(p);

    /* refused when others may read it */
    chmod(g_zPath, 0644);
    assert_int_equal(pa_spool_open(&p, g_zPath), PA_EAUTH);
    chmod(g_zPath, 0600);
}

static void test_counts_mac(void **state)
{
    uint64_t a[270] = {0}, b[270] = {0};
    uint8_t m1[32], m2[32];
    (void)state;
    a[7] = 3;
    b[7] = 3;
    pa_spool_counts_mac(m1, &g_m.aAgency[0], g_m.pTask->aTaskId, "2026-10", a, 270);
    pa_spool_counts_mac(m2, &g_m.aAgency[0], g_m.pTask->aTaskId, "2026-10", b, 270);
    assert_memory_equal(m1, m2, 32);
    b[8] = 1;
    pa_spool_counts_mac(m2, &g_m.aAgency[0], g_m.pTask->aTaskId, "2026-10", b, 270);
    assert_memory_not_equal(m1, m2, 32);
    pa_spool_counts_mac(m2, &g_m.aAgency[0], g_m.pTask->aTaskId, "2026-11", a, 270);
    assert_memory_not_equal(m1, m2, 32);
    pa_spool_counts_mac(m2, &g_m.aAgency[1], g_m.pTask->aTaskId, "2026-10", a, 270);
    assert_memory_not_equal(m1, m2, 32);
    uint8_t aTask[32];
    memcpy(aTask, g_m.pTask->aTaskId, 32);
    aTask[0] ^= 1;
    pa_spool_counts_mac(m2, &g_m.aAgency[0], aTask, "2026-10", a, 270);
    assert_memory_not_equal(m1, m2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_mark),
        cmocka_unit_test(test_counts_mac),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
