/*
 * privagg report — the message an agency uploads, and the bytes it signs.
 *
 * Wire form (msgpack, canonical): version 3 is a 14-element array
 *   [version=3, task_id bin32, report_id bin16, agency_id str, period str "YYYY-MM",
 *    partition str, public_share bin, leader_config_id uint8, leader_enc bin32,
 *    leader_ct bin, helper_config_id uint8, helper_enc bin32, helper_ct bin,
 *    signature bin64]
 * where each config id names the aggregator's HPKE key the share is sealed to
 * (its HpkeConfig id, as DAP's HpkeCiphertext carries it): the aggregator opens
 * the share with that key and no other, and refuses an unknown or expired one by
 * name.  Version 2 (agencies of an older build) is the same array without the two
 * config ids (12 elements); its shares are opened by trying the keys held.
 * The config ids are neither in the signed bytes nor in the AAD, as in DAP: they
 * only say which key to use, and the key itself is bound by HPKE (the recipient's
 * public key is in the KEM context, RFC 9180 §4.1), so a changed id makes the
 * share fail to open, nothing more.  The signed bytes are the same for both
 * versions (they carry version 2), so the helper checks a signature without
 * knowing the version.
 * Each input share is HPKE-sealed with AAD = PA_REPORT_AAD_LABEL || msgpack
 * [task_id, report_id, agency_id, period, partition, public_share], so a share
 * cannot be moved to another report, agency, period or task.
 *
 * The agency's Ed25519 signature covers PA_REPORT_SIGN_LABEL followed by the
 * msgpack array [version, task_id, report_id, agency_id, period, partition,
 * public_share, leader_commitment, helper_enc, helper_ct], where
 * leader_commitment = BLAKE2b-256(leader_enc || the 16-byte AEAD tag that ends
 * leader_ct).  The leader's (75 KB) share enters by its HPKE encapsulation and tag
 * rather than by a hash of all of it:
 *  - the leader accepts a report only if the signature verifies AND leader_ct
 *    opens with its key.  The AEAD key is derived from leader_enc and a secret that
 *    only the agency and the leader know, so (integrity of ciphertexts) nobody else
 *    can make another leader_ct that opens under the signed encapsulation and tag;
 *  - the helper checks the signature from the commitment the leader forwards,
 *    without the leader's share, exactly as it would from a digest of the share:
 *    either way it relies on the leader for the leader's share, which the leader
 *    can change in its own aggregate share anyway;
 *  - it saves hashing the share: about 70 us for the agency and for the leader.
 * The leader itself is not bound by it (it knows the AEAD key): the signature
 * proves which helper share, metadata and leader encapsulation an agency sent,
 * not which leader share.  Report version 1 hashed the whole leader_ct.
 */
#ifndef PRIVAGG_REPORT_H
#define PRIVAGG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#define PA_REPORT_VERSION 3
#define PA_REPORT_VERSION_MIN 2     /* the oldest version still read */
#define PA_REPORT_SIGNED_VERSION 2  /* the version field of the signed bytes, both versions */
#define PA_REPORT_ID_SIZE 16
#define PA_REPORT_MAX_AGENCY_ID 64
#define PA_REPORT_MAX_PARTITION 64
#define PA_REPORT_SIGN_LABEL "privagg/report/v2/signature"
#define PA_REPORT_AAD_LABEL "privagg/report/v1/input-share"
/* HPKE info of an input share: this label followed by one byte, the aggregator
 * it is sealed to (0 leader, 1 helper); pa_report_hpke_info builds it. */
#define PA_REPORT_HPKE_INFO "privagg/report/v1/hpke"
#define PA_REPORT_HPKE_INFO_SIZE (sizeof PA_REPORT_HPKE_INFO - 1 + 1)

typedef struct {
    uint8_t iConfigId;         /* the recipient's HPKE config id (version 3) */
    uint8_t aEnc[32];          /* HPKE encapsulated key */
    const uint8_t *pCt;        /* ciphertext (borrowed) */
    size_t nCt;
} pa_sealed_share;

typedef struct {
    uint8_t aTaskId[32];
    uint8_t aReportId[PA_REPORT_ID_SIZE];
    char zAgencyId[PA_REPORT_MAX_AGENCY_ID + 1];
    char zPeriod[8];           /* "YYYY-MM" */
    char zPartition[PA_REPORT_MAX_PARTITION + 1];
    const uint8_t *pPublicShare; /* borrowed */
    size_t nPublicShare;
    pa_sealed_share leader, helper;
    uint8_t aSignature[64];
    int iVersion;              /* 2 or 3 (decoded); encoding: 0 means PA_REPORT_VERSION */
} pa_report;

/* Exact sizes a decoder insists on (from the task's VDAF), 0 = any up to a bound. */
typedef struct {
    size_t nPublicShare;       /* exact; 0 allowed only for VDAFs with an empty public share */
    size_t nLeaderCt;          /* exact; 0 = any up to 64 MiB */
    size_t nHelperCt;          /* exact; 0 = any up to 64 MiB */
} pa_report_sizes;

/* The first period privagg accepts: a period before it (e.g. "2000-01", a
 * typo or a misconfigured clock) is refused everywhere a period is read, with
 * a message naming this bound (docs/task-file.md). */
#define PA_PERIOD_MIN_YEAR 2020
#define PA_PERIOD_FIRST "2020-01"

/* 1 if z is "YYYY-MM" with PA_PERIOD_MIN_YEAR <= YYYY <= 9999 and 01 <= MM <= 12. */
int pa_period_valid(const char *z);

/*
 * Encode a report (all fields set).  *ppOut is malloc'ed; the caller frees it.
 * Errors: PA_EINVAL (a field out of range, named), PA_ENOMEM.
 */
int pa_report_encode(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport);

/* The AEAD tag that ends every sealed share (ChaCha20Poly1305). */
#define PA_REPORT_AEAD_TAG_SIZE 16

/* leader_commitment = BLAKE2b-256(leader_enc || last PA_REPORT_AEAD_TAG_SIZE bytes of
 * leader_ct): how the leader's share enters the signature (see above). */
void pa_report_leader_digest(uint8_t aDigest[32], const pa_report *pReport);

/* The bytes the agency signs (see above).  *ppOut malloc'ed.  pLeaderDigest may be
 * NULL (computed from pReport->leader) or the 32-byte digest (the helper's case,
 * where pReport->leader is not filled in). */
int pa_report_signed_bytes(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport,
                           const uint8_t *pLeaderDigest);

/* The HPKE info of the input share sealed to aggregator iAggId (0 leader, 1 helper). */
void pa_report_hpke_info(uint8_t aInfo[PA_REPORT_HPKE_INFO_SIZE], unsigned iAggId);

/* The HPKE AAD of both input shares.  *ppOut malloc'ed. */
int pa_report_aad(uint8_t **ppOut, size_t *pnOut, const pa_report *pReport);

/*
 * Decode strictly: the exact array shape and types, canonical msgpack, the sizes
 * in pSizes, a valid period, no trailing bytes.  Borrowed pointers in *pReport
 * point into pIn, which must outlive it.  Errors: PA_EDECODE / PA_ERANGE naming
 * the field.  The signature is not checked here (the engine checks it against the
 * agency's key from the task).
 */
int pa_report_decode(pa_report *pReport, const uint8_t *pIn, size_t nIn,
                     const pa_report_sizes *pSizes);

#endif
