/*
 * The generic FLP of draft-irtf-cfrg-vdaf-20 §7.3 (prove, query, decide) and the
 * circuits of §7.4, written once for any NTT-friendly field.  This file is a
 * template: flp_f64.c and flp_f128.c define FLD (f64 or f128) and include it, so
 * FE is pa_f64 / pa_f128, FOP(mul) is pa_f64_mul / pa_f128_mul and FLPFN(prove) is
 * pa_flp_prove_f64 / pa_flp_prove_f128.
 *
 * Implementation notes (the results are exactly the draft's; only the method differs):
 *  - prove: the gadget polynomial of Mul / ParallelSum(Mul) / PolyEval(x^2-x) is
 *    needed at the 2P-th roots of unity.  Its values at the even powers are the
 *    gadget outputs on the recorded wire values; at the odd powers each wire
 *    polynomial is moved to the coset s·<alpha> with one inverse NTT, a twist by
 *    s^i and one forward NTT (size P), the draft's double_evaluations.
 *  - query: wire polynomials are evaluated at the test point t as they are
 *    produced, with the Lagrange coefficients L_k(t) (product form, no inversion),
 *    so the wires are never stored.  The gadget outputs at alpha^k are read straight
 *    from the proof (index 2k), and the gadget polynomial is evaluated at t from its
 *    2P-1 values after recovering the missing 2P-th value from "degree <= 2P-2"
 *    (the draft's extend_values_to_power_of_2) with Alg. 7 of [Faz25].
 *    For ParallelSum(Mul) in Field128 the wire sums over the calls are
 *    accumulated unreduced and reduced once per wire (psm_wires_lazy).
 *  - Only public values (lengths, joint randomness, query randomness) decide
 *    branches and indices; the measurement is touched by arithmetic only.
 */
#ifndef FLD
#error "define FLD (f64 or f128) before including flp/flp_tmpl.h"
#endif

#include <string.h>

#include "common/ct.h"
#include "flp/flp.h"
#include "ntt/ntt.h"
#include "privagg/common.h"

#define PA_FLP_CAT2_(a, b) a##b
#define PA_FLP_CAT2(a, b) PA_FLP_CAT2_(a, b)
#define PA_FLP_CAT3_(a, b, c) a##b##c
#define PA_FLP_CAT3(a, b, c) PA_FLP_CAT3_(a, b, c)
#define FE PA_FLP_CAT2(pa_, FLD)
#define FOP(op) PA_FLP_CAT3(pa_, FLD, _##op)
#define FLPFN(op) PA_FLP_CAT3(pa_flp_, op, PA_FLP_CAT2(_, FLD))
/* Fields with lazy-reduction sums (pa_<field>_wide_*): the ParallelSum(Mul)
 * query uses them.  Field64 keeps the plain path. */
#define PA_FLP_LAZY_f128 1
#define pa_f128_WIDE_MAX_TERMS_ PA_F128_WIDE_MAX_TERMS
#define FCONST(name) PA_FLP_CAT3(name, _, FLD) /* per-field constant member of pa_flp */

static inline FE FLPFN(add_mul)(FE acc, FE a, FE b)
{
    return FOP(add)(acc, FOP(mul)(a, b));
}

/* 1/num_shares */
static FE FLPFN(shares_inv)(size_t num_shares)
{
    return FOP(inv)(FOP(from_u64)((uint64_t)num_shares));
}

/*
 * The gadget inputs of call k (1-based) of every circuit, written to in[j·stride]
 * (§7.4: Count feeds (m, m) to Mul; Sum feeds bit k-1 to PolyEval; the chunked
 * circuits feed (r^(j+1)·x_j, x_j - 1/shares) for each x_j of chunk k-1, x_j = 0
 * past the end of the measurement).
 */
static void FLPFN(call_inputs)(const pa_flp *f, const FE *meas, const FE *joint_rand, FE inv,
                               size_t k, FE *in, size_t stride)
{
    switch (f->gadget) {
    case PA_GADGET_MUL:
        in[0] = meas[0];
        in[stride] = meas[0];
        break;
    case PA_GADGET_POLYEVAL_BIT:
        in[0] = meas[k - 1];
        break;
    case PA_GADGET_PARALLEL_SUM_MUL: {
        FE r = joint_rand[k - 1], rpow = r;
        size_t base = (k - 1) * f->chunk_length;
        for (size_t j = 0; j < f->chunk_length; j++) {
            FE x = base + j < f->meas_len ? meas[base + j] : FOP(zero)();
            in[(2 * j) * stride] = FOP(mul)(rpow, x);
            in[(2 * j + 1) * stride] = FOP(sub)(x, inv);
            rpow = FOP(mul)(rpow, r);
        }
        break;
    }
    }
}

