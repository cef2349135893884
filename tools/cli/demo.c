/*
 * privagg demo — the README's main command (thin over tools/demo).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/store.h"
#include "privagg/demo.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg demo [--agencies N] [--months M] [--out DIR] [--keep] [--setup-only]\n"
            "                    [--data DIR] [--clients N] [--release state|all]\n"
            "                    [--min-agencies N] [--budget-rho B] [--rho-state R1]\n"
            "                    [--rho-partition R2] [--leader-store STORE --helper-store STORE]\n"
            "                    [--agencies-in-task]\n"
            "\n"
            "Runs the whole system on this machine: keys of the aggregators and the\n"
            "collector; each agency's own key pair in its folder agencies/<ORI>/ (as\n"
            "keygen --role agency does at the agency), the state's agency registry\n"
            "enrolling their public keys (registry.json, docs/registry.md); the Missouri\n"
            "task naming the registry (27 offense buckets x 5 statuses x 2 roles); a\n"
            "leader and a helper, each holding the registry, as separate processes\n"
            "over HTTPS on 127.0.0.1; every agency submitting one month of synthetic\n"
            "counts signed with its own key; aggregation and the statewide release; prints\n"
            "the noised table next to the true synthetic totals with each cell's error.\n"
            "  --agencies N   the first N agencies of mo_le_agencies.csv (default 646)\n"
            "  --months M     M months ending with the last full month (default 1)\n"
            "  --release all  every month, release the statewide batch and every\n"
            "                 partition, then print a year summary (releases, latency,\n"
            "                 privacy spent in each aggregator's ledger, noise per level);\n"
            "                 --release state (the default) releases the statewide batch\n"
            "  --out DIR      write everything into DIR (default: a new /tmp/privagg-demo-*)\n"
            "  --min-agencies N, --budget-rho B, --rho-state R1, --rho-partition R2\n"
            "                 the task's policy, as for `privagg task init` (defaults 10,\n"
            "                 1, 0.5, 0.5): counties with fewer than N agencies are\n"
            "                 grouped into regions\n"
            "  --data DIR     the shipped data (default: the installed share/privagg/data,\n"
            "                 found from the executable; see privagg task --help)\n"
            "  --keep         leave the servers running at the end\n"
            "  --leader-store STORE, --helper-store STORE\n"
            "                 the servers' stores (an absolute path, or a postgresql:// URL\n"
            "                 of an existing database: docs/operations.md); default\n"
            "                 leader.db and helper.db in the deployment folder\n"
            "  --setup-only   only write the deployment folder (keys, registry, task, TLS,\n"
            "                 configs); with --leader-port/--helper-port for the servers' ports\n"
            "  --agencies-in-task\n"
            "                 the older task form instead of the registry: every agency's\n"
            "                 key pair made here (keys/agencies/<ORI>.key) and listed in the\n"
            "                 task, whose id changes with every enrollment (docs/task-file.md)\n"
            "\n"
            "exit status:\n"
            "  0  the demo ran (or --setup-only wrote its folder) and its audit passed\n"
            "  1  a step failed (the message names it)\n"
            "  2  bad usage\n"
            "\n"
            "example:\n"
            "  privagg demo --agencies 646 --months 1 --out demo-out\n"
            "  privagg demo --months 12 --release all\n");
}

int pa_cli_demo(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--agencies", 0, NULL, 0, NULL},  {"--months", 0, NULL, 0, NULL},      {"--out", 0, NULL, 0, NULL},
                      {"--keep", 1, NULL, 0, NULL},      {"--setup-only", 1, NULL, 0, NULL},  {"--data", 0, NULL, 0, NULL},
                      {"--clients", 0, NULL, 0, NULL},   {"--leader-port", 0, NULL, 0, NULL}, {"--helper-port", 0, NULL, 0, NULL},
                      {"--release", 0, NULL, 0, NULL},  {"--min-agencies", 0, NULL, 0, NULL},
                      {"--budget-rho", 0, NULL, 0, NULL}, {"--rho-state", 0, NULL, 0, NULL},
                      {"--rho-partition", 0, NULL, 0, NULL}, {"--leader-store", 0, NULL, 0, NULL},
                      {"--helper-store", 0, NULL, 0, NULL}, {"--agencies-in-task", 1, NULL, 0, NULL},
                      {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    unsigned long long v;
    char zDir[] = "/tmp/privagg-demo-XXXXXX", zData[PATH_MAX + 16], zExe[PATH_MAX];
    pa_demo_opts d;
    ssize_t k;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    memset(&d, 0, sizeof d);
    d.setup.nMinAgencies = 10;
    d.setup.rBudgetRho = 1.0;
    d.setup.rRhoState = 0.5;
    d.setup.rRhoPartition = 0.5;
    d.nMonths = 1;
    d.nClients = 16;
    d.bKeep = pa_cli_seen(o, n, "--keep");
    d.setup.bAgenciesInTask = pa_cli_seen(o, n, "--agencies-in-task");
    if (pa_cli_value(o, n, "--agencies")) {
        if (pa_cli_uint("demo", "--agencies", pa_cli_value(o, n, "--agencies"), 2, 100000, &v))
            return 2;
        d.setup.nAgencies = (size_t)v;
    }
    if (pa_cli_value(o, n, "--months")) {
        if (pa_cli_uint("demo", "--months", pa_cli_value(o, n, "--months"), 1, 12, &v))
            return 2;
        d.nMonths = (size_t)v;
    }
    if (pa_cli_value(o, n, "--min-agencies")) {
        if (pa_cli_uint("demo", "--min-agencies", pa_cli_value(o, n, "--min-agencies"), 1, 100000, &v))
            return 2;
        d.setup.nMinAgencies = (size_t)v;
    }
    if ((pa_cli_value(o, n, "--budget-rho") &&
         pa_cli_real("demo", "--budget-rho", pa_cli_value(o, n, "--budget-rho"), 1e-9, 1000,
                     &d.setup.rBudgetRho)) ||
        (pa_cli_value(o, n, "--rho-state") &&
         pa_cli_real("demo", "--rho-state", pa_cli_value(o, n, "--rho-state"), 1e-9, 100,
                     &d.setup.rRhoState)) ||
        (pa_cli_value(o, n, "--rho-partition") &&
         pa_cli_real("demo", "--rho-partition", pa_cli_value(o, n, "--rho-partition"), 1e-9, 100,
                     &d.setup.rRhoPartition)))
        return 2;
    if (pa_cli_value(o, n, "--release")) {
        const char *z = pa_cli_value(o, n, "--release");
        if (strcmp(z, "all") != 0 && strcmp(z, "state") != 0) {
            fprintf(stderr, "privagg demo: --release %s: expected state or all\n", z);
            return 2;
        }
        d.bReleaseAll = strcmp(z, "all") == 0;
    }
    if (pa_cli_value(o, n, "--clients")) {
        if (pa_cli_uint("demo", "--clients", pa_cli_value(o, n, "--clients"), 1, 64, &v))
            return 2;
        d.nClients = (unsigned)v;
    }
    v = 0;
    if (pa_cli_value(o, n, "--leader-port") &&
        pa_cli_uint("demo", "--leader-port", pa_cli_value(o, n, "--leader-port"), 1, 65535, &v))
        return 2;
    d.setup.nLeaderPort = v ? (uint16_t)v : pa_demo_free_port();
    v = 0;
    if (pa_cli_value(o, n, "--helper-port") &&
        pa_cli_uint("demo", "--helper-port", pa_cli_value(o, n, "--helper-port"), 1, 65535, &v))
        return 2;
    d.setup.nHelperPort = v ? (uint16_t)v : pa_demo_free_port();
    if (d.setup.nLeaderPort == d.setup.nHelperPort)
        d.setup.nHelperPort = pa_demo_free_port();
    d.setup.zLeaderStore = pa_cli_value(o, n, "--leader-store");
    d.setup.zHelperStore = pa_cli_value(o, n, "--helper-store");
    if ((d.setup.zLeaderStore != NULL) != (d.setup.zHelperStore != NULL) ||
        (d.setup.zLeaderStore != NULL && strcmp(d.setup.zLeaderStore, d.setup.zHelperStore) == 0)) {
        fprintf(stderr, "privagg demo: --leader-store and --helper-store go together, and differ\n");
        return 2;
    }
    for (int i = 0; i < 2; i++) {
        const char *z = i ? d.setup.zHelperStore : d.setup.zLeaderStore;
        if (z != NULL && z[0] != '/' && !pa_store_is_postgres(z)) {
            fprintf(stderr, "privagg demo: --%s-store %s: give an absolute path or a postgresql:// URL\n",
                    i ? "helper" : "leader", z);
            return 2;
        }
    }
    d.setup.zDataDir = pa_cli_data_dir(pa_cli_value(o, n, "--data"), zData, sizeof zData);
    if (pa_cli_value(o, n, "--out"))
        d.setup.zDir = pa_cli_value(o, n, "--out");
    else if ((d.setup.zDir = mkdtemp(zDir)) == NULL) {
        fprintf(stderr, "privagg demo: cannot create a folder in /tmp\n");
        return 1;
    }
    if (pa_cli_seen(o, n, "--setup-only")) {
        rc = pa_demo_setup(&d.setup);
        if (rc != PA_OK) {
            pa_cli_report("demo", rc);
            return 1;
        }
        printf("%s\n", d.setup.zDir);
        return 0;
    }
    k = readlink("/proc/self/exe", zExe, sizeof zExe - 1);
    if (k <= 0) {
        fprintf(stderr, "privagg demo: cannot find the privagg executable\n");
        return 1;
    }
    zExe[k] = '\0';
    d.zExe = zExe;
    rc = pa_demo_run(&d);
    if (rc != PA_OK) {
        pa_cli_report("demo", rc);
        return 1;
    }
    return 0;
}
