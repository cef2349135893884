/*
 * Tests of HTTPS: a freshly made self-signed certificate (pa_http_make_self_signed)
 * served by the server; the client verifies it when given that certificate as
 * trust anchor (by IP and by "localhost"), and FAILS against another certificate
 * or the system store, so verification is really on.  Also: key file 0600, no
 * overwrite, a broken key refuses to start, keep-alive clients in threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <signal.h>

#include "privagg/common.h"
#include "privagg/http.h"

static char g_dir[64];
static char g_certA[128], g_keyA[128], g_certB[128], g_keyB[128];

static int h_echo(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    size_t n;
    const uint8_t *p = pa_http_req_body(req, &n);
    (void)ctx;
    return pa_http_response_set(resp, 200, "application/octet-stream", p, n);
}

static const pa_http_route g_routes[] = {{"POST", "/echo", h_echo, false, NULL, NULL, NULL, NULL, 0}};

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/pa_http_tls_XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    snprintf(g_certA, sizeof g_certA, "%s/a.crt", g_dir);
    snprintf(g_keyA, sizeof g_keyA, "%s/a.key", g_dir);
    snprintf(g_certB, sizeof g_certB, "%s/b.crt", g_dir);
    snprintf(g_keyB, sizeof g_keyB, "%s/b.key", g_dir);
    if (pa_http_make_self_signed(g_certA, g_keyA, "privagg-test") != PA_OK ||
        pa_http_make_self_signed(g_certB, g_keyB, NULL) != PA_OK) {
        fprintf(stderr, "self-signed: %s\n", pa_error_detail());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    char z[128];
    (void)state;
    snprintf(z, sizeof z, "rm -rf '%s'", g_dir);
    return system(z) == 0 ? 0 : -1;
}

static pa_http_server *start(const char *zCert, const char *zKey)
{
    pa_http_server *s = NULL;
    pa_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tls_cert_path = zCert;
    cfg.tls_key_path = zKey;
    cfg.routes = g_routes;
    cfg.n_routes = 1;
    cfg.threads = 2;
    if (pa_http_server_start(&s, &cfg) != PA_OK)
        fprintf(stderr, "start: %s\n", pa_error_detail());
    return s;
}

static int get_health(const char *zCa, const char *zHost, uint16_t port, long *pStatus)
{
    char zUrl[128];
    uint8_t *pBody = NULL;
    size_t n;
    pa_http_client_opts o = {zCa, 2000, 10000, 0, NULL};
    snprintf(zUrl, sizeof zUrl, "https://%s:%u/health", zHost, (unsigned)port);
    int rc = pa_http_request(&o, "GET", zUrl, NULL, NULL, 0, pStatus, &pBody, &n, NULL);
    free(pBody);
    return rc;
}

static void test_files(void **state)
{
    struct stat st;
    (void)state;
    assert_int_equal(stat(g_keyA, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(g_certA, &st), 0);
    assert_true(st.st_size > 100);
    assert_int_equal(pa_http_make_self_signed(g_certA, g_keyA, NULL), PA_EEXISTS);
}

static void test_verify_ok(void **state)
{
    long status = 0;
    (void)state;
    pa_http_server *s = start(g_certA, g_keyA);
    assert_non_null(s);
    uint16_t port = pa_http_server_port(s);
    assert_int_equal(get_health(g_certA, "127.0.0.1", port, &status), PA_OK);
    assert_int_equal(status, 200);
    assert_int_equal(get_health(g_certA, "localhost", port, &status), PA_OK);
    assert_int_equal(status, 200);

    /* POST with keep-alive on one client object. */
    pa_http_client *c;
    pa_http_client_opts o = {g_certA, 2000, 10000, 0, NULL};
    char zUrl[128];
    snprintf(zUrl, sizeof zUrl, "https://127.0.0.1:%u/echo", (unsigned)port);
    assert_int_equal(pa_http_client_new(&c, &o), PA_OK);
    for (int i = 0; i < 20; i++) {
        pa_http_reply r;
        assert_int_equal(pa_http_client_request(c, "POST", zUrl, NULL, "application/json",
                                                "{\"a\":1}", 7, &r),
                         PA_OK);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.body_len, 7);
        pa_http_reply_free(&r);
    }
    /* A large body under the default 1 MiB limit (sent after 100-continue). */
    size_t nBig = 300000;
    uint8_t *aBig = malloc(nBig);
    for (size_t i = 0; i < nBig; i++)
        aBig[i] = (uint8_t)(i * 7);
    pa_http_reply r;
    assert_int_equal(pa_http_client_request(c, "PUT", zUrl, NULL, NULL, aBig, nBig, &r), PA_OK);
    assert_int_equal(r.status, 405); /* only POST is routed */
    pa_http_reply_free(&r);
    assert_int_equal(pa_http_client_request(c, "POST", zUrl, NULL, NULL, aBig, nBig, &r), PA_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, nBig);
    assert_memory_equal(r.body, aBig, nBig);
    pa_http_reply_free(&r);
    pa_http_client_free(&c);

    /* A reply above the client's cap fails cleanly. */
    pa_http_client_opts oSmall = {g_certA, 2000, 10000, 1000, NULL};
    assert_int_equal(pa_http_client_new(&c, &oSmall), PA_OK);
    assert_int_equal(pa_http_client_request(c, "POST", zUrl, NULL, NULL, aBig, 5000, &r),
                     PA_ERANGE);
    assert_null(r.body);
    assert_int_equal(pa_http_client_request(c, "POST", zUrl, NULL, NULL, aBig, 500, &r), PA_OK);
    assert_int_equal(r.status, 200);
    pa_http_reply_free(&r);
    assert_int_equal(pa_http_client_request(c, "PATCH", zUrl, NULL, NULL, NULL, 0, &r),
                     PA_EINVAL);
    assert_int_equal(pa_http_client_request(c, "GET", "ftp://127.0.0.1/x", NULL, NULL, NULL, 0,
                                            &r),
                     PA_EINVAL);
    free(aBig);
    pa_http_client_free(&c);
    pa_http_server_stop(&s);
}

