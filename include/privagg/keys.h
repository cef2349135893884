/*
 * privagg keys — key files of every party, and the leader/helper pairing bundle.
 *
 * Each party has a private file (mode 0600, never in the task) and a public file
 * that goes into the task:
 *   agency:     Ed25519 signing key          -> public "public_key"
 *   leader/helper/collector: X25519 HPKE key -> public "hpke_public_key"
 * Aggregators' private files also hold the 32-byte Prio3 verify key, which the
 * leader and the helper share (and nobody else), and the bearer token the leader
 * presents to the helper; the collector's holds the bearer token it presents to
 * the leader (the leader's config carries the same token).  Files are JSON;
 * secrets are hex.  A private file is created with O_EXCL: an existing key is
 * never overwritten.
 *
 * Pairing.  No command ever reads another party's private file.  The leader's
 * keygen draws the verify key and the peer token and also writes them, and nothing
 * else, to a pairing bundle (0600); the helper's keygen takes its own fresh HPKE
 * key and the two shared secrets from that bundle.  The bundle travels once from
 * the leader's operator to the helper's over an authenticated, confidential
 * channel and is deleted afterwards.  Why a bundle of fresh random secrets rather
 * than a key agreement between the aggregators' X25519 keys: the HPKE keys stay
 * single-purpose (a static Diffie-Hellman on them would use one key in two
 * protocols), the shared secrets are uniformly random and independent of every
 * long-term key (a leaked verify key says nothing about an HPKE key, and either can
 * be replaced without the other), and it is how DAP provisions a task's verify key
 * (out of band).  What it costs — one confidential hand-over — is spelled out in
 * docs/keys.md.
 *
 * Reading.  Every file that holds a secret is opened once, with O_NOFOLLOW (a
 * symbolic link is refused), checked on the open descriptor (a regular file,
 * owned by this user, no group/other access) and read from that descriptor; the
 * file text and the JSON strings that held secrets are wiped after decoding.
 */
#ifndef PRIVAGG_KEYS_H
#define PRIVAGG_KEYS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* PA_ROLE_REGISTRY: the state's Ed25519 key that signs the agency registry's
 * entries (include/privagg/registry.h); its files look like an agency's, no id. */
typedef enum { PA_ROLE_AGENCY = 1, PA_ROLE_LEADER, PA_ROLE_HELPER, PA_ROLE_COLLECTOR, PA_ROLE_REGISTRY } pa_role;

#define PA_VERIFY_KEY_SIZE 32
#define PA_TOKEN_SIZE 32

/* How many older HPKE keys an aggregator's key file may hold besides the current one. */
#define PA_KEYS_MAX_OLD 7

/* An HPKE key held besides the current one: an older key (state "retiring"),
 * or the key staged ahead of a rotation (state "new"; keygen --stage). */
typedef struct {
    uint8_t iConfigId;
    uint8_t aPublic[32];             /* X25519 */
    uint8_t aSecret[32];
    /* a retiring key's expiry (unix seconds; 0: none): from then on a share
     * sealed to it is refused (the leader at upload; the helper, which opens its
     * share in the aggregation job, PA_KEYS_HELPER_GRACE_S later: docs/keys.md).
     * Always 0 for the new key: it does not expire */
    int64_t tNotAfter;
} pa_hpke_held_key;

/*
 * The states of an aggregator's HPKE keys (docs/keys.md, "Key states"):
 *   new       staged ahead (keygen --stage): published in the signed
 *             configuration as "new", opens reports, never sealed to by
 *             privagg submit; keygen --promote makes it current
 *   current   the one agencies seal to; never expires
 *   retiring  an older key: still opens reports until its expiry, if any
 * An aggregator opens a share sealed to any key it holds in any state, a
 * retiring one only before its expiry.
 */
typedef enum { PA_HPKE_KEY_CURRENT = 1, PA_HPKE_KEY_NEW, PA_HPKE_KEY_RETIRING } pa_hpke_key_state;

/* "current", "new", "retiring" ("unknown" otherwise). */
const char *pa_hpke_key_state_name(pa_hpke_key_state e);

