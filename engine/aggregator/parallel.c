/*
 * pa_parallel_for (see parallel.h): workers take the next index from a shared
 * atomic counter, so uneven items balance themselves.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "aggregator/parallel.h"

#define MAX_THREADS 8

typedef struct {
    atomic_size_t next;
    size_t n;
    void (*fn)(void *pCtx, size_t i);
    void *pCtx;
} work;

static void *worker(void *p)
{
    work *w = p;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n)
            return NULL;
        w->fn(w->pCtx, i);
    }
}

void pa_parallel_for(size_t n, void (*fn)(void *pCtx, size_t i), void *pCtx)
{
    pthread_t aThread[MAX_THREADS];
    size_t nThread = 0;
    long nCpu = sysconf(_SC_NPROCESSORS_ONLN);
    work w;

    atomic_init(&w.next, 0);
    w.n = n;
    w.fn = fn;
    w.pCtx = pCtx;
    if (nCpu < 1)
        nCpu = 1;
    if (nCpu > MAX_THREADS)
        nCpu = MAX_THREADS;
    for (long t = 1; t < nCpu && (size_t)t < n; t++) {
        if (pthread_create(&aThread[nThread], NULL, worker, &w) != 0)
            break; /* fewer threads: the caller does the rest */
        nThread++;
    }
    worker(&w);
    for (size_t t = 0; t < nThread; t++)
        pthread_join(aThread[t], NULL);
}
