/*
 * TurboSHAKE128 (RFC 9861 §2.1 / draft-irtf-cfrg-kangarootwelve): a sponge on
 * Keccak-p[1600, 12] (the last 12 rounds of Keccak-f[1600], FIPS 202 §3.3 with
 * round indices 12..23), rate 168 bytes, padding "M || D || 0x00.. || 0x80".
 * Written here because Debian's libsodium (1.0.18) has no Keccak at all.
 *
 * This file is the sponge (byte positions, padding, squeezing) and the choice
 * of permutation backend (keccak_impl.h).  Full blocks go straight from the
 * caller's buffer to the backend's absorb loop, which keeps the state in
 * registers; only a partial first/last block goes byte by byte.
 *
 * Dispatch: on x86-64, AVX-512VL (one lane per vector register, ternlog/rol:
 * 45 us per 69 KB on Zen 4) > BMI2 (scalar with andn/rorx: 53 us) > portable
 * (63 us), asked of __builtin_cpu_supports on every call: libgcc/compiler-rt
 * fill its table in a constructor before main, so reading it is a couple of
 * loads, with no lazily written cache that threads would race on.  Tests and benchmarks
 * may force one backend (pa_turboshake128_set_impl), held in an atomic int.
 *
 * Two sponges side by side (pa_turboshake128_absorb2): with AVX-512VL the full
 * blocks of two sponges at the same block offset go through the two-state
 * backend; otherwise (or when a test forced another backend) it is two
 * ordinary absorbs.  Every backend gives the same result; none branches on
 * data, so the whole sponge is constant time.
 */
#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "common/ct.h"
#include "privagg/common.h"
#include "xof/keccak_impl.h"
#include "xof/turboshake128.h"

/* PA_TURBOSHAKE128_IMPL_AUTO, or the backend a test or benchmark forced. */
static atomic_int g_forced_impl = PA_TURBOSHAKE128_IMPL_AUTO;

/* 1 if this CPU can run backend impl (PA_TURBOSHAKE128_IMPL_*, not AUTO). */
static int cpu_has(int impl)
{
    switch (impl) {
    case PA_TURBOSHAKE128_IMPL_PORTABLE:
        return 1;
#if PA_KECCAK_X86
    case PA_TURBOSHAKE128_IMPL_BMI2:
        return __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    case PA_TURBOSHAKE128_IMPL_AVX512VL:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#endif
    default:
        return 0;
    }
}

/* The backend to use now: the forced one, else the best this CPU has. */
static int active_impl(void)
{
    int impl = atomic_load_explicit(&g_forced_impl, memory_order_relaxed);

    if (impl != PA_TURBOSHAKE128_IMPL_AUTO)
        return impl;
    if (cpu_has(PA_TURBOSHAKE128_IMPL_AVX512VL))
        return PA_TURBOSHAKE128_IMPL_AVX512VL;
    if (cpu_has(PA_TURBOSHAKE128_IMPL_BMI2))
        return PA_TURBOSHAKE128_IMPL_BMI2;
    return PA_TURBOSHAKE128_IMPL_PORTABLE;
}

int pa_turboshake128_set_impl(int impl)
{
    if (impl != PA_TURBOSHAKE128_IMPL_AUTO && !cpu_has(impl))
        return pa_fail(PA_EUNSUPPORTED, "turboshake128 impl: %d, not available on this CPU/build",
                       impl);
    atomic_store_explicit(&g_forced_impl, impl, memory_order_relaxed);
    return 0;
}

int pa_turboshake128_impl(void)
{
    return active_impl();
}

static void permute(int impl, uint64_t s[25])
{
#if PA_KECCAK_X86
    if (impl == PA_TURBOSHAKE128_IMPL_AVX512VL) {
        pa_keccak_p12_avx512(s);
        return;
    }
    if (impl == PA_TURBOSHAKE128_IMPL_BMI2) {
        pa_keccak_p12_bmi2(s);
        return;
    }
#endif
    (void)impl;
    pa_keccak_p12_portable(s);
}

static void absorb_blocks(int impl, uint64_t s[25], const uint8_t *in, size_t nblocks)
{
#if PA_KECCAK_X86
    if (impl == PA_TURBOSHAKE128_IMPL_AVX512VL) {
        pa_keccak_absorb_avx512(s, in, nblocks);
        return;
    }
    if (impl == PA_TURBOSHAKE128_IMPL_BMI2) {
        pa_keccak_absorb_bmi2(s, in, nblocks);
        return;
    }
#endif
    (void)impl;
    pa_keccak_absorb_portable(s, in, nblocks);
}

/* Keccak-p[1600, 12] in place, on the best backend. */
void pa_keccak_p1600_12(uint64_t s[25])
{
    permute(active_impl(), s);
}

/* XOR len bytes into the state starting at byte offset pos (pos + len <= rate). */
static void xor_bytes(uint64_t s[25], size_t pos, const uint8_t *in, size_t len)
{
#if PA_TS_LITTLE_ENDIAN
    uint8_t *bytes = (uint8_t *)s;
    for (size_t i = 0; i < len; i++)
        bytes[pos + i] ^= in[i];
#else
    for (size_t i = 0; i < len; i++)
        s[(pos + i) >> 3] ^= (uint64_t)in[i] << (8 * ((pos + i) & 7));
#endif
}

