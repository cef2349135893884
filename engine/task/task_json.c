/*
 * Strict, path-aware JSON readers for the task file (see task_json.h).
 */
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "task/task_json.h"

int pa_json_only_keys(const json_t *obj, const char *zPath, const char *const *azKey)
{
    const char *zKey;
    json_t *pVal;

    json_object_foreach((json_t *)obj, zKey, pVal) {
        size_t i;
        for (i = 0; azKey[i] != NULL; i++) {
            if (strcmp(zKey, azKey[i]) == 0)
                break;
        }
        if (azKey[i] == NULL)
            return pa_fail(PA_EINVAL, "%s%s%s: unknown key", zPath, *zPath ? "." : "", zKey);
    }
    return PA_OK;
}

static json_t *member(const json_t *parent, const char *zKey)
{
    return json_object_get(parent, zKey);
}

#define PATH_FMT "%s%s%s"
#define PATH_ARGS(zPath, zKey) (zPath), (*(zPath) ? "." : ""), (zKey)

int pa_json_object(const json_t *parent, const char *zPath, const char *zKey, json_t **ppOut)
{
    json_t *p = member(parent, zKey);
    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (an object is required)", PATH_ARGS(zPath, zKey));
    if (!json_is_object(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be an object", PATH_ARGS(zPath, zKey));
    *ppOut = p;
    return PA_OK;
}

int pa_json_array(const json_t *parent, const char *zPath, const char *zKey, json_t **ppOut)
{
    json_t *p = member(parent, zKey);
    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (an array is required)", PATH_ARGS(zPath, zKey));
    if (!json_is_array(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be an array", PATH_ARGS(zPath, zKey));
    *ppOut = p;
    return PA_OK;
}

int pa_json_string(const json_t *parent, const char *zPath, const char *zKey, size_t nMax,
                   char **pzOut)
{
    json_t *p = member(parent, zKey);
    size_t n;

    *pzOut = NULL;
    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (a string is required)", PATH_ARGS(zPath, zKey));
    if (!json_is_string(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be a string", PATH_ARGS(zPath, zKey));
    n = json_string_length(p);
    if (n == 0 || n > nMax)
        return pa_fail(PA_EINVAL, PATH_FMT ": length %zu is outside 1..%zu", PATH_ARGS(zPath, zKey), n,
                       nMax);
    if (memchr(json_string_value(p), '\0', n) != NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": contains a NUL byte", PATH_ARGS(zPath, zKey));
    *pzOut = strdup(json_string_value(p));
    return *pzOut ? PA_OK : pa_fail(PA_ENOMEM, PATH_FMT ": out of memory", PATH_ARGS(zPath, zKey));
}

int pa_json_uint(const json_t *parent, const char *zPath, const char *zKey, uint64_t iMin,
                 uint64_t iMax, int bOptional, uint64_t iDefault, uint64_t *pOut)
{
    json_t *p = member(parent, zKey);
    json_int_t v;

    if (p == NULL && bOptional) {
        *pOut = iDefault;
        return PA_OK;
    }
    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (an integer is required)", PATH_ARGS(zPath, zKey));
    if (!json_is_integer(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be an integer", PATH_ARGS(zPath, zKey));
    v = json_integer_value(p);
    if (v < 0 || (uint64_t)v < iMin)
        return pa_fail(PA_EINVAL, PATH_FMT ": %" PRId64 " is below %" PRIu64, PATH_ARGS(zPath, zKey),
                       (int64_t)v, iMin);
    if ((uint64_t)v > iMax)
        return pa_fail(PA_EINVAL, PATH_FMT ": %" PRId64 " is above %" PRIu64, PATH_ARGS(zPath, zKey),
                       (int64_t)v, iMax);
    *pOut = (uint64_t)v;
    return PA_OK;
}

int pa_json_positive(const json_t *parent, const char *zPath, const char *zKey, double rMax,
                     double *pOut)
{
    json_t *p = member(parent, zKey);
    double v;

    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (a number is required)", PATH_ARGS(zPath, zKey));
    if (!json_is_number(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be a number", PATH_ARGS(zPath, zKey));
    v = json_number_value(p);
    if (!isfinite(v) || v <= 0)
        return pa_fail(PA_EINVAL, PATH_FMT ": %g must be above 0", PATH_ARGS(zPath, zKey), v);
    if (v > rMax)
        return pa_fail(PA_EINVAL, PATH_FMT ": %g is above %g", PATH_ARGS(zPath, zKey), v, rMax);
    *pOut = v;
    return PA_OK;
}

int pa_json_bool(const json_t *parent, const char *zPath, const char *zKey, int bDefault, int *pOut)
{
    json_t *p = member(parent, zKey);

    if (p == NULL) {
        *pOut = bDefault;
        return PA_OK;
    }
    if (!json_is_boolean(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be true or false", PATH_ARGS(zPath, zKey));
    *pOut = json_is_true(p);
    return PA_OK;
}

int pa_json_hex(const json_t *parent, const char *zPath, const char *zKey, uint8_t *pOut, size_t nOut)
{
    json_t *p = member(parent, zKey);
    size_t nBin = 0;
    const char *zEnd = NULL;

    if (p == NULL)
        return pa_fail(PA_EINVAL, PATH_FMT ": missing (%zu bytes of hex are required)",
                       PATH_ARGS(zPath, zKey), nOut);
    if (!json_is_string(p))
        return pa_fail(PA_EDECODE, PATH_FMT ": must be a hex string", PATH_ARGS(zPath, zKey));
    if (json_string_length(p) != 2 * nOut ||
        sodium_hex2bin(pOut, nOut, json_string_value(p), json_string_length(p), NULL, &nBin, &zEnd) != 0 ||
        nBin != nOut || *zEnd != '\0')
        return pa_fail(PA_EINVAL, PATH_FMT ": expected %zu hex digits, got \"%.80s\"", PATH_ARGS(zPath, zKey),
                       2 * nOut, json_string_value(p));
    return PA_OK;
}
