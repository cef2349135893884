/*
 * Fuzz target: an aggregator's exported privacy ledger (privagg-dp-ledger-v2,
 * `privagg ledger export`), as `privagg audit` and `publish --ledgers` read it:
 * pa_dp_ledger_open_json loads it into an in-memory store and verifies the hash
 * chain, sequence numbers, per-cell totals and budgets.  Seeds: a demo's two
 * exported ledgers (tests/fuzz/fixtures/) and an empty one.
 */
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/ledger.h"
#include "privagg/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_store *pStore = NULL;
    uint8_t aHead[32];
    int64_t nCount = -1;
    if (n > (1u << 20))
        return 0;
    int rc = pa_dp_ledger_open_json(&pStore, (const char *)p, n, NULL, -1, aHead, &nCount);
    pa_fuzz_check(rc == PA_OK || rc < 0, "ledger_json: status");
    pa_fuzz_check(rc != PA_OK || nCount >= 0, "ledger_json: accepted with a negative count");
    pa_store_close(pStore);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    (void)zDir; /* the seeds are a demo's exported ledgers, committed as "leader" and "helper" */
}
