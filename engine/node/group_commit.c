/*
 * Group commit of checked uploads: per-waiter wake-ups, hand-off of the lead,
 * and a short gather (see group_commit.h).
 */
#include <errno.h>
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

void pa_group_commit_init(pa_group_commit *g, pa_aggregator *pAgg)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mutex, NULL);
    pthread_cond_init(&g->drained, NULL);
    g->pAgg = pAgg;
}

void pa_group_commit_destroy(pa_group_commit *g)
{
    pthread_mutex_destroy(&g->mutex);
    pthread_cond_destroy(&g->drained);
}

/* With the mutex held: let the queue fill for PA_GROUP_GATHER_US (a plain sleep:
 * arrivals wake nobody). */
static void gather(pa_group_commit *g)
{
    struct timespec ts = {0, PA_GROUP_GATHER_US * 1000L};
    pthread_mutex_unlock(&g->mutex);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&g->mutex);
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
    pthread_cond_broadcast(&g->drained);
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
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_lock(&g->mutex);
    while (g->nQueue == PA_GROUP_MAX) /* only with more than PA_GROUP_MAX connections */
        pthread_cond_wait(&g->drained, &g->mutex);
    g->apQueue[g->nQueue++] = &w;
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