/* The gadget itself on one input vector (Appendix A "FLP Gadgets": Mul, PolyEval, ParallelSum). */
static FE FLPFN(gadget_eval)(const pa_flp *f, const FE *in)
{
    switch (f->gadget) {
    case PA_GADGET_MUL:
        return FOP(mul)(in[0], in[1]);
    case PA_GADGET_POLYEVAL_BIT:
        return FOP(sub)(FOP(mul)(in[0], in[0]), in[0]);
    case PA_GADGET_PARALLEL_SUM_MUL: {
        FE acc = FOP(zero)();
        for (size_t j = 0; j < f->chunk_length; j++)
            acc = FLPFN(add_mul)(acc, in[2 * j], in[2 * j + 1]);
        return acc;
    }
    }
    return FOP(zero)();
}

/* b (0 or 1, possibly secret) as a field element: a mask select of one, no multiplication. */
static inline FE FLPFN(from_bit)(uint64_t b, FE one)
{
    uint64_t w[sizeof(FE) / 8], m = pa_ct_mask(b);
    FE r;
    memcpy(w, &one, sizeof w);
    for (size_t i = 0; i < sizeof(FE) / 8; i++)
        w[i] &= m;
    memcpy(&r, w, sizeof r);
    return r;
}

/*
 * decode_range_checked_int (§7.4.2): sum 2^l·b_l for l < bits-1, plus
 * last_weight·b_last.  The powers of two are applied by Horner's rule (one
 * doubling and one addition per bit) instead of a multiplication per bit; the
 * result is the same field element.
 */
static FE FLPFN(range_decode)(const FE *enc, size_t bits, uint64_t max)
{
    uint64_t rest_all_ones = (bits >= 1 ? ((uint64_t)1 << (bits - 1)) - 1 : 0);
    FE acc = FOP(zero)();
#if PA_FLP_CAT2(PA_FLP_LAZY_, FLD)
    if (bits - 1 <= PA_F128_SUM_POW2_MAX)
        acc = pa_f128_sum_pow2(enc, bits - 1); /* one reduction (field128.h) */
    else
#endif
        for (size_t l = bits - 1; l-- > 0;)
            acc = FOP(add)(FOP(add)(acc, acc), enc[l]);
    return FLPFN(add_mul)(acc, FOP(from_u64)(max - rest_all_ones), enc[bits - 1]);
}

/* encode_range_checked_int (§7.4.2) with a mask select instead of the branch. */
static void FLPFN(range_encode)(uint64_t value, size_t bits, uint64_t max, FE *out)
{
    uint64_t rest_all_ones = ((uint64_t)1 << (bits - 1)) - 1;
    uint64_t last_weight = max - rest_all_ones;
    uint64_t high = pa_ct_lt(rest_all_ones, value); /* value > rest_all_ones */
    uint64_t rest = value - (last_weight & pa_ct_mask(high));
    for (size_t l = 0; l + 1 < bits; l++)
        out[l] = FOP(from_u64)((rest >> l) & 1);
    out[bits - 1] = FOP(from_u64)(high);
}

/*
 * The error for an invalid measurement: its first out-of-range entry.  Variable
 * time, so only called once the verdict "invalid" is public (encode).
 */
static int FLPFN(encode_error)(const pa_flp *f, const uint64_t *measurement)
{
    uint64_t weight = 0;
    switch (f->kind) {
    case PA_FLP_COUNT:
        return pa_fail(PA_EINVAL, "measurement: %llu is not 0 or 1",
                       (unsigned long long)measurement[0]);
    case PA_FLP_SUM:
        return pa_fail(PA_EINVAL, "measurement: %llu is above max_measurement %llu",
                       (unsigned long long)measurement[0],
                       (unsigned long long)f->max_measurement);
    case PA_FLP_SUMVEC:
        for (size_t i = 0; i < f->length; i++)
            if (measurement[i] > f->max_measurement)
                return pa_fail(PA_EINVAL, "measurement[%zu]: %llu is above max_measurement %llu",
                               i, (unsigned long long)measurement[i],
                               (unsigned long long)f->max_measurement);
        break;
    case PA_FLP_HISTOGRAM:
        return pa_fail(PA_EINVAL, "measurement: bucket %llu, expected below length %zu",
                       (unsigned long long)measurement[0], f->length);
    case PA_FLP_MULTIHOT:
        for (size_t i = 0; i < f->length; i++) {
            if (measurement[i] > 1)
                return pa_fail(PA_EINVAL, "measurement[%zu]: %llu is not 0 or 1", i,
                               (unsigned long long)measurement[i]);
            weight += measurement[i];
        }
        return pa_fail(PA_EINVAL, "measurement: weight %llu is above max_weight %zu",
                       (unsigned long long)weight, f->max_weight);
    }
    return pa_fail(PA_EINTERNAL, "flp: invalid measurement");
}

