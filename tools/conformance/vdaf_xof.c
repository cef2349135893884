/*
 * XOF known-answer files of draft-irtf-cfrg-vdaf-20 (XofTurboShake128.json):
 * derive_seed(seed, dst, binder) must equal derived_seed, and
 * expand_into_vec(field, seed, dst, binder, length) must encode to
 * expanded_vec_field64 / expanded_vec_field128 (every one present is checked;
 * at least one must be).  Uses the product's pa_xof_* (protocols/xof/xof.h).
 */
#include <stdlib.h>
#include <string.h>

#include "conformance/vdaf_conformance.h"
#include "xof/xof.h"

int pa_vdaf_run_xof(const char *name, json_t *root, pa_vdaf_result *r)
{
    uint8_t *seed = NULL, *dst = NULL, *binder = NULL, *want = NULL, *got = NULL;
    size_t seed_len, dst_len, binder_len, want_len;
    int status = PA_VDAF_FAIL, checked = 0;

    if (strcmp(name, "XofTurboShake128") != 0)
        return pa_vdaf_failf(r, "unknown XOF '%s'", name);
    if (!json_is_object(root))
        return pa_vdaf_failf(r, "top level is not a JSON object");
    if (pa_vdaf_hex_member(r, root, "seed", &seed, &seed_len) ||
        pa_vdaf_hex_member(r, root, "dst", &dst, &dst_len) ||
        pa_vdaf_hex_member(r, root, "binder", &binder, &binder_len))
        goto out;
    if (seed_len != PA_XOF_SEED_SIZE) {
        pa_vdaf_failf(r, "seed: %zu bytes, expected %d", seed_len, PA_XOF_SEED_SIZE);
        goto out;
    }
    if (dst_len > 65535) {
        pa_vdaf_failf(r, "dst: %zu bytes, limit 65535", dst_len);
        goto out;
    }

    if (json_object_get(root, "derived_seed") != NULL) {
        uint8_t derived[PA_XOF_SEED_SIZE];
        if (pa_vdaf_hex_member(r, root, "derived_seed", &want, &want_len))
            goto out;
        pa_xof_derive_seed(derived, seed, seed_len, dst, dst_len, binder, binder_len);
        if (pa_vdaf_compare(r, "derive_seed", want, want_len, derived, sizeof derived))
            goto out;
        free(want);
        want = NULL;
        checked++;
    }

    json_t *jlen = json_object_get(root, "length");
    static const char *const keys[2] = {"expanded_vec_field64", "expanded_vec_field128"};
    for (int k = 0; k < 2; k++) {
        if (json_object_get(root, keys[k]) == NULL)
            continue;
        if (!json_is_integer(jlen) || json_integer_value(jlen) <= 0 ||
            json_integer_value(jlen) > (1 << 24)) {
            pa_vdaf_failf(r, "field 'length' missing or out of range");
            goto out;
        }
        size_t n = (size_t)json_integer_value(jlen);
        if (pa_vdaf_hex_member(r, root, keys[k], &want, &want_len))
            goto out;
        if (k == 0) {
            pa_f64 *vec = malloc(n * sizeof *vec);
            got = malloc(n * PA_F64_ENCODED_SIZE);
            if (vec == NULL || got == NULL) {
                free(vec);
                pa_vdaf_failf(r, "out of memory");
                goto out;
            }
            pa_xof_expand_into_vec_f64(vec, n, seed, seed_len, dst, dst_len, binder, binder_len);
            pa_f64_encode_vec(got, vec, n);
            free(vec);
            if (pa_vdaf_compare(r, "expand_into_vec Field64", want, want_len, got,
                                n * PA_F64_ENCODED_SIZE))
                goto out;
        } else {
            pa_f128 *vec = malloc(n * sizeof *vec);
            got = malloc(n * PA_F128_ENCODED_SIZE);
            if (vec == NULL || got == NULL) {
                free(vec);
                pa_vdaf_failf(r, "out of memory");
                goto out;
            }
            pa_xof_expand_into_vec_f128(vec, n, seed, seed_len, dst, dst_len, binder,
                                        binder_len);
            pa_f128_encode_vec(got, vec, n);
            free(vec);
            if (pa_vdaf_compare(r, "expand_into_vec Field128", want, want_len, got,
                                n * PA_F128_ENCODED_SIZE))
                goto out;
        }
        free(want);
        free(got);
        want = got = NULL;
        checked++;
    }
    if (checked == 0) {
        pa_vdaf_failf(r, "no derived_seed or expanded_vec_field* to check");
        goto out;
    }
    status = PA_VDAF_PASS;
out:
    free(seed);
    free(dst);
    free(binder);
    free(want);
    free(got);
    return status;
}
