/*
 * The HTTP(S) client on libcurl.  A pa_http_client owns one CURL easy handle and
 * so one connection cache: requests to the same server reuse the TLS connection
 * (keep-alive).  Peer and host verification are always on for https:// (the trust
 * anchors may be a single self-signed certificate); only http:// and https:// are
 * allowed, redirects are not followed, responses are capped in size and time.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "privagg/common.h"
#include "privagg/http.h"

#define DEFAULT_MAX_RESPONSE (16u << 20)
#define EXPECT_THRESHOLD (1024 * 1024) /* bodies above this wait for 100-continue (a round trip:
                                            not worth it for a 75 KB report) */

struct pa_http_client {
    CURL *pCurl;
    char *zCaFile;
    long nConnectMs, nTimeoutMs;
    size_t nMaxResponse;
    char zError[CURL_ERROR_SIZE];
};

typedef struct sink {
    uint8_t *a;
    size_t n, nAlloc, nMax;
    int bTooLarge;
    int bNoMem;
} sink;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_initRc = CURLE_FAILED_INIT;

static void global_init(void)
{
    g_initRc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata)
{
    sink *k = userdata;
    size_t n = size * nmemb;
    if (n > k->nMax - k->n) {
        k->bTooLarge = 1;
        return 0; /* aborts the transfer */
    }
    if (k->n + n + 1 > k->nAlloc) {
        size_t nNew = k->nAlloc ? k->nAlloc : 1024;
        while (nNew < k->n + n + 1)
            nNew *= 2;
        uint8_t *a = realloc(k->a, nNew);
        if (a == NULL) {
            k->bNoMem = 1;
            return 0;
        }
        k->a = a;
        k->nAlloc = nNew;
    }
    memcpy(k->a + k->n, p, n);
    k->n += n;
    return n;
}

int pa_http_client_new(pa_http_client **ppClient, const pa_http_client_opts *o)
{
    *ppClient = NULL;
    pthread_once(&g_once, global_init);
    if (g_initRc != CURLE_OK)
        return pa_fail(PA_EINTERNAL, "curl_global_init: %s", curl_easy_strerror(g_initRc));
    pa_http_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "http client");
    c->pCurl = curl_easy_init();
    if (c->pCurl == NULL || (o && o->ca_file && (c->zCaFile = strdup(o->ca_file)) == NULL)) {
        pa_http_client_free(&c);
        return pa_fail(PA_ENOMEM, "http client: curl handle");
    }
    c->nConnectMs = (o && o->connect_timeout_ms) ? (long)o->connect_timeout_ms : 5000;
    c->nTimeoutMs = (o && o->timeout_ms) ? (long)o->timeout_ms : 30000;
    c->nMaxResponse = (o && o->max_response_bytes) ? o->max_response_bytes : DEFAULT_MAX_RESPONSE;
    *ppClient = c;
    return PA_OK;
}

void pa_http_client_free(pa_http_client **ppClient)
{
    pa_http_client *c = ppClient ? *ppClient : NULL;
    if (c == NULL)
        return;
    if (c->pCurl)
        curl_easy_cleanup(c->pCurl);
    free(c->zCaFile);
    free(c);
    *ppClient = NULL;
}

void pa_http_reply_free(pa_http_reply *r)
{
    free(r->body);
    free(r->content_type);
    memset(r, 0, sizeof *r);
}

void pa_http_token_hex(char *z, const uint8_t *token)
{
    sodium_bin2hex(z, 2 * PA_HTTP_TOKEN_BYTES + 1, token, PA_HTTP_TOKEN_BYTES); /* constant time */
}

int pa_http_token_from_hex(uint8_t *token, const char *zHex)
{
    size_t nBin = 0;
    if (strlen(zHex) != 2 * PA_HTTP_TOKEN_BYTES ||
        sodium_hex2bin(token, PA_HTTP_TOKEN_BYTES, zHex, 2 * PA_HTTP_TOKEN_BYTES, NULL, &nBin,
                       NULL) != 0 ||
        nBin != PA_HTTP_TOKEN_BYTES) {
        pa_wipe(token, PA_HTTP_TOKEN_BYTES);
        return pa_fail(PA_EDECODE, "bearer token: %zu characters, expected %d hex digits",
                       strlen(zHex), 2 * PA_HTTP_TOKEN_BYTES);
    }
    return PA_OK;
}

/* Options for one request, on a handle reset beforehand (live connections stay). */
static int setup(pa_http_client *c, const char *method, const char *url,
                 struct curl_slist **ppHeaders, const uint8_t *token, const char *content_type,
                 const void *body, size_t n, sink *k)
{
    CURL *h = c->pCurl;
    struct curl_slist *pList = NULL;
    char zAuth[32 + 2 * PA_HTTP_TOKEN_BYTES], zType[160];
    int bHttps = strncmp(url, "https://", 8) == 0;

    if (!bHttps && strncmp(url, "http://", 7) != 0)
        return pa_fail(PA_EINVAL, "url: \"%.64s\" is neither http:// nor https://", url);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->nConnectMs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->nTimeoutMs);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->nMaxResponse);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->zError);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->zCaFile)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->zCaFile);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);

    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : (const void *)"");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        snprintf(zType, sizeof zType, "Content-Type: %s",
                 content_type ? content_type : "application/octet-stream");
        pList = curl_slist_append(pList, zType);
        /* Small bodies go at once; large ones wait for 100-continue, so that a
         * 413 comes back before the body is sent. */
        pList = curl_slist_append(pList, n > EXPECT_THRESHOLD ? "Expect: 100-continue" : "Expect:");
    } else {
        return pa_fail(PA_EINVAL, "method: \"%.16s\" is not GET, POST, PUT or DELETE", method);
    }
    if (token) {
        memcpy(zAuth, "Authorization: Bearer ", 22);
        pa_http_token_hex(zAuth + 22, token);
        pList = curl_slist_append(pList, zAuth);
        pa_wipe(zAuth, sizeof zAuth);
    }
    *ppHeaders = pList;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, pList);
    return PA_OK;
}