/*
 * encode: measurement -> meas (meas_len elements).  measurement holds n values:
 * Count, Sum: n = 1 (the value); Histogram: n = 1 (the bucket index); SumVec: n =
 * length values; MultihotCountVec: n = length values in {0, 1}.  PA_EINVAL if the
 * measurement is out of range (the error names the entry).  Constant time: the
 * range checks are masks, and only their overall verdict (valid or not, which
 * the status reveals anyway) is declassified and branched on.
 */
int FLPFN(encode)(const pa_flp *f, const uint64_t *measurement, size_t n, FE *meas)
{
    size_t want = (f->kind == PA_FLP_SUMVEC || f->kind == PA_FLP_MULTIHOT) ? f->length : 1;
    uint64_t bad = 0, weight = 0;
    if (n != want)
        return pa_fail(PA_EINVAL, "measurement: %zu values, expected %zu", n, want);
    switch (f->kind) {
    case PA_FLP_COUNT:
        bad = pa_ct_lt(1, measurement[0]);
        break;
    case PA_FLP_SUM:
        bad = pa_ct_lt(f->max_measurement, measurement[0]);
        break;
    case PA_FLP_SUMVEC:
        for (size_t i = 0; i < f->length; i++)
            bad |= pa_ct_lt(f->max_measurement, measurement[i]);
        break;
    case PA_FLP_HISTOGRAM:
        bad = 1 ^ pa_ct_lt(measurement[0], (uint64_t)f->length);
        break;
    case PA_FLP_MULTIHOT:
        /* weight cannot wrap unless an entry is above 1, which is bad already */
        for (size_t i = 0; i < f->length; i++) {
            bad |= pa_ct_lt(1, measurement[i]);
            weight += measurement[i];
        }
        bad |= pa_ct_lt((uint64_t)f->max_weight, weight);
        break;
    default:
        return pa_fail(PA_EINTERNAL, "flp: unknown circuit %d", (int)f->kind);
    }
    if (pa_ct_public(bad))
        return FLPFN(encode_error)(f, measurement);

    switch (f->kind) {
    case PA_FLP_COUNT:
        meas[0] = FOP(from_u64)(measurement[0]);
        break;
    case PA_FLP_SUM:
        FLPFN(range_encode)(measurement[0], f->bits, f->max_measurement, meas);
        break;
    case PA_FLP_SUMVEC:
        for (size_t i = 0; i < f->length; i++)
            FLPFN(range_encode)(measurement[i], f->bits, f->max_measurement,
                                meas + i * f->bits);
        break;
    case PA_FLP_HISTOGRAM:
        for (size_t i = 0; i < f->length; i++)
            meas[i] = FLPFN(from_bit)(pa_ct_eq((uint64_t)i, measurement[0]), FOP(one)());
        break;
    case PA_FLP_MULTIHOT:
        for (size_t i = 0; i < f->length; i++)
            meas[i] = FOP(from_u64)(measurement[i]);
        FLPFN(range_encode)(weight, f->bits, (uint64_t)f->max_weight, meas + f->length);
        break;
    }
    return 0;
}

/* truncate (§7.4): meas_len -> output_len elements; linear, so it applies to shares
 * (and to a raw vector, giving a raw vector). */
void FLPFN(truncate)(const pa_flp *f, const FE *meas, FE *out)
{
    switch (f->kind) {
    case PA_FLP_COUNT:
    case PA_FLP_HISTOGRAM:
    case PA_FLP_MULTIHOT:
        memmove(out, meas, f->output_len * sizeof(FE));
        break;
    case PA_FLP_SUM:
        out[0] = FLPFN(range_decode)(meas, f->bits, f->max_measurement);
        break;
    case PA_FLP_SUMVEC:
        for (size_t i = 0; i < f->length; i++)
            out[i] = FLPFN(range_decode)(meas + i * f->bits, f->bits, f->max_measurement);
        break;
    }
}

/*
 * Combine the per-call gadget outputs g[0..calls-1] and the measurement into the
 * circuit output (eval_output_len elements): the part of each circuit's eval() that
 * is not a gadget call.
 */
