/*
 * privagg publish — the statistician's tables, report and signed manifest from
 * a folder of collection results (engine/publish, docs/publish.md):
 *   privagg publish --task task.json --collections DIR --out DIR
 *                   [--collector-key collector.key] [--ledgers leader.json helper.json]
 *                   [--data DIR]
 * Exit 0 when everything was written, 1 when the work failed (a file refused,
 * a write failed), 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/publish.h"
#include "privagg/registry.h"
#include "privagg/task.h"

static const char k_usage[] =
    "usage: privagg publish --task task.json --collections DIR --out DIR\n"
    "                       [--collector-key collector.key] [--ledgers leader.json helper.json] [--data DIR]\n"
    "                       [--registry FILE]\n"
    "Reads every collection-*.json of the task in DIR (months, statewide and partitions) and\n"
    "writes into --out: table.csv and table.json (every cell and margin: noised count,\n"
    "estimate after consistency across levels, 90 % interval exact or conservative, rates\n"
    "per 100,000 residents per month and per year, shares by status, coverage, low\n"
    "reliability flags), report.html (one self-contained page) and, with the collector's\n"
    "private key, manifest.json signed with its Ed25519 key.  --ledgers: both aggregators'\n"
    "exported ledgers (privagg ledger export), verified, for the manifest's ledger heads.\n"
    "--data: the shipped data folder (populations, county shapes; default data).\n"
    "--registry: the agency registry, required for a task that names one: the agencies\n"
    "enrolled for each month are the \"listed\" of the coverage figures.\n"
    "\n"
    "exit status:\n"
    "  0  written\n"
    "  1  a collection, ledger or key could not be read or does not verify, or the\n"
    "     output could not be written (the message says which)\n"
    "  2  bad usage\n"
    "\n"
    "example:\n"
    "  privagg publish --task task.json --collections . --out report --collector-key keys/collector.key \\\n"
    "      --ledgers leader-ledger.json helper-ledger.json\n";

static void usage(FILE *out)
{
    fputs(k_usage, out);
}

int pa_cli_publish(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0, NULL},          {"--collections", 0, NULL, 0, NULL},
                      {"--out", 0, NULL, 0, NULL},           {"--collector-key", 0, NULL, 0, NULL},
                      {"--data", 0, NULL, 0, NULL},          {"--ledgers", PA_CLI_TWO_VALUES, NULL, 0, NULL},
                      {"--help", 1, NULL, 0, NULL},          {"--registry", 0, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    char zDataBuf[4096];
    pa_task *t = NULL;
    pa_keys k;
    pa_release *aRel = NULL;
    pa_registry *pReg = NULL;
    size_t nRel = 0;
    pa_publish_summary sum;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    const char *zTask = pa_cli_value(o, n, "--task"), *zColl = pa_cli_value(o, n, "--collections");
    const char *zOut = pa_cli_value(o, n, "--out"), *zKey = pa_cli_value(o, n, "--collector-key");
    const char *azLedger[2] = {pa_cli_value(o, n, "--ledgers"), o[5].zValue2};
    /* the shipped data wherever privagg is installed (--data overrides) */
    const char *zData = pa_cli_data_dir(pa_cli_value(o, n, "--data"), zDataBuf, sizeof zDataBuf);
    if (zTask == NULL || zColl == NULL || zOut == NULL) {
        fprintf(stderr, "privagg publish: --task, --collections and --out are required (see --help)\n");
        return 2;
    }
    if (azLedger[0] != NULL && zKey == NULL) {
        /* they are read only for the signed manifest's ledger heads: without it
         * they would be ignored, whatever they hold */
        fprintf(stderr, "privagg publish: --ledgers needs --collector-key (the ledgers' heads go into the "
                        "signed manifest; without a key none is written)\n");
        return 2;
    }
    memset(&k, 0, sizeof k);
    rc = pa_task_load(&t, zTask);
    if (rc == PA_OK && zKey != NULL) {
        rc = pa_keys_read_private(&k, zKey);
        if (rc == PA_OK && k.eRole != PA_ROLE_COLLECTOR)
            rc = pa_fail(PA_EINVAL, "%s: a %s key; give the collector's private key", zKey, pa_role_name(k.eRole));
    }
    if (rc == PA_OK && pa_cli_value(o, n, "--registry") != NULL) {
        rc = pa_registry_load(&pReg, pa_cli_value(o, n, "--registry"));
        if (rc == PA_OK)
            rc = pa_registry_check_task(pReg, t);
    }
    if (rc == PA_OK)
        rc = pa_release_load_dir(t, zColl, &aRel, &nRel);
    if (rc == PA_OK) {
        pa_publish_opts po = {zData, zOut, zKey ? &k : NULL, {azLedger[0], azLedger[1]}, "privagg 0.1.0", pReg};
        rc = pa_publish(t, aRel, nRel, &po, &sum);
    }
    pa_keys_wipe(&k);
    pa_release_free_all(aRel, nRel);
    pa_registry_free(pReg);
    pa_task_free(t);
    if (rc != PA_OK) {
        pa_cli_report("publish", rc);
        return 1;
    }
    printf("published %zu releases (%zu months, %zu reconciled across levels), %zu rows, %zu low reliability:\n"
           "  %s/table.csv\n  %s/table.json\n  %s/report.html\n",
           sum.nRelease, sum.nPeriod, sum.nReconciled, sum.nRow, sum.nLowReliability, zOut, zOut, zOut);
    if (zKey)
        printf("  %s/manifest.json (signed by the collector)\n", zOut);
    return 0;
}
