/*
 * Noise on aggregate shares.  Each aggregator adds its OWN integer noise, drawn
 * from the task's full-budget mechanism, to its additive share of the aggregate
 * (modulo p), so its noise alone gives the task's guarantee even if the collector
 * colludes with the other aggregator.  The released total carries the sum of both
 * aggregators' draws; the collector reads a total above p/2 as total - p.
 *
 * Timing (docs/dp.md, "Timing"): the samplers are variable time, so the noise of a
 * batch is drawn OFF the request path, when the batch's aggregation starts
 * (pa_dp_noise_draw_vartime), and kept as a secret vector.  The collection path
 * (pa_dp_noise_add_f64 / _f128) only adds that vector to the share: a fixed sequence
 * of field operations per cell, no randomness, no branch or memory index that
 * depends on a noise value (signed-to-field conversion by masks, field addition
 * from protocols/field, which is constant time).  tests/unit/dp_noise_test.c checks
 * this with memcheck on undefined (secret) noise, ctgrind style.  The vector may be
 * stored between the two (pa_dp_noise_encode / _decode); decoding is branch-free in
 * the values except the final accept/reject of the whole vector.
 */
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "field/field128.h"
#include "field/field64.h"
#include "privagg/common.h"
#include "privagg/dp.h"

struct pa_dp_noise {
    size_t nCells;
    int64_t aVal[];
};

/* Noise magnitudes stay far below p/2 of Field64 so that the sum of both
 * aggregators' draws is decoded without ambiguity. */
#define PA_DP_NOISE_MAX_ABS ((int64_t)1 << 61)

static int noise_alloc(size_t n, pa_dp_noise **ppNoise)
{
    pa_dp_noise *p;
    *ppNoise = NULL;
    if (n == 0 || n > ((size_t)1 << 32))
        return pa_fail(PA_EINVAL, "noise: %zu cells, must be 1..2^32", n);
    p = calloc(1, sizeof *p + n * sizeof p->aVal[0]);
    if (p == NULL)
        return pa_fail(PA_ENOMEM, "noise: %zu cells", n);
    p->nCells = n;
    *ppNoise = p;
    return PA_OK;
}

void pa_dp_noise_free(pa_dp_noise *pNoise)
{
    if (pNoise == NULL)
        return;
    pa_wipe(pNoise->aVal, pNoise->nCells * sizeof pNoise->aVal[0]);
    free(pNoise);
}

size_t pa_dp_noise_cells(const pa_dp_noise *pNoise)
{
    return pNoise->nCells;
}

int pa_dp_noise_values(const pa_dp_noise *pNoise, int64_t *aOut, size_t n)
{
    if (n != pNoise->nCells)
        return pa_fail(PA_EINVAL, "noise values: %zu cells asked, vector has %zu", n, pNoise->nCells);
    memcpy(aOut, pNoise->aVal, n * sizeof aOut[0]);
    return PA_OK;
}

int pa_dp_noise_from_values_for_tests(const int64_t *aVal, size_t n, pa_dp_noise **ppNoise)
{
    int rc = noise_alloc(n, ppNoise);
    if (rc != PA_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (aVal[i] > PA_DP_NOISE_MAX_ABS || aVal[i] < -PA_DP_NOISE_MAX_ABS) {
            pa_dp_noise_free(*ppNoise);
            *ppNoise = NULL;
            return pa_fail(PA_ERANGE, "noise[%zu]: |%lld| above 2^61", i, (long long)aVal[i]);
        }
    }
    memcpy((*ppNoise)->aVal, aVal, n * sizeof aVal[0]);
    return PA_OK;
}

int pa_dp_noise_draw_vartime(pa_dp_rng *pRng, const pa_dp_mechanism *pMech, size_t nCells,
                             pa_dp_noise **ppNoise)
{
    int rc = noise_alloc(nCells, ppNoise);
    if (rc != PA_OK)
        return rc;
    rc = pa_dp_sample_many_vartime(pRng, pMech, (*ppNoise)->aVal, nCells);
    for (size_t i = 0; rc == PA_OK && i < nCells; i++) {
        int64_t v = (*ppNoise)->aVal[i];
        if (v > PA_DP_NOISE_MAX_ABS || v < -PA_DP_NOISE_MAX_ABS)
            rc = pa_fail(PA_ESAMPLE, "noise[%zu]: a draw above 2^61 in magnitude", i);
    }
    if (rc != PA_OK) {
        pa_dp_noise_free(*ppNoise);
        *ppNoise = NULL;
    }
    return rc;
}


/* |v| and the sign as a 0/1 control word, without branching on v */
static inline uint64_t abs_ct(int64_t v, uint64_t *pNeg)
{
    uint64_t neg = (uint64_t)v >> 63;
    uint64_t m = pa_ct_mask(neg);
    *pNeg = neg;
    return ((uint64_t)v ^ m) - m;
}

size_t pa_dp_noise_encoded_size(size_t nCells)
{
    return nCells * 8;
}