static void FLPFN(circuit_output)(const pa_flp *f, const FE *meas, const FE *g, size_t g_step,
                                  FE inv, FE *out)
{
    switch (f->kind) {
    case PA_FLP_COUNT:
        out[0] = FOP(sub)(g[0], meas[0]);
        break;
    case PA_FLP_SUM:
        for (size_t k = 0; k < f->calls; k++)
            out[k] = g[k * g_step];
        break;
    case PA_FLP_SUMVEC:
    case PA_FLP_HISTOGRAM:
    case PA_FLP_MULTIHOT: {
        FE range = FOP(zero)();
        for (size_t k = 0; k < f->calls; k++)
            range = FOP(add)(range, g[k * g_step]);
        out[0] = range;
        if (f->kind == PA_FLP_HISTOGRAM) {
            FE sum = FOP(neg)(inv);
            for (size_t i = 0; i < f->length; i++)
                sum = FOP(add)(sum, meas[i]);
            out[1] = sum;
        } else if (f->kind == PA_FLP_MULTIHOT) {
            FE weight = FOP(zero)();
            for (size_t i = 0; i < f->length; i++)
                weight = FOP(add)(weight, meas[i]);
            out[1] = FOP(sub)(weight, FLPFN(range_decode)(meas + f->length, f->bits,
                                                           (uint64_t)f->max_weight));
        }
        break;
    }
    }
}

/*
 * eval: the validity circuit on (a share of) an encoded measurement with the real
 * gadgets; out gets eval_output_len elements, all zero iff the measurement is valid
 * (for num_shares = 1).  Used by tests; O(meas_len) with a stack buffer per call.
 */
void FLPFN(eval)(const pa_flp *f, const FE *meas, const FE *joint_rand, size_t num_shares,
                 FE *out)
{
    FE inv = FLPFN(shares_inv)(num_shares);
    FE in[64];
    FE g1[1];

    /* Accumulate the gadget outputs in place of circuit_output's loop. */
    FE range = FOP(zero)();
    for (size_t k = 1; k <= f->calls; k++) {
        FE gk;
        if (f->arity <= 64) {
            FLPFN(call_inputs)(f, meas, joint_rand, inv, k, in, 1);
            gk = FLPFN(gadget_eval)(f, in);
        } else { /* wide chunks: stream the pairs */
            FE r = joint_rand[k - 1], rpow = r;
            size_t base = (k - 1) * f->chunk_length;
            gk = FOP(zero)();
            for (size_t j = 0; j < f->chunk_length; j++) {
                FE x = base + j < f->meas_len ? meas[base + j] : FOP(zero)();
                gk = FLPFN(add_mul)(gk, FOP(mul)(rpow, x), FOP(sub)(x, inv));
                rpow = FOP(mul)(rpow, r);
            }
        }
        if (f->kind == PA_FLP_SUM)
            out[k - 1] = gk;
        else
            range = FOP(add)(range, gk);
    }
    pa_wipe(in, sizeof in);
    if (f->kind == PA_FLP_SUM)
        return;
    g1[0] = range;
    /* one "call" whose output is the whole range sum */
    {
        pa_flp one = *f;
        one.calls = 1;
        FLPFN(circuit_output)(&one, meas, g1, 1, inv, out);
    }
}

/*
 * Tables for coset_values (P = 2^k >= 2):
 *   fwd[j] = w^j, inv[j] = w^-j for j < P/2 (w = alpha, the P-th root of unity);
 *   twist[i] = s^bitrev(i) / P (s the 2P-th root), the scaling of the inverse
 *   transform and the shift to the coset folded into one product.
 */
static void FLPFN(coset_tables)(const pa_flp *f, FE *fwd, FE *inv, FE *twist)
{
    size_t P = f->p, logp = 0;
    FE w = FOP(root_of_unity)(P), wi = FOP(pow)(w, (uint64_t)(P - 1));
    FE s = FOP(root_of_unity)(2 * P);
    while (((size_t)1 << logp) < P)
        logp++;
    fwd[0] = inv[0] = FOP(one)();
    for (size_t j = 1; j < P / 2; j++) {
        fwd[j] = FOP(mul)(fwd[j - 1], w);
        inv[j] = FOP(mul)(inv[j - 1], wi);
    }
    FE sp = f->FCONST(inv_p); /* s^i / P for i = 0, 1, ... */
    for (size_t i = 0; i < P; i++) {
        size_t r = 0;
        for (size_t b = 0; b < logp; b++)
            r |= ((i >> b) & 1) << (logp - 1 - b);
        twist[r] = sp;
        sp = FOP(mul)(sp, s);
    }
}

/*
 * out <- the P values, on the coset s·<alpha>, of the polynomial whose values on
 * <alpha> are in[0..P); in[nz..P) MUST be zero (public: the unused gadget calls).
 * Inverse transform by decimation in frequency (natural order in, bit-reversed
 * out), twist, forward transform by decimation in time (bit-reversed in, natural
 * out): no permutation pass, no separate scaling.  Same result as the draft's
 * inv_ntt / ntt(set_s) pair.
 */
