/*
 * XofTurboShake128 of draft-irtf-cfrg-vdaf-20 §6.2.1 ("XofTurboShake128"), with the
 * derived methods derive_seed / next_vec / expand_into_vec of §6.2 ("Extendable
 * Output Functions").  Streaming, so callers never concatenate binders:
 *
 *     pa_xof_init(x, seed, dst)       absorbs  le16(len(dst)) || dst || le8(len(seed)) || seed
 *     pa_xof_update(x, part) ...      absorbs  the binder, in as many parts as convenient
 *     pa_xof_next / pa_xof_next_vec_* squeeze  TurboSHAKE128(m, D = 0x01, ...)
 *
 * Contracts (programmer errors assert; nothing here reads untrusted lengths):
 *  - seed_len MUST be <= 255 (the draft's default and Prio3's is PA_XOF_SEED_SIZE = 32),
 *    dst_len MUST be <= 65535.
 *  - pa_xof_update MUST NOT be called after the first next / next_vec.
 *  - A pa_xof may hold secret state (seeds): call pa_xof_wipe() when done.
 *    The one-shot helpers wipe their own state.
 *  - Output buffers MUST NOT overlap the pa_xof.  next_vec rejection-samples
 *    (draft §6.2): it branches on whether a candidate is >= p, which leaks only how
 *    many candidates were rejected (probability < 2^-29 per element for Field64,
 *    < 2^-59 for Field128), as every implementation of the draft does.
 */
#ifndef PA_XOF_H
#define PA_XOF_H

#include <stddef.h>
#include <stdint.h>

#include "field/field128.h"
#include "field/field64.h"
#include "xof/turboshake128.h"

#define PA_XOF_SEED_SIZE 32
#define PA_XOF_TURBOSHAKE128_DOMAIN 0x01 /* draft-irtf-cfrg-vdaf-20 §6.2.1: D = 1 */

typedef struct {
    pa_turboshake128 ts;
} pa_xof;

static inline size_t pa_xof_seed_size(void)
{
    return PA_XOF_SEED_SIZE;
}

/* New XOF instance: absorbs the draft's prefix (length-prefixed dst, then length-prefixed seed). */
void pa_xof_init(pa_xof *x, const uint8_t *seed, size_t seed_len, const uint8_t *dst,
                 size_t dst_len);

/* Append len bytes to the binder.  Only before the first next / next_vec. */
void pa_xof_update(pa_xof *x, const uint8_t *binder_part, size_t len);

/* pa_xof_update(x1, part1, len); pa_xof_update(x2, part2, len) — two independent
 * instances side by side (faster when both are at the same block offset). */
void pa_xof_update2(pa_xof *x1, const uint8_t *part1, pa_xof *x2, const uint8_t *part2,
                    size_t len);

/* Next len bytes of the stream. */
void pa_xof_next(pa_xof *x, uint8_t *out, size_t len);

/* Next n field elements (draft §6.2 next_vec: rejection sampling of little-endian integers). */
void pa_xof_next_vec_f64(pa_xof *x, pa_f64 *out, size_t n);
void pa_xof_next_vec_f128(pa_xof *x, pa_f128 *out, size_t n);

/* Erase the instance. */
void pa_xof_wipe(pa_xof *x);

/* derive_seed: out (PA_XOF_SEED_SIZE bytes) = XOF(seed, dst, binder).next(SEED_SIZE). */
void pa_xof_derive_seed(uint8_t out[PA_XOF_SEED_SIZE], const uint8_t *seed, size_t seed_len,
                        const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                        size_t binder_len);

/* expand_into_vec: out (n elements) = XOF(seed, dst, binder).next_vec(F, n). */
void pa_xof_expand_into_vec_f64(pa_f64 *out, size_t n, const uint8_t *seed, size_t seed_len,
                                const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                                size_t binder_len);
void pa_xof_expand_into_vec_f128(pa_f128 *out, size_t n, const uint8_t *seed, size_t seed_len,
                                 const uint8_t *dst, size_t dst_len, const uint8_t *binder,
                                 size_t binder_len);

#endif
