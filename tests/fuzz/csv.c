/*
 * Fuzz target: the RFC 4180 CSV reader (pa_csv_parse) under the records,
 * counts and mapping files; every cell of an accepted file is read back.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_csv *c = NULL;
    if (pa_csv_parse(&c, (const char *)p, n, "fuzz.csv") != PA_OK)
        return 0;
    size_t nRow = pa_csv_row_count(c), nLen = 0;
    for (size_t i = 0; i < nRow && i < 1000; i++)
        for (int j = 0; j < 8; j++) {
            const char *z = pa_csv_get(c, i, j);
            if (z)
                nLen += strlen(z);
        }
    (void)pa_csv_column(c, "count");
    pa_csv_free(c);
    return (int)(nLen & 0);
}

void pa_fuzz_seeds(const char *zDir)
{
    static const char z1[] = "cell,count\r\n0,1\r\n5,\"2\"\r\n";
    static const char z2[] = "offense,status,role,count\n\"a,b\",\"x\"\"y\",z,3\n";
    pa_fuzz_put(zDir, "cells", z1, sizeof z1 - 1);
    pa_fuzz_put(zDir, "quoted", z2, sizeof z2 - 1);
}
