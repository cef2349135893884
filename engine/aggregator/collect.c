/*
 * Collection of one batch.  Each aggregator on its own: the batch has at least
 * the task's minimum number of agencies, nothing in it is still being
 * aggregated, it was not collected before (a retry with the same collection id
 * gets the stored answer), and the release fits its privacy budget — charged in
 * its ledger in the same transaction that adds its noise (drawn earlier, off the
 * request path), seals the noised aggregate share to the collector and records
 * the collection.  The leader asks the helper first and answers the collector
 * with both sealed shares.  A collection job's worker checks its lease in the
 * release's transaction (pa_agg_leader_collect_leased); the collections row,
 * read in that same transaction, already makes a second release of a batch
 * return the first one's bytes without charging again.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/internal.h"
#include "common/ct.h"
#include "common/guard.h"
#include "privagg/hpke.h"
#include "privagg/ledger.h"
#include "privagg/vdaf.h"

/* Stored answer of an earlier collection of this batch. */
static int stored_collection(const pa_aggregator *a, const pa_collect_req *m, int *pbFound,
                             uint8_t **ppResp, size_t *pnResp)
{
    pa_store_collection c;

    PA_GUARD(pa_store_collection_get(a->pStore, a->pTask->aTaskId, m->zPeriod, m->zPartition, &c, pbFound));
    if (!*pbFound)
        return PA_OK;
    if (memcmp(c.aCollectionId, m->aCollectionId, 16) != 0) {
        free(c.pResponse);
        return pa_fail(PA_EEXISTS, "collection: batch %s/%s was already collected; a batch is "
                                   "released once", m->zPeriod, m->zPartition);
    }
    *ppResp = c.pResponse;
    *pnResp = c.nResponse;
    return PA_OK;
}

/* A registry task counts only the agencies enrolled, not revoked, for the period:
 * a revocation entered after an agency's report was aggregated still takes the
 * agency out of the minimum-agencies count. */
static int count_active(const pa_aggregator *a, const pa_collect_req *m, uint64_t *pn)
{
    uint8_t *pIds = NULL;
    size_t nIds = 0;
    *pn = 0;
    PA_GUARD(pa_store_reports_agency_ids(a->pStore, a->pTask->aTaskId, m->zPeriod, m->zPartition, &pIds, &nIds));
    /* ids, each followed by one NUL byte */
    for (size_t i = 0; i < nIds; i += strlen((const char *)pIds + i) + 1)
        *pn += pa_registry_ref_active(a->pRegistry, a->pTask, (const char *)pIds + i, m->zPeriod) != 0;
    free(pIds);
    return PA_OK;
}

/* The checks both aggregators make before releasing anything. */
static int check_batch(const pa_aggregator *a, const pa_collect_req *m, uint64_t *pnAgency)
{
    uint64_t nUnfinished;
    int rc = pa_agg_batch_unfinished(a, m->zPeriod, m->zPartition, &nUnfinished);
    if (rc == PA_OK && nUnfinished > 0)
        rc = pa_fail(PA_ESTATE, "collection: batch %s/%s has %llu reports not yet aggregated",
                     m->zPeriod, m->zPartition, (unsigned long long)nUnfinished);
    /* the agencies only: the batch's share itself is read once, by the release */
    if (rc == PA_OK && !a->pTask->bRegistry)
        rc = pa_store_reports_agencies(a->pStore, a->pTask->aTaskId, m->zPeriod, m->zPartition, pnAgency);
    if (rc == PA_OK && a->pTask->bRegistry)
        rc = count_active(a, m, pnAgency);
    if (rc == PA_OK && *pnAgency < a->pTask->nMinAgencies)
        rc = pa_fail(PA_ERANGE, "collection: batch %s/%s has %llu agencies, the task requires at "
                                "least %zu (batching.min_agencies)", m->zPeriod, m->zPartition,
                     (unsigned long long)*pnAgency, a->pTask->nMinAgencies);
    return rc;
}

/* Charge the release in this aggregator's ledger, on its lattice cell(s) (period,
 * partition).  aEntryHash (NULL for the leader's rolled-back budget check before
 * it asks the helper) receives the new entry's hash once the whole chain has
 * verified: nothing is released over a tampered ledger. */
