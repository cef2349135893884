/*
 * The contract of a fuzz target (tests/fuzz/<target>.c, one per decoder).
 * Each target defines LLVMFuzzerTestOneInput, which MUST NOT crash, leak or
 * trip a sanitizer on any input, and aborts (pa_fuzz_check) when a decoder
 * accepts bytes that do not re-encode to themselves; and pa_fuzz_seeds, which
 * writes valid inputs for the seed corpus.  The same file is linked with
 * libFuzzer (-DPA_FUZZ=ON, clang) or with replay.c, the driver that replays the
 * committed corpus tests/fuzz/corpus/<target>/ (plus deterministic mutations of
 * each file) as a CTest test of the regular build.
 */
#ifndef PA_FUZZ_H
#define PA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);
/* Write the target's seeds into zDir with pa_fuzz_put. */
void pa_fuzz_seeds(const char *zDir);
/* One seed file zDir/zName. */
void pa_fuzz_put(const char *zDir, const char *zName, const void *p, size_t n);
/* Abort with a message when bOk is false: a finding, not an input error. */
void pa_fuzz_check(int bOk, const char *zWhat);
/* The bytes as the file zName (mode 0600, replaced on every call) in a folder
 * of this process's own (mode 0700, removed at exit), for the decoders that read
 * a path as the CLI does; returns the file's path (static storage). */
const char *pa_fuzz_file(const char *zName, const uint8_t *p, size_t n);
/* That folder (created on first use). */
const char *pa_fuzz_dir(void);

#endif
