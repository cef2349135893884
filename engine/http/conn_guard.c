/*
 * The connection guard of the HTTP server: what keeps slow and abusive clients
 * from taking every connection (slowloris and its kin).  libmicrohttpd 0.9.75
 * only offers an idle timeout, which a client defeats by sending one byte every
 * few seconds, and a hard connection limit, past which it stops accepting — so
 * 500 such sockets used to lock every agency out.  The guard keeps a table of
 * the open connections (fed by libmicrohttpd's connection notifications and by
 * the request callbacks) and enforces, from a thread of its own:
 *
 *   - a header deadline: a new connection must complete its TLS handshake and
 *     its request headers within header_timeout_s;
 *   - a body deadline: once the headers are in, the body must arrive within
 *     body_timeout_s plus one second per PA_HTTP_BODY_MIN_RATE bytes declared;
 *   - an idle deadline between requests on a kept-alive connection;
 *   - a per-address limit, checked when a connection is accepted;
 *   - a budget below the hard limit: past it, every new arrival (and the thread,
 *     each tick) drops the connection that has waited longest for its headers
 *     or sat idle longest, so a new client always finds room while the slow
 *     ones are the ones that pay.  A connection whose request is being handled
 *     or answered is never dropped by the budget;
 *   - a reconnect penalty (http_internal.h, PA_HTTP_PENALTY_*): each eviction of
 *     a connection that never completed its request is a strike against its
 *     address; a burst of strikes has the address's new connections refused at
 *     accept, before the TLS handshake that is the costly part of a reconnect
 *     storm, for 1 s, then 2, 4, ... up to 30 s while it goes on.  The burst
 *     (8 evictions, draining 8 per 10 s) is what one slow client with its few
 *     connections cannot reach, so the agencies that share its address (a NAT)
 *     are not locked out by it; connections already open are never touched.
 *
 * A connection is dropped by shutdown(2) on its socket under the table's lock;
 * libmicrohttpd reports the close (and removes the entry) before it closes the
 * descriptor, so a descriptor number is never shut down after reuse.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_internal.h"
#include "privagg/common.h"

struct pa_conn {
    struct pa_conn *pPrev, *pNext;
    struct pa_tls_creds *pCreds; /* the server's TLS pair (read by the handshake) */
    int fd;
    int ePhase;
    double tDeadline;  /* monotonic seconds; 0 = none */
    double tSince;     /* start of the current phase (eviction order) */
    int bShut;         /* shutdown issued, waiting for libmicrohttpd's close */
    int nAddr;         /* 4 or 16, 0 = unknown family */
    unsigned char aAddr[16];
};

/* An address with strikes (the reconnect penalty). */
typedef struct {
    unsigned char aAddr[16];
    int nAddr;
    double rStrikes;    /* the leaky bucket: drains PA_HTTP_PENALTY_STRIKES per PA_HTTP_PENALTY_DRAIN_S */
    double tStrike;     /* the last strike (the bucket is up to date then) */
    double tUntil;      /* new connections refused until then (monotonic s) */
    unsigned nLevel;    /* penalties in this episode: the next lasts BASE << nLevel */
} pa_penalty;

struct pa_conn_guard {
    pa_conn_limits lim;
    unsigned nSoft;    /* the budget: above it the oldest waiting connection goes */
    bool bLog;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t reaper;
    int bReaper, bStop;
    pa_conn *pHead;
    unsigned nOpen, nShut;
    /* since the last log line */
    unsigned long nDropHeader, nDropBody, nDropIdle, nDropBudget, nRefusedAddr, nRefusedPenalty;
    double tLastLog;
    pa_penalty aPenalty[PA_HTTP_PENALTY_TABLE];
    unsigned nPenalty;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int addr_key(const struct sockaddr *pAddr, unsigned char *a)
{
    if (pAddr == NULL)
        return 0;
    if (pAddr->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)pAddr)->sin_addr, 4);
        return 4;
    }
    if (pAddr->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)pAddr)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

bool pa_http_addr_is_loopback(const struct sockaddr *pAddr)
{
    static const unsigned char aLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    unsigned char a[16];
    int n = addr_key(pAddr, a);
    if (n == 4)
        return a[0] == 127;
    if (n == 16)
        return memcmp(a, aLoop6, 16) == 0 ||
               (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 && a[12] == 127);
    return false;
}

