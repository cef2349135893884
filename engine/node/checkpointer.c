/*
 * The checkpoint thread of a server (see checkpointer.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "node/checkpointer.h"
#include "privagg/common.h"

#define IDLE_MS 1000        /* a checkpoint once no commit came for this long */
#define CHECKPOINT_FRAMES 8000 /* or at once past 64 MiB of 8 KiB pages of WAL */

struct pa_checkpointer {
    pa_store *pStore;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    atomic_int bDue;           /* a commit left the WAL over the threshold */
    atomic_int bDirty;         /* something was committed since the last checkpoint */
    atomic_llong iLastCommit;  /* CLOCK_MONOTONIC ms of the last commit */
    int bStop;                 /* under mutex */
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_wal_commit(void *p, int nFrames)
{
    pa_checkpointer *c = p;
    atomic_store(&c->iLastCommit, now_ms());
    atomic_store(&c->bDirty, 1);
    if (nFrames >= CHECKPOINT_FRAMES && !atomic_exchange(&c->bDue, 1)) {
        pthread_mutex_lock(&c->mutex);
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->mutex);
    }
}

static void *run(void *p)
{
    pa_checkpointer *c = p;
    pthread_mutex_lock(&c->mutex);
    for (;;) {
        if (!c->bStop && !atomic_load(&c->bDue)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += IDLE_MS % 1000 * 1000000L;
            until.tv_sec += IDLE_MS / 1000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&c->wake, &c->mutex, &until);
        }
        int bStop = c->bStop;
        pthread_mutex_unlock(&c->mutex);
        int bIdle = now_ms() - atomic_load(&c->iLastCommit) >= IDLE_MS;
        if ((atomic_exchange(&c->bDue, 0) || bIdle || bStop) && atomic_exchange(&c->bDirty, 0))
            pa_store_checkpoint(c->pStore, NULL, NULL); /* a failure is retried next time */
        pthread_mutex_lock(&c->mutex);
        if (bStop)
            break;
    }
    pthread_mutex_unlock(&c->mutex);
    return NULL;
}

int pa_checkpointer_start(pa_checkpointer **ppCkpt, const char *zPath)
{
    pa_checkpointer *c = calloc(1, sizeof *c);
    int rc;

    *ppCkpt = NULL;
    if (c == NULL)
        return pa_fail(PA_ENOMEM, "checkpointer: out of memory");
    rc = pa_store_open(&c->pStore, zPath);
    if (rc != PA_OK) {
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mutex, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        pthread_mutex_destroy(&c->mutex);
        pthread_cond_destroy(&c->wake);
        pa_store_close(c->pStore);
        free(c);
        return pa_fail(PA_EINTERNAL, "checkpointer: cannot start its thread");
    }
    *ppCkpt = c;
    return PA_OK;
}

void pa_checkpointer_attach(pa_checkpointer *c, pa_store *pWriter)
{
    pa_store_on_wal_commit(pWriter, on_wal_commit, c);
}

void pa_checkpointer_stop(pa_checkpointer **ppCkpt)
{
    pa_checkpointer *c = *ppCkpt;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mutex);
    c->bStop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mutex);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mutex);
    pthread_cond_destroy(&c->wake);
    pa_store_close(c->pStore);
    free(c);
    *ppCkpt = NULL;
}
