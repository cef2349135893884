/*
 * The dp samplers' RNG: a 512-byte buffer refilled by libsodium (see rng.h).
 * Production mode takes no seed (randombytes_buf); the seeded ChaCha20 mode exists
 * for reproducible statistical tests only and is reachable only through
 * pa_dp_rng_new_seeded_for_tests().
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "dp/rng.h"
#include "privagg/common.h"

void pa_dp_rng_refill(pa_dp_rng *pRng)
{
    if (pRng->bSeeded) {
        uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
        uint64_t blk = pRng->nBlock++;
        for (size_t i = 0; i < sizeof nonce; i++)
            nonce[i] = (uint8_t)(blk >> (8 * i));
        crypto_stream_chacha20((unsigned char *)pRng->aBuf, sizeof pRng->aBuf, nonce, pRng->aKey);
    } else {
        randombytes_buf(pRng->aBuf, sizeof pRng->aBuf);
    }
    pRng->iNext = 0;
}

static int rng_alloc(pa_dp_rng **ppRng)
{
    pa_dp_rng *pRng;
    *ppRng = NULL;
    if (sodium_init() < 0)
        return pa_fail(PA_EINTERNAL, "dp rng: sodium_init failed");
    pRng = calloc(1, sizeof *pRng);
    if (pRng == NULL)
        return pa_fail(PA_ENOMEM, "dp rng: %zu bytes", sizeof *pRng);
    pRng->iNext = PA_DP_RNG_WORDS;
    *ppRng = pRng;
    return PA_OK;
}

int pa_dp_rng_new(pa_dp_rng **ppRng)
{
    return rng_alloc(ppRng);
}

int pa_dp_rng_new_seeded_for_tests(pa_dp_rng **ppRng, const uint8_t *pSeed, size_t nSeed)
{
    int rc;
    if (ppRng == NULL || pSeed == NULL || nSeed == 0 || nSeed > 32)
        return pa_fail(PA_EINVAL, "dp rng seed: length %zu, must be 1..32", nSeed);
    if ((rc = rng_alloc(ppRng)) != PA_OK)
        return rc;
    (*ppRng)->bSeeded = 1;
    memcpy((*ppRng)->aKey, pSeed, nSeed);
    return PA_OK;
}

void pa_dp_rng_free(pa_dp_rng *pRng)
{
    if (pRng == NULL)
        return;
    pa_wipe(pRng, sizeof *pRng);
    free(pRng);
}

uint64_t pa_dp_rng_words_drawn(const pa_dp_rng *pRng)
{
    return pRng->nDrawn;
}

pa_u128 pa_dp_uniform_u128(pa_dp_rng *pRng, pa_u128 n)
{
    uint64_t hi = (uint64_t)((n - 1) >> 64);
    uint64_t mask;
    pa_u128 x;

    if (hi == 0)
        return (n >> 64) ? (pa_u128)pa_dp_rng_next(pRng) /* n == 2^64 */
                         : (pa_u128)pa_dp_uniform_u64(pRng, (uint64_t)n);
    /* mask-and-reject on the high word: fewer than 2 tries on average */
    mask = hi;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    do {
        uint64_t h = pa_dp_rng_next(pRng) & mask;
        uint64_t l = pa_dp_rng_next(pRng);
        x = ((pa_u128)h << 64) | l;
    } while (x >= n);
    return x;
}