static void FLPFN(coset_values)(const FE *in, FE *out, size_t nz, const FE *fwd, const FE *inv,
                                const FE *twist, size_t P)
{
    size_t half = P / 2;
    /* first DIF stage, skipping the known zeros */
    for (size_t j = 0; j < half; j++) {
        if (j >= nz) {
            out[j] = out[j + half] = FOP(zero)();
        } else if (j + half >= nz) {
            out[j] = in[j];
            out[j + half] = j ? FOP(mul)(in[j], inv[j]) : in[j];
        } else {
            FE u = in[j], v = in[j + half];
            out[j] = FOP(add)(u, v);
            out[j + half] = j ? FOP(mul)(FOP(sub)(u, v), inv[j]) : FOP(sub)(u, v);
        }
    }
    for (size_t len = half; len >= 2; len >>= 1) {
        size_t h = len / 2, stride = P / len;
        for (size_t start = 0; start < P; start += len) {
            FE *lo = out + start, *hi = lo + h;
            FE u = lo[0], v = hi[0];
            lo[0] = FOP(add)(u, v);
            hi[0] = FOP(sub)(u, v);
            for (size_t j = 1; j < h; j++) {
                u = lo[j];
                v = hi[j];
                lo[j] = FOP(add)(u, v);
                hi[j] = FOP(mul)(FOP(sub)(u, v), inv[j * stride]);
            }
        }
    }
    for (size_t i = 0; i < P; i++)
        out[i] = FOP(mul)(out[i], twist[i]);
    for (size_t len = 2; len <= P; len <<= 1) {
        size_t h = len / 2, stride = P / len;
        for (size_t start = 0; start < P; start += len) {
            FE *lo = out + start, *hi = lo + h;
            FE u = lo[0], v = hi[0];
            lo[0] = FOP(add)(u, v);
            hi[0] = FOP(sub)(u, v);
            for (size_t j = 1; j < h; j++) {
                u = lo[j];
                v = FOP(mul)(hi[j], fwd[j * stride]);
                lo[j] = FOP(add)(u, v);
                hi[j] = FOP(sub)(u, v);
            }
        }
    }
}

/*
 * prove (§7.3.3): proof (proof_len) <- wire seeds || first gpoly_len values of the
 * gadget polynomial.  scratch: pa_flp_prove_scratch_len(f) elements.
 *
 * The wires are never stored as an arity x P matrix: for ParallelSum(Mul) the two
 * wires of pair j (r_k^(j+1)·x_kj and x_kj - 1 over the calls k) are built column
 * by column into two P-element buffers, transformed and folded into the gadget
 * accumulator before the next pair.  The powers r_k^(j+1) advance one step per
 * pair for every call (independent products, no serial chain).  Only wire values
 * at positions < calls + 1 are written: coset_values never reads past them.
 */
