/*
 * Tests of the synthetic data generator: deterministic per (seed, agency,
 * period), different across periods, and statewide monthly totals of the right
 * order (larceny ~ 1600/yr per 100k over 6.2 M residents).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "privagg/synth.h"
#include "support/mo_task.h"

static void test_deterministic_and_plausible(void **state)
{
    mo_task m;
    pa_synth *s;
    uint64_t a[270], b[270], total[270] = {0};
    (void)state;
    assert_int_equal(mo_task_new(&m, 0, 10, NULL), PA_OK);
    assert_int_equal(m.pTask->nAgency, 646);
    assert_int_equal(pa_synth_new(&s, m.pTask, PA_SOURCE_DIR "/data", 42), PA_OK);
    assert_int_equal(pa_synth_counts(s, &m.pTask->aAgency[0], "2026-10", a), PA_OK);
    assert_int_equal(pa_synth_counts(s, &m.pTask->aAgency[0], "2026-10", b), PA_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(pa_synth_counts(s, &m.pTask->aAgency[0], "2026-11", b), PA_OK);
    assert_memory_not_equal(a, b, sizeof a);
    double pop = 0;
    for (size_t i = 0; i < m.pTask->nAgency; i++) {
        assert_int_equal(pa_synth_counts(s, &m.pTask->aAgency[i], "2026-10", a), PA_OK);
        for (size_t c = 0; c < 270; c++) {
            assert_true(a[c] <= 65535);
            total[c] += a[c];
        }
        pop += pa_synth_population(s, &m.pTask->aAgency[i]);
    }
    /* every county's population is covered once, plus statewide/other agencies */
    assert_true(pop > 6.2e6 && pop < 6.4e6);
    /* larceny (bucket 11), all statuses, victims: mean 1600/12 * 62.4 ≈ 8300 */
    uint64_t larceny = 0;
    for (size_t st = 0; st < 5; st++)
        larceny += total[(10 * 5 + st) * 2 + 1];
    assert_true(larceny > 7500 && larceny < 9500);
    pa_synth_free(s);
    mo_task_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_and_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
