/*
 * privagg — status codes and error reporting shared by every module.
 *
 * Every function that can fail returns int: 0 on success, a negative PA_E* code
 * otherwise.  pa_strerror() names the code; pa_error_detail() returns the message
 * of the last failure on this thread, which names the field, the value and the
 * limit that failed (e.g. "measurement[3]: 2 is above max_measurement 1").
 */
#ifndef PRIVAGG_COMMON_H
#define PRIVAGG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define PA_OK            0
#define PA_EINVAL      (-1)   /* an argument is out of its documented range */
#define PA_EDECODE     (-2)   /* malformed bytes: length, trailing data, non-canonical */
#define PA_EVERIFY     (-3)   /* a proof, tag or signature did not verify */
#define PA_ENOMEM      (-4)   /* allocation failed */
#define PA_ERANGE      (-5)   /* a value exceeds a limit (size, count, budget) */
#define PA_EIO         (-6)   /* file or network I/O failed */
#define PA_ESTATE      (-7)   /* operation not allowed in the current state */
#define PA_EUNSUPPORTED (-8)  /* algorithm, mode or parameter not implemented */
#define PA_EBUDGET     (-9)   /* a release would exceed the privacy budget */
#define PA_EEXISTS    (-10)   /* duplicate (report id, collection, key) */
#define PA_ENOTFOUND  (-11)   /* no such task, report, batch, entry */
#define PA_EAUTH      (-12)   /* authentication failed or missing */
#define PA_ESTORE     (-13)   /* the store (SQLite/PostgreSQL) failed */
#define PA_ETAMPER    (-14)   /* a ledger or manifest chain does not verify */
#define PA_ESAMPLE    (-15)   /* a sampler exhausted its fixed trial budget */
#define PA_EINTERNAL  (-16)   /* a bug: an invariant did not hold */
#define PA_EBUSY      (-17)   /* temporarily unable (peer busy, noise pool refilling): try again later */

/* Short, stable description of a status code ("ok", "invalid argument", ...). */
const char *pa_strerror(int code);

/* Message of the last failure recorded on this thread, or "" if none. */
const char *pa_error_detail(void);

/*
 * Record a failure: formats the message into thread-local storage and returns
 * code, so a caller can write `return pa_fail(PA_ERANGE, "length: %zu above %zu", n, max);`.
 */
int pa_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Forget the last failure message of this thread. */
void pa_error_clear(void);

/*
 * The one table of status codes over HTTP (protocols/common/status.c): each PA_E* code
 * has an HTTP status, a problem type (the name after "urn:privagg:error:") and
 * whether a caller should retry it later (transport, store, memory, busy) or give
 * up (every refusal of the request itself).  Servers answer failures from it and
 * clients read problems back into the same code (pa_status_from_http), so a code
 * survives the trip.  docs/http.md lists the table.
 */
typedef struct {
    int code;            /* PA_E* */
    int http;            /* HTTP status */
    const char *zType;   /* problem type name */
    int bRetry;          /* 1: transient, try again later; 0: permanent */
} pa_status_map;

/* The entry of code (PA_EINTERNAL's for an unknown code).  Never NULL. */
const pa_status_map *pa_status_lookup(int code);

/* 1 if code is a transient failure worth retrying (0 for PA_OK). */
int pa_status_is_transient(int code);

/* The code of a received error: the problem type if it is one of the table's
 * (with its status), else by HTTP status alone.  zProblemType may be NULL. */
int pa_status_from_http(long httpStatus, const char *zProblemType);

#endif