void pa_http_addr_format(const struct sockaddr *pAddr, char *z, size_t nz)
{
    unsigned char a[16];
    int n = addr_key(pAddr, a);
    if (n == 0 || inet_ntop(n == 4 ? AF_INET : AF_INET6, a, z, (socklen_t)nz) == NULL)
        snprintf(z, nz, "?");
}

/* Shut a connection down (lock held); its thread sees EOF and closes it. */
static void drop(pa_conn_guard *g, pa_conn *c, unsigned long *pnCount)
{
    if (c->bShut)
        return;
    shutdown(c->fd, SHUT_RDWR);
    c->bShut = 1;
    g->nShut++;
    (*pnCount)++;
}

/* The penalty record of an address (NULL: none). */
static pa_penalty *penalty_find(pa_conn_guard *g, const unsigned char *a, int nAddr)
{
    for (unsigned i = 0; i < g->nPenalty; i++)
        if (g->aPenalty[i].nAddr == nAddr && memcmp(g->aPenalty[i].aAddr, a, (size_t)nAddr) == 0)
            return &g->aPenalty[i];
    return NULL;
}

/* Forget the addresses quiet for PA_HTTP_PENALTY_FORGET_S (their episode is over). */
static void penalty_forget(pa_conn_guard *g, double tNow)
{
    for (unsigned i = 0; i < g->nPenalty;)
        if (tNow >= g->aPenalty[i].tUntil && tNow - g->aPenalty[i].tStrike > PA_HTTP_PENALTY_FORGET_S)
            g->aPenalty[i] = g->aPenalty[--g->nPenalty];
        else
            i++;
}

/* A connection of c's address was evicted before it completed a request (lock
 * held): a strike, and a penalty when the strikes come in a burst. */
static void strike(pa_conn_guard *g, const pa_conn *c, double tNow)
{
    if (c->nAddr == 0)
        return;
    pa_penalty *p = penalty_find(g, c->aAddr, c->nAddr);
    if (p == NULL) {
        if (g->nPenalty == PA_HTTP_PENALTY_TABLE) {
            /* full: the address struck longest ago makes room (never one under a penalty) */
            pa_penalty *pOld = NULL;
            for (unsigned i = 0; i < g->nPenalty; i++)
                if (tNow >= g->aPenalty[i].tUntil && (pOld == NULL || g->aPenalty[i].tStrike < pOld->tStrike))
                    pOld = &g->aPenalty[i];
            if (pOld == NULL)
                return;
            *pOld = g->aPenalty[--g->nPenalty];
        }
        p = &g->aPenalty[g->nPenalty++];
        memset(p, 0, sizeof *p);
        memcpy(p->aAddr, c->aAddr, (size_t)c->nAddr);
        p->nAddr = c->nAddr;
        p->tStrike = tNow;
    }
    p->rStrikes -= (tNow - p->tStrike) * (PA_HTTP_PENALTY_STRIKES / PA_HTTP_PENALTY_DRAIN_S);
    if (p->rStrikes < 0)
        p->rStrikes = 0;
    p->rStrikes += 1;
    p->tStrike = tNow;
    if (p->rStrikes < PA_HTTP_PENALTY_STRIKES || tNow < p->tUntil)
        return;
    double rDelay = PA_HTTP_PENALTY_BASE_S * (double)(1u << (p->nLevel < 16 ? p->nLevel : 16));
    p->tUntil = tNow + (rDelay < PA_HTTP_PENALTY_MAX_S ? rDelay : PA_HTTP_PENALTY_MAX_S);
    p->rStrikes = 0;
    if (p->nLevel++ == 0) {
        /* one line per episode, never per connection */
        char zAddr[INET6_ADDRSTRLEN];
        if (inet_ntop(c->nAddr == 4 ? AF_INET : AF_INET6, c->aAddr, zAddr, sizeof zAddr) == NULL)
            snprintf(zAddr, sizeof zAddr, "?");
        if (g->bLog)
            fprintf(stderr,
                    "privagg: http: connection guard: %s had %.0f connections evicted before completing a "
                    "request; its new connections are refused for %.0f s, doubling while it goes on (at most "
                    "%.0f s; forgotten after %.0f s quiet); its open connections and other addresses are not "
                    "affected\n",
                    zAddr, PA_HTTP_PENALTY_STRIKES, PA_HTTP_PENALTY_BASE_S, PA_HTTP_PENALTY_MAX_S,
                    PA_HTTP_PENALTY_FORGET_S);
        pa_metrics_inc("privagg_http_reconnect_penalties_total", NULL, 1);
    }
}

