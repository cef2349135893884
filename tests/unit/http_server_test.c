/*
 * Tests of the HTTP server over plain HTTP on 127.0.0.1 (ephemeral port): route
 * matching (200, prefix routes, 404, 405), bounded bodies (413 by Content-Length,
 * with 100-continue, and chunked; the server survives), bearer tokens (401),
 * handler failures mapped to problem details with stable types, /health and
 * /metrics, a graceful stop with a slow request in flight, concurrent clients.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/http.h"

#define MAX_BODY 4096

static uint8_t g_token[PA_HTTP_TOKEN_BYTES];
/* a route that accepts two tokens while they rotate: id 2 current, id 1 expired */
static const pa_http_token g_rotating[2] = {
    {2, {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, 0},
    {1, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1000},
};
static atomic_int g_slowEntered;

static int h_echo(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    size_t n;
    const uint8_t *p = pa_http_req_body(req, &n);
    (void)ctx;
    return pa_http_response_set(resp, 200, "application/octet-stream", p, n);
}

static int h_item(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    const char *zTail = pa_http_req_path_tail(req);
    (void)ctx;
    if (strcmp(zTail, "boom") == 0)
        return pa_fail(PA_ENOTFOUND, "item %s: no such item", zTail);
    return pa_http_response_set(resp, 200, "text/plain", zTail, strlen(zTail));
}

static int h_store_fails(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
    return pa_fail(PA_ESTORE, "database is locked (secret internal detail)");
}

static int h_decode_fails(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
    return pa_fail(PA_EDECODE, "report: length 3, expected 40");
}

/* Fails with the status code named by the path tail: /code/9 -> PA_EBUDGET. */
static int h_code(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    (void)ctx;
    (void)resp;
    return pa_fail(-atoi(pa_http_req_path_tail(req)), "code %s as asked", pa_http_req_path_tail(req));
}

static int h_problem(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    (void)ctx;
    (void)req;
    return pa_http_problem(resp, 400, "urn:ietf:params:ppm:dap:error:invalidMessage",
                           "field %s", "x");
}

static int h_slow(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    (void)ctx;
    (void)req;
    atomic_fetch_add(&g_slowEntered, 1);
    struct timespec ts = {1, 200000000L};
    nanosleep(&ts, NULL);
    return pa_http_response_set(resp, 200, "text/plain", "slow", 4);
}

static int h_count(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    const char *zWho = pa_http_req_header(req, "X-Who");
    const char *zQ = pa_http_req_query(req, "q");
    (void)ctx;
    pa_metrics_inc("privagg_reports_total", "outcome=\"rejected\",reason=\"test\"", 1);
    char z[128];
    snprintf(z, sizeof z, "%s %s", zWho ? zWho : "-", zQ ? zQ : "-");
    return pa_http_response_set(resp, 201, "text/plain", z, strlen(z));
}

static const pa_http_route g_routes[] = {
    {"POST", "/echo", h_echo, false, NULL, NULL, NULL, NULL, 0},
    {"PUT", "/echo", h_echo, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/items/", h_item, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/items/special", h_echo, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/fail", h_store_fails, false, NULL, NULL, NULL, NULL, 0},
    {"POST", "/decode", h_decode_fails, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/problem", h_problem, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/code/", h_code, false, NULL, NULL, NULL, NULL, 0},
    {"POST", "/secure", h_echo, true, g_token, NULL, NULL, NULL, 0},
    {"POST", "/rotating", h_echo, true, NULL, NULL, NULL, g_rotating, 2},
    {"GET", "/slow", h_slow, false, NULL, NULL, NULL, NULL, 0},
    {"GET", "/count", h_count, false, NULL, NULL, NULL, NULL, 0},
};

typedef struct fixture {
    pa_http_server *pServer;
    pa_http_client *pClient;
    char zBase[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    pa_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.insecure_http = true;
    cfg.max_body_bytes = MAX_BODY;
    cfg.routes = g_routes;
    cfg.n_routes = sizeof g_routes / sizeof g_routes[0];
    cfg.threads = 4;
    randombytes_buf(g_token, sizeof g_token);
    if (f == NULL || pa_http_server_start(&f->pServer, &cfg) != PA_OK) {
        fprintf(stderr, "start: %s\n", pa_error_detail());
        free(f);
        return -1;
    }
    snprintf(f->zBase, sizeof f->zBase, "http://127.0.0.1:%u",
             (unsigned)pa_http_server_port(f->pServer));
    pa_http_client_opts o = {NULL, 2000, 10000, 1 << 20, NULL};
    if (pa_http_client_new(&f->pClient, &o) != PA_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pa_http_client_free(&f->pClient);
    pa_http_server_stop(&f->pServer);
    free(f);
    return 0;
}

/* One request; returns the status, fills reply. */
static long call(fixture *f, const char *method, const char *zPath, const uint8_t *token,
                 const void *body, size_t n, pa_http_reply *r)
{
    char zUrl[160];
    snprintf(zUrl, sizeof zUrl, "%s%s", f->zBase, zPath);
    int rc = pa_http_client_request(f->pClient, method, zUrl, token, NULL, body, n, r);
    if (rc != PA_OK)
        fprintf(stderr, "%s %s: %s\n", method, zPath, pa_error_detail());
    assert_int_equal(rc, PA_OK);
    return r->status;
}

/* The problem document's type, checked for RFC 9457 shape. */
static void expect_problem(const pa_http_reply *r, long status, const char *zType)
{
    json_error_t err;
    assert_int_equal(r->status, status);
    assert_non_null(r->content_type);
    assert_string_equal(r->content_type, "application/problem+json");
    json_t *p = json_loadb((const char *)r->body, r->body_len, 0, &err);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "type")), zType);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), status);
    assert_non_null(json_string_value(json_object_get(p, "title")));
    assert_non_null(json_string_value(json_object_get(p, "detail")));
    json_decref(p);
}

