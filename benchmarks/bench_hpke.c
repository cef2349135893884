/*
 * Benchmarks of the hpke module (placeholder until the module lands: records nothing).
 */
#include "bench.h"

void pa_bench_hpke(pa_bench *b)
{
    (void)b;
}
