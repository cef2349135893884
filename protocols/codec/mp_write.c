/*
 * msgpack writing helpers (see mp_write.h).  msgpack-c always writes the
 * shortest form, which is what the strict reader (mp_read.c) accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/mp_write.h"
#include "privagg/common.h"

/* msgpack-c's packers ignore a failed write, and a later write may fit again:
 * the message would lose bytes silently.  A failure is remembered instead. */
static int sbuffer_write(void *pData, const char *p, size_t n)
{
    pa_mp_writer *w = pData;
    if (msgpack_sbuffer_write(&w->sb, p, n) != 0)
        w->bNoMem = 1;
    return 0;
}

void pa_mp_writer_init(pa_mp_writer *w)
{
    msgpack_sbuffer_init(&w->sb);
    w->bNoMem = 0;
    msgpack_packer_init(&w->pk, w, sbuffer_write);
}

void pa_mp_put_bin(pa_mp_writer *w, const uint8_t *p, size_t n)
{
    msgpack_pack_bin(&w->pk, n);
    if (n)
        msgpack_pack_bin_body(&w->pk, p, n);
}

void pa_mp_put_str(pa_mp_writer *w, const char *z)
{
    size_t n = strlen(z);
    msgpack_pack_str(&w->pk, n);
    msgpack_pack_str_body(&w->pk, z, n);
}

void pa_mp_put_uint(pa_mp_writer *w, uint64_t v)
{
    msgpack_pack_uint64(&w->pk, v);
}

void pa_mp_put_array(pa_mp_writer *w, size_t n)
{
    msgpack_pack_array(&w->pk, n);
}

int pa_mp_writer_finish(pa_mp_writer *w, const char *zLabel, uint8_t **ppOut, size_t *pnOut)
{
    size_t nLabel = zLabel ? strlen(zLabel) : 0;
    uint8_t *p = malloc(nLabel + w->sb.size + 1);

    if (p == NULL || w->bNoMem || (w->sb.size > 0 && w->sb.data == NULL)) {
        free(p);
        msgpack_sbuffer_destroy(&w->sb);
        return pa_fail(PA_ENOMEM, "message: out of memory");
    }
    if (nLabel)
        memcpy(p, zLabel, nLabel);
    if (w->sb.size)
        memcpy(p + nLabel, w->sb.data, w->sb.size);
    *ppOut = p;
    *pnOut = nLabel + w->sb.size;
    msgpack_sbuffer_destroy(&w->sb);
    return PA_OK;
}
