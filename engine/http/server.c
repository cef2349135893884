/*
 * The HTTP(S) server: libmicrohttpd with its internal thread pool (or a thread
 * per connection, for handlers that block), GnuTLS for
 * TLS (cert/key handed over at each handshake by engine/http/tls_creds.c, so a
 * reload replaces them while serving), a route table of plain C handlers, bearer
 * tokens compared in constant time, bounded bodies and a graceful stop.
 *
 * Request life (libmicrohttpd calls the access handler several times):
 *   1st call  — headers are in: pick the route (404/405), check the bearer token
 *               (401) and Content-Length (413).  An error for a request whose
 *               declared body is over the limit is queued at once, so the body is
 *               never read; other errors wait for the body, which is discarded.
 *   body calls — bytes appended up to max_body_bytes, never beyond (a chunked body
 *               that overflows turns into 413 and is discarded; past 4x the limit
 *               the connection is dropped).
 *   last call — the handler runs and its response is queued.
 * The completion callback records metrics and the latency, and counts the request
 * out of "in flight", which is what pa_http_server_stop waits for.
 *
 * Framing is checked before anything else (RFC 9112 §6): a Content-Length that is
 * not one decimal number (two that differ, a list, a sign) is 400, a
 * Transfer-Encoding other than "chunked" is 501, both at once 400; these, 413 and
 * 415 (a route's media type) are answered at once and the connection closed, so
 * the body is never read or waited for.  Every answer of status 400 or more
 * writes one log line: peer, method, route, status, problem type.  Slow clients
 * are the connection guard's (conn_guard.c): the phases of each connection are
 * reported to it from here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/ct.h"
#include "http/http_internal.h"
#include "privagg/common.h"
#include "privagg/http.h"

#define CONNECTION_MEMORY_LIMIT (64 * 1024) /* request line + headers + read buffer */
#define MAX_THREADS 64
#define DISCARD_FACTOR 4

typedef struct route_ent {
    char *zMethod;
    char *zPath;
    size_t nPath;
    bool bPrefix;
    pa_http_handler xHandler;
    void *pCtx;
    bool bAuth;
    pa_http_token aToken[PA_HTTP_MAX_TOKENS];
    size_t nToken;
    char *zLabel; /* route="<path>" for metrics */
    char *zContentType; /* required media type of a body, or NULL */
} route_ent;

struct pa_http_server {
    struct MHD_Daemon *pDaemon;
    route_ent *aRoute;
    size_t nRoute;
    size_t nMaxBody;
    unsigned nDrainMs;
    bool bLog;
    char *zWarning;     /* Privagg-Warning on every answer, or NULL */
    bool bTls;
    uint16_t iPort;
    pa_tls_creds *pCreds;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    unsigned nInFlight;
    atomic_int bStopping; /* read by pool threads */
    pa_conn_guard *pGuard;
    bool bMetricsToken;
    uint8_t aMetricsToken[PA_HTTP_TOKEN_BYTES];
    int (*xReady)(void *, char *, size_t);
    void *pReadyCtx;
};

