/*
 * The Keccak-p[1600, 12] backends of the TurboSHAKE128 sponge (internal to
 * protocols/xof; turboshake128.c picks one at run time).  Written here because
 * Debian's libsodium (1.0.18) has no Keccak.
 *
 * Every backend computes exactly the same function (FIPS 202 §3.3 rounds 12..23,
 * RFC 9861 §2.2); they differ only in the instructions used:
 *   portable  64-bit scalar C, any CPU (keccak_portable.c);
 *   bmi2      the same C compiled for BMI1+BMI2 (andn, rorx) (keccak_bmi2.c);
 *   avx512    one 64-bit lane per 128-bit register, vpternlogq and vprolq, and a
 *             two-state variant with one state in each half (keccak_avx512.c).
 * The x86 backends exist only when PA_KECCAK_X86 is 1: x86-64 with GCC or
 * clang, and PA_KECCAK_PORTABLE_ONLY not defined (-DPA_KECCAK_PORTABLE_ONLY
 * builds what a non-x86 target gets, to test that path).  Callers MUST check
 * the CPU (__builtin_cpu_supports) before calling them.  None branches on or
 * indexes by data: all are constant time.
 *
 * Contracts shared by all:
 *   p12(s)                  s <- Keccak-p[1600, 12](s); lane (x, y) at s[x + 5y].
 *   absorb(s, in, nblocks)  for each of nblocks 168-byte blocks of in: XOR the
 *                           block (21 little-endian lanes) into s[0..20], then
 *                           permute.  in MUST NOT overlap s; nblocks may be 0.
 *   *_x2(s1, .., s2, ..)    the same on two states at once; s1 and s2 MUST be
 *                           distinct and not overlap in1/in2.
 */
#ifndef PA_XOF_KECCAK_IMPL_H
#define PA_XOF_KECCAK_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* 1 where lanes can be loaded from bytes with memcpy (the sponge and the backends). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PA_TS_LITTLE_ENDIAN 1
#else
#define PA_TS_LITTLE_ENDIAN 0
#endif

void pa_keccak_p12_portable(uint64_t s[25]);
void pa_keccak_absorb_portable(uint64_t s[25], const uint8_t *in, size_t nblocks);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(PA_KECCAK_PORTABLE_ONLY)
#define PA_KECCAK_X86 1

/* MUST only run where __builtin_cpu_supports("bmi") and ("bmi2"). */
void pa_keccak_p12_bmi2(uint64_t s[25]);
void pa_keccak_absorb_bmi2(uint64_t s[25], const uint8_t *in, size_t nblocks);

/* MUST only run where __builtin_cpu_supports("avx512f") and ("avx512vl"). */
void pa_keccak_p12_avx512(uint64_t s[25]);
void pa_keccak_absorb_avx512(uint64_t s[25], const uint8_t *in, size_t nblocks);
void pa_keccak_p12_x2_avx512(uint64_t s1[25], uint64_t s2[25]);
void pa_keccak_absorb_x2_avx512(uint64_t s1[25], const uint8_t *in1, uint64_t s2[25],
                                const uint8_t *in2, size_t nblocks);
#else
#define PA_KECCAK_X86 0
#endif

#endif
