/*
 * The task's Prio3 instance and application context (see include/privagg/vdaf.h).
 */
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/vdaf.h"

int pa_vdaf_from_task(pa_prio3 **pp, const pa_task *t, int *pbField128)
{
    *pbField128 = 1;
    switch (t->eVdaf) {
    case PA_VDAF_COUNT:
        *pbField128 = 0;
        return pa_prio3_count_new(pp, 2);
    case PA_VDAF_SUM:
        *pbField128 = 0;
        return pa_prio3_sum_new(pp, 2, t->nMaxMeasurement);
    case PA_VDAF_SUMVEC:
        return pa_prio3_sumvec_new(pp, 2, t->nCell, t->nMaxMeasurement, t->nChunkLength);
    case PA_VDAF_HISTOGRAM:
        return pa_prio3_histogram_new(pp, 2, t->nCell, t->nChunkLength);
    case PA_VDAF_MULTIHOT:
        return pa_prio3_multihot_new(pp, 2, t->nCell, t->nMaxWeight, t->nChunkLength);
    }
    return pa_fail(PA_EINVAL, "vdaf.type: %d is not supported", (int)t->eVdaf);
}

void pa_vdaf_ctx(uint8_t aCtx[PA_VDAF_CTX_SIZE], const pa_task *pTask)
{
    memcpy(aCtx, PA_VDAF_CTX_LABEL, sizeof PA_VDAF_CTX_LABEL - 1);
    memcpy(aCtx + sizeof PA_VDAF_CTX_LABEL - 1, pTask->aTaskId, 32);
}

int pa_task_noise(const pa_task *t, pa_task_level eLevel, int *pbNoise, pa_dp_mechanism *pMech,
                  pa_dp_sensitivity *pSens, double *pSigma2)
{
    pa_dp_rational param;
    double rAmount;
    int rc;

    if (eLevel != PA_TASK_LEVEL_STATE && eLevel != PA_TASK_LEVEL_PARTITION)
        return pa_fail(PA_EINVAL, "noise: release level %d", (int)eLevel);
    rAmount = t->aPerRelease[eLevel];
    *pbNoise = t->eMechanism != PA_TASK_DP_NONE;
    if (!*pbNoise)
        return PA_OK;
    rc = pa_dp_sensitivity_from_bounds(t->nMaxPerCell, t->nMaxCellsPerRecord, pSens);
    if (rc != PA_OK)
        return rc;
    if (t->eMechanism == PA_TASK_DP_GAUSSIAN) {
        rc = pa_dp_calibrate_rho(rAmount, pSens->l2sq, &param);
        if (rc == PA_OK)
            rc = pa_dp_mechanism_gaussian(pMech, param);
        *pSigma2 = (double)pa_dp_rational_to_ld(param);
        return rc;
    }
    double rScale = (double)pSens->l1 / rAmount;
    param = pa_dp_rational_make((uint64_t)ceil(rScale * 1e6), 1000000);
    *pSigma2 = 2.0 * rScale * rScale;
    return pa_dp_mechanism_laplace(pMech, param);
}

void pa_task_collection_id(const pa_task *t, const char *zPeriod, const char *zPartition,
                           uint8_t aId[16])
{
    crypto_hash_sha256_state st;
    uint8_t aHash[32], n;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)PA_COLLECTION_ID_LABEL,
                              sizeof PA_COLLECTION_ID_LABEL - 1);
    crypto_hash_sha256_update(&st, t->aTaskId, 32);
    n = (uint8_t)strnlen(zPeriod, 255);
    crypto_hash_sha256_update(&st, &n, 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)zPeriod, n);
    n = (uint8_t)strnlen(zPartition, 255);
    crypto_hash_sha256_update(&st, &n, 1);
    crypto_hash_sha256_update(&st, (const uint8_t *)zPartition, n);
    crypto_hash_sha256_final(&st, aHash);
    memcpy(aId, aHash, 16);
}
