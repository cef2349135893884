/*
 * Benchmarks of the prio3 module (placeholder until the module lands: records nothing).
 */
#include "bench.h"

void pa_bench_prio3(pa_bench *b)
{
    (void)b;
}
