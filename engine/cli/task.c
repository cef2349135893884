/*
 * privagg task — create the default task of a state from the shipped data, or
 * show a task in words (thin over engine/task).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/task.h"
#include "privagg/task_build.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg task init --state ST --keys DIR --out FILE [options]\n"
            "       privagg task show --task FILE\n"
            "\n"
            "init builds the default task: offense buckets x 5 immigration statuses x 2\n"
            "roles (270 cells), Prio3SumVec, one agency list entry per agency of\n"
            "data/<st>_le_agencies.csv, monthly batches, discrete Gaussian noise.\n"
            "  --keys DIR              DIR/leader.pub, DIR/helper.pub, DIR/collector.pub and\n"
            "                          DIR/agencies/<ORI>.pub (see privagg keygen)\n"
            "  --leader-endpoint URL   default https://127.0.0.1:8441\n"
            "  --helper-endpoint URL   default https://127.0.0.1:8442\n"
            "  --agencies N            only the first N agencies of the file\n"
            "  --min-agencies N        agencies a batch needs before collection (default 10)\n"
            "  --rho R                 zCDP rho charged per release (default 0.05)\n"
            "  --total-rho T           rho budget per year (default 1.0)\n"
            "  --max-cells-per-record K  cells one incident record may touch (default 4)\n"
            "  --data DIR              shipped data folder (default data)\n"
            "\n"
            "examples:\n"
            "  privagg task init --state MO --keys keys --out task.json\n"
            "  privagg task show --task task.json\n");
}

static int load_pub(pa_keys *k, const char *zDir, const char *zName, pa_role eWant)
{
    char zPath[4096];
    int rc;
    snprintf(zPath, sizeof zPath, "%s/%s.pub", zDir, zName);
    rc = pa_keys_read_public(k, zPath);
    if (rc == PA_OK && k->eRole != eWant)
        rc = pa_fail(PA_EINVAL, "%s: role %s, expected %s", zPath, pa_role_name(k->eRole),
                     pa_role_name(eWant));
    return rc;
}

static int task_init(int argc, char **argv)
{
    pa_cli_opt o[] = {
        {"--state", 0, NULL, 0},         {"--keys", 0, NULL, 0},
        {"--out", 0, NULL, 0},           {"--leader-endpoint", 0, NULL, 0},
        {"--helper-endpoint", 0, NULL, 0}, {"--agencies", 0, NULL, 0},
        {"--min-agencies", 0, NULL, 0},  {"--rho", 0, NULL, 0},
        {"--total-rho", 0, NULL, 0},     {"--max-cells-per-record", 0, NULL, 0},
        {"--data", 0, NULL, 0},          {"--help", 1, NULL, 0},
    };
    size_t n = sizeof o / sizeof o[0], nId = 0, nAll = 0;
    pa_keys leader, helper, collector, *aAgency = NULL;
    pa_task_build_opts b;
    unsigned long long v;
    char **azId = NULL;
    json_t *pJson = NULL;
    pa_task *pTask = NULL;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    memset(&b, 0, sizeof b);
    b.zState = pa_cli_value(o, n, "--state");
    const char *zKeys = pa_cli_value(o, n, "--keys"), *zOut = pa_cli_value(o, n, "--out");
    if (b.zState == NULL || zKeys == NULL || zOut == NULL) {
        fprintf(stderr, "privagg task init: --state, --keys and --out are required\n");
        return 2;
    }
    b.zDataDir = pa_cli_value(o, n, "--data") ? pa_cli_value(o, n, "--data") : "data";
    b.zLeaderEndpoint = pa_cli_value(o, n, "--leader-endpoint") ? pa_cli_value(o, n, "--leader-endpoint")
                                                                 : "https://127.0.0.1:8441";
    b.zHelperEndpoint = pa_cli_value(o, n, "--helper-endpoint") ? pa_cli_value(o, n, "--helper-endpoint")
                                                                 : "https://127.0.0.1:8442";
    b.nMinAgencies = 10;
    b.rRhoPerRelease = 0.05;
    b.rRhoTotal = 1.0;
    b.nMaxCellsPerRecord = 4;
    if (pa_cli_value(o, n, "--agencies")) {
        if (pa_cli_uint("task init", "--agencies", pa_cli_value(o, n, "--agencies"), 1, 100000, &v))
            return 2;
        b.nMaxAgencies = (size_t)v;
    }
    if (pa_cli_value(o, n, "--min-agencies")) {
        if (pa_cli_uint("task init", "--min-agencies", pa_cli_value(o, n, "--min-agencies"), 1, 100000, &v))
            return 2;
        b.nMinAgencies = (size_t)v;
    }
    if (pa_cli_value(o, n, "--max-cells-per-record")) {
        if (pa_cli_uint("task init", "--max-cells-per-record",
                        pa_cli_value(o, n, "--max-cells-per-record"), 1, 270, &v))
            return 2;
        b.nMaxCellsPerRecord = v;
    }
    if (pa_cli_value(o, n, "--rho") &&
        pa_cli_real("task init", "--rho", pa_cli_value(o, n, "--rho"), 1e-9, 100, &b.rRhoPerRelease))
        return 2;
    if (pa_cli_value(o, n, "--total-rho") &&
        pa_cli_real("task init", "--total-rho", pa_cli_value(o, n, "--total-rho"), 1e-9, 1000, &b.rRhoTotal))
        return 2;

    rc = load_pub(&leader, zKeys, "leader", PA_ROLE_LEADER);
    if (rc == PA_OK)
        rc = load_pub(&helper, zKeys, "helper", PA_ROLE_HELPER);
    if (rc == PA_OK)
        rc = load_pub(&collector, zKeys, "collector", PA_ROLE_COLLECTOR);
    if (rc == PA_OK)
        rc = pa_task_list_agencies(&azId, &nId, b.zDataDir, b.zState);
    nAll = nId;
    if (rc == PA_OK && b.nMaxAgencies != 0 && b.nMaxAgencies < nId)
        nId = b.nMaxAgencies;
    if (rc == PA_OK && (aAgency = calloc(nId ? nId : 1, sizeof *aAgency)) == NULL)
        rc = pa_fail(PA_ENOMEM, "agency keys: out of memory");
    for (size_t i = 0; rc == PA_OK && i < nId; i++) {
        char zDir[4096];
        snprintf(zDir, sizeof zDir, "%s/agencies", zKeys);
        rc = load_pub(&aAgency[i], zDir, azId[i], PA_ROLE_AGENCY);
    }
    b.pLeader = &leader;
    b.pHelper = &helper;
    b.pCollector = &collector;
    b.aAgencyKeys = aAgency;
    b.nAgencyKeys = nId;
    if (rc == PA_OK)
        rc = pa_task_build_default(&pJson, &b);
    if (rc == PA_OK) {
        char *z = json_dumps(pJson, JSON_INDENT(2));
        rc = z ? pa_task_parse(&pTask, z, strlen(z)) : pa_fail(PA_ENOMEM, "task: encoding");
        free(z);
    }
    if (rc == PA_OK && json_dump_file(pJson, zOut, JSON_INDENT(2)) != 0)
        rc = pa_fail(PA_EIO, "%s: cannot write", zOut);
    if (rc == PA_OK) {
        char zId[65];
        sodium_bin2hex(zId, sizeof zId, pTask->aTaskId, 32);
        printf("%s\n", zOut);
        fprintf(stderr, "task id %s: %zu cells, %zu agencies\n", zId, pTask->nCell, pTask->nAgency);
    }
    pa_task_free(pTask);
    json_decref(pJson);
    free(aAgency);
    pa_task_free_list(azId, nAll);
    if (rc != PA_OK) {
        pa_cli_report("task init", rc);
        return 1;
    }
    return 0;
}

static int task_show(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0}, {"--help", 1, NULL, 0}};
    size_t n = 2, nPartition = 0;
    pa_task *t;
    char zId[65];
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (pa_cli_value(o, n, "--task") == NULL) {
        fprintf(stderr, "privagg task show: --task FILE is required\n");
        return 2;
    }
    rc = pa_task_load(&t, pa_cli_value(o, n, "--task"));
    if (rc != PA_OK) {
        pa_cli_report("task show", rc);
        return 1;
    }
    sodium_bin2hex(zId, sizeof zId, t->aTaskId, 32);
    for (size_t i = 0; i < t->nAgency; i++) {
        size_t j;
        for (j = 0; j < i; j++)
            if (strcmp(t->aAgency[j].zPartition, t->aAgency[i].zPartition) == 0)
                break;
        nPartition += j == i;
    }
    printf("task      %s\n", t->zName);
    printf("task id   %s\n\n", zId);
    printf("schema    %zu cells =", t->nCell);
    for (size_t i = 0; i < t->nDimension; i++)
        printf("%s %zu %s", i ? " x" : "", t->aDimension[i].nCategory, t->aDimension[i].zName);
    printf("\n");
    for (size_t i = 0; i < t->nDimension; i++) {
        printf("  %-8s", t->aDimension[i].zName);
        for (size_t j = 0; j < t->aDimension[i].nCategory && j < 6; j++)
            printf("%s%s", j ? "; " : " ", t->aDimension[i].azCategory[j]);
        if (t->aDimension[i].nCategory > 6)
            printf("; ... (%zu more)", t->aDimension[i].nCategory - 6);
        printf("\n");
    }
    printf("vdaf      %s, max %llu per cell, chunk %zu\n", pa_vdaf_type_name(t->eVdaf),
           (unsigned long long)t->nMaxMeasurement, t->nChunkLength);
    printf("leader    %s\nhelper    %s\n", t->leader.zEndpoint, t->helper.zEndpoint);
    printf("agencies  %zu in %zu partitions; a batch is one month of one partition or of the\n"
           "          whole state, collected once, with at least %zu agencies\n",
           t->nAgency, nPartition, t->nMinAgencies);
    if (t->eMechanism == PA_TASK_DP_NONE)
        printf("dp        NONE — totals are exact; for tests only, never for publication\n");
    else
        printf("dp        %s per incident record (a record touches <= %llu cells, <= %llu each);\n"
               "          %g %s per release, %g per %s, charged by each aggregator\n",
               pa_task_mechanism_name(t->eMechanism), (unsigned long long)t->nMaxCellsPerRecord,
               (unsigned long long)t->nMaxPerCell, t->rPerRelease,
               t->eMechanism == PA_TASK_DP_GAUSSIAN ? "rho (zCDP)" : "epsilon", t->rTotalBudget,
               t->zBudgetPeriod);
    printf("\nwho learns what\n"
           "  agency     its own counts, nothing about other agencies\n"
           "  leader     which agencies reported and when; no counts unless the helper colludes\n"
           "  helper     the same as the leader\n"
           "  collector  noised totals of a batch and its agency count; no agency's counts\n");
    pa_task_free(t);
    return 0;
}

int pa_cli_task(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "init") == 0)
        return task_init(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return task_show(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
