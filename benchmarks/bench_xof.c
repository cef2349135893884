/*
 * Benchmarks of the xof module (placeholder until the module lands: records nothing).
 */
#include "bench.h"

void pa_bench_xof(pa_bench *b)
{
    (void)b;
}