static int charge(const pa_aggregator *a, const pa_collect_req *m, uint8_t aEntryHash[32])
{
    char zTask[65];
    pa_dp_ledger_release rel;
    pa_dp_budget budget;
    pa_task_level eLevel = pa_task_level_of(m->zPartition);
    int64_t nEntries;

    if (aEntryHash != NULL)
        memset(aEntryHash, 0, 32);
    if (!a->bNoise)
        return PA_OK;
    sodium_bin2hex(zTask, sizeof zTask, a->pTask->aTaskId, 32);
    memset(&rel, 0, sizeof rel);
    rel.zTaskId = zTask;
    rel.zPeriod = m->zPeriod;
    rel.zPartition = m->zPartition;
    rel.mechanism = a->aMech[eLevel].kind;
    rel.param = a->aMech[eLevel].param;
    rel.sensitivity = a->sens;
    rel.tUnix = pa_agg_now(a);
    budget.unit = a->pTask->eMechanism == PA_TASK_DP_GAUSSIAN ? PA_DP_UNIT_RHO : PA_DP_UNIT_EPS;
    budget.total = a->pTask->rBudgetPerRecord;
    PA_GUARD(pa_dp_ledger_charge(a->pStore, &rel, &budget, NULL, NULL));
    if (aEntryHash == NULL)
        return PA_OK;
    return pa_dp_ledger_verify(a->pStore, NULL, -1, aEntryHash, &nEntries);
}

/* The agencies this aggregator counted in the batch, as the canonical list and
 * its hash (bound into the share's AAD); the list must agree with the count. */
static int agencies(const pa_aggregator *a, const pa_collect_req *m, pa_sealed_agg *pOut,
                    uint8_t **ppIds, size_t *pnIds)
{
    uint64_t nIds;
    int rc = pa_store_reports_agency_ids(a->pStore, a->pTask->aTaskId, m->zPeriod, m->zPartition,
                                         ppIds, pnIds);
    if (rc == PA_OK)
        rc = pa_agency_ids_check(*ppIds, *pnIds, "collection: agency ids", &nIds);
    if (rc == PA_OK && nIds != pOut->nAgency)
        rc = pa_fail(PA_ESTATE, "collection: batch %s/%s lists %llu agencies and counts %llu",
                     m->zPeriod, m->zPartition, (unsigned long long)nIds, (unsigned long long)pOut->nAgency);
    if (rc == PA_OK)
        pa_agency_ids_hash(*ppIds, *pnIds, pOut->aAgencyHash);
    if (rc != PA_OK) {
        free(*ppIds);
        *ppIds = NULL;
    }
    return rc;
}

/* Noise, seal to the collector, record: this aggregator's part of a release.
 * ppIds (the leader's, NULL for the helper) receives the agencies' list. */
static int release(pa_aggregator *a, const pa_collect_req *m, pa_sealed_agg *pOut, uint8_t *pCt,
                   uint8_t **ppIds, size_t *pnIds)
{
    uint8_t *pAgg = malloc(a->nAggShare), *pAad = NULL, *pIds = NULL, aInfo[PA_AGG_SHARE_HPKE_INFO_SIZE];
    size_t nAad, nIds = 0;
    pa_hpke_ctx ctx;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    int rc;

    if (pAgg == NULL)
        return pa_fail(PA_ENOMEM, "collection: out of memory");
    pa_agg_share_hpke_info(aInfo, a->iAggId);
    rc = pa_agg_batch_read(a, m->zPeriod, m->zPartition, pAgg, &pOut->nReport, &pOut->nRejected,
                           &pOut->nAgency);
    if (rc == PA_OK)
        rc = agencies(a, m, pOut, &pIds, &nIds);
    if (rc == PA_OK)
        rc = charge(a, m, pOut->aLedgerHash);
    if (rc == PA_OK)
        rc = pa_agg_apply_noise(a, m->zPeriod, m->zPartition, pAgg);
    if (rc == PA_OK)
        rc = pa_agg_share_aad(&pAad, &nAad, m->aTaskId, m->aCollectionId, m->zPeriod, m->zPartition,
                              pOut, a->iAggId);
    if (rc == PA_OK)
        rc = pa_hpke_setup_sender(&ctx, pOut->aEnc, a->pTask->collector.aHpkePublicKey, NULL, &params);
    if (rc == PA_OK) {
        rc = pa_hpke_seal(&ctx, pCt, pAad, nAad, pAgg, a->nAggShare);
        pa_hpke_ctx_wipe(&ctx);
    }
    pOut->pCt = pCt;
    free(pAad);
    pa_wipe(pAgg, a->nAggShare);
    free(pAgg);
    if (rc == PA_OK && ppIds != NULL) {
        *ppIds = pIds;
        *pnIds = nIds;
    } else
        free(pIds);
    return rc;
}

