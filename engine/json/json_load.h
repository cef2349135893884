/*
 * Reading JSON without trusting jansson under memory pressure.  jansson's parser
 * ignores some failed allocations: a key or string whose buffer could not grow is
 * silently cut short ("max_measuremen"), and others are reported as syntax errors.
 * pa_json_loadb and pa_json_load_file watch every allocation jansson makes on the
 * calling thread during the load (an allocator installed once, in front of the
 * one already set) and return NULL when any failed, with the error marked
 * json_error_out_of_memory; pa_json_load_status then says PA_ENOMEM, not
 * PA_EDECODE.  Found by the allocation-failure torture (tests/unit/alloc_torture_test.c).
 */
#ifndef PA_ENGINE_JSON_LOAD_H
#define PA_ENGINE_JSON_LOAD_H

#include <jansson.h>
#include <stddef.h>

/* json_loadb / json_load_file, NULL also when an allocation failed.  pErr may be NULL. */
json_t *pa_json_loadb(const char *zJson, size_t nJson, size_t flags, json_error_t *pErr);
json_t *pa_json_load_file(const char *zPath, size_t flags, json_error_t *pErr);

/* json_dumps, NULL also when an allocation of jansson failed during the dump
 * (the text could be cut short; it feeds hashes and signatures). */
char *pa_json_dumps(const json_t *pJson, size_t flags);

/* Watch every allocation jansson makes on this thread from now on (building a
 * tree with json_object_set_new and friends drops a member silently when its
 * value could not be allocated); pa_json_watch_nomem says whether one failed. */
void pa_json_watch_begin(void);
int pa_json_watch_nomem(void);

/* The status of a failed load: PA_ENOMEM (out of memory) or PA_EDECODE. */
int pa_json_load_status(const json_error_t *pErr);

#endif
