/*
 * The counts CSV loader (pa_counts_load_csv, engine/client/counts_csv.c), the
 * agency's input: every cell lands at its own index (no shift), cell indexes
 * stop at nCell - 1 (270 would be written past the array), the category form
 * maps to the same row-major index the task's cells use, cells not listed are
 * 0, and every malformed line is refused naming the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "privagg/client.h"
#include "support/mo_task.h"

static mo_task g_m;
static char g_zDir[64], g_zPath[128];

/* The default task without its structural zeros (their refusal is tested in
 * submit_counts_csv_test): every cell may be counted here. */
static void no_structural_zeros(json_t *pRoot)
{
    json_object_del(json_object_get(pRoot, "schema"), "structural_zeros");
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_zDir, sizeof g_zDir, "/tmp/pa_counts_csv_XXXXXX");
    if (mkdtemp(g_zDir) == NULL)
        return -1;
    snprintf(g_zPath, sizeof g_zPath, "%s/counts.csv", g_zDir);
    return mo_task_new(&g_m, 12, 1, no_structural_zeros) == PA_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unlink(g_zPath);
    rmdir(g_zDir);
    mo_task_free(&g_m);
    return 0;
}

static void write_file(const char *z)
{
    FILE *f = fopen(g_zPath, "w");
    assert_non_null(f);
    fputs(z, f);
    fclose(f);
}

/* Load z into a (pre-filled with garbage); the status. */
static int load(const char *z, uint64_t *a)
{
    write_file(z);
    for (size_t i = 0; i < 271; i++)
        a[i] = 0xdeadbeef;
    return pa_counts_load_csv(g_m.pTask, g_zPath, a);
}

static void expect_refused(const char *z, int want, const char *zNeedle)
{
    uint64_t a[271];
    int rc = load(z, a);
    if (rc != want || strstr(pa_error_detail(), zNeedle) == NULL)
        fail_msg("%s: got %d (%s), expected %d naming \"%s\"", z, rc, pa_error_detail(), want, zNeedle);
    assert_int_equal(a[270], 0xdeadbeef); /* nothing written past the cells */
}

static void test_every_cell_at_its_index(void **state)
{
    char z[270 * 16 + 16], *p = z;
    uint64_t a[271];
    (void)state;
    assert_int_equal(g_m.pTask->nCell, 270);
    p += sprintf(p, "cell,count\n");
    for (size_t i = 0; i < 270; i++)
        p += sprintf(p, "%zu,%zu\n", 269 - i, (269 - i) * 3 + 1); /* any order */
    assert_int_equal(load(z, a), PA_OK);
    for (size_t i = 0; i < 270; i++)
        assert_int_equal(a[i], i * 3 + 1);
    assert_int_equal(a[270], 0xdeadbeef);
    /* unlisted cells are 0; the first and the last cell */
    assert_int_equal(load("cell,count\n0,5\n269,7\n", a), PA_OK);
    assert_int_equal(a[0], 5);
    assert_int_equal(a[269], 7);
    for (size_t i = 1; i < 269; i++)
        assert_int_equal(a[i], 0);
    assert_int_equal(a[270], 0xdeadbeef);
    /* columns in another order */
    assert_int_equal(load("count,cell\n9,1\n", a), PA_OK);
    assert_int_equal(a[1], 9);
    assert_int_equal(a[0], 0);
}

static void test_cell_bounds(void **state)
{
    (void)state;
    expect_refused("cell,count\n270,1\n", PA_EINVAL, "line 2: cell \"270\" is not in 0..269");
    expect_refused("cell,count\n0,1\n271,1\n", PA_EINVAL, "line 3: cell \"271\"");
    expect_refused("cell,count\n18446744073709551615,1\n", PA_EINVAL, "not in 0..269");
    expect_refused("cell,count\n-1,1\n", PA_EINVAL, "cell \"-1\"");
    expect_refused("cell,count\n,1\n", PA_EINVAL, "cell \"\"");
    expect_refused("cell,count\n1x,1\n", PA_EINVAL, "cell \"1x\"");
    expect_refused("cell,count\n3,1\n3,2\n", PA_EINVAL, "line 3: cell 3 is listed twice");
}

static void test_count_values(void **state)
{
    uint64_t a[271];
    (void)state;
    expect_refused("cell,count\n0,1.5\n", PA_EINVAL, "line 2: count \"1.5\" is not a whole number");
    expect_refused("cell,count\n0,-2\n", PA_EINVAL, "count \"-2\"");
    expect_refused("cell,count\n0,\n", PA_EINVAL, "count \"\"");
    expect_refused("cell,count\n0, 1\n", PA_EINVAL, "count \" 1\"");
    assert_int_equal(load("cell,count\n0,0\n1,65535\n", a), PA_OK);
    assert_int_equal(a[1], 65535);
    expect_refused("cell\n0\n", PA_EDECODE, "no \"count\" column");
}

static void test_category_form(void **state)
{
    const pa_task *t = g_m.pTask;
    char z[1024], *p = z;
    uint64_t a[271];
    (void)state;
    assert_true(t->nDimension >= 2);
    /* header: the dimension names, then count */
    for (size_t d = 0; d < t->nDimension; d++)
        p += sprintf(p, "%s,", t->aDimension[d].zName);
    p += sprintf(p, "count\n");
    /* rows: all-first categories, all-last categories, and one mixed */
    size_t aiPick[3][8];
    for (size_t d = 0; d < t->nDimension; d++) {
        aiPick[0][d] = 0;
        aiPick[1][d] = t->aDimension[d].nCategory - 1;
        aiPick[2][d] = d % 2 ? t->aDimension[d].nCategory - 1 : 1 % t->aDimension[d].nCategory;
    }
    for (int r = 0; r < 3; r++) {
        for (size_t d = 0; d < t->nDimension; d++)
            p += sprintf(p, "%s,", t->aDimension[d].azCategory[aiPick[r][d]]);
        p += sprintf(p, "%d\n", 10 + r);
    }
    assert_int_equal(load(z, a), PA_OK);
    size_t nSet = 0;
    for (int r = 0; r < 3; r++) {
        size_t cell = 0; /* row-major, the first dimension most significant */
        for (size_t d = 0; d < t->nDimension; d++)
            cell = cell * t->aDimension[d].nCategory + aiPick[r][d];
        assert_true(cell < 270);
        assert_int_equal(a[cell], 10 + r);
    }
    for (size_t i = 0; i < 270; i++)
        nSet += a[i] != 0;
    assert_int_equal(nSet, 3);
    assert_int_equal(a[0], 10);
    assert_int_equal(a[269], 11);
    assert_int_equal(a[270], 0xdeadbeef);

    /* an unknown category, a missing dimension column */
    p = z;
    for (size_t d = 0; d < t->nDimension; d++)
        p += sprintf(p, "%s,", t->aDimension[d].zName);
    p += sprintf(p, "count\n");
    for (size_t d = 0; d < t->nDimension; d++)
        p += sprintf(p, "%s,", d == 0 ? "no-such-category" : t->aDimension[d].azCategory[0]);
    p += sprintf(p, "1\n");
    expect_refused(z, PA_EINVAL, "\"no-such-category\" is not a category of the task");
    snprintf(z, sizeof z, "%s,count\n%s,1\n", t->aDimension[0].zName, t->aDimension[0].azCategory[0]);
    expect_refused(z, PA_EDECODE, "no \"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell_at_its_index),
        cmocka_unit_test(test_cell_bounds),
        cmocka_unit_test(test_count_values),
        cmocka_unit_test(test_category_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
