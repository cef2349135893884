/*
 * Number-theoretic transform and polynomial helpers over Field64 and Field128,
 * for the FLP (draft-irtf-cfrg-vdaf-20 §6.1.2 NTT-friendly fields: nth_root,
 * ntt, inv_ntt; §6.1.3 polynomial representation).
 *
 * Convention (it matters: FLP proofs are byte-compared with official vectors):
 * pa_F_ntt maps a[0..n) to A[i] = sum_j a[j]·w^(i·j) with w =
 * pa_F_root_of_unity(n), natural order in and out, so A[i] is the polynomial
 * with coefficients a evaluated at w^i.  pa_F_intt is its exact inverse (with the
 * 1/n factor): it interpolates coefficients from the values at w^0..w^(n-1).
 *
 * Everything here is constant time in the element values (the field operations
 * are); running time depends only on the sizes.  No global mutable state: the
 * twiddle factors are computed per call in a small stack buffer.
 */
#ifndef PA_NTT_H
#define PA_NTT_H

#include <stddef.h>

#include "field/field128.h"
#include "field/field64.h"

/* In place; n MUST be a power of two, 1 <= n <= 2^32 (asserted; a release build
 * leaves a unchanged for an invalid n, as do ntt_coset and intt). */
void pa_f64_ntt(pa_f64 *a, size_t n);
void pa_f128_ntt(pa_f128 *a, size_t n);

/*
 * Coset transform, the draft's ntt(p, n, set_s=True) (§6.1.2, used by
 * Lagrange.double_evaluations): a[i] <- sum_j a[j]·(s·w^i)^j with
 * w = root_of_unity(n) and s = root_of_unity(2n), i.e. the polynomial evaluated
 * at the odd powers of the 2n-th root.  n MUST be a power of two, 1 <= n <= 2^31.
 */
void pa_f64_ntt_coset(pa_f64 *a, size_t n);
void pa_f128_ntt_coset(pa_f128 *a, size_t n);

/* Exact inverse of pa_F_ntt, including the 1/n factor.  Same requirements. */
void pa_f64_intt(pa_f64 *a, size_t n);
void pa_f128_intt(pa_f128 *a, size_t n);

/* sum_i coeffs[i]·x^i by Horner (coeffs[0] is the constant term); 0 if n == 0. */
pa_f64 pa_f64_poly_eval(const pa_f64 *coeffs, size_t n, pa_f64 x);
pa_f128 pa_f128_poly_eval(const pa_f128 *coeffs, size_t n, pa_f128 x);

/*
 * out[0 .. na+nb-1) <- a·b (coefficient vectors, constant term first).
 * Schoolbook for small operands, NTT (O(n log n)) otherwise.  out MAY alias a
 * or b (the result is built in a scratch buffer).  Returns 0; PA_EINVAL if
 * na or nb is 0; PA_ERANGE if na+nb-1 > 2^32; PA_ENOMEM if scratch allocation
 * fails (out is then untouched).  Scratch memory is wiped before it is freed.
 */
int pa_f64_poly_mul(pa_f64 *out, const pa_f64 *a, size_t na, const pa_f64 *b, size_t nb);
int pa_f128_poly_mul(pa_f128 *out, const pa_f128 *a, size_t na, const pa_f128 *b, size_t nb);

#endif
