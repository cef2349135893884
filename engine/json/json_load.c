/*
 * pa_json_loadb, pa_json_load_file and pa_json_dumps (json_load.h): jansson loads
 * and dumps that fail with PA_ENOMEM instead of returning a silently cut value
 * when an allocation fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "json/json_load.h"
#include "privagg/common.h"

static _Thread_local int tl_bNoMem;   /* an allocation of jansson failed on this thread */
static json_malloc_t g_xPrevMalloc;   /* the allocator in place before ours */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *watch_malloc(size_t n)
{
    void *p = g_xPrevMalloc ? g_xPrevMalloc(n) : malloc(n);
    if (p == NULL)
        tl_bNoMem = 1;
    return p;
}

static void install(void)
{
    json_malloc_t xMalloc;
    json_free_t xFree;
    json_get_alloc_funcs(&xMalloc, &xFree);
    if (xMalloc != watch_malloc) {
        g_xPrevMalloc = xMalloc;
        json_set_alloc_funcs(watch_malloc, xFree);
    }
}

static json_t *checked(json_t *p, json_error_t *pErr)
{
    if (!tl_bNoMem)
        return p;
    json_decref(p);
    if (pErr != NULL) {
        snprintf(pErr->text, sizeof pErr->text - 1, "out of memory");
        pErr->text[sizeof pErr->text - 1] = (char)json_error_out_of_memory;
    }
    return NULL;
}

json_t *pa_json_loadb(const char *zJson, size_t nJson, size_t flags, json_error_t *pErr)
{
    pthread_once(&g_once, install);
    tl_bNoMem = 0;
    return checked(json_loadb(zJson, nJson, flags, pErr), pErr);
}

json_t *pa_json_load_file(const char *zPath, size_t flags, json_error_t *pErr)
{
    pthread_once(&g_once, install);
    tl_bNoMem = 0;
    return checked(json_load_file(zPath, flags, pErr), pErr);
}

char *pa_json_dumps(const json_t *pJson, size_t flags)
{
    char *z;
    pthread_once(&g_once, install);
    tl_bNoMem = 0;
    z = json_dumps(pJson, flags);
    if (tl_bNoMem) {
        free(z);
        return NULL;
    }
    return z;
}

void pa_json_watch_begin(void)
{
    pthread_once(&g_once, install);
    tl_bNoMem = 0;
}

int pa_json_watch_nomem(void)
{
    return tl_bNoMem;
}

int pa_json_load_status(const json_error_t *pErr)
{
    /* jansson's lexer that cannot start leaves no error text (line -1) */
    return pErr->text[0] == '\0' || json_error_code(pErr) == json_error_out_of_memory ? PA_ENOMEM : PA_EDECODE;
}