static int record(const pa_aggregator *a, const pa_collect_req *m, const uint8_t *pResp, size_t nResp)
{
    return pa_store_collection_put(a->pStore, a->pTask->aTaskId, m->zPeriod, m->zPartition,
                                   m->aCollectionId, pResp, nResp, pa_agg_now(a));
}

int pa_agg_decode_collect_req(const pa_aggregator *a, const uint8_t *pReq, size_t nReq,
                              pa_collect_req *m)
{
    uint8_t aWant[16];

    PA_GUARD(pa_collect_req_decode(m, pReq, nReq));
    if (sodium_memcmp(m->aTaskId, a->pTask->aTaskId, 32) != 0)
        return pa_fail(PA_ENOTFOUND, "collect.task_id: not this task's id");
    if (!pa_agg_period_valid(m->zPeriod))
        return pa_fail(PA_EINVAL, "collect.period: \"%s\" is not a month YYYY-MM", m->zPeriod);
    if (strcmp(m->zPartition, "state") != 0) {
        if (pa_task_find_partition(a->pTask, m->zPartition) == NULL)
            return pa_fail(PA_ENOTFOUND, "collect.partition: \"%s\" is no partition of this task "
                                         "(\"state\" is the statewide batch; `privagg task show` "
                                         "lists the partitions)", m->zPartition);
    }
    /* one id per batch, derived by every party: a re-run finds the same job */
    pa_task_collection_id(a->pTask, m->zPeriod, m->zPartition, aWant);
    if (sodium_memcmp(aWant, m->aCollectionId, 16) != 0)
        return pa_fail(PA_EINVAL, "collect.collection_id: not the id of batch %s/%s (it is derived "
                                  "from the task, period and partition: see pa_task_collection_id)",
                       m->zPeriod, m->zPartition);
    return PA_OK;
}

#define decode_request pa_agg_decode_collect_req

int pa_leader_collect_ready(pa_aggregator *a, const uint8_t *pReq, size_t nReq, int *pbReady)
{
    pa_collect_req m;
    uint64_t nUnfinished;

    *pbReady = 0;
    PA_GUARD(decode_request(a, pReq, nReq, &m));
    PA_GUARD(pa_agg_batch_unfinished(a, m.zPeriod, m.zPartition, &nUnfinished));
    *pbReady = nUnfinished == 0;
    return PA_OK;
}

int pa_helper_collect(pa_aggregator *a, const uint8_t *pReq, size_t nReq, uint8_t **ppResp,
                      size_t *pnResp)
{
    pa_collect_req m;
    pa_sealed_agg out;
    uint8_t *pCt;
    uint64_t nAgency;
    int bFound, rc;

    *ppResp = NULL;
    if (a->iAggId != 1)
        return pa_fail(PA_ESTATE, "collect: this is the helper's route");
    PA_GUARD(decode_request(a, pReq, nReq, &m));
    pCt = malloc(a->sizes.nAggCt);
    if (pCt == NULL)
        return pa_fail(PA_ENOMEM, "collection: out of memory");
    memset(&out, 0, sizeof out);
    rc = pa_store_begin(a->pStore);
    if (rc != PA_OK) {
        free(pCt);
        return rc;
    }
    rc = stored_collection(a, &m, &bFound, ppResp, pnResp);
    if (rc == PA_OK && !bFound) {
        rc = check_batch(a, &m, &nAgency);
        if (rc == PA_OK)
            rc = release(a, &m, &out, pCt, NULL, NULL);
        if (rc == PA_OK)
            rc = pa_sealed_agg_encode(ppResp, pnResp, m.aTaskId, m.aCollectionId, &out, &a->sizes);
        if (rc == PA_OK)
            rc = record(a, &m, *ppResp, *pnResp);
        if (rc == PA_OK)
            rc = pa_agg_batch_forget(a, m.zPeriod, m.zPartition);
    }
    free(pCt);
    return pa_agg_end_txn(a, rc, ppResp);
}

