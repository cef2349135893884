/*
 * Tests of the metrics registry and of problem documents, without a server:
 * the exact Prometheus text rendering (families grouped, # HELP/# TYPE, cumulative
 * histogram buckets, _sum/_count), input checks, the series bound, concurrent
 * increments from threads; problem JSON shape and non-ASCII details.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "privagg/common.h"
#include "privagg/http.h"

static void test_render_exact(void **state)
{
    char *z;
    size_t n;
    (void)state;
    pa_metrics_reset();
    assert_int_equal(pa_metrics_help("privagg_reports_total", "Reports by outcome and reason."),
                     PA_OK);
    assert_int_equal(pa_metrics_inc("privagg_reports_total", "outcome=\"accepted\"", 3), PA_OK);
    assert_int_equal(pa_metrics_inc("privagg_jobs_total", NULL, 1), PA_OK);
    assert_int_equal(
        pa_metrics_inc("privagg_reports_total", "outcome=\"rejected\",reason=\"replay\"", 1),
        PA_OK);
    assert_int_equal(pa_metrics_inc("privagg_reports_total", "outcome=\"accepted\"", 2), PA_OK);
    assert_int_equal(pa_metrics_observe("lat_seconds", "route=\"/x\"", 0.003), PA_OK);
    assert_int_equal(pa_metrics_observe("lat_seconds", "route=\"/x\"", 0.2), PA_OK);
    assert_int_equal(pa_metrics_observe("lat_seconds", "route=\"/x\"", 50.0), PA_OK);
    assert_int_equal(pa_metrics_render(&z, &n), PA_OK);
    assert_int_equal(strlen(z), n);
    const char *zWant =
        "# HELP privagg_reports_total Reports by outcome and reason.\n"
        "# TYPE privagg_reports_total counter\n"
        "privagg_reports_total{outcome=\"accepted\"} 5\n"
        "privagg_reports_total{outcome=\"rejected\",reason=\"replay\"} 1\n"
        "# TYPE privagg_jobs_total counter\n"
        "privagg_jobs_total 1\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.001\"} 0\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.01\"} 1\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.025\"} 1\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.05\"} 1\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.25\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"2.5\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"5\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"10\"} 2\n"
        "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
        "lat_seconds_sum{route=\"/x\"} 50.203\n"
        "lat_seconds_count{route=\"/x\"} 3\n";
    assert_string_equal(z, zWant);
    free(z);
    assert_int_equal(pa_metrics_counter_value("privagg_reports_total", "outcome=\"accepted\""), 5);
    assert_int_equal(pa_metrics_counter_value("nothing", NULL), 0);
    pa_metrics_reset();
    assert_int_equal(pa_metrics_render(&z, &n), PA_OK);
    assert_int_equal(n, 0);
    free(z);
}

/* Gauges: set (not added), rendered with # TYPE gauge, never mixed with a
 * counter of the same series. */
static void test_gauge(void **state)
{
    char *z;
    size_t n;
    (void)state;
    pa_metrics_reset();
    assert_int_equal(pa_metrics_set("privagg_noise_pool_vectors", "level=\"partition\"", 104), PA_OK);
    assert_int_equal(pa_metrics_set("privagg_noise_pool_vectors", "level=\"partition\"", 96), PA_OK);
    assert_int_equal(pa_metrics_set("privagg_oldest_unreleased_batch_age_seconds", NULL, 86400.5), PA_OK);
    assert_int_equal(pa_metrics_render(&z, &n), PA_OK);
    assert_string_equal(z, "# TYPE privagg_noise_pool_vectors gauge\n"
                           "privagg_noise_pool_vectors{level=\"partition\"} 96\n"
                           "# TYPE privagg_oldest_unreleased_batch_age_seconds gauge\n"
                           "privagg_oldest_unreleased_batch_age_seconds 86400.5\n");
    free(z);
    assert_true(pa_metrics_gauge_value("privagg_noise_pool_vectors", "level=\"partition\"") == 96.0);
    assert_int_equal(pa_metrics_inc("privagg_noise_pool_vectors", "level=\"partition\"", 1), PA_ERANGE);
    assert_int_equal(pa_metrics_set("bad name", NULL, 1), PA_EINVAL);
    pa_metrics_reset();
}

