/*
 * Constant-time check of HPKE open on the compiled library (ctgrind, as in
 * prio3_ctgrind_test.c): the binary re-runs itself under valgrind memcheck with
 * --ctgrind and there opens sealed messages with the receiver's private key and
 * the ciphertext marked undefined (secret).  A conditional jump or a memory index
 * that depends on them is a memcheck error; the error count of each step is
 * printed and any error fails the test.
 *
 * Steps: the single-shot open (pa_hpke_open_base: DHKEM decapsulation, the key
 * schedule, the AEAD), the leader's path (pa_hpke_setup_receiver_keypair, then
 * pa_hpke_open twice on one context), and a tampered ciphertext (it must fail).
 * What HPKE reveals on purpose is public: whether the AEAD tag verified (the
 * message is refused) and whether the shared secret is all zeros (a small-order
 * encapsulated key, a property of the public enc alone); the library makes those
 * two verdicts public with pa_ct_declassify() right where it branches on them
 * (protocols/hpke), and this test defines that hook with
 * VALGRIND_MAKE_MEM_DEFINED.  libsodium's own branches on the same two verdicts
 * inside crypto_scalarmult and crypto_aead_chacha20poly1305_ietf_decrypt are
 * avoided by the library (docs/constant-time.md, "HPKE").
 *
 * The plain CTest entry runs the same opens natively and checks the plaintexts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <valgrind/memcheck.h>

#include "support/ctgrind.h"

#include "common/ct.h"
#include "privagg/common.h"
#include "privagg/hpke.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

void pa_ct_declassify(void *p, size_t n)
{
    PUBLIC(p, n);
}

enum { NPT = 300 };
static const uint8_t INFO[] = "privagg ctgrind";
static const uint8_t AAD[] = "aad";

typedef struct {
    uint8_t sk[PA_HPKE_NSK], pk[PA_HPKE_NPK];
    uint8_t enc[PA_HPKE_NENC], enc2[PA_HPKE_NENC];
    uint8_t pt[NPT], ct[NPT + PA_HPKE_NT], ct2[2][NPT + PA_HPKE_NT];
} fixture;

/* Keys and three sealed messages: one single-shot, two on one context. */
static int make(fixture *f)
{
    uint8_t ikm[32];
    pa_hpke_ctx ctx;
    pa_hpke_params prm;
    memset(ikm, 0x33, sizeof ikm);
    for (int i = 0; i < NPT; i++)
        f->pt[i] = (uint8_t)(i * 7);
    if (pa_hpke_derive_keypair(f->sk, f->pk, ikm, sizeof ikm) != PA_OK)
        return -1;
    if (pa_hpke_seal_base(f->enc, f->ct, f->pk, INFO, sizeof INFO - 1, AAD, sizeof AAD - 1, f->pt, NPT) != PA_OK)
        return -1;
    memset(&prm, 0, sizeof prm);
    prm.mode = PA_HPKE_MODE_BASE;
    prm.info = INFO;
    prm.info_len = sizeof INFO - 1;
    if (pa_hpke_setup_sender(&ctx, f->enc2, f->pk, NULL, &prm) != PA_OK)
        return -1;
    for (int k = 0; k < 2; k++)
        if (pa_hpke_seal(&ctx, f->ct2[k], AAD, sizeof AAD - 1, f->pt, NPT) != PA_OK)
            return -1;
    pa_hpke_ctx_wipe(&ctx);
    return 0;
}

static unsigned g_nLast;

static unsigned step(const char *zStep)
{
    unsigned n = (unsigned)VALGRIND_COUNT_ERRORS, d = n - g_nLast;
    g_nLast = n;
    fprintf(stderr, "ctgrind: hpke %s: %u report(s)\n", zStep, d);
    return d;
}

/* The opens, with the secrets marked when bMark (the valgrind run).  Returns
 * 0, or 1 when a plaintext or a verdict is wrong. */
static int opens(fixture *f, int bMark, unsigned *pnReports)
{
    uint8_t out[NPT];
    pa_hpke_ctx ctx;
    pa_hpke_params prm;
    int rc, bad = 0;
    unsigned n = 0;

    /* 1. single shot */
    if (bMark) {
        SECRET(f->sk, sizeof f->sk);
        SECRET(f->ct, sizeof f->ct);
    }
    rc = pa_hpke_open_base(out, f->enc, f->sk, INFO, sizeof INFO - 1, AAD, sizeof AAD - 1, f->ct, sizeof f->ct);
    if (bMark) {
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, sizeof out);
        n += step("open_base");
    }
    bad |= rc != PA_OK || memcmp(out, f->pt, NPT) != 0;

    /* 2. the leader's path: setup with the key pair, two opens on one context */
    memset(&prm, 0, sizeof prm);
    prm.mode = PA_HPKE_MODE_BASE;
    prm.info = INFO;
    prm.info_len = sizeof INFO - 1;
    if (bMark) {
        SECRET(f->sk, sizeof f->sk);
        SECRET(f->ct2, sizeof f->ct2);
    }
    rc = pa_hpke_setup_receiver_keypair(&ctx, f->enc2, f->sk, f->pk, NULL, &prm);
    if (bMark) {
        PUBLIC(&rc, sizeof rc);
        n += step("setup_receiver_keypair");
    }
    bad |= rc != PA_OK;
    for (int k = 0; k < 2 && rc == PA_OK; k++) {
        int r = pa_hpke_open(&ctx, out, AAD, sizeof AAD - 1, f->ct2[k], sizeof f->ct2[k]);
        if (bMark) {
            PUBLIC(&r, sizeof r);
            PUBLIC(out, sizeof out);
            n += step(k == 0 ? "open (seq 0)" : "open (seq 1)");
        }
        bad |= r != PA_OK || memcmp(out, f->pt, NPT) != 0;
    }
    pa_hpke_ctx_wipe(&ctx);

    /* 3. a tampered ciphertext: refused, the output zeroed */
    if (bMark)
        PUBLIC(f->ct, sizeof f->ct);
    f->ct[17] ^= 1;
    if (bMark) {
        SECRET(f->sk, sizeof f->sk);
        SECRET(f->ct, sizeof f->ct);
    }
    rc = pa_hpke_open_base(out, f->enc, f->sk, INFO, sizeof INFO - 1, AAD, sizeof AAD - 1, f->ct, sizeof f->ct);
    if (bMark) {
        PUBLIC(&rc, sizeof rc);
        PUBLIC(out, sizeof out);
        PUBLIC(f->ct, sizeof f->ct);
        n += step("open_base, tampered");
    }
    f->ct[17] ^= 1;
    bad |= rc == PA_OK;
    for (int i = 0; i < NPT; i++)
        bad |= out[i] != 0;
    if (bMark)
        PUBLIC(f->sk, sizeof f->sk);
    *pnReports = n;
    return bad;
}

static int ctgrind_body(void)
{
    fixture f;
    unsigned n = 0;
    if (make(&f) != 0)
        return 2;
    g_nLast = (unsigned)VALGRIND_COUNT_ERRORS;
    int bad = opens(&f, 1, &n);
    fprintf(stderr, "ctgrind: hpke total: %u report(s)%s\n", n, bad ? ", and a wrong result" : "");
    return bad ? 2 : (int)n;
}

static void test_opens_natively(void **state)
{
    fixture f;
    unsigned n = 0;
    (void)state;
    assert_int_equal(make(&f), 0);
    assert_int_equal(opens(&f, 0, &n), 0);
}

int main(int argc, char **argv)
{
    int rc = ctgrind_dispatch(argc, argv, ctgrind_body);
    if (rc >= 0)
        return rc;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_opens_natively)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
