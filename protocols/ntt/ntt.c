/*
 * NTT, inverse NTT, Horner evaluation and polynomial multiplication for Field64
 * and Field128 (contracts in ntt.h).  The code is written once in
 * ntt_template.h and instantiated here for each field.
 */
#include "ntt/ntt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "privagg/common.h"

/* 2^-k = -(p - 1)/2^k mod p, since 2^k·(p - 1)/2^k = p - 1 = -1. */
static pa_f64 pa_f64_inv_pow2(unsigned k)
{
    return (PA_F64_MODULUS - ((PA_F64_MODULUS - 1) >> k));
}

static pa_f128 pa_f128_inv_pow2(unsigned k)
{
    /* (p - 1) = P1·2^64; shift right by k <= 32, then negate */
    pa_f128_u128 pm1 = (pa_f128_u128)PA_F128_P1 << 64;
    pa_f128_u128 p = pm1 + 1;
    pa_f128_u128 v = p - (pm1 >> k);
    return pa_f128_from_u64_pair((uint64_t)v, (uint64_t)(v >> 64));
}

#define PA_T pa_f64
#define PA_FN(op) pa_f64_##op
#define PA_NAME "field64"
#define PA_INV_POW2(k) pa_f64_inv_pow2(k)
#include "ntt/ntt_template.h"
#undef PA_T
#undef PA_FN
#undef PA_NAME
#undef PA_INV_POW2

#define PA_T pa_f128
#define PA_FN(op) pa_f128_##op
#define PA_NAME "field128"
#define PA_INV_POW2(k) pa_f128_inv_pow2(k)
#include "ntt/ntt_template.h"
#undef PA_T
#undef PA_FN
#undef PA_NAME
#undef PA_INV_POW2
