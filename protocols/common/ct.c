/*
 * pa_ct_declassify(): the library's declassification hook (common/ct.h).  It
 * does nothing; it is weak and out of line so that a ctgrind test can link its
 * own definition (valgrind's VALGRIND_MAKE_MEM_DEFINED) in its place, and so
 * that each call site stays visible in the compiled code.  The volatile-free
 * empty body costs one call per declassified value (a few per report).
 */
#include "common/ct.h"

__attribute__((weak, noinline)) void pa_ct_declassify(void *p, size_t n)
{
    (void)p;
    (void)n;
}
