/*
 * VDAF conformance (internal to tools/conformance and tools/cli): replays the
 * official draft-irtf-cfrg-vdaf-20 test vectors (tests/vectors/vdaf/README.md
 * describes the schema) through the real Prio3 code and compares every byte.
 *
 *   pa_conformance_vdaf_main  the `privagg conformance vdaf PATH...` command: each PATH
 *                             a vector file or a folder (non-JSON files ignored); prints
 *                             one PASS / FAIL / SKIP line per file; returns the exit
 *                             status (0 only if every file passed, 2 bad usage).
 *   pa_vdaf_run_file          one file; writes the line; returns PA_VDAF_PASS / FAIL / SKIP.
 */
#ifndef PA_CONFORMANCE_VDAF_H
#define PA_CONFORMANCE_VDAF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PA_VDAF_PASS 0
#define PA_VDAF_FAIL 1
#define PA_VDAF_SKIP 2

int pa_conformance_vdaf_main(int argc, char **argv, FILE *out);
int pa_vdaf_run_file(const char *path, FILE *out);

/* ---- shared by vdaf_*.c ---- */

/* Why a file failed, filled by the checkers (a single line, no trailing newline). */
typedef struct {
    char msg[1024];
} pa_vdaf_result;

/* Record a failure message; returns PA_VDAF_FAIL. */
int pa_vdaf_failf(pa_vdaf_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
 * Compare got with expected; on mismatch fill r with
 * "<where>: expected <hex> got <hex>" (long values shortened around the first
 * difference) and return PA_VDAF_FAIL, else PA_VDAF_PASS.
 */
int pa_vdaf_compare(pa_vdaf_result *r, const char *where, const uint8_t *expected,
                    size_t expected_len, const uint8_t *got, size_t got_len);

/*
 * Hex string member `key` of obj into a new buffer (*out, *len; free() it).
 * Returns 0, or -1 with r filled ("missing field", "bad hex").
 */
int pa_vdaf_hex_member(pa_vdaf_result *r, json_t *obj, const char *key, uint8_t **out,
                       size_t *len);
/* Same for a JSON string value (what names it in messages). */
int pa_vdaf_hex_value(pa_vdaf_result *r, json_t *val, const char *what, uint8_t **out,
                      size_t *len);

/* The checkers per file family. */
int pa_vdaf_run_prio3(const char *vdaf, json_t *root, pa_vdaf_result *r);
int pa_vdaf_run_xof(const char *name, json_t *root, pa_vdaf_result *r);

#endif
