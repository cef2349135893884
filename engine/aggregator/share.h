/*
 * Opening an aggregator's sealed input share (internal to engine/aggregator;
 * engine/submit seals with the same info and AAD).
 */
#ifndef PA_AGGREGATOR_SHARE_H
#define PA_AGGREGATOR_SHARE_H

#include "aggregator/internal.h"
#include "privagg/report.h"

/* Open this aggregator's input share into pOut (a->nOwnInputShare bytes, secret).
 * PA_EVERIFY if it does not open, PA_EDECODE for a wrong size. */
int pa_agg_open_share(const pa_aggregator *a, const pa_report *r, const uint8_t aEnc[32],
                      const uint8_t *pCt, size_t nCt, uint8_t *pOut);

#endif
