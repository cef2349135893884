/*
 * Constant-time helpers (internal).
 *
 * Control words are 0 or 1 in a uint64_t ("ctl"); masks are 0 or all-ones
 * ("mask").  None of these branch or index memory on their arguments, so they may
 * be used on secret data.  The compiler barrier in pa_ct_opaque() keeps the
 * optimiser from turning a mask select back into a branch.
 *
 * Carries and borrows: never take them from __builtin_{add,sub}_overflow on a
 * secret.  GCC expands those builtins as "compare and jump" and relies on later
 * passes to turn the jump back into setb/sbb, which they do not always do once
 * the code is inlined (GCC 12 -O2 left `jb` on the borrow of pa_f64_neg inlined
 * into pa_flp_query_f64, found by tests/unit/prio3_ctgrind_test.c).
 * pa_ct_add_mask / pa_ct_sub_mask below return the carry or borrow as a mask
 * straight from the flags register (x86-64: add/sub then sbb, in one asm block
 * the optimiser cannot look into), or from bit arithmetic elsewhere.
 *
 * Declassification: pa_ct_declassify() marks the few values the protocol
 * reveals on purpose (a decision, a validity verdict, a rejection-sampling
 * outcome) as public, just before the one branch on them.  It does nothing in
 * the library (a weak, out-of-line no-op); the ctgrind tests override it with
 * valgrind's VALGRIND_MAKE_MEM_DEFINED, so that every other branch on a secret
 * stays an error.  docs/constant-time.md lists every call.
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

/* *d = a - b mod 2^64; returns the borrow as a mask (all-ones iff a < b). */
static inline uint64_t pa_ct_sub_mask(uint64_t a, uint64_t b, uint64_t *d)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t m;
    __asm__("subq %[b], %[a]\n\t"
            "sbbq %[m], %[m]"
            : [a] "+r"(a), [m] "=r"(m)
            : [b] "rm"(b)
            : "cc");
    *d = a;
    return m;
#else
    *d = a - b;
    return pa_ct_mask(pa_ct_lt(a, b));
#endif
}

/* *d = a + b mod 2^64; returns the carry as a mask (all-ones iff a + b >= 2^64). */
static inline uint64_t pa_ct_add_mask(uint64_t a, uint64_t b, uint64_t *d)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t m;
    __asm__("addq %[b], %[a]\n\t"
            "sbbq %[m], %[m]"
            : [a] "+r"(a), [m] "=r"(m)
            : [b] "rm"(b)
            : "cc");
    *d = a;
    return m;
#else
    *d = a + b;
    return pa_ct_mask(pa_ct_lt(*d, a));
#endif
}

/*
 * Declare the n bytes at p public (see the file comment): a no-op in the
 * library, VALGRIND_MAKE_MEM_DEFINED in the ctgrind tests.  Call it only on a
 * value the protocol reveals anyway, right before branching on it.
 */
void pa_ct_declassify(void *p, size_t n);

/* x, declared public (pa_ct_declassify): for a branch on a revealed verdict. */
static inline uint64_t pa_ct_public(uint64_t x)
{
    pa_ct_declassify(&x, sizeof x);
    return x;
}

/* Wipe a buffer that held a secret (libsodium's sodium_memzero). */
void pa_wipe(void *p, size_t n);

#endif
