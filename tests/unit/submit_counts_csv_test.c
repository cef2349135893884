/*
 * Tests of the counts CSV loader (engine/client/counts_csv.c), the input of
 * `privagg submit --counts`: the cell index of named categories is pinned
 * (a shift by one cell fails), the last cell is accepted and one past it refused
 * without a write out of bounds (a canary after the vector), and every bad line
 * (count not a whole number or above the maximum, a cell listed twice, an
 * unknown category, a missing column) is an error naming the line.  The
 * default task declares the NIBRS structural zeros (victims of crimes against
 * society and of Group B offenses: 7 buckets x 5 statuses) and a non-zero count
 * there is refused, a zero accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privagg/client.h"
#include "privagg/common.h"
#include "support/mo_task.h"

static mo_task g_m;
static char g_zPath[64];

static int setup(void **state)
{
    (void)state;
    snprintf(g_zPath, sizeof g_zPath, "/tmp/pa_counts_%ld.csv", (long)getpid());
    return mo_task_new(&g_m, 3, 1, NULL);
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_zPath);
    mo_task_free(&g_m);
    return 0;
}

/* Load zText into a[0..270) with a canary at a[270]. */
static int load(const char *zText, uint64_t a[271])
{
    FILE *f = fopen(g_zPath, "w");
    assert_non_null(f);
    fputs(zText, f);
    fclose(f);
    for (size_t i = 0; i < 271; i++)
        a[i] = 0xC0FFEE;
    int rc = pa_counts_load_csv(g_m.pTask, g_zPath, a);
    assert_int_equal(a[270], 0xC0FFEE);
    return rc;
}

static void expect_only(const uint64_t *a, size_t iCell, uint64_t v)
{
    for (size_t i = 0; i < 270; i++)
        if (a[i] != (i == iCell ? v : 0))
            fail_msg("cell %zu: %llu", i, (unsigned long long)a[i]);
}

/* Named categories land on the row-major cell: ((offense * 5) + status) * 2 + role. */
static void test_named_cells_pinned(void **state)
{
    uint64_t a[271];
    (void)state;
    assert_int_equal(load("offense,status,role,count\nHomicide,U.S. citizen,offender/arrestee,7\n", a), PA_OK);
    expect_only(a, 0, 7);
    assert_int_equal(load("offense,status,role,count\nHomicide,unknown,victim,3\n", a), PA_OK);
    expect_only(a, 9, 3);
    assert_int_equal(load("role,count,offense,status\nvictim,5,Aggravated assault,no lawful status\n", a), PA_OK);
    expect_only(a, (4 * 5 + 3) * 2 + 1, 5);
    assert_int_equal(load("offense,status,role,count\nGroup B (arrest only),unknown,offender/arrestee,2\n", a),
                     PA_OK);
    expect_only(a, 268, 2);
    assert_int_equal(load("offense,status,role,count\n", a), PA_OK);
    expect_only(a, 0, 0);
}

static void test_cell_index_bounds(void **state)
{
    uint64_t a[271];
    (void)state;
    /* the last cell (Group B x unknown x victim, a structural zero: only 0 is valid) */
    assert_int_equal(load("cell,count\n0,1\n269,0\n268,4\n", a), PA_OK);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[268], 4);
    assert_int_equal(a[269], 0);
    for (size_t i = 1; i < 268; i++)
        assert_int_equal(a[i], 0);
    assert_int_equal(load("cell,count\n270,1\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 2: cell \"270\" is not in 0..269"));
    assert_int_equal(load("cell,count\n0,1\n18446744073709551616,1\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 3"));
    assert_int_equal(load("cell,count\n-1,1\n", a), PA_EINVAL);
    assert_int_equal(load("cell,count\n1x,1\n", a), PA_EINVAL);
}

static void test_bad_lines(void **state)
{
    uint64_t a[271];
    (void)state;
    assert_int_equal(load("cell,count\n3,1\n3,2\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 3: cell 3 is listed twice"));
    assert_int_equal(load("cell,count\n3,-1\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 2: count \"-1\" is not a whole number"));
    assert_int_equal(load("cell,count\n3,1.5\n", a), PA_EINVAL);
    assert_int_equal(load("cell,count\n3,65535\n4,65536\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 3: count 65536 is above the task's maximum 65535"));
    assert_int_equal(load("cell,count\n3,99999999999999999999\n", a), PA_EINVAL);
    assert_int_equal(load("offense,status,role,count\nHomicide,citizen,victim,1\n", a), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 2: status \"citizen\" is not a category"));
    assert_int_equal(load("offense,status,count\nHomicide,unknown,1\n", a), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "no \"role\" column"));
    assert_int_equal(load("cell\n3\n", a), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "no \"count\" column"));
}

static void test_structural_zeros(void **state)
{
    uint64_t a[271];
    size_t nZero = 0;
    (void)state;
    assert_int_equal(g_m.pTask->nStructuralZero, 35);
    for (size_t i = 0; i < 270; i++) {
        size_t o = i / 10, r = i % 2; /* bucket o + 1, role r (1 = victim) */
        int bWant = r == 1 && o >= 20;  /* buckets 21..27: society and Group B */
        assert_int_equal(pa_task_structural_zero(g_m.pTask, i), bWant);
        nZero += bWant;
    }
    assert_int_equal(nZero, 35);
    /* Group B (arrest only) x citizen x victim = cell 261 */
    assert_int_equal(load("offense,status,role,count\n"
                          "Group B (arrest only),U.S. citizen,victim,1\n", a),
                     PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "line 2: cell 261 is a structural zero"));
    assert_int_equal(load("cell,count\n5,2\n207,3\n", a), PA_EINVAL); /* drugs victim */
    assert_non_null(strstr(pa_error_detail(), "line 3: cell 207 is a structural zero"));
    assert_int_equal(load("cell,count\n261,0\n260,4\n", a), PA_OK);    /* zero there; offender */
    expect_only(a, 260, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_cells_pinned),
        cmocka_unit_test(test_cell_index_bounds),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_structural_zeros),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
