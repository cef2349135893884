/*
 * privagg collector — the state statistician's side of a release: ask the leader
 * for a batch, open both aggregators' sealed noised shares, check that they
 * agree on what they aggregated, and combine them into noised totals.  A total
 * above p/2 is read as negative (total − p): noise can push a small count below
 * zero, and that is kept (clamping would bias the published numbers).
 */
#ifndef PRIVAGG_COLLECTOR_H
#define PRIVAGG_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "privagg/keys.h"
#include "privagg/task.h"

typedef struct {
    char zPeriod[8];
    char zPartition[65];
    uint8_t aCollectionId[16];
    uint64_t nAgency;          /* distinct agencies summed */
    uint64_t nReport;          /* reports summed */
    uint64_t nRejected;        /* reports rejected (the leader's count) */
    size_t nCell;
    int64_t *aTotal;           /* noised totals, one per cell */
    uint8_t aLedgerHash[2][32];/* each aggregator's ledger entry for this release */
    uint8_t *pAgencyIds;       /* the nAgency agencies that reported: NUL-terminated ids,
                                * ascending (include/privagg/messages.h), both aggregators'
                                * hashes checked; malloc'ed */
    size_t nAgencyIds;
} pa_collection;

/* A collection request for (period, partition), with the batch's derived
 * collection id (pa_task_collection_id): asking again finds the same job. */
int pa_collector_request(const pa_task *pTask, const char *zPeriod, const char *zPartition,
                         uint8_t aCollectionId[16], uint8_t **ppReq, size_t *pnReq);

/*
 * Open the leader's answer.  Errors: PA_EDECODE (malformed, or for another task,
 * collection or batch), PA_EVERIFY (a share does not open, or the two
 * aggregators report different agencies or report counts), PA_ENOMEM.
 */
int pa_collector_open(const pa_task *pTask, const pa_keys *pCollector, const uint8_t aCollectionId[16],
                      const char *zPeriod, const char *zPartition, const uint8_t *pResp, size_t nResp,
                      pa_collection *pOut);

void pa_collection_free(pa_collection *pColl);

/*
 * The collection result as JSON: task id, batch, counts, the noise each
 * aggregator added (mechanism, sigma^2 per aggregator, the exact 90 % and 95 %
 * half-widths of the summed noise), both ledger entry hashes, the ids of the
 * agencies that reported ("agencies_reported", ascending), and one object per
 * cell with its categories and noised total; a structural zero of the task
 * (schema.structural_zeros) also has "structural_zero": true, and a publisher
 * must leave it out (its total is noise around 0).  sigma2 = 0 for mechanism none.
 */
int pa_collection_write_json(const pa_task *pTask, const pa_collection *pColl, double sigma2, FILE *pOut);

#endif
