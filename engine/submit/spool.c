/*
 * The spool's counts digest (pa_spool_counts_mac, include/privagg/submit.h): lets
 * a re-run of `privagg submit` recognise the same counts without the spool
 * holding them in the clear.  The spool's storage is engine/store/spool_store.c.
 */
#include <sodium.h>
#include <string.h>

#include "privagg/submit.h"

void pa_spool_counts_mac(uint8_t aMac[32], const pa_keys *k, const uint8_t aTaskId[32], const char *zPeriod,
                         const uint64_t *aCounts, size_t nCounts)
{
    static const char zLabel[] = "privagg spool counts v1";
    uint8_t aKey[32];
    crypto_generichash_state st;

    /* key = BLAKE2b-256 keyed by the Ed25519 seed (the first 32 secret bytes) of a label */
    crypto_generichash(aKey, sizeof aKey, (const uint8_t *)zLabel, sizeof zLabel - 1, k->aSecret, 32);
    crypto_generichash_init(&st, aKey, sizeof aKey, 32);
    crypto_generichash_update(&st, aTaskId, 32);
    crypto_generichash_update(&st, (const uint8_t *)zPeriod, strlen(zPeriod) + 1);
    for (size_t i = 0; i < nCounts; i++) {
        uint8_t a[8];
        for (int j = 0; j < 8; j++)
            a[j] = (uint8_t)(aCounts[i] >> (8 * j));
        crypto_generichash_update(&st, a, 8);
    }
    crypto_generichash_final(&st, aMac, 32);
    sodium_memzero(aKey, sizeof aKey);
    sodium_memzero(&st, sizeof st);
}