static void test_routes(void **state)
{
    fixture *f = *state;
    pa_http_reply r;

    assert_int_equal(call(f, "POST", "/echo", NULL, "hello", 5, &r), 200);
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "hello", 5);
    pa_http_reply_free(&r);

    assert_int_equal(call(f, "PUT", "/echo", NULL, "", 0, &r), 200);
    assert_int_equal(r.body_len, 0);
    pa_http_reply_free(&r);

    assert_int_equal(call(f, "GET", "/items/abc/def", NULL, NULL, 0, &r), 200);
    assert_string_equal((const char *)r.body, "abc/def");
    pa_http_reply_free(&r);

    /* exact beats prefix */
    assert_int_equal(call(f, "GET", "/items/special", NULL, NULL, 0, &r), 200);
    assert_int_equal(r.body_len, 0);
    pa_http_reply_free(&r);

    call(f, "GET", "/items/boom", NULL, NULL, 0, &r);
    expect_problem(&r, 404, "urn:privagg:error:not-found");
    pa_http_reply_free(&r);

    call(f, "GET", "/nowhere", NULL, NULL, 0, &r);
    expect_problem(&r, 404, "urn:privagg:error:not-found");
    pa_http_reply_free(&r);

    call(f, "GET", "/items/", NULL, NULL, 0, &r); /* a prefix needs a non-empty tail */
    expect_problem(&r, 404, "urn:privagg:error:not-found");
    pa_http_reply_free(&r);

    call(f, "GET", "/echo", NULL, NULL, 0, &r);
    expect_problem(&r, 405, "urn:privagg:error:method-not-allowed");
    pa_http_reply_free(&r);

    call(f, "DELETE", "/echo", NULL, "x", 1, &r);
    expect_problem(&r, 405, "urn:privagg:error:method-not-allowed");
    pa_http_reply_free(&r);

    assert_int_equal(call(f, "GET", "/count?q=7", NULL, NULL, 0, &r), 201);
    assert_string_equal((const char *)r.body, "- 7");
    pa_http_reply_free(&r);
}

