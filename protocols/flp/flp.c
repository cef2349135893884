/*
 * Parameters of the validity circuits of draft-irtf-cfrg-vdaf-20 §7.4 and the
 * derived lengths of the generic FLP (§7.3: PROVE_RAND_LEN, QUERY_RAND_LEN,
 * PROOF_LEN, VERIFIER_LEN, wire_poly_len, gadget_poly_len).  Field-independent.
 */
#include "flp/flp.h"

#include <string.h>

#include "privagg/common.h"

/* Upper bound on any length, so that every size computation fits easily. */
#define PA_FLP_MAX_LEN ((size_t)1 << 28)

static size_t next_pow2(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static size_t bit_length(uint64_t v)
{
    size_t n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

/* log2 of the field's GEN_ORDER: the largest NTT size is 2^this. */
static size_t two_adicity(pa_flp_field field)
{
    return field == PA_FLP_FIELD64 ? 32 : 66;
}

/* Fill the gadget-dependent lengths once kind, gadget, arity, calls, meas_len, ... are set. */
static int finish(pa_flp *f)
{
    if (f->calls == 0 || f->calls > PA_FLP_MAX_LEN)
        return pa_fail(PA_EINVAL, "flp: %zu gadget calls, limit %zu", f->calls,
                       (size_t)PA_FLP_MAX_LEN);
    f->degree = 2;
    f->p = next_pow2(1 + f->calls);
    /* the gadget polynomial lives on the 2P-th roots of unity */
    if (bit_length((uint64_t)f->p) > two_adicity(f->field)) /* log2(2P) <= two-adicity */
        return pa_fail(PA_EINVAL, "flp: wire polynomial length %zu too large for the field",
                       f->p);
    f->gpoly_len = f->degree * (f->p - 1) + 1;
    f->prove_rand_len = f->arity;
    f->query_rand_len = 1 + (f->eval_output_len > 1 ? f->eval_output_len : 0);
    f->proof_len = f->arity + f->gpoly_len;
    f->verifier_len = 1 + f->arity + 1;
    /* Count (0/1), Sum / SumVec / Multihot (range-checked bits), Histogram (one-hot) */
    f->encoding_is_bits = 1;
    f->inv_p_f64 = pa_f64_inv(pa_f64_from_u64((uint64_t)f->p));
    f->inv_2p_f64 = pa_f64_inv(pa_f64_from_u64((uint64_t)(2 * f->p)));
    f->inv_p_f128 = pa_f128_inv(pa_f128_from_u64((uint64_t)f->p));
    f->inv_2p_f128 = pa_f128_inv(pa_f128_from_u64((uint64_t)(2 * f->p)));
    return 0;
}

static int check_field(pa_flp_field field)
{
    if (field != PA_FLP_FIELD64 && field != PA_FLP_FIELD128)
        return pa_fail(PA_EINVAL, "flp: field %d is neither Field64 nor Field128", (int)field);
    return 0;
}

/* 2^bits must stay below the modulus (the draft's "bound exceeds field modulus"). */
static int check_bits(pa_flp_field field, size_t bits, const char *what)
{
    size_t limit = field == PA_FLP_FIELD64 ? 63 : 64; /* inputs are uint64_t anyway */
    if (bits > limit)
        return pa_fail(PA_EINVAL, "flp: %s needs %zu bits, limit %zu for this field", what,
                       bits, limit);
    return 0;
}

int pa_flp_init_count(pa_flp *f, pa_flp_field field)
{
    int rc = check_field(field);
    if (rc)
        return rc;
    memset(f, 0, sizeof *f);
    f->kind = PA_FLP_COUNT;
    f->field = field;
    f->gadget = PA_GADGET_MUL;
    f->arity = 2;
    f->calls = 1;
    f->meas_len = 1;
    f->output_len = 1;
    f->joint_rand_len = 0;
    f->eval_output_len = 1;
    return finish(f);
}

int pa_flp_init_sum(pa_flp *f, pa_flp_field field, uint64_t max_measurement)
{
    int rc = check_field(field);
    if (rc)
        return rc;
    if (max_measurement == 0)
        return pa_fail(PA_EINVAL, "sum: max_measurement 0, expected >= 1");
    memset(f, 0, sizeof *f);
    f->kind = PA_FLP_SUM;
    f->field = field;
    f->max_measurement = max_measurement;
    f->bits = bit_length(max_measurement);
    if ((rc = check_bits(field, f->bits, "max_measurement")) != 0)
        return rc;
    f->gadget = PA_GADGET_POLYEVAL_BIT;
    f->arity = 1;
    f->calls = f->bits;
    f->meas_len = f->bits;
    f->output_len = 1;
    f->joint_rand_len = 0;
    f->eval_output_len = f->bits;
    return finish(f);
}

/* Shared by the three ParallelSum(Mul) circuits. */
static int init_chunked(pa_flp *f, size_t chunk_length)
{
    if (chunk_length == 0)
        return pa_fail(PA_EINVAL, "chunk_length: 0, expected >= 1");
    if (chunk_length > PA_FLP_MAX_LEN / 2)
        return pa_fail(PA_EINVAL, "chunk_length: %zu above limit %zu", chunk_length,
                       (size_t)PA_FLP_MAX_LEN / 2);
    f->chunk_length = chunk_length;
    f->gadget = PA_GADGET_PARALLEL_SUM_MUL;
    f->arity = 2 * chunk_length;
    f->calls = (f->meas_len + chunk_length - 1) / chunk_length;
    f->joint_rand_len = f->calls;
    return finish(f);
}

int pa_flp_init_sumvec(pa_flp *f, pa_flp_field field, size_t length, uint64_t max_measurement,
                       size_t chunk_length)
{
    int rc = check_field(field);
    if (rc)
        return rc;
    if (length == 0 || length > PA_FLP_MAX_LEN)
        return pa_fail(PA_EINVAL, "sumvec: length %zu, expected 1..%zu", length,
                       (size_t)PA_FLP_MAX_LEN);
    if (max_measurement == 0)
        return pa_fail(PA_EINVAL, "sumvec: max_measurement 0, expected >= 1");
    memset(f, 0, sizeof *f);
    f->kind = PA_FLP_SUMVEC;
    f->field = field;
    f->length = length;
    f->max_measurement = max_measurement;
    f->bits = bit_length(max_measurement);
    if ((rc = check_bits(field, f->bits, "max_measurement")) != 0)
        return rc;
    if (length > PA_FLP_MAX_LEN / f->bits)
        return pa_fail(PA_EINVAL, "sumvec: length %zu x %zu bits above limit %zu", length,
                       f->bits, (size_t)PA_FLP_MAX_LEN);
    f->meas_len = length * f->bits;
    f->output_len = length;
    f->eval_output_len = 1;
    return init_chunked(f, chunk_length);
}

int pa_flp_init_histogram(pa_flp *f, pa_flp_field field, size_t length, size_t chunk_length)
{
    int rc = check_field(field);
    if (rc)
        return rc;
    if (length == 0 || length > PA_FLP_MAX_LEN)
        return pa_fail(PA_EINVAL, "histogram: length %zu, expected 1..%zu", length,
                       (size_t)PA_FLP_MAX_LEN);
    memset(f, 0, sizeof *f);
    f->kind = PA_FLP_HISTOGRAM;
    f->field = field;
    f->length = length;
    f->meas_len = length;
    f->output_len = length;
    f->eval_output_len = 2;
    return init_chunked(f, chunk_length);
}

int pa_flp_init_multihot(pa_flp *f, pa_flp_field field, size_t length, size_t max_weight,
                         size_t chunk_length)
{
    int rc = check_field(field);
    if (rc)
        return rc;
    if (length == 0 || length > PA_FLP_MAX_LEN)
        return pa_fail(PA_EINVAL, "multihot: length %zu, expected 1..%zu", length,
                       (size_t)PA_FLP_MAX_LEN);
    if (max_weight == 0 || max_weight > length)
        return pa_fail(PA_EINVAL, "multihot: max_weight %zu, expected 1..%zu", max_weight,
                       length);
    memset(f, 0, sizeof *f);
    f->kind = PA_FLP_MULTIHOT;
    f->field = field;
    f->length = length;
    f->max_weight = max_weight;
    f->bits = bit_length((uint64_t)max_weight);
    f->meas_len = length + f->bits;
    f->output_len = length;
    f->eval_output_len = 2;
    return init_chunked(f, chunk_length);
}

/*
 * prove: two wire buffers (2·P), two coset buffers (2·P), twist table (P), gadget
 * accumulator (2·P), forward and inverse twiddles (P/2 each), powers of the joint
 * randomness (calls < P).
 */
size_t pa_flp_prove_scratch_len(const pa_flp *f)
{
    return 9 * f->p;
}

/* query: Lagrange coefficients (P), suffix products (2P), gadget inputs (arity). */
size_t pa_flp_query_scratch_len(const pa_flp *f)
{
    return 3 * f->p + f->arity + 2;
}
