/*
 * The generic fully linear proof (FLP) of [BBCGGI19] as specified in
 * draft-irtf-cfrg-vdaf-20 §7.3 ("FLP Specification"), with the validity
 * circuits of §7.4 (Count, Sum, SumVec, Histogram, MultihotCountVec) and the
 * gadgets Mul, PolyEval and ParallelSum(Mul) (Appendix A "FLP Gadgets").
 *
 * Every circuit used by Prio3 has exactly one gadget, so a circuit is described by
 * one field-independent pa_flp record (lengths, gadget shape) and the algorithms are
 * written once in flp_tmpl.h and instantiated for Field64 (flp_f64.c) and Field128
 * (flp_f128.c): pa_flp_<op>_f64 / pa_flp_<op>_f128.
 *
 * Polynomials follow the draft's Lagrange basis: the wire polynomials are given by
 * their values at the powers of alpha = root_of_unity(P) (P = next power of two
 * >= 1 + calls), the gadget polynomial by its values at the powers of the 2P-th
 * root of unity, of which the proof carries the first GADGET_DEGREE·(P-1)+1.
 *
 * Contracts (internal; callers are protocols/prio3 and tests):
 *  - every pointer argument points to the documented number of elements;
 *  - scratch buffers are sized by pa_flp_prove_scratch_len / pa_flp_query_scratch_len
 *    (field elements) and are left holding secret-derived data: the caller wipes them;
 *  - no function allocates memory.
 */
#ifndef PA_FLP_H
#define PA_FLP_H

#include <stddef.h>
#include <stdint.h>

#include "field/field128.h"
#include "field/field64.h"

typedef enum { PA_FLP_FIELD64 = 1, PA_FLP_FIELD128 = 2 } pa_flp_field;

typedef enum {
    PA_FLP_COUNT = 1,
    PA_FLP_SUM,
    PA_FLP_SUMVEC,
    PA_FLP_HISTOGRAM,
    PA_FLP_MULTIHOT
} pa_flp_kind;

typedef enum {
    PA_GADGET_MUL = 1,        /* x·y, arity 2, degree 2 */
    PA_GADGET_POLYEVAL_BIT,   /* PolyEval([0, -1, 1]) = x^2 - x, arity 1, degree 2 */
    PA_GADGET_PARALLEL_SUM_MUL /* ParallelSum(Mul, chunk): arity 2·chunk, degree 2 */
} pa_gadget_kind;

typedef struct {
    pa_flp_kind kind;
    pa_flp_field field;
    uint64_t max_measurement; /* Sum, SumVec */
    size_t length;            /* SumVec, Histogram, MultihotCountVec */
    size_t chunk_length;      /* SumVec, Histogram, MultihotCountVec */
    size_t max_weight;        /* MultihotCountVec */
    size_t bits;              /* Sum, SumVec: bit_length(max_measurement); Multihot: of max_weight */

    pa_gadget_kind gadget;
    size_t arity, degree, calls;
    size_t p;         /* wire polynomial length: next_power_of_2(1 + calls) */
    size_t gpoly_len; /* degree·(p - 1) + 1 values carried in the proof */

    size_t meas_len, output_len, joint_rand_len, eval_output_len;
    size_t prove_rand_len, query_rand_len, proof_len, verifier_len;
    int encoding_is_bits; /* 1 if encode() only ever produces 0 and 1 (all circuits here) */

    /* 1/P and 1/(2P) in both fields, so query never inverts (set by the constructors) */
    pa_f64 inv_p_f64, inv_2p_f64;
    pa_f128 inv_p_f128, inv_2p_f128;
} pa_flp;

/*
 * Constructors: fill *f and return 0, or PA_EINVAL naming the bad parameter (zero
 * length, chunk_length, max; a bound that does not fit the field; sizes beyond
 * 2^28 elements).
 */
int pa_flp_init_count(pa_flp *f, pa_flp_field field);
int pa_flp_init_sum(pa_flp *f, pa_flp_field field, uint64_t max_measurement);
int pa_flp_init_sumvec(pa_flp *f, pa_flp_field field, size_t length, uint64_t max_measurement,
                       size_t chunk_length);
int pa_flp_init_histogram(pa_flp *f, pa_flp_field field, size_t length, size_t chunk_length);
int pa_flp_init_multihot(pa_flp *f, pa_flp_field field, size_t length, size_t max_weight,
                         size_t chunk_length);

/* Field elements of scratch needed by prove / query. */
size_t pa_flp_prove_scratch_len(const pa_flp *f);
size_t pa_flp_query_scratch_len(const pa_flp *f);

/* The instantiations: see flp_tmpl.h for each contract. */
#define PA_FLP_DECLARE(F)                                                                    \
    int pa_flp_encode_##F(const pa_flp *f, const uint64_t *measurement, size_t n, pa_##F *meas); \
    void pa_flp_prove_##F(const pa_flp *f, const pa_##F *meas, const pa_##F *prove_rand,    \
                          const pa_##F *joint_rand, pa_##F *proof, pa_##F *scratch);        \
    int pa_flp_query_##F(const pa_flp *f, const pa_##F *meas, const pa_##F *proof,          \
                         const pa_##F *query_rand, const pa_##F *joint_rand,                \
                         pa_##F shares_inv, pa_##F *verifier, pa_##F *scratch, int meas_raw); \
    int pa_flp_decide_##F(const pa_flp *f, const pa_##F *verifier);                         \
    void pa_flp_eval_##F(const pa_flp *f, const pa_##F *meas, const pa_##F *joint_rand,      \
                         size_t num_shares, pa_##F *out);                                    \
    void pa_flp_truncate_##F(const pa_flp *f, const pa_##F *meas, pa_##F *out);

PA_FLP_DECLARE(f64)
PA_FLP_DECLARE(f128)

#endif