static void test_handler_errors(void **state)
{
    fixture *f = *state;
    pa_http_reply r;
    char zMsg[256];

    call(f, "GET", "/fail", NULL, NULL, 0, &r);
    expect_problem(&r, 503, "urn:privagg:error:store-unavailable");
    assert_null(strstr((const char *)r.body, "secret internal detail"));
    /* a store failure is retried: the client is told so, not "internal error" */
    assert_non_null(strstr((const char *)r.body, "try again later"));
    pa_http_reply_free(&r);

    call(f, "POST", "/decode", NULL, "abc", 3, &r);
    expect_problem(&r, 400, "urn:privagg:error:invalid-message");
    assert_int_equal(pa_http_problem_message(r.content_type, r.body, r.body_len, zMsg,
                                             sizeof zMsg),
                     PA_OK);
    assert_string_equal(zMsg, "urn:privagg:error:invalid-message: Bad Request: report: length 3, "
                              "expected 40");
    pa_http_reply_free(&r);

    call(f, "GET", "/problem", NULL, NULL, 0, &r);
    expect_problem(&r, 400, "urn:ietf:params:ppm:dap:error:invalidMessage");
    pa_http_reply_free(&r);

    /* The "must be 2xx" call turns problems into codes with the message. */
    char zUrl[128];
    uint8_t *pResp;
    size_t nResp;
    snprintf(zUrl, sizeof zUrl, "%s/decode", f->zBase);
    assert_int_equal(pa_http_client_call(f->pClient, "POST", zUrl, NULL, NULL, "abc", 3, &pResp,
                                         &nResp),
                     PA_EDECODE);
    assert_null(pResp);
    assert_non_null(strstr(pa_error_detail(), "report: length 3, expected 40"));
    snprintf(zUrl, sizeof zUrl, "%s/fail", f->zBase);
    assert_int_equal(pa_http_client_call(f->pClient, "GET", zUrl, NULL, NULL, NULL, 0, &pResp,
                                         &nResp),
                     PA_ESTORE);
    assert_null(strstr(pa_error_detail(), "secret internal detail"));
    snprintf(zUrl, sizeof zUrl, "%s/secure", f->zBase);
    assert_int_equal(pa_http_client_call(f->pClient, "POST", zUrl, NULL, NULL, "x", 1, &pResp,
                                         &nResp),
                     PA_EAUTH);
    assert_int_equal(pa_http_client_call(f->pClient, "POST", zUrl, g_token, NULL, "xyz", 3,
                                         &pResp, &nResp),
                     PA_OK);
    assert_int_equal(nResp, 3);
    assert_memory_equal(pResp, "xyz", 3);
    free(pResp);

    assert_int_equal(pa_http_problem_message("text/plain", (const uint8_t *)"hi", 2, zMsg,
                                             sizeof zMsg),
                     PA_EDECODE);
}

/* Every status code crosses HTTP unchanged: the server answers it from the one
 * table and the client reads the same code back (with the table's retry rule). */
