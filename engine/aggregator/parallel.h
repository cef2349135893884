/*
 * A parallel for-loop over independent items (internal to engine/aggregator):
 * the per-report cryptography of a job (HPKE open, signature check,
 * verify_init) runs on every core; store writes stay on the calling thread.
 */
#ifndef PA_AGGREGATOR_PARALLEL_H
#define PA_AGGREGATOR_PARALLEL_H

#include <stddef.h>

/* Call fn(pCtx, i) for i in [0, n), on up to the number of online cores
 * (at most 8) threads including the caller.  fn MUST be thread-safe for distinct
 * i and MUST NOT touch the store.  Returns when every call has returned. */
void pa_parallel_for(size_t n, void (*fn)(void *pCtx, size_t i), void *pCtx);

#endif
