/*
 * privagg — entry point: dispatches to one subcommand per file in engine/cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "privagg/common.h"

struct subcommand {
    const char *zName;
    int (*xRun)(int argc, char **argv);
    const char *zSummary;
};

static const struct subcommand g_commands[] = {
    {"conformance", pa_cli_conformance, "replay official VDAF / HPKE test vectors"},
    {"dp", pa_cli_dp, "differential-privacy conversions, calibration and sampling"},
    {"ledger", pa_cli_ledger, "export or verify an aggregator's privacy ledger"},
    {"store", pa_cli_store, "an aggregator's store: sizes, rows by state, oldest unreleased batch"},
    {"status", pa_cli_status, "an aggregator's batches, collections, budget per cell, peer and store"},
    {"keygen", pa_cli_keygen, "create a party's key files; stage, promote and retire HPKE keys; rotate and install tokens"},
    {"registry", pa_cli_registry, "the agency registry: enroll, revoke or re-key agencies from a month"},
    {"task", pa_cli_task, "create the default task of a state, or show a task"},
    {"serve", pa_cli_serve, "run the leader or the helper aggregator over HTTPS"},
    {"tls", pa_cli_tls, "write a self-signed TLS certificate and key for an aggregator"},
    {"submit", pa_cli_submit, "an agency: send one month of counts as a Prio3 report"},
    {"collect", pa_cli_collect, "the collector: fetch and open a batch's noised totals"},
    {"publish", pa_cli_publish, "the statistician: tables, report.html and a signed manifest"},
    {"audit", pa_cli_audit, "the privacy reviewer: check manifests against the task and both ledgers"},
    {"synth", pa_cli_synth, "write a month of synthetic incident exports and their true counts"},
    {"demo", pa_cli_demo, "the whole system on this machine: keys, task, servers, 646 agencies"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg <command> [options]\n"
            "\n"
            "privagg computes differentially private statistics from Prio3 secret\n"
            "shares: no aggregator sees one agency's counts.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
        fprintf(out, "  %-12s %s\n", g_commands[i].zName, g_commands[i].zSummary);
    fprintf(out,
            "\n"
            "Run 'privagg <command> --help' for a command's options and exit status.\n"
            "\n"
            "exit status:\n"
            "  0  done; 2 an unknown command or bad usage; each command lists its own\n"
            "\n"
            "example:\n"
            "  privagg conformance vdaf tests/vectors/vdaf\n");
}

void pa_cli_report(const char *what, int code)
{
    const char *detail = pa_error_detail();
    if (detail[0] != '\0')
        fprintf(stderr, "privagg: %s: %s: %s\n", what, pa_strerror(code), detail);
    else
        fprintf(stderr, "privagg: %s: %s\n", what, pa_strerror(code));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("privagg 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++) {
        if (strcmp(argv[1], g_commands[i].zName) == 0)
            return g_commands[i].xRun(argc - 1, argv + 1);
    }
    fprintf(stderr, "privagg: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
