/*
 * PA_GUARD: the one error-propagation macro, so the happy path reads straight
 * (as s2n-tls's GUARD).  Evaluates x once; if it is not PA_OK, returns it.
 */
#ifndef PA_GUARD_H
#define PA_GUARD_H

#include "privagg/common.h"

#define PA_GUARD(x)                                                                                \
    do {                                                                                           \
        int pa_guard_rc_ = (x);                                                                    \
        if (pa_guard_rc_ != PA_OK)                                                                 \
            return pa_guard_rc_;                                                                   \
    } while (0)

#endif
