/*
 * Keccak-p[1600, 12] on 64-bit lanes held in named local variables (internal to
 * protocols/xof): the round as one macro, twelve rounds, and the lane
 * load/store/XOR-a-block helpers.  Written here because Debian's libsodium
 * (1.0.18) has no Keccak.  FIPS 202 §3.2-3.3 (theta, rho, pi, chi, iota) with
 * the round indices 12..23 of Keccak-f[1600], as RFC 9861 §2.2 specifies.
 *
 * This header only defines macros and one inline load, so a backend can expand
 * the very same code inside a function compiled for other instructions
 * (keccak_bmi2.c: target("bmi,bmi2") so GCC emits andn/rorx) while
 * keccak_portable.c expands it for the baseline ISA.  The round has no branch
 * and no table index that depends on the data.
 */
#ifndef PA_XOF_KECCAK_ROUND_H
#define PA_XOF_KECCAK_ROUND_H

#include <stdint.h>
#include <string.h>

#include "xof/keccak_impl.h"

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

/* The twelve rounds (round indices 12..23 of Keccak-f, FIPS 202 §3.2.5 for the
 * constants) with any round macro ROUND(A, E, rc), the lane sets alternating so
 * that the result ends in A.  Shared by the scalar and the vector backends. */
#define PA_KECCAK_P12_WITH(ROUND, A, E) \
    do { \
        ROUND(A, E, 0x000000008000808BULL); \
        ROUND(E, A, 0x800000000000008BULL); \
        ROUND(A, E, 0x8000000000008089ULL); \
        ROUND(E, A, 0x8000000000008003ULL); \
        ROUND(A, E, 0x8000000000008002ULL); \
        ROUND(E, A, 0x8000000000000080ULL); \
        ROUND(A, E, 0x000000000000800AULL); \
        ROUND(E, A, 0x800000008000000AULL); \
        ROUND(A, E, 0x8000000080008081ULL); \
        ROUND(E, A, 0x8000000000008080ULL); \
        ROUND(A, E, 0x0000000080000001ULL); \
        ROUND(E, A, 0x8000000080008008ULL); \
    } while (0)
#define PA_KECCAK_P12(A, E) PA_KECCAK_P12_WITH(PA_KECCAK_ROUND, A, E)

/* F(args..., i) for the lanes i = 0..20 (a block's) or 0..24 (the state's), as
 * statements: every lane-by-lane helper of every backend is written with these. */
#define PA_KECCAK_EACH_21(F, ...) \
    F(__VA_ARGS__, 0); F(__VA_ARGS__, 1); F(__VA_ARGS__, 2); F(__VA_ARGS__, 3); \
    F(__VA_ARGS__, 4); F(__VA_ARGS__, 5); F(__VA_ARGS__, 6); F(__VA_ARGS__, 7); \
    F(__VA_ARGS__, 8); F(__VA_ARGS__, 9); F(__VA_ARGS__, 10); F(__VA_ARGS__, 11); \
    F(__VA_ARGS__, 12); F(__VA_ARGS__, 13); F(__VA_ARGS__, 14); F(__VA_ARGS__, 15); \
    F(__VA_ARGS__, 16); F(__VA_ARGS__, 17); F(__VA_ARGS__, 18); F(__VA_ARGS__, 19); \
    F(__VA_ARGS__, 20)
#define PA_KECCAK_EACH_25(F, ...) \
    PA_KECCAK_EACH_21(F, __VA_ARGS__); F(__VA_ARGS__, 21); F(__VA_ARGS__, 22); \
    F(__VA_ARGS__, 23); F(__VA_ARGS__, 24)

/* The scalar lanes: declare, load from / store to s[25], XOR in a 168-byte block. */
#define PA_LANE_DECLARE1(T, A, i) T A##i
#define PA_LANES_DECLARE(A) PA_KECCAK_EACH_25(PA_LANE_DECLARE1, uint64_t, A)
#define PA_LANE_LOAD1(A, s, i) A##i = (s)[i]
#define PA_LANES_LOAD(A, s) do { PA_KECCAK_EACH_25(PA_LANE_LOAD1, A, s); } while (0)
#define PA_LANE_STORE1(s, A, i) (s)[i] = A##i
#define PA_LANES_STORE(s, A) do { PA_KECCAK_EACH_25(PA_LANE_STORE1, s, A); } while (0)
#define PA_LANE_XOR1(A, p, i) A##i ^= load64_le((p) + 8 * (i))
#define PA_LANES_XOR_BLOCK(A, p) do { PA_KECCAK_EACH_21(PA_LANE_XOR1, A, p); } while (0)

/*
 * The two functions of a scalar backend (keccak_impl.h): pa_keccak_p12_<name> and
 * pa_keccak_absorb_<name>, with the lanes in locals for the whole run of blocks.
 * attr: function attributes (a target for the compiler), or nothing.
 */
#define PA_KECCAK_SCALAR_BACKEND(name, attr) \
    attr void pa_keccak_p12_##name(uint64_t s[25]) \
    { \
        PA_LANES_DECLARE(a); \
        PA_LANES_DECLARE(e); \
        PA_LANES_LOAD(a, s); \
        PA_KECCAK_P12(a, e); \
        PA_LANES_STORE(s, a); \
    } \
    attr void pa_keccak_absorb_##name(uint64_t s[25], const uint8_t *in, size_t nblocks) \
    { \
        PA_LANES_DECLARE(a); \
        PA_LANES_DECLARE(e); \
        PA_LANES_LOAD(a, s); \
        while (nblocks-- > 0) { \
            PA_LANES_XOR_BLOCK(a, in); \
            PA_KECCAK_P12(a, e); \
            in += PA_TURBOSHAKE128_RATE; \
        } \
        PA_LANES_STORE(s, a); \
    }

#endif
