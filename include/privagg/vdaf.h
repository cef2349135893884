/*
 * privagg vdaf — the Prio3 instance a task names, shared by every party, and the
 * Prio3 application context ("privagg/vdaf/v1" || task id) that binds every
 * proof to the task.
 */
#ifndef PRIVAGG_VDAF_H
#define PRIVAGG_VDAF_H

#include <stddef.h>
#include <stdint.h>

#include "privagg/dp.h"
#include "privagg/prio3.h"
#include "privagg/task.h"

#define PA_VDAF_CTX_LABEL "privagg/vdaf/v1"
#define PA_VDAF_CTX_SIZE (sizeof PA_VDAF_CTX_LABEL - 1 + 32)

/* Two aggregators.  *pbField128: 1 for the Field128 VDAFs (vector ones). */
int pa_vdaf_from_task(pa_prio3 **ppVdaf, const pa_task *pTask, int *pbField128);

void pa_vdaf_ctx(uint8_t aCtx[PA_VDAF_CTX_SIZE], const pa_task *pTask);

/*
 * The noise each aggregator adds to a release of level eLevel (statewide or
 * partition), from the task's DP policy dp.per_release.<level>: each aggregator's
 * noise alone gives that release's guarantee (rho for the discrete Gaussian,
 * sigma2 = Delta2^2 / (2 rho); epsilon for the discrete Laplace, whose scale is
 * rounded up to a multiple of 1e-6).  The sensitivity does not depend on the
 * level.  *pSigma2: the variance of one aggregator's noise (Gaussian), or
 * 2·scale² (Laplace), for reports.  *pbNoise = 0 with mechanism none (other
 * outputs unset).  Errors: PA_EINVAL (an unknown level), calibration errors.
 */
int pa_task_noise(const pa_task *pTask, pa_task_level eLevel, int *pbNoise, pa_dp_mechanism *pMech,
                  pa_dp_sensitivity *pSens, double *pSigma2);

/*
 * The collection id of batch (period, partition): the first 16 bytes of
 * SHA-256("privagg/collection/v1" || task id || len || period || len || partition)
 * (lengths one byte each).  Stable, so a collector that crashed or lost its file
 * asks again with the same id and gets the same released answer; both
 * aggregators refuse any other id for the batch.
 */
#define PA_COLLECTION_ID_LABEL "privagg/collection/v1"
void pa_task_collection_id(const pa_task *pTask, const char *zPeriod, const char *zPartition,
                           uint8_t aId[16]);

#endif
