/*
 * privagg registry — the agency registry: who may report, with which Ed25519
 * key, from which period.
 *
 * A registry is an append-only, hash-chained log of entries, each signed by the
 * state's registry key (Ed25519, `privagg keygen --role registry`):
 *   genesis  names the registry and its signer's public key (entry 0 only)
 *   enroll   agency id, name, county (FIPS, or "" for none), public key
 *   revoke   agency id: its reports are refused from the entry's period on
 *   rekey    agency id, new public key: the old key is refused from the period on
 * Each entry takes effect from its period ("from", YYYY-MM).  A task names its
 * registry by the genesis entry's hash and the signer's public key, so entries
 * appended later change neither the task id nor past releases.
 *
 * Canonical encoding of an entry (what is hashed and signed; docs/registry.md):
 *   "privagg-registry-entry-1" (24 bytes) || u32be seq || prev (32 bytes) ||
 *   u8 op (0 genesis, 1 enroll, 2 revoke, 3 rekey) || from (7 bytes "YYYY-MM") ||
 *   u16be len || agency id || u16be len || name || u16be len || county ||
 *   public key (32 bytes; zeros for revoke)
 * hash = SHA-256(encoding); signature = Ed25519(registry secret key, encoding);
 * prev = the previous entry's hash (zeros for the genesis).
 *
 * A loaded registry has verified the whole chain: every seq, prev and signature
 * (with the genesis key), and the rules of each operation (no revoke or rekey
 * before an enroll or after a revoke, an agency's periods never go back, a rekey
 * changes the key).  A pa_registry_ref holds one for the server threads and is
 * replaced as a whole on reload (a reload that fails keeps the old one).
 */
#ifndef PRIVAGG_REGISTRY_H
#define PRIVAGG_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/task.h"

#define PA_REGISTRY_FORMAT "privagg-registry-1"
#define PA_REGISTRY_MAX_ENTRIES 1000000

typedef enum {
    PA_REG_GENESIS = 0,
    PA_REG_ENROLL = 1,
    PA_REG_REVOKE = 2,
    PA_REG_REKEY = 3,
} pa_reg_op;

typedef struct {
    uint32_t iSeq;
    uint8_t aPrev[32];
    pa_reg_op eOp;
    char zFrom[8];             /* "YYYY-MM" */
    char zAgency[65];          /* "" for the genesis */
    char zName[PA_TASK_MAX_NAME + 1]; /* genesis and enroll */
    char zCounty[8];           /* enroll: 5-digit FIPS or "" */
    uint8_t aKey[32];          /* genesis: the signer; enroll, rekey: the agency's key */
    uint8_t aSignature[64];
    uint8_t aHash[32];         /* computed */
} pa_reg_entry;

typedef struct pa_registry pa_registry;

/* Read and verify a registry file.  Errors: PA_EIO, PA_EDECODE (the JSON path),
 * PA_ETAMPER (a chain or signature check failed: names the entry and the check),
 * PA_EINVAL (an entry breaks a rule: revoke before enroll, ...), PA_ENOMEM. */
int pa_registry_load(pa_registry **ppReg, const char *zPath);
/* The same over JSON text. */
int pa_registry_parse(pa_registry **ppReg, const char *zJson, size_t nJson);
void pa_registry_free(pa_registry *pReg);

/* PA_ETAMPER unless the registry's genesis hash and signer are the task's
 * (parties.registry); PA_EINVAL when the task names no registry. */
int pa_registry_check_task(const pa_registry *pReg, const pa_task *pTask);

size_t pa_registry_count(const pa_registry *pReg);
const pa_reg_entry *pa_registry_entry(const pa_registry *pReg, size_t i);
/* The genesis entry's hash, the last entry's hash, the signer's public key. */
const uint8_t *pa_registry_genesis(const pa_registry *pReg);
const uint8_t *pa_registry_head(const pa_registry *pReg);
const uint8_t *pa_registry_signer(const pa_registry *pReg);

/* The canonical encoding of an entry (malloc'd) and its hash. */
int pa_reg_entry_encode(const pa_reg_entry *e, uint8_t **ppOut, size_t *pnOut);
int pa_reg_entry_hash(const pa_reg_entry *e, uint8_t aHash[32]);
const char *pa_reg_op_name(pa_reg_op e);

/* What the registry says of an agency in a period. */
typedef enum {
    PA_REG_ACTIVE = 0,         /* enrolled, key in aKey */
    PA_REG_UNKNOWN,            /* never enrolled */
    PA_REG_NOT_YET,            /* enrolled from a later period */
    PA_REG_REVOKED,            /* revoked from zSince */
} pa_reg_status;

typedef struct {
    pa_reg_status eStatus;
    uint8_t aKey[32];          /* the key valid in the period (ACTIVE) */
    char zCounty[8];
    char zName[PA_TASK_MAX_NAME + 1];
    char zSince[8];            /* ACTIVE: the period the key took effect; NOT_YET: the
                                  enrollment's period; REVOKED: the revocation's */
} pa_reg_agency;

void pa_registry_lookup(const pa_registry *pReg, const char *zAgency, const char *zPeriod,
                        pa_reg_agency *pOut);
/* Distinct agencies active (enrolled, not revoked) in zPeriod. */
size_t pa_registry_active(const pa_registry *pReg, const char *zPeriod);
/* The distinct agency ids, in enrollment order (for show, task init). */
size_t pa_registry_agency_count(const pa_registry *pReg);
const char *pa_registry_agency_id(const pa_registry *pReg, size_t i);

/* Appending (privagg registry): a new registry of one genesis entry, signed with
 * the 64-byte Ed25519 secret key; an entry appended (seq, prev filled in, the
 * rules checked against the entries before, signed).  Writing replaces the file
 * through a temporary file renamed over it. */
int pa_registry_new(pa_registry **ppReg, const char *zName, const char *zFrom,
                    const uint8_t aSecret[64]);
int pa_registry_append(pa_registry *pReg, const pa_reg_entry *pEntry, const uint8_t aSecret[64]);
int pa_registry_write(const pa_registry *pReg, const char *zPath, int bNew);

/* The agency's key and partition for a report of zPeriod, for both task forms: a
 * task listing its agencies (pReg NULL) or one naming a registry.  PA_EAUTH
 * naming the agency and why (not an agency of the task, revoked from ..., not
 * enrolled until ..., county in no partition).  zPartition gets the partition's
 * name (at most 64 characters). */
int pa_agency_key(const pa_task *pTask, const pa_registry *pReg, const char *zAgency,
                  const char *zPeriod, uint8_t aKey[32], char zPartition[65]);

/* Held by a server's threads: lookups take a read lock; a reload verifies the new
 * file fully (and against the task) before it replaces the old registry. */
typedef struct pa_registry_ref pa_registry_ref;
int pa_registry_ref_open(pa_registry_ref **ppRef, const char *zPath, const pa_task *pTask);
int pa_registry_ref_reload(pa_registry_ref *pRef);
void pa_registry_ref_close(pa_registry_ref *pRef);
/* pa_agency_key under the read lock (pRef NULL: a task listing its agencies). */
int pa_registry_ref_key(pa_registry_ref *pRef, const pa_task *pTask, const char *zAgency,
                        const char *zPeriod, uint8_t aKey[32], char zPartition[65]);
/* 1 if the agency is active in zPeriod (pRef NULL: listed in the task). */
int pa_registry_ref_active(pa_registry_ref *pRef, const pa_task *pTask, const char *zAgency,
                           const char *zPeriod);
/* Entries held now. */
size_t pa_registry_ref_count(pa_registry_ref *pRef);

#endif
