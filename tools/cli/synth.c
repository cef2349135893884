/*
 * privagg synth — write a month of realistic synthetic incident exports, one
 * CSV per agency, and the exact count vectors the submitter must compute from
 * them (thin over tools/synth).  For demos, tests and trying `privagg submit
 * --records` without real records.  Without --task the default task of the state
 * is built in memory without keys (tools/synth/synth_task.c): only its schema and
 * bounds are used, for the first --agencies agencies of the state's list; with a
 * --task that names an agency registry, the agencies are those --registry enrolls
 * for the month.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/registry.h"
#include "privagg/report.h"
#include "privagg/synth.h"
#include "privagg/task.h"
#include "privagg/task_build.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg synth --month YYYY-MM --out DIR [--state MO] [--seed N]\n"
            "                     [--task FILE [--registry FILE]] [--agencies N] [--data DIR]\n"
            "\n"
            "Writes DIR/<ORI>.csv for every agency: one month of synthetic incidents as a\n"
            "records management system would export them (the columns of `privagg submit\n"
            "--print-mapping`; one row per person involved in an offense; incident rates per\n"
            "100,000 residents by offense bucket over the agency's share of its county's\n"
            "population; several offenses and persons per incident; late records, witnesses,\n"
            "09C, a few broken rows), and DIR/truth.json: each agency id mapped to the exact\n"
            "count vector `privagg submit --records DIR/<ORI>.csv --dry-run --json` must print\n"
            "(task cell order, after the task's bounds).  Synthetic: never real data.\n"
            "  --month YYYY-MM  the month of the incidents (a few are of the month before)\n"
            "  --out DIR        created if missing\n"
            "  --state ST       the state's shipped data (default MO, the only one shipped)\n"
            "  --seed N         the same seed gives the same files (default 1)\n"
            "  --task FILE      the task whose schema, bounds and agencies to use (default:\n"
            "                   the default task of the state, made in memory: no key)\n"
            "  --registry FILE  the agency registry of a --task that names one: the agencies\n"
            "                   enrolled for --month\n"
            "  --agencies N     only the first N agencies of the data file (without --task)\n"
            "  --data DIR       the shipped data folder (default: as privagg task init)\n"
            "\n"
            "exit status:\n"
            "  0  written\n"
            "  1  the data or task cannot be read, or the files cannot be written\n"
            "  2  bad usage\n"
            "\n"
            "examples:\n"
            "  privagg synth --state MO --month 2026-10 --out exports --seed 7\n"
            "  privagg demo --setup-only --agencies 20 --out d\n"
            "  privagg synth --task d/task.json --registry d/registry.json --month 2026-10 --out x\n"
            "  privagg submit --task d/task.json --registry d/registry.json \\\n"
            "                 --key d/agencies/MO0010000/MO0010000.key \\\n"
            "                 --records x/MO0010000.csv --period 2026-10 --dry-run --json\n");
}

/* Without --task: the default task of the state for the first nMax agencies, in
 * the registry form and without any key (only its schema, bounds and partitions
 * are used), and those agencies. */
static int default_task(pa_task **ppTask, char ***pazId, size_t *pnId, const char *zState, const char *zData,
                        size_t nMax)
{
    pa_synth_task_opts b;
    pa_synth_agency *aAgency = NULL;
    size_t nAgency = 0;
    json_t *pJson = NULL;
    int rc;

    memset(&b, 0, sizeof b);
    rc = pa_synth_state_agencies(&aAgency, &nAgency, zData, zState, nMax);
    b.zState = zState;
    b.zDataDir = zData;
    b.zLeaderEndpoint = "https://127.0.0.1:8441";
    b.zHelperEndpoint = "https://127.0.0.1:8442";
    b.aAgency = aAgency;
    b.nAgency = nAgency;
    b.nMinAgencies = nAgency < 10 ? nAgency : 10;
    b.rBudgetRho = 1.0;
    b.rRhoState = 0.5;
    b.rRhoPartition = 0.5;
    if (rc == PA_OK)
        rc = pa_synth_task(&pJson, &b);
    if (rc == PA_OK) {
        char *z = json_dumps(pJson, 0);
        rc = z ? pa_task_parse(ppTask, z, strlen(z)) : pa_fail(PA_ENOMEM, "synth: out of memory");
        free(z);
    }
    if (rc == PA_OK && (*pazId = calloc(nAgency + 1, sizeof **pazId)) == NULL)
        rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    for (size_t i = 0; rc == PA_OK && i < nAgency; i++, (*pnId)++)
        if (((*pazId)[i] = strdup(aAgency[i].zId)) == NULL)
            rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    json_decref(pJson);
    free(aAgency);
    return rc;
}

