/*
 * privagg messages — what the leader, the helper and the collector exchange
 * (msgpack, canonical, decoded strictly by the bounded reader; every message
 * starts with its version and the task id).
 *
 *   aggregation job, two steps so that both aggregators sum exactly the same
 *   reports (a client can make one aggregator's verify_next fail alone by
 *   tampering with one joint-randomness part of the public share), and each
 *   aggregator decides every report itself from both verifier shares:
 *     init      leader -> helper   pa_job_req: reports of one period (any partitions),
 *                                  each with the leader's verifier share
 *               helper -> leader   pa_job_step (INIT_RESP): per report, the helper's
 *                                  verifier share if the helper decided the report
 *                                  valid (both shares combined), or a reject reason
 *     continue  leader -> helper   pa_job_step (CONTINUE): per report, the verifier
 *                                  message if the leader decided it valid too, or a
 *                                  reason
 *               helper -> leader   pa_job_step (FINISH): per report, accepted (the
 *                                  helper summed it: it decided it valid, the leader
 *                                  accepted it with the message the helper computed,
 *                                  and its verify_next passed) or a reason; the
 *                                  leader then sums exactly the reports the helper
 *                                  summed
 *   collection       collector -> leader, leader -> helper   pa_collect_req
 *                    helper -> leader   pa_sealed_agg (the helper's noised share)
 *                    leader -> collector pa_collect_resp (both sealed shares)
 *
 * Decoded structures borrow byte strings from the input buffer, which must
 * outlive them; arrays of items are malloc'ed and freed with the *_free function.
 */
#ifndef PRIVAGG_MESSAGES_H
#define PRIVAGG_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

/* 2: the leader's verifier share in job items; the ledger hash in the aggregate-share AAD */
#define PA_MSG_VERSION 2
#define PA_JOB_ID_SIZE 16
#define PA_MAX_JOB_REPORTS 10000

/* Why a report was not summed (stable numbers: they go on the wire and in metrics). */
typedef enum {
    PA_REJECT_NONE = 0,
    PA_REJECT_DECRYPT = 1,        /* HPKE open failed */
    PA_REJECT_DECODE = 2,         /* a share does not decode */
    PA_REJECT_PROOF = 3,          /* the validity proof failed */
    PA_REJECT_REPLAY = 4,         /* report id seen before */
    PA_REJECT_SIGNATURE = 5,      /* agency signature invalid */
    PA_REJECT_AGENCY = 6,         /* unknown agency, wrong partition, or no key for the period
                                     (not enrolled, revoked: agency registry) */
    PA_REJECT_COLLECTED = 7,      /* its batch was collected already */
    PA_REJECT_DUPLICATE = 8,      /* a second report of the agency for the batch */
    PA_REJECT_MAX = 8
} pa_reject_reason;

const char *pa_reject_reason_name(pa_reject_reason e);

/* Exact sizes the decoders insist on, from the task's VDAF. */
typedef struct {
    size_t nPublicShare;
    size_t nHelperCt;          /* helper input share + HPKE tag */
    size_t nVerifierShare;
    size_t nVerifierMessage;
    size_t nAggCt;             /* aggregate share + HPKE tag */
} pa_msg_sizes;

typedef struct {
    uint8_t aReportId[16];
    char zAgencyId[65];
    char zPartition[65];       /* a job spans every partition of one period */
    const uint8_t *pPublicShare;
    uint8_t aLeaderDigest[32];
    uint8_t aHelperEnc[32];
    const uint8_t *pHelperCt;
    uint8_t aSignature[64];
    const uint8_t *pLeaderVerifierShare;  /* nVerifierShare bytes: the helper decides too */
} pa_job_item;

typedef struct {
    uint8_t aTaskId[32];
    uint8_t aJobId[PA_JOB_ID_SIZE];
    char zPeriod[8];
    size_t nItem;
    pa_job_item *aItem;
} pa_job_req;

typedef enum {
    PA_STEP_INIT_RESP = 1,   /* payload: the helper's verifier share */
    PA_STEP_CONTINUE = 2,    /* payload: the verifier message */
    PA_STEP_FINISH = 3,      /* payload: empty */
} pa_job_step_kind;

typedef struct {
    uint8_t aReportId[16];
    pa_reject_reason eReject;          /* NONE: pPayload is valid */
    const uint8_t *pPayload;           /* the step's payload size when not rejected */
} pa_job_step_item;

typedef struct {
    uint8_t aTaskId[32];
    uint8_t aJobId[PA_JOB_ID_SIZE];
    pa_job_step_kind eStep;
    size_t nItem;
    pa_job_step_item *aItem;
} pa_job_step;

/* Payload size of a step's accepted items. */
size_t pa_job_step_payload_size(pa_job_step_kind eStep, const pa_msg_sizes *s);

typedef struct {
    uint8_t aTaskId[32];
    uint8_t aCollectionId[16];
    char zPeriod[8];
    char zPartition[65];
} pa_collect_req;

