/*
 * privagg — the generic HTTP(S) layer (engine/http): a small hardened server on
 * libmicrohttpd, a client on libcurl, RFC 9457 problem details, bearer-token
 * auth, and a process-wide Prometheus metrics registry.
 *
 * This layer knows nothing about DAP: the aggregator plugs its plain C functions
 * in as route handlers (pa_http_route).  No libmicrohttpd or libcurl type appears
 * in this header.  See docs/http.md for routes, problem types, limits and metric
 * names.
 */
#ifndef PRIVAGG_HTTP_H
#define PRIVAGG_HTTP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PA_HTTP_TOKEN_BYTES 32          /* bearer tokens: 32 random bytes, sent as 64 hex */
#define PA_HTTP_DEFAULT_MAX_BODY (1u << 20)
#define PA_HTTP_DEFAULT_THREADS 4
#define PA_HTTP_DEFAULT_TIMEOUT_S 30
#define PA_HTTP_DEFAULT_MAX_CONNECTIONS 512
#define PA_HTTP_DEFAULT_PER_ADDRESS 64
#define PA_HTTP_MAX_EXTRA_HEADERS 4

size_t pa_http_token_bytes(void);

/* ------------------------------------------------------------------------ */
/* Requests and responses as handlers see them.                             */

typedef struct pa_http_req pa_http_req; /* opaque, valid during the handler call */

/* Method ("GET", "POST", ...), full path without query, and the part of the path
 * after the route's prefix ("" for an exact route). */
const char *pa_http_req_method(const pa_http_req *r);
const char *pa_http_req_path(const pa_http_req *r);
const char *pa_http_req_path_tail(const pa_http_req *r);
/* Body bytes (NULL when empty) and their count; at most the server's max_body_bytes. */
const uint8_t *pa_http_req_body(const pa_http_req *r, size_t *pLen);
/* A request header (case-insensitive name) or query argument; NULL if absent. */
const char *pa_http_req_header(const pa_http_req *r, const char *zName);
const char *pa_http_req_query(const pa_http_req *r, const char *zKey);

/*
 * What a handler fills.  status 0 means "not set".  body is freed with free()
 * after sending unless body_static is true (then it MUST outlive the server).
 * content_type MUST be a static string (or NULL: none).  Extra headers are
 * copied by pa_http_response_header().
 */
typedef struct pa_http_response {
    int status;
    const char *content_type;
    uint8_t *body;
    size_t body_len;
    bool body_static;
    size_t n_headers;
    char *azHeaderName[PA_HTTP_MAX_EXTRA_HEADERS];
    char *azHeaderValue[PA_HTTP_MAX_EXTRA_HEADERS];
} pa_http_response;

/* Set the body to a malloc'ed copy of p[0..n).  PA_ENOMEM on failure. */
int pa_http_response_set(pa_http_response *resp, int status, const char *content_type,
                         const void *p, size_t n);
/* Add a header (copied).  PA_ERANGE beyond PA_HTTP_MAX_EXTRA_HEADERS, PA_EINVAL on CR/LF. */
int pa_http_response_header(pa_http_response *resp, const char *zName, const char *zValue);
/* Free what the response owns and zero it. */
void pa_http_response_clear(pa_http_response *resp);

/*
 * Fill resp with an RFC 9457 problem document (application/problem+json):
 * {"type": "urn:privagg:error:<type_name>", "title": <standard title of status>,
 *  "status": status, "detail": <formatted>}.  A type_name that already starts
 * with "urn:" is used verbatim (e.g. the DAP error types).  Replaces any body.
 * Returns PA_OK or PA_ENOMEM.
 */