void FLPFN(prove)(const pa_flp *f, const FE *meas, const FE *prove_rand, const FE *joint_rand,
                  FE *proof, FE *scratch)
{
    size_t P = f->p, A = f->arity, nz = f->calls + 1;
    FE *wa = scratch;        /* P: first wire of the pair (or wire 0) */
    FE *wb = wa + P;         /* P: second wire of the pair (or wire 1) */
    FE *ca = wb + P;         /* P */
    FE *cb = ca + P;         /* P */
    FE *twist = cb + P;      /* P */
    FE *acc = twist + P;     /* 2P */
    FE *fwd = acc + 2 * P;   /* P/2 */
    FE *inv = fwd + P / 2;   /* P/2 */
    FE *rp = inv + P / 2;    /* calls (< P): r_k^(j+1) */
    FE one = FOP(one)();     /* the prover evaluates with num_shares = 1 */

    FLPFN(coset_tables)(f, fwd, inv, twist);
    memset(acc, 0, 2 * P * sizeof(FE));

    if (f->gadget == PA_GADGET_POLYEVAL_BIT) {
        wa[0] = prove_rand[0];
        for (size_t k = 1; k <= f->calls; k++)
            FLPFN(call_inputs)(f, meas, joint_rand, one, k, wa + k, P);
        FLPFN(coset_values)(wa, ca, nz, fwd, inv, twist, P);
        for (size_t k = 0; k < P; k++) {
            FE w = k < nz ? wa[k] : FOP(zero)();
            acc[2 * k] = FOP(sub)(FOP(mul)(w, w), w);
            acc[2 * k + 1] = FOP(sub)(FOP(mul)(ca[k], ca[k]), ca[k]);
        }
    } else {
        size_t CL = f->chunk_length, ML = f->meas_len, calls = f->calls;
        if (f->gadget == PA_GADGET_MUL) { /* one pair, filled by call_inputs */
            wa[0] = prove_rand[0];
            wb[0] = prove_rand[1];
            for (size_t k = 1; k <= calls; k++)
                FLPFN(call_inputs)(f, meas, joint_rand, one, k, wa + k, P);
        } else {
            for (size_t k = 0; k < calls; k++)
                rp[k] = joint_rand[k];
        }
        for (size_t q = 0; q < A / 2; q++) {
            if (f->gadget == PA_GADGET_PARALLEL_SUM_MUL) {
                wa[0] = prove_rand[2 * q];
                wb[0] = prove_rand[2 * q + 1];
                for (size_t k = 1; k <= calls; k++) {
                    size_t idx = (k - 1) * CL + q;
                    FE x = idx < ML ? meas[idx] : FOP(zero)(); /* public index */
                    wa[k] = FOP(mul)(rp[k - 1], x);
                    wb[k] = FOP(sub)(x, one);
                    rp[k - 1] = FOP(mul)(rp[k - 1], joint_rand[k - 1]);
                }
            }
            FLPFN(coset_values)(wa, ca, nz, fwd, inv, twist, P);
            FLPFN(coset_values)(wb, cb, nz, fwd, inv, twist, P);
            for (size_t k = 0; k < nz; k++) /* the wires vanish past the calls */
                acc[2 * k] = FLPFN(add_mul)(acc[2 * k], wa[k], wb[k]);
            for (size_t k = 0; k < P; k++)
                acc[2 * k + 1] = FLPFN(add_mul)(acc[2 * k + 1], ca[k], cb[k]);
        }
    }
    memcpy(proof, prove_rand, A * sizeof(FE));
    memcpy(proof + A, acc, f->gpoly_len * sizeof(FE));
}

/*
 * Value at t of the polynomial of degree <= 2P-2 given by its values y[0..2P-2] at
 * s^0..s^(2P-2), s a primitive 2P-th root of unity.  The missing y[2P-1] follows
 * from the vanishing top coefficient: sum_i y_i s^i = 0.  Then Alg. 7 of [Faz25].
 */
static FE FLPFN(gadget_poly_at)(const FE *y, size_t P, FE t, FE inv_n)
{
    size_t n = 2 * P;
    FE s = FOP(root_of_unity)(n);
    FE x = FOP(one)(), sum = FOP(zero)();
    for (size_t i = 0; i + 1 < n; i++) {
        sum = FLPFN(add_mul)(sum, y[i], x);
        x = FOP(mul)(x, s);
    }
    FE ylast = FOP(neg)(FOP(mul)(s, sum));

    FE u = y[0], k = FOP(one)(), d = FOP(sub)(FOP(one)(), t);
    x = FOP(one)();
    for (size_t i = 1; i < n; i++) {
        FE yi = i + 1 < n ? y[i] : ylast;
        k = FOP(mul)(k, d);
        x = FOP(mul)(x, s);
        d = FOP(sub)(x, t);
        u = FOP(add)(FOP(mul)(u, d), FOP(mul)(FOP(mul)(k, x), yi));
    }
    /* (-1)^(n-1) / n with n even */
    return FOP(neg)(FOP(mul)(u, inv_n));
}

/*
 * Lagrange coefficients c[k] = L_k(t) over the P-th roots of unity, product form:
 * L_k(t) = (w^k / P)·prod_{j != k} (t - w^j).  suf needs P + 1 elements.
 */
static void FLPFN(lagrange_coeffs)(size_t P, FE t, FE invP, FE *c, FE *suf)
{
    FE w = FOP(root_of_unity)(P);
    c[0] = FOP(one)();
    for (size_t k = 1; k < P; k++)
        c[k] = FOP(mul)(c[k - 1], w);
    suf[P] = FOP(one)();
    for (size_t k = P; k-- > 0;)
        suf[k] = FOP(mul)(suf[k + 1], FOP(sub)(t, c[k]));
    FE pre = invP;
    for (size_t k = 0; k < P; k++) {
        FE xk = c[k];
        c[k] = FOP(mul)(FOP(mul)(xk, pre), suf[k + 1]);
        pre = FOP(mul)(pre, FOP(sub)(t, xk));
    }
}

/*
 * ParallelSum(Mul) wires at t, call by call: we[2j+1] += sum_k c_k·x_kj and
 * we[2j] += sum_k c_k·x_kj·r_k^(j+1), k = 1..calls, x_kj = meas[(k-1)·chunk + j]
 * (the terms with x_kj past the end of the measurement are zero and skipped).
 * coef[k] = c_k; meas_raw: scale c_k by the raw factor for the measurement.
 */
