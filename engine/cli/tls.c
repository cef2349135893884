/*
 * privagg tls — a self-signed TLS certificate and its key for an aggregator
 * (thin over pa_http_make_self_signed in engine/http), for deployments without
 * a PKI of the state's, and for tests.  The certificate is its own trust
 * anchor: the leader's peer_ca and the agencies' and collector's --ca name it.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/http.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg tls --cert CERT.pem --key KEY.pem [--name DNS-NAME]\n"
            "\n"
            "Writes a new self-signed ECDSA P-256 certificate, valid for one year, for\n"
            "DNS-NAME (default localhost) and for localhost, 127.0.0.1 and ::1, and its\n"
            "private key (mode 0600).  Neither file may exist.  The certificate is its\n"
            "own trust anchor: give it to the parties that connect to this server\n"
            "(the leader's peer_ca for the helper; --ca of submit and collect for the\n"
            "leader).  Renew it before it expires: write a new pair, put both the old\n"
            "and the new certificate in the clients' trust file, move the new pair over\n"
            "the config's tls.cert and tls.key, and send the server SIGHUP (systemctl\n"
            "reload); see docs/operations.md.  With a PKI of the state's, use its\n"
            "certificates instead: tls.cert may hold the chain (up to 8 certificates).\n"
            "  --cert FILE   the certificate (PEM), written 0644\n"
            "  --key FILE    its private key (PEM), written 0600\n"
            "  --name NAME   the server's DNS name, 1..64 characters (default localhost)\n"
            "\n"
            "exit status:\n"
            "  0  both files written\n"
            "  1  not written (a file exists, a folder is missing, a bad name)\n"
            "  2  bad usage\n"
            "\n"
            "example:\n"
            "  privagg tls --cert /etc/privagg/helper/tls.crt --key /etc/privagg/helper/tls.key \\\n"
            "              --name helper.example.edu\n");
}

int pa_cli_tls(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--cert", 0, NULL, 0, NULL}, {"--key", 0, NULL, 0, NULL}, {"--name", 0, NULL, 0, NULL},
                      {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (pa_cli_value(o, n, "--cert") == NULL || pa_cli_value(o, n, "--key") == NULL) {
        fprintf(stderr, "privagg tls: --cert and --key are required\n");
        return 2;
    }
    rc = pa_http_make_self_signed(pa_cli_value(o, n, "--cert"), pa_cli_value(o, n, "--key"),
                                  pa_cli_value(o, n, "--name"));
    if (rc != PA_OK) {
        pa_cli_report("tls", rc);
        return 1;
    }
    printf("%s\n%s\n", pa_cli_value(o, n, "--cert"), pa_cli_value(o, n, "--key"));
    return 0;
}
