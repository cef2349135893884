/*
 * Tests of the HTTP server against hostile clients, over raw sockets on the
 * loopback: framing (two different Content-Lengths 400 in either order, an
 * unsupported Transfer-Encoding 501, never a hang), a route's media type (415),
 * /health (up) against /health/ready (the owner's check, 503), /metrics behind a
 * token or the loopback, and the connection guard: the header deadline, the
 * body deadline, the per-address limit, the budget that keeps room for a
 * newcomer while the slots are held by silent sockets, and the reconnect
 * penalty (a burst of evictions of one address refuses its new connections for
 * a growing delay; one slow client alone does not lock its address out).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <signal.h>
#include <sodium.h>

#include "privagg/common.h"
#include "privagg/http.h"

static uint8_t g_metricsToken[PA_HTTP_TOKEN_BYTES];
static int g_bReady = 1;

static int h_echo(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    size_t n;
    const uint8_t *p = pa_http_req_body(req, &n);
    (void)ctx;
    return pa_http_response_set(resp, 200, "application/octet-stream", p, n);
}

static int check_ready(void *ctx, char *zWhy, size_t nWhy)
{
    (void)ctx;
    if (g_bReady)
        return PA_OK;
    snprintf(zWhy, nWhy, "store: not writable (test)");
    return PA_ESTORE;
}

static const pa_http_route g_routes[] = {
    {"POST", "/echo", h_echo, false, NULL, NULL, NULL, NULL, 0},
    {"POST", "/typed", h_echo, false, NULL, NULL, "application/octet-stream", NULL, 0},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static pa_http_server *start(pa_http_config *cfg, const char *zBind, uint16_t *pPort)
{
    pa_http_server *s = NULL;
    cfg->insecure_http = true;
    cfg->bind_address = zBind;
    cfg->max_body_bytes = 1 << 20;
    cfg->routes = g_routes;
    cfg->n_routes = sizeof g_routes / sizeof g_routes[0];
    cfg->threads = 4;
    if (pa_http_server_start(&s, cfg) != PA_OK)
        fail_msg("start: %s", pa_error_detail());
    *pPort = pa_http_server_port(s);
    return s;
}

/* A TCP connection to zHost:port from source address zFrom (NULL: any). */
static int dial(const char *zHost, uint16_t port, const char *zFrom)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (zFrom != NULL) {
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        inet_pton(AF_INET, zFrom, &sa.sin_addr);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, zHost, &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Read until EOF or nTimeoutMs; returns bytes read (-1: timed out, still open). */
static int read_reply(int fd, char *z, size_t nz, int nTimeoutMs)
{
    size_t n = 0;
    double tEnd = now_s() + nTimeoutMs / 1000.0;
    for (;;) {
        int nLeft = (int)((tEnd - now_s()) * 1000);
        struct pollfd p = {fd, POLLIN, 0};
        if (nLeft <= 0 || poll(&p, 1, nLeft) <= 0) {
            z[n] = '\0';
            return -1;
        }
        ssize_t k = recv(fd, z + n, nz - 1 - n, 0);
        if (k <= 0 || n + (size_t)k >= nz - 1) {
            if (k > 0)
                n += (size_t)k;
            z[n] = '\0';
            return (int)n;
        }
        n += (size_t)k;
    }
}

/* Send a raw request and read the answer (the connection is closed after). */
static int exchange(uint16_t port, const char *zReq, char *z, size_t nz)
{
    int fd = dial("127.0.0.1", port, NULL);
    send(fd, zReq, strlen(zReq), MSG_NOSIGNAL);
    int n = read_reply(fd, z, nz, 3000);
    close(fd);
    return n;
}

static void test_framing(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[4096];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    pa_http_server *s = start(&cfg, NULL, &port);

    /* two different lengths, in either order: 400 at once, never a hang */
    static const char *const azBad400[] = {
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
    };
    for (size_t i = 0; i < sizeof azBad400 / sizeof azBad400[0]; i++) {
        assert_true(exchange(port, azBad400[i], z, sizeof z) > 0);
        if (strncmp(z, "HTTP/1.1 400", 12) != 0)
            fail_msg("case %zu: %.60s", i, z);
    }
    /* an encoding we do not implement: 501 with a problem document */
    static const char *const azBad501[] = {
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof azBad501 / sizeof azBad501[0]; i++) {
        assert_true(exchange(port, azBad501[i], z, sizeof z) > 0);
        if (strncmp(z, "HTTP/1.1 501", 12) != 0 || strstr(z, "not-implemented") == NULL)
            fail_msg("case %zu: %.60s", i, z);
    }
    /* the same length twice is one length; chunked alone is fine */
    assert_true(exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
                               "Connection: close\r\n\r\nhello", z, sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    assert_true(exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                               "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", z, sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    pa_http_server_stop(&s);
}

static void test_media_type(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[4096];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    pa_http_server *s = start(&cfg, NULL, &port);

    assert_true(exchange(port, "POST /typed HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 5\r\n\r\nhello", z, sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 415", 12);
    assert_non_null(strstr(z, "Accept-Post: application/octet-stream"));
    assert_non_null(strstr(z, "urn:privagg:error:unsupported-media-type"));
    assert_true(exchange(port, "POST /typed HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", z,
                         sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 415", 12);
    assert_true(exchange(port, "POST /typed HTTP/1.1\r\nHost: x\r\nContent-Type: Application/Octet-Stream; x=1\r\n"
                               "Connection: close\r\nContent-Length: 5\r\n\r\nhello", z, sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    /* a route without a declared type takes any */
    assert_true(exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                               "Connection: close\r\nContent-Length: 5\r\n\r\nhello", z, sizeof z) > 0);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    pa_http_server_stop(&s);
}

static void test_health_ready(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[4096];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.ready = check_ready;
    pa_http_server *s = start(&cfg, NULL, &port);

    g_bReady = 0;
    exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    assert_non_null(strstr(z, "{\"status\":\"ok\"}"));
    exchange(port, "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 503", 12);
    assert_non_null(strstr(z, "\"status\":\"not-ready\""));
    assert_non_null(strstr(z, "store: not writable"));
    g_bReady = 1;
    exchange(port, "GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    assert_non_null(strstr(z, "\"status\":\"ready\""));
    pa_http_server_stop(&s);
}

/* A local address that is not the loopback (NULL if the machine has none). */
static const char *other_address(char *z, size_t nz)
{
    struct ifaddrs *pList, *p;
    const char *zFound = NULL;
    if (getifaddrs(&pList) != 0)
        return NULL;
    for (p = pList; p && !zFound; p = p->ifa_next)
        if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)p->ifa_addr;
            if ((ntohl(a->sin_addr.s_addr) >> 24) != 127 && inet_ntop(AF_INET, &a->sin_addr, z, (socklen_t)nz))
                zFound = z;
        }
    freeifaddrs(pList);
    return zFound;
}

static void test_metrics_access(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[8192], zReq[300], zHex[65], zOther[64];
    (void)state;

    /* no token: the loopback reads, another address is refused */
    memset(&cfg, 0, sizeof cfg);
    pa_http_server *s = start(&cfg, "0.0.0.0", &port);
    exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    if (other_address(zOther, sizeof zOther) != NULL) {
        int fd = dial(zOther, port, NULL);
        const char *zGet = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        send(fd, zGet, strlen(zGet), MSG_NOSIGNAL);
        assert_true(read_reply(fd, z, sizeof z, 3000) > 0);
        close(fd);
        if (strncmp(z, "HTTP/1.1 403", 12) != 0)
            fail_msg("/metrics from %s: %.40s", zOther, z);
        assert_non_null(strstr(z, "urn:privagg:error:forbidden"));
    } else {
        fprintf(stderr, "note: no non-loopback address here; the remote refusal is not exercised\n");
    }
    pa_http_server_stop(&s);

    /* a token: needed from everywhere, the loopback included */
    randombytes_buf(g_metricsToken, sizeof g_metricsToken);
    memset(&cfg, 0, sizeof cfg);
    cfg.metrics_token = g_metricsToken;
    s = start(&cfg, NULL, &port);
    exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 401", 12);
    sodium_bin2hex(zHex, sizeof zHex, g_metricsToken, sizeof g_metricsToken);
    snprintf(zReq, sizeof zReq, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", zHex);
    exchange(port, zReq, z, sizeof z);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    pa_http_server_stop(&s);
}

/* A socket that trickles a header byte every 300 ms is dropped at the header
 * deadline (1 s here), not kept alive by the idle timeout. */
static void test_header_deadline(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[256];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.header_timeout_s = 1;
    pa_http_server *s = start(&cfg, NULL, &port);

    static const char zSlow[] = "GET /health HTTP/1.1\r\nHost: slow.example\r\nX-Pad: aaaaaaaaaaaaaaaaaaaa";
    int fd = dial("127.0.0.1", port, NULL);
    double t0 = now_s(), tClosed = 0;
    for (size_t i = 0; i < sizeof zSlow - 1 && tClosed == 0; i++) {
        send(fd, zSlow + i, 1, MSG_NOSIGNAL);
        if (read_reply(fd, z, sizeof z, 300) >= 0)
            tClosed = now_s();
    }
    close(fd);
    assert_true(tClosed > 0);
    fprintf(stderr, "trickling socket dropped after %.2f s (deadline 1 s)\n", tClosed - t0);
    assert_true(tClosed - t0 >= 0.9 && tClosed - t0 < 2.5);
    pa_http_server_stop(&s);
}

/* A body that stalls is dropped at body_timeout_s + declared / 32 KiB/s. */
static void test_body_deadline(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[256];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.body_timeout_s = 1;
    pa_http_server *s = start(&cfg, NULL, &port);
    int fd = dial("127.0.0.1", port, NULL);
    const char *zHead = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc";
    double t0 = now_s();
    send(fd, zHead, strlen(zHead), MSG_NOSIGNAL);
    int n = read_reply(fd, z, sizeof z, 4000);
    double t = now_s() - t0;
    close(fd);
    fprintf(stderr, "stalled body dropped after %.2f s (deadline 1.03 s)\n", t);
    assert_true(n >= 0 && t >= 0.9 && t < 2.5);
    pa_http_server_stop(&s);
}

/* max_per_address: the 5th connection of one address is closed at once; another
 * address still gets in. */
static void test_per_address(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[4096];
    int aFd[4];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_per_address = 4;
    pa_http_server *s = start(&cfg, NULL, &port);
    for (int i = 0; i < 4; i++)
        aFd[i] = dial("127.0.0.1", port, "127.0.0.9");
    usleep(200000);
    int fd = dial("127.0.0.1", port, "127.0.0.9");
    const char *zGet = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send(fd, zGet, strlen(zGet), MSG_NOSIGNAL);
    assert_true(read_reply(fd, z, sizeof z, 2000) <= 0); /* closed, no answer */
    close(fd);
    fd = dial("127.0.0.1", port, "127.0.0.10");
    send(fd, zGet, strlen(zGet), MSG_NOSIGNAL);
    assert_true(read_reply(fd, z, sizeof z, 2000) > 0);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    close(fd);
    assert_true(pa_metrics_counter_value("privagg_http_connections_refused_total",
                                         "reason=\"per-address\"") >= 1);
    for (int i = 0; i < 4; i++)
        close(aFd[i]);
    pa_http_server_stop(&s);
}

/* 60 silent sockets against a limit of 16: a newcomer is answered at once, the
 * longest-waiting silent sockets are the ones dropped. */
static void test_budget(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    char z[4096], zFrom[32];
    int aFd[60];
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_connections = 16;
    pa_http_server *s = start(&cfg, NULL, &port);
    uint64_t n0 = pa_metrics_counter_value("privagg_http_connections_dropped_total", "reason=\"budget\"");
    for (int i = 0; i < 60; i++) {
        snprintf(zFrom, sizeof zFrom, "127.0.1.%d", 1 + i % 20);
        aFd[i] = dial("127.0.0.1", port, zFrom);
        send(aFd[i], "G", 1, MSG_NOSIGNAL);
    }
    usleep(300000);
    double t0 = now_s();
    int fd = dial("127.0.0.1", port, NULL);
    const char *zGet = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send(fd, zGet, strlen(zGet), MSG_NOSIGNAL);
    assert_true(read_reply(fd, z, sizeof z, 3000) > 0);
    double t = now_s() - t0;
    close(fd);
    fprintf(stderr, "answered in %.3f s with 60 silent sockets against a limit of 16\n", t);
    assert_memory_equal(z, "HTTP/1.1 200", 12);
    assert_true(t < 1.0);
    assert_true(pa_metrics_counter_value("privagg_http_connections_dropped_total", "reason=\"budget\"") > n0);
    for (int i = 0; i < 60; i++)
        close(aFd[i]);
    pa_http_server_stop(&s);
}

/* Open n silent connections from zFrom and wait until the header deadline
 * (1 s) drops every one of them. */
static void evicted(uint16_t port, const char *zFrom, int n)
{
    int aFd[16];
    char z[64];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++)
        aFd[i] = dial("127.0.0.1", port, zFrom);
    for (int i = 0; i < n; i++) {
        assert_true(read_reply(aFd[i], z, sizeof z, 4000) >= 0); /* closed by the server */
        close(aFd[i]);
    }
}

static void sleep_until(double t)
{
    double dt = t - now_s();
    if (dt > 0)
        usleep((useconds_t)(dt * 1e6));
}

/* 1 if a GET /health from zFrom is answered 200 (0: closed without an answer). */
static int answered(uint16_t port, const char *zFrom)
{
    char z[4096];
    int fd = dial("127.0.0.1", port, zFrom);
    const char *zGet = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send(fd, zGet, strlen(zGet), MSG_NOSIGNAL);
    int n = read_reply(fd, z, sizeof z, 2000);
    close(fd);
    return n > 0 && strncmp(z, "HTTP/1.1 200", 12) == 0;
}

/* The reconnect penalty: 10 connections of one address dropped at the header
 * deadline refuse its next connection (1 s), not another address's; after the
 * delay it gets in; evicted again, it is refused for longer (2 s).  3 evictions
 * of one slow client do not lock its address (a NAT's other agencies) out. */
static void test_reconnect_penalty(void **state)
{
    pa_http_config cfg;
    uint16_t port;
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.header_timeout_s = 1;
    pa_http_server *s = start(&cfg, NULL, &port);
    uint64_t nRefused0 = pa_metrics_counter_value("privagg_http_connections_refused_total",
                                                  "reason=\"reconnect-penalty\"");
    uint64_t nEpisodes0 = pa_metrics_counter_value("privagg_http_reconnect_penalties_total", "");

    /* one slow client behind a NAT: its address stays open */
    evicted(port, "127.0.2.1", 3);
    assert_true(answered(port, "127.0.2.1"));
    assert_int_equal(pa_metrics_counter_value("privagg_http_reconnect_penalties_total", ""), nEpisodes0);

    /* a storm of evictions: the address is refused at accept, others are not */
    evicted(port, "127.0.2.2", 10);
    double tEvicted = now_s();
    assert_false(answered(port, "127.0.2.2"));
    assert_true(answered(port, "127.0.2.3"));
    assert_true(pa_metrics_counter_value("privagg_http_connections_refused_total",
                                         "reason=\"reconnect-penalty\"") > nRefused0);
    assert_int_equal(pa_metrics_counter_value("privagg_http_reconnect_penalties_total", ""), nEpisodes0 + 1);
    /* bounded: in again after the first delay (1 s) */
    sleep_until(tEvicted + 1.3);
    assert_true(answered(port, "127.0.2.2"));

    /* evicted again: the delay has doubled (still refused after 1.3 s), one episode */
    evicted(port, "127.0.2.2", 10);
    tEvicted = now_s();
    sleep_until(tEvicted + 1.3);
    assert_false(answered(port, "127.0.2.2"));
    sleep_until(tEvicted + 2.4);
    assert_true(answered(port, "127.0.2.2"));
    assert_int_equal(pa_metrics_counter_value("privagg_http_reconnect_penalties_total", ""), nEpisodes0 + 1);
    pa_http_server_stop(&s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),        cmocka_unit_test(test_media_type),
        cmocka_unit_test(test_health_ready),   cmocka_unit_test(test_metrics_access),
        cmocka_unit_test(test_header_deadline), cmocka_unit_test(test_body_deadline),
        cmocka_unit_test(test_per_address),    cmocka_unit_test(test_budget),
        cmocka_unit_test(test_reconnect_penalty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
