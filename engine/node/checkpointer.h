/*
 * A server's checkpoint thread: copies the store's WAL into the database off
 * the request path.  Writing connections are attached (their automatic
 * checkpoint is turned off; a commit that leaves 2,000 frames or more in the WAL,
 * 16 MiB of 8 KiB pages, wakes the thread), and the thread runs a PASSIVE
 * checkpoint on a connection of its own, which never blocks a writer.  Without
 * it the upload that crosses the threshold would copy tens of MB and fsync the
 * database while every other upload waits behind its group commit.
 */
#ifndef PA_NODE_CHECKPOINTER_H
#define PA_NODE_CHECKPOINTER_H

#include "privagg/store.h"

typedef struct pa_checkpointer pa_checkpointer;

/* Open a connection to the store at zPath and start the thread. */
int pa_checkpointer_start(pa_checkpointer **ppCkpt, const char *zPath);

/* Hand pWriter's checkpoints to the thread (until pa_checkpointer_stop). */
void pa_checkpointer_attach(pa_checkpointer *pCkpt, pa_store *pWriter);

/* Stop the thread (after one last checkpoint), close its connection, free; NULL-safe. */
void pa_checkpointer_stop(pa_checkpointer **ppCkpt);

#endif
