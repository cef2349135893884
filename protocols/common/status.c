/*
 * The one table from a status code to its HTTP status, its RFC 9457 problem type
 * and whether the failure is worth retrying (see include/privagg/common.h).  The
 * server answers a handler's failure from it, the node's handlers use it, and the
 * HTTP client reads a problem back into the same code through it, so a code
 * crosses HTTP unchanged: a budget refusal at the helper is PA_EBUDGET at the
 * leader and at the collector, not a generic I/O error that is retried for ever.
 */
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"

static const pa_status_map g_status[] = {
    /* code             HTTP  problem type               retry */
    {PA_EINVAL,         400, "invalid-argument",         0},
    {PA_EDECODE,        400, "invalid-message",          0},
    {PA_EVERIFY,        400, "verification-failed",      0},
    {PA_EUNSUPPORTED,   400, "unsupported",              0},
    {PA_EAUTH,          403, "forbidden",                0},
    {PA_ENOTFOUND,      404, "not-found",                0},
    {PA_EEXISTS,        409, "duplicate",                0},
    {PA_ESTATE,         409, "wrong-state",              0},
    {PA_ERANGE,         422, "out-of-range",             0},
    {PA_EBUDGET,        422, "privacy-budget-exceeded",  0},
    {PA_ETAMPER,        500, "tampering-detected",       0},
    {PA_ESAMPLE,        500, "sampler-failed",           0},
    {PA_EINTERNAL,      500, "internal",                 0},
    {PA_EIO,            502, "peer-unavailable",         1},
    {PA_ENOMEM,         503, "out-of-memory",            1},
    {PA_ESTORE,         503, "store-unavailable",        1},
    {PA_EBUSY,          503, "busy",                     1},
};

#define TYPE_PREFIX "urn:privagg:error:"

const pa_status_map *pa_status_lookup(int code)
{
    for (size_t i = 0; i < sizeof g_status / sizeof g_status[0]; i++)
        if (g_status[i].code == code)
            return &g_status[i];
    return pa_status_lookup(PA_EINTERNAL);
}

int pa_status_is_transient(int code)
{
    return code != PA_OK && pa_status_lookup(code)->bRetry;
}

int pa_status_from_http(long httpStatus, const char *zProblemType)
{
    if (zProblemType != NULL && strncmp(zProblemType, TYPE_PREFIX, sizeof TYPE_PREFIX - 1) == 0) {
        const char *zName = zProblemType + sizeof TYPE_PREFIX - 1;
        for (size_t i = 0; i < sizeof g_status / sizeof g_status[0]; i++)
            if (strcmp(g_status[i].zType, zName) == 0 && g_status[i].http == httpStatus)
                return g_status[i].code;
    }
    /* not one of ours (a proxy, libmicrohttpd's own short replies): by status */
    switch (httpStatus) {
    case 400: case 405: case 415: case 431: return PA_EDECODE;
    case 401: case 403:                     return PA_EAUTH;
    case 404:                               return PA_ENOTFOUND;
    case 409:                               return PA_EEXISTS;
    case 413: case 422:                     return PA_ERANGE;
    case 429: case 503:                     return PA_EBUSY;
    default:                                return PA_EIO;
    }
}
