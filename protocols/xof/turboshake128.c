/*
 * TurboSHAKE128 (RFC 9861 §2.1 / draft-irtf-cfrg-kangarootwelve): a sponge on
 * Keccak-p[1600, 12] (the last 12 rounds of Keccak-f[1600], FIPS 202 §3.3 with
 * round indices 12..23), rate 168 bytes, padding "M || D || 0x00.. || 0x80".
 * Written here because Debian's libsodium (1.0.18) has no Keccak at all.
 *
 * Strategy ("64-bit lanes, fully unrolled"): the 25 lanes live in local
 * variables for the whole run of full blocks; each round is one macro over
 * named lanes (theta, rho+pi, chi, iota fused per output plane), twelve rounds
 * expanded inline, alternating two lane sets so nothing is copied.  Full blocks
 * are absorbed straight from the caller's buffer with 64-bit little-endian loads
 * (memcpy); only a partial first/last block goes byte by byte.  No branch or
 * table index depends on the data, so the code is constant time.
 *
 * Two sponges side by side (pa_turboshake128_absorb2): on x86-64 CPUs with
 * AVX-512VL (checked at run time) the full blocks of two independent sponges
 * are absorbed together, lane i of both states in one 128-bit register, with
 * vprolq for the rotations and vpternlogq for the three-input XORs and chi;
 * everywhere else, or when the two sponges are not at the same block offset,
 * it is two ordinary absorbs.  The results are those of the scalar code.
 */
#include <assert.h>
#include <string.h>

#include "common/ct.h"
#include "xof/turboshake128.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PA_TS_LITTLE_ENDIAN 1
#else
#define PA_TS_LITTLE_ENDIAN 0
#endif

#define PA_ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

static inline uint64_t load64_le(const uint8_t *p)
{
#if PA_TS_LITTLE_ENDIAN
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
#endif
}

/*
 * One round of Keccak-p on lane set A into lane set E: lane (x, y) is A##(x+5y).
 * Output plane Y of rho+pi takes B[X] = ROL(A[x, X] ^ D[x], r[x][X]) with
 * x = 3(Y - 3X) mod 5 (pi: (X, Y) = (y, 2x + 3y)), then chi along the plane;
 * iota adds the round constant to lane (0, 0).
 */
