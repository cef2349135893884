/*
 * Group commit of checked uploads (the leader's upload route).
 *
 * Uploads are checked in parallel on the server threads; storing them is one
 * SQLite transaction and one fsync per GROUP, made by a committer thread of its
 * own.  A thread that has checked its upload queues it and sleeps on its own
 * condition variable until its outcome is known; the committer takes the queue,
 * stores it, and wakes exactly the threads whose uploads were in it.  Nobody is
 * woken for somebody else's group.
 *
 * Before it takes the queue the committer gathers: until PA_GROUP_TARGET uploads
 * wait or PA_GROUP_GATHER_US passed, whichever is first, so that one fsync
 * serves several reports without parking connections for long.
 *
 * Measured with 16 clients on two cores (runs alternated, same build otherwise):
 * with the lead taken by one of the upload threads, which also slept 250 us
 * before every group, the machine was 84-88 % busy (parked connections left it
 * idle) and took 2,515-2,732 uploads/s with ~9.4 reports per commit; with this
 * committer, gathering up to 8 uploads or 250 us, it is 93-96 % busy and took
 * 2,789-3,103 uploads/s with ~6 reports per commit.  A committer that never
 * gathered made groups of 4-5 and cost more CPU per report (2,193-3,142).
 */
#ifndef PA_NODE_GROUP_COMMIT_H
#define PA_NODE_GROUP_COMMIT_H

#include <pthread.h>
#include <stddef.h>

#include "privagg/aggregator.h"

#define PA_GROUP_MAX 512
#define PA_GROUP_GATHER_US 250
#define PA_GROUP_TARGET 8

typedef struct pa_group_waiter pa_group_waiter;

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t work;               /* to the committer: the queue filled, or stop */
    pthread_cond_t drained;            /* the queue was taken (for a full queue) */
    pa_group_waiter *apQueue[PA_GROUP_MAX];
    size_t nQueue;
    int bStop;                         /* under mutex */
    int bGathering;                    /* under mutex: the committer waits for PA_GROUP_TARGET */
    int bStarted;
    pthread_t thread;
    pa_aggregator *pAgg;
} pa_group_commit;

/* Start the committer thread for pAgg's store. */
int pa_group_commit_start(pa_group_commit *g, pa_aggregator *pAgg);

/* Commit what is queued, then stop the thread (call once no upload can arrive).
 * Does nothing if it was never started. */
void pa_group_commit_stop(pa_group_commit *g);

/* Store a checked upload with its group; returns when pUp->rc is final. */
void pa_group_commit_store(pa_group_commit *g, pa_upload *pUp);

#endif
