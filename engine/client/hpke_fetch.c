/*
 * The agency fetches the aggregators' signed HPKE configurations from the
 * leader (GET /hpke_config) and seals to the current key of each, after
 * verifying each document under the aggregator's own key from the task
 * (include/privagg/hpke_config.h, docs/keys.md).  A document that does not
 * verify is an error, never a reason to fall back: it is what a forged key
 * would look like.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/guard.h"
#include "privagg/client.h"
#include "privagg/common.h"
#include "privagg/hpke_config.h"

static int take(const json_t *pRoot, pa_task_party *pParty, pa_role eRole, const pa_task *t, int64_t tNow,
                int *pbSet)
{
    pa_hpke_config_doc doc;
    char zWhere[96];
    const json_t *pDoc = json_object_get(pRoot, pa_role_name(eRole));

    *pbSet = 0;
    if (!pParty->bSigningKey || pDoc == NULL || json_is_null(pDoc))
        return PA_OK;
    snprintf(zWhere, sizeof zWhere, "GET /hpke_config: the %s's configuration", pa_role_name(eRole));
    PA_GUARD(pa_hpke_config_from_json(&doc, pDoc, zWhere));
    PA_GUARD(pa_hpke_config_verify(&doc, pParty->aSigningKey, t->aTaskId, eRole, tNow, zWhere));
    const pa_hpke_config_entry *e = pa_hpke_config_current(&doc);
    memcpy(pParty->aHpkePublicKey, e->aPublic, 32);
    pParty->iHpkeConfigId = e->iId;
    *pbSet = 1;
    return PA_OK;
}

int pa_client_hpke_configs(pa_http_client *pClient, pa_task *t, int64_t tNow, int *pbLeader, int *pbHelper)
{
    char zUrl[600];
    uint8_t *pBody = NULL;
    size_t nBody = 0;
    json_t *pRoot;
    json_error_t err;
    int rc;

    *pbLeader = *pbHelper = 0;
    if (!t->leader.bSigningKey && !t->helper.bSigningKey)
        return PA_OK;
    snprintf(zUrl, sizeof zUrl, "%s/hpke_config", t->leader.zEndpoint);
    PA_GUARD(pa_http_client_call(pClient, "GET", zUrl, NULL, NULL, NULL, 0, &pBody, &nBody));
    pRoot = json_loadb((const char *)pBody, nBody, 0, &err);
    free(pBody);
    if (!json_is_object(pRoot)) {
        json_decref(pRoot);
        return pa_fail(PA_EDECODE, "GET /hpke_config: not a JSON object (%s)", err.text);
    }
    rc = take(pRoot, &t->leader, PA_ROLE_LEADER, t, tNow, pbLeader);
    if (rc == PA_OK)
        rc = take(pRoot, &t->helper, PA_ROLE_HELPER, t, tNow, pbHelper);
    json_decref(pRoot);
    return rc;
}