struct pa_http_req {
    pa_http_server *pServer;
    struct MHD_Connection *pConn;
    const route_ent *pRoute;
    const char *zMethod;
    const char *zPath;
    uint8_t *aBody;
    size_t nBody, nAlloc, nDiscarded;
    pa_http_response early; /* a problem decided before the handler ran */
    bool bEarly;
    bool bQueued;
    int iStatus;
    double t0;
    pa_conn *pConnEnt;   /* the connection guard's entry (NULL: unguarded) */
    const char *zType;   /* problem type of a refusal, for the log line (static) */
    char zLogDetail[160]; /* a 5xx's real message: logged, never sent */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- accessors */

const char *pa_http_req_method(const pa_http_req *r)
{
    return r->zMethod;
}

const char *pa_http_req_path(const pa_http_req *r)
{
    return r->zPath;
}

const char *pa_http_req_path_tail(const pa_http_req *r)
{
    return r->pRoute && r->pRoute->bPrefix ? r->zPath + r->pRoute->nPath : "";
}

const uint8_t *pa_http_req_body(const pa_http_req *r, size_t *pLen)
{
    *pLen = r->nBody;
    return r->nBody ? r->aBody : NULL;
}

const char *pa_http_req_header(const pa_http_req *r, const char *zName)
{
    return MHD_lookup_connection_value(r->pConn, MHD_HEADER_KIND, zName);
}

const char *pa_http_req_query(const pa_http_req *r, const char *zKey)
{
    return MHD_lookup_connection_value(r->pConn, MHD_GET_ARGUMENT_KIND, zKey);
}

/* ------------------------------------------------------------------ routing */

/* Exact match first, then the longest prefix route.  *pbPathKnown tells whether
 * some route has this path with another method (405 rather than 404). */
static const route_ent *find_route(const pa_http_server *s, const char *zMethod,
                                   const char *zPath, bool *pbPathKnown)
{
    const route_ent *pBest = NULL;
    size_t nPath = strlen(zPath);
    *pbPathKnown = false;
    for (size_t i = 0; i < s->nRoute; i++) {
        const route_ent *r = &s->aRoute[i];
        bool bMatch = r->bPrefix ? (nPath > r->nPath && memcmp(zPath, r->zPath, r->nPath) == 0)
                                 : strcmp(zPath, r->zPath) == 0;
        if (!bMatch)
            continue;
        *pbPathKnown = true;
        if (strcmp(zMethod, r->zMethod) != 0)
            continue;
        if (pBest == NULL || (pBest->bPrefix && (!r->bPrefix || r->nPath > pBest->nPath)))
            pBest = r;
    }
    return pBest;
}

/* "Allow" for a 405: the methods of the routes that match the path. */
static void allowed_methods(const pa_http_server *s, const char *zPath, char *z, size_t nz)
{
    size_t nPath = strlen(zPath), n = 0;
    z[0] = '\0';
    for (size_t i = 0; i < s->nRoute; i++) {
        const route_ent *r = &s->aRoute[i];
        bool bMatch = r->bPrefix ? (nPath > r->nPath && memcmp(zPath, r->zPath, r->nPath) == 0)
                                 : strcmp(zPath, r->zPath) == 0;
        if (!bMatch || strstr(z, r->zMethod) != NULL)
            continue;
        int k = snprintf(z + n, nz - n, "%s%s", n ? ", " : "", r->zMethod);
        if (k < 0 || (size_t)k >= nz - n)
            break;
        n += (size_t)k;
    }
}

/* Authorization: Bearer <64 hex>, compared in constant time with every token of
 * the route.  A match of an expired token fills zWhy. */
static bool bearer_ok_any(const route_ent *e, struct MHD_Connection *pConn, char *zWhy, size_t nWhy)
{
    const char *z = MHD_lookup_connection_value(pConn, MHD_HEADER_KIND, "Authorization");
    uint8_t aGot[PA_HTTP_TOKEN_BYTES];
    size_t nBin = 0;
    const char *zEnd = NULL;

    if (z == NULL || strncasecmp(z, "Bearer ", 7) != 0)
        return false;
    z += 7;
    if (strlen(z) != 2 * PA_HTTP_TOKEN_BYTES)
        return false;
    if (sodium_hex2bin(aGot, sizeof aGot, z, 2 * PA_HTTP_TOKEN_BYTES, NULL, &nBin, &zEnd) != 0 ||
        nBin != sizeof aGot) {
        pa_wipe(aGot, sizeof aGot);
        return false;
    }
    int iMatch = -1;
    for (size_t i = 0; i < e->nToken; i++) {
        int bEq = sodium_memcmp(aGot, e->aToken[i].aToken, sizeof aGot) == 0;
        iMatch = bEq ? (int)i : iMatch;
    }
    pa_wipe(aGot, sizeof aGot);
    if (iMatch < 0)
        return false;
    /* which token matched is not secret; its expiry is the operator's schedule */
    if (e->aToken[iMatch].tNotAfter != 0 && (int64_t)time(NULL) >= e->aToken[iMatch].tNotAfter) {
        snprintf(zWhy, nWhy, "bearer token id %u expired at unix time %lld; use the current token",
                 e->aToken[iMatch].iId, (long long)e->aToken[iMatch].tNotAfter);
        return false;
    }
    return true;
}

/* One Content-Length value: a plain decimal number (RFC 9110 §8.6), else -1. */
static long long parse_length(const char *z)
{
    long long v = 0;
    if (z == NULL || *z == '\0')
        return -1;
    for (; *z; z++) {
        if (*z < '0' || *z > '9' || v > (1LL << 50))
            return -1;
        v = v * 10 + (*z - '0');
    }
    return v;
}

typedef struct {
    unsigned nLength, nEncoding;
    long long nFirst;
    bool bDiffer, bBad;
} framing;

static enum MHD_Result count_framing(void *pCls, enum MHD_ValueKind eKind, const char *zKey,
                                     const char *zValue)
{
    framing *f = pCls;
    (void)eKind;
    if (strcasecmp(zKey, "Content-Length") == 0) {
        long long v = parse_length(zValue);
        if (v < 0)
            f->bBad = true;
        else if (f->nLength > 0 && v != f->nFirst)
            f->bDiffer = true;
        if (f->nLength++ == 0)
            f->nFirst = v;
    } else if (strcasecmp(zKey, "Transfer-Encoding") == 0) {
        f->nEncoding++;
    }
    return MHD_YES;
}

/* The request's framing per RFC 9112 §6: 0 when it is one Content-Length, or
 * "chunked" alone, or neither; else the status to answer (400, 501) with its
 * detail.  *pnDeclared is the body length (-1: none declared). */
static int check_framing(struct MHD_Connection *pConn, long long *pnDeclared, const char **pzDetail)
{
    framing f;
    memset(&f, 0, sizeof f);
    *pnDeclared = -1;
    MHD_get_connection_values(pConn, MHD_HEADER_KIND, count_framing, &f);
    if (f.nLength > 0 && f.nEncoding > 0) {
        *pzDetail = "both Content-Length and Transfer-Encoding (RFC 9112 section 6.3)";
        return 400;
    }
    if (f.bBad) {
        *pzDetail = "Content-Length: not one decimal number";
        return 400;
    }
    if (f.bDiffer) {
        *pzDetail = "Content-Length: two different values";
        return 400;
    }
    if (f.nEncoding > 0) {
        const char *z = MHD_lookup_connection_value(pConn, MHD_HEADER_KIND, "Transfer-Encoding");
        if (f.nEncoding > 1 || z == NULL || strcasecmp(z, "chunked") != 0) {
            *pzDetail = "Transfer-Encoding: only \"chunked\" is supported";
            return 501;
        }
    }
    if (f.nLength > 0)
        *pnDeclared = f.nFirst;
    return 0;
}

/* The media type of Content-Type (before any ';', spaces trimmed) is zWant. */
static bool media_type_is(struct MHD_Connection *pConn, const char *zWant)
{
    const char *z = MHD_lookup_connection_value(pConn, MHD_HEADER_KIND, "Content-Type");
    size_t n, nWant = strlen(zWant);
    if (z == NULL)
        return false;
    while (*z == ' ' || *z == '\t')
        z++;
    for (n = 0; z[n] && z[n] != ';' && z[n] != ' ' && z[n] != '\t'; n++)
        ;
    return n == nWant && strncasecmp(z, zWant, n) == 0;
}

static const struct sockaddr *peer_addr(struct MHD_Connection *pConn)
{
    const union MHD_ConnectionInfo *pInfo =
        MHD_get_connection_info(pConn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return pInfo ? pInfo->client_addr : NULL;
}

/* ------------------------------------------------------------------ replies */

static int queue(pa_http_req *q, pa_http_response *resp)
{
    struct MHD_Response *pResp;
    if (resp->body_len == 0) {
        pResp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp->body_static)
            free(resp->body);
    } else if (resp->body_static) {
        pResp = MHD_create_response_from_buffer(resp->body_len, resp->body,
                                                MHD_RESPMEM_PERSISTENT);
    } else {
        pResp = MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body,
                                                                   free);
        if (pResp == NULL)
            free(resp->body);
    }
    resp->body = NULL; /* now owned by pResp (or freed) */
    resp->body_len = 0;
    if (pResp == NULL) {
        pa_http_response_clear(resp);
        return MHD_NO;
    }
    if (resp->content_type)
        MHD_add_response_header(pResp, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(pResp, resp->azHeaderName[i], resp->azHeaderValue[i]);
    MHD_add_response_header(pResp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(pResp, "Cache-Control", "no-store");
    if (q->pServer->zWarning)
        MHD_add_response_header(pResp, "Privagg-Warning", q->pServer->zWarning);
    if (atomic_load(&q->pServer->bStopping))
        MHD_add_response_header(pResp, MHD_HTTP_HEADER_CONNECTION, "close");
    int iStatus = resp->status;
    pa_http_response_clear(resp);
    if (iStatus >= 400 && q->pServer->bLog) {
        /* one line per refusal: peer, method, route (never the raw path, which is
         * the client's), status, problem type; a 5xx adds its real message */
        char zPeer[INET6_ADDRSTRLEN + 1];
        pa_http_addr_format(peer_addr(q->pConn), zPeer, sizeof zPeer);
        fprintf(stderr, "privagg: http: %s %.16s %s: %d %s%s%s\n", zPeer, q->zMethod,
                q->pRoute ? q->pRoute->zPath : "(no route)", iStatus, q->zType ? q->zType : "-",
                q->zLogDetail[0] ? ": " : "", q->zLogDetail);
    }
    enum MHD_Result rc = MHD_queue_response(q->pConn, (unsigned)iStatus, pResp);
    MHD_destroy_response(pResp);
    if (rc == MHD_YES) {
        q->iStatus = iStatus;
        q->bQueued = true;
    }
    return rc;
}

/* Decide an early problem (the body will not reach any handler). */
static void set_early(pa_http_req *q, int status, const char *zType, const char *zDetail)
{
    q->bEarly = true;
    q->zType = zType;
    if (pa_http_problem(&q->early, status, zType, "%s", zDetail) != PA_OK)
        q->early.status = status; /* out of memory: status with an empty body */
}

/* Map a handler's failure to a problem; 5xx details stay in the log. */
static void handler_failed(pa_http_req *q, pa_http_response *resp, int rc)
{
    const char *zDetail = pa_error_detail();
    const pa_status_map *m = pa_status_lookup(rc);
    int status = m->http;

    pa_http_response_clear(resp);
    q->zType = m->zType;
    /* a server-side failure's message may name internals (SQL, paths): it goes
     * to the log line and the client reads only the type; an unreachable peer
     * or a busy pool is said as such (the caller retries) */
    if (status >= 500 && rc != PA_EIO && rc != PA_EBUSY) {
        snprintf(q->zLogDetail, sizeof q->zLogDetail, "%s: %s", pa_strerror(rc), zDetail);
        for (char *z = q->zLogDetail; *z; z++)
            if (*z == '\n' || *z == '\r')
                *z = ' ';
        /* a store that cannot write (disk full, read-only, I/O error) is
         * retried by the client: it says so, without the store's message */
        zDetail = rc == PA_ESTORE ? "the aggregator cannot store data now; try again later"
                                  : "internal error";
    }
    if (pa_http_problem(resp, status, m->zType, "%s", zDetail) != PA_OK)
        resp->status = status;
    if (m->bRetry)
        pa_http_response_header(resp, "Retry-After", "1");
}

static void run_handler(pa_http_req *q, pa_http_response *resp)
{
    pa_error_clear();
    int rc = q->pRoute->xHandler(q->pRoute->pCtx, q, resp);
    if (rc != PA_OK) {
        handler_failed(q, resp, rc);
    } else if (resp->status < 100 || resp->status > 599) {
        snprintf(q->zLogDetail, sizeof q->zLogDetail, "handler set status %d", resp->status);
        q->zType = "internal";
        pa_http_response_clear(resp);
        if (pa_http_problem(resp, 500, "internal", "internal error") != PA_OK)
            resp->status = 500;
    }
}

/* ----------------------------------------------------------- MHD callbacks */

static void first_call(pa_http_server *s, pa_http_req *q, struct MHD_Connection *pConn)
{
    bool bKnown;
    char zAllow[128], zDetail[200];
    const char *zFraming = NULL;
    long long nDeclared;

    q->pRoute = find_route(s, q->zMethod, q->zPath, &bKnown);
    /* framing first: a request whose body length is in doubt is answered at once
     * and its connection closed (never read a body whose end is uncertain) */
    int iFraming = check_framing(pConn, &nDeclared, &zFraming);
    if (iFraming != 0) {
        set_early(q, iFraming, iFraming == 501 ? "not-implemented" : "malformed", zFraming);
        queue(q, &q->early);
        return;
    }
    bool bBody = nDeclared > 0 ||
                 MHD_lookup_connection_value(pConn, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
    pa_conn_guard_phase(s->pGuard, q->pConnEnt, PA_CONN_BODY, nDeclared >= 0 ? nDeclared : (long long)s->nMaxBody);
    if (q->pRoute == NULL && !bKnown) {
        set_early(q, 404, "not-found", "no route for this path");
    } else if (q->pRoute == NULL) {
        allowed_methods(s, q->zPath, zAllow, sizeof zAllow);
        snprintf(zDetail, sizeof zDetail, "method %.16s not allowed; allowed: %s", q->zMethod,
                 zAllow);
        set_early(q, 405, "method-not-allowed", zDetail);
        pa_http_response_header(&q->early, "Allow", zAllow);
    } else if (q->pRoute->bAuth && (zDetail[0] = '\0', !bearer_ok_any(q->pRoute, pConn, zDetail, sizeof zDetail))) {
        set_early(q, 401, "unauthorized", zDetail[0] ? zDetail : "missing or wrong bearer token");
        pa_http_response_header(&q->early, "WWW-Authenticate", "Bearer");
    }
    if (nDeclared > (long long)s->nMaxBody && (!q->bEarly || q->early.status != 401)) {
        pa_http_response_clear(&q->early);
        snprintf(zDetail, sizeof zDetail, "body: %lld bytes declared, limit %zu", nDeclared,
                 s->nMaxBody);
        set_early(q, 413, "payload-too-large", zDetail);
    }
    if (!q->bEarly && bBody && q->pRoute->zContentType != NULL &&
        !media_type_is(pConn, q->pRoute->zContentType)) {
        snprintf(zDetail, sizeof zDetail, "Content-Type: expected %s", q->pRoute->zContentType);
        set_early(q, 415, "unsupported-media-type", zDetail);
        pa_http_response_header(&q->early, "Accept-Post", q->pRoute->zContentType);
        queue(q, &q->early);
        return;
    }
    if (q->bEarly && nDeclared > (long long)s->nMaxBody) {
        /* Answer now, before a byte of the body is read: libmicrohttpd then closes
         * the connection after the reply instead of reading the body. */
        queue(q, &q->early);
        return;
    }
    if (!q->bEarly && nDeclared > 0) {
        /* Grown as bytes arrive beyond 128 KiB, so a declared but unsent body
         * costs little; a Missouri report (75 KB) fits in one allocation. */
        size_t nFirst = (size_t)nDeclared < 131072 ? (size_t)nDeclared : 131072;
        q->aBody = malloc(nFirst);
        if (q->aBody == NULL)
            set_early(q, 500, "internal", "out of memory");
        else
            q->nAlloc = nFirst;
    }
}

static bool append_body(pa_http_server *s, pa_http_req *q, const char *p, size_t n)
{
    if (q->bEarly) {
        q->nDiscarded += n;
        return q->nDiscarded <= DISCARD_FACTOR * s->nMaxBody;
    }
    if (n > s->nMaxBody - q->nBody) {
        char zDetail[96];
        snprintf(zDetail, sizeof zDetail, "body: more than %zu bytes", s->nMaxBody);
        set_early(q, 413, "payload-too-large", zDetail);
        q->nDiscarded = q->nBody + n;
        return true;
    }
    if (q->nBody + n > q->nAlloc) {
        size_t nNew = q->nAlloc ? q->nAlloc : 4096;
        while (nNew < q->nBody + n)
            nNew *= 2;
        if (nNew > s->nMaxBody)
            nNew = s->nMaxBody;
        uint8_t *a = realloc(q->aBody, nNew);
        if (a == NULL) {
            set_early(q, 500, "internal", "out of memory");
            return true;
        }
        q->aBody = a;
        q->nAlloc = nNew;
    }
    memcpy(q->aBody + q->nBody, p, n);
    q->nBody += n;
    return true;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *pConn, const char *zUrl,
                                 const char *zMethod, const char *zVersion,
                                 const char *zUpload, size_t *pnUpload, void **ppConCls)
{
    pa_http_server *s = cls;
    pa_http_req *q = *ppConCls;
    (void)zVersion;

    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return MHD_NO;
        q->pServer = s;
        q->pConn = pConn;
        q->zMethod = zMethod;
        q->zPath = zUrl;
        q->t0 = now_s();
        const union MHD_ConnectionInfo *pInfo =
            MHD_get_connection_info(pConn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        q->pConnEnt = pInfo ? pInfo->socket_context : NULL;
        pthread_mutex_lock(&s->mutex);
        s->nInFlight++;
        pthread_mutex_unlock(&s->mutex);
        *ppConCls = q;
        first_call(s, q, pConn);
        return MHD_YES;
    }
    if (q->bQueued) { /* early answer already queued: ignore any body */
        *pnUpload = 0;
        return MHD_YES;
    }
    if (*pnUpload > 0) {
        bool bOk = append_body(s, q, zUpload, *pnUpload);
        *pnUpload = 0;
        return bOk ? MHD_YES : MHD_NO;
    }
    pa_conn_guard_phase(s->pGuard, q->pConnEnt, PA_CONN_BUSY, 0);
    if (q->bEarly)
        return queue(q, &q->early);
    pa_http_response resp;
    memset(&resp, 0, sizeof resp);
    run_handler(q, &resp);
    return queue(q, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *pConn, void **ppConCls,
                         enum MHD_RequestTerminationCode eCode)
{
    pa_http_server *s = cls;
    pa_http_req *q = *ppConCls;
    char zLabels[320];
    (void)eCode;

    if (q == NULL)
        return;
    const char *zRoute = q->pRoute ? q->pRoute->zLabel : "route=\"unmatched\"";
    if (q->bQueued)
        snprintf(zLabels, sizeof zLabels, "%s,status=\"%d\"", zRoute, q->iStatus);
    else
        snprintf(zLabels, sizeof zLabels, "%s,status=\"aborted\"", zRoute);
    pa_metrics_inc("privagg_http_requests_total", zLabels, 1);
    pa_metrics_observe("privagg_http_request_duration_seconds", zRoute, now_s() - q->t0);

    /* back to waiting for a request on a kept-alive connection (the entry read
     * again from the connection: NULL once libmicrohttpd reported the close) */
    const union MHD_ConnectionInfo *pInfo =
        pConn ? MHD_get_connection_info(pConn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    if (pInfo != NULL && pInfo->socket_context != NULL)
        pa_conn_guard_phase(s->pGuard, pInfo->socket_context, PA_CONN_IDLE, 0);
    pa_http_response_clear(&q->early);
    free(q->aBody);
    free(q);
    *ppConCls = NULL;
    pthread_mutex_lock(&s->mutex);
    s->nInFlight--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mutex);
}

static void on_log(void *cls, const char *zFmt, va_list ap)
{
    pa_http_server *s = cls;
    if (s->bLog) {
        fputs("privagg: http: ", stderr);
        vfprintf(stderr, zFmt, ap);
    }
}

/* The connection guard's hooks: accept policy and connection life. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *pAddr, socklen_t nAddr)
{
    pa_http_server *s = cls;
    (void)nAddr;
    return pa_conn_guard_admit(s->pGuard, pAddr) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *pConn, void **ppSocketCtx,
                          enum MHD_ConnectionNotificationCode eCode)
{
    pa_http_server *s = cls;
    if (eCode == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *pFd =
            MHD_get_connection_info(pConn, MHD_CONNECTION_INFO_CONNECTION_FD);
        /* the entry is the socket context; it carries the TLS pair for the handshake */
        *ppSocketCtx = pFd ? pa_conn_guard_opened(s->pGuard, pFd->connect_fd, peer_addr(pConn), s->pCreds)
                           : NULL;
    } else if (eCode == MHD_CONNECTION_NOTIFY_CLOSED) {
        pa_conn_guard_closed(s->pGuard, *ppSocketCtx);
        *ppSocketCtx = NULL;
    }
}

/* ---------------------------------------------------------- built-in routes */

/* Liveness: the process answers. */
static int handle_health(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    static const char z[] = "{\"status\":\"ok\"}";
    (void)ctx;
    (void)req;
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = (uint8_t *)z;
    resp->body_len = sizeof z - 1;
    resp->body_static = true;
    return PA_OK;
}

/* Readiness: the owner's check (store writable, peer reachable), 503 if not. */
static int handle_ready(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    pa_http_server *s = ctx;
    char zWhy[200] = "", zBody[300];
    unsigned nOpen = 0, nSoft = 0;
    (void)req;
    int rc = s->xReady ? s->xReady(s->pReadyCtx, zWhy, sizeof zWhy) : PA_OK;
    pa_conn_guard_counts(s->pGuard, &nOpen, &nSoft);
    for (char *z = zWhy; *z; z++)
        if (*z == '"' || *z == '\\' || (unsigned char)*z < 0x20)
            *z = '\'';
    int n = snprintf(zBody, sizeof zBody, "{\"status\":\"%s\",\"detail\":\"%s\",\"connections\":%u,\"budget\":%u}",
                     rc == PA_OK ? "ready" : "not-ready", rc == PA_OK ? "" : zWhy, nOpen, nSoft);
    if (rc != PA_OK) {
        pa_http_response_header(resp, "Retry-After", "5");
        ((pa_http_req *)req)->zType = "not-ready";
    }
    return pa_http_response_set(resp, rc == PA_OK ? 200 : 503, "application/json", zBody,
                                n > 0 && (size_t)n < sizeof zBody ? (size_t)n : 0);
}

static int handle_metrics(void *ctx, const pa_http_req *req, pa_http_response *resp)
{
    pa_http_server *s = ctx;
    char *z;
    size_t n;
    /* with a token the route checked it; without one only this machine may read */
    if (!s->bMetricsToken && !pa_http_addr_is_loopback(peer_addr(req->pConn)))
        return pa_fail(PA_EAUTH, "/metrics: only from the loopback unless a metrics token is configured");
    int rc = pa_metrics_render(&z, &n);
    if (rc != PA_OK)
        return rc;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = (uint8_t *)z;
    resp->body_len = n;
    return PA_OK;
}

/* ------------------------------------------------------------ start / stop */

static void free_server(pa_http_server *s)
{
    for (size_t i = 0; i < s->nRoute; i++) {
        free(s->aRoute[i].zMethod);
        free(s->aRoute[i].zPath);
        free(s->aRoute[i].zLabel);
        free(s->aRoute[i].zContentType);
    }
    if (s->aRoute)
        pa_wipe(s->aRoute, s->nRoute * sizeof *s->aRoute);
    free(s->aRoute);
    pa_tls_creds_free(&s->pCreds);
    free(s->zWarning);
    pa_conn_guard_free(s->pGuard);
    pa_wipe(s->aMetricsToken, sizeof s->aMetricsToken);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mutex);
    free(s);
}

static int add_route(pa_http_server *s, const pa_http_route *r)
{
    route_ent *e = &s->aRoute[s->nRoute];
    if (r->method == NULL || r->path == NULL || r->path[0] != '/' || r->handler == NULL)
        return pa_fail(PA_EINVAL, "route %zu: method, path starting with '/' and handler needed",
                       s->nRoute);
    if (!pa_metrics_label_ok(r->path) || strlen(r->path) > 200)
        return pa_fail(PA_EINVAL, "route %s: path has '\"', '\\' or newline, or is long",
                       r->path);
    if (r->requires_bearer_auth && r->bearer_token == NULL &&
        (r->bearer_tokens == NULL || r->n_bearer_tokens == 0))
        return pa_fail(PA_EINVAL, "route %s %s: requires_bearer_auth without a token", r->method,
                       r->path);
    if (r->n_bearer_tokens > PA_HTTP_MAX_TOKENS)
        return pa_fail(PA_EINVAL, "route %s %s: %zu bearer tokens, at most %d", r->method, r->path,
                       r->n_bearer_tokens, PA_HTTP_MAX_TOKENS);
    size_t nLabel = strlen(r->path) + 16;
    e->zMethod = strdup(r->method);
    e->zPath = strdup(r->path);
    e->zLabel = malloc(nLabel);
    e->zContentType = r->content_type ? strdup(r->content_type) : NULL;
    s->nRoute++; /* so free_server frees what was allocated */
    if (e->zMethod == NULL || e->zPath == NULL || e->zLabel == NULL ||
        (r->content_type != NULL && e->zContentType == NULL))
        return pa_fail(PA_ENOMEM, "route %s", r->path);
    snprintf(e->zLabel, nLabel, "route=\"%s\"", r->path);
    e->nPath = strlen(r->path);
    e->bPrefix = e->nPath > 1 && r->path[e->nPath - 1] == '/';
    e->xHandler = r->handler;
    e->pCtx = r->ctx;
    e->bAuth = r->requires_bearer_auth;
    if (e->bAuth && r->bearer_tokens != NULL && r->n_bearer_tokens > 0) {
        memcpy(e->aToken, r->bearer_tokens, r->n_bearer_tokens * sizeof e->aToken[0]);
        e->nToken = r->n_bearer_tokens;
    } else if (e->bAuth) {
        memcpy(e->aToken[0].aToken, r->bearer_token, PA_HTTP_TOKEN_BYTES);
        e->nToken = 1;
    }
    return PA_OK;
}

static bool has_path(const pa_http_config *cfg, const char *zPath)
{
    for (size_t i = 0; i < cfg->n_routes; i++)
        if (cfg->routes[i].path && strcmp(cfg->routes[i].path, zPath) == 0)
            return true;
    return false;
}

static int fill_routes(pa_http_server *s, const pa_http_config *cfg)
{
    s->aRoute = calloc(cfg->n_routes + 3, sizeof *s->aRoute);
    if (s->aRoute == NULL)
        return pa_fail(PA_ENOMEM, "routes: %zu", cfg->n_routes);
    for (size_t i = 0; i < cfg->n_routes; i++) {
        int rc = add_route(s, &cfg->routes[i]);
        if (rc != PA_OK)
            return rc;
    }
    const pa_http_route health = {"GET", "/health", handle_health, false, NULL, s, NULL, NULL, 0};
    const pa_http_route ready = {"GET", "/health/ready", handle_ready, false, NULL, s, NULL, NULL, 0};
    const pa_http_route metrics = {"GET", "/metrics", handle_metrics, s->bMetricsToken,
                                   s->bMetricsToken ? s->aMetricsToken : NULL, s, NULL, NULL, 0};
    if (!has_path(cfg, "/health") && add_route(s, &health) != PA_OK)
        return PA_ENOMEM;
    if (!has_path(cfg, "/health/ready") && add_route(s, &ready) != PA_OK)
        return PA_ENOMEM;
    if (!has_path(cfg, "/metrics") && add_route(s, &metrics) != PA_OK)
        return PA_ENOMEM;
    return PA_OK;
}

static int check_config(const pa_http_config *cfg)
{
    bool bTls = cfg->tls_cert_path != NULL || cfg->tls_key_path != NULL;
    if (bTls && cfg->insecure_http)
        return pa_fail(PA_EINVAL, "server: TLS files and insecure_http are exclusive");
    if (!cfg->insecure_http && (cfg->tls_cert_path == NULL || cfg->tls_key_path == NULL))
        return pa_fail(PA_EINVAL, "server: needs a TLS certificate and key, or insecure_http");
    if (cfg->threads > MAX_THREADS)
        return pa_fail(PA_EINVAL, "server threads: %u above %d", cfg->threads, MAX_THREADS);
    if (cfg->n_routes > 0 && cfg->routes == NULL)
        return pa_fail(PA_EINVAL, "server: %zu routes but no table", cfg->n_routes);
    if (cfg->n_routes > 1000)
        return pa_fail(PA_EINVAL, "server routes: %zu above 1000", cfg->n_routes);
    if (cfg->max_connections > 16384)
        return pa_fail(PA_EINVAL, "server max_connections: %u above 16384", cfg->max_connections);
    if (bTls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return pa_fail(PA_EUNSUPPORTED, "server: libmicrohttpd was built without TLS");
    return PA_OK;
}

static int start_daemon(pa_http_server *s, const pa_http_config *cfg)
{
    const char *zAddr = cfg->bind_address ? cfg->bind_address : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    struct sockaddr_in *p4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, zAddr, &p4->sin_addr) == 1) {
        p4->sin_family = AF_INET;
        p4->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, zAddr, &p6->sin6_addr) == 1) {
        p6->sin6_family = AF_INET6;
        p6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        return pa_fail(PA_EINVAL, "bind address: \"%s\" is not an IP literal", zAddr);
    }
    if (s->bTls)
        flags |= MHD_USE_TLS;

    unsigned nThreads = cfg->threads ? cfg->threads : PA_HTTP_DEFAULT_THREADS;
    struct MHD_OptionItem aOpt[16];
    size_t k = 0;
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (cfg->thread_per_connection)
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    else if (nThreads > 1)
        aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)nThreads, NULL};
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        (intptr_t)CONNECTION_MEMORY_LIMIT, NULL};
    aOpt[k++] = (struct MHD_OptionItem){
        MHD_OPTION_CONNECTION_TIMEOUT,
        (intptr_t)(cfg->timeout_s ? cfg->timeout_s : PA_HTTP_DEFAULT_TIMEOUT_S), NULL};
    aOpt[k++] = (struct MHD_OptionItem){
        MHD_OPTION_CONNECTION_LIMIT,
        (intptr_t)(cfg->max_connections ? cfg->max_connections : PA_HTTP_DEFAULT_MAX_CONNECTIONS), NULL};
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s};
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
    if (cfg->reuse_port)
        aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
    if (s->bTls) {
        aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
                                            (void *)pa_tls_creds_retrieve};
        aOpt[k++] = (struct MHD_OptionItem){
            MHD_OPTION_HTTPS_PRIORITIES, 0,
            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"};
    }
    aOpt[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    s->pDaemon = MHD_start_daemon(flags, cfg->port, on_accept, s, on_access, s,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_log, s, MHD_OPTION_ARRAY, aOpt,
                                  MHD_OPTION_END);
    if (s->pDaemon == NULL)
        return pa_fail(PA_EIO, "server: cannot start on %s port %u (address in use, bad TLS "
                               "files, or out of resources)",
                       zAddr, (unsigned)cfg->port);
    const union MHD_DaemonInfo *pInfo = MHD_get_daemon_info(s->pDaemon,
                                                            MHD_DAEMON_INFO_BIND_PORT);
    s->iPort = pInfo ? pInfo->port : cfg->port;
    return PA_OK;
}

