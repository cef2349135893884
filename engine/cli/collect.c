/*
 * privagg collect — the collector fetches one batch's noised totals (thin over
 * engine/client and engine/collector) and writes the collection result JSON.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/vdaf.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg collect --task FILE --key COLLECTOR.key --period YYYY-MM\n"
            "                       [--partition state|FIPS] [--out FILE.json] [--ca CERT.pem]\n"
            "                       [--timeout SECONDS] [--json]\n"
            "\n"
            "Asks the leader to release a batch (both aggregators check the minimum\n"
            "number of agencies and their privacy budget, and each adds its own\n"
            "noise), polls until it is ready, opens both sealed shares and writes the\n"
            "noised totals as JSON (default: standard output).  The collection id is\n"
            "derived from the task, period and partition: running collect again for a\n"
            "released batch (after a crash, or a lost file) returns the same answer.\n"
            "--partition is \"state\" (the statewide batch, the default) or one of the\n"
            "task's partitions (privagg task show lists them).\n"
            "--json: standard output is one JSON object whatever happens, for scripts:\n"
            "{\"status\": \"released\"|\"refused\"|\"pending\"|\"unreachable\"|\"error\",\n"
            "\"period\", \"partition\", \"exit\": the exit status, \"error\": the message (not\n"
            "released), \"agencies\", \"reports\", \"rejected\" and \"out\" (released), and\n"
            "\"collection\": the result itself when there is no --out}.\n"
            "\n"
            "exit status:\n"
            "  0  released: the noised totals were written\n"
            "  1  refused for good (privacy budget, too few agencies, unknown\n"
            "     partition, ...): the message says why; asking again will not help\n"
            "  2  bad usage\n"
            "  3  not ready yet: still pending after --timeout (run it again later)\n"
            "  4  transport failure: the leader could not be reached or failed\n"
            "     (transient; run it again later)\n"
            "\n"
            "example:\n"
            "  privagg collect --task task.json --key keys/collector.key --period 2026-10 \\\n"
            "                  --partition state --out 2026-10.json --ca tls/cert.pem\n");
}

int pa_cli_collect(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--task", 0, NULL, 0, NULL}, {"--key", 0, NULL, 0, NULL},     {"--period", 0, NULL, 0, NULL},
                      {"--partition", 0, NULL, 0, NULL}, {"--out", 0, NULL, 0, NULL}, {"--ca", 0, NULL, 0, NULL},
                      {"--timeout", 0, NULL, 0, NULL}, {"--json", 1, NULL, 0, NULL}, {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    unsigned long long nTimeout = 600;
    pa_task *t = NULL;
    pa_keys k;
    pa_http_client *c = NULL;
    pa_http_client_opts co = {0};
    pa_collection coll;
    FILE *f = stdout;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (!pa_cli_value(o, n, "--task") || !pa_cli_value(o, n, "--key") || !pa_cli_value(o, n, "--period")) {
        fprintf(stderr, "privagg collect: --task, --key and --period are required\n");
        return 2;
    }
    if (pa_cli_value(o, n, "--timeout") &&
        pa_cli_uint("collect", "--timeout", pa_cli_value(o, n, "--timeout"), 1, 86400, &nTimeout))
        return 2;
    const char *zPartition = pa_cli_value(o, n, "--partition") ? pa_cli_value(o, n, "--partition") : "state";
    memset(&k, 0, sizeof k);
    memset(&coll, 0, sizeof coll);
    rc = pa_task_load(&t, pa_cli_value(o, n, "--task"));
    if (rc == PA_OK)
        rc = pa_keys_read_private(&k, pa_cli_value(o, n, "--key"));
    if (rc == PA_OK && k.eRole != PA_ROLE_COLLECTOR)
        rc = pa_fail(PA_EINVAL, "--key: role %s, expected collector", pa_role_name(k.eRole));
    /* a partition the task does not have is refused here, before the leader is asked */
    if (rc == PA_OK && strcmp(zPartition, "state") != 0 && pa_task_find_partition(t, zPartition) == NULL)
        rc = pa_fail(PA_EINVAL, "--partition: \"%s\" is not one of the task's %zu partitions; give \"state\" "
                                "or one that `privagg task show` lists", zPartition, t->nPartition);
    co.ca_file = pa_cli_value(o, n, "--ca");
    if (rc == PA_OK)
        rc = pa_http_client_new(&c, &co);
    if (rc == PA_OK) {
        fprintf(stderr, "collect: waiting for %s/%s to be aggregated and released...\n",
                pa_cli_value(o, n, "--period"), zPartition);
        rc = pa_client_collect(c, t, &k, pa_cli_value(o, n, "--period"), zPartition, (unsigned)nTimeout, &coll);
    }
    int bJson = pa_cli_seen(o, n, "--json");
    char *zMem = NULL;
    size_t nMem = 0;
    if (rc == PA_OK && pa_cli_value(o, n, "--out") && (f = fopen(pa_cli_value(o, n, "--out"), "w")) == NULL)
        rc = pa_fail(PA_EIO, "%s: cannot create", pa_cli_value(o, n, "--out"));
    /* --json without --out: the result goes inside the JSON answer */
    if (rc == PA_OK && bJson && f == stdout && (f = open_memstream(&zMem, &nMem)) == NULL)
        rc = pa_fail(PA_ENOMEM, "collect: out of memory");
    if (rc == PA_OK) {
        int bNoise;
        pa_dp_mechanism mech;
        pa_dp_sensitivity sens;
        double sigma2 = 0;
        rc = pa_task_noise(t, pa_task_level_of(coll.zPartition), &bNoise, &mech, &sens, &sigma2);
        if (rc == PA_OK)
            rc = pa_collection_write_json(t, &coll, bNoise ? sigma2 : 0, f);
    }
    if (f != stdout && f != NULL)
        fclose(f);
    if (rc == PA_OK && t->eMechanism == PA_TASK_DP_NONE)
        fprintf(stderr, "collect: WARNING: no privacy protection: dp.mechanism is none; these are "
                        "exact totals\n");
    if (rc == PA_OK)
        fprintf(stderr, "collect: %s/%s released: %llu agencies, %llu reports, %llu rejected\n",
                coll.zPeriod, coll.zPartition, (unsigned long long)coll.nAgency,
                (unsigned long long)coll.nReport, (unsigned long long)coll.nRejected);
    else
        pa_cli_report("collect", rc);
    int iExit = rc == PA_OK ? 0 : rc == PA_EBUSY ? 3 : pa_status_is_transient(rc) ? 4 : 1;
    if (bJson) {
        static const char *const azStatus[] = {"released", "refused", "error", "pending", "unreachable"};
        json_t *pOut = json_pack("{s:s, s:s, s:s, s:i}", "status", azStatus[iExit], "period",
                                 pa_cli_value(o, n, "--period"), "partition", zPartition, "exit", iExit);
        if (rc == PA_OK) {
            json_object_set_new(pOut, "agencies", json_integer((json_int_t)coll.nAgency));
            json_object_set_new(pOut, "reports", json_integer((json_int_t)coll.nReport));
            json_object_set_new(pOut, "rejected", json_integer((json_int_t)coll.nRejected));
            json_object_set_new(pOut, "out", pa_cli_value(o, n, "--out") ? json_string(pa_cli_value(o, n, "--out"))
                                                                          : json_null());
            if (zMem != NULL)
                json_object_set_new(pOut, "collection", json_loadb(zMem, nMem, 0, NULL));
        } else {
            json_object_set_new(pOut, "error", json_string(pa_error_detail()[0] ? pa_error_detail() : pa_strerror(rc)));
        }
        char *z = json_dumps(pOut, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        if (z != NULL)
            printf("%s\n", z);
        free(z);
        json_decref(pOut);
    }
    free(zMem);
    pa_collection_free(&coll);
    pa_http_client_free(&c);
    pa_keys_wipe(&k);
    pa_task_free(t);
    return iExit;
}
