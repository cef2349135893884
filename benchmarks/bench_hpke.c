/*
 * Benchmarks of the hpke module (RFC 9180, X25519 / HKDF-SHA256 / ChaCha20Poly1305):
 * seal + open of a 4 KiB message on an established base-mode context (the AEAD
 * path), and a full base-mode setup (sender + receiver: two X25519 and the key
 * schedule) plus one seal + open, which is what one report share costs.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "bench.h"
#include "privagg/hpke.h"

#define BENCH_HPKE_MSG 4096

struct hpke_ctx {
    uint8_t skR[PA_HPKE_NSK], pkR[PA_HPKE_NPK], enc[PA_HPKE_NENC];
    pa_hpke_ctx s, r;
    pa_hpke_params p;
    uint8_t pt[BENCH_HPKE_MSG], ct[BENCH_HPKE_MSG + PA_HPKE_NT], back[BENCH_HPKE_MSG];
    int failed;
};

static void run_seal_open(void *v)
{
    struct hpke_ctx *c = v;
    if (pa_hpke_seal(&c->s, c->ct, (const uint8_t *)"aad", 3, c->pt, sizeof c->pt) != 0 ||
        pa_hpke_open(&c->r, c->back, (const uint8_t *)"aad", 3, c->ct, sizeof c->ct) != 0)
        c->failed = 1;
}

static void run_setup_seal_open(void *v)
{
    struct hpke_ctx *c = v;
    pa_hpke_ctx s, r;

    if (pa_hpke_setup_sender(&s, c->enc, c->pkR, NULL, &c->p) != 0 ||
        pa_hpke_setup_receiver(&r, c->enc, c->skR, NULL, &c->p) != 0 ||
        pa_hpke_seal(&s, c->ct, NULL, 0, c->pt, sizeof c->pt) != 0 ||
        pa_hpke_open(&r, c->back, NULL, 0, c->ct, sizeof c->ct) != 0)
        c->failed = 1;
    pa_hpke_ctx_wipe(&s);
    pa_hpke_ctx_wipe(&r);
}

void pa_bench_hpke(pa_bench *b)
{
    static struct hpke_ctx c;
    static const uint8_t info[] = "privagg bench";

    memset(&c, 0, sizeof c);
    c.p.mode = PA_HPKE_MODE_BASE;
    c.p.info = info;
    c.p.info_len = sizeof info;
    memset(c.pt, 0x5a, sizeof c.pt);
    if (pa_hpke_keygen(c.skR, c.pkR) != 0 ||
        pa_hpke_setup_sender(&c.s, c.enc, c.pkR, NULL, &c.p) != 0 ||
        pa_hpke_setup_receiver(&c.r, c.enc, c.skR, NULL, &c.p) != 0) {
        pa_bench_fail(b, "hpke", "set-up failed");
        return;
    }
    double ns = pa_bench_time_ns(b, run_seal_open, &c, 1.0);
    if (!c.failed)
        pa_bench_add(b, "hpke", "seal_open_4k", "base mode, 4 KiB message, context set up",
                     ns / 1e3, "us", NULL);
    ns = pa_bench_time_ns(b, run_setup_seal_open, &c, 1.0);
    if (!c.failed)
        pa_bench_add(b, "hpke", "setup_seal_open_4k", "base mode, both setups + 4 KiB seal/open",
                     ns / 1e3, "us", NULL);
    if (c.failed)
        pa_bench_fail(b, "hpke", "a seal or open failed");
    pa_hpke_ctx_wipe(&c.s);
    pa_hpke_ctx_wipe(&c.r);
    sodium_memzero(c.skR, sizeof c.skR);
}
