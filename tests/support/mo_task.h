/*
 * Test fixture: the default Missouri task built in memory with fresh keys for
 * every party (tests only; header-only so each test executable stays one file).
 * The caller frees with mo_task_free().
 */
#ifndef PA_TEST_MO_TASK_H
#define PA_TEST_MO_TASK_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "privagg/common.h"
#include "privagg/keys.h"
#include "privagg/task.h"
#include "privagg/task_build.h"

typedef struct {
    pa_task *pTask;
    pa_keys leader, helper, collector;
    pa_keys *aAgency;       /* in data-file order */
    size_t nAgency;
} mo_task;

/* nAgencies = 0: all 646.  Edits (may be NULL) is applied to the JSON before parsing. */
static inline int mo_task_new(mo_task *m, size_t nAgencies, size_t nMinAgencies,
                              void (*xEdit)(json_t *pRoot))
{
    char **azId;
    size_t nId;
    json_t *pJson;
    pa_task_build_opts b;
    int rc;

    memset(m, 0, sizeof *m);
    rc = pa_task_list_agencies(&azId, &nId, PA_SOURCE_DIR "/data", "MO");
    if (rc != PA_OK)
        return rc;
    if (nAgencies != 0 && nAgencies < nId)
        m->nAgency = nAgencies;
    else
        m->nAgency = nId;
    m->aAgency = calloc(m->nAgency, sizeof *m->aAgency);
    for (size_t i = 0; i < m->nAgency; i++)
        pa_keys_generate(&m->aAgency[i], PA_ROLE_AGENCY, azId[i], 0);
    pa_task_free_list(azId, nId);
    pa_keys_generate(&m->leader, PA_ROLE_LEADER, NULL, 1);
    pa_keys_generate(&m->helper, PA_ROLE_HELPER, NULL, 2);
    {
        pa_pairing pair; /* the pairing bundle, in memory */
        pa_pairing_from_leader(&pair, &m->leader);
        pa_pairing_apply(&m->helper, &pair);
        pa_pairing_wipe(&pair);
    }
    pa_keys_generate(&m->collector, PA_ROLE_COLLECTOR, NULL, 3);
    memset(&b, 0, sizeof b);
    b.zState = "MO";
    b.zDataDir = PA_SOURCE_DIR "/data";
    b.zLeaderEndpoint = "http://127.0.0.1:1";
    b.zHelperEndpoint = "http://127.0.0.1:2";
    b.pLeader = &m->leader;
    b.pHelper = &m->helper;
    b.pCollector = &m->collector;
    b.aAgencyKeys = m->aAgency;
    b.nAgencyKeys = m->nAgency;
    b.nMaxAgencies = m->nAgency;
    b.nMinAgencies = nMinAgencies;
    b.rBudgetRho = 1.0;
    b.rRhoState = 0.5;
    b.rRhoPartition = 0.5;
    b.nMaxCellsPerRecord = 4;
    rc = pa_task_build_default(&pJson, &b);
    if (rc != PA_OK)
        return rc;
    if (xEdit)
        xEdit(pJson);
    char *z = json_dumps(pJson, 0);
    rc = pa_task_parse(&m->pTask, z, strlen(z));
    free(z);
    json_decref(pJson);
    return rc;
}

static inline void mo_task_free(mo_task *m)
{
    pa_task_free(m->pTask);
    for (size_t i = 0; i < m->nAgency; i++)
        pa_keys_wipe(&m->aAgency[i]);
    free(m->aAgency);
    pa_keys_wipe(&m->leader);
    pa_keys_wipe(&m->helper);
    pa_keys_wipe(&m->collector);
}

#endif
