/*
 * Where the shipped data (county populations, agency lists, the NIBRS code map)
 * is found, so that keygen --state, task init and demo need no --data flag and
 * work from any folder.  The order, first that holds nibrs_offense_buckets.csv:
 *   1. --data DIR, as given (never second-guessed: a wrong folder fails loudly);
 *   2. the installed tree next to the executable, <bindir>/../share/privagg/data
 *      (relocatable: a tree copied to another prefix still finds its data);
 *   3. the source tree of a build-tree binary, <exe folder>/../data;
 *   4. the data folder of the prefix privagg was configured with;
 *   5. ./data (the working directory), whose absence the reader then reports.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#ifndef PA_DATA_REL
#define PA_DATA_REL "../share/privagg/data"
#endif
#ifndef PA_DATA_ABS
#define PA_DATA_ABS "/usr/local/share/privagg/data"
#endif
#define PA_DATA_MARKER "nibrs_offense_buckets.csv"

static int holds_data(const char *zDir)
{
    char zPath[PATH_MAX + 64];
    if ((size_t)snprintf(zPath, sizeof zPath, "%s/%s", zDir, PA_DATA_MARKER) >= sizeof zPath)
        return 0;
    return access(zPath, R_OK) == 0;
}

const char *pa_cli_data_dir(const char *zOverride, char *zBuf, size_t nBuf)
{
    char zExe[PATH_MAX];
    ssize_t k;

    if (zOverride != NULL)
        return zOverride;
    k = readlink("/proc/self/exe", zExe, sizeof zExe - 1);
    if (k > 0) {
        char *zSlash;
        zExe[k] = '\0';
        zSlash = strrchr(zExe, '/');
        if (zSlash != NULL) {
            *zSlash = '\0';
            if ((size_t)snprintf(zBuf, nBuf, "%s/%s", zExe, PA_DATA_REL) < nBuf && holds_data(zBuf))
                return zBuf;
            if ((size_t)snprintf(zBuf, nBuf, "%s/../data", zExe) < nBuf && holds_data(zBuf))
                return zBuf;
        }
    }
    if (holds_data(PA_DATA_ABS))
        return PA_DATA_ABS;
    return "data";
}
