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

#endif