/* An older bearer token still accepted until tNotAfter (0: until it is dropped). */
typedef struct {
    unsigned iId;
    uint8_t aToken[32];
    int64_t tNotAfter;
} pa_old_token;

/* How long after an older key's expiry the helper still opens shares sealed to
 * it: the leader accepted them at upload, before the expiry, and the helper
 * sees them only when they are aggregated (minutes later, or after an outage). */
#define PA_KEYS_HELPER_GRACE_S (7 * 86400)

typedef struct {
    pa_role eRole;
    char zId[65];                    /* agency id (ORI); "" for others */
    uint8_t aPublic[32];             /* Ed25519 (agency) or X25519 (others) */
    uint8_t aSecret[64];             /* Ed25519 secret (64 bytes) or X25519 (first 32) */
    uint8_t iConfigId;               /* HPKE config id (aggregators, collector) */
    uint8_t aVerifyKey[PA_VERIFY_KEY_SIZE]; /* leader and helper only */
    uint8_t aToken[PA_TOKEN_SIZE];   /* leader/helper: the leader->helper bearer token;
                                        collector: its bearer token at the leader */
    /* collector only: the Ed25519 key that signs release manifests (privagg
     * publish).  Files written before it existed have none (bSign 0); they still
     * read, and publish asks for a new collector key.  Public files carry the
     * public half as "signing_public_key". */
    int bSign;
    uint8_t aSignPublic[32];
    uint8_t aSignSecret[64];
    /* leader/helper: the older HPKE keys still held after a rotation (keygen
     * --rotate), newest first; aPublic/aSecret/iConfigId above are the current
     * one, the one the task names.  The private file lists them as
     * "previous_hpke_keys"; the public file names only the current key. */
    size_t nOld;
    pa_hpke_held_key aOld[PA_KEYS_MAX_OLD];
    /* leader/helper: the key staged ahead (state "new", keygen --stage), at most
     * one; the private file lists it as "new_hpke_key" ({"hpke_config_id",
     * "hpke_public_key", "hpke_secret_key"}), the public file does not name it */
    int bNew;
    pa_hpke_held_key sNew;
    /* bearer tokens rotate like keys (docs/keys.md, "Rotating the tokens"):
     * aToken is the current one, with id iTokenId (1 in files written before
     * ids); the helper also accepts the older peer tokens of aOldToken until each
     * expires.  Private file: "peer_token_id" / "bearer_token_id",
     * "previous_peer_tokens": [{"id", "token", "not_after"}]. */
    unsigned iTokenId;
    size_t nOldToken;
    pa_old_token aOldToken[PA_KEYS_MAX_OLD];
} pa_keys;

const char *pa_role_name(pa_role e);
/* PA_EINVAL naming the value if zName is not agency|leader|helper|collector|registry. */
int pa_role_parse(pa_role *pRole, const char *zName);

/* Fresh keys for a role (randomness from libsodium).  For leader/helper the
 * verify key and token are fresh too; the helper takes the leader's from the
 * pairing bundle (pa_pairing_apply) so the pair agrees. */
int pa_keys_generate(pa_keys *pKeys, pa_role eRole, const char *zId, uint8_t iConfigId);

/* The pairing bundle: what the two aggregators must share, and nothing else. */
typedef struct {
    uint8_t aVerifyKey[PA_VERIFY_KEY_SIZE];
    uint8_t aToken[PA_TOKEN_SIZE];   /* the leader->helper bearer token */
} pa_pairing;

/* Copy the leader's verify key and peer token into a bundle.  pLeader MUST be
 * role leader (PA_EINVAL otherwise). */
int pa_pairing_from_leader(pa_pairing *pPair, const pa_keys *pLeader);
/* Set the helper's verify key and peer token from a bundle.  pHelper MUST be role
 * helper (PA_EINVAL otherwise); its HPKE key is its own and stays. */
int pa_pairing_apply(pa_keys *pHelper, const pa_pairing *pPair);
/* Write the bundle to a new file, mode 0600, O_EXCL: {"format":
 * "privagg-pairing-1", "verify_key": hex, "peer_token": hex}.  Errors: PA_EEXISTS,
 * PA_EIO. */
