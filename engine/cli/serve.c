/*
 * privagg serve — run the leader or the helper (thin over engine/node), as a
 * service: "listening <url>" on standard output and READY=1 to systemd
 * (sd_notify, Type=notify) once the store is open and the socket listens;
 * SIGHUP reopens the log_file and reloads the TLS certificate; SIGTERM or
 * SIGINT stop gracefully.  The signals are blocked in every thread and taken
 * by the main thread in sigsuspend, so none is lost between two checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "privagg/common.h"
#include "privagg/node.h"

#ifdef PA_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#else
static int sd_notify(int bUnset, const char *zState)
{
    (void)bUnset;
    (void)zState;
    return 0;
}
#endif

static volatile sig_atomic_t g_stop, g_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

/* Standard error to the config's log_file (appended, created 0640, never through
 * a symbolic link); on failure the old standard error stays and says why. */
static void open_log(const char *zPath)
{
    int fd;
    if (zPath[0] == '\0')
        return;
    fd = open(zPath, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "privagg serve: log_file %s: %s (logging to standard error)\n", zPath,
                strerror(errno));
        return;
    }
    fflush(stderr);
    if (fd != 2) {
        dup2(fd, 2);
        close(fd);
    }
}

/* SIGHUP: a new log file (after logrotate moved the old one), a new certificate,
 * a longer agency registry. */
static void reload(pa_node *pNode)
{
    size_t nEntries;
    int rc;
    sd_notify(0, "RELOADING=1");
    open_log(pa_node_log_file(pNode));
    rc = pa_node_reload_registry(pNode, &nEntries);
    if (rc == PA_OK)
        fprintf(stderr, "privagg serve: SIGHUP: agency registry reloaded, %zu entries verified\n", nEntries);
    else if (rc != PA_ENOTFOUND)
        fprintf(stderr, "privagg serve: SIGHUP: agency registry kept: %s: %s\n", pa_strerror(rc),
                pa_error_detail());
    rc = pa_node_reload_tls(pNode);
    if (rc == PA_OK)
        fprintf(stderr, "privagg serve: SIGHUP: log reopened, TLS certificate reloaded\n");
    else
        fprintf(stderr, "privagg serve: SIGHUP: log reopened; TLS certificate kept: %s: %s\n",
                pa_strerror(rc), pa_error_detail());
    sd_notify(0, "READY=1");
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
            "SIGHUP reopens the log_file, re-reads the agency registry (config key\n"
            "registry; kept when the new file does not verify or does not extend it)\n"
            "and reloads the TLS certificate and key\n"
            "(new connections get the new pair; a pair that does not load, or whose\n"
            "key is not the certificate's, is refused and the old one kept).\n"
            "FILE is the aggregator's private config (JSON, mode 0600): role, task,\n"
            "private_key, store, listen {address, port}, tls {cert, key} (or\n"
            "\"insecure_http\": true for loopback tests only), peer_ca and\n"
            "collector_token (leader), log_file, registry (the agency registry\n"
            "a task with parties.registry names).  Every key: docs/operations.md.\n"
            "--tls-cert/--tls-key override the config's certificate; --insecure-http\n"
            "serves plain HTTP (refused unless the listen address is loopback).\n"
            "A task with dp.mechanism \"none\" releases exact totals: it is refused\n"
            "unless --insecure-no-privacy is given (tests only), and then every\n"
            "answer carries \"Privagg-Warning: no privacy protection\".\n"
            "Once the store is open and the socket listens it prints \"listening <url>\"\n"
            "(e.g. \"listening https://127.0.0.1:8441\") on standard output and tells\n"
            "systemd READY=1 (Type=notify units: share/privagg/systemd/).\n"
            "\n"
            "exit status:\n"
            "  0  stopped by SIGTERM or SIGINT\n"
            "  1  could not start (config, task, keys, store, address in use)\n"
            "  2  bad usage, or command-line overrides the config refuses\n"
            "\n"
            "example:\n"
            "  privagg serve --config leader.json\n");
}

int pa_cli_serve(int argc, char **argv)
{
    pa_cli_opt o[] = {{"--config", 0, NULL, 0, NULL},   {"--role", 0, NULL, 0, NULL},         {"--tls-cert", 0, NULL, 0, NULL},
                      {"--tls-key", 0, NULL, 0, NULL}, {"--insecure-http", 1, NULL, 0, NULL}, {"--insecure-no-privacy", 1, NULL, 0, NULL},
                      {"--help", 1, NULL, 0, NULL}};
    size_t n = sizeof o / sizeof o[0];
    pa_node *pNode;
    struct sigaction sa;
    sigset_t mask, orig;
    char zUrl[300], zStatus[400];
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
    /* the store, its -wal and -shm hold report shares: created 0600 */
    umask(077);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    /* blocked in every thread the node starts; taken in sigsuspend below */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, &orig);
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
    open_log(pa_node_log_file(pNode));
    rc = pa_node_start(pNode);
    if (rc != PA_OK) {
        pa_cli_report("serve", rc);
        pa_node_close(pNode);
        return 1;
    }
    if (pa_node_url(pNode, zUrl, sizeof zUrl) != PA_OK)
        snprintf(zUrl, sizeof zUrl, "port %u", (unsigned)pa_node_port(pNode));
    printf("listening %s\n", zUrl);
    fflush(stdout);
    fprintf(stderr, "privagg serve: listening %s (worker %s)\n", zUrl, pa_node_worker_id(pNode));
    snprintf(zStatus, sizeof zStatus, "READY=1\nSTATUS=listening %s", zUrl);
    sd_notify(0, zStatus);
    while (!g_stop) {
        sigsuspend(&orig);
        if (g_hup && !g_stop) {
            g_hup = 0;
            reload(pNode);
        }
    }
    sd_notify(0, "STOPPING=1");
    fprintf(stderr, "privagg serve: stopping (finishing in-flight requests)\n");
    pa_node_close(pNode);
    return 0;
}
