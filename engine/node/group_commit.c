/*
 * Group commit of checked uploads on a committer thread of its own (see
 * group_commit.h).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "node/group_commit.h"
#include "privagg/common.h"
#include "privagg/http.h"

struct pa_group_waiter {
    pa_upload *pUp;
    pthread_cond_t cv;
    int bDone;
};

/* With the mutex held: let the queue fill until PA_GROUP_TARGET uploads wait or
 * PA_GROUP_GATHER_US passed (pa_group_commit_store wakes the committer at the
 * target). */
static void gather(pa_group_commit *g)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += PA_GROUP_GATHER_US * 1000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    g->bGathering = 1;
    while (g->nQueue < PA_GROUP_TARGET && !g->bStop)
        if (pthread_cond_timedwait(&g->work, &g->mutex, &until) == ETIMEDOUT)
            break;
    g->bGathering = 0;
}

/* The committer: gather, take the queue, store it, wake exactly its uploads. */
static void *run(void *p)
{
    pa_group_commit *g = p;
    pa_group_waiter *apBatch[PA_GROUP_MAX];
    pa_upload *apUp[PA_GROUP_MAX];

    pthread_mutex_lock(&g->mutex);
    for (;;) {
        while (g->nQueue == 0 && !g->bStop)
            pthread_cond_wait(&g->work, &g->mutex);
        if (g->nQueue == 0)
            break; /* stopping, nothing left */
        gather(g);
        size_t nBatch = g->nQueue;
        memcpy(apBatch, g->apQueue, nBatch * sizeof apBatch[0]);
        g->nQueue = 0;
        pthread_cond_broadcast(&g->drained);
        pthread_mutex_unlock(&g->mutex);

        /* one transaction; each upload's outcome lands in its own pa_upload */
        for (size_t i = 0; i < nBatch; i++)
            apUp[i] = apBatch[i]->pUp;
        pa_leader_store_reports(g->pAgg, apUp, nBatch);
        pa_metrics_inc("privagg_upload_commits_total", NULL, 1);

        pthread_mutex_lock(&g->mutex);
        for (size_t i = 0; i < nBatch; i++) {
            apBatch[i]->bDone = 1;
            pthread_cond_signal(&apBatch[i]->cv);
        }
    }
    pthread_mutex_unlock(&g->mutex);
    return NULL;
}

int pa_group_commit_start(pa_group_commit *g, pa_aggregator *pAgg)
{
    memset(g, 0, sizeof *g);
    g->pAgg = pAgg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the gather's deadline */
    pthread_mutex_init(&g->mutex, NULL);
    pthread_cond_init(&g->work, &ca);
    pthread_cond_init(&g->drained, NULL);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, run, g) != 0) {
        pthread_mutex_destroy(&g->mutex);
        pthread_cond_destroy(&g->work);
        pthread_cond_destroy(&g->drained);
        return pa_fail(PA_EINTERNAL, "group commit: cannot start its thread");
    }
    g->bStarted = 1;
    return PA_OK;
}

void pa_group_commit_stop(pa_group_commit *g)
{
    if (!g->bStarted)
        return;
    pthread_mutex_lock(&g->mutex);
    g->bStop = 1;
    pthread_cond_signal(&g->work);
    pthread_mutex_unlock(&g->mutex);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->mutex);
    pthread_cond_destroy(&g->work);
    pthread_cond_destroy(&g->drained);
    g->bStarted = 0;
}

void pa_group_commit_store(pa_group_commit *g, pa_upload *pUp)
{
    pa_group_waiter w;

    w.pUp = pUp;
    w.bDone = 0;
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_lock(&g->mutex);
    while (g->nQueue == PA_GROUP_MAX) /* only with more than PA_GROUP_MAX connections */
        pthread_cond_wait(&g->drained, &g->mutex);
    g->apQueue[g->nQueue++] = &w;
    if (g->nQueue == 1 || (g->bGathering && g->nQueue == PA_GROUP_TARGET))
        pthread_cond_signal(&g->work);
    while (!w.bDone)
        pthread_cond_wait(&w.cv, &g->mutex);
    pthread_mutex_unlock(&g->mutex);
    pthread_cond_destroy(&w.cv);
}
