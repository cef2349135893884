/*
 * Fuzz target: an agency's counts file (pa_counts_load_csv) against the
 * Missouri task of the corpus (tests/fuzz/corpus/task_json/missouri): category
 * names or cell indexes, counts, duplicates.  The bytes are handed over as a
 * memory file (memfd), read through its /proc path as the CLI reads a file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/task.h"

static pa_task *g_pTask;

static void load_task(void)
{
    if (g_pTask == NULL)
        pa_fuzz_check(pa_task_load(&g_pTask, PA_FUZZ_TASK) == PA_OK, "counts_csv: cannot load " PA_FUZZ_TASK);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    char zPath[64];
    load_task();
    int fd = memfd_create("counts", 0);
    if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    snprintf(zPath, sizeof zPath, "/proc/self/fd/%d", fd);
    uint64_t *a = calloc(g_pTask->nCell ? g_pTask->nCell : 1, sizeof *a);
    (void)pa_counts_load_csv(g_pTask, zPath, a);
    free(a);
    close(fd);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    char z[8192];
    size_t n = 0;
    load_task();
    n += (size_t)snprintf(z + n, sizeof z - n, "cell,count\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(z + n, sizeof z - n, "%d,%d\n", i * 7 % 270, i % 4);
    pa_fuzz_put(zDir, "cells", z, n);
    static const char zBad[] = "cell,count\n0,1\n0,2\n";
    pa_fuzz_put(zDir, "duplicate", zBad, sizeof zBad - 1);
}