static void test_every_code_round_trips(void **state)
{
    fixture *f = *state;
    static const int aCode[] = {PA_EINVAL, PA_EDECODE, PA_EVERIFY, PA_ENOMEM, PA_ERANGE, PA_EIO,
                                PA_ESTATE, PA_EUNSUPPORTED, PA_EBUDGET, PA_EEXISTS, PA_ENOTFOUND,
                                PA_EAUTH, PA_ESTORE, PA_ETAMPER, PA_ESAMPLE, PA_EINTERNAL, PA_EBUSY};
    char zUrl[128];
    uint8_t *pResp;
    size_t nResp;

    for (size_t i = 0; i < sizeof aCode / sizeof aCode[0]; i++) {
        const pa_status_map *m = pa_status_lookup(aCode[i]);
        pa_http_reply r;
        snprintf(zUrl, sizeof zUrl, "/code/%d", -aCode[i]);
        call(f, "GET", zUrl, NULL, NULL, 0, &r);
        assert_int_equal(r.status, m->http);
        pa_http_reply_free(&r);
        snprintf(zUrl, sizeof zUrl, "%s/code/%d", f->zBase, -aCode[i]);
        int rc = pa_http_client_call(f->pClient, "GET", zUrl, NULL, NULL, NULL, 0, &pResp, &nResp);
        if (rc != aCode[i])
            fail_msg("code %d (%s): read back %d (%s)", aCode[i], m->zType, rc, pa_error_detail());
        assert_int_equal(pa_status_is_transient(rc),
                         aCode[i] == PA_EIO || aCode[i] == PA_ENOMEM || aCode[i] == PA_ESTORE ||
                             aCode[i] == PA_EBUSY);
    }
    /* the pinned statuses of the refusals a client acts on */
    assert_int_equal(pa_status_lookup(PA_EAUTH)->http, 403);
    assert_int_equal(pa_status_lookup(PA_EBUDGET)->http, 422);
    assert_int_equal(pa_status_lookup(PA_ENOTFOUND)->http, 404);
    assert_int_equal(pa_status_lookup(PA_EEXISTS)->http, 409);
    assert_int_equal(pa_status_lookup(PA_EDECODE)->http, 400);
    assert_int_equal(pa_status_lookup(PA_EIO)->http, 502);
    assert_int_equal(pa_status_lookup(PA_EBUSY)->http, 503);
    /* a status the table does not know is still read sensibly */
    assert_int_equal(pa_status_from_http(503, "urn:other:thing"), PA_EBUSY);
    assert_int_equal(pa_status_from_http(418, NULL), PA_EIO);
}

static void test_body_limit(void **state)
{
    fixture *f = *state;
    pa_http_reply r;
    uint8_t *a = calloc(1, 100000);

    assert_int_equal(call(f, "POST", "/echo", NULL, a, MAX_BODY, &r), 200); /* at the limit */
    assert_int_equal(r.body_len, MAX_BODY);
    pa_http_reply_free(&r);

    call(f, "POST", "/echo", NULL, a, MAX_BODY + 1, &r); /* sent at once */
    expect_problem(&r, 413, "urn:privagg:error:payload-too-large");
    pa_http_reply_free(&r);

    call(f, "POST", "/echo", NULL, a, 100000, &r); /* waits for 100-continue */
    expect_problem(&r, 413, "urn:privagg:error:payload-too-large");
    pa_http_reply_free(&r);

    call(f, "POST", "/nowhere", NULL, a, 100000, &r);
    expect_problem(&r, 413, "urn:privagg:error:payload-too-large");
    pa_http_reply_free(&r);

    /* The server is still there. */
    assert_int_equal(call(f, "GET", "/health", NULL, NULL, 0, &r), 200);
    pa_http_reply_free(&r);
    free(a);
}

