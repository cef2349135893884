/*
 * Responses as handlers fill them, and RFC 9457 problem details: building the
 * application/problem+json document (RFC 9457 §3.1 members type, title, status,
 * detail) and turning one received by the client into a one-line message.
 * Problem types are stable URIs "urn:privagg:error:<name>" (see docs/http.md).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"
#include "privagg/common.h"
#include "privagg/http.h"

size_t pa_http_token_bytes(void)
{
    return PA_HTTP_TOKEN_BYTES;
}

const char *pa_http_status_title(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Status";
    }
}

void pa_http_response_clear(pa_http_response *resp)
{
    if (!resp->body_static)
        free(resp->body);
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->azHeaderName[i]);
        free(resp->azHeaderValue[i]);
    }
    memset(resp, 0, sizeof *resp);
}

static void drop_body(pa_http_response *resp)
{
    if (!resp->body_static)
        free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->body_static = false;
}

int pa_http_response_set(pa_http_response *resp, int status, const char *content_type,
                         const void *p, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL)
        return pa_fail(PA_ENOMEM, "response body: %zu bytes", n);
    if (n)
        memcpy(copy, p, n);
    drop_body(resp);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = copy;
    resp->body_len = n;
    return PA_OK;
}

int pa_http_response_header(pa_http_response *resp, const char *zName, const char *zValue)
{
    if (resp->n_headers >= PA_HTTP_MAX_EXTRA_HEADERS)
        return pa_fail(PA_ERANGE, "response headers: %zu already, max %d", resp->n_headers,
                       PA_HTTP_MAX_EXTRA_HEADERS);
    if (zName[0] == '\0' || strpbrk(zName, "\r\n: ") || strpbrk(zValue, "\r\n"))
        return pa_fail(PA_EINVAL, "response header \"%s\": name or value has CR, LF or ':'",
                       zName);
    char *n = strdup(zName), *v = strdup(zValue);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return pa_fail(PA_ENOMEM, "response header \"%s\"", zName);
    }
    resp->azHeaderName[resp->n_headers] = n;
    resp->azHeaderValue[resp->n_headers] = v;
    resp->n_headers++;
    return PA_OK;
}

int pa_http_problem_v(pa_http_response *resp, int status, const char *type_name,
                      const char *detail_fmt, va_list ap)
{
    char zDetail[512], zType[160];
    vsnprintf(zDetail, sizeof zDetail, detail_fmt, ap);
    for (char *p = zDetail; *p; p++) /* printable ASCII only: always valid JSON/UTF-8 */
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    if (strncmp(type_name, "urn:", 4) == 0)
        snprintf(zType, sizeof zType, "%s", type_name);
    else
        snprintf(zType, sizeof zType, "urn:privagg:error:%s", type_name);

    json_t *pDoc = json_pack("{s:s, s:s, s:i, s:s}", "type", zType, "title",
                             pa_http_status_title(status), "status", status, "detail", zDetail);
    char *z = pDoc ? json_dumps(pDoc, JSON_COMPACT) : NULL;
    json_decref(pDoc);
    if (z == NULL) /* detail was not valid UTF-8, or out of memory */
        return pa_fail(PA_ENOMEM, "problem document for status %d", status);
    drop_body(resp);
    resp->status = status;
    resp->content_type = PA_HTTP_PROBLEM_TYPE;
    resp->body = (uint8_t *)z;
    resp->body_len = strlen(z);
    return PA_OK;
}

int pa_http_problem(pa_http_response *resp, int status, const char *type_name,
                    const char *detail_fmt, ...)
{
    va_list ap;
    va_start(ap, detail_fmt);
    int rc = pa_http_problem_v(resp, status, type_name, detail_fmt, ap);
    va_end(ap);
    return rc;
}

/* A printable prefix of an unexpected body, for messages. */
static void printable_prefix(char *z, size_t nz, const uint8_t *p, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < nz && i < 120; i++)
        z[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
    z[j] = '\0';
}

void pa_http_problem_type(const char *content_type, const uint8_t *body, size_t n, char *zType,
                          size_t nType)
{
    json_error_t err;
    json_t *pDoc = NULL;

    if (nType == 0)
        return;
    zType[0] = '\0';
    if (content_type != NULL &&
        strncmp(content_type, PA_HTTP_PROBLEM_TYPE, strlen(PA_HTTP_PROBLEM_TYPE)) == 0 &&
        body != NULL)
        pDoc = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &err);
    const char *z = pDoc ? json_string_value(json_object_get(pDoc, "type")) : NULL;
    if (z != NULL)
        snprintf(zType, nType, "%s", z);
    json_decref(pDoc);
}

int pa_http_problem_message(const char *content_type, const uint8_t *body, size_t n,
                            char *zMsg, size_t nMsg)
{
    char zPrefix[128];
    json_error_t err;
    json_t *pDoc = NULL;

    if (nMsg == 0)
        return pa_fail(PA_EINVAL, "problem message buffer: size 0");
    if (content_type != NULL &&
        strncmp(content_type, PA_HTTP_PROBLEM_TYPE, strlen(PA_HTTP_PROBLEM_TYPE)) == 0 &&
        body != NULL)
        pDoc = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &err);
    const char *zType = pDoc ? json_string_value(json_object_get(pDoc, "type")) : NULL;
    if (zType == NULL) {
        printable_prefix(zPrefix, sizeof zPrefix, body, body ? n : 0);
        snprintf(zMsg, nMsg, "not a problem document (%s): %s",
                 content_type ? content_type : "no content type", zPrefix);
        json_decref(pDoc);
        return pa_fail(PA_EDECODE, "problem document: content type %s, %zu bytes",
                       content_type ? content_type : "(none)", n);
    }
    const char *zTitle = json_string_value(json_object_get(pDoc, "title"));
    const char *zDetail = json_string_value(json_object_get(pDoc, "detail"));
    snprintf(zMsg, nMsg, "%s: %s: %s", zType, zTitle ? zTitle : "", zDetail ? zDetail : "");
    json_decref(pDoc);
    return PA_OK;
}
