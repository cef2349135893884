/*
 * Internal: the buffered RNG behind the dp samplers and exact uniform integers.
 *
 * pa_dp_rng holds 64 words (512 bytes) of libsodium output (randombytes_buf in
 * production, a ChaCha20 keystream in the tests-only seeded mode) and hands them
 * out one word at a time, so that a sample costs a few nanoseconds of randomness.
 * Uniform integers in [0, n) are drawn by rejection (no modulo bias): Lemire's
 * multiply-and-reject for n <= 2^64, mask-and-reject above.
 */
#ifndef PA_DP_RNG_H
#define PA_DP_RNG_H

#include <stdint.h>

#include "privagg/dp.h"

typedef unsigned __int128 pa_u128;

#define PA_DP_RNG_WORDS 64

struct pa_dp_rng {
    uint64_t aBuf[PA_DP_RNG_WORDS];
    unsigned iNext;          /* next unused word of aBuf */
    int bSeeded;             /* 1: tests-only ChaCha20 mode */
    uint8_t aKey[32];        /* seeded mode: ChaCha20 key */
    uint64_t nBlock;         /* seeded mode: nonce of the next refill */
    uint64_t bits;           /* spare single random bits */
    unsigned nBits;
    uint64_t nDrawn;         /* words handed out */
};

void pa_dp_rng_refill(pa_dp_rng *pRng);

static inline uint64_t pa_dp_rng_next(pa_dp_rng *pRng)
{
    if (pRng->iNext == PA_DP_RNG_WORDS)
        pa_dp_rng_refill(pRng);
    pRng->nDrawn++;
    return pRng->aBuf[pRng->iNext++];
}

/* One uniform bit. */
static inline unsigned pa_dp_rng_bit(pa_dp_rng *pRng)
{
    unsigned b;
    if (pRng->nBits == 0) {
        pRng->bits = pa_dp_rng_next(pRng);
        pRng->nBits = 64;
    }
    b = (unsigned)(pRng->bits & 1);
    pRng->bits >>= 1;
    pRng->nBits--;
    return b;
}

/* Uniform in [0, n), n >= 1 (Lemire 2019, "Fast random integer generation in an interval"). */
static inline uint64_t pa_dp_uniform_u64(pa_dp_rng *pRng, uint64_t n)
{
    pa_u128 m = (pa_u128)pa_dp_rng_next(pRng) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = (0 - n) % n;
        while (lo < threshold) {
            m = (pa_u128)pa_dp_rng_next(pRng) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform in [0, n), n >= 1. */
pa_u128 pa_dp_uniform_u128(pa_dp_rng *pRng, pa_u128 n);

#endif