int pa_pairing_write(const pa_pairing *pPair, const char *zPath);
/* Read a bundle (opened as a private file, see Reading above).  Exactly the three
 * fields: a key file given instead (it holds a role and an HPKE key) is refused
 * with PA_EINVAL, any other field with PA_EDECODE; a file that others can read,
 * that is not ours, not regular or a symbolic link with PA_EAUTH or PA_EIO. */
int pa_pairing_read(pa_pairing *pPair, const char *zPath);
void pa_pairing_wipe(pa_pairing *pPair);

/* Write PREFIX.key (0600, O_EXCL) and PREFIX.pub.  Errors: PA_EEXISTS, PA_EIO. */
int pa_keys_write(const pa_keys *pKeys, const char *zPrefix);

/* Write a JSON document to a new file with this mode (0600 for anything secret):
 * O_EXCL (an existing file is never replaced), flushed, the encoded text wiped
 * from memory.  Errors: PA_EEXISTS, PA_EIO, PA_ENOMEM. */
int pa_keys_write_json(const char *zPath, const json_t *pJson, unsigned mode);

/* Read a private file or a public one (secret fields stay zero).  A private file
 * is refused with PA_EAUTH when group or other may access it or another user owns
 * it, with PA_EDECODE naming the private file to use when it is a public file
 * (no secret field).  Errors name the file and the field. */
int pa_keys_read_private(pa_keys *pKeys, const char *zPath);
int pa_keys_read_public(pa_keys *pKeys, const char *zPath);

/*
 * Key rotation (leader and helper; docs/keys.md).  In two steps, so that a key
 * is published before agencies are sent to it:
 *   pa_keys_stage    a fresh HPKE key with the next config id not held
 *                    (current + 1, mod 256) becomes the new key (sNew, bNew).
 *                    PA_EEXISTS when one is staged already (promote or retire
 *                    it first); PA_ERANGE when PA_KEYS_MAX_OLD older keys are
 *                    held (promoting would need room: retire one first).
 *   pa_keys_promote  the new key of config id iId becomes the current one; the
 *                    current one becomes the newest retiring key (aOld[0]),
 *                    expiring at tOldNotAfter (0: none).  PA_ENOTFOUND when no
 *                    key has id iId, PA_EINVAL when the key of that id is not
 *                    the new one (the current key, or a retiring one: stage a
 *                    fresh key instead of bringing an old one back), PA_ERANGE
 *                    as above.
 *   pa_keys_rotate   both at once (PA_EEXISTS when a key is staged: promote it).
 * The verify key and the peer token stay.  PA_EINVAL for another role.
 * pa_keys_retire drops the retiring or new key of config id iId and wipes its
 * secret: PA_EINVAL when it is the current key (rotate first), PA_ENOTFOUND
 * when no key has it.
 */
int pa_keys_stage(pa_keys *pKeys);
int pa_keys_promote(pa_keys *pKeys, unsigned iId, int64_t tOldNotAfter);
int pa_keys_rotate(pa_keys *pKeys);
int pa_keys_retire(pa_keys *pKeys, unsigned iId);
/* Set (tNotAfter > 0) or clear (0) the expiry of the retiring key of config id
 * iId: PA_EINVAL for the current key (it does not expire: rotate first) and for
 * the new one (promote it first), PA_ENOTFOUND when no key has it, PA_EINVAL for
 * a negative time. */
int pa_keys_expire(pa_keys *pKeys, unsigned iId, int64_t tNotAfter);
/*
 * Token rotation.  pa_keys_rotate_token (leader: its peer token; collector: its
 * bearer token) draws a fresh token with the next id (1..65535, skipping the
 * ids held) and makes it current; tOldNotAfter is unused there (the party that
 * presents a token keeps no old one).  pa_keys_add_token (helper, the party
 * that checks the peer token) makes the token of a bundle its current one and
 * keeps its previous one in aOldToken, accepted until tOldNotAfter (0: until
 * it is dropped), after dropping the older tokens already expired; PA_ERANGE
 * when PA_KEYS_MAX_OLD are held, PA_EEXISTS for an id held.  PA_EINVAL for a
 * role that has no such token.
 */