/* With --task naming a registry: the agencies of --registry enrolled for the month. */
static int registry_agencies(char ***pazId, size_t *pnId, const pa_task *t, const char *zRegistry,
                             const char *zMonth)
{
    pa_registry *r = NULL;
    int rc = pa_registry_load(&r, zRegistry);

    if (rc == PA_OK)
        rc = pa_registry_check_task(r, t);
    if (rc == PA_OK && (*pazId = calloc(pa_registry_agency_count(r) + 1, sizeof **pazId)) == NULL)
        rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    for (size_t i = 0; rc == PA_OK && i < pa_registry_agency_count(r); i++) {
        pa_reg_agency x;
        pa_registry_lookup(r, pa_registry_agency_id(r, i), zMonth, &x);
        if (x.eStatus == PA_REG_ACTIVE && ((*pazId)[(*pnId)++] = strdup(pa_registry_agency_id(r, i))) == NULL)
            rc = pa_fail(PA_ENOMEM, "synth: out of memory");
    }
    pa_registry_free(r);
    return rc;
}

int pa_cli_synth(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--state", 0, NULL, 0, NULL}, {"--month", 0, NULL, 0, NULL},    {"--out", 0, NULL, 0, NULL},
                      {"--seed", 0, NULL, 0, NULL},  {"--task", 0, NULL, 0, NULL},     {"--agencies", 0, NULL, 0, NULL},
                      {"--data", 0, NULL, 0, NULL},  {"--registry", 0, NULL, 0, NULL},
                      {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    unsigned long long iSeed = 1, nMax = 0;
    pa_task *t = NULL;
    pa_synth *s = NULL;
    pa_synth_records_info info;
    const char *zState, *zData, *zMonth, *zOut, *zTask, *zRegistry;
    char zDataBuf[4200], **azId = NULL;
    size_t nId = 0;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    zState = pa_cli_value(o, n, "--state") ? pa_cli_value(o, n, "--state") : "MO";
    zData = pa_cli_data_dir(pa_cli_value(o, n, "--data"), zDataBuf, sizeof zDataBuf);
    zMonth = pa_cli_value(o, n, "--month");
    zOut = pa_cli_value(o, n, "--out");
    if (zMonth == NULL || zOut == NULL) {
        fprintf(stderr, "privagg synth: --month and --out are required (see --help)\n");
        return 2;
    }
    if (!pa_period_valid(zMonth)) {
        fprintf(stderr, "privagg synth: --month: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on\n", zMonth);
        return 2;
    }
    if (strcmp(zState, "MO") != 0 && strcmp(zState, "mo") != 0) {
        fprintf(stderr, "privagg synth: --state: only MO has shipped county populations (data/mo_*.csv)\n");
        return 2;
    }
    if (pa_cli_value(o, n, "--seed") &&
        pa_cli_uint("synth", "--seed", pa_cli_value(o, n, "--seed"), 0, UINT64_MAX, &iSeed))
        return 2;
    if (pa_cli_value(o, n, "--agencies") &&
        pa_cli_uint("synth", "--agencies", pa_cli_value(o, n, "--agencies"), 1, 100000, &nMax))
        return 2;
    zTask = pa_cli_value(o, n, "--task");
    zRegistry = pa_cli_value(o, n, "--registry");
    if (zRegistry != NULL && zTask == NULL) {
        fprintf(stderr, "privagg synth: --registry goes with --task (the task that names it)\n");
        return 2;
    }
    if (zTask != NULL) {
        rc = pa_task_load(&t, zTask);
        if (rc == PA_OK && t->bRegistry != (zRegistry != NULL))
            rc = pa_fail(PA_EINVAL, "--registry: %s", t->bRegistry ? "required: the task names an agency registry"
                                                                   : "the task lists its agencies, it names no registry");
        if (rc == PA_OK && zRegistry != NULL)
            rc = registry_agencies(&azId, &nId, t, zRegistry, zMonth);
    } else {
        rc = default_task(&t, &azId, &nId, "MO", zData, (size_t)nMax);
    }
    if (rc == PA_OK && azId == NULL)
        rc = pa_synth_new(&s, t, zData, iSeed);
    else if (rc == PA_OK)
        rc = pa_synth_new_agencies(&s, t, (const char *const *)azId, nId, zData, iSeed);
    if (rc == PA_OK)
        rc = pa_synth_write_month(s, zMonth, zOut, &info);
    if (rc == PA_OK)
        fprintf(stderr, "%zu agencies: %llu rows, %llu incidents of %s (and %llu of the month before), %llu "
                        "broken rows; the exact counts after the bounds in %s/truth.json\n",
                pa_synth_agency_count(s), (unsigned long long)info.nRow, (unsigned long long)info.nIncidentInPeriod, zMonth,
                (unsigned long long)(info.nIncident - info.nIncidentInPeriod),
                (unsigned long long)info.nBrokenRow, zOut);
    pa_synth_free(s);
    pa_task_free(t);
    pa_task_free_list(azId, nId);
    if (rc != PA_OK) {
        pa_cli_report("synth", rc);
        return 1;
    }
    printf("%s\n", zOut);
    return 0;
}
