/*
 * HTTP layer throughput: a trivial POST handler (1 KiB body, small JSON reply)
 * served over HTTPS on 127.0.0.1 with a fresh self-signed certificate, driven by
 * 16 client threads in this process (the server's pool threads share the same
 * cores).  Figures: requests/s with keep-alive (one TLS connection per client),
 * and requests/s with a new connection (full TLS handshake) per request.
 * Loops are bounded in both count and time.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "privagg/common.h"
#include "privagg/http.h"

#define N_CLIENTS 16
#define BODY_BYTES 1024
#define MAX_PER_CLIENT 20000

static int h_accept(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    static const char z[] = "{\"ok\":true}";
    size_t n;
    (void)ctx;
    (void)pa_http_req_body(req, &n);
    resp->status = n == BODY_BYTES ? 200 : 400;
    resp->content_type = "application/json";
    resp->body = (uint8_t *)z;
    resp->body_len = sizeof z - 1;
    resp->body_static = true;
    return PA_OK;
}

typedef struct client_run {
    const char *zCa;
    char zUrl[96];
    double rSeconds;
    int bKeepAlive;
    pthread_barrier_t *pBarrier;
    long nOk, nFail;
} client_run;

static void *client_thread(void *p)
{
    client_run *r = p;
    pa_http_client_opts o = {r->zCa, 5000, 10000, 0, NULL};
    pa_http_client *c = NULL;
    uint8_t aBody[BODY_BYTES];
    memset(aBody, 0x42, sizeof aBody);
    if (pa_http_client_new(&c, &o) != PA_OK) {
        pthread_barrier_wait(r->pBarrier);
        return NULL;
    }
    pa_http_reply rep;
    if (pa_http_client_request(c, "POST", r->zUrl, NULL, NULL, aBody, sizeof aBody, &rep) ==
        PA_OK) /* warm up: the handshake happens here for keep-alive */
        pa_http_reply_free(&rep);
    pthread_barrier_wait(r->pBarrier);
    double tEnd = pa_bench_now_s() + r->rSeconds;
    for (long i = 0; i < MAX_PER_CLIENT && pa_bench_now_s() < tEnd; i++) {
        if (!r->bKeepAlive) { /* a new handle has no cached connection */
            pa_http_client_free(&c);
            if (pa_http_client_new(&c, &o) != PA_OK)
                c = NULL;
        }
        if (c && pa_http_client_request(c, "POST", r->zUrl, NULL, NULL, aBody, sizeof aBody,
                                        &rep) == PA_OK) {
            r->nOk += rep.status == 200;
            r->nFail += rep.status != 200;
            pa_http_reply_free(&rep);
        } else {
            r->nFail++;
        }
    }
    pa_http_client_free(&c);
    pthread_barrier_wait(r->pBarrier);
    return NULL;
}

/* Requests per second over all clients, or -1 if any request failed. */
static double run(const char *zCa, uint16_t port, int bKeepAlive, double rSeconds)
{
    pthread_t aTh[N_CLIENTS];
    client_run aRun[N_CLIENTS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N_CLIENTS + 1);
    for (int i = 0; i < N_CLIENTS; i++) {
        memset(&aRun[i], 0, sizeof aRun[i]);
        aRun[i].zCa = zCa;
        snprintf(aRun[i].zUrl, sizeof aRun[i].zUrl, "https://127.0.0.1:%u/upload",
                 (unsigned)port);
        aRun[i].rSeconds = rSeconds;
        aRun[i].bKeepAlive = bKeepAlive;
        aRun[i].pBarrier = &barrier;
        pthread_create(&aTh[i], NULL, client_thread, &aRun[i]);
    }
    pthread_barrier_wait(&barrier); /* all warmed up */
    double t0 = pa_bench_now_s();
    pthread_barrier_wait(&barrier); /* all done */
    double dt = pa_bench_now_s() - t0;
    long nOk = 0, nFail = 0;
    for (int i = 0; i < N_CLIENTS; i++) {
        pthread_join(aTh[i], NULL);
        nOk += aRun[i].nOk;
        nFail += aRun[i].nFail;
    }
    pthread_barrier_destroy(&barrier);
    if (nFail) {
        fprintf(stderr, "bench_http: %ld of %ld requests failed\n", nFail, nOk + nFail);
        return -1;
    }
    return (double)nOk / dt;
}

void pa_bench_http(pa_bench *b)
{
    char zDir[64], zCert[96], zKey[96];
    pa_http_server *s = NULL;
    static const pa_http_route routes[] = {{"POST", "/upload", h_accept, false, NULL, NULL, NULL, NULL, 0}};

    signal(SIGPIPE, SIG_IGN);
    snprintf(zDir, sizeof zDir, "/tmp/pa_bench_http_XXXXXX");
    if (mkdtemp(zDir) == NULL) {
        pa_bench_fail(b, "http", "set-up: cannot make %s", zDir);
        return;
    }
    snprintf(zCert, sizeof zCert, "%s/cert.pem", zDir);
    snprintf(zKey, sizeof zKey, "%s/key.pem", zDir);
    pa_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.tls_cert_path = zCert;
    cfg.tls_key_path = zKey;
    cfg.routes = routes;
    cfg.n_routes = 1;
    if (pa_http_make_self_signed(zCert, zKey, NULL) != PA_OK ||
        pa_http_server_start(&s, &cfg) != PA_OK) {
        pa_bench_fail(b, "http", "set-up: %s", pa_error_detail());
    } else {
        uint16_t port = pa_http_server_port(s);
        double rSec = pa_bench_quick(b) ? 0.2 : 2.0;
        double r = run(zCert, port, 1, rSec);
        if (r < 0)
            pa_bench_fail(b, "http", "keep-alive: requests failed");
        else
            pa_bench_add(b, "http", "POST 1 KiB, HTTPS keep-alive", "16 clients, 4 server threads",
                         r, "req/s", ">= 2000");
        r = run(zCert, port, 0, rSec / 2);
        if (r < 0)
            pa_bench_fail(b, "http", "new connection each: requests failed");
        else
            pa_bench_add(b, "http", "POST 1 KiB, HTTPS new conn each",
                         "16 clients, 4 server threads, ECDSA P-256", r, "req/s", NULL);
        pa_http_server_stop(&s);
    }
    unlink(zCert);
    unlink(zKey);
    rmdir(zDir);
}
