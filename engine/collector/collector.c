/*
 * The collector (see include/privagg/collector.h).
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/ct.h"
#include "common/guard.h"
#include "privagg/collector.h"
#include "privagg/dp.h"
#include "privagg/hpke.h"
#include "privagg/messages.h"
#include "privagg/report.h"
#include "privagg/vdaf.h"

int pa_collector_request(const pa_task *t, const char *zPeriod, const char *zPartition,
                         uint8_t aCollectionId[16], uint8_t **ppReq, size_t *pnReq)
{
    pa_collect_req m;
    size_t n = strlen(zPartition);

    if (n == 0 || n > 64)
        return pa_fail(PA_EINVAL, "partition: length %zu is outside 1..64", n);
    memset(&m, 0, sizeof m);
    memcpy(m.aTaskId, t->aTaskId, 32);
    if (strlen(zPeriod) != 7)
        return pa_fail(PA_EINVAL, "period: \"%s\" is not a month YYYY-MM from " PA_PERIOD_FIRST " on", zPeriod);
    pa_task_collection_id(t, zPeriod, zPartition, aCollectionId);
    memcpy(m.aCollectionId, aCollectionId, 16);
    snprintf(m.zPeriod, sizeof m.zPeriod, "%.7s", zPeriod);
    memcpy(m.zPartition, zPartition, n + 1);
    return pa_collect_req_encode(ppReq, pnReq, &m);
}

static int open_share(const pa_task *t, const pa_keys *k, const pa_collect_resp *m,
                      const pa_sealed_agg *s, unsigned iAgg, uint8_t *pOut, size_t nOut)
{
    uint8_t aInfo[PA_AGG_SHARE_HPKE_INFO_SIZE], *pAad;
    size_t nAad;
    pa_hpke_params params = {PA_HPKE_MODE_BASE, aInfo, sizeof aInfo, NULL, 0, NULL, 0};
    pa_hpke_ctx ctx;
    int rc;

    (void)t;
    pa_agg_share_hpke_info(aInfo, iAgg);
    PA_GUARD(pa_agg_share_aad(&pAad, &nAad, m->aTaskId, m->aCollectionId, m->zPeriod, m->zPartition, s,
                              iAgg));
    rc = pa_hpke_setup_receiver_keypair(&ctx, s->aEnc, k->aSecret, k->aPublic, NULL, &params);
    if (rc == PA_OK)
        rc = pa_hpke_open(&ctx, pOut, pAad, nAad, s->pCt, nOut + PA_HPKE_NT);
    pa_hpke_ctx_wipe(&ctx);
    free(pAad);
    if (rc != PA_OK)
        return pa_fail(PA_EVERIFY, "collection: the %s's aggregate share does not open with the "
                                   "collector's key", iAgg ? "helper" : "leader");
    return PA_OK;
}

int pa_collector_open(const pa_task *t, const pa_keys *k, const uint8_t aCollectionId[16],
                      const char *zPeriod, const char *zPartition, const uint8_t *pResp, size_t nResp,
                      pa_collection *pOut)
{
    pa_prio3 *v = NULL;
    pa_collect_resp m;
    pa_msg_sizes sizes;
    uint8_t *apAgg[2] = {NULL, NULL};
    size_t nAgg, anLen[2];
    int bField128, rc;

    memset(pOut, 0, sizeof *pOut);
    PA_GUARD(pa_vdaf_from_task(&v, t, &bField128));
    nAgg = pa_prio3_agg_share_size(v);
    memset(&sizes, 0, sizeof sizes);
    sizes.nAggCt = nAgg + PA_HPKE_NT;
    rc = pa_collect_resp_decode(&m, pResp, nResp, &sizes);
    if (rc == PA_OK && (sodium_memcmp(m.aTaskId, t->aTaskId, 32) != 0 ||
                        sodium_memcmp(m.aCollectionId, aCollectionId, 16) != 0 ||
                        strcmp(m.zPeriod, zPeriod) != 0 || strcmp(m.zPartition, zPartition) != 0))
        rc = pa_fail(PA_EDECODE, "collection: the answer is for another task, collection or batch");
    /* the decoder checked the list against the leader's count and hash; the
     * helper's hash, bound into its share's AAD, must name the same agencies */
    if (rc == PA_OK && m.leader.nAgency == m.helper.nAgency &&
        sodium_memcmp(m.leader.aAgencyHash, m.helper.aAgencyHash, 32) != 0)
        rc = pa_fail(PA_EVERIFY, "collection: the aggregators disagree on which %llu agencies reported",
                     (unsigned long long)m.leader.nAgency);
    if (rc == PA_OK && (m.leader.nAgency != m.helper.nAgency || m.leader.nReport != m.helper.nReport))
        rc = pa_fail(PA_EVERIFY, "collection: the aggregators disagree: leader %llu agencies/%llu "
                                 "reports, helper %llu/%llu",
                     (unsigned long long)m.leader.nAgency, (unsigned long long)m.leader.nReport,
                     (unsigned long long)m.helper.nAgency, (unsigned long long)m.helper.nReport);
    if (rc == PA_OK) {
        apAgg[0] = malloc(nAgg);
        apAgg[1] = malloc(nAgg);
        pOut->nCell = pa_prio3_output_len(v);
        pOut->aTotal = calloc(pOut->nCell, sizeof *pOut->aTotal);
        pOut->pAgencyIds = malloc(m.nAgencyIds + 1);
        if (!apAgg[0] || !apAgg[1] || !pOut->aTotal || !pOut->pAgencyIds)
            rc = pa_fail(PA_ENOMEM, "collection: out of memory");
    }
    if (rc == PA_OK)
        rc = open_share(t, k, &m, &m.leader, 0, apAgg[0], nAgg);
    if (rc == PA_OK)
        rc = open_share(t, k, &m, &m.helper, 1, apAgg[1], nAgg);
    anLen[0] = anLen[1] = nAgg;
    if (rc == PA_OK) /* totals above p/2 are negative (noise added modulo p) */
        rc = pa_prio3_unshard_signed(v, (const uint8_t *const *)apAgg, anLen, 2, pOut->aTotal);
    if (rc == PA_OK) {
        memcpy(pOut->zPeriod, m.zPeriod, sizeof pOut->zPeriod);
        memcpy(pOut->zPartition, m.zPartition, sizeof pOut->zPartition);
        memcpy(pOut->aCollectionId, aCollectionId, 16);
        pOut->nAgency = m.leader.nAgency;
        if (m.nAgencyIds > 0)
            memcpy(pOut->pAgencyIds, m.pAgencyIds, m.nAgencyIds);
        pOut->nAgencyIds = m.nAgencyIds;
        pOut->nReport = m.leader.nReport;
        pOut->nRejected = m.leader.nRejected;
        memcpy(pOut->aLedgerHash[0], m.leader.aLedgerHash, 32);
        memcpy(pOut->aLedgerHash[1], m.helper.aLedgerHash, 32);
    }
    for (int j = 0; j < 2; j++) {
        if (apAgg[j])
            pa_wipe(apAgg[j], nAgg);
        free(apAgg[j]);
    }
    pa_prio3_free(v);
    if (rc != PA_OK)
        pa_collection_free(pOut);
    return rc;
}

