/*
 * Opening an aggregator's sealed input share (internal to engine/aggregator;
 * engine/submit seals with the same info and AAD).
 */
#ifndef PA_AGGREGATOR_SHARE_H
#define PA_AGGREGATOR_SHARE_H

#include "aggregator/internal.h"
#include "privagg/report.h"

/* Open this aggregator's input share into pOut (a->nOwnInputShare bytes, secret)
 * with the key of config id iConfigId, or (iConfigId < 0: not named) with the
 * first key held that opens it.  PA_EAUTH naming the id when the key is not held
 * or has expired (the helper: PA_KEYS_HELPER_GRACE_S after its expiry), PA_EVERIFY
 * if the named key does not open it, PA_EDECODE for a wrong size; the message
 * says which. */
int pa_agg_open_share(const pa_aggregator *a, const pa_report *r, int iConfigId, const uint8_t aEnc[32],
                      const uint8_t *pCt, size_t nCt, uint8_t *pOut);

#endif