static void FLPFN(psm_wires)(const pa_flp *f, const FE *meas, const FE *joint_rand,
                             const FE *coef, int meas_raw, FE *we)
{
    for (size_t k = 1; k <= f->calls; k++) {
        FE r = joint_rand[k - 1], rpow = r, ck = coef[k]; /* rpow = r^(j+1) */
        FE cm = meas_raw ? FOP(mul)(ck, FOP(raw_factor)()) : ck; /* c_k for meas */
        size_t base = (k - 1) * f->chunk_length;
        size_t m = f->chunk_length;
        if (base + m > f->meas_len)
            m = f->meas_len - base;
        /* two independent power chains (r^(j+1), r^(j+2)) step by r^2, so the
         * loop is not bound by the latency of one multiplication chain */
        FE r2 = FOP(mul)(r, r), rpow2 = r2;
        size_t j = 0;
        for (; j + 1 < m; j += 2) {
            FE y0 = FOP(mul)(cm, meas[base + j]);
            FE y1 = FOP(mul)(cm, meas[base + j + 1]);
            we[2 * j + 1] = FOP(add)(we[2 * j + 1], y0);
            we[2 * j + 3] = FOP(add)(we[2 * j + 3], y1);
            we[2 * j] = FLPFN(add_mul)(we[2 * j], y0, rpow);
            we[2 * j + 2] = FLPFN(add_mul)(we[2 * j + 2], y1, rpow2);
            rpow = FOP(mul)(rpow, r2);
            rpow2 = FOP(mul)(rpow2, r2);
        }
        if (j < m) {
            FE y = FOP(mul)(cm, meas[base + j]);
            we[2 * j + 1] = FOP(add)(we[2 * j + 1], y);
            we[2 * j] = FLPFN(add_mul)(we[2 * j], y, rpow);
        }
    }
}

#if PA_FLP_CAT2(PA_FLP_LAZY_, FLD)
/*
 * The same sums as psm_wires with lazy reduction (field128.h, pa_f128_wide):
 * for each j the two sums over k are accumulated as unreduced integers and
 * reduced once.  Exact reformulation: with d_kj = cm_k·r_k^(j+1) (cm_k = c_k,
 * times the raw factor for a raw share) we[2j] gets sum_k d_kj·x_kj, and d_kj
 * is kept as one full multiplication chain per call (d_k <- d_k·r_k), so each
 * term costs one multiplication and two plain 256-bit products instead of three
 * multiplications.  The loop runs j outside, k inside, so the calls' chains
 * are independent of each other (no latency-bound chain) and each j needs only
 * its two accumulators; meas is read with stride chunk_length, which touches
 * calls cache lines per j, each reused for the next j's.  Requires
 * calls <= the field's wide-sum limit (checked by the caller).  cm: the calls
 * c_k (k = 1..calls), overwritten with cm_k; d: calls elements of scratch.
 * Constant time: the loop bounds depend on the lengths alone.
 */
static void FLPFN(psm_wires_lazy)(const pa_flp *f, const FE *meas, const FE *joint_rand,
                                  FE *cm, FE *d, int meas_raw, FE *we)
{
    size_t calls = f->calls, cl = f->chunk_length;
    for (size_t k = 0; k < calls; k++) {
        if (meas_raw)
            cm[k] = FOP(mul)(cm[k], FOP(raw_factor)());
        d[k] = cm[k];
    }
    for (size_t j = 0; j < cl; j++) {
        /* calls whose chunk has an element j (all but possibly the last) */
        size_t nk = calls;
        while (nk > 0 && (nk - 1) * cl + j >= f->meas_len)
            nk--;
        FOP(wide) a0 = FOP(wide_zero)(), a1 = FOP(wide_zero)();
        const FE *x = meas + j;
        for (size_t k = 0; k < nk; k++, x += cl) {
            FE dk = FOP(mul)(d[k], joint_rand[k]);
            d[k] = dk;
            FOP(wide_mac)(&a0, dk, *x);
            FOP(wide_mac)(&a1, cm[k], *x);
        }
        we[2 * j] = FOP(add)(we[2 * j], FOP(wide_reduce)(&a0));
        we[2 * j + 1] = FOP(add)(we[2 * j + 1], FOP(wide_reduce)(&a1));
        pa_wipe(&a0, sizeof a0);
        pa_wipe(&a1, sizeof a1);
    }
}
#endif

