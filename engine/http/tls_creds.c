/*
 * The server's TLS certificate and key, replaceable while it serves (SIGHUP in
 * `privagg serve`).  libmicrohttpd asks for them at every handshake through a
 * GnuTLS retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK) instead of holding
 * a copy loaded once.  A reload parses both PEM files, checks that the key is
 * the certificate's, and swaps the current pair under a mutex; a pair that fails
 * any check is refused and the old one stays.  A handshake may still use the
 * pair it was handed after a swap, and GnuTLS never frees what the callback
 * returns, so replaced pairs are kept (a few KB each) until the server stops:
 * a request in flight never loses its certificate.
 *
 * The callback finds the pair through the connection: GnuTLS's session pointer
 * is libmicrohttpd's connection (MHD sets it), whose socket context was set to
 * the pair holder when the connection was accepted (MHD_OPTION_NOTIFY_CONNECTION,
 * before any byte of the handshake is read).
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "common/guard.h"
#include "http/http_internal.h"
#include "privagg/common.h"

#define MAX_CHAIN 8
#define MAX_PEM 65536

typedef struct tls_pair {
    gnutls_pcert_st aPcert[MAX_CHAIN];
    unsigned nPcert;
    gnutls_privkey_t pKey;
    struct tls_pair *pOlder; /* replaced pairs, freed at the end */
} tls_pair;

struct pa_tls_creds {
    pthread_mutex_t lock;
    tls_pair *pCur;
    unsigned nReloads;
};

static int read_pem(const char *zPath, gnutls_datum_t *d)
{
    FILE *f = fopen(zPath, "rb");
    size_t n;
    int bErr;

    d->data = NULL;
    d->size = 0;
    if (f == NULL)
        return pa_fail(PA_EIO, "tls file %s: %s", zPath, strerror(errno));
    d->data = malloc(MAX_PEM + 1);
    n = d->data ? fread(d->data, 1, MAX_PEM + 1, f) : 0;
    bErr = ferror(f);
    fclose(f);
    if (d->data == NULL)
        return pa_fail(PA_ENOMEM, "tls file %s", zPath);
    d->size = (unsigned)n;
    if (bErr || n == 0 || n > MAX_PEM)
        return pa_fail(PA_EIO, "tls file %s: %zu bytes read, expected 1..%d", zPath, n, MAX_PEM);
    d->data[n] = '\0';
    return PA_OK;
}

static void datum_wipe(gnutls_datum_t *d)
{
    if (d->data != NULL)
        pa_wipe(d->data, d->size);
    free(d->data);
    d->data = NULL;
    d->size = 0;
}

static void pair_free(tls_pair *p)
{
    while (p != NULL) {
        tls_pair *pOlder = p->pOlder;
        for (unsigned i = 0; i < p->nPcert; i++)
            gnutls_pcert_deinit(&p->aPcert[i]);
        if (p->pKey != NULL)
            gnutls_privkey_deinit(p->pKey);
        free(p);
        p = pOlder;
    }
}

/* 0 if the private key's public half is the first certificate's key. */
static int same_key(const tls_pair *p)
{
    gnutls_pubkey_t pPub = NULL;
    gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
    int bSame = 0;

    if (gnutls_pubkey_init(&pPub) == 0 && gnutls_pubkey_import_privkey(pPub, p->pKey, 0, 0) == 0 &&
        gnutls_pubkey_export2(pPub, GNUTLS_X509_FMT_DER, &a) == 0 &&
        gnutls_pubkey_export2(p->aPcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) == 0)
        bSame = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    gnutls_free(a.data);
    gnutls_free(b.data);
    if (pPub != NULL)
        gnutls_pubkey_deinit(pPub);
    return bSame ? PA_OK : PA_EINVAL;
}

static int pair_load(tls_pair **ppPair, const char *zCert, const char *zKey)
{
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    tls_pair *p = calloc(1, sizeof *p);
    int rc, e;

    *ppPair = NULL;
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "tls: out of memory");
    rc = read_pem(zCert, &cert);
    if (rc == PA_OK)
        rc = read_pem(zKey, &key);
    if (rc == PA_OK) {
        p->nPcert = MAX_CHAIN;
        e = gnutls_pcert_list_import_x509_raw(p->aPcert, &p->nPcert, &cert, GNUTLS_X509_FMT_PEM, 0);
        if (e < 0 || p->nPcert == 0) {
            p->nPcert = 0;
            rc = pa_fail(PA_EDECODE, "tls file %s: not a PEM certificate chain of 1..%d: %s", zCert,
                         MAX_CHAIN, gnutls_strerror(e));
        }
    }
    if (rc == PA_OK && ((e = gnutls_privkey_init(&p->pKey)) < 0 ||
                        (e = gnutls_privkey_import_x509_raw(p->pKey, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0))
        rc = pa_fail(PA_EDECODE, "tls file %s: not a PEM private key: %s", zKey, gnutls_strerror(e));
    if (rc == PA_OK && same_key(p) != PA_OK)
        rc = pa_fail(PA_EINVAL, "tls files %s and %s: the key is not the certificate's", zKey, zCert);
    datum_wipe(&cert);
    datum_wipe(&key);
    if (rc != PA_OK) {
        pair_free(p);
        return rc;
    }
    *ppPair = p;
    return PA_OK;
}

int pa_tls_creds_new(pa_tls_creds **ppCreds, const char *zCert, const char *zKey)
{
    pa_tls_creds *c = calloc(1, sizeof *c);
    int rc;

    *ppCreds = NULL;
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "tls: out of memory");
    rc = pair_load(&c->pCur, zCert, zKey);
    if (rc != PA_OK) {
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->lock, NULL);
    *ppCreds = c;
    return PA_OK;
}

int pa_tls_creds_reload(pa_tls_creds *c, const char *zCert, const char *zKey)
{
    tls_pair *p;
    PA_GUARD(pair_load(&p, zCert, zKey));
    pthread_mutex_lock(&c->lock);
    p->pOlder = c->pCur;
    c->pCur = p;
    c->nReloads++;
    pthread_mutex_unlock(&c->lock);
    return PA_OK;
}

void pa_tls_creds_free(pa_tls_creds **ppCreds)
{
    pa_tls_creds *c = *ppCreds;
    if (c == NULL)
        return;
    pair_free(c->pCur);
    pthread_mutex_destroy(&c->lock);
    free(c);
    *ppCreds = NULL;
}

int pa_tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *pReqCa, int nReqs,
                          const gnutls_pk_algorithm_t *aPkAlgos, int nPkAlgos, gnutls_pcert_st **ppPcert,
                          unsigned int *pnPcert, gnutls_privkey_t *ppKey)
{
    struct MHD_Connection *pConn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *pInfo;
    pa_tls_creds *c;

    (void)pReqCa;
    (void)nReqs;
    (void)aPkAlgos;
    (void)nPkAlgos;
    if (pConn == NULL)
        return -1;
    pInfo = MHD_get_connection_info(pConn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (pInfo == NULL || (c = pa_conn_tls_creds(pInfo->socket_context)) == NULL)
        return -1;
    pthread_mutex_lock(&c->lock);
    *ppPcert = c->pCur->aPcert;
    *pnPcert = c->pCur->nPcert;
    *ppKey = c->pCur->pKey;
    pthread_mutex_unlock(&c->lock);
    return 0;
}
