/*
 * Status codes and the per-thread failure message (see include/privagg/common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "privagg/common.h"

static _Thread_local char g_detail[512];

const char *pa_strerror(int code)
{
    switch (code) {
    case PA_OK:           return "ok";
    case PA_EINVAL:       return "invalid argument";
    case PA_EDECODE:      return "malformed encoding";
    case PA_EVERIFY:      return "verification failed";
    case PA_ENOMEM:       return "out of memory";
    case PA_ERANGE:       return "value out of range";
    case PA_EIO:          return "input/output error";
    case PA_ESTATE:       return "not allowed in this state";
    case PA_EUNSUPPORTED: return "unsupported";
    case PA_EBUDGET:      return "privacy budget exceeded";
    case PA_EEXISTS:      return "already exists";
    case PA_ENOTFOUND:    return "not found";
    case PA_EAUTH:        return "authentication failed";
    case PA_ESTORE:       return "store error";
    case PA_ETAMPER:      return "tampering detected";
    case PA_ESAMPLE:      return "sampler trial budget exhausted";
    case PA_EINTERNAL:    return "internal error";
    case PA_EBUSY:        return "temporarily unavailable";
    default:              return "unknown error";
    }
}

const char *pa_error_detail(void)
{
    return g_detail;
}

void pa_error_clear(void)
{
    g_detail[0] = '\0';
}

int pa_fail(int code, const char *fmt, ...)
{
    char zTmp[sizeof g_detail];
    va_list ap;

    /* format into a copy first: an argument may be pa_error_detail() itself */
    va_start(ap, fmt);
    vsnprintf(zTmp, sizeof zTmp, fmt, ap);
    va_end(ap);
    memcpy(g_detail, zTmp, sizeof g_detail);
    return code;
}
