/*
 * privagg keys — key files of every party.
 *
 * Each party has a private file (mode 0600, never in the task) and a public file
 * that goes into the task:
 *   agency:     Ed25519 signing key          -> public "public_key"
 *   leader/helper/collector: X25519 HPKE key -> public "hpke_public_key"
 * Aggregators' private files also hold the 32-byte Prio3 verify key, which the
 * leader and the helper share (and nobody else), and the bearer token the leader
 * presents to the helper; the collector's holds the bearer token it presents to
 * the leader (the leader's config carries the same token).  Files are JSON; secrets are hex.  A private file is
 * created with O_EXCL: an existing key is never overwritten.
 */
#ifndef PRIVAGG_KEYS_H
#define PRIVAGG_KEYS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { PA_ROLE_AGENCY = 1, PA_ROLE_LEADER, PA_ROLE_HELPER, PA_ROLE_COLLECTOR } pa_role;

#define PA_VERIFY_KEY_SIZE 32
#define PA_TOKEN_SIZE 32

typedef struct {
    pa_role eRole;
    char zId[65];                    /* agency id (ORI); "" for others */
    uint8_t aPublic[32];             /* Ed25519 (agency) or X25519 (others) */
    uint8_t aSecret[64];             /* Ed25519 secret (64 bytes) or X25519 (first 32) */
    uint8_t iConfigId;               /* HPKE config id (aggregators, collector) */
    uint8_t aVerifyKey[PA_VERIFY_KEY_SIZE]; /* leader and helper only */
    uint8_t aToken[PA_TOKEN_SIZE];   /* leader/helper: the leader->helper bearer token;
                                        collector: its bearer token at the leader */
} pa_keys;

const char *pa_role_name(pa_role e);
/* PA_EINVAL naming the value if zName is not agency|leader|helper|collector. */
int pa_role_parse(pa_role *pRole, const char *zName);

/* Fresh keys for a role (randomness from libsodium).  For leader/helper the
 * verify key and token are fresh too; pa_keys_share_aggregator_secrets() copies
 * them so the pair agrees. */
int pa_keys_generate(pa_keys *pKeys, pa_role eRole, const char *zId, uint8_t iConfigId);
void pa_keys_share_aggregator_secrets(pa_keys *pHelper, const pa_keys *pLeader);

/* Write PREFIX.key (0600, O_EXCL) and PREFIX.pub.  Errors: PA_EEXISTS, PA_EIO. */
int pa_keys_write(const pa_keys *pKeys, const char *zPrefix);

/* Write a JSON document to a new file with this mode (0600 for anything secret):
 * O_EXCL (an existing file is never replaced), flushed, the encoded text wiped
 * from memory.  Errors: PA_EEXISTS, PA_EIO, PA_ENOMEM. */
int pa_keys_write_json(const char *zPath, const json_t *pJson, unsigned mode);

/* Read a private file (any mode more open than 0600 is refused: PA_EAUTH) or a
 * public one (secret fields stay zero).  Errors name the file and the field. */
int pa_keys_read_private(pa_keys *pKeys, const char *zPath);
int pa_keys_read_public(pa_keys *pKeys, const char *zPath);

/* Wipe the secrets. */
void pa_keys_wipe(pa_keys *pKeys);

#endif
