/*
 * Deterministic randomness for tests (header-only): a stream of 64-bit words
 * from libsodium's randombytes_buf_deterministic, reproducible per tag, so that
 * statistical and cross-check tests give the same operands on every run.
 */
#ifndef PA_TEST_DET_RNG_H
#define PA_TEST_DET_RNG_H

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static uint8_t g_seed[randombytes_SEEDBYTES];
static uint8_t g_buf[1 << 16];
static size_t g_pos = sizeof g_buf;
static uint64_t g_ctr;

/* Restart the stream for this tag. */
static inline void rng_reset(uint8_t tag)
{
    memset(g_seed, 0x5a, sizeof g_seed);
    g_seed[0] = tag;
    g_ctr = 0;
    g_pos = sizeof g_buf;
}

static inline uint64_t rnd64(void)
{
    uint64_t v;
    if (g_pos + 8 > sizeof g_buf) {
        memcpy(g_seed + 8, &g_ctr, sizeof g_ctr);
        g_ctr++;
        randombytes_buf_deterministic(g_buf, sizeof g_buf, g_seed);
        g_pos = 0;
    }
    memcpy(&v, g_buf + g_pos, 8);
    g_pos += 8;
    return v;
}

#endif
