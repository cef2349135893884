/*
 * privagg submit — what an agency's machine does with one month of counts: Prio3
 * shard (the validity proof goes inside), seal each input share to its
 * aggregator with HPKE, sign with the agency's Ed25519 key, encode.  Nothing but
 * the sealed shares and the public share leaves the agency.
 */
#ifndef PRIVAGG_SUBMIT_H
#define PRIVAGG_SUBMIT_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/keys.h"
#include "privagg/task.h"

/*
 * One report for pAgency's counts of zPeriod ("YYYY-MM").  aCounts has one value
 * per cell (pTask->nCell; Prio3Count/Sum: 1 value; Histogram: 1 value, the bucket
 * index), each within the task's bounds.  *ppMsg is malloc'ed.
 * Errors: PA_EINVAL naming the cell, value and limit (nothing is produced),
 * PA_EAUTH (the keys are not this agency's in the task), PA_ENOMEM.
 */
int pa_submit_report(const pa_task *pTask, const pa_keys *pAgency, const char *zPeriod,
                     const uint64_t *aCounts, size_t nCounts, uint8_t **ppMsg, size_t *pnMsg);

#endif