int pa_http_problem(pa_http_response *resp, int status, const char *type_name,
                    const char *detail_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/*
 * A route handler.  Returns PA_OK after filling resp (any status, possibly a
 * problem), or a negative PA_E* code: the server then discards whatever resp
 * holds and answers a problem mapped from the code — PA_EDECODE/PA_EINVAL 400
 * "malformed", PA_EAUTH/PA_EVERIFY 401/400, PA_ENOTFOUND 404, PA_EEXISTS 409,
 * PA_ERANGE 413, anything else 500 "internal" (whose detail is NOT sent; it is
 * logged).  For 4xx codes the detail is pa_error_detail().  Handlers run on the
 * server's pool threads, concurrently: ctx must be thread-safe.
 */
typedef int (*pa_http_handler)(void *ctx, const pa_http_req *req, pa_http_response *resp);

/*
 * A route.  path is exact ("/health") or, ending in '/', a prefix that matches
 * any longer path ("/tasks/" matches "/tasks/abc/reports"); exact wins, then the
 * longest prefix.  A path that matches with another method gives 405.  When
 * requires_bearer_auth, bearer_token (PA_HTTP_TOKEN_BYTES bytes, copied at start)
 * MUST be set and requests need "Authorization: Bearer <64 hex>" (compared in
 * constant time); several routes sharing one token form a group.
 */
/* One of several bearer tokens a route accepts while tokens rotate: an id (for
 * messages and logs), the token, and when it stops being accepted (unix
 * seconds; 0: never). */
#define PA_HTTP_MAX_TOKENS 8
typedef struct pa_http_token {
    unsigned iId;
    uint8_t aToken[PA_HTTP_TOKEN_BYTES];
    int64_t tNotAfter;
} pa_http_token;

typedef struct pa_http_route {
    const char *method;
    const char *path;
    pa_http_handler handler;
    bool requires_bearer_auth;
    const uint8_t *bearer_token;
    void *ctx;
    const char *content_type;   /* non-NULL: a request with a body MUST have this media type
                                   (parameters ignored, case-insensitive), else 415 */
    /* instead of bearer_token: n_bearer_tokens (1..PA_HTTP_MAX_TOKENS, copied at
     * start) accepted tokens; a request whose token is one of them that has
     * expired gets 401 naming its id and expiry.  Every token is compared (in
     * constant time), whichever matches. */
    const pa_http_token *bearer_tokens;
    size_t n_bearer_tokens;
} pa_http_route;

/* ------------------------------------------------------------------------ */
/* Server.                                                                   */

typedef struct pa_http_config {
    const char *bind_address;   /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
    uint16_t port;              /* 0 = ephemeral (read it with pa_http_server_port) */
    const char *tls_cert_path;  /* PEM; with tls_key_path, or ... */
    const char *tls_key_path;
    bool insecure_http;         /* ... explicitly plain HTTP (loopback tests only) */
    bool reuse_port;            /* SO_REUSEPORT: several processes listen on one port and
                                   the kernel spreads the connections over them */
    unsigned threads;           /* pool size; 0 = PA_HTTP_DEFAULT_THREADS; max 64 */
    bool thread_per_connection; /* instead of the pool: for handlers that block (a group
                                   commit), so a waiting request never holds up another
                                   connection; max_connections bounds the threads */
    size_t max_body_bytes;      /* 0 = PA_HTTP_DEFAULT_MAX_BODY; larger bodies get 413 */
    unsigned timeout_s;         /* idle connection timeout; 0 = PA_HTTP_DEFAULT_TIMEOUT_S */
    unsigned max_connections;   /* hard limit; 0 = PA_HTTP_DEFAULT_MAX_CONNECTIONS.  Past 7/8
                                   of it, each newcomer drops the connection that has waited
                                   longest for its request headers (docs/http.md) */
    unsigned max_per_address;   /* connections per client address; 0 = PA_HTTP_DEFAULT_PER_ADDRESS */
    unsigned header_timeout_s;  /* accept -> headers in (TLS handshake included); 0 = 10 */
    unsigned body_timeout_s;    /* headers -> body in, plus 1 s per 32 KiB declared; 0 = 20 */
    const uint8_t *metrics_token; /* GET /metrics: with a token (PA_HTTP_TOKEN_BYTES, copied)
                                   it needs "Authorization: Bearer"; NULL = loopback peers only */
    /* GET /health/ready: NULL = always ready; else 0 when ready, or a negative code
     * with a short reason written to zWhy (no secret: it is sent to the caller) */
    int (*ready)(void *ctx, char *zWhy, size_t nWhy);
    void *ready_ctx;
    unsigned drain_timeout_ms;  /* stop waits this long for in-flight requests; 0 = 30000 */
    const pa_http_route *routes;
    size_t n_routes;
    bool log_errors;            /* libmicrohttpd and handler errors to stderr */
    const char *warning;        /* non-NULL: sent as "Privagg-Warning: <warning>" on every
                                   answer (e.g. a task without privacy protection) */
} pa_http_config;

typedef struct pa_http_server pa_http_server;

/*
 * Start listening.  Requires either both TLS paths or insecure_http (never
 * both).  Routes are copied (their ctx pointers are not owned).  Built-in
 * routes GET /health (liveness: 200 {"status":"ok"}), GET /health/ready
 * (readiness: 200, or 503 with the reason) and GET /metrics are added unless
 * the table has the same path.  Errors: PA_EINVAL (config), PA_EIO (key files, bind), PA_ENOMEM.
 */
int pa_http_server_start(pa_http_server **ppServer, const pa_http_config *cfg);

/*
 * Replace the TLS certificate and key while serving (SIGHUP in privagg serve):
 * new handshakes get the new pair, connections already set up keep theirs, and
 * nothing in flight is dropped.  Both PEM files are read and checked (the key
 * must be the certificate's) before anything changes: on PA_EIO, PA_EDECODE or
 * PA_EINVAL the pair in use stays.  PA_EINVAL for a plain-HTTP server.
 */
int pa_http_server_reload_tls(pa_http_server *s, const char *cert_path, const char *key_path);

/* The bound TCP port (useful with port 0). */
uint16_t pa_http_server_port(const pa_http_server *s);

/*
 * Graceful stop (MUST NOT be called from a handler: it waits for handlers): close the listening socket, let in-flight requests finish (up to
 * drain_timeout_ms), then stop the threads, wipe tokens, free and set *ppServer
 * to NULL.  Requests that arrive on kept-alive connections while draining are
 * still served, with "Connection: close".  NULL or *NULL is a no-op.
 */
void pa_http_server_stop(pa_http_server **ppServer);

/*
 * Write a fresh self-signed ECDSA P-256 certificate (SAN: IP 127.0.0.1, IP ::1,
 * DNS localhost, DNS common_name; valid 1 year) and its private key as PEM.
 * The key file is created 0600; neither file may exist yet (PA_EEXISTS).
 */
int pa_http_make_self_signed(const char *cert_path, const char *key_path,
                             const char *common_name);

/* ------------------------------------------------------------------------ */
/* Metrics: a process-wide, thread-safe registry, rendered by GET /metrics in   */
/* Prometheus text format 0.0.4.  labels is NULL or a preformatted label list  */
/* such as `route="/health",status="200"` whose values the caller has made safe */
/* (no '"', '\\' or newline; use pa_metrics_label_ok).  At most 2048 series.   */

/* Add n to the counter name{labels}.  PA_EINVAL on a bad name/labels, PA_ERANGE when full. */
int pa_metrics_inc(const char *name, const char *labels, uint64_t n);
/* Record one observation (seconds) in the histogram name{labels}; buckets are
 * 1ms 2.5ms 5ms 10ms 25ms 50ms 100ms 250ms 500ms 1s 2.5s 5s 10s +Inf. */
int pa_metrics_observe(const char *name, const char *labels, double seconds);
/* Set the gauge name{labels} to value (NaN is set as 0).  Errors as pa_metrics_inc. */
int pa_metrics_set(const char *name, const char *labels, double value);
/* Current value of a gauge (0 if absent); for tests. */
double pa_metrics_gauge_value(const char *name, const char *labels);
/* Set the # HELP text of a metric family (optional; copied). */
int pa_metrics_help(const char *name, const char *help);
/* 1 if z is usable as a label value. */
int pa_metrics_label_ok(const char *z);
/* Current value of a counter (0 if absent); for tests. */
uint64_t pa_metrics_counter_value(const char *name, const char *labels);
/* Render everything; *pz is malloc'ed and NUL-terminated. */
int pa_metrics_render(char **pz, size_t *pn);
/* Forget every series (tests). */
void pa_metrics_reset(void);

/* ------------------------------------------------------------------------ */
/* Client (libcurl).                                                         */

typedef struct pa_http_client_opts {
    const char *ca_file;          /* PEM trust anchors for https (e.g. the self-signed
                                     cert); NULL = system store.  Verification of peer
                                     and host is always on for https. */
    unsigned connect_timeout_ms;  /* 0 = 5000 */
    unsigned timeout_ms;          /* whole transfer; 0 = 30000 */
    size_t max_response_bytes;    /* 0 = 16 MiB; larger answers fail with PA_ERANGE */
    const char *content_type;     /* request body type for pa_http_request; NULL =
                                     application/octet-stream */
} pa_http_client_opts;

typedef struct pa_http_client pa_http_client;

/* One client owns one connection cache (keep-alive): use it from one thread at a time. */
int pa_http_client_new(pa_http_client **ppClient, const pa_http_client_opts *o);
void pa_http_client_free(pa_http_client **ppClient);

typedef struct pa_http_reply {
    long status;
    uint8_t *body;        /* malloc'ed, NUL-terminated (not counted in body_len); may be empty */
    size_t body_len;
    char *content_type;   /* malloc'ed or NULL */
} pa_http_reply;

void pa_http_reply_free(pa_http_reply *r);

/*
 * One request.  method: GET, POST, PUT, DELETE.  url: http:// or https:// only.
 * bearer_token: NULL or PA_HTTP_TOKEN_BYTES bytes sent as hex.  content_type
 * applies to a non-empty body (NULL = application/octet-stream).  Any HTTP
 * status is a success here (check reply->status); errors are transport ones:
 * PA_EIO (connect, TLS verification, timeout), PA_ERANGE (response too large),
 * PA_EINVAL, PA_ENOMEM.  On error *reply is zeroed.
 */
int pa_http_client_request(pa_http_client *c, const char *method, const char *url,
                           const uint8_t *bearer_token, const char *content_type,
                           const void *body, size_t n, pa_http_reply *reply);

/*
 * A request that must succeed with a 2xx status: the body of the answer goes to
 * *ppResp (malloc'ed, may be empty; the caller frees it) and *pnResp.  A non-2xx
 * answer becomes an error code with the problem document's message in
 * pa_error_detail(): 400 PA_EDECODE, 401/403 PA_EAUTH, 404 PA_ENOTFOUND,
 * 409 PA_EEXISTS, 413 PA_ERANGE, any other status PA_EIO; transport errors as
 * pa_http_client_request.  Suits a pa_helper_transport over HTTPS.
 */
int pa_http_client_call(pa_http_client *c, const char *method, const char *url,
                        const uint8_t *bearer_token, const char *content_type, const void *body,
                        size_t n, uint8_t **ppResp, size_t *pnResp);

/*
 * One-shot form with its own short-lived client (no keep-alive across calls).
 * *pBody (NUL-terminated) and *pContentType are malloc'ed; free() them.
 */
int pa_http_request(const pa_http_client_opts *o, const char *method, const char *url,
                    const uint8_t *bearer_token, const void *body, size_t n, long *pStatus,
                    uint8_t **pBody, size_t *pLen, char **pContentType);

/*
 * The "type" member of a problem document into zType (empty string if the body is
 * not application/problem+json with a string type).
 */
void pa_http_problem_type(const char *content_type, const uint8_t *body, size_t n, char *zType,
                          size_t nType);

/*
 * If the reply is a problem document, write "<type>: <title>: <detail>" into
 * zMsg (truncated to nMsg) and return PA_OK; PA_EDECODE otherwise (zMsg then
 * describes the status and a prefix of the body).
 */
int pa_http_problem_message(const char *content_type, const uint8_t *body, size_t n,
                            char *zMsg, size_t nMsg);

/* Hex encoding of a token for headers/config: z needs 2*PA_HTTP_TOKEN_BYTES+1 bytes
 * (constant time). */
void pa_http_token_hex(char *z, const uint8_t *token);
/* Decode exactly 2*PA_HTTP_TOKEN_BYTES hex digits (either case) into token, in
 * constant time.  PA_EDECODE otherwise (token is then zeroed). */
int pa_http_token_from_hex(uint8_t *token, const char *zHex);

#endif