static void test_input_checks(void **state)
{
    (void)state;
    pa_metrics_reset();
    assert_int_equal(pa_metrics_inc("", NULL, 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("9abc", NULL, 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("a-b", NULL, 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("ok", "x=\"a\\\"\"", 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("ok", "x=\"a\"}", 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("ok", "x=\"a", 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("ok", "noquotes", 1), PA_EINVAL);
    assert_int_equal(pa_metrics_help("ok", "two\nlines"), PA_EINVAL);
    /* one name cannot be both a counter and a histogram */
    assert_int_equal(pa_metrics_inc("both", NULL, 1), PA_OK);
    assert_int_equal(pa_metrics_observe("both", NULL, 1.0), PA_ERANGE);
    assert_true(pa_metrics_label_ok("/tasks/"));
    assert_false(pa_metrics_label_ok("a\"b"));
    pa_metrics_reset();
}

static void test_bounded(void **state)
{
    char zLabels[64];
    (void)state;
    pa_metrics_reset();
    int rc = PA_OK, i;
    for (i = 0; i < 5000 && rc == PA_OK; i++) {
        snprintf(zLabels, sizeof zLabels, "id=\"%d\"", i);
        rc = pa_metrics_inc("many_total", zLabels, 1);
    }
    assert_int_equal(rc, PA_ERANGE);
    assert_int_equal(i - 1, 2048);
    /* existing series still count */
    assert_int_equal(pa_metrics_inc("many_total", "id=\"7\"", 1), PA_OK);
    assert_int_equal(pa_metrics_counter_value("many_total", "id=\"7\""), 2);
    pa_metrics_reset();
}

static void *inc_thread(void *p)
{
    (void)p;
    for (int i = 0; i < 10000; i++) {
        pa_metrics_inc("threads_total", "k=\"v\"", 1);
        pa_metrics_observe("threads_seconds", NULL, 0.01);
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t aTh[4];
    (void)state;
    pa_metrics_reset();
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&aTh[i], NULL, inc_thread, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(aTh[i], NULL);
    assert_int_equal(pa_metrics_counter_value("threads_total", "k=\"v\""), 40000);
    assert_int_equal(pa_metrics_counter_value("threads_seconds", NULL), 40000); /* its count */
    pa_metrics_reset();
}

static void test_problem_doc(void **state)
{
    pa_http_response r;
    json_error_t err;
    char zMsg[128];
    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(pa_http_problem(&r, 413, "payload-too-large", "body: %d bytes, limit %d",
                                     5000, 4096),
                     PA_OK);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.content_type, "application/problem+json");
    json_t *p = json_loadb((const char *)r.body, r.body_len, 0, &err);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "type")),
                        "urn:privagg:error:payload-too-large");
    assert_string_equal(json_string_value(json_object_get(p, "title")), "Content Too Large");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 413);
    assert_string_equal(json_string_value(json_object_get(p, "detail")),
                        "body: 5000 bytes, limit 4096");
    json_decref(p);
    /* A detail with bytes that are not ASCII still gives a valid document. */
    assert_int_equal(pa_http_problem(&r, 400, "malformed", "bad %s", "\xff\xfe\n"), PA_OK);
    assert_int_equal(pa_http_problem_message("application/problem+json", r.body, r.body_len,
                                             zMsg, sizeof zMsg),
                     PA_OK);
    assert_string_equal(zMsg, "urn:privagg:error:malformed: Bad Request: bad ???");
    assert_int_equal(pa_http_response_header(&r, "Retry-After", "5"), PA_OK);
    assert_int_equal(pa_http_response_header(&r, "Bad\nName", "5"), PA_EINVAL);
    assert_int_equal(pa_http_response_header(&r, "X", "a\r\nInjected: 1"), PA_EINVAL);
    pa_http_response_clear(&r);
    assert_null(r.body);
    assert_int_equal(r.n_headers, 0);
    /* Not a problem document. */
    assert_int_equal(pa_http_problem_message("application/problem+json",
                                             (const uint8_t *)"{}", 2, zMsg, sizeof zMsg),
                     PA_EDECODE);
}

static void test_token_hex(void **state)
{
    uint8_t a[PA_HTTP_TOKEN_BYTES];
    char z[2 * PA_HTTP_TOKEN_BYTES + 1];
    (void)state;
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)(i * 17);
    pa_http_token_hex(z, a);
    assert_int_equal(strlen(z), 64);
    assert_memory_equal(z, "00112233445566778899aabbccddeeff", 32);
    assert_int_equal(pa_http_token_bytes(), 32);
    uint8_t b[PA_HTTP_TOKEN_BYTES];
    assert_int_equal(pa_http_token_from_hex(b, z), PA_OK);
    assert_memory_equal(a, b, sizeof a);
    z[5] = 'A'; /* upper case is fine */
    assert_int_equal(pa_http_token_from_hex(b, z), PA_OK);
    z[5] = 'g';
    assert_int_equal(pa_http_token_from_hex(b, z), PA_EDECODE);
    z[5] = '0';
    z[63] = '\0';
    assert_int_equal(pa_http_token_from_hex(b, z), PA_EDECODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact), cmocka_unit_test(test_gauge), cmocka_unit_test(test_input_checks),
        cmocka_unit_test(test_bounded),      cmocka_unit_test(test_threads),
        cmocka_unit_test(test_problem_doc),  cmocka_unit_test(test_token_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
