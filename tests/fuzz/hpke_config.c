/*
 * Fuzz target: an aggregator's signed HPKE configuration as an agency reads it
 * from the leader's GET /hpke_config (pa_hpke_config_from_json, then
 * pa_hpke_config_verify and pa_hpke_config_current; docs/keys.md).  An accepted
 * document has exactly one key in state current (the one sealed to, never a new
 * one), at most one new, an expiry on retiring keys only, and writes back to a
 * document that parses to the same fields and the same signed bytes.  Seeds: a
 * leader's document with a current, a new and a retiring key, and one with the
 * current key only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/hpke_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    pa_hpke_config_doc d, e;
    uint8_t aKey[32] = {0}, aTask[32] = {0}, *pA = NULL, *pB = NULL;
    size_t nA = 0, nB = 0, nCurrent = 0, nNew = 0;
    json_t *o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL), *o2;

    if (o == NULL)
        return 0;
    if (pa_hpke_config_from_json(&d, o, "fuzz") != PA_OK) {
        json_decref(o);
        return 0;
    }
    json_decref(o);
    for (size_t i = 0; i < d.n; i++) {
        nCurrent += d.a[i].eState == PA_HPKE_KEY_CURRENT;
        nNew += d.a[i].eState == PA_HPKE_KEY_NEW;
        pa_fuzz_check(d.a[i].tNotAfter == 0 || d.a[i].eState == PA_HPKE_KEY_RETIRING,
                      "hpke_config: an expiry on a key that is not retiring");
    }
    pa_fuzz_check(nCurrent == 1 && nNew <= 1, "hpke_config: not one current key, or two new ones");
    const pa_hpke_config_entry *c = pa_hpke_config_current(&d);
    pa_fuzz_check(c != NULL && c->eState == PA_HPKE_KEY_CURRENT, "hpke_config: the key sealed to is not current");
    /* any key, any task: the verification refuses without crashing */
    pa_fuzz_check(pa_hpke_config_verify(&d, aKey, aTask, d.eRole, d.tIssued, "fuzz") != PA_OK,
                  "hpke_config: verified under the zero key");
    o2 = pa_hpke_config_to_json(&d);
    pa_fuzz_check(o2 != NULL && pa_hpke_config_from_json(&e, o2, "fuzz") == PA_OK,
                  "hpke_config: its own JSON refused");
    json_decref(o2);
    pa_fuzz_check(pa_hpke_config_signed_bytes(&pA, &nA, &d) == PA_OK &&
                      pa_hpke_config_signed_bytes(&pB, &nB, &e) == PA_OK && nA == nB && memcmp(pA, pB, nA) == 0,
                  "hpke_config: the signed bytes change through JSON");
    free(pA);
    free(pB);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    pa_keys k;
    pa_hpke_config_doc d;
    uint8_t aTask[32];
    memset(aTask, 3, sizeof aTask);
    for (int iSeed = 0; iSeed < 2; iSeed++) {
        if (pa_keys_generate(&k, PA_ROLE_LEADER, NULL, 1) != PA_OK)
            return;
        if (iSeed == 0 && (pa_keys_rotate(&k) != PA_OK || pa_keys_expire(&k, 1, 1797292800) != PA_OK ||
                           pa_keys_stage(&k) != PA_OK))
            return;
        if (pa_hpke_config_make(&d, &k, aTask, 1795000000) == PA_OK) {
            json_t *o = pa_hpke_config_to_json(&d);
            char *z = json_dumps(o, JSON_COMPACT);
            if (z != NULL)
                pa_fuzz_put(zDir, iSeed == 0 ? "current-new-retiring" : "current-only", z, strlen(z));
            free(z);
            json_decref(o);
        }
        pa_keys_wipe(&k);
    }
}
