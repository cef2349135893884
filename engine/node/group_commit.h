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
 * A leader gathers for PA_GROUP_GATHER_US before it takes the queue, so that one
 * transaction and one fsync serve many reports (about 9 with 16 busy clients,
 * 3 to 5 with a pool of threads woken all at once).  Its thread sleeps meanwhile;
 * uploads checked in the window join the group.  Measured with 16 clients on two
 * cores: 250 us gave 2,160-2,430 uploads/s where 1 ms gave 1,910-2,080 and no
 * wait 1,870-2,320 (runs alternated): a longer wait parks too many connections.
 */
#ifndef PA_NODE_GROUP_COMMIT_H
#define PA_NODE_GROUP_COMMIT_H

#include <pthread.h>
#include <stddef.h>

#include "privagg/aggregator.h"

#define PA_GROUP_MAX 512
#define PA_GROUP_GATHER_US 250

typedef struct pa_group_waiter pa_group_waiter;

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t drained;            /* the queue was taken (for a full queue) */
    pa_group_waiter *apQueue[PA_GROUP_MAX];
    size_t nQueue;
    int bBusy;                         /* some thread leads a group */
    pa_aggregator *pAgg;
} pa_group_commit;

void pa_group_commit_init(pa_group_commit *g, pa_aggregator *pAgg);
void pa_group_commit_destroy(pa_group_commit *g);

/* Store a checked upload with its group; returns when pUp->rc is final. */
void pa_group_commit_store(pa_group_commit *g, pa_upload *pUp);

#endif
