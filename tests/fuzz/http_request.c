/*
 * Fuzz target: HTTP request parsing where it is ours — the checks of
 * engine/http/server.c on what libmicrohttpd hands over: framing (one
 * Content-Length, a plain decimal; only "chunked"; not both), the route's media
 * type, the bearer token, the method and path routing, the body limit — on a
 * real server (plain HTTP on 127.0.0.1, started once, a thread per connection
 * as privagg serve runs it) fed each
 * input as the raw bytes of a connection (then half-closed).  The answer must
 * be nothing (the connection dropped) or begin with an HTTP/1.x status line,
 * and the server must go on answering.  Seeds: valid and refused requests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/http.h"

static pa_http_server *g_pServer;
static uint16_t g_port;
static uint8_t g_token[PA_HTTP_TOKEN_BYTES];

static int h_echo(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    size_t n;
    const uint8_t *p = pa_http_req_body(req, &n);
    (void)ctx;
    if (n > 0 && p[0] == 'E')
        return PA_EDECODE; /* a handler's refusal: a problem document */
    return pa_http_response_set(resp, 200, "application/octet-stream", p, n);
}

static const pa_http_route g_routes[] = {
    {"POST", "/tasks/t/reports", h_echo, false, NULL, NULL, "application/octet-stream", NULL, 0},
    {"POST", "/tasks/t/collections", h_echo, true, g_token, NULL, "application/octet-stream", NULL, 0},
    {"GET", "/tasks/t/collections/", h_echo, true, g_token, NULL, NULL, NULL, 0},
    {"POST", "/echo", h_echo, false, NULL, NULL, NULL, NULL, 0},
};

static void start(void)
{
    pa_http_config cfg;
    if (g_pServer != NULL)
        return;
    memset(g_token, 0x41, sizeof g_token);
    memset(&cfg, 0, sizeof cfg);
    cfg.insecure_http = true;
    cfg.max_body_bytes = 4096;
    cfg.routes = g_routes;
    cfg.n_routes = sizeof g_routes / sizeof g_routes[0];
    cfg.thread_per_connection = true; /* as privagg serve runs it (engine/node/node.c) */
    cfg.max_per_address = 64;
    cfg.header_timeout_s = 2;
    cfg.body_timeout_s = 2;
    pa_fuzz_check(pa_http_server_start(&g_pServer, &cfg) == PA_OK, "http: server start");
    g_port = pa_http_server_port(g_pServer);
}

/* Send p, half-close, read the answer until the server closes or nQuietMs of
 * silence (a request left incomplete waits for its body: 100 ms for the fuzzed
 * input; 5 s for the liveness check, a complete request answered at once, so a
 * loaded machine does not pass for a dead server). */
static size_t exchange(const uint8_t *p, size_t n, char *z, size_t nz, int nQuietMs)
{
    struct sockaddr_in sa;
    size_t nGot = 0;
    int fd = -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(g_port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    /* Two connections per input, each half-closed by us, leave their ports in
     * TIME_WAIT: at tens of thousands of inputs a minute the 28,000 ephemeral
     * ports run dry and connect says EADDRNOTAVAIL; and libFuzzer's timer
     * signal can cut connect short (EINTR).  Neither is the server's doing:
     * such a connect is tried again on a new socket, for up to 5 s. */
    for (int iTry = 0;; iTry++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        pa_fuzz_check(fd >= 0, "http: socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        int e = errno;
        close(fd);
        if ((e != EADDRNOTAVAIL && e != EINTR) || iTry == 250) {
            fprintf(stderr, "http: connect to 127.0.0.1:%u: %s\n", (unsigned)g_port, strerror(e));
            pa_fuzz_check(0, "http: the server stopped accepting");
        }
        usleep(20 * 1000);
    }
    (void)send(fd, p, n, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, nQuietMs) <= 0)
            break;
        ssize_t k = recv(fd, z + nGot, nz - 1 - nGot, 0);
        if (k <= 0)
            break;
        nGot += (size_t)k;
        if (nGot == nz - 1)
            break;
    }
    z[nGot] = 0;
    close(fd);
    return nGot;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    static char z[16384];
    start();
    if (n > 16384)
        return 0;
    size_t nGot = exchange(p, n, z, sizeof z, 100);
    pa_fuzz_check(nGot == 0 || strncmp(z, "HTTP/1.", 7) == 0, "http: an answer that is not HTTP");
    /* the server lives: a plain request still gets its answer */
    static const char zPing[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    /* a refusal at accept is the per-address limit (64) at work: the inputs left
     * incomplete hold their connections until the 2 s header deadline; so the
     * check is asked again for up to 6 s before the server counts as dead */
    for (int iTry = 0; iTry < 30; iTry++) {
        nGot = exchange((const uint8_t *)zPing, sizeof zPing - 1, z, sizeof z, 5000);
        if (nGot > 12)
            break;
        usleep(200 * 1000);
    }
    if (!(nGot > 12 && strncmp(z, "HTTP/1.1 200", 12) == 0)) {
        fprintf(stderr, "http: after %zu input bytes \"", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, p[i] >= 32 && p[i] < 127 && p[i] != '\\' ? "%c" : "\\x%02x", p[i]);
        fprintf(stderr, "\", the check request got %zu bytes: %.80s\n", nGot, z);
    }
    pa_fuzz_check(nGot > 12 && strncmp(z, "HTTP/1.1 200", 12) == 0, "http: the server stopped answering");
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char *const az[] = {
        "POST /tasks/t/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: 5\r\n\r\nhello",
        "POST /tasks/t/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream; q=1\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /tasks/t/collections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        "4141414141414141414141414141414141414141414141414141414141414141\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nabc",
        "GET /tasks/t/collections/00112233445566778899aabbccddeeff HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer 4141414141414141414141414141414141414141414141414141414141414141\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nE",
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /metrics HTTP/1.0\r\n\r\n",
        "DELETE /tasks/t/reports HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof az / sizeof az[0]; i++) {
        char zName[16];
        snprintf(zName, sizeof zName, "req-%02zu", i);
        pa_fuzz_put(zDir, zName, az[i], strlen(az[i]));
    }
}
