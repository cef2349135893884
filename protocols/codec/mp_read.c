/*
 * Bounded, strict msgpack reader (see mp_read.h).  Written here because
 * msgpack-c's C API cannot bound what a hostile message makes it allocate.
 */
#include <string.h>

#include "codec/mp_read.h"
#include "privagg/common.h"

static int take(pa_mp_cursor *c, size_t n, const uint8_t **pp)
{
    if (c->n < n)
        return -1;
    *pp = c->p;
    c->p += n;
    c->n -= n;
    return 0;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Read a length-prefixed header: fix (tag in [fixLo, fixHi] with mask), or tag8/16/32. */
static int read_len(pa_mp_cursor *c, const char *zField, const char *zKind, uint8_t fixLo,
                    uint8_t fixHi, uint8_t fixMask, uint8_t tag8, uint8_t tag16, uint8_t tag32,
                    size_t *pn)
{
    const uint8_t *p;
    size_t w;
    uint64_t v;

    if (take(c, 1, &p) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated (a %s was expected)", zField, zKind);
    if (fixHi != 0 && p[0] >= fixLo && p[0] <= fixHi) {
        *pn = p[0] & fixMask;
        return PA_OK;
    }
    if (tag8 != 0 && p[0] == tag8)
        w = 1;
    else if (p[0] == tag16)
        w = 2;
    else if (p[0] == tag32)
        w = 4;
    else
        return pa_fail(PA_EDECODE, "%s: type byte 0x%02x is not a %s", zField, p[0], zKind);
    if (take(c, w, &p) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated %s length", zField, zKind);
    v = be(p, w);
    /* canonical: the shortest form only */
    if ((w == 2 && v <= (tag8 ? 0xffu : (uint64_t)fixMask)) || (w == 4 && v <= 0xffffu) ||
        (w == 1 && fixHi != 0 && v <= fixMask))
        return pa_fail(PA_EDECODE, "%s: length %llu not in its shortest encoding", zField,
                       (unsigned long long)v);
    *pn = (size_t)v;
    return PA_OK;
}

int pa_mp_read_array(pa_mp_cursor *c, const char *zField, size_t *pnElem)
{
    return read_len(c, zField, "array", 0x90, 0x9f, 0x0f, 0, 0xdc, 0xdd, pnElem);
}

int pa_mp_read_uint(pa_mp_cursor *c, const char *zField, uint64_t *pValue)
{
    const uint8_t *p;
    size_t w;
    uint64_t v;

    if (take(c, 1, &p) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated (an unsigned integer was expected)", zField);
    if (p[0] <= 0x7f) {
        *pValue = p[0];
        return PA_OK;
    }
    switch (p[0]) {
    case 0xcc: w = 1; break;
    case 0xcd: w = 2; break;
    case 0xce: w = 4; break;
    case 0xcf: w = 8; break;
    default:
        return pa_fail(PA_EDECODE, "%s: type byte 0x%02x is not an unsigned integer", zField, p[0]);
    }
    if (take(c, w, &p) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated integer", zField);
    v = be(p, w);
    if ((w == 1 && v <= 0x7f) || (w == 2 && v <= 0xff) || (w == 4 && v <= 0xffff) ||
        (w == 8 && v <= 0xffffffffu))
        return pa_fail(PA_EDECODE, "%s: %llu not in its shortest encoding", zField,
                       (unsigned long long)v);
    *pValue = v;
    return PA_OK;
}

int pa_mp_read_bin(pa_mp_cursor *c, const char *zField, size_t nWant, size_t nMax,
                   const uint8_t **ppData, size_t *pnData)
{
    size_t n;
    int rc = read_len(c, zField, "byte string", 0, 0, 0, 0xc4, 0xc5, 0xc6, &n);

    if (rc != PA_OK)
        return rc;
    if (nWant != 0 && n != nWant)
        return pa_fail(PA_EDECODE, "%s: %zu bytes, expected exactly %zu", zField, n, nWant);
    if (nWant == 0 && n > nMax)
        return pa_fail(PA_ERANGE, "%s: %zu bytes, above the limit %zu", zField, n, nMax);
    if (take(c, n, ppData) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated: %zu bytes declared, %zu left", zField, n, c->n);
    *pnData = n;
    return PA_OK;
}

int pa_mp_read_fixed(pa_mp_cursor *c, const char *zField, uint8_t *pOut, size_t n)
{
    const uint8_t *p;
    size_t got;
    int rc = pa_mp_read_bin(c, zField, n, n, &p, &got);
    if (rc == PA_OK)
        memcpy(pOut, p, n);
    return rc;
}

int pa_mp_read_str(pa_mp_cursor *c, const char *zField, size_t nMax, char *zOut)
{
    size_t n;
    const uint8_t *p;
    int rc = read_len(c, zField, "string", 0xa0, 0xbf, 0x1f, 0xd9, 0xda, 0xdb, &n);

    if (rc != PA_OK)
        return rc;
    if (n == 0 || n > nMax)
        return pa_fail(PA_ERANGE, "%s: length %zu is outside 1..%zu", zField, n, nMax);
    if (take(c, n, &p) != 0)
        return pa_fail(PA_EDECODE, "%s: truncated: %zu bytes declared, %zu left", zField, n, c->n);
    if (memchr(p, '\0', n) != NULL)
        return pa_fail(PA_EDECODE, "%s: contains a NUL byte", zField);
    memcpy(zOut, p, n);
    zOut[n] = '\0';
    return PA_OK;
}

int pa_mp_read_end(const pa_mp_cursor *c, const char *zMessage)
{
    if (c->n != 0)
        return pa_fail(PA_EDECODE, "%s: %zu trailing bytes", zMessage, c->n);
    return PA_OK;
}