/* Copy len bytes of the state starting at byte offset pos. */
static void extract_bytes(const uint64_t s[25], size_t pos, uint8_t *out, size_t len)
{
#if PA_TS_LITTLE_ENDIAN
    memcpy(out, (const uint8_t *)s + pos, len);
#else
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(s[(pos + i) >> 3] >> (8 * ((pos + i) & 7)));
#endif
}

void pa_turboshake128_init(pa_turboshake128 *st, uint8_t domain)
{
    assert(domain >= 0x01 && domain <= 0x7F);
    memset(st->a, 0, sizeof st->a);
    st->pos = 0;
    st->squeezing = 0;
    st->domain = domain;
}

void pa_turboshake128_absorb(pa_turboshake128 *st, const uint8_t *in, size_t len)
{
    int impl = active_impl();

    assert(!st->squeezing);
    if (len == 0)
        return;
    if (st->pos > 0) {
        size_t n = PA_TURBOSHAKE128_RATE - st->pos;
        if (n > len)
            n = len;
        xor_bytes(st->a, st->pos, in, n);
        st->pos += n;
        in += n;
        len -= n;
        if (st->pos < PA_TURBOSHAKE128_RATE)
            return;
        permute(impl, st->a);
        st->pos = 0;
    }
    if (len >= PA_TURBOSHAKE128_RATE) {
        size_t nblocks = len / PA_TURBOSHAKE128_RATE;
        absorb_blocks(impl, st->a, in, nblocks);
        in += nblocks * PA_TURBOSHAKE128_RATE;
        len -= nblocks * PA_TURBOSHAKE128_RATE;
    }
    if (len > 0) {
        xor_bytes(st->a, 0, in, len);
        st->pos = len;
    }
}

/* RFC 9861 §2.1: M || D, zero fill, last byte of the block ^= 0x80. */
static void finalise(pa_turboshake128 *st)
{
    const uint8_t d = st->domain, end = 0x80;

    xor_bytes(st->a, st->pos, &d, 1);
    xor_bytes(st->a, PA_TURBOSHAKE128_RATE - 1, &end, 1);
    pa_keccak_p1600_12(st->a);
    st->pos = 0;
    st->squeezing = 1;
}

void pa_turboshake128_squeeze(pa_turboshake128 *st, uint8_t *out, size_t len)
{
    int impl = active_impl();

    if (!st->squeezing)
        finalise(st);
    while (len > 0) {
        if (st->pos == PA_TURBOSHAKE128_RATE) {
            permute(impl, st->a);
            st->pos = 0;
        }
        size_t n = PA_TURBOSHAKE128_RATE - st->pos;
        if (n > len)
            n = len;
        extract_bytes(st->a, st->pos, out, n);
        st->pos += n;
        out += n;
        len -= n;
    }
}

void pa_turboshake128_absorb2(pa_turboshake128 *st1, const uint8_t *in1, pa_turboshake128 *st2,
                              const uint8_t *in2, size_t len)
{
#if PA_KECCAK_X86
    if (active_impl() == PA_TURBOSHAKE128_IMPL_AVX512VL && st1->pos == st2->pos &&
        !st1->squeezing && !st2->squeezing) {
        size_t head = st1->pos > 0 ? PA_TURBOSHAKE128_RATE - st1->pos : 0;
        if (head > len)
            head = len;
        if (head > 0) { /* extend (or complete and permute together) the partial blocks */
            xor_bytes(st1->a, st1->pos, in1, head);
            xor_bytes(st2->a, st2->pos, in2, head);
            st1->pos += head;
            st2->pos += head;
            if (st1->pos == PA_TURBOSHAKE128_RATE) {
                pa_keccak_p12_x2_avx512(st1->a, st2->a);
                st1->pos = st2->pos = 0;
            }
        }
        in1 += head;
        in2 += head;
        len -= head;
        if (st1->pos == 0 && len >= PA_TURBOSHAKE128_RATE) {
            size_t nblocks = len / PA_TURBOSHAKE128_RATE;
            pa_keccak_absorb_x2_avx512(st1->a, in1, st2->a, in2, nblocks);
            in1 += nblocks * PA_TURBOSHAKE128_RATE;
            in2 += nblocks * PA_TURBOSHAKE128_RATE;
            len -= nblocks * PA_TURBOSHAKE128_RATE;
        }
    }
#endif
    pa_turboshake128_absorb(st1, in1, len);
    pa_turboshake128_absorb(st2, in2, len);
}

void pa_turboshake128_wipe(pa_turboshake128 *st)
{
    pa_wipe(st, sizeof *st);
}

void pa_turboshake128_oneshot(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len,
                              uint8_t domain)
{
    pa_turboshake128 st;

    pa_turboshake128_init(&st, domain);
    pa_turboshake128_absorb(&st, in, in_len);
    pa_turboshake128_squeeze(&st, out, out_len);
    pa_turboshake128_wipe(&st);
}
