/*
 * What every fuzz target links: writing seed files, the finding check, and a
 * private scratch folder for the decoders that read files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static char g_zDir[64];

static void remove_dir(void)
{
    char zCmd[128];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", g_zDir);
    if (system(zCmd) != 0)
        fprintf(stderr, "fuzz: cannot remove %s\n", g_zDir);
}

const char *pa_fuzz_dir(void)
{
    if (g_zDir[0] == 0) {
        const char *zTmp = getenv("TMPDIR");
        snprintf(g_zDir, sizeof g_zDir, "%s/pa-fuzz-XXXXXX", zTmp && strlen(zTmp) < 40 ? zTmp : "/tmp");
        pa_fuzz_check(mkdtemp(g_zDir) != NULL, "fuzz: mkdtemp");
        atexit(remove_dir);
    }
    return g_zDir;
}

const char *pa_fuzz_file(const char *zName, const uint8_t *p, size_t n)
{
    static char zPath[160];
    snprintf(zPath, sizeof zPath, "%s/%s", pa_fuzz_dir(), zName);
    unlink(zPath);
    int fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL, 0600);
    pa_fuzz_check(fd >= 0, "fuzz: cannot create a scratch file");
    pa_fuzz_check(n == 0 || write(fd, p, n) == (ssize_t)n, "fuzz: cannot write a scratch file");
    close(fd);
    return zPath;
}
