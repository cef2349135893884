/*
 * Constant-time helpers (internal).
 *
 * Control words are 0 or 1 in a uint64_t ("ctl"); masks are 0 or all-ones
 * ("mask").  None of these branch or index memory on their arguments, so they may
 * be used on secret data.  The compiler barrier in pa_ct_opaque() keeps the
 * optimiser from turning a mask select back into a branch.
 */
#ifndef PA_CT_H
#define PA_CT_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pa_ct_opaque(uint64_t x)
{
#if defined(__GNUC__)
    __asm__ volatile("" : "+r"(x));
#endif
    return x;
}

/* all-ones if ctl == 1, zero if ctl == 0 */
static inline uint64_t pa_ct_mask(uint64_t ctl)
{
    return pa_ct_opaque((uint64_t)0 - ctl);
}

/* 1 if x != 0 */
static inline uint64_t pa_ct_nonzero(uint64_t x)
{
    return (x | ((uint64_t)0 - x)) >> 63;
}

/* 1 if x == y */
static inline uint64_t pa_ct_eq(uint64_t x, uint64_t y)
{
    return 1 ^ pa_ct_nonzero(x ^ y);
}

/* 1 if x < y (unsigned) */
static inline uint64_t pa_ct_lt(uint64_t x, uint64_t y)
{
    return ((~x & y) | ((~(x ^ y)) & (x - y))) >> 63;
}

/* ctl ? a : b */
static inline uint64_t pa_ct_select(uint64_t ctl, uint64_t a, uint64_t b)
{
    uint64_t m = pa_ct_mask(ctl);
    return b ^ (m & (a ^ b));
}

/* Wipe a buffer that held a secret (libsodium's sodium_memzero). */
void pa_wipe(void *p, size_t n);

#endif