#define PA_KECCAK_ROUND(A, E, rc) \
    do { \
        uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4; \
        c0 = A##0 ^ A##5 ^ A##10 ^ A##15 ^ A##20; \
        c1 = A##1 ^ A##6 ^ A##11 ^ A##16 ^ A##21; \
        c2 = A##2 ^ A##7 ^ A##12 ^ A##17 ^ A##22; \
        c3 = A##3 ^ A##8 ^ A##13 ^ A##18 ^ A##23; \
        c4 = A##4 ^ A##9 ^ A##14 ^ A##19 ^ A##24; \
        d0 = c4 ^ PA_ROL64(c1, 1); \
        d1 = c0 ^ PA_ROL64(c2, 1); \
        d2 = c1 ^ PA_ROL64(c3, 1); \
        d3 = c2 ^ PA_ROL64(c4, 1); \
        d4 = c3 ^ PA_ROL64(c0, 1); \
        b0 = (A##0 ^ d0); \
        b1 = PA_ROL64((A##6 ^ d1), 44); \
        b2 = PA_ROL64((A##12 ^ d2), 43); \
        b3 = PA_ROL64((A##18 ^ d3), 21); \
        b4 = PA_ROL64((A##24 ^ d4), 14); \
        E##0 = b0 ^ (~b1 & b2) ^ (rc); \
        E##1 = b1 ^ (~b2 & b3); \
        E##2 = b2 ^ (~b3 & b4); \
        E##3 = b3 ^ (~b4 & b0); \
        E##4 = b4 ^ (~b0 & b1); \
        b0 = PA_ROL64((A##3 ^ d3), 28); \
        b1 = PA_ROL64((A##9 ^ d4), 20); \
        b2 = PA_ROL64((A##10 ^ d0), 3); \
        b3 = PA_ROL64((A##16 ^ d1), 45); \
        b4 = PA_ROL64((A##22 ^ d2), 61); \
        E##5 = b0 ^ (~b1 & b2); \
        E##6 = b1 ^ (~b2 & b3); \
        E##7 = b2 ^ (~b3 & b4); \
        E##8 = b3 ^ (~b4 & b0); \
        E##9 = b4 ^ (~b0 & b1); \
        b0 = PA_ROL64((A##1 ^ d1), 1); \
        b1 = PA_ROL64((A##7 ^ d2), 6); \
        b2 = PA_ROL64((A##13 ^ d3), 25); \
        b3 = PA_ROL64((A##19 ^ d4), 8); \
        b4 = PA_ROL64((A##20 ^ d0), 18); \
        E##10 = b0 ^ (~b1 & b2); \
        E##11 = b1 ^ (~b2 & b3); \
        E##12 = b2 ^ (~b3 & b4); \
        E##13 = b3 ^ (~b4 & b0); \
        E##14 = b4 ^ (~b0 & b1); \
        b0 = PA_ROL64((A##4 ^ d4), 27); \
        b1 = PA_ROL64((A##5 ^ d0), 36); \
        b2 = PA_ROL64((A##11 ^ d1), 10); \
        b3 = PA_ROL64((A##17 ^ d2), 15); \
        b4 = PA_ROL64((A##23 ^ d3), 56); \
        E##15 = b0 ^ (~b1 & b2); \
        E##16 = b1 ^ (~b2 & b3); \
        E##17 = b2 ^ (~b3 & b4); \
        E##18 = b3 ^ (~b4 & b0); \
        E##19 = b4 ^ (~b0 & b1); \
        b0 = PA_ROL64((A##2 ^ d2), 62); \
        b1 = PA_ROL64((A##8 ^ d3), 55); \
        b2 = PA_ROL64((A##14 ^ d4), 39); \
        b3 = PA_ROL64((A##15 ^ d0), 41); \
        b4 = PA_ROL64((A##21 ^ d1), 2); \
        E##20 = b0 ^ (~b1 & b2); \
        E##21 = b1 ^ (~b2 & b3); \
        E##22 = b2 ^ (~b3 & b4); \
        E##23 = b3 ^ (~b4 & b0); \
        E##24 = b4 ^ (~b0 & b1); \
    } while (0)

#define PA_KECCAK_P12(A, E) \
    do { \
        PA_KECCAK_ROUND(A, E, 0x000000008000808BULL); \
        PA_KECCAK_ROUND(E, A, 0x800000000000008BULL); \
        PA_KECCAK_ROUND(A, E, 0x8000000000008089ULL); \
        PA_KECCAK_ROUND(E, A, 0x8000000000008003ULL); \
        PA_KECCAK_ROUND(A, E, 0x8000000000008002ULL); \
        PA_KECCAK_ROUND(E, A, 0x8000000000000080ULL); \
        PA_KECCAK_ROUND(A, E, 0x000000000000800AULL); \
        PA_KECCAK_ROUND(E, A, 0x800000008000000AULL); \
        PA_KECCAK_ROUND(A, E, 0x8000000080008081ULL); \
        PA_KECCAK_ROUND(E, A, 0x8000000000008080ULL); \
        PA_KECCAK_ROUND(A, E, 0x0000000080000001ULL); \
        PA_KECCAK_ROUND(E, A, 0x8000000080008008ULL); \
    } while (0)

#define PA_LANES_DECLARE(A) \
    uint64_t A##0, A##1, A##2, A##3, A##4; \
    uint64_t A##5, A##6, A##7, A##8, A##9; \
    uint64_t A##10, A##11, A##12, A##13, A##14; \
    uint64_t A##15, A##16, A##17, A##18, A##19; \
    uint64_t A##20, A##21, A##22, A##23, A##24; \
    (void)0
#define PA_LANES_LOAD(A, s) \
    do { \
        A##0 = (s)[0]; A##1 = (s)[1]; A##2 = (s)[2]; A##3 = (s)[3]; A##4 = (s)[4]; \
        A##5 = (s)[5]; A##6 = (s)[6]; A##7 = (s)[7]; A##8 = (s)[8]; A##9 = (s)[9]; \
        A##10 = (s)[10]; A##11 = (s)[11]; A##12 = (s)[12]; A##13 = (s)[13]; A##14 = (s)[14]; \
        A##15 = (s)[15]; A##16 = (s)[16]; A##17 = (s)[17]; A##18 = (s)[18]; A##19 = (s)[19]; \
        A##20 = (s)[20]; A##21 = (s)[21]; A##22 = (s)[22]; A##23 = (s)[23]; A##24 = (s)[24]; \
    } while (0)
#define PA_LANES_STORE(s, A) \
    do { \
        (s)[0] = A##0; (s)[1] = A##1; (s)[2] = A##2; (s)[3] = A##3; (s)[4] = A##4; \
        (s)[5] = A##5; (s)[6] = A##6; (s)[7] = A##7; (s)[8] = A##8; (s)[9] = A##9; \
        (s)[10] = A##10; (s)[11] = A##11; (s)[12] = A##12; (s)[13] = A##13; (s)[14] = A##14; \
        (s)[15] = A##15; (s)[16] = A##16; (s)[17] = A##17; (s)[18] = A##18; (s)[19] = A##19; \
        (s)[20] = A##20; (s)[21] = A##21; (s)[22] = A##22; (s)[23] = A##23; (s)[24] = A##24; \
    } while (0)
#define PA_LANES_XOR_BLOCK(A, p) \
    do { \
        A##0 ^= load64_le((p) + 0); \
        A##1 ^= load64_le((p) + 8); \
        A##2 ^= load64_le((p) + 16); \
        A##3 ^= load64_le((p) + 24); \
        A##4 ^= load64_le((p) + 32); \
        A##5 ^= load64_le((p) + 40); \
        A##6 ^= load64_le((p) + 48); \
        A##7 ^= load64_le((p) + 56); \
        A##8 ^= load64_le((p) + 64); \
        A##9 ^= load64_le((p) + 72); \
        A##10 ^= load64_le((p) + 80); \
        A##11 ^= load64_le((p) + 88); \
        A##12 ^= load64_le((p) + 96); \
        A##13 ^= load64_le((p) + 104); \
        A##14 ^= load64_le((p) + 112); \
        A##15 ^= load64_le((p) + 120); \
        A##16 ^= load64_le((p) + 128); \
        A##17 ^= load64_le((p) + 136); \
        A##18 ^= load64_le((p) + 144); \
        A##19 ^= load64_le((p) + 152); \
        A##20 ^= load64_le((p) + 160); \
    } while (0)

/* Keccak-p[1600, 12] in place. */
void pa_keccak_p1600_12(uint64_t s[25])
{
    PA_LANES_DECLARE(a);
    PA_LANES_DECLARE(e);

    PA_LANES_LOAD(a, s);
    PA_KECCAK_P12(a, e);
    PA_LANES_STORE(s, a);
}

/* Fast path: absorb nblocks full 168-byte blocks, lanes kept in registers throughout. */
static void absorb_blocks(uint64_t s[25], const uint8_t *in, size_t nblocks)
{
    PA_LANES_DECLARE(a);
    PA_LANES_DECLARE(e);

    PA_LANES_LOAD(a, s);
    while (nblocks-- > 0) {
        PA_LANES_XOR_BLOCK(a, in);
        PA_KECCAK_P12(a, e);
        in += PA_TURBOSHAKE128_RATE;
    }
    PA_LANES_STORE(s, a);
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
        pa_keccak_p1600_12(st->a);
        st->pos = 0;
    }
    if (len >= PA_TURBOSHAKE128_RATE) {
        size_t nblocks = len / PA_TURBOSHAKE128_RATE;
        absorb_blocks(st->a, in, nblocks);
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
    if (!st->squeezing)
        finalise(st);
    while (len > 0) {
        if (st->pos == PA_TURBOSHAKE128_RATE) {
            pa_keccak_p1600_12(st->a);
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PA_TS_X2 1
#include <immintrin.h>

#define PA_X2_ATTR __attribute__((target("avx512f,avx512vl")))
#define X2_XOR3(a, b, c) _mm_ternarylogic_epi64((a), (b), (c), 0x96)
#define X2_CHI(a, b, c) _mm_ternarylogic_epi64((a), (b), (c), 0xD2) /* a ^ (~b & c) */
#define X2_ROL(x, n) _mm_rol_epi64((x), (n))

/* One Keccak-p round on two states at once: the scalar round with vector lanes. */
#define PA_KECCAK_ROUND_X2(A, E, rc) \
    do { \
        __m128i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4; \
        c0 = X2_XOR3(X2_XOR3(A##0, A##5, A##10), A##15, A##20); \
        c1 = X2_XOR3(X2_XOR3(A##1, A##6, A##11), A##16, A##21); \
        c2 = X2_XOR3(X2_XOR3(A##2, A##7, A##12), A##17, A##22); \
        c3 = X2_XOR3(X2_XOR3(A##3, A##8, A##13), A##18, A##23); \
        c4 = X2_XOR3(X2_XOR3(A##4, A##9, A##14), A##19, A##24); \
        d0 = _mm_xor_si128(c4, X2_ROL(c1, 1)); \
        d1 = _mm_xor_si128(c0, X2_ROL(c2, 1)); \
        d2 = _mm_xor_si128(c1, X2_ROL(c3, 1)); \
        d3 = _mm_xor_si128(c2, X2_ROL(c4, 1)); \
        d4 = _mm_xor_si128(c3, X2_ROL(c0, 1)); \
        b0 = _mm_xor_si128(A##0, d0); \
        b1 = X2_ROL(_mm_xor_si128(A##6, d1), 44); \
        b2 = X2_ROL(_mm_xor_si128(A##12, d2), 43); \
        b3 = X2_ROL(_mm_xor_si128(A##18, d3), 21); \
        b4 = X2_ROL(_mm_xor_si128(A##24, d4), 14); \
        E##0 = _mm_xor_si128(X2_CHI(b0, b1, b2), _mm_set1_epi64x((long long)(rc))); \
        E##1 = X2_CHI(b1, b2, b3); \
        E##2 = X2_CHI(b2, b3, b4); \
        E##3 = X2_CHI(b3, b4, b0); \
        E##4 = X2_CHI(b4, b0, b1); \
        b0 = X2_ROL(_mm_xor_si128(A##3, d3), 28); \
        b1 = X2_ROL(_mm_xor_si128(A##9, d4), 20); \
        b2 = X2_ROL(_mm_xor_si128(A##10, d0), 3); \
        b3 = X2_ROL(_mm_xor_si128(A##16, d1), 45); \
        b4 = X2_ROL(_mm_xor_si128(A##22, d2), 61); \
        E##5 = X2_CHI(b0, b1, b2); \
        E##6 = X2_CHI(b1, b2, b3); \
        E##7 = X2_CHI(b2, b3, b4); \
        E##8 = X2_CHI(b3, b4, b0); \
        E##9 = X2_CHI(b4, b0, b1); \
        b0 = X2_ROL(_mm_xor_si128(A##1, d1), 1); \
        b1 = X2_ROL(_mm_xor_si128(A##7, d2), 6); \
        b2 = X2_ROL(_mm_xor_si128(A##13, d3), 25); \
        b3 = X2_ROL(_mm_xor_si128(A##19, d4), 8); \
        b4 = X2_ROL(_mm_xor_si128(A##20, d0), 18); \
        E##10 = X2_CHI(b0, b1, b2); \
        E##11 = X2_CHI(b1, b2, b3); \
        E##12 = X2_CHI(b2, b3, b4); \
        E##13 = X2_CHI(b3, b4, b0); \
        E##14 = X2_CHI(b4, b0, b1); \
        b0 = X2_ROL(_mm_xor_si128(A##4, d4), 27); \
        b1 = X2_ROL(_mm_xor_si128(A##5, d0), 36); \
        b2 = X2_ROL(_mm_xor_si128(A##11, d1), 10); \
        b3 = X2_ROL(_mm_xor_si128(A##17, d2), 15); \
        b4 = X2_ROL(_mm_xor_si128(A##23, d3), 56); \
        E##15 = X2_CHI(b0, b1, b2); \
        E##16 = X2_CHI(b1, b2, b3); \
        E##17 = X2_CHI(b2, b3, b4); \
        E##18 = X2_CHI(b3, b4, b0); \
        E##19 = X2_CHI(b4, b0, b1); \
        b0 = X2_ROL(_mm_xor_si128(A##2, d2), 62); \
        b1 = X2_ROL(_mm_xor_si128(A##8, d3), 55); \
        b2 = X2_ROL(_mm_xor_si128(A##14, d4), 39); \
        b3 = X2_ROL(_mm_xor_si128(A##15, d0), 41); \
        b4 = X2_ROL(_mm_xor_si128(A##21, d1), 2); \
        E##20 = X2_CHI(b0, b1, b2); \
        E##21 = X2_CHI(b1, b2, b3); \
        E##22 = X2_CHI(b2, b3, b4); \
        E##23 = X2_CHI(b3, b4, b0); \
        E##24 = X2_CHI(b4, b0, b1); \
    } while (0)

#define PA_KECCAK_P12_X2(A, E) \
    do { \
        PA_KECCAK_ROUND_X2(A, E, 0x000000008000808BULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x800000000000008BULL); \
        PA_KECCAK_ROUND_X2(A, E, 0x8000000000008089ULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x8000000000008003ULL); \
        PA_KECCAK_ROUND_X2(A, E, 0x8000000000008002ULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x8000000000000080ULL); \
        PA_KECCAK_ROUND_X2(A, E, 0x000000000000800AULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x800000008000000AULL); \
        PA_KECCAK_ROUND_X2(A, E, 0x8000000080008081ULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x8000000000008080ULL); \
        PA_KECCAK_ROUND_X2(A, E, 0x0000000080000001ULL); \
        PA_KECCAK_ROUND_X2(E, A, 0x8000000080008008ULL); \
    } while (0)

#define X2_DECLARE(A) \
    __m128i A##0, A##1, A##2, A##3, A##4, A##5, A##6, A##7, A##8, A##9, A##10, A##11, A##12, \
        A##13, A##14, A##15, A##16, A##17, A##18, A##19, A##20, A##21, A##22, A##23, A##24
#define X2_PAIR(s1, s2, i) _mm_set_epi64x((long long)(s2)[i], (long long)(s1)[i])
#define X2_LOAD(A, s1, s2) \
    do { \
        A##0 = X2_PAIR(s1, s2, 0); A##1 = X2_PAIR(s1, s2, 1); A##2 = X2_PAIR(s1, s2, 2); \
        A##3 = X2_PAIR(s1, s2, 3); A##4 = X2_PAIR(s1, s2, 4); A##5 = X2_PAIR(s1, s2, 5); \
        A##6 = X2_PAIR(s1, s2, 6); A##7 = X2_PAIR(s1, s2, 7); A##8 = X2_PAIR(s1, s2, 8); \
        A##9 = X2_PAIR(s1, s2, 9); A##10 = X2_PAIR(s1, s2, 10); A##11 = X2_PAIR(s1, s2, 11); \
        A##12 = X2_PAIR(s1, s2, 12); A##13 = X2_PAIR(s1, s2, 13); A##14 = X2_PAIR(s1, s2, 14); \
        A##15 = X2_PAIR(s1, s2, 15); A##16 = X2_PAIR(s1, s2, 16); A##17 = X2_PAIR(s1, s2, 17); \
        A##18 = X2_PAIR(s1, s2, 18); A##19 = X2_PAIR(s1, s2, 19); A##20 = X2_PAIR(s1, s2, 20); \
        A##21 = X2_PAIR(s1, s2, 21); A##22 = X2_PAIR(s1, s2, 22); A##23 = X2_PAIR(s1, s2, 23); \
        A##24 = X2_PAIR(s1, s2, 24); \
    } while (0)
#define X2_STORE1(s1, s2, A, i) \
    do { \
        (s1)[i] = (uint64_t)_mm_cvtsi128_si64(A##i); \
        (s2)[i] = (uint64_t)_mm_extract_epi64(A##i, 1); \
    } while (0)
#define X2_STORE(s1, s2, A) \
    do { \
        X2_STORE1(s1, s2, A, 0); X2_STORE1(s1, s2, A, 1); X2_STORE1(s1, s2, A, 2); \
        X2_STORE1(s1, s2, A, 3); X2_STORE1(s1, s2, A, 4); X2_STORE1(s1, s2, A, 5); \
        X2_STORE1(s1, s2, A, 6); X2_STORE1(s1, s2, A, 7); X2_STORE1(s1, s2, A, 8); \
        X2_STORE1(s1, s2, A, 9); X2_STORE1(s1, s2, A, 10); X2_STORE1(s1, s2, A, 11); \
        X2_STORE1(s1, s2, A, 12); X2_STORE1(s1, s2, A, 13); X2_STORE1(s1, s2, A, 14); \
        X2_STORE1(s1, s2, A, 15); X2_STORE1(s1, s2, A, 16); X2_STORE1(s1, s2, A, 17); \
        X2_STORE1(s1, s2, A, 18); X2_STORE1(s1, s2, A, 19); X2_STORE1(s1, s2, A, 20); \
        X2_STORE1(s1, s2, A, 21); X2_STORE1(s1, s2, A, 22); X2_STORE1(s1, s2, A, 23); \
        X2_STORE1(s1, s2, A, 24); \
    } while (0)
/* lanes 0..20 ^= the 64-bit words at offset 8i of the two blocks */
#define X2_XOR1(A, p1, p2, i) \
    A##i = _mm_xor_si128(A##i, _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)((p1) + 8 * (i))), \
                                                   _mm_loadl_epi64((const __m128i *)((p2) + 8 * (i)))))
#define X2_XOR_BLOCK(A, p1, p2) \
    do { \
        X2_XOR1(A, p1, p2, 0); X2_XOR1(A, p1, p2, 1); X2_XOR1(A, p1, p2, 2); \
        X2_XOR1(A, p1, p2, 3); X2_XOR1(A, p1, p2, 4); X2_XOR1(A, p1, p2, 5); \
        X2_XOR1(A, p1, p2, 6); X2_XOR1(A, p1, p2, 7); X2_XOR1(A, p1, p2, 8); \
        X2_XOR1(A, p1, p2, 9); X2_XOR1(A, p1, p2, 10); X2_XOR1(A, p1, p2, 11); \
        X2_XOR1(A, p1, p2, 12); X2_XOR1(A, p1, p2, 13); X2_XOR1(A, p1, p2, 14); \
        X2_XOR1(A, p1, p2, 15); X2_XOR1(A, p1, p2, 16); X2_XOR1(A, p1, p2, 17); \
        X2_XOR1(A, p1, p2, 18); X2_XOR1(A, p1, p2, 19); X2_XOR1(A, p1, p2, 20); \
    } while (0)

/* nblocks full blocks into each of two states, both permutations in the same registers. */
PA_X2_ATTR static void absorb_blocks_x2(uint64_t s1[25], const uint8_t *in1, uint64_t s2[25],
                                        const uint8_t *in2, size_t nblocks)
{
    X2_DECLARE(a);
    X2_DECLARE(e);

    X2_LOAD(a, s1, s2);
    while (nblocks-- > 0) {
        X2_XOR_BLOCK(a, in1, in2);
        PA_KECCAK_P12_X2(a, e);
        in1 += PA_TURBOSHAKE128_RATE;
        in2 += PA_TURBOSHAKE128_RATE;
    }
    X2_STORE(s1, s2, a);
}

/* Keccak-p[1600, 12] on two (distinct) states in place. */
PA_X2_ATTR static void keccak_p12_x2(uint64_t s1[25], uint64_t s2[25])
{
    X2_DECLARE(a);
    X2_DECLARE(e);

    X2_LOAD(a, s1, s2);
    PA_KECCAK_P12_X2(a, e);
    X2_STORE(s1, s2, a);
}

/* 1 if this CPU runs absorb_blocks_x2 (AVX-512F and VL); asked once. */
static int have_x2(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    }
    return cached;
}
#else
#define PA_TS_X2 0
#endif

void pa_turboshake128_absorb2(pa_turboshake128 *st1, const uint8_t *in1, pa_turboshake128 *st2,
                              const uint8_t *in2, size_t len)
{
#if PA_TS_X2
    if (have_x2() && st1->pos == st2->pos && !st1->squeezing && !st2->squeezing) {
        size_t head = st1->pos > 0 ? PA_TURBOSHAKE128_RATE - st1->pos : 0;
        if (head > len)
            head = len;
        if (head > 0) { /* extend (or complete and permute together) the partial blocks */
            xor_bytes(st1->a, st1->pos, in1, head);
            xor_bytes(st2->a, st2->pos, in2, head);
            st1->pos += head;
            st2->pos += head;
            if (st1->pos == PA_TURBOSHAKE128_RATE) {
                keccak_p12_x2(st1->a, st2->a);
                st1->pos = st2->pos = 0;
            }
        }
        in1 += head;
        in2 += head;
        len -= head;
        if (st1->pos == 0 && len >= PA_TURBOSHAKE128_RATE) {
            size_t nblocks = len / PA_TURBOSHAKE128_RATE;
            absorb_blocks_x2(st1->a, in1, st2->a, in2, nblocks);
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
