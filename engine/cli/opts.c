/*
 * Option parsing shared by every subcommand: "--name value", "--name=value" and
 * "--flag" forms; unknown options, missing values, a value given to a flag and
 * an option given twice are usage errors (exit 2) that name the option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

int pa_cli_parse(int argc, char **argv, pa_cli_opt *aOpt, size_t nOpt)
{
    for (int i = 1; i < argc; i++) {
        /* "--name=value" is "--name value" (one-value options only) */
        const char *zEq = strncmp(argv[i], "--", 2) == 0 ? strchr(argv[i], '=') : NULL;
        size_t nName = zEq ? (size_t)(zEq - argv[i]) : strlen(argv[i]);
        size_t j;
        for (j = 0; j < nOpt; j++)
            if (strlen(aOpt[j].zName) == nName && strncmp(argv[i], aOpt[j].zName, nName) == 0)
                break;
        if (j == nOpt) {
            fprintf(stderr, "privagg %s: unknown option '%.*s' (see --help)\n", argv[0], (int)nName,
                    argv[i]);
            return 2;
        }
        if (aOpt[j].bSeen && aOpt[j].bFlag != 1) {
            fprintf(stderr, "privagg %s: option %s given twice\n", argv[0], aOpt[j].zName);
            return 2;
        }
        aOpt[j].bSeen = 1;
        if (aOpt[j].bFlag == 1) {
            if (zEq != NULL) {
                fprintf(stderr, "privagg %s: option %s takes no value\n", argv[0], aOpt[j].zName);
                return 2;
            }
            continue;
        }
        int nValues = aOpt[j].bFlag == PA_CLI_TWO_VALUES ? 2 : 1;
        if (zEq != NULL && nValues == 1) {
            aOpt[j].zValue = zEq + 1;
            continue;
        }
        if (zEq != NULL || i + nValues >= argc) {
            fprintf(stderr, "privagg %s: option %s needs %s\n", argv[0], aOpt[j].zName,
                    nValues == 2 ? "two values (--name A B)" : "a value");
            return 2;
        }
        aOpt[j].zValue = argv[++i];
        if (nValues == 2)
            aOpt[j].zValue2 = argv[++i];
    }
    return 0;
}

int pa_cli_begin(int argc, char **argv, pa_cli_opt *aOpt, size_t nOpt, void (*xUsage)(FILE *out))
{
    if (pa_cli_parse(argc, argv, aOpt, nOpt) != 0)
        return 2;
    if (pa_cli_seen(aOpt, nOpt, "--help")) {
        xUsage(stdout);
        return 0;
    }
    return -1;
}

const char *pa_cli_value(const pa_cli_opt *aOpt, size_t nOpt, const char *zName)
{
    for (size_t j = 0; j < nOpt; j++)
        if (strcmp(aOpt[j].zName, zName) == 0)
            return aOpt[j].zValue;
    return NULL;
}

int pa_cli_seen(const pa_cli_opt *aOpt, size_t nOpt, const char *zName)
{
    for (size_t j = 0; j < nOpt; j++)
        if (strcmp(aOpt[j].zName, zName) == 0)
            return aOpt[j].bSeen;
    return 0;
}

int pa_cli_uint(const char *zCmd, const char *zOpt, const char *zValue, unsigned long long nMin,
                unsigned long long nMax, unsigned long long *pOut)
{
    char *zEnd;
    unsigned long long v;

    if (zValue == NULL || zValue[0] == '\0' || zValue[0] == '-') {
        fprintf(stderr, "privagg %s: %s: \"%s\" is not a whole number in %llu..%llu\n", zCmd, zOpt,
                zValue ? zValue : "", nMin, nMax);
        return 2;
    }
    v = strtoull(zValue, &zEnd, 10);
    if (*zEnd != '\0' || v < nMin || v > nMax) {
        fprintf(stderr, "privagg %s: %s: \"%s\" is not a whole number in %llu..%llu\n", zCmd, zOpt,
                zValue, nMin, nMax);
        return 2;
    }
    *pOut = v;
    return 0;
}

int pa_cli_real(const char *zCmd, const char *zOpt, const char *zValue, double rMin, double rMax,
                double *pOut)
{
    char *zEnd;
    double v;

    if (zValue == NULL || zValue[0] == '\0') {
        fprintf(stderr, "privagg %s: %s: a number is required\n", zCmd, zOpt);
        return 2;
    }
    v = strtod(zValue, &zEnd);
    if (*zEnd != '\0' || !(v >= rMin && v <= rMax)) {
        fprintf(stderr, "privagg %s: %s: \"%s\" is not a number in [%g, %g]\n", zCmd, zOpt, zValue,
                rMin, rMax);
        return 2;
    }
    *pOut = v;
    return 0;
}

void pa_cli_utc(char *z, size_t n, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(z, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(z, n, "@%lld", (long long)t);
}
