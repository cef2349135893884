/*
 * Tests of the synthetic incident exports (tools/synth/synth_records.c) against
 * the submitter's reader (engine/submit/records.c): for every one of the 646
 * Missouri agencies, the export of a month read with the default mapping gives
 * exactly the count vector the generator computed from its incidents (truth),
 * with the bad-row share under the submitter's default limit; the month as a
 * whole shows every kind of mess the generator promises (multi-offense
 * incidents, repeats, late records, 09C, society victims, witnesses, broken rows
 * of five kinds) and statewide totals of the model's order; the structural zeros
 * stay zero; the same seed gives the same bytes.  This is the in-process form
 * of "for every agency of a synth month, `privagg submit --records --dry-run
 * --json` equals truth.json" (the CLI form, on a sample, is in
 * tests/integration/submit_records.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/submit.h"
#include "privagg/synth.h"
#include "support/mo_task.h"

static void test_every_agency_matches_truth(void **state)
{
    mo_task m;
    pa_synth *s;
    pa_records_mapping *pMap;
    uint64_t aTruth[270], aCounts[270], aState[270] = {0};
    uint64_t aKind[PA_REC_KIND_COUNT] = {0}, nRow = 0, nBroken = 0, nIncident = 0, nCapped = 0;
    (void)state;

    assert_int_equal(mo_task_new(&m, 0, 10, NULL), PA_OK);
    assert_int_equal(m.pTask->nAgency, 646);
    assert_int_equal(pa_synth_new(&s, m.pTask, PA_SOURCE_DIR "/data", 2026), PA_OK);
    assert_int_equal(pa_records_mapping_load(&pMap, m.pTask, NULL, PA_SOURCE_DIR "/data/nibrs_offense_buckets.csv"),
                     PA_OK);
    for (size_t i = 0; i < m.pTask->nAgency; i++) {
        const pa_task_agency *a = &m.pTask->aAgency[i];
        pa_synth_records_info info;
        pa_records_summary sum;
        FILE *f = tmpfile();
        assert_non_null(f);
        assert_int_equal(pa_synth_records(s, a, "2026-10", f, aTruth, &info), PA_OK);
        rewind(f);
        if (pa_records_tally(pMap, m.pTask, f, a->zId, "2026-10", aCounts, &sum, NULL, NULL) != PA_OK)
            fail_msg("%s: %s", a->zId, pa_error_detail());
        fclose(f);
        for (size_t c = 0; c < 270; c++)
            if (aCounts[c] != aTruth[c])
                fail_msg("%s: cell %zu: the reader counts %llu, the truth is %llu", a->zId, c,
                         (unsigned long long)aCounts[c], (unsigned long long)aTruth[c]);
        /* what the reader saw agrees with what was written */
        assert_int_equal(sum.nRow + 1, info.nRow);
        assert_int_equal(sum.nBad, info.nBrokenRow);
        assert_true(sum.nBad * 100 <= sum.nRow); /* <= 1 %: under the default 2 % */
        assert_int_equal(sum.nRecord, info.nIncident);
        for (int e = 0; e < PA_REC_KIND_COUNT; e++)
            aKind[e] += sum.aIssue[e].nRow;
        for (size_t c = 0; c < 270; c++) {
            aState[c] += aTruth[c];
            if (pa_task_structural_zero(m.pTask, c))
                assert_int_equal(aTruth[c], 0);
        }
        nRow += sum.nRow;
        nBroken += info.nBrokenRow;
        nIncident += info.nIncidentInPeriod;
        nCapped += sum.nRecordCapped;
    }
    /* the month shows every kind of mess */
    static const pa_records_kind aWant[] = {
        PA_REC_FIELDS, PA_REC_DATE,     PA_REC_OFFENSE, PA_REC_STATUS, PA_REC_ROLE,
        PA_REC_EXCLUDED_OFFENSE, PA_REC_NO_VICTIM, PA_REC_IGNORED_ROLE, PA_REC_EARLIER, PA_REC_REPEAT,
        PA_REC_DROPPED,
    };
    for (size_t i = 0; i < sizeof aWant / sizeof *aWant; i++)
        if (aKind[aWant[i]] == 0)
            fail_msg("no row of kind %s in the whole month", pa_records_kind_name(aWant[i]));
    assert_int_equal(aKind[PA_REC_SPLIT] + aKind[PA_REC_NO_ID] + aKind[PA_REC_DATE_DIFFERS], 0);
    assert_true(nBroken > 100 && nBroken * 100 < nRow);
    assert_true(nCapped > 0);
    /* statewide: ~6.2 M residents x ~6,700 incidents per 100,000 a year / 12 */
    assert_true(nIncident > 30000 && nIncident < 40000);
    /* larceny (bucket 11) incidents with a victim: ~1600/12 * 62.4 ≈ 8300, a
     * little less once a victim of several statuses counts once per status */
    uint64_t nLarceny = 0;
    for (size_t st = 0; st < 5; st++)
        nLarceny += aState[(10 * 5 + st) * 2 + 1];
    assert_true(nLarceny > 6500 && nLarceny < 10500);
    fprintf(stderr, "646 agencies: %llu rows, %llu incidents of the month, %llu broken rows, %llu capped\n",
            (unsigned long long)nRow, (unsigned long long)nIncident, (unsigned long long)nBroken,
            (unsigned long long)nCapped);
    pa_records_mapping_free(pMap);
    pa_synth_free(s);
    mo_task_free(&m);
}

static void test_deterministic(void **state)
{
    mo_task m;
    pa_synth *s;
    uint64_t a[270], b[270];
    char *z1 = NULL, *z2 = NULL;
    size_t n1 = 0, n2 = 0;
    (void)state;

    assert_int_equal(mo_task_new(&m, 20, 10, NULL), PA_OK);
    assert_int_equal(pa_synth_new(&s, m.pTask, PA_SOURCE_DIR "/data", 7), PA_OK);
    FILE *f1 = open_memstream(&z1, &n1), *f2 = open_memstream(&z2, &n2);
    assert_int_equal(pa_synth_records(s, &m.pTask->aAgency[3], "2026-01", f1, a, NULL), PA_OK);
    assert_int_equal(pa_synth_records(s, &m.pTask->aAgency[3], "2026-01", f2, b, NULL), PA_OK);
    fclose(f1);
    fclose(f2);
    assert_int_equal(n1, n2);
    assert_memory_equal(z1, z2, n1);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(pa_synth_records(s, &m.pTask->aAgency[3], "2026-13", stdout, a, NULL), PA_EINVAL);
    free(z1);
    free(z2);
    pa_synth_free(s);
    mo_task_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_agency_matches_truth),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
