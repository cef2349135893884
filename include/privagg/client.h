/*
 * privagg client — the agency's and the collector's side of the HTTPS API
 * (engine/node is the servers' side):
 *   pa_client_upload   POST a report to the leader
 *   pa_client_collect  create a collection job at the leader, poll until the
 *                      batch is released, open it (pa_collector_open)
 */
#ifndef PRIVAGG_CLIENT_H
#define PRIVAGG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/collector.h"
#include "privagg/http.h"
#include "privagg/keys.h"
#include "privagg/task.h"

/* Errors: the leader's refusal mapped back to PA_E* (pa_error_detail() carries its
 * problem document), or a transport error. */
int pa_client_upload(pa_http_client *pClient, const pa_task *pTask, const uint8_t *pMsg, size_t nMsg);

/* Polls every 200 ms for at most nTimeoutS seconds (PA_EIO then).  A leader that
 * restarted and forgot the job gets the same request again (idempotent). */
int pa_client_collect(pa_http_client *pClient, const pa_task *pTask, const pa_keys *pCollector,
                      const char *zPeriod, const char *zPartition, unsigned nTimeoutS,
                      pa_collection *pOut);

/*
 * Counts for one report from a CSV file: a header naming each schema dimension
 * plus "count" (e.g. offense,status,role,count) with category names, or the
 * columns cell,count with 0-based cell indexes.  Cells not listed are 0; a cell
 * listed twice, an unknown category or a count that is not a whole number is an
 * error naming the line.
 */
int pa_counts_load_csv(const pa_task *pTask, const char *zPath, uint64_t *aCounts);

#endif
