/*
 * Fuzz target: HPKE single-shot open (pa_hpke_open_base) with a fixed receiver
 * key: input = encapsulated key (32 bytes) then the ciphertext.  Nothing but a
 * clean PA_EVERIFY-style refusal may come of bytes the key did not seal; the
 * seeds are genuine ciphertexts, so mutations reach the AEAD.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "privagg/common.h"
#include "privagg/hpke.h"

static uint8_t g_sk[PA_HPKE_NSK], g_pk[PA_HPKE_NPK];
static int g_bKeys;
static const uint8_t g_info[] = "privagg fuzz";
static const uint8_t g_aad[] = "aad";

static void keys(void)
{
    uint8_t ikm[32];
    if (g_bKeys)
        return;
    memset(ikm, 0x5a, sizeof ikm);
    pa_fuzz_check(pa_hpke_derive_keypair(g_sk, g_pk, ikm, sizeof ikm) == PA_OK, "hpke: keypair");
    g_bKeys = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    keys();
    if (n < PA_HPKE_NENC + PA_HPKE_NT || n > 65536)
        return 0;
    size_t nCt = n - PA_HPKE_NENC;
    uint8_t *pt = malloc(nCt - PA_HPKE_NT + 1);
    int rc = pa_hpke_open_base(pt, p, g_sk, g_info, sizeof g_info - 1, g_aad, sizeof g_aad - 1,
                               p + PA_HPKE_NENC, nCt);
    pa_fuzz_check(rc == PA_OK || rc < 0, "hpke: status");
    free(pt);
    return 0;
}

void pa_fuzz_seeds(const char *zDir)
{
    uint8_t buf[PA_HPKE_NENC + 64 + PA_HPKE_NT], pt[64];
    keys();
    memset(pt, 0x11, sizeof pt);
    if (pa_hpke_seal_base(buf, buf + PA_HPKE_NENC, g_pk, g_info, sizeof g_info - 1, g_aad,
                          sizeof g_aad - 1, pt, sizeof pt) == PA_OK)
        pa_fuzz_put(zDir, "sealed-64", buf, sizeof buf);
    if (pa_hpke_seal_base(buf, buf + PA_HPKE_NENC, g_pk, g_info, sizeof g_info - 1, g_aad,
                          sizeof g_aad - 1, pt, 0) == PA_OK)
        pa_fuzz_put(zDir, "sealed-empty", buf, PA_HPKE_NENC + PA_HPKE_NT);
}
