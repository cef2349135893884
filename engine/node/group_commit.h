/*
 * Group commit of checked uploads (the leader's upload route).
 *
 * Uploads are checked in parallel on the server threads; storing them is one
 * SQLite transaction and one fsync per GROUP.  A thread that has checked its
 * upload queues it and either leads the next group (takes the queue, stores it,
 * wakes exactly the threads whose uploads were in it, and hands the lead to the
 * first thread queued meanwhile) or sleeps on its own condition variable until
 * its outcome is known.  Nobody is woken for somebody else's group.
 *
 * A leader gathers for a moment before it commits: while uploads are still being
 * checked and would join within the gather window (at most PA_GROUP_GATHER_US), it
 * waits for them, so that one fsync serves several reports.  It never waits when
 * no other upload is in progress, so a lone upload is stored at once.
 */
#ifndef PA_NODE_GROUP_COMMIT_H
#define PA_NODE_GROUP_COMMIT_H

#include <pthread.h>
#include <stddef.h>

#include "privagg/aggregator.h"

#define PA_GROUP_MAX 512
#define PA_GROUP_GATHER_US 2000

typedef struct pa_group_waiter pa_group_waiter;

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t arrived;            /* a leader gathering waits on this */
    pa_group_waiter *apQueue[PA_GROUP_MAX];
    size_t nQueue;
    size_t nChecking;                  /* uploads between begin and store */
    int bBusy;                         /* some thread leads a group */
    pa_aggregator *pAgg;
    unsigned long long nGroups, nStored;
} pa_group_commit;

void pa_group_commit_init(pa_group_commit *g, pa_aggregator *pAgg);
void pa_group_commit_destroy(pa_group_commit *g);

/* An upload starts its checks (so that a gathering leader may wait for it). */
void pa_group_commit_begin(pa_group_commit *g);

/* Its checks failed: it will not be stored. */
void pa_group_commit_abandon(pa_group_commit *g);

/* Store a checked upload with its group; returns when pUp->rc is final. */
void pa_group_commit_store(pa_group_commit *g, pa_upload *pUp);

#endif