/* One aggregator's noised aggregate share, sealed to the collector. */
typedef struct {
    uint64_t nAgency, nReport, nRejected;
    uint8_t aEnc[32];
    const uint8_t *pCt;
    uint8_t aLedgerHash[32];           /* the aggregator's ledger entry for this release */
    uint8_t aAgencyHash[32];           /* pa_agency_ids_hash of the agencies it counted */
} pa_sealed_agg;

typedef struct {
    uint8_t aTaskId[32];
    uint8_t aCollectionId[16];
    char zPeriod[8];
    char zPartition[65];
    pa_sealed_agg leader, helper;
    /* The agencies with an accepted report in the batch, as the leader's store
     * holds them (not secret: both stores hold them; their counts are): each id
     * followed by one NUL byte, in ascending byte order (memcmp), no id twice.
     * pa_collect_resp_decode checks that form and that the leader's count and
     * aAgencyHash describe these bytes; the collector checks the helper's hash,
     * which the helper binds into its share's AAD, against them. */
    const uint8_t *pAgencyIds;
    size_t nAgencyIds;
} pa_collect_resp;

/* Encoders: *ppOut malloc'ed (caller frees).  PA_EINVAL naming a bad field, PA_ENOMEM. */
int pa_job_req_encode(uint8_t **ppOut, size_t *pnOut, const pa_job_req *m, const pa_msg_sizes *s);
int pa_job_step_encode(uint8_t **ppOut, size_t *pnOut, const pa_job_step *m, const pa_msg_sizes *s);
int pa_collect_req_encode(uint8_t **ppOut, size_t *pnOut, const pa_collect_req *m);
int pa_sealed_agg_encode(uint8_t **ppOut, size_t *pnOut, const uint8_t aTaskId[32],
                         const uint8_t aCollectionId[16], const pa_sealed_agg *m,
                         const pa_msg_sizes *s);
int pa_collect_resp_encode(uint8_t **ppOut, size_t *pnOut, const pa_collect_resp *m,
                           const pa_msg_sizes *s);

/* Strict decoders (PA_EDECODE / PA_ERANGE naming the field). */
int pa_job_req_decode(pa_job_req *m, const uint8_t *p, size_t n, const pa_msg_sizes *s);
void pa_job_req_free(pa_job_req *m);
/* eWant: the step the receiver expects (another step is PA_EDECODE). */
int pa_job_step_decode(pa_job_step *m, pa_job_step_kind eWant, const uint8_t *p, size_t n,
                       const pa_msg_sizes *s);
void pa_job_step_free(pa_job_step *m);
int pa_collect_req_decode(pa_collect_req *m, const uint8_t *p, size_t n);
int pa_sealed_agg_decode(pa_sealed_agg *m, uint8_t aTaskId[32], uint8_t aCollectionId[16],
                         const uint8_t *p, size_t n, const pa_msg_sizes *s);
int pa_collect_resp_decode(pa_collect_resp *m, const uint8_t *p, size_t n, const pa_msg_sizes *s);

/* A list of agency ids in the canonical form above (NUL-terminated, 1..64 bytes
 * each, strictly ascending): PA_OK with *pnCount the number of ids, else
 * PA_EDECODE naming zWhat and the offending id's index. */
#define PA_AGENCY_IDS_MAX (65u * 100000u)   /* 100,000 agencies of 64-byte ids */
int pa_agency_ids_check(const uint8_t *p, size_t n, const char *zWhat, uint64_t *pnCount);

/* SHA-256("privagg/agencies/v1" || the list's bytes): what each aggregator binds
 * of the agencies it counted. */
void pa_agency_ids_hash(const uint8_t *p, size_t n, uint8_t aOut[32]);

/* HPKE info of an aggregate share sealed to the collector: this label followed by
 * one byte, the aggregator (0 leader, 1 helper); the AAD below uses the label too. */
#define PA_AGG_SHARE_LABEL "privagg/agg-share/v1"
#define PA_AGG_SHARE_HPKE_INFO_SIZE (sizeof PA_AGG_SHARE_LABEL - 1 + 1)
void pa_agg_share_hpke_info(uint8_t aInfo[PA_AGG_SHARE_HPKE_INFO_SIZE], unsigned iAggregator);

/* HPKE AAD of an aggregate share sealed to the collector: binds the task, the
 * collection, the batch, the counts (agencies, reports, rejected), the
 * aggregator's ledger entry hash and which aggregator (0 leader, 1 helper): the
 * leader, which forwards the helper's sealed share, can change none of them
 * without the collector's open failing. */
int pa_agg_share_aad(uint8_t **ppOut, size_t *pnOut, const uint8_t aTaskId[32],
                     const uint8_t aCollectionId[16], const char *zPeriod, const char *zPartition,
                     const pa_sealed_agg *m, unsigned iAggregator);

#endif
