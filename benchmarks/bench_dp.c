/*
 * Benchmarks of the dp module (placeholder until the module lands: records nothing).
 */
#include "bench.h"

void pa_bench_dp(pa_bench *b)
{
    (void)b;
}
