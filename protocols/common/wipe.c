/*
 * pa_wipe(): the one place secrets are erased, via libsodium's sodium_memzero,
 * which the compiler may not elide.
 */
#include <sodium.h>

#include "common/ct.h"

void pa_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        sodium_memzero(p, n);
}
