/*
 * What every fuzz target links: writing seed files and the finding check.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"

void pa_fuzz_put(const char *zDir, const char *zName, const void *p, size_t n)
{
    char zPath[4096];
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zName);
    FILE *f = fopen(zPath, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", zPath);
        exit(2);
    }
}

void pa_fuzz_check(int bOk, const char *zWhat)
{
    if (!bOk) {
        fprintf(stderr, "fuzz finding: %s\n", zWhat);
        abort();
    }
}