int pa_dp_noise_encode(const pa_dp_noise *pNoise, uint8_t *pOut, size_t nOut)
{
    if (pNoise == NULL || pOut == NULL || nOut != pNoise->nCells * 8)
        return pa_fail(PA_EINVAL, "noise encode: buffer of %zu bytes, need %zu", nOut,
                       pNoise ? pNoise->nCells * 8 : 0);
    for (size_t i = 0; i < pNoise->nCells; i++) {
        uint64_t v = (uint64_t)pNoise->aVal[i];
        for (int j = 0; j < 8; j++)
            pOut[8 * i + (size_t)j] = (uint8_t)(v >> (8 * j));
    }
    return PA_OK;
}

int pa_dp_noise_decode(pa_dp_noise **ppNoise, const uint8_t *pIn, size_t nIn, size_t nCells)
{
    uint64_t bad = 0;
    int rc;
    if (ppNoise == NULL)
        return pa_fail(PA_EINVAL, "noise decode: NULL output");
    *ppNoise = NULL;
    if (pIn == NULL || nCells == 0 || nCells > ((size_t)1 << 32) || nIn != nCells * 8)
        return pa_fail(PA_EDECODE, "noise: %zu bytes, expected %zu for %zu cells", nIn, nCells * 8,
                       nCells);
    if ((rc = noise_alloc(nCells, ppNoise)) != PA_OK)
        return rc;
    for (size_t i = 0; i < nCells; i++) {
        uint64_t v = 0, neg, mag;
        for (int j = 0; j < 8; j++)
            v |= (uint64_t)pIn[8 * i + (size_t)j] << (8 * j);
        /* |v| <= 2^61, checked without a branch on v */
        mag = abs_ct((int64_t)v, &neg);
        bad |= pa_ct_lt((uint64_t)PA_DP_NOISE_MAX_ABS, mag);
        (*ppNoise)->aVal[i] = (int64_t)v;
    }
    if (pa_ct_public(bad)) { /* a damaged store, not a noise value, is what this reveals */
        pa_dp_noise_free(*ppNoise);
        *ppNoise = NULL;
        return pa_fail(PA_EDECODE, "noise: a stored value is beyond +-2^61");
    }
    return PA_OK;
}

static inline pa_f64 noise_to_f64(int64_t v)
{
    uint64_t neg, mag = abs_ct(v, &neg);
    pa_f64 x = pa_f64_from_u64(mag);
    return pa_ct_select(neg, pa_f64_neg(x), x);
}

static inline pa_f128 noise_to_f128(int64_t v)
{
    uint64_t neg, mag = abs_ct(v, &neg);
    pa_f128 x = pa_f128_from_u64(mag), y = pa_f128_neg(x), r;
    uint64_t lo[2], hi[2];
    pa_f128_to_u64_pair(x, &lo[0], &hi[0]);
    pa_f128_to_u64_pair(y, &lo[1], &hi[1]);
    r = pa_f128_from_u64_pair(pa_ct_select(neg, lo[1], lo[0]), pa_ct_select(neg, hi[1], hi[0]));
    return r;
}

int pa_dp_noise_add_f64(const pa_dp_noise *pNoise, uint8_t *pShare, size_t nCells)
{
    int bad = 0;
    if (pNoise == NULL || pShare == NULL || nCells != pNoise->nCells)
        return pa_fail(PA_EINVAL, "noise add: share of %zu cells, noise of %zu", nCells,
                       pNoise ? pNoise->nCells : 0);
    /* validate the whole share first so a bad one is left unchanged */
    for (size_t i = 0; i < nCells; i++) {
        pa_f64 x;
        bad |= pa_f64_decode(&x, pShare + i * PA_F64_ENCODED_SIZE);
    }
    /* the share's canonicity is public (a bad share is refused), not its values */
    if (pa_ct_public((uint64_t)bad))
        return pa_fail(PA_EDECODE, "noise add: share holds a non-canonical Field64 element");
    for (size_t i = 0; i < nCells; i++) {
        pa_f64 x;
        uint8_t *p = pShare + i * PA_F64_ENCODED_SIZE;
        (void)pa_f64_decode(&x, p);
        pa_f64_encode(p, pa_f64_add(x, noise_to_f64(pNoise->aVal[i])));
    }
    return PA_OK;
}

int pa_dp_noise_add_f128(const pa_dp_noise *pNoise, uint8_t *pShare, size_t nCells)
{
    int bad = 0;
    if (pNoise == NULL || pShare == NULL || nCells != pNoise->nCells)
        return pa_fail(PA_EINVAL, "noise add: share of %zu cells, noise of %zu", nCells,
                       pNoise ? pNoise->nCells : 0);
    for (size_t i = 0; i < nCells; i++) {
        pa_f128 x;
        bad |= pa_f128_decode(&x, pShare + i * PA_F128_ENCODED_SIZE);
    }
    if (pa_ct_public((uint64_t)bad))
        return pa_fail(PA_EDECODE, "noise add: share holds a non-canonical Field128 element");
    for (size_t i = 0; i < nCells; i++) {
        pa_f128 x;
        uint8_t *p = pShare + i * PA_F128_ENCODED_SIZE;
        (void)pa_f128_decode(&x, p);
        pa_f128_encode(p, pa_f128_add(x, noise_to_f128(pNoise->aVal[i])));
    }
    return PA_OK;
}
