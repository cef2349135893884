/*
 * Option parsing shared by the subcommands: "--name value" and "--flag" forms,
 * unknown options and missing values are usage errors (exit 2) that name the
 * option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int pa_cli_parse(int argc, char **argv, pa_cli_opt *aOpt, size_t nOpt)
{
    for (int i = 1; i < argc; i++) {
        size_t j;
        for (j = 0; j < nOpt; j++)
            if (strcmp(argv[i], aOpt[j].zName) == 0)
                break;
        if (j == nOpt) {
            fprintf(stderr, "privagg %s: unknown option '%s' (see --help)\n", argv[0], argv[i]);
            return 2;
        }
        aOpt[j].bSeen = 1;
        if (aOpt[j].bFlag == 1)
            continue;
        int nValues = aOpt[j].bFlag == PA_CLI_TWO_VALUES ? 2 : 1;
        if (i + nValues >= argc) {
            fprintf(stderr, "privagg %s: option %s needs %s\n", argv[0], argv[i],
                    nValues == 2 ? "two values" : "a value");
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
