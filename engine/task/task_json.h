/*
 * Strict, path-aware readers over jansson values (internal to engine/task).
 * Each reader names the JSON path, the value and the limit when it fails, e.g.
 * "vdaf.chunk_length: 0 is below 1", and returns a PA_E* status.
 */
#ifndef PA_TASK_JSON_H
#define PA_TASK_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Fails if obj has a key not in the NULL-terminated list azKey (catches typos). */
int pa_json_only_keys(const json_t *obj, const char *zPath, const char *const *azKey);

int pa_json_object(const json_t *parent, const char *zPath, const char *zKey, json_t **ppOut);
int pa_json_array(const json_t *parent, const char *zPath, const char *zKey, json_t **ppOut);

/* A string of 1..nMax bytes, copied to a new heap string. */
int pa_json_string(const json_t *parent, const char *zPath, const char *zKey, size_t nMax,
                   char **pzOut);
/* An integer in [iMin, iMax]; when bOptional and absent, *pOut = iDefault. */
int pa_json_uint(const json_t *parent, const char *zPath, const char *zKey, uint64_t iMin,
                 uint64_t iMax, int bOptional, uint64_t iDefault, uint64_t *pOut);
/* A real number in (0, rMax] (integers accepted). */
int pa_json_positive(const json_t *parent, const char *zPath, const char *zKey, double rMax,
                     double *pOut);
int pa_json_bool(const json_t *parent, const char *zPath, const char *zKey, int bDefault,
                 int *pOut);
/* Exactly nOut bytes given as lower- or upper-case hex. */
int pa_json_hex(const json_t *parent, const char *zPath, const char *zKey, uint8_t *pOut,
                size_t nOut);

#endif