/* Raw socket: a chunked body that grows past the limit gets 413. */
static void test_chunked_limit(void **state)
{
    fixture *f = *state;
    char zReq[256], zResp[2048];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    struct timeval tv = {5, 0};

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(pa_http_server_port(f->pServer));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int n = snprintf(zReq, sizeof zReq,
                     "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_int_equal(send(fd, zReq, (size_t)n, MSG_NOSIGNAL), n);
    char aChunk[1024 + 16];
    int nHead = snprintf(aChunk, sizeof aChunk, "400\r\n");
    memset(aChunk + nHead, 'x', 1024);
    memcpy(aChunk + nHead + 1024, "\r\n", 2);
    size_t nChunk = (size_t)nHead + 1024 + 2;
    for (int i = 0; i < 6; i++) /* 6 KiB > 4 KiB */
        if (send(fd, aChunk, nChunk, MSG_NOSIGNAL) != (ssize_t)nChunk)
            break;
    send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
    size_t nGot = 0;
    while (nGot + 1 < sizeof zResp) {
        ssize_t k = recv(fd, zResp + nGot, sizeof zResp - 1 - nGot, 0);
        if (k <= 0)
            break;
        nGot += (size_t)k;
        zResp[nGot] = '\0';
        if (strstr(zResp, "}"))
            break;
    }
    zResp[nGot] = '\0';
    close(fd);
    assert_true(strncmp(zResp, "HTTP/1.1 413", 12) == 0);
    assert_non_null(strstr(zResp, "urn:privagg:error:payload-too-large"));

    pa_http_reply r;
    assert_int_equal(call(f, "GET", "/health", NULL, NULL, 0, &r), 200);
    pa_http_reply_free(&r);
}

/* Send raw bytes, return what comes back (NUL-terminated, possibly empty). */
static void raw_exchange(fixture *f, const char *p, size_t n, char *zResp, size_t nResp)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    struct timeval tv = {5, 0};
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(pa_http_server_port(f->pServer));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t nSent = 0;
    while (nSent < n) {
        ssize_t k = send(fd, p + nSent, n - nSent, MSG_NOSIGNAL);
        if (k <= 0)
            break; /* the server may close early */
        nSent += (size_t)k;
    }
    shutdown(fd, SHUT_WR);
    size_t nGot = 0;
    while (nGot + 1 < nResp) {
        ssize_t k = recv(fd, zResp + nGot, nResp - 1 - nGot, 0);
        if (k <= 0)
            break;
        nGot += (size_t)k;
    }
    zResp[nGot] = '\0';
    close(fd);
}

