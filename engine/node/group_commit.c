/*
 * Group commit of checked uploads: per-waiter wake-ups, hand-off of the lead,
 * and a short adaptive gather (see group_commit.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/group_commit.h"
#include "privagg/common.h"
#include "privagg/http.h"

enum { WAIT_QUEUED, WAIT_DONE, WAIT_LEAD };

struct pa_group_waiter {
    pa_upload *pUp;
    pthread_cond_t cv;
    int state;
};

static void init_cond(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

void pa_group_commit_init(pa_group_commit *g, pa_aggregator *pAgg)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mutex, NULL);
    init_cond(&g->arrived);
    g->pAgg = pAgg;
}

void pa_group_commit_destroy(pa_group_commit *g)
{
    pthread_mutex_destroy(&g->mutex);
    pthread_cond_destroy(&g->arrived);
}

void pa_group_commit_begin(pa_group_commit *g)
{
    pthread_mutex_lock(&g->mutex);
    g->nChecking++;
    pthread_mutex_unlock(&g->mutex);
}

void pa_group_commit_abandon(pa_group_commit *g)
{
    pthread_mutex_lock(&g->mutex);
    g->nChecking--;
    pthread_cond_broadcast(&g->arrived);
    pthread_mutex_unlock(&g->mutex);
}

static struct timespec deadline_after_us(long us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += us * 1000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* With the mutex held: wait (bounded) for the uploads still being checked. */
static void gather(pa_group_commit *g)
{
    struct timespec until = deadline_after_us(PA_GROUP_GATHER_US);
    while (g->nQueue < PA_GROUP_MAX)
        if (pthread_cond_timedwait(&g->arrived, &g->mutex, &until) != 0)
            break; /* the window is over */
}

/* With the mutex held, as leader: store the whole queue, outside the mutex. */
static void lead_group(pa_group_commit *g)
{
    pa_group_waiter *apBatch[PA_GROUP_MAX];
    pa_upload *aBatch;
    size_t nBatch;

    gather(g);
    nBatch = g->nQueue;
    memcpy(apBatch, g->apQueue, nBatch * sizeof apBatch[0]);
    g->nQueue = 0;
    pthread_mutex_unlock(&g->mutex);

    aBatch = malloc(nBatch * sizeof *aBatch);
    if (aBatch != NULL) {
        for (size_t i = 0; i < nBatch; i++)
            aBatch[i] = *apBatch[i]->pUp;
        pa_leader_store_reports(g->pAgg, aBatch, nBatch);
    }
    for (size_t i = 0; i < nBatch; i++) {
        pa_upload *u = apBatch[i]->pUp;
        if (aBatch != NULL) {
            u->rc = aBatch[i].rc;
            memcpy(u->zDetail, aBatch[i].zDetail, sizeof u->zDetail);
        } else {
            u->rc = PA_ENOMEM;
            snprintf(u->zDetail, sizeof u->zDetail, "upload: out of memory");
        }
    }
    free(aBatch);
    pa_metrics_inc("privagg_upload_commits_total", NULL, 1);

    pthread_mutex_lock(&g->mutex);
    g->nGroups++;
    g->nStored += nBatch;
    for (size_t i = 0; i < nBatch; i++) {
        apBatch[i]->state = WAIT_DONE;
        pthread_cond_signal(&apBatch[i]->cv);
    }
    if (g->nQueue > 0) { /* hand the lead to the first upload queued meanwhile */
        g->apQueue[0]->state = WAIT_LEAD;
        pthread_cond_signal(&g->apQueue[0]->cv);
    } else {
        g->bBusy = 0;
    }
}

void pa_group_commit_store(pa_group_commit *g, pa_upload *pUp)
{
    pa_group_waiter w;

    w.pUp = pUp;
    w.state = WAIT_QUEUED;
    init_cond(&w.cv);
    pthread_mutex_lock(&g->mutex);
    g->nChecking--;
    while (g->nQueue == PA_GROUP_MAX) { /* cannot happen with <= PA_GROUP_MAX threads */
        struct timespec until = deadline_after_us(1000);
        pthread_cond_timedwait(&g->arrived, &g->mutex, &until);
    }
    g->apQueue[g->nQueue++] = &w;
    pthread_cond_broadcast(&g->arrived);
    if (!g->bBusy) {
        g->bBusy = 1;
        w.state = WAIT_LEAD;
    }
    for (;;) {
        while (w.state == WAIT_QUEUED)
            pthread_cond_wait(&w.cv, &g->mutex);
        if (w.state == WAIT_DONE)
            break;
        w.state = WAIT_QUEUED; /* leading: store the queue, which holds w */
        lead_group(g);         /* returns with the mutex held and w done */
    }
    pthread_mutex_unlock(&g->mutex);
    pthread_cond_destroy(&w.cv);
}
