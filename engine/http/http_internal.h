/*
 * Internal contracts of engine/http shared between its files (not installed).
 */
#ifndef PA_HTTP_INTERNAL_H
#define PA_HTTP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "privagg/http.h"

#define PA_HTTP_PROBLEM_TYPE "application/problem+json"

/* Standard reason phrase of an HTTP status (RFC 9110 §15), used as problem title. */
const char *pa_http_status_title(int status);

/* va_list form of pa_http_problem. */
int pa_http_problem_v(pa_http_response *resp, int status, const char *type_name,
                      const char *detail_fmt, va_list ap);

/* The TLS certificate and key of a server, replaceable while it serves
 * (engine/http/tls_creds.c).  new and reload read two PEM files (a chain of at
 * most 8 certificates, a private key) and require the key to be the first
 * certificate's: PA_EIO (file), PA_EDECODE (not PEM), PA_EINVAL (mismatch),
 * PA_ENOMEM; a failed reload leaves the pair in use unchanged.  Replaced pairs
 * stay allocated until free, so a handshake never loses the pair it was handed. */
typedef struct pa_tls_creds pa_tls_creds;
int pa_tls_creds_new(pa_tls_creds **ppCreds, const char *zCert, const char *zKey);
int pa_tls_creds_reload(pa_tls_creds *pCreds, const char *zCert, const char *zKey);
void pa_tls_creds_free(pa_tls_creds **ppCreds);

/* MHD_OPTION_HTTPS_CERT_CALLBACK: hands GnuTLS the current pair, found through
 * the connection's socket context (the connection guard's entry, which carries
 * the server's pa_tls_creds: pa_conn_tls_creds). */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
int pa_tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *pReqCa, int nReqs,
                          const gnutls_pk_algorithm_t *aPkAlgos, int nPkAlgos, gnutls_pcert_st **ppPcert,
                          unsigned int *pnPcert, gnutls_privkey_t *ppKey);


/* ------------------------------------------------------------------------ */
/* The connection guard (conn_guard.c): deadlines, per-address limit, budget. */

struct sockaddr;

#define PA_HTTP_BODY_MIN_RATE 32768.0 /* bytes/s a body must keep up, beyond body_timeout_s */

enum { PA_CONN_HEADERS, PA_CONN_BODY, PA_CONN_BUSY, PA_CONN_IDLE };

typedef struct {
    unsigned max_connections;  /* the hard limit (libmicrohttpd's) */
    unsigned max_per_address;  /* 0 = no limit */
    unsigned header_timeout_s; /* accept -> request headers complete (TLS handshake included) */
    unsigned body_timeout_s;   /* headers -> body complete, plus declared / BODY_MIN_RATE */
    unsigned idle_timeout_s;   /* between requests on a kept-alive connection */
} pa_conn_limits;

/*
 * The reconnect penalty: an address whose connections keep being evicted before
 * they complete a request (header or body deadline, or dropped by the budget
 * while still waiting for its headers) has its new connections refused at
 * accept, before any TLS handshake, for a delay that starts at
 * PA_HTTP_PENALTY_BASE_S and doubles each time it goes on being evicted after a
 * penalty, up to PA_HTTP_PENALTY_MAX_S.  It takes PA_HTTP_PENALTY_STRIKES
 * evictions in a burst (a leaky bucket draining that many per
 * PA_HTTP_PENALTY_DRAIN_S) to start one, so that one slow client, with the few
 * connections it holds, never locks out the other clients of its address (many
 * agencies behind one NAT); an address quiet for PA_HTTP_PENALTY_FORGET_S is
 * forgotten.  At most PA_HTTP_PENALTY_TABLE addresses are remembered.
 */
#define PA_HTTP_PENALTY_STRIKES 8.0
#define PA_HTTP_PENALTY_DRAIN_S 10.0
#define PA_HTTP_PENALTY_BASE_S 1.0
#define PA_HTTP_PENALTY_MAX_S 30.0
#define PA_HTTP_PENALTY_FORGET_S 60.0
#define PA_HTTP_PENALTY_TABLE 1024

typedef struct pa_conn_guard pa_conn_guard;
typedef struct pa_conn pa_conn;

/* Start the guard and its thread.  PA_ENOMEM, PA_EINTERNAL. */
int pa_conn_guard_new(pa_conn_guard **ppGuard, const pa_conn_limits *pLim, bool bLog);
/* Stop the thread and free; MUST be called after the daemon stopped. */
void pa_conn_guard_free(pa_conn_guard *g);
/* Accept policy: false when the address is under a reconnect penalty or has
 * max_per_address connections open; past the budget, drops the longest-waiting
 * connection to make room. */
bool pa_conn_guard_admit(pa_conn_guard *g, const struct sockaddr *pAddr);
/* A connection was accepted (fd, peer): its entry (NULL if out of memory), which
 * is the connection's socket context and also carries the server's TLS pair
 * (pCreds, may be NULL) for pa_tls_creds_retrieve. */
pa_conn *pa_conn_guard_opened(pa_conn_guard *g, int fd, const struct sockaddr *pAddr,
                              struct pa_tls_creds *pCreds);
/* The TLS pair a connection's entry carries (NULL for NULL). */
struct pa_tls_creds *pa_conn_tls_creds(const pa_conn *c);
/* libmicrohttpd reports the close, before it closes fd: forget the entry. */
void pa_conn_guard_closed(pa_conn_guard *g, pa_conn *c);
/* The connection enters a phase (PA_CONN_*); nDeclared is the body length for BODY. */
void pa_conn_guard_phase(pa_conn_guard *g, pa_conn *c, int ePhase, long long nDeclared);
/* Connections open (not being dropped) and the budget, for /health/ready and tests. */
void pa_conn_guard_counts(pa_conn_guard *g, unsigned *pnOpen, unsigned *pnSoft);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool pa_http_addr_is_loopback(const struct sockaddr *pAddr);
/* The address as text ("?" if unknown). */
void pa_http_addr_format(const struct sockaddr *pAddr, char *z, size_t nz);
#endif
