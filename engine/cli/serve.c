/*
 * privagg serve — run the leader or the helper (thin over engine/node).
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/node.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: privagg serve --config FILE [--role leader|helper]\n"
            "                     [--tls-cert CERT.pem --tls-key KEY.pem | --insecure-http]\n"
            "                     [--insecure-no-privacy]\n"
            "\n"
            "Runs an aggregator over HTTPS until SIGTERM or SIGINT, then stops\n"
            "gracefully: no new requests, in-flight ones finish, nothing is lost.\n"
            "FILE is the aggregator's private config (JSON, mode 0600): role, task,\n"
            "private_key, store, listen {address, port}, tls {cert, key} (or\n"
            "\"insecure_http\": true for loopback tests only), peer_ca and\n"
            "collector_token (leader).  See docs/http.md and docs/engine.md.\n"
            "--tls-cert/--tls-key override the config's certificate; --insecure-http\n"
            "serves plain HTTP (refused unless the listen address is loopback).\n"
            "A task with dp.mechanism \"none\" releases exact totals: it is refused\n"
            "unless --insecure-no-privacy is given (tests only), and then every\n"
            "answer carries \"Privagg-Warning: no privacy protection\".\n"
            "Prints \"listening <url>\" on standard output once ready.\n"
            "\n"
            "example:\n"
            "  privagg serve --config leader.json\n");
}

int pa_cli_serve(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--config", 0, NULL, 0},   {"--role", 0, NULL, 0},         {"--tls-cert", 0, NULL, 0},
                      {"--tls-key", 0, NULL, 0}, {"--insecure-http", 1, NULL, 0}, {"--insecure-no-privacy", 1, NULL, 0},
                      {"--help", 1, NULL, 0}};
    size_t n = sizeof o / sizeof o[0];
    pa_node *pNode;
    struct sigaction sa;
    int rc;

    if ((rc = pa_cli_begin(argc, argv, o, n, usage)) >= 0)
        return rc;
    if (pa_cli_value(o, n, "--config") == NULL) {
        fprintf(stderr, "privagg serve: --config FILE is required\n");
        return 2;
    }
    /* every upload allocates ~80-150 KB buffers on its connection's thread: keep
     * them in the heap (no mmap/munmap and page faults per request) and do not
     * trim the per-thread heaps after each one */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    rc = pa_node_open(&pNode, pa_cli_value(o, n, "--config"));
    if (rc != PA_OK) {
        pa_cli_report("serve", rc);
        return 1;
    }
    rc = pa_node_override(pNode, pa_cli_value(o, n, "--role"), pa_cli_value(o, n, "--tls-cert"),
                          pa_cli_value(o, n, "--tls-key"), pa_cli_seen(o, n, "--insecure-http"));
    if (rc != PA_OK) {
        pa_cli_report("serve", rc);
        pa_node_close(pNode);
        return 2;
    }
    if (pa_cli_seen(o, n, "--insecure-no-privacy"))
        pa_node_allow_no_privacy(pNode);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = pa_node_start(pNode);
    if (rc != PA_OK) {
        pa_cli_report("serve", rc);
        pa_node_close(pNode);
        return 1;
    }
    printf("listening port %u\n", (unsigned)pa_node_port(pNode));
    fflush(stdout);
    while (!g_stop)
        pause();
    fprintf(stderr, "privagg serve: stopping (finishing in-flight requests)\n");
    pa_node_close(pNode);
    return 0;
}
