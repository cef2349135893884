/*
 * privagg dp (engine/cli/dp.c), run in-process: plain output is the number alone
 * on one line, --json is an object, bad arguments exit 2 with a message naming the
 * option, every subcommand has --help with an example.  The CLI file is compiled
 * into this test so that it runs without the full privagg binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/dp.c"
#include "cli/opts.c" /* the shared option parser */

void pa_cli_report(const char *what, int code)
{
    fprintf(stderr, "privagg: %s: %s: %s\n", what, pa_strerror(code), pa_error_detail());
}

static char g_out[1 << 16], g_err[1 << 12];

static size_t slurp(FILE *f, char *buf, size_t n)
{
    size_t got;
    rewind(f);
    got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    return got;
}

/* run "privagg dp <args...>" (NULL-terminated), capturing stdout and stderr */
static int run(const char *zFirst, ...)
{
    char *argv[32];
    int argc = 0, rc, saveOut, saveErr;
    FILE *fo = tmpfile(), *fe = tmpfile();
    va_list ap;

    argv[argc++] = (char *)"dp";
    va_start(ap, zFirst);
    for (const char *z = zFirst; z != NULL && argc < 31; z = va_arg(ap, const char *))
        argv[argc++] = (char *)z;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    saveOut = dup(1);
    saveErr = dup(2);
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    rc = pa_cli_dp(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saveOut, 1);
    dup2(saveErr, 2);
    close(saveOut);
    close(saveErr);
    slurp(fo, g_out, sizeof g_out);
    slurp(fe, g_err, sizeof g_err);
    fclose(fo);
    fclose(fe);
    return rc;
}

static double one_number(void)
{
    char *zEnd;
    double v = strtod(g_out, &zEnd);
    assert_true(zEnd != g_out);
    assert_string_equal(zEnd, "\n");
    return v;
}

static void test_eps_rho_roundtrip(void **state)
{
    char zEps[64];
    (void)state;
    assert_int_equal(run("eps", "--rho", "0.05", "--delta", "1e-6", NULL), 0);
    assert_true(fabs(one_number() - 1.4715947505) < 1e-9);
    snprintf(zEps, sizeof zEps, "%.17g", one_number());
    assert_int_equal(run("rho", "--eps", zEps, "--delta", "1e-6", NULL), 0);
    assert_true(fabs(one_number() - 0.05) < 1e-11);
    assert_int_equal(run("calibrate", "--eps", zEps, "--delta", "1e-6", "--sensitivity", "1", NULL), 0);
    assert_true(fabs(one_number() - 10) < 1e-7);
    assert_int_equal(run("eps", "--rho=0.05", "--delta=1e-6", "--json", NULL), 0);
    assert_non_null(strstr(g_out, "\"eps_standard\":1.71225813626"));
}

static void test_delta_and_calibrate(void **state)
{
    (void)state;
    assert_int_equal(run("delta", "--sigma2", "10", "--eps", "1", "--sensitivity", "1", NULL), 0);
    assert_true(fabs(one_number() - 0.00011513252536386) < 1e-15);
    assert_int_equal(run("calibrate", "--eps", "1", "--delta", "1e-5", "--sensitivity", "2", "--exact", NULL), 0);
    assert_true(one_number() > 0);
    assert_int_equal(run("calibrate", "--eps", "1", "--delta", "1e-5", "--sensitivity", "2", "--json", NULL), 0);
    assert_non_null(strstr(g_out, "\"sigma2\":\""));
    assert_int_equal(run("calibrate", "--rho", "0.03", "--sensitivity", "2", NULL), 0);
    assert_string_equal(g_out, "66.6666667\n");
    assert_int_equal(run("calibrate", "--rho", "0.03", "--eps", "1", "--sensitivity", "2", NULL), 2);
}

static void test_sample(void **state)
{
    char zFirst[sizeof g_out];
    int n = 0;
    (void)state;
    assert_int_equal(run("sample", "--mechanism", "gaussian", "--sigma2", "25", "--count", "50",
                         "--seed", "00ff", NULL), 0);
    for (char *p = g_out; *p; p++)
        n += *p == '\n';
    assert_int_equal(n, 50);
    memcpy(zFirst, g_out, sizeof zFirst);
    assert_int_equal(run("sample", "--mechanism", "gaussian", "--sigma2", "25", "--count", "50",
                         "--seed", "00ff", NULL), 0);
    assert_string_equal(g_out, zFirst);
    assert_int_equal(run("sample", "--mechanism", "laplace", "--scale", "3/2", "--count", "3",
                         "--json", NULL), 0);
    assert_non_null(strstr(g_out, "\"samples\":["));
}

static void test_bad_arguments_exit_2(void **state)
{
    (void)state;
    assert_int_equal(run("eps", "--rho", "abc", "--delta", "1e-6", NULL), 2);
    assert_non_null(strstr(g_err, "--rho"));
    assert_int_equal(run("eps", "--rho", "0.1", NULL), 2);
    assert_non_null(strstr(g_err, "--delta"));
    assert_int_equal(run("eps", "--rho", "0.1", "--delta", "2", NULL), 2);
    assert_non_null(strstr(g_err, "delta"));
    assert_int_equal(run("eps", "--rho", "-1", "--delta", "0.1", NULL), 2);
    assert_int_equal(run("rho", "--eps", "1", "--delta", "1e-6", "--bogus", NULL), 2);
    assert_int_equal(run("rho", "--eps", "1", "--eps", "2", "--delta", "1e-6", NULL), 2);
    assert_int_equal(run("rho", "--sigma2", "1", NULL), 2);
    assert_int_equal(run("delta", "--sigma2", "10", "--eps", "1", "--sensitivity", "1.5", NULL), 2);
    assert_int_equal(run("delta", "--sigma2", "0", "--eps", "1", "--sensitivity", "1", NULL), 2);
    assert_int_equal(run("sample", "--mechanism", "cauchy", "--count", "1", NULL), 2);
    assert_int_equal(run("sample", "--mechanism", "gaussian", "--sigma2", "1", "--count", "0", NULL), 2);
    assert_int_equal(run("sample", "--mechanism", "gaussian", "--sigma2", "1", "--count", "1",
                         "--seed", "xyz", NULL), 2);
    assert_int_equal(run("sample", "--mechanism", "gaussian", "--sigma2", "18446744073709551615",
                         "--count", "1", NULL), 2);
    assert_non_null(strstr(g_err, "too large"));
    assert_int_equal(run("nosuch", NULL), 2);
    assert_int_equal(run(NULL), 2);
}

static void test_help(void **state)
{
    const char *aSub[] = {"eps", "rho", "delta", "calibrate", "sample"};
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(run(aSub[i], "--help", NULL), 0);
        assert_non_null(strstr(g_out, "usage: privagg dp"));
        assert_non_null(strstr(g_out, "example"));
    }
    assert_int_equal(run("--help", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eps_rho_roundtrip), cmocka_unit_test(test_delta_and_calibrate),
        cmocka_unit_test(test_sample),            cmocka_unit_test(test_bad_arguments_exit_2),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
