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
    "Exit 0 pass, 1 fail (every reason), 2 could not run.\n"
    "example:\n"
    "  privagg audit --task task.json --manifests report --ledgers leader-ledger.json helper-ledger.json\n";

static int bad(const char *zMsg, const char *zArg)
{
    fprintf(stderr, "privagg audit: %s%s%s\nRun 'privagg audit --help' for usage.\n", zMsg, zArg ? ": " : "",
            zArg ? zArg : "");
    return 2;
}

static char *slurp(const char *zPath, size_t *pn)
{
    FILE *f = fopen(zPath, "rb");
    char *z = NULL;
    long n;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= (256L << 20) && fseek(f, 0, SEEK_SET) == 0 &&
        (z = malloc((size_t)n + 1)) != NULL) {
        if (fread(z, 1, (size_t)n, f) != (size_t)n) {
            free(z);
            z = NULL;
        } else {
            z[n] = '\0';
            *pn = (size_t)n;
        }
    }
    fclose(f);
    return z;
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

    memset(aLedger, 0, sizeof aLedger);
    for (int i = 1; i < argc; i++) {
        const char **pz = NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(k_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            bJson = 1;
            continue;
        } else if (strcmp(argv[i], "--ledgers") == 0) {
            if (i + 2 >= argc)
                return bad("--ledgers needs two files (leader, helper)", NULL);
            azLedger[0] = argv[++i];
            azLedger[1] = argv[++i];
            continue;
        } else if (strcmp(argv[i], "--task") == 0) {
            pz = &zTask;
        } else if (strcmp(argv[i], "--manifests") == 0) {
            pz = &zDir;
        } else if (strcmp(argv[i], "--collector-key") == 0) {
            pz = &zKey;
        } else {
            return bad("unknown argument", argv[i]);
        }
        if (i + 1 >= argc)
            return bad("option needs a value", argv[i]);
        *pz = argv[++i];
    }
    if (zTask == NULL || zDir == NULL || azLedger[0] == NULL)
        return bad("missing required option", zTask == NULL ? "--task" : zDir == NULL ? "--manifests" : "--ledgers");
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
        aLedger[a].zName = azLedger[a];
        if ((aLedger[a].zText = slurp(azLedger[a], &aLedger[a].nText)) == NULL) {
            fprintf(stderr, "privagg audit: cannot read %s\n", azLedger[a]);
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
            size_t n = strlen(e->d_name);
            char zPath[4096];
            if (strncmp(e->d_name, "manifest", 8) != 0 || n < 13 || strcmp(e->d_name + n - 5, ".json") != 0)
                continue;
            pa_audit_input *p = realloc(aMan, (nMan + 1) * sizeof *aMan);
            if (p == NULL)
                break;
            aMan = p;
            snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
            aMan[nMan].zName = strdup(zPath);
            aMan[nMan].zText = slurp(zPath, &aMan[nMan].nText);
            if (aMan[nMan].zText == NULL || aMan[nMan].zName == NULL) {
                fprintf(stderr, "privagg audit: cannot read %s\n", zPath);
                free((char *)aMan[nMan].zName);
                free((char *)aMan[nMan].zText);
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
        free((char *)aLedger[a].zText);
    for (size_t i = 0; i < nMan; i++) {
        free((char *)aMan[i].zName);
        free((char *)aMan[i].zText);
    }
    free(aMan);
    pa_task_free(t);
    return status;
}