/* The connection that has waited longest for a request (headers or idle). */
static pa_conn *oldest_waiting(pa_conn_guard *g)
{
    pa_conn *pBest = NULL;
    for (pa_conn *c = g->pHead; c; c = c->pNext)
        if (!c->bShut && (c->ePhase == PA_CONN_HEADERS || c->ePhase == PA_CONN_IDLE) &&
            (pBest == NULL || c->tSince < pBest->tSince))
            pBest = c;
    return pBest;
}

static void log_summary(pa_conn_guard *g, double tNow)
{
    if (tNow - g->tLastLog < 10.0)
        return;
    if (g->bLog &&
        (g->nDropHeader || g->nDropBody || g->nDropIdle || g->nDropBudget || g->nRefusedAddr || g->nRefusedPenalty))
        fprintf(stderr,
                "privagg: http: connection guard: dropped %lu past the header deadline, %lu past "
                "the body deadline, %lu idle, %lu over the budget of %u; refused %lu over %u per "
                "address, %lu under a reconnect penalty (last %.0f s, %u open, %u addresses with strikes)\n",
                g->nDropHeader, g->nDropBody, g->nDropIdle, g->nDropBudget, g->nSoft, g->nRefusedAddr,
                g->lim.max_per_address, g->nRefusedPenalty, tNow - g->tLastLog, g->nOpen - g->nShut, g->nPenalty);
    g->nDropHeader = g->nDropBody = g->nDropIdle = g->nDropBudget = g->nRefusedAddr = g->nRefusedPenalty = 0;
    g->tLastLog = tNow;
}

static void enforce(pa_conn_guard *g, double tNow)
{
    unsigned long nHeader = 0, nBody = 0, nIdle = 0, nBudget = 0;
    for (pa_conn *c = g->pHead; c; c = c->pNext) {
        if (c->bShut || c->tDeadline == 0 || tNow < c->tDeadline)
            continue;
        if (c->ePhase != PA_CONN_IDLE)
            strike(g, c, tNow);
        drop(g, c, c->ePhase == PA_CONN_HEADERS ? &nHeader : c->ePhase == PA_CONN_BODY ? &nBody : &nIdle);
    }
    while (g->nOpen - g->nShut > g->nSoft) {
        pa_conn *c = oldest_waiting(g);
        if (c == NULL)
            break;
        if (c->ePhase == PA_CONN_HEADERS)
            strike(g, c, tNow);
        drop(g, c, &nBudget);
    }
    penalty_forget(g, tNow);
    g->nDropHeader += nHeader;
    g->nDropBody += nBody;
    g->nDropIdle += nIdle;
    g->nDropBudget += nBudget;
    if (nHeader)
        pa_metrics_inc("privagg_http_connections_dropped_total", "reason=\"header-deadline\"", nHeader);
    if (nBody)
        pa_metrics_inc("privagg_http_connections_dropped_total", "reason=\"body-deadline\"", nBody);
    if (nIdle)
        pa_metrics_inc("privagg_http_connections_dropped_total", "reason=\"idle\"", nIdle);
    if (nBudget)
        pa_metrics_inc("privagg_http_connections_dropped_total", "reason=\"budget\"", nBudget);
}

