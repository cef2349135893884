/*
 * Tests of the counts CSV loader (engine/client/counts_csv.c), the input of
 * `privagg submit --counts`: the cell index of named categories is pinned
 * (a shift by one cell fails), the last cell is accepted and one past it refused
 * without a write out of bounds (a canary after the vector), and every bad line
 * (count not a whole number or above the maximum, a cell listed twice, an
 * unknown category, a missing column) is an error naming the line.
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
    assert_int_equal(load("cell,count\n0,1\n269,4\n", a), PA_OK);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[269], 4);
    for (size_t i = 1; i < 269; i++)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_cells_pinned),
        cmocka_unit_test(test_cell_index_bounds),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
