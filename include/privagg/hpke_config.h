/*
 * privagg hpke_config — an aggregator's published HPKE configuration, signed
 * (GET /hpke_config; docs/keys.md, "The signed configuration").
 *
 * An aggregator holds several HPKE keys: the current one, perhaps a new one
 * staged ahead of a rotation, and older ones still accepted until they expire
 * (include/privagg/keys.h, "key states").  It publishes the ones that have not
 * expired, each with its config id (an RFC 9180 / DAP HpkeConfig: id, KEM
 * X25519-HKDF-SHA256, KDF HKDF-SHA256, AEAD ChaCha20Poly1305, public key) and
 * its state — "current" (exactly one: agencies seal to it), "new" (at most one:
 * published ahead, opened, never sealed to), "retiring" (with its expiry, if
 * any) — signed with the aggregator's own Ed25519 configuration-signing key,
 * whose public half is in the task (parties.leader / parties.helper
 * .signing_public_key).  An agency verifies each aggregator's document with
 * that key before sealing to its current key.  Each aggregator signs its own:
 * the leader serves the helper's document as the helper signed it, so a leader
 * cannot make agencies seal the helper's share to a key of its choosing.
 *
 * JSON form of one aggregator's document:
 *   {"format": "privagg-hpke-config-v2", "task_id": hex, "role": "leader"|"helper",
 *    "issued_at": unix seconds,
 *    "configs": [{"id": N, "kem": "X25519-HKDF-SHA256", "kdf": "HKDF-SHA256",
 *                 "aead": "ChaCha20Poly1305", "public_key": hex,
 *                 "state": "current"|"new"|"retiring",
 *                 "not_after": unix seconds (retiring keys with an expiry)}, ...],
 *    "signature": hex of the Ed25519 signature of pa_hpke_config_signed_bytes}
 * Format v1 (the same with "current": true|false instead of "state", no new
 * key) is refused by name, as is any other format: a field this build does not
 * know could change which key is sealed to.
 * The leader's GET /hpke_config answers {"leader": document, "helper": document}
 * (the helper's as it last fetched and verified it; null if it has none yet),
 * the helper's {"helper": document}.
 */
#ifndef PRIVAGG_HPKE_CONFIG_H
#define PRIVAGG_HPKE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "privagg/keys.h"

#define PA_HPKE_CONFIG_FORMAT "privagg-hpke-config-v2"
#define PA_HPKE_CONFIG_SIGN_LABEL "privagg/hpke-config/v2"
/* A document older than this is refused by an agency (a replayed old one). */
#define PA_HPKE_CONFIG_MAX_AGE_S (7 * 86400)

typedef struct {
    uint8_t iId;
    uint8_t aPublic[32];
    int64_t tNotAfter;          /* retiring keys only; 0: none */
    pa_hpke_key_state eState;
} pa_hpke_config_entry;

typedef struct {
    uint8_t aTaskId[32];
    pa_role eRole;              /* PA_ROLE_LEADER or PA_ROLE_HELPER */
    int64_t tIssued;
    size_t n;
    pa_hpke_config_entry a[PA_KEYS_MAX_HPKE];
    uint8_t aSignature[64];
} pa_hpke_config_doc;

/* The document of keys pKeys (leader or helper, with a signing key: PA_EINVAL
 * otherwise) for task aTaskId at tNow: the current key, the new one if staged,
 * and every retiring one not expired at tNow, in that order, signed. */
int pa_hpke_config_make(pa_hpke_config_doc *pDoc, const pa_keys *pKeys, const uint8_t aTaskId[32], int64_t tNow);

/* The bytes signed: the label, task id, role byte (0 leader, 1 helper),
 * issued_at (8 bytes big-endian), entry count, then per entry its id, public
 * key, not_after (8 bytes big-endian) and state byte (0 retiring, 1 current,
 * 2 new).  *ppOut malloc'ed. */
int pa_hpke_config_signed_bytes(uint8_t **ppOut, size_t *pnOut, const pa_hpke_config_doc *pDoc);

/* JSON form (see above); a new reference. */
json_t *pa_hpke_config_to_json(const pa_hpke_config_doc *pDoc);

/* Parse strictly (format v2, the fields above and no others, hex of the right
 * sizes, 1 to PA_KEYS_MAX_HPKE entries, distinct ids, exactly one current, at
 * most one new, not_after on retiring keys only).  zWhere names
 * the document in messages.  Errors: PA_EDECODE. */
int pa_hpke_config_from_json(pa_hpke_config_doc *pDoc, const json_t *pJson, const char *zWhere);

/*
 * Check a parsed document before sealing to it: the signature under
 * aSigningKey (the task's key of that role), the task id, the role, issued no
 * later than tNow + 300 s and no earlier than tNow - PA_HPKE_CONFIG_MAX_AGE_S.
 * Errors: PA_EVERIFY (signature), PA_EAUTH (another task or role, too old or
 * from the future), each naming the document.
 */
int pa_hpke_config_verify(const pa_hpke_config_doc *pDoc, const uint8_t aSigningKey[32],
                          const uint8_t aTaskId[32], pa_role eRole, int64_t tNow, const char *zWhere);

/* The current entry (the parser guarantees one): the key an agency seals to,
 * never the new one. */
const pa_hpke_config_entry *pa_hpke_config_current(const pa_hpke_config_doc *pDoc);

#endif