static void *reaper(void *p)
{
    pa_conn_guard *g = p;
    pthread_mutex_lock(&g->lock);
    while (!g->bStop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
        double tNow = mono_s();
        enforce(g, tNow);
        log_summary(g, tNow);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int pa_conn_guard_new(pa_conn_guard **ppGuard, const pa_conn_limits *pLim, bool bLog)
{
    pa_conn_guard *g = calloc(1, sizeof *g);
    *ppGuard = NULL;
    if (g == NULL)
        return pa_fail(PA_ENOMEM, "http server: connection table");
    g->lim = *pLim;
    /* keep an eighth of the connections (at least 1) for newcomers */
    g->nSoft = g->lim.max_connections - (g->lim.max_connections / 8 ? g->lim.max_connections / 8 : 1);
    if (g->nSoft == 0)
        g->nSoft = 1;
    g->bLog = bLog;
    g->tLastLog = mono_s();
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->reaper, NULL, reaper, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return pa_fail(PA_EINTERNAL, "http server: cannot start the connection guard thread");
    }
    g->bReaper = 1;
    *ppGuard = g;
    return PA_OK;
}

void pa_conn_guard_free(pa_conn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->bStop = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    if (g->bReaper)
        pthread_join(g->reaper, NULL);
    /* libmicrohttpd has reported every close by now; free what is left anyway */
    while (g->pHead) {
        pa_conn *c = g->pHead;
        g->pHead = c->pNext;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

bool pa_conn_guard_admit(pa_conn_guard *g, const struct sockaddr *pAddr)
{
    unsigned char a[16];
    int nAddr = addr_key(pAddr, a);
    unsigned nSame = 0;
    bool bOk = true, bPenalty = false;
    double tNow = mono_s();

    pthread_mutex_lock(&g->lock);
    if (nAddr != 0) {
        const pa_penalty *p = penalty_find(g, a, nAddr);
        if (p != NULL && tNow < p->tUntil) {
            g->nRefusedPenalty++;
            bOk = false;
            bPenalty = true;
        }
    }
    if (bOk && nAddr != 0 && g->lim.max_per_address != 0) {
        for (pa_conn *c = g->pHead; c; c = c->pNext)
            if (!c->bShut && c->nAddr == nAddr && memcmp(c->aAddr, a, (size_t)nAddr) == 0)
                nSame++;
        if (nSame >= g->lim.max_per_address) {
            g->nRefusedAddr++;
            bOk = false;
        }
    }
    if (bOk && g->nOpen - g->nShut >= g->nSoft) {
        /* room for the newcomer: the longest-waiting connection goes */
        unsigned long n = 0;
        pa_conn *c = oldest_waiting(g);
        if (c != NULL && c->ePhase == PA_CONN_HEADERS)
            strike(g, c, tNow);
        if (c != NULL)
            drop(g, c, &n);
        g->nDropBudget += n;
        if (n)
            pa_metrics_inc("privagg_http_connections_dropped_total", "reason=\"budget\"", n);
    }
    pthread_mutex_unlock(&g->lock);
    if (!bOk)
        pa_metrics_inc("privagg_http_connections_refused_total",
                       bPenalty ? "reason=\"reconnect-penalty\"" : "reason=\"per-address\"", 1);
    return bOk;
}

pa_conn *pa_conn_guard_opened(pa_conn_guard *g, int fd, const struct sockaddr *pAddr,
                              struct pa_tls_creds *pCreds)
{
    pa_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL; /* unguarded, and a TLS handshake fails: refused under memory pressure */
    c->fd = fd;
    c->pCreds = pCreds;
    c->nAddr = addr_key(pAddr, c->aAddr);
    c->ePhase = PA_CONN_HEADERS;
    c->tSince = mono_s();
    c->tDeadline = c->tSince + g->lim.header_timeout_s;
    pthread_mutex_lock(&g->lock);
    c->pNext = g->pHead;
    if (g->pHead)
        g->pHead->pPrev = c;
    g->pHead = c;
    g->nOpen++;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void pa_conn_guard_closed(pa_conn_guard *g, pa_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->pPrev)
        c->pPrev->pNext = c->pNext;
    else
        g->pHead = c->pNext;
    if (c->pNext)
        c->pNext->pPrev = c->pPrev;
    g->nOpen--;
    if (c->bShut)
        g->nShut--;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void pa_conn_guard_phase(pa_conn_guard *g, pa_conn *c, int ePhase, long long nDeclared)
{
    if (c == NULL)
        return;
    double tNow = mono_s();
    pthread_mutex_lock(&g->lock);
    c->ePhase = ePhase;
    c->tSince = tNow;
    switch (ePhase) {
    case PA_CONN_BODY:
        c->tDeadline = tNow + g->lim.body_timeout_s +
                       (double)(nDeclared > 0 ? nDeclared : 0) / PA_HTTP_BODY_MIN_RATE;
        break;
    case PA_CONN_IDLE:
        c->tDeadline = tNow + g->lim.idle_timeout_s;
        break;
    default: /* a request being handled or answered: the idle timeout of the library */
        c->tDeadline = 0;
        break;
    }
    pthread_mutex_unlock(&g->lock);
}

struct pa_tls_creds *pa_conn_tls_creds(const pa_conn *c)
{
    return c ? c->pCreds : NULL;
}

void pa_conn_guard_counts(pa_conn_guard *g, unsigned *pnOpen, unsigned *pnSoft)
{
    pthread_mutex_lock(&g->lock);
    *pnOpen = g->nOpen - g->nShut;
    *pnSoft = g->nSoft;
    pthread_mutex_unlock(&g->lock);
}
