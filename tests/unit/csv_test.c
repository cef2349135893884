/*
 * Tests of the CSV reader: quoting, escapes, CRLF, empty fields, errors with line
 * numbers, and the shipped data files (646 Missouri agencies, 27 offense buckets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "privagg/common.h"
#include "privagg/csv.h"

static pa_csv *parse(const char *z)
{
    pa_csv *c = NULL;
    assert_int_equal(pa_csv_parse(&c, z, strlen(z), "t.csv"), PA_OK);
    return c;
}

static void test_quotes_escapes_crlf(void **state)
{
    (void)state;
    pa_csv *c = parse("a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\"multi\nline\",,3");
    assert_int_equal(pa_csv_row_count(c), 2);
    assert_int_equal(pa_csv_column(c, "b"), 1);
    assert_int_equal(pa_csv_column(c, "zz"), -1);
    assert_string_equal(pa_csv_get(c, 0, 1), "x, \"y\"");
    assert_string_equal(pa_csv_get(c, 0, 2), "");
    assert_string_equal(pa_csv_get(c, 1, 0), "multi\nline");
    assert_string_equal(pa_csv_get(c, 1, 2), "3");
    assert_null(pa_csv_get(c, 2, 0));
    assert_null(pa_csv_get(c, 0, 3));
    pa_csv_free(c);
    c = parse("\xEF\xBB\xBFh\n");
    assert_int_equal(pa_csv_column(c, "h"), 0);
    assert_int_equal(pa_csv_row_count(c), 0);
    pa_csv_free(c);
}

static void test_errors_name_the_line(void **state)
{
    pa_csv *c;
    (void)state;
    assert_int_equal(pa_csv_parse(&c, "a,b\n1,2\n3\n", 10, "t.csv"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "line 3: 1 fields, the header has 2"));
    assert_int_equal(pa_csv_parse(&c, "a\n\"open", 7, "t.csv"), PA_EDECODE);
    assert_non_null(strstr(pa_error_detail(), "unterminated"));
    assert_int_equal(pa_csv_parse(&c, "a\n\"x\"y\n", 7, "t.csv"), PA_EDECODE);
    assert_int_equal(pa_csv_parse(&c, "", 0, "t.csv"), PA_EDECODE);
    assert_int_equal(pa_csv_load(&c, "/nonexistent.csv"), PA_EIO);
}

/* A folder or a device given as a CSV file: a message that says so (it used
 * to say "9223372036854775807 bytes, above the limit"). */
static void test_not_a_file(void **state)
{
    pa_csv *c = NULL;
    (void)state;
    assert_int_equal(pa_csv_load(&c, "/tmp"), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "is a folder"));
    assert_null(c);
    assert_int_equal(pa_csv_load(&c, "/dev/null"), PA_EINVAL);
    assert_non_null(strstr(pa_error_detail(), "not a regular file"));
    assert_int_equal(pa_csv_load(&c, "/nonexistent/x.csv"), PA_EIO);
}

static void test_shipped_data(void **state)
{
    pa_csv *c;
    (void)state;
    assert_int_equal(pa_csv_load(&c, PA_SOURCE_DIR "/data/mo_le_agencies.csv"), PA_OK);
    assert_int_equal(pa_csv_row_count(c), 646);
    assert_string_equal(pa_csv_get(c, 0, pa_csv_column(c, "ori")), "MO0010000");
    pa_csv_free(c);
    assert_int_equal(pa_csv_load(&c, PA_SOURCE_DIR "/data/nibrs_offense_buckets.csv"), PA_OK);
    assert_int_equal(pa_csv_row_count(c), 62);
    pa_csv_free(c);
    assert_int_equal(pa_csv_load(&c, PA_SOURCE_DIR "/data/mo_county_population.csv"), PA_OK);
    assert_int_equal(pa_csv_row_count(c), 115);
    pa_csv_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quotes_escapes_crlf),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_shipped_data),
        cmocka_unit_test(test_not_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