static void test_verify_fails(void **state)
{
    long status = 0;
    (void)state;
    pa_http_server *s = start(g_certA, g_keyA);
    assert_non_null(s);
    uint16_t port = pa_http_server_port(s);
    /* Trusting another certificate: refused. */
    assert_int_equal(get_health(g_certB, "127.0.0.1", port, &status), PA_EIO);
    /* The system store does not know it either. */
    assert_int_equal(get_health(NULL, "127.0.0.1", port, &status), PA_EIO);
    /* Plain HTTP to a TLS port does not get a 200. */
    char zUrl[128];
    uint8_t *pBody = NULL;
    size_t n = 0;
    snprintf(zUrl, sizeof zUrl, "http://127.0.0.1:%u/health", (unsigned)port);
    pa_http_client_opts o = {NULL, 2000, 3000, 0, NULL};
    int rc = pa_http_request(&o, "GET", zUrl, NULL, NULL, 0, &status, &pBody, &n, NULL);
    assert_true(rc != PA_OK || status != 200);
    free(pBody);
    /* And the server is fine afterwards. */
    assert_int_equal(get_health(g_certA, "127.0.0.1", port, &status), PA_OK);
    assert_int_equal(status, 200);
    pa_http_server_stop(&s);

    /* A server whose key does not exist, or is not a key, does not start. */
    pa_http_server *t = start(g_certA, "/nonexistent/key.pem");
    assert_null(t);
    t = start(g_certA, g_certB); /* a certificate where the key should be */
    assert_null(t);
    t = start(g_certA, g_keyB); /* key does not match the certificate */
    assert_null(t);
}

typedef struct worker {
    uint16_t port;
    int nOk;
} worker;

static void *worker_thread(void *p)
{
    worker *w = p;
    pa_http_client *c;
    pa_http_client_opts o = {g_certA, 2000, 10000, 0, NULL};
    char zUrl[128];
    uint8_t aBody[1024];
    memset(aBody, 0x5a, sizeof aBody);
    snprintf(zUrl, sizeof zUrl, "https://127.0.0.1:%u/echo", (unsigned)w->port);
    if (pa_http_client_new(&c, &o) != PA_OK)
        return NULL;
    for (int i = 0; i < 50; i++) {
        pa_http_reply r;
        if (pa_http_client_request(c, "POST", zUrl, NULL, NULL, aBody, sizeof aBody, &r) != PA_OK)
            continue;
        w->nOk += r.status == 200 && r.body_len == sizeof aBody;
        pa_http_reply_free(&r);
    }
    pa_http_client_free(&c);
    return NULL;
}

static void test_concurrent_tls(void **state)
{
    pthread_t aTh[4];
    worker aW[4];
    (void)state;
    pa_http_server *s = start(g_certA, g_keyA);
    assert_non_null(s);
    for (int i = 0; i < 4; i++) {
        aW[i].port = pa_http_server_port(s);
        aW[i].nOk = 0;
        assert_int_equal(pthread_create(&aTh[i], NULL, worker_thread, &aW[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(aTh[i], NULL);
        assert_int_equal(aW[i].nOk, 50);
    }
    pa_http_server_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_verify_ok),
        cmocka_unit_test(test_verify_fails),
        cmocka_unit_test(test_concurrent_tls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
