/*
 * msgpack writing helpers over msgpack-c's packer (internal to codec): a
 * growable buffer and one-call packers for the types privagg's messages use.
 */
#ifndef PA_MP_WRITE_H
#define PA_MP_WRITE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int bNoMem;           /* a write did not fit (realloc failed): finish says PA_ENOMEM */
} pa_mp_writer;

void pa_mp_writer_init(pa_mp_writer *w);
void pa_mp_put_bin(pa_mp_writer *w, const uint8_t *p, size_t n);
void pa_mp_put_str(pa_mp_writer *w, const char *z);
void pa_mp_put_uint(pa_mp_writer *w, uint64_t v);
void pa_mp_put_array(pa_mp_writer *w, size_t n);
/* Hand the bytes (after an optional label) to the caller as a malloc'ed buffer;
 * the writer is released either way.  PA_ENOMEM. */
int pa_mp_writer_finish(pa_mp_writer *w, const char *zLabel, uint8_t **ppOut, size_t *pnOut);

#endif
