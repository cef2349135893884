/*
 * Fuzz target: every Prio3 message decoder (pa_prio3_check_public_share,
 * _input_share for the leader and the helper, _verifier_share,
 * _verifier_message, _out_share, _agg_share) and, for the two messages an
 * aggregator takes from the network, verify_init on them.  Input: byte 0 picks
 * the VDAF (low nibble: Count, Sum(1337), SumVec(10,3,4), Histogram(7,3),
 * MultihotCountVec(6,3,2), SumVecMultiproof over Field64 and Field128) and the
 * decoder (high nibble), the rest is the message.  An accepted message must be
 * exactly the size the parameters give.  Seeds: genuine messages of a sharded
 * measurement for every VDAF and decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/prio3.h"

enum { N_VDAF = 7, N_DEC = 7 };
static pa_prio3 *g_aV[N_VDAF];

static pa_prio3 *vdaf(unsigned k)
{
    if (g_aV[k] == NULL) {
        int rc = -1;
        switch (k) {
        case 0: rc = pa_prio3_count_new(&g_aV[k], 2); break;
        case 1: rc = pa_prio3_sum_new(&g_aV[k], 2, 1337); break;
        case 2: rc = pa_prio3_sumvec_new(&g_aV[k], 2, 10, 3, 4); break;
        case 3: rc = pa_prio3_histogram_new(&g_aV[k], 2, 7, 3); break;
        case 4: rc = pa_prio3_multihot_new(&g_aV[k], 2, 6, 3, 2); break;
        case 5: rc = pa_prio3_sumvec_multiproof_new(&g_aV[k], 2, PA_PRIO3_FIELD64, 3, 5, 7, 2); break;
        default: rc = pa_prio3_sumvec_multiproof_new(&g_aV[k], 2, PA_PRIO3_FIELD128, 2, 4, 3, 2); break;
        }
        pa_fuzz_check(rc == PA_OK, "prio3: parameters");
    }
    return g_aV[k];
}

/* The size decoder d accepts for v. */
static size_t want(const pa_prio3 *v, unsigned d)
{
    switch (d) {
    case 0: return pa_prio3_public_share_size(v);
    case 1: return pa_prio3_input_share_size(v, 0);
    case 2: return pa_prio3_input_share_size(v, 1);
    case 3: return pa_prio3_verifier_share_size(v);
    case 4: return pa_prio3_verifier_message_size(v);
    case 5: return pa_prio3_out_share_size(v);
    default: return pa_prio3_agg_share_size(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    if (n < 1 || n > 65536)
        return 0;
    unsigned k = (p[0] & 15u) % N_VDAF, d = (unsigned)(p[0] >> 4) % N_DEC;
    const pa_prio3 *v = vdaf(k);
    const uint8_t *m = p + 1;
    size_t nm = n - 1;
    int rc;
    switch (d) {
    case 0: rc = pa_prio3_check_public_share(v, m, nm); break;
    case 1: rc = pa_prio3_check_input_share(v, 0, m, nm); break;
    case 2: rc = pa_prio3_check_input_share(v, 1, m, nm); break;
    case 3: rc = pa_prio3_check_verifier_share(v, m, nm); break;
    case 4: rc = pa_prio3_check_verifier_message(v, m, nm); break;
    case 5: rc = pa_prio3_check_out_share(v, m, nm); break;
    default: rc = pa_prio3_check_agg_share(v, m, nm); break;
    }
    pa_fuzz_check(rc == PA_OK || rc < 0, "prio3: status");
    if (rc == PA_OK)
        pa_fuzz_check(nm == want(v, d), "prio3: accepted a message of the wrong size");
    /* the aggregator's path on the two network messages: verify_init decodes
     * the public share and its input share (the other one a fixed valid one is
     * not needed: a zero share of the right size is a valid encoding) */
    if (d == 1 || d == 2 || d == 0) {
        size_t nPub = pa_prio3_public_share_size(v), nIn = pa_prio3_input_share_size(v, d == 2);
        uint8_t vk[PA_PRIO3_VERIFY_KEY_SIZE] = {7}, nonce[PA_PRIO3_NONCE_SIZE] = {9};
        uint8_t *pPub = calloc(1, nPub + 1), *pIn = calloc(1, nIn + 1);
        uint8_t *pState = malloc(pa_prio3_verify_state_size(v) + 1);
        uint8_t *pShare = malloc(pa_prio3_verifier_share_size(v) + 1);
        const uint8_t *pUsePub = d == 0 ? m : pPub, *pUseIn = d == 0 ? pIn : m;
        size_t nUsePub = d == 0 ? nm : nPub, nUseIn = d == 0 ? nIn : nm;
        rc = pa_prio3_verify_init(v, vk, (const uint8_t *)"fuzz", 4, d == 2, nonce, pUsePub, nUsePub,
                                  pUseIn, nUseIn, pState, pShare);
        pa_fuzz_check(rc == PA_OK || rc < 0, "prio3: verify_init status");
        free(pPub);
        free(pIn);
        free(pState);
        free(pShare);
    }
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    for (unsigned k = 0; k < N_VDAF; k++) {
        const pa_prio3 *v = vdaf(k);
        size_t nMeas = pa_prio3_measurement_len(v);
        uint64_t *aMeas = calloc(nMeas, sizeof *aMeas);
        uint8_t nonce[PA_PRIO3_NONCE_SIZE], vk[PA_PRIO3_VERIFY_KEY_SIZE];
        uint8_t *aMsg[N_DEC], *aIn[2];
        memset(nonce, 3, sizeof nonce);
        memset(vk, 5, sizeof vk);
        aMeas[0] = 1; /* valid for every VDAF above */
        for (unsigned d = 0; d < N_DEC; d++)
            aMsg[d] = calloc(1, want(v, d) + 1);
        aIn[0] = aMsg[1];
        aIn[1] = aMsg[2];
        pa_fuzz_check(pa_prio3_shard_random(v, (const uint8_t *)"fuzz", 4, aMeas, nMeas, nonce, aMsg[0],
                                            aIn) == PA_OK, "prio3: shard");
        uint8_t *pState = malloc(pa_prio3_verify_state_size(v) + 1);
        (void)pa_prio3_verify_init(v, vk, (const uint8_t *)"fuzz", 4, 0, nonce, aMsg[0], want(v, 0),
                                   aMsg[1], want(v, 1), pState, aMsg[3]);
        pa_prio3_agg_init(v, aMsg[6]);
        for (unsigned d = 0; d < N_DEC; d++) {
            size_t nw = want(v, d);
            uint8_t *q = malloc(nw + 1);
            char zName[32];
            q[0] = (uint8_t)((d << 4) | k);
            memcpy(q + 1, aMsg[d], nw);
            snprintf(zName, sizeof zName, "v%u-d%u", k, d);
            pa_fuzz_put(zDir, zName, q, nw + 1);
            free(q);
            free(aMsg[d]);
        }
        free(pState);
        free(aMeas);
    }
}
