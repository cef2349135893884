/*
 * A bounded, strict msgpack reader for untrusted input (internal to codec).
 *
 * msgpack-c's C unpacker has no limits: a 5-byte array32 header makes it try to
 * allocate the declared element count before reading any element.  privagg's wire
 * messages are flat arrays of scalars and byte strings, so decoding walks the
 * bytes with this cursor instead: nothing is allocated, every length is checked
 * against what remains and against the caller's limit, and only the shortest
 * encoding of each integer and length is accepted (canonical msgpack), so one
 * message has one encoding.  Encoding uses msgpack-c's packer, which always
 * writes the shortest form.
 */
#ifndef PA_MP_READ_H
#define PA_MP_READ_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t n;      /* bytes left */
} pa_mp_cursor;

/* Each reader consumes one value or fails with PA_EDECODE naming zField. */
int pa_mp_read_array(pa_mp_cursor *c, const char *zField, size_t *pnElem);
int pa_mp_read_uint(pa_mp_cursor *c, const char *zField, uint64_t *pValue);
/* A bin of exactly nWant bytes (nWant > 0), or of at most nMax when nWant == 0. */
int pa_mp_read_bin(pa_mp_cursor *c, const char *zField, size_t nWant, size_t nMax,
                   const uint8_t **ppData, size_t *pnData);
/* A bin of exactly n bytes (n > 0) copied into pOut. */
int pa_mp_read_fixed(pa_mp_cursor *c, const char *zField, uint8_t *pOut, size_t n);
/* A str of 1..nMax bytes with no NUL; copied NUL-terminated into zOut[nMax+1]. */
int pa_mp_read_str(pa_mp_cursor *c, const char *zField, size_t nMax, char *zOut);
/* PA_EDECODE if any byte is left. */
int pa_mp_read_end(const pa_mp_cursor *c, const char *zMessage);

#endif