/*
 * query (§7.3.4): verifier (verifier_len) <- [reduced circuit output, wire
 * polynomials at t, gadget polynomial at t] for a share of the measurement and of
 * the proof.  inv is 1/num_shares (the caller caches it).  PA_EVERIFY if the test
 * point t is a P-th root of unity (the draft aborts there).  scratch:
 * pa_flp_query_scratch_len(f) elements.  meas_raw: meas is a raw vector (see
 * field128.h, decode_vec_raw), which only SumVec supports (its query uses the
 * measurement through products with the Lagrange coefficients alone, so scaling
 * those coefficients by the raw factor is the whole conversion); PA_EINTERNAL
 * for another circuit.
 */
int FLPFN(query)(const pa_flp *f, const FE *meas, const FE *proof, const FE *query_rand,
                 const FE *joint_rand, FE inv, FE *verifier, FE *scratch, int meas_raw)
{
    size_t P = f->p, A = f->arity;
    FE t;
    FE *coef = scratch;        /* P */
    FE *suf = coef + P;        /* P + 1 */
    FE *in = suf + P + 1;      /* A */
    FE *we = verifier + 1;     /* A wire evaluations */
    const FE *gp = proof + A;  /* gadget polynomial values */
    FE out[2];

    if (meas_raw && (f->kind != PA_FLP_SUMVEC || f->gadget != PA_GADGET_PARALLEL_SUM_MUL))
        return pa_fail(PA_EINTERNAL, "query: a raw measurement share needs the SumVec circuit");
    t = query_rand[f->query_rand_len - 1]; /* after the check: f may not match the buffers */
    /* the draft's abort: public (the report fails), so declassified for the branch */
    if (pa_ct_public((uint64_t)FOP(eq)(FOP(pow)(t, (uint64_t)P), FOP(one)())))
        return pa_fail(PA_EVERIFY, "query: test point is a root of unity");
    FLPFN(lagrange_coeffs)(P, t, f->FCONST(inv_p), coef, suf);

    for (size_t j = 0; j < A; j++)
        we[j] = FOP(mul)(coef[0], proof[j]);
    if (f->gadget == PA_GADGET_PARALLEL_SUM_MUL) {
        /* wire 2j+1 gets sum_k c_k·x_kj - inv·sum_k c_k; wire 2j gets sum_k c_k·x_kj·r_k^(j+1) */
        FE csum = FOP(zero)();
        for (size_t k = 1; k <= f->calls; k++)
            csum = FOP(add)(csum, coef[k]);
#if PA_FLP_CAT2(PA_FLP_LAZY_, FLD)
        if (f->calls <= FOP(WIDE_MAX_TERMS_))
            FLPFN(psm_wires_lazy)(f, meas, joint_rand, coef + 1, suf, meas_raw, we);
        else
#endif
            FLPFN(psm_wires)(f, meas, joint_rand, coef, meas_raw, we);
        FE corr = FOP(mul)(inv, csum);
        for (size_t j = 0; j < f->chunk_length; j++)
            we[2 * j + 1] = FOP(sub)(we[2 * j + 1], corr);
    } else {
        for (size_t k = 1; k <= f->calls; k++) {
            FLPFN(call_inputs)(f, meas, joint_rand, inv, k, in, 1);
            for (size_t j = 0; j < A; j++)
                we[j] = FLPFN(add_mul)(we[j], coef[k], in[j]);
        }
    }

    /* circuit output from the gadget outputs g(alpha^k) = gp[2k], then the reduction */
    if (f->eval_output_len == 1) {
        FLPFN(circuit_output)(f, meas, gp + 2, 2, inv, out);
        verifier[0] = out[0];
    } else if (f->kind == PA_FLP_SUM) {
        FE v = FOP(zero)();
        for (size_t k = 0; k < f->calls; k++)
            v = FLPFN(add_mul)(v, query_rand[k], gp[2 * (k + 1)]);
        verifier[0] = v;
    } else {
        FLPFN(circuit_output)(f, meas, gp + 2, 2, inv, out);
        verifier[0] = FOP(add)(FOP(mul)(query_rand[0], out[0]), FOP(mul)(query_rand[1], out[1]));
    }
    verifier[1 + A] = FLPFN(gadget_poly_at)(gp, P, t, f->FCONST(inv_2p));
    return 0;
}

/* decide (§7.3.5): 1 if the (combined) verifier accepts, else 0. */
int FLPFN(decide)(const pa_flp *f, const FE *verifier)
{
    FE g = FLPFN(gadget_eval)(f, verifier + 1);
    return FOP(is_zero)(verifier[0]) & FOP(eq)(g, verifier[1 + f->arity]);
}

#undef FE
#undef FOP
#undef FLPFN
#undef FCONST
#undef PA_FLP_LAZY_f128
#undef pa_f128_WIDE_MAX_TERMS_