int pa_leader_collect(pa_aggregator *a, const uint8_t *pReq, size_t nReq, pa_helper_transport xCall,
                      void *pCtx, uint8_t **ppResp, size_t *pnResp)
{
    return pa_agg_leader_collect_leased(a, pReq, nReq, xCall, pCtx, NULL, NULL, ppResp, pnResp);
}

int pa_agg_leader_collect_leased(pa_aggregator *a, const uint8_t *pReq, size_t nReq, pa_helper_transport xCall,
                                 void *pCtx, const uint8_t *pLeaseJob, int *pbLost, uint8_t **ppResp,
                                 size_t *pnResp)
{
    pa_collect_req m;
    pa_collect_resp resp;
    uint8_t *pHelper = NULL, *pCt = NULL, *pIds = NULL, aTask[32], aColl[16];
    size_t nHelper = 0;
    uint64_t nAgency;
    int bFound, rc, bHeld = 1;

    *ppResp = NULL;
    if (pbLost)
        *pbLost = 0;
    if (a->iAggId != 0)
        return pa_fail(PA_ESTATE, "collect: this is the leader's route");
    PA_GUARD(decode_request(a, pReq, nReq, &m));

    /* an earlier answer, or the leader's own checks before the helper is asked:
     * the batch, and its budget (a charge rolled back with the transaction), so
     * that the helper never spends budget on a release the leader would refuse */
    PA_GUARD(pa_store_begin(a->pStore));
    rc = stored_collection(a, &m, &bFound, ppResp, pnResp);
    if (rc == PA_OK && !bFound)
        rc = check_batch(a, &m, &nAgency);
    if (rc == PA_OK && !bFound)
        rc = charge(a, &m, NULL);
    pa_store_rollback(a->pStore);
    if (rc != PA_OK || bFound)
        return rc;

    rc = xCall(pCtx, "collect", pReq, nReq, &pHelper, &nHelper);
    memset(&resp, 0, sizeof resp);
    if (rc == PA_OK)
        rc = pa_sealed_agg_decode(&resp.helper, aTask, aColl, pHelper, nHelper, &a->sizes);
    if (rc == PA_OK && (memcmp(aTask, m.aTaskId, 32) != 0 || memcmp(aColl, m.aCollectionId, 16) != 0))
        rc = pa_fail(PA_EDECODE, "helper's aggregate share: for another task or collection");
    if (rc == PA_OK && (pCt = malloc(a->sizes.nAggCt)) == NULL)
        rc = pa_fail(PA_ENOMEM, "collection: out of memory");
    if (rc != PA_OK) {
        free(pHelper);
        return rc;
    }
    rc = pa_store_begin(a->pStore);
    /* the lease check of a collection job, in the release's transaction: a
     * worker whose job another worker took over releases nothing */
    if (rc == PA_OK && pLeaseJob != NULL)
        rc = pa_store_cjob_lease_renew(a->pStore, a->pTask->aTaskId, pLeaseJob, a->zWorker,
                                       pa_agg_now(a) + a->nLease, &bHeld);
    if (rc == PA_OK && !bHeld) {
        pa_store_rollback(a->pStore);
        *pbLost = 1;
        free(pCt);
        free(pHelper);
        return PA_OK;
    }
    if (rc == PA_OK) {
        rc = stored_collection(a, &m, &bFound, ppResp, pnResp);
        if (rc == PA_OK && !bFound)
            rc = check_batch(a, &m, &nAgency);
        if (rc == PA_OK && !bFound)
            rc = release(a, &m, &resp.leader, pCt, &pIds, &resp.nAgencyIds);
        if (rc == PA_OK && !bFound) {
            resp.pAgencyIds = pIds;
            memcpy(resp.aTaskId, m.aTaskId, 32);
            memcpy(resp.aCollectionId, m.aCollectionId, 16);
            memcpy(resp.zPeriod, m.zPeriod, sizeof resp.zPeriod);
            memcpy(resp.zPartition, m.zPartition, sizeof resp.zPartition);
            rc = pa_collect_resp_encode(ppResp, pnResp, &resp, &a->sizes);
        }
        if (rc == PA_OK && !bFound)
            rc = record(a, &m, *ppResp, *pnResp);
        if (rc == PA_OK && !bFound)
            rc = pa_agg_batch_forget(a, m.zPeriod, m.zPartition);
        rc = pa_agg_end_txn(a, rc, ppResp);
    }
    free(pIds);
    free(pCt);
    free(pHelper);
    return rc;
}
