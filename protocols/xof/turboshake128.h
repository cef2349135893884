/*
 * TurboSHAKE128 (RFC 9861 §2.1, draft-irtf-cfrg-kangarootwelve): the sponge on
 * Keccak-p[1600, n_r = 12] with rate 168 bytes and a domain-separation byte D in
 * 0x01..0x7F.  Written here because Debian's libsodium (1.0.18) has no Keccak.
 *
 * Contract: a pa_turboshake128 lives on the caller's stack; init it, absorb any
 * number of times, then squeeze any number of times (the first squeeze pads and
 * finalises; absorbing after squeezing is a programmer error and asserts).  The
 * state may hold secret material: call pa_turboshake128_wipe() when done with it.
 * Input and output buffers may not overlap the state; in and out of the one-shot
 * may alias each other only if they are identical.
 */
#ifndef PA_TURBOSHAKE128_H
#define PA_TURBOSHAKE128_H

#include <stddef.h>
#include <stdint.h>

#define PA_TURBOSHAKE128_RATE 168 /* bytes absorbed/squeezed per permutation */

typedef struct {
    uint64_t a[25];  /* Keccak state, lane (x, y) at a[x + 5y]; bytes little-endian */
    size_t pos;      /* byte offset in the current block (absorb or squeeze) */
    int squeezing;   /* 0 while absorbing, 1 after the padding was applied */
    uint8_t domain;  /* D, 0x01..0x7F */
} pa_turboshake128;

/* Start a TurboSHAKE128 computation.  domain MUST be in 0x01..0x7F (asserts). */
void pa_turboshake128_init(pa_turboshake128 *st, uint8_t domain);

/* Absorb len bytes (in may be NULL if len == 0).  MUST be called before any squeeze. */
void pa_turboshake128_absorb(pa_turboshake128 *st, const uint8_t *in, size_t len);

/*
 * Absorb len bytes into each of two independent sponges: the same as
 * absorb(st1, in1, len); absorb(st2, in2, len).  When both are at the same offset
 * in their block and the CPU has AVX-512VL, the full blocks of both go through one
 * two-lane permutation.  st1 and st2 MUST be distinct; in1/in2 may be NULL if len == 0.
 */
void pa_turboshake128_absorb2(pa_turboshake128 *st1, const uint8_t *in1, pa_turboshake128 *st2,
                              const uint8_t *in2, size_t len);

/* Write the next len bytes of output.  The first call pads; repeated calls continue the stream. */
void pa_turboshake128_squeeze(pa_turboshake128 *st, uint8_t *out, size_t len);

/* Erase the state (it may have absorbed secrets). */
void pa_turboshake128_wipe(pa_turboshake128 *st);

/*
 * One shot: out = TurboSHAKE128(in, domain, out_len).  Wipes its state.
 * (api.md named this pa_turboshake128, but C cannot have a function and the state
 * typedef under one name; the typedef keeps the name, the one-shot is _oneshot.)
 */
void pa_turboshake128_oneshot(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len,
                              uint8_t domain);

/* The permutation Keccak-p[1600, 12] on 25 lanes (exposed for tests). */
void pa_keccak_p1600_12(uint64_t a[25]);

/*
 * Backends of the permutation, for tests and benchmarks.  By default (AUTO) each
 * call takes the fastest one this CPU has: AVX512VL > BMI2 > PORTABLE; all give
 * identical results.  The non-portable ones exist only on x86-64 built with GCC
 * or clang.
 */
#define PA_TURBOSHAKE128_IMPL_AUTO 0
#define PA_TURBOSHAKE128_IMPL_PORTABLE 1 /* 64-bit scalar C, any CPU */
#define PA_TURBOSHAKE128_IMPL_BMI2 2     /* the scalar C with andn/rorx (BMI1+BMI2) */
#define PA_TURBOSHAKE128_IMPL_AVX512VL 3 /* one lane per xmm register, vpternlogq/vprolq */

/*
 * Force every later TurboSHAKE128 call, in all threads, onto one backend (AUTO
 * restores the default).  For tests and benchmarks only: switching while another
 * thread is mid-absorb is safe (each call reads the setting once per call; the
 * state format is shared) but mixes backends within that computation.  Returns 0,
 * or PA_EUNSUPPORTED if impl is unknown or this CPU/build lacks it (nothing changes).
 */
int pa_turboshake128_set_impl(int impl);

/* The backend the next call will use (PA_TURBOSHAKE128_IMPL_*, never AUTO). */
int pa_turboshake128_impl(void);

#endif