/* Malformed requests get a 4xx or a closed connection, and the server lives on. */
static void test_malformed(void **state)
{
    fixture *f = *state;
    char zResp[4096];
    static const char *const azBad[] = {
        "GARBAGE\r\n\r\n",
        "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
        "chunked\r\n\r\n0\r\n\r\n",
        "GET /health\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /%00%ff/../health HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof azBad / sizeof azBad[0]; i++) {
        raw_exchange(f, azBad[i], strlen(azBad[i]), zResp, sizeof zResp);
        assert_true(zResp[0] == '\0' || strncmp(zResp, "HTTP/1.1 4", 10) == 0 ||
                    strncmp(zResp, "HTTP/1.1 505", 12) == 0); /* bad version */
    }
    /* Headers beyond the connection memory limit. */
    size_t nHuge = 100000;
    char *zHuge = malloc(nHuge + 64);
    int k = snprintf(zHuge, 64, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(zHuge + k, 'a', nHuge);
    memcpy(zHuge + k + nHuge, "\r\n\r\n", 4);
    raw_exchange(f, zHuge, (size_t)k + nHuge + 4, zResp, sizeof zResp);
    assert_true(zResp[0] == '\0' || strncmp(zResp, "HTTP/1.1 4", 10) == 0);
    free(zHuge);

    pa_http_reply r;
    assert_int_equal(call(f, "GET", "/health", NULL, NULL, 0, &r), 200);
    pa_http_reply_free(&r);
}

static void test_bearer(void **state)
{
    fixture *f = *state;
    pa_http_reply r;
    uint8_t aWrong[PA_HTTP_TOKEN_BYTES];

    call(f, "POST", "/secure", NULL, "x", 1, &r);
    expect_problem(&r, 401, "urn:privagg:error:unauthorized");
    pa_http_reply_free(&r);

    memcpy(aWrong, g_token, sizeof aWrong);
    aWrong[31] ^= 1;
    call(f, "POST", "/secure", aWrong, "x", 1, &r);
    expect_problem(&r, 401, "urn:privagg:error:unauthorized");
    pa_http_reply_free(&r);

    assert_int_equal(call(f, "POST", "/secure", g_token, "x", 1, &r), 200);
    pa_http_reply_free(&r);

    /* several tokens while they rotate: the current one passes, an expired one is
     * refused naming its id, any other as before */
    assert_int_equal(call(f, "POST", "/rotating", g_rotating[0].aToken, "x", 1, &r), 200);
    pa_http_reply_free(&r);
    call(f, "POST", "/rotating", g_rotating[1].aToken, "x", 1, &r);
    expect_problem(&r, 401, "urn:privagg:error:unauthorized");
    assert_non_null(strstr((const char *)r.body, "bearer token id 1 expired"));
    pa_http_reply_free(&r);
    call(f, "POST", "/rotating", g_token, "x", 1, &r);
    expect_problem(&r, 401, "urn:privagg:error:unauthorized");
    assert_null(strstr((const char *)r.body, "expired"));
    pa_http_reply_free(&r);

    /* An unauthenticated oversized body is refused without reading it (401 or 413). */
    uint8_t *a = calloc(1, 100000);
    call(f, "POST", "/secure", NULL, a, 100000, &r);
    assert_int_equal(r.status, 401);
    pa_http_reply_free(&r);
    free(a);
}

static void test_health_metrics(void **state)
{
    fixture *f = *state;
    pa_http_reply r;

    assert_int_equal(call(f, "GET", "/health", NULL, NULL, 0, &r), 200);
    assert_string_equal((const char *)r.body, "{\"status\":\"ok\"}");
    assert_string_equal(r.content_type, "application/json");
    pa_http_reply_free(&r);

    uint64_t n0 = pa_metrics_counter_value("privagg_reports_total",
                                           "outcome=\"rejected\",reason=\"test\"");
    assert_int_equal(call(f, "GET", "/count", NULL, NULL, 0, &r), 201);
    pa_http_reply_free(&r);
    assert_int_equal(call(f, "GET", "/count", NULL, NULL, 0, &r), 201);
    pa_http_reply_free(&r);
    assert_int_equal(pa_metrics_counter_value("privagg_reports_total",
                                              "outcome=\"rejected\",reason=\"test\""),
                     n0 + 2);

    assert_int_equal(call(f, "GET", "/metrics", NULL, NULL, 0, &r), 200);
    const char *z = (const char *)r.body;
    assert_non_null(strstr(r.content_type, "text/plain; version=0.0.4"));
    assert_non_null(strstr(z, "# TYPE privagg_http_requests_total counter\n"));
    assert_non_null(strstr(z, "privagg_http_requests_total{route=\"/count\",status=\"201\"} "));
    assert_non_null(strstr(z, "# TYPE privagg_http_request_duration_seconds histogram\n"));
    assert_non_null(
        strstr(z, "privagg_http_request_duration_seconds_bucket{route=\"/count\",le=\"+Inf\"} "));
    assert_non_null(strstr(z, "privagg_http_request_duration_seconds_count{route=\"/count\"} "));
    char zLine[128];
    snprintf(zLine, sizeof zLine,
             "privagg_reports_total{outcome=\"rejected\",reason=\"test\"} %llu\n",
             (unsigned long long)(n0 + 2));
    assert_non_null(strstr(z, zLine));
    pa_http_reply_free(&r);

    /* The completion callback runs after the reply is sent: poll briefly. */
    for (int i = 0; i < 200; i++) {
        if (pa_metrics_counter_value("privagg_http_requests_total",
                                     "route=\"/metrics\",status=\"200\"") >= 1)
            break;
        usleep(10000);
    }
    assert_true(pa_metrics_counter_value("privagg_http_requests_total",
                                         "route=\"/metrics\",status=\"200\"") >= 1);
    assert_int_equal(pa_metrics_inc("bad name", NULL, 1), PA_EINVAL);
    assert_int_equal(pa_metrics_inc("ok_name", "x=\"a\nb\"", 1), PA_EINVAL);
}

typedef struct slow_call {
    char zUrl[128];
    long status;
    int rc;
} slow_call;

static void *slow_thread(void *p)
{
    slow_call *s = p;
    uint8_t *pBody;
    size_t n;
    pa_http_client_opts o = {NULL, 2000, 20000, 0, NULL};
    s->rc = pa_http_request(&o, "GET", s->zUrl, NULL, NULL, 0, &s->status, &pBody, &n, NULL);
    if (s->rc == PA_OK)
        free(pBody);
    return NULL;
}

#define N_SLOW 3

static void test_graceful_stop(void **state)
{
    fixture *f = *state;
    slow_call aS[N_SLOW];
    pthread_t aTh[N_SLOW];

    atomic_store(&g_slowEntered, 0);
    for (int i = 0; i < N_SLOW; i++) {
        snprintf(aS[i].zUrl, sizeof aS[i].zUrl, "%s/slow", f->zBase);
        aS[i].status = 0;
        assert_int_equal(pthread_create(&aTh[i], NULL, slow_thread, &aS[i]), 0);
    }
    for (int i = 0; i < 1000 && atomic_load(&g_slowEntered) < N_SLOW; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_slowEntered), N_SLOW);
    pa_http_server_stop(&f->pServer); /* returns after the slow requests are answered */
    assert_null(f->pServer);
    for (int i = 0; i < N_SLOW; i++) {
        pthread_join(aTh[i], NULL);
        assert_int_equal(aS[i].rc, PA_OK);
        assert_int_equal(aS[i].status, 200);
    }

    /* Nothing listens any more. */
    pa_http_reply r;
    char zUrl[128];
    snprintf(zUrl, sizeof zUrl, "%s/health", f->zBase);
    assert_int_equal(pa_http_client_request(f->pClient, "GET", zUrl, NULL, NULL, NULL, 0, &r),
                     PA_EIO);
}