void pa_collection_free(pa_collection *c)
{
    free(c->aTotal);
    c->aTotal = NULL;
    c->nCell = 0;
    free(c->pAgencyIds);
    c->pAgencyIds = NULL;
    c->nAgencyIds = 0;
}

static json_t *hex(const uint8_t *p, size_t n)
{
    char z[129];
    sodium_bin2hex(z, sizeof z, p, n);
    return json_string(z);
}

int pa_collection_write_json(const pa_task *t, const pa_collection *c, double sigma2, FILE *pOut)
{
    json_t *root = json_object(), *noise = json_object(), *cells = json_array();
    uint64_t w90 = 0, w95 = 0;
    int rc = PA_OK;

    json_object_set_new(root, "format", json_string("privagg-collection-v1"));
    json_object_set_new(root, "task_id", hex(t->aTaskId, 32));
    json_object_set_new(root, "collection_id", hex(c->aCollectionId, 16));
    json_object_set_new(root, "period", json_string(c->zPeriod));
    json_object_set_new(root, "partition", json_string(c->zPartition));
    json_object_set_new(root, "agencies", json_integer((json_int_t)c->nAgency));
    json_object_set_new(root, "reports", json_integer((json_int_t)c->nReport));
    json_object_set_new(root, "rejected", json_integer((json_int_t)c->nRejected));
    json_t *ids = json_array();
    for (size_t i = 0; i < c->nAgencyIds && rc == PA_OK;) {
        const char *z = (const char *)c->pAgencyIds + i;
        if (json_array_append_new(ids, json_string(z)) != 0)
            rc = pa_fail(PA_EDECODE, "collection: agencies_reported[%zu] is not UTF-8 text", json_array_size(ids));
        i += strlen(z) + 1;
    }
    json_object_set_new(root, "agencies_reported", ids);
    json_object_set_new(noise, "mechanism", json_string(pa_task_mechanism_name(t->eMechanism)));
    if (rc == PA_OK && t->eMechanism == PA_TASK_DP_GAUSSIAN && sigma2 > 0) {
        rc = pa_dp_gaussian_interval(sigma2, 2, 0.90, &w90);
        if (rc == PA_OK)
            rc = pa_dp_gaussian_interval(sigma2, 2, 0.95, &w95);
        json_object_set_new(noise, "sigma2_per_aggregator", json_real(sigma2));
        json_object_set_new(noise, "aggregators", json_integer(2));
        json_object_set_new(noise, "half_width_90", json_integer((json_int_t)w90));
        json_object_set_new(noise, "half_width_95", json_integer((json_int_t)w95));
        json_object_set_new(noise, "level", json_string(pa_task_level_name(pa_task_level_of(c->zPartition))));
        json_object_set_new(noise, "rho_per_release",
                            json_real(t->aPerRelease[pa_task_level_of(c->zPartition)]));
    }
    if (t->eMechanism == PA_TASK_DP_NONE)
        json_object_set_new(root, "privacy", json_string("none: no privacy protection (dp.mechanism "
                                                         "is none; these are exact totals)"));
    json_object_set_new(root, "noise", noise);
    json_object_set_new(root, "ledger_entries", json_pack("{s:o, s:o}", "leader", hex(c->aLedgerHash[0], 32),
                                                          "helper", hex(c->aLedgerHash[1], 32)));
    for (size_t i = 0; i < c->nCell; i++) {
        json_t *cell = json_object(), *cats = json_object();
        size_t rest = i;
        for (size_t d = t->nDimension; d-- > 0;) {
            const pa_task_dimension *dim = &t->aDimension[d];
            json_object_set_new(cats, dim->zName, json_string(dim->azCategory[rest % dim->nCategory]));
            rest /= dim->nCategory;
        }
        json_object_set_new(cell, "cell", json_integer((json_int_t)i));
        json_object_set_new(cell, "categories", cats);
        json_object_set_new(cell, "total", json_integer(c->aTotal[i]));
        if (pa_task_structural_zero(t, i))
            json_object_set_new(cell, "structural_zero", json_true()); /* never to be published */
        json_array_append_new(cells, cell);
    }
    json_object_set_new(root, "cells", cells);
    if (rc == PA_OK && json_dumpf(root, pOut, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = pa_fail(PA_EIO, "collection: writing the JSON failed");
    if (rc == PA_OK)
        fputc('\n', pOut);
    json_decref(root);
    return rc;
}