int pa_keys_rotate_token(pa_keys *pKeys, int64_t tOldNotAfter);
int pa_keys_add_token(pa_keys *pKeys, unsigned iId, const uint8_t aToken[32], int64_t tOldNotAfter);

/* The token bundle the leader hands to the helper after rotating its peer
 * token, or the collector to the leader's operator: {"format":
 * "privagg-token-1", "role": "leader"|"collector", "token_id": N, "token": hex},
 * 0600, O_EXCL; read as a private file (pa_keys_load_json).  Errors as
 * pa_pairing_write / pa_pairing_read. */
int pa_token_bundle_write(const char *zPath, pa_role eFrom, unsigned iId, const uint8_t aToken[32]);
int pa_token_bundle_read(const char *zPath, pa_role *peFrom, unsigned *piId, uint8_t aToken[32]);

/* One held HPKE key as the aggregator uses it; the pointers are into the
 * pa_keys and valid while it is. */
typedef struct {
    uint8_t iConfigId;
    pa_hpke_key_state eState;
    int64_t tNotAfter;               /* retiring keys only; 0: none */
    const uint8_t *pPublic, *pSecret;
} pa_hpke_key_ref;

/* The most HPKE keys a key file holds: current, new, PA_KEYS_MAX_OLD retiring. */
#define PA_KEYS_MAX_HPKE (PA_KEYS_MAX_OLD + 2)

/* Every HPKE key held, expired or not, in the order they are published and
 * tried: the current one, the new one, then the retiring ones newest first.
 * Returns how many (at least 1 for an aggregator's keys). */
size_t pa_keys_hpke_list(const pa_keys *pKeys, pa_hpke_key_ref aOut[PA_KEYS_MAX_HPKE]);
/* The held HPKE key of config id iId into *pOut: 1, or 0 when none has it. */
int pa_keys_hpke_find(const pa_keys *pKeys, unsigned iId, pa_hpke_key_ref *pOut);

/* Replace the file zPath with the JSON document o, mode `mode` (0600 for
 * anything secret): written to a new temporary file beside it (O_EXCL,
 * flushed, the text wiped from memory), renamed over zPath, and the folder
 * flushed, so that a reader or a crash sees the old file or the new one, never
 * a part.  A failed rename removes the temporary file.  Errors: PA_EIO,
 * PA_ENOMEM, PA_ERANGE (a path too long). */
int pa_keys_replace_json(const char *zPath, const json_t *o, unsigned mode);

/* Replace PREFIX.key (0600) and PREFIX.pub (0644) of existing keys: each written
 * to a new temporary file beside it (O_EXCL, flushed) and renamed over it, so a
 * reader sees the old file or the new one, never a part.  PREFIX.key must exist
 * (PA_ENOTFOUND otherwise: use pa_keys_write for new keys).  Errors: PA_EIO. */
int pa_keys_replace(const pa_keys *pKeys, const char *zPrefix);

/* Wipe the secrets. */
void pa_keys_wipe(pa_keys *pKeys);

/* Load a small JSON file that may hold secrets (key files, bundles, node configs):
 * opened once with O_NOFOLLOW, the descriptor must be a regular file of at most
 * 1 MiB; its stat goes to *pSt for pa_keys_check_private; the file text is wiped.
 * The caller wipes the secret strings with pa_keys_json_wipe before json_decref.
 * Errors: PA_EIO (missing, a symbolic link, not regular, unreadable), PA_ERANGE,
 * PA_EDECODE (line and reason). */
int pa_keys_load_json(json_t **ppRoot, struct stat *pSt, const char *zPath);
/* PA_EAUTH unless *pSt is owned by this user and has no group/other access;
 * zWhat names the content in the message ("a private key"). */
int pa_keys_check_private(const struct stat *pSt, const char *zPath, const char *zWhat);
/* Overwrite every string value of an object (one level and nested) with zeros. */
void pa_keys_json_wipe(json_t *pJson);

#endif