#define N_THREADS 8
#define N_PER_THREAD 200

typedef struct worker {
    const char *zBase;
    int nOk;
} worker;

static void *worker_thread(void *p)
{
    worker *w = p;
    pa_http_client *c;
    pa_http_client_opts o = {NULL, 2000, 10000, 0, NULL};
    char zUrl[128], aBody[256];
    if (pa_http_client_new(&c, &o) != PA_OK)
        return NULL;
    snprintf(zUrl, sizeof zUrl, "%s/echo", w->zBase);
    for (int i = 0; i < N_PER_THREAD; i++) {
        pa_http_reply r;
        int n = snprintf(aBody, sizeof aBody, "request %d from %p", i, p);
        if (pa_http_client_request(c, "POST", zUrl, NULL, NULL, aBody, (size_t)n, &r) != PA_OK)
            continue;
        if (r.status == 200 && r.body_len == (size_t)n && memcmp(r.body, aBody, (size_t)n) == 0)
            w->nOk++;
        pa_http_reply_free(&r);
    }
    pa_http_client_free(&c);
    return NULL;
}

static void test_concurrent(void **state)
{
    fixture *f = *state;
    pthread_t aTh[N_THREADS];
    worker aW[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        aW[i].zBase = f->zBase;
        aW[i].nOk = 0;
        assert_int_equal(pthread_create(&aTh[i], NULL, worker_thread, &aW[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(aTh[i], NULL);
        assert_int_equal(aW[i].nOk, N_PER_THREAD);
    }
}

static void test_config_refused(void **state)
{
    pa_http_server *s = NULL;
    pa_http_config cfg;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(pa_http_server_start(&s, &cfg), PA_EINVAL); /* neither TLS nor insecure */
    cfg.insecure_http = true;
    cfg.tls_cert_path = "/nonexistent.pem";
    assert_int_equal(pa_http_server_start(&s, &cfg), PA_EINVAL); /* both */
    cfg.tls_cert_path = NULL;
    cfg.bind_address = "localhost"; /* not a literal */
    assert_int_equal(pa_http_server_start(&s, &cfg), PA_EINVAL);
    pa_http_route bad = {"POST", "/x", h_echo, true, NULL, NULL, NULL, NULL, 0};
    cfg.bind_address = NULL;
    cfg.routes = &bad;
    cfg.n_routes = 1;
    assert_int_equal(pa_http_server_start(&s, &cfg), PA_EINVAL); /* auth without token */
    assert_null(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_code_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_graceful_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test(test_config_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