int pa_http_server_start(pa_http_server **ppServer, const pa_http_config *cfg)
{
    *ppServer = NULL;
    int rc = check_config(cfg);
    if (rc != PA_OK)
        return rc;
    pa_http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pa_fail(PA_ENOMEM, "server");
    pthread_mutex_init(&s->mutex, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->nMaxBody = cfg->max_body_bytes ? cfg->max_body_bytes : PA_HTTP_DEFAULT_MAX_BODY;
    s->nDrainMs = cfg->drain_timeout_ms ? cfg->drain_timeout_ms : 30000;
    s->bLog = cfg->log_errors;
    if (cfg->warning != NULL && (s->zWarning = strdup(cfg->warning)) == NULL) {
        free_server(s);
        return pa_fail(PA_ENOMEM, "http server: out of memory");
    }
    s->bTls = !cfg->insecure_http;
    if (cfg->metrics_token != NULL) {
        s->bMetricsToken = true;
        memcpy(s->aMetricsToken, cfg->metrics_token, sizeof s->aMetricsToken);
    }
    s->xReady = cfg->ready;
    s->pReadyCtx = cfg->ready_ctx;
    pa_conn_limits lim;
    lim.max_connections = cfg->max_connections ? cfg->max_connections : PA_HTTP_DEFAULT_MAX_CONNECTIONS;
    lim.max_per_address = cfg->max_per_address ? cfg->max_per_address : PA_HTTP_DEFAULT_PER_ADDRESS;
    lim.header_timeout_s = cfg->header_timeout_s ? cfg->header_timeout_s : 10;
    lim.body_timeout_s = cfg->body_timeout_s ? cfg->body_timeout_s : 20;
    lim.idle_timeout_s = cfg->timeout_s ? cfg->timeout_s : PA_HTTP_DEFAULT_TIMEOUT_S;
    if ((rc = pa_conn_guard_new(&s->pGuard, &lim, s->bLog)) != PA_OK) {
        free_server(s);
        return rc;
    }
    if (s->bTls && (rc = pa_tls_creds_new(&s->pCreds, cfg->tls_cert_path, cfg->tls_key_path)) != PA_OK) {
        free_server(s);
        return rc;
    }
    if ((rc = fill_routes(s, cfg)) != PA_OK || (rc = start_daemon(s, cfg)) != PA_OK) {
        free_server(s);
        return rc;
    }
    *ppServer = s;
    return PA_OK;
}

int pa_http_server_reload_tls(pa_http_server *s, const char *zCert, const char *zKey)
{
    if (!s->bTls)
        return pa_fail(PA_EINVAL, "server: plain HTTP, no TLS certificate to reload");
    return pa_tls_creds_reload(s->pCreds, zCert, zKey);
}

uint16_t pa_http_server_port(const pa_http_server *s)
{
    return s->iPort;
}

void pa_http_server_stop(pa_http_server **ppServer)
{
    pa_http_server *s = ppServer ? *ppServer : NULL;
    if (s == NULL)
        return;
    atomic_store(&s->bStopping, 1);

    MHD_socket fd = MHD_quiesce_daemon(s->pDaemon); /* no new connections */
    if (fd != MHD_INVALID_SOCKET)
        close(fd);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += s->nDrainMs / 1000;
    deadline.tv_nsec += (long)(s->nDrainMs % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mutex);
    while (s->nInFlight > 0) {
        if (pthread_cond_timedwait(&s->cond, &s->mutex, &deadline) == ETIMEDOUT)
            break;
    }
    unsigned nLeft = s->nInFlight;
    pthread_mutex_unlock(&s->mutex);
    if (nLeft > 0 && s->bLog)
        fprintf(stderr, "privagg: http: stop: %u requests still in flight after %u ms\n", nLeft,
                s->nDrainMs);

    MHD_stop_daemon(s->pDaemon);
    free_server(s); /* the connection guard after the daemon: every close was reported */
    *ppServer = NULL;
}
