/*
 * XofTurboShake128 (draft-irtf-cfrg-vdaf-20 §6.2.1) and the XOF-derived methods
 * of §6.2 on top of TurboSHAKE128 (RFC 9861).  The message the draft hashes is
 *
 *     m = to_le_bytes(len(dst), 2) || dst || to_le_bytes(len(seed), 1) || seed || binder
 *
 * with domain-separation byte D = 1; next(L) returns the next L bytes of
 * TurboSHAKE128(m, 1, ...), i.e. a plain squeeze.
 */
#include <assert.h>

#include "common/ct.h"
#include "xof/xof.h"

/* Candidates squeezed per batch in next_vec (bounded stack buffer, no VLA). */
#define PA_XOF_VEC_BATCH 32

void pa_xof_init(pa_xof *x, const uint8_t *seed, size_t seed_len, const uint8_t *dst,
                 size_t dst_len)
{
    uint8_t len_dst[2], len_seed[1];

    assert(seed_len <= 255 && dst_len <= 65535);
    assert(seed != NULL || seed_len == 0);
    assert(dst != NULL || dst_len == 0);
    len_dst[0] = (uint8_t)(dst_len & 0xFF);
    len_dst[1] = (uint8_t)(dst_len >> 8);
    len_seed[0] = (uint8_t)seed_len;
    pa_turboshake128_init(&x->ts, PA_XOF_TURBOSHAKE128_DOMAIN);
    pa_turboshake128_absorb(&x->ts, len_dst, sizeof len_dst);
    pa_turboshake128_absorb(&x->ts, dst, dst_len);
    pa_turboshake128_absorb(&x->ts, len_seed, sizeof len_seed);
    pa_turboshake128_absorb(&x->ts, seed, seed_len);
}

void pa_xof_update(pa_xof *x, const uint8_t *binder_part, size_t len)
{
    assert(binder_part != NULL || len == 0);
    pa_turboshake128_absorb(&x->ts, binder_part, len);
}

void pa_xof_update2(pa_xof *x1, const uint8_t *part1, pa_xof *x2, const uint8_t *part2,
                    size_t len)
{
    assert((part1 != NULL && part2 != NULL) || len == 0);
    pa_turboshake128_absorb2(&x1->ts, part1, &x2->ts, part2, len);
}

void pa_xof_next(pa_xof *x, uint8_t *out, size_t len)
{
    pa_turboshake128_squeeze(&x->ts, out, len);
}

void pa_xof_wipe(pa_xof *x)
{
    pa_turboshake128_wipe(&x->ts);
}

/*
 * next_vec (draft §6.2): draw ENCODED_SIZE-byte little-endian integers, mask them
 * to the bit length of p, keep those < p.  For both fields next_power_of_2(p) is
 * 2^(8 * ENCODED_SIZE) (p64 = 2^64 - 2^32 + 1, p128 = 2^128 - 7 * 2^66 + 1), so the
 * mask keeps every bit and the strict decoder's "value >= p" is exactly the
 * rejection test.  A batch never squeezes more candidates than elements still
 * needed, so the stream position after the call is the draft's.  Constant time
 * but for the rejections, which are public (xof.h): a batch's flags are AND-ed
 * without a branch and only the verdict "all kept" (nearly always) is
 * declassified (pa_ct_declassify, common/ct.h); otherwise each flag is.
 */
#define PA_XOF_NEXT_VEC(F, SIZE)                                                     \
    void pa_xof_next_vec_##F(pa_xof *x, pa_##F *out, size_t n)                       \
    {                                                                                \
        uint8_t buf[PA_XOF_VEC_BATCH * (SIZE)];                                      \
        size_t have = 0;                                                             \
                                                                                     \
        while (have < n) {                                                           \
            size_t want = n - have;                                                  \
            uint64_t all = 1;                                                        \
            if (want > PA_XOF_VEC_BATCH)                                             \
                want = PA_XOF_VEC_BATCH;                                             \
            pa_xof_next(x, buf, want * (SIZE));                                      \
            for (size_t i = 0; i < want; i++)                                        \
                all &= pa_##F##_canonical(buf + i * (SIZE));                         \
            all = pa_ct_public(all);                                                 \
            for (size_t i = 0; i < want; i++) {                                      \
                if (all || pa_ct_public(pa_##F##_canonical(buf + i * (SIZE)))) {     \
                    (void)pa_##F##_decode(&out[have], buf + i * (SIZE));             \
                    have++;                                                          \
                }                                                                    \
            }                                                                        \
        }                                                                            \
        pa_wipe(buf, sizeof buf);                                                    \
    }

PA_XOF_NEXT_VEC(f64, PA_F64_ENCODED_SIZE)
PA_XOF_NEXT_VEC(f128, PA_F128_ENCODED_SIZE)

void pa_xof_derive_seed(uint8_t out[PA_XOF_SEED_SIZE], const uint8_t *seed, size_t seed_len,
                        const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                        size_t binder_len)
{
    pa_xof x;

    pa_xof_init(&x, seed, seed_len, dst, dst_len);
    pa_xof_update(&x, binder, binder_len);
    pa_xof_next(&x, out, PA_XOF_SEED_SIZE);
    pa_xof_wipe(&x);
}

void pa_xof_expand_into_vec_f64(pa_f64 *out, size_t n, const uint8_t *seed, size_t seed_len,
                                const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                                size_t binder_len)
{
    pa_xof x;

    pa_xof_init(&x, seed, seed_len, dst, dst_len);
    pa_xof_update(&x, binder, binder_len);
    pa_xof_next_vec_f64(&x, out, n);
    pa_xof_wipe(&x);
}

void pa_xof_expand_into_vec_f128(pa_f128 *out, size_t n, const uint8_t *seed, size_t seed_len,
                                 const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                                 size_t binder_len)
{
    pa_xof x;

    pa_xof_init(&x, seed, seed_len, dst, dst_len);
    pa_xof_update(&x, binder, binder_len);
    pa_xof_next_vec_f128(&x, out, n);
    pa_xof_wipe(&x);
}
