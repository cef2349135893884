/*
 * privagg submit — an agency sends one month of counts (thin over engine/submit
 * and engine/client).  Only the Prio3 shares, sealed to each aggregator, leave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/submit.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg submit --task FILE --key AGENCY.key --period YYYY-MM --counts FILE.csv\n"
            "                      [--ca CERT.pem]\n"
            "\n"
            "Splits the counts into Prio3 secret shares with a validity proof, seals each\n"
            "share to its aggregator (HPKE), signs the report with the agency's key and\n"
            "uploads it to the leader named in the task.  The counts CSV has a header\n"
            "naming the task's dimensions and \"count\" (e.g. offense,status,role,count),\n"
            "or cell,count; unlisted cells are 0.\n"
            "  --ca CERT.pem   trust anchor for the leader's certificate (default: system)\n"
            "\n"
            "example:\n"
            "  privagg submit --task task.json --key keys/agencies/MO0010000.key \\\n"
            "                 --period 2026-10 --counts october.csv --ca tls/cert.pem\n");
}

int pa_cli_submit(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0},   {"--key", 0, NULL, 0}, {"--period", 0, NULL, 0},
                      {"--counts", 0, NULL, 0}, {"--ca", 0, NULL, 0},  {"--help", 1, NULL, 0}};
    size_t n = sizeof o / sizeof o[0], nMsg = 0;
    pa_task *t = NULL;
    pa_keys k;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    uint64_t *aCounts = NULL;
    uint8_t *pMsg = NULL;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (!pa_cli_value(o, n, "--task") || !pa_cli_value(o, n, "--key") || !pa_cli_value(o, n, "--period") ||
        !pa_cli_value(o, n, "--counts")) {
        fprintf(stderr, "privagg submit: --task, --key, --period and --counts are required\n");
        return 2;
    }
    memset(&k, 0, sizeof k);
    rc = pa_task_load(&t, pa_cli_value(o, n, "--task"));
    if (rc == PA_OK)
        rc = pa_keys_read_private(&k, pa_cli_value(o, n, "--key"));
    if (rc == PA_OK && (aCounts = calloc(t->nCell, sizeof *aCounts)) == NULL)
        rc = pa_fail(PA_ENOMEM, "counts: out of memory");
    if (rc == PA_OK)
        rc = pa_counts_load_csv(t, pa_cli_value(o, n, "--counts"), aCounts);
    if (rc == PA_OK)
        rc = pa_submit_report(t, &k, pa_cli_value(o, n, "--period"), aCounts,
                              t->eVdaf == PA_VDAF_SUMVEC || t->eVdaf == PA_VDAF_MULTIHOT ? t->nCell : 1,
                              &pMsg, &nMsg);
    co.ca_file = pa_cli_value(o, n, "--ca");
    if (rc == PA_OK)
        rc = pa_http_client_new(&c, &co);
    if (rc == PA_OK)
        rc = pa_client_upload(c, t, pMsg, nMsg);
    if (rc == PA_OK)
        printf("submitted: %s, %s, %zu bytes\n", k.zId, pa_cli_value(o, n, "--period"), nMsg);
    else
        pa_cli_report("submit", rc);
    pa_http_client_free(&c);
    pa_keys_wipe(&k);
    free(pMsg);
    free(aCounts);
    pa_task_free(t);
    return rc == PA_OK ? 0 : 1;
}
