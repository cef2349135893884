/*
 * privagg audit — the privacy reviewer's check (engine/audit, docs/audit.md):
 *   privagg audit --task task.json --manifests DIR --ledgers leader.json helper.json
 *                 [--collector-key collector.pub] [--json]
 * Exit 0 = pass, 1 = fail (every reason printed), 2 = could not run (bad usage,
 * a file missing or unreadable, the task invalid).
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/audit.h"
#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/task.h"

static const char k_usage[] =
    "usage: privagg audit --task task.json --manifests DIR --ledgers leader.json helper.json\n"
    "                     [--collector-key collector.pub] [--json]\n"
    "Checks, from the task, the release manifests (every manifest*.json in DIR) and both\n"
    "aggregators' exported ledgers (privagg ledger export), trusting no operator: each\n"
    "ledger's hash chain; that the ledgers agree with each other and with every manifest;\n"
    "the manifests' signatures (the task's parties.collector.signing_public_key, or\n"
    "--collector-key); each release's rho recomputed from the task and its noise; the\n"
    "composition per lattice cell (month x partition) within the budget per record;\n"
    "the minimum agencies per batch; that no batch was released twice; that the policy\n"
    "is not none.  Prints what is guaranteed, to whom and under which assumptions.\n"
    "\n"
    "exit status:\n"
    "  0  pass: every check holds\n"
    "  1  fail (every failing check is printed)\n"
    "  2  bad usage, or an input that cannot be read (the audit could not run)\n"
    "\n"
    "example:\n"
    "  privagg audit --task task.json --manifests report --ledgers leader-ledger.json helper-ledger.json\n";

static void usage(FILE *out)
{
    fputs(k_usage, out);
}

int pa_cli_audit(int argc, char **argv)
{
    const char *zTask = NULL, *zDir = NULL, *zKey = NULL, *azLedger[2] = {NULL, NULL};
    int bJson = 0, rc, status = 2;
    pa_task *t = NULL;
    pa_audit_input aLedger[2], *aMan = NULL;
    size_t nMan = 0;
    json_t *pRep = NULL;
    pa_keys k;

    pa_cli_opt o[] = {{"--task", 0, NULL, 0, NULL},      {"--manifests", 0, NULL, 0, NULL},
                      {"--ledgers", PA_CLI_TWO_VALUES, NULL, 0, NULL}, {"--collector-key", 0, NULL, 0, NULL},
                      {"--json", 1, NULL, 0, NULL},      {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];

    memset(aLedger, 0, sizeof aLedger);
    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    zTask = pa_cli_value(o, n, "--task");
    zDir = pa_cli_value(o, n, "--manifests");
    zKey = pa_cli_value(o, n, "--collector-key");
    azLedger[0] = pa_cli_value(o, n, "--ledgers");
    azLedger[1] = o[2].zValue2;
    bJson = pa_cli_seen(o, n, "--json");
    if (zTask == NULL || zDir == NULL || azLedger[0] == NULL) {
        fprintf(stderr, "privagg audit: --task, --manifests and --ledgers are required (see --help)\n");
        return 2;
    }
    memset(&k, 0, sizeof k);
    if ((rc = pa_task_load(&t, zTask)) != PA_OK) {
        pa_cli_report("audit: task", rc);
        return 2;
    }
    if (zKey != NULL && ((rc = pa_keys_read_public(&k, zKey)) != PA_OK || !k.bSign)) {
        if (rc == PA_OK)
            fprintf(stderr, "privagg audit: %s has no signing_public_key (a collector key file is needed)\n", zKey);
        else
            pa_cli_report("audit: collector key", rc);
        goto done;
    }
    for (int a = 0; a < 2; a++) {
        if ((rc = pa_audit_input_read(&aLedger[a], azLedger[a])) != PA_OK) {
            pa_cli_report("audit: ledger", rc);
            goto done;
        }
    }
    {
        DIR *d = opendir(zDir);
        struct dirent *e;
        if (d == NULL) {
            fprintf(stderr, "privagg audit: cannot open folder %s\n", zDir);
            goto done;
        }
        while ((e = readdir(d)) != NULL) {
            size_t nName = strlen(e->d_name);
            char zPath[4096];
            if (strncmp(e->d_name, "manifest", 8) != 0 || nName < 13 || strcmp(e->d_name + nName - 5, ".json") != 0)
                continue;
            pa_audit_input *p = realloc(aMan, (nMan + 1) * sizeof *aMan);
            if (p == NULL)
                break;
            aMan = p;
            snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
            if ((rc = pa_audit_input_read(&aMan[nMan], zPath)) != PA_OK) {
                pa_cli_report("audit: manifest", rc);
                closedir(d);
                goto done;
            }
            nMan++;
        }
        closedir(d);
    }
    rc = pa_audit_run(t, aMan, nMan, aLedger, zKey ? k.aSignPublic : NULL, &pRep);
    if (rc != PA_OK) {
        pa_cli_report("audit", rc);
        goto done;
    }
    if (bJson) {
        json_dumpf(pRep, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        pa_audit_print(pRep, stdout);
    }
    status = strcmp(json_string_value(json_object_get(pRep, "result")), "pass") == 0 ? 0 : 1;
done:
    json_decref(pRep);
    for (int a = 0; a < 2; a++)
        pa_audit_input_free(&aLedger[a]);
    for (size_t i = 0; i < nMan; i++)
        pa_audit_input_free(&aMan[i]);
    free(aMan);
    pa_task_free(t);
    return status;
}