int pa_http_client_request(pa_http_client *c, const char *method, const char *url,
                           const uint8_t *bearer_token, const char *content_type,
                           const void *body, size_t n, pa_http_reply *reply)
{
    struct curl_slist *pHeaders = NULL;
    sink k = {NULL, 0, 0, c->nMaxResponse, 0, 0};
    memset(reply, 0, sizeof *reply);

    curl_easy_reset(c->pCurl);
    c->zError[0] = '\0';
    int rc = setup(c, method, url, &pHeaders, bearer_token, content_type, body, n, &k);
    CURLcode e = rc == PA_OK ? curl_easy_perform(c->pCurl) : CURLE_OK;
    /* curl copied the header strings; wipe ours (they may hold the token). */
    for (struct curl_slist *p = pHeaders; p; p = p->next)
        pa_wipe(p->data, strlen(p->data));
    curl_slist_free_all(pHeaders);
    curl_easy_setopt(c->pCurl, CURLOPT_HTTPHEADER, NULL);
    if (rc != PA_OK)
        return rc;

    if (k.bTooLarge || e == CURLE_FILESIZE_EXCEEDED)
        rc = pa_fail(PA_ERANGE, "%s %.96s: response above %zu bytes", method, url,
                     c->nMaxResponse);
    else if (k.bNoMem)
        rc = pa_fail(PA_ENOMEM, "%s %.96s: response of %zu bytes", method, url, k.n);
    else if (e != CURLE_OK)
        rc = pa_fail(PA_EIO, "%s %.96s: %s%s%s", method, url, curl_easy_strerror(e),
                     c->zError[0] ? ": " : "", c->zError);
    if (rc != PA_OK) {
        free(k.a);
        return rc;
    }
    if (k.a == NULL && (k.a = malloc(1)) == NULL)
        return pa_fail(PA_ENOMEM, "%s %.96s: empty response", method, url);
    k.a[k.n] = '\0';
    char *zType = NULL;
    curl_easy_getinfo(c->pCurl, CURLINFO_RESPONSE_CODE, &reply->status);
    curl_easy_getinfo(c->pCurl, CURLINFO_CONTENT_TYPE, &zType);
    if (zType && (reply->content_type = strdup(zType)) == NULL) {
        free(k.a);
        return pa_fail(PA_ENOMEM, "%s %.96s: content type", method, url);
    }
    reply->body = k.a;
    reply->body_len = k.n;
    return PA_OK;
}

int pa_http_client_call(pa_http_client *c, const char *method, const char *url,
                        const uint8_t *bearer_token, const char *content_type, const void *body,
                        size_t n, uint8_t **ppResp, size_t *pnResp)
{
    pa_http_reply r;
    char zMsg[600], zType[160];
    *ppResp = NULL;
    *pnResp = 0;
    int rc = pa_http_client_request(c, method, url, bearer_token, content_type, body, n, &r);
    if (rc != PA_OK)
        return rc;
    if (r.status >= 200 && r.status <= 299) {
        *ppResp = r.body;
        *pnResp = r.body_len;
        free(r.content_type);
        return PA_OK;
    }
    pa_http_problem_message(r.content_type, r.body, r.body_len, zMsg, sizeof zMsg);
    pa_http_problem_type(r.content_type, r.body, r.body_len, zType, sizeof zType);
    rc = pa_status_from_http(r.status, zType);
    long status = r.status;
    pa_http_reply_free(&r);
    return pa_fail(rc, "%s %.96s: status %ld: %s", method, url, status, zMsg);
}

int pa_http_request(const pa_http_client_opts *o, const char *method, const char *url,
                    const uint8_t *bearer_token, const void *body, size_t n, long *pStatus,
                    uint8_t **pBody, size_t *pLen, char **pContentType)
{
    pa_http_client *c;
    pa_http_reply r;
    *pStatus = 0;
    *pBody = NULL;
    *pLen = 0;
    if (pContentType)
        *pContentType = NULL;
    int rc = pa_http_client_new(&c, o);
    if (rc != PA_OK)
        return rc;
    rc = pa_http_client_request(c, method, url, bearer_token, o ? o->content_type : NULL, body,
                                n, &r);
    pa_http_client_free(&c);
    if (rc != PA_OK)
        return rc;
    *pStatus = r.status;
    *pBody = r.body;
    *pLen = r.body_len;
    if (pContentType)
        *pContentType = r.content_type;
    else
        free(r.content_type);
    return PA_OK;
}
