/*
 * Prio3 internals (draft-irtf-cfrg-vdaf-20 §7.2): the parameter record behind the
 * opaque pa_prio3, the domain-separation tags (§6.2.3 / §7.2.6: format_dst(0, ID, usage)
 * || ctx) and the field-specific halves instantiated from prio3_tmpl.h.
 */
#ifndef PA_PRIO3_INTERNAL_H
#define PA_PRIO3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "flp/flp.h"
#include "privagg/prio3.h"

/* draft-irtf-cfrg-vdaf-20 §7.2: usages of the XOF. */
#define PA_PRIO3_USAGE_MEAS_SHARE 1
#define PA_PRIO3_USAGE_PROOF_SHARE 2
#define PA_PRIO3_USAGE_JOINT_RANDOMNESS 3
#define PA_PRIO3_USAGE_PROVE_RANDOMNESS 4
#define PA_PRIO3_USAGE_QUERY_RANDOMNESS 5
#define PA_PRIO3_USAGE_JOINT_RAND_SEED 6
#define PA_PRIO3_USAGE_JOINT_RAND_PART 7

/* The VERSION byte of format_dst (the draft text says "VERSION SHALL be 18"). */
#define PA_PRIO3_DST_VERSION 18

struct pa_prio3 {
    uint32_t id;
    size_t shares;
    size_t proofs;
    size_t es; /* encoded size of one field element */
    int jr;    /* 1 if the circuit uses joint randomness */
    pa_flp flp;
    pa_f64 shares_inv_f64; /* 1/shares in each field (query's constant) */
    pa_f128 shares_inv_f128;
};

/*
 * A domain-separation tag buffer: 8-byte prefix then ctx.  Small ctx stay in the
 * inline buffer; long ones are allocated.  pa_prio3_dst_usage() rewrites the usage.
 */
typedef struct {
    uint8_t inline_buf[8 + 248];
    uint8_t *buf;
    size_t len;
} pa_prio3_dst;

int pa_prio3_dst_init(pa_prio3_dst *d, const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len);
const uint8_t *pa_prio3_dst_usage(pa_prio3_dst *d, uint16_t usage);
void pa_prio3_dst_free(pa_prio3_dst *d);

/*
 * Scratch arena for one operation: a stack block for small circuits, one malloc
 * otherwise.  Wiped when released.
 */
typedef struct {
    uint64_t stack[1024];
    void *heap;
    size_t bytes;
} pa_prio3_arena;

void *pa_prio3_arena_get(pa_prio3_arena *a, size_t bytes);
void pa_prio3_arena_release(pa_prio3_arena *a);

/* Re-raise the last failure with a prefix: "<prefix>: <previous detail>" (copies first,
 * since the detail lives in the buffer pa_fail writes). */
int pa_prio3_fail_prefixed(int code, const char *prefix);

/* Constant-time equality of two byte strings: 1 if equal. */
int pa_prio3_ct_memeq(const uint8_t *a, const uint8_t *b, size_t n);

#define PA_PRIO3_DECLARE(F)                                                                     \
    int pa_prio3_shard_##F(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,               \
                           const uint64_t *measurement, size_t measurement_len,                \
                           const uint8_t *nonce, const uint8_t *rand, uint8_t *public_share,     \
                           uint8_t *const *input_shares);                                       \
    int pa_prio3_verify_init_##F(const pa_prio3 *v, const uint8_t *verify_key,                   \
                                 const uint8_t *ctx, size_t ctx_len, size_t agg_id,              \
                                 const uint8_t *nonce, const uint8_t *public_share,              \
                                 const uint8_t *input_share, uint8_t *verify_state,              \
                                 uint8_t *verifier_share);                                       \
    int pa_prio3_shares_to_message_##F(const pa_prio3 *v, const uint8_t *ctx, size_t ctx_len,    \
                                       const uint8_t *const *shares, uint8_t *message);

PA_PRIO3_DECLARE(f64)
PA_PRIO3_DECLARE(f128)

#endif
