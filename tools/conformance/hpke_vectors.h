/*
 * HPKE (RFC 9180) vector replay for `privagg conformance hpke` (module conformance).
 * The file format is tests/vectors/hpke/README.md: a JSON array of entries with
 * mode, suite ids, ikmE/ikmR/[ikmS], keys, [psk, psk_id], enc, shared_secret,
 * key_schedule_context, secret, key, base_nonce, exporter_secret,
 * encryptions[{seq, pt, aad, nonce, ct}] and exports[{exporter_context, L, exported_value}].
 */
#ifndef PA_CONFORMANCE_HPKE_VECTORS_H
#define PA_CONFORMANCE_HPKE_VECTORS_H

#include <stddef.h>

/*
 * Replay every entry of the file at zPath: derive every key pair from its ikm, run
 * encap/decap, the key schedule on both sides, every seal/open and every export, and
 * compare each value byte for byte.  Returns 0 if all match, otherwise (with
 * pa_error_detail() saying what, e.g. "shared_secret, entry 2: expected 0a.. got 1b.."):
 *   PA_EVERIFY      a value differs (or open rejected the vector's ciphertext)
 *   PA_EIO          the file cannot be read
 *   PA_EDECODE      the file is not valid JSON or an entry misses / mistypes a field
 *   PA_EUNSUPPORTED an entry names another ciphersuite than 0x0020/0x0001/0x0003
 * *pnEntries (may be NULL) receives the number of entries checked.
 */
int pa_conformance_hpke_file(const char *zPath, size_t *pnEntries);

#endif
