/*
 * Internal contracts of engine/http shared between its files (not installed).
 */
#ifndef PA_HTTP_INTERNAL_H
#define PA_HTTP_INTERNAL_H

#include <stdarg.h>

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

/* The two libmicrohttpd callbacks, both with the pa_tls_creds as their cls:
 * MHD_OPTION_NOTIFY_CONNECTION (stores it as the connection's socket context)
 * and MHD_OPTION_HTTPS_CERT_CALLBACK (hands GnuTLS the current pair). */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
void pa_tls_creds_on_connection(void *cls, struct MHD_Connection *pConn, void **ppSocketCtx,
                                enum MHD_ConnectionNotificationCode eCode);
int pa_tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *pReqCa, int nReqs,
                          const gnutls_pk_algorithm_t *aPkAlgos, int nPkAlgos, gnutls_pcert_st **ppPcert,
                          unsigned int *pnPcert, gnutls_privkey_t *ppKey);

#endif
