/*
 * A server's checkpoint thread: copies the store's WAL into the database off
 * the request path.  Writing connections are attached (their automatic
 * checkpoint is turned off) and the thread runs a PASSIVE checkpoint, on a
 * connection of its own that never blocks a writer, once no commit came for
 * 1 s, or at once when a commit leaves 8,000 frames or more in the WAL (64 MiB
 * of 8 KiB pages).
 *
 * Why wait for a pause: a checkpoint ends with an fsync of the database file,
 * and every group commit's fsync queued behind it waits for those megabytes
 * too.  Measured with 16 clients (3,876 uploads, ~60 MB of WAL): checkpoints
 * every 16 or 32 MiB during the upload left about one run in ten stalled at
 * 15-30 % I/O wait (1,234-2,169 uploads/s); without a checkpoint during the
 * upload, 12 runs in a row showed none (2,424-3,015/s).  A month of Missouri
 * reports is ~10 MB of WAL, copied in the pause after it; the 64 MiB bound keeps
 * the WAL (and a crash recovery) small under sustained writing.
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
